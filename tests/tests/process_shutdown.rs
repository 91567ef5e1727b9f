//! The chaincode as a process, as Kubernetes runs it: SIGTERM while a transaction is in flight
//! lets that transaction complete, then the process exits 0; a bad configuration exits 2.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ccaas_testkit::{PeerEmulator, Target};

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

async fn connect(port: u16) -> PeerEmulator {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = PeerEmulator::builder()
            .chaincode_id("basic_1.0:test")
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
    let peer = connect(port).await;

    let in_flight = {
        let peer = peer.clone();
        tokio::spawn(async move { peer.invoke("Sleep", ["600"]).await })
    };
    // Let the transaction reach the chaincode, then ask the process to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
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
