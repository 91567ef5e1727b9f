//! The asset-transfer-basic chaincode (its contract, `SmartContract`) as a service: listens for
//! the Fabric peer on `CHAINCODE_SERVER_ADDRESS` (see [`ccaas_shim::server::Server::from_env`]
//! for every variable).
//!
//! Logs go to stderr; `RUST_LOG` selects them (default `info`). Exits with status 0 after a
//! graceful shutdown (SIGTERM or SIGINT), 2 on a configuration error and 1 if the server fails.
#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use ccaas_shim::server::Server;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting asset-transfer-basic chaincode");
    let server =
        match Server::from_env(asset_transfer_basic::chaincode()).context("invalid chaincode server configuration") {
            Ok(server) => server,
            Err(e) => return fail(e, 2),
        };
    if let Err(e) = server.serve().await.context("chaincode server failed") {
        return fail(e, 1);
    }
    tracing::info!("asset-transfer-basic chaincode stopped");
    ExitCode::SUCCESS
}

/// Logs `error` with its causes on one line and exits with `code`: 2 for a configuration error,
/// 1 when the server fails.
fn fail(error: anyhow::Error, code: u8) -> ExitCode {
    tracing::error!("{error:#}");
    ExitCode::from(code)
}

/// Log lines on stderr filtered by `RUST_LOG`: `info` when it is unset, or invalid (with a
/// warning). Colours only on a terminal, so container logs stay plain text.
fn init_tracing() {
    let spec = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let (filter, invalid) = match spec.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new("info"), Some(e)),
        None => (EnvFilter::new("info"), None),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Some(e) = invalid {
        tracing::warn!(error = %e, "ignoring invalid RUST_LOG; logging at info");
    }
}
