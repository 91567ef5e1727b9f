//! Many transactions at once on one stream, correlated by (channel, txid).

use crate::support;

use ccaas_testkit::{CommitStatus, PeerEmulator, Target};
use futures::future::join_all;
use support::{serve, Probe, PACKAGE_ID};

async fn two_hundred_interleaved(peer: &PeerEmulator) {
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..10).map(|j| (format!("seed-{j}"), format!("s{j}"))).collect::<Vec<_>>());
    peer.ledger().seed(&ns, (0..200).map(|i| (format!("tmp-{i:03}"), "t".to_string())).collect::<Vec<_>>());
    let height = peer.ledger().height();

    let transactions = (0..200).map(|i| {
        let peer = peer.clone();
        async move { (i, peer.invoke("mix", [i.to_string()]).await) }
    });
    for (i, outcome) in join_all(transactions).await {
        let outcome = outcome.unwrap_or_else(|e| panic!("transaction {i}: {e}"));
        assert_eq!(outcome.status(), 200, "transaction {i}: {}", outcome.response.message);
        assert_eq!(outcome.payload_str(), format!("s{}+{i}|unseen", i % 10), "transaction {i}");
        assert_eq!(outcome.commit, CommitStatus::Committed);
        assert_eq!(outcome.writes.len(), 2, "transaction {i} writes");
        assert_eq!(outcome.reads.len(), 2, "transaction {i} reads");
    }

    assert_eq!(peer.ledger().height(), height + 200);
    for i in 0..200 {
        assert_eq!(peer.ledger().get(&ns, &format!("out-{i:03}")).unwrap(), format!("s{}+{i}", i % 10), "out-{i:03}");
        assert!(peer.ledger().get(&ns, &format!("tmp-{i:03}")).is_none(), "tmp-{i:03} was not deleted");
    }
    assert_eq!(peer.ledger().len(&ns), 10 + 200);
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
    assert!(peer.model().running_transactions().is_empty());
    let stats = peer.stats();
    assert_eq!(stats.transactions_committed, 200);
    assert_eq!(stats.error_replies, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_transactions_in_process() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    two_hundred_interleaved(&peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_transactions_over_tcp() {
    let server = serve(Probe::default(), PACKAGE_ID, None).await;
    let peer = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .connect(&Target::new(server.address.to_string()))
        .await
        .unwrap();
    two_hundred_interleaved(&peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_transaction_fails_alone() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    let transactions = (0..41).map(|i| {
        let peer = peer.clone();
        async move {
            if i == 20 {
                (i, peer.invoke("panic", [""; 0]).await)
            } else {
                (i, peer.invoke("put", [format!("k{i}"), format!("v{i}")]).await)
            }
        }
    });
    for (i, outcome) in join_all(transactions).await {
        let outcome = outcome.unwrap();
        if i == 20 {
            assert_eq!(outcome.status(), 500);
            assert!(outcome.response.message.contains("boom"), "{}", outcome.response.message);
            assert_eq!(outcome.commit, CommitStatus::NotEndorsed);
        } else {
            assert_eq!(outcome.status(), 200, "neighbour {i}");
            assert!(outcome.is_committed());
        }
    }
    assert_eq!(peer.ledger().len(&ns), 40);
    // The connection survives the panic.
    assert_eq!(peer.invoke("put", ["after", "panic"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_same_txid_on_two_channels_are_two_transactions() {
    let peer = PeerEmulator::builder().connect_chaincode(Probe::default()).await.unwrap();
    let a = peer.transaction("put").args(["a", "1"]).tx_id("same").channel("ch1").submit();
    let b = peer.transaction("put").args(["b", "2"]).tx_id("same").channel("ch2").submit();
    let (a, b) = tokio::join!(a, b);
    assert_eq!((a.unwrap().channel_id, b.unwrap().channel_id), ("ch1".to_string(), "ch2".to_string()));
}

#[tokio::test]
async fn a_txid_already_running_is_refused() {
    let probe = Probe::default();
    let peer = PeerEmulator::builder().connect_chaincode(probe.clone()).await.unwrap();
    let first = tokio::spawn(peer.transaction("wait").tx_id("dup").submit());
    probe.waiting.notified().await;
    let error = peer.transaction("put").args(["k", "v"]).tx_id("dup").submit().await.unwrap_err();
    assert_eq!(error.to_string(), "invalid invocation: txid: dup(mychannel) exists");
    probe.gate.notify_one();
    assert_eq!(first.await.unwrap().unwrap().payload_str(), "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_stub_calls_of_one_transaction_are_serialized_by_the_shim() {
    serialized_stub_calls(None).await;
    // A peer that takes its time to answer: any early second request would be caught.
    serialized_stub_calls(Some(std::time::Duration::from_millis(1))).await;
}

async fn serialized_stub_calls(response_delay: Option<std::time::Duration>) {
    let config = ccaas_testkit::PeerConfig { response_delay, ..Default::default() };
    let peer = PeerEmulator::builder().peer_config(config).connect_chaincode(Probe::default()).await.unwrap();
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, [("a", "1"), ("b", "2"), ("c", "3")]);
    peer.ledger().seed(&ns, (0..250).map(|i| (format!("row{i:03}"), "r".to_string())).collect::<Vec<_>>());
    peer.ledger().seed(&ns, (0..250).map(|i| (format!("other-row{i:03}"), "o".to_string())).collect::<Vec<_>>());
    let transactions = (0..20).map(|i| {
        let peer = peer.clone();
        async move {
            if i % 2 == 0 {
                let outcome = peer.query("join_reads", ["a", "b", "c"]).await.unwrap();
                assert_eq!(outcome.payload_str(), "1,2,3");
            } else {
                let outcome = peer.query("range_with_reads", ["row", "row999"]).await.unwrap();
                assert_eq!(outcome.payload_str(), "250", "{}", outcome.response.message);
            }
        }
    });
    join_all(transactions).await;
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
    assert_eq!(peer.stats().error_replies, 0);
}
