//! Fabric: the identity and the endpoints of a network, signed proposals, the peers' Gateway and
//! the orderer, chaincode calls, and the chaincode lifecycle (definitions, policies, the plan).

pub mod client;
pub mod commit_policy;
pub mod config;
pub mod definition;
pub mod identity;
pub mod in_flight;
pub mod invoke;
pub mod lifecycle;
pub mod network_config;
pub mod plan;
pub mod policy;
pub mod proposal;
