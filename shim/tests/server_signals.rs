//! `serve()` with real signals sent to this test process. One test only, so nothing else in
//! this binary sees the signals (tokio's handlers stay installed once the first `serve` runs).
#![cfg(unix)]

#[path = "integration/server_support/mod.rs"]
mod server_support;

use std::time::{Duration, Instant};

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_shim::server::Server;
use server_support::*;
use tonic_health::pb::health_check_response::ServingStatus;

fn send_signal(signal: libc::c_int) {
    // SAFETY: kill(2) on our own pid with a signal tokio has a handler for.
    let rc = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(rc, 0, "kill failed");
}

async fn wait_for(channel: &tonic::transport::Channel, wanted: ServingStatus) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while health(channel.clone(), "").await.unwrap() != wanted {
        assert!(Instant::now() < deadline, "health never became {wanted:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn sigterm_drains_and_a_second_signal_stops_waiting() {
    init_tracing();

    // SIGTERM: in-flight transactions finish, serve returns Ok.
    let server = Server::builder(TestChaincode)
        .chaincode_id(CHAINCODE_ID)
        .address("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap();
    let addr = server.local_addr();
    let task = tokio::spawn(server.serve());
    let channel = plaintext_channel(addr).await.unwrap();
    // Serving proves the handlers are installed (they are, before the first accept).
    wait_for(&channel, ServingStatus::Serving).await;
    let mut peer = PeerStream::connect(channel.clone()).await.unwrap();
    peer.handshake().await;
    peer.transaction("tx-term", &["sleep", "300"]).await;
    wait_started("tx-term").await;
    send_signal(libc::SIGTERM);
    let completed = peer.recv().await.expect("no COMPLETED");
    assert_eq!(completed.txid, "tx-term");
    assert_eq!(completed_response(&completed).payload, "slept");
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("serve did not return").unwrap().unwrap();

    // SIGINT twice: the second one cuts a 60 s wait short.
    let server = Server::builder(TestChaincode)
        .chaincode_id(CHAINCODE_ID)
        .address("127.0.0.1:0".parse().unwrap())
        .shutdown_deadline(Duration::from_secs(60))
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap();
    let addr = server.local_addr();
    let task = tokio::spawn(server.serve());
    let channel = plaintext_channel(addr).await.unwrap();
    wait_for(&channel, ServingStatus::Serving).await;
    let mut peer = PeerStream::connect(channel.clone()).await.unwrap();
    peer.handshake().await;
    peer.transaction("tx-hang-2", &["sleep", "60000"]).await;
    wait_started("tx-hang-2").await;
    send_signal(libc::SIGINT);
    wait_for(&channel, ServingStatus::NotServing).await;
    let started = Instant::now();
    send_signal(libc::SIGINT);
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("serve did not return").unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());
    let next = tokio::time::timeout(Duration::from_secs(2), peer.from_chaincode.message()).await.unwrap();
    assert!(
        !matches!(&next, Ok(Some(m)) if m.r#type == Type::Completed as i32),
        "the hung transaction completed: {next:?}"
    );
}
