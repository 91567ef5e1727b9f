//! Faults inside a transaction that holds peer-side resources: a panic or a timeout while a
//! range iterator is open. The transaction fails alone, the peer's iterator is closed, no request
//! follows the transaction's end, and the connection goes on serving.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use ccaas_shim::server::Limits;
use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::{EmulatorError, PeerEmulator};
use serde_json::json;
use support::{payload_json, StubProbe};

async fn peer(limits: Limits) -> PeerEmulator {
    let service = ChaincodeService::new(Arc::new(StubProbe), "probe:1", Drain::new()).with_limits(limits);
    let peer = PeerEmulator::builder().chaincode_name("basic").connect_in_process(&service).await.unwrap();
    peer.ledger().seed("basic", (0..300).map(|i| (format!("k{i:03}"), "v")));
    peer
}

#[tokio::test]
async fn a_panic_while_holding_an_iterator_fails_that_transaction_alone() {
    let peer = peer(Limits::default()).await;
    let outcome = peer.invoke("script", ["put:k=v", "range_hold:panic"]).await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert!(outcome.response.message.contains("boom with an open iterator"), "{}", outcome.response.message);
    assert!(!outcome.is_committed() && peer.ledger().get("basic", "k").is_none());
    let stats = peer.stats();
    assert_eq!(stats.iterators_opened, 1);
    assert_eq!(stats.iterators_closed_by_chaincode + stats.iterators_closed_at_completion, 1);
    let outcome = peer.invoke("script", ["range:::2:0"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!([2]));
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}

#[tokio::test]
async fn a_transaction_past_its_timeout_is_cancelled_with_its_iterator() {
    let limits = Limits { transaction_timeout: Duration::from_millis(200), ..Limits::default() };
    let peer = peer(limits).await;
    let error = peer.invoke("script", ["put:k=v", "range_hold:60000"]).await.unwrap_err();
    let EmulatorError::TransactionFailed(text) = &error else { panic!("{error:?}") };
    assert!(text.contains("did not complete the transaction within 200ms"), "{text}");
    assert!(peer.ledger().get("basic", "k").is_none());
    // The peer closed the iterator when the transaction ended; nothing was sent after that.
    let stats = peer.stats();
    assert_eq!((stats.iterators_opened, stats.iterators_closed_at_completion), (1, 1));
    let outcome = peer.invoke("script", ["range:::1:0", "put:k=v"]).await.unwrap();
    assert!(outcome.is_committed());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
    assert!(peer.is_connected());
}
