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

mod cli;

use std::process::ExitCode;
use std::time::Duration;

use ccaas_deploy::{deadline, Error, Kind};
use clap::parser::ValueSource;
use clap::FromArgMatches;

use cli::connection::ConnectionArgs;
use cli::output::{failure_json, Printer};
use cli::{dev, interrupt, run, Cli, Command};

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
