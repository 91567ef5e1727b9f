//! The conformance checks and the benchmark, run against the test kit's asset-transfer-basic
//! chaincode (in-process and over TCP).

use crate::support;

use std::sync::Arc;

use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::bench::{self, Function};
use ccaas_testkit::testing::tls::TestPki;
use ccaas_testkit::testing::{initial_assets, AssetTransfer};
use ccaas_testkit::TlsOptions;
use ccaas_testkit::{conformance, PeerEmulator, Target};
use support::{serve, ServerTls};

const ID: &str = "basic_1.0:4ec191e793b27e953ff2ede5a8bcc63152cecb1e4c3f301a26e22692c61967ad";

fn options() -> conformance::Options {
    conformance::Options { chaincode_id: Some(ID.to_string()), ..Default::default() }
}

/// Runs every check against a chaincode server, dialing it as a peer would.
async fn run_over_tcp(target: &Target) -> conformance::Report {
    conformance::run(
        |builder| {
            let target = target.clone();
            async move { builder.connect(&target).await }
        },
        options(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_check_passes_in_process() {
    let service = ChaincodeService::new(Arc::new(AssetTransfer), ID, Drain::new());
    let report = conformance::run(
        |builder| {
            let service = service.clone();
            async move { builder.connect_in_process(&service).await }
        },
        options(),
    )
    .await;
    assert!(report.passed(), "{}", report.render());
    assert_eq!(report.checks.len(), 8);
    assert_eq!(report.chaincode_id, ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_check_passes_over_tcp() {
    let server = serve(AssetTransfer, ID, None).await;
    let target = Target::new(server.address.to_string());
    let report = run_over_tcp(&target).await;
    assert!(report.passed(), "{}", report.render());
    let rendered = report.render();
    assert!(rendered.lines().take(8).all(|l| l.starts_with("PASS")), "{rendered}");
    assert!(rendered.ends_with("8 passed, 0 failed\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_asset_transfer_basic_example_passes_every_check() {
    let server = serve(support::asset_transfer_basic(), ID, None).await;
    let target = Target::new(server.address.to_string());
    let report = run_over_tcp(&target).await;
    assert!(report.passed(), "{}", report.render());
}

/// Runs every check against the example served with TLS (and, with `mutual`, client auth),
/// dialing as a peer does with connection.json's `root_cert` (and `client_cert`/`client_key`).
async fn example_passes_over_tls(mutual: bool) {
    let pki = TestPki::new();
    let cert = pki.server(&["localhost", "127.0.0.1"]);
    let client_ca_pem = mutual.then(|| pki.ca_pem().to_string());
    let tls = ServerTls { cert_pem: cert.cert_pem, key_pem: cert.key_pem, client_ca_pem };
    let server = serve(support::asset_transfer_basic(), ID, Some(tls)).await;
    let client_identity = mutual.then(|| {
        let client = pki.client("peer0.org1.example.com");
        (client.cert_pem.into_bytes(), client.key_pem.into_bytes())
    });
    let tls = TlsOptions { root_cert_pem: pki.ca_pem().as_bytes().to_vec(), client_identity, domain: None };
    let target = Target::new(format!("localhost:{}", server.address.port())).tls(tls);
    let report = run_over_tcp(&target).await;
    assert!(report.passed(), "{}", report.render());

    // Without TLS (or, on the mTLS server, without a client certificate) the peer is refused.
    let plaintext = PeerEmulator::builder().chaincode_id(ID).connect(&Target::new(server.address.to_string())).await;
    assert!(plaintext.is_err(), "a plaintext client must not reach a TLS server");
    if mutual {
        let anonymous =
            TlsOptions { root_cert_pem: pki.ca_pem().as_bytes().to_vec(), client_identity: None, domain: None };
        let target = Target::new(format!("localhost:{}", server.address.port())).tls(anonymous);
        let refused = PeerEmulator::builder().chaincode_id(ID).connect(&target).await;
        assert!(refused.is_err(), "a client without a certificate must not reach an mTLS server");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_example_passes_every_check_over_tls() {
    example_passes_over_tls(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_example_passes_every_check_over_mutual_tls() {
    example_passes_over_tls(true).await;
}

#[tokio::test]
async fn the_example_and_the_test_chaincode_answer_alike() {
    let example = PeerEmulator::builder().connect_chaincode(support::asset_transfer_basic()).await.unwrap();
    let ours = PeerEmulator::builder().connect_chaincode(AssetTransfer).await.unwrap();
    let script: &[&[&str]] = &[
        &["InitLedger"],
        &["ReadAsset", "asset1"],
        &["CreateAsset", "asset7", "pink", "3", "Ann", "90"],
        &["CreateAsset", "asset7", "pink", "3", "Ann", "90"],
        &["UpdateAsset", "asset7", "grey", "4", "Bob", "91"],
        &["TransferAsset", "asset7", "Carol"],
        &["AssetExists", "asset7"],
        &["DeleteAsset", "asset7"],
        &["ReadAsset", "asset7"],
        &["GetAllAssets"],
    ];
    for call in script {
        let args: Vec<String> = call[1..].iter().map(|s| s.to_string()).collect();
        let a = example.invoke(call[0], args.clone()).await.unwrap();
        let b = ours.invoke(call[0], args).await.unwrap();
        assert_eq!((a.status(), a.payload_str()), (b.status(), b.payload_str()), "{call:?}");
        assert_eq!(a.response.message, b.response.message, "{call:?}");
        assert_eq!(a.writes, b.writes, "{call:?}");
    }
}

#[tokio::test]
async fn a_wrong_expected_id_fails_the_handshake_check() {
    let service = ChaincodeService::new(Arc::new(AssetTransfer), ID, Drain::new());
    let report = conformance::run(
        |builder| {
            let service = service.clone();
            async move { builder.connect_in_process(&service).await }
        },
        conformance::Options { chaincode_id: Some("basic_2.0:00".into()), ..Default::default() },
    )
    .await;
    assert!(!report.passed());
    assert!(!report.checks[0].passed);
    assert!(report.checks[0].detail.contains("peer will not accept external chaincode connection"));
    assert!(report.checks.iter().skip(1).all(|c| !c.passed && c.detail == "not run: no connection"));
}

#[tokio::test]
async fn asset_transfer_behaves_like_the_sample() {
    let peer = PeerEmulator::builder().chaincode_id(ID).connect_chaincode(AssetTransfer).await.unwrap();
    assert_eq!(peer.invoke("InitLedger", [""; 0]).await.unwrap().status(), 200);
    let all = peer.query("GetAllAssets", [""; 0]).await.unwrap();
    let expected: Vec<String> = initial_assets().iter().map(|a| a.to_json()).collect();
    assert_eq!(all.payload_str(), format!("[{}]", expected.join(",")));
    assert_eq!(
        peer.query("ReadAsset", ["asset1"]).await.unwrap().payload_str(),
        r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#
    );
    let transfer = peer.invoke("TransferAsset", ["asset1", "Christopher"]).await.unwrap();
    assert_eq!(transfer.payload_str(), "Tomoko");
    let duplicate = peer.invoke("CreateAsset", ["asset1", "blue", "5", "Tom", "1"]).await.unwrap();
    assert_eq!((duplicate.status(), duplicate.response.message.as_str()), (500, "the asset asset1 already exists"));
    let missing = peer.query("ReadAsset", ["nope"]).await.unwrap();
    assert_eq!((missing.status(), missing.response.message.as_str()), (500, "the asset nope does not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_benchmark_reports_every_level() {
    let peer = PeerEmulator::builder().chaincode_id(ID).connect_chaincode(AssetTransfer).await.unwrap();
    for function in [Function::ReadAsset, Function::CreateAsset] {
        let options = bench::Options {
            function,
            concurrency: vec![1, 8],
            transactions: Some(40),
            assets: 20,
            ..Default::default()
        };
        let report = bench::run(&peer, &options).await;
        assert_eq!(report.levels.len(), 2);
        for level in &report.levels {
            assert_eq!(level.transactions, 40, "{}", report.render());
            assert_eq!(level.errors, 0, "{}", report.render());
            assert!(level.tps > 0.0 && level.p50_ms <= level.p99_ms && level.p99_ms <= level.max_ms);
        }
        assert!(report.render().contains(&function.to_string()));
    }
    assert_eq!(peer.ledger().keys("basic").iter().filter(|k| k.starts_with("bench-0-")).count(), 40);
    assert!(peer.violations().is_empty());
}
