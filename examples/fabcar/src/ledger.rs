//! The part of the ledger the transactions use, as a trait so they run against the peer or an
//! in-memory map alike.

use std::future::Future;

use ccaas_shim::{ChaincodeStub, Result};

/// World state reads and writes of one transaction.
///
/// [`ChaincodeStub`] implements it by talking to the peer; tests can implement it over a map.
pub trait WorldState: Sync {
    /// The value stored under `key`, or `None` if there is none.
    fn get_state(&self, key: &str) -> impl Future<Output = Result<Option<impl AsRef<[u8]> + Send>>> + Send;

    /// Writes `value` under `key`.
    fn put_state(&self, key: &str, value: Vec<u8>) -> impl Future<Output = Result<()>> + Send;

    /// Calls `visit` with every key in `[start_key, end_key)` and its value, in key order, as
    /// Fabric's `GetStateByRange` returns them: an empty `start_key` starts after the composite
    /// keys and an empty `end_key` has no upper bound.
    fn for_each_in_range<F>(&self, start_key: &str, end_key: &str, visit: F) -> impl Future<Output = Result<()>> + Send
    where
        F: FnMut(&str, &[u8]) + Send;
}

impl WorldState for ChaincodeStub {
    async fn get_state(&self, key: &str) -> Result<Option<impl AsRef<[u8]> + Send>> {
        ChaincodeStub::get_state(self, key).await
    }

    async fn put_state(&self, key: &str, value: Vec<u8>) -> Result<()> {
        ChaincodeStub::put_state(self, key, value).await
    }

    async fn for_each_in_range<F>(&self, start_key: &str, end_key: &str, mut visit: F) -> Result<()>
    where
        F: FnMut(&str, &[u8]) + Send,
    {
        let mut rows = self.get_state_by_range(start_key, end_key).await?;
        while let Some(row) = rows.next().await? {
            visit(&row.key, &row.value);
        }
        // The Go sample's `defer resultsIterator.Close()`, whose error it ignores.
        if let Err(e) = rows.close().await {
            tracing::debug!(error = %e, "closing the range query failed");
        }
        Ok(())
    }
}
