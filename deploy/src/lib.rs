#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Deploy chaincode-as-a-service to Hyperledger Fabric: signing identities, signed proposals,
//! gRPC over rustls to peers, the Gateway and the orderer, and the chaincode lifecycle
//! (install, approve, commit) planned and done idempotently.
//!
//! * [`config::Sources`] → [`config::Target`]: the identity and endpoints from an hlf-operator
//!   network config, a connection profile plus an MSP folder, PEM files, or the `peer` CLI's
//!   environment, resolved once.
//! * [`identity::Identity`] signs as Fabric expects (ECDSA P-256, SHA-256, DER, low-S);
//!   [`proposal`] builds proposals and transactions exactly as the `peer` CLI does.
//! * [`invoke`] calls a chaincode through a peer's Gateway (`query`, `invoke`).
//! * [`lifecycle::Session`] makes the `_lifecycle` calls; [`plan`] compares what is wanted with
//!   what the channel has and does only what is missing, committing as soon as the channel's
//!   `LifecycleEndorsement` policy is met ([`commit_policy`]).
//! * [`render`] makes the Kubernetes manifests (Deployment, Service, TLS Secret, or an
//!   hlf-operator `FabricChaincode`) of the chaincode server; [`image`] assembles its OCI image.
//! * [`rollout`] applies them and waits for the rollout; [`hlf`] is `up`'s hlf-operator target
//!   (what the operator makes of a `FabricChaincode`, and waiting for it).
//! * [`status`] shows a chaincode for one org (definition, approvals, peers, servers) and what
//!   drifted.

pub mod client;
pub mod commit_policy;
pub mod config;
pub mod deadline;
pub mod definition;
mod error;
mod hints;
pub mod hlf;
pub mod identity;
pub mod image;
pub mod in_flight;
pub mod invoke;
pub mod layout;
pub mod lifecycle;
pub mod limits;
pub mod network_config;
pub mod plan;
pub mod policy;
pub mod proposal;
pub mod registry;
pub mod registry_auth;
pub mod render;
pub mod rollout;
pub mod status;
pub mod up;

pub use error::{Error, Kind, Result};
