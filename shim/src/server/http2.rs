//! The HTTP/2 server under the gRPC services: h2 itself, with the settings, keepalive and
//! shutdown that hyper's server gave it (the shim served through hyper before, and through
//! tonic's server before that).
//!
//! Why h2 directly: the shim serves one bidirectional call (`/protos.Chaincode/Connect`) and the
//! two health calls, and gRPC on HTTP/2 is little more than a 5-byte prefix per message and a
//! status in the trailers ([`grpc`](super::grpc)). Serving them on h2, the HTTP/2 implementation
//! hyper itself uses, leaves tonic, tonic-prost, hyper's server, hyper-util, tower-service,
//! tower-layer, http-body (and -util), async-trait, pin-project, sync_wrapper, httpdate,
//! tokio-stream, futures-channel and tracing's `#[instrument]` macros out of every chaincode's
//! build: 87 crates before, 70 after (62 with the cuts that followed); a cold debug build of the
//! example took 0.78 of the wall time and 0.92 of the CPU time (docs/benchmarks.md). What it costs is this file and `grpc.rs`.
//!
//! Each accepted connection is served in its own task, each of its streams in another. A stream
//! goes to the chaincode service or the health service by its path; any other path gets gRPC
//! status `UNIMPLEMENTED` (as from tonic's router). Like tonic, the method and `content-type`
//! are not checked. On shutdown every connection gets a graceful shutdown (GOAWAY; streams in
//! progress may finish) and [`serve`] returns once all of them have closed.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Ping, PingPong, Reason, RecvStream};
use http::Request;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::debug;

use super::accept::{Accepted, PeerConnection, ServerIo};
use super::grpc::{self, GrpcCode, GrpcStatus, Messages};
use super::health::Health;
use crate::service::Connections;

/// The server's HTTP/2 ping interval on idle connections (the Go shim's `Time`).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
/// How long a ping may go unanswered before the connection is dropped (the Go shim's `Timeout`).
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// The chaincode's one call.
const CONNECT: &str = "/protos.Chaincode/Connect";
/// The health service's calls.
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";

/// The two gRPC services of the chaincode's port.
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) chaincode: Connections,
    pub(crate) health: Health,
}

/// h2's server with hyper's settings as tonic's server set them: flow-control windows of 1 MiB
/// for each stream and for the connection, not adaptive; 16 KiB frames and header lists; 400 KiB
/// of send buffer per stream; no limit on concurrent streams or on streams reset for errors; h2's
/// own limit of 20 streams reset before they were accepted.
fn builder() -> h2::server::Builder {
    let mut builder = h2::server::Builder::new();
    builder
        .initial_window_size(1024 * 1024)
        .initial_connection_window_size(1024 * 1024)
        .max_frame_size(16 * 1024)
        .max_header_list_size(16 * 1024)
        .max_send_buffer_size(400 * 1024)
        .max_local_error_reset_streams(None);
    builder
}

/// When a connection last received something (a request, data, a pong): its keepalive pings it
/// [`KEEPALIVE_INTERVAL`] after that, as hyper did.
#[derive(Clone)]
pub(crate) struct Activity(Arc<Mutex<Instant>>);

impl Activity {
    fn new() -> Self {
        Activity(Arc::new(Mutex::new(Instant::now())))
    }

    pub(crate) fn record(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn last(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serves the connections `incoming` yields until `shutdown` completes, then stops taking them
/// (those not picked up yet are closed), shuts every connection down gracefully and returns when
/// all have closed.
pub(crate) async fn serve<F: Future<Output = ()>>(mut incoming: Accepted, services: Services, shutdown: F) {
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
                    tokio::spawn(serve_connection(io, services.clone(), builder.clone(), watcher.clone()));
                }
            }
        }
    }
    drop(incoming);
    let _ = closing.send(());
    drop(watcher);
    closing.closed().await;
}

/// Serves one connection until it closes: by the client, at the keepalive timeout, or after the
/// graceful shutdown `closing` asks for (also when the server's future was dropped).
async fn serve_connection(
    io: ServerIo,
    services: Services,
    builder: h2::server::Builder,
    mut closing: watch::Receiver<()>,
) {
    let peer = io.connection().clone();
    let mut shutting_down = false;
    let mut handshake = pin!(builder.handshake::<_, Bytes>(io));
    let mut connection = loop {
        tokio::select! {
            result = &mut handshake => match result {
                Ok(connection) => break connection,
                Err(e) => return debug!("failed serving connection: {}", super::run::error_chain(&e)),
            },
            _ = closing.changed(), if !shutting_down => shutting_down = true,
        }
    };
    if shutting_down {
        connection.graceful_shutdown();
    }
    let activity = Activity::new();
    let ping_pong = connection.ping_pong().expect("the connection's ping_pong is taken once");
    let mut keepalive = pin!(keepalive(ping_pong, activity.clone()));
    let mut timed_out = false;
    loop {
        tokio::select! {
            next = connection.accept() => match next {
                Some(Ok((request, respond))) => {
                    activity.record();
                    let (services, peer, activity) = (services.clone(), peer.clone(), activity.clone());
                    tokio::spawn(serve_stream(request, respond, services, peer, activity));
                }
                Some(Err(e)) => {
                    debug!("failed serving connection: {}", super::run::error_chain(&e));
                    break;
                }
                None => break,
            },
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                connection.graceful_shutdown();
            }
            () = &mut keepalive, if !timed_out => {
                debug!(timeout = ?KEEPALIVE_TIMEOUT, "keep-alive ping not answered, closing the connection");
                timed_out = true;
                connection.abrupt_shutdown(Reason::NO_ERROR);
            }
        }
    }
}

/// Pings the client [`KEEPALIVE_INTERVAL`] after it last sent something, and returns when a ping
/// is not answered within [`KEEPALIVE_TIMEOUT`]. (h2 answers the client's own pings, whatever
/// their rate.)
async fn keepalive(mut ping_pong: PingPong, activity: Activity) {
    loop {
        let due = activity.last() + KEEPALIVE_INTERVAL;
        tokio::time::sleep_until(due).await;
        if activity.last() + KEEPALIVE_INTERVAL > due {
            continue;
        }
        match tokio::time::timeout(KEEPALIVE_TIMEOUT, ping_pong.ping(Ping::opaque())).await {
            Ok(Ok(_pong)) => activity.record(),
            // The connection is ending anyway.
            Ok(Err(_)) => std::future::pending().await,
            Err(_) => return,
        }
    }
}

/// The calls served.
enum Call {
    Connect,
    Check,
    Watch,
}

/// Serves one stream: the call its path names.
async fn serve_stream(
    request: Request<RecvStream>,
    respond: SendResponse<Bytes>,
    services: Services,
    peer: PeerConnection,
    activity: Activity,
) {
    let call = match request.uri().path() {
        CONNECT => Call::Connect,
        HEALTH_CHECK => Call::Check,
        HEALTH_WATCH => Call::Watch,
        _ => return grpc::respond_status(respond, &GrpcStatus::new(GrpcCode::Unimplemented, "")),
    };
    let Some(respond) = grpc::refuse_compressed(request.headers(), respond) else { return };
    let body = request.into_body();
    match call {
        Call::Connect => services.chaincode.serve_connect(Messages::new(body, activity), respond, peer).await,
        Call::Check => services.health.check(Messages::new(body, activity), respond).await,
        Call::Watch => services.health.watch(Messages::new(body, activity), respond).await,
    }
}
