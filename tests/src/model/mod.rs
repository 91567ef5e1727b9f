//! The peer model: the Fabric peer's side of the chaincode shim protocol over an in-memory
//! [`Ledger`], independent of any transport.
//!
//! It follows the peer's `core/chaincode/handler.go`:
//!
//! * every shim request is first **registered** for its (channel, txid); a second request of the
//!   same transaction while one is outstanding is logged and **silently dropped** (no reply), and
//!   recorded as a [`Violation`] so tests can assert that a shim never does it;
//! * then the request is answered from the transaction's context, through a table from message
//!   type to handler ([`PeerModel::handles`]); a failure is answered with
//!   `ERROR "<TYPE> failed: transaction ID: <txid>: <cause>"` and the peer's own cause texts
//!   (see [`texts`]);
//! * a transaction simulates like Fabric's: it reads the committed state as of its start (never
//!   its own writes), collects a write set (an empty value is a delete), and its writes are
//!   committed only if the chaincode completes with a status the peer endorses;
//! * query results come in batches of 100 with `has_more`, iterators are closed when the
//!   transaction completes, and the total number of rows is capped (`totalQueryLimit`).
//!
//! It serves every message type a Fabric 3.1 peer serves: state, private data (collections with
//! the peer's access checks, hashes, purge), state metadata, range/rich/history queries with
//! pagination, chaincode-to-chaincode calls (several chaincodes run on one emulated peer, see
//! [`EmulatorBuilder::join`](crate::EmulatorBuilder::join)), WRITE_BATCH_STATE and
//! GET_STATE_MULTIPLE. The two Fabric 3.1 types are served only when the READY parameters
//! advertise them; otherwise the model answers them as a peer before 3.1 does — it does not know
//! the type and ends the stream — and records a [`Violation`], so a test can prove that a shim
//! never sends what the peer did not advertise. A type no peer knows ends the stream too.

mod collections;
mod context;
mod handlers;
pub mod ledger;
mod mango;
mod node;
mod policy;
pub mod texts;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::google::protobuf::Timestamp;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeMessage};
use serde::Serialize;
use tokio::sync::{oneshot, OwnedRwLockWriteGuard, RwLock};
use tracing::{debug, error};

pub use collections::{CollectionConfig, IMPLICIT_COLLECTION_PREFIX};
pub(crate) use context::{Simulation, SimulationResults, TxContext, TxParams};
use ledger::{Conflict, Ledger, ReadSet};
pub(crate) use node::{CalleeCall, ChaincodeHost, PeerNode};
pub use policy::{SignaturePolicy, Signer};

/// Which state database the modelled peer runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum StateDatabase {
    /// LevelDB (the default): rich queries fail with the peer's LevelDB error.
    #[default]
    LevelDb,
    /// CouchDB: rich queries run a subset of Mango selectors over JSON values, and keys and
    /// values are validated as CouchDB does.
    CouchDb,
}

/// The modelled peer's configuration (the `core.yaml` settings that matter to a chaincode).
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The state database (`ledger.state.stateDatabase`).
    pub state_database: StateDatabase,
    /// Whether the history database is on (`ledger.history.enableHistoryDatabase`, default true).
    pub history_enabled: bool,
    /// The most rows one query returns in total (`ledger.state.totalQueryLimit`; the peer's code
    /// default is 10000).
    pub total_query_limit: u32,
    /// Rows per QueryResponse batch (the peer's `QueryResponseGenerator.MaxResultLimit`, 100).
    pub query_batch_size: usize,
    /// How long a transaction may run (`chaincode.executetimeout`, 30 s).
    pub execute_timeout: Duration,
    /// How long to wait for the chaincode's REGISTER (`chaincode.startuptimeout` is 300 s on a
    /// peer; the emulator defaults to 30 s).
    pub startup_timeout: Duration,
    /// The READY payload (`chaincode.runtimeParams`; the peer's code defaults: batching off,
    /// sizes 1000).
    pub ready_params: ChaincodeAdditionalParams,
    /// Send KEEPALIVE this often (`chaincode.keepalive`; `None`, the default, is off).
    pub keepalive_interval: Option<Duration>,
    /// Hold every reply this long before answering (`None`, the default: answer at once). A
    /// loaded peer takes time to answer; the delay widens the window in which a shim that sends
    /// a second request of a transaction too early is caught (see [`Violation`]).
    pub response_delay: Option<Duration>,
    /// Validate transactions at commit as Fabric's validator does: a stale point read, public or
    /// private (by its key hash's version), invalidates the transaction (`MVCC_READ_CONFLICT`),
    /// and so does a public range query (partial composite key queries included) that would now
    /// return other keys or versions (`PHANTOM_READ_CONFLICT`). Off by default: every endorsed
    /// transaction commits. Rich queries and private ranges are not re-checked (nor are they by
    /// Fabric), nor paginated queries (allowed only in read-only transactions).
    pub validate_mvcc: bool,
    /// The peer's own org (`CORE_PEER_LOCALMSPID`, default `Org1MSP`): the peer stores the
    /// private values of the collections this org is a member of, and only their hashes of the
    /// others.
    pub peer_msp_id: String,
    /// The orgs of the channel (default `Org1MSP`, `Org2MSP`): each has an implicit collection
    /// `_implicit_org_<MSPID>`.
    pub channel_orgs: Vec<String>,
    /// The private data collections of each chaincode definition, by namespace (chaincode name).
    /// A chaincode without an entry defines only the implicit collections.
    pub collections: BTreeMap<String, Vec<CollectionConfig>>,
    /// The chaincodes defined with `--init-required`, by name, with their definition's version
    /// (`peer lifecycle chaincode approveformyorg/commit --init-required --version V`). Such a
    /// chaincode takes INIT once per version before any other transaction; any other chaincode
    /// refuses INIT (see [`TxBuilder::init`](crate::TxBuilder::init)).
    pub init_required: BTreeMap<String, String>,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            state_database: StateDatabase::LevelDb,
            history_enabled: true,
            total_query_limit: 10_000,
            query_batch_size: 100,
            execute_timeout: Duration::from_secs(30),
            startup_timeout: Duration::from_secs(30),
            ready_params: ChaincodeAdditionalParams {
                use_write_batch: false,
                max_size_write_batch: 1000,
                use_get_multiple_keys: false,
                max_size_get_multiple_keys: 1000,
            },
            keepalive_interval: None,
            response_delay: None,
            validate_mvcc: false,
            peer_msp_id: "Org1MSP".to_string(),
            channel_orgs: vec!["Org1MSP".to_string(), "Org2MSP".to_string()],
            collections: BTreeMap::new(),
            init_required: BTreeMap::new(),
        }
    }
}

/// A transaction's identity on a connection: replies are correlated by (channel id, txid).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TxKey {
    /// The channel.
    pub channel_id: String,
    /// The transaction id.
    pub tx_id: String,
}

impl TxKey {
    /// The key of `message`.
    pub fn of(message: &ChaincodeMessage) -> TxKey {
        TxKey { channel_id: message.channel_id.clone(), tx_id: message.txid.clone() }
    }
}

/// What a shim did that a peer does not tolerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ViolationKind {
    /// A second request of a transaction while one was outstanding: the peer dropped it without
    /// a reply.
    ConcurrentRequest,
    /// A Fabric 3.1 request (WRITE_BATCH_STATE, GET_STATE_MULTIPLE) the peer did not advertise in
    /// READY: a peer before 3.1 does not know the type and ends the stream.
    NotAdvertised,
    /// A request of a transaction the peer is not running: it has completed already (the shim
    /// sent a request after its COMPLETED or ERROR, as a background task might) or never
    /// started. The peer answers ERROR (`no ledger context`) and logs it.
    OutsideTransaction,
}

/// A shim request the peer could not accept. A correct shim never causes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What went wrong.
    pub kind: ViolationKind,
    /// The channel.
    pub channel_id: String,
    /// The transaction.
    pub tx_id: String,
    /// The type of the offending request (dropped, refused or answered with ERROR).
    pub dropped: String,
    /// The type of the request that was still outstanding (empty for
    /// [`ViolationKind::NotAdvertised`] and [`ViolationKind::OutsideTransaction`]).
    pub outstanding: String,
    /// The peer's log line for it.
    pub log: String,
}

/// Counters of what the model saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelStats {
    /// Requests answered, by message type name.
    pub requests: BTreeMap<String, u64>,
    /// Requests answered with ERROR.
    pub error_replies: u64,
    /// Requests dropped (see [`Violation`]).
    pub dropped_requests: u64,
    /// Query iterators opened.
    pub iterators_opened: u64,
    /// Iterators the peer finished by sending their last batch.
    pub iterators_exhausted: u64,
    /// Open iterators closed by the chaincode's QUERY_STATE_CLOSE.
    pub iterators_closed_by_chaincode: u64,
    /// Iterators still open when their transaction completed (closed by the peer).
    pub iterators_closed_at_completion: u64,
    /// Transactions sent to the chaincode.
    pub transactions_started: u64,
    /// Transactions whose writes were committed.
    pub transactions_committed: u64,
}

impl ModelStats {
    /// How many requests of type `kind` were answered.
    pub fn count(&self, kind: Type) -> u64 {
        self.requests.get(kind.as_str_name()).copied().unwrap_or(0)
    }
}

/// Handles one request type: decodes the payload, acts on the transaction's context, returns
/// the RESPONSE payload or the cause of the failure.
pub(crate) type HandlerFn = fn(&PeerModel, &ChaincodeMessage, &TxContext) -> Result<Bytes, String>;

/// How a request type is answered.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// At once, from the transaction's context.
    Sync(HandlerFn),
    /// INVOKE_CHAINCODE: after running the called chaincode.
    InvokeChaincode,
}

/// The dispatch table of the ready state (`core/chaincode/handler.go:195-235`). A type missing
/// here ends the stream, as on a peer that does not know it.
const DISPATCH: &[(Type, Handler)] = &[
    (Type::GetState, Handler::Sync(handlers::get_state)),
    (Type::GetStateMultiple, Handler::Sync(handlers::get_state_multiple)),
    (Type::GetPrivateDataHash, Handler::Sync(handlers::get_private_data_hash)),
    (Type::GetStateMetadata, Handler::Sync(handlers::get_state_metadata)),
    (Type::PutState, Handler::Sync(handlers::put_state)),
    (Type::PutStateMetadata, Handler::Sync(handlers::put_state_metadata)),
    (Type::DelState, Handler::Sync(handlers::del_state)),
    (Type::PurgePrivateData, Handler::Sync(handlers::purge_private_data)),
    (Type::WriteBatchState, Handler::Sync(handlers::write_batch_state)),
    (Type::GetStateByRange, Handler::Sync(handlers::get_state_by_range)),
    (Type::GetQueryResult, Handler::Sync(handlers::get_query_result)),
    (Type::QueryStateNext, Handler::Sync(handlers::query_state_next)),
    (Type::QueryStateClose, Handler::Sync(handlers::query_state_close)),
    (Type::GetHistoryForKey, Handler::Sync(handlers::get_history_for_key)),
    (Type::InvokeChaincode, Handler::InvokeChaincode),
];

fn handler_for(kind: Type) -> Option<Handler> {
    DISPATCH.iter().find(|(k, _)| *k == kind).map(|(_, h)| *h)
}

/// What the model does with a message the chaincode sent in the ready state.
pub enum Admission {
    /// A request to answer: process the ticket and send its reply.
    Request(Box<Ticket>),
    /// A request dropped without reply (another request of the transaction is outstanding).
    Dropped(Violation),
    /// COMPLETED or ERROR, handed to the waiting transaction (false: no such transaction, the
    /// message was dropped as the peer does).
    Completion(bool),
    /// KEEPALIVE: the peer ignores it.
    Keepalive,
    /// A message the peer cannot handle: it ends the stream with this error.
    Fatal(String),
}

/// The peer's side of one chaincode connection. Cheap to share (`Arc`).
pub struct PeerModel {
    config: PeerConfig,
    node: Arc<PeerNode>,
    chaincode_id: Mutex<String>,
    contexts: Mutex<HashMap<TxKey, Arc<TxContext>>>,
    active: Mutex<HashMap<TxKey, Type>>,
    violations: Mutex<Vec<Violation>>,
    stats: Mutex<ModelStats>,
    gate: Arc<RwLock<()>>,
    next_iterator: AtomicU64,
}

/// While held, the model registers requests but does not answer them (see [`PeerModel::pause`]).
pub struct PauseGuard {
    _guard: OwnedRwLockWriteGuard<()>,
}

impl PeerModel {
    /// A model over `ledger` (every channel's ledger), alone on its peer.
    pub fn new(config: PeerConfig, ledger: Arc<Ledger>) -> Arc<PeerModel> {
        Self::on_node(config, PeerNode::new(ledger))
    }

    /// A model on a peer shared with other chaincodes; its collection definitions join the
    /// peer's.
    pub(crate) fn on_node(config: PeerConfig, node: Arc<PeerNode>) -> Arc<PeerModel> {
        for (namespace, collections) in &config.collections {
            node.define_collections(namespace, collections);
        }
        for (namespace, version) in &config.init_required {
            node.require_init(namespace, version);
        }
        Arc::new(PeerModel {
            config,
            node,
            chaincode_id: Mutex::new(String::new()),
            contexts: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            violations: Mutex::new(Vec::new()),
            stats: Mutex::new(ModelStats::default()),
            gate: Arc::new(RwLock::new(())),
            next_iterator: AtomicU64::new(1),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PeerConfig {
        &self.config
    }

    /// The ledger (of every channel that was not given its own).
    pub fn ledger(&self) -> &Arc<Ledger> {
        self.node.default_ledger()
    }

    /// The ledger of `channel_id`.
    pub fn channel_ledger(&self, channel_id: &str) -> Arc<Ledger> {
        self.node.ledger(channel_id)
    }

    pub(crate) fn node(&self) -> &Arc<PeerNode> {
        &self.node
    }

    /// Whether the model answers requests of type `kind` (when the READY parameters advertise
    /// it, for the Fabric 3.1 types).
    pub fn handles(kind: Type) -> bool {
        handler_for(kind).is_some()
    }

    /// Whether the model implements requests of type `kind` (the same as
    /// [`handles`](Self::handles): every type a Fabric 3.1 peer serves is modelled).
    pub fn models(kind: Type) -> bool {
        Self::handles(kind)
    }

    /// Whether READY advertised `kind` (only WRITE_BATCH_STATE and GET_STATE_MULTIPLE need it).
    pub fn advertises(&self, kind: Type) -> bool {
        let params = &self.config.ready_params;
        match kind {
            Type::WriteBatchState => params.use_write_batch,
            Type::GetStateMultiple => params.use_get_multiple_keys,
            _ => true,
        }
    }

    /// The protocol violations so far: requests dropped because the shim had another request of
    /// the same transaction outstanding, types the peer did not advertise, and requests outside
    /// a running transaction (see [`ViolationKind`]).
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.violations).clone()
    }

    /// Counters of what the model saw.
    pub fn stats(&self) -> ModelStats {
        lock(&self.stats).clone()
    }

    /// The transactions being executed now.
    pub fn running_transactions(&self) -> Vec<TxKey> {
        lock(&self.contexts).keys().cloned().collect()
    }

    /// The ids of the query iterators open for a transaction.
    pub fn open_iterators(&self, channel_id: &str, tx_id: &str) -> Vec<String> {
        let key = TxKey { channel_id: channel_id.to_string(), tx_id: tx_id.to_string() };
        let context = lock(&self.contexts).get(&key).cloned();
        context.map(|c| c.iterators().keys().cloned().collect()).unwrap_or_default()
    }

    /// Holds every request after registration until the guard is dropped: lets a test send
    /// several requests of one transaction and observe deterministically that the second is
    /// dropped.
    pub async fn pause(&self) -> PauseGuard {
        PauseGuard { _guard: Arc::clone(&self.gate).write_owned().await }
    }

    pub(crate) fn set_chaincode_id(&self, id: &str) {
        *lock(&self.chaincode_id) = id.to_string();
    }

    /// Classifies a message the chaincode sent in the ready state
    /// (`core/chaincode/handler.go:164-235`); registers requests (`registerTxid`, 597-606).
    pub fn admit(self: &Arc<Self>, message: ChaincodeMessage) -> Admission {
        let kind = Type::try_from(message.r#type).ok();
        match kind {
            Some(Type::Keepalive) => return Admission::Keepalive,
            Some(Type::Completed | Type::Error) => return Admission::Completion(self.notify(message)),
            _ => {}
        }
        let Some((kind, handler)) = kind.and_then(|k| handler_for(k).map(|h| (k, h))) else {
            let name = kind.map(|k| k.as_str_name().to_string()).unwrap_or_else(|| message.r#type.to_string());
            return Admission::Fatal(texts::cannot_handle_ready(&message.txid, &name));
        };
        let key = TxKey::of(&message);
        if !self.advertises(kind) {
            // A peer that did not advertise the type predates it: its generated enum has no name
            // for the number, which Go prints as the number.
            let text = texts::cannot_handle_ready(&message.txid, &message.r#type.to_string());
            let violation = Violation {
                kind: ViolationKind::NotAdvertised,
                channel_id: key.channel_id.clone(),
                tx_id: key.tx_id.clone(),
                dropped: kind.as_str_name().to_string(),
                outstanding: String::new(),
                log: text.clone(),
            };
            error!("{text}");
            lock(&self.violations).push(violation);
            return Admission::Fatal(text);
        }
        {
            let mut active = lock(&self.active);
            if let Some(outstanding) = active.get(&key) {
                let log = texts::another_request_pending(&key.tx_id, &lock(&self.chaincode_id), &key.channel_id);
                error!("{log}");
                let violation = Violation {
                    kind: ViolationKind::ConcurrentRequest,
                    channel_id: key.channel_id.clone(),
                    tx_id: key.tx_id.clone(),
                    dropped: kind.as_str_name().to_string(),
                    outstanding: outstanding.as_str_name().to_string(),
                    log,
                };
                lock(&self.violations).push(violation.clone());
                lock(&self.stats).dropped_requests += 1;
                return Admission::Dropped(violation);
            }
            active.insert(key.clone(), kind);
        }
        Admission::Request(Box::new(Ticket { model: Arc::clone(self), message, kind, key, handler, released: false }))
    }

    fn release(&self, key: &TxKey) {
        lock(&self.active).remove(key);
    }

    async fn answer(self: &Arc<Self>, message: &ChaincodeMessage, kind: Type, handler: Handler) -> ChaincodeMessage {
        let key = TxKey::of(message);
        let context = lock(&self.contexts).get(&key).cloned();
        if context.is_none() {
            let log = texts::request_failed(kind, &message.txid, texts::NO_LEDGER_CONTEXT);
            error!("request outside a running transaction: {log}");
            lock(&self.violations).push(Violation {
                kind: ViolationKind::OutsideTransaction,
                channel_id: key.channel_id.clone(),
                tx_id: key.tx_id.clone(),
                dropped: kind.as_str_name().to_string(),
                outstanding: String::new(),
                log,
            });
        }
        let result = match (&context, handler) {
            // `getTxContextForInvoke` → `isValidTxSim(…, "could not get valid transaction")`.
            (None, Handler::InvokeChaincode) => Err(texts::NO_VALID_TRANSACTION.to_string()),
            (None, Handler::Sync(_)) => Err(texts::NO_LEDGER_CONTEXT.to_string()),
            (Some(context), Handler::Sync(handler)) => handler(self, message, context),
            (Some(context), Handler::InvokeChaincode) => self.invoke_chaincode(message, context).await,
        };
        let mut stats = lock(&self.stats);
        *stats.requests.entry(kind.as_str_name().to_string()).or_default() += 1;
        match result {
            Ok(payload) => ChaincodeMessage {
                r#type: Type::Response as i32,
                payload,
                txid: message.txid.clone(),
                channel_id: message.channel_id.clone(),
                ..Default::default()
            },
            Err(cause) => {
                stats.error_replies += 1;
                let text = texts::request_failed(kind, &message.txid, &cause);
                error!(txid = %texts::short_txid(&message.txid), "Failed to handle {}. error: {text}", kind.as_str_name());
                ChaincodeMessage {
                    r#type: Type::Error as i32,
                    payload: Bytes::from(text),
                    txid: message.txid.clone(),
                    channel_id: message.channel_id.clone(),
                    ..Default::default()
                }
            }
        }
    }

    /// `HandleInvokeChaincode` (`core/chaincode/handler.go:1339-1421`): runs the called
    /// chaincode with the same txid on its own connection — on the caller's channel with the
    /// caller's simulation (its writes join the caller's write set), on another channel with a
    /// fresh simulation of that channel's ledger that is thrown away (a read-only call) — and
    /// answers the callee's COMPLETED or ERROR message, marshaled.
    async fn invoke_chaincode(&self, message: &ChaincodeMessage, context: &Arc<TxContext>) -> Result<Bytes, String> {
        use prost::Message as _;
        let spec = ccaas_protos::protos::ChaincodeSpec::decode(message.payload.clone())
            .map_err(|e| texts::unmarshal_failed(&e))?;
        // The peer dereferences the chaincode id unchecked: a missing one panics the handler.
        let target = spec.chaincode_id.ok_or(texts::PANIC_DURING_EXECUTION)?.name;
        let (name, channel) = parse_name(&target);
        let channel_id = channel.filter(|c| !c.is_empty()).unwrap_or_else(|| context.key.channel_id.clone());
        let mut input = spec.input.unwrap_or_default();
        let Some(host) = self.node.chaincode(&name) else {
            return Err(texts::chaincode_not_found(&channel_id, &name));
        };
        input.decorations = context.decorations.clone();
        let same_channel = channel_id == context.key.channel_id;
        let (ledger, snapshot, sim) = if same_channel {
            (Arc::clone(&context.ledger), context.snapshot, context.shared_sim())
        } else {
            let ledger = self.node.ledger(&channel_id);
            let height = ledger.height();
            (ledger, height, Arc::new(Mutex::new(Simulation::default())))
        };
        let params = TxParams {
            key: TxKey { channel_id, tx_id: context.key.tx_id.clone() },
            namespace: name,
            is_init: input.is_init,
            creator: context.creator.clone(),
            signed_proposal: context.signed_proposal.clone(),
            decorations: context.decorations.clone(),
            ledger,
            snapshot,
            sim,
        };
        self.check_invocation(&params).map_err(|cause| texts::callee_invalid_invocation(&cause))?;
        let reply =
            host.execute(CalleeCall { params, input }).await.map_err(|cause| texts::callee_execute_failed(&cause))?;
        Ok(Bytes::from(reply.encode_to_vec()))
    }

    // ------------------------------------------------------------------ transactions

    /// Decides INIT or TRANSACTION the way `CheckInvocation` does
    /// (`core/chaincode/chaincode_support.go:223-267`). For a chaincode defined with
    /// `--init-required`, the simulation reads the reserved initialized key (a read the MVCC check
    /// validates); an INIT writes it with the definition's version, so the write set of a
    /// successful INIT holds it and a second INIT of the same version fails.
    pub(crate) fn check_invocation(&self, params: &TxParams) -> Result<(), String> {
        let name = &params.namespace;
        let needs_initialization = match self.node.init_required(name) {
            None => None,
            Some(version) => {
                let found = params.ledger.get_at(name, texts::INITIALIZED_KEY, params.snapshot);
                let mut sim = lock(&params.sim);
                let key = (name.clone(), String::new(), texts::INITIALIZED_KEY.to_string());
                sim.reads.insert(key, found.as_ref().map(|(_, v)| *v));
                let initialized = found.is_some_and(|(value, _)| value == version.as_bytes());
                Some((!initialized, version))
            }
        };
        match (params.is_init, needs_initialization) {
            (true, None) => Err(texts::init_not_required(name)),
            (true, Some((false, _))) => Err(texts::already_initialized(name)),
            (true, Some((true, version))) => {
                let mut sim = lock(&params.sim);
                let key = (name.clone(), String::new(), texts::INITIALIZED_KEY.to_string());
                sim.writes.insert(key, Some(Bytes::from(version)));
                sim.write_performed = true;
                Ok(())
            }
            (false, Some((true, _))) => Err(texts::not_initialized(name)),
            (false, _) => Ok(()),
        }
    }

    /// Creates a transaction's context (`TransactionContexts.Create`): fails if (channel, txid)
    /// is already executing.
    pub(crate) fn begin_transaction(
        &self,
        params: TxParams,
    ) -> Result<(Arc<TxContext>, oneshot::Receiver<ChaincodeMessage>), String> {
        let mut contexts = lock(&self.contexts);
        if contexts.contains_key(&params.key) {
            return Err(texts::txid_exists(&params.key.tx_id, &params.key.channel_id));
        }
        let key = params.key.clone();
        let (context, rx) = TxContext::new(params);
        let context = Arc::new(context);
        contexts.insert(key, Arc::clone(&context));
        lock(&self.stats).transactions_started += 1;
        Ok((context, rx))
    }

    /// Hands COMPLETED or ERROR to its transaction and closes its iterators (`Notify`,
    /// `core/chaincode/handler.go:573-583`). A message for no running transaction is dropped.
    fn notify(&self, message: ChaincodeMessage) -> bool {
        let key = TxKey::of(&message);
        let Some(context) = lock(&self.contexts).get(&key).cloned() else {
            debug!(txid = %key.tx_id, channel = %key.channel_id, "notifier Txid does not exist; message dropped");
            return false;
        };
        let delivered = context.notify(message);
        self.close_iterators(&context);
        delivered
    }

    fn close_iterators(&self, context: &TxContext) {
        let closed = {
            let mut iterators = context.iterators();
            let n = iterators.len();
            iterators.clear();
            n
        };
        lock(&self.stats).iterators_closed_at_completion += closed as u64;
    }

    /// Removes the transaction's context (`TransactionContexts.Delete`) and returns what it
    /// simulated.
    pub(crate) fn end_transaction(&self, context: &Arc<TxContext>) -> SimulationResults {
        lock(&self.contexts).remove(&context.key);
        self.close_iterators(context);
        let results = context.sim().results();
        results
    }

    /// Whether this peer stores the private values of `collection` of `namespace` (its org is a
    /// member; it stores the hashes of every collection).
    pub fn stores_private_data(&self, namespace: &str, collection: &str) -> bool {
        self.node.collection(namespace, collection).is_some_and(|c| c.is_member(&self.config.peer_msp_id))
    }

    /// Commits a transaction's simulation results to `ledger`, after the validator's checks of
    /// its point reads and range queries when [`PeerConfig::validate_mvcc`] is on.
    pub(crate) fn commit(
        &self,
        ledger: &Ledger,
        tx_id: &str,
        timestamp: Timestamp,
        results: &SimulationResults,
    ) -> Result<(), Conflict> {
        let read_set = self
            .config
            .validate_mvcc
            .then_some(ReadSet { reads: &results.reads, range_queries: &results.range_queries });
        let stores = |namespace: &str, collection: &str| self.stores_private_data(namespace, collection);
        let committed = ledger
            .commit_tx(tx_id, timestamp, read_set, &results.writes, &results.metadata_writes, &stores)
            .map(|_| ());
        if committed.is_ok() {
            lock(&self.stats).transactions_committed += 1;
        }
        committed
    }

    pub(crate) fn new_iterator_id(&self) -> String {
        let n = self.next_iterator.fetch_add(1, Ordering::Relaxed);
        // Shaped like the peer's UUIDs (util.GenerateUUID), unique per connection.
        format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", n, (n >> 32) & 0xffff, n & 0xfff, (n >> 12) & 0xfff, n)
    }

    pub(crate) fn record_iterator(&self, opened: bool, exhausted: bool) {
        let mut stats = lock(&self.stats);
        if opened {
            stats.iterators_opened += 1;
        }
        if exhausted {
            stats.iterators_exhausted += 1;
        }
    }

    pub(crate) fn record_closed_by_chaincode(&self) {
        lock(&self.stats).iterators_closed_by_chaincode += 1;
    }
}

/// A registered request: answering it releases the transaction for its next request.
pub struct Ticket {
    model: Arc<PeerModel>,
    message: ChaincodeMessage,
    kind: Type,
    key: TxKey,
    handler: Handler,
    released: bool,
}

impl Ticket {
    /// The request's type.
    pub fn kind(&self) -> Type {
        self.kind
    }

    /// The request.
    pub fn message(&self) -> &ChaincodeMessage {
        &self.message
    }

    /// Answers the request: RESPONSE or ERROR. The transaction is released *before* the reply is
    /// returned, as the peer removes it from its active set before sending.
    pub async fn process(mut self) -> ChaincodeMessage {
        drop(self.model.gate.read().await);
        if let Some(delay) = self.model.config.response_delay {
            tokio::time::sleep(delay).await;
        }
        let reply = self.model.answer(&self.message, self.kind, self.handler).await;
        self.model.release(&self.key);
        self.released = true;
        reply
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.released {
            self.model.release(&self.key);
        }
    }
}

/// `ParseName` (`core/chaincode/handler.go:322-336`): `name[:version][/channel]`; the version is
/// ignored.
fn parse_name(target: &str) -> (String, Option<String>) {
    let (name, channel) = match target.split_once('/') {
        Some((name, channel)) => (name, Some(channel.to_string())),
        None => (target, None),
    };
    let name = name.split_once(':').map(|(n, _)| n).unwrap_or(name);
    (name.to_string(), channel)
}

/// Locks `mutex`, ignoring poisoning (a panicking chaincode task must not wedge the model).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
