//! The chaincode as a process, as Kubernetes runs it: SIGTERM while a transaction is in flight
//! lets that transaction complete, then the process exits 0; a bad configuration exits 2.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_testkit::{Direction, PeerEmulator, Target, Transcript};

const BINARY: &str = env!("CARGO_BIN_EXE_ccaas-test-chaincode");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(port: u16) -> Child {
    Command::new(BINARY)
        .env("CHAINCODE_SERVER_ADDRESS", format!("127.0.0.1:{port}"))
        .env("CHAINCODE_ID", "basic_1.0:test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the test chaincode starts")
}

async fn connect(port: u16, transcript: &Transcript) -> PeerEmulator {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = PeerEmulator::builder()
            .chaincode_id("basic_1.0:test")
            .transcript(transcript.hook())
            .connect(&Target::new(format!("127.0.0.1:{port}")))
            .await;
        match attempt {
            Ok(peer) => return peer,
            Err(e) if Instant::now() > deadline => panic!("the chaincode never accepted a connection: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_transaction_complete_then_exits_zero() {
    let port = free_port();
    let mut child = spawn(port);
    let transcript = Transcript::new();
    let peer = connect(port, &transcript).await;

    let in_flight = {
        let peer = peer.clone();
        tokio::spawn(async move { peer.invoke("Sleep", ["600"]).await })
    };
    // Make sure the chaincode holds the transaction before asking the process to stop: once the
    // TRANSACTION is on the stream, a KEEPALIVE sent after it is echoed only after the handler has
    // read (and started) the transaction, since it reads the stream in order. A fixed sleep here
    // raced on a loaded machine: a SIGTERM that lands before the TRANSACTION is read rightly
    // closes the stream instead.
    while transcript.count(Direction::PeerToChaincode, Type::Transaction) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    peer.keepalive(Duration::from_secs(20)).await.expect("the chaincode echoes KEEPALIVE");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -TERM failed");

    let outcome = in_flight.await.unwrap().expect("the in-flight transaction gets its answer");
    assert_eq!(outcome.response.status, 200, "{}", outcome.response.message);
    assert_eq!(outcome.response.payload.as_ref(), b"slept 600 ms");

    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert_eq!(exit.code(), Some(0), "a graceful shutdown exits 0");
}

#[test]
fn a_missing_chaincode_id_exits_2_and_names_the_variables() {
    let output = Command::new(BINARY)
        .env_remove("CHAINCODE_ID")
        .env_remove("CORE_CHAINCODE_ID_NAME")
        .env_remove("CORE_CHAINCODE_ID")
        .env("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CHAINCODE_ID") && stderr.contains("CORE_CHAINCODE_ID_NAME"), "{stderr}");
}

/// SIGTERM under load: 40 transactions in flight on two connections all complete, the ones that
/// arrive after the signal are refused cleanly (never half-run), and the process exits 0.
#[tokio::test]
async fn sigterm_under_load_completes_every_transaction_in_flight() {
    let port = free_port();
    let mut child = spawn(port);
    let transcripts = [Transcript::new(), Transcript::new()];
    let peers = [connect(port, &transcripts[0]).await, connect(port, &transcripts[1]).await];
    let mut in_flight = Vec::new();
    for i in 0..40 {
        let peer = peers[i % 2].clone();
        in_flight.push(tokio::spawn(async move { peer.invoke("Sleep", ["800"]).await }));
    }
    for (peer, transcript) in peers.iter().zip(&transcripts) {
        while transcript.count(Direction::PeerToChaincode, Type::Transaction) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peer.keepalive(Duration::from_secs(20)).await.expect("the chaincode echoes KEEPALIVE");
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill -TERM failed");
    // More load after the signal: refused or cut off, never answered with a partial result.
    let late: Vec<_> = (0..10)
        .map(|i| {
            let peer = peers[i % 2].clone();
            tokio::spawn(async move { peer.invoke("Sleep", ["10"]).await })
        })
        .collect();
    for task in in_flight {
        let outcome = task.await.unwrap().expect("every in-flight transaction gets its answer");
        assert_eq!(outcome.response.payload.as_ref(), b"slept 800 ms");
    }
    for task in late {
        if let Ok(outcome) = task.await.unwrap() {
            assert_eq!(outcome.response.payload.as_ref(), b"slept 10 ms", "a late transaction ran half-way");
        }
    }
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert_eq!(exit.code(), Some(0), "a graceful shutdown exits 0");
}
