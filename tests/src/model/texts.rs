//! The peer's own error texts, so the model answers exactly as a Fabric peer does.
//!
//! Each text names its upstream source (hyperledger/fabric at 0c423ac, `core/...` paths).

use ccaas_protos::protos::chaincode_message::Type;

/// The wrapper of every failed shim request: `<TYPE> failed: transaction ID: <txid>: <cause>`
/// (`core/chaincode/handler.go:299`, `errors.Wrapf(err, "%s failed: transaction ID: %s", ...)`).
pub fn request_failed(kind: Type, tx_id: &str, cause: &str) -> String {
    format!("{} failed: transaction ID: {}: {}", kind.as_str_name(), tx_id, cause)
}

/// No transaction context for (channel, txid) (`core/chaincode/handler.go:288`, `isValidTxSim`).
pub const NO_LEDGER_CONTEXT: &str = "no ledger context";

/// INVOKE_CHAINCODE without a transaction context (`core/chaincode/handler.go:1092`,
/// `getTxContextForInvoke` → `isValidTxSim`).
pub const NO_VALID_TRANSACTION: &str = "could not get valid transaction";

/// QUERY_STATE_NEXT on an unknown or finished iterator (`core/chaincode/handler.go:900`).
pub const QUERY_ITERATOR_NOT_FOUND: &str = "query iterator not found";

/// GET_HISTORY_FOR_KEY with the history database disabled (`core/chaincode/handler.go:1011`).
pub const HISTORY_DISABLED: &str = "history database is not enabled";

/// Private data request inside Init (`core/chaincode/handler.go:693` and its siblings).
pub const PRIVATE_DATA_IN_INIT: &str = "private data APIs are not allowed in chaincode Init()";

/// Rich query on LevelDB (`core/ledger/kvledger/txmgmt/statedb/stateleveldb/stateleveldb.go:177`).
pub const LEVELDB_EXECUTE_QUERY: &str = "ExecuteQuery not supported for leveldb";

/// Paginated rich query on LevelDB (`core/ledger/kvledger/txmgmt/statedb/stateleveldb/stateleveldb.go:182`).
pub const LEVELDB_EXECUTE_QUERY_WITH_PAGINATION: &str = "ExecuteQueryWithMetadata not supported for leveldb";

/// Execute timeout (`core/chaincode/handler.go:95`, `ErrorExecutionTimeout`).
pub const EXECUTION_TIMEOUT: &str = "timeout expired while executing transaction";

/// The stream ended while a transaction ran (`core/chaincode/handler.go:96`, `ErrorStreamTerminated`).
pub const STREAM_TERMINATED: &str = "chaincode stream terminated";

/// A payload the peer could not decode: `unmarshal failed: <decoder error>`
/// (`core/chaincode/handler.go:683` and every other handler, `errors.Wrap(err, "unmarshal failed")`).
pub fn unmarshal_failed(error: &prost::DecodeError) -> String {
    format!("unmarshal failed: {error}")
}

/// REGISTER from a chaincode the peer is not launching
/// (`core/chaincode/handler_registry.go:141`).
pub fn not_launching(chaincode_id: &str) -> String {
    format!("peer will not accept external chaincode connection {chaincode_id} (except in dev mode)")
}

/// REGISTER with an empty name (`core/chaincode/handler.go:546`).
pub const EMPTY_CHAINCODE_ID: &str = "error in handling register chaincode, chaincodeID name is empty";

/// A message type the peer does not handle in the created state (`core/chaincode/handler.go:190`).
pub fn cannot_handle_created(tx_id: &str, kind: &str) -> String {
    format!("[{tx_id}] Fabric side handler cannot handle message ({kind}) while in created state")
}

/// A message type the peer does not handle in the ready state; the peer ends the stream
/// (`core/chaincode/handler.go:231`).
pub fn cannot_handle_ready(tx_id: &str, kind: &str) -> String {
    format!("[{tx_id}] Fabric side handler cannot handle message ({kind}) while in ready state")
}

/// The log line of a dropped concurrent request (`core/chaincode/handler.go:604`).
pub fn another_request_pending(tx_id: &str, chaincode_id: &str, channel_id: &str) -> String {
    format!(
        "[{}] Another request pending for this CC: {}, Txid: {}, ChannelID: {}. Cannot process.",
        short_txid(tx_id),
        chaincode_id,
        tx_id,
        channel_id
    )
}

/// A second transaction with the same (channel, txid) (`core/chaincode/transaction_contexts.go:45`).
pub fn txid_exists(tx_id: &str, channel_id: &str) -> String {
    format!("txid: {tx_id}({channel_id}) exists")
}

/// The chaincode answered with ERROR (`core/chaincode/chaincode_support.go:196`).
pub fn transaction_returned_with_failure(payload: &str) -> String {
    format!("transaction returned with failure: {payload}")
}

/// A private data collection that is not defined (`core/common/privdata/store.go:29`).
pub fn no_such_collection(channel_id: &str, namespace: &str, collection: &str) -> String {
    format!("collection {channel_id}/{namespace}/{collection} could not be found")
}

/// A private data collection the chaincode's namespace does not define, as the ledger's
/// simulator reports it (`core/ledger/ledger_interface.go:673`, `InvalidCollNameError`).
pub fn invalid_collection_name(namespace: &str, collection: &str) -> String {
    format!("collection [{collection}] not defined in the collection config for chaincode [{namespace}]")
}

/// The client may not read the collection (`core/chaincode/handler.go:638`).
pub fn no_read_permission(namespace: &str, collection: &str) -> String {
    format!(
        "tx creator does not have read access permission on privatedata in chaincodeName:{namespace} collectionName: {collection}"
    )
}

/// The client may not write the collection (`core/chaincode/handler.go:650`).
pub fn no_write_permission(namespace: &str, collection: &str) -> String {
    format!(
        "tx creator does not have write access permission on privatedata in chaincodeName:{namespace} collectionName: {collection}"
    )
}

/// A private read on a peer that has the value's hash but not the value (it is not a member of
/// the collection) (`core/ledger/kvledger/txmgmt/txmgr/query_executor.go:218`). Versions print as
/// `{BlockNum: 3, TxNum: 0}`, a missing one as `<nil>`.
pub fn private_data_not_available(hash_version: &str, data_version: &str) -> String {
    format!(
        "private data matching public hash version is not available. Public hash version = {hash_version}, Private data version = {data_version}"
    )
}

/// PURGE_PRIVATE_DATA without a collection (`core/chaincode/handler.go:1262`).
pub const PURGE_NEEDS_COLLECTION: &str = "only applicable for private data";

/// A WRITE_BATCH_STATE record of an unknown type (`core/chaincode/handler.go:1331`).
pub const UNKNOWN_OPERATION_TYPE: &str = "unknown operation type";

/// What the peer answers when a handler panicked, e.g. on a PUT_STATE_METADATA without metadata
/// (`core/chaincode/handler.go:265`): the whole ERROR payload, not wrapped again.
pub const PANIC_DURING_EXECUTION: &str = "panic during execution";

/// A private range or rich query after a write (`core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go:237`).
pub fn pvtdata_query_after_write(tx_id: &str) -> String {
    format!("txid [{tx_id}]: unsuppored transaction. Queries on pvt data is supported only in a read-only transaction")
}

/// A write after a private range or rich query (`core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go:245`).
pub fn write_after_pvtdata_query(tx_id: &str) -> String {
    format!(
        "txid [{tx_id}]: unsuppored transaction. Transaction has already performed queries on pvt data. Writes are not allowed"
    )
}

/// INVOKE_CHAINCODE of a chaincode that is not defined on the channel: the lifecycle falls back
/// to the legacy lscc lookup, which does not find it either (`core/chaincode/handler.go:1407`
/// "execute failed", `chaincode_support.go:208` "invalid invocation", `:228`, and
/// `core/scc/lscc/lscc.go:262`).
pub fn chaincode_not_found(channel_id: &str, name: &str) -> String {
    format!(
        "execute failed: invalid invocation: [channel {channel_id}] failed to get chaincode container info for {name}: chaincode {name} not found"
    )
}

/// The reserved key in a chaincode's namespace that records the definition version it was
/// initialized for (`core/chaincode/chaincode_support.go:35`, `InitializedKeyName`).
pub const INITIALIZED_KEY: &str = "\u{0}\u{10FFFF}initialized";

/// An invocation with `is_init` set of a chaincode defined without `--init-required`
/// (`CheckInvocation`, `core/chaincode/chaincode_support.go:247`).
pub fn init_not_required(name: &str) -> String {
    format!("chaincode '{name}' does not require initialization but called as init")
}

/// An invocation with `is_init` set of a chaincode already initialized for its definition's
/// version (`CheckInvocation`, `chaincode_support.go:251`).
pub fn already_initialized(name: &str) -> String {
    format!("chaincode '{name}' is already initialized but called as init")
}

/// A normal invocation of a chaincode defined with `--init-required` before its INIT for this
/// version (`CheckInvocation`, `chaincode_support.go:263`).
pub fn not_initialized(name: &str) -> String {
    format!("chaincode '{name}' has not been initialized for this version, must call as init first")
}

/// A `CheckInvocation` failure of a called chaincode, as INVOKE_CHAINCODE answers it
/// (`Invoke`'s "invalid invocation", `chaincode_support.go:228`, wrapped by `handler.go:1407`).
pub fn callee_invalid_invocation(cause: &str) -> String {
    format!("execute failed: invalid invocation: {cause}")
}

/// INVOKE_CHAINCODE whose callee could not be executed (`core/chaincode/chaincode_support.go:288`
/// "error sending", wrapped by `handler.go:1407` "execute failed"), e.g. the callee's txid is
/// already executing on its connection (a chaincode calling itself on the same channel).
pub fn callee_execute_failed(cause: &str) -> String {
    format!("execute failed: error sending: {cause}")
}

/// A paginated query after a write (`core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go:252`;
/// "unsuppored" is the peer's spelling).
pub fn paginated_after_write(tx_id: &str) -> String {
    format!("txid [{tx_id}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction")
}

/// A write after a paginated query (`core/ledger/kvledger/txmgmt/txmgr/tx_simulator.go:260`).
pub fn write_after_paginated(tx_id: &str) -> String {
    format!(
        "txid [{tx_id}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed"
    )
}

/// CouchDB key validation (`core/ledger/kvledger/txmgmt/statedb/statecouchdb/couchdoc_conv.go:286-296`).
pub fn couchdb_invalid_key(key: &str) -> Option<String> {
    if key.starts_with('_') {
        return Some(format!("invalid key [{key}], cannot begin with \"_\""));
    }
    if key.is_empty() {
        return Some("invalid key. Empty string is not supported as a key by couchdb".to_string());
    }
    None
}

/// CouchDB value validation: JSON objects must not use reserved field names
/// (`core/ledger/kvledger/txmgmt/statedb/statecouchdb/couchdoc_conv.go:50-57`).
pub fn couchdb_invalid_value(value: &[u8]) -> Option<String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(value) else {
        return None;
    };
    fields
        .keys()
        .find(|name| name.as_str() == "~version" || name.starts_with('_'))
        .map(|name| format!("field [{name}] is not valid for the CouchDB state database"))
}

/// The first 8 characters of a txid, as the peer prints it.
pub fn short_txid(tx_id: &str) -> &str {
    tx_id.get(..8).unwrap_or(tx_id)
}
