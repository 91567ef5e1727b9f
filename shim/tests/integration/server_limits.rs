//! The server's resource limits: the handshake deadline, admission at the connection limits, the limit of
//! transactions in flight per connection, the transaction timeout and the message size limit.
//! After each refusal the server still serves a healthy peer.

use crate::server_support::*;

use std::time::{Duration, Instant};

use bytes::Bytes;
use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::ChaincodeInput;
use ccaas_shim::server::{Limits, ServerConfig};
use prost::Message;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

fn config(limits: Limits) -> ServerConfig {
    ServerConfig { limits, ..plaintext_config() }
}

/// A healthy peer connects, registers and gets an answer.
async fn assert_serves_a_healthy_peer(running: &Running) {
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    peer.transaction("healthy", &["echo", "still serving"]).await;
    let reply = peer.recv().await.expect("an answer");
    assert_eq!(completed_response(&reply).payload, "still serving");
}

/// Waits until the server closes `socket` (EOF or reset), failing after `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout(within, socket.read(&mut buffer)).await {
            Err(_) => panic!("the server kept the connection open for {within:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            // The server's HTTP/2 settings frame: keep reading.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn silent_connections_are_closed_at_the_handshake_deadline() {
    let limits = Limits { handshake_timeout: Duration::from_millis(400), ..Limits::default() };
    let running = start(config(limits)).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(running.addr).await.unwrap());
    }
    // A gRPC client that opens the Connect stream but never answers REGISTER is closed too.
    let mut stalled = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    assert_eq!(stalled.recv().await.unwrap().r#type, Type::Register as i32);

    for socket in &mut silent {
        let waited = closed_within(socket, Duration::from_secs(5)).await;
        assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
    }
    assert!(stalled.recv().await.is_none(), "the stalled stream was not ended");
    // A peer that finishes its handshake in time is not affected by the deadline later on.
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    peer.transaction("late", &["echo", "after the deadline"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "after the deadline");
    running.stop().await.unwrap();
}

/// Whether the server has closed `socket` (EOF or reset) by now, without waiting.
fn is_closed(socket: &TcpStream) -> bool {
    let mut buffer = [0u8; 256];
    loop {
        match socket.try_read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue, // the server's HTTP/2 settings frame
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Waits until the server has taken its next step with the connections so far.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn at_the_limit_the_oldest_silent_connection_is_closed_to_admit_a_new_one() {
    let limits = Limits { max_connections: 3, handshake_timeout: Duration::from_secs(30), ..Limits::default() };
    let running = start(config(limits)).await;
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(running.addr).await.unwrap());
    }
    settle().await;
    assert!(silent.iter().all(|socket| !is_closed(socket)), "a connection under the limit was closed");
    // A fourth is admitted; the oldest silent one makes room, long before its deadline.
    silent.push(TcpStream::connect(running.addr).await.unwrap());
    let waited = closed_within(&mut silent[0], Duration::from_secs(5)).await;
    assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
    settle().await;
    let open: Vec<bool> = silent.iter().map(|socket| !is_closed(socket)).collect();
    assert_eq!(open, [false, true, true, true]);
    // A real peer gets in while the limit is full of silent connections, and keeps its stream
    // while more silent ones come: each of them closes an older silent one, never the peer.
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    for _ in 0..10 {
        silent.push(TcpStream::connect(running.addr).await.unwrap());
    }
    settle().await;
    let open = silent.iter().filter(|socket| !is_closed(socket)).count();
    assert_eq!(open, 3, "the limit of connections in their handshake is 3");
    assert!(silent[silent.len() - 3..].iter().all(|socket| !is_closed(socket)), "the newest are the ones kept");
    peer.transaction("during", &["echo", "served"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "served");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_talks_outlives_silent_ones_and_the_limit_holds() {
    let limits = Limits { max_connections: 2, handshake_timeout: Duration::from_secs(30), ..Limits::default() };
    let running = start(config(limits)).await;
    // The start of an HTTP/2 preface, then nothing more: older than every silent one below.
    let talking = TcpStream::connect(running.addr).await.unwrap();
    talking.try_write(b"PRI * HTTP/2.0").unwrap();
    settle().await;
    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(TcpStream::connect(running.addr).await.unwrap());
        settle().await;
    }
    assert!(!is_closed(&talking), "the connection that talked was closed for a silent one");
    let open: Vec<bool> = silent.iter().map(|socket| !is_closed(socket)).collect();
    assert_eq!(open, [false, false, false, false, true]);
    // The deadline still applies to it.
    running.stop().await.unwrap();
}

#[tokio::test]
async fn ready_streams_have_their_own_limit_and_are_never_closed_for_new_connections() {
    let limits = Limits {
        max_connections: 1,
        max_ready_connections: 1,
        handshake_timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let running = start(config(limits)).await;
    let logs = capture_logs();
    let mut first = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    first.handshake().await;
    first.transaction("first", &["echo", "one"]).await;
    assert_eq!(completed_response(&first.recv().await.unwrap()).payload, "one");
    // Silent connections beyond the limit of one pending connection do not touch the ready one.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(running.addr).await.unwrap());
    }
    settle().await;
    // A second peer completes its handshake beyond the ready limit: its stream is closed.
    drop(silent);
    let mut second = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    second.handshake().await;
    assert!(second.recv().await.is_none(), "a stream beyond the ready limit was kept");
    let line = logs.line_with("limit of ready streams").await;
    assert!(line.contains("CHAINCODE_MAX_READY_CONNECTIONS"), "{line}");
    first.transaction("still", &["echo", "two"]).await;
    assert_eq!(completed_response(&first.recv().await.unwrap()).payload, "two");
    // Once the first is gone there is room again.
    drop(first);
    settle().await;
    assert_serves_a_healthy_peer(&running).await;
    running.stop().await.unwrap();
}

#[tokio::test]
async fn transactions_beyond_the_per_connection_limit_are_refused_at_once() {
    let limits = Limits { max_transactions_per_connection: 2, ..Limits::default() };
    let running = start(config(limits)).await;
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    peer.transaction("slow-1", &["sleep", "400"]).await;
    peer.transaction("slow-2", &["sleep", "400"]).await;
    wait_started("slow-1").await;
    wait_started("slow-2").await;
    peer.transaction("third", &["echo", "x"]).await;
    let refused = peer.recv().await.unwrap();
    assert_eq!((refused.r#type, refused.txid.as_str()), (Type::Error as i32, "third"));
    let text = String::from_utf8_lossy(&refused.payload).into_owned();
    assert!(text.contains("already running 2 transactions") && text.contains("CHAINCODE_MAX_TRANSACTIONS"), "{text}");
    // The two running ones complete; then there is room again.
    let mut done: Vec<String> = Vec::new();
    for _ in 0..2 {
        let reply = peer.recv().await.unwrap();
        assert_eq!(completed_response(&reply).payload, "slept");
        done.push(reply.txid);
    }
    done.sort();
    assert_eq!(done, ["slow-1", "slow-2"]);
    peer.transaction("fourth", &["echo", "room again"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "room again");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_transaction_past_its_timeout_is_cancelled_and_the_connection_goes_on() {
    let limits = Limits { transaction_timeout: Duration::from_millis(300), ..Limits::default() };
    let running = start(config(limits)).await;
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    let started = Instant::now();
    peer.transaction("forever", &["sleep", "60000"]).await;
    peer.transaction("quick", &["echo", "meanwhile"]).await;
    let quick = peer.recv().await.unwrap();
    assert_eq!((quick.txid.as_str(), completed_response(&quick).payload), ("quick", Bytes::from("meanwhile")));
    let cancelled = peer.recv().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!((cancelled.r#type, cancelled.txid.as_str()), (Type::Error as i32, "forever"));
    let text = String::from_utf8_lossy(&cancelled.payload).into_owned();
    assert!(text.contains("within 300ms") && text.contains("CHAINCODE_TRANSACTION_TIMEOUT"), "{text}");
    peer.transaction("after", &["echo", "still here"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "still here");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_result_over_the_message_limit_fails_its_transaction_alone() {
    let running = start(plaintext_config()).await;
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    let too_big = (ccaas_shim::MAX_MESSAGE_SIZE + 1).to_string();
    peer.transaction("huge", &["big", &too_big]).await;
    let refused = peer.recv().await.unwrap();
    assert_eq!((refused.r#type, refused.txid.as_str()), (Type::Error as i32, "huge"));
    let text = String::from_utf8_lossy(&refused.payload).into_owned();
    assert!(text.contains("over the 104857600 byte message limit"), "{text}");
    peer.transaction("small", &["echo", "fine"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "fine");
    running.stop().await.unwrap();
}

/// Messages many times the HTTP/2 flow-control windows (1 MiB) go both ways: the server gives
/// the client's window back as it reads, and sends within the client's window as it opens.
#[tokio::test]
async fn messages_larger_than_the_flow_control_windows_go_both_ways() {
    let running = start(plaintext_config()).await;
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    let text: String = (0..8 << 20).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    peer.transaction("large", &["echo", &text]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, text.as_bytes());
    peer.transaction("larger", &["big", &(64 << 20).to_string()]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload.len(), 64 << 20);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn a_peer_message_over_the_limit_ends_only_its_own_connection() {
    let running = start(plaintext_config()).await;
    let mut peer = PeerStream::connect(plaintext_channel(running.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    let input =
        ChaincodeInput { args: vec![Bytes::from("echo"), Bytes::from(vec![b'x'; 101 << 20])], ..Default::default() };
    peer.send(message(Type::Transaction, "flood", Bytes::from(input.encode_to_vec()))).await;
    assert!(peer.recv().await.is_none(), "the oversized stream should end");
    assert_serves_a_healthy_peer(&running).await;
    running.stop().await.unwrap();
}

#[test]
fn limits_come_from_the_environment_and_bad_values_name_the_variable() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    };
    let config = ServerConfig::from_lookup(lookup(&[
        ("CHAINCODE_ID", CHAINCODE_ID),
        ("CHAINCODE_HANDSHAKE_TIMEOUT", "2s"),
        ("CHAINCODE_MAX_CONNECTIONS", "8"),
        ("CHAINCODE_MAX_READY_CONNECTIONS", "4"),
        ("CHAINCODE_MAX_TRANSACTIONS", "50"),
        ("CHAINCODE_TRANSACTION_TIMEOUT", "1m30s"),
    ]))
    .unwrap();
    assert_eq!(
        config.limits,
        Limits {
            handshake_timeout: Duration::from_secs(2),
            max_connections: 8,
            max_ready_connections: 4,
            max_transactions_per_connection: 50,
            transaction_timeout: Duration::from_secs(90),
        }
    );
    assert_eq!(ServerConfig::from_lookup(lookup(&[("CHAINCODE_ID", CHAINCODE_ID)])).unwrap().limits, Limits::default());
    let error =
        ServerConfig::from_lookup(lookup(&[("CHAINCODE_ID", CHAINCODE_ID), ("CHAINCODE_MAX_CONNECTIONS", "0")]))
            .unwrap_err()
            .to_string();
    assert_eq!(error, "CHAINCODE_MAX_CONNECTIONS=\"0\" is not a positive whole number");
    let error =
        ServerConfig::from_lookup(lookup(&[("CHAINCODE_ID", CHAINCODE_ID), ("CHAINCODE_TRANSACTION_TIMEOUT", "soon")]))
            .unwrap_err()
            .to_string();
    assert_eq!(error, "CHAINCODE_TRANSACTION_TIMEOUT=\"soon\" is not a positive duration such as 10s, 500ms or 2m");
}
