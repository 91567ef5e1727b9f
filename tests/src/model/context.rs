//! One transaction's context on the peer side: its simulation (read set, write set, the
//! simulator's flags), which it may share with the chaincodes it calls, and its open query
//! iterators, which are its own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ccaas_protos::protos::{ChaincodeMessage, QueryResponse, QueryResponseMetadata, QueryResultBytes, SignedProposal};
use prost::Message;
use tokio::sync::oneshot;

use super::ledger::{KvMetadataWrite, KvRead, KvWrite, Ledger, Metadata, RangeQueryInfo, Version};
use super::{lock, TxKey};

/// (namespace, collection — empty for public state —, key).
pub(crate) type WriteKey = (String, String, String);

/// Who runs a transaction and on what: what the peer's `TransactionParams` carry.
#[derive(Clone)]
pub(crate) struct TxParams {
    pub(crate) key: TxKey,
    /// The chaincode's namespace (its name on the channel).
    pub(crate) namespace: String,
    pub(crate) is_init: bool,
    /// The proposal's creator, a serialized identity (read by private data access checks).
    pub(crate) creator: Bytes,
    /// The client's signed proposal, forwarded to chaincodes this transaction calls.
    pub(crate) signed_proposal: Option<SignedProposal>,
    /// The proposal's decorations, forwarded likewise.
    pub(crate) decorations: HashMap<String, Bytes>,
    /// The channel's ledger.
    pub(crate) ledger: Arc<Ledger>,
    /// The ledger height the transaction reads at.
    pub(crate) snapshot: u64,
    /// The simulation: a fresh one, or the caller's for a chaincode called on the same channel.
    pub(crate) sim: Arc<Mutex<Simulation>>,
}

/// A transaction being executed by the chaincode: its parameters, plus the peer's per-transaction
/// state (open query iterators, the waiter for COMPLETED).
pub(crate) struct TxContext {
    params: TxParams,
    iterators: Mutex<HashMap<String, QueryCursor>>,
    notifier: Mutex<Option<oneshot::Sender<ChaincodeMessage>>>,
}

/// The transaction's parameters read as its own fields (`context.namespace`, `context.key`, ...).
impl std::ops::Deref for TxContext {
    type Target = TxParams;

    fn deref(&self) -> &TxParams {
        &self.params
    }
}

impl TxContext {
    pub(crate) fn new(params: TxParams) -> (TxContext, oneshot::Receiver<ChaincodeMessage>) {
        let (tx, rx) = oneshot::channel();
        let context = TxContext { params, iterators: Mutex::new(HashMap::new()), notifier: Mutex::new(Some(tx)) };
        (context, rx)
    }

    pub(crate) fn sim(&self) -> std::sync::MutexGuard<'_, Simulation> {
        self.params.sim.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The simulation, to share with a chaincode this transaction calls on its channel.
    pub(crate) fn shared_sim(&self) -> Arc<Mutex<Simulation>> {
        Arc::clone(&self.params.sim)
    }

    pub(crate) fn iterators(&self) -> std::sync::MutexGuard<'_, HashMap<String, QueryCursor>> {
        self.iterators.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the chaincode's COMPLETED or ERROR to the waiting transaction. False if it was
    /// already answered.
    pub(crate) fn notify(&self, message: ChaincodeMessage) -> bool {
        let sender = self.notifier.lock().unwrap_or_else(|e| e.into_inner()).take();
        match sender {
            Some(sender) => sender.send(message).is_ok(),
            None => false,
        }
    }
}

/// What the transaction simulator accumulated (Fabric's `txSimulator` and its rwset builder).
#[derive(Default)]
pub(crate) struct Simulation {
    /// Value writes; `None` deletes (a purge is a delete of private data).
    pub(crate) writes: BTreeMap<WriteKey, Option<Bytes>>,
    /// Metadata writes: the last one per key replaces the key's metadata at commit.
    pub(crate) metadata_writes: BTreeMap<WriteKey, Metadata>,
    /// Point reads by (namespace, collection — empty for public state —, key).
    pub(crate) reads: BTreeMap<WriteKey, Option<Version>>,
    /// Public range queries, updated by their iterators as the peer reads rows.
    pub(crate) range_queries: Vec<Arc<Mutex<RangeQueryInfo>>>,
    pub(crate) write_performed: bool,
    pub(crate) paginated_query_performed: bool,
    pub(crate) pvtdata_query_performed: bool,
}

/// What a simulation produced, as the endorser collects it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SimulationResults {
    pub(crate) reads: Vec<KvRead>,
    pub(crate) writes: Vec<KvWrite>,
    pub(crate) metadata_writes: Vec<KvMetadataWrite>,
    pub(crate) range_queries: Vec<RangeQueryInfo>,
}

fn collection_of(collection: &str) -> Option<String> {
    (!collection.is_empty()).then(|| collection.to_string())
}

impl Simulation {
    pub(crate) fn results(&self) -> SimulationResults {
        SimulationResults {
            reads: self.read_set(),
            writes: self.write_set(),
            metadata_writes: self.metadata_write_set(),
            range_queries: self.range_queries.iter().map(|q| lock(q).clone()).collect(),
        }
    }

    pub(crate) fn write_set(&self) -> Vec<KvWrite> {
        self.writes
            .iter()
            .map(|((namespace, collection, key), value)| KvWrite {
                namespace: namespace.clone(),
                collection: collection_of(collection),
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    }

    pub(crate) fn metadata_write_set(&self) -> Vec<KvMetadataWrite> {
        self.metadata_writes
            .iter()
            .map(|((namespace, collection, key), entries)| KvMetadataWrite {
                namespace: namespace.clone(),
                collection: collection_of(collection),
                key: key.clone(),
                entries: entries.clone(),
            })
            .collect()
    }

    pub(crate) fn read_set(&self) -> Vec<KvRead> {
        self.reads
            .iter()
            .map(|((namespace, collection, key), version)| KvRead {
                namespace: namespace.clone(),
                collection: collection_of(collection),
                key: key.clone(),
                version: *version,
            })
            .collect()
    }
}

/// One result row of a query: the key it came from (for bookmarks) and its encoded bytes.
pub(crate) struct Row {
    pub(crate) key: String,
    pub(crate) bytes: Bytes,
    /// The committed version, for rows of a public range (recorded as the peer reads them).
    pub(crate) version: Option<Version>,
}

/// Bookmark for a paginated query, given the first row that was not returned.
pub(crate) type BookmarkFn = fn(next_key: Option<&str>, consumed: usize, previous: &str) -> String;

/// An open query iterator with the state of Fabric's `QueryResponseGenerator`.
pub(crate) struct QueryCursor {
    rows: std::vec::IntoIter<Row>,
    consumed: usize,
    pending: Vec<QueryResultBytes>,
    total_returned: i32,
    paginated: bool,
    bookmark: BookmarkFn,
    start_bookmark: String,
    range_query: Option<Arc<Mutex<RangeQueryInfo>>>,
}

/// What building one response did to the iterator.
pub(crate) enum Built {
    /// More batches follow: the iterator stays open.
    More(QueryResponse),
    /// The last batch: the iterator is finished and must be removed.
    Last(QueryResponse),
}

impl QueryCursor {
    pub(crate) fn new(rows: Vec<Row>, paginated: bool, bookmark: BookmarkFn, start_bookmark: String) -> Self {
        QueryCursor {
            rows: rows.into_iter(),
            consumed: 0,
            pending: Vec::new(),
            total_returned: 0,
            paginated,
            bookmark,
            start_bookmark,
            range_query: None,
        }
    }

    /// Records every row the peer reads from this cursor, and its exhaustion, in `range_query`
    /// (which the transaction's simulation holds): Fabric's `rangeQueryResultsHelper`.
    pub(crate) fn recording(mut self, range_query: Arc<Mutex<RangeQueryInfo>>) -> Self {
        self.range_query = Some(range_query);
        self
    }

    /// The next row, recorded as read (or the range as exhausted).
    fn next_row(&mut self) -> Option<Row> {
        let row = self.rows.next();
        if let Some(range_query) = &self.range_query {
            let mut info = lock(range_query);
            match &row {
                Some(Row { key, version: Some(version), .. }) => info.reads.push((key.clone(), *version)),
                Some(_) => {}
                None => info.exhausted = true,
            }
        }
        row
    }

    /// Fabric's `BuildQueryResponse` (`core/chaincode/query_response_generator.go:20-63`): fill a
    /// batch of `batch_size` rows; when one more row exists, cut the batch, carry that row over
    /// and answer `has_more`; stop at `total_limit` rows in all. Paginated queries answer all
    /// their rows at once with `QueryResponseMetadata`.
    pub(crate) fn build(&mut self, id: &str, batch_size: usize, total_limit: i32, paginated: bool) -> Built {
        loop {
            if self.total_returned >= total_limit {
                return self.finish(id, paginated);
            }
            let Some(row) = self.next_row() else { return self.finish(id, paginated) };
            self.consumed += 1;
            let result = QueryResultBytes { result_bytes: row.bytes };
            if !paginated && self.pending.len() == batch_size {
                let batch = std::mem::replace(&mut self.pending, vec![result]);
                self.total_returned += 1;
                return Built::More(QueryResponse {
                    results: batch,
                    has_more: true,
                    id: id.to_string(),
                    metadata: Bytes::new(),
                });
            }
            self.pending.push(result);
            self.total_returned += 1;
        }
    }

    fn finish(&mut self, id: &str, paginated: bool) -> Built {
        let results = std::mem::take(&mut self.pending);
        let metadata = if paginated && self.paginated {
            let next = self.rows.as_slice().first().map(|r| r.key.as_str());
            let bookmark = (self.bookmark)(next, self.consumed, &self.start_bookmark);
            QueryResponseMetadata { fetched_records_count: self.total_returned, bookmark }.encode_to_vec().into()
        } else {
            Bytes::new()
        };
        Built::Last(QueryResponse { results, has_more: false, id: id.to_string(), metadata })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Row> {
        (0..n).map(|i| Row { key: format!("k{i:05}"), bytes: Bytes::from(format!("{i}")), version: None }).collect()
    }

    fn no_bookmark(_: Option<&str>, _: usize, _: &str) -> String {
        String::new()
    }

    fn batches(n: usize, limit: i32) -> Vec<usize> {
        let mut cursor = QueryCursor::new(rows(n), false, no_bookmark, String::new());
        let mut sizes = Vec::new();
        loop {
            match cursor.build("id", 100, limit, false) {
                Built::More(r) => sizes.push(r.results.len()),
                Built::Last(r) => {
                    sizes.push(r.results.len());
                    return sizes;
                }
            }
        }
    }

    #[test]
    fn batches_of_one_hundred() {
        assert_eq!(batches(0, 10_000), vec![0]);
        assert_eq!(batches(100, 10_000), vec![100]);
        assert_eq!(batches(101, 10_000), vec![100, 1]);
        assert_eq!(batches(1050, 10_000), vec![100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    }

    #[test]
    fn total_query_limit_caps_rows() {
        let sizes = batches(500, 250);
        assert_eq!(sizes.iter().sum::<usize>(), 250);
        assert_eq!(sizes, vec![100, 100, 50]);
    }
}
