//! `up` and `down`: their flags, and what they do.

use std::path::PathBuf;
use std::time::Instant;

use ccaas_deploy::config::Target;
use ccaas_deploy::hlf;
use ccaas_deploy::image::{self, ImageSpec};
use ccaas_deploy::lifecycle::{Sequenced, Session, Via};
use ccaas_deploy::registry::{self, PushOptions, Reference};
use ccaas_deploy::render::{self, RenderTarget};
use ccaas_deploy::rollout::{self, RolloutError};
use ccaas_deploy::up::UpConfig;
use ccaas_deploy::{in_flight, plan, Error, Kind};
use clap::Args;
use serde_json::json;

use super::connection::ConnectionArgs;
use super::image::{push_options, TokenHostArgs};
use super::output::{Printer, EXIT_WAITING};
use super::render::{wait_rollout, ClusterArgs, TargetArg, EXIT_ROLLOUT_FAILED};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The config file.
    #[arg(long, short = 'f', default_value = "ccaas-deploy.yaml", value_name = "FILE")]
    pub file: PathBuf,
    /// Override image.binary.
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Override image.reference.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// Override chaincode.version.
    #[arg(long = "cc-version", value_name = "VERSION")]
    pub cc_version: Option<String>,
    /// Override chaincode.address.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Override kubernetes.namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// The package's address is served elsewhere, not by the Service up renders (as
    /// chaincode.external_address: true).
    #[arg(long)]
    pub external_address: bool,
    /// Override kubernetes.target: Deployments and Services, or an hlf-operator FabricChaincode.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub token_hosts: TokenHostArgs,
    /// Check the file and every local input (binary, package, definition, TLS files, identity,
    /// network config, kubeconfig, registry credentials) without the network, print what `up`
    /// would deploy, and stop.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl UpArgs {
    /// The file with the flags applied.
    pub fn config(&self) -> Result<ccaas_deploy::up::UpConfig, Error> {
        let mut c = ccaas_deploy::up::UpConfig::load(&self.file)?;
        if let Some(b) = &self.binary {
            c.image.binary = Some(b.clone());
        }
        if let Some(i) = &self.image {
            c.image.reference = i.clone();
        }
        if let Some(v) = &self.cc_version {
            c.chaincode.version = v.clone();
        }
        if let Some(a) = &self.address {
            c.chaincode.address = a.clone();
        }
        if let Some(n) = &self.namespace {
            c.kubernetes.namespace = Some(n.clone());
        }
        if self.external_address {
            c.chaincode.external_address = true;
        }
        if let Some(k) = &self.cluster.kubeconfig {
            c.kubernetes.kubeconfig = Some(k.clone());
        }
        if let Some(t) = self.target {
            c.kubernetes.target = Some(t.into());
        }
        ccaas_deploy::hlf::check_config(&c)?;
        // The package's address must be the Service up renders, unless it is served elsewhere:
        // checked before anything is done.
        if !c.chaincode.external_address {
            let w = c.workload(&c.package()?.package_id, None);
            ccaas_deploy::render::check_address(
                &w,
                &c.chaincode.address,
                "--external-address (chaincode.external_address: true in the up file)",
            )?;
        }
        Ok(c)
    }
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The config file.
    #[arg(long, short = 'f', default_value = "ccaas-deploy.yaml", value_name = "FILE")]
    pub file: PathBuf,
    /// Override kubernetes.namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// kubeconfig file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Override kubernetes.target: what up rolled out.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    /// Also delete objects of the same name that ccaas-deploy did not make (not labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy). Without it they are left in place, each named
    /// in a warning and in the result ("left" with --output json), and the exit code is 0:
    /// nothing of ccaas-deploy's remains.
    #[arg(long)]
    pub force_conflicts: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl DownArgs {
    /// The file with the flags applied.
    pub fn config(&self) -> Result<ccaas_deploy::up::UpConfig, Error> {
        let mut c = ccaas_deploy::up::UpConfig::load(&self.file)?;
        if let Some(n) = &self.namespace {
            c.kubernetes.namespace = Some(n.clone());
        }
        if let Some(k) = &self.kubeconfig {
            c.kubernetes.kubeconfig = Some(k.clone());
        }
        if let Some(t) = self.target {
            c.kubernetes.target = Some(t.into());
        }
        Ok(c)
    }
}

/// The push options of `up` (`None` without `image.binary`: nothing to push), resolved before
/// anything else is done: CCAAS_REGISTRY_USER and CCAAS_REGISTRY_PASSWORD go to the image's
/// registry only if CCAAS_REGISTRY_HOST names it, or if `--image` gave the reference on the
/// command line; otherwise `up` refuses them (the config file could name any registry).
pub fn registry_options(a: &UpArgs, c: &UpConfig) -> Result<Option<PushOptions>, Error> {
    if c.image.binary.is_none() {
        return Ok(None);
    }
    let reference: Reference = c.image.reference.parse()?;
    let user = std::env::var(ccaas_deploy::registry_auth::USER_VAR).ok();
    push_options(&reference, user.as_deref(), false, a.image.is_some(), c.image.insecure, None, &a.token_hosts)
        .map(Some)
}

/// Reads and checks every local input of `up` (the binary, the package and its TLS files, the
/// definition and its policy, the manifests' files, the kubeconfig), connecting to nothing: run
/// before any connection, and alone with `--offline`. Returns what `up` would deploy, as text
/// lines and JSON.
pub async fn check_local(c: &UpConfig, target: &Target) -> anyhow::Result<(Vec<String>, serde_json::Value)> {
    let image = match &c.image.binary {
        Some(binary) => Some(image::input_digest(&ImageSpec::new(binary))?),
        None => None,
    };
    if let (Some(binary), Some(_)) = (&c.image.binary, &c.kubernetes.tls) {
        // The server would stop at startup, after every lifecycle transaction: say it now.
        let elf = std::fs::read(binary).map_err(|cause| Error::Read { what: "binary", path: binary.clone(), cause })?;
        if ccaas_deploy::layout::shim_serves_tls(&elf) == Some(false) {
            anyhow::bail!(Error::Config(format!(
                "kubernetes.tls has the server serve TLS, but {} was built without the ccaas-shim feature `tls`: \
                 build it with the feature (ccaas-deploy build-static --features ccaas-shim/tls, or features = \
                 [\"tls\"] on ccaas-shim in Cargo.toml), or remove kubernetes.tls",
                binary.display()
            )));
        }
    }
    let pkg = c.package()?;
    let def = c.definition()?;
    let w = c.workload(&pkg.package_id, None);
    render::render(&w, RenderTarget::Kubernetes)?;
    rollout::client(c.kubernetes.kubeconfig.as_deref()).await?;
    let peers: Vec<String> = target.peers.iter().map(|p| format!("{} ({})", p.name, p.address)).collect();
    let text = vec![
        format!(
            "offline check passed: {} version {} with package {} on channel {} as {} (peers: {})",
            def.name,
            def.version,
            pkg.package_id,
            target.channel,
            target.identity.msp_id(),
            peers.join(", ")
        ),
        format!(
            "image {}{}, namespace {}; nothing was contacted: run without --offline to plan against the channel and \
             the cluster",
            c.image.reference,
            if image.is_some() { " (built from the binary)" } else { "" },
            w.namespace
        ),
    ];
    let value = json!({
        "offline": true, "name": def.name, "version": def.version, "package_id": pkg.package_id,
        "channel": target.channel, "msp_id": target.identity.msp_id(), "peers": peers,
        "image": c.image.reference, "namespace": w.namespace,
    });
    Ok((text, value))
}

pub async fn up(
    out: &Printer,
    a: &UpArgs,
    c: UpConfig,
    push: Option<PushOptions>,
    session: &Session,
    via: Via,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut changed = Vec::<String>::new();

    // 0. The cluster, and no object of another owner in the way: checked before anything changes.
    let target = c.target();
    let client = rollout::client(c.kubernetes.kubeconfig.as_deref()).await?;
    let planned = render::render(&c.workload(&c.package()?.package_id, None), target)?;
    rollout::check_ours(&client, &planned, a.cluster.force_conflicts).await?;
    if target == RenderTarget::HlfOperator {
        hlf::check_deployments(&client, &planned).await?;
    }

    // 1. Image.
    let mut digest = None;
    let mut image_json = json!({"reference": c.image.reference, "digest": c.image.digest});
    let mut input = None;
    if let (Some(binary), Some(push)) = (&c.image.binary, push.as_ref()) {
        let t = Instant::now();
        let spec = ImageSpec::new(binary);
        let reference: Reference = c.image.reference.parse()?;
        // The same binary gives the same image: if the registry has the one it gave before
        // (HEAD of the tag), nothing is assembled or sent.
        let this = input.insert(image::input_digest(&spec)?);
        let unchanged = match image::remembered(this) {
            Some(known) => registry::manifest_digest(&reference, push.clone()).await?.filter(|d| *d == known),
            None => None,
        };
        if let Some(d) = unchanged {
            out.progress(&format!(
                "image: {d} already in the registry as {reference} (same binary); nothing to push ({:.1?})",
                t.elapsed()
            ));
            image_json = json!({"reference": c.image.reference, "digest": d, "pushed": null});
            digest = Some(d);
        }
    }
    if let (Some(binary), Some(push), None) = (&c.image.binary, push, &digest) {
        let t = Instant::now();
        out.progress(&format!("image: assembling from {}", binary.display()));
        let spec = ImageSpec::new(binary);
        let img = image::build(&spec)?;
        let reference: Reference = c.image.reference.parse()?;
        out.progress(&format!(
            "image: {} ({} bytes compressed); pushing to {reference}",
            img.digest(),
            img.compressed_size()
        ));
        let mut progress = |l: &str| out.progress(&format!("image: {l}"));
        let _in_flight = in_flight::enter(format!("image: pushing {} to {reference}", img.digest()));
        let pushed = registry::push(&img, &reference, push, &mut progress).await?;
        if !pushed.uploaded.is_empty() {
            changed.push(format!("pushed image {}", pushed.pinned));
        }
        out.progress(&format!("image: {} ({:.1?})", pushed.pinned, t.elapsed()));
        if let Some(input) = &input {
            image::remember(input, img.digest());
        }
        digest = Some(img.digest().to_string());
        image_json = json!({"reference": c.image.reference, "digest": img.digest(), "pushed": pushed});
    }

    // 2. Package.
    let pkg = c.package()?;
    out.progress(&format!("package: {} (address {})", pkg.package_id, c.chaincode.address));

    // 3-5. Install, approve, commit: only what is missing.
    let def = c.definition()?;
    let p = plan::make(session, &def, &pkg.package_id).await?;
    for line in &p.done {
        out.progress(&format!("fabric: already done: {line}"));
    }
    if let Some(w) = &p.warning {
        eprintln!("warning: {w}");
    }
    if let Some(c) = &p.commit_rule {
        out.progress(&format!("fabric: commit rule: {}", c.line()));
    }
    if let Some(e) = p.endorsement.as_ref().filter(|e| !e.met).and(p.endorsement_line()) {
        eprintln!("note: {e}");
    }
    let mut waiting_for = Vec::new();
    let mut needed = String::new();
    let mut fabric_done = Vec::new();
    let mut replans = Vec::new();
    let mut sequence = p.sequence;
    if !p.is_noop() {
        let mut progress = |l: &str| out.progress(&format!("fabric: {l}"));
        let outcome = plan::execute(session, &p, &def, &pkg.bytes, via, &mut progress).await?;
        waiting_for = outcome.waiting_for;
        needed = outcome.needed;
        for d in &outcome.done {
            changed.push(format!("fabric: {}", serde_json::to_value(&d.step).unwrap_or_default()));
        }
        fabric_done = outcome.done;
        replans = outcome.replans;
        sequence = outcome.sequence;
    }

    // 6. Rollout.
    let w = c.workload(&pkg.package_id, digest);
    let manifests = render::render(&w, target)?;
    let mut progress = |l: &str| out.progress(&format!("kubernetes: {l}"));
    let in_flight = in_flight::enter(format!("kubernetes: applying the objects of {} in {}", w.name, w.namespace));
    let applied = rollout::apply(&client, &manifests, a.cluster.force_conflicts, &mut progress).await?;
    for x in applied.iter().filter(|x| x.changed) {
        changed.push(format!("kubernetes: {} {}/{}", x.kind, x.namespace, x.name));
    }
    let names = w.server_names()?;
    in_flight.update(format!("kubernetes: waiting for the rollout of {} in {}", names.join(", "), w.namespace));
    let rolled = wait_rollout(&client, &w, &names, &manifests, target, &mut progress).await;
    drop(in_flight);
    let rollout_failed = match rolled {
        Ok(()) => None,
        Err(e @ (RolloutError::Failed { .. } | RolloutError::Operator { .. })) => Some(e),
        Err(e) => return Err(e.into()),
    };
    let waiting = !needed.is_empty();
    let (reasons, code) = exit_reasons(waiting, rollout_failed.is_some());
    let summary = json!({
        "image": image_json,
        "package_id": pkg.package_id,
        "plan": p,
        "fabric_done": fabric_done,
        "replans": replans,
        "waiting_for": waiting_for,
        "needed": needed,
        "applied": applied,
        "rolled_out": rollout_failed.is_none(),
        "changed": changed,
        "exit_reasons": reasons,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let waiting_line = format!(
        "waiting for approvals of {} sequence {}: it needs {needed}; run this again once they have",
        def.name, sequence
    );
    if let Some(e) = rollout_failed {
        eprintln!("error: {e}");
        if waiting {
            eprintln!("also {waiting_line}");
        }
        let message = if waiting { format!("{e}; also {waiting_line}") } else { e.to_string() };
        out.failed(Kind::Rollout, message, plan::tx_ids(&fabric_done));
        out.result(&[], summary);
        return Ok(code);
    }
    let text = if waiting {
        format!(
            "{} rolled out with package {}, which waits for approvals of {} version {} sequence {} ({:.1?})",
            w.image_ref(),
            pkg.package_id,
            def.name,
            def.version,
            sequence,
            started.elapsed()
        )
    } else if changed.is_empty() {
        format!(
            "nothing to do: {} version {} sequence {} with package {} is committed and {} is rolled out ({:.1?})",
            def.name,
            def.version,
            sequence,
            pkg.package_id,
            w.image_ref(),
            started.elapsed()
        )
    } else {
        format!(
            "done: {} version {} sequence {} with package {}, {} rolled out; changed: {} ({:.1?})",
            def.name,
            def.version,
            sequence,
            pkg.package_id,
            w.image_ref(),
            changed.join("; "),
            started.elapsed()
        )
    };
    out.result(&[text], summary);
    if waiting {
        eprintln!("{waiting_line}");
        out.failed(Kind::Waiting, waiting_line, plan::tx_ids(&fabric_done));
    }
    Ok(code)
}

/// Why `up` exits as it does, and the exit code: `"waiting"` (the commit waits for other orgs'
/// approvals, 3) and `"rollout"` (the rollout failed or timed out, 6) may both hold; the code is
/// then the more severe, 6, and `exit_reasons` in the JSON names both.
fn exit_reasons(waiting: bool, rollout_failed: bool) -> (Vec<&'static str>, u8) {
    let mut reasons = Vec::new();
    if waiting {
        reasons.push("waiting");
    }
    if rollout_failed {
        reasons.push("rollout");
    }
    let code = if rollout_failed {
        EXIT_ROLLOUT_FAILED
    } else if waiting {
        EXIT_WAITING
    } else {
        0
    };
    (reasons, code)
}

/// `down`'s sentence about the channel, from what the peers said of the definition: (channel,
/// the committed definition), or why it could not be read. "Committed" only when it is.
fn channel_note(name: &str, committed: &Result<(String, Option<Sequenced>), String>) -> (String, serde_json::Value) {
    match committed {
        Ok((channel, Some(d))) => (
            format!(
                "{name} version {} sequence {} stays committed on channel {channel} (down does not touch the channel, \
                 and a committed definition cannot be removed): invoking it fails until a server runs again",
                d.definition.version, d.sequence
            ),
            json!({"channel": channel, "version": d.definition.version, "sequence": d.sequence}),
        ),
        Ok((channel, None)) => (
            format!(
                "{name} is not committed on channel {channel}: nothing there calls these servers (down does not \
                 touch the channel; this org's approval and installed packages stay)"
            ),
            json!(null),
        ),
        Err(why) => (
            format!(
                "down does not touch the channel; whether {name} is committed there was not read: {why}; if it is, \
                 invoking it fails until a server runs again"
            ),
            json!("unknown"),
        ),
    }
}

pub async fn down(
    out: &Printer,
    a: &DownArgs,
    c: UpConfig,
    committed: Result<(String, Option<Sequenced>), String>,
) -> anyhow::Result<u8> {
    let pkg = c.package()?;
    let w = c.workload(&pkg.package_id, None);
    let manifests = render::render(&w, c.target())?;
    let client = rollout::client(c.kubernetes.kubeconfig.as_deref()).await?;
    let mut progress = |l: &str| out.progress(l);
    let done = match c.target() {
        RenderTarget::Kubernetes => rollout::delete(&client, &manifests, a.force_conflicts, &mut progress).await?,
        RenderTarget::HlfOperator => hlf::delete(&client, &manifests, a.force_conflicts, &mut progress).await?,
    };
    let (note, committed) = channel_note(&c.chaincode.name, &committed);
    let mut text = vec![if done.deleted.is_empty() {
        format!("nothing to delete in namespace {}", w.namespace)
    } else {
        format!("deleted {}", done.deleted.join(", "))
    }];
    for f in &done.left {
        eprintln!(
            "warning: left {f}: not ccaas-deploy's, so down does not delete it (it deletes only objects labelled \
             app.kubernetes.io/managed-by: ccaas-deploy); if nothing needs it, delete it with `kubectl delete -n {} \
             {}/{}`, or run down --force-conflicts",
            f.namespace,
            f.kind.to_lowercase(),
            f.name
        );
        text.push(format!("left {f}: not ccaas-deploy's"));
    }
    text.push(note.clone());
    out.result(&text, json!({"deleted": done.deleted, "left": done.left, "committed": committed, "note": note}));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccaas_deploy::definition::Definition;

    #[test]
    fn up_exit_code_and_reasons() {
        assert_eq!(exit_reasons(false, false), (vec![], 0));
        assert_eq!(exit_reasons(true, false), (vec!["waiting"], 3));
        assert_eq!(exit_reasons(false, true), (vec!["rollout"], 6));
        assert_eq!(exit_reasons(true, true), (vec!["waiting", "rollout"], 6));
    }

    #[test]
    fn down_says_committed_only_for_a_committed_definition() {
        let d = Sequenced {
            sequence: 2,
            definition: Definition::new("asset", "1.1"),
            package_id: String::new(),
            approvals: Default::default(),
        };
        let (text, v) = channel_note("asset", &Ok(("mychannel".into(), Some(d))));
        assert!(text.starts_with("asset version 1.1 sequence 2 stays committed on channel mychannel"), "{text}");
        assert_eq!(v["sequence"], 2);
        let (text, v) = channel_note("asset", &Ok(("mychannel".into(), None)));
        assert!(text.starts_with("asset is not committed on channel mychannel"), "{text}");
        assert!(!text.contains("stays committed") && v.is_null(), "{text}");
        let (text, v) = channel_note("asset", &Err("no Fabric identity to read it with (x)".into()));
        assert!(text.contains("was not read: no Fabric identity") && !text.contains("stays committed"), "{text}");
        assert_eq!(v, "unknown");
    }
}
