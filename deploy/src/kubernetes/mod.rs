//! Kubernetes: the manifests of the chaincode server, applying them and waiting for the rollout,
//! and the hlf-operator target.

pub mod hlf;
pub mod render;
pub mod rollout;
mod rollout_error;
mod workload;
