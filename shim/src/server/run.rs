//! Everything a chaincode binary's `main` does, in one call.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use super::Server;
use crate::IntoChaincode;

/// Runs `chaincode` (a `#[contract]` type, a [`ContractChaincode`](crate::contract::ContractChaincode)
/// or any [`Chaincode`](crate::Chaincode): anything [`IntoChaincode`]) as a service configured from the
/// environment, and returns the process's exit code. This is the whole of a chaincode binary's `main`: logs go to stderr filtered by `RUST_LOG` (default `info`; colours only on a
/// terminal, so container logs stay plain), the configuration comes from
/// [`Server::from_env`], and the server runs until SIGTERM or SIGINT.
///
/// Exit codes: **0** after a graceful shutdown, **2** for a configuration error (missing
/// `CHAINCODE_ID`, unreadable TLS file, ...), **1** if the server fails (the address is taken, ...).
/// Errors are logged on one line with their causes.
///
/// The examples run it on tokio's current-thread runtime: a chaincode spends its transactions
/// waiting on the peer, and one thread serving all of them costs about a quarter less CPU per
/// transaction than the multi-thread runtime on a 2-core machine, with one thread's memory
/// instead of one per core (docs/benchmarks.md). A chaincode that computes for long inside its
/// transactions can use `#[tokio::main]` instead, to spread them over every core.
///
/// ```no_run
/// use ccaas_shim::prelude::*;
///
/// #[derive(Default)]
/// pub struct Hello;
///
/// #[contract]
/// impl Hello {
///     #[transaction(evaluate)]
///     async fn hello(&self, _ctx: &Context<'_>) -> String {
///         "hello".to_string()
///     }
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::process::ExitCode {
///     run_from_env(Hello).await
/// }
/// ```
///
/// A low-level chaincode is served the same way:
///
/// ```no_run
/// use ccaas_shim::{Chaincode, ChaincodeStub, Response};
///
/// struct Hello;
///
/// impl Chaincode for Hello {
///     async fn invoke(&self, _stub: &ChaincodeStub) -> Response {
///         Response::success("hello")
///     }
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::process::ExitCode {
///     ccaas_shim::server::run_from_env(Hello).await
/// }
/// ```
pub async fn run_from_env<K, C: IntoChaincode<K>>(chaincode: C) -> ExitCode {
    init_tracing();
    let name = std::any::type_name::<C>();
    tracing::info!(chaincode = name, "starting chaincode server");
    let server = match Server::from_env(chaincode.into_chaincode()) {
        Ok(server) => server,
        Err(e) => return fail("invalid chaincode server configuration", &e, 2),
    };
    if let Err(e) = server.serve().await {
        return fail("chaincode server failed", &e, 1);
    }
    tracing::info!(chaincode = name, "chaincode server stopped");
    ExitCode::SUCCESS
}

/// Logs `context: error: cause: cause...` and returns `code`.
fn fail(context: &str, error: &(dyn std::error::Error + 'static), code: u8) -> ExitCode {
    tracing::error!("{context}: {}", error_chain(error));
    ExitCode::from(code)
}

/// `error: cause: cause...`: an error with its causes, on one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    line
}

/// A stderr subscriber filtered by `RUST_LOG` (`info` when unset, or invalid with a warning).
/// Does nothing if the process already installed a subscriber.
///
/// `RUST_LOG` takes a default level and `target=level` directives, comma separated
/// (`warn,ccaas_shim=debug`). Span and field filters are not supported: the filter that parses them
/// (`EnvFilter`) links a regular-expression engine into every chaincode binary.
fn init_tracing() {
    let spec = std::env::var("RUST_LOG").ok();
    let info = || Targets::new().with_default(tracing::Level::INFO);
    let (filter, invalid) = match spec.as_deref().map(str::parse::<Targets>) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (info(), Some(e)),
        None => (info(), None),
    };
    let format =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    let installed = tracing_subscriber::registry().with(format.with_filter(filter)).try_init().is_ok();
    if let (true, Some(e)) = (installed, invalid) {
        tracing::warn!(error = %e, "ignoring invalid RUST_LOG (use a level and target=level directives); logging at info");
    }
}
