//! Graceful shutdown, driven through `serve_with_listener`'s shutdown future and a hand-driven
//! peer stream.

use crate::server_support;

use std::time::{Duration, Instant};

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::ChaincodeMessage;
use ccaas_shim::server::{Server, ServerConfig};
use server_support::*;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// Polls the health service (over an existing connection: the listener is closed by then) until
/// it reports NOT_SERVING, which the server sets right after it stopped taking transactions.
async fn wait_not_serving(channel: tonic::transport::Channel) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match health(channel.clone(), "").await.unwrap() {
            ServingStatus::NotServing => break,
            status => {
                assert!(Instant::now() < deadline, "still {status:?}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    assert_eq!(health(channel, "protos.Chaincode").await.unwrap(), ServingStatus::NotServing);
}

fn by_txid<'a>(messages: &'a [ChaincodeMessage], txid: &str) -> &'a ChaincodeMessage {
    messages.iter().find(|m| m.txid == txid).unwrap_or_else(|| panic!("no message for {txid}: {messages:?}"))
}

#[tokio::test]
async fn shutdown_finishes_in_flight_transactions_and_refuses_new_ones() {
    let mut server = start(plaintext_config()).await;
    let channel = plaintext_channel(server.addr).await.unwrap();
    let mut peer = PeerStream::connect(channel.clone()).await.unwrap();
    peer.handshake().await;
    // A second peer connection with nothing in flight.
    let mut idle_peer = PeerStream::connect(channel.clone()).await.unwrap();
    idle_peer.handshake().await;

    peer.transaction("tx-slow", &["sleep", "400"]).await;
    wait_started("tx-slow").await;
    server.shutdown();
    wait_not_serving(channel.clone()).await;

    // Shutdown has begun: a new transaction is refused, the running one completes.
    peer.transaction("tx-late", &["echo", "late"]).await;
    let messages = vec![peer.recv().await.unwrap(), peer.recv().await.unwrap()];
    let refused = by_txid(&messages, "tx-late");
    assert_eq!(refused.r#type, Type::Error as i32, "{refused:?}");
    assert_eq!(refused.channel_id, "mychannel");
    assert!(String::from_utf8_lossy(&refused.payload).contains("shutting down"), "{refused:?}");
    let completed = by_txid(&messages, "tx-slow");
    assert_eq!(completed_response(completed).payload, "slept");
    assert_eq!(completed_response(completed).status, 200);

    // Then every stream ends and serve returns Ok.
    assert!(peer.recv().await.is_none(), "the stream stayed open");
    assert!(idle_peer.recv().await.is_none(), "the idle stream stayed open");
    let result = tokio::time::timeout(Duration::from_secs(5), server.task).await.expect("serve did not return");
    result.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err(), "still accepting connections");
}

#[tokio::test]
async fn shutdown_gives_up_on_transactions_past_the_deadline() {
    let deadline = Duration::from_millis(200);
    let mut server = start(ServerConfig { shutdown_deadline: deadline, ..plaintext_config() }).await;
    let channel = plaintext_channel(server.addr).await.unwrap();
    let mut peer = PeerStream::connect(channel).await.unwrap();
    peer.handshake().await;
    peer.transaction("tx-hang", &["sleep", "60000"]).await;
    wait_started("tx-hang").await;

    let started = Instant::now();
    server.shutdown();
    let result = tokio::time::timeout(Duration::from_secs(10), server.task).await.expect("serve did not return");
    result.unwrap().unwrap();
    let took = started.elapsed();
    assert!(took >= deadline, "returned after {took:?}, before the deadline");
    // deadline + at most two 2 s grace periods (close, then cut).
    assert!(took < deadline + Duration::from_secs(5), "returned after {took:?}");
    // The hung transaction never completed; its connection was cut.
    let next = tokio::time::timeout(Duration::from_secs(2), peer.from_chaincode.message()).await.unwrap();
    assert!(!matches!(next, Ok(Some(_))), "unexpected message {next:?}");
}

#[tokio::test]
async fn bind_reports_the_address_and_serve_with_shutdown_stops() {
    let server = Server::builder(TestChaincode)
        .chaincode_id(CHAINCODE_ID)
        .address("127.0.0.1:0".parse().unwrap())
        .shutdown_deadline(Duration::from_secs(1))
        .peer_msp_id("Org1MSP")
        .build()
        .unwrap();
    assert_eq!(server.config().peer_msp_id.as_deref(), Some("Org1MSP"));
    let bound = server.bind().await.unwrap();
    let addr = bound.local_addr();
    assert_ne!(addr.port(), 0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    assert_eq!(health(plaintext_channel(addr).await.unwrap(), "").await.unwrap(), ServingStatus::Serving);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn dropping_the_serve_future_closes_everything() {
    let server = start(plaintext_config()).await;
    let mut peer = PeerStream::connect(plaintext_channel(server.addr).await.unwrap()).await.unwrap();
    peer.handshake().await;
    server.task.abort();
    let next = tokio::time::timeout(Duration::from_secs(5), peer.from_chaincode.message()).await.unwrap();
    assert!(!matches!(next, Ok(Some(_))), "unexpected message {next:?}");
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err(), "still accepting connections");
}

/// The next status a health `Watch` stream sends.
async fn next_status(stream: &mut tonic::Streaming<HealthCheckResponse>) -> ServingStatus {
    let message = tokio::time::timeout(Duration::from_secs(5), stream.message()).await.expect("no status in 5 s");
    message.unwrap().expect("the watch ended").status()
}

/// `Watch` sends the current status at once, then NOT_SERVING when shutdown begins, for the whole
/// server and for the chaincode service; an unknown name is NOT_FOUND.
#[tokio::test]
async fn health_watchers_see_serving_then_not_serving() {
    let mut server = start(plaintext_config()).await;
    let mut client = HealthClient::new(plaintext_channel(server.addr).await.unwrap());
    let mut watches = Vec::new();
    for service in ["", "protos.Chaincode"] {
        let request = HealthCheckRequest { service: service.to_string() };
        watches.push((service, client.watch(request).await.unwrap().into_inner()));
    }
    let unknown = client.watch(HealthCheckRequest { service: "nope".into() }).await.unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    for (service, stream) in &mut watches {
        assert_eq!(next_status(stream).await, ServingStatus::Serving, "{service:?}");
    }
    server.shutdown();
    for (service, stream) in &mut watches {
        assert_eq!(next_status(stream).await, ServingStatus::NotServing, "{service:?}");
    }
    drop(watches);
    server.stop().await.unwrap();
}
