//! The chaincode server: the crate's binary run with the package ID (`CHAINCODE_ID`) on the
//! package's port (`CHAINCODE_SERVER_ADDRESS`), its log shown line by line among `dev`'s steps,
//! and stopped gracefully (SIGTERM: the shim finishes the transactions in flight, then exits).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::procs::{Pids, Proc};

/// How long a new server gets to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopping server gets: the shim waits up to 25 s for transactions in flight.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// The prefix of the server's log lines.
const PREFIX: &str = "chaincode | ";

/// Starts `binary` as the chaincode server listening on `listen` (`host:port`) and waits until
/// it accepts connections. `Err` says why it did not (it exited, or never listened); its log
/// has been shown.
pub async fn start(binary: &Path, package_id: &str, listen: &str, pids: &Pids) -> anyhow::Result<Result<Proc, String>> {
    let port: u16 = listen.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(0);
    let mut cmd = tokio::process::Command::new(binary);
    // The package is plaintext, and the server serves every org's peers: the peer CLI's
    // variables of a sourced org1.env (CORE_PEER_TLS_ENABLED turns the shim's TLS on, as in the Go
    // shim) and TLS settings of the shell must not reach it.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CORE_") || name.starts_with("CHAINCODE_TLS_") || name == "CHAINCODE_CLIENT_CA_CERT" {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("CHAINCODE_ID", package_id)
        .env("CHAINCODE_SERVER_ADDRESS", listen)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Proc::spawn("chaincode", &mut cmd, pids)?;
    if let Some(out) = server.take_stdout() {
        tokio::spawn(show(out));
    }
    if let Some(err) = server.take_stderr() {
        tokio::spawn(show(err));
    }
    let started = Instant::now();
    loop {
        if let Some(status) = server.exited() {
            pids.forget("chaincode");
            return Ok(Err(format!("the chaincode server exited at start ({status}); its log is above")));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(Ok(server));
        }
        if started.elapsed() > LISTEN_TIMEOUT {
            server.stop(STOP_GRACE).await;
            return Ok(Err(format!(
                "the chaincode server did not listen on {listen} within {LISTEN_TIMEOUT:?} (does its main read \
                 CHAINCODE_SERVER_ADDRESS, as ccaas_shim::run_from_env does?)"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Prints each line of the server's output with [`PREFIX`].
async fn show(out: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        println!("{PREFIX}{line}");
    }
}
