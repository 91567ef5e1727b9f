//! Scripted protocol checks against a running chaincode. The protocol checks run on any
//! chaincode; `create/read/update/delete`, `concurrent transactions` and `range across batches`
//! call asset-transfer-basic's transactions (`CreateAsset`, `ReadAsset`, `UpdateAsset`,
//! `DeleteAsset`, `AssetExists`, `GetAllAssets`) and fail on a chaincode without them
//! ([`REQUIREMENTS`]).
//!
//! The checks, in order:
//!
//! | check | what it proves |
//! |---|---|
//! | `handshake` | REGISTER with the expected package ID; REGISTERED and READY accepted |
//! | `reconnect after rejected registration` | a refused REGISTER does not stop the server from serving the next connection |
//! | `keepalive echo` | the chaincode echoes the peer's KEEPALIVE |
//! | `create/read/update/delete` | a full round trip, with committed state checked in the ledger |
//! | `concurrent transactions` | 50 transactions at once on one stream all complete correctly |
//! | `range across batches` | `GetAllAssets` over more than 100 keys reads every batch (QUERY_STATE_NEXT) |
//! | `error response` | `ReadAsset` of a missing asset answers status 500 with a message |
//! | `requests one at a time, inside their transaction` | the chaincode never had two requests of one transaction in flight, nor sent one after its transaction completed |
//!
//! ```no_run
//! # async fn example() {
//! use ccaas_testkit::{conformance, Target};
//! let target = Target::new("127.0.0.1:7052");
//! let report = conformance::run(
//!     |builder| { let target = target.clone(); async move { builder.connect(&target).await } },
//!     conformance::Options { chaincode_id: Some("basic_1.0:abc".into()), ..Default::default() },
//! )
//! .await;
//! print!("{}", report.render());
//! assert!(report.passed());
//! # }
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use ccaas_protos::protos::chaincode_message::Type;
use serde::Serialize;

use crate::testing::Asset;
use crate::{EmulatorBuilder, EmulatorError, Ledger, PeerEmulator};

/// Settings of a conformance run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The package ID the chaincode must register with (`None`: accept any and report it).
    pub chaincode_id: Option<String>,
    /// The chaincode's namespace (default `basic`).
    pub chaincode_name: String,
    /// Transactions run at once in the concurrency check.
    pub concurrency: usize,
    /// Assets in the ledger for the range check (more than 100 means several batches).
    pub range_assets: usize,
    /// How long to wait for a KEEPALIVE echo.
    pub keepalive_timeout: Duration,
    /// The execute timeout of every transaction.
    pub execute_timeout: Duration,
    /// How long the emulated peer holds each reply (see
    /// [`PeerConfig::response_delay`](crate::PeerConfig::response_delay)); a small delay makes
    /// an overlapping request of one transaction much more likely to be caught.
    pub response_delay: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chaincode_id: None,
            chaincode_name: "basic".to_string(),
            concurrency: 50,
            range_assets: 250,
            keepalive_timeout: Duration::from_secs(5),
            execute_timeout: Duration::from_secs(30),
            response_delay: Some(Duration::from_micros(500)),
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was observed.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
}

/// The results of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The id the chaincode registered with (empty if it never did).
    pub chaincode_id: String,
    /// Every check, in order.
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// One line per check (`PASS`/`FAIL`, name, detail) and a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let verdict = if check.passed { "PASS" } else { "FAIL" };
            out.push_str(&format!("{verdict}  {:<40} {} ({:.0} ms)\n", check.name, check.detail, check.duration_ms));
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out.push_str(&format!("{passed} passed, {} failed\n", self.checks.len() - passed));
        out
    }
}

/// What the checks need of the chaincode, as `ccaas-peer conformance` says before it runs them.
pub const REQUIREMENTS: &str =
    "The protocol checks (handshake, reconnect, keepalive, one request at a time) run on any \
chaincode. create/read/update/delete, concurrent transactions and range across batches call asset-transfer-basic's \
transactions (CreateAsset, ReadAsset, UpdateAsset, DeleteAsset, AssetExists, GetAllAssets) and fail on a chaincode \
without them.";

const CHECKS: &[&str] = &[
    "handshake",
    "reconnect after rejected registration",
    "keepalive echo",
    "create/read/update/delete",
    "concurrent transactions",
    "range across batches",
    "error response",
    "requests one at a time, inside their transaction",
];

/// Runs every check. `connect` opens a connection from a prepared builder (it decides the
/// transport: TCP, TLS or in-process); it is called once per connection the checks need.
pub async fn run<F, Fut>(connect: F, options: Options) -> Report
where
    F: Fn(EmulatorBuilder) -> Fut,
    Fut: Future<Output = Result<PeerEmulator, EmulatorError>>,
{
    let ledger = Ledger::new();
    let builder = |id: Option<String>| {
        let config = crate::PeerConfig {
            execute_timeout: options.execute_timeout,
            response_delay: options.response_delay,
            ..Default::default()
        };
        let mut builder = PeerEmulator::builder()
            .chaincode_name(options.chaincode_name.clone())
            .peer_config(config)
            .ledger(ledger.clone());
        if let Some(id) = id {
            builder = builder.chaincode_id(id);
        }
        builder
    };
    let mut checks = Vec::new();

    let started = Instant::now();
    let peer = match connect(builder(options.chaincode_id.clone())).await {
        Ok(peer) => {
            checks.push(result(CHECKS[0], Ok(format!("registered as {}", peer.chaincode_id())), started));
            peer
        }
        Err(e) => {
            checks.push(result(CHECKS[0], Err(e.to_string()), started));
            for name in &CHECKS[1..] {
                checks.push(CheckResult {
                    name: name.to_string(),
                    passed: false,
                    detail: "not run: no connection".into(),
                    duration_ms: 0.0,
                });
            }
            return Report { chaincode_id: String::new(), checks };
        }
    };
    let registered = peer.chaincode_id().to_string();

    let started = Instant::now();
    let outcome = reconnect_after_rejection(&connect, &builder, &registered).await;
    checks.push(result(CHECKS[1], outcome, started));

    let started = Instant::now();
    let outcome = peer
        .keepalive(options.keepalive_timeout)
        .await
        .map(|rtt| format!("echoed in {:.1} ms", rtt.as_secs_f64() * 1000.0))
        .map_err(|e| e.to_string());
    checks.push(result(CHECKS[2], outcome, started));

    let started = Instant::now();
    checks.push(result(CHECKS[3], crud(&peer).await.map_err(needs_asset_transfer), started));

    let started = Instant::now();
    checks.push(result(CHECKS[4], concurrent(&peer, options.concurrency).await.map_err(needs_asset_transfer), started));

    let started = Instant::now();
    checks.push(result(CHECKS[5], range(&peer, options.range_assets).await.map_err(needs_asset_transfer), started));

    let started = Instant::now();
    checks.push(result(CHECKS[6], error_response(&peer).await, started));

    let started = Instant::now();
    let violations = peer.violations();
    let outcome = if violations.is_empty() {
        let requests: u64 = peer.stats().requests.values().sum();
        Ok(format!("{requests} requests, none overlapping, none after completion"))
    } else {
        Err(format!(
            "{} protocol violation(s); first: {:?}: {}",
            violations.len(),
            violations[0].kind,
            violations[0].log
        ))
    };
    checks.push(result(CHECKS[7], outcome, started));

    peer.close().await;
    Report { chaincode_id: registered, checks }
}

/// A failure of a check that calls asset-transfer-basic's transactions, saying so.
fn needs_asset_transfer(detail: String) -> String {
    format!("{detail} (this check needs asset-transfer-basic's transactions)")
}

fn result(name: &str, outcome: Result<String, String>, started: Instant) -> CheckResult {
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (passed, detail) = match outcome {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    CheckResult { name: name.to_string(), passed, detail, duration_ms }
}

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

async fn reconnect_after_rejection<F, Fut, B>(connect: &F, builder: &B, registered: &str) -> Result<String, String>
where
    F: Fn(EmulatorBuilder) -> Fut,
    Fut: Future<Output = Result<PeerEmulator, EmulatorError>>,
    B: Fn(Option<String>) -> EmulatorBuilder,
{
    let wrong = format!("{registered}-not-this-one");
    match connect(builder(Some(wrong))).await {
        Err(e @ EmulatorError::WrongChaincodeId { .. }) => {
            let text = e.to_string();
            let again = connect(builder(Some(registered.to_string())))
                .await
                .map_err(|e| format!("rejected as expected ({text}), but the next connection failed: {e}"))?;
            again.close().await;
            Ok("rejected REGISTER closed; the next connection registered".to_string())
        }
        Err(e) => Err(format!("expected the emulator to refuse the id, got: {e}")),
        Ok(peer) => {
            peer.close().await;
            Err("the emulator accepted a mismatching id".to_string())
        }
    }
}

async fn invoke(peer: &PeerEmulator, function: &str, args: &[&str]) -> Result<crate::TxOutcome, String> {
    peer.invoke(function, args.iter().map(|a| a.to_string())).await.map_err(|e| format!("{function}: {e}"))
}

fn ok(outcome: &crate::TxOutcome, what: &str) -> Result<(), String> {
    ensure(outcome.status() == 200, || {
        format!("{what}: status {} message {:?}", outcome.status(), outcome.response.message)
    })
}

fn parse_asset(outcome: &crate::TxOutcome) -> Result<Asset, String> {
    serde_json::from_slice(&outcome.response.payload)
        .map_err(|e| format!("ReadAsset returned {:?}, not an asset: {e}", outcome.payload_str()))
}

async fn crud(peer: &PeerEmulator) -> Result<String, String> {
    let ns = peer.chaincode_name().to_string();
    let id = "conformance-crud-1";
    let created = invoke(peer, "CreateAsset", &[id, "blue", "5", "Tomoko", "300"]).await?;
    ok(&created, "CreateAsset")?;
    ensure(created.is_committed(), || "CreateAsset was not committed".into())?;
    let stored: Asset = peer
        .ledger()
        .get(&ns, id)
        .ok_or("CreateAsset committed no value under the asset id")
        .and_then(|v| serde_json::from_slice(&v).map_err(|_| "the stored value is not an asset JSON"))?;
    ensure(stored == Asset::new(id, "blue", 5, "Tomoko", 300), || format!("stored {stored:?}"))?;

    let read = invoke(peer, "ReadAsset", &[id]).await?;
    ok(&read, "ReadAsset")?;
    ensure(parse_asset(&read)? == stored, || format!("ReadAsset returned {}", read.payload_str()))?;

    let updated = invoke(peer, "UpdateAsset", &[id, "green", "7", "Max", "400"]).await?;
    ok(&updated, "UpdateAsset")?;
    let read = invoke(peer, "ReadAsset", &[id]).await?;
    ok(&read, "ReadAsset after update")?;
    let expected = Asset::new(id, "green", 7, "Max", 400);
    ensure(parse_asset(&read)? == expected, || format!("after UpdateAsset read {}", read.payload_str()))?;

    let deleted = invoke(peer, "DeleteAsset", &[id]).await?;
    ok(&deleted, "DeleteAsset")?;
    ensure(peer.ledger().get(&ns, id).is_none(), || "DeleteAsset left the key in the ledger".into())?;
    let exists = invoke(peer, "AssetExists", &[id]).await?;
    ok(&exists, "AssetExists")?;
    ensure(exists.payload_str() == "false", || format!("AssetExists after delete returned {}", exists.payload_str()))?;
    let history = peer.ledger().history(&ns, id);
    ensure(history.len() == 3 && history[0].is_delete, || format!("history has {} entries", history.len()))?;
    Ok("create, read, update, read, delete, exists: all as expected".to_string())
}

async fn concurrent(peer: &PeerEmulator, n: usize) -> Result<String, String> {
    let ids: Vec<String> = (0..n).map(|i| format!("conformance-conc-{i:03}")).collect();
    let creates = ids.iter().enumerate().map(|(i, id)| {
        let peer = peer.clone();
        let size = (i % 20).to_string();
        let id = id.clone();
        async move { invoke(&peer, "CreateAsset", &[&id, "red", &size, "Brad", "100"]).await }
    });
    let outcomes = futures::future::join_all(creates).await;
    for outcome in &outcomes {
        let outcome = outcome.as_ref().map_err(Clone::clone)?;
        ok(outcome, "CreateAsset")?;
    }
    let reads = ids.iter().map(|id| {
        let peer = peer.clone();
        let id = id.clone();
        async move { (id.clone(), invoke(&peer, "ReadAsset", &[&id]).await) }
    });
    for (i, (id, outcome)) in futures::future::join_all(reads).await.into_iter().enumerate() {
        let outcome = outcome?;
        ok(&outcome, "ReadAsset")?;
        let asset = parse_asset(&outcome)?;
        ensure(asset == Asset::new(&id, "red", (i % 20) as i64, "Brad", 100), || {
            format!("ReadAsset {id} returned {}", outcome.payload_str())
        })?;
    }
    Ok(format!("{n} CreateAsset then {n} ReadAsset at once, all correct"))
}

async fn range(peer: &PeerEmulator, assets: usize) -> Result<String, String> {
    let ns = peer.chaincode_name().to_string();
    let seeded: Vec<(String, String)> = (0..assets)
        .map(|i| {
            let id = format!("conformance-range-{i:05}");
            let json = Asset::new(&id, "white", 1, "Michel", 1).to_json();
            (id, json)
        })
        .collect();
    peer.ledger().seed(&ns, seeded);
    let expected: Vec<String> = peer.ledger().keys(&ns).into_iter().filter(|k| !k.starts_with('\u{0}')).collect();
    let nexts_before = peer.stats().count(Type::QueryStateNext);
    let outcome = invoke(peer, "GetAllAssets", &[]).await?;
    ok(&outcome, "GetAllAssets")?;
    let all: Vec<Asset> = serde_json::from_slice(&outcome.response.payload)
        .map_err(|e| format!("GetAllAssets did not return a JSON array of assets: {e}"))?;
    let ids: Vec<String> = all.into_iter().map(|a| a.id).collect();
    ensure(ids == expected, || {
        format!("GetAllAssets returned {} assets, the ledger holds {}", ids.len(), expected.len())
    })?;
    let nexts = peer.stats().count(Type::QueryStateNext) - nexts_before;
    let batches = expected.len().div_ceil(100);
    ensure(nexts as usize + 1 >= batches, || {
        format!("{} rows need {batches} batches but only {nexts} QUERY_STATE_NEXT were sent", expected.len())
    })?;
    Ok(format!("{} assets in {batches} batches ({nexts} QUERY_STATE_NEXT)", expected.len()))
}

async fn error_response(peer: &PeerEmulator) -> Result<String, String> {
    let outcome = invoke(peer, "ReadAsset", &["conformance-missing-asset"]).await?;
    ensure(outcome.status() == 500, || format!("status {} (expected 500)", outcome.status()))?;
    ensure(!outcome.response.message.is_empty(), || "status 500 without a message".into())?;
    ensure(!outcome.is_committed(), || "a failed transaction was committed".into())?;
    Ok(format!("status 500: {:?}", outcome.response.message))
}
