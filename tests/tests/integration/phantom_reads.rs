//! The validator's phantom read check: a public range query is recorded as the peer reads it
//! (Fabric's `RangeQueryInfo`) and re-run at commit; a transaction whose range would now return
//! other keys or versions is invalidated (`PHANTOM_READ_CONFLICT`) when MVCC validation is on.

use crate::support;

use ccaas_testkit::{CommitStatus, PeerConfig, PeerEmulator, RangeQueryInfo, Version};
use support::Probe;

/// Runs `range_wait_write start end n out v`; while it waits, `meanwhile` commits writes of its
/// own. Returns how the transaction ended, with the range info it recorded.
async fn range_then(
    validate_mvcc: bool,
    (start, end, n): (&str, &str, &str),
    meanwhile: &[(&str, &str)],
) -> (CommitStatus, RangeQueryInfo) {
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(probe.clone()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("a1", "v"), ("a2", "v"), ("a3", "v"), ("a5", "v"), ("b1", "v")]);
    let tx = {
        let peer = peer.clone();
        let args = [start.to_string(), end.to_string(), n.to_string(), "out".to_string(), "v".to_string()];
        tokio::spawn(async move { peer.invoke("range_wait_write", args).await })
    };
    probe.waiting.notified().await;
    for (key, value) in meanwhile {
        peer.ledger().seed(&ns, [(key.to_string(), value.to_string())]);
    }
    probe.gate.notify_one();
    let outcome = tx.await.unwrap().unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    assert_eq!(outcome.range_queries.len(), 1);
    let committed = peer.ledger().get(&ns, "out").is_some();
    assert_eq!(committed, outcome.commit == CommitStatus::Committed);
    (outcome.commit, outcome.range_queries[0].clone())
}

#[tokio::test]
async fn the_range_read_is_recorded_with_versions_and_exhaustion() {
    let (status, info) = range_then(true, ("a", "b", "all"), &[]).await;
    assert_eq!(status, CommitStatus::Committed);
    assert_eq!((info.start_key.as_str(), info.end_key.as_str(), info.exhausted), ("a", "b", true));
    let keys: Vec<&str> = info.reads.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a1", "a2", "a3", "a5"]);
    assert!(info.reads.iter().all(|(_, v)| *v == Version { block_num: 1, tx_num: 0 }));
}

#[tokio::test]
async fn a_key_added_inside_the_range_is_a_phantom() {
    let inserted = [("a4", "new")];
    assert_eq!(range_then(true, ("a", "b", "all"), &inserted).await.0, CommitStatus::PhantomReadConflict);
    // Without validation the model commits every endorsed transaction.
    assert_eq!(range_then(false, ("a", "b", "all"), &inserted).await.0, CommitStatus::Committed);
}

#[tokio::test]
async fn an_updated_or_deleted_key_in_the_range_is_a_phantom() {
    assert_eq!(range_then(true, ("a", "b", "all"), &[("a2", "changed")]).await.0, CommitStatus::PhantomReadConflict);
    assert_eq!(range_then(true, ("a", "b", "all"), &[("a2", "")]).await.0, CommitStatus::PhantomReadConflict);
}

#[tokio::test]
async fn keys_outside_the_range_do_not_matter() {
    let outside = [("b0", "new"), ("0", "new"), ("b1", "changed")];
    assert_eq!(range_then(true, ("a", "b", "all"), &outside).await.0, CommitStatus::Committed);
}

#[tokio::test]
async fn a_range_closed_early_counts_only_up_to_the_last_key_the_peer_read() {
    // The chaincode reads two rows, but the peer's iterator read the whole first batch (all
    // four keys, then found the end): the range is exhausted, so all of it counts.
    let (status, info) = range_then(true, ("a", "b", "2"), &[("a4", "new")]).await;
    assert_eq!(status, CommitStatus::PhantomReadConflict);
    assert!(info.exhausted);
}

#[tokio::test]
async fn an_unexhausted_range_counts_up_to_its_last_read_key() {
    // 350 keys; the chaincode reads 50 and closes. The peer's first answer read 101 keys (a batch
    // of 100 and the carried 101st); the shim asks for the next batch only when the chaincode
    // takes the 100th row, as the Go shim does, so the peer's iterator stopped at k100.
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc: true, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(probe.clone()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..350).map(|i| (format!("k{i:03}"), "v")));
    let run = |inserted: &'static str| {
        let peer = peer.clone();
        let probe = probe.clone();
        let ns = ns.clone();
        async move {
            let tx = {
                let peer = peer.clone();
                tokio::spawn(async move { peer.invoke("range_wait_write", ["k", "l", "50", "out", "v"]).await })
            };
            probe.waiting.notified().await;
            peer.ledger().seed(&ns, [(inserted, "new")]);
            probe.gate.notify_one();
            tx.await.unwrap().unwrap()
        }
    };
    // Past the last key read: not a phantom.
    let outcome = run("k100x").await;
    let info = &outcome.range_queries[0];
    assert_eq!((info.exhausted, info.reads.len(), info.reads.last().unwrap().0.as_str()), (false, 101, "k100"));
    assert_eq!(outcome.commit, CommitStatus::Committed);
    // Within what was read: a phantom.
    assert_eq!(run("k099x").await.commit, CommitStatus::PhantomReadConflict);
}

#[tokio::test]
async fn a_partial_composite_key_query_is_validated_as_the_range_it_is() {
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc: true, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(probe.clone()).await.unwrap();
    peer.invoke("put_composite", ["color", "blue", "a1"]).await.unwrap();
    let outcome = peer.invoke("partial", ["color", "blue"]).await.unwrap();
    let info = &outcome.range_queries[0];
    assert_eq!(info.start_key, "\u{0}color\u{0}blue\u{0}");
    assert_eq!(info.end_key, "\u{0}color\u{0}blue\u{0}\u{10FFFF}");
    assert!(info.exhausted && info.reads.len() == 1);
}
