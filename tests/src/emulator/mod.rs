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

mod builder;
mod identity;
mod proposal;
mod transport;
mod tx;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeInput, ChaincodeMessage};
use futures::StreamExt;
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, error, info};

pub use builder::EmulatorBuilder;
pub use identity::{Identity, IdentityBuilder};
pub use transport::{Target, TlsOptions, MAX_MESSAGE_SIZE};
pub use tx::{CommitStatus, TxBuilder, TxOutcome};

use crate::error::EmulatorError;
use crate::model::ledger::Ledger;
use crate::model::{
    Admission, CalleeCall, ChaincodeHost, ModelStats, PeerModel, SimulationResults, TxParams, Violation,
};
use crate::transcript::{Direction, TranscriptEntry, TranscriptHook};

/// A message type by name, or its number when this build does not know it.
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
    sign_proposals: bool,
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
        A: AsRef<[u8]>,
    {
        self.transaction(function.to_string()).args(args).submit().await
    }

    /// Evaluates a transaction: executes it and commits nothing.
    pub async fn query<I, A>(&self, function: &str, args: I) -> Result<TxOutcome, EmulatorError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
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
}
