//! The server's HTTP/2 keepalive (the Go shim's): a ping 60 s after the client last sent
//! anything, and the connection dropped when that ping is not answered within 20 s. The stream
//! gets ready on the real clock; then the clock is paused and moved on by hand, 100 ms at a time
//! (letting every socket's bytes arrive between steps), with a proxy between the client and the
//! server that can drop the client's ping acknowledgements.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::protos::chaincode_message::Type;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::server_support::{message, plaintext_channel, plaintext_config, start, PeerStream};

/// Forwards one connection to `server`; drops the client's PING acknowledgements (frame type 6
/// with the ACK flag) when `drop_acks`.
async fn proxy(server: SocketAddr, drop_acks: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = TcpStream::connect(server).await.unwrap().into_split();
        tokio::spawn(async move { tokio::io::copy(&mut from_server, &mut to_client).await });
        // The client preface, then frame by frame: a 9-byte header (24-bit length, type, flags,
        // stream) and its payload.
        let mut preface = [0u8; 24];
        if from_client.read_exact(&mut preface).await.is_err() || to_server.write_all(&preface).await.is_err() {
            return;
        }
        loop {
            let mut header = [0u8; 9];
            if from_client.read_exact(&mut header).await.is_err() {
                return;
            }
            let length = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
            let mut payload = vec![0u8; length];
            if from_client.read_exact(&mut payload).await.is_err() {
                return;
            }
            if drop_acks && header[3] == 6 && header[4] & 1 == 1 {
                continue;
            }
            if to_server.write_all(&header).await.is_err() || to_server.write_all(&payload).await.is_err() {
                return;
            }
        }
    });
    addr
}

/// A ready chaincode stream through a proxy (see [`proxy`]), checked with a KEEPALIVE round trip;
/// then the clock is paused.
async fn ready_peer(server: SocketAddr, drop_acks: bool) -> PeerStream {
    let channel = plaintext_channel(proxy(server, drop_acks).await).await.unwrap();
    let mut peer = PeerStream::connect(channel).await.unwrap();
    peer.handshake().await;
    assert_keepalive_echoed(&mut peer).await;
    tokio::time::pause();
    peer
}

async fn assert_keepalive_echoed(peer: &mut PeerStream) {
    peer.send(message(Type::Keepalive, "", Bytes::new())).await;
    assert_eq!(peer.recv().await.map(|m| m.r#type), Some(Type::Keepalive as i32));
}

/// Moves the paused clock on by 100 ms, then lets the runtime run everything due, sockets'
/// bytes included (the scheduler polls them every 61 task polls).
async fn step() {
    tokio::time::advance(Duration::from_millis(100)).await;
    for _ in 0..128 {
        tokio::task::yield_now().await;
    }
}

/// How long `peer`'s stream from the chaincode lasts while the peer sends nothing, on the paused
/// clock moved on 100 ms at a time; fails if it is still open after `limit`.
async fn lasts(mut peer: PeerStream, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut ended = std::pin::pin!(async move {
        let end = peer.from_chaincode.message().await;
        assert!(!matches!(end, Ok(Some(_))), "no message was due: {end:?}");
    });
    while start.elapsed() < limit {
        step().await;
        if futures_util::FutureExt::now_or_never(ended.as_mut()).is_some() {
            return start.elapsed();
        }
    }
    panic!("the server kept a connection that does not answer its pings for {limit:?}")
}

#[tokio::test]
async fn a_connection_that_leaves_the_keepalive_ping_unanswered_is_dropped() {
    let server = start(plaintext_config()).await;
    let peer = ready_peer(server.addr, true).await;
    let lasted = lasts(peer, Duration::from_secs(300)).await;
    assert!(
        (Duration::from_secs(80)..=Duration::from_secs(81)).contains(&lasted),
        "dropped {lasted:?} after the last message, not 60 s + 20 s"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_idle_connection_that_answers_the_pings_stays() {
    let server = start(plaintext_config()).await;
    let mut peer = ready_peer(server.addr, false).await;
    let start = Instant::now();
    // Ten keepalive intervals, each ping answered.
    while start.elapsed() < Duration::from_secs(600) {
        step().await;
    }
    tokio::time::resume();
    assert_keepalive_echoed(&mut peer).await;
    server.stop().await.unwrap();
}
