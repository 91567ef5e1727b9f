//! The lifecycle commands (`install`, `installed`, `approved`, `committed`, `readiness`,
//! `approve`, `commit`, and `lifecycle`, which does only what is missing): their flags, and what
//! each does once connected.

use std::path::PathBuf;

use ccaas_deploy::definition::Definition;
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::{plan, Error, Kind};
use ccaas_package::{build_package, package_id, ConnectionSpec, PackageSpec};
use clap::Args;
use serde_json::json;

use super::connection::ConnectionArgs;
use super::output::{Printer, EXIT_WAITING};

/// A package: a file, or a label and address for the packager library to build.
#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Package file (.tar.gz).
    #[arg(value_name = "PACKAGE", conflicts_with_all = ["label", "address"])]
    pub file: Option<PathBuf>,
    /// Build the package: its label.
    #[arg(long, requires = "address")]
    pub label: Option<String>,
    /// Build the package: the chaincode server address the peers dial.
    #[arg(long, requires = "label", value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Build the package: the dial timeout.
    #[arg(long, default_value = ccaas_package::DEFAULT_DIAL_TIMEOUT, value_name = "DURATION")]
    pub dial_timeout: String,
}

pub struct LoadedPackage {
    pub bytes: Vec<u8>,
    pub package_id: String,
}

impl PackageArgs {
    pub fn is_given(&self) -> bool {
        self.file.is_some() || self.label.is_some()
    }

    pub fn load(&self) -> Result<LoadedPackage, Error> {
        match (&self.file, &self.label, &self.address) {
            (Some(f), _, _) => {
                let bytes =
                    std::fs::read(f).map_err(|e| Error::Config(format!("cannot read package {}: {e}", f.display())))?;
                // Parsed as the peer does; a gzip bomb is refused at ccaas_package::MAX_DECOMPRESSED.
                let package_id = package_id(&bytes)
                    .map_err(|e| Error::Config(format!("{} is not a usable chaincode package: {e}", f.display())))?;
                Ok(LoadedPackage { bytes, package_id })
            }
            (None, Some(label), Some(address)) => {
                let spec = PackageSpec::ccaas(
                    label.clone(),
                    ConnectionSpec::new(address.clone()).dial_timeout(self.dial_timeout.clone()),
                );
                let built = build_package(&spec)?;
                Ok(LoadedPackage { bytes: built.bytes, package_id: built.package_id })
            }
            _ => Err(Error::Config("no package: give a package file, or --label and --address".into())),
        }
    }
}

/// A chaincode definition.
#[derive(Args, Debug)]
pub struct DefinitionArgs {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Chaincode version.
    #[arg(long, short = 'v')]
    pub version: String,
    /// Endorsement policy in the signature-policy language, e.g. "OR('Org1MSP.peer','Org2MSP.peer')".
    #[arg(long, visible_alias = "policy", conflicts_with = "channel_config_policy")]
    pub signature_policy: Option<String>,
    /// Endorsement policy as a channel config policy reference [default: /Channel/Application/Endorsement].
    #[arg(long)]
    pub channel_config_policy: Option<String>,
    /// Private data collections, in the peer CLI's JSON format.
    #[arg(long, value_name = "FILE")]
    pub collections_config: Option<PathBuf>,
    /// The chaincode's Init must be invoked before other transactions.
    #[arg(long)]
    pub init_required: bool,
}

impl DefinitionArgs {
    pub fn definition(&self) -> Result<Definition, Error> {
        let mut d = Definition::new(&self.name, &self.version);
        if let Some(p) = &self.signature_policy {
            d = d.signature_policy(p).map_err(Error::Config)?;
        }
        if let Some(r) = &self.channel_config_policy {
            d = d.channel_config_policy(r);
        }
        if let Some(f) = &self.collections_config {
            let json = ccaas_deploy::limits::read_config("collections config", f)?;
            d = d.collections_json(&json).map_err(|e| Error::Config(format!("{}: {e}", f.display())))?;
        }
        d.init_required = self.init_required;
        Ok(d)
    }
}

#[derive(Args, Debug)]
pub struct Installed {
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct PackageOnly {
    #[command(flatten)]
    pub package: PackageArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct NameOnly {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Approved {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Sequence [default: the latest approved].
    #[arg(long)]
    pub sequence: Option<i64>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct WithSequence {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    /// Sequence.
    #[arg(long)]
    pub sequence: i64,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Approve {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    /// Sequence.
    #[arg(long)]
    pub sequence: i64,
    /// The package ID the organization's peers run.
    #[arg(long, conflicts_with_all = ["file", "label"])]
    pub package_id: Option<String>,
    #[command(flatten)]
    pub package: PackageArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Lifecycle {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    #[command(flatten)]
    pub package: PackageArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: check every local input (definition, policy, package, identity, network
    /// config) without the network, print what the plan would be made for, and stop.
    #[arg(long, requires = "plan")]
    pub offline: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `install`: the package on each of the organization's peers.
pub async fn install(out: &Printer, session: &Session, pkg: Option<LoadedPackage>) -> anyhow::Result<u8> {
    let pkg = pkg.expect("read before connecting");
    let mut results = Vec::new();
    for node in session.own_peers() {
        out.progress(&format!("installing {} on {}", pkg.package_id, node.endpoint.name));
        results.push(session.install_on(node, &pkg.bytes, &pkg.package_id).await?);
    }
    let text = results
        .iter()
        .map(|r| {
            let what = if r.already_installed { "already installed" } else { "installed" };
            format!("{}: {what} on {}", r.package_id, r.peer)
        })
        .collect::<Vec<_>>();
    out.result(&text, json!({"package_id": pkg.package_id, "peers": results}));
    Ok(0)
}

/// `installed`: the packages on each of the organization's peers.
pub async fn installed(out: &Printer, session: &Session) -> anyhow::Result<u8> {
    let mut all = Vec::new();
    let mut text = Vec::new();
    for node in session.own_peers() {
        let list = session.installed(node).await?;
        for i in &list {
            text.push(format!("{}: {} (label {})", node.endpoint.name, i.package_id, i.label));
        }
        all.push(json!({"peer": node.endpoint.name, "installed": list}));
    }
    out.result(&text, json!(all));
    Ok(0)
}

/// `committed`: the committed definition.
pub async fn committed(out: &Printer, session: &Session, a: &NameOnly) -> anyhow::Result<u8> {
    let c = session.committed(&a.name).await?;
    let (text, value) = match c {
        None => (vec![format!("{} is not committed on {}", a.name, session.channel())], json!(null)),
        Some(c) => (
            vec![format!(
                "{} version {} sequence {} (approvals: {})",
                a.name,
                c.definition.version,
                c.sequence,
                approvals_text(&c.approvals)
            )],
            json!({"name": a.name, "version": c.definition.version, "sequence": c.sequence,
                   "init_required": c.definition.init_required, "approvals": c.approvals}),
        ),
    };
    out.result(&text, value);
    Ok(0)
}

/// `approved`: the organization's approval.
pub async fn approved(out: &Printer, session: &Session, a: &Approved) -> anyhow::Result<u8> {
    let r = session.approved(&a.name, a.sequence.unwrap_or(0)).await?;
    let (text, value) = match r {
        None => (vec![format!("{} has approved nothing for {}", session.identity().msp_id(), a.name)], json!(null)),
        Some(r) => (
            vec![format!(
                "{} approved {} version {} sequence {} with package {}",
                session.identity().msp_id(),
                a.name,
                r.definition.version,
                r.sequence,
                if r.package_id.is_empty() { "(none)" } else { &r.package_id }
            )],
            json!({"name": a.name, "version": r.definition.version, "sequence": r.sequence,
                   "package_id": r.package_id, "init_required": r.definition.init_required}),
        ),
    };
    out.result(&text, value);
    Ok(0)
}

/// `readiness`: which organizations approved the definition at the sequence.
pub async fn readiness(
    out: &Printer,
    session: &Session,
    a: &WithSequence,
    def: Option<Definition>,
) -> anyhow::Result<u8> {
    let def = def.expect("read before connecting");
    let r = session.readiness(&def, a.sequence).await?;
    out.result(&[format!("{} sequence {}: {}", def.name, a.sequence, approvals_text(&r.approvals))], json!(r));
    Ok(0)
}

/// `approve`: the definition, for the organization.
pub async fn approve(
    out: &Printer,
    session: &Session,
    a: &Approve,
    def: Option<Definition>,
    pkg: Option<LoadedPackage>,
    via: Via,
) -> anyhow::Result<u8> {
    let def = def.expect("read before connecting");
    let package_id = match (&a.package_id, pkg) {
        (Some(id), _) => id.clone(),
        (None, pkg) => pkg.expect("read before connecting").package_id,
    };
    out.progress(&format!("approving {} sequence {} with package {package_id}", def.name, a.sequence));
    let tx = session.approve(&def, a.sequence, Some(&package_id), via).await?;
    out.result(
        &[format!(
            "approved {} version {} sequence {} for {} (tx {}, block {})",
            def.name,
            def.version,
            a.sequence,
            session.identity().msp_id(),
            tx.tx_id,
            tx.block
        )],
        json!({"name": def.name, "sequence": a.sequence, "package_id": package_id, "tx": tx}),
    );
    Ok(0)
}

/// `commit`: the definition, once its approvals meet the channel's commit rule.
pub async fn commit(
    out: &Printer,
    session: &Session,
    a: &WithSequence,
    def: Option<Definition>,
    via: Via,
) -> anyhow::Result<u8> {
    let def = def.expect("read before connecting");
    let (rule, _) = session.commit_rule().await?;
    if let Some(w) = rule.warning() {
        eprintln!("warning: {w}");
    }
    out.progress(&format!("committing {} sequence {}", def.name, a.sequence));
    let tx = match plan::commit_if_met(session, &def, a.sequence, via, &rule).await? {
        Ok((check, tx)) => {
            out.progress(&format!("commit rule: {}", check.line()));
            tx
        }
        Err(check) => anyhow::bail!(check.waiting_error(&def.name, a.sequence)),
    };
    out.result(
        &[format!(
            "committed {} version {} sequence {} (tx {}, block {})",
            def.name, def.version, a.sequence, tx.tx_id, tx.block
        )],
        json!({"name": def.name, "version": def.version, "sequence": a.sequence, "tx": tx}),
    );
    Ok(0)
}

/// `lifecycle`: the plan, and what is missing done.
pub async fn lifecycle(
    out: &Printer,
    session: &Session,
    a: &Lifecycle,
    def: Option<Definition>,
    pkg: Option<LoadedPackage>,
    via: Via,
) -> anyhow::Result<u8> {
    let (def, pkg) = (def.expect("read before connecting"), pkg.expect("read before connecting"));
    let p = plan::make(session, &def, &pkg.package_id).await?;
    if a.plan {
        out.result(&p.lines(), json!({"plan": p}));
        return Ok(0);
    }
    if p.is_noop() {
        out.result(&p.lines(), json!({"plan": p, "done": [], "waiting_for": []}));
        return Ok(0);
    }
    for line in p.done.iter() {
        out.progress(&format!("already done: {line}"));
    }
    if let Some(w) = &p.warning {
        eprintln!("warning: {w}");
    }
    if let Some(c) = &p.commit_rule {
        out.progress(&format!("commit rule: {}", c.line()));
    }
    if let Some(e) = p.endorsement.as_ref().filter(|e| !e.met).and(p.endorsement_line()) {
        eprintln!("note: {e}");
    }
    let mut progress = |l: &str| out.progress(l);
    let outcome = plan::execute(session, &p, &def, &pkg.bytes, via, &mut progress).await?;
    let waiting = !outcome.waiting_for.is_empty() || !outcome.needed.is_empty();
    let summary = if waiting {
        format!(
            "waiting for approvals of {} sequence {}: it needs {}; run this again (or let them run it) once \
             they have",
            def.name, outcome.sequence, outcome.needed
        )
    } else {
        format!(
            "done: {} version {} sequence {} with package {}",
            def.name, def.version, outcome.sequence, pkg.package_id
        )
    };
    out.result(
        std::slice::from_ref(&summary),
        json!({"plan": p, "done": outcome.done, "waiting_for": outcome.waiting_for, "needed": outcome.needed,
               "replans": outcome.replans}),
    );
    if waiting {
        out.failed(Kind::Waiting, summary, plan::tx_ids(&outcome.done));
        return Ok(EXIT_WAITING);
    }
    Ok(0)
}

fn approvals_text(a: &std::collections::BTreeMap<String, bool>) -> String {
    a.iter()
        .map(|(k, v)| format!("{k}={}", if *v { "approved" } else { "not approved" }))
        .collect::<Vec<_>>()
        .join(", ")
}
