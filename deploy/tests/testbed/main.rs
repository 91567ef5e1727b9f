//! ccaas-deploy against a real Fabric 2.5 network (the fabric-testbed): each test group starts
//! its own testbed (own state directory and port base) and wipes it afterwards.
//!
//! Ports: each test group's testbed port base and chaincode ports are offsets in the process's
//! own slot of ports (../common/ports.rs has the table), so two test runs on one machine never
//! share a port.

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
#[path = "../common/ports.rs"]
mod ports;
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
