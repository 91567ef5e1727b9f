//! [`EmulatorBuilder`]: the emulated peer's configuration, and the handshake that opens a
//! [`PeerEmulator`] on a connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccaas_protos::protos::{chaincode_message::Type, ChaincodeAdditionalParams, ChaincodeId, ChaincodeMessage};
use ccaas_shim::{Chaincode, ChaincodeService, Drain};
use futures::{Stream, StreamExt};
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tracing::{error, info};

use super::identity::Identity;
use super::transport::{self, Connection, Target};
use super::{describe_type, keepalive_loop, read_loop, Inner, PeerEmulator, Shared};
use crate::error::EmulatorError;
use crate::model::ledger::Ledger;
use crate::model::{texts, ChaincodeHost, CollectionConfig, PeerConfig, PeerModel, PeerNode, StateDatabase};
use crate::transcript::{Direction, TranscriptHook};

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
    sign_proposals: bool,
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
            sign_proposals: true,
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

    /// Whether proposals carry their creator's signature (default true, for identities that hold
    /// a key). Signing is the client's work, not the peer's: the benchmarks turn it off so that
    /// the emulator spends its CPU on the protocol only.
    pub fn sign_proposals(mut self, sign: bool) -> Self {
        self.sign_proposals = sign;
        self
    }

    /// Defines this chaincode with `--init-required` at definition version `version`, as an
    /// entry of [`PeerConfig::init_required`] under the chaincode's name would: its first
    /// transaction must be an INIT ([`TxBuilder::init`](super::TxBuilder::init)), and only one INIT per version commits.
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
        self.connect_stream(connection.to_chaincode, ReceiverStream::new(connection.from_chaincode).map(Ok)).await
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
                error!("{}", texts::not_launching(&registered));
                return Err(EmulatorError::WrongChaincodeId { registered, expected: expected.clone() });
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
                sign_proposals: self.sign_proposals,
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
}
