//! A peer that misbehaves: replies nobody asked for, replies twice, messages in the wrong state,
//! a disconnect in the middle of a transaction. The server logs, answers as the Go shim would
//! where it answers, and keeps serving.

use crate::server_support::*;

use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::GetState;
use prost::Message;

async fn ready_peer(running: &Running) -> PeerStream {
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    peer
}

/// The next GET_STATE the chaincode sends, and its key.
async fn expect_get_state(peer: &mut PeerStream, txid: &str) -> String {
    let request = peer.recv().await.unwrap();
    assert_eq!((request.r#type, request.txid.as_str()), (Type::GetState as i32, txid));
    GetState::decode(request.payload).unwrap().key
}

#[tokio::test]
async fn a_reply_sent_twice_is_not_taken_for_the_next_one() {
    let running = start(plaintext_config()).await;
    let mut peer = ready_peer(&running).await;
    peer.transaction("twice", &["get2", "k1", "k2"]).await;
    assert_eq!(expect_get_state(&mut peer, "twice").await, "k1");
    peer.send(message(Type::Response, "twice", Bytes::from("v1"))).await;
    peer.send(message(Type::Response, "twice", Bytes::from("v1 again"))).await;
    assert_eq!(expect_get_state(&mut peer, "twice").await, "k2");
    peer.send(message(Type::Response, "twice", Bytes::from("v2"))).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "v1,v2");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn replies_for_unknown_transactions_are_dropped() {
    let running = start(plaintext_config()).await;
    let mut peer = ready_peer(&running).await;
    peer.send(message(Type::Response, "nobody", Bytes::from("stray"))).await;
    peer.send(message(Type::Error, "nobody", Bytes::from("stray error"))).await;
    peer.transaction("after", &["echo", "unaffected"]).await;
    let reply = peer.recv().await.unwrap();
    assert_eq!((reply.txid.as_str(), completed_response(&reply).payload), ("after", Bytes::from("unaffected")));
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_message_in_the_wrong_state_ends_that_stream_only() {
    let running = start(plaintext_config()).await;
    // TRANSACTION before REGISTERED: the Go shim answers ERROR (no channel id) and ends the stream.
    let mut early = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    assert_eq!(early.recv().await.unwrap().r#type, Type::Register as i32);
    early.transaction("early", &["echo", "x"]).await;
    let refused = early.recv().await.unwrap();
    assert_eq!((refused.r#type, refused.channel_id.as_str()), (Type::Error as i32, ""));
    assert_eq!(
        String::from_utf8_lossy(&refused.payload),
        "[early] Chaincode handler cannot handle message (TRANSACTION) while in state: waiting for REGISTERED"
    );
    assert!(early.recv().await.is_none());
    // REGISTERED twice: READY was expected.
    let mut twice = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    twice.recv().await.unwrap();
    twice.send(message(Type::Registered, "", Bytes::new())).await;
    twice.send(message(Type::Registered, "", Bytes::new())).await;
    assert_eq!(twice.recv().await.unwrap().r#type, Type::Error as i32);
    assert!(twice.recv().await.is_none());

    let mut healthy = ready_peer(&running).await;
    healthy.transaction("ok", &["echo", "fine"]).await;
    assert_eq!(completed_response(&healthy.recv().await.unwrap()).payload, "fine");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_peer_gone_in_the_middle_of_a_transaction_leaves_the_server_serving() {
    let running = start(plaintext_config()).await;
    let mut peer = ready_peer(&running).await;
    peer.transaction("orphan", &["get2", "k1", "k2"]).await;
    assert_eq!(expect_get_state(&mut peer, "orphan").await, "k1");
    drop(peer); // The chaincode still waits for its reply.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut next = ready_peer(&running).await;
    // The same txid on the new connection is a new transaction: nothing of the old one leaks in.
    next.transaction("orphan", &["get2", "a", "b"]).await;
    assert_eq!(expect_get_state(&mut next, "orphan").await, "a");
    next.send(message(Type::Response, "orphan", Bytes::from("1"))).await;
    assert_eq!(expect_get_state(&mut next, "orphan").await, "b");
    next.send(message(Type::Response, "orphan", Bytes::from("2"))).await;
    assert_eq!(completed_response(&next.recv().await.unwrap()).payload, "1,2");
    running.stop().await.unwrap();
}

/// The error line a peer that refuses the chaincode's REGISTER (`refuse`) leaves in the log.
async fn register_refused_line(limits: ccaas_shim::server::Limits, refuse: impl AsyncFnOnce(PeerStream)) -> String {
    let running = start(ccaas_shim::server::ServerConfig { limits, ..plaintext_config() }).await;
    let logs = capture_logs();
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    assert_eq!(peer.recv().await.unwrap().r#type, Type::Register as i32);
    refuse(peer).await;
    let line = logs.line_with("the peer refused chaincode ID").await;
    for names in ["ERROR", CHAINCODE_ID, "CHAINCODE_ID must be the installed package ID", "ccaas-package id PACKAGE"] {
        assert!(line.contains(names), "{names} missing in {line}");
    }
    assert!(!logs.text().contains("did not become a ready chaincode stream in time"), "{}", logs.text());
    // The server goes on: a peer that accepts the id is served.
    let mut peer = ready_peer(&running).await;
    peer.transaction("after", &["echo", "fine"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "fine");
    running.stop().await.unwrap();
    line
}

#[tokio::test]
async fn a_peer_that_ends_the_stream_after_register_is_logged_as_refusing_the_chaincode_id() {
    let line = register_refused_line(Default::default(), async |peer| drop(peer)).await;
    assert!(line.contains("ended the connection without answering it"), "{line}");
}

#[tokio::test]
async fn a_peer_that_answers_register_with_error_is_logged_with_its_text() {
    let line = register_refused_line(Default::default(), async |peer| {
        let text = "peer will not accept external chaincode connection x (except in dev mode)";
        peer.send(message(Type::Error, "", Bytes::from(text))).await;
        // The server ends the stream.
        let mut peer = peer;
        assert!(peer.recv().await.is_none());
    })
    .await;
    assert!(line.contains("answered it with ERROR: peer will not accept external chaincode connection"), "{line}");
}

#[tokio::test]
async fn a_peer_that_never_answers_register_is_logged_as_refusing_it_not_as_a_timeout() {
    let limits = ccaas_shim::server::Limits { handshake_timeout: Duration::from_millis(300), ..Default::default() };
    let line = register_refused_line(limits, async |mut peer| {
        // Like a real peer given an id it is not launching: no answer; the deadline ends it.
        assert!(peer.recv().await.is_none());
    })
    .await;
    assert!(line.contains("did not answer it within 300ms"), "{line}");
}
