//! Graceful shutdown bookkeeping shared by the server and every connection.
//!
//! On shutdown the server calls [`Drain::begin`]: connections stop accepting new transactions
//! (they answer them with an error so the client can retry elsewhere), in-flight transactions run
//! to completion, and [`Drain::wait`] returns when they are done or the deadline passes. Then
//! [`Drain::close_connections`] ends every stream.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Tracks in-flight transactions and the shutdown state of one server.
#[derive(Clone, Default)]
pub struct Drain {
    transactions: TaskTracker,
    stopping: CancellationToken,
    closed: CancellationToken,
    aborted: CancellationToken,
}

impl Drain {
    /// A drain with nothing in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawns a transaction task that shutdown will wait for.
    pub(crate) fn spawn_transaction<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let aborted = self.aborted.clone();
        // Boxed: a transaction's future is several KiB; held by value, spawning and finishing the
        // task would copy it four times (a third of the instructions a ReadAsset costs).
        let task = Box::pin(task);
        self.transactions.spawn(async move {
            tokio::select! {
                () = task => {}
                () = aborted.cancelled() => {}
            }
        });
    }

    /// Whether shutdown has begun (new transactions are refused).
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// How many transactions are running now.
    pub fn in_flight(&self) -> usize {
        self.transactions.len()
    }

    /// Starts shutdown: no new transactions are accepted from now on.
    pub fn begin(&self) {
        self.stopping.cancel();
        self.transactions.close();
    }

    /// Waits until every in-flight transaction finished, or `deadline` passed. Returns whether
    /// all of them finished.
    pub async fn wait(&self, deadline: Duration) -> bool {
        tokio::time::timeout(deadline, self.transactions.wait()).await.is_ok()
    }

    /// Ends every connection's stream.
    pub fn close_connections(&self) {
        self.closed.cancel();
    }

    /// Stops every transaction still running (after the shutdown deadline): they are dropped at
    /// their next await point and send nothing more to the peer.
    pub fn abort_transactions(&self) {
        self.aborted.cancel();
    }

    /// Resolves when connections must end.
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await
    }
}
