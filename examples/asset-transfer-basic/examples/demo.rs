//! The README's first command: `cargo run -p asset-transfer-basic --example demo`.
//!
//! Starts the asset-transfer-basic chaincode server on a loopback port (the same `Server` the
//! binary runs, plaintext), connects the test kit's peer emulator to it over gRPC as a Fabric peer
//! would, runs a short session of transactions and prints every protocol message exchanged.

use std::sync::Arc;

use asset_transfer_basic::SmartContract;
use ccaas_shim::contract::ContractChaincode;
use ccaas_shim::server::Server;
use ccaas_testkit::{PeerEmulator, Target, TranscriptEntry, TxOutcome};
use tokio::net::TcpListener;

/// A package ID as `ccaas-package build --label basic_1.0` would print it.
const PACKAGE_ID: &str = "basic_1.0:4ec191e793b27e953ff2ede5a8bcc63152cecb1e4c3f301a26e22692c61967ad";

/// The session: (submit?, function, arguments).
const SESSION: &[(bool, &str, &[&str])] = &[
    (true, "InitLedger", &[]),
    (false, "ReadAsset", &["asset1"]),
    (true, "CreateAsset", &["asset7", "teal", "7", "Ana", "700"]),
    (true, "TransferAsset", &["asset7", "Bob"]),
    (false, "ReadAsset", &["asset7"]),
    (true, "CreateAsset", &["asset7", "teal", "7", "Ana", "700"]),
    (false, "AssetExists", &["asset99"]),
    (false, "GetAllAssets", &[]),
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = Server::builder(ContractChaincode::new().contract(SmartContract))
        .chaincode_id(PACKAGE_ID)
        .address(address)
        .build()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_listener(listener, async {
        let _ = stopped.await;
    }));
    println!("asset-transfer-basic is serving on {address} as {PACKAGE_ID}");
    println!("the peer emulator dials it; every protocol message follows (peer -> chaincode, chaincode -> peer)\n");

    let print = Arc::new(|entry: &TranscriptEntry| println!("    {entry}"));
    let peer = PeerEmulator::builder()
        .chaincode_id(PACKAGE_ID)
        .transcript(print)
        .connect(&Target::new(address.to_string()))
        .await?;

    for &(submit, function, args) in SESSION {
        let verb = if submit { "submit" } else { "evaluate" };
        println!("\n{verb} {function}({})", args.join(", "));
        let args = args.iter().map(|a| a.to_string());
        let outcome = if submit { peer.invoke(function, args).await? } else { peer.query(function, args).await? };
        println!("  => {}", summary(&outcome));
    }

    peer.close().await;
    stop.send(()).ok();
    serving.await??;
    println!("\ndone: the chaincode server shut down gracefully");
    Ok(())
}

/// One line about a transaction's result.
fn summary(outcome: &TxOutcome) -> String {
    let response = &outcome.response;
    let payload = String::from_utf8_lossy(&response.payload);
    let shown: String = payload.chars().take(160).collect();
    let ellipsis = if payload.chars().count() > 160 { "..." } else { "" };
    if response.status == 200 {
        format!("status 200, {} writes, payload {shown}{ellipsis}", outcome.writes.len())
    } else {
        format!("status {}, message {:?}", response.status, response.message)
    }
}
