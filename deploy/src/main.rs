//! `ccaas-deploy`: the chaincode lifecycle (install, approve, commit, queries) against a Fabric
//! network, and `lifecycle`, which does only what is missing.
//!
//! Exit codes (stable; README.md's "Exit codes" has the table, [`Kind`] the mapping):
//! * 0: success (including "nothing to do");
//! * 1 (`refused`): a peer, the gateway or the orderer refused, a chaincode answered an error
//!   (`invoke`, `query`), or a transaction was invalid;
//! * 2 (`configuration`): usage or configuration error (flags, files, unknown user, bad policy),
//!   found before any connection, or, for `apply` and `up`, a Kubernetes object of another owner
//!   in the way (see `--force-conflicts`);
//! * 3 (`waiting`): `lifecycle` or `commit` cannot finish: the approvals do not meet the
//!   channel's `LifecycleEndorsement` policy yet (every org's approval when it cannot be read);
//! * 4 (`connection`, `timeout`): a peer, orderer, registry or Kubernetes API server could not be
//!   reached (network, TLS), or did not answer in time (its own limit or `--timeout`);
//! * 5 (`build`): `build-static`: cargo failed to build the binary;
//! * 6 (`rollout`): `apply`, `up`: the rollout failed or did not finish in time (each pod's
//!   reason is printed);
//! * 7 (`drift`): `status`: drift between the approvals, the peers and the servers (each finding
//!   is printed with what to run);
//! * 8 (`conflict`), 130 and 143 (`interrupted`): see README.md.
//!
//! When two hold, the higher code wins: `up` that waits for other orgs (3) and whose rollout
//! failed (6) exits 6, prints both, and its JSON's `"exit_reasons"` names both
//! (`["waiting", "rollout"]`; `[]` on success).
//!
//! With `--output json`, stdout carries only the JSON result, or on failure one JSON object
//! (`kind`, `message`, `exit_code`, `retryable`, `tx_ids`, and the result's fields if there is
//! one); progress goes to stderr. Logs go to
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

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::rollout::RolloutError;
use ccaas_deploy::{deadline, plan};
use ccaas_deploy::{Error, Kind};
use clap::parser::ValueSource;
use clap::FromArgMatches;
use serde_json::{json, Value};

use args::{Cli, Command, ConnectionArgs, Output};

/// Exit code: other organizations must approve first.
pub(crate) const EXIT_WAITING: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    let matches = match Cli::with_hidden_connection().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // A usage error is a failure like another: one JSON object with --output json.
            if e.use_stderr() && json_requested() {
                let message = e.render().to_string();
                println!("{}", failure_json(Kind::Configuration, 2, message.trim_end(), &[], None));
            }
            e.exit()
        }
    };
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
        .with_ansi(colour(&std::io::stderr()))
        .init();
    let out = Printer::new(cli.output);
    // `dev` runs until stopped: the deadline is for the other commands.
    let timeout = cli.timeout.map(Duration::from_secs).filter(|_| !matches!(cli.command, Command::Dev(_)));
    if let Some(t) = timeout {
        deadline::set(t);
    }
    let result = if let Command::Dev(a) = &cli.command {
        // The local network's channel: -C, not CHANNEL_NAME (a shell's, or org1.env's).
        let channel = connection.channel.clone().filter(|_| typed("channel"));
        dev::run(a, &connection, named_network, channel).await
    } else {
        let interrupts = match interrupt::Interrupts::new() {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: cannot catch SIGINT and SIGTERM: {e}");
                return ExitCode::from(2);
            }
        };
        let work = async {
            match timeout {
                None => run(&out, cli, connection, &from_env).await,
                // Every network call is bounded by the deadline; this bounds the rest (a build, a
                // Kubernetes call), a little later, so that a call's own error (or the rollout's
                // report, which ends 2 s before the deadline) comes first.
                Some(t) => tokio::time::timeout(t + Duration::from_secs(5), run(&out, cli, connection, &from_env))
                    .await
                    .unwrap_or_else(|_| {
                        let what = deadline::waiting_on().unwrap_or_else(|| "the command's last step (above)".into());
                        Err(Error::Timeout { what, after: t }.into())
                    }),
            }
        };
        tokio::select! {
            r = work => r,
            (code, message, tx_ids) = interrupts.wait() => {
                out.failed(Kind::Interrupted, message, tx_ids);
                Ok(code)
            }
        }
    };
    ExitCode::from(out.finish(result))
}

/// Whether colour codes may be written to `stream`: a terminal, and NO_COLOR unset or empty.
fn colour(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether the command line asks for `--output json` (read before it is parsed).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--output=json") || args.windows(2).any(|w| w[0] == "--output" && w[1] == "json")
}

/// The kind of failure `e` is, and its exit code.
fn classify(e: &anyhow::Error) -> (Kind, u8) {
    if let Some(e) = e.downcast_ref::<Error>() {
        return (e.kind(), e.exit_code());
    }
    let kind = match e.downcast_ref::<RolloutError>() {
        Some(RolloutError::Failed { .. }) => Kind::Rollout,
        Some(RolloutError::Unreachable { .. }) => Kind::Connection,
        // A refusal of the API server, no cluster configured, an object of another owner in the way.
        Some(_) | None => Kind::Configuration,
    };
    (kind, kind.exit_code())
}

/// The failure as one JSON object: `kind`, `message`, `exit_code`, `retryable`, `tx_ids`, and
/// the fields of the command's result, if it printed one.
fn failure_json(kind: Kind, code: u8, message: &str, tx_ids: &[String], result: Option<Value>) -> Value {
    let mut v = match result {
        Some(Value::Object(m)) => Value::Object(m),
        Some(other) => json!({"result": other}),
        None => json!({}),
    };
    v["kind"] = json!(kind.name());
    v["message"] = json!(message);
    v["exit_code"] = json!(code);
    v["retryable"] = json!(kind.retryable());
    v["tx_ids"] = json!(tx_ids);
    v
}

/// Prints progress, the result, and the failure: with `--output json`, stdout gets exactly one
/// JSON object, the result's or the failure's (with the result's fields when there is one).
pub(crate) struct Printer {
    pub(crate) output: Output,
    result: RefCell<Option<Value>>,
    failure: RefCell<Option<(Kind, String, Vec<String>)>>,
}

impl Printer {
    fn new(output: Output) -> Printer {
        Printer { output, result: RefCell::default(), failure: RefCell::default() }
    }

    pub(crate) fn progress(&self, line: &str) {
        match self.output {
            Output::Text => println!("{line}"),
            Output::Json => eprintln!("{line}"),
        }
    }

    /// The result: `text` now, or `value` when the command ends.
    pub(crate) fn result(&self, text: &[String], value: Value) {
        match self.output {
            Output::Text => text.iter().for_each(|l| println!("{l}")),
            Output::Json => *self.result.borrow_mut() = Some(value),
        }
    }

    /// What failed, for a command that ends with a non-zero code it chose (not an error): its
    /// JSON gets these as `kind`, `message` and `tx_ids` (the transactions it made). The command
    /// says it on stderr itself.
    pub(crate) fn failed(&self, kind: Kind, message: impl Into<String>, tx_ids: Vec<String>) {
        *self.failure.borrow_mut() = Some((kind, message.into(), tx_ids));
    }

    /// Prints what is left to print for `result` and returns the exit code.
    fn finish(&self, result: anyhow::Result<u8>) -> u8 {
        let value = self.result.borrow_mut().take();
        let json = self.output == Output::Json;
        match result {
            Ok(0) => {
                if let (true, Some(v)) = (json, value) {
                    println!("{v}");
                }
                0
            }
            Ok(code) => {
                if json {
                    let (kind, message, tx_ids) = self.failure.borrow_mut().take().unwrap_or_else(|| {
                        let kind = Kind::ALL.into_iter().find(|k| k.exit_code() == code).unwrap_or(Kind::Refused);
                        (kind, format!("{} (see stderr)", kind.name()), Vec::new())
                    });
                    println!("{}", failure_json(kind, code, &message, &tx_ids, value));
                }
                code
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                let (kind, code) = classify(&e);
                if json {
                    let tx_ids = e.downcast_ref::<Error>().map(Error::tx_ids).unwrap_or_default();
                    println!("{}", failure_json(kind, code, &format!("{e:#}"), &tx_ids, value));
                }
                code
            }
        }
    }
}

async fn run(out: &Printer, cli: Cli, connection: ConnectionArgs, from_env: &[&str]) -> anyhow::Result<u8> {
    // Commands that need no Fabric network.
    match &cli.command {
        Command::Render(a) => return offline::render(out, a),
        Command::Apply(a) => return offline::apply(out, a).await,
        Command::Image(a) => return offline::image(out, a).await,
        Command::BuildStatic(a) => return offline::build_static(out, a),
        Command::HotFunctions(a) => return offline::hot_functions(a),
        Command::New(a) => return new::new(out, a),
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
        return up::down(out, a, c.clone(), committed).await;
    }
    let target = sources.resolve()?;
    if let Some(call) = call {
        return invoke::run(out, matches!(cli.command, Command::Invoke(_)), call, &target).await;
    }
    // Every local input is read and checked before any connection: a wrong path is exit 2 even
    // with the network down.
    let def = match &cli.command {
        Command::Readiness(a) | Command::Commit(a) => Some(a.definition.definition()?),
        Command::Approve(a) => Some(a.definition.definition()?),
        Command::Lifecycle(a) => Some(a.definition.definition()?),
        _ => None,
    };
    let pkg = match &cli.command {
        Command::Install(a) => Some(a.package.load()?),
        Command::Approve(a) if a.package_id.is_none() => {
            if !a.package.is_given() {
                anyhow::bail!(Error::Config(
                    "approve needs --package-id, a package file, or --label and --address".into()
                ));
            }
            Some(a.package.load()?)
        }
        Command::Lifecycle(a) => Some(a.package.load().context("the package")?),
        _ => None,
    };
    if let (Command::Up(a), Some(c)) = (&cli.command, &up_config) {
        let (text, value) = up::check_local(c, &target).await?;
        if a.offline {
            out.result(&text, value);
            return Ok(0);
        }
    }
    if let (Command::Lifecycle(a), Some(def), Some(pkg)) = (&cli.command, &def, &pkg) {
        if a.offline {
            let peers: Vec<String> = target.peers.iter().map(|p| format!("{} ({})", p.name, p.address)).collect();
            let text = format!(
                "offline check passed: {} version {} with package {} on channel {} as {} (peers: {}); nothing was \
                 contacted: run without --offline for the plan",
                def.name,
                def.version,
                pkg.package_id,
                target.channel,
                target.identity.msp_id(),
                peers.join(", ")
            );
            out.result(
                &[text],
                json!({"offline": true, "name": def.name, "version": def.version, "package_id": pkg.package_id,
                       "channel": target.channel, "msp_id": target.identity.msp_id(), "peers": peers}),
            );
            return Ok(0);
        }
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
        return status::run(out, a, up_config.as_ref(), &session).await;
    }
    if let (Command::Up(a), Some(c)) = (&cli.command, up_config) {
        return up::up(out, a, c, up_push, &session, via).await;
    }
    match cli.command {
        Command::Install(_) => {
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
            let def = def.expect("read before connecting");
            let r = session.readiness(&def, a.sequence).await?;
            out.result(&[format!("{} sequence {}: {}", def.name, a.sequence, approvals_text(&r.approvals))], json!(r));
        }
        Command::Approve(a) => {
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
        }
        Command::Commit(a) => {
            let def = def.expect("read before connecting");
            let (rule, _) = session.commit_rule().await?;
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
            let (def, pkg) = (def.expect("read before connecting"), pkg.expect("read before connecting"));
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
                std::slice::from_ref(&summary),
                json!({"plan": p, "done": outcome.done, "waiting_for": outcome.waiting_for, "needed": outcome.needed,
                       "replans": outcome.replans}),
            );
            if waiting {
                out.failed(Kind::Waiting, summary, plan::tx_ids(&outcome.done));
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
