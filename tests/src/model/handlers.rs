//! One function per request type, each a paraphrase of the peer's `Handle*` in
//! `core/chaincode/handler.go` over the model's simulation.

use bytes::Bytes;
use ccaas_protos::protos::{
    ChaincodeMessage, DelState, GetHistoryForKey, GetQueryResult, GetState, GetStateByRange, PutState, QueryMetadata,
    QueryResponse, QueryStateClose, QueryStateNext,
};
use ccaas_protos::queryresult::{KeyModification, Kv};
use prost::Message;

use super::context::{Built, QueryCursor, Row, TxContext};
use super::mango::{Doc, Query};
use super::texts;
use super::{PeerModel, StateDatabase};

type Outcome = Result<Bytes, String>;

fn decode<M: Message + Default>(message: &ChaincodeMessage) -> Result<M, String> {
    M::decode(message.payload.clone()).map_err(|e| texts::unmarshal_failed(&e))
}

/// Private data is not modelled yet: the peer's answer for a collection it does not know, after
/// its Init check (`core/chaincode/handler.go:692-699`).
fn private_data(model: &PeerModel, context: &TxContext, collection: &str) -> Outcome {
    let _ = model;
    if context.is_init {
        return Err(texts::PRIVATE_DATA_IN_INIT.to_string());
    }
    Err(texts::no_such_collection(&context.key.channel_id, &context.namespace, collection))
}

/// `HandleGetState` (handler.go:678-712): the committed value (as of the transaction's start),
/// recorded in the read set; an absent key answers an empty payload.
pub(super) fn get_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetState = decode(message)?;
    if !request.collection.is_empty() {
        return private_data(model, context, &request.collection);
    }
    let found = model.ledger().get_at(&context.namespace, &request.key, context.snapshot);
    context.sim().reads.insert((context.namespace.clone(), request.key), found.as_ref().map(|(_, v)| *v));
    Ok(found.map(|(value, _)| value).unwrap_or_default())
}

/// `HandlePutState` (handler.go:1123-1158) through the simulator's `SetState`
/// (tx_simulator.go:36-43, 221-232): an empty value is a delete in the write set.
pub(super) fn put_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: PutState = decode(message)?;
    if !request.collection.is_empty() {
        return private_data(model, context, &request.collection);
    }
    let value = (!request.value.is_empty()).then_some(request.value);
    write(model, context, request.key, value)
}

/// `HandleDelState` (handler.go:1202-1237): `DeleteState` is `SetState(nil)`.
pub(super) fn del_state(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: DelState = decode(message)?;
    if !request.collection.is_empty() {
        return private_data(model, context, &request.collection);
    }
    write(model, context, request.key, None)
}

/// `checkWritePrecondition` (tx_simulator.go:221-232) then the write set.
fn write(model: &PeerModel, context: &TxContext, key: String, value: Option<Bytes>) -> Outcome {
    let mut sim = context.sim();
    if sim.paginated_query_performed {
        return Err(texts::write_after_paginated(&context.key.tx_id));
    }
    sim.write_performed = true;
    if model.config().state_database == StateDatabase::CouchDb {
        if let Some(error) = texts::couchdb_invalid_key(&key) {
            return Err(error);
        }
        if let Some(error) = value.as_deref().and_then(texts::couchdb_invalid_value) {
            return Err(error);
        }
    }
    sim.writes.insert((context.namespace.clone(), key), value);
    Ok(Bytes::new())
}

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

fn kv_rows(namespace: &str, rows: Vec<(String, Bytes)>) -> Vec<Row> {
    rows.into_iter()
        .map(|(key, value)| {
            let bytes = Kv { namespace: namespace.to_string(), key: key.clone(), value }.encode_to_vec().into();
            Row { key, bytes }
        })
        .collect()
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
            context.sim().iterators.insert(id, cursor);
            (response, false)
        }
        Built::Last(response) => (response, true),
    };
    model.record_iterator(true, exhausted);
    Ok(response.encode_to_vec().into())
}

/// `HandleGetStateByRange` (handler.go:825-888): plain ranges in batches; with metadata
/// (pageSize or bookmark) one page with `QueryResponseMetadata`, where a bookmark replaces the
/// start key.
pub(super) fn get_state_by_range(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetStateByRange = decode(message)?;
    let metadata = query_metadata(&request.metadata)?;
    let limit = total_return_limit(model, &metadata);
    if !request.collection.is_empty() {
        return private_data(model, context, &request.collection);
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
    let rows = model.ledger().range_at(&context.namespace, &start, &request.end_key, context.snapshot);
    let cursor = QueryCursor::new(kv_rows(&context.namespace, rows), paginated, key_bookmark, String::new());
    open_query(model, context, cursor, paginated, limit)
}

/// `HandleGetQueryResult` (handler.go:947-1006): LevelDB answers the peer's error; the CouchDB
/// mode runs the model's Mango subset over the committed JSON values.
pub(super) fn get_query_result(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: GetQueryResult = decode(message)?;
    let metadata = query_metadata(&request.metadata)?;
    let limit = total_return_limit(model, &metadata);
    if !request.collection.is_empty() {
        return private_data(model, context, &request.collection);
    }
    let paginated = is_paginated(&metadata);
    if paginated {
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
    let all = model.ledger().range_at(&context.namespace, "", "", context.snapshot);
    let mut matches = query.run(all.iter().map(|(key, value)| Doc { key, value }));
    let bookmark = metadata.map(|m| m.bookmark).unwrap_or_default();
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
    let rows = model
        .ledger()
        .history_at_height(&context.namespace, &request.key, context.snapshot)
        .into_iter()
        .map(|entry| Row {
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
    let mut sim = context.sim();
    let Some(cursor) = sim.iterators.get_mut(&request.id) else {
        return Err(texts::QUERY_ITERATOR_NOT_FOUND.to_string());
    };
    let response = match cursor.build(&request.id, model.config().query_batch_size, limit, false) {
        Built::More(response) => response,
        Built::Last(response) => {
            sim.iterators.remove(&request.id);
            model.record_iterator(false, true);
            response
        }
    };
    Ok(response.encode_to_vec().into())
}

/// `HandleQueryStateClose` (handler.go:925-944): idempotent.
pub(super) fn query_state_close(model: &PeerModel, message: &ChaincodeMessage, context: &TxContext) -> Outcome {
    let request: QueryStateClose = decode(message)?;
    if context.sim().iterators.remove(&request.id).is_some() {
        model.record_closed_by_chaincode();
    }
    Ok(QueryResponse { results: Vec::new(), has_more: false, id: request.id, metadata: Bytes::new() }
        .encode_to_vec()
        .into())
}
