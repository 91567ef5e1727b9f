//! The fixed ports of the tests that start real networks on 127.0.0.1 (fabric-testbed, k8s-testbed,
//! `ccaas-deploy dev`) and the chaincode servers their peers dial. Each test process takes a slot of
//! its own, so two test runs on one machine (or two test binaries at once) never share a port: a
//! test's port is its slot's base plus a fixed offset from the table below.
//!
//! The slots are ccaas-testkit's (`ccaas_testkit::testing::ports`): six slots of 4500 ports from
//! 2000, below Linux's ephemeral range, each owned by the process listening on its last port.
//!
//! Offsets, in each slot:
//! - fabric-testbed port bases, 10 apart ([`testbed`]). A testbed at base `B` uses `B..B+3` and
//!   `B+2393..B+2393+orgs`, `B+2001..B+2002` with a second org and `B+4001..B+4002` with a third:
//!   bases 10 apart never share a port, and the 20 bases (0-190) use 0-193, 2001-2192, 2393-2587
//!   and, for the 3-org base 100, 4101-4102.
//! - chaincode servers the testbeds' peers dial: 1001-1099 ([`chaincode`]).
//! - k8s-testbed API servers 1300-1400, with their etcd at API-64 and API-63 ([`k8s`]).
//! - `ccaas-deploy dev` networks, 16 ports each: 1500 and 1600 ([`dev`]).
#![allow(dead_code)] // each test binary uses its own part of the table

pub use ccaas_testkit::testing::ports::port;

/// fabric-testbed port bases (`FABRIC_TESTBED_PORT_BASE`), one per test group.
pub mod testbed {
    pub const RACES: u16 = 0;
    pub const SIGTERM: u16 = 10;
    pub const KILL: u16 = 20;
    pub const K8S_KILL: u16 = 30;
    pub const WRONG_ID: u16 = 40;
    pub const INVOKE_ONE_ORG: u16 = 50;
    pub const K8S_HLF: u16 = 60;
    pub const K8S_E2E: u16 = 70;
    pub const INVOKE_TWO_ORGS: u16 = 80;
    pub const K8S_UP: u16 = 90;
    /// Three orgs: also uses 4101-4102.
    pub const POLICY: u16 = 100;
    pub const ERRORS: u16 = 110;
    pub const MTLS: u16 = 120;
    pub const ONE_ORG: u16 = 130;
    pub const STATUS: u16 = 140;
    pub const README: u16 = 150;
    pub const PIPELINES: u16 = 160;
    pub const K8S_UP_WAIT: u16 = 170;
    pub const TWO_ORGS: u16 = 180;
    pub const ED25519: u16 = 190;
}

/// Chaincode servers (and one address where nothing listens).
pub mod chaincode {
    pub const INVOKE_BASIC: u16 = 1001;
    pub const INVOKE_PRIVATE: u16 = 1002;
    /// The two-org invoke test's servers: this one and the next few.
    pub const INVOKE_TWO_ORGS: u16 = 1010;
    pub const POLICY: u16 = 1021;
    pub const ERRORS: u16 = 1031;
    /// Nothing listens here (the errors test's unreachable peer).
    pub const ERRORS_NOTHING: u16 = 1039;
    pub const MTLS: u16 = 1041;
    pub const ED25519: u16 = 1042;
    pub const ONE_ORG: u16 = 1051;
    pub const ONE_ORG_NEXT: u16 = 1052;
    pub const STATUS: u16 = 1061;
    /// The status test's second package address (never started).
    pub const STATUS_OTHER: u16 = 1062;
    pub const TWO_ORGS: u16 = 1071;
    pub const WRONG_ID: u16 = 1081;
    /// docs/deploying.md's lifecycle section, run with this port for the page's 9999.
    pub const README: u16 = 1091;
    /// docs/deploying.md's Kubernetes section, run with this port for the page's 9997.
    pub const K8S_E2E: u16 = 1092;
}

/// k8s-testbed API ports (`K8S_TESTBED_API_PORT`); etcd takes API-64 and API-63.
pub mod k8s {
    pub const ROLLOUT: u16 = 1300;
    pub const UP: u16 = 1310;
    pub const E2E: u16 = 1320;
    pub const OWNERSHIP: u16 = 1330;
    pub const API_ERRORS: u16 = 1340;
    pub const UP_WAIT: u16 = 1350;
    pub const KILL: u16 = 1360;
    pub const HLF: u16 = 1400;
}

/// `ccaas-deploy dev --port-base` networks (16 ports each).
pub mod dev {
    pub const ONE_ORG: u16 = 1500;
    pub const TWO_ORGS: u16 = 1600;
}
