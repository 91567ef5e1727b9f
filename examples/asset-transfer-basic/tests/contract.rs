//! Unit tests of the asset-transfer-basic example (its contract, `SmartContract`), in-process
//! with `ccaas_testkit::Emulator`: every transaction, every error path, the exact bytes the Go
//! sample writes and returns, and the metadata.
//!
//! The Go bytes below are what fabric-samples' `asset-transfer-basic/chaincode-go` (on
//! fabric-contract-api-go v2) writes and answers. The last tests run a long script against both
//! the contract and the hand-routed low-level implementation (`ccaas_testkit::testing::lowlevel`,
//! the example before the contract API could match Go) and require identical responses, read sets
//! and write sets.

use ccaas_testkit::{Emulator, StateDatabase, TxOutcome};
use serde_json::{json, Value};

use asset_transfer_basic::SmartContract;
use ccaas_shim::contract::ContractChaincode;
use ccaas_testkit::testing::lowlevel;

/// `json.Marshal` of the six assets of the Go sample's `InitLedger`, in order.
const GO_INITIAL: [(&str, &str); 6] = [
    ("asset1", r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#),
    ("asset2", r#"{"AppraisedValue":400,"Color":"red","ID":"asset2","Owner":"Brad","Size":5}"#),
    ("asset3", r#"{"AppraisedValue":500,"Color":"green","ID":"asset3","Owner":"Jin Soo","Size":10}"#),
    ("asset4", r#"{"AppraisedValue":600,"Color":"yellow","ID":"asset4","Owner":"Max","Size":10}"#),
    ("asset5", r#"{"AppraisedValue":700,"Color":"black","ID":"asset5","Owner":"Adriana","Size":15}"#),
    ("asset6", r#"{"AppraisedValue":800,"Color":"white","ID":"asset6","Owner":"Michel","Size":15}"#),
];

const NO_ARGS: [&str; 0] = [];

async fn peer() -> Emulator {
    Emulator::in_process(SmartContract).await
}

/// A peer on which the chaincode is defined with `--init-required` (version 1.0), so it takes INIT.
async fn init_required() -> Emulator {
    Emulator::builder().peer(|b| b.init_required("1.0")).in_process(SmartContract).await
}

/// A peer whose ledger holds the six initial assets.
async fn initialized() -> Emulator {
    Emulator::builder().seed(GO_INITIAL).in_process(SmartContract).await
}

fn written(outcome: &TxOutcome) -> Vec<(String, Option<String>)> {
    outcome
        .writes
        .iter()
        .map(|w| (w.key.clone(), w.value.as_ref().map(|v| String::from_utf8(v.to_vec()).unwrap())))
        .collect()
}

fn read_keys(outcome: &TxOutcome) -> Vec<&str> {
    outcome.reads.iter().map(|r| r.key.as_str()).collect()
}

#[tokio::test]
async fn init_ledger_writes_the_go_bytes() {
    let peer = peer().await;
    let outcome = peer.submit("InitLedger", NO_ARGS).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert!(outcome.is_committed());
    assert!(outcome.event.is_none());
    let expected: Vec<(String, Option<String>)> =
        GO_INITIAL.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect();
    assert_eq!(written(&outcome), expected);
    for (key, json) in GO_INITIAL {
        assert_eq!(peer.state(key).unwrap(), json);
    }
}

#[tokio::test]
async fn create_asset_checks_then_writes() {
    let peer = peer().await;
    let outcome = peer.submit("CreateAsset", ["asset7", "pink", "3", "Zoe", "100"]).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert_eq!(read_keys(&outcome), ["asset7"]);
    assert_eq!(
        written(&outcome),
        [(
            "asset7".to_string(),
            Some(r#"{"AppraisedValue":100,"Color":"pink","ID":"asset7","Owner":"Zoe","Size":3}"#.to_string())
        )]
    );

    let again = peer.submit("CreateAsset", ["asset7", "blue", "1", "Ann", "1"]).await.unwrap();
    again.assert_error("the asset asset7 already exists");
    assert!(again.writes.is_empty() && !again.is_committed());
    assert_eq!(
        peer.state("asset7").unwrap(),
        r#"{"AppraisedValue":100,"Color":"pink","ID":"asset7","Owner":"Zoe","Size":3}"#
    );
}

#[tokio::test]
async fn strings_are_escaped_as_go_escapes_them_and_empty_integers_are_zero() {
    let peer = peer().await;
    peer.submit("CreateAsset", ["a<1>", "\"red\" & blue", "", "O'Brien\u{2028}", "-7"]).await.unwrap().assert_ok();
    let read = peer.evaluate("ReadAsset", ["a<1>"]).await.unwrap();
    assert_eq!(
        read.assert_ok().payload_str(),
        r#"{"AppraisedValue":-7,"Color":"\"red\" \u0026 blue","ID":"a\u003c1\u003e","Owner":"O'Brien\u2028","Size":0}"#
    );
    assert_eq!(peer.state("a<1>").unwrap(), read.response.payload);
}

#[tokio::test]
async fn read_asset_returns_the_asset_json() {
    let peer = initialized().await;
    for (key, json) in GO_INITIAL {
        let outcome = peer.evaluate("ReadAsset", [key]).await.unwrap();
        assert_eq!(outcome.assert_ok().payload_str(), json);
        assert_eq!(outcome.commit, ccaas_testkit::CommitStatus::Evaluated);
    }
    peer.evaluate("ReadAsset", ["asset9"]).await.unwrap().assert_error("the asset asset9 does not exist");
}

#[tokio::test]
async fn read_asset_normalizes_what_is_stored_as_go_does() {
    // As Go's json.Unmarshal then json.Marshal: unknown keys go, missing ones are zero. (A `null`
    // field, which Go reads as zero, fails here: the example's documented difference.)
    let peer = Emulator::builder().seed([("x", r#" {"Owner":"Bob","Extra":[1]} "#)]).in_process(SmartContract).await;
    let outcome = peer.evaluate("ReadAsset", ["x"]).await.unwrap();
    assert_eq!(outcome.assert_ok().payload_str(), r#"{"AppraisedValue":0,"Color":"","ID":"","Owner":"Bob","Size":0}"#);
    // A value that is not an asset fails with the JSON decoder's message.
    peer.seed([("bad", "not json")]);
    let outcome = peer.evaluate("ReadAsset", ["bad"]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert!(!outcome.message().is_empty());
}

#[tokio::test]
async fn update_asset_replaces_an_existing_asset() {
    let peer = initialized().await;
    let outcome = peer.submit("UpdateAsset", ["asset1", "orange", "21", "Bea", "901"]).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert_eq!(
        written(&outcome),
        [(
            "asset1".to_string(),
            Some(r#"{"AppraisedValue":901,"Color":"orange","ID":"asset1","Owner":"Bea","Size":21}"#.to_string())
        )]
    );
    let missing = peer.submit("UpdateAsset", ["asset9", "orange", "21", "Bea", "901"]).await.unwrap();
    missing.assert_error("the asset asset9 does not exist");
    assert!(missing.writes.is_empty());
}

#[tokio::test]
async fn delete_asset_deletes_an_existing_asset() {
    let peer = initialized().await;
    let outcome = peer.submit("DeleteAsset", ["asset2"]).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert_eq!(written(&outcome), [("asset2".to_string(), None)]);
    assert!(peer.state("asset2").is_none());
    peer.submit("DeleteAsset", ["asset2"]).await.unwrap().assert_error("the asset asset2 does not exist");
}

#[tokio::test]
async fn asset_exists_answers_true_or_false() {
    let peer = initialized().await;
    assert_eq!(peer.evaluate("AssetExists", ["asset1"]).await.unwrap().assert_ok().payload_str(), "true");
    assert_eq!(peer.evaluate("AssetExists", ["asset9"]).await.unwrap().assert_ok().payload_str(), "false");
}

#[tokio::test]
async fn transfer_asset_returns_the_old_owner_as_is() {
    let peer = initialized().await;
    let outcome = peer.submit("TransferAsset", ["asset3", "Christopher"]).await.unwrap();
    // Plain text, not a JSON string.
    assert_eq!(outcome.assert_ok().payload_str(), "Jin Soo");
    assert_eq!(
        written(&outcome),
        [(
            "asset3".to_string(),
            Some(r#"{"AppraisedValue":500,"Color":"green","ID":"asset3","Owner":"Christopher","Size":10}"#.to_string())
        )]
    );
    peer.submit("TransferAsset", ["asset9", "x"]).await.unwrap().assert_error("the asset asset9 does not exist");
}

#[tokio::test]
async fn get_all_assets_is_a_json_array_and_empty_when_there_are_none() {
    let peer = peer().await;
    let empty = peer.evaluate("GetAllAssets", NO_ARGS).await.unwrap();
    empty.assert_ok();
    assert!(empty.response.payload.is_empty(), "Go returns a nil slice as no bytes, got {empty}");

    peer.submit("InitLedger", NO_ARGS).await.unwrap().assert_ok();
    let all = peer.evaluate("GetAllAssets", NO_ARGS).await.unwrap();
    let expected = format!("[{}]", GO_INITIAL.map(|(_, json)| json).join(","));
    assert_eq!(all.assert_ok().payload_str(), expected);
}

#[tokio::test]
async fn get_all_assets_reads_every_simple_key_across_range_batches() {
    let assets: Vec<(String, String)> = (0..250)
        .map(|i| {
            let id = format!("asset{i:03}");
            let json = format!(r#"{{"AppraisedValue":{i},"Color":"c","ID":"{id}","Owner":"o","Size":1}}"#);
            (id, json)
        })
        .collect();
    let peer = Emulator::builder().seed(assets.clone()).in_process(SmartContract).await;
    // A composite key is not in the open-ended range.
    peer.seed([("\u{0}color~name\u{0}blue\u{0}asset1\u{0}", "\u{0}")]);
    let all = peer.evaluate("GetAllAssets", NO_ARGS).await.unwrap();
    let expected = format!("[{}]", assets.iter().map(|(_, json)| json.as_str()).collect::<Vec<_>>().join(","));
    assert_eq!(all.assert_ok().payload_str(), expected);
    assert!(peer.peer().violations().is_empty());

    peer.seed([("zzz", "not an asset")]);
    assert_eq!(peer.evaluate("GetAllAssets", NO_ARGS).await.unwrap().status(), 500);
}

#[tokio::test]
async fn contract_api_go_routing_texts() {
    let peer = initialized().await;
    let fails = [
        (vec!["Nope"], "Function Nope not found in contract SmartContract"),
        (vec!["readasset", "asset1"], "Function readasset not found in contract SmartContract"),
        (vec!["GetName"], "Function GetName not found in contract SmartContract"),
        (vec!["SmartContract:"], "Blank function name passed"),
        (vec![""], "Blank function name passed"),
        (vec!["Other:ReadAsset", "asset1"], "Contract not found with name Other"),
        (vec!["a:b:ReadAsset", "asset1"], "Contract not found with name a:b"),
        (vec!["org.hyperledger.fabric:Nope"], "Function Nope not found in contract org.hyperledger.fabric"),
    ];
    for (call, message) in fails {
        peer.tx(call[0]).args(call[1..].iter().copied()).evaluate().await.unwrap().assert_error(message);
    }
    // The contract's name and a lowercase first letter are accepted.
    let json = GO_INITIAL[0].1;
    assert_eq!(peer.evaluate("SmartContract:ReadAsset", ["asset1"]).await.unwrap().payload_str(), json);
    assert_eq!(peer.evaluate("readAsset", ["asset1"]).await.unwrap().payload_str(), json);
    assert_eq!(peer.evaluate("SmartContract:assetExists", ["asset1"]).await.unwrap().payload_str(), "true");
    // unicode.ToUpper('ı') is 'I' in Go too.
    peer.submit("ınitLedger", NO_ARGS).await.unwrap().assert_ok();
}

#[tokio::test]
async fn contract_api_go_argument_texts() {
    let peer = peer().await;
    let cases: [(&[&str], &str); 7] = [
        (&["CreateAsset", "asset1", "blue"], "incorrect number of params. Expected 5, received 2"),
        (&["ReadAsset"], "incorrect number of params. Expected 1, received 0"),
        (&["TransferAsset", "asset1"], "incorrect number of params. Expected 2, received 1"),
        (
            &["CreateAsset", "a", "blue", "five", "Tom", "x"],
            "error managing parameter param2. conversion error. cannot convert passed value five to int",
        ),
        (
            &["UpdateAsset", "a", "blue", "5", "Tom", "3.5"],
            "error managing parameter param4. conversion error. cannot convert passed value 3.5 to int",
        ),
        // Called by the lowercased name, contract-api-go has no metadata, so no parameter name.
        (
            &["createAsset", "a", "blue", "5", "Tom", "3.5"],
            "error managing parameter. conversion error. cannot convert passed value 3.5 to int",
        ),
        (
            &["CreateAsset", "a", "blue", "9223372036854775808", "Tom", "1"],
            "error managing parameter param2. conversion error. cannot convert passed value 9223372036854775808 to int",
        ),
    ];
    for (call, message) in cases {
        let outcome = peer.tx(call[0]).args(call[1..].iter().copied()).submit().await.unwrap();
        outcome.assert_error(message);
        assert!(outcome.reads.is_empty() && outcome.writes.is_empty(), "{call:?} reached the ledger");
    }
    // Surplus arguments are ignored.
    assert_eq!(peer.evaluate("AssetExists", ["asset1", "extra"]).await.unwrap().assert_ok().payload_str(), "false");
    peer.submit("InitLedger", ["extra"]).await.unwrap().assert_ok();
}

#[tokio::test]
async fn ledger_errors_pass_through_as_the_go_sample_returns_them() {
    // The stub refuses an empty key before asking the peer, with the Go shim's text.
    let peer = peer().await;
    peer.submit("CreateAsset", ["", "blue", "5", "Tom", "300"])
        .await
        .unwrap()
        .assert_error("key must not be an empty string");
    // CouchDB refuses keys starting with `_`; CreateAsset returns PutState's error unwrapped.
    let couch = Emulator::builder().peer(|b| b.state_database(StateDatabase::CouchDb)).in_process(SmartContract).await;
    let outcome = couch.submit("CreateAsset", ["_x", "blue", "5", "Tom", "300"]).await.unwrap();
    let expected =
        format!("PUT_STATE failed: transaction ID: {}: invalid key [_x], cannot begin with \"_\"", outcome.tx_id);
    outcome.assert_error(&expected);
}

#[tokio::test]
async fn init_without_a_function_is_the_default_initiator() {
    let peer = init_required().await;
    let outcome = peer.tx("").init().submit().await.unwrap();
    assert_eq!(outcome.assert_ok().payload_str(), "Default initiator successful.");
    // The peer takes one INIT per definition version.
    let again = peer.tx("InitLedger").init().submit().await.unwrap_err();
    assert_eq!(again.to_string(), "invalid invocation: chaincode 'basic' is already initialized but called as init");

    let peer = init_required().await;
    peer.tx("InitLedger").init().submit().await.unwrap().assert_ok();
    assert_eq!(peer.state("asset6").unwrap(), GO_INITIAL[5].1);
}

#[tokio::test]
async fn a_chaincode_defined_without_init_required_refuses_init() {
    let error = peer().await.tx("InitLedger").init().submit().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid invocation: chaincode 'basic' does not require initialization but called as init"
    );
}

#[tokio::test]
async fn no_transaction_sets_an_event() {
    let peer = peer().await;
    let mut outcomes = vec![peer.submit("InitLedger", NO_ARGS).await.unwrap()];
    outcomes.push(peer.submit("CreateAsset", ["asset7", "pink", "3", "Zoe", "100"]).await.unwrap());
    outcomes.push(peer.submit("UpdateAsset", ["asset7", "pink", "3", "Zoe", "101"]).await.unwrap());
    outcomes.push(peer.submit("TransferAsset", ["asset7", "Ann"]).await.unwrap());
    outcomes.push(peer.submit("DeleteAsset", ["asset7"]).await.unwrap());
    outcomes.push(peer.evaluate("GetAllAssets", NO_ARGS).await.unwrap());
    for outcome in outcomes {
        outcome.assert_ok();
        assert!(outcome.event.is_none(), "{outcome}");
    }
}

#[tokio::test]
async fn get_metadata_describes_the_contract_as_contract_api_go_does() {
    let peer = peer().await;
    let outcome = peer.evaluate("org.hyperledger.fabric:GetMetadata", NO_ARGS).await.unwrap();
    let metadata: Value = outcome.assert_ok().payload_json();
    assert_eq!(metadata["info"], json!({"title": "undefined", "version": "latest"}));
    let contracts = metadata["contracts"].as_object().unwrap();
    assert_eq!(contracts.keys().collect::<Vec<_>>(), ["SmartContract", "org.hyperledger.fabric"]);

    let contract = &metadata["contracts"]["SmartContract"];
    assert_eq!(contract["name"], "SmartContract");
    assert_eq!(contract["default"], true);
    assert_eq!(contract["info"], json!({"title": "SmartContract", "version": "latest"}));
    let transactions = contract["transactions"].as_array().unwrap();
    let names: Vec<&str> = transactions.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "AssetExists",
            "CreateAsset",
            "DeleteAsset",
            "GetAllAssets",
            "InitLedger",
            "ReadAsset",
            "TransferAsset",
            "UpdateAsset"
        ]
    );
    let tx = |name: &str| transactions.iter().find(|t| t["name"] == name).unwrap();
    let string = json!({"type": "string"});
    let int = json!({"type": "integer", "format": "int64"});
    let asset = json!({"$ref": "#/components/schemas/Asset"});
    let params = |name: &str| -> Vec<(String, Value)> {
        tx(name)["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"].clone())).collect())
            .unwrap_or_default()
    };
    let named = |schemas: &[&Value]| -> Vec<(String, Value)> {
        schemas.iter().enumerate().map(|(i, s)| (format!("param{i}"), (*s).clone())).collect()
    };
    for name in ["CreateAsset", "UpdateAsset"] {
        assert_eq!(params(name), named(&[&string, &string, &int, &string, &int]), "{name}");
        assert!(tx(name).get("returns").is_none());
        assert_eq!(tx(name)["tag"], json!(["submit", "SUBMIT"]));
    }
    for name in ["ReadAsset", "DeleteAsset", "AssetExists"] {
        assert_eq!(params(name), named(&[&string]), "{name}");
    }
    assert_eq!(params("TransferAsset"), named(&[&string, &string]));
    assert!(params("InitLedger").is_empty() && params("GetAllAssets").is_empty());
    assert_eq!(tx("ReadAsset")["returns"], asset);
    assert_eq!(tx("GetAllAssets")["returns"], json!({"type": "array", "items": asset}));
    assert_eq!(tx("AssetExists")["returns"], json!({"type": "boolean"}));
    assert_eq!(tx("TransferAsset")["returns"], string);
    for name in ["ReadAsset", "AssetExists", "GetAllAssets"] {
        assert_eq!(tx(name)["tag"], json!(["evaluate", "EVALUATE"]), "{name}");
    }

    assert_eq!(
        metadata["components"]["schemas"]["Asset"],
        json!({
            "$id": "Asset",
            "type": "object",
            "properties": {"AppraisedValue": int, "Color": string, "ID": string, "Owner": string, "Size": int},
            "required": ["AppraisedValue", "Color", "ID", "Owner", "Size"],
            "additionalProperties": false,
        })
    );
    let system = &metadata["contracts"]["org.hyperledger.fabric"];
    assert_eq!(
        system["transactions"],
        json!([{"name": "GetMetadata", "tag": ["evaluate", "EVALUATE"], "returns": string}])
    );
}

#[tokio::test]
async fn the_contract_alone_and_in_a_contract_chaincode_serve_the_same() {
    for peer in [
        Emulator::in_process(SmartContract).await,
        Emulator::in_process(ContractChaincode::new().contract(SmartContract)).await,
    ] {
        peer.submit("InitLedger", NO_ARGS).await.unwrap().assert_ok();
        assert_eq!(peer.evaluate("ReadAsset", ["asset2"]).await.unwrap().payload_str(), GO_INITIAL[1].1);
        peer.evaluate("Nope", NO_ARGS).await.unwrap().assert_error("Function Nope not found in contract SmartContract");
    }
}

/// Calls both implementations must answer identically: the happy paths, every error text,
/// routing quirks and argument edge cases.
const SCRIPT: &[&[&str]] = &[
    &["GetAllAssets"],
    &["ReadAsset", "asset1"],
    &["AssetExists", "asset1"],
    &["InitLedger"],
    &["InitLedger", "extra"],
    &["GetAllAssets"],
    &["getAllAssets", "x"],
    &["ReadAsset", "asset1"],
    &["ReadAsset", "asset1", "asset2"],
    &["readAsset", "asset2"],
    &["SmartContract:ReadAsset", "asset3"],
    &["SmartContract:readAsset", "asset3"],
    &["ReadAsset", "nope"],
    &["ReadAsset"],
    &["AssetExists", "asset1"],
    &["AssetExists", "nope"],
    &["assetExists"],
    &["CreateAsset", "asset7", "pink", "3", "Ann", "90"],
    &["CreateAsset", "asset7", "pink", "3", "Ann", "90"],
    &["CreateAsset", "asset8", "pink", "+3", "Ann", "-0", "surplus"],
    &["CreateAsset", "asset9", "", "", "", ""],
    &["CreateAsset", "asset10", "a", "3", "b"],
    &["CreateAsset", "asset10", "a", "three", "b", "4"],
    &["CreateAsset", "asset10", "a", "3", "b", "4.0"],
    &["CreateAsset", "asset10", "a", " 3", "b", "4"],
    &["CreateAsset", "asset10", "a", "0x10", "b", "4"],
    &["CreateAsset", "asset10", "a", "1_000", "b", "4"],
    &["CreateAsset", "asset10", "a", "9223372036854775807", "b", "-9223372036854775808"],
    &["CreateAsset", "asset11", "a", "9223372036854775808", "b", "4"],
    &["createAsset", "asset11", "a", "x", "b", "4"],
    &["createAsset", "asset11", "a", "1", "b", "4"],
    &["CreateAsset", "", "a", "1", "b", "4"],
    &["CreateAsset", "<&>\u{2028}", "\"q\"\\", "1", "é😀", "4"],
    &["ReadAsset", "<&>\u{2028}"],
    &["UpdateAsset", "asset7", "grey", "4", "Bob", "91"],
    &["UpdateAsset", "nope", "grey", "4", "Bob", "91"],
    &["UpdateAsset", "asset7", "grey", "four", "Bob", "91"],
    &["updateAsset", "asset7", "grey", "4", "Bob", "ninety"],
    &["TransferAsset", "asset7", "Carol"],
    &["TransferAsset", "asset7", ""],
    &["TransferAsset", "nope", "Carol"],
    &["transferAsset", "asset7"],
    &["DeleteAsset", "asset7"],
    &["DeleteAsset", "asset7"],
    &["deleteAsset"],
    &["GetAllAssets"],
    &["Nope"],
    &["readasset", "asset1"],
    &["READASSET", "asset1"],
    &["ınitLedger"],
    &["ßReadAsset", "asset1"],
    &["GetName"],
    &["SmartContract:"],
    &[""],
    &[":ReadAsset", "asset1"],
    &["Other:ReadAsset", "asset1"],
    &["a:b:ReadAsset", "asset1"],
];

/// Runs [`SCRIPT`] (submitted, so writes commit and later calls see them) on a fresh peer.
async fn run_script(peer: &Emulator) -> Vec<TxOutcome> {
    let mut outcomes = Vec::new();
    for call in SCRIPT {
        outcomes.push(peer.tx(call[0]).args(call[1..].iter().copied()).submit().await.unwrap());
    }
    outcomes
}

#[tokio::test]
async fn the_contract_answers_exactly_as_the_low_level_implementation() {
    let contract = run_script(&peer().await).await;
    let lowlevel = run_script(&Emulator::in_process(lowlevel::AssetTransfer).await).await;
    for ((call, a), b) in SCRIPT.iter().zip(&contract).zip(&lowlevel) {
        assert_eq!(a.status(), b.status(), "{call:?}: {a} vs {b}");
        assert_eq!(a.message(), b.message(), "{call:?}");
        assert_eq!(a.response.payload, b.response.payload, "{call:?}");
        assert_eq!(a.writes, b.writes, "{call:?}");
        assert_eq!(a.reads.len(), b.reads.len(), "{call:?}");
        assert!(a.reads.iter().zip(&b.reads).all(|(x, y)| x.key == y.key && x.version == y.version), "{call:?}");
        assert_eq!(a.event, b.event, "{call:?}");
    }
    // The script covers both outcomes.
    assert!(contract.iter().filter(|o| o.status() == 200).count() > 20);
    assert!(contract.iter().filter(|o| o.status() == 500).count() > 20);
}

#[tokio::test]
async fn init_routes_alike_in_both_implementations() {
    // A failed Init is an ERROR message, not a response (as the Go shim sends it).
    let summary = |result: Result<TxOutcome, ccaas_testkit::EmulatorError>| match result {
        Ok(o) => Ok((o.status(), o.message().to_string(), o.response.payload.clone(), o.writes.clone())),
        Err(e) => Err(e.to_string()),
    };
    for call in [&["InitLedger"][..], &["ReadAsset", "asset1"], &["Nope"], &[""]] {
        // Fresh peers each time: a successful INIT is the only one of its version.
        let contract = init_required().await;
        let lowlevel = Emulator::builder().peer(|b| b.init_required("1.0")).in_process(lowlevel::AssetTransfer).await;
        let a = contract.tx(call[0]).args(call[1..].iter().copied()).init().submit().await;
        let b = lowlevel.tx(call[0]).args(call[1..].iter().copied()).init().submit().await;
        assert_eq!(summary(a), summary(b), "{call:?}");
    }
}
