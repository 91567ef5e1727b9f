//! `status` against real peers: after `lifecycle` on one org (consistent, exit 0), after a
//! re-approval of a package that is not installed (drift, exit 7, naming the package and the
//! peer), and on two orgs before and after the second org's approval.

use std::process::Command;

use serde_json::{json, Value};

use crate::package;
use crate::support::{ok, run, Testbed, DEPLOY};

/// The port base of this group: its two testbeds run one after another.
fn port_base() -> u16 {
    crate::ports::port(crate::ports::testbed::STATUS)
}

fn as_org(t: &Testbed, n: u32) -> Command {
    let mut c = Command::new(DEPLOY);
    c.env_clear().args(["--config", t.var(&format!("ORG{n}_NETWORK_CONFIG")), "--user", "admin"]);
    c
}

#[test]
fn status_after_lifecycle() {
    one_org();
    two_orgs();
}

fn one_org() {
    let Some(t) = Testbed::up("status_one_org", 1, port_base()) else { return };
    let chaincode_port = crate::ports::port(crate::ports::chaincode::STATUS);
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port);
    let id = built.package_id.as_str();
    ok(as_org(&t, 1).args(["lifecycle", "-n", "basic", "-v", "1.0"]).arg(&pkg));

    let out = ok(as_org(&t, 1).args(["status", "-n", "basic"]));
    for line in [
        "basic on channel mychannel, for Org1MSP".to_string(),
        "committed: version 1.0 sequence 1 (approvals: Org1MSP=approved)".into(),
        format!("Org1MSP approved version 1.0 at sequence 1 with package {id}"),
        "next sequence 2: Org1MSP has approved nothing".into(),
        format!("peer0.org1.example.com: {id} (address 127.0.0.1:{chaincode_port})"),
        "consistent: nothing to do".into(),
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in\n{out}");
    }
    let json: Value =
        serde_json::from_str(&ok(as_org(&t, 1).args(["status", "-n", "basic", "--output", "json"]))).unwrap();
    assert_eq!(json["consistent"], json!(true));
    assert_eq!(json["committed"]["approved"]["package_id"], json!(id));
    assert_eq!(json["addresses"][id], json!(format!("127.0.0.1:{chaincode_port}")));
    assert_eq!(json["peers"][0]["installed"][0]["package_id"], json!(id));

    // Org1 points its peers at a package it never installed: drift, exit 7, and what to do.
    let (_, other) =
        package(dir.path(), "basic-b.tgz", "basic_1.0b", crate::ports::port(crate::ports::chaincode::STATUS_OTHER));
    ok(as_org(&t, 1).args([
        "approve",
        "-n",
        "basic",
        "-v",
        "1.0",
        "--sequence",
        "1",
        "--package-id",
        &other.package_id,
    ]));
    let (code, out, err) = run(as_org(&t, 1).args(["status", "-n", "basic"]));
    assert_eq!(code, 7, "drift exits 7\n{out}\n{err}");
    let expected = format!(
        "drift: package {}, which Org1MSP approved for basic sequence 1, is not installed on peer0.org1.example.com: \
         that peer cannot run basic; install it: `ccaas-deploy install <package file>` (or `ccaas-deploy lifecycle`)",
        other.package_id
    );
    assert!(out.lines().any(|l| l == expected), "no line {expected:?} in\n{out}");
    let (code, out, _) = run(as_org(&t, 1).args(["status", "-n", "basic", "--output", "json"]));
    assert_eq!(code, 7);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["consistent"], json!(false));
    assert_eq!(json["drift"][0]["kind"], json!("not_installed"));
    assert_eq!((json["kind"].as_str(), json["exit_code"].as_u64()), (Some("drift"), Some(7)), "{json}");
    assert!(json["message"].as_str().unwrap().contains("is not installed on peer0.org1.example.com"), "{json}");
}

fn two_orgs() {
    let Some(t) = Testbed::up("status_two_orgs", 2, port_base()) else { return };
    let chaincode_port = crate::ports::port(crate::ports::chaincode::STATUS);
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port);
    let id = built.package_id.as_str();
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0"];
    let (code, _, err) = run(as_org(&t, 1).args(lifecycle).arg(&pkg));
    assert_eq!(code, 3, "{err}");

    // Before Org2's approval: nothing committed, Org1's approval of sequence 1 waits for Org2.
    let out = ok(as_org(&t, 1).args(["status", "-n", "basic"]));
    for line in [
        "committed: nothing (basic is not defined on mychannel)".to_string(),
        format!(
            "next sequence 1: Org1MSP approved version 1.0 at sequence 1 with package {id} (approvals of the same \
             definition: Org1MSP=approved, Org2MSP=not approved)"
        ),
        "consistent: nothing to do".into(),
    ] {
        assert!(out.lines().any(|l| l == line), "no line {line:?} in\n{out}");
    }

    ok(as_org(&t, 2).args(lifecycle).arg(&pkg));
    for n in [2, 1] {
        // Org2's commit reaches Org1's peer a moment later.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let json = loop {
            let json: Value =
                serde_json::from_str(&ok(as_org(&t, n).args(["status", "-n", "basic", "--output", "json"]))).unwrap();
            if json["committed"]["sequence"] == json!(1) || std::time::Instant::now() > deadline {
                break json;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        assert_eq!(json["org"], json!(format!("Org{n}MSP")));
        assert_eq!(json["committed"]["sequence"], json!(1), "{json}");
        assert_eq!(json["committed"]["approvals"], json!({"Org1MSP": true, "Org2MSP": true}));
        assert_eq!(json["committed"]["approved"]["package_id"], json!(id));
        assert_eq!(json["next"], json!({"sequence": 2, "approved": null, "approvals": {}}));
        assert_eq!(json["peers"][0]["peer"], json!(format!("peer0.org{n}.example.com")));
        assert_eq!(json["consistent"], json!(true));
    }
}
