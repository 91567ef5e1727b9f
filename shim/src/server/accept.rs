//! The accept loop: TCP (with TCP_NODELAY), then an optional TLS handshake per connection, in
//! its own task, so a slow or failing client never holds up the next one.
//!
//! Admission (see [`Limits`]): a connection is *pending* from its accept until it is a ready
//! chaincode stream (TLS, HTTP/2 preface, `Connect`, REGISTER to READY), then *ready*. Each kind
//! has its own limit. At the pending limit a new connection is never refused: the pending one
//! that has made the least progress ([`Stage`]), oldest first, is closed to make room, so silent
//! or stalled connections, however many and however fast they come, cannot keep out a peer that
//! is talking. A ready connection is never closed to admit another. A pending connection must be
//! ready within `handshake_timeout` of its accept, or it is closed. A connection costs no TLS or
//! HTTP/2 state until its first byte arrives, which also tells a TLS client from a plaintext one,
//! so a client speaking the other protocol is logged as that. Refusals are logged once per burst.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
#[cfg(feature = "tls")]
use tokio_rustls::server::TlsStream;
#[cfg(feature = "tls")]
use tokio_rustls::TlsAcceptor;
/// Without the `tls` feature there is no acceptor: a type with no values, so every server is plaintext.
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
enum TlsAcceptor {}
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tracing::{debug, warn};

use super::limits::Limits;
use crate::burst::BurstLog;
use crate::metrics::{Metrics, Open, Refusal};

/// How long to pause after an accept error that is not about one connection (e.g. out of file
/// descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Accepted connections waiting for the gRPC server to pick them up.
const BACKLOG: usize = 64;
/// The first byte of every TLS handshake record (a ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// The first byte of the HTTP/2 connection preface (`PRI * HTTP/2.0`), a plaintext gRPC client.
const HTTP2_PREFACE_START: u8 = b'P';

/// How far a pending connection has come. At the connection limit, the one at the earliest stage
/// (the oldest of them) is closed to admit a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Stage {
    /// Accepted; no byte received yet.
    Silent = 0,
    /// Sent its first bytes: TLS or HTTP/2 handshake under way.
    Talking = 1,
    /// Opened its chaincode stream (`Connect`) and got REGISTER; waits for REGISTERED and READY.
    Registering = 2,
}

/// Why the server closed a connection itself, for the log lines of the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Closed {
    /// Not closed by the server (so far).
    No = 0,
    /// Closed to admit a new connection at the limit.
    Evicted = 1,
    /// Closed at its handshake deadline.
    Deadline = 2,
}

/// The connections of one server: those still in their handshake, and how many are ready.
struct Admission {
    limits: Limits,
    /// The server's token that closes every connection (at shutdown); each connection's own is
    /// a child of it.
    kill: CancellationToken,
    table: Mutex<Table>,
    metrics: Metrics,
    /// Log lines that could come once per connection, each logged once per burst.
    evicted: BurstLog,
    late: BurstLog,
    refused_ready: BurstLog,
    mismatched: BurstLog,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// Pending connections by stage, then id (accept order): the first is the one to evict. A
    /// ticket knows its own stage, so one map serves for eviction and for lookups.
    pending: BTreeMap<(Stage, u64), Weak<Ticket>>,
    ready: usize,
}

impl Table {
    /// Removes a pending connection (`None` if it is not pending any more).
    fn remove_pending(&mut self, ticket: &Ticket) -> Option<Stage> {
        let stage = ticket.stage();
        self.pending.remove(&(stage, ticket.id)).map(|_| stage)
    }
}

impl Admission {
    /// Admits a new connection as pending; at the limit, first removes the pending connection
    /// that has made the least progress (oldest first) and returns it, for the caller to close.
    fn admit(self: &Arc<Self>, remote: SocketAddr) -> (Arc<Ticket>, Option<(Stage, Weak<Ticket>)>) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let evicted = if table.pending.len() >= self.limits.max_connections {
            table.pending.pop_first().map(|((stage, _), ticket)| (stage, ticket))
        } else {
            None
        };
        let id = table.next_id;
        table.next_id += 1;
        let ticket = Arc::new(Ticket {
            id,
            remote,
            admission: Arc::clone(self),
            kill: self.kill.child_token(),
            settled: CancellationToken::new(),
            ready: AtomicBool::new(false),
            closed: AtomicU8::new(Closed::No as u8),
            stage: AtomicU8::new(Stage::Silent as u8),
            _open: self.metrics.connection_open(),
        });
        table.pending.insert((Stage::Silent, id), Arc::downgrade(&ticket));
        (ticket, evicted)
    }
}

/// One connection's place in the [`Admission`] table, shared by its socket ([`ServerIo`]) and
/// the chaincode stream on it ([`PeerConnection`]). Dropping the last of them frees the place.
pub(crate) struct Ticket {
    id: u64,
    remote: SocketAddr,
    admission: Arc<Admission>,
    /// Cancelled to close the connection by force: every read and write fails from then on.
    kill: CancellationToken,
    /// Cancelled when the connection is ready or gone: ends the handshake deadline's watcher.
    settled: CancellationToken,
    ready: AtomicBool,
    closed: AtomicU8,
    /// Its [`Stage`] while pending, read and written under the table's lock.
    stage: AtomicU8,
    /// Counts the connection as open (metrics) until the ticket goes.
    _open: Open,
}

impl Ticket {
    fn close(&self, why: Closed) {
        let _ = self.closed.compare_exchange(Closed::No as u8, why as u8, Ordering::AcqRel, Ordering::Acquire);
        self.kill.cancel();
    }

    fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Silent,
            1 => Stage::Talking,
            _ => Stage::Registering,
        }
    }

    /// Records progress; a connection never moves back.
    fn advance(&self, stage: Stage) {
        let mut table = self.admission.table.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.stage();
        if current < stage {
            if let Some(weak) = table.pending.remove(&(current, self.id)) {
                table.pending.insert((stage, self.id), weak);
                self.stage.store(stage as u8, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut table = self.admission.table.lock().unwrap_or_else(|e| e.into_inner());
        if self.ready.load(Ordering::Acquire) {
            table.ready -= 1;
        } else {
            table.remove_pending(self);
        }
        drop(table);
        self.settled.cancel();
    }
}

/// What the gRPC service learns about the connection a `Connect` call came on (the HTTP/2
/// server hands it to each call it serves): who it is, and its place among the server's
/// connections.
#[derive(Clone)]
pub(crate) struct PeerConnection(Arc<Ticket>);

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection").field("remote", &self.0.remote).finish_non_exhaustive()
    }
}

impl PeerConnection {
    /// The client's address.
    pub(crate) fn remote(&self) -> SocketAddr {
        self.0.remote
    }

    /// The chaincode stream is open and REGISTER sent.
    pub(crate) fn registering(&self) {
        self.0.advance(Stage::Registering);
    }

    /// The chaincode stream is ready: it leaves the pending connections (its handshake deadline
    /// ends) for the ready ones. Fails with the limit when as many streams are ready already;
    /// the caller ends the stream.
    pub(crate) fn ready(&self) -> Result<(), usize> {
        let ticket = &self.0;
        let admission = &ticket.admission;
        let limit = admission.limits.max_ready_connections;
        let mut table = admission.table.lock().unwrap_or_else(|e| e.into_inner());
        if ticket.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if table.ready >= limit {
            drop(table);
            if let Some(count) = admission.refused_ready.record() {
                warn!(
                    remote = %ticket.remote, count, max_ready_connections = limit,
                    "closing a chaincode stream that became ready: the server is at its limit of ready streams \
                     (CHAINCODE_MAX_READY_CONNECTIONS); raise it if this many peers really serve this chaincode; \
                     count includes those not logged since the last line"
                );
            }
            return Err(limit);
        }
        table.remove_pending(ticket);
        table.ready += 1;
        ticket.ready.store(true, Ordering::Release);
        drop(table);
        ticket.settled.cancel();
        Ok(())
    }

    /// Whether, and why, the server closed this connection itself.
    pub(crate) fn closed_by_server(&self) -> Closed {
        match self.0.closed.load(Ordering::Acquire) {
            1 => Closed::Evicted,
            2 => Closed::Deadline,
            _ => Closed::No,
        }
    }
}

/// An accepted connection's byte stream: TCP, or TLS over TCP. One type for both, so the HTTP/2
/// server above it is compiled once, not once per transport.
pub(crate) enum Transport {
    Tcp(TcpStream),
    /// Boxed: a TLS session is over a kilobyte, which a plaintext connection need not carry.
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(tcp) => tcp.is_write_vectored(),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An accepted connection the server can close by force: at shutdown once the grace period is
/// over, when it missed its handshake deadline, or to admit another. After `kill` is cancelled
/// every read and write fails, which ends the HTTP/2 connection. It holds its place among the
/// server's connections until it is dropped.
pub(crate) struct ServerIo {
    inner: Transport,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    connection: PeerConnection,
}

impl ServerIo {
    fn new(inner: Transport, ticket: Arc<Ticket>) -> Self {
        ServerIo { inner, killed: Box::pin(ticket.kill.clone().cancelled_owned()), connection: PeerConnection(ticket) }
    }

    /// Fails once the connection must close; otherwise registers for the wake-up.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.connection.0.kill.is_cancelled() || self.killed.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "the chaincode server shut down"));
        }
        Ok(())
    }
}

impl ServerIo {
    /// The connection, as the gRPC service learns it.
    pub(crate) fn connection(&self) -> &PeerConnection {
        &self.connection
    }
}

impl AsyncRead for ServerIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ServerIo {
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
pub(crate) type Accepted = mpsc::Receiver<ServerIo>;

/// Which protocol the server speaks on its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Plaintext,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
}

/// Serves plaintext: every accepted socket goes straight to the gRPC server.
pub(crate) fn plaintext(
    listener: TcpListener,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted {
    spawn(listener, None, limits, metrics, stop, kill)
}

/// Serves TLS: every accepted socket is handshaken in its own task; failures are logged and the
/// loop goes on.
#[cfg(feature = "tls")]
pub(crate) fn tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted {
    spawn(listener, Some(TlsAcceptor::from(config)), limits, metrics, stop, kill)
}

/// The TLS handshake of an accepted socket; a failure is logged and counted.
#[cfg(feature = "tls")]
async fn tls_handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    metrics: &Metrics,
) -> Option<TlsStream<TcpStream>> {
    match acceptor.accept(tcp).await {
        Ok(stream) => Some(stream),
        Err(e) => {
            if e.kind() == io::ErrorKind::InvalidData {
                metrics.connection_refused(Refusal::Tls);
            }
            log_tls_failure(remote, &e);
            None
        }
    }
}

/// Logs a failed TLS handshake with what to check. rustls reports protocol and certificate
/// failures as InvalidData, wrapping its own error; anything else is a client going away
/// mid-handshake (e.g. a TCP probe), logged at debug level only.
#[cfg(feature = "tls")]
fn log_tls_failure(remote: SocketAddr, e: &io::Error) {
    let cause = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let Some(cause) = cause.filter(|_| e.kind() == io::ErrorKind::InvalidData) else {
        debug!(%remote, error = %e, "connection closed during the TLS handshake");
        return;
    };
    let advice = match cause {
        rustls::Error::AlertReceived(alert) => format!(
            "the client refused this server's certificate ({alert:?}): the root_cert in the package's \
             connection.json must be the CA that signed the server certificate (CHAINCODE_TLS_CERT), and the \
             certificate must name the host in the package's address"
        ),
        rustls::Error::NoCertificatesPresented => "the client sent no TLS client certificate, which this server \
             requires (CHAINCODE_CLIENT_CA_CERT is set): set client_auth_required, client_key and client_cert in \
             the package's connection.json, or unset CHAINCODE_CLIENT_CA_CERT"
            .to_string(),
        rustls::Error::InvalidCertificate(why) => format!(
            "the client's TLS certificate was refused ({why}): it must be signed by a CA in \
             CHAINCODE_CLIENT_CA_CERT (the client_cert of the package's connection.json) and be valid now"
        ),
        rustls::Error::PeerIncompatible(why) => {
            format!("the client's TLS is incompatible ({why:?}): the server speaks TLS 1.2 and 1.3 only")
        }
        other => format!("{other}"),
    };
    warn!(%remote, "TLS handshake with a client failed: {advice}");
}

/// Closes, at its deadline, a connection that is still pending then.
fn watch_handshake(ticket: &Arc<Ticket>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let (settled, weak) = (ticket.settled.clone(), Arc::downgrade(ticket));
    tokio::spawn(async move {
        tokio::select! {
            // A connection that became ready (or went away) at the deadline itself is not cut.
            biased;
            () = settled.cancelled() => {}
            () = tokio::time::sleep_until(deadline) => {
                let Some(ticket) = weak.upgrade() else { return };
                let admission = &ticket.admission;
                let stage = {
                    let mut table = admission.table.lock().unwrap_or_else(|e| e.into_inner());
                    match table.remove_pending(&ticket) {
                        Some(stage) => stage,
                        None => return, // ready meanwhile
                    }
                };
                admission.metrics.connection_refused(Refusal::HandshakeTimeout);
                // A connection that got as far as REGISTER is one the peer did not answer: the
                // handler names that cause when its stream ends.
                if stage < Stage::Registering {
                    if let Some(count) = admission.late.record() {
                        let what = if stage == Stage::Silent { "sent nothing" } else { "did not open a chaincode stream" };
                        warn!(
                            remote = %ticket.remote, count, ?timeout,
                            "closing connections that did not become a ready chaincode stream in time \
                             (CHAINCODE_HANDSHAKE_TIMEOUT); this one {what}; count includes those not logged \
                             since the last line"
                        );
                    }
                }
                ticket.close(Closed::Deadline);
            }
        }
    });
}

/// Waits for the connection's first byte without taking it, so a silent connection holds no TLS
/// or HTTP/2 state. `None` if the client closed it or it failed first.
async fn first_byte(tcp: &TcpStream) -> Option<u8> {
    let mut byte = [0u8; 1];
    match tcp.peek(&mut byte).await {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

/// Logs a client that speaks the other protocol than the server, with what to check, and says
/// whether the connection can go on.
fn speaks(protocol: Protocol, first: u8, remote: SocketAddr, admission: &Admission) -> bool {
    let advice = match protocol {
        Protocol::Tls if first == TLS_HANDSHAKE_RECORD => return true,
        Protocol::Plaintext if first != TLS_HANDSHAKE_RECORD => return true,
        Protocol::Tls if first != HTTP2_PREFACE_START => {
            debug!(%remote, first, "closing a connection that does not start a TLS handshake");
            return false;
        }
        Protocol::Tls => {
            "a client spoke plaintext HTTP/2 to this TLS chaincode server. If it is the peer, the package's \
             connection.json has tls_required false: set tls_required to true and root_cert to the CA of this \
             server's certificate (CHAINCODE_TLS_CERT) and install the package again, or serve plaintext \
             (unset the CHAINCODE_TLS_* variables)"
        }
        Protocol::Plaintext => {
            "a client started a TLS handshake with this plaintext chaincode server. If it is the peer, the \
             package's connection.json has tls_required true: serve TLS (CHAINCODE_TLS_DISABLED=false with \
             CHAINCODE_TLS_KEY and CHAINCODE_TLS_CERT, and CHAINCODE_CLIENT_CA_CERT when client_auth_required is \
             true), or set tls_required to false and install the package again"
        }
    };
    if let Some(count) = admission.mismatched.record() {
        warn!(%remote, count, "closing the connection: {advice}; count includes those not logged since the last line");
    }
    false
}

/// The accept loop, in its own task: TLS when there is an `acceptor`, else plaintext.
fn spawn(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    limits: Limits,
    metrics: Metrics,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Accepted {
    let protocol = if acceptor.is_some() { Protocol::Tls } else { Protocol::Plaintext };
    let (ready, accepted) = mpsc::channel(BACKLOG);
    let admission = Arc::new(Admission {
        limits,
        kill,
        table: Mutex::default(),
        metrics,
        evicted: BurstLog::default(),
        late: BurstLog::default(),
        refused_ready: BurstLog::default(),
        mismatched: BurstLog::default(),
    });
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
            let (ticket, evicted) = admission.admit(remote);
            if let Some((stage, evicted)) = evicted {
                admission.metrics.connection_refused(Refusal::MaxConnections);
                if let Some(count) = admission.evicted.record() {
                    warn!(
                        %remote, count, max_connections = limits.max_connections, ?stage,
                        "closing the least advanced connection still in its handshake to admit a new one: the \
                         server is at its limit of connections in their handshake (CHAINCODE_MAX_CONNECTIONS); \
                         ready chaincode streams are not affected; count includes those not logged since the \
                         last line"
                    );
                }
                if let Some(evicted) = evicted.upgrade() {
                    evicted.close(Closed::Evicted);
                }
            }
            if let Err(e) = tcp.set_nodelay(true) {
                debug!(%remote, error = %e, "could not set TCP_NODELAY");
            }
            watch_handshake(&ticket, limits.handshake_timeout);
            let (ready, stop, admission) = (ready.clone(), stop.clone(), Arc::clone(&admission));
            let kill = ticket.kill.clone();
            let acceptor = acceptor.clone();
            let handshake = async move {
                let first = first_byte(&tcp).await?;
                ticket.advance(Stage::Talking);
                if !speaks(protocol, first, remote, &admission) {
                    return None;
                }
                let stream = match acceptor {
                    None => Transport::Tcp(tcp),
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        Transport::Tls(Box::new(tls_handshake(&acceptor, tcp, remote, &admission.metrics).await?))
                    }
                    #[cfg(not(feature = "tls"))]
                    Some(never) => match never {},
                };
                Some(ServerIo::new(stream, ticket))
            };
            tokio::spawn(async move {
                let io = tokio::select! {
                    () = stop.cancelled() => return,
                    () = kill.cancelled() => return,
                    io = handshake => io,
                };
                if let Some(io) = io {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = ready.send(io) => {}
                    }
                }
            });
            // Let the connections accepted so far take their first steps (read their first
            // bytes) before the next accept can close one of them to make room.
            tokio::task::yield_now().await;
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
