//! ccaas-deploy against a real Fabric 2.5 network (the fabric-testbed): each test group starts
//! its own testbed (own state directory and port base) and wipes it afterwards.
//!
//! Port bases: 2050 and 4550 (invoke), 9550 (policy, 3 orgs), 12050 (errors), 14550 and 29550
//! (mtls), 17050 (one_org), 19550 (status), 22050 (readme), 24550 (pipelines), 27050 (two_orgs), and for one org
//! 1100, 1300 and 1500 (races; k8s kill_rerun: 1700, hlf: 3050; the testkit's testbed_wrong_id: 1900): a one-org testbed uses only base..base+3
//! and base+2393..base+2394, which no other base uses. A testbed of up to 2 orgs uses
//! base..base+2397, so bases 2500 apart never overlap; one of 3 orgs also uses base+4001 and
//! base+4002 (9550's: 13551, 13552, between the others' ports). All stay below Linux's ephemeral
//! range (32768-60999), where any client socket may hold a port and make `up` refuse it.
//! Chaincode servers listen between the ranges (6001-6103, 9611, 11001, 14501, 15001, 15002,
//! 19611-19612, 25001, 29501) or on docs/deploying.md's 9999 (races starts none).

#[path = "../common/cargo_env.rs"]
mod cargo_env;
#[path = "../common/doc_block.rs"]
mod doc_block;
mod errors;
mod invoke;
#[path = "../common/kill.rs"]
mod kill;
mod mtls;
mod one_org;
mod pipelines;
mod policy;
mod races;
mod readme;
#[path = "../common/registry.rs"]
mod registry_server;
mod status;
mod support;
mod two_orgs;

use std::path::Path;

use ccaas_package::{build_package, write_package_atomically, BuiltPackage, ConnectionSpec, PackageSpec};

/// Builds a ccaas package with the packager library and writes it to `dir/<file>`.
pub fn package(dir: &Path, file: &str, label: &str, port: u16) -> (std::path::PathBuf, BuiltPackage) {
    let built = build_package(&PackageSpec::ccaas(label, ConnectionSpec::new(format!("127.0.0.1:{port}")))).unwrap();
    let path = dir.join(file);
    write_package_atomically(&path, &built).unwrap();
    (path, built)
}

/// The peer CLI's `querycommitted -O json` for `basic`.
pub fn querycommitted(t: &support::Testbed) -> serde_json::Value {
    let out =
        t.peer_cli(1, &["lifecycle", "chaincode", "querycommitted", "-C", "mychannel", "-n", "basic", "-O", "json"]);
    assert!(out.status.success(), "querycommitted: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
