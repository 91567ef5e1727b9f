//! `invoke` and `query` through the peers' Gateways: the workspace's asset-transfer-basic and
//! asset-transfer-private-data examples deployed with `lifecycle` and run as chaincode servers,
//! called with positional and peer-CLI arguments, transient data in both forms, text and JSON
//! output; a chaincode error, and a transaction that fails its endorsement policy.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use crate::package;
use crate::support::{ok, run, Testbed, DEPLOY};

/// `ccaas-deploy` as org `n`'s admin, with its hlf-operator network config.
fn as_org(t: &Testbed, n: u32) -> Command {
    let mut c = Command::new(DEPLOY);
    c.env_clear().args(["--config", t.var(&format!("ORG{n}_NETWORK_CONFIG")), "--user", "admin"]);
    c
}

/// Runs `make()` until it succeeds (another org's peer may commit a block a moment later).
fn eventually(mut make: impl FnMut() -> Command) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, out, err) = run(&mut make());
        if code == 0 {
            return out;
        }
        assert!(Instant::now() < deadline, "still failing after 10 s: {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn asset(t: &Testbed, n: u32, chaincode: &str, id: &str) -> Value {
    serde_json::from_str(&eventually(|| {
        let mut c = as_org(t, n);
        c.args(["query", "-n", chaincode, "ReadAsset", id]);
        c
    }))
    .unwrap()
}

/// One org, as the peer CLI's environment sets it up: basic's calls, checked against the peer
/// CLI; its errors; private data with transient data, in an invoke and in a query.
#[test]
fn invoke_and_query_one_org() {
    let Some(mut t) = Testbed::up("invoke_one_org", 1, crate::ports::port(crate::ports::testbed::INVOKE_ONE_ORG))
    else {
        return;
    };
    let (basic_port, private_port) = (
        crate::ports::port(crate::ports::chaincode::INVOKE_BASIC),
        crate::ports::port(crate::ports::chaincode::INVOKE_PRIVATE),
    );
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", basic_port);
    ok(t.deploy_as_peer_cli(1).args(["lifecycle", "-n", "basic", "-v", "1.0"]).arg(&pkg));
    t.start_chaincode(basic_port, &built.package_id);
    let peer = t.var("ORG1_PEER_ADDRESS").to_string();

    // Positional arguments; text output: nothing on stdout (CreateAsset answers nothing), the
    // commit on stderr.
    let (code, out, err) = run(t.deploy_as_peer_cli(1).args([
        "invoke",
        "-n",
        "basic",
        "CreateAsset",
        "asset7",
        "blue",
        "5",
        "Tom",
        "300",
    ]));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.starts_with("invoke CreateAsset on basic: committed in block "), "{err}");

    // The answer as it is: what the peer CLI prints, without the newline it adds.
    let ours = ok(t.deploy_as_peer_cli(1).args(["query", "-n", "basic", "ReadAsset", "asset7"]));
    let theirs = t.peer_cli(
        1,
        &["chaincode", "query", "-C", "mychannel", "-n", "basic", "-c", r#"{"Args":["ReadAsset","asset7"]}"#],
    );
    assert!(theirs.status.success(), "{}", String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(format!("{ours}\n").as_bytes(), theirs.stdout);
    assert_eq!(ours, r#"{"AppraisedValue":300,"Color":"blue","ID":"asset7","Owner":"Tom","Size":5}"#);

    // The peer CLI's -c, and JSON output.
    let json: Value = serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args([
        "query",
        "-n",
        "basic",
        "-c",
        r#"{"Args":["ReadAsset","asset7"]}"#,
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!(json["payload"].as_str(), Some(ours.as_str()), "{json}");
    assert_eq!(json["payload_encoding"], "utf-8");
    assert_eq!(json["tx_id"].as_str().map(str::len), Some(64));
    assert!(json.get("block").is_none() && json.get("status").is_none(), "a query commits nothing: {json}");
    let json: Value = serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args([
        "invoke",
        "-n",
        "basic",
        "-c",
        r#"{"function":"TransferAsset","Args":["asset7","Ann"]}"#,
        "--output",
        "json",
    ])))
    .unwrap();
    assert_eq!((json["status"].as_str(), json["payload"].as_str()), (Some("VALID"), Some("Tom")), "{json}");
    assert!(json["block"].as_u64().unwrap() > 1, "{json}");
    let now = t.peer_cli(
        1,
        &["chaincode", "query", "-C", "mychannel", "-n", "basic", "-c", r#"{"Args":["ReadAsset","asset7"]}"#],
    );
    assert!(String::from_utf8_lossy(&now.stdout).contains(r#""Owner":"Ann""#), "the transfer is committed");

    // The chaincode's error: its status and message, exit 1, nothing on stdout.
    let (code, out, err) = run(t.deploy_as_peer_cli(1).args(["query", "-n", "basic", "ReadAsset", "asset404"]));
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "error: query ReadAsset on basic: the chaincode answered status 500 on {peer} (Org1MSP): the asset \
             asset404 does not exist\n"
        )
    );
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(["invoke", "-n", "basic", "DeleteAsset", "asset404"]));
    assert_eq!(code, 1);
    assert!(err.contains("invoke DeleteAsset on basic: the chaincode answered status 500 on"), "{err}");
    // A chaincode that is not there: the Gateway's refusal, and what to check.
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(["query", "-n", "nothing", "Any"]));
    assert_eq!(code, 1);
    assert!(err.contains("refused to query Any on nothing: ") && err.contains("check the name (-n)"), "{err}");

    // Private data, with a collections config for one org: the asset and its appraised value
    // travel as transient data (KEY=VALUE, then the peer CLI's base64 JSON).
    let collections = dir.path().join("collections.json");
    std::fs::write(
        &collections,
        r#"[{"name":"assetCollection","policy":"OR('Org1MSP.member')","requiredPeerCount":0,"maxPeerCount":1,
             "blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":true},
            {"name":"Org1MSPPrivateCollection","policy":"OR('Org1MSP.member')","requiredPeerCount":0,
             "maxPeerCount":1,"blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false}]"#,
    )
    .unwrap();
    let (pkg, built) = package(dir.path(), "private.tgz", "private_1.0", private_port);
    ok(t.deploy_as_peer_cli(1)
        .args(["lifecycle", "-n", "private", "-v", "1.0", "--collections-config"])
        .arg(&collections)
        .arg(&pkg));
    t.start_example(
        "asset-transfer-private-data",
        private_port,
        &built.package_id,
        &[("CORE_PEER_LOCALMSPID", "Org1MSP")],
    );
    let properties = |id: &str, value: u32| {
        format!(r#"{{"objectType":"asset","assetID":"{id}","color":"green","size":20,"appraisedValue":{value}}}"#)
    };
    let p1 = format!("asset_properties={}", properties("p1", 100));
    ok(t.deploy_as_peer_cli(1).args(["invoke", "-n", "private", "CreateAsset", "--transient", &p1]));
    let p2 = serde_json::json!({
        "asset_properties": base64::engine::general_purpose::STANDARD.encode(properties("p2", 200))
    })
    .to_string();
    ok(t.deploy_as_peer_cli(1).args([
        "invoke",
        "-n",
        "private",
        "-c",
        r#"{"function":"CreateAsset","Args":[]}"#,
        "--transient",
        &p2,
    ]));
    for (id, value) in [("p1", 100), ("p2", 200)] {
        let out = ok(t
            .deploy_as_peer_cli(1)
            .args(["query", "-n", "private", "ReadAssetPrivateDetails"])
            .args(["Org1MSPPrivateCollection", id]));
        assert_eq!(out, format!(r#"{{"assetID":"{id}","appraisedValue":{value}}}"#));
    }
    assert_eq!(asset(&t, 1, "private", "p1")["color"], "green");

    // A query carries transient data too: CreateAsset evaluated with it succeeds (and commits
    // nothing); without it the chaincode says what is missing.
    let p3 = format!("asset_properties={}", properties("p3", 300));
    let out = ok(t.deploy_as_peer_cli(1).args(["query", "-n", "private", "CreateAsset", "--transient", &p3]));
    assert_eq!(out, "");
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(["query", "-n", "private", "CreateAsset"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("the chaincode answered status 500 on")
            && err.ends_with(": asset not found in the transient map input\n"),
        "{err}"
    );
    assert_eq!(
        ok(t.deploy_as_peer_cli(1).args(["query", "-n", "private", "ReadAsset", "p3"])),
        "",
        "p3 was only evaluated"
    );
}

/// Two orgs, each with its network config: basic under AND('Org1MSP.peer','Org2MSP.peer') takes
/// both orgs' endorsements, which the Gateway gathers; endorsed by Org1 alone it is committed
/// as invalid. Private data with the example's collections config, written by Org1 and read by
/// Org2.
#[test]
fn invoke_and_query_two_orgs() {
    let Some(mut t) = Testbed::up("invoke_two_orgs", 2, crate::ports::port(crate::ports::testbed::INVOKE_TWO_ORGS))
    else {
        return;
    };
    let first_port = crate::ports::port(crate::ports::chaincode::INVOKE_TWO_ORGS);
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", first_port);
    let and = ["lifecycle", "-n", "basic", "-v", "1.0", "--signature-policy", "AND('Org1MSP.peer','Org2MSP.peer')"];
    let (code, _, err) = run(as_org(&t, 1).args(and).arg(&pkg));
    assert_eq!(code, 3, "waiting for Org2: {err}");
    ok(as_org(&t, 2).args(and).arg(&pkg));
    t.start_chaincode(first_port, &built.package_id);

    let json: Value = serde_json::from_str(&ok(as_org(&t, 1).args([
        "invoke",
        "-n",
        "basic",
        "--output",
        "json",
        "CreateAsset",
        "asset1",
        "red",
        "3",
        "Ann",
        "100",
    ])))
    .unwrap();
    assert_eq!(json["status"], "VALID", "{json}");
    assert_eq!(asset(&t, 2, "basic", "asset1")["Owner"], "Ann", "Org2's peer has it");

    // Org1 alone endorses: the orderer takes the transaction, the peers mark it invalid.
    let (code, out, err) = run(as_org(&t, 1)
        .args(["invoke", "-n", "basic", "--endorsing-org", "Org1MSP", "--output", "json"])
        .args(["CreateAsset", "asset2", "red", "3", "Bob", "100"]));
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["status"], "ENDORSEMENT_POLICY_FAILURE", "{json}");
    assert!(json["block"].as_u64().is_some(), "an invalid transaction is in a block too: {json}");
    assert_eq!((json["kind"].as_str(), json["exit_code"].as_u64()), (Some("refused"), Some(1)), "{json}");
    assert_eq!(json["tx_ids"], serde_json::json!([json["tx_id"]]), "{json}");
    let expected = format!(
        "error: transaction {} (invoke CreateAsset on basic) was committed as invalid: ENDORSEMENT_POLICY_FAILURE; \
         the endorsements do not satisfy the endorsement policy",
        json["tx_id"].as_str().unwrap()
    );
    assert!(err.starts_with(&expected), "{err}");
    let (code, out, err) = run(as_org(&t, 1).args(["invoke", "-n", "basic", "--endorsing-org", "Org1MSP"]).args([
        "TransferAsset",
        "asset1",
        "Bob",
    ]));
    assert_eq!((code, out.as_str()), (1, ""), "text output prints no answer of an invalid transaction");
    assert!(err.contains("was committed as invalid: ENDORSEMENT_POLICY_FAILURE"), "{err}");
    let (code, _, err) = run(as_org(&t, 1).args(["query", "-n", "basic", "ReadAsset", "asset2"]));
    assert_eq!(code, 1);
    assert!(err.ends_with("the asset asset2 does not exist\n"), "{err}");
    assert_eq!(asset(&t, 1, "basic", "asset1")["Owner"], "Ann");

    // --peer picks the Gateway: Org1's admin through Org2's peer, with the file of both orgs.
    let all = t.var("NETWORK_CONFIG").to_string();
    let (code, _, err) = run(Command::new(DEPLOY)
        .env_clear()
        .args(["--config", &all, "--user", "admin", "--msp-id", "Org1MSP"])
        .args(["--peer", "peer0.org2.example.com", "query", "-n", "basic", "ReadAsset", "asset404"]));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("on {} (Org2MSP): the asset asset404 does not exist", t.var("ORG2_PEER_ADDRESS"))),
        "{err}"
    );

    // Private data, as the example's collections config has it; each org runs its own server
    // (the chaincode compares the client's org with its peer's).
    let collections = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/asset-transfer-private-data/collections_config.json");
    for n in [1u32, 2] {
        let port = crate::ports::port(crate::ports::chaincode::INVOKE_TWO_ORGS) + n as u16;
        let (pkg, built) = package(dir.path(), &format!("private{n}.tgz"), "private_1.0", port);
        let (code, out, err) = run(as_org(&t, n)
            .args(["lifecycle", "-n", "private", "-v", "1.0", "--collections-config"])
            .arg(&collections)
            .arg(&pkg));
        assert_eq!(code, if n == 1 { 3 } else { 0 }, "{out}{err}");
        t.start_example(
            "asset-transfer-private-data",
            port,
            &built.package_id,
            &[("CORE_PEER_LOCALMSPID", &format!("Org{n}MSP"))],
        );
    }
    let p1 = r#"asset_properties={"objectType":"asset","assetID":"p1","color":"blue","size":5,"appraisedValue":70}"#;
    ok(as_org(&t, 1).args(["invoke", "-n", "private", "CreateAsset", "--transient", p1]));
    assert_eq!(asset(&t, 2, "private", "p1")["color"], "blue", "Org2 is a member of assetCollection");
    let own =
        ok(as_org(&t, 1).args(["query", "-n", "private", "ReadAssetPrivateDetails", "Org1MSPPrivateCollection", "p1"]));
    assert_eq!(own, r#"{"assetID":"p1","appraisedValue":70}"#);
    let (code, _, err) = run(as_org(&t, 2).args([
        "query",
        "-n",
        "private",
        "ReadAssetPrivateDetails",
        "Org1MSPPrivateCollection",
        "p1",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("the chaincode answered status 500 on") && err.contains("does not have read access permission"),
        "{err}"
    );
}
