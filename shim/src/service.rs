//! The gRPC face of the handler: `protos.Chaincode/Connect`, and the same protocol in-process.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use ccaas_protos::protos::ChaincodeMessage;
use futures_core::Stream;
use h2::server::SendResponse;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::drain::Drain;
use crate::handler::transaction::DynChaincode;
use crate::handler::{run_connection, ConnectionSettings, Inbound, OUTBOUND_CAPACITY};
use crate::server::accept::PeerConnection;
use crate::server::grpc::{self, GrpcStatus, Messages, BATCH};
use crate::server::Limits;
use crate::Chaincode;

/// The service behind `protos.Chaincode/Connect`: every call is one peer connection. A
/// [`Server`](crate::server::Server) serves it; [`connect_in_process`](Self::connect_in_process)
/// drives it without a network.
pub struct ChaincodeService<C> {
    chaincode: Arc<C>,
    settings: Arc<ConnectionSettings>,
}

impl<C> Clone for ChaincodeService<C> {
    fn clone(&self) -> Self {
        ChaincodeService { chaincode: Arc::clone(&self.chaincode), settings: Arc::clone(&self.settings) }
    }
}

impl<C: Chaincode> ChaincodeService<C> {
    /// A service that registers as `chaincode_id` (the package ID the peer launches).
    pub fn new(chaincode: Arc<C>, chaincode_id: impl Into<String>, drain: Drain) -> Self {
        ChaincodeService { chaincode, settings: Arc::new(ConnectionSettings::new(chaincode_id.into(), drain)) }
    }

    /// The MSP id of the peer that runs this chaincode (`CORE_PEER_LOCALMSPID`), for
    /// [`ChaincodeStub::peer_msp_id`](crate::ChaincodeStub::peer_msp_id).
    pub fn with_peer_msp_id(mut self, msp_id: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.settings).peer_msp_id = Some(Arc::from(msp_id.into()));
        self
    }

    /// Whether every transaction collects its writes into one batch when the peer advertises
    /// Fabric 3.1 write batching. **On by default**: a transaction writing 10 keys runs 2 to 3
    /// times faster (one WRITE_BATCH_STATE instead of 10 PUT_STATE round trips; figures and the
    /// reasoning behind the default in `docs/benchmarks.md`), and its results are the same: the
    /// batch is sent before anything that depends on the transaction's writes (a call to another
    /// chaincode, a paginated or private data query) and before the transaction completes,
    /// whatever its status, as the Go shim sends an open batch.
    ///
    /// What changes is when a write the peer refuses is reported. Refusals the shim can know
    /// (an empty key, a write after a paginated or private data query, private data in Init)
    /// still fail the `put_*` call. Refusals only the peer knows (a private write to a collection
    /// this org may not write, a key or value CouchDB refuses) fail the transaction when the batch
    /// is sent, instead of the `put_*` call; see
    /// [`ChaincodeStub::put_state`](crate::ChaincodeStub::put_state). Turn batching off for
    /// chaincode that recovers from such refusals (or call
    /// [`ChaincodeStub::finish_write_batch`](crate::ChaincodeStub::finish_write_batch) in the
    /// transactions that do); a transaction can still open a batch itself with
    /// [`ChaincodeStub::start_write_batch`](crate::ChaincodeStub::start_write_batch).
    pub fn with_automatic_write_batching(mut self, enabled: bool) -> Self {
        Arc::make_mut(&mut self.settings).auto_write_batch = enabled;
        self
    }

    /// The most transactions one connection may run at once and how long each may run (the
    /// connection limits of [`Limits`] apply to a [`Server`](crate::server::Server)'s listener,
    /// not to the service).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        Arc::make_mut(&mut self.settings).limits = limits;
        self
    }

    /// Serves one connection over in-memory channels, with no gRPC or sockets in between.
    ///
    /// Send the peer's messages on the returned sender; read the chaincode's from the receiver.
    /// This is how the test kit's in-process emulator drives a chaincode.
    pub fn connect_in_process(&self) -> InProcessConnection {
        self.connections().connect_in_process()
    }

    /// The service's connections, served by code that does not depend on the chaincode's type.
    fn connections(&self) -> Connections {
        Connections {
            chaincode: Arc::clone(&self.chaincode) as Arc<dyn DynChaincode>,
            settings: Arc::clone(&self.settings),
        }
    }
}

/// What serves a [`ChaincodeService`]'s connections, with the chaincode as a trait object: this
/// code is compiled once, in the shim, whatever the chaincode.
#[derive(Clone)]
pub(crate) struct Connections {
    chaincode: Arc<dyn DynChaincode>,
    settings: Arc<ConnectionSettings>,
}

impl Connections {
    /// Connections that register as `settings.chaincode_id`.
    pub(crate) fn new(chaincode: Arc<dyn DynChaincode>, settings: ConnectionSettings) -> Self {
        Connections { chaincode, settings: Arc::new(settings) }
    }

    /// See [`ChaincodeService::connect_in_process`].
    fn connect_in_process(&self) -> InProcessConnection {
        let (to_chaincode, from_peer) = mpsc::channel::<ChaincodeMessage>(OUTBOUND_CAPACITY);
        let from_chaincode = self.spawn_connection(Box::new(InProcess(from_peer)), None);
        InProcessConnection { to_chaincode, from_chaincode }
    }

    /// Serves one `Connect` call: the handler reads `inbound`, and its messages are sent on the
    /// response as they come, several to a DATA frame when they are ready together (up to 32 KiB,
    /// as tonic did), each frame once flow control lets it go. The response ends with status OK
    /// when the handler and its transactions are done with the stream (`OUT_OF_RANGE` after a
    /// message over the size limit, which the handler refuses before sending, as tonic ended it),
    /// and at once when the client resets the stream.
    pub(crate) async fn serve_connect(
        &self,
        inbound: Messages<ChaincodeMessage>,
        mut respond: SendResponse<Bytes>,
        connection: PeerConnection,
    ) {
        info!(peer = %connection.remote(), "peer connected");
        let mut from_chaincode = self.spawn_connection(Box::new(inbound), Some(connection));
        let Ok(mut stream) = grpc::start(&mut respond) else { return };
        let mut buf = BytesMut::new();
        let status = loop {
            let next = tokio::select! {
                next = from_chaincode.recv() => next,
                () = grpc::reset(&mut stream) => return debug!("the peer reset its chaincode stream"),
            };
            let Some(message) = next else { break grpc::ok() };
            let mut failed = grpc::encode(&message, &mut buf).err();
            while failed.is_none() && buf.len() < BATCH {
                let Ok(message) = from_chaincode.try_recv() else { break };
                failed = grpc::encode(&message, &mut buf).err();
            }
            if !buf.is_empty() && grpc::send(&mut stream, buf.split().freeze()).await.is_err() {
                return;
            }
            if let Some(status) = failed {
                break status;
            }
        };
        grpc::finish(stream, &status);
    }

    /// Runs the handler on `inbound` in its own task; returns the receiver of its messages.
    fn spawn_connection(
        &self,
        inbound: Inbound,
        connection: Option<PeerConnection>,
    ) -> mpsc::Receiver<ChaincodeMessage> {
        let (outbound, from_chaincode) = mpsc::channel(OUTBOUND_CAPACITY);
        let chaincode = Arc::clone(&self.chaincode);
        let settings = Arc::clone(&self.settings);
        tokio::spawn(async move {
            match run_connection(chaincode, settings, inbound, outbound, connection).await {
                Ok(()) => info!("peer connection ended"),
                Err(e) => warn!(error = %e, "peer connection ended with an error"),
            }
        });
        from_chaincode
    }
}

/// Both ends of an in-process connection, seen from the peer's side.
pub struct InProcessConnection {
    /// Messages to the chaincode (what a peer would send).
    pub to_chaincode: mpsc::Sender<ChaincodeMessage>,
    /// Messages from the chaincode.
    pub from_chaincode: mpsc::Receiver<ChaincodeMessage>,
}

/// The peer's messages of an in-process connection, as the handler reads a stream.
struct InProcess(mpsc::Receiver<ChaincodeMessage>);

impl Stream for InProcess {
    type Item = Result<ChaincodeMessage, GrpcStatus>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|message| message.map(Ok))
    }
}
