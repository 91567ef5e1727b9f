//! Signed proposals and transactions, built exactly as the `peer` CLI builds them
//! (fabric `protoutil`): a `ChaincodeInvocationSpec` in a `ChaincodeProposalPayload`, an
//! `ENDORSER_TRANSACTION` channel header whose TxID is `hex(sha256(nonce ‖ creator))`, and the
//! creator's signature over the proposal bytes.

use std::collections::BTreeMap;

use ccaas_protos::common::{ChannelHeader, Envelope, Header, HeaderType, Payload, SignatureHeader};
use ccaas_protos::protos::{
    ChaincodeActionPayload, ChaincodeEndorsedAction, ChaincodeHeaderExtension, ChaincodeId, ChaincodeInput,
    ChaincodeInvocationSpec, ChaincodeProposalPayload, ChaincodeSpec, ProposalResponse, SignedProposal, Transaction,
    TransactionAction,
};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::identity::Identity;

/// Fabric's nonce length (`common/crypto.NonceSize`).
pub const NONCE_LEN: usize = 24;

/// An unsigned proposal and the parts a transaction reuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The transaction ID.
    pub tx_id: String,
    /// The channel ("" for channel-less calls such as install).
    pub channel: String,
    /// The marshalled `common.Header`.
    pub header: Vec<u8>,
    /// The marshalled `common.SignatureHeader`.
    pub signature_header: Vec<u8>,
    /// The marshalled `protos.ChaincodeProposalPayload` as a transaction carries it: without the
    /// transient map, which only the endorsers see.
    pub payload: Vec<u8>,
    /// The marshalled `protos.Proposal`: what is signed.
    pub bytes: Vec<u8>,
}

/// `hex(sha256(nonce ‖ creator))`, lower case: Fabric's `ComputeTxID`.
pub fn tx_id(nonce: &[u8], creator: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(nonce);
    h.update(creator);
    hex(&h.finalize())
}

/// 24 random bytes from the operating system.
pub fn new_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).expect("the operating system's random source works");
    nonce
}

/// The current time as a protobuf timestamp.
pub fn now() -> ccaas_protos::google::protobuf::Timestamp {
    ccaas_protos::google::protobuf::Timestamp::from(std::time::SystemTime::now())
}

/// What a proposal asks of a chaincode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The arguments; the first is the function name.
    pub args: Vec<Vec<u8>>,
    /// Transient data: given to the endorsing chaincode, never written to the ledger.
    pub transient: BTreeMap<String, Vec<u8>>,
    /// The call is the chaincode's `Init` (the peer CLI's `--isInit`).
    pub is_init: bool,
}

/// Builds the proposal for calling `chaincode` with `args` (the first is the function name) on
/// `channel`, from `creator` (a marshalled `SerializedIdentity`), a nonce and a timestamp.
pub fn build(
    creator: &[u8],
    nonce: &[u8],
    timestamp: ccaas_protos::google::protobuf::Timestamp,
    channel: &str,
    chaincode: &str,
    args: Vec<Vec<u8>>,
) -> Proposal {
    build_invocation(creator, nonce, timestamp, channel, chaincode, &Invocation { args, ..Default::default() })
}

/// [`build`] with transient data and the `Init` flag.
pub fn build_invocation(
    creator: &[u8],
    nonce: &[u8],
    timestamp: ccaas_protos::google::protobuf::Timestamp,
    channel: &str,
    chaincode: &str,
    invocation: &Invocation,
) -> Proposal {
    let chaincode_id = ChaincodeId { name: chaincode.into(), ..Default::default() };
    let spec = ChaincodeInvocationSpec {
        chaincode_spec: Some(ChaincodeSpec {
            chaincode_id: Some(chaincode_id.clone()),
            input: Some(ChaincodeInput {
                args: invocation.args.iter().map(|a| a.clone().into()).collect(),
                is_init: invocation.is_init,
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let payload = ChaincodeProposalPayload { input: spec.encode_to_vec().into(), ..Default::default() };
    let with_transient = ChaincodeProposalPayload {
        transient_map: invocation.transient.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect(),
        ..payload.clone()
    }
    .encode_to_vec();
    let payload = payload.encode_to_vec();
    let tx_id = tx_id(nonce, creator);
    let channel_header = ChannelHeader {
        r#type: HeaderType::EndorserTransaction as i32,
        timestamp: Some(timestamp),
        channel_id: channel.into(),
        tx_id: tx_id.clone(),
        extension: ChaincodeHeaderExtension { chaincode_id: Some(chaincode_id) }.encode_to_vec().into(),
        ..Default::default()
    };
    let signature_header =
        SignatureHeader { creator: creator.to_vec().into(), nonce: nonce.to_vec().into() }.encode_to_vec();
    let header = Header {
        channel_header: channel_header.encode_to_vec().into(),
        signature_header: signature_header.clone().into(),
    }
    .encode_to_vec();
    let bytes = ccaas_protos::protos::Proposal {
        header: header.clone().into(),
        payload: with_transient.into(),
        ..Default::default()
    }
    .encode_to_vec();
    Proposal { tx_id, channel: channel.into(), header, signature_header, payload, bytes }
}

/// A proposal for `identity` with a fresh nonce and the current time.
pub fn for_identity(identity: &Identity, channel: &str, chaincode: &str, args: Vec<Vec<u8>>) -> Proposal {
    build(&identity.serialized(), &new_nonce(), now(), channel, chaincode, args)
}

/// A proposal of `invocation` for `identity` with a fresh nonce and the current time.
pub fn for_invocation(identity: &Identity, channel: &str, chaincode: &str, invocation: &Invocation) -> Proposal {
    build_invocation(&identity.serialized(), &new_nonce(), now(), channel, chaincode, invocation)
}

/// Signs a proposal.
pub fn sign(identity: &Identity, proposal: &Proposal) -> SignedProposal {
    SignedProposal { proposal_bytes: proposal.bytes.clone().into(), signature: identity.sign(&proposal.bytes).into() }
}

/// The signed transaction envelope for the orderer, from the endorsements of `responses`
/// (fabric `protoutil.CreateSignedTx`): the responses must agree on the payload; endorsements
/// are deduplicated by endorser.
pub fn transaction(
    identity: &Identity,
    proposal: &Proposal,
    responses: &[ProposalResponse],
) -> Result<Envelope, String> {
    let first = responses.first().ok_or("no endorsements")?;
    if let Some(other) = responses.iter().find(|r| r.payload != first.payload) {
        let who = other.endorsement.as_ref().map(|e| e.endorser.len()).unwrap_or(0);
        return Err(format!("the endorsing peers returned different results (endorser of {who} bytes disagrees)"));
    }
    let mut endorsements = Vec::new();
    for r in responses {
        let e = r.endorsement.clone().ok_or("a response carries no endorsement")?;
        if !endorsements.iter().any(|x: &ccaas_protos::protos::Endorsement| x.endorser == e.endorser) {
            endorsements.push(e);
        }
    }
    let action = ChaincodeActionPayload {
        chaincode_proposal_payload: proposal.payload.clone().into(),
        action: Some(ChaincodeEndorsedAction { proposal_response_payload: first.payload.clone(), endorsements }),
    };
    let tx = Transaction {
        actions: vec![TransactionAction {
            header: proposal.signature_header.clone().into(),
            payload: action.encode_to_vec().into(),
        }],
    };
    let header = Header::decode(proposal.header.as_slice()).map_err(|e| e.to_string())?;
    let payload = Payload { header: Some(header), data: tx.encode_to_vec().into() }.encode_to_vec();
    Ok(Envelope { signature: identity.sign(&payload).into(), payload: payload.into() })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
