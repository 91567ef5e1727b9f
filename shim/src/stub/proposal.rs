//! What the stub reads from the client's signed proposal: creator, transient data, binding,
//! timestamp. Decoded and checked once when the transaction starts, as the Go shim does; the
//! binding (a SHA-256 over the creator's certificate) is computed the first time a chaincode asks
//! for it, since few do.

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;
use ccaas_protos::common::{ChannelHeader, Header, HeaderType, SignatureHeader};
use ccaas_protos::google::protobuf::Timestamp;
use ccaas_protos::protos::{ChaincodeProposalPayload, Proposal, SignedProposal};
use prost::Message;

/// The parts of a proposal a transaction can read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProposalData {
    pub(crate) creator: Bytes,
    pub(crate) transient: HashMap<String, Bytes>,
    pub(crate) timestamp: Option<Timestamp>,
    /// The binding's inputs; `None` when the transaction came without a proposal.
    binding_input: Option<(Bytes, u64)>,
    binding: OnceLock<Bytes>,
}

impl ProposalData {
    /// Decodes a signed proposal with the Go shim's checks and error texts.
    pub(crate) fn decode(signed: &SignedProposal) -> Result<Self, String> {
        let proposal = Proposal::decode(signed.proposal_bytes.clone())
            .map_err(|e| format!("failed to extract Proposal from SignedProposal: {e}"))?;
        if proposal.header.is_empty() {
            return Err("failed to extract Proposal fields: proposal header is nil".into());
        }
        let header =
            Header::decode(proposal.header.clone()).map_err(|e| format!("failed to extract proposal header: {e}"))?;
        let channel_header = ChannelHeader::decode(header.channel_header.clone())
            .map_err(|e| format!("failed to extract channel header: {e}"))?;
        let endorser = HeaderType::EndorserTransaction as i32;
        let config = HeaderType::Config as i32;
        if channel_header.r#type != endorser && channel_header.r#type != config {
            let received = HeaderType::try_from(channel_header.r#type)
                .map(|t| t.as_str_name().to_string())
                .unwrap_or_else(|_| channel_header.r#type.to_string());
            return Err(format!(
                "invalid channel header type. Expected ENDORSER_TRANSACTION or CONFIG, received {received}"
            ));
        }
        let signature_header = SignatureHeader::decode(header.signature_header.clone())
            .map_err(|e| format!("failed to extract signature header: {e}"))?;
        let payload = ChaincodeProposalPayload::decode(proposal.payload.clone())
            .map_err(|e| format!("failed to extract proposal payload: {e}"))?;
        Ok(ProposalData {
            creator: signature_header.creator,
            transient: payload.transient_map.into_iter().collect(),
            timestamp: channel_header.timestamp,
            binding_input: Some((signature_header.nonce, channel_header.epoch)),
            binding: OnceLock::new(),
        })
    }

    /// `sha256(nonce ‖ creator ‖ epoch)`, computed on first use. Empty without a proposal.
    pub(crate) fn binding(&self) -> &Bytes {
        self.binding.get_or_init(|| match &self.binding_input {
            Some((nonce, epoch)) => compute_binding(nonce, &self.creator, *epoch),
            None => Bytes::new(),
        })
    }
}

/// `sha256(nonce ‖ creator ‖ epoch as 8 little-endian bytes)`, Fabric's proposal binding.
pub(crate) fn compute_binding(nonce: &[u8], creator: &[u8], epoch: u64) -> Bytes {
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    hasher.update(nonce);
    hasher.update(creator);
    hasher.update(&epoch.to_le_bytes());
    Bytes::copy_from_slice(hasher.finish().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_hashes_nonce_creator_and_little_endian_epoch() {
        use sha2::{Digest, Sha256};
        // Checked against another SHA-256 implementation.
        let mut expected = Sha256::new();
        expected.update(b"nonce");
        expected.update(b"creator");
        expected.update([7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(compute_binding(b"nonce", b"creator", 7).as_ref(), expected.finalize().as_slice());
    }

    #[test]
    fn rejects_a_proposal_without_header() {
        let signed =
            SignedProposal { proposal_bytes: Proposal::default().encode_to_vec().into(), signature: Bytes::new() };
        assert_eq!(
            ProposalData::decode(&signed).unwrap_err(),
            "failed to extract Proposal fields: proposal header is nil"
        );
    }

    #[test]
    fn rejects_other_header_types() {
        let channel_header = ChannelHeader { r#type: HeaderType::DeliverSeekInfo as i32, ..Default::default() };
        let header = Header { channel_header: channel_header.encode_to_vec().into(), signature_header: Bytes::new() };
        let proposal = Proposal { header: header.encode_to_vec().into(), ..Default::default() };
        let signed = SignedProposal { proposal_bytes: proposal.encode_to_vec().into(), signature: Bytes::new() };
        assert_eq!(
            ProposalData::decode(&signed).unwrap_err(),
            "invalid channel header type. Expected ENDORSER_TRANSACTION or CONFIG, received DELIVER_SEEK_INFO"
        );
    }
}
