//! The asset-transfer-events chaincode as a service: listens for the Fabric peer on
//! `CHAINCODE_SERVER_ADDRESS` (see `ccaas_shim::server::Server::from_env` for every variable).
#![forbid(unsafe_code)]

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    ccaas_shim::run_from_env(asset_transfer_events::SmartContract).await
}
