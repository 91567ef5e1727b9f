//! Fabric's transaction simulation: what a transaction reads, what is committed, events,
//! timeouts, INIT and the proposal.

use crate::support;

use std::time::{Duration, UNIX_EPOCH};

use ccaas_testkit::{CommitStatus, EmulatorError, Identity, PeerConfig, PeerEmulator};
use serde_json::Value;
use support::Probe;

async fn peer() -> PeerEmulator {
    PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap()
}

/// The chaincode defined with `--init-required` (version 1.0): it takes INIT.
async fn init_required_peer() -> PeerEmulator {
    PeerEmulator::builder().init_required("1.0").connect_chaincode(Probe::default()).await.unwrap()
}

#[tokio::test]
async fn writes_of_a_failed_transaction_are_not_committed() {
    let peer = peer().await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("k", "before")]);
    let height = peer.ledger().height();
    let outcome = peer.invoke("put_then_fail", ["k", "after"]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert_eq!(outcome.response.message, "failed on purpose");
    assert_eq!(outcome.commit, CommitStatus::NotEndorsed);
    // The write was simulated but never committed; the event of a failed transaction is dropped.
    assert_eq!(outcome.writes.len(), 1);
    assert!(outcome.event.is_none());
    assert_eq!(peer.ledger().get(&ns, "k").unwrap(), "before");
    assert_eq!(peer.ledger().height(), height);
}

#[tokio::test]
async fn a_transaction_does_not_read_its_own_writes() {
    let peer = peer().await;
    let ns = peer.chaincode_name().to_string();
    let outcome = peer.invoke("put_then_get", ["fresh", "new"]).await.unwrap();
    assert_eq!(outcome.payload_str(), "<absent>");
    assert_eq!(peer.ledger().get(&ns, "fresh").unwrap(), "new");

    peer.ledger().seed(&ns, [("old", "committed")]);
    let outcome = peer.invoke("put_then_get", ["old", "overwritten"]).await.unwrap();
    assert_eq!(outcome.payload_str(), "committed");
    assert_eq!(peer.ledger().get(&ns, "old").unwrap(), "overwritten");
}

#[tokio::test]
async fn an_empty_value_is_a_delete() {
    let peer = peer().await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("k", "v")]);
    // The shim forwards PutState with an empty value; Fabric's write set makes it a delete.
    let outcome = peer.invoke("put", ["k", ""]).await.unwrap();
    assert_eq!(outcome.status(), 200);
    assert!(outcome.writes[0].is_delete());
    assert!(peer.ledger().get(&ns, "k").is_none());
    assert!(peer.ledger().history(&ns, "k")[0].is_delete);
}

#[tokio::test]
async fn evaluate_commits_nothing() {
    let peer = peer().await;
    let outcome = peer.query("put", ["k", "v"]).await.unwrap();
    assert_eq!(outcome.status(), 200);
    assert_eq!(outcome.commit, CommitStatus::Evaluated);
    assert!(peer.ledger().get(peer.chaincode_name(), "k").is_none());
}

#[tokio::test]
async fn events_of_endorsed_transactions_carry_the_chaincode_name_and_txid() {
    let peer = peer().await;
    let outcome = peer.invoke("event", ["Created", "asset1"]).await.unwrap();
    let event = outcome.event.expect("an event");
    assert_eq!(event.event_name, "Created");
    assert_eq!(event.payload, "asset1");
    assert_eq!(event.chaincode_id, peer.chaincode_name());
    assert_eq!(event.tx_id, outcome.tx_id);
}

async fn read_wait_write(validate_mvcc: bool) -> (CommitStatus, String) {
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(probe.clone()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("k", "v1")]);
    let tx = {
        let peer = peer.clone();
        tokio::spawn(async move { peer.invoke("read_wait_write", ["k", "mine"]).await })
    };
    probe.waiting.notified().await;
    // Another transaction commits a new version of the key the running one has read.
    peer.ledger().seed(&ns, [("k", "theirs")]);
    probe.gate.notify_one();
    let outcome = tx.await.unwrap().unwrap();
    assert_eq!(outcome.status(), 200);
    let value = String::from_utf8(peer.ledger().get(&ns, "k").unwrap().to_vec()).unwrap();
    (outcome.commit, value)
}

#[tokio::test]
async fn mvcc_validation_rejects_stale_reads_when_enabled() {
    assert_eq!(read_wait_write(true).await, (CommitStatus::MvccReadConflict, "theirs".to_string()));
    assert_eq!(read_wait_write(false).await, (CommitStatus::Committed, "mine".to_string()));
}

#[tokio::test]
async fn an_execute_timeout_gives_the_peer_text_and_later_replies_are_dropped() {
    let probe = Probe::default();
    let peer = PeerEmulator::builder()
        .execute_timeout(Duration::from_millis(100))
        .connect_chaincode(probe.clone())
        .await
        .unwrap();
    let error = peer.invoke("wait", [""; 0]).await.unwrap_err();
    assert!(matches!(error, EmulatorError::ExecuteTimeout));
    assert_eq!(error.to_string(), "timeout expired while executing transaction");
    assert!(peer.model().running_transactions().is_empty());
    // The chaincode completes later: the peer drops the COMPLETED; the connection carries on.
    probe.gate.notify_one();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn init_sends_init() {
    let peer = init_required_peer().await;
    let outcome = peer.transaction("init_flag").init().submit().await.unwrap();
    assert_eq!(outcome.payload_str(), "true");
    let outcome = peer.invoke("init_flag", [""; 0]).await.unwrap();
    assert_eq!(outcome.payload_str(), "false");
}

#[tokio::test]
async fn the_proposal_carries_creator_transient_txid_and_timestamp() {
    let peer = peer().await;
    let identity = Identity::new("Org2MSP", "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n");
    let timestamp = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let outcome = peer
        .transaction("proposal_info")
        .creator(identity.clone())
        .transient("price", "42")
        .transient("secret", "s")
        .timestamp(timestamp)
        .evaluate()
        .await
        .unwrap();
    let info: Value = serde_json::from_slice(&outcome.response.payload).unwrap();
    assert_eq!(info["mspid"], "Org2MSP");
    assert_eq!(info["transient"], serde_json::json!(["price=42", "secret=s"]));
    assert_eq!(info["tx_id"], outcome.tx_id.as_str());
    assert_eq!(info["channel_id"], "mychannel");
    assert_eq!(info["seconds"], 1_700_000_000);
    assert_eq!(info["nonce_len"], 24);
    // The txid is 64 hex digits (SHA-256 of nonce and creator).
    assert_eq!(outcome.tx_id.len(), 64);
    assert!(outcome.tx_id.bytes().all(|b| b.is_ascii_hexdigit()));

    // The default identity is a generated X.509 certificate of Org1MSP.
    let outcome = peer.query("proposal_info", [""; 0]).await.unwrap();
    let info: Value = serde_json::from_slice(&outcome.response.payload).unwrap();
    assert_eq!(info["mspid"], "Org1MSP");
    assert!(info["cert"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn arguments_arrive_as_sent() {
    let peer = peer().await;
    let outcome = peer.transaction("args").arg("a").arg(vec![0u8, 1, 2]).args(["b", "c"]).evaluate().await.unwrap();
    assert_eq!(&outcome.response.payload[..], b"args,a,\x00\x01\x02,b,c");
}

#[tokio::test]
async fn a_failed_init_is_an_error_message() {
    let peer = init_required_peer().await;
    // The shim answers an Init that returns status 500 with ERROR, as the Go shim does.
    let error = peer.transaction("nope").init().submit().await.unwrap_err();
    assert!(matches!(error, EmulatorError::TransactionFailed(_)), "{error:?}");
    assert_eq!(error.to_string(), "transaction returned with failure: unknown function nope");
    assert!(peer.violations().is_empty());
    // The same failure in a normal transaction is a COMPLETED with status 500.
    let peer = self::peer().await;
    let outcome = peer.invoke("nope", [""; 0]).await.unwrap();
    assert_eq!((outcome.status(), outcome.response.message.as_str()), (500, "unknown function nope"));
}

/// Reads a private key, waits while another transaction changes it, then writes.
async fn private_read_wait_write(validate_mvcc: bool) -> CommitStatus {
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc, ..Default::default() };
    let peer = PeerEmulator::builder()
        .peer_config(config)
        .collection(ccaas_testkit::model::CollectionConfig::new("secrets", ["Org1MSP"]))
        .connect_chaincode(probe.clone())
        .await
        .unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed_private(&ns, "secrets", [("k", "v1")]);
    let tx = {
        let peer = peer.clone();
        tokio::spawn(async move { peer.invoke("pread_wait_write", ["secrets", "k", "out", "v"]).await })
    };
    probe.waiting.notified().await;
    peer.ledger().seed_private(&ns, "secrets", [("k", "v2")]);
    probe.gate.notify_one();
    let outcome = tx.await.unwrap().unwrap();
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    let read = outcome.reads.iter().find(|r| r.key == "k").expect("the private read is in the read set");
    assert_eq!(read.collection.as_deref(), Some("secrets"));
    outcome.commit
}

#[tokio::test]
async fn mvcc_validation_covers_private_reads_by_their_hash_version() {
    assert_eq!(private_read_wait_write(true).await, CommitStatus::MvccReadConflict);
    assert_eq!(private_read_wait_write(false).await, CommitStatus::Committed);
}
