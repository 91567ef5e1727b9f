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
//! (and in `tests/equivalence.rs`) after that command wrote its file: the test builds this crate,
//! so it must compile without it.
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
//! | [`google::protobuf`] | `google.protobuf` | [`google::protobuf::Timestamp`] (with `From<SystemTime>`, and `Display` as RFC 3339) |
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

impl std::fmt::Display for google::protobuf::Timestamp {
    /// RFC 3339 in UTC, as Go's `time.RFC3339Nano` writes it: `2023-11-14T22:13:20.5Z`, the
    /// fraction without trailing zeros and left out when zero.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Nanoseconds out of 0..1_000_000_000 (not normalized) carried into the seconds.
        let total = i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos);
        let (seconds, nanos) = (total.div_euclid(1_000_000_000), total.rem_euclid(1_000_000_000));
        let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        // The civil date of a day number (days since 1970-01-01), after Howard Hinnant's `civil_from_days`.
        let shifted = days + 719_468; // days since 0000-03-01
        let (era, day_of_era) = (shifted.div_euclid(146_097), shifted.rem_euclid(146_097));
        let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
        let year = era * 400 + year_of_era + i128::from(month <= 2);
        let (hour, minute, second) = (second_of_day / 3_600, second_of_day / 60 % 60, second_of_day % 60);
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")?;
        if nanos != 0 {
            write!(f, ".{}", format!("{nanos:09}").trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}
