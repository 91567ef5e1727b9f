//! One function per request type, each a paraphrase of the peer's `Handle*` in
//! `core/chaincode/handler.go` over the model's simulation (the simulator's own checks are
//! those of `core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go` and `query_executor.go`).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ccaas_protos::protos::{
    write_record, ChaincodeMessage, DelState, GetHistoryForKey, GetQueryResult, GetState, GetStateByRange,
    GetStateMetadata, GetStateMultiple, GetStateMultipleResult, PutState, PutStateMetadata, QueryMetadata,
    QueryResponse, QueryStateClose, QueryStateNext, StateMetadata, StateMetadataResult, WriteBatchState,
};
use ccaas_protos::queryresult::{KeyModification, Kv};
use prost::Message;

use super::context::{Built, QueryCursor, Row, Simulation, TxContext};
use super::ledger::{Metadata, RangeQueryInfo, Store, Version};
use super::mango::{Doc, Query};
use super::policy::Signer;
use super::texts;
use super::{PeerModel, StateDatabase};

type Outcome = Result<Bytes, String>;

fn decode<M: Message + Default>(message: &ChaincodeMessage) -> Result<M, String> {
    M::decode(message.payload.clone()).map_err(|e| texts::unmarshal_failed(&e))
}

// ------------------------------------------------------------------ private data checks

/// Read or write access to a collection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The handler's checks before any private data call: not in Init, then the client's
/// permission on the collection (`errorIfCreatorHasNoReadPermission` /
/// `errorIfCreatorHasNoWritePermission`, handler.go:632-680), which fails first for a collection
/// the chaincode does not define.
fn private_access(model: &PeerModel, context: &TxContext, collection: &str, access: Access) -> Result<(), String> {
    if context.is_init {
        return Err(texts::PRIVATE_DATA_IN_INIT.to_string());
    }
    let namespace = &context.namespace;
    let Some(config) = model.node().collection(namespace, collection) else {
        return Err(texts::no_such_collection(&context.key.channel_id, namespace, collection));
    };
    let (read, write) = config.permission(&Signer::of_creator(&context.creator));
    match access {
        Access::Read if !read => Err(texts::no_read_permission(namespace, collection)),
        Access::Write if !write => Err(texts::no_write_permission(namespace, collection)),
        _ => Ok(()),
    }
}

/// The simulator's `validateCollName` (collection_val.go).
fn validate_collection(model: &PeerModel, context: &TxContext, collection: &str) -> Result<(), String> {
    if model.node().defines(&context.namespace, collection, &model.config().channel_orgs) {
        Ok(())
    } else {
        Err(texts::invalid_collection_name(&context.namespace, collection))
    }
}

/// `GetPrivateData` of the query executor: the value this peer stores, which must be the one its
/// hash was committed with (a peer outside the collection has the hash only).
fn private_value(model: &PeerModel, context: &TxContext, collection: &str, key: &str) -> Result<Option<Bytes>, String> {
    validate_collection(model, context, collection)?;
    let ledger = &context.ledger;
    let data = ledger.seen_at(&context.namespace, Store::Private(collection), key, context.snapshot);
    let hash = ledger.seen_at(&context.namespace, Store::Hashes(collection), key, context.snapshot);
    let (data_version, hash_version) = (data.as_ref().map(|d| d.version), hash.as_ref().map(|h| h.version));
    if data_version != hash_version {
        let show = |v: Option<super::ledger::Version>| v.map(|v| v.to_string()).unwrap_or_else(|| "<nil>".into());
        return Err(texts::private_data_not_available(&show(hash_version), &show(data_version)));
    }
    record_private_read(context, collection, key, hash_version);
    Ok(data.map(|d| d.value))
}

/// Records a private read in the hashed read set, with the key hash's version (the simulator's
/// `AddToHashedReadSet`), which the validator checks like a public read.
fn record_private_read(context: &TxContext, collection: &str, key: &str, version: Option<Version>) {
    let read = (context.namespace.clone(), collection.to_string(), key.to_string());
    context.sim().reads.insert(read, version);
}

// ------------------------------------------------------------------ reads

/// `HandleGetState` (handler.go:678-712): the committed value (as of the transaction's start),
/// recorded in the read set; an absent key answers an empty payload. With a collection: the
/// private value, after the Init and read-permission checks.
pub(super) fn get_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetState = decode(message)?;
    if !request.collection.is_empty() {
        private_access(model, context, &request.collection, Access::Read)?;
        return private_value(model, context, &request.collection, &request.key).map(Option::unwrap_or_default);
    }
    Ok(public_value(context, request.key).unwrap_or_default())
}

fn public_value(context: &TxContext, key: String) -> Option<Bytes> {
    let found = context.ledger.get_at(&context.namespace, &key, context.snapshot);
    context.sim().reads.insert((context.namespace.clone(), String::new(), key), found.as_ref().map(|(_, v)| *v));
    found.map(|(value, _)| value)
}

/// `HandleGetStateMultipleKeys` (handler.go:714-751): the values in the order of the keys, empty
/// for an absent key. Private values are read without the hash-version check of a single read.
pub(super) fn get_state_multiple(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetStateMultiple = decode(message)?;
    let values = if request.collection.is_empty() {
        request.keys.into_iter().map(|key| public_value(context, key).unwrap_or_default()).collect()
    } else {
        let collection = &request.collection;
        private_access(model, context, collection, Access::Read)?;
        validate_collection(model, context, collection)?;
        request
            .keys
            .iter()
            .map(|key| {
                let seen =
                    context.ledger.seen_at(&context.namespace, Store::Private(collection), key, context.snapshot);
                record_private_read(context, collection, key, seen.as_ref().map(|s| s.version));
                seen.map(|s| s.value).unwrap_or_default()
            })
            .collect()
    };
    Ok(GetStateMultipleResult { values }.encode_to_vec().into())
}

/// `HandleGetPrivateDataHash` (handler.go:753-776): the SHA-256 of the committed private value.
/// There is no permission check, so a client outside the collection can read it.
pub(super) fn get_private_data_hash(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetState = decode(message)?;
    if context.is_init {
        return Err(texts::PRIVATE_DATA_IN_INIT.to_string());
    }
    if request.collection.is_empty() {
        return Ok(Bytes::new());
    }
    validate_collection(model, context, &request.collection)?;
    let hash =
        context.ledger.seen_at(&context.namespace, Store::Hashes(&request.collection), &request.key, context.snapshot);
    record_private_read(context, &request.collection, &request.key, hash.as_ref().map(|h| h.version));
    Ok(hash.map(|h| h.value).unwrap_or_default())
}

/// `HandleGetStateMetadata` (handler.go:779-822): the key's committed metadata entries (sorted
/// by metakey; the peer sends them in Go map order). A private key's metadata is kept with its
/// hash.
pub(super) fn get_state_metadata(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetStateMetadata = decode(message)?;
    let metadata = if request.collection.is_empty() {
        let seen = context.ledger.seen_at(&context.namespace, Store::Public, &request.key, context.snapshot);
        context
            .sim()
            .reads
            .insert((context.namespace.clone(), String::new(), request.key), seen.as_ref().map(|s| s.version));
        seen.map(|s| (*s.metadata).clone()).unwrap_or_default()
    } else {
        let collection = &request.collection;
        private_access(model, context, collection, Access::Read)?;
        validate_collection(model, context, collection)?;
        let seen =
            context.ledger.seen_at(&context.namespace, Store::Hashes(collection), &request.key, context.snapshot);
        seen.map(|s| (*s.metadata).clone()).unwrap_or_default()
    };
    let entries = metadata.into_iter().map(|(metakey, value)| StateMetadata { metakey, value }).collect();
    Ok(StateMetadataResult { entries }.encode_to_vec().into())
}

// ------------------------------------------------------------------ writes

/// `HandlePutState` (handler.go:1123-1158) through the simulator's `SetState` /
/// `SetPrivateData`: an empty value is a delete in the write set.
pub(super) fn put_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: PutState = decode(message)?;
    let value = (!request.value.is_empty()).then_some(request.value);
    put(model, context, &request.collection, request.key, value)?;
    Ok(Bytes::new())
}

/// `HandleDelState` (handler.go:1202-1237): `DeleteState` is `SetState(nil)`.
pub(super) fn del_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: DelState = decode(message)?;
    put(model, context, &request.collection, request.key, None)?;
    Ok(Bytes::new())
}

/// `HandlePurgePrivateData` (handler.go:1239-1278; the payload is decoded as `DelState`): private
/// data only; at commit the value and its hash are removed.
pub(super) fn purge_private_data(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: DelState = decode(message)?;
    purge(model, context, &request.collection, request.key)?;
    Ok(Bytes::new())
}

/// `HandlePutStateMetadata` (handler.go:1160-1200): one metakey of the key's metadata; the last
/// metadata write of a key in a transaction is the key's metadata at commit.
pub(super) fn put_state_metadata(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: PutStateMetadata = decode(message)?;
    // The peer dereferences the metadata unchecked: a missing one panics the handler.
    let metadata = request.metadata.ok_or(texts::PANIC_DURING_EXECUTION)?;
    put_metadata(model, context, &request.collection, request.key, metadata)?;
    Ok(Bytes::new())
}

/// `HandleWriteBatch` (handler.go:1280-1336): every record in order, through the same code as
/// the single requests; the first failure answers the batch (the records before it stay in the
/// simulation).
pub(super) fn write_batch_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let batch: WriteBatchState = decode(message)?;
    for record in batch.rec {
        match write_record::Type::try_from(record.r#type) {
            Ok(write_record::Type::PutState) => {
                let value = (!record.value.is_empty()).then_some(record.value);
                put(model, context, &record.collection, record.key, value)?;
            }
            Ok(write_record::Type::DelState) => put(model, context, &record.collection, record.key, None)?,
            Ok(write_record::Type::PurgePrivateData) => purge(model, context, &record.collection, record.key)?,
            Ok(write_record::Type::PutStateMetadata) => {
                // Built with nil-safe getters: a record without metadata sets an empty metakey.
                let metadata = record.metadata.unwrap_or_default();
                put_metadata(model, context, &record.collection, record.key, metadata)?;
            }
            _ => return Err(texts::UNKNOWN_OPERATION_TYPE.to_string()),
        }
    }
    Ok(Bytes::new())
}

/// `putState` / `delState`: public, or private after the Init and write-permission checks.
fn put(
    model: &PeerModel,
    context: &TxContext,
    collection: &str,
    key: String,
    value: Option<Bytes>,
) -> Result<(), String> {
    if !collection.is_empty() {
        private_access(model, context, collection, Access::Write)?;
        validate_collection(model, context, collection)?;
    }
    let mut sim = context.sim();
    check_write_precondition(model, context, &mut sim, &key, value.as_deref())?;
    sim.writes.insert((context.namespace.clone(), collection.to_string(), key), value);
    Ok(())
}

/// `purgePrivateData` (handler.go:1252-1278): V2_5 capability (assumed), a collection, not in
/// Init, write permission; then the simulator's `PurgePrivateData`.
fn purge(model: &PeerModel, context: &TxContext, collection: &str, key: String) -> Result<(), String> {
    if collection.is_empty() {
        return Err(texts::PURGE_NEEDS_COLLECTION.to_string());
    }
    private_access(model, context, collection, Access::Write)?;
    validate_collection(model, context, collection)?;
    let mut sim = context.sim();
    check_write_precondition(model, context, &mut sim, &key, None)?;
    sim.writes.insert((context.namespace.clone(), collection.to_string(), key), None);
    Ok(())
}

/// `putStateMetadata` (handler.go:1174-1200) through `SetStateMetadata` /
/// `SetPrivateDataMetadata`: the key's metadata write becomes `{metakey: value}`.
fn put_metadata(
    model: &PeerModel,
    context: &TxContext,
    collection: &str,
    key: String,
    metadata: StateMetadata,
) -> Result<(), String> {
    if !collection.is_empty() {
        private_access(model, context, collection, Access::Write)?;
        validate_collection(model, context, collection)?;
    }
    let mut sim = context.sim();
    check_write_precondition(model, context, &mut sim, &key, None)?;
    let entries = Metadata::from([(metadata.metakey, metadata.value)]);
    sim.metadata_writes.insert((context.namespace.clone(), collection.to_string(), key), entries);
    Ok(())
}

/// `checkWritePrecondition` (tx_simulator.go:221-232): no write after a private data query or a
/// paginated query; then the state database's key and value validation.
fn check_write_precondition(
    model: &PeerModel,
    context: &TxContext,
    sim: &mut Simulation,
    key: &str,
    value: Option<&[u8]>,
) -> Result<(), String> {
    if sim.pvtdata_query_performed {
        return Err(texts::write_after_pvtdata_query(&context.key.tx_id));
    }
    if sim.paginated_query_performed {
        return Err(texts::write_after_paginated(&context.key.tx_id));
    }
    sim.write_performed = true;
    if model.config().state_database == StateDatabase::CouchDb {
        if let Some(error) = texts::couchdb_invalid_key(key) {
            return Err(error);
        }
        if let Some(error) = value.and_then(texts::couchdb_invalid_value) {
            return Err(error);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ queries

fn query_metadata(bytes: &Bytes) -> Result<Option<QueryMetadata>, String> {
    if bytes.is_empty() {
        return Ok(None);
    }
    QueryMetadata::decode(bytes.clone()).map(Some).map_err(|e| texts::unmarshal_failed(&e))
}

/// `isMetadataSetForPagination` (handler.go:1054-1064).
fn is_paginated(metadata: &Option<QueryMetadata>) -> bool {
    metadata.as_ref().is_some_and(|m| m.page_size != 0 || !m.bookmark.is_empty())
}

/// `calculateTotalReturnLimit` (handler.go:1078-1087).
fn total_return_limit(model: &PeerModel, metadata: &Option<QueryMetadata>) -> i32 {
    let limit = i32::try_from(model.config().total_query_limit).unwrap_or(i32::MAX);
    match metadata {
        Some(m) if m.page_size > 0 && m.page_size < limit => m.page_size,
        _ => limit,
    }
}

/// `checkBeforePaginatedQueries` (tx_simulator.go:250-256).
fn begin_paginated(context: &TxContext) -> Result<(), String> {
    let mut sim = context.sim();
    if sim.write_performed {
        return Err(texts::paginated_after_write(&context.key.tx_id));
    }
    sim.paginated_query_performed = true;
    Ok(())
}

/// `checkBeforePvtdataQueries` (tx_simulator.go:235-241): range and rich queries of private data
/// only in a transaction that has not written, and it may not write afterwards.
fn begin_pvtdata_query(context: &TxContext) -> Result<(), String> {
    let mut sim = context.sim();
    if sim.write_performed {
        return Err(texts::pvtdata_query_after_write(&context.key.tx_id));
    }
    sim.pvtdata_query_performed = true;
    Ok(())
}

fn kv_rows(namespace: &str, rows: Vec<(String, Bytes)>) -> Vec<Row> {
    rows.into_iter().map(|(key, value)| kv_row(namespace, key, value, None)).collect()
}

fn kv_row(namespace: &str, key: String, value: Bytes, version: Option<Version>) -> Row {
    let bytes = Kv { namespace: namespace.to_string(), key: key.clone(), value }.encode_to_vec().into();
    Row { key, bytes, version }
}

/// A range bookmark is the first key not returned (stateleveldb.go:342-351).
fn key_bookmark(next_key: Option<&str>, _consumed: usize, _previous: &str) -> String {
    next_key.unwrap_or_default().to_string()
}

/// A rich query bookmark: the model's own opaque offset (CouchDB's are opaque too).
fn offset_bookmark(next_key: Option<&str>, consumed: usize, previous: &str) -> String {
    if next_key.is_none() {
        return String::new();
    }
    let base: usize = previous.strip_prefix("ccaas-model:").and_then(|n| n.parse().ok()).unwrap_or(0);
    format!("ccaas-model:{}", base + consumed)
}

/// Opens an iterator over `rows` and answers its first batch (`InitializeQueryContext` +
/// `BuildQueryResponse`).
fn open_query(model: &PeerModel, context: &TxContext, cursor: QueryCursor, paginated: bool, limit: i32) -> Outcome {
    let id = model.new_iterator_id();
    let mut cursor = cursor;
    let built = cursor.build(&id, model.config().query_batch_size, limit, paginated);
    let (response, exhausted) = match built {
        Built::More(response) => {
            context.iterators().insert(id, cursor);
            (response, false)
        }
        Built::Last(response) => (response, true),
    };
    model.record_iterator(true, exhausted);
    Ok(response.encode_to_vec().into())
}

/// `HandleGetStateByRange` (handler.go:825-888): plain ranges in batches; with metadata
/// (pageSize or bookmark) one page with `QueryResponseMetadata`, where a bookmark replaces the
/// start key. Private data is never paginated (the page size still caps the rows), and only a
/// transaction that has not written may query it.
pub(super) fn get_state_by_range(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetStateByRange = decode(message)?;
    let metadata = query_metadata(&request.metadata)?;
    let limit = total_return_limit(model, &metadata);
    let namespace = &context.namespace;
    if !request.collection.is_empty() {
        let collection = &request.collection;
        private_access(model, context, collection, Access::Read)?;
        begin_pvtdata_query(context)?;
        validate_collection(model, context, collection)?;
        let rows = context.ledger.range_in(
            namespace,
            Store::Private(collection),
            &request.start_key,
            &request.end_key,
            context.snapshot,
        );
        let cursor = QueryCursor::new(kv_rows(namespace, rows), false, key_bookmark, String::new());
        return open_query(model, context, cursor, false, limit);
    }
    let paginated = is_paginated(&metadata);
    let mut start = request.start_key;
    if paginated {
        begin_paginated(context)?;
        let bookmark = metadata.as_ref().map(|m| m.bookmark.clone()).unwrap_or_default();
        if !bookmark.is_empty() {
            start = bookmark;
        }
    }
    let rows = context.ledger.versioned_range_at(namespace, &start, &request.end_key, context.snapshot);
    let rows = rows.into_iter().map(|(key, value, version)| kv_row(namespace, key, value, Some(version))).collect();
    let mut cursor = QueryCursor::new(rows, paginated, key_bookmark, String::new());
    if !paginated {
        // The simulator records the range for the validator's phantom read check
        // (`RangeQueryInfo`); paginated queries run only in read-only transactions.
        let info = Arc::new(Mutex::new(RangeQueryInfo::new(namespace, &start, &request.end_key)));
        context.sim().range_queries.push(Arc::clone(&info));
        cursor = cursor.recording(info);
    }
    open_query(model, context, cursor, paginated, limit)
}

/// `HandleGetQueryResult` (handler.go:947-1006): LevelDB answers the peer's error; the CouchDB
/// mode runs the model's Mango subset over the committed JSON values (of the collection, for
/// private data, which is not paginated).
pub(super) fn get_query_result(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetQueryResult = decode(message)?;
    let metadata = query_metadata(&request.metadata)?;
    let limit = total_return_limit(model, &metadata);
    let private = !request.collection.is_empty();
    let paginated = !private && is_paginated(&metadata);
    if private {
        private_access(model, context, &request.collection, Access::Read)?;
        begin_pvtdata_query(context)?;
        validate_collection(model, context, &request.collection)?;
    } else if paginated {
        begin_paginated(context)?;
    }
    if model.config().state_database == StateDatabase::LevelDb {
        return Err(if paginated {
            texts::LEVELDB_EXECUTE_QUERY_WITH_PAGINATION.to_string()
        } else {
            texts::LEVELDB_EXECUTE_QUERY.to_string()
        });
    }
    let query = Query::parse(&request.query)?;
    let store = if private { Store::Private(&request.collection) } else { Store::Public };
    let all = context.ledger.range_in(&context.namespace, store, "", "", context.snapshot);
    let mut matches = query.run(all.iter().map(|(key, value)| Doc { key, value }));
    let bookmark = if paginated { metadata.map(|m| m.bookmark).unwrap_or_default() } else { String::new() };
    if paginated {
        let skip: usize = bookmark.strip_prefix("ccaas-model:").and_then(|n| n.parse().ok()).unwrap_or(0);
        matches.drain(..skip.min(matches.len()));
    }
    let rows = matches.into_iter().map(|(k, v)| (k, Bytes::from(v))).collect();
    let cursor = QueryCursor::new(kv_rows(&context.namespace, rows), paginated, offset_bookmark, bookmark);
    open_query(model, context, cursor, paginated, limit)
}

/// `HandleGetHistoryForKey` (handler.go:1009-1048): the committed changes of the key, newest
/// first, as `KeyModification` rows.
pub(super) fn get_history_for_key(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    if !model.config().history_enabled {
        return Err(texts::HISTORY_DISABLED.to_string());
    }
    let request: GetHistoryForKey = decode(message)?;
    let limit = total_return_limit(model, &None);
    let rows = context
        .ledger
        .history_at_height(&context.namespace, &request.key, context.snapshot)
        .into_iter()
        .map(|entry| Row {
            version: None,
            key: request.key.clone(),
            bytes: KeyModification {
                tx_id: entry.tx_id,
                value: entry.value,
                timestamp: Some(entry.timestamp),
                is_delete: entry.is_delete,
            }
            .encode_to_vec()
            .into(),
        })
        .collect();
    let cursor = QueryCursor::new(rows, false, key_bookmark, String::new());
    open_query(model, context, cursor, false, limit)
}

/// `HandleQueryStateNext` (handler.go:891-922): the next batch of an open iterator.
pub(super) fn query_state_next(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: QueryStateNext = decode(message)?;
    let limit = total_return_limit(model, &None);
    let mut iterators = context.iterators();
    let Some(cursor) = iterators.get_mut(&request.id) else {
        return Err(texts::QUERY_ITERATOR_NOT_FOUND.to_string());
    };
    let response = match cursor.build(&request.id, model.config().query_batch_size, limit, false) {
        Built::More(response) => response,
        Built::Last(response) => {
            iterators.remove(&request.id);
            model.record_iterator(false, true);
            response
        }
    };
    Ok(response.encode_to_vec().into())
}

/// `HandleQueryStateClose` (handler.go:925-944): idempotent.
pub(super) fn query_state_close(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: QueryStateClose = decode(message)?;
    if context.iterators().remove(&request.id).is_some() {
        model.record_closed_by_chaincode();
    }
    Ok(QueryResponse { results: Vec::new(), has_more: false, id: request.id, metadata: Bytes::new() }
        .encode_to_vec()
        .into())
}
