//! One transaction: [`TxBuilder`] sets it up, the emulator runs it as the endorser and committer
//! do, and [`TxOutcome`] tells what happened.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use ccaas_protos::google::protobuf::Timestamp;
use ccaas_protos::protos::{chaincode_message::Type, ChaincodeEvent, ChaincodeInput, Response as PbResponse};
use ccaas_shim::Response;
use prost::Message;
use serde::Serialize;

use super::identity::Identity;
use super::{describe_type, proposal, PeerEmulator};
use crate::error::EmulatorError;
use crate::model::ledger::{Conflict, KvMetadataWrite, KvRead, KvWrite, RangeQueryInfo};
use crate::model::{SimulationResults, TxKey, TxParams};

/// What happened to a transaction's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CommitStatus {
    /// Endorsed and committed to the ledger.
    Committed,
    /// Endorsed but evaluated only (a query): nothing is committed.
    Evaluated,
    /// Not endorsed (status outside 200..400): nothing is committed.
    NotEndorsed,
    /// Endorsed but invalidated at commit: a key it read changed meanwhile (only with
    /// [`PeerConfig::validate_mvcc`](crate::PeerConfig::validate_mvcc)).
    MvccReadConflict,
    /// Endorsed but invalidated at commit: a range it read would now return other keys or
    /// versions, e.g. a key was added inside it (only with [`PeerConfig::validate_mvcc`](crate::PeerConfig::validate_mvcc)).
    PhantomReadConflict,
}

/// The result of a transaction the chaincode completed.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// The transaction id.
    pub tx_id: String,
    /// The channel.
    pub channel_id: String,
    /// The chaincode's response.
    pub response: Response,
    /// The event, if the chaincode set one and the peer endorsed the response (the peer fills in
    /// the chaincode name and txid).
    pub event: Option<ChaincodeEvent>,
    /// What the transaction read (keys and versions).
    pub reads: Vec<KvRead>,
    /// The public range queries it ran (partial composite key queries included), with the keys
    /// and versions the peer read from each: what the validator re-checks for phantom reads.
    pub range_queries: Vec<RangeQueryInfo>,
    /// What the transaction wrote, in (namespace, collection, key) order — a namespace's public
    /// writes first, then its private data; deletes and purges have no value. Includes the writes
    /// of the chaincodes it called on its channel.
    pub writes: Vec<KvWrite>,
    /// The key metadata it wrote (`PUT_STATE_METADATA`, e.g. key-level endorsement policies).
    pub metadata_writes: Vec<KvMetadataWrite>,
    /// What happened to the writes.
    pub commit: CommitStatus,
    /// From sending the transaction to its COMPLETED.
    pub duration: Duration,
}

impl TxOutcome {
    /// The response status.
    pub fn status(&self) -> i32 {
        self.response.status
    }

    /// The payload as text (invalid UTF-8 replaced).
    pub fn payload_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.response.payload)
    }

    /// Whether the peer endorsed the response (status 200..400).
    pub fn is_endorsed(&self) -> bool {
        is_endorsed(self.response.status)
    }

    /// Whether the writes were committed.
    pub fn is_committed(&self) -> bool {
        self.commit == CommitStatus::Committed
    }
}

/// The peer endorses responses with a status in 200..400 (`core/endorser/endorser.go:126-131`;
/// the gateway rejects anything outside, `internal/pkg/gateway/apiutils.go:41`).
fn is_endorsed(status: i32) -> bool {
    (200..400).contains(&status)
}

impl PeerEmulator {
    pub(super) async fn execute(&self, tx: TxBuilder, commit: bool) -> Result<TxOutcome, EmulatorError> {
        let shared = &self.inner.shared;
        let model = &shared.model;
        let identity = tx.creator.unwrap_or_else(|| self.inner.identity.clone());
        let creator = identity.serialize();
        let nonce = proposal::nonce();
        let tx_id = tx.tx_id.unwrap_or_else(|| proposal::compute_tx_id(&nonce, &creator));
        let channel_id = tx.channel_id.unwrap_or_else(|| self.inner.channel_id.clone());
        let timestamp: Timestamp = tx.timestamp.unwrap_or_else(SystemTime::now).into();
        let input = ChaincodeInput { args: tx.args, decorations: tx.decorations, is_init: tx.is_init };
        let signed_proposal = proposal::signed_proposal(
            proposal::ProposalParts {
                channel_id: &channel_id,
                tx_id: &tx_id,
                chaincode_name: &self.inner.chaincode_name,
                input: &input,
                transient: &tx.transient,
                creator: creator.clone(),
                nonce,
                timestamp,
            },
            self.inner.sign_proposals.then_some(&identity),
        );
        let ledger = model.channel_ledger(&channel_id);
        let snapshot = ledger.height();
        let params = TxParams {
            key: TxKey { channel_id: channel_id.clone(), tx_id: tx_id.clone() },
            namespace: self.inner.chaincode_name.clone(),
            is_init: tx.is_init,
            creator,
            signed_proposal: Some(signed_proposal),
            decorations: input.decorations.clone(),
            ledger: Arc::clone(&ledger),
            snapshot,
            sim: Arc::default(),
        };
        // The endorser's `Execute` → `Invoke`: `CheckInvocation` fails before anything is sent.
        model.check_invocation(&params).map_err(EmulatorError::InvalidInvocation)?;
        let timeout = tx.timeout.unwrap_or(model.config().execute_timeout);
        let (result, results, duration) = shared.run(params, &input, timeout).await;
        let reply = result?;
        match Type::try_from(reply.r#type) {
            Ok(Type::Completed) => {}
            Ok(Type::Error) => {
                return Err(EmulatorError::TransactionFailed(String::from_utf8_lossy(&reply.payload).into_owned()))
            }
            _ => {
                return Err(EmulatorError::BadResponse {
                    tx_id,
                    reason: format!("unexpected response type {}", describe_type(reply.r#type)),
                })
            }
        }
        let response: Response = PbResponse::decode(reply.payload.clone())
            .map_err(|e| EmulatorError::BadResponse {
                tx_id: tx_id.clone(),
                reason: format!("failed to unmarshal response: {e}"),
            })?
            .into();
        let endorsed = is_endorsed(response.status);
        let commit = if !endorsed {
            CommitStatus::NotEndorsed
        } else if !commit {
            CommitStatus::Evaluated
        } else {
            match model.commit(&ledger, &tx_id, timestamp, &results) {
                Ok(()) => CommitStatus::Committed,
                Err(Conflict::MvccRead) => CommitStatus::MvccReadConflict,
                Err(Conflict::PhantomRead) => CommitStatus::PhantomReadConflict,
            }
        };
        let event = reply.chaincode_event.filter(|_| endorsed).map(|mut event| {
            event.chaincode_id = self.inner.chaincode_name.clone();
            event.tx_id = tx_id.clone();
            event
        });
        let SimulationResults { reads, writes, metadata_writes, range_queries } = results;
        Ok(TxOutcome {
            tx_id,
            channel_id,
            response,
            event,
            reads,
            range_queries,
            writes,
            metadata_writes,
            commit,
            duration,
        })
    }
}

/// One transaction to run: arguments, options, then [`submit`](TxBuilder::submit) or
/// [`evaluate`](TxBuilder::evaluate).
///
/// ```no_run
/// # async fn example(peer: ccaas_testkit::PeerEmulator) -> Result<(), ccaas_testkit::EmulatorError> {
/// let outcome = peer
///     .transaction("CreateAsset")
///     .args(["asset1", "blue", "5", "Tom", "300"])
///     .transient("secret", "s3cr3t")
///     .channel("otherchannel")
///     .submit()
///     .await?;
/// assert!(outcome.is_committed());
/// # Ok(()) }
/// ```
#[must_use = "a transaction does nothing until submitted or evaluated"]
pub struct TxBuilder {
    emulator: PeerEmulator,
    args: Vec<Bytes>,
    transient: HashMap<String, Bytes>,
    decorations: HashMap<String, Bytes>,
    channel_id: Option<String>,
    tx_id: Option<String>,
    creator: Option<Identity>,
    timestamp: Option<SystemTime>,
    is_init: bool,
    timeout: Option<Duration>,
}

impl TxBuilder {
    pub(super) fn new(emulator: PeerEmulator, function: Bytes) -> Self {
        TxBuilder {
            emulator,
            args: vec![function],
            transient: HashMap::new(),
            decorations: HashMap::new(),
            channel_id: None,
            tx_id: None,
            creator: None,
            timestamp: None,
            is_init: false,
            timeout: None,
        }
    }

    /// Adds one argument: any bytes or text, borrowed or owned (`"50"`, `&alice_id`, a `Vec<u8>`).
    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(Bytes::copy_from_slice(arg.as_ref()));
        self
    }

    /// Adds arguments: any bytes or text, borrowed or owned (`[alice_id.as_str(), "50"]`,
    /// `&names`, a `Vec<String>`).
    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.args.extend(args.into_iter().map(|arg| Bytes::copy_from_slice(arg.as_ref())));
        self
    }

    /// Adds a transient field (private input that is not part of the transaction).
    pub fn transient(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.transient.insert(key.into(), value.into());
        self
    }

    /// Adds a decoration (what the peer's decorators would attach to the input).
    pub fn decoration(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.decorations.insert(key.into(), value.into());
        self
    }

    /// Runs on another channel than the emulator's default.
    pub fn channel(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = Some(channel_id.into());
        self
    }

    /// Uses this txid instead of Fabric's hex(SHA-256(nonce ‖ creator)).
    pub fn tx_id(mut self, tx_id: impl Into<String>) -> Self {
        self.tx_id = Some(tx_id.into());
        self
    }

    /// Submits as this client.
    pub fn creator(mut self, identity: Identity) -> Self {
        self.creator = Some(identity);
        self
    }

    /// The transaction's timestamp (now by default).
    pub fn timestamp(mut self, timestamp: SystemTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sends INIT instead of TRANSACTION (`peer chaincode invoke --isInit`). As on a peer, only a
    /// chaincode defined with `--init-required` ([`EmulatorBuilder::init_required`](super::EmulatorBuilder::init_required)) accepts it,
    /// once per definition version; otherwise the invocation fails before reaching the chaincode.
    pub fn init(mut self) -> Self {
        self.is_init = true;
        self
    }

    /// Overrides the execute timeout for this transaction.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Executes and commits the writes if the peer endorses the response.
    pub async fn submit(self) -> Result<TxOutcome, EmulatorError> {
        let emulator = self.emulator.clone();
        emulator.execute(self, true).await
    }

    /// Executes without committing anything.
    pub async fn evaluate(self) -> Result<TxOutcome, EmulatorError> {
        let emulator = self.emulator.clone();
        emulator.execute(self, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endorsement_range() {
        assert!(is_endorsed(200) && is_endorsed(399));
        assert!(!is_endorsed(400) && !is_endorsed(500) && !is_endorsed(0));
    }
}
