//! Serves the test kit's asset-transfer-basic chaincode with `ccaas_shim::server::Server`, for
//! `ccaas-peer conformance` and `ccaas-peer bench --spawn`.
//!
//! Configured from the environment like any `ccaas-shim` chaincode: `CHAINCODE_SERVER_ADDRESS`
//! (default `0.0.0.0:7052`), `CHAINCODE_ID` (required), and the TLS variables.

use std::process::ExitCode;

use ccaas_shim::server::Server;
use ccaas_testkit::testing::AssetTransfer;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let server = match Server::from_env(AssetTransfer) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match server.serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaincode server failed: {e}");
            ExitCode::from(1)
        }
    }
}
