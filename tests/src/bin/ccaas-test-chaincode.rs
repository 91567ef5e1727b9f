//! Serves the test kit's asset-transfer-basic chaincode with `ccaas_shim::server`, for
//! `ccaas-peer conformance`, `ccaas-peer bench --spawn` and the process-level tests.
//!
//! Configured from the environment like any `ccaas-shim` chaincode: `CHAINCODE_SERVER_ADDRESS`
//! (default `0.0.0.0:7052`), `CHAINCODE_ID` (required), and the TLS variables. Exits 0 after a
//! graceful shutdown, 2 on a configuration error, 1 if the server fails.

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    ccaas_shim::server::run_from_env(ccaas_testkit::testing::AssetTransfer).await
}
