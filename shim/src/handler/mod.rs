//! The protocol handler: one task per peer connection.
//!
//! The chaincode speaks first (REGISTER with its package ID), waits for REGISTERED and READY,
//! then runs every INIT and TRANSACTION as its own task. Replies to stub requests are routed by
//! (channel id, txid) through a map owned by the connection task alone, so routing takes no lock.
//! A transaction that fails or panics becomes an error response for that transaction only.

pub(crate) mod link;
pub(crate) mod transaction;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeId, ChaincodeMessage};
use futures_core::Stream;
use prost::Message;
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn, Instrument};

use crate::burst::BurstLog;
use crate::drain::Drain;
use crate::metrics::{Limit, Metrics};
use crate::server::accept::{Closed, PeerConnection};
use crate::server::Limits;
use crate::server::{GrpcCode, GrpcStatus};
use link::{describe_type, Outbound};
use transaction::DynChaincode;

/// How many messages may wait to be written to one peer connection.
pub(crate) const OUTBOUND_CAPACITY: usize = 1024;

/// What the peer advertised in READY (Fabric 3.1 `ChaincodeAdditionalParams`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCapabilities {
    /// The peer accepts WRITE_BATCH_STATE.
    pub use_write_batch: bool,
    /// The most records per WRITE_BATCH_STATE message.
    pub max_size_write_batch: u32,
    /// The peer accepts GET_STATE_MULTIPLE.
    pub use_get_multiple_keys: bool,
    /// The most keys per GET_STATE_MULTIPLE message.
    pub max_size_get_multiple_keys: u32,
}

/// The Go shim's floor for advertised batch sizes.
const MIN_BATCH_SIZE: u32 = 100;

impl PeerCapabilities {
    /// Reads READY's payload. An empty or unreadable payload (a peer before 3.1) advertises nothing.
    pub fn from_ready_payload(payload: &[u8]) -> Self {
        let Ok(params) = ChaincodeAdditionalParams::decode(payload) else {
            return PeerCapabilities::default();
        };
        PeerCapabilities {
            use_write_batch: params.use_write_batch,
            max_size_write_batch: params.max_size_write_batch.max(MIN_BATCH_SIZE),
            use_get_multiple_keys: params.use_get_multiple_keys,
            max_size_get_multiple_keys: params.max_size_get_multiple_keys.max(MIN_BATCH_SIZE),
        }
    }
}

/// Why a connection ended other than by the peer closing it.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The peer sent a message the protocol does not allow in the current state.
    #[error("the peer sent {got} while the chaincode was {state}, which the protocol does not allow; the stream ends")]
    UnexpectedMessage {
        /// The message type received.
        got: String,
        /// The handler's state.
        state: &'static str,
    },
    /// The transport failed.
    #[error("the connection to the peer broke ({}); the peer dials again when it next needs the chaincode", .0.message())]
    Transport(#[from] GrpcStatus),
    /// The chaincode could not write to the peer any more.
    #[error("the stream to the peer closed; the peer dials again when it next needs the chaincode")]
    OutboundClosed,
}

/// The peer's messages, as a connection reads them: from HTTP/2, or in process. Boxed once per
/// connection, so the handler is compiled once for both.
pub(crate) type Inbound = Box<dyn Stream<Item = Result<ChaincodeMessage, GrpcStatus>> + Unpin + Send>;

/// Routing key of a transaction: replies are matched on (channel id, txid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TxKey {
    channel_id: String,
    txid: String,
}

impl TxKey {
    /// The transaction a message belongs to.
    fn of(message: &ChaincodeMessage) -> Self {
        TxKey { channel_id: message.channel_id.clone(), txid: message.txid.clone() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Created,
    Established,
    Ready,
}

impl State {
    fn describe(self) -> &'static str {
        match self {
            State::Created => "waiting for REGISTERED",
            State::Established => "waiting for READY",
            State::Ready => "ready",
        }
    }
}

/// Settings every connection of a server shares.
#[derive(Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) chaincode_id: String,
    pub(crate) drain: Drain,
    pub(crate) peer_msp_id: Option<Arc<str>>,
    pub(crate) auto_write_batch: bool,
    pub(crate) limits: Limits,
    /// Transactions refused at the per-connection limit, logged once per burst.
    pub(crate) refused_transactions: Arc<BurstLog>,
    /// Connections whose REGISTER the peer refused, logged once per burst.
    pub(crate) refused_registers: Arc<BurstLog>,
    /// The server's metrics (nothing unless the `metrics` feature is on and an address is set).
    pub(crate) metrics: Metrics,
}

impl ConnectionSettings {
    /// The defaults of a [`ChaincodeService`](crate::ChaincodeService) that registers as `chaincode_id`.
    pub(crate) fn new(chaincode_id: String, drain: Drain) -> Self {
        ConnectionSettings {
            chaincode_id,
            drain,
            peer_msp_id: None,
            auto_write_batch: true,
            limits: Limits::default(),
            refused_transactions: Arc::new(BurstLog::default()),
            refused_registers: Arc::new(BurstLog::default()),
            metrics: Metrics::default(),
        }
    }
}

/// What every transaction of one connection shares: the peer's capabilities and settings.
#[derive(Debug, Default)]
pub(crate) struct TxEnv {
    pub(crate) capabilities: PeerCapabilities,
    pub(crate) peer_msp_id: Option<Arc<str>>,
    /// Open a write batch at the start of every transaction when the peer supports it.
    pub(crate) auto_write_batch: bool,
    /// How long a transaction may run before it is cancelled.
    pub(crate) transaction_timeout: Duration,
}

/// Where the connection delivers a transaction's replies.
struct Route {
    replies: mpsc::Sender<link::Reply>,
    /// Requests of the transaction sent and not yet answered; a reply when there is none is
    /// unsolicited (e.g. a peer sending RESPONSE twice) and dropped, so it is never taken for
    /// the answer to the transaction's next request.
    awaiting: Arc<AtomicUsize>,
}

/// Runs the protocol on one stream until the peer closes it, an error ends it, or the drain
/// closes connections. Transactions still running when it returns keep running and write their
/// COMPLETED if the stream is still open. `connection` (absent in process) learns the handshake's
/// progress: REGISTER sent, then READY (which ends its handshake deadline, or closes it when the
/// server is at its limit of ready streams).
pub(crate) async fn run_connection(
    chaincode: Arc<dyn DynChaincode>,
    settings: Arc<ConnectionSettings>,
    mut inbound: Inbound,
    outbound: Outbound,
    connection: Option<PeerConnection>,
) -> Result<(), ConnectionError> {
    let register = ChaincodeMessage {
        r#type: Type::Register as i32,
        payload: Bytes::from(ChaincodeId { name: settings.chaincode_id.clone(), ..Default::default() }.encode_to_vec()),
        ..Default::default()
    };
    outbound.send(register).await.map_err(|_| ConnectionError::OutboundClosed)?;
    debug!(chaincode_id = %settings.chaincode_id, "sent REGISTER");
    if let Some(connection) = &connection {
        connection.registering();
    }

    let mut state = State::Created;
    // Counts the stream as ready from READY until this function returns.
    let mut _ready_gauge = None;
    let mut env = Arc::new(TxEnv::default());
    // foldhash instead of SipHash: the keys are a channel name and a 64-character txid, hashed
    // three times per transaction; SipHash cost 1,400 instructions of a ReadAsset's 47,000.
    let mut routes: HashMap<TxKey, Route, foldhash::fast::RandomState> = HashMap::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<TxKey>();

    loop {
        let message = tokio::select! {
            biased;
            // A finished transaction's route is removed before its COMPLETED can be answered.
            Some(key) = done_rx.recv() => {
                routes.remove(&key);
                continue;
            }
            _ = settings.drain.closed() => {
                info!("closing the peer connection for shutdown");
                return Ok(());
            }
            next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut inbound).poll_next(cx)) => match next {
                None if state == State::Created => {
                    register_refused(&settings, connection.as_ref(), "ended the connection without answering it");
                    return Ok(());
                }
                Some(Err(status)) if state == State::Created => {
                    let how = match connection.as_ref().map(PeerConnection::closed_by_server) {
                        Some(Closed::Deadline) => format!(
                            "did not answer it within {:?}",
                            settings.limits.handshake_timeout
                        ),
                        _ => format!("ended the connection without answering it ({})", status.message()),
                    };
                    register_refused(&settings, connection.as_ref(), &how);
                    return Ok(());
                }
                None => {
                    info!(in_flight = routes.len(), "the peer closed the connection");
                    return Ok(());
                }
                Some(Err(status)) if status.code() == GrpcCode::OutOfRange => {
                    settings.metrics.limit_hit(Limit::MessageSize);
                    warn!(
                        limit = crate::MAX_MESSAGE_SIZE, in_flight = routes.len(), error = %status.message(),
                        "the peer sent a message over the message size limit; the stream cannot go on past it"
                    );
                    return Err(ConnectionError::Transport(status));
                }
                Some(Err(status)) => return Err(ConnectionError::Transport(status)),
                Some(Ok(message)) => message,
            },
        };

        let kind = Type::try_from(message.r#type).ok();
        if kind == Some(Type::Keepalive) {
            outbound.send(message).await.map_err(|_| ConnectionError::OutboundClosed)?;
            continue;
        }
        match (state, kind) {
            (State::Created, Some(Type::Error)) => {
                let text = String::from_utf8_lossy(&message.payload);
                register_refused(&settings, connection.as_ref(), &format!("answered it with ERROR: {text}"));
                return Ok(());
            }
            (State::Created, Some(Type::Registered)) => {
                state = State::Established;
                debug!("peer accepted REGISTER");
            }
            (State::Established, Some(Type::Ready)) => {
                env = Arc::new(TxEnv {
                    capabilities: PeerCapabilities::from_ready_payload(&message.payload),
                    peer_msp_id: settings.peer_msp_id.clone(),
                    auto_write_batch: settings.auto_write_batch,
                    transaction_timeout: settings.limits.transaction_timeout,
                });
                if connection.as_ref().is_some_and(|c| c.ready().is_err()) {
                    return Ok(()); // Logged by `ready`.
                }
                state = State::Ready;
                _ready_gauge = Some(settings.metrics.connection_ready());
                info!(capabilities = ?env.capabilities, "connection ready");
            }
            (State::Ready, Some(kind @ (Type::Init | Type::Transaction))) => {
                let key = TxKey::of(&message);
                if routes.contains_key(&key) {
                    warn!(
                        txid = %transaction::short_txid(&key.txid), channel = %key.channel_id,
                        "refusing a transaction whose id is already running on this connection"
                    );
                    let text = format!("[{}] channel exists", transaction::short_txid(&key.txid));
                    outbound
                        .send(transaction::error_message(&key, text))
                        .await
                        .map_err(|_| ConnectionError::OutboundClosed)?;
                    continue;
                }
                if settings.drain.is_stopping() {
                    let text = "the chaincode server is shutting down; retry the transaction".to_string();
                    outbound
                        .send(transaction::error_message(&key, text))
                        .await
                        .map_err(|_| ConnectionError::OutboundClosed)?;
                    continue;
                }
                let limit = settings.limits.max_transactions_per_connection;
                if routes.len() >= limit {
                    settings.metrics.limit_hit(Limit::MaxTransactions);
                    if let Some(count) = settings.refused_transactions.record() {
                        warn!(
                            limit,
                            count,
                            txid = %transaction::short_txid(&key.txid),
                            channel = %key.channel_id,
                            "refusing transactions: a connection is at its limit of transactions in flight \
                             (CHAINCODE_MAX_TRANSACTIONS); count includes those not logged since the last line"
                        );
                    }
                    let text = format!(
                        "[{}] the chaincode is already running {limit} transactions on this connection \
                         (CHAINCODE_MAX_TRANSACTIONS); retry the transaction",
                        transaction::short_txid(&key.txid)
                    );
                    outbound
                        .send(transaction::error_message(&key, text))
                        .await
                        .map_err(|_| ConnectionError::OutboundClosed)?;
                    continue;
                }
                // Capacity 1 is enough: a transaction has at most one request outstanding, and
                // unsolicited replies never reach the queue.
                let (reply_tx, reply_rx) = mpsc::channel(1);
                let awaiting = Arc::new(AtomicUsize::new(0));
                routes.insert(key.clone(), Route { replies: reply_tx, awaiting: Arc::clone(&awaiting) });
                let link = link::TxLink::new(
                    key.channel_id.clone(),
                    key.txid.clone(),
                    outbound.clone(),
                    reply_rx,
                    awaiting,
                    settings.metrics.clone(),
                );
                // Every log line of the transaction, the chaincode's own included, names it.
                let span = tracing::info_span!(
                    "tx",
                    txid = %transaction::short_txid(&key.txid),
                    channel = %key.channel_id
                );
                let task = transaction::run(
                    Arc::clone(&chaincode),
                    kind == Type::Init,
                    message,
                    key,
                    link,
                    done_tx.clone(),
                    Arc::clone(&env),
                )
                .instrument(span);
                settings.drain.spawn_transaction(task);
            }
            (State::Ready, Some(Type::Response | Type::Error)) => {
                let key = TxKey::of(&message);
                match routes.get(&key) {
                    // Never let one transaction stall the others: a reply nobody asked for is
                    // dropped, and the queue has room for the one that was.
                    Some(route) if route.awaiting.load(Ordering::Acquire) == 0 => {
                        warn!(
                            txid = %transaction::short_txid(&key.txid), channel = %key.channel_id,
                            "dropping a reply from the peer: the transaction is not waiting for one"
                        )
                    }
                    Some(route) => {
                        route.awaiting.fetch_sub(1, Ordering::AcqRel);
                        match route.replies.try_send(link::Reply { kind: message.r#type, payload: message.payload }) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => {
                                warn!(
                                    txid = %transaction::short_txid(&key.txid), channel = %key.channel_id,
                                    "dropping a reply from the peer: the transaction has not taken the previous one"
                                )
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => {
                                routes.remove(&key);
                            }
                        }
                    }
                    None => {
                        warn!(
                            txid = %transaction::short_txid(&key.txid), channel = %key.channel_id,
                            "dropping a reply from the peer for a transaction not running on this connection"
                        )
                    }
                }
            }
            (state, _) => {
                let got = describe_type(message.r#type);
                let text = format!(
                    "[{}] Chaincode handler cannot handle message ({got}) while in state: {}",
                    transaction::short_txid(&message.txid),
                    state.describe()
                );
                let reply = ChaincodeMessage {
                    r#type: Type::Error as i32,
                    payload: Bytes::from(text),
                    txid: message.txid,
                    ..Default::default()
                };
                let _ = outbound.send(reply).await;
                return Err(ConnectionError::UnexpectedMessage { got, state: state.describe() });
            }
        }
    }
}

/// Logs that the peer did not accept the chaincode's REGISTER (`how` it showed it), unless the
/// server closed the connection itself for another reason (to admit another, or at shutdown).
fn register_refused(settings: &ConnectionSettings, connection: Option<&PeerConnection>, how: &str) {
    if settings.drain.is_stopping() || connection.is_some_and(|c| c.closed_by_server() == Closed::Evicted) {
        return;
    }
    let id = &settings.chaincode_id;
    if let Some(count) = settings.refused_registers.record() {
        error!(
            chaincode_id = %id, remote = ?connection.map(PeerConnection::remote), count,
            "the peer refused chaincode ID {id}: it got REGISTER and {how}. A peer accepts only the package ID \
             of the chaincode it is launching, so CHAINCODE_ID must be the installed package ID (`ccaas-package id \
             PACKAGE` prints it); count includes those not logged since the last line"
        );
    }
}
