//! The test kit's integration tests, linked into one test binary: one link instead of one per file
//! keeps the debug build small and fast (each file below is its own module, with its own subject).

mod support;

mod asset_transfer_bench;
mod cli;
mod collection_policy;
mod concurrency;
mod conformance;
mod disconnect;
mod dockerfiles;
mod env_conventions;
mod faults;
mod fidelity;
mod handshake;
mod identities;
mod init_required;
mod package_tls;
mod phantom_reads;
mod process_shutdown;
mod protocol_raw;
mod queries;
mod readme;
mod simulation;
mod stub_batching;
mod stub_cc2cc;
mod stub_metadata;
mod stub_pagination;
mod stub_private;
mod stub_proposal;
mod testbed_wrong_id;
mod tls;
mod token_contract;
mod unit_api;
