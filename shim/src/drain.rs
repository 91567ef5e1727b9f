//! Graceful shutdown bookkeeping shared by the server and every connection.
//!
//! On shutdown the server calls [`Drain::begin`]: connections stop accepting new transactions
//! (they answer them with an error so the client can retry elsewhere), in-flight transactions run
//! to completion, and [`Drain::wait`] returns when they are done or the deadline passes. Then
//! [`Drain::close_connections`] ends every stream.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Tracks in-flight transactions and the shutdown state of one server.
#[derive(Clone, Default)]
pub struct Drain {
    transactions: Arc<Transactions>,
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
        let running = Running::new(&self.transactions);
        tokio::spawn(async move {
            let _running = running;
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
        self.transactions.running.load(Ordering::Acquire)
    }

    /// Starts shutdown: no new transactions are accepted from now on.
    pub fn begin(&self) {
        self.stopping.cancel();
    }

    /// Waits until shutdown has begun and every in-flight transaction finished, or `deadline`
    /// passed. Returns whether all of them finished.
    pub async fn wait(&self, deadline: Duration) -> bool {
        let finished = async {
            self.stopping.cancelled().await;
            self.transactions.none_running().await;
        };
        tokio::time::timeout(deadline, finished).await.is_ok()
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

/// How many transaction tasks are running, and a wake-up for when none is.
#[derive(Default)]
struct Transactions {
    running: AtomicUsize,
    none_running: Notify,
}

impl Transactions {
    /// Returns once no transaction task is running.
    async fn none_running(&self) {
        loop {
            // Registered before the count is read, so a task ending in between still wakes us.
            let mut notified = pin!(self.none_running.notified());
            notified.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One running transaction task: counted from its spawn until the task ends (after the
/// transaction's future is dropped).
struct Running(Arc<Transactions>);

impl Running {
    fn new(transactions: &Arc<Transactions>) -> Self {
        transactions.running.fetch_add(1, Ordering::AcqRel);
        Running(Arc::clone(transactions))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none_running.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wait_returns_once_shutdown_began_and_every_transaction_ended() {
        let drain = Drain::new();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        drain.spawn_transaction(async move {
            let _ = finished.await;
        });
        tokio::task::yield_now().await;
        assert_eq!(drain.in_flight(), 1);

        // Not begun: waits out the deadline even with nothing left running.
        let idle = Drain::new();
        assert!(!idle.wait(Duration::from_secs(1)).await);
        idle.begin();
        assert!(idle.wait(Duration::from_secs(1)).await);

        drain.begin();
        assert!(!drain.wait(Duration::from_secs(1)).await, "a transaction is still running");
        let waiting = tokio::spawn({
            let drain = drain.clone();
            async move { drain.wait(Duration::from_secs(60)).await }
        });
        finish.send(()).unwrap();
        assert!(waiting.await.unwrap());
        assert_eq!(drain.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn aborted_transactions_end_and_are_no_longer_counted() {
        let drain = Drain::new();
        drain.spawn_transaction(std::future::pending());
        tokio::task::yield_now().await;
        drain.begin();
        assert!(!drain.wait(Duration::from_secs(1)).await);
        drain.abort_transactions();
        assert!(drain.wait(Duration::from_secs(1)).await);
        assert_eq!(drain.in_flight(), 0);
    }
}
