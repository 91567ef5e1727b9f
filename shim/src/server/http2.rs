//! The HTTP/2 server under the gRPC services: hyper's, with the settings and the shutdown that
//! tonic's `transport::Server` gave it (the shim served through it before; serving with hyper
//! directly leaves tonic's server and router, tower, axum and HTTP/1 out of every chaincode's
//! build).
//!
//! Each accepted connection is served in its own task. Its requests go to the chaincode service
//! or the health service by the service name in their path (`/<package>.<Service>/<Method>`), as
//! tonic's router sent them; any other path gets gRPC status `UNIMPLEMENTED`, as from tonic's
//! router. On shutdown every connection gets a graceful shutdown (GOAWAY; streams in progress may
//! finish) and [`serve`] returns once all of them have closed.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::time::Duration;

use ccaas_protos::grpc::health::v1::health_server::HealthServer;
use ccaas_protos::protos::chaincode_server::ChaincodeServer;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::Status;
use tower_service::Service;
use tracing::debug;

use super::accept::{Accepted, PeerConnection, ServerIo};
use super::health::Health;
use crate::{Chaincode, ChaincodeService};

/// The server's HTTP/2 ping interval on idle connections (the Go shim's `Time`).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// How long a ping may go unanswered before the connection is dropped (the Go shim's `Timeout`).
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The two gRPC services of the chaincode's port.
pub(crate) struct Services<C> {
    pub(crate) chaincode: ChaincodeServer<ChaincodeService<C>>,
    pub(crate) health: HealthServer<Health>,
}

impl<C> Clone for Services<C> {
    fn clone(&self) -> Self {
        Services { chaincode: self.chaincode.clone(), health: self.health.clone() }
    }
}

/// hyper's HTTP/2 server as tonic's server set it up: keepalive pings as above; no limit on
/// concurrent streams, on pending accepted resets or on locally reset streams (tonic left them
/// unset, which hyper takes as no limit); hyper's default flow-control windows, not adaptive.
fn builder() -> http2::Builder<TokioExecutor> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .adaptive_window(false)
        .max_concurrent_streams(None)
        .max_pending_accept_reset_streams(None)
        .max_local_error_reset_streams(None)
        .keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT);
    builder
}

/// Serves the connections `incoming` yields until `shutdown` completes, then stops taking them
/// (those not picked up yet are closed), shuts every connection down gracefully and returns when
/// all have closed.
pub(crate) async fn serve<T, C, F>(mut incoming: Accepted<T>, services: Services<C>, shutdown: F)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    C: Chaincode,
    F: Future<Output = ()>,
{
    let builder = builder();
    // Every connection's task holds a receiver: a send asks them all to shut down, and the
    // channel closes when the last one has ended.
    let (closing, watcher) = watch::channel(());
    {
        let mut shutdown = pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                Some(io) = incoming.recv() => {
                    let service = Connection { services: services.clone(), peer: io.connection().clone() };
                    spawn_connection(io, service, builder.clone(), watcher.clone());
                }
            }
        }
    }
    drop(incoming);
    let _ = closing.send(());
    drop(watcher);
    closing.closed().await;
}

fn spawn_connection<T, C>(
    io: ServerIo<T>,
    service: Connection<C>,
    builder: http2::Builder<TokioExecutor>,
    mut closing: watch::Receiver<()>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    C: Chaincode,
{
    tokio::spawn(async move {
        let mut connection = pin!(builder.serve_connection(TokioIo::new(io), service));
        let mut shutting_down = false;
        loop {
            tokio::select! {
                result = &mut connection => {
                    if let Err(e) = result {
                        debug!("failed serving connection: {}", super::run::error_chain(&e));
                    }
                    break;
                }
                // Also when the server's future was dropped (the sender is gone).
                _ = closing.changed(), if !shutting_down => {
                    shutting_down = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    });
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// One connection's service: its requests carry the connection's [`PeerConnection`] (in their
/// extensions, where the chaincode service looks for it) and go to the service their path names.
struct Connection<C> {
    services: Services<C>,
    peer: PeerConnection,
}

impl<C: Chaincode> hyper::service::Service<Request<Incoming>> for Connection<C> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<Incoming>) -> ResponseFuture {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(self.peer.clone());
        let path = request.uri().path();
        let service = path.strip_prefix('/').and_then(|path| path.split_once('/')).map(|(name, _)| name);
        if service == Some(ChaincodeServer::<ChaincodeService<C>>::NAME) {
            Box::pin(call(self.services.chaincode.clone(), request))
        } else if service == Some(HealthServer::<Health>::NAME) {
            Box::pin(call(self.services.health.clone(), request))
        } else {
            Box::pin(std::future::ready(Ok(Status::unimplemented("").into_http())))
        }
    }
}

/// Waits until `service` is ready, then calls it.
async fn call<S: Service<Request<Body>>>(mut service: S, request: Request<Body>) -> Result<S::Response, S::Error> {
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}
