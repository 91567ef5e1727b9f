//! The fabcar chaincode as a service: listens for the Fabric peer on `CHAINCODE_SERVER_ADDRESS`
//! (see [`ccaas_shim::server::Server::from_env`] for every variable).
//!
//! Logs go to stderr; `RUST_LOG` selects them (default `info`). Exits with status 0 after a
//! graceful shutdown (SIGTERM or SIGINT), 2 on a configuration error and 1 if the server fails
//! (see [`ccaas_shim::server::run_from_env`]).
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ccaas_shim::server::run_from_env(fabcar::FabCar).await
}
