//! The command's deadline (`--timeout`): every network call (peer, Gateway, orderer, registry,
//! Kubernetes) is bounded by its own limit and by what is left of it, and the last call begun is
//! remembered, so that a command that runs out of time can say what did not answer.

use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

static DEADLINE: OnceLock<Instant> = OnceLock::new();
static WAITING_ON: Mutex<Option<String>> = Mutex::new(None);

/// Sets the deadline of the whole command, `after` from now (once; later calls change nothing).
pub fn set(after: Duration) {
    let _ = DEADLINE.set(Instant::now() + after);
}

/// What is left before the deadline (`None` without one).
pub fn remaining() -> Option<Duration> {
    DEADLINE.get().map(|d| d.saturating_duration_since(Instant::now()))
}

/// `own`, or what is left of the deadline if that is shorter.
pub fn limit(own: Duration) -> Duration {
    remaining().map_or(own, |r| r.min(own))
}

/// The network call begun last and not finished, e.g. `peer0-org1 (Org1MSP) at 10.0.0.5:7051
/// (connect)`.
pub fn waiting_on() -> Option<String> {
    WAITING_ON.lock().map(|w| w.clone()).unwrap_or_default()
}

/// Runs `call` to `what`, bounded by `own` and the deadline: [`Error::Timeout`] naming `what`
/// when it does not finish in time.
pub async fn bound<T>(what: &str, own: Duration, call: impl Future<Output = Result<T>>) -> Result<T> {
    let after = limit(own);
    let r = track(what, tokio::time::timeout(after, call)).await;
    r.map_err(|_| Error::Timeout { what: what.to_string(), after })?
}

/// Runs `call`, remembering it as what the command waits on (see [`waiting_on`]) while it runs.
pub async fn track<F: Future>(what: &str, call: F) -> F::Output {
    let _waiting = waiting(what);
    call.await
}

/// Remembers `what` as what the command waits on (see [`waiting_on`]) until the guard is dropped.
pub fn waiting(what: &str) -> Waiting {
    if let Ok(mut w) = WAITING_ON.lock() {
        *w = Some(what.to_string());
    }
    Waiting(())
}

/// Clears what [`waiting`] remembered when dropped.
#[must_use = "what the command waits on is forgotten when this is dropped"]
pub struct Waiting(());

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(mut w) = WAITING_ON.lock() {
            *w = None;
        }
    }
}
