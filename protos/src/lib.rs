//! Hyperledger Fabric's wire messages for fabric-ccaas.
//!
//! Package names and field numbers match upstream Fabric exactly, so these types interoperate with
//! real peers, orderers and gateways. Every `bytes` field is a [`bytes::Bytes`], so payloads are
//! shared rather than copied.
//!
//! # Generated code
//!
//! The `.proto` sources live in `proto/`; the Rust code generated from them (prost messages,
//! tonic clients and servers, see [Features](#features)) is committed in `src/generated/`, so building this crate runs no
//! protobuf compiler (neither `protoc` nor a build script). The generator, `protox` and
//! `tonic-prost-build` at exact versions, is a dev-dependency: the test `tests/generated.rs`
//! regenerates the code and fails if it differs from the committed files. After changing a
//! `.proto` file, or the generator's version, rewrite them with:
//!
//! ```text
//! CCAAS_REGENERATE_PROTOS=1 cargo test -p ccaas-protos --test generated
//! ```
//!
//! The generator writes out what prost's derives (`prost::Message`, `Oneof`, `Enumeration`)
//! would generate (`tests/expand`), so this crate depends on prost without its `derive` feature
//! and building it runs no proc-macro; the well-known type Fabric's messages use,
//! `google.protobuf.Timestamp`, is generated here too ([`google::protobuf::Timestamp`]), instead
//! of coming from `prost-types`. The test `tests/equivalence.rs` checks on random valid and
//! damaged wire bytes of every message that the written-out code behaves exactly as the derives
//! (decoding, errors, encoding, `Debug`).
//!
//! # Features
//!
//! The messages need only prost. The tonic gRPC code is optional, so a chaincode (whose shim
//! serves its one gRPC service on HTTP/2 itself) builds no tonic:
//!
//! | feature | adds |
//! |---|---|
//! | `client` | the tonic clients (`protos::chaincode_client::ChaincodeClient`, `gateway::gateway_client::GatewayClient`, ...) |
//! | `server` | the tonic servers (`protos::chaincode_server::ChaincodeServer`, `gateway::gateway_server::GatewayServer`, ...) |
//!
//! A new package (a `.proto` file added to the list in `tests/generated.rs`) gets its module here
//! after that command wrote its file: the test builds this crate, so it must compile without it.
//!
//! Modules follow the proto packages:
//!
//! | module | package | highlights |
//! |---|---|---|
//! | [`protos`] | `protos` (peer) | [`protos::ChaincodeMessage`], the `Chaincode` / `ChaincodeSupport` / `Endorser` services |
//! | [`common`] | `common` | envelopes, headers, blocks, signature policies |
//! | [`msp`] | `msp` | [`msp::SerializedIdentity`] |
//! | [`queryresult`] | `queryresult` | [`queryresult::Kv`], [`queryresult::KeyModification`] |
//! | [`lifecycle`] | `lifecycle` | `_lifecycle` arguments and results |
//! | [`gateway`] | `gateway` | the Gateway service |
//! | [`orderer`] | `orderer` | atomic broadcast |
//! | [`google::protobuf`] | `google.protobuf` | [`google::protobuf::Timestamp`] (with `From<SystemTime>`) |
//! | [`grpc::health::v1`] | `grpc.health.v1` (gRPC's, not Fabric's) | the `Health` service the chaincode server answers probes with |
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
    include!("generated/common.rs");
}
/// Fabric's `msp` package.
pub mod msp {
    include!("generated/msp.rs");
}
/// Fabric's `queryresult` package.
pub mod queryresult {
    include!("generated/queryresult.rs");
}
/// Fabric's `orderer` package.
pub mod orderer {
    include!("generated/orderer.rs");
}
/// Fabric's `protos` package: the peer and the chaincode shim protocol.
pub mod protos {
    include!("generated/protos.rs");
}
/// Fabric's `lifecycle` package.
pub mod lifecycle {
    include!("generated/lifecycle.rs");
}
/// Fabric's `gateway` package.
pub mod gateway {
    include!("generated/gateway.rs");
}
/// Protocol Buffers' well-known types that Fabric's messages use, generated here (not taken from
/// `prost-types`).
pub mod google {
    /// `google.protobuf`.
    pub mod protobuf {
        include!("generated/google.protobuf.rs");
    }
}
/// gRPC's standard packages.
pub mod grpc {
    /// gRPC's health checking protocol.
    pub mod health {
        /// `grpc.health.v1`: the `Health` service (`Check`, `Watch`) that probes call.
        pub mod v1 {
            include!("generated/grpc.health.v1.rs");
        }
    }
}

pub use prost;

impl From<std::time::SystemTime> for google::protobuf::Timestamp {
    /// The time as seconds and nanoseconds since the Unix epoch, nanoseconds in `0..1_000_000_000`
    /// (a time before the epoch has negative seconds and positive nanoseconds, as protobuf defines).
    fn from(time: std::time::SystemTime) -> Self {
        let (seconds, nanos) = match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => (after.as_secs() as i64, after.subsec_nanos() as i32),
            Err(before) => {
                let before = before.duration();
                match before.subsec_nanos() {
                    0 => (-(before.as_secs() as i64), 0),
                    nanos => (-(before.as_secs() as i64) - 1, 1_000_000_000 - nanos as i32),
                }
            }
        };
        Self { seconds, nanos }
    }
}
