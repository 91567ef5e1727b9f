//! Chaincodes defined with `--init-required`: the peer's `CheckInvocation` decides INIT or
//! TRANSACTION from the reserved initialized key, refuses what it must before anything reaches
//! the chaincode, and records the key in the transaction's read and write sets.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_testkit::model::texts::INITIALIZED_KEY;
use ccaas_testkit::{CommitStatus, Direction, Ledger, PeerConfig, PeerEmulator, Transcript};
use serde_json::json;
use support::{payload_json, Probe, StubProbe};

async fn defined(version: &str, ledger: &std::sync::Arc<Ledger>, transcript: &Transcript) -> PeerEmulator {
    PeerEmulator::builder()
        .chaincode_name("basic")
        .init_required(version)
        .ledger(ledger.clone())
        .transcript(transcript.hook())
        .connect_chaincode(Probe::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_transaction_before_init_is_refused_without_reaching_the_chaincode() {
    let transcript = Transcript::new();
    let peer = defined("1.0", &Ledger::new(), &transcript).await;
    let error = peer.invoke("put", ["k", "v"]).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid invocation: chaincode 'basic' has not been initialized for this version, must call as init first"
    );
    assert_eq!(transcript.count(Direction::PeerToChaincode, Type::Transaction), 0);
    assert!(peer.ledger().get("basic", "k").is_none());
}

#[tokio::test]
async fn init_writes_the_initialized_key_once_per_version() {
    let ledger = Ledger::new();
    let transcript = Transcript::new();
    let peer = defined("1.0", &ledger, &transcript).await;

    let init = peer.transaction("put").args(["k", "from init"]).init().submit().await.unwrap();
    assert!(init.is_committed());
    assert_eq!(transcript.count(Direction::PeerToChaincode, Type::Init), 1);
    // The simulator read the key (absent) and wrote the definition's version beside the chaincode's write.
    assert!(init.reads.iter().any(|r| r.key == INITIALIZED_KEY && r.version.is_none()), "{:?}", init.reads);
    let written: Vec<_> = init.writes.iter().map(|w| (w.key.as_str(), w.value.as_deref())).collect();
    assert_eq!(written, [(INITIALIZED_KEY, Some(&b"1.0"[..])), ("k", Some(&b"from init"[..]))]);
    assert_eq!(ledger.get("basic", INITIALIZED_KEY).unwrap(), "1.0");

    // Now transactions run; a second INIT of the same version is refused.
    assert_eq!(peer.invoke("get", ["k"]).await.unwrap().payload_str(), "from init");
    let again = peer.transaction("put").args(["k", "again"]).init().submit().await.unwrap_err();
    assert_eq!(again.to_string(), "invalid invocation: chaincode 'basic' is already initialized but called as init");
    assert_eq!(transcript.count(Direction::PeerToChaincode, Type::Init), 1);

    // A new definition version (an upgrade) needs its own INIT.
    let upgraded = defined("2.0", &ledger, &Transcript::new()).await;
    let error = upgraded.invoke("get", ["k"]).await.unwrap_err();
    assert!(error.to_string().ends_with("has not been initialized for this version, must call as init first"));
    assert!(upgraded.transaction("get").args(["k"]).init().submit().await.unwrap().is_committed());
    assert_eq!(ledger.get("basic", INITIALIZED_KEY).unwrap(), "2.0");
}

#[tokio::test]
async fn a_failed_init_leaves_the_chaincode_uninitialized() {
    let peer = defined("1.0", &Ledger::new(), &Transcript::new()).await;
    let error = peer.transaction("nope").init().submit().await.unwrap_err();
    assert_eq!(error.to_string(), "transaction returned with failure: unknown function nope");
    assert!(peer.ledger().get("basic", INITIALIZED_KEY).is_none());
    assert!(peer.invoke("get", ["k"]).await.is_err());
    assert!(peer.transaction("get").args(["k"]).init().submit().await.unwrap().is_committed());
}

#[tokio::test]
async fn of_two_concurrent_inits_mvcc_commits_one() {
    let probe = Probe::default();
    let config = PeerConfig { validate_mvcc: true, ..Default::default() };
    let peer = PeerEmulator::builder()
        .chaincode_name("basic")
        .init_required("1.0")
        .peer_config(config)
        .connect_chaincode(probe.clone())
        .await
        .unwrap();
    // The first INIT reads the absent key and waits; the second runs to commit meanwhile.
    let first = {
        let peer = peer.clone();
        tokio::spawn(async move { peer.transaction("read_wait_write").args(["a", "first"]).init().submit().await })
    };
    probe.waiting.notified().await;
    let second = peer.transaction("put").args(["b", "second"]).init().submit().await.unwrap();
    assert_eq!(second.commit, CommitStatus::Committed);
    probe.gate.notify_one();
    let first = first.await.unwrap().unwrap();
    assert_eq!((first.status(), first.commit), (200, CommitStatus::MvccReadConflict));
    assert!(peer.ledger().get("basic", "a").is_none());
}

#[tokio::test]
async fn init_is_a_write_so_a_paginated_query_in_init_is_refused() {
    let peer = PeerEmulator::builder().chaincode_name("basic").init_required("1.0").connect_chaincode(StubProbe);
    let peer = peer.await.unwrap();
    let error = peer.transaction("page_range").args(["a", "z", "10", ""]).tx_id("init-page").init().submit().await;
    assert_eq!(
        error.unwrap_err().to_string(),
        "transaction returned with failure: GET_STATE_BY_RANGE failed: transaction ID: init-page: txid [init-page]: \
         unsuppored transaction. Paginated queries are supported only in a read-only transaction"
    );
}

#[tokio::test]
async fn a_called_chaincode_that_needs_init_is_refused_to_the_caller() {
    let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(StubProbe).await.unwrap();
    let callee = PeerEmulator::builder()
        .chaincode_name("callee")
        .chaincode_id("callee_1.0:0")
        .init_required("1.0")
        .join(&caller)
        .connect_chaincode(StubProbe)
        .await
        .unwrap();
    let outcome = caller.invoke("call", ["callee", "", "get", "k"]).await.unwrap();
    assert_eq!(
        payload_json(&outcome)["payload"],
        json!(format!(
            "INVOKE_CHAINCODE failed: transaction ID: {}: execute failed: invalid invocation: chaincode 'callee' has \
             not been initialized for this version, must call as init first",
            outcome.tx_id
        ))
    );
    // Once initialized, the call goes through.
    callee.transaction("put").args(["k", "v"]).init().submit().await.unwrap();
    let outcome = caller.invoke("call", ["callee", "", "get", "k"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!({"status": 200, "message": "", "payload": "\"v\""}));
}
