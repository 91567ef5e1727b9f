//! # asset-transfer-basic
//!
//! fabric-samples' `asset-transfer-basic` chaincode (the Go `chaincode-go` version) on the
//! low-level [`Chaincode`] trait of `ccaas-shim`.
//!
//! Clients cannot tell it from the Go chaincode: the transactions have the same names and
//! arguments, write the same JSON bytes to the ledger, return the same payloads and fail with the
//! same messages, including those the Go contract API produces before the sample's code runs
//! (unknown function, missing arguments, an argument that is not an integer).
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
//! The pieces: [`Asset`] (the model and its JSON), [`transactions`] (one function per
//! transaction, over any [`WorldState`]), [`contract`] (routing and argument conversion) and
//! [`AssetTransfer`], which plugs them into the shim.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod asset;
pub mod contract;
mod error;
mod ledger;
mod params;
pub mod transactions;

pub use asset::{list_to_json, Asset};
pub use error::TxError;
pub use ledger::WorldState;
pub use params::{parse_int, ConversionError};

use ccaas_shim::{Chaincode, ChaincodeStub, Response};

/// The asset-transfer-basic chaincode.
///
/// ```no_run
/// # async fn example(stub: &ccaas_shim::ChaincodeStub) {
/// use ccaas_shim::Chaincode;
/// let response = asset_transfer_basic::AssetTransfer.invoke(stub).await;
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetTransfer;

impl Chaincode for AssetTransfer {
    /// Without a function name, succeeds with `Default initiator successful.` as the Go contract
    /// API does; otherwise runs the function like [`invoke`](Chaincode::invoke).
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        let (function, _) = stub.function_and_parameters();
        if function.is_empty() {
            return Response::success(contract::DEFAULT_INIT_PAYLOAD);
        }
        self.invoke(stub).await
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, params) = stub.function_and_parameters();
        let result = contract::invoke(stub, &function, &params).await;
        if let Err(e) = &result {
            tracing::debug!(tx_id = stub.tx_id(), function, error = %e, "transaction failed");
        }
        result.into()
    }
}
