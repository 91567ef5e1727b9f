//! Proposal data as the stub decodes it from the signed proposal the emulator built (creator and
//! client identity, transient map, binding, timestamp, decorations, peer MSP id), and events.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use ccaas_protos::common::{ChannelHeader, Header, SignatureHeader};
use ccaas_protos::msp::SerializedIdentity;
use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::Proposal;
use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::{Direction, Identity, PeerEmulator, Transcript};
use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{payload_json, to_hex, StubProbe};

#[tokio::test]
async fn the_stub_decodes_what_the_client_proposed() {
    let transcript = Transcript::new();
    let service = ChaincodeService::new(Arc::new(StubProbe), "probe:1", Drain::new()).with_peer_msp_id("Org1MSP");
    let peer = PeerEmulator::builder()
        .chaincode_name("basic")
        .transcript(transcript.hook())
        .connect_in_process(&service)
        .await
        .unwrap();
    let alice = Identity::generate("Org2MSP", "Alice");
    let timestamp = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let outcome = peer
        .transaction("proposal")
        .arg("extra")
        .creator(alice.clone())
        .transient("secret", "s3cr3t")
        .transient("other", "x")
        .decoration("deco", "rated")
        .timestamp(timestamp)
        .submit()
        .await
        .unwrap();
    let seen = payload_json(&outcome);

    // Creator: the serialized identity, decoded by `client_identity()`.
    let creator = SerializedIdentity { mspid: "Org2MSP".into(), id_bytes: alice.id_bytes.clone() }.encode_to_vec();
    assert_eq!(seen["creator"], json!(to_hex(&creator)));
    assert_eq!(seen["msp_id"], json!("Org2MSP"));
    // pkg/cid's id: base64("x509::" + subject + "::" + issuer), names in Go's order (last RDN first).
    let dn = "CN=Alice,OU=client,O=fabric-ccaas test";
    let decoded = format!("x509::{dn}::{dn}");
    assert_eq!(seen["decoded_id"], json!(decoded));
    assert_eq!(seen["id"], json!(base64::engine::general_purpose::STANDARD.encode(&decoded)));

    // Binding: recomputed here from the proposal the emulator sent with TRANSACTION.
    let sent = transcript
        .for_tx(&outcome.tx_id)
        .into_iter()
        .find(|e| e.direction == Direction::PeerToChaincode && e.kind() == Some(Type::Transaction))
        .expect("the TRANSACTION message");
    let proposal = Proposal::decode(sent.message.proposal.clone().unwrap().proposal_bytes).unwrap();
    let header = Header::decode(proposal.header).unwrap();
    let signature = SignatureHeader::decode(header.signature_header).unwrap();
    let channel = ChannelHeader::decode(header.channel_header).unwrap();
    assert_eq!(signature.creator, creator);
    let mut binding = Sha256::new();
    binding.update(&signature.nonce);
    binding.update(&signature.creator);
    binding.update(channel.epoch.to_le_bytes());
    assert_eq!(seen["binding"], json!(to_hex(&binding.finalize())));

    assert_eq!(seen["transient"], json!({"secret": "s3cr3t", "other": "x"}));
    assert_eq!(seen["decorations"], json!({"deco": "rated"}));
    assert_eq!((seen["seconds"].clone(), seen["nanos"].clone()), (json!(1_700_000_000), json!(123_456_789)));
    assert_eq!(seen["peer_msp_id"], json!("Org1MSP"));
    assert_eq!(seen["tx_id"], json!(outcome.tx_id));
    assert_eq!(seen["channel_id"], json!("mychannel"));
    assert_eq!(seen["is_init"], json!(false));
    assert_eq!(seen["args"], json!(["proposal", "extra"]));
    // The txid is Fabric's hex(SHA-256(nonce ‖ creator)).
    let mut tx_id = Sha256::new();
    tx_id.update(&signature.nonce);
    tx_id.update(&creator);
    assert_eq!(outcome.tx_id, to_hex(&tx_id.finalize()));
}

#[tokio::test]
async fn without_a_peer_msp_id_the_stub_says_so() {
    let peer = PeerEmulator::builder().init_required("1.0").connect_chaincode(StubProbe).await.unwrap();
    let seen = payload_json(&peer.transaction("proposal").init().submit().await.unwrap());
    assert_eq!(seen["peer_msp_id"], json!("'CORE_PEER_LOCALMSPID' is not set"));
    assert_eq!(seen["is_init"], json!(true));
    assert_eq!(seen["msp_id"], json!("Org1MSP"));
}

#[tokio::test]
async fn a_transaction_has_one_event_and_the_last_one_wins() {
    let peer = PeerEmulator::builder().chaincode_name("basic").connect_chaincode(StubProbe).await.unwrap();
    let outcome = peer.invoke("events", ["first", "1", "second", "2"]).await.unwrap();
    let event = outcome.event.expect("an event");
    assert_eq!((event.event_name.as_str(), &event.payload[..]), ("second", &b"2"[..]));
    // The peer fills in the chaincode name and txid.
    assert_eq!((event.chaincode_id.as_str(), event.tx_id.as_str()), ("basic", outcome.tx_id.as_str()));
    // An empty name is refused by the stub; a failed transaction carries no event.
    let outcome = peer.invoke("empty_event", [""; 0]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!("event name can not be empty string"));
    assert!(outcome.event.is_none());
    let outcome = peer.invoke("fail", [""; 0]).await.unwrap();
    assert!(outcome.event.is_none());
}
