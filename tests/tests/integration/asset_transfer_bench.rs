//! The contract API against the low-level trait, side by side: `bench::compare` and
//! `ccaas-peer bench --chaincode contract,lowlevel`.

use std::process::Output;

use ccaas_testkit::bench::{self, Function};
use ccaas_testkit::PeerEmulator;

use crate::support;
use serde_json::Value;

const PEER: &str = env!("CARGO_BIN_EXE_ccaas-peer");

async fn peer(args: &[&str]) -> Output {
    tokio::process::Command::new(PEER)
        .args(args)
        .env_remove("CHAINCODE_SERVER_ADDRESS")
        .env_remove("CHAINCODE_ID")
        .output()
        .await
        .expect("run ccaas-peer")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_runs_every_level_on_every_chaincode() {
    let contract = PeerEmulator::builder().connect_chaincode(support::asset_transfer_basic()).await.unwrap();
    let lowlevel =
        PeerEmulator::builder().connect_chaincode(ccaas_testkit::testing::lowlevel::AssetTransfer).await.unwrap();
    let peers = [("contract".to_string(), contract.clone()), ("lowlevel".to_string(), lowlevel.clone())];
    for function in [Function::ReadAsset, Function::CreateAsset] {
        let options = bench::Options {
            function,
            concurrency: vec![1, 8],
            transactions: Some(40),
            assets: 20,
            ..Default::default()
        };
        let comparison = bench::compare(&peers, &options, 3).await;
        assert!(!comparison.has_errors(), "{}", comparison.render());
        assert_eq!(comparison.chaincodes, ["contract", "lowlevel"]);
        assert_eq!(comparison.levels.len(), 2);
        for level in &comparison.levels {
            assert_eq!(level.results.len(), 2);
            assert!(level.results.iter().all(|r| r.transactions == 40 && r.errors == 0));
            assert_eq!(level.tps_ratio[0], 1.0);
            assert!(level.tps_ratio[1] > 0.0);
        }
        let rendered = comparison.render();
        assert!(rendered.contains("contract/lowlevel"), "{rendered}");
        assert_eq!(rendered.lines().count(), 4, "{rendered}");
    }
    // Every round of CreateAsset wrote its own assets: 500 warm-up, then 2 levels x 3 rounds x 40.
    for peer in [&contract, &lowlevel] {
        let keys = peer.ledger().keys("basic");
        let created = keys.iter().filter(|k| k.starts_with("bench-") && !k.starts_with("bench-asset-")).count();
        assert_eq!(created, 500 + 2 * 3 * 40);
        assert!(peer.violations().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccaas_peer_serves_both_implementations_on_loopback() {
    let output = peer(&[
        "bench",
        "--chaincode",
        "contract,lowlevel",
        "--concurrency",
        "1,4",
        "--transactions",
        "30",
        "--rounds",
        "2",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    let json: Value = serde_json::from_str(&text(&output.stdout)).unwrap();
    assert_eq!(json["function"], "ReadAsset");
    assert_eq!(json["chaincodes"], serde_json::json!(["contract", "lowlevel"]));
    assert_eq!(json["rounds"], 2);
    let levels = json["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[1]["concurrency"], 4);
    for result in levels[1]["results"].as_array().unwrap() {
        assert_eq!(result["transactions"], 30);
        assert_eq!(result["errors"], 0);
    }

    let output = peer(&["bench", "--chaincode", "lowlevel", "--concurrency", "2", "--transactions", "10"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("lowlevel tx/s"), "{}", text(&output.stdout));
}

#[tokio::test]
async fn chaincode_conflicts_with_spawn_and_rounds_needs_it() {
    let output = peer(&["bench", "--chaincode", "contract", "--spawn", "/bin/true"]).await;
    assert_eq!(output.status.code(), Some(2));
    let output = peer(&["bench", "--rounds", "3"]).await;
    assert_eq!(output.status.code(), Some(2));
    let output = peer(&["bench", "--chaincode", "native"]).await;
    assert_eq!(output.status.code(), Some(2));
}
