//! # asset-transfer-basic
//!
//! fabric-samples' `asset-transfer-basic` chaincode (the Go `chaincode-go` version) on the
//! contract API of `ccaas-shim`: [`SmartContract`] is a `#[contract]` with one `#[transaction]`
//! per Go method.
//!
//! Clients cannot tell it from the Go chaincode: the transactions have the same names and
//! arguments, write the same JSON bytes to the ledger, return the same payloads and fail with the
//! same messages, including those the Go contract API produces before the sample's code runs
//! (unknown function, missing arguments, an argument that is not an integer), which
//! `#[contract(compat = "go")]` reproduces.
//!
//! | Transaction | Arguments | Payload |
//! |---|---|---|
//! | `InitLedger` | | none |
//! | `CreateAsset` | `id, color, size, owner, appraisedValue` | none |
//! | `ReadAsset` | `id` | the asset's JSON |
//! | `UpdateAsset` | `id, color, size, owner, appraisedValue` | none |
//! | `DeleteAsset` | `id` | none |
//! | `AssetExists` | `id` | `true` or `false` |
//! | `TransferAsset` | `id, newOwner` | the previous owner |
//! | `GetAllAssets` | | JSON array of assets in key order (none if there are no assets) |
//!
//! `org.hyperledger.fabric:GetMetadata` returns the contract metadata: the contract
//! `SmartContract` (the default), its transactions with parameters `param0`, `param1`, ... and the
//! `Asset` schema, as contract-api-go describes the Go sample (which tags every transaction
//! `submit`; here the three queries are tagged `evaluate`).
//!
//! The pieces: [`Asset`] (the model and its JSON), [`transactions`] (the sample's logic, one
//! function per transaction over any [`WorldState`]), [`SmartContract`] (the contract) and
//! [`chaincode`] / [`AssetTransfer`], which serve it. [`lowlevel`] is the same chaincode on the
//! low-level trait, kept as the contract API's baseline.
//!
//! Its unit tests (`tests/tests/integration/asset_transfer_unit.rs` in the workspace) drive it in-process
//! with `ccaas_testkit::Emulator`, through the real shim and a peer model:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ccaas_testkit::EmulatorError> {
//! use ccaas_testkit::Emulator;
//! let peer = Emulator::in_process(asset_transfer_basic::SmartContract).await;
//! peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await?.assert_ok();
//! let read = peer.evaluate("ReadAsset", ["asset1"]).await?;
//! assert_eq!(read.payload_str(), r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tom","Size":5}"#);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod asset;
mod contract;
mod error;
mod ledger;
pub mod lowlevel;
mod params;
pub mod transactions;

pub use asset::Asset;
pub use contract::SmartContract;
pub use error::TxError;
pub use ledger::WorldState;

use std::sync::OnceLock;

use ccaas_shim::contract::ContractChaincode;
use ccaas_shim::{Chaincode, ChaincodeStub, Response};

/// The chaincode: [`SmartContract`], the only (so the default) contract.
///
/// ```
/// let chaincode = asset_transfer_basic::chaincode();
/// assert_eq!(chaincode.default_name(), "SmartContract");
/// ```
pub fn chaincode() -> ContractChaincode {
    ContractChaincode::new().contract(SmartContract)
}

/// The chaincode as a value: runs every transaction on one shared [`chaincode()`], so it can be
/// passed by value wherever a [`Chaincode`] goes.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// ccaas_shim::server::Server::from_env(asset_transfer_basic::AssetTransfer)?.serve().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetTransfer;

impl AssetTransfer {
    fn shared() -> &'static ContractChaincode {
        static CHAINCODE: OnceLock<ContractChaincode> = OnceLock::new();
        CHAINCODE.get_or_init(chaincode)
    }
}

impl Chaincode for AssetTransfer {
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        Self::shared().init(stub).await
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        Self::shared().invoke(stub).await
    }
}
