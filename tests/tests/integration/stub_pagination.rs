//! Paginated queries through the shim on the CouchDB-mode peer model: ranges, partial composite
//! keys, every composite key and rich queries, followed page by page with bookmarks; and the
//! peer's read-only rule.

use crate::support;

use ccaas_testkit::{PeerEmulator, StateDatabase};
use serde_json::Value;
use support::{payload_json, StubProbe};

async fn couch() -> PeerEmulator {
    PeerEmulator::builder()
        .chaincode_name("basic")
        .state_database(StateDatabase::CouchDb)
        .connect_chaincode(StubProbe)
        .await
        .unwrap()
}

fn keys(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

/// Follows the bookmarks of `function` (its arguments built from the bookmark) until the last
/// page; returns (keys, count, bookmark) per page.
async fn pages(
    peer: &PeerEmulator,
    function: &str,
    args: impl Fn(&str) -> Vec<String>,
) -> Vec<(Vec<String>, i64, String)> {
    let mut out = Vec::new();
    let mut bookmark = String::new();
    loop {
        let page = payload_json(&peer.query(function, args(&bookmark)).await.unwrap());
        let next = page["bookmark"].as_str().unwrap().to_string();
        out.push((keys(&page), page["count"].as_i64().unwrap(), next.clone()));
        if next.is_empty() || out.len() > 20 {
            return out;
        }
        bookmark = next;
    }
}

fn own(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_range_is_read_page_by_page_with_bookmarks() {
    let peer = couch().await;
    peer.ledger().seed("basic", (0..25).map(|i| (format!("k{i:02}"), format!(r#"{{"n":{i}}}"#))).collect::<Vec<_>>());
    let all = pages(&peer, "page_range", |b| own(&["", "", "10", b])).await;
    let summary: Vec<(usize, i64, &str)> = all.iter().map(|(k, c, b)| (k.len(), *c, b.as_str())).collect();
    assert_eq!(summary, [(10, 10, "k10"), (10, 10, "k20"), (5, 5, "")]);
    assert_eq!(all[1].0.first().map(String::as_str), Some("k10"));
    let every: Vec<String> = all.into_iter().flat_map(|(k, _, _)| k).collect();
    assert_eq!(every, (0..25).map(|i| format!("k{i:02}")).collect::<Vec<_>>());
    // Bounded: the end key still applies to later pages.
    let bounded = pages(&peer, "page_range", |b| own(&["k05", "k12", "4", b])).await;
    let every: Vec<String> = bounded.into_iter().flat_map(|(k, _, _)| k).collect();
    assert_eq!(every, (5..12).map(|i| format!("k{i:02}")).collect::<Vec<_>>());
    // One GET_STATE_BY_RANGE per page, no QUERY_STATE_NEXT.
    let stats = peer.stats();
    assert_eq!(stats.count(ccaas_protos::protos::chaincode_message::Type::QueryStateNext), 0);
}

#[tokio::test]
async fn partial_composite_keys_and_all_composite_keys_paginate() {
    let peer = couch().await;
    for (color, name) in [("blue", "a1"), ("blue", "a2"), ("blue", "a3"), ("blue", "a4"), ("blue", "a5"), ("red", "b1")]
    {
        let outcome = peer.invoke("put_composite", ["color~name", color, name, "{}"]).await.unwrap();
        assert!(outcome.is_committed(), "{}", outcome.response.message);
    }
    peer.invoke("put_composite", ["owner~name", "tom", "a1", "{}"]).await.unwrap();
    peer.invoke("put", ["simple", "{}"]).await.unwrap();

    let blue = pages(&peer, "page_partial", |b| own(&["color~name", "2", b, "blue"])).await;
    let sizes: Vec<usize> = blue.iter().map(|(k, _, _)| k.len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let names: Vec<String> = blue.iter().flat_map(|(k, _, _)| k.clone()).collect();
    assert_eq!(names.len(), 5);
    assert!(names.iter().all(|k| k.contains("blue")), "{names:?}");
    assert_eq!(blue[0].2, "\u{0}color~name\u{0}blue\u{0}a3\u{0}");

    // Every composite key, whatever its type; simple keys are not included.
    let all = pages(&peer, "page_all_composite", |b| own(&["3", b])).await;
    let sizes: Vec<usize> = all.iter().map(|(k, _, _)| k.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let keys: Vec<String> = all.into_iter().flat_map(|(k, _, _)| k).collect();
    assert_eq!(keys.len(), 7);
    assert!(keys.iter().all(|k| k.starts_with(r"\0")), "{keys:?}");
    assert_eq!(keys.last().unwrap(), r"\0owner~name\0tom\0a1\0");
}

#[tokio::test]
async fn rich_queries_paginate_on_couchdb() {
    let peer = couch().await;
    let docs: Vec<(String, String)> = (0..7)
        .map(|i| {
            (format!("asset{i}"), format!(r#"{{"color":"{}","size":{i}}}"#, if i % 2 == 0 { "blue" } else { "red" }))
        })
        .collect();
    peer.ledger().seed("basic", docs);
    let query = r#"{"selector":{"color":"blue"},"sort":[{"size":"desc"}]}"#;
    let all = pages(&peer, "page_rich", |b| own(&[query, "3", b])).await;
    let summary: Vec<(Vec<String>, i64)> = all.iter().map(|(k, c, _)| (k.clone(), *c)).collect();
    assert_eq!(summary, [(own(&["asset6", "asset4", "asset2"]), 3), (own(&["asset0"]), 1)]);
    assert!(!all[0].2.is_empty());
}

#[tokio::test]
async fn a_paginated_transaction_is_read_only() {
    let peer = couch().await;
    peer.ledger().seed("basic", [("a", "{}"), ("b", "{}"), ("c", "{}")]);
    let outcome = peer.invoke("page_then_put", [""; 0]).await.unwrap();
    assert_eq!(
        outcome.response.message,
        format!(
            "PUT_STATE failed: transaction ID: {0}: txid [{0}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed",
            outcome.tx_id
        )
    );
    let outcome = peer.invoke("put_then_page", [""; 0]).await.unwrap();
    assert_eq!(
        outcome.response.message,
        format!(
            "GET_STATE_BY_RANGE failed: transaction ID: {0}: txid [{0}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction",
            outcome.tx_id
        )
    );
    assert!(!outcome.is_committed());
    // A paginated rich query on LevelDB fails with the peer's text.
    let leveldb = PeerEmulator::builder().chaincode_name("basic").connect_chaincode(StubProbe).await.unwrap();
    let outcome = leveldb.query("page_rich", [r#"{"selector":{}}"#, "2", ""]).await.unwrap();
    assert_eq!(
        outcome.response.message,
        format!(
            "GET_QUERY_RESULT failed: transaction ID: {}: ExecuteQueryWithMetadata not supported for leveldb",
            outcome.tx_id
        )
    );
}
