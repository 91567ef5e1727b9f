//! Benchmark: a flood of silent TCP connections against a chaincode server binary, and a peer
//! that connects in the middle of it.
//!
//! ```sh
//! cargo build --release -p ccaas-testkit --example idle_connections -p asset-transfer-basic
//! ./target/release/examples/idle_connections target/release/asset-transfer-basic 10000 [--reopen] [--tls]
//! ```
//!
//! Starts the binary (plaintext, or TLS with a certificate made for the run), connects one peer
//! and runs InitLedger, and measures the server's resident set (VmRSS) idle. Then it opens COUNT
//! connections that never send a byte, as fast as it can, and holds them; with `--reopen` each of
//! them is opened again as soon as the server closes it, for as long as the run lasts. 2 s into the
//! flood a second peer connects: the run reports how long it took to be served (its handshake
//! through READY), then the peer runs 2,000 ReadAsset transactions one after another while the
//! flood goes on, and the run reports their errors and time, the flood's connections, and the
//! peak VmRSS sampled every 20 ms against the idle one.
//!
//! Other settings: `--max-connections N` (`CHAINCODE_MAX_CONNECTIONS`), `--transactions N`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccaas_testkit::bench::{self, SpawnedChaincode};
use ccaas_testkit::{PeerEmulator, Target, TlsOptions};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// When the late peer connects, after the flood starts.
const LATE_PEER_AFTER: Duration = Duration::from_secs(2);

struct Args {
    binary: PathBuf,
    count: usize,
    reopen: bool,
    tls: bool,
    max_connections: Option<String>,
    transactions: usize,
}

fn args() -> Result<Args, String> {
    let usage = "usage: idle_connections BINARY COUNT [--reopen] [--tls] [--max-connections N] [--transactions N]";
    let mut positional = Vec::new();
    let (mut reopen, mut tls, mut max_connections, mut transactions) = (false, false, None, 2000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reopen" => reopen = true,
            "--tls" => tls = true,
            "--max-connections" => max_connections = Some(args.next().ok_or(usage)?),
            "--transactions" => {
                transactions = args.next().ok_or(usage)?.parse().map_err(|e| format!("--transactions: {e}"))?
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}\n{usage}")),
            _ => positional.push(arg),
        }
    }
    let [binary, count] = <[String; 2]>::try_from(positional).map_err(|_| usage.to_string())?;
    let count = count.parse().map_err(|e| format!("COUNT {count:?}: {e}"))?;
    Ok(Args { binary: PathBuf::from(binary), count, reopen, tls, max_connections, transactions })
}

/// The server's VmRSS in KiB, 0 once it is gone.
fn rss_kib(pid: u32) -> u64 {
    bench::rss_kib(pid).unwrap_or(0)
}

/// A self-signed server certificate for 127.0.0.1, written beside the run as PEM files.
fn tls_files() -> Result<(PathBuf, PathBuf, Vec<u8>), Box<dyn std::error::Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    let dir = std::env::temp_dir().join(format!("idle-connections-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let cert_pem = certified.cert.pem();
    std::fs::write(&cert, &cert_pem)?;
    std::fs::write(&key, certified.signing_key.serialize_pem())?;
    Ok((cert, key, cert_pem.into_bytes()))
}

/// Counts of the flood.
#[derive(Default)]
struct Flood {
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    failed_connects: AtomicU64,
    stop: AtomicBool,
}

/// One silent connection; with `reopen`, opened again each time the server closes it.
async fn silent(address: String, reopen: bool, flood: Arc<Flood>) -> Option<TcpStream> {
    loop {
        if flood.stop.load(Ordering::Relaxed) {
            return None;
        }
        let mut socket = match TcpStream::connect(&address).await {
            Ok(socket) => socket,
            Err(_) => {
                flood.failed_connects.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        flood.opened.fetch_add(1, Ordering::Relaxed);
        if !reopen {
            return Some(socket);
        }
        // Wait for the server to close it (EOF or reset); the server's HTTP/2 settings would
        // be read and ignored, but a silent connection never gets that far.
        let mut buffer = [0u8; 256];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        flood.closed_by_server.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let mut command = SpawnedChaincode::command(&args.binary);
    if let Some(max) = &args.max_connections {
        command.env("CHAINCODE_MAX_CONNECTIONS", max);
    }
    let mut target_tls = None;
    if args.tls {
        let (cert, key, cert_pem) = tls_files()?;
        command.env("CHAINCODE_TLS_DISABLED", "false").env("CHAINCODE_TLS_CERT", &cert).env("CHAINCODE_TLS_KEY", &key);
        target_tls = Some(TlsOptions { root_cert_pem: cert_pem, client_identity: None, domain: None });
    }
    let mut child = SpawnedChaincode::spawn_command(command, "basic_1.0:idle")?;
    let mut target = Target::new(child.address.clone()).connect_timeout(Duration::from_secs(3));
    if let Some(tls) = target_tls {
        target = target.tls(tls);
    }
    let builder = PeerEmulator::builder().chaincode_id("basic_1.0:idle").sign_proposals(false);
    let first = child
        .wait_ready(Duration::from_secs(10), || {
            let (builder, target) = (builder.clone(), target.clone());
            async move { builder.connect(&target).await }
        })
        .await?;
    first.invoke("InitLedger", Vec::<String>::new()).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(child.pid);
    println!(
        "server: {} ({}, max connections: {}), flood: {} silent connections{}",
        args.binary.display(),
        if args.tls { "TLS" } else { "plaintext" },
        args.max_connections.as_deref().unwrap_or("default"),
        args.count,
        if args.reopen { ", each reopened when the server closes it" } else { ", held" },
    );

    // RSS, sampled until the run ends.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (sampling, pid) = (Arc::clone(&sampling), child.pid);
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };

    let flood = Arc::new(Flood::default());
    let started = Instant::now();
    // The flood runs on its own thread and runtime, as another process would: its thousands of
    // tasks must not starve the late peer's (a real peer is another machine).
    let opening = {
        let (flood, address, count, reopen) = (Arc::clone(&flood), child.address.clone(), args.count, args.reopen);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let mut tasks = Vec::with_capacity(count);
                for _ in 0..count {
                    tasks.push(tokio::spawn(silent(address.clone(), reopen, Arc::clone(&flood))));
                }
                let mut held = Vec::new();
                for task in tasks {
                    if let Ok(Some(socket)) = task.await {
                        held.push(socket);
                    }
                }
                // Hold them until the run ends.
                while !flood.stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                drop(held);
            })
        })
    };

    tokio::time::sleep_until((started + LATE_PEER_AFTER).into()).await;
    let opened_before = flood.opened.load(Ordering::Relaxed);
    let connecting = Instant::now();
    let mut failed_attempts = 0;
    let late = loop {
        match builder.clone().connect(&target).await {
            Ok(peer) => break Some(peer),
            Err(e) => {
                failed_attempts += 1;
                eprintln!("the late peer's connection failed: {e}");
                if connecting.elapsed() > Duration::from_secs(10) {
                    break None;
                }
            }
        }
    };
    let served_in = connecting.elapsed();
    let (mut errors, mut slowest) = (0u64, Duration::ZERO);
    let running = Instant::now();
    if let Some(peer) = &late {
        // Its own emulated ledger: seed it (not counted).
        if let Err(e) = peer.invoke("InitLedger", Vec::<String>::new()).await {
            eprintln!("the late peer's InitLedger failed: {e}");
        }
        for _ in 0..args.transactions {
            let one = Instant::now();
            match peer.query("ReadAsset", ["asset1"]).await {
                Ok(outcome) if outcome.status() == 200 => {}
                Ok(outcome) => {
                    errors += 1;
                    eprintln!("ReadAsset: status {}", outcome.status());
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("ReadAsset: {e}");
                }
            }
            slowest = slowest.max(one.elapsed());
        }
    }
    let ran_in = running.elapsed();
    let during = flood.opened.load(Ordering::Relaxed) - opened_before;
    let flood_rate = during as f64 / (connecting.elapsed().as_secs_f64());

    flood.stop.store(true, Ordering::Relaxed);
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.await?;
    // Not joined: reopened connections may wait for a server that is about to stop.
    drop(opening);
    let opened = flood.opened.load(Ordering::Relaxed);
    println!(
        "flood: {opened} connections opened in all, {during} while the late peer connected and ran ({flood_rate:.0}/s), \
         {} closed by the server and reopened, {} connects failed",
        flood.closed_by_server.load(Ordering::Relaxed),
        flood.failed_connects.load(Ordering::Relaxed)
    );
    match &late {
        Some(_) => println!(
            "late peer: served in {:.1} ms ({failed_attempts} failed attempts), {} ReadAsset in {:.2} s, \
             {errors} errors, slowest {:.1} ms",
            served_in.as_secs_f64() * 1000.0,
            args.transactions,
            ran_in.as_secs_f64(),
            slowest.as_secs_f64() * 1000.0
        ),
        None => println!("late peer: NOT served within 10 s ({failed_attempts} failed attempts)"),
    }
    println!("RSS: idle {idle} KiB, peak during the flood {peak} KiB (+{} KiB)", peak.saturating_sub(idle));
    let healthy = first.query("ReadAsset", ["asset1"]).await.map(|o| o.status()).unwrap_or(0);
    println!("first peer after the flood: ReadAsset status {healthy}");
    child.stop().await;
    if late.is_none() || errors > 0 || healthy != 200 {
        std::process::exit(1);
    }
    Ok(())
}
