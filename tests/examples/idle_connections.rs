//! Benchmark: a flood of silent TCP connections against a chaincode server binary.
//!
//! ```sh
//! cargo build --release -p ccaas-testkit -p asset-transfer-basic
//! cargo run --release -p ccaas-testkit --example idle_connections -- \
//!     target/release/asset-transfer-basic 3000 [MAX_CONNECTIONS]
//! ```
//!
//! Starts the binary (with `CHAINCODE_MAX_CONNECTIONS` if given, else the server's default),
//! connects one healthy emulated peer, opens COUNT connections that never send a byte, and for
//! 15 s prints every second: how many of the silent connections the server still holds open, the
//! server's resident set (VmRSS), and the slowest ReadAsset the healthy peer ran meanwhile (one
//! every 20 ms). A server without a handshake deadline keeps every socket and grows; this one
//! refuses what is over its connection limit at once and drops the rest at the deadline.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ccaas_testkit::bench::{self, SpawnedChaincode};
use ccaas_testkit::{PeerEmulator, Target};
use tokio::net::TcpStream;

/// The server's VmRSS in KiB, 0 once it is gone.
fn rss_kib(pid: u32) -> u64 {
    bench::rss_kib(pid).unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: idle_connections BINARY COUNT [MAX_CONNECTIONS]";
    let binary = PathBuf::from(args.next().ok_or(usage)?);
    let count: usize = args.next().ok_or(usage)?.parse()?;
    let max_connections = args.next();

    let mut command = SpawnedChaincode::command(&binary);
    if let Some(max) = &max_connections {
        command.env("CHAINCODE_MAX_CONNECTIONS", max);
    }
    let mut child = SpawnedChaincode::spawn_command(command, "basic_1.0:idle")?;
    let target = Target::new(child.address.clone()).connect_timeout(Duration::from_secs(1));
    let builder = PeerEmulator::builder().chaincode_id("basic_1.0:idle").sign_proposals(false);
    let peer = child
        .wait_ready(Duration::from_secs(10), || {
            let (builder, target) = (builder.clone(), target.clone());
            async move { builder.connect(&target).await }
        })
        .await?;
    peer.invoke("InitLedger", Vec::<String>::new()).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss_kib(child.pid);
    println!(
        "server: {} (max connections: {}), {count} silent connections",
        binary.display(),
        max_connections.as_deref().unwrap_or("default")
    );
    println!("idle RSS before: {idle} KiB");

    // The healthy peer keeps working throughout; record the slowest transaction per second.
    let (slowest_tx, mut slowest_rx) = tokio::sync::watch::channel(Duration::ZERO);
    let healthy = tokio::spawn(async move {
        let mut errors = 0u64;
        let stop = Instant::now() + Duration::from_secs(16);
        while Instant::now() < stop {
            let started = Instant::now();
            if !matches!(peer.query("ReadAsset", ["asset1"]).await.map(|o| o.status()), Ok(200)) {
                errors += 1;
            }
            let took = started.elapsed();
            slowest_tx.send_if_modified(|slowest| {
                let longer = took > *slowest;
                if longer {
                    *slowest = took;
                }
                longer
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        errors
    });

    let address = child.address.clone();
    let mut silent = Vec::with_capacity(count);
    let opened = Instant::now();
    for _ in 0..count {
        silent.push(TcpStream::connect(&address).await?);
    }
    println!("opened {count} connections in {:?}", opened.elapsed());
    println!("{:>4} {:>12} {:>10} {:>16}", "s", "still open", "RSS KiB", "slowest tx ms");
    let mut peak = 0;
    for second in 1..=15 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut open = 0;
        for socket in &silent {
            let mut bytes = [0u8; 256];
            // A non-blocking probe: EOF or a reset means the server closed it; the server's
            // HTTP/2 settings frame or "nothing yet" means it is still open.
            loop {
                match socket.try_read(&mut bytes) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        open += 1;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        let rss = rss_kib(child.pid);
        peak = peak.max(rss);
        let slowest = *slowest_rx.borrow_and_update();
        println!("{second:>4} {open:>12} {rss:>10} {:>16.3}", slowest.as_secs_f64() * 1000.0);
    }
    let errors = healthy.await?;
    println!("healthy peer: {errors} failed transactions; peak RSS sampled {peak} KiB, idle before {idle} KiB");
    child.stop().await;
    Ok(())
}
