//! The committed ledger: world state and history, per channel-independent namespace.
//!
//! Every key keeps all of its committed revisions (oldest first), so a transaction can read the
//! state *as of the moment it started*, exactly as a Fabric simulation does (the peer blocks
//! commits while simulations run, so every read of one transaction sees the same state). The same
//! revisions are the key's history (`GetHistoryForKey`, newest first).
//!
//! Layout: namespace (chaincode name) → public state and private collections (the latter reserved
//! for private data, a later addition) → sorted map key → revisions. Keys sort by their UTF-8
//! bytes, like LevelDB's.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use bytes::Bytes;
use prost_types::Timestamp;
use serde::{Deserialize, Serialize};

/// Fabric's version of a committed key: the block and the transaction within it that wrote it.
///
/// The model commits one transaction per block, so `tx_num` is always 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Block number of the commit.
    pub block_num: u64,
    /// Index of the transaction in its block.
    pub tx_num: u64,
}

/// Key-level metadata (for example the `VALIDATION_PARAMETER` endorsement policy).
pub type Metadata = BTreeMap<String, Bytes>;

/// A committed value with its version and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedValue {
    /// The value.
    pub value: Bytes,
    /// Where it was committed.
    pub version: Version,
    /// Key-level metadata.
    pub metadata: Metadata,
}

/// One committed change of a key, as `GetHistoryForKey` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The transaction that wrote the change.
    pub tx_id: String,
    /// The value written (empty for a delete).
    pub value: Bytes,
    /// The transaction's timestamp (from its proposal's channel header).
    pub timestamp: Timestamp,
    /// Whether the change deleted the key.
    pub is_delete: bool,
    /// Where it was committed.
    pub version: Version,
}

/// One write of a transaction's write set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvWrite {
    /// The namespace (chaincode name).
    pub namespace: String,
    /// The private data collection, `None` for public state.
    pub collection: Option<String>,
    /// The key.
    pub key: String,
    /// The value; `None` deletes the key (Fabric writes an empty value as a delete).
    #[serde(serialize_with = "serialize_opt_bytes")]
    pub value: Option<Bytes>,
}

impl KvWrite {
    /// Whether this write deletes its key.
    pub fn is_delete(&self) -> bool {
        self.value.is_none()
    }
}

/// One read of a transaction's read set: the version it saw (`None`: the key did not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvRead {
    /// The namespace (chaincode name).
    pub namespace: String,
    /// The key.
    pub key: String,
    /// The version read.
    pub version: Option<Version>,
}

fn serialize_opt_bytes<S: serde::Serializer>(value: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        None => s.serialize_none(),
        Some(bytes) => s.serialize_some(&crate::printable(bytes)),
    }
}

#[derive(Debug, Clone)]
struct Revision {
    version: Version,
    tx_id: String,
    timestamp: Timestamp,
    value: Option<Bytes>,
    metadata: Arc<Metadata>,
}

#[derive(Debug, Default)]
struct KeyStore {
    keys: BTreeMap<String, Vec<Revision>>,
}

impl KeyStore {
    /// The revision of `key` visible at block height `height` (inclusive).
    fn at(&self, key: &str, height: u64) -> Option<&Revision> {
        self.keys.get(key).and_then(|revisions| visible(revisions, height))
    }
}

fn visible(revisions: &[Revision], height: u64) -> Option<&Revision> {
    revisions.iter().rev().find(|r| r.version.block_num <= height)
}

#[derive(Debug, Default)]
struct NamespaceState {
    public: KeyStore,
    /// Private data collections, by name (reserved for private data support).
    #[allow(dead_code)]
    collections: BTreeMap<String, KeyStore>,
}

#[derive(Debug, Default)]
struct State {
    height: u64,
    namespaces: BTreeMap<String, NamespaceState>,
}

/// The committed ledger of the emulated peer (one channel).
///
/// Share it between emulators (for example across reconnects) with an `Arc`. Reading it never
/// blocks a running transaction for longer than a map lookup.
///
/// ```
/// use ccaas_testkit::Ledger;
/// let ledger = Ledger::new();
/// ledger.seed("basic", [("asset1", "blue"), ("asset2", "red")]);
/// assert_eq!(ledger.get("basic", "asset1").as_deref(), Some(&b"blue"[..]));
/// assert_eq!(ledger.keys("basic"), vec!["asset1", "asset2"]);
/// ```
#[derive(Debug, Default)]
pub struct Ledger {
    state: RwLock<State>,
}

impl Ledger {
    /// An empty ledger at height 0, shared.
    pub fn new() -> Arc<Ledger> {
        Arc::new(Ledger::default())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of committed blocks (one transaction each).
    pub fn height(&self) -> u64 {
        self.read().height
    }

    /// The committed value of `key` in `namespace`.
    pub fn get(&self, namespace: &str, key: &str) -> Option<Bytes> {
        self.get_versioned(namespace, key).map(|v| v.value)
    }

    /// The committed value of `key` with its version and metadata.
    pub fn get_versioned(&self, namespace: &str, key: &str) -> Option<VersionedValue> {
        let state = self.read();
        let height = state.height;
        let revision = state.namespaces.get(namespace)?.public.at(key, height)?;
        Some(VersionedValue {
            value: revision.value.clone()?,
            version: revision.version,
            metadata: (*revision.metadata).clone(),
        })
    }

    /// Every live key of `namespace`, in key order (composite keys, which start with U+0000, first).
    pub fn keys(&self, namespace: &str) -> Vec<String> {
        self.entries(namespace).into_iter().map(|(k, _)| k).collect()
    }

    /// Every live key of `namespace` with its value, in key order.
    pub fn entries(&self, namespace: &str) -> Vec<(String, Bytes)> {
        let state = self.read();
        self.range_locked(&state, namespace, "", "", state.height)
    }

    /// How many live keys `namespace` holds.
    pub fn len(&self, namespace: &str) -> usize {
        self.entries(namespace).len()
    }

    /// Whether `namespace` holds no live key.
    pub fn is_empty(&self, namespace: &str) -> bool {
        self.len(namespace) == 0
    }

    /// The namespaces that ever had a write.
    pub fn namespaces(&self) -> Vec<String> {
        self.read().namespaces.keys().cloned().collect()
    }

    /// Every committed change of `key`, newest first.
    pub fn history(&self, namespace: &str, key: &str) -> Vec<HistoryEntry> {
        let state = self.read();
        self.history_at(&state, namespace, key, state.height)
    }

    /// Commits `entries` as one synthetic transaction (txid `seed-<block>`), for setting up a test.
    /// An empty value deletes the key. Returns the version written.
    pub fn seed<K, V>(&self, namespace: &str, entries: impl IntoIterator<Item = (K, V)>) -> Version
    where
        K: Into<String>,
        V: Into<Bytes>,
    {
        let writes: Vec<KvWrite> = entries
            .into_iter()
            .map(|(k, v)| {
                let value: Bytes = v.into();
                KvWrite {
                    namespace: namespace.to_string(),
                    collection: None,
                    key: k.into(),
                    value: (!value.is_empty()).then_some(value),
                }
            })
            .collect();
        let tx_id = format!("seed-{}", self.height() + 1);
        self.commit(&tx_id, SystemTime::now().into(), &writes)
    }

    /// Commits a write set as the next block. Returns the version written.
    pub fn commit(&self, tx_id: &str, timestamp: Timestamp, writes: &[KvWrite]) -> Version {
        let mut state = self.write();
        Self::apply(&mut state, tx_id, timestamp, writes)
    }

    /// Commits a write set if every read still sees the version it saw (Fabric's MVCC
    /// validation), atomically; `None` if a read is stale.
    pub(crate) fn commit_if_current(
        &self,
        tx_id: &str,
        timestamp: Timestamp,
        reads: &[KvRead],
        writes: &[KvWrite],
    ) -> Option<Version> {
        let mut state = self.write();
        let height = state.height;
        let current = reads.iter().all(|read| {
            let version = state
                .namespaces
                .get(&read.namespace)
                .and_then(|ns| ns.public.at(&read.key, height))
                .filter(|r| r.value.is_some())
                .map(|r| r.version);
            version == read.version
        });
        current.then(|| Self::apply(&mut state, tx_id, timestamp, writes))
    }

    fn apply(state: &mut State, tx_id: &str, timestamp: Timestamp, writes: &[KvWrite]) -> Version {
        state.height += 1;
        let version = Version { block_num: state.height, tx_num: 0 };
        for write in writes {
            let namespace = state.namespaces.entry(write.namespace.clone()).or_default();
            let store = match &write.collection {
                None => &mut namespace.public,
                Some(collection) => namespace.collections.entry(collection.clone()).or_default(),
            };
            let revisions = store.keys.entry(write.key.clone()).or_default();
            let metadata = match (&write.value, revisions.last()) {
                // Fabric drops a key's metadata when the key is deleted.
                (Some(_), Some(previous)) if previous.value.is_some() => Arc::clone(&previous.metadata),
                _ => Arc::new(Metadata::new()),
            };
            revisions.push(Revision {
                version,
                tx_id: tx_id.to_string(),
                timestamp,
                value: write.value.clone(),
                metadata,
            });
        }
        version
    }

    // ------------------------------------------------------------------ snapshot reads

    /// The value and version of `key` as of block `height`.
    pub(crate) fn get_at(&self, namespace: &str, key: &str, height: u64) -> Option<(Bytes, Version)> {
        let state = self.read();
        let revision = state.namespaces.get(namespace)?.public.at(key, height)?;
        Some((revision.value.clone()?, revision.version))
    }

    /// Live keys in `[start, end)` as of block `height`; empty bounds are open.
    pub(crate) fn range_at(&self, namespace: &str, start: &str, end: &str, height: u64) -> Vec<(String, Bytes)> {
        let state = self.read();
        self.range_locked(&state, namespace, start, end, height)
    }

    fn range_locked(
        &self,
        state: &State,
        namespace: &str,
        start: &str,
        end: &str,
        height: u64,
    ) -> Vec<(String, Bytes)> {
        let Some(ns) = state.namespaces.get(namespace) else { return Vec::new() };
        if !end.is_empty() && start >= end {
            return Vec::new();
        }
        let upper = if end.is_empty() { Bound::Unbounded } else { Bound::Excluded(end) };
        ns.public
            .keys
            .range::<str, _>((Bound::Included(start), upper))
            .filter_map(|(key, revisions)| {
                let value = visible(revisions, height)?.value.clone()?;
                Some((key.clone(), value))
            })
            .collect()
    }

    /// History of `key` as of block `height`, newest first.
    pub(crate) fn history_at_height(&self, namespace: &str, key: &str, height: u64) -> Vec<HistoryEntry> {
        let state = self.read();
        self.history_at(&state, namespace, key, height)
    }

    fn history_at(&self, state: &State, namespace: &str, key: &str, height: u64) -> Vec<HistoryEntry> {
        let Some(revisions) = state.namespaces.get(namespace).and_then(|ns| ns.public.keys.get(key)) else {
            return Vec::new();
        };
        revisions
            .iter()
            .rev()
            .filter(|r| r.version.block_num <= height)
            .map(|r| HistoryEntry {
                tx_id: r.tx_id.clone(),
                value: r.value.clone().unwrap_or_default(),
                timestamp: r.timestamp,
                is_delete: r.value.is_none(),
                version: r.version,
            })
            .collect()
    }

    // ------------------------------------------------------------------ persistence

    /// The committed state (latest values only, no history) as a serializable snapshot.
    pub fn export(&self) -> LedgerExport {
        let state = self.read();
        let height = state.height;
        let namespaces = state
            .namespaces
            .keys()
            .map(|ns| {
                let entries = self
                    .range_locked(&state, ns, "", "", height)
                    .into_iter()
                    .map(|(k, v)| (k, base64_encode(&v)))
                    .collect();
                (ns.clone(), entries)
            })
            .collect();
        LedgerExport { namespaces }
    }

    /// Commits an exported snapshot (one synthetic transaction per namespace).
    pub fn import(&self, export: &LedgerExport) -> Result<(), base64::DecodeError> {
        for (namespace, entries) in &export.namespaces {
            let mut decoded = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                decoded.push((key.clone(), Bytes::from(base64_decode(value)?)));
            }
            self.seed(namespace, decoded);
        }
        Ok(())
    }
}

/// A serializable copy of the committed state: namespace → key → base64 value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerExport {
    /// Namespace → key → base64-encoded value.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_ignore_later_commits() {
        let ledger = Ledger::new();
        ledger.seed("cc", [("a", "1")]);
        let snapshot = ledger.height();
        ledger.seed("cc", [("a", "2"), ("b", "x")]);
        assert_eq!(ledger.get_at("cc", "a", snapshot).unwrap().0, "1");
        assert!(ledger.get_at("cc", "b", snapshot).is_none());
        assert_eq!(ledger.range_at("cc", "", "", snapshot).len(), 1);
        assert_eq!(ledger.get("cc", "a").unwrap(), "2");
    }

    #[test]
    fn deletes_hide_keys_and_appear_in_history() {
        let ledger = Ledger::new();
        ledger.seed("cc", [("a", "1")]);
        ledger.seed("cc", [("a", "")]);
        assert!(ledger.get("cc", "a").is_none());
        assert!(ledger.keys("cc").is_empty());
        let history = ledger.history("cc", "a");
        assert_eq!(history.len(), 2);
        assert!(history[0].is_delete);
        assert_eq!(history[1].value, "1");
    }

    #[test]
    fn inverted_range_is_empty() {
        let ledger = Ledger::new();
        ledger.seed("cc", [("a", "1"), ("b", "2")]);
        assert!(ledger.range_at("cc", "b", "a", 10).is_empty());
        assert_eq!(ledger.range_at("cc", "a", "b", 10).len(), 1);
    }

    #[test]
    fn export_import_round_trip() {
        let ledger = Ledger::new();
        ledger.seed("cc", [("a", "1"), ("\u{0}t\u{0}k\u{0}", "2")]);
        let copy = Ledger::new();
        copy.import(&ledger.export()).unwrap();
        assert_eq!(copy.entries("cc"), ledger.entries("cc"));
    }
}
