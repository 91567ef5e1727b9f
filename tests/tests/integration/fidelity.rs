//! Fidelity with the Go shim (fabric-chaincode-go v2.3.0) and the peer on what a multi-peer
//! network compares or keeps: the keys a range query records in the read set, the writes of
//! failed transactions, when a refused write is reported with write batching, the fields of a
//! failed chaincode-to-chaincode call, metadata writes in a batch, and deletes of an empty key.
//! Each test runs with the peer advertising write batching and without, where that matters.

use crate::support;

use std::collections::BTreeMap;

use bytes::Bytes;
use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::{DelState, WriteBatchState};
use ccaas_shim::server::ServerConfig;
use ccaas_testkit::model::CollectionConfig;
use ccaas_testkit::{Direction, EmulatorBuilder, PeerEmulator, Transcript, TxOutcome};
use prost::Message;
use serde_json::{json, Value};
use support::{payload_json, StubProbe};

fn builder(batching: bool, transcript: &Transcript) -> EmulatorBuilder {
    let builder = PeerEmulator::builder()
        .chaincode_name("basic")
        .collection(CollectionConfig::new("shared", ["Org1MSP", "Org2MSP"]))
        .transcript(transcript.hook());
    if batching {
        builder.write_batch(true, 1000)
    } else {
        builder
    }
}

async fn peer(batching: bool, transcript: &Transcript) -> PeerEmulator {
    builder(batching, transcript).connect_chaincode(StubProbe).await.unwrap()
}

/// How many messages of `kind` the chaincode sent in transaction `tx_id`.
fn sent(transcript: &Transcript, tx_id: &str, kind: Type) -> usize {
    transcript
        .for_tx(tx_id)
        .iter()
        .filter(|e| e.direction == Direction::ChaincodeToPeer && e.kind() == Some(kind))
        .count()
}

/// The keys the peer recorded as read by the transaction's one range query, and whether it
/// recorded the range as exhausted.
fn recorded_range(outcome: &TxOutcome) -> (Vec<String>, bool) {
    assert_eq!(outcome.range_queries.len(), 1, "{:?}", outcome.range_queries);
    let info = &outcome.range_queries[0];
    (info.reads.iter().map(|(key, _)| key.clone()).collect(), info.exhausted)
}

fn seed_300(peer: &PeerEmulator) {
    peer.ledger().seed("basic", (0..300).map(|i| (format!("k{i:03}"), "v")));
}

// ------------------------------------------------------------------ 1. range read sets

/// The peer hands out a batch of 100 and reads one row ahead (101 keys); the shim asks for the
/// next batch when the chaincode takes the last row of a batch, as Go's `nextResult` does. So the
/// recorded keys follow from the rows taken, however long the transaction runs after that.
#[tokio::test]
async fn a_range_records_the_same_keys_whatever_the_transaction_does_after_reading() {
    let transcript = Transcript::new();
    let peer = peer(false, &transcript).await;
    seed_300(&peer);
    // (rows taken, keys the peer records, exhausted, QUERY_STATE_NEXT sent): as with Go's shim.
    let cases = [
        (1, 101, false, 0),
        (99, 101, false, 0),
        (100, 201, false, 1),
        (101, 201, false, 1),
        (199, 201, false, 1),
        (200, 300, true, 2),
        (300, 300, true, 2),
    ];
    for (take, keys, exhausted, nexts) in cases {
        for yields in [0, 1, 10, 200] {
            let outcome = peer.query("script", [format!("range:::{take}:{yields}")]).await.unwrap();
            assert_eq!(payload_json(&outcome), json!([take]));
            let (recorded, was_exhausted) = recorded_range(&outcome);
            assert_eq!((recorded.len(), was_exhausted), (keys, exhausted), "{take} rows taken, {yields} yields");
            assert_eq!(recorded.last().unwrap(), &format!("k{:03}", keys - 1));
            // One QUERY_STATE_NEXT per batch the chaincode reached, never one more.
            let sent_nexts = sent(&transcript, &outcome.tx_id, Type::QueryStateNext);
            assert_eq!(sent_nexts, nexts, "{take} rows taken, {yields} yields");
        }
    }
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}

#[tokio::test]
async fn concurrent_transactions_reading_the_same_range_record_identical_read_sets() {
    let transcript = Transcript::new();
    let peer = peer(true, &transcript).await;
    seed_300(&peer);
    let runs = (0..32).map(|i| {
        let peer = peer.clone();
        // Each transaction takes one row, then keeps the runtime busy for a different while.
        let yields = (i * 37) % 101;
        async move { peer.query("script", [format!("range:::1:{yields}")]).await.unwrap() }
    });
    let outcomes = futures::future::join_all(runs).await;
    let first = recorded_range(&outcomes[0]);
    assert_eq!(first.0.len(), 101);
    for outcome in &outcomes {
        assert_eq!(recorded_range(outcome), first, "transaction {}", outcome.tx_id);
    }
    // No request of any transaction reached the peer after its COMPLETED.
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}

// ------------------------------------------------------------------ 2. flushes of failed transactions

/// In a chaincode-to-chaincode call the callee's writes belong to the caller's simulation. The Go
/// shim sends an open batch after every Invoke, whatever its status, so a caller that tolerates
/// the callee's failure keeps the callee's writes, batched or not.
#[tokio::test]
async fn a_failed_callees_batched_writes_stay_in_the_callers_transaction() {
    for batching in [false, true] {
        let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(StubProbe).await.unwrap();
        let transcript = Transcript::new();
        let _callee = builder(batching, &transcript).join(&caller).connect_chaincode(StubProbe).await.unwrap();
        let callee_args = ["script", "put:theirs=2", "fail:the callee gives up"];
        let args = ["basic", "", "mine", "1"].into_iter().chain(callee_args);
        let outcome = caller.invoke("call_then_put", args).await.unwrap();
        assert_eq!(payload_json(&outcome)["status"], json!(500), "batching {batching}");
        assert!(outcome.is_committed(), "batching {batching}");
        let written: Vec<(&str, &str)> =
            outcome.writes.iter().map(|w| (w.namespace.as_str(), w.key.as_str())).collect();
        assert_eq!(written, [("basic", "theirs"), ("caller", "mine")], "batching {batching}");
        assert_eq!(caller.ledger().get("basic", "theirs").unwrap(), "2");
        assert_eq!(sent(&transcript, &outcome.tx_id, Type::WriteBatchState), usize::from(batching));
        assert_eq!(sent(&transcript, &outcome.tx_id, Type::PutState), usize::from(!batching));
    }
}

/// Init skips the flush only when it fails with status 500 or more (the peer then gets ERROR).
#[tokio::test]
async fn init_sends_its_batch_unless_it_fails() {
    let transcript = Transcript::new();
    let peer = builder(true, &transcript).init_required("1.0").connect_chaincode(StubProbe).await.unwrap();
    let failed = peer.transaction("script").args(["put:k=v", "fail:not yet"]).init().submit().await.unwrap_err();
    assert_eq!(failed.to_string(), "transaction returned with failure: not yet");
    let init_messages: Vec<Type> = transcript
        .entries()
        .iter()
        .filter(|e| e.direction == Direction::ChaincodeToPeer && !e.message.txid.is_empty())
        .filter_map(|e| e.kind())
        .collect();
    assert_eq!(init_messages, [Type::Error], "no WRITE_BATCH_STATE before the failed Init's ERROR");
    let done = peer.transaction("script").args(["put:k=v"]).init().submit().await.unwrap();
    assert!(done.is_committed(), "{}", done.response.message);
    assert_eq!(sent(&transcript, &done.tx_id, Type::WriteBatchState), 1);
    assert_eq!(peer.ledger().get("basic", "k").unwrap(), "v");
    // A failing Invoke sends its batch all the same, as Go's handleTransaction does.
    let invoked = peer.invoke("script", ["put:k2=v", "fail:no"]).await.unwrap();
    assert_eq!(invoked.status(), 500);
    assert_eq!(sent(&transcript, &invoked.tx_id, Type::WriteBatchState), 1);
    assert!(!invoked.is_committed());
}

// ------------------------------------------------------------------ 3. when refused writes are reported

/// Runs `script` and answers its JSON output; the steps under `try:` report errors as values.
async fn script(peer: &PeerEmulator, steps: &[&str]) -> Value {
    let outcome = peer.invoke("script", steps.iter().map(|s| s.to_string()).collect::<Vec<_>>()).await.unwrap();
    payload_json(&outcome)
}

fn error_text(value: &Value) -> &str {
    value["error"].as_str().unwrap_or_else(|| panic!("expected an error, got {value}"))
}

/// What the shim can know is refused at the write itself, batched or not, so the chaincode can
/// catch it and still answer its own response.
#[tokio::test]
async fn writes_after_a_paginated_or_private_query_fail_at_the_write_batched_or_not() {
    for batching in [false, true] {
        let transcript = Transcript::new();
        let peer = peer(batching, &transcript).await;
        peer.ledger().seed("basic", [("a", "1")]);
        peer.ledger().seed_private("basic", "shared", [("p", "1")]);

        let out = script(&peer, &["page:10", "try:put:k=v", "try:del:a"]).await;
        for refused in [&out[1], &out[2]] {
            let text = error_text(refused);
            assert!(
                text.contains("Transaction has already performed a paginated query. Writes are not allowed"),
                "batching {batching}: {text}"
            );
        }
        let out = script(&peer, &["prange:shared", "try:put:k=v", "try:pput:shared:q=1"]).await;
        assert_eq!(out[0], json!(1));
        for refused in [&out[1], &out[2]] {
            let text = error_text(refused);
            assert!(
                text.contains("Transaction has already performed queries on pvt data. Writes are not allowed"),
                "batching {batching}: {text}"
            );
        }
        assert!(peer.ledger().get("basic", "k").is_none());
    }
}

/// The batch is sent before a query the peer refuses after a write, so the peer refuses it at
/// the query, as it does unbatched, instead of failing the whole transaction at the flush.
#[tokio::test]
async fn a_paginated_or_private_query_after_a_batched_write_is_refused_at_the_query() {
    for batching in [false, true] {
        let transcript = Transcript::new();
        let peer = peer(batching, &transcript).await;
        let out = script(&peer, &["put:k=v", "try:page:10"]).await;
        let text = error_text(&out[0]);
        assert!(text.contains("Paginated queries are supported only in a read-only transaction"), "{text}");
        let out = script(&peer, &["put:k=v", "try:prange:shared"]).await;
        let text = error_text(&out[0]);
        assert!(text.contains("Queries on pvt data is supported only in a read-only transaction"), "{text}");
        // The writes made before stand: the chaincode answered 200 and they were committed.
        assert_eq!(peer.ledger().get("basic", "k").unwrap(), "v");
    }
}

#[tokio::test]
async fn private_writes_in_init_fail_at_the_write_batched_or_not() {
    for batching in [false, true] {
        let transcript = Transcript::new();
        let peer = builder(batching, &transcript).init_required("1.0").connect_chaincode(StubProbe).await.unwrap();
        let outcome = peer.transaction("script").args(["try:pput:shared:k=v", "put:k=v"]).init().submit().await;
        let outcome = outcome.unwrap();
        let out = payload_json(&outcome);
        assert!(error_text(&out[0]).contains("private data APIs are not allowed in chaincode Init()"), "{out}");
        assert!(outcome.is_committed());
    }
}

/// What only the peer knows (here, a collection that does not exist) fails the transaction when
/// the batch is sent: the documented trade-off of batching by default.
#[tokio::test]
async fn a_write_only_the_peer_can_refuse_fails_the_transaction_at_the_flush() {
    let transcript = Transcript::new();
    let peer = peer(true, &transcript).await;
    let error = peer.invoke("script", ["try:pput:nope:k=v"]).await.unwrap_err().to_string();
    assert!(error.contains("failed send batch: WRITE_BATCH_STATE failed"), "{error}");
    assert!(error.contains("collection mychannel/basic/nope could not be found"), "{error}");
    // Unbatched, the write itself reports it and the chaincode goes on.
    let transcript = Transcript::new();
    let peer = self::peer(false, &transcript).await;
    let out = script(&peer, &["try:pput:nope:k=v"]).await;
    assert!(error_text(&out[0]).contains("collection mychannel/basic/nope could not be found"));
}

/// A transaction opts out with `finish_write_batch` (Go's `FinishWriteBatch`); a server with
/// `CHAINCODE_WRITE_BATCHING=false`.
#[tokio::test]
async fn batching_can_be_turned_off_per_transaction_and_per_server() {
    let transcript = Transcript::new();
    let peer = peer(true, &transcript).await;
    let outcome = peer.invoke("script", ["finish", "put:a=1", "put:b=2"]).await.unwrap();
    assert!(outcome.is_committed());
    assert_eq!(sent(&transcript, &outcome.tx_id, Type::PutState), 2);
    assert_eq!(sent(&transcript, &outcome.tx_id, Type::WriteBatchState), 0);

    let env = |value: &'static str| {
        move |name: &str| match name {
            "CHAINCODE_ID" => Some("basic_1.0:abc".to_string()),
            "CHAINCODE_WRITE_BATCHING" => Some(value.to_string()),
            _ => None,
        }
    };
    assert!(!ServerConfig::from_lookup(env("false")).unwrap().automatic_write_batching);
    assert!(ServerConfig::from_lookup(env("true")).unwrap().automatic_write_batching);
    let error = ServerConfig::from_lookup(env("off")).unwrap_err().to_string();
    assert!(error.contains("CHAINCODE_WRITE_BATCHING") && error.contains("off"), "{error}");
}

// ------------------------------------------------------------------ 5. metadata in a batch

/// Each PUT_STATE_METADATA replaces the key's whole metadata in the peer's write set, so setting
/// A, then B, then A leaves {A}, batched (as Go's batch keeps it) or not.
#[tokio::test]
async fn the_last_metadata_write_of_a_key_wins_batched_or_not() {
    for batching in [false, true] {
        let transcript = Transcript::new();
        let peer = peer(batching, &transcript).await;
        let steps = ["put:k1=v", "meta:k1:A=1", "meta:k1:B=2", "meta:k1:A=3"];
        let outcome = peer.invoke("script", steps).await.unwrap();
        assert!(outcome.is_committed());
        let expected = BTreeMap::from([("A".to_string(), Bytes::from("3"))]);
        assert_eq!(peer.ledger().metadata("basic", "k1"), expected, "batching {batching}");
    }
}

// ------------------------------------------------------------------ 6. deletes of an empty key

/// As the Go shim, deletes of `""` go to the peer, which decides (the LevelDB peer accepts them).
#[tokio::test]
async fn deletes_of_an_empty_key_are_left_to_the_peer() {
    for batching in [false, true] {
        let transcript = Transcript::new();
        let peer = peer(batching, &transcript).await;
        let outcome = peer.invoke("script", ["del:", "pdel:shared:", "purge:shared:"]).await.unwrap();
        assert!(outcome.is_committed(), "batching {batching}: {}", outcome.response.message);
        let keys: Vec<String> = transcript
            .for_tx(&outcome.tx_id)
            .iter()
            .filter(|e| e.direction == Direction::ChaincodeToPeer)
            .flat_map(|e| match e.kind() {
                Some(Type::DelState | Type::PurgePrivateData) => {
                    vec![DelState::decode(e.message.payload.clone()).unwrap().key]
                }
                Some(Type::WriteBatchState) => {
                    WriteBatchState::decode(e.message.payload.clone()).unwrap().rec.into_iter().map(|r| r.key).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        // In a batch the purge replaces the delete of the same private key (last write wins).
        let expected: &[&str] = if batching { &["", ""] } else { &["", "", ""] };
        assert_eq!(keys, expected, "batching {batching}");
    }
    // A put of "" is still refused by the shim, as by Go's.
    let peer = peer(false, &Transcript::new()).await;
    let out = script(&peer, &["try:put:=v"]).await;
    assert_eq!(error_text(&out[0]), "key must not be an empty string");
}
