//! Fabric 3.1 write batching: writes collected during the transaction and sent to the peer in
//! WRITE_BATCH_STATE messages, the last write per key winning.

use std::collections::HashMap;

use ccaas_protos::protos::{write_record, WriteRecord};

/// What a batched write replaces: a key's data write (put, delete, purge) and its metadata write
/// are kept apart, and a key has one metadata slot whatever the metakey. The peer's
/// PUT_STATE_METADATA replaces the key's whole metadata map in the write set with
/// `{metakey: value}` (`core/chaincode/handler.go`, `putStateMetadata`), so only the last
/// metadata write of a key counts, batched or not; Go's batch keeps the same one slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Slot {
    collection: String,
    key: String,
    metadata: bool,
}

/// Writes of one transaction, in first-write order, last write per slot wins.
#[derive(Debug, Default)]
pub(crate) struct WriteBatch {
    records: Vec<WriteRecord>,
    index: HashMap<Slot, usize>,
}

impl WriteBatch {
    pub(crate) fn record(&mut self, record: WriteRecord) {
        let metadata = record.r#type == write_record::Type::PutStateMetadata as i32;
        let slot = Slot { collection: record.collection.clone(), key: record.key.clone(), metadata };
        match self.index.get(&slot) {
            Some(&at) => self.records[at] = record,
            None => {
                self.index.insert(slot, self.records.len());
                self.records.push(record);
            }
        }
    }

    pub(crate) fn into_records(self) -> Vec<WriteRecord> {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use ccaas_protos::protos::StateMetadata;

    fn put(key: &str, value: &'static str) -> WriteRecord {
        WriteRecord {
            key: key.into(),
            value: Bytes::from_static(value.as_bytes()),
            r#type: write_record::Type::PutState as i32,
            ..Default::default()
        }
    }

    #[test]
    fn last_write_per_key_wins_in_first_write_order() {
        let mut batch = WriteBatch::default();
        batch.record(put("a", "1"));
        batch.record(put("b", "1"));
        batch.record(put("a", "2"));
        batch.record(WriteRecord {
            key: "b".into(),
            r#type: write_record::Type::DelState as i32,
            ..Default::default()
        });
        let records = batch.into_records();
        assert_eq!(records.len(), 2);
        assert_eq!((records[0].key.as_str(), records[0].value.as_ref()), ("a", b"2".as_ref()));
        assert_eq!(records[1].r#type, write_record::Type::DelState as i32);
    }

    #[test]
    fn metadata_is_kept_apart_from_data_and_the_last_metadata_write_of_a_key_wins() {
        let meta = |metakey: &str| WriteRecord {
            key: "a".into(),
            metadata: Some(StateMetadata { metakey: metakey.into(), value: Bytes::new() }),
            r#type: write_record::Type::PutStateMetadata as i32,
            ..Default::default()
        };
        let mut batch = WriteBatch::default();
        batch.record(put("a", "1"));
        batch.record(meta("VALIDATION_PARAMETER"));
        batch.record(meta("other"));
        batch.record(meta("VALIDATION_PARAMETER"));
        let records = batch.into_records();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].metadata.as_ref().unwrap().metakey, "VALIDATION_PARAMETER");
    }
}
