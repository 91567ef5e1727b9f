//! Query iterators: range, partial composite key, rich query and history results.
//!
//! The peer returns results in batches (100 rows by default) and keeps an iterator open on its
//! side. The next batch (QUERY_STATE_NEXT) is requested exactly when the Go shim requests it:
//! when the chaincode takes the last row of the current batch and the peer said more follow
//! (fabric-chaincode-go `shim/stub.go`, `nextResult`). Nothing is fetched in the background.
//!
//! This matters for correctness, not only for speed: the peer records in the transaction's read
//! set every key its iterator has handed out (Fabric's `RangeQueryInfo`, which the validator
//! re-checks for phantom reads). Fetching on demand makes those keys a function of the rows the
//! chaincode consumed and nothing else, so every endorsing peer records the same read set for
//! the same proposal, the same one the Go shim makes, and no request of a transaction can reach
//! the peer after the transaction completed.
//!
//! An iterator dropped before it is exhausted is closed (QUERY_STATE_CLOSE) before the
//! transaction's next request or before it completes; [`QueryIterator::close`] closes it at once.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, QueryResponse, QueryResponseMetadata, QueryResultBytes, QueryStateClose, QueryStateNext,
};
use ccaas_protos::queryresult::{KeyModification, Kv};
use prost::Message;

use crate::error::{Result, ShimError};
use crate::handler::link::TxLink;

/// A row of a range or rich query: namespace, key and value.
pub type KeyValue = Kv;

/// An async iterator over [`KeyValue`] rows.
pub type StateIterator = QueryIterator<KeyValue>;

/// An async iterator over the history of one key.
pub type HistoryIterator = QueryIterator<KeyModification>;

/// Page information returned with a paginated query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// How many rows the page holds.
    pub fetched_records_count: i32,
    /// Pass this to the next call to continue after this page.
    pub bookmark: String,
}

impl From<QueryResponseMetadata> for PageInfo {
    fn from(m: QueryResponseMetadata) -> Self {
        PageInfo { fetched_records_count: m.fetched_records_count, bookmark: m.bookmark }
    }
}

/// An async iterator over query results, decoded as `T`.
///
/// ```no_run
/// # async fn example(stub: &ccaas_shim::ChaincodeStub) -> ccaas_shim::Result<()> {
/// let mut rows = stub.get_state_by_range("asset1", "asset9").await?;
/// while let Some(row) = rows.next().await? {
///     println!("{} = {} bytes", row.key, row.value.len());
/// }
/// # Ok(()) }
/// ```
pub struct QueryIterator<T> {
    link: Arc<TxLink>,
    id: String,
    rows: VecDeque<QueryResultBytes>,
    has_more: bool,
    closed: bool,
    _row: PhantomData<fn() -> T>,
}

impl<T: Message + Default> QueryIterator<T> {
    /// Wraps the first response of a query.
    pub(crate) fn new(link: Arc<TxLink>, first: QueryResponse) -> Self {
        let mut iterator = QueryIterator {
            link,
            id: String::new(),
            rows: VecDeque::new(),
            has_more: false,
            closed: false,
            _row: PhantomData,
        };
        iterator.absorb(first);
        iterator
    }

    fn absorb(&mut self, response: QueryResponse) {
        if !response.id.is_empty() {
            self.id = response.id;
        }
        self.rows = response.results.into();
        self.has_more = response.has_more;
    }

    /// QUERY_STATE_NEXT: replaces the (consumed) batch with the peer's next one.
    async fn fetch_next_batch(&mut self) -> Result<()> {
        let request = QueryStateNext { id: self.id.clone() };
        let payload = self.link.call(Type::QueryStateNext, &request).await?;
        let response = decode_response(Type::QueryStateNext, payload)?;
        self.absorb(response);
        Ok(())
    }

    /// Whether another row is available. Sends nothing to the peer: the next batch was already
    /// fetched when the last row of the previous one was taken.
    pub async fn has_next(&mut self) -> Result<bool> {
        // A peer never answers `has_more` with an empty batch; should one, ask again.
        while self.rows.is_empty() && self.has_more {
            self.fetch_next_batch().await?;
        }
        Ok(!self.rows.is_empty())
    }

    /// The next row, or `None` when the query is exhausted.
    ///
    /// Taking the last row of a batch fetches the next batch first, as the Go shim does, so the
    /// keys the peer records as read depend only on how many rows the chaincode took.
    pub async fn next(&mut self) -> Result<Option<T>> {
        if self.closed {
            return Err(ShimError::Unsupported("the query iterator is closed".into()));
        }
        if !self.has_next().await? {
            return Ok(None);
        }
        let row = self.rows.pop_front().expect("has_next guarantees a row");
        if self.rows.is_empty() && self.has_more {
            self.fetch_next_batch().await?;
        }
        T::decode(row.result_bytes)
            .map(Some)
            .map_err(|e| ShimError::Decode { request: "a query result row", reason: e.to_string() })
    }

    /// Reads every remaining row.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut all = Vec::with_capacity(self.rows.len());
        while let Some(row) = self.next().await? {
            all.push(row);
        }
        Ok(all)
    }

    /// Closes the iterator on the peer now (QUERY_STATE_CLOSE).
    pub async fn close(mut self) -> Result<()> {
        self.closed = true;
        if self.id.is_empty() {
            return Ok(());
        }
        let payload = self.link.call(Type::QueryStateClose, &QueryStateClose { id: self.id.clone() }).await?;
        decode_response(Type::QueryStateClose, payload).map(|_| ())
    }

    /// The peer's iterator id (empty for a query that returned everything at once).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl<T> Drop for QueryIterator<T> {
    fn drop(&mut self) {
        if !self.closed && self.has_more && !self.id.is_empty() {
            // Sent before the transaction's next request, or before it completes.
            self.link.close_later(std::mem::take(&mut self.id));
        }
    }
}

/// Decodes a `QueryResponse` payload, from a copy of it: its rows live as long as the chaincode
/// iterates, and as slices of the received message they would keep alive the whole buffer the
/// gRPC layer read it into, with every other message in that buffer.
pub(crate) fn decode_response(request: Type, payload: Bytes) -> Result<QueryResponse> {
    QueryResponse::decode(Bytes::copy_from_slice(&payload))
        .map_err(|e| ShimError::Decode { request: request.as_str_name(), reason: e.to_string() })
}
