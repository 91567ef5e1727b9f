//! # fabcar
//!
//! fabric-samples' `fabcar` chaincode (the Go version, `chaincode/fabcar/go`) on the low-level
//! [`Chaincode`] trait of `ccaas-shim`.
//!
//! Clients cannot tell it from the Go chaincode: the transactions have the same names and
//! arguments, write the same JSON bytes to the ledger, return the same payloads and fail with the
//! same messages, including those fabric-contract-api-go (v1.2.0, the version the sample pinned)
//! produces before the sample's code runs (unknown contract or function, too few arguments).
//!
//! | Transaction | Arguments | Payload |
//! |---|---|---|
//! | `InitLedger` | | none |
//! | `QueryCar` | `carNumber` | the car's JSON |
//! | `CreateCar` | `carNumber, make, model, colour, owner` | none |
//! | `QueryAllCars` | | `[{"Key":"CAR0","Record":{...}}, ...]` in key order, `[]` if empty |
//! | `ChangeCarOwner` | `carNumber, newOwner` | none |
//!
//! The pieces: [`Car`] and [`QueryResult`] (the model and its JSON), [`transactions`] (one
//! function per transaction, over any [`WorldState`]), [`contract`] (routing and argument
//! checks) and [`FabCar`], which plugs them into the shim.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod car;
pub mod contract;
mod error;
mod godecode;
mod ledger;
pub mod transactions;

pub use car::{query_results_to_json, Car, QueryResult};
pub use error::TxError;
pub use ledger::WorldState;

use ccaas_shim::{Chaincode, ChaincodeStub, Response};

/// The fabcar chaincode.
///
/// ```no_run
/// # async fn example(stub: &ccaas_shim::ChaincodeStub) {
/// use ccaas_shim::Chaincode;
/// let response = fabcar::FabCar.invoke(stub).await;
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FabCar;

impl Chaincode for FabCar {
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
