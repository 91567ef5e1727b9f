//! The write batching benchmark (`ccaas-peer bench-batch`): one transaction writing `keys` keys,
//! run against the same chaincode server over loopback TCP by two emulated peers side by side —
//! one that does not advertise write batching (one PUT_STATE round trip per key) and one that
//! advertises `use_write_batch` (the chaincode's `start_write_batch` collects the writes and the
//! shim sends one WRITE_BATCH_STATE before COMPLETED).
//!
//! ```no_run
//! # async fn example() -> Result<(), ccaas_testkit::EmulatorError> {
//! use ccaas_testkit::bench::batch::{self, Options};
//! let report = batch::run(&Options { concurrency: vec![1, 16], ..Default::default() }).await?;
//! print!("{}", report.render());
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_shim::server::Server;
use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use serde::Serialize;

use crate::{EmulatorError, PeerEmulator, Target};

/// The benchmark's chaincode: `write <prefix> <n>` opens a write batch (a no-op when the peer did
/// not advertise batching) and writes `<prefix>-0` … `<prefix>-<n-1>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchWriter;

impl Chaincode for BatchWriter {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (_, args) = stub.function_and_parameters();
        let (Some(prefix), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse::<usize>().ok())) else {
            return Response::error("usage: write <prefix> <n>");
        };
        stub.start_write_batch();
        for i in 0..n {
            if let Err(e) = stub.put_state(&format!("{prefix}-{i}"), format!(r#"{{"n":{i}}}"#)).await {
                return Response::error(e.to_string());
            }
        }
        Response::success("")
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keys written per transaction.
    pub keys: usize,
    /// Transactions in flight at once, one level after the other.
    pub concurrency: Vec<usize>,
    /// Transactions per level, mode and round (used when `duration` is `None`).
    pub transactions: u64,
    /// Run each level, mode and round this long instead.
    pub duration: Option<Duration>,
    /// Rounds per level; the modes alternate and the median round is reported.
    pub rounds: usize,
    /// The `max_size_write_batch` the batching peer advertises.
    pub max_size_write_batch: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keys: 10,
            concurrency: vec![1, 16],
            transactions: 2000,
            duration: None,
            rounds: 3,
            max_size_write_batch: 1000,
        }
    }
}

/// One mode at one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct ModeReport {
    /// Completed transactions per second (median round).
    pub tps: f64,
    /// Median latency of the median round, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency of the median round, in milliseconds.
    pub p99_ms: f64,
    /// Transactions per round.
    pub transactions: u64,
    /// Failed transactions, all rounds.
    pub errors: u64,
    /// The first failure, if any.
    pub first_error: Option<String>,
}

/// Both modes at one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct LevelPair {
    /// Transactions in flight at once.
    pub concurrency: usize,
    /// The peer does not advertise batching: one PUT_STATE per key.
    pub unbatched: ModeReport,
    /// The peer advertises batching: one WRITE_BATCH_STATE per transaction.
    pub batched: ModeReport,
    /// batched tx/s ÷ unbatched tx/s.
    pub ratio: f64,
}

/// Shim requests each peer answered, per transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Messages {
    /// PUT_STATE per transaction, without batching.
    pub unbatched_put_state: f64,
    /// WRITE_BATCH_STATE per transaction, with batching.
    pub batched_write_batch_state: f64,
    /// PUT_STATE per transaction, with batching (0 when every write was batched).
    pub batched_put_state: f64,
}

/// The results of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Keys written per transaction.
    pub keys: usize,
    /// Where the chaincode server listened.
    pub address: String,
    /// Rounds per level.
    pub rounds: usize,
    /// One entry per concurrency level.
    pub levels: Vec<LevelPair>,
    /// What went over the wire.
    pub messages: Messages,
    /// Requests the peers dropped or refused (must be 0).
    pub violations: usize,
}

impl Report {
    /// A table, one line per level.
    pub fn render(&self) -> String {
        let mut out = format!(
            "bench-batch: {} writes per transaction, chaincode server on {} (TCP loopback), median of {} round(s)\n",
            self.keys, self.address, self.rounds
        );
        out.push_str(&format!(
            "{:>11} {:>15} {:>13} {:>7} {:>17} {:>15} {:>7}\n",
            "concurrency", "unbatched tx/s", "batched tx/s", "ratio", "unbatched p50 ms", "batched p50 ms", "errors"
        ));
        for level in &self.levels {
            out.push_str(&format!(
                "{:>11} {:>15.1} {:>13.1} {:>6.2}x {:>17.3} {:>15.3} {:>7}\n",
                level.concurrency,
                level.unbatched.tps,
                level.batched.tps,
                level.ratio,
                level.unbatched.p50_ms,
                level.batched.p50_ms,
                level.unbatched.errors + level.batched.errors
            ));
            for error in [&level.unbatched.first_error, &level.batched.first_error].into_iter().flatten() {
                out.push_str(&format!("  first error: {error}\n"));
            }
        }
        out.push_str(&format!(
            "per transaction: unbatched {:.1} PUT_STATE; batched {:.1} WRITE_BATCH_STATE + {:.1} PUT_STATE; violations: {}\n",
            self.messages.unbatched_put_state,
            self.messages.batched_write_batch_state,
            self.messages.batched_put_state,
            self.violations
        ));
        out
    }

    /// Whether any transaction failed or the shim broke a protocol rule.
    pub fn has_errors(&self) -> bool {
        self.violations > 0 || self.levels.iter().any(|l| l.unbatched.errors + l.batched.errors > 0)
    }
}

/// Serves [`BatchWriter`] on a loopback port of this process, connects both peers over TCP and
/// runs every level.
pub async fn run(options: &Options) -> Result<Report, EmulatorError> {
    let id = "batchwriter_1.0:0";
    let server = Server::builder(BatchWriter)
        .chaincode_id(id)
        .address(SocketAddr::from(([127, 0, 0, 1], 0)))
        .shutdown_deadline(Duration::from_secs(1))
        .build()
        .map_err(|e| EmulatorError::Io(std::io::Error::other(e.to_string())))?
        .bind()
        .await
        .map_err(|e| EmulatorError::Io(std::io::Error::other(e.to_string())))?;
    let address = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    let target = Target::new(address.to_string());
    let builder = PeerEmulator::builder().chaincode_id(id).chaincode_name("batchwriter").sign_proposals(false);
    let plain = builder.clone().connect(&target).await?;
    let batched = builder.write_batch(true, options.max_size_write_batch).connect(&target).await?;

    let mut levels = Vec::new();
    for &concurrency in &options.concurrency {
        let concurrency = concurrency.max(1);
        let mut rounds: [Vec<Round>; 2] = [Vec::new(), Vec::new()];
        for round in 0..options.rounds.max(1) {
            for (mode, peer) in [(0, &plain), (1, &batched)] {
                let tag = format!("c{concurrency}-r{round}-m{mode}");
                rounds[mode].push(measure(peer, options, concurrency, &tag).await);
            }
        }
        let [unbatched, batched_rounds] = rounds.map(summarize);
        let ratio = batched_rounds.tps / unbatched.tps.max(f64::EPSILON);
        levels.push(LevelPair { concurrency, unbatched, batched: batched_rounds, ratio });
    }

    let per_tx = |peer: &PeerEmulator, kind: Type| {
        let stats = peer.stats();
        stats.count(kind) as f64 / stats.transactions_started.max(1) as f64
    };
    let messages = Messages {
        unbatched_put_state: per_tx(&plain, Type::PutState),
        batched_write_batch_state: per_tx(&batched, Type::WriteBatchState),
        batched_put_state: per_tx(&batched, Type::PutState),
    };
    let violations = plain.violations().len() + batched.violations().len();
    plain.close().await;
    batched.close().await;
    let _ = stop.send(());
    let _ = serving.await;
    Ok(Report {
        keys: options.keys,
        address: address.to_string(),
        rounds: options.rounds.max(1),
        levels,
        messages,
        violations,
    })
}

struct Round {
    tps: f64,
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

async fn measure(peer: &PeerEmulator, options: &Options, concurrency: usize, tag: &str) -> Round {
    let next = Arc::new(AtomicU64::new(0));
    let limit = if options.duration.is_some() { u64::MAX } else { options.transactions };
    let started = Instant::now();
    let deadline = options.duration.map(|d| started + d);
    let keys = options.keys.to_string();
    let workers = (0..concurrency).map(|_| {
        let (peer, next, tag, keys) = (peer.clone(), Arc::clone(&next), tag.to_string(), keys.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let t0 = Instant::now();
                let result = peer.invoke("write", [format!("{tag}-{i}"), keys.clone()]).await;
                latencies.push(t0.elapsed());
                let failure = match result {
                    Ok(outcome) if outcome.is_committed() => None,
                    Ok(outcome) => Some(format!("status {}: {}", outcome.status(), outcome.response.message)),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(failure) = failure {
                    errors += 1;
                    first_error.get_or_insert(failure);
                }
            }
            (latencies, errors, first_error)
        })
    });
    let mut round = Round { tps: 0.0, latencies: Vec::new(), errors: 0, first_error: None };
    for worker in futures::future::join_all(workers).await {
        match worker {
            Ok((latencies, errors, first_error)) => {
                round.latencies.extend(latencies);
                round.errors += errors;
                if round.first_error.is_none() {
                    round.first_error = first_error;
                }
            }
            Err(e) => {
                round.errors += 1;
                round.first_error.get_or_insert(format!("worker failed: {e}"));
            }
        }
    }
    round.tps = round.latencies.len() as f64 / started.elapsed().as_secs_f64().max(f64::EPSILON);
    round.latencies.sort_unstable();
    round
}

/// The median round by throughput, with the errors of all rounds.
fn summarize(mut rounds: Vec<Round>) -> ModeReport {
    let errors = rounds.iter().map(|r| r.errors).sum();
    let first_error = rounds.iter().find_map(|r| r.first_error.clone());
    rounds.sort_by(|a, b| a.tps.total_cmp(&b.tps));
    let median = &rounds[rounds.len() / 2];
    let percentile = |p: f64| {
        let n = median.latencies.len();
        if n == 0 {
            return 0.0;
        }
        let index = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        median.latencies[index].as_secs_f64() * 1000.0
    };
    ModeReport {
        tps: median.tps,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        transactions: median.latencies.len() as u64,
        errors,
        first_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_small_run_batches_and_reports_both_modes() {
        let options = Options { concurrency: vec![1, 4], transactions: 20, rounds: 1, ..Default::default() };
        let report = run(&options).await.unwrap();
        assert!(!report.has_errors(), "{}", report.render());
        assert_eq!(report.levels.len(), 2);
        assert!(report.levels.iter().all(|l| l.unbatched.transactions == 20 && l.batched.transactions == 20));
        assert_eq!(report.messages.unbatched_put_state, 10.0);
        assert_eq!((report.messages.batched_write_batch_state, report.messages.batched_put_state), (1.0, 0.0));
        assert!(report.render().contains("batched tx/s"));
    }
}
