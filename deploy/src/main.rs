//! `ccaas-deploy`: the chaincode lifecycle (install, approve, commit, queries) against a Fabric
//! network, and `lifecycle`, which does only what is missing.
//!
//! Exit codes (stable):
//! * 0: success (including "nothing to do");
//! * 1: a peer, the gateway or the orderer refused, a chaincode answered an error (`invoke`,
//!   `query`), or a transaction was invalid;
//! * 2: usage or configuration error (flags, files, unknown user, bad policy), or, for `apply`
//!   and `up`, a Kubernetes object of another owner in the way (see `--force-conflicts`);
//! * 3: `lifecycle` or `commit` cannot finish: the approvals do not meet the channel's
//!   `LifecycleEndorsement` policy yet (every org's approval when it cannot be read);
//! * 4: a peer or orderer could not be reached (network, TLS);
//! * 5: `build-static`: cargo failed to build the binary;
//! * 6: `apply`, `up`: the rollout failed or did not finish in time (each pod's reason is printed);
//! * 7: `status`: drift between the approvals, the peers and the servers (each finding is
//!   printed with what to run).
//!
//! When two hold, the higher code wins: `up` that waits for other orgs (3) and whose rollout
//! failed (6) exits 6, prints both, and its JSON's `"exit_reasons"` names both
//! (`["waiting", "rollout"]`; `[]` on success).
//!
//! With `--output json`, stdout carries only the JSON result; progress goes to stderr. Logs go to
//! stderr, filtered by `CCAAS_DEPLOY_LOG` (default `warn`).
#![forbid(unsafe_code)]

mod args;
mod dev;
mod interrupt;
#[path = "invoke_cmd.rs"]
mod invoke;
mod new;
mod offline;
#[path = "status_cmd.rs"]
mod status;
#[path = "up_cmd.rs"]
mod up;

use std::process::ExitCode;

use anyhow::Context;
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::Error;
use ccaas_deploy::{commit_policy, plan};
use clap::parser::ValueSource;
use clap::FromArgMatches;
use serde_json::json;

use args::{Cli, Command, ConnectionArgs, Output};

/// Exit code: other organizations must approve first.
pub(crate) const EXIT_WAITING: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::with_hidden_connection().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The connection flags before and after the subcommand; with a network config (a flag, or
    // `up`'s file), the peer CLI's environment (CORE_PEER_*, ORDERER_*) is ignored: `run` drops
    // the values that came from it.
    let (connection, from_env) = match (cli.command.connection(), matches.subcommand()) {
        (Some(sub), Some((_, sub_m))) => ConnectionArgs::merge(&cli.connection, &matches, sub, sub_m),
        _ => (cli.connection.clone(), Vec::new()),
    };
    // `dev` uses an existing network only when one is named on the command line (not by the peer
    // CLI's environment, which the local network's own org1.env sets).
    let sub_matches = matches.subcommand().filter(|_| cli.command.connection().is_some()).map(|(_, m)| m);
    let typed = |id: &str| {
        [Some(&matches), sub_matches]
            .into_iter()
            .flatten()
            .any(|m| m.value_source(id) == Some(ValueSource::CommandLine))
    };
    let named_network = ConnectionArgs::NAMING_A_NETWORK.into_iter().any(typed);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CCAAS_DEPLOY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Command::Dev(a) = &cli.command {
        // The local network's channel: -C, not CHANNEL_NAME (a shell's, or org1.env's).
        let channel = connection.channel.clone().filter(|_| typed("channel"));
        return match dev::run(a, &connection, named_network, channel).await {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(exit_code(&e))
            }
        };
    }
    let interrupts = match interrupt::Interrupts::new() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: cannot catch SIGINT and SIGTERM: {e}");
            return ExitCode::from(2);
        }
    };
    let result = tokio::select! {
        r = run(cli, connection, &from_env) => r,
        code = interrupts.wait() => return ExitCode::from(code),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<Error>() {
        Some(Error::Connect { .. }) => 4,
        Some(Error::ApprovalsMissing { .. }) => EXIT_WAITING,
        Some(Error::Conflict { .. }) => 8,
        Some(Error::Refused { .. }) | Some(Error::Invalid { .. }) | Some(Error::Chaincode { .. }) => 1,
        Some(_) => 2,
        None => 2,
    }
}

pub(crate) struct Printer {
    pub(crate) output: Output,
}

impl Printer {
    pub(crate) fn progress(&self, line: &str) {
        match self.output {
            Output::Text => println!("{line}"),
            Output::Json => eprintln!("{line}"),
        }
    }

    pub(crate) fn result(&self, text: &[String], value: serde_json::Value) {
        match self.output {
            Output::Text => text.iter().for_each(|l| println!("{l}")),
            Output::Json => println!("{value}"),
        }
    }
}

async fn run(cli: Cli, connection: ConnectionArgs, from_env: &[&str]) -> anyhow::Result<u8> {
    let out = Printer { output: cli.output };
    // Commands that need no Fabric network.
    match &cli.command {
        Command::Render(a) => return offline::render(&out, a),
        Command::Apply(a) => return offline::apply(&out, a).await,
        Command::Image(a) => return offline::image(&out, a).await,
        Command::BuildStatic(a) => return offline::build_static(&out, a),
        Command::HotFunctions(a) => return offline::hot_functions(a),
        Command::New(a) => return new::new(&out, a),
        Command::Dev(_) => unreachable!("main runs dev"),
        _ => {}
    }
    // A chaincode call's arguments are checked before anything is read or dialled.
    let call = match &cli.command {
        Command::Invoke(a) | Command::Query(a) => Some(a.call()?),
        _ => None,
    };
    if call.is_some() && connection.via_orderer {
        anyhow::bail!(Error::Config(
            "--via-orderer is for approve and commit; invoke and query go through the peer's Gateway".into()
        ));
    }
    let up_config = match &cli.command {
        Command::Up(a) => Some(a.config()?),
        Command::Down(a) => Some(a.config()?),
        Command::Status(a) => a.file.as_deref().map(ccaas_deploy::up::UpConfig::load).transpose()?,
        _ => None,
    };
    // `up`'s registry credentials are checked before anything is done.
    let up_push = match (&cli.command, &up_config) {
        (Command::Up(a), Some(c)) => up::registry_options(a, c)?,
        _ => None,
    };
    let has_config = connection.config.is_some() || up_config.as_ref().is_some_and(|c| c.fabric.config.is_some());
    let mut sources = connection.sources(if has_config { from_env } else { &[] });
    if let Some(c) = &up_config {
        {
            // The file's fabric section fills what the flags (and the peer CLI's environment) leave open.
            if sources.config.is_none() {
                sources.config = c.fabric.config.clone();
            }
            if sources.user.is_none() {
                sources.user = c.fabric.user.clone();
            }
            if sources.channel.is_none() {
                sources.channel = c.fabric.channel.clone();
            }
            if sources.peer_names.is_empty() {
                sources.peer_names = c.fabric.peers.clone();
            }
        }
    }
    if let (Command::Down(a), Some(c)) = (&cli.command, &up_config) {
        // `down` needs no Fabric network; with an identity (the up file's fabric section, flags
        // or the peer CLI's environment) it reads whether the definition is committed.
        let committed = match sources.resolve() {
            Err(e) => Err(format!("no Fabric identity to read it with ({e})")),
            Ok(target) => match Session::connect(&target).await {
                Err(e) => Err(e.to_string()),
                Ok(s) => s
                    .committed(&c.chaincode.name)
                    .await
                    .map(|d| (s.channel().to_string(), d))
                    .map_err(|e| e.to_string()),
            },
        };
        return up::down(&out, a, c.clone(), committed).await;
    }
    let target = sources.resolve()?;
    if let Some(call) = call {
        return invoke::run(cli.output, matches!(cli.command, Command::Invoke(_)), call, &target).await;
    }
    let via = if connection.via_orderer { Via::Orderer } else { Via::Gateway };
    out.progress(&format!(
        "connecting to {} as {} on channel {}",
        target.peers.iter().map(|p| format!("{} ({})", p.name, p.address)).collect::<Vec<_>>().join(", "),
        target.identity.msp_id(),
        target.channel
    ));
    let session = Session::connect(&target).await?;
    if let Command::Status(a) = &cli.command {
        return status::run(&out, a, up_config.as_ref(), &session).await;
    }
    if let (Command::Up(a), Some(c)) = (&cli.command, up_config) {
        return up::up(&out, a, c, up_push, &session, via).await;
    }
    match cli.command {
        Command::Install(a) => {
            let pkg = a.package.load()?;
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
        }
        Command::Installed(_) => {
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
        }
        Command::Committed(a) => {
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
        }
        Command::Approved(a) => {
            let r = session.approved(&a.name, a.sequence.unwrap_or(0)).await?;
            let (text, value) = match r {
                None => {
                    (vec![format!("{} has approved nothing for {}", session.identity().msp_id(), a.name)], json!(null))
                }
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
        }
        Command::Readiness(a) => {
            let def = a.definition.definition()?;
            let r = session.readiness(&def, a.sequence).await?;
            out.result(&[format!("{} sequence {}: {}", def.name, a.sequence, approvals_text(&r.approvals))], json!(r));
        }
        Command::Approve(a) => {
            let def = a.definition.definition()?;
            let package_id = match (&a.package_id, a.package.is_given()) {
                (Some(id), _) => id.clone(),
                (None, true) => a.package.load()?.package_id,
                (None, false) => anyhow::bail!(Error::Config(
                    "approve needs --package-id, a package file, or --label and --address".into()
                )),
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
        }
        Command::Commit(a) => {
            let def = a.definition.definition()?;
            let (rule, _) = commit_policy::read(&session).await?;
            if let Some(w) = rule.warning() {
                eprintln!("warning: {w}");
            }
            out.progress(&format!("committing {} sequence {}", def.name, a.sequence));
            let tx = match plan::commit_if_met(&session, &def, a.sequence, via, &rule).await? {
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
        }
        Command::Render(_)
        | Command::Apply(_)
        | Command::Down(_)
        | Command::Up(_)
        | Command::Image(_)
        | Command::BuildStatic(_)
        | Command::HotFunctions(_)
        | Command::Invoke(_)
        | Command::Query(_)
        | Command::New(_)
        | Command::Status(_)
        | Command::Dev(_) => {
            unreachable!("handled above")
        }
        Command::Lifecycle(a) => {
            let def = a.definition.definition()?;
            let pkg = a.package.load().context("the package")?;
            let p = plan::make(&session, &def, &pkg.package_id).await?;
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
            let outcome = plan::execute(&session, &p, &def, &pkg.bytes, via, &mut progress).await?;
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
                &[summary],
                json!({"plan": p, "done": outcome.done, "waiting_for": outcome.waiting_for, "needed": outcome.needed,
                       "replans": outcome.replans}),
            );
            if waiting {
                return Ok(EXIT_WAITING);
            }
        }
    }
    Ok(0)
}

fn approvals_text(a: &std::collections::BTreeMap<String, bool>) -> String {
    a.iter()
        .map(|(k, v)| format!("{k}={}", if *v { "approved" } else { "not approved" }))
        .collect::<Vec<_>>()
        .join(", ")
}
