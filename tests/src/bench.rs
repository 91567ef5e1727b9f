//! Load tests: transactions per second and latency percentiles at several concurrency levels,
//! over one connection (as one peer drives a chaincode), and the chaincode's peak memory when
//! the benchmark started it.
//!
//! ```no_run
//! # async fn example(peer: ccaas_testkit::PeerEmulator) {
//! use ccaas_testkit::bench::{self, Function, Options};
//! let report = bench::run(&peer, &Options {
//!     function: Function::ReadAsset,
//!     concurrency: vec![1, 16, 64],
//!     transactions: Some(2_000),
//!     ..Default::default()
//! })
//! .await;
//! print!("{}", report.render());
//! # }
//! ```
//!
//! [`batch`] is the write batching benchmark (`ccaas-peer bench-batch`).

pub mod batch;

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::testing::Asset;
use crate::{EmulatorError, PeerEmulator};

/// The transaction the benchmark runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Function {
    /// `ReadAsset` of pre-loaded assets, evaluated (one GET_STATE each).
    ReadAsset,
    /// `CreateAsset` of new assets, submitted (a GET_STATE and a PUT_STATE each).
    CreateAsset,
    /// `GetAllAssets` over the pre-loaded assets, evaluated (a range query read to its end:
    /// GET_STATE_BY_RANGE and one QUERY_STATE_NEXT per further batch of 100).
    GetAllAssets,
    /// `InitLedger`, submitted: six PUT_STATE (the six standard assets, rewritten by every
    /// transaction), the multi-write transaction every asset-transfer-basic has.
    InitLedger,
}

impl std::str::FromStr for Function {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ReadAsset" => Ok(Function::ReadAsset),
            "CreateAsset" => Ok(Function::CreateAsset),
            "GetAllAssets" => Ok(Function::GetAllAssets),
            "InitLedger" => Ok(Function::InitLedger),
            other => Err(format!("unknown function {other}: use ReadAsset, CreateAsset, GetAllAssets or InitLedger")),
        }
    }
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Function::ReadAsset => "ReadAsset",
            Function::CreateAsset => "CreateAsset",
            Function::GetAllAssets => "GetAllAssets",
            Function::InitLedger => "InitLedger",
        })
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The transaction.
    pub function: Function,
    /// Transactions in flight at once, one level after the other.
    pub concurrency: Vec<usize>,
    /// Run each level this long...
    pub duration: Option<Duration>,
    /// ...or for this many transactions (used when `duration` is `None`; default 1000).
    pub transactions: Option<u64>,
    /// Assets pre-loaded for `ReadAsset` and `GetAllAssets`.
    pub assets: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            function: Function::ReadAsset,
            concurrency: vec![1, 16, 64],
            duration: None,
            transactions: None,
            assets: 1000,
        }
    }
}

/// The results of one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelReport {
    /// Transactions in flight at once.
    pub concurrency: usize,
    /// Transactions completed (including failed ones).
    pub transactions: u64,
    /// Transactions that failed or did not answer status 200.
    pub errors: u64,
    /// Wall time of the level, in seconds.
    pub elapsed_s: f64,
    /// Completed transactions per second.
    pub tps: f64,
    /// Median latency, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Worst latency, in milliseconds.
    pub max_ms: f64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
    /// The chaincode process's CPU time (user + system) per completed transaction, in
    /// microseconds, when the benchmark knows its process (see [`run_measured`]).
    pub cpu_us_per_tx: Option<f64>,
}

/// The results of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The transaction.
    pub function: Function,
    /// One entry per concurrency level.
    pub levels: Vec<LevelReport>,
    /// The chaincode process's peak resident set (VmHWM), in KiB, when the benchmark spawned it.
    pub peak_rss_kib: Option<u64>,
    /// The chaincode process's resident set (VmRSS) after it connected and before the load, in
    /// KiB, when the benchmark knows its process.
    pub idle_rss_kib: Option<u64>,
}

impl Report {
    /// A table, one line per level.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{:<12} {:>11} {:>12} {:>7} {:>11} {:>9} {:>9} {:>9} {:>10}\n",
            "function", "concurrency", "transactions", "errors", "tx/s", "p50 ms", "p99 ms", "max ms", "CPU µs/tx"
        );
        for level in &self.levels {
            let cpu = level.cpu_us_per_tx.map(|us| format!("{us:.1}")).unwrap_or_else(|| "-".to_string());
            out.push_str(&format!(
                "{:<12} {:>11} {:>12} {:>7} {:>11.1} {:>9.3} {:>9.3} {:>9.3} {:>10}\n",
                self.function.to_string(),
                level.concurrency,
                level.transactions,
                level.errors,
                level.tps,
                level.p50_ms,
                level.p99_ms,
                level.max_ms,
                cpu
            ));
            if let Some(error) = &level.first_error {
                out.push_str(&format!("  first error: {error}\n"));
            }
        }
        if let Some(rss) = self.idle_rss_kib {
            out.push_str(&format!("chaincode idle RSS (VmRSS): {rss} KiB ({:.1} MiB)\n", rss as f64 / 1024.0));
        }
        if let Some(rss) = self.peak_rss_kib {
            out.push_str(&format!("chaincode peak RSS (VmHWM): {rss} KiB ({:.1} MiB)\n", rss as f64 / 1024.0));
        }
        out
    }

    /// Whether any transaction failed.
    pub fn has_errors(&self) -> bool {
        self.levels.iter().any(|l| l.errors > 0)
    }
}

fn asset_id(i: u64, assets: usize) -> String {
    format!("bench-asset-{:06}", i % assets.max(1) as u64)
}

/// Loads the assets `ReadAsset` and `GetAllAssets` read.
fn prepare(peer: &PeerEmulator, options: &Options) {
    if matches!(options.function, Function::ReadAsset | Function::GetAllAssets) {
        let ns = peer.chaincode_name().to_string();
        let assets = (0..options.assets.max(1) as u64).map(|i| {
            let id = asset_id(i, options.assets);
            let json = Asset::new(&id, "blue", 5, "Tomoko", 300).to_json();
            (id, json)
        });
        peer.ledger().seed(&ns, assets.collect::<Vec<_>>());
    }
}

/// Runs every level on `peer`.
pub async fn run(peer: &PeerEmulator, options: &Options) -> Report {
    run_measured(peer, options, None).await
}

/// Runs every level on `peer`, measuring the chaincode process `pid` (Linux `/proc`) when given:
/// its resident set before the load and its CPU time per transaction at each level.
pub async fn run_measured(peer: &PeerEmulator, options: &Options, pid: Option<u32>) -> Report {
    prepare(peer, options);
    let idle_rss_kib = pid.and_then(rss_kib);
    let mut levels = Vec::new();
    for (level, &concurrency) in options.concurrency.iter().enumerate() {
        let cpu_before = pid.and_then(cpu_ticks);
        let mut report = run_level(peer, options, level, concurrency.max(1)).await;
        if let (Some(before), Some(after)) = (cpu_before, pid.and_then(cpu_ticks)) {
            let micros = (after.saturating_sub(before)) as f64 * 1_000_000.0 / CLOCK_TICKS_PER_SECOND;
            report.cpu_us_per_tx = Some(micros / report.transactions.max(1) as f64);
        }
        levels.push(report);
    }
    Report { function: options.function, levels, peak_rss_kib: None, idle_rss_kib }
}

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/PID/stat` (100 on every Linux
/// architecture this runs on).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// The CPU time (user + system, in clock ticks) process `pid` has used (Linux).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The resident set size (`VmRSS`) of process `pid`, in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

/// Several chaincodes measured side by side (see [`compare`]).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The transaction.
    pub function: Function,
    /// The chaincodes' labels, in the order given.
    pub chaincodes: Vec<String>,
    /// How many times each level ran for each chaincode; the median run (by tx/s) is reported.
    pub rounds: usize,
    /// One entry per concurrency level.
    pub levels: Vec<ComparedLevel>,
}

/// One concurrency level of a [`Comparison`].
#[derive(Debug, Clone, Serialize)]
pub struct ComparedLevel {
    /// Transactions in flight at once.
    pub concurrency: usize,
    /// The median run of each chaincode, in the order of [`Comparison::chaincodes`].
    pub results: Vec<LevelReport>,
    /// The first chaincode's tx/s divided by each other's (`1.0` for the first itself): below
    /// 1 the first is slower.
    pub tps_ratio: Vec<f64>,
}

impl Comparison {
    /// A table: one line per level, tx/s and latencies of each chaincode side by side, then the
    /// first chaincode's tx/s relative to each other's.
    pub fn render(&self) -> String {
        let mut out = format!("{} ({} round(s) per level, median shown)\n", self.function, self.rounds);
        let headers: Vec<String> = self.chaincodes.iter().map(|name| format!("{name} tx/s (p50/p99 ms)")).collect();
        let ratios: Vec<String> =
            self.chaincodes.iter().skip(1).map(|name| format!("{}/{name}", self.chaincodes[0])).collect();
        out.push_str(&format!("{:>11}", "concurrency"));
        for header in headers.iter().chain(&ratios) {
            out.push_str(&format!(" | {header}"));
        }
        out.push('\n');
        for level in &self.levels {
            out.push_str(&format!("{:>11}", level.concurrency));
            for (result, header) in level.results.iter().zip(&headers) {
                let cell = format!("{:.0} ({:.3}/{:.3})", result.tps, result.p50_ms, result.p99_ms);
                out.push_str(&format!(" | {cell:>width$}", width = header.len()));
            }
            for (ratio, header) in level.tps_ratio.iter().skip(1).zip(&ratios) {
                out.push_str(&format!(" | {:>width$}", format!("{ratio:.3}"), width = header.len()));
            }
            out.push('\n');
            for (name, result) in self.chaincodes.iter().zip(&level.results) {
                if let Some(error) = &result.first_error {
                    out.push_str(&format!("  {name}: {} errors, first: {error}\n", result.errors));
                }
            }
        }
        out
    }

    /// Whether any transaction failed.
    pub fn has_errors(&self) -> bool {
        self.levels.iter().any(|l| l.results.iter().any(|r| r.errors > 0))
    }
}

/// Runs every level on each of `peers` (label, connection), interleaved so that drift in the
/// machine's load affects them alike: after a warm-up of each, for every level, `rounds` runs
/// of each chaincode, alternating which goes first. Each chaincode gets the same data.
pub async fn compare(peers: &[(String, PeerEmulator)], options: &Options, rounds: usize) -> Comparison {
    let rounds = rounds.max(1);
    for (_, peer) in peers {
        prepare(peer, options);
    }
    let warm_up = Options { transactions: Some(500), duration: None, ..options.clone() };
    let mut run = 0;
    for (_, peer) in peers {
        run_level(peer, &warm_up, run, 16).await;
        run += 1;
    }
    let mut levels = Vec::new();
    for &concurrency in &options.concurrency {
        let mut runs: Vec<Vec<LevelReport>> = vec![Vec::new(); peers.len()];
        for round in 0..rounds {
            for k in 0..peers.len() {
                let index = if round % 2 == 0 { k } else { peers.len() - 1 - k };
                runs[index].push(run_level(&peers[index].1, options, run, concurrency.max(1)).await);
                run += 1;
            }
        }
        let results: Vec<LevelReport> = runs
            .into_iter()
            .map(|mut reports| {
                reports.sort_by(|a, b| a.tps.total_cmp(&b.tps));
                reports.swap_remove(reports.len() / 2)
            })
            .collect();
        let first = results.first().map_or(0.0, |r| r.tps);
        let tps_ratio = results.iter().map(|r| first / r.tps.max(f64::EPSILON)).collect();
        levels.push(ComparedLevel { concurrency: concurrency.max(1), results, tps_ratio });
    }
    Comparison {
        function: options.function,
        chaincodes: peers.iter().map(|(name, _)| name.clone()).collect(),
        rounds,
        levels,
    }
}

/// Runs one transaction; `run` keeps the ids `CreateAsset` writes apart between runs.
async fn one(peer: &PeerEmulator, options: &Options, run: usize, i: u64) -> Result<(), String> {
    let outcome = match options.function {
        Function::ReadAsset => peer.query("ReadAsset", [asset_id(i, options.assets)]).await,
        Function::GetAllAssets => peer.query("GetAllAssets", Vec::<String>::new()).await,
        Function::InitLedger => peer.invoke("InitLedger", Vec::<String>::new()).await,
        Function::CreateAsset => {
            let id = format!("bench-{run}-{i:08}");
            peer.invoke("CreateAsset", [id, "blue".into(), "5".into(), "Tomoko".into(), "300".into()]).await
        }
    };
    match outcome {
        Ok(outcome) if outcome.status() == 200 => Ok(()),
        Ok(outcome) => Err(format!("status {}: {}", outcome.status(), outcome.response.message)),
        Err(e) => Err(e.to_string()),
    }
}

async fn run_level(peer: &PeerEmulator, options: &Options, run: usize, concurrency: usize) -> LevelReport {
    let next = Arc::new(AtomicU64::new(0));
    let limit = if options.duration.is_some() { u64::MAX } else { options.transactions.unwrap_or(1000) };
    let started = Instant::now();
    let deadline = options.duration.map(|d| started + d);
    let workers = (0..concurrency).map(|_| {
        let peer = peer.clone();
        let next = Arc::clone(&next);
        let options = options.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit {
                    break;
                }
                let t0 = Instant::now();
                let result = one(&peer, &options, run, i).await;
                latencies.push(t0.elapsed());
                if let Err(e) = result {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            (latencies, errors, first_error)
        })
    });
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in futures::future::join_all(workers).await {
        match worker {
            Ok((l, e, f)) => {
                latencies.extend(l);
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("worker failed: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let ms = |d: Option<&Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    let percentile = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
        ms(latencies.get(index))
    };
    LevelReport {
        concurrency,
        transactions: latencies.len() as u64,
        errors,
        elapsed_s: elapsed.as_secs_f64(),
        tps: latencies.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: ms(latencies.last()),
        first_error,
        cpu_us_per_tx: None,
    }
}

/// The peak resident set size (`VmHWM`) of process `pid`, in KiB (Linux).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A chaincode server started as a child process (`CHAINCODE_SERVER_ADDRESS` and `CHAINCODE_ID`
/// set). It is killed when dropped.
#[derive(Debug)]
pub struct SpawnedChaincode {
    child: tokio::process::Child,
    /// Where it listens.
    pub address: String,
    /// Its process id.
    pub pid: u32,
}

impl SpawnedChaincode {
    /// Starts `binary` listening on a free local port.
    pub fn spawn(binary: &Path, chaincode_id: &str) -> std::io::Result<SpawnedChaincode> {
        Self::spawn_command(Self::command(binary), chaincode_id)
    }

    /// The command [`spawn`](Self::spawn) runs, to add settings (e.g. environment variables)
    /// before [`spawn_command`](Self::spawn_command).
    pub fn command(binary: &Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(binary);
        // Keep the chaincode's info logs out of the results unless the user asked for them.
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        command
    }

    /// Starts `command` (see [`command`](Self::command)) listening on a free local port.
    pub fn spawn_command(
        mut command: tokio::process::Command,
        chaincode_id: &str,
    ) -> std::io::Result<SpawnedChaincode> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let address = format!("127.0.0.1:{port}");
        let child = command
            .env("CHAINCODE_SERVER_ADDRESS", &address)
            .env("CHAINCODE_ID", chaincode_id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or_else(|| std::io::Error::other("the chaincode exited at once"))?;
        Ok(SpawnedChaincode { child, address, pid })
    }

    /// Connects with `connect` until it succeeds or `timeout` passes (the server needs a moment
    /// to listen).
    pub async fn wait_ready<F, Fut>(&mut self, timeout: Duration, connect: F) -> Result<PeerEmulator, EmulatorError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<PeerEmulator, EmulatorError>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            match connect().await {
                Ok(peer) => return Ok(peer),
                Err(e @ EmulatorError::Connect { .. }) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(EmulatorError::Io(std::io::Error::other(format!(
                            "the chaincode exited with {status}"
                        ))));
                    }
                    if Instant::now() >= deadline {
                        return Err(e);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The child's peak resident set (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.pid)
    }

    /// Stops the child.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_peak_rss() {
        assert!(peak_rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
        let busy = std::time::Instant::now();
        while busy.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(busy.elapsed());
        }
        assert!(cpu_ticks(std::process::id()).is_some_and(|ticks| ticks > 0));
    }

    #[test]
    fn functions_parse() {
        assert_eq!("ReadAsset".parse::<Function>().unwrap(), Function::ReadAsset);
        assert_eq!("InitLedger".parse::<Function>().unwrap(), Function::InitLedger);
        assert_eq!(Function::InitLedger.to_string(), "InitLedger");
        assert!("Nope".parse::<Function>().is_err());
    }
}
