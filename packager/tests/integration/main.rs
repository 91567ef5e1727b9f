//! ccaas-package's integration tests, linked into one test binary (one link instead of one per file).

mod common;

mod cli;
mod determinism;
mod golden;
mod limits;
mod peer_rules;
mod roundtrip;
mod tls;
