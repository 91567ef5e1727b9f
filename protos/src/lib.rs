//! Hyperledger Fabric's wire messages for fabric-ccaas.
//!
//! Package names and field numbers match upstream Fabric exactly, so these types interoperate with
//! real peers, orderers and gateways. The `.proto` sources live in `proto/` and are compiled at
//! build time by `protox`: no `protoc` is needed on any machine. Every `bytes` field is a
//! [`bytes::Bytes`], so payloads are shared rather than copied.
//!
//! Modules follow Fabric's proto packages:
//!
//! | module | Fabric package | highlights |
//! |---|---|---|
//! | [`protos`] | `protos` (peer) | [`protos::ChaincodeMessage`], the `Chaincode` / `ChaincodeSupport` / `Endorser` services |
//! | [`common`] | `common` | envelopes, headers, blocks, signature policies |
//! | [`msp`] | `msp` | [`msp::SerializedIdentity`] |
//! | [`queryresult`] | `queryresult` | [`queryresult::Kv`], [`queryresult::KeyModification`] |
//! | [`lifecycle`] | `lifecycle` | `_lifecycle` arguments and results |
//! | [`gateway`] | `gateway` | the Gateway service |
//! | [`orderer`] | `orderer` | atomic broadcast |
//!
//! ```
//! use ccaas_protos::protos::{chaincode_message::Type, ChaincodeMessage};
//! use prost::Message;
//!
//! let msg = ChaincodeMessage { r#type: Type::Keepalive as i32, txid: "tx1".into(), ..Default::default() };
//! let bytes = msg.encode_to_vec();
//! assert_eq!(ChaincodeMessage::decode(bytes.as_slice()).unwrap().txid, "tx1");
//! ```
#![forbid(unsafe_code)]
#![allow(clippy::all, missing_docs)]

/// Fabric's `common` package.
pub mod common {
    tonic::include_proto!("common");
}
/// Fabric's `msp` package.
pub mod msp {
    tonic::include_proto!("msp");
}
/// Fabric's `queryresult` package.
pub mod queryresult {
    tonic::include_proto!("queryresult");
}
/// Fabric's `orderer` package.
pub mod orderer {
    tonic::include_proto!("orderer");
}
/// Fabric's `protos` package: the peer and the chaincode shim protocol.
pub mod protos {
    tonic::include_proto!("protos");
}
/// Fabric's `lifecycle` package.
pub mod lifecycle {
    tonic::include_proto!("lifecycle");
}
/// Fabric's `gateway` package.
pub mod gateway {
    tonic::include_proto!("gateway");
}

pub use prost;
pub use prost_types;
