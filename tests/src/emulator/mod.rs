//! The peer emulator: the [peer model](crate::model) behind a connection to a chaincode.
//!
//! It connects like a Fabric peer launching an external chaincode: it waits for REGISTER, checks
//! the chaincode id against the package ID it expects (a mismatch is refused with the peer's
//! `peer will not accept external chaincode connection <id> (except in dev mode)`), sends
//! REGISTERED and READY, then runs transactions — many at once on the one stream, correlated by
//! (channel, txid) — and answers the chaincode's requests from the model.
//!
//! Several chaincodes can run on one emulated peer ([`EmulatorBuilder::join`]), each on its own
//! connection (in-process or TCP), sharing the ledgers and collection definitions; a chaincode
//! calls another with `invoke_chaincode` and the callee runs with the caller's txid.
//!
//! ```
//! use ccaas_shim::{Chaincode, ChaincodeStub, Response};
//! use ccaas_testkit::PeerEmulator;
//!
//! struct Echo;
//! impl Chaincode for Echo {
//!     async fn invoke(&self, stub: &ChaincodeStub) -> Response {
//!         let (_, args) = stub.function_and_parameters();
//!         stub.put_state("last", args.join(" ")).await.map(|_| args.join(" ")).into()
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let peer = PeerEmulator::builder().connect_chaincode(Echo).await.unwrap();
//! let outcome = peer.invoke("say", ["hello", "world"]).await.unwrap();
//! assert_eq!(outcome.response.status, 200);
//! assert_eq!(outcome.payload_str(), "hello world");
//! assert_eq!(peer.ledger().get(peer.chaincode_name(), "last").as_deref(), Some(&b"hello world"[..]));
//! # });
//! ```

mod identity;
mod proposal;
mod transport;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeEvent, ChaincodeId, ChaincodeInput, ChaincodeMessage,
    Response as PbResponse,
};
use ccaas_shim::{Chaincode, ChaincodeService, Drain, Response};
use futures::{Stream, StreamExt};
use prost::Message;
use prost_types::Timestamp;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tracing::{debug, error, info};

pub use identity::{Identity, IdentityBuilder};
pub use transport::{Target, TlsOptions, MAX_MESSAGE_SIZE};

use crate::error::EmulatorError;
use crate::model::ledger::{Conflict, KvMetadataWrite, KvRead, KvWrite, Ledger, RangeQueryInfo};
use crate::model::{
    texts, Admission, CalleeCall, ChaincodeHost, CollectionConfig, ModelStats, PeerConfig, PeerModel, PeerNode,
    SimulationResults, StateDatabase, TxKey, TxParams, Violation,
};
use crate::transcript::{Direction, TranscriptEntry, TranscriptHook};
use transport::Connection;

/// What happened to a transaction's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CommitStatus {
    /// Endorsed and committed to the ledger.
    Committed,
    /// Endorsed but evaluated only (a query): nothing is committed.
    Evaluated,
    /// Not endorsed (status outside 200..400): nothing is committed.
    NotEndorsed,
    /// Endorsed but invalidated at commit: a key it read changed meanwhile (only with
    /// [`PeerConfig::validate_mvcc`]).
    MvccReadConflict,
    /// Endorsed but invalidated at commit: a range it read would now return other keys or
    /// versions, e.g. a key was added inside it (only with [`PeerConfig::validate_mvcc`]).
    PhantomReadConflict,
}

/// The result of a transaction the chaincode completed.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// The transaction id.
    pub tx_id: String,
    /// The channel.
    pub channel_id: String,
    /// The chaincode's response.
    pub response: Response,
    /// The event, if the chaincode set one and the peer endorsed the response (the peer fills in
    /// the chaincode name and txid).
    pub event: Option<ChaincodeEvent>,
    /// What the transaction read (keys and versions).
    pub reads: Vec<KvRead>,
    /// The public range queries it ran (partial composite key queries included), with the keys
    /// and versions the peer read from each: what the validator re-checks for phantom reads.
    pub range_queries: Vec<RangeQueryInfo>,
    /// What the transaction wrote, in (namespace, collection, key) order — a namespace's public
    /// writes first, then its private data; deletes and purges have no value. Includes the writes
    /// of the chaincodes it called on its channel.
    pub writes: Vec<KvWrite>,
    /// The key metadata it wrote (`PUT_STATE_METADATA`, e.g. key-level endorsement policies).
    pub metadata_writes: Vec<KvMetadataWrite>,
    /// What happened to the writes.
    pub commit: CommitStatus,
    /// From sending the transaction to its COMPLETED.
    pub duration: Duration,
}

impl TxOutcome {
    /// The response status.
    pub fn status(&self) -> i32 {
        self.response.status
    }

    /// The payload as text (invalid UTF-8 replaced).
    pub fn payload_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.response.payload)
    }

    /// Whether the peer endorsed the response (status 200..400).
    pub fn is_endorsed(&self) -> bool {
        is_endorsed(self.response.status)
    }

    /// Whether the writes were committed.
    pub fn is_committed(&self) -> bool {
        self.commit == CommitStatus::Committed
    }
}

/// The peer endorses responses with a status in 200..400 (`core/endorser/endorser.go:126-131`;
/// the gateway rejects anything outside, `internal/pkg/gateway/apiutils.go:41`).
fn is_endorsed(status: i32) -> bool {
    (200..400).contains(&status)
}

/// Configures and opens a [`PeerEmulator`].
#[derive(Clone)]
pub struct EmulatorBuilder {
    chaincode_id: Option<String>,
    chaincode_name: Option<String>,
    channel_id: String,
    identity: Option<Identity>,
    config: PeerConfig,
    ledger: Option<Arc<Ledger>>,
    transcript: Option<TranscriptHook>,
    node: Option<Arc<PeerNode>>,
    collections: Vec<CollectionConfig>,
    init_required: Option<String>,
    channel_ledgers: Vec<(String, Arc<Ledger>)>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            chaincode_id: None,
            chaincode_name: None,
            channel_id: "mychannel".to_string(),
            identity: None,
            config: PeerConfig::default(),
            ledger: None,
            transcript: None,
            node: None,
            collections: Vec::new(),
            init_required: None,
            channel_ledgers: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// The package ID the chaincode must register with (`label:sha256`). Without it any id is
    /// accepted, as a peer in dev mode would.
    pub fn chaincode_id(mut self, id: impl Into<String>) -> Self {
        self.chaincode_id = Some(id.into());
        self
    }

    /// The chaincode's name on the channel: the ledger namespace its state lives in (default: the
    /// label of the package ID, or `basic`).
    pub fn chaincode_name(mut self, name: impl Into<String>) -> Self {
        self.chaincode_name = Some(name.into());
        self
    }

    /// The channel transactions run on by default (`mychannel`).
    pub fn channel(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = channel_id.into();
        self
    }

    /// The default client identity (see [`Identity::default_client`]).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The peer's configuration.
    pub fn peer_config(mut self, config: PeerConfig) -> Self {
        self.config = config;
        self
    }

    /// The state database (LevelDB by default).
    pub fn state_database(mut self, database: StateDatabase) -> Self {
        self.config.state_database = database;
        self
    }

    /// Turns the history database on or off (on by default).
    pub fn history_enabled(mut self, enabled: bool) -> Self {
        self.config.history_enabled = enabled;
        self
    }

    /// The execute timeout (30 s by default).
    pub fn execute_timeout(mut self, timeout: Duration) -> Self {
        self.config.execute_timeout = timeout;
        self
    }

    /// How long to wait for REGISTER (30 s by default).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.config.startup_timeout = timeout;
        self
    }

    /// The READY payload.
    pub fn ready_params(mut self, params: ChaincodeAdditionalParams) -> Self {
        self.config.ready_params = params;
        self
    }

    /// The ledger to use (a new empty one by default). Share one ledger between emulators to
    /// keep the state across connections.
    pub fn ledger(mut self, ledger: Arc<Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Calls `hook` with every message in either direction.
    pub fn transcript(mut self, hook: TranscriptHook) -> Self {
        self.transcript = Some(hook);
        self
    }

    /// Defines a private data collection of this chaincode, as an entry of
    /// [`PeerConfig::collections`] under the chaincode's name would.
    ///
    /// ```
    /// use ccaas_testkit::{model::CollectionConfig, PeerEmulator};
    /// let builder = PeerEmulator::builder()
    ///     .chaincode_name("basic")
    ///     .collection(CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true));
    /// # let _ = builder;
    /// ```
    pub fn collection(mut self, collection: CollectionConfig) -> Self {
        self.collections.push(collection);
        self
    }

    /// Defines this chaincode with `--init-required` at definition version `version`, as an
    /// entry of [`PeerConfig::init_required`] under the chaincode's name would: its first
    /// transaction must be an INIT ([`TxBuilder::init`]), and only one INIT per version commits.
    ///
    /// ```
    /// # use ccaas_shim::{Chaincode, ChaincodeStub, Response};
    /// # struct Counter;
    /// # impl Chaincode for Counter {
    /// #     async fn init(&self, _stub: &ChaincodeStub) -> Response { Response::success("initialized") }
    /// #     async fn invoke(&self, _stub: &ChaincodeStub) -> Response { Response::success("ok") }
    /// # }
    /// use ccaas_testkit::PeerEmulator;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let peer = PeerEmulator::builder().chaincode_name("counter").init_required("1.0").connect_chaincode(Counter).await.unwrap();
    /// let refused = peer.invoke("get", [""; 0]).await.unwrap_err();
    /// assert_eq!(
    ///     refused.to_string(),
    ///     "invalid invocation: chaincode 'counter' has not been initialized for this version, must call as init first"
    /// );
    /// assert!(peer.transaction("").init().submit().await.unwrap().is_committed());
    /// assert_eq!(peer.invoke("get", [""; 0]).await.unwrap().payload_str(), "ok");
    /// # });
    /// ```
    pub fn init_required(mut self, version: impl Into<String>) -> Self {
        self.init_required = Some(version.into());
        self
    }

    /// Whether READY advertises WRITE_BATCH_STATE, and its largest batch (Fabric 3.1's
    /// `chaincode.runtimeParams.useWriteBatch` / `maxSizeWriteBatch`).
    pub fn write_batch(mut self, enabled: bool, max_size: u32) -> Self {
        self.config.ready_params.use_write_batch = enabled;
        self.config.ready_params.max_size_write_batch = max_size;
        self
    }

    /// Whether READY advertises GET_STATE_MULTIPLE, and its most keys per request
    /// (`useGetMultipleKeys` / `maxSizeGetMultipleKeys`).
    pub fn get_multiple_keys(mut self, enabled: bool, max_size: u32) -> Self {
        self.config.ready_params.use_get_multiple_keys = enabled;
        self.config.ready_params.max_size_get_multiple_keys = max_size;
        self
    }

    /// Gives `channel_id` its own ledger (by default every channel uses the emulator's ledger).
    /// A chaincode called on another channel reads that channel's ledger.
    pub fn channel_ledger(mut self, channel_id: impl Into<String>, ledger: Arc<Ledger>) -> Self {
        self.channel_ledgers.push((channel_id.into(), ledger));
        self
    }

    /// Runs this chaincode on the same emulated peer as `other`: the same ledgers and collection
    /// definitions, and each can call the other by name with `invoke_chaincode` (the callee runs
    /// on its own connection with the caller's txid). The [`ledger`](Self::ledger) setting is
    /// ignored.
    ///
    /// ```
    /// # use ccaas_shim::{Chaincode, ChaincodeStub, Response};
    /// # struct Caller;
    /// # impl Chaincode for Caller {
    /// #     async fn invoke(&self, stub: &ChaincodeStub) -> Response {
    /// #         stub.invoke_chaincode("callee", &["get"], "").await
    /// #     }
    /// # }
    /// # struct Callee;
    /// # impl Chaincode for Callee {
    /// #     async fn invoke(&self, _stub: &ChaincodeStub) -> Response { Response::success("from callee") }
    /// # }
    /// use ccaas_testkit::PeerEmulator;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(Caller).await.unwrap();
    /// let callee = PeerEmulator::builder().chaincode_name("callee").join(&caller).connect_chaincode(Callee).await.unwrap();
    /// assert_eq!(caller.invoke("call", [""; 0]).await.unwrap().payload_str(), "from callee");
    /// # drop(callee);
    /// # });
    /// ```
    pub fn join(mut self, other: &PeerEmulator) -> Self {
        self.node = Some(Arc::clone(other.model().node()));
        self
    }

    /// Dials a CCaaS server (any language) and registers it.
    pub async fn connect(self, target: &Target) -> Result<PeerEmulator, EmulatorError> {
        let startup = self.config.startup_timeout;
        let connection = tokio::time::timeout(startup + target.connect_timeout, transport::dial(target))
            .await
            .map_err(|_| EmulatorError::StartupTimeout(startup))??;
        self.establish(connection).await
    }

    /// Connects to a `ccaas-shim` service in this process, without gRPC or sockets.
    pub async fn connect_in_process<C: Chaincode>(
        self,
        service: &ChaincodeService<C>,
    ) -> Result<PeerEmulator, EmulatorError> {
        let connection = service.connect_in_process();
        self.connect_stream(connection.to_chaincode, ReceiverStream::new(connection.from_chaincode)).await
    }

    /// Serves `chaincode` in this process (registering with the expected chaincode id, or
    /// `test:0` if none is set) and connects to it.
    pub async fn connect_chaincode<C: Chaincode>(self, chaincode: C) -> Result<PeerEmulator, EmulatorError> {
        let id = self.chaincode_id.clone().unwrap_or_else(|| "test:0".to_string());
        let service = ChaincodeService::new(Arc::new(chaincode), id, Drain::new());
        self.connect_in_process(&service).await
    }

    /// Speaks the protocol over any pair of channels: `to_chaincode` receives what the peer
    /// sends, `from_chaincode` yields what the chaincode sends. Lets a test play the chaincode
    /// with raw messages.
    pub async fn connect_stream<S>(
        self,
        to_chaincode: mpsc::Sender<ChaincodeMessage>,
        from_chaincode: S,
    ) -> Result<PeerEmulator, EmulatorError>
    where
        S: Stream<Item = Result<ChaincodeMessage, tonic::Status>> + Send + 'static,
    {
        self.establish(Connection { to_chaincode, from_chaincode: Box::pin(from_chaincode), channel: None }).await
    }

    /// The handshake (`core/chaincode/handler.go:528-571` and `sendReady`, 478-509).
    async fn establish(self, connection: Connection) -> Result<PeerEmulator, EmulatorError> {
        let Connection { to_chaincode, mut from_chaincode, channel } = connection;
        let node = match &self.node {
            Some(node) => Arc::clone(node),
            None => PeerNode::new(self.ledger.clone().unwrap_or_default()),
        };
        for (channel_id, ledger) in &self.channel_ledgers {
            node.set_channel_ledger(channel_id, Arc::clone(ledger));
        }
        let model = PeerModel::on_node(self.config.clone(), node);
        let (closed, _) = watch::channel(None);
        let (keepalives, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            model,
            transcript: self.transcript.clone(),
            started: Instant::now(),
            outbound: Mutex::new(Some(to_chaincode)),
            closed,
            keepalives,
        });

        let startup = self.config.startup_timeout;
        let deadline = tokio::time::Instant::now() + startup;
        let first = loop {
            let message = match tokio::time::timeout_at(deadline, from_chaincode.next()).await {
                Err(_) => return Err(EmulatorError::StartupTimeout(startup)),
                Ok(None) => {
                    return Err(EmulatorError::Handshake("the chaincode closed the stream before REGISTER".into()))
                }
                Ok(Some(Err(status))) => return Err(EmulatorError::Rpc(status)),
                Ok(Some(Ok(message))) => message,
            };
            shared.record(Direction::ChaincodeToPeer, &message, None);
            // The peer ignores KEEPALIVE in every state (`core/chaincode/handler.go:171-173`).
            if message.r#type == Type::Keepalive as i32 {
                shared.keepalives.send_modify(|n| *n += 1);
                continue;
            }
            break message;
        };
        if first.r#type != Type::Register as i32 {
            let kind = describe_type(first.r#type);
            return Err(EmulatorError::Handshake(texts::cannot_handle_created(&first.txid, &kind)));
        }
        let registered = ChaincodeId::decode(first.payload.clone())
            .map_err(|e| EmulatorError::Handshake(format!("could NOT unmarshal registration info: {e}")))?
            .name;
        if registered.is_empty() {
            return Err(EmulatorError::Rejected(texts::EMPTY_CHAINCODE_ID.to_string()));
        }
        if let Some(expected) = &self.chaincode_id {
            if &registered != expected {
                let text = texts::not_launching(&registered);
                error!("{text}");
                return Err(EmulatorError::Rejected(text));
            }
        }
        shared.model.set_chaincode_id(&registered);
        shared.send(ChaincodeMessage { r#type: Type::Registered as i32, ..Default::default() }, None).await?;
        let ready = ChaincodeMessage {
            r#type: Type::Ready as i32,
            payload: self.config.ready_params.encode_to_vec().into(),
            ..Default::default()
        };
        shared.send(ready, None).await?;
        info!(chaincode_id = %registered, "chaincode registered; connection ready");

        let mut tasks = vec![tokio::spawn(read_loop(Arc::clone(&shared), from_chaincode))];
        if let Some(interval) = self.config.keepalive_interval {
            tasks.push(tokio::spawn(keepalive_loop(Arc::clone(&shared), interval)));
        }
        let chaincode_name = self.chaincode_name.clone().unwrap_or_else(|| default_name(&registered));
        let node = shared.model.node();
        node.define_collections(&chaincode_name, &self.collections);
        if let Some(version) = &self.init_required {
            node.require_init(&chaincode_name, version);
        }
        let host: Arc<dyn ChaincodeHost> = Arc::clone(&shared) as Arc<dyn ChaincodeHost>;
        node.register(&chaincode_name, Arc::downgrade(&host));
        Ok(PeerEmulator {
            inner: Arc::new(Inner {
                shared,
                registered_id: registered,
                chaincode_name,
                channel_id: self.channel_id,
                identity: self.identity.unwrap_or_default(),
                tasks: Mutex::new(tasks),
                channel: Mutex::new(channel),
            }),
        })
    }
}

/// The label of a package ID (`basic_1.0:abc…` → `basic`), or `basic`.
fn default_name(package_id: &str) -> String {
    let label = package_id.split(':').next().unwrap_or_default();
    let name = label.split('_').next().unwrap_or_default();
    if name.is_empty() || name == "test" {
        "basic".to_string()
    } else {
        name.to_string()
    }
}

fn describe_type(raw: i32) -> String {
    Type::try_from(raw).map(|t| t.as_str_name().to_string()).unwrap_or_else(|_| raw.to_string())
}

/// What the connection tasks share.
struct Shared {
    model: Arc<PeerModel>,
    transcript: Option<TranscriptHook>,
    started: Instant,
    outbound: Mutex<Option<mpsc::Sender<ChaincodeMessage>>>,
    /// `Some(reason)` once the stream ended.
    closed: watch::Sender<Option<String>>,
    /// KEEPALIVE messages received.
    keepalives: watch::Sender<u64>,
}

impl Shared {
    fn record(&self, direction: Direction, message: &ChaincodeMessage, in_reply_to: Option<Type>) {
        if let Some(hook) = &self.transcript {
            hook(&TranscriptEntry {
                elapsed: self.started.elapsed(),
                direction,
                message: message.clone(),
                in_reply_to,
            });
        }
    }

    async fn send(&self, message: ChaincodeMessage, in_reply_to: Option<Type>) -> Result<(), EmulatorError> {
        let sender = self.outbound.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(sender) = sender else { return Err(EmulatorError::StreamTerminated) };
        self.record(Direction::PeerToChaincode, &message, in_reply_to);
        sender.send(message).await.map_err(|_| EmulatorError::StreamTerminated)
    }

    /// Ends the stream: stops sending (the chaincode sees the end of its inbound stream).
    fn close(&self, reason: String) {
        self.outbound.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.closed.send_if_modified(|current| {
            if current.is_none() {
                info!(%reason, "chaincode stream ended");
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }
}

impl Shared {
    /// Sends INIT or TRANSACTION and waits for the chaincode's COMPLETED or ERROR, the execute
    /// timeout or the end of the stream (`Handler.Execute`, `core/chaincode/handler.go:1423-1460`);
    /// returns the reply, what the transaction simulated and how long it took.
    async fn run(
        &self,
        params: TxParams,
        input: &ChaincodeInput,
        timeout: Duration,
    ) -> (Result<ChaincodeMessage, EmulatorError>, SimulationResults, Duration) {
        let model = &self.model;
        let kind = if params.is_init { Type::Init } else { Type::Transaction };
        let message = ChaincodeMessage {
            r#type: kind as i32,
            payload: input.encode_to_vec().into(),
            txid: params.key.tx_id.clone(),
            channel_id: params.key.channel_id.clone(),
            proposal: params.signed_proposal.clone(),
            ..Default::default()
        };
        let (context, response) = match model.begin_transaction(params) {
            Ok(begun) => begun,
            Err(text) => {
                return (Err(EmulatorError::InvalidInvocation(text)), SimulationResults::default(), Duration::ZERO)
            }
        };
        let started = Instant::now();
        let result = match self.send(message, None).await {
            Err(e) => Err(e),
            Ok(()) => {
                let mut closed = self.closed.subscribe();
                // The reader resolves `response` before it records the end of the stream, so a
                // COMPLETED that arrived just before the stream ended must win (as in the peer,
                // which handles the stream's messages in order): hence `biased`, reply first.
                tokio::select! {
                    biased;
                    reply = response => reply.map_err(|_| EmulatorError::StreamTerminated),
                    _ = tokio::time::sleep(timeout) => Err(EmulatorError::ExecuteTimeout),
                    _ = closed.wait_for(|c| c.is_some()) => Err(EmulatorError::StreamTerminated),
                }
            }
        };
        let duration = started.elapsed();
        let results = model.end_transaction(&context);
        (result, results, duration)
    }
}

/// A chaincode called by another one runs on its own connection, with the caller's txid.
impl ChaincodeHost for Shared {
    fn execute(
        self: Arc<Self>,
        call: CalleeCall,
    ) -> futures::future::BoxFuture<'static, Result<ChaincodeMessage, String>> {
        Box::pin(async move {
            let timeout = self.model.config().execute_timeout;
            let (result, _, _) = self.run(call.params, &call.input, timeout).await;
            result.map_err(|e| match e {
                EmulatorError::InvalidInvocation(text) => text,
                other => other.to_string(),
            })
        })
    }
}

/// The peer's receive loop (`ProcessStream`, `core/chaincode/handler.go:401-475`).
async fn read_loop(
    shared: Arc<Shared>,
    mut inbound: futures::stream::BoxStream<'static, Result<ChaincodeMessage, tonic::Status>>,
) {
    let reason = loop {
        let message = match inbound.next().await {
            None => break "received EOF, ending chaincode support stream".to_string(),
            Some(Err(status)) => break format!("receive from chaincode support stream failed: {status}"),
            Some(Ok(message)) => message,
        };
        shared.record(Direction::ChaincodeToPeer, &message, None);
        match shared.model.admit(message) {
            Admission::Keepalive => {
                shared.keepalives.send_modify(|n| *n += 1);
            }
            Admission::Completion(_) | Admission::Dropped(_) => {}
            Admission::Request(ticket) => {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let kind = ticket.kind();
                    let reply = ticket.process().await;
                    if shared.send(reply, Some(kind)).await.is_err() {
                        debug!("reply not sent: the stream is closed");
                    }
                });
            }
            Admission::Fatal(text) => {
                error!("{text}");
                break format!("error handling message, ending stream: {text}");
            }
        }
    };
    shared.close(reason);
}

async fn keepalive_loop(shared: Arc<Shared>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if shared.send(keepalive_message(), None).await.is_err() {
            return;
        }
    }
}

fn keepalive_message() -> ChaincodeMessage {
    ChaincodeMessage { r#type: Type::Keepalive as i32, ..Default::default() }
}

struct Inner {
    shared: Arc<Shared>,
    registered_id: String,
    chaincode_name: String,
    channel_id: String,
    identity: Identity,
    /// The read loop first, then the keepalive ticker.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    channel: Mutex<Option<tonic::transport::Channel>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
        self.shared.close("the peer emulator was dropped".to_string());
    }
}

/// A connection to a chaincode, driven like a Fabric peer. Cheap to clone; transactions may run
/// concurrently from any number of tasks.
#[derive(Clone)]
pub struct PeerEmulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PeerEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerEmulator")
            .field("chaincode_id", &self.inner.registered_id)
            .field("chaincode_name", &self.inner.chaincode_name)
            .field("channel_id", &self.inner.channel_id)
            .finish_non_exhaustive()
    }
}

impl PeerEmulator {
    /// Configures a connection.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The id the chaincode registered with.
    pub fn chaincode_id(&self) -> &str {
        &self.inner.registered_id
    }

    /// The chaincode's namespace in the ledger.
    pub fn chaincode_name(&self) -> &str {
        &self.inner.chaincode_name
    }

    /// The default channel.
    pub fn channel_id(&self) -> &str {
        &self.inner.channel_id
    }

    /// The ledger (committed state and history) of every channel that was not given its own.
    pub fn ledger(&self) -> &Arc<Ledger> {
        self.inner.shared.model.ledger()
    }

    /// The ledger of `channel_id`.
    pub fn channel_ledger(&self, channel_id: &str) -> Arc<Ledger> {
        self.inner.shared.model.channel_ledger(channel_id)
    }

    /// The chaincodes running on this emulated peer (this one and those that
    /// [joined](EmulatorBuilder::join) it), by name.
    pub fn chaincodes(&self) -> Vec<String> {
        self.inner.shared.model.node().chaincode_names()
    }

    /// The peer model of this connection.
    pub fn model(&self) -> &Arc<PeerModel> {
        &self.inner.shared.model
    }

    /// Requests the model dropped because the chaincode had another request of the same
    /// transaction outstanding (a correct shim never causes one).
    pub fn violations(&self) -> Vec<Violation> {
        self.model().violations()
    }

    /// Counters of what the model saw.
    pub fn stats(&self) -> ModelStats {
        self.model().stats()
    }

    /// A transaction calling `function`; add arguments and options, then
    /// [`submit`](TxBuilder::submit) or [`evaluate`](TxBuilder::evaluate).
    pub fn transaction(&self, function: impl Into<Bytes>) -> TxBuilder {
        TxBuilder::new(self.clone(), function.into())
    }

    /// Submits a transaction: executes it and commits its writes if the peer endorses the
    /// response.
    pub async fn invoke<I, A>(&self, function: &str, args: I) -> Result<TxOutcome, EmulatorError>
    where
        I: IntoIterator<Item = A>,
        A: Into<Bytes>,
    {
        self.transaction(function.to_string()).args(args).submit().await
    }

    /// Evaluates a transaction: executes it and commits nothing.
    pub async fn query<I, A>(&self, function: &str, args: I) -> Result<TxOutcome, EmulatorError>
    where
        I: IntoIterator<Item = A>,
        A: Into<Bytes>,
    {
        self.transaction(function.to_string()).args(args).evaluate().await
    }

    /// Sends KEEPALIVE and waits for the chaincode's echo.
    pub async fn keepalive(&self, timeout: Duration) -> Result<Duration, EmulatorError> {
        let mut received = self.inner.shared.keepalives.subscribe();
        let before = *received.borrow_and_update();
        let started = Instant::now();
        self.send_keepalive().await?;
        tokio::time::timeout(timeout, received.wait_for(|n| *n > before))
            .await
            .map_err(|_| EmulatorError::KeepaliveTimeout(timeout))?
            .map_err(|_| EmulatorError::StreamTerminated)?;
        Ok(started.elapsed())
    }

    /// Sends one KEEPALIVE.
    pub async fn send_keepalive(&self) -> Result<(), EmulatorError> {
        self.inner.shared.send(keepalive_message(), None).await
    }

    /// How many KEEPALIVE messages the chaincode sent.
    pub fn keepalives_received(&self) -> u64 {
        *self.inner.shared.keepalives.borrow()
    }

    /// Whether the stream is still open.
    pub fn is_connected(&self) -> bool {
        self.inner.shared.closed.borrow().is_none()
    }

    /// Waits until the stream ends; returns why.
    pub async fn closed(&self) -> String {
        let mut closed = self.inner.shared.closed.subscribe();
        let reason = closed.wait_for(|c| c.is_some()).await.map(|c| c.clone()).ok().flatten();
        reason.unwrap_or_else(|| "the peer emulator was dropped".to_string())
    }

    /// Closes the stream gracefully: stops sending, lets the chaincode end its side (waiting at
    /// most `grace`), then drops the connection. Running transactions fail with
    /// `chaincode stream terminated`.
    pub async fn close_with_grace(&self, grace: Duration) {
        self.inner.shared.close("closed by the peer emulator".to_string());
        let tasks: Vec<JoinHandle<()>> = self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        let mut tasks = tasks.into_iter();
        if let Some(mut reader) = tasks.next() {
            if tokio::time::timeout(grace, &mut reader).await.is_err() {
                reader.abort();
            }
        }
        for task in tasks {
            task.abort();
        }
        self.inner.channel.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// [`close_with_grace`](Self::close_with_grace) with one second of grace.
    pub async fn close(&self) {
        self.close_with_grace(Duration::from_secs(1)).await;
    }

    /// Drops the connection at once, as a crashing or killed peer does: no end of stream is sent,
    /// running transactions fail with `chaincode stream terminated`.
    pub async fn disconnect(&self) {
        for task in self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            task.abort();
        }
        self.inner.shared.close("disconnected by the peer emulator".to_string());
        self.inner.channel.lock().unwrap_or_else(|e| e.into_inner()).take();
        tokio::task::yield_now().await;
    }

    /// Sends a raw message to the chaincode (for protocol tests).
    pub async fn send_raw(&self, message: ChaincodeMessage) -> Result<(), EmulatorError> {
        self.inner.shared.send(message, None).await
    }

    async fn execute(&self, tx: TxBuilder, commit: bool) -> Result<TxOutcome, EmulatorError> {
        let shared = &self.inner.shared;
        let model = &shared.model;
        let identity = tx.creator.unwrap_or_else(|| self.inner.identity.clone());
        let creator = identity.serialize();
        let nonce = proposal::nonce();
        let tx_id = tx.tx_id.unwrap_or_else(|| proposal::compute_tx_id(&nonce, &creator));
        let channel_id = tx.channel_id.unwrap_or_else(|| self.inner.channel_id.clone());
        let timestamp: Timestamp = tx.timestamp.unwrap_or_else(SystemTime::now).into();
        let input = ChaincodeInput { args: tx.args, decorations: tx.decorations, is_init: tx.is_init };
        let signed_proposal = proposal::signed_proposal(
            proposal::ProposalParts {
                channel_id: &channel_id,
                tx_id: &tx_id,
                chaincode_name: &self.inner.chaincode_name,
                input: &input,
                transient: &tx.transient,
                creator,
                nonce,
                timestamp,
            },
            &identity,
        );
        let ledger = model.channel_ledger(&channel_id);
        let snapshot = ledger.height();
        let params = TxParams {
            key: TxKey { channel_id: channel_id.clone(), tx_id: tx_id.clone() },
            namespace: self.inner.chaincode_name.clone(),
            is_init: tx.is_init,
            creator_msp_id: identity.msp_id.clone(),
            signed_proposal: Some(signed_proposal),
            decorations: input.decorations.clone(),
            ledger: Arc::clone(&ledger),
            snapshot,
            sim: Arc::default(),
        };
        // The endorser's `Execute` → `Invoke`: `CheckInvocation` fails before anything is sent.
        model.check_invocation(&params).map_err(EmulatorError::InvalidInvocation)?;
        let timeout = tx.timeout.unwrap_or(model.config().execute_timeout);
        let (result, results, duration) = shared.run(params, &input, timeout).await;
        let reply = result?;
        match Type::try_from(reply.r#type) {
            Ok(Type::Completed) => {}
            Ok(Type::Error) => {
                return Err(EmulatorError::TransactionFailed(String::from_utf8_lossy(&reply.payload).into_owned()))
            }
            _ => {
                return Err(EmulatorError::BadResponse {
                    tx_id,
                    reason: format!("unexpected response type {}", describe_type(reply.r#type)),
                })
            }
        }
        let response: Response = PbResponse::decode(reply.payload.clone())
            .map_err(|e| EmulatorError::BadResponse {
                tx_id: tx_id.clone(),
                reason: format!("failed to unmarshal response: {e}"),
            })?
            .into();
        let endorsed = is_endorsed(response.status);
        let commit = if !endorsed {
            CommitStatus::NotEndorsed
        } else if !commit {
            CommitStatus::Evaluated
        } else {
            match model.commit(&ledger, &tx_id, timestamp, &results) {
                Ok(()) => CommitStatus::Committed,
                Err(Conflict::MvccRead) => CommitStatus::MvccReadConflict,
                Err(Conflict::PhantomRead) => CommitStatus::PhantomReadConflict,
            }
        };
        let event = reply.chaincode_event.filter(|_| endorsed).map(|mut event| {
            event.chaincode_id = self.inner.chaincode_name.clone();
            event.tx_id = tx_id.clone();
            event
        });
        let SimulationResults { reads, writes, metadata_writes, range_queries } = results;
        Ok(TxOutcome {
            tx_id,
            channel_id,
            response,
            event,
            reads,
            range_queries,
            writes,
            metadata_writes,
            commit,
            duration,
        })
    }
}

/// One transaction to run: arguments, options, then [`submit`](TxBuilder::submit) or
/// [`evaluate`](TxBuilder::evaluate).
///
/// ```no_run
/// # async fn example(peer: ccaas_testkit::PeerEmulator) -> Result<(), ccaas_testkit::EmulatorError> {
/// let outcome = peer
///     .transaction("CreateAsset")
///     .args(["asset1", "blue", "5", "Tom", "300"])
///     .transient("secret", "s3cr3t")
///     .channel("otherchannel")
///     .submit()
///     .await?;
/// assert!(outcome.is_committed());
/// # Ok(()) }
/// ```
#[must_use = "a transaction does nothing until submitted or evaluated"]
pub struct TxBuilder {
    emulator: PeerEmulator,
    args: Vec<Bytes>,
    transient: HashMap<String, Bytes>,
    decorations: HashMap<String, Bytes>,
    channel_id: Option<String>,
    tx_id: Option<String>,
    creator: Option<Identity>,
    timestamp: Option<SystemTime>,
    is_init: bool,
    timeout: Option<Duration>,
}

impl TxBuilder {
    fn new(emulator: PeerEmulator, function: Bytes) -> Self {
        TxBuilder {
            emulator,
            args: vec![function],
            transient: HashMap::new(),
            decorations: HashMap::new(),
            channel_id: None,
            tx_id: None,
            creator: None,
            timestamp: None,
            is_init: false,
            timeout: None,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<Bytes>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<Bytes>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds a transient field (private input that is not part of the transaction).
    pub fn transient(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.transient.insert(key.into(), value.into());
        self
    }

    /// Adds a decoration (what the peer's decorators would attach to the input).
    pub fn decoration(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.decorations.insert(key.into(), value.into());
        self
    }

    /// Runs on another channel than the emulator's default.
    pub fn channel(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = Some(channel_id.into());
        self
    }

    /// Uses this txid instead of Fabric's hex(SHA-256(nonce ‖ creator)).
    pub fn tx_id(mut self, tx_id: impl Into<String>) -> Self {
        self.tx_id = Some(tx_id.into());
        self
    }

    /// Submits as this client.
    pub fn creator(mut self, identity: Identity) -> Self {
        self.creator = Some(identity);
        self
    }

    /// The transaction's timestamp (now by default).
    pub fn timestamp(mut self, timestamp: SystemTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sends INIT instead of TRANSACTION (`peer chaincode invoke --isInit`). As on a peer, only a
    /// chaincode defined with `--init-required` ([`EmulatorBuilder::init_required`]) accepts it,
    /// once per definition version; otherwise the invocation fails before reaching the chaincode.
    pub fn init(mut self) -> Self {
        self.is_init = true;
        self
    }

    /// Overrides the execute timeout for this transaction.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Executes and commits the writes if the peer endorses the response.
    pub async fn submit(self) -> Result<TxOutcome, EmulatorError> {
        let emulator = self.emulator.clone();
        emulator.execute(self, true).await
    }

    /// Executes without committing anything.
    pub async fn evaluate(self) -> Result<TxOutcome, EmulatorError> {
        let emulator = self.emulator.clone();
        emulator.execute(self, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names() {
        assert_eq!(default_name("basic_1.0:abc"), "basic");
        assert_eq!(default_name("fabcar:00"), "fabcar");
        assert_eq!(default_name("test:0"), "basic");
        assert_eq!(default_name(""), "basic");
    }

    #[test]
    fn endorsement_range() {
        assert!(is_endorsed(200) && is_endorsed(399));
        assert!(!is_endorsed(400) && !is_endorsed(500) && !is_endorsed(0));
    }
}
