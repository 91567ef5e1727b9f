//! `ccaas-peer`: talk to a running chaincode server as a Fabric peer would.
//!
//! ```text
//! ccaas-peer --address 127.0.0.1:7052 --chaincode-id basic_1.0:abc… invoke CreateAsset asset1 blue 5 Tom 300
//! ccaas-peer --address 127.0.0.1:7052 query ReadAsset asset1 --output json
//! ccaas-peer --creator Org2MSP:alice invoke Transfer "$(ccaas-peer client-id --creator Org1MSP:bob)" 10
//! ccaas-peer --fresh invoke InitLedger
//! ccaas-peer --address cc.example.com:7052 --tls-root-cert ca.pem --client-cert peer.pem --client-key peer.key conformance
//! ccaas-peer bench --spawn ./target/release/my-chaincode --function ReadAsset --concurrency 1,16,64 --duration 10s
//! ccaas-peer bench-batch --keys 10 --concurrency 1,16 --transactions 5000 --rounds 3
//! ccaas-peer bench --chaincode contract,lowlevel --concurrency 1,16,64 --transactions 20000 --rounds 3
//! ```
//!
//! The ledger is kept between runs (invoke, then query, sees the write): in
//! `$XDG_STATE_HOME/ccaas-peer/CHANNEL.CHAINCODE_NAME.json`, or
//! `~/.local/state/ccaas-peer/CHANNEL.CHAINCODE_NAME.json` when `XDG_STATE_HOME` is unset;
//! `--state FILE` keeps it elsewhere and `--fresh` starts from an empty ledger.
//!
//! Exit codes, as ccaas-deploy's (README.md, "Exit codes"): 0 success, 1 refused (transaction
//! status ≥ 400, a failed check, benchmark errors), 2 usage or a bad input (a file, an address,
//! TLS settings), 4 the chaincode server cannot be reached or does not answer in time.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use base64::Engine;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use ccaas_testkit::bench::{self, SpawnedChaincode};
use ccaas_testkit::{
    conformance, EmulatorBuilder, EmulatorError, Identity, Ledger, PeerEmulator, StateDatabase, Target, TlsOptions,
    TranscriptEntry, TxOutcome,
};

#[derive(Parser, Debug)]
#[command(name = "ccaas-peer", version, about = "Drive a Fabric chaincode-as-a-service server as a peer would")]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    output: Output,

    /// Print every protocol message to stderr.
    #[arg(long, global = true)]
    transcript: bool,

    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, default_value = "off", global = true)]
    log: String,

    /// Who signs the proposals: a client of MSP MSPID with the common name NAME (default
    /// `User1@<org>.example.com`, e.g. `User1@org2.example.com` for Org2MSP). Without it,
    /// User1@org1.example.com of Org1MSP signs. The same MSPID:NAME has the same client id in
    /// every run (see `client-id`). Not to be confused with --client-cert/--client-key, the
    /// peer's mutual TLS certificate.
    #[arg(long, value_name = "MSPID[:NAME]", value_parser = parse_creator, global = true)]
    creator: Option<Creator>,

    /// Sign as the client with this certificate (PEM, e.g. a test network user's
    /// `msp/signcerts/cert.pem`) instead of a generated one; --creator gives its MSP id.
    #[arg(long, value_name = "PATH", global = true, requires = "creator")]
    creator_cert: Option<PathBuf>,

    /// The private key of --creator-cert (PEM PKCS#8 ECDSA P-256, e.g. `msp/keystore/priv_sk`);
    /// without it the proposals carry an empty signature.
    #[arg(long, value_name = "PATH", global = true, requires = "creator_cert")]
    creator_key: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Connection")]
struct ConnectionArgs {
    /// The chaincode server, HOST:PORT.
    #[arg(long, env = "CHAINCODE_SERVER_ADDRESS", default_value = "127.0.0.1:7052", global = true)]
    address: String,

    /// The package ID the chaincode must register with (any id is accepted if omitted).
    #[arg(long, env = "CHAINCODE_ID", global = true)]
    chaincode_id: Option<String>,

    /// The chaincode's name on the channel (its ledger namespace).
    #[arg(long, default_value = "basic", global = true)]
    chaincode_name: String,

    /// The channel.
    #[arg(long, default_value = "mychannel", global = true)]
    channel: String,

    /// CA certificate (PEM) of the server's TLS certificate; enables TLS.
    #[arg(long, value_name = "PATH", global = true)]
    tls_root_cert: Option<PathBuf>,

    /// Client certificate (PEM) for mutual TLS with the chaincode server (the peer's TLS
    /// certificate; it does not sign transactions: see --creator).
    #[arg(long, value_name = "PATH", global = true, requires = "client_key")]
    client_cert: Option<PathBuf>,

    /// Client private key (PEM) for mutual TLS.
    #[arg(long, value_name = "PATH", global = true, requires = "client_cert")]
    client_key: Option<PathBuf>,

    /// Server name to verify the certificate against (connection.json `domain`).
    #[arg(long, global = true)]
    domain: Option<String>,

    /// Dial and registration timeout (e.g. 10s, 500ms).
    #[arg(long, value_parser = parse_duration, default_value = "10s", global = true)]
    connect_timeout: Duration,

    /// Execute timeout of each transaction.
    #[arg(long, value_parser = parse_duration, default_value = "30s", global = true)]
    execute_timeout: Duration,

    /// State database the emulated peer runs.
    #[arg(long, value_enum, default_value_t = Database::Leveldb, global = true)]
    state_database: Database,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Submit a transaction (its writes are committed to the emulated ledger).
    Invoke(TxArgs),
    /// Evaluate a transaction (nothing is committed).
    Query(TxArgs),
    /// Run the protocol conformance checks. Three of them (create/read/update/delete,
    /// concurrent transactions, range across batches) need asset-transfer-basic's transactions
    /// (CreateAsset, ReadAsset, UpdateAsset, DeleteAsset, AssetExists, GetAllAssets) and fail on
    /// any other chaincode.
    Conformance(ConformanceArgs),
    /// Print the client id a chaincode sees for --creator (Go's
    /// `ctx.GetClientIdentity().GetID()`), e.g. to transfer tokens to that client.
    ClientId,
    /// Load-test an asset-transfer-basic chaincode (a running one, a spawned binary, or the
    /// example's implementations in this process, side by side).
    Bench(BenchArgs),
    /// Measure Fabric 3.1 write batching: a transaction writing --keys keys against a chaincode
    /// server in this process over loopback TCP, by a peer advertising batching and one that does not.
    BenchBatch(BenchBatchArgs),
}

#[derive(Args, Debug)]
struct TxArgs {
    /// The function (first argument).
    function: String,
    /// Its arguments, as strings.
    args: Vec<String>,
    /// A transient field, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    transient: Vec<(String, String)>,
    /// Send INIT instead of TRANSACTION. The chaincode is then defined with --init-required
    /// (version 1.0 unless --init-required says otherwise), as a peer requires.
    #[arg(long)]
    init: bool,
    /// Define the chaincode with --init-required at this definition version: every transaction
    /// fails until an INIT of that version commits (keep the flag between runs with --state).
    #[arg(long, value_name = "VERSION")]
    init_required: Option<String>,
    /// Keep the ledger in this JSON file instead of the default
    /// (`$XDG_STATE_HOME/ccaas-peer/CHANNEL.CHAINCODE_NAME.json`, or
    /// `~/.local/state/ccaas-peer/...`): loaded first, saved afterwards.
    #[arg(long, value_name = "FILE", env = "CCAAS_PEER_STATE")]
    state: Option<PathBuf>,
    /// Start from an empty ledger instead of the one kept from earlier runs (the result is
    /// kept for the next run as usual).
    #[arg(long)]
    fresh: bool,
}

#[derive(Args, Debug)]
struct ConformanceArgs {
    /// Transactions at once in the concurrency check.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Assets in the ledger for the range check.
    #[arg(long, default_value_t = 250)]
    range_assets: usize,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// The transaction: ReadAsset or GetAllAssets (evaluated), or CreateAsset or InitLedger
    /// (submitted; InitLedger writes six keys).
    #[arg(long, default_value = "ReadAsset")]
    function: bench::Function,
    /// Concurrency levels, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Run each level this long (e.g. 10s).
    #[arg(long, value_parser = parse_duration, conflicts_with = "transactions")]
    duration: Option<Duration>,
    /// Run each level for this many transactions (default 1000).
    #[arg(long)]
    transactions: Option<u64>,
    /// Assets pre-loaded for ReadAsset and GetAllAssets.
    #[arg(long, default_value_t = 1000)]
    assets: usize,
    /// Start this chaincode binary (with CHAINCODE_SERVER_ADDRESS and CHAINCODE_ID set) and
    /// report its peak RSS.
    #[arg(long, value_name = "BINARY", conflicts_with = "chaincode")]
    spawn: Option<PathBuf>,
    /// Serve the asset-transfer-basic example in this process on loopback TCP instead of dialing
    /// --address: `contract` (the contract API) or `lowlevel` (the same transactions on the
    /// low-level trait). Several, comma separated, are measured side by side.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "IMPLEMENTATION")]
    chaincode: Vec<Implementation>,
    /// With --chaincode: runs of each level per implementation (the median is reported).
    #[arg(long, default_value_t = 1, requires = "chaincode")]
    rounds: usize,
}

/// An in-process implementation of asset-transfer-basic for `bench --chaincode`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Implementation {
    /// `asset_transfer_basic::SmartContract` (the example): the contract API.
    Contract,
    /// `ccaas_testkit::testing::lowlevel::AssetTransfer`: the low-level `Chaincode` trait.
    Lowlevel,
}

impl Implementation {
    fn label(self) -> &'static str {
        match self {
            Implementation::Contract => "contract",
            Implementation::Lowlevel => "lowlevel",
        }
    }
}

#[derive(Args, Debug)]
struct BenchBatchArgs {
    /// Keys written per transaction.
    #[arg(long, default_value_t = 10)]
    keys: usize,
    /// Concurrency levels, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    concurrency: Vec<usize>,
    /// Transactions per level, mode and round.
    #[arg(long, default_value_t = 2000, conflicts_with = "duration")]
    transactions: u64,
    /// Run each level, mode and round this long instead (e.g. 5s).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Rounds per level (the modes alternate; the median round is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The largest batch the batching peer advertises (maxSizeWriteBatch).
    #[arg(long, default_value_t = 1000)]
    max_size_write_batch: u32,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    Leveldb,
    Couchdb,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| format!("invalid duration {text:?}: use e.g. 10s, 500ms, 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("invalid duration unit in {text:?}: use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// `--creator MSPID[:NAME]`.
#[derive(Debug, Clone)]
struct Creator {
    msp_id: String,
    name: String,
    /// Whether the name was given (`MSPID:NAME`).
    named: bool,
}

impl Creator {
    /// `User1@org1.example.com` of `Org1MSP`: the emulator's default client.
    fn default_client() -> Creator {
        Creator { msp_id: "Org1MSP".into(), name: "User1@org1.example.com".into(), named: true }
    }

    /// The identity, generated as the test kit's default client is (self-signed, `OU=client`):
    /// a new key every run, the same subject and so the same client id.
    fn identity(&self) -> Identity {
        Identity::generate(self.msp_id.clone(), &self.name)
    }
}

fn parse_creator(text: &str) -> Result<Creator, String> {
    let (msp_id, name) = match text.split_once(':') {
        Some((msp_id, name)) => (msp_id.trim(), Some(name.trim())),
        None => (text.trim(), None),
    };
    if msp_id.is_empty() || name == Some("") {
        return Err(format!("expected MSPID or MSPID:NAME (e.g. Org2MSP or Org2MSP:alice), got {text:?}"));
    }
    let named = name.is_some();
    let name = match name {
        Some(name) => name.to_string(),
        None => {
            let org = msp_id.strip_suffix("MSP").filter(|org| !org.is_empty()).unwrap_or(msp_id).to_lowercase();
            format!("User1@{org}.example.com")
        }
    };
    Ok(Creator { msp_id: msp_id.to_string(), name, named })
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        let error = error.into();
        let code = error.chain().find_map(|e| e.downcast_ref::<EmulatorError>()).map_or(1, exit_code);
        Failure { code, error }
    }
}

/// The exit code of an emulator error, as ccaas-deploy's (README.md, "Exit codes"): 4 when the
/// chaincode server cannot be reached or does not answer in time, 2 for bad TLS settings or a
/// bad address, else 1 (refused).
fn exit_code(error: &EmulatorError) -> u8 {
    match error {
        EmulatorError::Connect { .. } | EmulatorError::StartupTimeout(_) | EmulatorError::ExecuteTimeout => 4,
        EmulatorError::InvalidAddress { .. } | EmulatorError::Tls(_) => 2,
        _ => 1,
    }
}

fn usage(error: anyhow::Error) -> Failure {
    Failure { code: 2, error }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "off".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let target = target(&cli.connection)?;
    let identity = creator_identity(&cli)?;
    let builder = builder(&cli, identity.clone());
    match cli.command {
        Command::Invoke(ref args) => transaction(&cli, builder, &target, args, true).await,
        Command::Query(ref args) => transaction(&cli, builder, &target, args, false).await,
        Command::Conformance(ref args) => run_conformance(&cli, builder, target, args).await,
        Command::Bench(ref args) => run_bench(&cli, builder, target, args).await,
        Command::BenchBatch(ref args) => run_bench_batch(&cli, args).await,
        Command::ClientId => print_client_id(&cli, identity),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).with_context(|| format!("could not read the {what} {}", path.display())).map_err(usage)
}

fn target(args: &ConnectionArgs) -> Result<Target, Failure> {
    let mut target = Target::new(args.address.clone()).connect_timeout(args.connect_timeout);
    match &args.tls_root_cert {
        Some(root) => {
            let client_identity = match (&args.client_cert, &args.client_key) {
                (Some(cert), Some(key)) => Some((read(cert, "client certificate")?, read(key, "client key")?)),
                _ => None,
            };
            target = target.tls(TlsOptions {
                root_cert_pem: read(root, "TLS root certificate")?,
                client_identity,
                domain: args.domain.clone(),
            });
        }
        None if args.client_cert.is_some() || args.domain.is_some() => {
            return Err(usage(anyhow!("--client-cert, --client-key and --domain need --tls-root-cert")));
        }
        None => {}
    }
    Ok(target)
}

fn builder(cli: &Cli, identity: Option<Identity>) -> EmulatorBuilder {
    let args = &cli.connection;
    let mut builder = PeerEmulator::builder()
        .chaincode_name(args.chaincode_name.clone())
        .channel(args.channel.clone())
        .startup_timeout(args.connect_timeout)
        .execute_timeout(args.execute_timeout)
        .state_database(match args.state_database {
            Database::Leveldb => StateDatabase::LevelDb,
            Database::Couchdb => StateDatabase::CouchDb,
        });
    if let Some(id) = &args.chaincode_id {
        builder = builder.chaincode_id(id.clone());
    }
    if let Some(identity) = identity {
        builder = builder.identity(identity);
    }
    if cli.transcript {
        builder = builder.transcript(Arc::new(|entry: &TranscriptEntry| eprintln!("{entry}")));
    }
    builder
}

async fn transaction(
    cli: &Cli,
    builder: EmulatorBuilder,
    target: &Target,
    args: &TxArgs,
    submit: bool,
) -> Result<ExitCode, Failure> {
    let ledger = Ledger::new();
    let state = args.state.clone().or_else(|| default_state_path(&cli.connection));
    match &state {
        Some(path) if path.exists() && !args.fresh => {
            let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
            let export = serde_json::from_str(&text).with_context(|| {
                format!("{} is not a ledger file (--fresh starts from an empty ledger)", path.display())
            })?;
            ledger.import(&export).with_context(|| format!("{} holds invalid base64", path.display()))?;
            if cli.output == Output::Text {
                let keys = ledger.len(&cli.connection.chaincode_name);
                eprintln!("ledger: {} ({keys} keys; --fresh starts empty)", path.display());
            }
        }
        Some(path) if cli.output == Output::Text => {
            eprintln!("ledger: empty, kept in {} for the next run", path.display())
        }
        Some(_) => {}
        None => eprintln!("warning: the ledger is not kept between runs: HOME is unset; give --state FILE"),
    }
    let mut builder = builder.ledger(Arc::clone(&ledger));
    if let Some(version) = args.init_required.clone().or_else(|| args.init.then(|| "1.0".to_string())) {
        builder = builder.init_required(version);
    }
    let peer = builder.connect(target).await.map_err(connect_error)?;
    let mut tx = peer.transaction(args.function.clone()).args(args.args.iter().cloned());
    for (key, value) in &args.transient {
        tx = tx.transient(key.clone(), value.clone());
    }
    if args.init {
        tx = tx.init();
    }
    let result = if submit { tx.submit().await } else { tx.evaluate().await };
    peer.close().await;
    if let Some(path) = &state {
        save_state(path, &ledger)?;
    }
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => return Err(transaction_error(e)),
    };
    print_outcome(cli.output, &outcome, submit);
    Ok(if outcome.status() >= 400 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Where the ledger is kept without --state: `$XDG_STATE_HOME/ccaas-peer/CHANNEL.NAME.json`, or
/// `$HOME/.local/state/ccaas-peer/...` (the XDG default); `None` without either variable.
fn default_state_path(args: &ConnectionArgs) -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let base = absolute("XDG_STATE_HOME").or_else(|| absolute("HOME").map(|home| home.join(".local/state")))?;
    Some(base.join("ccaas-peer").join(format!("{}.{}.json", args.channel, args.chaincode_name)))
}

/// A connection failure; a wrong --chaincode-id names both ids.
fn connect_error(error: EmulatorError) -> Failure {
    match &error {
        EmulatorError::WrongChaincodeId { registered, expected } => Failure {
            code: 1,
            error: anyhow!(
                "the chaincode registered as {registered}, but --chaincode-id (or CHAINCODE_ID) expects {expected}: \
                 {error}; pass --chaincode-id {registered}, or omit it to accept any id"
            ),
        },
        _ => Failure { code: exit_code(&error), error: anyhow!(error).context("could not connect") },
    }
}

/// The identity --creator (with --creator-cert and --creator-key) names, if any.
fn creator_identity(cli: &Cli) -> Result<Option<Identity>, Failure> {
    let Some(creator) = &cli.creator else {
        return Ok(None);
    };
    let Some(cert) = &cli.creator_cert else {
        return Ok(Some(creator.identity()));
    };
    if creator.named {
        return Err(usage(anyhow!(
            "with --creator-cert, --creator is the MSP id alone (the name is the certificate's)"
        )));
    }
    let cert_pem = String::from_utf8_lossy(&read(cert, "creator certificate")?).into_owned();
    let key_pem = match &cli.creator_key {
        Some(key) => Some(String::from_utf8_lossy(&read(key, "creator key")?).into_owned()),
        None => None,
    };
    let identity = Identity::from_pem(creator.msp_id.clone(), &cert_pem, key_pem.as_deref())
        .with_context(|| format!("--creator-cert {}", cert.display()))
        .map_err(usage)?;
    Ok(Some(identity))
}

/// `client-id`: the client id of --creator, as the chaincode sees it.
fn print_client_id(cli: &Cli, identity: Option<Identity>) -> Result<ExitCode, Failure> {
    let creator = cli.creator.clone().unwrap_or_else(Creator::default_client);
    let identity = identity.unwrap_or_else(|| creator.identity());
    let decoded = ccaas_shim::identity::ClientIdentity::from_creator(&identity.serialize())
        .and_then(|id| id.decoded_id())
        .context("the generated identity has no client id")?;
    match cli.output {
        Output::Json => {
            let value = json!({
                "msp_id": identity.msp_id,
                "name": if cli.creator_cert.is_some() { None } else { Some(&creator.name) },
                "id": identity.client_id(),
                "decoded_id": decoded,
            });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Output::Text => println!("{}", identity.client_id()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the ledger to `path` atomically: a failed write leaves the previous file as it was.
fn save_state(path: &Path, ledger: &Ledger) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(&ledger.export())?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("could not write {}", path.display()))
}

fn transaction_error(error: EmulatorError) -> Failure {
    Failure { code: exit_code(&error), error: anyhow!(error) }
}

fn print_outcome(output: Output, outcome: &TxOutcome, submit: bool) {
    let payload = &outcome.response.payload;
    match output {
        Output::Json => {
            let text = std::str::from_utf8(payload).ok();
            let value = json!({
                "tx_id": outcome.tx_id,
                "channel_id": outcome.channel_id,
                "status": outcome.status(),
                "message": outcome.response.message,
                "payload": text,
                "payload_base64": base64::engine::general_purpose::STANDARD.encode(payload),
                "event": outcome.event.as_ref().map(|e| json!({
                    "name": e.event_name,
                    "payload": std::str::from_utf8(&e.payload).ok(),
                    "payload_base64": base64::engine::general_purpose::STANDARD.encode(&e.payload),
                })),
                "commit": outcome.commit,
                "writes": outcome.writes,
                "duration_ms": outcome.duration.as_secs_f64() * 1000.0,
            });
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        Output::Text => {
            if outcome.status() >= 400 {
                eprintln!("status {}: {}", outcome.status(), outcome.response.message);
            } else if submit {
                eprintln!("status {} ({:?}), tx {}", outcome.status(), outcome.commit, outcome.tx_id);
            }
            if let Some(event) = &outcome.event {
                eprintln!("event {}: {}", event.event_name, ccaas_testkit::printable(&event.payload));
            }
            if !payload.is_empty() {
                println!("{}", ccaas_testkit::printable(payload));
            }
        }
    }
}

async fn run_conformance(
    cli: &Cli,
    builder: EmulatorBuilder,
    target: Target,
    args: &ConformanceArgs,
) -> Result<ExitCode, Failure> {
    let options = conformance::Options {
        chaincode_id: cli.connection.chaincode_id.clone(),
        chaincode_name: cli.connection.chaincode_name.clone(),
        concurrency: args.concurrency,
        range_assets: args.range_assets,
        execute_timeout: cli.connection.execute_timeout,
        ..Default::default()
    };
    let transcript = cli.transcript;
    if cli.output == Output::Text {
        println!("{}\n", conformance::REQUIREMENTS);
    }
    let report = conformance::run(
        |prepared: EmulatorBuilder| {
            let target = target.clone();
            let mut prepared =
                prepared.channel(cli.connection.channel.clone()).startup_timeout(cli.connection.connect_timeout);
            if transcript {
                prepared = prepared.transcript(Arc::new(|entry: &TranscriptEntry| eprintln!("{entry}")));
            }
            async move { prepared.connect(&target).await }
        },
        options,
    )
    .await;
    let _ = builder;
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", report.render()),
    }
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn run_bench(cli: &Cli, builder: EmulatorBuilder, target: Target, args: &BenchArgs) -> Result<ExitCode, Failure> {
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        return Err(usage(anyhow!("--concurrency needs positive numbers, e.g. 1,16,64")));
    }
    let options = bench::Options {
        function: args.function,
        concurrency: args.concurrency.clone(),
        duration: args.duration,
        transactions: args.transactions,
        assets: args.assets,
    };
    // The emulator plays the peer; signing proposals is the client's work, not measured here.
    let builder = builder.sign_proposals(false);
    if !args.chaincode.is_empty() {
        return bench_in_process(cli, builder, args, &options).await;
    }
    let (peer, mut child) = match &args.spawn {
        None => (builder.connect(&target).await.map_err(connect_error)?, None),
        Some(binary) => {
            let id = cli.connection.chaincode_id.clone().unwrap_or_else(|| "bench:0".to_string());
            let mut child = SpawnedChaincode::spawn(binary, &id)
                .with_context(|| format!("could not start {}", binary.display()))?;
            let spawned_target = Target::new(child.address.clone()).connect_timeout(Duration::from_secs(1));
            let builder = builder.chaincode_id(id);
            let peer = child
                .wait_ready(cli.connection.connect_timeout, || {
                    let builder = builder.clone();
                    let target = spawned_target.clone();
                    async move { builder.connect(&target).await }
                })
                .await
                .context("the spawned chaincode did not accept a connection")?;
            (peer, Some(child))
        }
    };
    let mut report = bench::run_measured(&peer, &options, child.as_ref().map(|c| c.pid)).await;
    peer.close().await;
    if let Some(child) = child.take() {
        report.peak_rss_kib = child.peak_rss_kib();
        child.stop().await;
    }
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", report.render()),
    }
    Ok(if report.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `bench --chaincode ...`: serves each implementation on a loopback port of this process,
/// connects to each over TCP like a peer, and measures them side by side.
async fn bench_in_process(
    cli: &Cli,
    builder: EmulatorBuilder,
    args: &BenchArgs,
    options: &bench::Options,
) -> Result<ExitCode, Failure> {
    let mut implementations = args.chaincode.clone();
    implementations.dedup();
    let id = cli.connection.chaincode_id.clone().unwrap_or_else(|| "bench:0".to_string());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut peers = Vec::new();
    for implementation in implementations {
        let address = match implementation {
            Implementation::Contract => {
                let contract =
                    ccaas_shim::contract::ContractChaincode::new().contract(asset_transfer_basic::SmartContract);
                serve_locally(contract, &id, stopped.clone()).await?
            }
            Implementation::Lowlevel => {
                serve_locally(ccaas_testkit::testing::lowlevel::AssetTransfer, &id, stopped.clone()).await?
            }
        };
        let target = Target::new(address.to_string()).connect_timeout(cli.connection.connect_timeout);
        let peer = builder.clone().chaincode_id(id.clone()).connect(&target).await.context("could not connect")?;
        peers.push((implementation.label().to_string(), peer));
    }
    let comparison = bench::compare(&peers, options, args.rounds).await;
    for (_, peer) in &peers {
        peer.close().await;
    }
    let _ = stop.send(true);
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&comparison)?),
        Output::Text => print!("{}", comparison.render()),
    }
    Ok(if comparison.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Serves `chaincode` on 127.0.0.1 (a free port) until `stop` turns true; returns the address.
async fn serve_locally<C: ccaas_shim::Chaincode>(
    chaincode: C,
    id: &str,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<std::net::SocketAddr, Failure> {
    let server = ccaas_shim::server::Server::builder(chaincode)
        .chaincode_id(id)
        .address(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .shutdown_deadline(Duration::from_secs(1))
        .build()
        .context("invalid in-process server configuration")?
        .bind()
        .await
        .context("could not listen on a loopback port")?;
    let address = server.local_addr();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        if let Err(e) = server.serve_with_shutdown(shutdown).await {
            eprintln!("error: the in-process chaincode server failed: {e}");
        }
    });
    Ok(address)
}

/// `bench-batch`: the write batching benchmark (see `ccaas_testkit::bench::batch`).
async fn run_bench_batch(cli: &Cli, args: &BenchBatchArgs) -> Result<ExitCode, Failure> {
    if args.concurrency.is_empty() || args.concurrency.contains(&0) || args.keys == 0 || args.rounds == 0 {
        return Err(usage(anyhow!("--concurrency, --keys and --rounds need positive numbers")));
    }
    let options = bench::batch::Options {
        keys: args.keys,
        concurrency: args.concurrency.clone(),
        transactions: args.transactions,
        duration: args.duration,
        rounds: args.rounds,
        max_size_write_batch: args.max_size_write_batch,
    };
    let report = bench::batch::run(&options).await.context("the batching benchmark could not start")?;
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", report.render()),
    }
    Ok(if report.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
