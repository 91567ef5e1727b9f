//! [`ChaincodeStub`]: what a transaction sees of the ledger and of its proposal.
//!
//! The stub's methods are grouped by concept: state ([`state`](self)), private data, queries,
//! proposal data, chaincode-to-chaincode calls and write batching.

mod batch;
mod invoke;
mod iterator;
mod private;
mod proposal;
mod query;
mod state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ccaas_protos::google::protobuf::Timestamp;
use ccaas_protos::protos::{
    chaincode_message::Type, write_record, ChaincodeEvent, DelState, PurgePrivateState, PutState, PutStateMetadata,
    SignedProposal, WriteBatchState, WriteRecord,
};

pub(crate) use iterator::decode_response;
pub use iterator::{HistoryIterator, KeyValue, PageInfo, QueryIterator, StateIterator};

use crate::error::{Result, ShimError};
use crate::handler::link::TxLink;
use crate::handler::TxEnv;
use crate::keys;
use batch::WriteBatch;
pub(crate) use proposal::ProposalData;
use query::range_start;

/// The metadata key under which Fabric stores a key-level endorsement policy.
pub const VALIDATION_PARAMETER: &str = "VALIDATION_PARAMETER";

/// The per-transaction API handed to [`Chaincode::init`](crate::Chaincode::init) and
/// [`Chaincode::invoke`](crate::Chaincode::invoke).
///
/// Every method that talks to the peer is `async`; calls of one transaction are sent to the peer
/// one at a time (the peer silently drops a second concurrent request of the same transaction),
/// so it is safe to `join!` several reads. Writes are simulated by the peer: reads never see the
/// transaction's own writes, and writes are committed only if the transaction returns status 200
/// and is later validated.
pub struct ChaincodeStub {
    link: Arc<TxLink>,
    env: Arc<TxEnv>,
    args: Vec<Bytes>,
    decorations: HashMap<String, Bytes>,
    signed_proposal: Option<SignedProposal>,
    proposal: ProposalData,
    is_init: bool,
    event: Mutex<Option<ChaincodeEvent>>,
    batch: Mutex<Option<WriteBatch>>,
    /// A paginated query was answered: the peer refuses every later write of the transaction.
    paginated_query_made: AtomicBool,
    /// A private data range or rich query was answered: likewise.
    private_query_made: AtomicBool,
}

impl ChaincodeStub {
    /// Builds the stub; fails like the Go shim when the signed proposal cannot be decoded.
    pub(crate) fn new(
        link: Arc<TxLink>,
        env: Arc<TxEnv>,
        args: Vec<Bytes>,
        decorations: HashMap<String, Bytes>,
        signed_proposal: Option<SignedProposal>,
        is_init: bool,
    ) -> std::result::Result<Self, String> {
        let proposal = match &signed_proposal {
            Some(signed) => ProposalData::decode(signed)?,
            None => ProposalData::default(),
        };
        let batch = (env.auto_write_batch && env.capabilities.use_write_batch).then(WriteBatch::default);
        Ok(ChaincodeStub {
            link,
            env,
            args,
            decorations,
            signed_proposal,
            proposal,
            is_init,
            event: Mutex::new(None),
            batch: Mutex::new(batch),
            paginated_query_made: AtomicBool::new(false),
            private_query_made: AtomicBool::new(false),
        })
    }

    // ------------------------------------------------------------------ arguments and ids

    /// The raw arguments of the invocation; the first is usually the function name.
    pub fn args(&self) -> &[Bytes] {
        &self.args
    }

    /// The arguments as strings (invalid UTF-8 is replaced with U+FFFD).
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

    // ------------------------------------------------------------------ proposal data

    /// The decorations the peer's decorators attached to the input.
    pub fn decorations(&self) -> &HashMap<String, Bytes> {
        &self.decorations
    }

    /// The client's signed proposal, as the peer forwarded it.
    pub fn signed_proposal(&self) -> Option<&SignedProposal> {
        self.signed_proposal.as_ref()
    }

    /// The serialized identity (`msp.SerializedIdentity`) of the client that made the proposal.
    pub fn creator(&self) -> &Bytes {
        &self.proposal.creator
    }

    /// The client's identity decoded: MSP id, X.509 certificate, the `x509::subject::issuer` id
    /// and Fabric CA attributes.
    pub fn client_identity(
        &self,
    ) -> std::result::Result<crate::identity::ClientIdentity, crate::identity::IdentityError> {
        crate::identity::ClientIdentity::from_creator(&self.proposal.creator)
    }

    /// The transient map: private inputs that are not recorded on the ledger.
    pub fn transient(&self) -> &HashMap<String, Bytes> {
        &self.proposal.transient
    }

    /// `sha256(nonce ‖ creator ‖ epoch)`: ties the proposal to this client and nonce.
    pub fn binding(&self) -> &Bytes {
        self.proposal.binding()
    }

    /// The timestamp the client put in the proposal's channel header; the same on every endorser.
    pub fn tx_timestamp(&self) -> Option<Timestamp> {
        self.proposal.timestamp
    }

    /// The MSP id of the peer running the chaincode (`CORE_PEER_LOCALMSPID`).
    pub fn peer_msp_id(&self) -> Result<&str> {
        self.env.peer_msp_id.as_deref().ok_or_else(|| ShimError::invalid("'CORE_PEER_LOCALMSPID' is not set"))
    }

    /// What the peer advertised for this connection (Fabric 3.1 batching).
    pub fn peer_capabilities(&self) -> crate::PeerCapabilities {
        self.env.capabilities
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

    // ------------------------------------------------------------------ write batching

    /// Starts collecting writes into a batch (Fabric 3.1), as the Go shim's `StartWriteBatch`.
    /// Does nothing when the peer did not advertise write batching, or a batch is already open
    /// (with automatic batching, the default, every transaction starts with one open).
    ///
    /// Batched writes are sent in WRITE_BATCH_STATE messages when
    /// [`finish_write_batch`](Self::finish_write_batch) is called, before a request whose answer
    /// depends on the transaction's earlier writes (a chaincode-to-chaincode call, a paginated
    /// query, a private data range or rich query), and before the transaction completes, whatever
    /// its status. The last write per key wins. See [`put_state`](Self::put_state) for when a
    /// refused write is reported.
    pub fn start_write_batch(&self) {
        if self.env.capabilities.use_write_batch {
            self.batch.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(WriteBatch::default);
        }
    }

    /// Sends the collected writes, in chunks of the peer's advertised maximum, and stops
    /// batching for the rest of the transaction, as the Go shim's `FinishWriteBatch`: later
    /// writes go to the peer one by one and each reports its own refusal. Calling it first
    /// thing opts a transaction out of automatic batching.
    pub async fn finish_write_batch(&self) -> Result<()> {
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.send_batch(batch).await
    }

    /// Sends the collected writes and keeps the batch open: before a request whose answer
    /// depends on the transaction's earlier writes, so the peer sees them as it would unbatched.
    pub(super) async fn flush_write_batch(&self) -> Result<()> {
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner()).as_mut().map(std::mem::take);
        self.send_batch(batch).await
    }

    async fn send_batch(&self, batch: Option<WriteBatch>) -> Result<()> {
        let Some(batch) = batch else { return Ok(()) };
        let chunk = self.env.capabilities.max_size_write_batch.max(1) as usize;
        let mut records = batch.into_records();
        if !records.is_empty() {
            self.link.metrics.write_batch(records.len());
        }
        while !records.is_empty() {
            let rest = records.split_off(records.len().min(chunk));
            let request = WriteBatchState { rec: std::mem::replace(&mut records, rest) };
            self.link
                .call(Type::WriteBatchState, &request)
                .await
                .map_err(|e| ShimError::Peer(format!("failed send batch: {e}")))?;
        }
        Ok(())
    }

    /// Sends one write now, or adds it to the open batch.
    async fn write(&self, record: WriteRecord) -> Result<()> {
        {
            let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(batch) = batch.as_mut() {
                self.check_batched_write(&record)?;
                batch.record(record);
                return Ok(());
            }
        }
        let WriteRecord { key, value, collection, metadata, r#type } = record;
        let reply = match write_record::Type::try_from(r#type) {
            Ok(write_record::Type::PutState) => {
                self.link.call(Type::PutState, &PutState { key, value, collection }).await
            }
            Ok(write_record::Type::DelState) => self.link.call(Type::DelState, &DelState { key, collection }).await,
            Ok(write_record::Type::PutStateMetadata) => {
                self.link.call(Type::PutStateMetadata, &PutStateMetadata { key, collection, metadata }).await
            }
            Ok(write_record::Type::PurgePrivateData) => {
                self.link.call(Type::PurgePrivateData, &PurgePrivateState { key, collection }).await
            }
            _ => unreachable!("the stub only builds known write record types"),
        };
        reply.map(drop)
    }

    /// The peer's refusals a batched write would only meet at the flush, when this stub already
    /// knows them: private data in Init, and any write after a private data query or a paginated
    /// query (the peer's `putState` checks and `checkWritePrecondition`, in the peer's order).
    fn check_batched_write(&self, record: &WriteRecord) -> Result<()> {
        let refused = if self.is_init && !record.collection.is_empty() {
            "private data APIs are not allowed in chaincode Init()"
        } else if self.private_query_made.load(Ordering::Relaxed) {
            "Transaction has already performed queries on pvt data. Writes are not allowed"
        } else if self.paginated_query_made.load(Ordering::Relaxed) {
            "Transaction has already performed a paginated query. Writes are not allowed"
        } else {
            return Ok(());
        };
        Err(ShimError::WriteRefused(refused.to_string()))
    }

    // ------------------------------------------------------------------ handler side

    pub(crate) fn link(&self) -> &Arc<TxLink> {
        &self.link
    }

    pub(crate) fn take_event(&self) -> Option<ChaincodeEvent> {
        self.event.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A write record of the given type.
fn record(kind: write_record::Type, collection: &str, key: &str) -> WriteRecord {
    WriteRecord { key: key.to_string(), collection: collection.to_string(), r#type: kind as i32, ..Default::default() }
}
