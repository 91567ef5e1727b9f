//! Private data through the whole stack: `ccaas-shim`'s private data API against the peer
//! model's collections, access checks, hashes, purge and the peer's error texts.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::{DelState, GetStateByRange, QueryMetadata, QueryResponse};
use ccaas_testkit::model::CollectionConfig;
use ccaas_testkit::{EmulatorBuilder, Identity, PeerEmulator, StateDatabase};
use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{payload_json, to_hex, RawChaincode, StubProbe};

/// `secrets`: Org1 only, members-only reads and writes. `org2only`: the peer (Org1MSP) is not a
/// member, anyone may read and write. `shared`: both orgs.
fn collections(builder: EmulatorBuilder) -> EmulatorBuilder {
    builder
        .collection(CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true).member_only_write(true))
        .collection(CollectionConfig::new("org2only", ["Org2MSP"]))
        .collection(CollectionConfig::new("shared", ["Org1MSP", "Org2MSP"]))
}

async fn peer_with(database: StateDatabase) -> PeerEmulator {
    collections(PeerEmulator::builder().chaincode_name("basic").state_database(database))
        .connect_chaincode(StubProbe)
        .await
        .unwrap()
}

async fn peer() -> PeerEmulator {
    peer_with(StateDatabase::LevelDb).await
}

fn org2() -> Identity {
    static ORG2: std::sync::OnceLock<Identity> = std::sync::OnceLock::new();
    ORG2.get_or_init(|| Identity::generate("Org2MSP", "User1@org2.example.com")).clone()
}

fn sha256_hex(value: &[u8]) -> String {
    to_hex(&Sha256::digest(value))
}

/// The message of a failed outcome, checked to be the peer's wrapped error for `kind`.
fn peer_error(outcome: &ccaas_testkit::TxOutcome, kind: &str) -> String {
    assert_eq!(outcome.status(), 500, "{:?}", outcome.response);
    let prefix = format!("{kind} failed: transaction ID: {}: ", outcome.tx_id);
    let message = &outcome.response.message;
    message.strip_prefix(&prefix).unwrap_or_else(|| panic!("{message:?} does not start with {prefix:?}")).to_string()
}

#[tokio::test]
async fn a_private_write_is_invisible_until_commit_then_stores_the_value_and_its_hash() {
    let peer = peer().await;
    let outcome = peer.invoke("pput_then_get", ["secrets", "pin", "1234"]).await.unwrap();
    // Neither the value nor its hash is visible to the transaction that wrote it.
    assert_eq!(payload_json(&outcome), json!({"value": null, "hash": null}));
    assert!(outcome.is_committed());
    let write = outcome.writes.iter().find(|w| w.key == "pin").unwrap();
    assert_eq!(write.collection.as_deref(), Some("secrets"));

    let ledger = peer.ledger();
    assert_eq!(ledger.private("basic", "secrets", "pin").unwrap(), "1234");
    assert_eq!(to_hex(&ledger.private_hash("basic", "secrets", "pin").unwrap()), sha256_hex(b"1234"));
    assert!(ledger.get("basic", "pin").is_none(), "private data never reaches the public state");

    assert_eq!(payload_json(&peer.query("pget", ["secrets", "pin"]).await.unwrap()), json!("1234"));
    assert_eq!(payload_json(&peer.query("phash", ["secrets", "pin"]).await.unwrap()), json!(sha256_hex(b"1234")));
    assert_eq!(payload_json(&peer.query("pget", ["secrets", "missing"]).await.unwrap()), json!(null));
    assert_eq!(payload_json(&peer.query("phash", ["secrets", "missing"]).await.unwrap()), json!(null));

    // A value from the transient map (the way clients pass private data).
    let outcome =
        peer.transaction("pput_transient").args(["shared", "card", "card"]).transient("card", "4111").submit();
    assert!(outcome.await.unwrap().is_committed());
    assert_eq!(ledger.private("basic", "shared", "card").unwrap(), "4111");
    // An evaluated transaction commits nothing.
    peer.query("pput", ["shared", "never", "x"]).await.unwrap();
    assert!(ledger.private_hash("basic", "shared", "never").is_none());
    assert!(peer.violations().is_empty());
}

#[tokio::test]
async fn private_data_apis_are_refused_in_init() {
    let builder = PeerEmulator::builder().chaincode_name("basic").init_required("1.0");
    let peer = collections(builder).connect_chaincode(StubProbe).await.unwrap();
    for (function, args, kind) in [
        ("pget", vec!["secrets", "k"], "GET_STATE"),
        ("pput", vec!["secrets", "k", "v"], "PUT_STATE"),
        ("pdel", vec!["secrets", "k"], "DEL_STATE"),
        ("ppurge", vec!["secrets", "k"], "PURGE_PRIVATE_DATA"),
        ("phash", vec!["secrets", "k"], "GET_PRIVATE_DATA_HASH"),
        ("pmeta_get", vec!["secrets", "k"], "GET_STATE_METADATA"),
        ("pmeta_put", vec!["secrets", "k", "mk", "v"], "PUT_STATE_METADATA"),
        ("prange", vec!["secrets", "", ""], "GET_STATE_BY_RANGE"),
    ] {
        let tx = peer.transaction(function).args(args).tx_id(format!("init-{function}")).init();
        // The shim answers a failed Init with ERROR, as the Go shim does.
        let error = tx.submit().await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "transaction returned with failure: {kind} failed: transaction ID: init-{function}: private data APIs are not allowed in chaincode Init()"
            )
        );
    }
    // Public state is fine in Init (a failed INIT left the chaincode uninitialized).
    let outcome = peer.transaction("put").args(["k", "v"]).init().submit().await.unwrap();
    assert!(outcome.is_committed());
}

#[tokio::test]
async fn an_undefined_collection_gets_the_peer_texts() {
    let peer = peer().await;
    let outcome = peer.query("pget", ["nope", "k"]).await.unwrap();
    assert_eq!(peer_error(&outcome, "GET_STATE"), "collection mychannel/basic/nope could not be found");
    let outcome = peer.invoke("pput", ["nope", "k", "v"]).await.unwrap();
    assert_eq!(peer_error(&outcome, "PUT_STATE"), "collection mychannel/basic/nope could not be found");
    // The hash has no permission check: the simulator's collection-name check answers.
    let outcome = peer.query("phash", ["nope", "k"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "GET_PRIVATE_DATA_HASH"),
        "collection [nope] not defined in the collection config for chaincode [basic]"
    );
    // Stub-side validation: nothing is sent for an empty collection.
    let outcome = peer.query("pget", ["", "k"]).await.unwrap();
    assert_eq!(outcome.response.message, "collection must not be an empty string");
    let outcome = peer.invoke("ppurge", ["", "k"]).await.unwrap();
    assert_eq!(outcome.response.message, "collection must not be an empty string");
    assert_eq!(peer.stats().count(Type::PurgePrivateData), 0);
}

#[tokio::test]
async fn a_client_outside_the_collection_reads_the_hash_but_not_the_value() {
    let peer = peer().await;
    assert!(peer.invoke("pput", ["secrets", "pin", "1234"]).await.unwrap().is_committed());

    let as_org2 = |function: &'static str, args: Vec<&'static str>| {
        peer.transaction(function).args(args).creator(org2()).submit()
    };
    let outcome = as_org2("pget", vec!["secrets", "pin"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "GET_STATE"),
        "tx creator does not have read access permission on privatedata in chaincodeName:basic collectionName: secrets"
    );
    let outcome = as_org2("phash", vec!["secrets", "pin"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!(sha256_hex(b"1234")));
    let outcome = as_org2("pput", vec!["secrets", "pin", "0000"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "PUT_STATE"),
        "tx creator does not have write access permission on privatedata in chaincodeName:basic collectionName: secrets"
    );
    let outcome = as_org2("ppurge", vec!["secrets", "pin"]).await.unwrap();
    assert!(peer_error(&outcome, "PURGE_PRIVATE_DATA").starts_with("tx creator does not have write access"));
    let outcome = as_org2("prange", vec!["secrets", "", ""]).await.unwrap();
    assert!(peer_error(&outcome, "GET_STATE_BY_RANGE").starts_with("tx creator does not have read access"));
    assert_eq!(peer.ledger().private("basic", "secrets", "pin").unwrap(), "1234");

    // A collection both orgs belong to is open to both.
    assert!(as_org2("pput", vec!["shared", "k", "v"]).await.unwrap().is_committed());
    assert_eq!(payload_json(&as_org2("pget", vec!["shared", "k"]).await.unwrap()), json!("v"));
}

#[tokio::test]
async fn a_peer_outside_the_collection_stores_only_hashes() {
    let peer = collections(PeerEmulator::builder().chaincode_name("basic").get_multiple_keys(true, 100))
        .connect_chaincode(StubProbe)
        .await
        .unwrap();
    // Org1's client may write `org2only` (writes are open), but this Org1 peer keeps the hash only.
    let outcome = peer.invoke("pput", ["org2only", "k", "v"]).await.unwrap();
    assert!(outcome.is_committed());
    let ledger = peer.ledger();
    assert!(ledger.private("basic", "org2only", "k").is_none());
    assert_eq!(to_hex(&ledger.private_hash("basic", "org2only", "k").unwrap()), sha256_hex(b"v"));
    assert!(!peer.model().stores_private_data("basic", "org2only"));

    assert_eq!(ledger.private_hashes("basic", "org2only").len(), 1);
    let block = ledger.height();
    let outcome = peer.query("pget", ["org2only", "k"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "GET_STATE"),
        format!(
            "private data matching public hash version is not available. Public hash version = {{BlockNum: {block}, TxNum: 0}}, Private data version = <nil>"
        )
    );
    assert_eq!(payload_json(&peer.query("phash", ["org2only", "k"]).await.unwrap()), json!(sha256_hex(b"v")));
    // A multi-key read has no hash-version check: the value is simply absent here.
    let outcome = peer.query("script", ["pmget:org2only:k,other"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!([[null, null]]));

    // Implicit collections: the peer's own org's is stored, another org's is hashed only, and an
    // org outside the channel has none.
    assert!(peer.invoke("pput", ["_implicit_org_Org1MSP", "mine", "1"]).await.unwrap().is_committed());
    assert!(peer.invoke("pput", ["_implicit_org_Org2MSP", "theirs", "2"]).await.unwrap().is_committed());
    assert_eq!(ledger.private("basic", "_implicit_org_Org1MSP", "mine").unwrap(), "1");
    assert!(ledger.private("basic", "_implicit_org_Org2MSP", "theirs").is_none());
    assert!(ledger.private_hash("basic", "_implicit_org_Org2MSP", "theirs").is_some());
    let outcome = peer.invoke("pput", ["_implicit_org_Org9MSP", "k", "v"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "PUT_STATE"),
        "collection [_implicit_org_Org9MSP] not defined in the collection config for chaincode [basic]"
    );
}

#[tokio::test]
async fn delete_and_purge_remove_the_value_and_its_hash() {
    let peer = peer().await;
    let ledger = peer.ledger();
    ledger.seed_private("basic", "secrets", [("a", "1"), ("b", "2")]);
    assert!(peer.invoke("pdel", ["secrets", "a"]).await.unwrap().is_committed());
    assert!(ledger.private("basic", "secrets", "a").is_none());
    assert!(ledger.private_hash("basic", "secrets", "a").is_none());
    let outcome = peer.invoke("ppurge", ["secrets", "b"]).await.unwrap();
    assert!(outcome.is_committed());
    assert!(outcome.writes.iter().any(|w| w.key == "b" && w.is_delete()));
    assert!(ledger.private("basic", "secrets", "b").is_none());
    assert!(ledger.private_hash("basic", "secrets", "b").is_none());
    assert_eq!(payload_json(&peer.query("pget", ["secrets", "b"]).await.unwrap()), json!(null));
    assert_eq!(peer.stats().count(Type::PurgePrivateData), 1);
}

#[tokio::test]
async fn private_ranges_partial_composite_keys_and_rich_queries() {
    let peer = peer_with(StateDatabase::CouchDb).await;
    let ledger = peer.ledger();
    ledger.seed_private("basic", "shared", [("a1", r#"{"color":"blue"}"#), ("a2", r#"{"color":"red"}"#)]);
    ledger.seed("basic", [("public", r#"{"color":"blue"}"#)]);
    for (color, name) in [("blue", "x"), ("blue", "y"), ("red", "z")] {
        let outcome = peer.invoke("pput_composite", ["shared", "color~name", color, name, "{}"]).await.unwrap();
        assert!(outcome.is_committed(), "{}", outcome.response.message);
    }

    let range = payload_json(&peer.query("prange", ["shared", "", ""]).await.unwrap());
    assert_eq!(
        range,
        json!([
            {"ns": "basic", "key": "a1", "value": r#"{"color":"blue"}"#},
            {"ns": "basic", "key": "a2", "value": r#"{"color":"red"}"#},
        ])
    );
    let partial = payload_json(&peer.query("ppartial", ["shared", "color~name", "blue"]).await.unwrap());
    let keys: Vec<&str> = partial.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [r"\0color~name\0blue\0x\0", r"\0color~name\0blue\0y\0"]);
    let rich = payload_json(&peer.query("prich", ["shared", r#"{"selector":{"color":"blue"}}"#]).await.unwrap());
    assert_eq!(rich, json!([{"ns": "basic", "key": "a1", "value": r#"{"color":"blue"}"#}]));

    // Private queries are for read-only transactions.
    let outcome = peer.invoke("prange_then_put", ["shared"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "PUT_STATE"),
        format!(
            "txid [{}]: unsuppored transaction. Transaction has already performed queries on pvt data. Writes are not allowed",
            outcome.tx_id
        )
    );
    let outcome = peer.invoke("put_then_prange", ["shared"]).await.unwrap();
    assert_eq!(
        peer_error(&outcome, "GET_STATE_BY_RANGE"),
        format!(
            "txid [{}]: unsuppored transaction. Queries on pvt data is supported only in a read-only transaction",
            outcome.tx_id
        )
    );
}

#[tokio::test]
async fn private_rich_queries_fail_on_leveldb() {
    let peer = peer().await;
    let outcome = peer.query("prich", ["shared", r#"{"selector":{}}"#]).await.unwrap();
    assert_eq!(peer_error(&outcome, "GET_QUERY_RESULT"), "ExecuteQuery not supported for leveldb");
}

#[tokio::test]
async fn private_ranges_are_never_paginated_but_the_page_size_caps_them() {
    let (peer, mut cc) = RawChaincode::connect(collections(PeerEmulator::builder().chaincode_name("raw"))).await;
    peer.ledger().seed_private("raw", "shared", (0..150).map(|i| (format!("k{i:03}"), "v")).collect::<Vec<_>>());
    let (task, tx) = cc.start(peer.transaction("f")).await;

    // Metadata with a page size: not paginated (no response metadata), but capped at 5 rows.
    let metadata = QueryMetadata { page_size: 5, bookmark: String::new() }.encode_to_vec();
    let request = GetStateByRange { collection: "shared".into(), metadata: metadata.into(), ..Default::default() }
        .encode_to_vec();
    let reply = cc.request(&tx, Type::GetStateByRange, request).await;
    let response = QueryResponse::decode(reply.payload).unwrap();
    assert_eq!((response.results.len(), response.has_more, response.metadata.len()), (5, false, 0));

    // Without metadata: batches of 100.
    let request = GetStateByRange { collection: "shared".into(), ..Default::default() }.encode_to_vec();
    let reply = cc.request(&tx, Type::GetStateByRange, request).await;
    let response = QueryResponse::decode(reply.payload).unwrap();
    assert_eq!((response.results.len(), response.has_more), (100, true));

    // The peer's own check for purge without a collection (the shim never sends one).
    let purge = DelState { key: "k".into(), collection: String::new() }.encode_to_vec();
    let reply = cc.request(&tx, Type::PurgePrivateData, purge).await;
    assert_eq!(reply.r#type, Type::Error as i32);
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!("PURGE_PRIVATE_DATA failed: transaction ID: {}: only applicable for private data", tx.txid)
    );
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
    assert!(peer.is_connected());
}

#[tokio::test]
async fn the_private_data_of_another_chaincode_is_out_of_reach() {
    let peer = peer().await;
    peer.ledger().seed_private("other", "secrets", [("k", "v")]);
    let outcome = peer.query("pget", ["secrets", "k"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!(null));
}

#[tokio::test]
async fn a_long_private_range_arrives_in_batches_through_the_iterator() {
    let peer = peer().await;
    peer.ledger().seed_private("basic", "shared", (0..250).map(|i| (format!("k{i:03}"), "v")).collect::<Vec<_>>());
    let rows = payload_json(&peer.query("prange", ["shared", "", ""]).await.unwrap());
    assert_eq!(rows.as_array().unwrap().len(), 250);
    let stats = peer.stats();
    assert_eq!((stats.count(Type::GetStateByRange), stats.count(Type::QueryStateNext)), (1, 2));
    assert!(peer.violations().is_empty());
}
