//! The asset-transfer-sbe chaincode as a service: listens for the Fabric peer on
//! `CHAINCODE_SERVER_ADDRESS` (see `ccaas_shim::server::Server::from_env` for every variable).
#![forbid(unsafe_code)]

use ccaas_shim::contract::ContractChaincode;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let chaincode = ContractChaincode::new().contract(asset_transfer_sbe::AssetContract);
    ccaas_shim::server::run_from_env(chaincode).await
}
