//! The chaincode server: the gRPC endpoint the Fabric peer dials (chaincode-as-a-service).
//!
//! A [`Server`] serves `protos.Chaincode/Connect` and the standard gRPC health service
//! (`grpc.health.v1.Health`, for Kubernetes probes) on one port, plaintext, TLS or mutual TLS
//! (rustls; TLS 1.2 and 1.3, ALPN `h2`), and shuts down gracefully on SIGTERM or SIGINT.
//!
//! ```no_run
//! use ccaas_shim::server::Server;
//! use ccaas_shim::{Chaincode, ChaincodeStub, Response};
//!
//! struct Hello;
//!
//! impl Chaincode for Hello {
//!     async fn invoke(&self, _stub: &ChaincodeStub) -> Response {
//!         Response::success("hello")
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     // Reads CHAINCODE_SERVER_ADDRESS, CHAINCODE_ID, the TLS variables, ...
//!     let server = match Server::from_env(Hello) {
//!         Ok(server) => server,
//!         Err(e) => {
//!             eprintln!("configuration error: {e}");
//!             std::process::exit(2);
//!         }
//!     };
//!     // Serves until SIGTERM/SIGINT, then drains in-flight transactions and returns.
//!     if let Err(e) = server.serve().await {
//!         eprintln!("chaincode server failed: {e}");
//!         std::process::exit(1);
//!     }
//! }
//! ```
//!
//! # Environment variables
//!
//! [`Server::from_env`] (and [`ServerConfig::from_env`]) accept every convention in use by
//! Fabric's own shims and samples, so an existing deployment's environment works unchanged.
//! Values are trimmed; an empty value counts as unset. Booleans are read like Go's
//! `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`; anything else is
//! an error naming the variable.
//!
//! | setting | variables, first set wins | default |
//! |---|---|---|
//! | listen address | `CHAINCODE_SERVER_ADDRESS`, `CORE_CHAINCODE_ADDRESS` | `0.0.0.0:7052` |
//! | chaincode id (the package ID) | `CHAINCODE_ID`, `CORE_CHAINCODE_ID_NAME`, `CORE_CHAINCODE_ID` | none: startup error |
//! | peer MSP id ([`ChaincodeStub::peer_msp_id`](crate::ChaincodeStub::peer_msp_id)) | `CORE_PEER_LOCALMSPID` | unset |
//! | automatic write batching ([`ServerBuilder::automatic_write_batching`]) | `CHAINCODE_WRITE_BATCHING` | true |
//! | [`Limits::handshake_timeout`] (a duration: `10s`, `500ms`, `2m`, or seconds) | `CHAINCODE_HANDSHAKE_TIMEOUT` | 10 s |
//! | [`Limits::max_connections`] (connections in their handshake) | `CHAINCODE_MAX_CONNECTIONS` | 64 |
//! | [`Limits::max_ready_connections`] (ready chaincode streams) | `CHAINCODE_MAX_READY_CONNECTIONS` | 64 |
//! | [`Limits::max_transactions_per_connection`] | `CHAINCODE_MAX_TRANSACTIONS` | 1000 |
//! | [`Limits::transaction_timeout`] | `CHAINCODE_TRANSACTION_TIMEOUT` | 30 s |
//! | Prometheus metrics address ([`ServerBuilder::metrics_address`]; needs the `metrics` feature) | `CHAINCODE_METRICS_ADDRESS` | none: no metrics |
//!
//! The address is `host:port`; the host may be a name (`localhost:7052`, resolved once at
//! startup; of several addresses the first IPv4 one is used, as Go's `net.Listen` does) and may be
//! empty (`:7052` means `0.0.0.0:7052`). If the id variables
//! disagree, the first wins and a warning names both.
//!
//! ## TLS
//!
//! Three families of TLS variables are in use. They are tried in this order, and the **first
//! family that switches TLS on is used**; any other family that is also on is ignored with a
//! warning naming both, and an info line names the family and files used. A family that is off
//! (including an explicit `CHAINCODE_TLS_DISABLED=true` or `CORE_PEER_TLS_ENABLED=false`) only
//! switches itself off: it never vetoes another family. With no family on, the server is
//! plaintext.
//!
//! | precedence | family | TLS is on when | server key | server certificate | client CA (turns on mutual TLS) |
//! |---|---|---|---|---|---|
//! | 1 | fabric-samples (`chaincode-external`) | `CHAINCODE_TLS_DISABLED` is false (default true) | `CHAINCODE_TLS_KEY` | `CHAINCODE_TLS_CERT` | `CHAINCODE_CLIENT_CA_CERT` |
//! | 2 | contract-api (Go `contractapi`, Java) | `CORE_PEER_TLS_ENABLED` is true (default false) | `CORE_TLS_CLIENT_KEY_FILE`, or `CORE_TLS_CLIENT_KEY_PATH` † | `CORE_TLS_CLIENT_CERT_FILE`, or `CORE_TLS_CLIENT_CERT_PATH` † | `CORE_PEER_TLS_ROOTCERT_FILE` |
//! | 3 | Node (`fabric-chaincode-node server`) | any of its variables is set | `CORE_CHAINCODE_TLS_KEY_FILE`, or `CORE_CHAINCODE_TLS_KEY_PATH` † | `CORE_CHAINCODE_TLS_CERT_FILE`, or `CORE_CHAINCODE_TLS_CERT_PATH` † | `CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE`, or `CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH` † |
//!
//! Every variable names a file. `*_FILE` variables and the fabric-samples ones name PEM files;
//! † `*_PATH` variables name files holding the **base64 encoding of the PEM** (the Go and Java
//! shims' convention). Either form is accepted in either kind of variable (a PEM file is
//! recognised by its `-----BEGIN` line), and when both `*_FILE` and `*_PATH` are set the
//! `*_FILE` one wins with a warning. The certificate file may hold a chain (server certificate
//! first); the client CA file may hold several CA certificates.
//!
//! Mixing the families never weakens TLS silently. The rule: with TLS on, **every client-CA
//! variable that is set** (`CHAINCODE_CLIENT_CA_CERT`, `CORE_PEER_TLS_ROOTCERT_FILE`,
//! `CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE`, `CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH`), whether its
//! family is on, off or ignored, **must agree with the client CA in effect**:
//!
//! * if the family in effect has no client CA while another client-CA variable is set, startup
//!   fails ([`ConfigError::ClientCaIgnored`]) instead of serving without client authentication:
//!   e.g. key and certificate in `CHAINCODE_TLS_*` with the CA only in
//!   `CORE_PEER_TLS_ROOTCERT_FILE`, or the CA only in a lower family that is ignored. The error
//!   names both variables: set the family's own client-CA variable, or unset the other;
//! * if both name a CA, they must hold the same certificates (the same file, or files with the
//!   same certificates in either encoding), else startup fails ([`ConfigError::ClientCaDiffers`]);
//!   this also covers `*_CACERT_FILE` and `*_CACERT_PATH` set together.
//!
//! What stays as it is, because it cannot weaken TLS: the server key and certificate come only
//! from the family in effect (another family's key or certificate is ignored with a warning; a
//! wrong certificate makes the peer's handshake fail, never succeed without checks), and a
//! `*_FILE` key or certificate wins over its `*_PATH` twin with a warning. With no family on the
//! server is plaintext, as in the other shims; if files of a family whose switch is unset (not
//! explicitly off) are named then, a warning says so (a peer that dials with TLS fails loudly).
//!
//! Startup fails, with a [`ConfigError`] naming the variable and the file, when the chosen
//! family lacks its key or certificate variable, a file cannot be read, a file holds no
//! certificate or no private key (or malformed PEM or base64), the private key does not belong
//! to the certificate (their public keys differ), or the client CA file holds no usable
//! certificate.
//!
//! # Connections
//!
//! * HTTP/2 keepalive as in the Go shim: the server pings an idle connection every 60 s and
//!   drops it if the ping is not answered in 20 s. The peer pings every 60 s itself; the server
//!   (h2) answers every client ping and has no ping-rate policy, so it never answers
//!   them with `GOAWAY(ENHANCE_YOUR_CALM)` (a test sends a burst of pings to prove it).
//! * Messages up to 100 MiB each way ([`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE)), as the
//!   peer allows.
//! * TCP_NODELAY on every accepted socket. TLS handshakes run in their own tasks with a 10 s
//!   limit; a failed handshake is logged and the server goes on accepting.
//! * Several peers (and re-dials) are served at once, each `Connect` stream on its own.
//!
//! # Health
//!
//! `grpc.health.v1.Health` reports `SERVING` for the empty service name (the whole server) and
//! for `protos.Chaincode` while the server runs, and `NOT_SERVING` for both once shutdown begins.
//! It is served on the chaincode's port with the same TLS settings. Kubernetes' built-in `grpc`
//! probe speaks plaintext only: with TLS, probe with `tcpSocket` (a probe's bare TCP connection is
//! logged at debug level only) or run `grpc_health_probe` with its TLS flags.
//!
//! # Shutdown
//!
//! When shutdown is requested (SIGTERM or SIGINT for [`Server::serve`]; the given future for
//! [`Server::serve_with_listener`] and [`BoundServer::serve_with_shutdown`]) the server:
//!
//! 1. stops accepting new transactions: a TRANSACTION or INIT that arrives from now on is
//!    answered with an ERROR (`the chaincode server is shutting down; retry the transaction`);
//!    the health service turns `NOT_SERVING`; the listening socket closes;
//! 2. waits for in-flight transactions to complete and send their COMPLETED, up to
//!    [`ServerConfig::shutdown_deadline`] (25 s by default); if the deadline passes, it logs how
//!    many are still running. A second SIGTERM/SIGINT stops the wait at once;
//! 3. ends every `Connect` stream and lets the gRPC server close its connections (HTTP/2
//!    GOAWAY), closing by force any connection still open 2 s later;
//! 4. returns `Ok(())`, so a `main` that returns after `serve` exits with status 0.

pub(crate) mod accept;
mod config;
pub(crate) mod grpc;
mod health;
mod http2;
mod limits;
mod run;
mod signals;
#[cfg(feature = "tls")]
mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use ccaas_protos::grpc::health::v1::health_check_response::ServingStatus;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use config::{ConfigError, ServerConfig, DEFAULT_ADDRESS, DEFAULT_SHUTDOWN_DEADLINE};
pub use grpc::{GrpcCode, GrpcStatus};
pub use limits::{
    Limits, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_READY_CONNECTIONS,
    DEFAULT_MAX_TRANSACTIONS_PER_CONNECTION, DEFAULT_TRANSACTION_TIMEOUT,
};
pub use run::run_from_env;
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};

use crate::contract::BoxFuture;
use crate::handler::transaction::DynChaincode;
use crate::handler::ConnectionSettings;
use crate::metrics::Metrics;
use crate::service::Connections;
use crate::{Chaincode, Drain};

/// After the drain, how long connections get to close by themselves before they are cut.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {address}: {error} (is another process using the port? CHAINCODE_SERVER_ADDRESS sets the \
         address)"
    )]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        error: io::Error,
    },
    /// The listener given to [`Server::serve_with_listener`] is unusable.
    #[error("the listener is unusable: {0}")]
    Listener(io::Error),
    /// The SIGTERM/SIGINT handlers could not be installed.
    #[error("cannot install the SIGTERM/SIGINT handlers: {0}")]
    Signals(io::Error),
    /// The TLS configuration was refused by rustls.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A chaincode server: configuration plus the chaincode, ready to serve.
///
/// Create it with [`Server::from_env`], [`Server::builder`] or [`Server::new`]; run it with
/// [`serve`](Server::serve) (binds the configured address, stops on SIGTERM/SIGINT),
/// [`bind`](Server::bind) then [`BoundServer::serve`] (to learn the bound address first), or
/// [`serve_with_listener`](Server::serve_with_listener) (your listener, your shutdown trigger).
pub struct Server<C> {
    chaincode: Arc<C>,
    config: ServerConfig,
}

impl<C> std::fmt::Debug for Server<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<C: Chaincode> Server<C> {
    /// A server for `chaincode` with `config`. Fails if the chaincode id is empty.
    pub fn new(chaincode: C, config: ServerConfig) -> Result<Self, ConfigError> {
        if config.chaincode_id.trim().is_empty() {
            return Err(ConfigError::MissingChaincodeId);
        }
        if let (Some(address), false) = (config.metrics_address, cfg!(feature = "metrics")) {
            return Err(ConfigError::MetricsNotBuilt { source_name: "ServerBuilder::metrics_address", address });
        }
        Ok(Server { chaincode: Arc::new(chaincode), config })
    }

    /// A server configured from the environment: see the
    /// [module documentation](self#environment-variables) for the variables.
    ///
    /// ```no_run
    /// # use ccaas_shim::{Chaincode, ChaincodeStub, Response};
    /// # struct MyChaincode;
    /// # impl Chaincode for MyChaincode {
    /// #     async fn invoke(&self, _stub: &ChaincodeStub) -> Response { Response::success("") }
    /// # }
    /// use ccaas_shim::server::{Server, ServerError};
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), ServerError> {
    ///     // e.g. CHAINCODE_SERVER_ADDRESS=0.0.0.0:9999 CHAINCODE_ID=basic_1.0:4ec1d5e1...
    ///     Server::from_env(MyChaincode)?.serve().await
    /// }
    /// ```
    pub fn from_env(chaincode: C) -> Result<Self, ConfigError> {
        Self::new(chaincode, ServerConfig::from_env()?)
    }

    /// A builder, for configuration in code.
    ///
    /// ```no_run
    /// # use ccaas_shim::{Chaincode, ChaincodeStub, Response};
    /// # struct MyChaincode;
    /// # impl Chaincode for MyChaincode {
    /// #     async fn invoke(&self, _stub: &ChaincodeStub) -> Response { Response::success("") }
    /// # }
    /// use std::time::Duration;
    /// use ccaas_shim::server::{Server, TlsConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsConfig::from_pem(std::fs::read("server.crt")?, std::fs::read("server.key")?)?
    ///     .with_client_ca_pem(std::fs::read("peer-ca.crt")?)?;
    /// let server = Server::builder(MyChaincode)
    ///     .chaincode_id("basic_1.0:4ec1d5e1a6c5e6b5f5e0d4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3")
    ///     .address("0.0.0.0:9999".parse()?)
    ///     .tls(tls)
    ///     .shutdown_deadline(Duration::from_secs(20))
    ///     .build()?;
    /// server.serve().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(chaincode: C) -> ServerBuilder<C> {
        ServerBuilder { chaincode, config: ServerConfig::new("") }
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Binds the configured address, so the bound address (e.g. the port chosen for port 0) is
    /// known before serving.
    /// The metrics address ([`ServerConfig::metrics_address`]) is bound too.
    pub async fn bind(self) -> Result<BoundServer<C>, ServerError> {
        let address = self.config.address;
        let listener = TcpListener::bind(address).await.map_err(|error| ServerError::Bind { address, error })?;
        let local_addr = listener.local_addr().map_err(ServerError::Listener)?;
        let metrics = self.bind_metrics().await?;
        Ok(BoundServer { server: self, listener, local_addr, metrics })
    }

    /// Binds the metrics address, if one is configured.
    async fn bind_metrics(&self) -> Result<Option<TcpListener>, ServerError> {
        let Some(address) = self.config.metrics_address else { return Ok(None) };
        let listener = TcpListener::bind(address).await.map_err(|error| ServerError::Bind { address, error })?;
        Ok(Some(listener))
    }

    /// Binds the configured address and serves until SIGTERM or SIGINT, then shuts down
    /// gracefully (see [Shutdown](self#shutdown)) and returns `Ok(())`.
    pub async fn serve(self) -> Result<(), ServerError> {
        self.bind().await?.serve().await
    }

    /// Serves on `listener` until `shutdown` completes, then shuts down gracefully (see
    /// [Shutdown](self#shutdown)) and returns `Ok(())`. No signal handlers are installed.
    ///
    /// Dropping the returned future stops the server at once, closing its connections.
    pub async fn serve_with_listener<F>(self, listener: TcpListener, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send,
    {
        let metrics = self.bind_metrics().await?;
        run(self.chaincode, self.config, listener, metrics, Box::pin(shutdown), Box::pin(std::future::pending())).await
    }
}

/// Serves `chaincode` on `listener` until `shutdown`, then shuts down gracefully (see
/// [Shutdown](self#shutdown)); `force` cuts the wait for in-flight transactions short.
///
/// Neither generic nor `async`, and its future boxed (once per server): the server's code is then
/// compiled once, in the shim. (An `async fn`'s body, like a generic function, is compiled again
/// in every crate that awaits it, here every chaincode binary.)
fn run<'a>(
    chaincode: Arc<dyn DynChaincode>,
    config: ServerConfig,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: BoxFuture<'a, ()>,
    force: BoxFuture<'a, ()>,
) -> BoxFuture<'a, Result<(), ServerError>> {
    Box::pin(async move {
        let drain = Drain::new();
        let local_addr = listener.local_addr().map_err(ServerError::Listener)?;
        #[cfg(feature = "tls")]
        let tls = config.tls.as_ref().map(TlsConfig::rustls_server_config).transpose()?;
        // Stops the metrics endpoint when the server stops (or this future is dropped).
        let stop_metrics = CancellationToken::new();
        let _stop_metrics = stop_metrics.clone().drop_guard();
        let metrics = start_metrics(metrics_listener, stop_metrics)?;

        let mut settings = ConnectionSettings::new(config.chaincode_id.clone(), drain.clone());
        settings.auto_write_batch = config.automatic_write_batching;
        settings.limits = config.limits;
        settings.metrics = metrics.clone();
        settings.peer_msp_id = config.peer_msp_id.as_deref().map(Arc::from);
        let (health, health_service) = health::Health::serving();
        let services = http2::Services { chaincode: Connections::new(chaincode, settings), health: health_service };

        // `stop_accepting` ends the accept loop; `stop_grpc` starts the HTTP/2 server's graceful
        // shutdown (GOAWAY, wait for streams to end); `kill` cuts every connection. Dropping this future
        // cancels all three.
        let stop_accepting = CancellationToken::new();
        let stop_grpc = CancellationToken::new();
        let kill = CancellationToken::new();
        let _guards = (stop_accepting.clone().drop_guard(), kill.clone().drop_guard());

        #[cfg(feature = "tls")]
        let mode = match &config.tls {
            None => "plaintext",
            Some(tls) if tls.requires_client_auth() => "mutual TLS",
            Some(_) => "TLS",
        };
        #[cfg(not(feature = "tls"))]
        let mode = "plaintext";
        // The HTTP/2 server shuts down when `stop_grpc` says so, after the drain, not when the
        // accept loop stops.
        let grpc_stopped = stop_grpc.clone().cancelled_owned();
        #[cfg(feature = "tls")]
        let incoming = match tls {
            None => accept::plaintext(listener, config.limits, metrics, stop_accepting.clone(), kill.clone()),
            Some(tls) => accept::tls(listener, tls, config.limits, metrics, stop_accepting.clone(), kill.clone()),
        };
        #[cfg(not(feature = "tls"))]
        let incoming = accept::plaintext(listener, config.limits, metrics, stop_accepting.clone(), kill.clone());
        let mut serving = pin!(http2::serve(incoming, services, grpc_stopped));
        info!(
            address = %local_addr,
            tls = mode,
            chaincode_id = %config.chaincode_id,
            peer_msp_id = ?config.peer_msp_id,
            "chaincode server listening"
        );

        // Serve until shutdown is asked for. (`serving` ends only after `stop_grpc`, in step 3.)
        tokio::select! {
            () = &mut serving => unreachable!("the HTTP/2 server stopped before it was told to"),
            () = shutdown => {}
        }

        // 1. No new transactions, not serving, no new connections.
        drain.begin();
        health.send_replace(ServingStatus::NotServing);
        stop_accepting.cancel();
        info!(
            in_flight = drain.in_flight(),
            deadline = ?config.shutdown_deadline,
            "shutting down: waiting for in-flight transactions"
        );

        // 2. Let in-flight transactions finish, up to the deadline (or a second signal).
        let finished = {
            let mut force = force;
            tokio::select! {
                finished = drain.wait(config.shutdown_deadline) => finished,
                () = &mut force => false,
                () = &mut serving => unreachable!("the HTTP/2 server stopped before it was told to"),
            }
        };
        if finished {
            info!("all in-flight transactions completed");
        } else {
            warn!(
                remaining = drain.in_flight(), deadline = ?config.shutdown_deadline,
                "shutdown deadline passed: aborting the transactions still running (the peer fails their proposals; \
                 clients may retry them). Give them longer with ServerBuilder::shutdown_deadline, within the \
                 container's termination grace period"
            );
            drain.abort_transactions();
        }

        // 3. End the streams, then let the HTTP/2 server close the connections; cut what lingers.
        drain.close_connections();
        stop_grpc.cancel();
        if tokio::time::timeout(CLOSE_GRACE, &mut serving).await.is_err() {
            warn!(grace = ?CLOSE_GRACE, "connections still open after the grace period; closing them");
            kill.cancel();
            if tokio::time::timeout(CLOSE_GRACE, &mut serving).await.is_err() {
                warn!("the gRPC server did not stop; giving up on it");
            }
        }
        info!("chaincode server stopped");
        Ok(())
    })
}

/// Serves the metrics on `listener` (if any) until `stop`; the metrics the server counts.
#[cfg(feature = "metrics")]
fn start_metrics(listener: Option<TcpListener>, stop: CancellationToken) -> Result<Metrics, ServerError> {
    let Some(listener) = listener else { return Ok(Metrics::default()) };
    let address = listener.local_addr().map_err(ServerError::Listener)?;
    let metrics = Metrics::enabled();
    crate::metrics::serve(listener, metrics.clone(), stop);
    info!(%address, path = crate::metrics::PATH, "serving Prometheus metrics");
    Ok(metrics)
}

/// Without the `metrics` feature there is no listener ([`Server::new`] refuses a metrics address).
#[cfg(not(feature = "metrics"))]
fn start_metrics(_listener: Option<TcpListener>, _stop: CancellationToken) -> Result<Metrics, ServerError> {
    Ok(Metrics::default())
}

/// A server whose listening socket is bound (see [`Server::bind`]).
pub struct BoundServer<C> {
    server: Server<C>,
    listener: TcpListener,
    local_addr: SocketAddr,
    metrics: Option<TcpListener>,
}

impl<C> std::fmt::Debug for BoundServer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundServer").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl<C: Chaincode> BoundServer<C> {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the metrics are served on, if [`ServerConfig::metrics_address`] is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully and returns `Ok(())`. A
    /// second signal stops waiting for in-flight transactions.
    pub async fn serve(self) -> Result<(), ServerError> {
        let signals = signals::ShutdownSignals::install().map_err(ServerError::Signals)?;
        let shutdown = signals.shutdown.clone().cancelled_owned();
        let force = signals.force.clone().cancelled_owned();
        let Server { chaincode, config } = self.server;
        run(chaincode, config, self.listener, self.metrics, Box::pin(shutdown), Box::pin(force)).await
    }

    /// Serves until `shutdown` completes, then shuts down gracefully and returns `Ok(())`.
    pub async fn serve_with_shutdown<F>(self, shutdown: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send,
    {
        let Server { chaincode, config } = self.server;
        run(chaincode, config, self.listener, self.metrics, Box::pin(shutdown), Box::pin(std::future::pending())).await
    }
}

/// Builds a [`Server`] in code (see [`Server::builder`]).
pub struct ServerBuilder<C> {
    chaincode: C,
    config: ServerConfig,
}

impl<C> std::fmt::Debug for ServerBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<C: Chaincode> ServerBuilder<C> {
    /// The chaincode package ID (`label:hash`) the peer launches. Required.
    pub fn chaincode_id(mut self, chaincode_id: impl Into<String>) -> Self {
        self.config.chaincode_id = chaincode_id.into();
        self
    }

    /// Where to listen (default `0.0.0.0:7052`).
    pub fn address(mut self, address: SocketAddr) -> Self {
        self.config.address = address;
        self
    }

    /// Serves TLS (or mutual TLS, if `tls` has client CAs). Default: plaintext. Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// How long shutdown waits for in-flight transactions (default 25 s).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.config.shutdown_deadline = deadline;
        self
    }

    /// The peer's MSP id, for [`ChaincodeStub::peer_msp_id`](crate::ChaincodeStub::peer_msp_id).
    pub fn peer_msp_id(mut self, msp_id: impl Into<String>) -> Self {
        self.config.peer_msp_id = Some(msp_id.into());
        self
    }

    /// Whether transactions batch their writes when the peer advertises Fabric 3.1 write batching
    /// (default true; `CHAINCODE_WRITE_BATCHING=false` in [`Server::from_env`]). See
    /// [`ChaincodeService::with_automatic_write_batching`](crate::ChaincodeService::with_automatic_write_batching)
    /// for the trade-off, and [`ChaincodeStub::put_state`](crate::ChaincodeStub::put_state) for
    /// when a refused write is reported.
    pub fn automatic_write_batching(mut self, enabled: bool) -> Self {
        self.config.automatic_write_batching = enabled;
        self
    }

    /// Connection, transaction and time limits (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Serves Prometheus metrics on `address` (`GET /metrics`, plaintext HTTP/1.1; the series are
    /// listed in docs/reliability.md). Default: no metrics. Needs the shim's `metrics` feature:
    /// without it [`build`](Self::build) fails with [`ConfigError::MetricsNotBuilt`].
    pub fn metrics_address(mut self, address: SocketAddr) -> Self {
        self.config.metrics_address = Some(address);
        self
    }

    /// The server. Fails if no chaincode id was given.
    pub fn build(self) -> Result<Server<C>, ConfigError> {
        Server::new(self.chaincode, self.config)
    }
}
