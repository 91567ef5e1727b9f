//! A transaction's read-write set as the validator and the committer see it: writes, metadata
//! writes, point reads and range queries, and why validation may refuse them.

use std::ops::Bound;

use bytes::Bytes;
use serde::Serialize;

use super::{Metadata, Version};

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

/// One metadata write of a transaction (`PUT_STATE_METADATA`): at commit the key's metadata is
/// replaced by `entries`, as Fabric's committer does; a key that does not exist is left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvMetadataWrite {
    /// The namespace (chaincode name).
    pub namespace: String,
    /// The private data collection, `None` for public state.
    pub collection: Option<String>,
    /// The key.
    pub key: String,
    /// The key's new metadata (metakey → value).
    #[serde(serialize_with = "serialize_metadata")]
    pub entries: Metadata,
}

/// One read of a transaction's read set: the version it saw (`None`: the key did not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvRead {
    /// The namespace (chaincode name).
    pub namespace: String,
    /// The private data collection, `None` for public state. A private read is recorded as the
    /// peer records it, in the hashed read set: its version is the key hash's.
    pub collection: Option<String>,
    /// The key.
    pub key: String,
    /// The version read.
    pub version: Option<Version>,
}

/// One range query of a transaction's read set (Fabric's `RangeQueryInfo`): the keys and
/// versions the peer's iterator handed out, in order. While the iterator is not exhausted, the
/// range that counts ends (inclusively) at the last key read, as in Fabric's
/// `resultsItr.updateRangeQueryInfo`; once exhausted, at the query's end key (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RangeQueryInfo {
    /// The namespace (chaincode name).
    pub namespace: String,
    /// The query's start key (inclusive).
    pub start_key: String,
    /// The query's end key (exclusive; empty: no upper bound).
    pub end_key: String,
    /// Whether the iterator reached the end of the range.
    pub exhausted: bool,
    /// The keys read, with their versions.
    pub reads: Vec<(String, Version)>,
}

impl RangeQueryInfo {
    /// A range query that has read nothing yet.
    pub(crate) fn new(namespace: &str, start_key: &str, end_key: &str) -> Self {
        RangeQueryInfo {
            namespace: namespace.to_string(),
            start_key: start_key.to_string(),
            end_key: end_key.to_string(),
            exhausted: false,
            reads: Vec::new(),
        }
    }

    /// The bounds the validator re-runs the query over.
    pub(super) fn validated_bounds(&self) -> (Bound<&str>, Bound<&str>) {
        let upper = match (self.exhausted, self.reads.last()) {
            (false, Some((last, _))) => Bound::Included(last.as_str()),
            // Nothing was read and the iterator was not exhausted: an empty range.
            (false, None) => Bound::Excluded(self.start_key.as_str()),
            (true, _) if self.end_key.is_empty() => Bound::Unbounded,
            (true, _) => Bound::Excluded(self.end_key.as_str()),
        };
        (Bound::Included(self.start_key.as_str()), upper)
    }
}

/// Why the validator invalidated a transaction (Fabric's `TxValidationCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// A key read changed version (`MVCC_READ_CONFLICT`).
    MvccRead,
    /// A range query would now return other keys or versions (`PHANTOM_READ_CONFLICT`).
    PhantomRead,
}

/// What the validator checks before a transaction's writes commit.
pub(crate) struct ReadSet<'a> {
    pub(crate) reads: &'a [KvRead],
    pub(crate) range_queries: &'a [RangeQueryInfo],
}

fn serialize_opt_bytes<S: serde::Serializer>(value: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        None => s.serialize_none(),
        Some(bytes) => s.serialize_some(&crate::printable(bytes)),
    }
}

fn serialize_metadata<S: serde::Serializer>(value: &Metadata, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(value.len()))?;
    for (k, v) in value {
        map.serialize_entry(k, &crate::printable(v))?;
    }
    map.end()
}
