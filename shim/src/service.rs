//! The gRPC face of the handler: `protos.Chaincode/Connect`, and the same protocol in-process.

use std::pin::Pin;
use std::sync::Arc;

use ccaas_protos::protos::{chaincode_server, ChaincodeMessage};
use futures_core::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, warn};

use crate::burst::BurstLog;
use crate::drain::Drain;
use crate::handler::{run_connection, ConnectionSettings, OUTBOUND_CAPACITY};
use crate::metrics::Metrics;
use crate::server::accept::PeerConnection;
use crate::server::Limits;
use crate::Chaincode;

/// The tonic service behind `protos.Chaincode/Connect`: every call is one peer connection.
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
        let settings = Arc::new(ConnectionSettings {
            chaincode_id: chaincode_id.into(),
            drain,
            peer_msp_id: None,
            auto_write_batch: true,
            limits: Limits::default(),
            refused_transactions: Arc::new(BurstLog::default()),
            refused_registers: Arc::new(BurstLog::default()),
            metrics: Metrics::default(),
        });
        ChaincodeService { chaincode, settings }
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

    /// Counts into the server's metrics.
    pub(crate) fn with_metrics(mut self, metrics: Metrics) -> Self {
        Arc::make_mut(&mut self.settings).metrics = metrics;
        self
    }

    /// Wraps the service as a tonic gRPC service (for a tonic router, say), with Fabric's 100 MiB
    /// message limits.
    pub fn into_server(self) -> chaincode_server::ChaincodeServer<Self> {
        chaincode_server::ChaincodeServer::new(self)
            .max_decoding_message_size(crate::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(crate::MAX_MESSAGE_SIZE)
    }

    /// Serves one connection over in-memory channels, with no gRPC or sockets in between.
    ///
    /// Send the peer's messages on the returned sender; read the chaincode's from the receiver.
    /// This is how the test kit's in-process emulator drives a chaincode.
    pub fn connect_in_process(&self) -> InProcessConnection {
        let (to_chaincode, from_peer) = mpsc::channel::<ChaincodeMessage>(OUTBOUND_CAPACITY);
        let (outbound, from_chaincode) = mpsc::channel(OUTBOUND_CAPACITY);
        let inbound = ReceiverStream::new(from_peer).map(Ok::<_, Status>);
        self.spawn_connection(inbound, outbound, None);
        InProcessConnection { to_chaincode, from_chaincode }
    }

    fn spawn_connection<S>(
        &self,
        inbound: S,
        outbound: mpsc::Sender<Result<ChaincodeMessage, Status>>,
        connection: Option<PeerConnection>,
    ) where
        S: Stream<Item = Result<ChaincodeMessage, Status>> + Unpin + Send + 'static,
    {
        let chaincode = Arc::clone(&self.chaincode);
        let settings = Arc::clone(&self.settings);
        tokio::spawn(async move {
            match run_connection(chaincode, settings, inbound, outbound, connection).await {
                Ok(()) => info!("peer connection ended"),
                Err(e) => warn!(error = %e, "peer connection ended with an error"),
            }
        });
    }
}

/// Both ends of an in-process connection, seen from the peer's side.
pub struct InProcessConnection {
    /// Messages to the chaincode (what a peer would send).
    pub to_chaincode: mpsc::Sender<ChaincodeMessage>,
    /// Messages from the chaincode.
    pub from_chaincode: mpsc::Receiver<Result<ChaincodeMessage, Status>>,
}

type ConnectStream = Pin<Box<dyn Stream<Item = Result<ChaincodeMessage, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl<C: Chaincode> chaincode_server::Chaincode for ChaincodeService<C> {
    type ConnectStream = ConnectStream;

    async fn connect(
        &self,
        request: Request<Streaming<ChaincodeMessage>>,
    ) -> Result<Response<Self::ConnectStream>, Status> {
        // Set by the server's accept loop; absent when the service runs under another server.
        let connection = request.extensions().get::<PeerConnection>().cloned();
        let remote = connection.as_ref().map(PeerConnection::remote);
        info!(peer = ?remote, "peer connected");
        let (outbound, from_chaincode) = mpsc::channel(OUTBOUND_CAPACITY);
        self.spawn_connection(request.into_inner(), outbound, connection);
        Ok(Response::new(Box::pin(ReceiverStream::new(from_chaincode))))
    }
}
