//! The part of the ledger the transactions use, as a trait so they run against the peer or an
//! in-memory map alike.

use std::future::Future;

use ccaas_shim::{ChaincodeStub, Result};

use super::TxError;

/// World state reads and writes of one transaction.
///
/// [`ChaincodeStub`] implements it by talking to the peer; tests can implement it over a map.
pub trait WorldState: Sync {
    /// The value stored under `key`, or `None` if there is none.
    fn get_state(&self, key: &str) -> impl Future<Output = Result<Option<impl AsRef<[u8]> + Send>>> + Send;

    /// Writes `value` under `key`.
    fn put_state(&self, key: &str, value: Vec<u8>) -> impl Future<Output = Result<()>> + Send;

    /// Deletes `key`.
    fn del_state(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Calls `visit` with every simple key and its value in key order (an open-ended range query,
    /// `GetStateByRange("", "")`), stopping at the first error, either the ledger's or `visit`'s.
    fn for_each_state<F>(&self, visit: F) -> impl Future<Output = Result<(), TxError>> + Send
    where
        F: FnMut(&str, &[u8]) -> Result<(), TxError> + Send;
}

impl WorldState for ChaincodeStub {
    async fn get_state(&self, key: &str) -> Result<Option<impl AsRef<[u8]> + Send>> {
        ChaincodeStub::get_state(self, key).await
    }

    async fn put_state(&self, key: &str, value: Vec<u8>) -> Result<()> {
        ChaincodeStub::put_state(self, key, value).await
    }

    async fn del_state(&self, key: &str) -> Result<()> {
        ChaincodeStub::del_state(self, key).await
    }

    async fn for_each_state<F>(&self, mut visit: F) -> Result<(), TxError>
    where
        F: FnMut(&str, &[u8]) -> Result<(), TxError> + Send,
    {
        let mut rows = self.get_state_by_range("", "").await?;
        while let Some(row) = rows.next().await? {
            visit(&row.key, &row.value)?;
        }
        Ok(())
    }
}
