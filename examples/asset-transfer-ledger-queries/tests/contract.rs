//! The asset-transfer-ledger-queries example, in-process with `ccaas_testkit::Emulator` on a
//! CouchDB state database: the `color~name` composite key index, range queries with and without
//! pagination, rich queries, a key's history, and the packaged CouchDB index.

use std::path::Path;

use asset_transfer_ledger_queries::SimpleChaincode;
use ccaas_package::{build_package, inspect, read_meta_inf_dir, ConnectionSpec, PackageSpec};
use ccaas_testkit::{Emulator, StateDatabase};
use serde_json::{json, Value};

const NO_ARGS: [&str; 0] = [];

async fn peer() -> Emulator {
    let peer = Emulator::builder().peer(|b| b.state_database(StateDatabase::CouchDb)).in_process(SimpleChaincode).await;
    peer.submit("InitLedger", NO_ARGS).await.unwrap().assert_ok();
    peer
}

/// The ids of the assets in a JSON array payload (none for an empty payload).
fn ids(records: &Value) -> Vec<&str> {
    records.as_array().map_or(Vec::new(), |a| a.iter().map(|r| r["ID"].as_str().unwrap()).collect())
}

async fn evaluate(peer: &Emulator, function: &str, args: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let outcome = peer.evaluate(function, args).await.unwrap();
    outcome.assert_ok();
    serde_json::from_slice(&outcome.response.payload).unwrap_or(Value::Null)
}

#[tokio::test]
async fn assets_are_stored_with_a_color_index_and_found_by_range() {
    let peer = peer().await;
    assert_eq!(
        peer.evaluate("ReadAsset", ["asset1"]).await.unwrap().assert_ok().payload_str(),
        r#"{"docType":"asset","ID":"asset1","color":"blue","size":5,"owner":"Tomoko","appraisedValue":300}"#
    );
    assert_eq!(peer.state("\u{0}color~name\u{0}blue\u{0}asset1\u{0}").unwrap(), [0u8].as_slice());

    // Composite keys are outside simple-key ranges.
    assert_eq!(ids(&evaluate(&peer, "GetAssetsByRange", &["asset1", "asset3"]).await), ["asset1", "asset2"]);
    assert!(peer.evaluate("GetAssetsByRange", ["x", "y"]).await.unwrap().response.payload.is_empty());

    let first = evaluate(&peer, "GetAssetsByRangeWithPagination", &["", "", "4", ""]).await;
    assert_eq!(
        (ids(&first["records"]), &first["fetchedRecordsCount"]),
        (vec!["asset1", "asset2", "asset3", "asset4"], &json!(4))
    );
    let bookmark = first["bookmark"].as_str().unwrap();
    let rest = evaluate(&peer, "GetAssetsByRangeWithPagination", &["", "", "4", bookmark]).await;
    assert_eq!((ids(&rest["records"]), &rest["fetchedRecordsCount"]), (vec!["asset5", "asset6"], &json!(2)));

    peer.submit("TransferAssetByColor", ["blue", "jerry"]).await.unwrap().assert_ok();
    assert_eq!(evaluate(&peer, "ReadAsset", &["asset1"]).await["owner"], "jerry");
    peer.submit("CreateAsset", ["asset1", "red", "1", "x", "1"])
        .await
        .unwrap()
        .assert_error("asset already exists: asset1");
}

#[tokio::test]
async fn rich_queries_select_with_mango_and_paginate() {
    let peer = peer().await;
    peer.submit("TransferAsset", ["asset2", "Tomoko"]).await.unwrap().assert_ok();
    assert_eq!(ids(&evaluate(&peer, "QueryAssetsByOwner", &["Tomoko"]).await), ["asset1", "asset2"]);
    let big = r#"{"selector":{"docType":"asset","size":{"$gt":10}},"sort":[{"size":"desc"}]}"#;
    assert_eq!(ids(&evaluate(&peer, "QueryAssets", &[big]).await), ["asset5", "asset6"]);

    let all = r#"{"selector":{"docType":"asset"}}"#;
    let first = evaluate(&peer, "QueryAssetsWithPagination", &[all, "4", ""]).await;
    assert_eq!(first["fetchedRecordsCount"], 4);
    let rest = evaluate(&peer, "QueryAssetsWithPagination", &[all, "4", first["bookmark"].as_str().unwrap()]).await;
    assert_eq!(rest["fetchedRecordsCount"], 2);
    let mut seen = [ids(&first["records"]), ids(&rest["records"])].concat();
    seen.sort();
    assert_eq!(seen, ["asset1", "asset2", "asset3", "asset4", "asset5", "asset6"]);
    let none = evaluate(&peer, "QueryAssetsWithPagination", &[r#"{"selector":{"owner":"nobody"}}"#, "4", ""]).await;
    assert_eq!(none["records"], Value::Null, "Go's nil slice");
}

#[tokio::test]
async fn the_history_of_an_asset_lists_every_change() {
    let peer = peer().await;
    let transfer = peer.submit("TransferAsset", ["asset2", "jerry"]).await.unwrap();
    let delete = peer.submit("DeleteAsset", ["asset2"]).await.unwrap();
    assert!(delete
        .assert_ok()
        .writes
        .iter()
        .any(|w| w.key == "\u{0}color~name\u{0}red\u{0}asset2\u{0}" && w.is_delete()));

    let history = evaluate(&peer, "GetAssetHistory", &["asset2"]).await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 3);
    // Newest first, as the peer returns history.
    assert_eq!((&history[0]["isDelete"], &history[0]["txId"]), (&json!(true), &json!(delete.tx_id)));
    assert_eq!(
        history[0]["record"],
        json!({"docType":"","ID":"asset2","color":"","size":0,"owner":"","appraisedValue":0})
    );
    assert_eq!((&history[1]["txId"], &history[1]["record"]["owner"]), (&json!(transfer.tx_id), &json!("jerry")));
    assert_eq!((&history[2]["isDelete"], &history[2]["record"]["owner"]), (&json!(false), &json!("Brad")));
    for entry in history {
        let time = entry["timestamp"].as_str().unwrap();
        assert!(time.ends_with('Z') && time.contains('T') && !time.ends_with("0Z") && !time.ends_with(".Z"), "{time}");
    }
    peer.evaluate("ReadAsset", ["asset2"]).await.unwrap().assert_error("asset asset2 does not exist");
}

#[tokio::test]
async fn the_couchdb_index_is_packaged() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = PackageSpec::ccaas("ledger_1.0", ConnectionSpec::new("ledger:9999"));
    let built = build_package(&spec.with_meta_inf(read_meta_inf_dir(dir).unwrap())).unwrap();
    let report = inspect(&built.bytes).unwrap();
    let index = report.meta_inf.iter().find(|f| f.path == "statedb/couchdb/indexes/indexOwner.json").unwrap();
    let index: Value = serde_json::from_slice(&index.contents).unwrap();
    assert_eq!(index["index"]["fields"], json!(["docType", "owner"]));
}
