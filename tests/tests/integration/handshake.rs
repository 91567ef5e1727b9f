//! Registration: the chaincode speaks first with its package ID; the peer accepts only the id it
//! is launching, then sends REGISTERED and READY.

use crate::support;

use std::sync::Arc;

use ccaas_protos::protos::{chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeId, ChaincodeMessage};
use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::{Direction, EmulatorError, PeerEmulator, Target, Transcript};
use prost::Message;
use support::{serve, Probe, PACKAGE_ID};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

#[tokio::test]
async fn registers_with_the_expected_package_id_in_process() {
    let transcript = Transcript::new();
    let peer = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .transcript(transcript.hook())
        .connect_chaincode(Probe::default())
        .await
        .unwrap();
    assert_eq!(peer.chaincode_id(), PACKAGE_ID);
    assert_eq!(peer.chaincode_name(), "probe");
    let kinds: Vec<(Direction, String)> = transcript.entries().iter().map(|e| (e.direction, e.type_name())).collect();
    assert_eq!(
        kinds,
        vec![
            (Direction::ChaincodeToPeer, "REGISTER".to_string()),
            (Direction::PeerToChaincode, "REGISTERED".to_string()),
            (Direction::PeerToChaincode, "READY".to_string()),
        ]
    );
    let register = &transcript.entries()[0].message;
    assert_eq!(ChaincodeId::decode(register.payload.clone()).unwrap().name, PACKAGE_ID);
    // The connection works.
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn registers_over_tcp() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let peer = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .connect(&Target::new(server.address.to_string()))
        .await
        .unwrap();
    assert_eq!(peer.chaincode_id(), PACKAGE_ID);
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
    assert_eq!(peer.query("get", ["k"]).await.unwrap().payload_str(), "v");
}

#[tokio::test]
async fn a_wrong_package_id_is_rejected_with_the_peer_text() {
    let service = ChaincodeService::new(Arc::new(Probe::default()), "other_1.0:ffff", Drain::new());
    let error = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect_in_process(&service).await.unwrap_err();
    assert!(
        matches!(&error, EmulatorError::WrongChaincodeId { registered, expected }
            if registered == "other_1.0:ffff" && expected == PACKAGE_ID),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "peer will not accept external chaincode connection other_1.0:ffff (except in dev mode)"
    );
    // The same service still serves a connection that expects its id.
    let peer = PeerEmulator::builder().chaincode_id("other_1.0:ffff").connect_in_process(&service).await.unwrap();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_wrong_package_id_over_tcp_then_the_right_one() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let target = Target::new(server.address.to_string());
    let error = PeerEmulator::builder().chaincode_id("someone_else:00").connect(&target).await.unwrap_err();
    assert!(error.to_string().starts_with("peer will not accept external chaincode connection probe_1.0:"));
    let peer = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&target).await.unwrap();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

/// Log lines written on this thread (the in-process server's too, on the test's current-thread
/// runtime) while the returned guard lives.
fn capture_logs() -> (Arc<std::sync::Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Writer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Writer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let bytes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = Writer(Arc::clone(&bytes));
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    (bytes, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn the_server_logs_a_refused_package_id_as_that_with_what_to_do() {
    let (logs, _guard) = capture_logs();
    let server = serve(Probe::default(), "probe_1.0:wrong", None).await;
    let target = Target::new(server.address.to_string());
    PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&target).await.unwrap_err();
    let text = || String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    support::eventually(|| text().contains("the peer refused chaincode ID")).await;
    let text = text();
    let line = text.lines().find(|line| line.contains("the peer refused chaincode ID")).unwrap();
    for names in [
        "ERROR",
        "probe_1.0:wrong",
        "ended the connection without answering it",
        "CHAINCODE_ID must be the installed package ID",
        "`ccaas-package id PACKAGE` prints it",
    ] {
        assert!(line.contains(names), "{names} missing in {line}");
    }
    assert!(!text.contains("CHAINCODE_HANDSHAKE_TIMEOUT"), "{text}");
}

#[tokio::test]
async fn without_an_expected_id_any_id_is_accepted() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    assert_eq!(peer.chaincode_id(), "test:0");
}

#[tokio::test]
async fn ready_carries_the_configured_params() {
    let (to_chaincode, mut peer_messages) = mpsc::channel(16);
    let (chaincode_tx, from_chaincode) = mpsc::channel(16);
    let params = ChaincodeAdditionalParams {
        use_write_batch: true,
        max_size_write_batch: 500,
        use_get_multiple_keys: true,
        max_size_get_multiple_keys: 200,
    };
    let connect = tokio::spawn(
        PeerEmulator::builder().ready_params(params).connect_stream(to_chaincode, ReceiverStream::new(from_chaincode)),
    );
    let register = ChaincodeMessage {
        r#type: Type::Register as i32,
        payload: ChaincodeId { name: "raw:1".into(), ..Default::default() }.encode_to_vec().into(),
        ..Default::default()
    };
    chaincode_tx.send(Ok(register)).await.unwrap();
    let registered = peer_messages.recv().await.unwrap();
    assert_eq!(registered.r#type, Type::Registered as i32);
    assert!(registered.payload.is_empty());
    let ready = peer_messages.recv().await.unwrap();
    assert_eq!(ready.r#type, Type::Ready as i32);
    assert_eq!(ChaincodeAdditionalParams::decode(ready.payload).unwrap(), params);
    let peer = connect.await.unwrap().unwrap();
    assert_eq!(peer.chaincode_id(), "raw:1");
}

#[tokio::test]
async fn anything_but_register_first_is_refused() {
    let (to_chaincode, _peer_messages) = mpsc::channel(16);
    let (chaincode_tx, from_chaincode) = mpsc::channel(16);
    chaincode_tx
        .send(Ok(ChaincodeMessage { r#type: Type::GetState as i32, txid: "tx1".into(), ..Default::default() }))
        .await
        .unwrap();
    let error =
        PeerEmulator::builder().connect_stream(to_chaincode, ReceiverStream::new(from_chaincode)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "registration failed: [tx1] Fabric side handler cannot handle message (GET_STATE) while in created state"
    );
}

#[tokio::test]
async fn an_empty_chaincode_id_is_refused() {
    let service = ChaincodeService::new(Arc::new(Probe::default()), "", Drain::new());
    let error = PeerEmulator::builder().connect_in_process(&service).await.unwrap_err();
    assert_eq!(error.to_string(), "error in handling register chaincode, chaincodeID name is empty");
}

#[tokio::test]
async fn keepalive_is_echoed() {
    let transcript = Transcript::new();
    let peer = PeerEmulator::builder().transcript(transcript.hook()).connect_chaincode(Probe::default()).await.unwrap();
    peer.keepalive(std::time::Duration::from_secs(10)).await.unwrap();
    assert_eq!(peer.keepalives_received(), 1);
    assert_eq!(transcript.count(Direction::PeerToChaincode, Type::Keepalive), 1);
    assert_eq!(transcript.count(Direction::ChaincodeToPeer, Type::Keepalive), 1);
    // The peer ignores the echo: the connection carries on.
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_peer_sends_keepalive_periodically_when_configured() {
    let config = ccaas_testkit::PeerConfig {
        keepalive_interval: Some(std::time::Duration::from_millis(10)),
        ..Default::default()
    };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(Probe::default()).await.unwrap();
    support::eventually(|| peer.keepalives_received() >= 3).await;
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_graceful_close_ends_both_sides() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let peer = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .connect(&Target::new(server.address.to_string()))
        .await
        .unwrap();
    peer.close().await;
    assert!(!peer.is_connected());
    assert_eq!(peer.closed().await, "closed by the peer emulator");
    assert!(matches!(peer.invoke("put", ["k", "v"]).await, Err(EmulatorError::StreamTerminated)));
}
