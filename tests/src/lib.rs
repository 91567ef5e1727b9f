//! # ccaas-testkit: a Fabric peer for testing chaincode-as-a-service
//!
//! The test kit plays the **peer's** side of the chaincode shim protocol, so a chaincode can be
//! tested without a Fabric network:
//!
//! * [`model`] — the peer model: the peer's answers to every shim request over an in-memory
//!   [`Ledger`] (world state with versions and history), with Fabric's transaction simulation
//!   (reads see the committed state, never the transaction's own writes; writes are committed
//!   only for an endorsed response), query batches of 100, iterators, the peer's error texts, and
//!   its rule that one transaction has at most one request outstanding.
//! * [`PeerEmulator`] — the model behind a connection: it dials any CCaaS server (plaintext, TLS,
//!   mutual TLS; any language) or drives a `ccaas-shim` chaincode in-process, performs the
//!   registration handshake, and runs transactions, many at once on one stream.
//! * [`conformance`] and [`bench`](mod@bench) — protocol checks and load tests against a running chaincode,
//!   also available as the `ccaas-peer` command.
//! * [`Emulator`] — unit tests of a chaincode in-process: `Emulator::in_process(MyContract)`,
//!   then `submit`/`evaluate` and look at the outcome and the ledger (see [`unit`](mod@unit)).
//! * [`testing`] — ready-made test chaincodes and TLS material.
//!
//! ```
//! use ccaas_shim::{Chaincode, ChaincodeStub, Response};
//! use ccaas_testkit::PeerEmulator;
//!
//! struct Counter;
//! impl Chaincode for Counter {
//!     async fn invoke(&self, stub: &ChaincodeStub) -> Response {
//!         let current = match stub.get_state("count").await {
//!             Ok(value) => value.map(|v| String::from_utf8_lossy(&v).parse::<u64>().unwrap_or(0)).unwrap_or(0),
//!             Err(e) => return Response::error(e.to_string()),
//!         };
//!         let next = (current + 1).to_string();
//!         stub.put_state("count", next.clone()).await.map(|_| next).into()
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let peer = PeerEmulator::builder().chaincode_name("counter").connect_chaincode(Counter).await.unwrap();
//! peer.invoke("inc", ccaas_testkit::NO_ARGS).await.unwrap();
//! let outcome = peer.invoke("inc", ccaas_testkit::NO_ARGS).await.unwrap();
//! assert_eq!(outcome.payload_str(), "2");
//! assert_eq!(peer.ledger().get("counter", "count").unwrap(), "2");
//! assert!(peer.violations().is_empty());
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod conformance;
mod emulator;
mod error;
pub mod model;
pub mod testing;
pub mod transcript;
pub mod unit;

pub use emulator::{
    CommitStatus, EmulatorBuilder, Identity, IdentityBuilder, PeerEmulator, Target, TlsOptions, TxBuilder, TxOutcome,
    MAX_MESSAGE_SIZE,
};
pub use error::EmulatorError;
pub use model::ledger::{HistoryEntry, KvRead, KvWrite, Ledger, RangeQueryInfo, Version, VersionedValue};
pub use model::{ModelStats, PeerConfig, PeerModel, StateDatabase, TxKey, Violation};
pub use transcript::{Direction, Transcript, TranscriptEntry, TranscriptHook};
pub use unit::{Emulator, IntoChaincode, NO_ARGS};

/// Bytes as text for display: UTF-8 as is (control characters escaped), anything else as hex.
pub fn printable(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                if c.is_control() {
                    out.extend(c.escape_default());
                } else {
                    out.push(c);
                }
            }
            out
        }
        Err(_) => format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

/// The README's Rust snippets, compiled (and run where they can be) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// docs/writing-chaincode.md's Rust snippets, as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/writing-chaincode.md")]
pub struct WritingChaincodeDoctests;

/// docs/testing.md's Rust snippets, as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/testing.md")]
pub struct TestingDoctests;
