//! A peer that goes away mid-transaction; the chaincode server must serve the next connection.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_testkit::{Direction, EmulatorError, Ledger, PeerEmulator, Target, Transcript};
use support::{eventually, serve, Probe, PACKAGE_ID};

async fn connect(target: &Target, ledger: &std::sync::Arc<Ledger>) -> PeerEmulator {
    PeerEmulator::builder().chaincode_id(PACKAGE_ID).ledger(ledger.clone()).connect(target).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_disconnects_mid_transaction_then_reconnects() {
    let probe = Probe::default();
    let server = serve(probe.clone(), PACKAGE_ID, None).await;
    let target = Target::new(server.address.to_string());
    let ledger = Ledger::new();

    let first = connect(&target, &ledger).await;
    assert_eq!(first.invoke("put", ["k", "v1"]).await.unwrap().status(), 200);
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.invoke("wait", [""; 0]).await }
    });
    probe.waiting.notified().await;
    first.disconnect().await;
    assert!(matches!(running.await.unwrap(), Err(EmulatorError::StreamTerminated)));
    // The chaincode's transaction finishes after its peer is gone; nothing breaks.
    probe.gate.notify_one();

    let second = connect(&target, &ledger).await;
    assert_eq!(second.query("get", ["k"]).await.unwrap().payload_str(), "v1");
    assert_eq!(second.invoke("put", ["k", "v2"]).await.unwrap().status(), 200);
    assert_eq!(ledger.get("probe", "k").unwrap(), "v2");
    assert!(!server.task.is_finished());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_disconnects_while_the_chaincode_waits_for_a_reply() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let target = Target::new(server.address.to_string());
    let ledger = Ledger::new();
    let transcript = Transcript::new();

    let first = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .ledger(ledger.clone())
        .transcript(transcript.hook())
        .connect(&target)
        .await
        .unwrap();
    // Hold the reply to GET_STATE, then drop the connection while the chaincode waits for it.
    let pause = first.model().pause().await;
    let running = tokio::spawn({
        let first = first.clone();
        async move { first.query("get", ["k"]).await }
    });
    eventually(|| transcript.count(Direction::ChaincodeToPeer, Type::GetState) == 1).await;
    first.disconnect().await;
    drop(pause);
    assert!(matches!(running.await.unwrap(), Err(EmulatorError::StreamTerminated)));

    let second = connect(&target, &ledger).await;
    assert_eq!(second.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_peers_at_once() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let target = Target::new(server.address.to_string());
    let ledger = Ledger::new();
    let peers = futures::future::join_all((0..3).map(|_| connect(&target, &ledger))).await;
    let outcomes = futures::future::join_all(
        peers.iter().enumerate().map(|(i, peer)| peer.invoke("put", [format!("k{i}"), "v".to_string()])),
    )
    .await;
    assert!(outcomes.into_iter().all(|o| o.unwrap().status() == 200));
    assert_eq!(ledger.len("probe"), 3);
}
