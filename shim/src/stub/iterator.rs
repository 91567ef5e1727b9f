//! Query iterators: range, partial composite key, rich query and history results.
//!
//! The peer returns results in batches (100 rows by default) and keeps an iterator open on its
//! side. When a batch says more rows follow, the next batch is requested in the background while
//! the current one is consumed, so the round trip overlaps with the chaincode's own work.
//! An iterator dropped before it is exhausted is closed (QUERY_STATE_CLOSE) before the
//! transaction's next request or before it completes; [`QueryIterator::close`] closes it at once.
//!
//! Reading ahead has one visible effect: the peer records in the transaction's read set every
//! key its iterator handed out (Fabric's `RangeQueryInfo`, which the validator re-checks for
//! phantom reads), so a range the chaincode abandons early covers up to one batch more than
//! with the Go shim, which fetches only when a batch runs out. The read-ahead is requested as
//! soon as a batch arrives and is never cancelled, so every endorsing peer records the same
//! keys and their endorsements agree.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, QueryResponse, QueryResponseMetadata, QueryResultBytes, QueryStateClose, QueryStateNext,
};
use ccaas_protos::queryresult::{KeyModification, Kv};
use prost::Message;
use tokio::task::JoinHandle;

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
    prefetch: Option<JoinHandle<Result<QueryResponse>>>,
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
            prefetch: None,
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
        if self.has_more {
            self.start_prefetch();
        }
    }

    fn start_prefetch(&mut self) {
        let link = Arc::clone(&self.link);
        let request = QueryStateNext { id: self.id.clone() };
        self.prefetch = Some(tokio::spawn(async move {
            let payload = link.call(Type::QueryStateNext, &request).await?;
            decode_response(Type::QueryStateNext, payload)
        }));
    }

    /// Whether another row is available, fetching the next batch if needed.
    pub async fn has_next(&mut self) -> Result<bool> {
        while self.rows.is_empty() {
            let Some(prefetch) = self.prefetch.take() else { return Ok(false) };
            let response =
                prefetch.await.map_err(|e| ShimError::Unsupported(format!("query prefetch task failed: {e}")))??;
            self.absorb(response);
        }
        Ok(true)
    }

    /// The next row, or `None` when the query is exhausted.
    pub async fn next(&mut self) -> Result<Option<T>> {
        if self.closed {
            return Err(ShimError::Unsupported("the query iterator is closed".into()));
        }
        if !self.has_next().await? {
            return Ok(None);
        }
        let row = self.rows.pop_front().expect("has_next guarantees a row");
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
        if let Some(prefetch) = self.prefetch.take() {
            // Let the in-flight batch arrive so the close is not mistaken for its reply.
            let _ = prefetch.await;
        }
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
        let unfinished = self.has_more || self.prefetch.is_some();
        if !self.closed && unfinished && !self.id.is_empty() {
            // The prefetch task (if any) keeps running and releases the link when its reply
            // arrives; the close is sent after it, before the transaction's next request.
            self.link.close_later(std::mem::take(&mut self.id));
        }
    }
}

/// Decodes a `QueryResponse` payload.
pub(crate) fn decode_response(request: Type, payload: Bytes) -> Result<QueryResponse> {
    QueryResponse::decode(payload)
        .map_err(|e| ShimError::Decode { request: request.as_str_name(), reason: e.to_string() })
}
