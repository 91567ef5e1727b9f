//! The accept loop: TCP (with TCP_NODELAY), then an optional TLS handshake per connection, in
//! its own task, so a slow or failing client never holds up the next one.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::transport::server::Connected;
use tracing::{debug, warn};

/// How long a client may take to complete the TLS handshake (the Go shim allows 5 s).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to pause after an accept error that is not about one connection (e.g. out of file
/// descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Accepted connections waiting for the gRPC server to pick them up.
const BACKLOG: usize = 64;

/// An accepted connection the server can close by force once shutdown's grace period is over:
/// after `kill` is cancelled every read and write fails, which ends the HTTP/2 connection.
pub(crate) struct ServerIo<T> {
    inner: T,
    kill: CancellationToken,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl<T> ServerIo<T> {
    fn new(inner: T, kill: &CancellationToken) -> Self {
        ServerIo { inner, kill: kill.clone(), killed: Box::pin(kill.clone().cancelled_owned()) }
    }

    /// Fails once the connection must close; otherwise registers for the wake-up.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.kill.is_cancelled() || self.killed.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the chaincode server shut down"));
        }
        Ok(())
    }
}

impl<T: Connected> Connected for ServerIo<T> {
    // The inner type's info, so `Request::remote_addr` and `peer_certs` keep working.
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
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
pub(crate) type Accepted<T> = mpsc::Receiver<Result<ServerIo<T>, io::Error>>;

/// Serves plaintext: every accepted socket goes straight to the gRPC server.
pub(crate) fn plaintext(
    listener: TcpListener,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted<TcpStream> {
    spawn(listener, stop, kill, |tcp, _remote| std::future::ready(Some(tcp)))
}

/// Serves TLS: every accepted socket is handshaken in its own task; failures are logged and the
/// loop goes on.
pub(crate) fn tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted<TlsStream<TcpStream>> {
    let acceptor = TlsAcceptor::from(config);
    spawn(listener, stop, kill, move |tcp, remote| {
        let acceptor = acceptor.clone();
        async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => Some(stream),
                // rustls reports protocol and certificate failures as InvalidData: worth a warning
                // (a peer with the wrong client certificate, a plaintext client). Anything else is a
                // client going away mid-handshake, e.g. a TCP probe.
                Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                    warn!(%remote, error = %e, "TLS handshake failed");
                    None
                }
                Ok(Err(e)) => {
                    debug!(%remote, error = %e, "connection closed during the TLS handshake");
                    None
                }
                Err(_) => {
                    debug!(%remote, "TLS handshake timed out");
                    None
                }
            }
        }
    })
}

fn spawn<T, H, Fut>(
    listener: TcpListener,
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
            if let Err(e) = tcp.set_nodelay(true) {
                debug!(%remote, error = %e, "could not set TCP_NODELAY");
            }
            let handshake = handshake(tcp, remote);
            let (ready, stop, kill) = (ready.clone(), stop.clone(), kill.clone());
            tokio::spawn(async move {
                let stream = tokio::select! {
                    () = stop.cancelled() => return,
                    stream = handshake => stream,
                };
                if let Some(stream) = stream {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = ready.send(Ok(ServerIo::new(stream, &kill))) => {}
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
