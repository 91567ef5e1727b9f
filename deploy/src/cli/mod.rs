//! The command line: [`Cli`], its [`Command`]s, and [`run`], which runs one. Each command's
//! flags live beside the code that runs it; what several share is in [`connection`] (the Fabric
//! network and identity) and [`output`] (what is printed, and the exit code).

mod build_static;
pub(crate) mod connection;
pub(crate) mod dev;
mod image;
pub(crate) mod interrupt;
mod invoke;
mod lifecycle;
mod new;
pub(crate) mod output;
mod render;
mod status;
mod up;

use anyhow::Context;
use ccaas_deploy::lifecycle::{Session, Via};
use ccaas_deploy::Error;
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use connection::ConnectionArgs;
use output::{Output, Printer};

/// Deploy chaincode-as-a-service to Hyperledger Fabric: install, approve, commit, or
/// `lifecycle` to do only what is missing; build the server's image, render and apply its
/// Kubernetes manifests, or `up` to do all of it from one config file.
///
/// Exit codes (and the "kind" of --output json's failure object): 0 success; 1 refused by a
/// peer, the gateway or the orderer, an error answered by the chaincode (invoke, query), or an
/// invalid transaction (refused); 2 usage or configuration error, checked before any connection
/// (also a registry or Kubernetes API refusal, or a Kubernetes object of another owner in the
/// way: see apply --force-conflicts) (configuration); 3 the commit waits for more approvals
/// (waiting); 4 a peer, orderer, registry or Kubernetes API server cannot be reached (connection)
/// or did not answer in time (timeout); 5 build-static: cargo failed (build); 6 apply/up: the
/// rollout failed or timed out (rollout); 7 status: drift (drift); 8 another run's changes
/// conflicted, even after re-planning (conflict); 130/143 SIGINT/SIGTERM (interrupted). When two
/// hold, the higher wins (up waiting and with a failed rollout: 6; its JSON's exit_reasons names
/// both). With --output json a failure prints one JSON object: kind, message, exit_code,
/// retryable, tx_ids.
#[derive(Parser, Debug)]
#[command(name = "ccaas-deploy", version)]
pub struct Cli {
    /// Result format on stdout (with json, progress goes to stderr).
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Give the whole command at most this many seconds: every network call (peers, Gateway,
    /// orderer, registry, Kubernetes) is bounded by what is left, and on expiry the command exits
    /// 4 naming what did not answer; apply and up wait for the rollout until then (dev runs
    /// until stopped and ignores it) [default: no
    /// limit for the command; a call gets 5 s to connect and 60 s to answer, a rollout its
    /// progress deadline plus 10 s].
    #[arg(long, global = true, env = "CCAAS_DEPLOY_TIMEOUT", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    // The connection flags given before the subcommand (`ccaas-deploy --config net.yaml
    // installed`): hidden here (see `Cli::with_hidden_connection`); the commands that talk to a
    // Fabric network take them after it too, and list them in their --help.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line parser, with the connection flags before the subcommand hidden from the
    /// help (a subcommand's --help lists them where it uses them).
    pub fn with_hidden_connection() -> clap::Command {
        use clap::CommandFactory;
        let ids: Vec<clap::Id> = ConnectionArgs::augment_args(clap::Command::new("connection"))
            .get_arguments()
            .map(|a| a.get_id().clone())
            .collect();
        ids.iter().fold(Cli::command(), |c, id| c.mut_arg(id, |a| a.hide(true)))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Install a package on the organization's peers (already installed is success).
    Install(lifecycle::PackageOnly),
    /// List the packages installed on the organization's peers.
    Installed(lifecycle::Installed),
    /// Show the organization's approval of a chaincode.
    Approved(lifecycle::Approved),
    /// Show the committed definition of a chaincode.
    Committed(lifecycle::NameOnly),
    /// Show which organizations approved a definition at a sequence.
    Readiness(lifecycle::WithSequence),
    /// Approve a definition for the organization.
    Approve(lifecycle::Approve),
    /// Commit a definition on the channel.
    ///
    /// Only once its approvals meet the channel's LifecycleEndorsement policy (else exit 3, naming
    /// what is missing and the orgs that could give it); the approving orgs' peers endorse it.
    Commit(lifecycle::WithSequence),
    /// Do what is missing: install, approve (at the right sequence) and commit.
    ///
    /// The commit happens as soon as the approvals meet the channel's LifecycleEndorsement policy
    /// (e.g. 2 of 3 orgs under MAJORITY Endorsement), endorsed by the approving orgs' peers;
    /// until then it says what is missing and from whom, and exits 3. --plan shows the steps and
    /// the rule that decides. A step another run did meanwhile is skipped, one whose transaction
    /// lost a race (MVCC_READ_CONFLICT) is done again, after reading the channel again; a conflict
    /// that persists exits 8 (a re-run is safe).
    Lifecycle(lifecycle::Lifecycle),
    /// Show a chaincode for the organization, and what drifted (exit 7).
    ///
    /// The committed definition, every org's approval at the committed and the next sequence, the
    /// packages on the org's peers and, with Kubernetes settings (-f, --namespace or
    /// --kubeconfig), its Deployments, their ready pods and the package they serve. Exits 0 when
    /// consistent, 7 on drift (each finding says what to run).
    #[command(after_help = status::STATUS_HELP)]
    Status(status::StatusArgs),
    /// Submit a transaction: the chaincode runs on the endorsers the policy needs (the first
    /// peer's Gateway finds them), the orderer orders it, and this waits until it is committed.
    /// Prints the chaincode's answer; exits 1 when the chaincode answers an error (its status and
    /// message are printed) or the transaction is committed as invalid (its validation code is
    /// printed).
    #[command(after_help = invoke::CALL_EXAMPLES)]
    Invoke(invoke::CallArgs),
    /// Evaluate a chaincode function on one peer (through the first peer's Gateway) and print its
    /// answer; nothing is committed. Exits 1 when the chaincode answers an error.
    #[command(after_help = invoke::CALL_EXAMPLES)]
    Query(invoke::CallArgs),
    /// Print the chaincode server's Kubernetes manifests as YAML, without a cluster
    /// (Deployment, Service and TLS Secret, or an hlf-operator FabricChaincode).
    Render(Box<render::Render>),
    /// Image → package → install → approve → commit → rollout from one config file
    /// (ccaas-deploy.yaml), doing only what changed; see docs/deploying.md for the format.
    Up(Box<up::UpArgs>),
    /// Delete what `up` rolled out (Deployments, Services, TLS Secrets labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy; others of the same name are left and named,
    /// see --force-conflicts); the channel's chaincode definition is not touched.
    Down(Box<up::DownArgs>),
    /// Server-side apply the manifests (field manager ccaas-deploy) and wait for the rollout as
    /// `kubectl rollout status` does; --dry-run prints them instead. Objects of the same name
    /// that ccaas-deploy did not make are refused (see --force-conflicts).
    Apply(Box<render::Apply>),
    /// Assemble the chaincode server's OCI image from a built binary (reproducible: the same
    /// binary gives the same digest) and write it as an OCI layout or a docker archive.
    Image(image::ImageArgs),
    /// Build a workspace binary static (glibc crt-static, not position-independent, x86_64-unknown-linux-gnu, release)
    /// for an image, and print its path. Built with thin LTO over 4 codegen units (unless
    /// CARGO_PROFILE_RELEASE_LTO / _CODEGEN_UNITS say otherwise), and its hot code laid out
    /// together (less memory per running instance); --no-layout skips that.
    BuildStatic(build_static::BuildStatic),
    /// Make a new chaincode crate that builds, tests and serves as it is: a contract, its server,
    /// its tests with the test kit, a ccaas-deploy.yaml for `up`, and a Cargo.lock from
    /// fabric-ccaas's.
    New(new::New),
    /// Run the chaincode of this crate (or -p PACKAGE) against Fabric peers and rebuild and restart
    /// it on every saved change: starts a local network from your Fabric release (or uses the
    /// network that --config or the identity flags name), deploys the chaincode once, then builds,
    /// serves and watches. Ctrl-C stops the server and the network (--keep keeps the network's state
    /// for the next run).
    #[command(after_help = dev::DEV_EXAMPLES)]
    Dev(Box<dev::DevArgs>),
    /// Print the functions a callgrind profile (`valgrind --tool=callgrind --demangle=no`) saw
    /// run, as build-static's hot-code list spells them (bench/hot-functions.sh uses it).
    #[command(hide = true)]
    HotFunctions(build_static::HotFunctions),
}

impl Command {
    /// The connection flags after the subcommand, for the commands that talk to a Fabric network.
    pub fn connection(&self) -> Option<&ConnectionArgs> {
        match self {
            Command::Install(a) => Some(&a.connection),
            Command::Installed(a) => Some(&a.connection),
            Command::Approved(a) => Some(&a.connection),
            Command::Committed(a) => Some(&a.connection),
            Command::Readiness(a) | Command::Commit(a) => Some(&a.connection),
            Command::Approve(a) => Some(&a.connection),
            Command::Lifecycle(a) => Some(&a.connection),
            Command::Status(a) => Some(&a.connection),
            Command::Invoke(a) | Command::Query(a) => Some(&a.connection),
            Command::Up(a) => Some(&a.connection),
            Command::Down(a) => Some(&a.connection),
            Command::Dev(a) => Some(&a.connection),
            Command::Render(_)
            | Command::Apply(_)
            | Command::Image(_)
            | Command::BuildStatic(_)
            | Command::New(_)
            | Command::HotFunctions(_) => None,
        }
    }
}

pub(crate) async fn run(out: &Printer, cli: Cli, connection: ConnectionArgs, from_env: &[&str]) -> anyhow::Result<u8> {
    // Commands that need no Fabric network.
    match &cli.command {
        Command::Render(a) => return render::render(out, a),
        Command::Apply(a) => return render::apply(out, a).await,
        Command::Image(a) => return image::image(out, a).await,
        Command::BuildStatic(a) => return build_static::build_static(out, a),
        Command::HotFunctions(a) => return build_static::hot_functions(a),
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
        Command::Install(_) => lifecycle::install(out, &session, pkg).await,
        Command::Installed(_) => lifecycle::installed(out, &session).await,
        Command::Committed(a) => lifecycle::committed(out, &session, &a).await,
        Command::Approved(a) => lifecycle::approved(out, &session, &a).await,
        Command::Readiness(a) => lifecycle::readiness(out, &session, &a, def).await,
        Command::Approve(a) => lifecycle::approve(out, &session, &a, def, pkg, via).await,
        Command::Commit(a) => lifecycle::commit(out, &session, &a, def, via).await,
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
        Command::Lifecycle(a) => lifecycle::lifecycle(out, &session, &a, def, pkg, via).await,
    }
}
