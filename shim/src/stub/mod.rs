//! [`ChaincodeStub`]: what a transaction sees of the ledger and of its proposal.

mod iterator;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, ChaincodeEvent, DelState, GetHistoryForKey, GetQueryResult, GetState,
    GetStateByRange, PutState, SignedProposal,
};

pub use iterator::{HistoryIterator, KeyValue, PageInfo, QueryIterator, StateIterator};
pub(crate) use iterator::decode_response;

use crate::error::{Result, ShimError};
use crate::handler::link::TxLink;
use crate::keys;

/// The per-transaction API handed to [`Chaincode::init`](crate::Chaincode::init) and
/// [`Chaincode::invoke`](crate::Chaincode::invoke).
///
/// Every method that talks to the peer is `async`; calls of one transaction are sent to the peer
/// one at a time (the peer drops a second concurrent request of the same transaction), so it is
/// safe to `join!` several reads. Writes are simulated by the peer and committed only if the
/// transaction returns status 200 and the transaction is later validated.
pub struct ChaincodeStub {
    link: Arc<TxLink>,
    args: Vec<Bytes>,
    decorations: HashMap<String, Bytes>,
    signed_proposal: Option<SignedProposal>,
    is_init: bool,
    event: Mutex<Option<ChaincodeEvent>>,
}

impl ChaincodeStub {
    pub(crate) fn new(
        link: Arc<TxLink>,
        args: Vec<Bytes>,
        decorations: HashMap<String, Bytes>,
        signed_proposal: Option<SignedProposal>,
        is_init: bool,
    ) -> Self {
        ChaincodeStub { link, args, decorations, signed_proposal, is_init, event: Mutex::new(None) }
    }

    // ------------------------------------------------------------------ arguments and ids

    /// The raw arguments of the invocation; the first is usually the function name.
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    /// The arguments as strings (invalid UTF-8 is replaced, as Go's `string(bytes)` would keep it).
    pub fn string_args(&self) -> Vec<String> {
        self.args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// The first argument as the function name and the rest as its parameters.
    ///
    /// With no arguments at all, the function is `""` and there are no parameters.
    pub fn function_and_parameters(&self) -> (String, Vec<String>) {
        let mut args = self.string_args().into_iter();
        let function = args.next().unwrap_or_default();
        (function, args.collect())
    }

    /// The transaction id.
    pub fn tx_id(&self) -> &str {
        &self.link.txid
    }

    /// The channel the transaction runs on.
    pub fn channel_id(&self) -> &str {
        &self.link.channel_id
    }

    /// Whether this is the chaincode's `Init` transaction.
    pub fn is_init(&self) -> bool {
        self.is_init
    }

    /// The decorations the peer's decorators attached to the input.
    pub fn decorations(&self) -> &HashMap<String, Bytes> {
        &self.decorations
    }

    /// The client's signed proposal, as the peer forwarded it.
    pub fn signed_proposal(&self) -> Option<&SignedProposal> {
        self.signed_proposal.as_ref()
    }

    // ------------------------------------------------------------------ state

    /// The value of `key`, or `None` if it does not exist. Reads do not see this transaction's own
    /// writes (the peer simulates them).
    pub async fn get_state(&self, key: &str) -> Result<Option<Bytes>> {
        let request = GetState { key: key.to_string(), collection: String::new() };
        let value = self.link.call(Type::GetState, &request).await?;
        Ok((!value.is_empty()).then_some(value))
    }

    /// Writes `value` under `key`. An empty key is rejected; an empty value deletes the key, as
    /// in Fabric's write sets.
    pub async fn put_state(&self, key: &str, value: impl Into<Bytes>) -> Result<()> {
        keys::validate_key_not_empty(key)?;
        let request = PutState { key: key.to_string(), value: value.into(), collection: String::new() };
        self.link.call(Type::PutState, &request).await.map(drop)
    }

    /// Deletes `key`.
    pub async fn del_state(&self, key: &str) -> Result<()> {
        keys::validate_key_not_empty(key)?;
        let request = DelState { key: key.to_string(), collection: String::new() };
        self.link.call(Type::DelState, &request).await.map(drop)
    }

    // ------------------------------------------------------------------ queries

    /// Keys in `[start_key, end_key)` in key order. An empty `start_key` starts after the
    /// composite key namespace (at `"\u{1}"`) and an empty `end_key` means no upper bound, so an
    /// unbounded range returns simple keys only. Bounds must not start with U+0000.
    pub async fn get_state_by_range(&self, start_key: &str, end_key: &str) -> Result<StateIterator> {
        let start_key = if start_key.is_empty() { keys::EMPTY_KEY_SUBSTITUTE } else { start_key };
        keys::validate_simple_keys(&[start_key, end_key])?;
        self.range_query(start_key.to_string(), end_key.to_string()).await
    }

    /// Every key whose composite key starts with `object_type` and `attributes`.
    pub async fn get_state_by_partial_composite_key<S: AsRef<str>>(
        &self,
        object_type: &str,
        attributes: &[S],
    ) -> Result<StateIterator> {
        let (start, end) = keys::partial_composite_key_range(object_type, attributes)?;
        self.range_query(start, end).await
    }

    async fn range_query(&self, start_key: String, end_key: String) -> Result<StateIterator> {
        let request = GetStateByRange { start_key, end_key, collection: String::new(), metadata: Bytes::new() };
        let payload = self.link.call(Type::GetStateByRange, &request).await?;
        let response = decode_response(Type::GetStateByRange, payload)?;
        Ok(QueryIterator::new(Arc::clone(&self.link), response))
    }

    /// A rich query (CouchDB selector JSON); the peer rejects it on LevelDB.
    pub async fn get_query_result(&self, query: &str) -> Result<StateIterator> {
        let request = GetQueryResult { query: query.to_string(), collection: String::new(), metadata: Bytes::new() };
        let payload = self.link.call(Type::GetQueryResult, &request).await?;
        let response = decode_response(Type::GetQueryResult, payload)?;
        Ok(QueryIterator::new(Arc::clone(&self.link), response))
    }

    /// Every committed change of `key`, newest first (needs the peer's history database).
    pub async fn get_history_for_key(&self, key: &str) -> Result<HistoryIterator> {
        let request = GetHistoryForKey { key: key.to_string() };
        let payload = self.link.call(Type::GetHistoryForKey, &request).await?;
        let response = decode_response(Type::GetHistoryForKey, payload)?;
        Ok(QueryIterator::new(Arc::clone(&self.link), response))
    }

    // ------------------------------------------------------------------ composite keys

    /// See [`create_composite_key`](crate::create_composite_key).
    pub fn create_composite_key<S: AsRef<str>>(&self, object_type: &str, attributes: &[S]) -> Result<String> {
        keys::create_composite_key(object_type, attributes)
    }

    /// See [`split_composite_key`](crate::split_composite_key).
    pub fn split_composite_key(&self, composite_key: &str) -> Result<(String, Vec<String>)> {
        keys::split_composite_key(composite_key)
    }

    // ------------------------------------------------------------------ events

    /// Sets the transaction's event. A transaction carries one event: a later call replaces an
    /// earlier one. The name must not be empty.
    pub fn set_event(&self, name: impl Into<String>, payload: impl Into<Bytes>) -> Result<()> {
        let name = name.into();
        if name.is_empty() {
            return Err(ShimError::invalid("event name can not be empty string"));
        }
        let event = ChaincodeEvent { event_name: name, payload: payload.into(), ..Default::default() };
        *self.event.lock().unwrap_or_else(|e| e.into_inner()) = Some(event);
        Ok(())
    }

    /// The event set so far, if any.
    pub fn event(&self) -> Option<ChaincodeEvent> {
        self.event.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    // ------------------------------------------------------------------ handler side

    pub(crate) fn link(&self) -> &Arc<TxLink> {
        &self.link
    }

    pub(crate) fn take_event(&self) -> Option<ChaincodeEvent> {
        self.event.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
