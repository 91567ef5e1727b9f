//! Three orgs: the commit happens as soon as the channel's `LifecycleEndorsement` policy is met,
//! as the peer CLI would do it, and not when every org has approved.
//!
//! * `MAJORITY Endorsement` (the default): Org1 approves and waits (exit 3), and `commit` as Org1
//!   is refused naming who could approve; Org2's `--plan` names the rule that decides, then Org2
//!   approves and commits with 2 of 3 approvals; the chaincode answers through Org1's and Org2's
//!   peers; Org3 later installs and approves the committed definition (nothing to commit). Then
//!   version 2.0 through the orderer with every org's peer configured: only the approving orgs'
//!   peers endorse the commit (Org3's would refuse).
//! * `ANY Endorsement`: Org1's `lifecycle` commits alone.
//! * `ALL Endorsement`: Org1 and Org2 wait for Org3; once Org3 approves, `commit` as Org1 commits.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::package;
use crate::support::{ok, run, Testbed, DEPLOY};

/// The port base of this group (3 orgs: B..B+3, B+2001, B+2002, B+4001, B+4002, B+2393..B+2396); the
/// three policies' testbeds run one after another.
fn port_base() -> u16 {
    crate::ports::port(crate::ports::testbed::POLICY)
}

/// The chaincode server.
fn chaincode_port() -> u16 {
    crate::ports::port(crate::ports::chaincode::POLICY)
}

fn as_org(t: &Testbed, n: u32) -> Command {
    let mut c = Command::new(DEPLOY);
    c.env_clear().args(["--config", t.var(&format!("ORG{n}_NETWORK_CONFIG")), "--user", "admin"]);
    c
}

/// `querycommitted -O json` of `basic` through org `n`'s peer, once that peer has sequence `seq`
/// (another org's commit reaches each peer a moment apart).
fn committed_on(t: &Testbed, n: u32, seq: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = t
            .peer_cli(n, &["lifecycle", "chaincode", "querycommitted", "-C", "mychannel", "-n", "basic", "-O", "json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if v["sequence"].as_i64() == Some(seq) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "peer of org {n} never saw basic at sequence {seq}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn commit_when_the_lifecycle_policy_is_met() {
    majority();
    any();
    all();
}

fn majority() {
    let Some(mut t) = Testbed::up("policy_majority", 3, port_base()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port());
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0"];

    let (code, out, err) = run(as_org(&t, 1).args(lifecycle).arg(&pkg));
    assert_eq!(code, 3, "1 of 3 does not meet MAJORITY\n{out}\n{err}");
    assert!(
        out.contains(
            "commit rule: LifecycleEndorsement: MAJORITY Endorsement: 1 of 3 orgs approved (Org1MSP): not met: needs 1 \
             more approval, from any of Org2MSP, Org3MSP"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "waiting for approvals of basic sequence 1: it needs 1 more approval, from any of Org2MSP, Org3MSP"
        ),
        "{out}"
    );

    let (code, out, err) = run(as_org(&t, 1).args(["commit", "-n", "basic", "-v", "1.0", "--sequence", "1"]));
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains(
            "error: cannot commit basic sequence 1 yet: LifecycleEndorsement (MAJORITY Endorsement: 1 of 3 orgs approved \
             (Org1MSP)) needs 1 more approval, from any of Org2MSP, Org3MSP; they approve with `ccaas-deploy approve`"
        ),
        "{err}"
    );

    let plan = ok(as_org(&t, 2).args(lifecycle).arg(&pkg).arg("--plan"));
    assert!(
        plan.contains(
            "commit rule: LifecycleEndorsement: MAJORITY Endorsement: 2 of 3 orgs approved (Org1MSP, Org2MSP): met"
        ),
        "{plan}"
    );
    assert!(plan.contains("commit basic version 1.0 at sequence 1 on mychannel"), "{plan}");
    assert!(
        plan.contains(
            "endorsement policy of basic (/Channel/Application/Endorsement): MAJORITY Endorsement: 2 of 3 orgs approved \
             (Org1MSP, Org2MSP): met; once committed, the approving orgs can endorse its transactions"
        ),
        "{plan}"
    );
    let json: Value =
        serde_json::from_str(&ok(as_org(&t, 2).args(lifecycle).arg(&pkg).args(["--output", "json"]))).unwrap();
    assert_eq!(json["waiting_for"], json!([]));
    assert_eq!(json["plan"]["commit_rule"]["met"], json!(true));
    assert_eq!(json["plan"]["commit_rule"]["approved"], json!(["Org1MSP", "Org2MSP"]));
    assert!(json["done"].as_array().unwrap().iter().any(|d| d["action"] == "commit"), "{json}");
    let qc = committed_on(&t, 1, 1);
    assert_eq!(qc["approvals"], json!({"Org1MSP": true, "Org2MSP": true, "Org3MSP": false}));

    t.start_chaincode(chaincode_port(), &built.package_id);
    assert!(t.invoke_and_query(2).contains(r#""ID":"asset1""#));

    // Org3 joins later: install, approve the committed definition, nothing to commit.
    committed_on(&t, 3, 1);
    let out = ok(as_org(&t, 3).args(lifecycle).arg(&pkg));
    assert!(out.contains("install package basic_1.0:"), "{out}");
    assert!(out.contains("approve basic version 1.0 at sequence 1 for Org3MSP"), "{out}");
    assert!(!out.contains("commit basic"), "nothing to commit: {out}");
    assert_eq!(committed_on(&t, 1, 1)["approvals"], json!({"Org1MSP": true, "Org2MSP": true, "Org3MSP": true}));
    assert!(ok(as_org(&t, 3).args(lifecycle).arg(&pkg)).contains("nothing to do"));

    // Through the orderer with every org's peer configured: Org1 and Org2 approve 2.0, and only
    // their peers endorse the commit (Org3's peer refuses a definition Org3 did not approve).
    let all = t.var("NETWORK_CONFIG").to_string();
    let via_orderer = |msp: &str| {
        let mut c = Command::new(DEPLOY);
        c.env_clear().args(["--config", all.as_str(), "--user", "admin", "--msp-id", msp, "--via-orderer"]);
        for n in 1..=3 {
            c.args(["--peer", &format!("peer0.org{n}.example.com")]);
        }
        c.args(["lifecycle", "-n", "basic", "-v", "2.0"]).arg(&pkg);
        c
    };
    let (code, out, err) = run(&mut via_orderer("Org1MSP"));
    assert_eq!(code, 3, "{out}{err}");
    committed_on(&t, 2, 1);
    let out = ok(&mut via_orderer("Org2MSP"));
    assert!(out.contains("commit basic version 2.0 at sequence 2 on mychannel"), "{out}");
    let qc = committed_on(&t, 1, 2);
    assert_eq!(qc["version"], json!("2.0"));
    assert_eq!(qc["approvals"], json!({"Org1MSP": true, "Org2MSP": true, "Org3MSP": false}));
}

fn any() {
    let Some(t) = Testbed::up_with("policy_any", 3, port_base(), &[("FABRIC_TESTBED_LIFECYCLE_POLICY", "ANY")]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (pkg, _) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port());
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0"];
    let plan = ok(as_org(&t, 1).args(lifecycle).arg(&pkg).arg("--plan"));
    assert!(
        plan.contains("commit rule: LifecycleEndorsement: ANY Endorsement: 1 of 3 orgs approved (Org1MSP): met"),
        "{plan}"
    );
    let out = ok(as_org(&t, 1).args(lifecycle).arg(&pkg));
    assert!(out.contains("commit basic version 1.0 at sequence 1 on mychannel"), "{out}");
    assert!(out.contains("done: basic version 1.0 sequence 1"), "{out}");
    let qc = committed_on(&t, 1, 1);
    assert_eq!(qc["approvals"], json!({"Org1MSP": true, "Org2MSP": false, "Org3MSP": false}));
}

fn all() {
    let Some(t) = Testbed::up_with("policy_all", 3, port_base(), &[("FABRIC_TESTBED_LIFECYCLE_POLICY", "ALL")]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port());
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0"];
    let (code, out, _) = run(as_org(&t, 1).args(lifecycle).arg(&pkg));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("it needs the approvals of Org2MSP, Org3MSP"), "{out}");
    let (code, out, _) = run(as_org(&t, 2).args(lifecycle).arg(&pkg));
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(
            "commit rule: LifecycleEndorsement: ALL Endorsement: 2 of 3 orgs approved (Org1MSP, Org2MSP): not met: needs \
             the approval of Org3MSP"
        ),
        "{out}"
    );
    // Org3 approves by hand; then `commit` as Org1 finds the policy met.
    ok(as_org(&t, 3).arg("install").arg(&pkg));
    ok(as_org(&t, 3).args([
        "approve",
        "-n",
        "basic",
        "-v",
        "1.0",
        "--sequence",
        "1",
        "--package-id",
        &built.package_id,
    ]));
    let out = ok(as_org(&t, 1).args(["commit", "-n", "basic", "-v", "1.0", "--sequence", "1"]));
    assert!(out.contains("committed basic version 1.0 sequence 1"), "{out}");
    assert!(
        out.contains(
            "commit rule: LifecycleEndorsement: ALL Endorsement: 3 of 3 orgs approved (Org1MSP, Org2MSP, Org3MSP): met"
        ),
        "{out}"
    );
    assert_eq!(committed_on(&t, 1, 1)["approvals"], json!({"Org1MSP": true, "Org2MSP": true, "Org3MSP": true}));
}
