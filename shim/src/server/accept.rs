//! The accept loop: TCP (with TCP_NODELAY), then an optional TLS handshake per connection, in
//! its own task, so a slow or failing client never holds up the next one.
//!
//! Two limits guard it (see [`Limits`]): at most `max_connections` connections are open at once
//! (one more is closed as soon as it is accepted), and each must become a ready chaincode stream
//! (TLS, HTTP/2 preface, `Connect`, REGISTER to READY) within `handshake_timeout` of its accept,
//! or it is closed. Refusals are logged once per burst.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};
use tracing::{debug, warn};

use super::limits::Limits;
use crate::burst::BurstLog;
use crate::metrics::{Metrics, Open, Refusal};

/// How long to pause after an accept error that is not about one connection (e.g. out of file
/// descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Accepted connections waiting for the gRPC server to pick them up.
const BACKLOG: usize = 64;

/// What the gRPC service learns about the connection a `Connect` call came on (from the
/// request's extensions, where the HTTP/2 server puts it): who it is, and the token to cancel once the chaincode stream is ready,
/// which stops the connection's handshake deadline.
#[derive(Debug, Clone)]
pub(crate) struct PeerConnection {
    pub(crate) remote: SocketAddr,
    pub(crate) ready: CancellationToken,
}

/// An accepted connection the server can close by force: at shutdown once the grace period is
/// over, or when it missed its handshake deadline. After `kill` is cancelled every read and write
/// fails, which ends the HTTP/2 connection. It holds its slot of the connection limit until it
/// is dropped.
pub(crate) struct ServerIo<T> {
    inner: T,
    kill: CancellationToken,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    connection: PeerConnection,
    _slot: OwnedSemaphorePermit,
    /// Ends the handshake deadline's watcher when the connection goes away first.
    _closed: DropGuard,
    _open: Open,
}

impl<T> ServerIo<T> {
    fn new(inner: T, slot: Slot) -> Self {
        let Slot { permit, kill, connection, closed, open } = slot;
        ServerIo {
            inner,
            killed: Box::pin(kill.clone().cancelled_owned()),
            kill,
            connection,
            _slot: permit,
            _closed: closed,
            _open: open,
        }
    }

    /// Fails once the connection must close; otherwise registers for the wake-up.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.kill.is_cancelled() || self.killed.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the chaincode server shut down"));
        }
        Ok(())
    }
}

impl<T> ServerIo<T> {
    /// The connection, as the gRPC service learns it.
    pub(crate) fn connection(&self) -> &PeerConnection {
        &self.connection
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ServerIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ServerIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Connections ready for the gRPC server.
pub(crate) type Accepted<T> = mpsc::Receiver<ServerIo<T>>;

/// Serves plaintext: every accepted socket goes straight to the gRPC server.
pub(crate) fn plaintext(
    listener: TcpListener,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted<TcpStream> {
    spawn(listener, limits, metrics, stop, kill, |tcp, _remote| std::future::ready(Some(tcp)))
}

/// Serves TLS: every accepted socket is handshaken in its own task; failures are logged and the
/// loop goes on.
pub(crate) fn tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted<TlsStream<TcpStream>> {
    let acceptor = TlsAcceptor::from(config);
    spawn(listener, limits, metrics.clone(), stop, kill, move |tcp, remote| {
        let (acceptor, metrics) = (acceptor.clone(), metrics.clone());
        async move {
            match acceptor.accept(tcp).await {
                Ok(stream) => Some(stream),
                // rustls reports protocol and certificate failures as InvalidData: worth a warning
                // (a peer with the wrong client certificate, a plaintext client). Anything else is a
                // client going away mid-handshake, e.g. a TCP probe.
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    warn!(%remote, error = %e, "TLS handshake failed");
                    metrics.connection_refused(Refusal::Tls);
                    None
                }
                Err(e) => {
                    debug!(%remote, error = %e, "connection closed during the TLS handshake");
                    None
                }
            }
        }
    })
}

/// What an accepted connection holds from the accept loop on, handed to its [`ServerIo`]:
/// dropping it at any point frees the connection's slot and ends its deadline watcher.
struct Slot {
    permit: OwnedSemaphorePermit,
    kill: CancellationToken,
    connection: PeerConnection,
    closed: DropGuard,
    open: Open,
}

impl Slot {
    /// A slot for a connection from `remote` that must be ready by `deadline`, or be closed.
    fn new(permit: OwnedSemaphorePermit, remote: SocketAddr, kill: &CancellationToken, deadline: Deadline) -> Self {
        let kill = kill.child_token();
        let connection = PeerConnection { remote, ready: CancellationToken::new() };
        let closed = CancellationToken::new();
        let open = deadline.metrics.connection_open();
        watch_handshake(deadline, kill.clone(), connection.clone(), closed.clone());
        Slot { permit, kill, connection, closed: closed.drop_guard(), open }
    }
}

/// When a connection must be ready, and where to log those that are not.
struct Deadline {
    at: Instant,
    timeout: Duration,
    late: Arc<BurstLog>,
    metrics: Metrics,
}

/// Closes the connection (through `kill`) if it is not ready by the deadline.
fn watch_handshake(deadline: Deadline, kill: CancellationToken, connection: PeerConnection, closed: CancellationToken) {
    let Deadline { at: deadline, timeout, late, metrics } = deadline;
    let PeerConnection { remote, ready } = connection;
    tokio::spawn(async move {
        tokio::select! {
            // A connection that became ready (or went away) at the deadline itself is not cut.
            biased;
            () = ready.cancelled() => {}
            () = closed.cancelled() => {}
            () = tokio::time::sleep_until(deadline) => {
                metrics.connection_refused(Refusal::HandshakeTimeout);
                if let Some(count) = late.record() {
                    warn!(
                        %remote, count, ?timeout,
                        "closing connections that did not become a ready chaincode stream in time \
                         (CHAINCODE_HANDSHAKE_TIMEOUT); count includes those not logged since the last line"
                    );
                }
                kill.cancel();
            }
        }
    });
}

fn spawn<T, H, Fut>(
    listener: TcpListener,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
    handshake: H,
) -> Accepted<T>
where
    T: Send + 'static,
    H: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    let (ready, accepted) = mpsc::channel(BACKLOG);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (refused, late) = (BurstLog::default(), Arc::new(BurstLog::default()));
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                next = listener.accept() => next,
            };
            let (tcp, remote) = match next {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => {
                    debug!(error = %e, "a connection failed while being accepted");
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    }
                }
            };
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                metrics.connection_refused(Refusal::MaxConnections);
                if let Some(count) = refused.record() {
                    warn!(
                        %remote, count, max_connections = limits.max_connections,
                        "refusing connections: the server is at its connection limit (CHAINCODE_MAX_CONNECTIONS); \
                         count includes those not logged since the last line"
                    );
                }
                continue; // Dropping the socket closes it.
            };
            if let Err(e) = tcp.set_nodelay(true) {
                debug!(%remote, error = %e, "could not set TCP_NODELAY");
            }
            let deadline = Deadline {
                at: Instant::now() + limits.handshake_timeout,
                timeout: limits.handshake_timeout,
                late: Arc::clone(&late),
                metrics: metrics.clone(),
            };
            let slot = Slot::new(permit, remote, &kill, deadline);
            let handshake = handshake(tcp, remote);
            let (ready, stop) = (ready.clone(), stop.clone());
            tokio::spawn(async move {
                let stream = tokio::select! {
                    () = stop.cancelled() => return,
                    () = slot.kill.cancelled() => return,
                    stream = handshake => stream,
                };
                if let Some(stream) = stream {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = ready.send(ServerIo::new(stream, slot)) => {}
                    }
                }
            });
        }
        debug!("stopped accepting connections");
        // The listener drops here: the port closes and new connections are refused.
    });
    accepted
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}
