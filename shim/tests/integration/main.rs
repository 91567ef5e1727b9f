//! ccaas-shim's integration tests, linked into one test binary (one link instead of one per file).
//! `server_signals` stays its own binary: it sends signals to its own process. `contract_ui` is
//! trybuild's.

mod contract_support;
mod server_support;

mod contract_compat;
mod contract_go_names;
mod contract_hooks;
mod contract_metadata;
mod contract_routing;
mod identity_attributes;
mod identity_ed25519;
mod identity_id;
mod policy_statebased;
// Configuration from the environment, most of it TLS; and the transports: with the `tls` feature
// (on in `cargo test --workspace`, whose test kit enables it).
#[cfg(feature = "tls")]
mod server_config;
mod server_faults;
mod server_keepalive;
mod server_limits;
mod server_metrics;
mod server_shutdown;
#[cfg(feature = "tls")]
mod server_transport;
