//! The signed proposals the peer forwards with INIT and TRANSACTION.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ccaas_protos::common::{ChannelHeader, Header, HeaderType, SignatureHeader};
use ccaas_protos::google::protobuf::Timestamp;
use ccaas_protos::protos::{
    ChaincodeHeaderExtension, ChaincodeId, ChaincodeInput, ChaincodeInvocationSpec, ChaincodeProposalPayload,
    ChaincodeSpec, Proposal, SignedProposal,
};
use prost::Message;
use sha2::{Digest, Sha256};

use super::identity::Identity;

/// A 24-byte nonce, unique within the process (not cryptographically random: this is a test peer).
pub(crate) fn nonce() -> Bytes {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(n.to_le_bytes());
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    Bytes::copy_from_slice(&hasher.finalize()[..24])
}

/// Fabric's transaction id: hex(SHA-256(nonce ‖ creator)) (`protoutil.ComputeTxID`).
pub(crate) fn compute_tx_id(nonce: &[u8], creator: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(nonce);
    hasher.update(creator);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything a proposal carries.
pub(crate) struct ProposalParts<'a> {
    pub channel_id: &'a str,
    pub tx_id: &'a str,
    pub chaincode_name: &'a str,
    pub input: &'a ChaincodeInput,
    pub transient: &'a HashMap<String, Bytes>,
    pub creator: Bytes,
    pub nonce: Bytes,
    pub timestamp: Timestamp,
}

/// Builds the signed proposal as a Fabric client does, signed by the creator's key when the
/// identity has one (the model itself does not check signatures). The shim can decode the
/// creator, nonce, transient map and timestamp from it.
pub(crate) fn signed_proposal(parts: ProposalParts<'_>, signer: Option<&Identity>) -> SignedProposal {
    let chaincode_id = ChaincodeId { name: parts.chaincode_name.to_string(), ..Default::default() };
    let extension: Bytes = ChaincodeHeaderExtension { chaincode_id: Some(chaincode_id.clone()) }.encode_to_vec().into();
    let channel_header = ChannelHeader {
        r#type: HeaderType::EndorserTransaction as i32,
        version: 0,
        timestamp: Some(parts.timestamp),
        channel_id: parts.channel_id.to_string(),
        tx_id: parts.tx_id.to_string(),
        epoch: 0,
        extension: extension.clone(),
        tls_cert_hash: Bytes::new(),
    };
    let signature_header = SignatureHeader { creator: parts.creator, nonce: parts.nonce };
    let header = Header {
        channel_header: channel_header.encode_to_vec().into(),
        signature_header: signature_header.encode_to_vec().into(),
    };
    // The client's input does not carry the peer's decorations.
    let mut input = parts.input.clone();
    input.decorations.clear();
    let invocation = ChaincodeInvocationSpec {
        chaincode_spec: Some(ChaincodeSpec {
            r#type: 0,
            chaincode_id: Some(chaincode_id),
            input: Some(input),
            timeout: 0,
        }),
    };
    let payload =
        ChaincodeProposalPayload { input: invocation.encode_to_vec().into(), transient_map: parts.transient.clone() };
    let proposal =
        Proposal { header: header.encode_to_vec().into(), payload: payload.encode_to_vec().into(), extension };
    let proposal_bytes: Bytes = proposal.encode_to_vec().into();
    let signature = signer.and_then(|signer| signer.sign(&proposal_bytes)).unwrap_or_default();
    SignedProposal { proposal_bytes, signature }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccaas_protos::msp::SerializedIdentity;

    #[test]
    fn tx_id_is_sha256_of_nonce_and_creator() {
        assert_eq!(compute_tx_id(b"", b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(nonce(), nonce());
    }

    #[test]
    fn proposal_round_trips() {
        let input = ChaincodeInput { args: vec![Bytes::from("f")], ..Default::default() };
        let transient = HashMap::from([("k".to_string(), Bytes::from("v"))]);
        let identity = Identity::new("Org1MSP", "cert");
        let signed = signed_proposal(
            ProposalParts {
                channel_id: "ch",
                tx_id: "tx",
                chaincode_name: "cc",
                input: &input,
                transient: &transient,
                creator: identity.serialize(),
                nonce: Bytes::from_static(b"n"),
                timestamp: Timestamp { seconds: 5, nanos: 0 },
            },
            Some(&identity),
        );
        let proposal = Proposal::decode(signed.proposal_bytes).unwrap();
        let header = Header::decode(proposal.header).unwrap();
        let channel = ChannelHeader::decode(header.channel_header).unwrap();
        assert_eq!((channel.channel_id.as_str(), channel.tx_id.as_str()), ("ch", "tx"));
        let signature = SignatureHeader::decode(header.signature_header).unwrap();
        let creator = SerializedIdentity::decode(signature.creator).unwrap();
        assert_eq!(creator.mspid, "Org1MSP");
        let payload = ChaincodeProposalPayload::decode(proposal.payload).unwrap();
        assert_eq!(payload.transient_map["k"], "v");
    }
}
