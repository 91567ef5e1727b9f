//! The committed ledger: world state, private data and history, per namespace.
//!
//! Every key keeps all of its committed revisions (oldest first), so a transaction can read the
//! state *as of the moment it started*, exactly as a Fabric simulation does (the peer blocks
//! commits while simulations run, so every read of one transaction sees the same state). The same
//! revisions are the key's history (`GetHistoryForKey`, newest first).
//!
//! Layout: namespace (chaincode name) → public state, and per private data collection the private
//! values (kept only if this peer is a member of the collection) and their SHA-256 hashes (kept
//! on every peer, like Fabric's hashed state) → sorted map key → revisions. Keys sort by their
//! UTF-8 bytes, like LevelDB's. Key-level metadata (for example `VALIDATION_PARAMETER`) lives on
//! the public revision, or for private data on the hash revision, as in Fabric.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use bytes::Bytes;
use ccaas_protos::google::protobuf::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod rwset;

pub(crate) use rwset::{Conflict, ReadSet};
pub use rwset::{KvMetadataWrite, KvRead, KvWrite, RangeQueryInfo};

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

impl std::fmt::Display for Version {
    /// The peer's rendering of a version (`version.Height.String`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{BlockNum: {}, TxNum: {}}}", self.block_num, self.tx_num)
    }
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

/// SHA-256, the hash Fabric stores for private values (`util.ComputeHash`).
pub fn sha256(bytes: &[u8]) -> Bytes {
    Bytes::from(Sha256::digest(bytes).to_vec())
}

#[derive(Debug, Clone)]
struct Revision {
    version: Version,
    tx_id: String,
    timestamp: Timestamp,
    value: Option<Bytes>,
    metadata: Arc<Metadata>,
    /// False for a metadata-only update: it gives the key a new version but is not a change of
    /// its value, so the history database does not list it.
    in_history: bool,
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

    /// Applies one key's operations of a transaction (`validation/tx_ops.go`): a delete drops the
    /// key and its metadata; a put with a metadata write stores both; a put alone keeps the
    /// current metadata; a metadata write alone re-stores the current value with the new metadata,
    /// or does nothing if the key does not exist.
    fn apply(&mut self, key: &str, op: &KeyOp, stamp: &Stamp<'_>) {
        let live = self.keys.get(key).and_then(|r| r.last()).filter(|r| r.value.is_some()).cloned();
        let revision = match (&op.value, &op.metadata) {
            (Some(None), _) => Revision::new(stamp, None, Arc::default(), true),
            (Some(Some(value)), metadata) => {
                let metadata = match metadata {
                    Some(m) => Arc::new(m.clone()),
                    None => live.map(|r| r.metadata).unwrap_or_default(),
                };
                Revision::new(stamp, Some(value.clone()), metadata, true)
            }
            (None, Some(metadata)) => {
                let Some(live) = live else { return };
                Revision::new(stamp, live.value, Arc::new(metadata.clone()), false)
            }
            (None, None) => return,
        };
        self.keys.entry(key.to_string()).or_default().push(revision);
    }
}

impl Revision {
    fn new(stamp: &Stamp<'_>, value: Option<Bytes>, metadata: Arc<Metadata>, in_history: bool) -> Self {
        Revision {
            version: stamp.version,
            tx_id: stamp.tx_id.to_string(),
            timestamp: stamp.timestamp,
            value,
            metadata,
            in_history,
        }
    }
}

struct Stamp<'a> {
    version: Version,
    tx_id: &'a str,
    timestamp: Timestamp,
}

/// What one transaction does to one key.
#[derive(Debug, Default)]
struct KeyOp {
    /// `Some(None)` deletes, `Some(Some(v))` puts.
    value: Option<Option<Bytes>>,
    metadata: Option<Metadata>,
}

fn visible(revisions: &[Revision], height: u64) -> Option<&Revision> {
    revisions.iter().rev().find(|r| r.version.block_num <= height)
}

/// One private data collection of a namespace.
#[derive(Debug, Default)]
struct CollectionState {
    /// The private values (only on peers that are members of the collection).
    values: KeyStore,
    /// SHA-256 of every private value, and the private keys' metadata (on every peer).
    hashes: KeyStore,
}

#[derive(Debug, Default)]
struct NamespaceState {
    public: KeyStore,
    collections: BTreeMap<String, CollectionState>,
}

#[derive(Debug, Default)]
struct State {
    height: u64,
    namespaces: BTreeMap<String, NamespaceState>,
}

/// Which part of a namespace a read looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store<'a> {
    /// The public world state.
    Public,
    /// The private values of a collection.
    Private(&'a str),
    /// The hashes (and metadata) of a collection's private values.
    Hashes(&'a str),
}

impl State {
    fn store(&self, namespace: &str, store: Store<'_>) -> Option<&KeyStore> {
        let ns = self.namespaces.get(namespace)?;
        match store {
            Store::Public => Some(&ns.public),
            Store::Private(collection) => ns.collections.get(collection).map(|c| &c.values),
            Store::Hashes(collection) => ns.collections.get(collection).map(|c| &c.hashes),
        }
    }
}

/// A live committed revision as a transaction sees it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) value: Bytes,
    pub(crate) version: Version,
    pub(crate) metadata: Arc<Metadata>,
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
///
/// ledger.seed_private("basic", "secrets", [("pin", "1234")]);
/// assert_eq!(ledger.private("basic", "secrets", "pin").as_deref(), Some(&b"1234"[..]));
/// assert_eq!(ledger.private_hash("basic", "secrets", "pin").unwrap().len(), 32);
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
        self.versioned(namespace, Store::Public, key)
    }

    /// The committed metadata of `key` (empty if the key does not exist or has none).
    pub fn metadata(&self, namespace: &str, key: &str) -> Metadata {
        self.get_versioned(namespace, key).map(|v| v.metadata).unwrap_or_default()
    }

    /// The committed private value of `key` in `collection`, if this peer stores it (it stores
    /// the values of the collections it is a member of).
    pub fn private(&self, namespace: &str, collection: &str, key: &str) -> Option<Bytes> {
        self.versioned(namespace, Store::Private(collection), key).map(|v| v.value)
    }

    /// The committed SHA-256 hash of a private value (every peer stores the hashes).
    pub fn private_hash(&self, namespace: &str, collection: &str, key: &str) -> Option<Bytes> {
        self.versioned(namespace, Store::Hashes(collection), key).map(|v| v.value)
    }

    /// The committed metadata of a private key (kept with its hash).
    pub fn private_metadata(&self, namespace: &str, collection: &str, key: &str) -> Metadata {
        self.versioned(namespace, Store::Hashes(collection), key).map(|v| v.metadata).unwrap_or_default()
    }

    /// Every private value this peer stores for `collection`, in key order.
    pub fn private_entries(&self, namespace: &str, collection: &str) -> Vec<(String, Bytes)> {
        let state = self.read();
        range_locked(&state, namespace, Store::Private(collection), "", "", state.height)
    }

    /// Every private key of `collection` with its hash, in key order.
    pub fn private_hashes(&self, namespace: &str, collection: &str) -> Vec<(String, Bytes)> {
        let state = self.read();
        range_locked(&state, namespace, Store::Hashes(collection), "", "", state.height)
    }

    fn versioned(&self, namespace: &str, store: Store<'_>, key: &str) -> Option<VersionedValue> {
        let state = self.read();
        let revision = state.store(namespace, store)?.at(key, state.height)?;
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
        range_locked(&state, namespace, Store::Public, "", "", state.height)
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

    /// The private data collections of `namespace` that ever had a write.
    pub fn collections(&self, namespace: &str) -> Vec<String> {
        self.read().namespaces.get(namespace).map(|ns| ns.collections.keys().cloned().collect()).unwrap_or_default()
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
        self.seed_in(namespace, None, entries)
    }

    /// Commits private values of `collection` (and their hashes) as one synthetic transaction,
    /// as a peer that is a member of the collection stores them. An empty value deletes the key.
    pub fn seed_private<K, V>(
        &self,
        namespace: &str,
        collection: &str,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Version
    where
        K: Into<String>,
        V: Into<Bytes>,
    {
        self.seed_in(namespace, Some(collection), entries)
    }

    fn seed_in<K, V>(
        &self,
        namespace: &str,
        collection: Option<&str>,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Version
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
                    collection: collection.map(str::to_string),
                    key: k.into(),
                    value: (!value.is_empty()).then_some(value),
                }
            })
            .collect();
        let tx_id = format!("seed-{}", self.height() + 1);
        self.commit(&tx_id, SystemTime::now().into(), &writes)
    }

    /// Commits a write set as the next block, storing private values as a member of every
    /// collection. Returns the version written.
    pub fn commit(&self, tx_id: &str, timestamp: Timestamp, writes: &[KvWrite]) -> Version {
        let mut state = self.write();
        Self::apply(&mut state, tx_id, timestamp, writes, &[], &|_, _| true)
    }

    /// Commits a transaction's writes and metadata writes, after Fabric's validation of `read_set`
    /// when given (atomically): every point read, public or private (by its key hash), must still
    /// be current (else
    /// [`Conflict::MvccRead`]), then every range query must still return the same keys at the
    /// same versions (else [`Conflict::PhantomRead`]). Private values are stored only where
    /// `stores_private(namespace, collection)`; their hashes always.
    pub(crate) fn commit_tx(
        &self,
        tx_id: &str,
        timestamp: Timestamp,
        read_set: Option<ReadSet<'_>>,
        writes: &[KvWrite],
        metadata_writes: &[KvMetadataWrite],
        stores_private: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Version, Conflict> {
        let mut state = self.write();
        if let Some(read_set) = read_set {
            let height = state.height;
            let current = read_set.reads.iter().all(|read| {
                let store = read.collection.as_deref().map_or(Store::Public, Store::Hashes);
                let version = state
                    .store(&read.namespace, store)
                    .and_then(|store| store.at(&read.key, height))
                    .filter(|r| r.value.is_some())
                    .map(|r| r.version);
                version == read.version
            });
            if !current {
                return Err(Conflict::MvccRead);
            }
            let unchanged = read_set.range_queries.iter().all(|query| {
                let (lower, upper) = query.validated_bounds();
                let now = live_in(&state, &query.namespace, Store::Public, (lower, upper), height);
                now.map(|(key, _, revision)| (key, revision.version)).eq(query.reads.iter().map(|(k, v)| (k, *v)))
            });
            if !unchanged {
                return Err(Conflict::PhantomRead);
            }
        }
        Ok(Self::apply(&mut state, tx_id, timestamp, writes, metadata_writes, stores_private))
    }

    fn apply(
        state: &mut State,
        tx_id: &str,
        timestamp: Timestamp,
        writes: &[KvWrite],
        metadata_writes: &[KvMetadataWrite],
        stores_private: &dyn Fn(&str, &str) -> bool,
    ) -> Version {
        state.height += 1;
        let stamp = Stamp { version: Version { block_num: state.height, tx_num: 0 }, tx_id, timestamp };
        let mut ops: BTreeMap<(&str, Option<&str>, &str), KeyOp> = BTreeMap::new();
        for write in writes {
            let op = ops.entry((&write.namespace, write.collection.as_deref(), &write.key)).or_default();
            op.value = Some(write.value.clone());
        }
        for write in metadata_writes {
            let op = ops.entry((&write.namespace, write.collection.as_deref(), &write.key)).or_default();
            op.metadata = Some(write.entries.clone());
        }
        for ((namespace, collection, key), op) in ops {
            let ns = state.namespaces.entry(namespace.to_string()).or_default();
            match collection {
                None => ns.public.apply(key, &op, &stamp),
                Some(collection) => {
                    let stores = stores_private(namespace, collection);
                    let coll = ns.collections.entry(collection.to_string()).or_default();
                    let hashed = KeyOp {
                        value: op.value.as_ref().map(|v| v.as_deref().map(sha256)),
                        metadata: op.metadata.clone(),
                    };
                    coll.hashes.apply(key, &hashed, &stamp);
                    if stores {
                        coll.values.apply(key, &op, &stamp);
                    }
                }
            }
        }
        stamp.version
    }

    // ------------------------------------------------------------------ snapshot reads

    /// The value and version of `key` as of block `height`.
    pub(crate) fn get_at(&self, namespace: &str, key: &str, height: u64) -> Option<(Bytes, Version)> {
        self.seen_at(namespace, Store::Public, key, height).map(|s| (s.value, s.version))
    }

    /// The live revision of `key` in `store` as of block `height`.
    pub(crate) fn seen_at(&self, namespace: &str, store: Store<'_>, key: &str, height: u64) -> Option<Seen> {
        let state = self.read();
        let revision = state.store(namespace, store)?.at(key, height)?;
        Some(Seen {
            value: revision.value.clone()?,
            version: revision.version,
            metadata: Arc::clone(&revision.metadata),
        })
    }

    /// Live keys of `store` in `[start, end)` as of block `height`; empty bounds are open.
    pub(crate) fn range_in(
        &self,
        namespace: &str,
        store: Store<'_>,
        start: &str,
        end: &str,
        height: u64,
    ) -> Vec<(String, Bytes)> {
        let state = self.read();
        range_locked(&state, namespace, store, start, end, height)
    }

    /// Live public keys in `[start, end)` as of block `height` with their values and versions;
    /// empty bounds are open.
    pub(crate) fn versioned_range_at(
        &self,
        namespace: &str,
        start: &str,
        end: &str,
        height: u64,
    ) -> Vec<(String, Bytes, Version)> {
        let state = self.read();
        live_in(&state, namespace, Store::Public, half_open(start, end), height)
            .map(|(key, value, revision)| (key.clone(), value.clone(), revision.version))
            .collect()
    }

    /// History of `key` as of block `height`, newest first.
    pub(crate) fn history_at_height(&self, namespace: &str, key: &str, height: u64) -> Vec<HistoryEntry> {
        let state = self.read();
        self.history_at(&state, namespace, key, height)
    }

    fn history_at(&self, state: &State, namespace: &str, key: &str, height: u64) -> Vec<HistoryEntry> {
        let Some(revisions) = state.store(namespace, Store::Public).and_then(|s| s.keys.get(key)) else {
            return Vec::new();
        };
        revisions
            .iter()
            .rev()
            .filter(|r| r.version.block_num <= height && r.in_history)
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

    /// The committed public state (latest values only: no history, metadata or private data) as
    /// a serializable snapshot.
    pub fn export(&self) -> LedgerExport {
        let state = self.read();
        let height = state.height;
        let namespaces = state
            .namespaces
            .keys()
            .map(|ns| {
                let entries = range_locked(&state, ns, Store::Public, "", "", height)
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

fn range_locked(
    state: &State,
    namespace: &str,
    store: Store<'_>,
    start: &str,
    end: &str,
    height: u64,
) -> Vec<(String, Bytes)> {
    live_in(state, namespace, store, half_open(start, end), height).map(|(k, v, _)| (k.clone(), v.clone())).collect()
}

/// `[start, end)`, an empty `end` being open.
fn half_open<'a>(start: &'a str, end: &'a str) -> (Bound<&'a str>, Bound<&'a str>) {
    (Bound::Included(start), if end.is_empty() { Bound::Unbounded } else { Bound::Excluded(end) })
}

/// The live keys of `store` within `bounds` as of block `height`, with their values and
/// revisions, in key order. Bounds that enclose nothing give nothing.
fn live_in<'s, 'b>(
    state: &'s State,
    namespace: &str,
    store: Store<'_>,
    bounds: (Bound<&'b str>, Bound<&'b str>),
    height: u64,
) -> impl Iterator<Item = (&'s String, &'s Bytes, &'s Revision)> + use<'s, 'b> {
    let encloses_something = match bounds {
        (Bound::Included(lower), Bound::Excluded(upper)) => lower < upper,
        (Bound::Included(lower), Bound::Included(upper)) => lower <= upper,
        _ => true,
    };
    let keys = state.store(namespace, store).filter(|_| encloses_something);
    keys.into_iter().flat_map(move |keys| {
        keys.keys.range::<str, _>(bounds).filter_map(move |(key, revisions)| {
            let revision = visible(revisions, height)?;
            Some((key, revision.value.as_ref()?, revision))
        })
    })
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
        assert_eq!(ledger.versioned_range_at("cc", "", "", snapshot).len(), 1);
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
        assert!(ledger.versioned_range_at("cc", "b", "a", 10).is_empty());
        assert_eq!(ledger.versioned_range_at("cc", "a", "b", 10).len(), 1);
    }

    fn meta(namespace: &str, collection: Option<&str>, key: &str, entries: &[(&str, &str)]) -> KvMetadataWrite {
        KvMetadataWrite {
            namespace: namespace.into(),
            collection: collection.map(Into::into),
            key: key.into(),
            entries: entries.iter().map(|(k, v)| (k.to_string(), Bytes::from(v.to_string()))).collect(),
        }
    }

    fn commit(ledger: &Ledger, writes: &[KvWrite], metadata: &[KvMetadataWrite]) {
        let stores = |_: &str, collection: &str| collection != "hashed-only";
        ledger.commit_tx("tx", Timestamp::default(), None, writes, metadata, &stores).unwrap();
    }

    fn put(collection: Option<&str>, key: &str, value: Option<&str>) -> KvWrite {
        KvWrite {
            namespace: "cc".into(),
            collection: collection.map(Into::into),
            key: key.into(),
            value: value.map(|v| Bytes::from(v.to_string())),
        }
    }

    #[test]
    fn metadata_is_replaced_kept_or_dropped_as_the_committer_does() {
        let ledger = Ledger::new();
        // Metadata for a key that does not exist: nothing happens.
        commit(&ledger, &[], &[meta("cc", None, "k", &[("a", "1")])]);
        assert!(ledger.get_versioned("cc", "k").is_none());
        // Value and metadata together.
        commit(&ledger, &[put(None, "k", Some("v1"))], &[meta("cc", None, "k", &[("a", "1")])]);
        assert_eq!(ledger.metadata("cc", "k")["a"], "1");
        // A value alone keeps the metadata.
        commit(&ledger, &[put(None, "k", Some("v2"))], &[]);
        assert_eq!(ledger.metadata("cc", "k")["a"], "1");
        // Metadata alone: same value, new version, new metadata replacing the old, no history.
        let before = ledger.get_versioned("cc", "k").unwrap().version;
        commit(&ledger, &[], &[meta("cc", None, "k", &[("b", "2")])]);
        let after = ledger.get_versioned("cc", "k").unwrap();
        assert_eq!((after.value.as_ref(), after.metadata.len()), (&b"v2"[..], 1));
        assert_eq!(after.metadata["b"], "2");
        assert!(after.version > before);
        assert_eq!(ledger.history("cc", "k").len(), 2);
        // A delete drops it, even with a metadata write in the same transaction.
        commit(&ledger, &[put(None, "k", None)], &[meta("cc", None, "k", &[("c", "3")])]);
        assert!(ledger.metadata("cc", "k").is_empty());
    }

    #[test]
    fn private_writes_store_hashes_everywhere_and_values_on_members() {
        let ledger = Ledger::new();
        commit(&ledger, &[put(Some("member"), "k", Some("v")), put(Some("hashed-only"), "k", Some("v"))], &[]);
        assert_eq!(ledger.private("cc", "member", "k").unwrap(), "v");
        assert!(ledger.private("cc", "hashed-only", "k").is_none());
        for collection in ["member", "hashed-only"] {
            assert_eq!(ledger.private_hash("cc", collection, "k").unwrap(), sha256(b"v"));
        }
        assert!(ledger.get("cc", "k").is_none());
        commit(&ledger, &[], &[meta("cc", Some("member"), "k", &[("vp", "x")])]);
        assert_eq!(ledger.private_metadata("cc", "member", "k")["vp"], "x");
        assert_eq!(ledger.private("cc", "member", "k").unwrap(), "v");
        commit(&ledger, &[put(Some("member"), "k", None)], &[]);
        assert!(ledger.private("cc", "member", "k").is_none() && ledger.private_hash("cc", "member", "k").is_none());
        assert_eq!(ledger.collections("cc"), ["hashed-only", "member"]);
        assert_eq!(Version { block_num: 3, tx_num: 0 }.to_string(), "{BlockNum: 3, TxNum: 0}");
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
