//! Range, partial composite key, rich and history queries: batches, iterators, the peer's errors.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::QueryResponse;
use ccaas_testkit::{Direction, PeerConfig, PeerEmulator, StateDatabase, Transcript};
use prost::Message;
use serde_json::Value;
use support::Probe;

fn json(payload: &[u8]) -> Value {
    serde_json::from_slice(payload).unwrap()
}

async fn peer_with(transcript: &Transcript) -> PeerEmulator {
    PeerEmulator::builder().transcript(transcript.hook()).connect_chaincode(Probe::default()).await.unwrap()
}

#[tokio::test]
async fn a_range_over_1050_keys_arrives_in_11_batches() {
    let transcript = Transcript::new();
    let peer = peer_with(&transcript).await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..1050).map(|i| (format!("key{i:05}"), format!("v{i}"))).collect::<Vec<_>>());

    let outcome = peer.query("range_keys", ["", ""]).await.unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    let keys: Vec<String> = serde_json::from_slice(&outcome.response.payload).unwrap();
    assert_eq!(keys.len(), 1050);
    assert_eq!(keys, (0..1050).map(|i| format!("key{i:05}")).collect::<Vec<_>>());

    // One GET_STATE_BY_RANGE and ten QUERY_STATE_NEXT, answered with 10 × 100 rows then 50.
    let stats = peer.stats();
    assert_eq!(stats.count(Type::GetStateByRange), 1);
    assert_eq!(stats.count(Type::QueryStateNext), 10);
    assert_eq!(stats.count(Type::QueryStateClose), 0);
    assert_eq!(stats.iterators_exhausted, 1);
    let batches: Vec<(usize, bool)> = transcript
        .for_tx(&outcome.tx_id)
        .iter()
        .filter(|e| e.direction == Direction::PeerToChaincode && e.kind() == Some(Type::Response))
        .map(|e| {
            let response = QueryResponse::decode(e.message.payload.clone()).unwrap();
            (response.results.len(), response.has_more)
        })
        .collect();
    let mut expected = vec![(100, true); 10];
    expected.push((50, false));
    assert_eq!(batches, expected);
    // Every request of the transaction waited for the previous reply.
    assert!(peer.violations().is_empty());
}

#[tokio::test]
async fn an_early_close_sends_query_state_close_and_the_iterator_is_gone() {
    let transcript = Transcript::new();
    let peer = peer_with(&transcript).await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..1050).map(|i| (format!("key{i:05}"), "v")).collect::<Vec<_>>());

    let outcome = peer.query("range_close_early", ["", "", "5"]).await.unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    let iterator_id = outcome.payload_str().into_owned();
    assert!(!iterator_id.is_empty());

    let stats = peer.stats();
    assert_eq!(stats.count(Type::QueryStateClose), 1);
    assert_eq!(stats.iterators_closed_by_chaincode, 1, "{stats:?}");
    assert_eq!(stats.iterators_closed_at_completion, 0);
    let closes: Vec<_> =
        transcript.for_tx(&outcome.tx_id).into_iter().filter(|e| e.kind() == Some(Type::QueryStateClose)).collect();
    assert_eq!(closes.len(), 1);
    assert!(closes[0].to_string().contains(&iterator_id));
    // Nothing of the transaction stays open.
    assert!(peer.model().open_iterators(&outcome.channel_id, &outcome.tx_id).is_empty());
}

#[tokio::test]
async fn a_dropped_iterator_is_closed_before_the_next_request() {
    let transcript = Transcript::new();
    let peer = peer_with(&transcript).await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..300).map(|i| (format!("key{i:05}"), "v")).collect::<Vec<_>>());
    let outcome = peer.query("range_drop_early", ["", "", "3"]).await.unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    let kinds: Vec<String> = transcript
        .for_tx(&outcome.tx_id)
        .iter()
        .filter(|e| e.direction == Direction::ChaincodeToPeer)
        .map(|e| e.type_name())
        .collect();
    let close = kinds.iter().position(|k| k == "QUERY_STATE_CLOSE").expect("a close");
    let get = kinds.iter().position(|k| k == "GET_STATE").expect("the next request");
    assert!(close < get, "{kinds:?}");
    assert_eq!(peer.stats().iterators_closed_by_chaincode, 1);
    assert!(peer.violations().is_empty());
}

#[tokio::test]
async fn a_fully_read_range_is_finished_by_the_peer() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..250).map(|i| (format!("key{i:05}"), "v")).collect::<Vec<_>>());
    // `range_keys` reads everything; the iterator is finished by the peer.
    peer.query("range_keys", ["", ""]).await.unwrap();
    let stats = peer.stats();
    assert_eq!((stats.iterators_opened, stats.iterators_exhausted), (1, 1));
    assert!(peer.model().running_transactions().is_empty());
}

#[tokio::test]
async fn partial_composite_key_queries_and_simple_ranges_skip_composite_keys() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    for (color, name) in [("blue", "a1"), ("blue", "a2"), ("red", "a3"), ("bluegreen", "a4")] {
        let outcome = peer.invoke("put_composite", ["color~name", color, name, "x"]).await.unwrap();
        assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
        assert_eq!(outcome.payload_str(), format!("\u{0}color~name\u{0}{color}\u{0}{name}\u{0}"));
    }
    peer.invoke("put", ["simple1", "s"]).await.unwrap();
    peer.invoke("put", ["simple2", "s"]).await.unwrap();

    let blue = peer.query("partial", ["color~name", "blue"]).await.unwrap();
    assert_eq!(
        json(&blue.response.payload),
        serde_json::json!([["color~name", "blue", "a1"], ["color~name", "blue", "a2"]])
    );
    let all = peer.query("partial", ["color~name"]).await.unwrap();
    assert_eq!(json(&all.response.payload).as_array().unwrap().len(), 4);
    let none = peer.query("partial", ["color~name", "green"]).await.unwrap();
    assert_eq!(json(&none.response.payload), serde_json::json!([]));

    // "" .. "" starts at U+0001: only simple keys.
    let simple = peer.query("range_keys", ["", ""]).await.unwrap();
    assert_eq!(json(&simple.response.payload), serde_json::json!(["simple1", "simple2"]));
    // The ledger holds all six.
    assert_eq!(peer.ledger().len(peer.chaincode_name()), 6);
}

#[tokio::test]
async fn rich_queries_fail_on_leveldb_with_the_peer_text() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    let outcome = peer.query("rich", [r#"{"selector":{"color":"blue"}}"#]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert_eq!(
        outcome.response.message,
        format!("GET_QUERY_RESULT failed: transaction ID: {}: ExecuteQuery not supported for leveldb", outcome.tx_id)
    );
}

#[tokio::test]
async fn rich_queries_run_on_the_couchdb_model() {
    let peer = PeerEmulator::builder()
        .state_database(StateDatabase::CouchDb)
        .connect_chaincode(Probe::default())
        .await
        .unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(
        &ns,
        [
            ("a1", r#"{"color":"blue","size":5}"#),
            ("a2", r#"{"color":"red","size":10}"#),
            ("a3", r#"{"color":"blue","size":15}"#),
        ],
    );
    let outcome = peer
        .query("rich", [r#"{"selector":{"color":"blue","size":{"$gt":1}},"sort":[{"size":"desc"}],"fields":["size"]}"#])
        .await
        .unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    assert_eq!(
        json(&outcome.response.payload),
        serde_json::json!([{"key": "a3", "value": "{\"size\":15}"}, {"key": "a1", "value": "{\"size\":5}"}])
    );
    // CouchDB rejects reserved fields in values.
    let outcome = peer.invoke("put", ["a4", r#"{"_id":"x"}"#]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert!(outcome.response.message.ends_with("field [_id] is not valid for the CouchDB state database"));
    // And an unsupported operator is an error, not a silent mismatch.
    let outcome = peer.query("rich", [r#"{"selector":{"color":{"$regex":"b"}}}"#]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert!(outcome.response.message.contains("$regex"), "{}", outcome.response.message);
}

#[tokio::test]
async fn history_lists_committed_changes_newest_first() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    let first = peer.invoke("put", ["car", "red"]).await.unwrap();
    let second = peer.invoke("put", ["car", "blue"]).await.unwrap();
    let failed = peer.invoke("put_then_fail", ["car", "green"]).await.unwrap();
    assert_eq!(failed.status(), 500);
    let third = peer.invoke("del", ["car"]).await.unwrap();
    let evaluated = peer.query("put", ["car", "pink"]).await.unwrap();
    assert!(!evaluated.is_committed());

    let history = peer.query("history", ["car"]).await.unwrap();
    assert_eq!(history.status(), 200, "{}", history.response.message);
    assert_eq!(
        json(&history.response.payload),
        serde_json::json!([
            {"tx_id": third.tx_id, "value": "", "is_delete": true},
            {"tx_id": second.tx_id, "value": "blue", "is_delete": false},
            {"tx_id": first.tx_id, "value": "red", "is_delete": false},
        ])
    );
    assert_eq!(peer.ledger().history(peer.chaincode_name(), "car").len(), 3);
}

#[tokio::test]
async fn history_disabled_gives_the_peer_text() {
    let peer = PeerEmulator::builder().history_enabled(false).connect_chaincode(Probe::default()).await.unwrap();
    let outcome = peer.query("history", ["car"]).await.unwrap();
    assert_eq!(
        outcome.response.message,
        format!("GET_HISTORY_FOR_KEY failed: transaction ID: {}: history database is not enabled", outcome.tx_id)
    );
}

#[tokio::test]
async fn the_total_query_limit_caps_a_range() {
    let config = PeerConfig { total_query_limit: 150, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(Probe::default()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..400).map(|i| (format!("key{i:05}"), "v")).collect::<Vec<_>>());
    let outcome = peer.query("range_keys", ["", ""]).await.unwrap();
    let keys: Vec<String> = serde_json::from_slice(&outcome.response.payload).unwrap();
    assert_eq!(keys.len(), 150);
}

#[tokio::test]
async fn a_transaction_reads_the_state_as_of_its_start() {
    let probe = Probe::default();
    let peer = PeerEmulator::builder().connect_chaincode(probe.clone()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("k1", "a"), ("k2", "b")]);
    let snapshot_tx = {
        let peer = peer.clone();
        // Blocks until released, then reads: it must still see the state of its start.
        tokio::spawn(async move { peer.query("wait_then_range", [""; 0]).await })
    };
    probe.waiting.notified().await;
    peer.ledger().seed(&ns, [("k3", "c")]);
    probe.gate.notify_one();
    let outcome = snapshot_tx.await.unwrap().unwrap();
    assert_eq!(json(&outcome.response.payload), serde_json::json!(["k1", "k2"]));
    let range = peer.query("range_keys", ["", ""]).await.unwrap();
    assert_eq!(json(&range.response.payload), serde_json::json!(["k1", "k2", "k3"]));
}
