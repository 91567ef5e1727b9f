//! One org, driven by the `peer` CLI's environment (no flags), then by the hlf-operator network
//! config: install, approve, commit; a chaincode started with the package ID answers; a second
//! run does nothing; a new package re-approves at the same sequence; a changed definition goes
//! to the next sequence (through the orderer, bypassing the Gateway).

use serde_json::Value;

use crate::support::{ok, run, Testbed};
use crate::{package, querycommitted};

#[test]
fn one_org_lifecycle() {
    let Some(mut t) = Testbed::up("one_org", 1, crate::ports::port(crate::ports::testbed::ONE_ORG)) else { return };
    let (port_a, port_b) = (
        crate::ports::port(crate::ports::chaincode::ONE_ORG),
        crate::ports::port(crate::ports::chaincode::ONE_ORG_NEXT),
    );
    let dir = tempfile::tempdir().unwrap();
    let (pkg_a, a) = package(dir.path(), "a.tgz", "basic_1.0", port_a);
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0"];

    // --plan says what it would do and changes nothing.
    let plan = ok(t.deploy_as_peer_cli(1).args(lifecycle).arg(&pkg_a).args(["--plan", "--output", "json"]));
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let actions: Vec<&str> =
        plan["plan"]["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["install", "approve", "commit"]);
    let installed: Value =
        serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args(["installed", "--output", "json"]))).unwrap();
    assert_eq!(installed[0]["installed"], serde_json::json!([]), "--plan installed nothing");

    // The whole lifecycle, with progress on stdout.
    let out = ok(t.deploy_as_peer_cli(1).args(lifecycle).arg(&pkg_a));
    assert!(out.contains(&format!("install package {} on", a.package_id)), "{out}");
    assert!(out.contains("commit basic version 1.0 at sequence 1 on mychannel"), "{out}");
    assert!(out.ends_with(&format!("done: basic version 1.0 sequence 1 with package {}\n", a.package_id)), "{out}");

    t.start_chaincode(port_a, &a.package_id);
    let asset = t.invoke_and_query(1);
    assert!(asset.contains(r#""ID":"asset1""#), "{asset}");

    // The peer CLI agrees with what we committed.
    let qc = querycommitted(&t);
    assert_eq!((qc["sequence"].as_i64(), qc["version"].as_str()), (Some(1), Some("1.0")));
    assert_eq!(qc["approvals"]["Org1MSP"], Value::Bool(true));
    let ours: Value =
        serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args(["committed", "-n", "basic", "--output", "json"])))
            .unwrap();
    assert_eq!((ours["sequence"].as_i64(), ours["version"].as_str()), (Some(1), Some("1.0")));
    assert_eq!(ours["approvals"], qc["approvals"]);

    // A second run does nothing, and says so.
    let out = ok(t.deploy_as_peer_cli(1).args(lifecycle).arg(&pkg_a));
    assert!(out.contains("nothing to do: basic version 1.0 is committed at sequence 1"), "{out}");
    let json: Value =
        serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args(lifecycle).arg(&pkg_a).args(["--output", "json"])))
            .unwrap();
    assert_eq!(json["plan"]["steps"], serde_json::json!([]));

    // A new package (another address), same definition: install and re-approve at sequence 1,
    // now with the hlf-operator network config and its admin user.
    let (pkg_b, b) = package(dir.path(), "b.tgz", "basic_1.0", port_b);
    let org1_config = t.var("ORG1_NETWORK_CONFIG").to_string();
    let hlf = ["--config", org1_config.as_str(), "--user", "admin"];
    let out = ok(t.deploy().args(hlf).args(lifecycle).arg(&pkg_b));
    assert!(out.contains(&format!("install package {} on peer0.org1.example.com", b.package_id)), "{out}");
    assert!(out.contains("approve basic version 1.0 at sequence 1 for Org1MSP"), "{out}");
    assert!(!out.contains("commit basic"), "{out}");
    let approved: Value = serde_json::from_str(&ok(t.deploy().args(hlf).args([
        "approved",
        "-n",
        "basic",
        "--sequence",
        "1",
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(approved["package_id"].as_str(), Some(b.package_id.as_str()));
    assert_eq!(querycommitted(&t)["sequence"].as_i64(), Some(1));
    t.start_chaincode(port_b, &b.package_id);
    assert!(t.invoke_and_query(1).contains(r#""ID":"asset1""#), "the peer runs the new package");

    // A changed definition (version and policy) goes to sequence 2; through the orderer this time.
    let (code, out, err) = run(t
        .deploy()
        .args(hlf)
        .args(["--via-orderer", "lifecycle", "-n", "basic", "-v", "2.0"])
        .args(["--signature-policy", "OR('Org1MSP.peer')"])
        .arg(&pkg_b));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("at sequence 2 for Org1MSP") && out.contains("version 1.0 → 2.0, endorsement policy"),
        "{out}"
    );
    let qc = querycommitted(&t);
    assert_eq!((qc["sequence"].as_i64(), qc["version"].as_str()), (Some(2), Some("2.0")));
    assert!(t.invoke_and_query(1).contains(r#""ID":"asset1""#));

    // Private data collections are part of the definition: adding one goes to sequence 3, and
    // what the peer stores compares equal to what we send (a second run does nothing).
    let collections = dir.path().join("collections.json");
    std::fs::write(
        &collections,
        r#"[{"name":"private","policy":"OR('Org1MSP.member')","requiredPeerCount":0,"maxPeerCount":1,
            "blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false}]"#,
    )
    .unwrap();
    let v2 =
        ["lifecycle", "-n", "basic", "-v", "2.0", "--signature-policy", "OR('Org1MSP.peer')", "--collections-config"];
    let out = ok(t.deploy().args(hlf).args(v2).arg(&collections).arg(&pkg_b));
    assert!(out.contains("at sequence 3 for Org1MSP") && out.contains("the definition changes: collections"), "{out}");
    let out = ok(t.deploy().args(hlf).args(v2).arg(&collections).arg(&pkg_b));
    assert!(out.contains("nothing to do: basic version 2.0 is committed at sequence 3"), "{out}");
    let qc = querycommitted(&t);
    assert!(qc["collections"].to_string().contains(r#""name":"private""#), "{qc}");

    // A connection profile with an MSP folder, and PEM files with a TLS host-name override, reach
    // the same peer as the same admin.
    let ccp = dir.path().join("connection-org1.json");
    let ccp_json = serde_json::json!({
        "name": "test-network-org1", "version": "1.0.0",
        "client": {"organization": "Org1"},
        "organizations": {"Org1": {"mspid": "Org1MSP", "peers": ["peer0.org1.example.com"]}},
        "peers": {"peer0.org1.example.com": {
            "url": format!("grpcs://{}", t.var("ORG1_PEER_ADDRESS")),
            "tlsCACerts": {"path": t.var("ORG1_PEER_TLS_CA")},
            "grpcOptions": {"ssl-target-name-override": "peer0.org1.example.com"}}}
    });
    std::fs::write(&ccp, ccp_json.to_string()).unwrap();
    let committed = ok(t.deploy().arg("--config").arg(&ccp).args([
        "--msp-dir",
        t.var("ORG1_ADMIN_MSP"),
        "committed",
        "-n",
        "basic",
    ]));
    assert!(committed.contains("basic version 2.0 sequence 3 (approvals: Org1MSP=approved)"), "{committed}");
    let installed = ok(t
        .deploy()
        .args(["--cert", t.var("ORG1_ADMIN_CERT"), "--key", t.var("ORG1_ADMIN_KEY")])
        .args([
            "--msp-id",
            "Org1MSP",
            "--peer-address",
            t.var("ORG1_PEER_ADDRESS"),
            "--tls-ca",
            t.var("ORG1_PEER_TLS_CA"),
        ])
        .args(["--tls-hostname", "peer0.org1.example.com", "installed", "--output", "json"]));
    let installed: Value = serde_json::from_str(&installed).unwrap();
    let ids: Vec<&str> =
        installed[0]["installed"].as_array().unwrap().iter().map(|i| i["package_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&a.package_id.as_str()) && ids.contains(&b.package_id.as_str()), "{ids:?}");
}
