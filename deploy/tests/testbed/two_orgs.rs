//! Two orgs, each with its own hlf-operator network config and admin: Org1 installs and
//! approves and is told that Org2's approval is missing (exit 3); Org2 does the same and
//! commits; the chaincode answers through both peers; Org1's second run does nothing. Then a
//! definition change through the orderer, with explicit endorsements from both orgs' peers.

use serde_json::Value;

use crate::support::{ok, run, Testbed};
use crate::{package, querycommitted};

#[test]
fn two_orgs_each_with_its_own_network_config() {
    let Some(mut t) = Testbed::up("two_orgs", 2, crate::ports::port(crate::ports::testbed::TWO_ORGS)) else { return };
    let chaincode_port = crate::ports::port(crate::ports::chaincode::TWO_ORGS);
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port);
    let configs = [t.var("ORG1_NETWORK_CONFIG").to_string(), t.var("ORG2_NETWORK_CONFIG").to_string()];
    let as_org = |n: usize| {
        let mut c = std::process::Command::new(crate::support::DEPLOY);
        c.env_clear();
        c.args(["--config", configs[n - 1].as_str(), "--user", "admin"]);
        c.args(["lifecycle", "-n", "basic", "-v", "1.0"]).arg(&pkg);
        c
    };

    let (code, out, err) = run(as_org(1).args(["--output", "json"]));
    assert_eq!(code, 3, "Org2's approval is missing: exit 3\n{out}\n{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["waiting_for"], serde_json::json!(["Org2MSP"]));
    // The failure's fields, with the result's: waiting, not worth re-running as is, and Org1's approval.
    assert_eq!((json["kind"].as_str(), json["exit_code"].as_u64()), (Some("waiting"), Some(3)), "{json}");
    assert_eq!(json["retryable"], false);
    let approve = json["done"].as_array().unwrap().iter().find(|d| d["action"] == "approve").expect("approved");
    assert_eq!(json["tx_ids"], serde_json::json!([approve["tx"]["tx_id"]]), "{json}");
    assert!(
        err.contains("then stop: basic sequence 1 needs the approval of Org2MSP before it can be committed"),
        "{err}"
    );
    assert!(
        err.contains(
            "commit rule: LifecycleEndorsement: MAJORITY Endorsement: 1 of 2 orgs approved (Org1MSP): not met: needs \
             the approval of Org2MSP"
        ),
        "{err}"
    );
    let (code, out, _) = run(&mut as_org(1));
    assert_eq!(code, 3);
    assert!(out.contains("waiting for approvals of basic sequence 1: it needs the approval of Org2MSP"), "{out}");

    // Committing by hand before Org2 approved: refused up front, naming Org2.
    let mut commit = std::process::Command::new(crate::support::DEPLOY);
    commit.env_clear().args(["--config", configs[0].as_str(), "--user", "admin"]);
    commit.args(["commit", "-n", "basic", "-v", "1.0", "--sequence", "1"]);
    let (code, out, err) = run(&mut commit);
    assert_eq!(code, 3, "{out}{err}");
    let (_, json, _) = run(commit.arg("--output").arg("json"));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!((json["kind"].as_str(), json["exit_code"].as_u64()), (Some("waiting"), Some(3)), "{json}");
    assert!(
        err.contains(
            "error: cannot commit basic sequence 1 yet: LifecycleEndorsement (MAJORITY Endorsement: 1 of 2 orgs \
             approved (Org1MSP)) needs the approval of Org2MSP; Org2MSP approves with `ccaas-deploy approve`"
        ),
        "{err}"
    );

    // Org2's admin runs it from a shell still set up for Org1's peer CLI: the network config wins.
    let out = ok(as_org(2).envs(t.peer_cli_env(1)));
    assert!(out.contains("already done: Org1MSP") || out.contains("commit basic version 1.0 at sequence 1"), "{out}");
    assert!(out.contains("done: basic version 1.0 sequence 1"), "{out}");

    let qc = querycommitted(&t);
    assert_eq!(qc["sequence"].as_i64(), Some(1));
    assert_eq!(qc["approvals"], serde_json::json!({"Org1MSP": true, "Org2MSP": true}));

    t.start_chaincode(chaincode_port, &built.package_id);
    assert!(t.invoke_and_query(2).contains(r#""ID":"asset1""#));

    let out = ok(&mut as_org(1));
    assert!(out.contains("nothing to do"), "{out}");

    // Without the Gateway: version 2.0 through the orderer, with the network config of every org
    // and both peers named, so that the commit carries an endorsement from each org's peer.
    let all = t.var("NETWORK_CONFIG").to_string();
    let via_orderer = |msp: &str| {
        let mut c = std::process::Command::new(crate::support::DEPLOY);
        c.env_clear().args(["--config", all.as_str(), "--user", "admin", "--msp-id", msp]);
        c.args(["--peer", "peer0.org1.example.com", "--peer", "peer0.org2.example.com", "--via-orderer"]);
        c.args(["lifecycle", "-n", "basic", "-v", "2.0"]).arg(&pkg);
        c
    };
    let (code, out, err) = run(&mut via_orderer("Org1MSP"));
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("approve basic version 2.0 at sequence 2 for Org1MSP"), "{out}");
    assert!(!out.contains("install package"), "the package is on Org1's peer already: {out}");
    let out = ok(&mut via_orderer("Org2MSP"));
    assert!(out.contains("commit basic version 2.0 at sequence 2 on mychannel"), "{out}");
    let qc = querycommitted(&t);
    assert_eq!((qc["sequence"].as_i64(), qc["version"].as_str()), (Some(2), Some("2.0")));
    assert_eq!(qc["approvals"], serde_json::json!({"Org1MSP": true, "Org2MSP": true}));
    assert!(t.invoke_and_query(2).contains(r#""ID":"asset1""#));
}
