//! # ccaas-shim: Hyperledger Fabric chaincode in Rust, run as a service
//!
//! Most chaincode is written with the [contract API](contract): `use ccaas_shim::prelude::*;`
//! (see [`prelude`]), a `#[contract]` impl block of `#[transaction]` methods returning
//! `Result<T>`, and a `main` that is one call to [`run_from_env`]:
//!
//! ```no_run
//! use ccaas_shim::prelude::*;
//!
//! #[derive(Default)]
//! pub struct Greeter;
//!
//! #[contract(rename_all = "GoPascalCase")]
//! impl Greeter {
//!     #[transaction(evaluate)]
//!     async fn hello(&self, ctx: &Context<'_>, name: String) -> Result<String> {
//!         Ok(format!("hello {name}, from {}", ctx.client_identity()?.msp_id()))
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::process::ExitCode {
//!     run_from_env(Greeter).await
//! }
//! ```
//!
//! Underneath, a chaincode implements [`Chaincode`]; a [`Server`](server::Server) (configured
//! in code or with [`Server::from_env`](server::Server::from_env)) listens for the Fabric peer,
//! which dials it and drives the chaincode shim protocol over one bidirectional stream per
//! connection.
//!
//! ```no_run
//! use ccaas_shim::{Chaincode, ChaincodeStub, Response};
//!
//! struct Counter;
//!
//! impl Chaincode for Counter {
//!     async fn invoke(&self, stub: &ChaincodeStub) -> Response {
//!         let (function, args) = stub.function_and_parameters();
//!         match function.as_str() {
//!             "get" => match stub.get_state(&args[0]).await {
//!                 Ok(value) => Response::success(value.unwrap_or_default()),
//!                 Err(e) => Response::error(e.to_string()),
//!             },
//!             "put" => stub.put_state(&args[0], args[1].clone()).await.map(|_| "").into(),
//!             other => Response::error(format!("unknown function {other}")),
//!         }
//!     }
//! }
//! ```
//!
//! ## Cargo features
//!
//! - `tls`: serving TLS and mutual TLS with rustls (`server::TlsConfig`, the TLS variables of
//!   [`server`]), for peers that dial the chaincode with TLS: `features = ["tls"]` on the
//!   dependency, or `--features ccaas-shim/tls` for one build. Off by default: CCaaS chaincode is
//!   served in plaintext unless asked otherwise, and without rustls a cold release build takes
//!   about 28% less CPU (15% in debug).
//!   Without it, TLS variables that switch TLS on stop the server at startup with
//!   [`server::ConfigError::TlsNotBuilt`], which names the feature.
//! - `metrics`: Prometheus metrics on their own address (`CHAINCODE_METRICS_ADDRESS`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod burst;
pub mod contract;
mod drain;
mod error;
mod handler;
pub mod identity;
mod into_chaincode;
pub mod json;
mod keys;
mod metrics;
pub mod policy;
pub mod prelude;
mod response;
pub mod server;
mod service;
mod stub;

pub use drain::Drain;
pub use error::{Result, ShimError};
pub use handler::{ConnectionError, PeerCapabilities};
pub use into_chaincode::{AsChaincode, AsContract, IntoChaincode};
pub use keys::{create_composite_key, split_composite_key, EMPTY_KEY_SUBSTITUTE, MAX_UNICODE_RUNE};
pub use response::{Response, ERROR, ERROR_THRESHOLD, OK};
pub use server::run_from_env;
pub use service::{ChaincodeService, InProcessConnection};
pub use stub::{
    ChaincodeStub, HistoryIterator, KeyValue, PageInfo, QueryIterator, StateIterator, VALIDATION_PARAMETER,
};

pub use ccaas_protos as protos;

use std::future::Future;

/// The largest gRPC message, either way (Fabric's peer uses the same 100 MiB limit).
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// A chaincode: the business logic the peer invokes.
///
/// Both methods get the transaction's [`ChaincodeStub`] and return a [`Response`]. A returned
/// error status or a panic fails only that transaction; every transaction runs as its own task,
/// so a slow one never holds up another.
pub trait Chaincode: Send + Sync + 'static {
    /// Called for an `Init` transaction (only when the chaincode definition requires
    /// initialization). The default runs [`invoke`](Chaincode::invoke).
    fn init(&self, stub: &ChaincodeStub) -> impl Future<Output = Response> + Send {
        self.invoke(stub)
    }

    /// Called for every other transaction.
    fn invoke(&self, stub: &ChaincodeStub) -> impl Future<Output = Response> + Send;
}

impl<T: Chaincode> Chaincode for std::sync::Arc<T> {
    fn init(&self, stub: &ChaincodeStub) -> impl Future<Output = Response> + Send {
        (**self).init(stub)
    }

    fn invoke(&self, stub: &ChaincodeStub) -> impl Future<Output = Response> + Send {
        (**self).invoke(stub)
    }
}
