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
//!
//! # Source layout
//!
//! The modules above are grouped by concern in the source tree, and re-exported here so that
//! their paths stay flat (`ccaas_deploy::lifecycle`, not `ccaas_deploy::fabric::lifecycle`):
//!
//! * `fabric/`: [`client`], [`config`] and [`network_config`], [`identity`], [`proposal`],
//!   [`invoke`], [`lifecycle`], [`plan`], [`commit_policy`], [`policy`], [`definition`],
//!   [`in_flight`];
//! * `oci/`: [`image`], [`layout`] (with `build-static`'s `hot_functions.txt`), [`registry`],
//!   [`registry_auth`];
//! * `kubernetes/`: [`render`], [`rollout`], [`hlf`];
//! * at the root, what uses them ([`up`]'s file, [`status`]) and what they share: [`Error`],
//!   [`deadline`], [`limits`].

mod error;
mod fabric;
mod hints;
mod kubernetes;
mod oci;

pub mod deadline;
pub mod limits;
pub mod status;
pub mod up;

pub use error::{Error, Kind, Result};
pub use fabric::{
    client, commit_policy, config, definition, identity, in_flight, invoke, lifecycle, network_config, plan, policy,
    proposal,
};
pub use kubernetes::{hlf, render, rollout};
pub use oci::{image, layout, registry, registry_auth};
