//! One transaction's context on the peer side: its simulation (read set, write set, the
//! simulator's flags) and its open query iterators.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;
use ccaas_protos::protos::{ChaincodeMessage, QueryResponse, QueryResponseMetadata, QueryResultBytes};
use prost::Message;
use tokio::sync::oneshot;

use super::ledger::{KvRead, KvWrite, Version};
use super::TxKey;

/// A transaction being executed by the chaincode.
pub(crate) struct TxContext {
    pub(crate) key: TxKey,
    /// The chaincode's namespace (its name on the channel).
    pub(crate) namespace: String,
    pub(crate) is_init: bool,
    /// The ledger height the transaction reads at.
    pub(crate) snapshot: u64,
    pub(crate) sim: Mutex<Simulation>,
    notifier: Mutex<Option<oneshot::Sender<ChaincodeMessage>>>,
}

impl TxContext {
    pub(crate) fn new(
        key: TxKey,
        namespace: String,
        is_init: bool,
        snapshot: u64,
    ) -> (TxContext, oneshot::Receiver<ChaincodeMessage>) {
        let (tx, rx) = oneshot::channel();
        let context = TxContext {
            key,
            namespace,
            is_init,
            snapshot,
            sim: Mutex::new(Simulation::default()),
            notifier: Mutex::new(Some(tx)),
        };
        (context, rx)
    }

    pub(crate) fn sim(&self) -> std::sync::MutexGuard<'_, Simulation> {
        self.sim.lock().unwrap_or_else(|e| e.into_inner())
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

/// What the transaction simulator accumulated.
#[derive(Default)]
pub(crate) struct Simulation {
    pub(crate) writes: BTreeMap<(String, String), Option<Bytes>>,
    pub(crate) reads: BTreeMap<(String, String), Option<Version>>,
    pub(crate) write_performed: bool,
    pub(crate) paginated_query_performed: bool,
    pub(crate) iterators: HashMap<String, QueryCursor>,
}

impl Simulation {
    pub(crate) fn write_set(&self) -> Vec<KvWrite> {
        self.writes
            .iter()
            .map(|((namespace, key), value)| KvWrite {
                namespace: namespace.clone(),
                collection: None,
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    }

    pub(crate) fn read_set(&self) -> Vec<KvRead> {
        self.reads
            .iter()
            .map(|((namespace, key), version)| KvRead {
                namespace: namespace.clone(),
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
        }
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
            let Some(row) = self.rows.next() else { return self.finish(id, paginated) };
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
        (0..n).map(|i| Row { key: format!("k{i:05}"), bytes: Bytes::from(format!("{i}")) }).collect()
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
