//! SIGTERM and SIGINT: the first asks for a graceful shutdown, the second cuts the wait for
//! in-flight transactions short.

use std::io;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Signal handlers installed for one server run; dropping it uninstalls nothing (tokio keeps
/// handlers for the life of the process) but stops listening.
pub(crate) struct ShutdownSignals {
    /// Cancelled on the first signal.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled on the second signal.
    pub(crate) force: CancellationToken,
    task: JoinHandle<()>,
}

impl Drop for ShutdownSignals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ShutdownSignals {
    /// Installs the handlers now (so a signal that arrives while the server starts is not lost)
    /// and listens for them in a task.
    pub(crate) fn install() -> io::Result<Self> {
        let mut signals = Signals::new()?;
        let shutdown = CancellationToken::new();
        let force = CancellationToken::new();
        let (first, second) = (shutdown.clone(), force.clone());
        let task = tokio::spawn(async move {
            let name = signals.recv().await;
            info!(signal = name, "shutdown requested; send it again to stop waiting for in-flight transactions");
            first.cancel();
            let name = signals.recv().await;
            warn!(signal = name, "second shutdown signal: no longer waiting for in-flight transactions");
            second.cancel();
        });
        Ok(ShutdownSignals { shutdown, force, task })
    }
}

#[cfg(unix)]
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals { terminate: signal(SignalKind::terminate())?, interrupt: signal(SignalKind::interrupt())? })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> io::Result<Self> {
        Ok(Signals)
    }

    async fn recv(&mut self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    }
}
