//! Proposal bytes and signatures, without a network.
//!
//! The expected bytes are written out field by field from Fabric's proto definitions (field
//! numbers of `common.proto`, `proposal.proto`, `chaincode.proto`), independently of the prost
//! types the library uses, for a fixed nonce and timestamp. The fixtures are a cryptogen Org1
//! admin and user (throwaway test keys).

use std::path::PathBuf;

use ccaas_deploy::identity::{verify, Identity};
use ccaas_deploy::proposal::{self, hex};
use ccaas_protos::protos::SignedProposal;
use p256::ecdsa::Signature;
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn admin() -> Identity {
    Identity::from_files("Org1MSP", &fixture("admin-cert.pem"), &fixture("admin-key.pem")).unwrap()
}

// A minimal protobuf writer: tag, varint, length-delimited.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
fn bytes_field(field: u64, data: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}
fn varint_field(field: u64, v: u64, out: &mut Vec<u8>) {
    varint(field << 3, out);
    varint(v, out);
}
type Part<'a> = &'a dyn Fn(&mut Vec<u8>);
fn msg(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        p(&mut out);
    }
    out
}

const NONCE: [u8; 24] = [7; 24];
const SECONDS: i64 = 1_700_000_000;
const NANOS: i32 = 123_456_789;

fn expected_proposal(creator: &[u8], channel: &str, function: &str, arg: &[u8]) -> (String, Vec<u8>) {
    let tx_id = hex(&Sha256::new().chain_update(NONCE).chain_update(creator).finalize());
    let chaincode_id = msg(&[&|o| bytes_field(2, b"_lifecycle", o)]);
    let input = msg(&[&|o| bytes_field(1, function.as_bytes(), o), &|o| bytes_field(1, arg, o)]);
    let spec = msg(&[&|o| bytes_field(2, &chaincode_id, o), &|o| bytes_field(3, &input, o)]);
    let invocation = msg(&[&|o| bytes_field(1, &spec, o)]);
    let payload = msg(&[&|o| bytes_field(1, &invocation, o)]);
    let timestamp = msg(&[&|o| varint_field(1, SECONDS as u64, o), &|o| varint_field(2, NANOS as u64, o)]);
    let extension = msg(&[&|o| bytes_field(2, &chaincode_id, o)]);
    let channel_header = msg(&[
        &|o| varint_field(1, 3, o), // ENDORSER_TRANSACTION
        &|o| bytes_field(3, &timestamp, o),
        &|o| {
            if !channel.is_empty() {
                bytes_field(4, channel.as_bytes(), o)
            }
        },
        &|o| bytes_field(5, tx_id.as_bytes(), o),
        &|o| bytes_field(7, &extension, o),
    ]);
    let signature_header = msg(&[&|o| bytes_field(1, creator, o), &|o| bytes_field(2, &NONCE, o)]);
    let header = msg(&[&|o| bytes_field(1, &channel_header, o), &|o| bytes_field(2, &signature_header, o)]);
    let proposal = msg(&[&|o| bytes_field(1, &header, o), &|o| bytes_field(2, &payload, o)]);
    (tx_id, proposal)
}

fn timestamp() -> ccaas_protos::google::protobuf::Timestamp {
    ccaas_protos::google::protobuf::Timestamp { seconds: SECONDS, nanos: NANOS }
}

#[test]
fn creator_is_a_serialized_identity_with_the_pem_certificate() {
    let id = admin();
    let cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    let expected = msg(&[&|o| bytes_field(1, b"Org1MSP", o), &|o| bytes_field(2, &cert, o)]);
    assert_eq!(id.serialized(), expected);
}

#[test]
fn channel_proposal_bytes_match_the_peer_cli_layout() {
    let creator = admin().serialized();
    let arg = msg(&[&|o| bytes_field(1, b"basic", o)]); // QueryChaincodeDefinitionArgs{name}
    let p = proposal::build(
        &creator,
        &NONCE,
        timestamp(),
        "mychannel",
        "_lifecycle",
        vec![b"QueryChaincodeDefinition".to_vec(), arg.clone()],
    );
    let (tx_id, bytes) = expected_proposal(&creator, "mychannel", "QueryChaincodeDefinition", &arg);
    assert_eq!(p.tx_id, tx_id);
    assert_eq!(p.tx_id.len(), 64);
    assert_eq!(p.bytes, bytes);
}

#[test]
fn install_proposal_has_no_channel() {
    let creator = admin().serialized();
    let arg = msg(&[&|o| bytes_field(1, b"package bytes", o)]);
    let p = proposal::build(
        &creator,
        &NONCE,
        timestamp(),
        "",
        "_lifecycle",
        vec![b"InstallChaincode".to_vec(), arg.clone()],
    );
    assert_eq!(p.bytes, expected_proposal(&creator, "", "InstallChaincode", &arg).1);
}

#[test]
fn tx_id_is_sha256_of_nonce_then_creator() {
    assert_eq!(
        proposal::tx_id(b"nonce", b"creator"),
        // printf 'noncecreator' | sha256sum
        "709184f9d24f6ade8fcd4d6521a6eef295fef6c2e67216c58b68ac15e8946492"
    );
}

#[test]
fn signatures_are_low_s_der_and_verify_with_the_certificate() {
    let id = admin();
    let cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    let other_cert = std::fs::read(fixture("user1-cert.pem")).unwrap();
    let p = proposal::build(&id.serialized(), &NONCE, timestamp(), "mychannel", "_lifecycle", vec![b"x".to_vec()]);
    let signed: SignedProposal = proposal::sign(&id, &p);
    assert_eq!(signed.proposal_bytes.as_ref(), p.bytes.as_slice());
    verify(&cert, &p.bytes, &signed.signature).unwrap();
    assert_eq!(
        verify(&other_cert, &p.bytes, &signed.signature).unwrap_err(),
        "the signature does not verify with the certificate's key"
    );
    // Many messages: every signature is DER and low-S (about half would be high-S otherwise).
    for i in 0..64u32 {
        let m = i.to_be_bytes();
        let sig = Signature::from_der(&id.sign(&m)).unwrap();
        assert!(sig.normalize_s().is_none(), "high-S signature for message {i}");
        verify(&cert, &m, &id.sign(&m)).unwrap();
    }
}

#[test]
fn high_s_signatures_are_rejected_as_the_peer_does() {
    let id = admin();
    let cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    let sig = Signature::from_der(&id.sign(b"m")).unwrap();
    let (r, s) = sig.split_scalars();
    let high = Signature::from_scalars(r, -*s).unwrap();
    assert_eq!(
        verify(&cert, b"m", high.to_der().as_bytes()).unwrap_err(),
        "Invalid S. Must be smaller than half the order"
    );
}

#[test]
fn msp_folder_picks_the_key_that_matches_the_certificate() {
    // keystore/ holds the user's key first (a_sk), then the admin's (b_sk).
    let id = Identity::from_msp_dir("Org1MSP", &fixture("msp")).unwrap();
    let cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    verify(&cert, b"m", &id.sign(b"m")).unwrap();
}

#[test]
fn a_key_of_another_certificate_is_refused() {
    let err = Identity::from_files("Org1MSP", &fixture("admin-cert.pem"), &fixture("user1-key.pem")).unwrap_err();
    assert!(err.to_string().contains("the private key does not belong to the certificate"), "{err}");
    assert!(err.to_string().starts_with("identity of Org1MSP from "), "{err}");
}

#[test]
fn orderer_transaction_reuses_the_proposal_header_and_signs_the_payload() {
    use ccaas_protos::common::{Header, Payload};
    use ccaas_protos::protos::{Endorsement, ProposalResponse, Transaction};
    use prost::Message;
    let id = admin();
    let cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    let p = proposal::build(&id.serialized(), &NONCE, timestamp(), "mychannel", "_lifecycle", vec![b"x".to_vec()]);
    let endorsement = |who: &[u8]| Endorsement { endorser: who.to_vec().into(), signature: b"sig".to_vec().into() };
    let response = |who: &[u8]| ProposalResponse {
        payload: b"same result".to_vec().into(),
        endorsement: Some(endorsement(who)),
        ..Default::default()
    };
    let env = proposal::transaction(&id, &p, &[response(b"peer1"), response(b"peer2"), response(b"peer1")]).unwrap();
    verify(&cert, &env.payload, &env.signature).unwrap();
    let payload = Payload::decode(env.payload.as_ref()).unwrap();
    assert_eq!(payload.header.unwrap(), Header::decode(p.header.as_slice()).unwrap());
    let tx = Transaction::decode(payload.data.as_ref()).unwrap();
    assert_eq!(tx.actions[0].header.as_ref(), p.signature_header.as_slice());
    let action = ccaas_protos::protos::ChaincodeActionPayload::decode(tx.actions[0].payload.as_ref()).unwrap();
    assert_eq!(action.chaincode_proposal_payload.as_ref(), p.payload.as_slice());
    assert_eq!(action.action.unwrap().endorsements.len(), 2, "endorsements are deduplicated by endorser");

    let mut differing = response(b"peer2");
    differing.payload = b"other result".to_vec().into();
    assert!(proposal::transaction(&id, &p, &[response(b"peer1"), differing])
        .unwrap_err()
        .contains("different results"));
}

fn ed25519_user() -> Identity {
    Identity::from_files("Org1MSP", &fixture("user1-ed25519-cert.pem"), &fixture("user1-ed25519-key.pem")).unwrap()
}

/// Fabric 3's cryptogen `User1` with `PublicKeyAlgorithm: ed25519` (its key in PKCS#8 v1, as Go
/// writes it): it signs the message itself, 64 bytes, deterministically; the signature verifies
/// with the certificate, and OpenSSL (another Ed25519 implementation) makes the same bytes.
#[test]
fn ed25519_keys_sign_the_message_itself() {
    let id = ed25519_user();
    assert!(id.is_ed25519() && !admin().is_ed25519());
    let cert = std::fs::read(fixture("user1-ed25519-cert.pem")).unwrap();
    let p = proposal::build(&id.serialized(), &NONCE, timestamp(), "mychannel", "_lifecycle", vec![b"x".to_vec()]);
    let signed = proposal::sign(&id, &p);
    assert_eq!(signed.signature.len(), 64);
    assert_eq!(id.sign(&p.bytes), signed.signature.as_ref(), "Ed25519 is deterministic");
    verify(&cert, &p.bytes, &signed.signature).unwrap();
    assert_eq!(
        verify(&cert, b"another message", &signed.signature).unwrap_err(),
        "the signature does not verify with the certificate's key"
    );
    let admin_cert = std::fs::read(fixture("admin-cert.pem")).unwrap();
    assert!(verify(&admin_cert, &p.bytes, &signed.signature).is_err(), "an ECDSA certificate");

    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    std::fs::write(&message, &p.bytes).unwrap();
    let openssl = std::process::Command::new("openssl")
        .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
        .arg(fixture("user1-ed25519-key.pem"))
        .arg("-in")
        .arg(&message)
        .output();
    match openssl {
        Ok(out) if out.status.success() => assert_eq!(out.stdout, signed.signature.as_ref(), "OpenSSL's signature"),
        _ => eprintln!("skipping the comparison with OpenSSL: no openssl 3 with pkeyutl -rawin here"),
    }
}

#[test]
fn ed25519_msp_folder_and_mismatched_keys() {
    // An MSP folder whose keystore holds an ECDSA key (the admin's) and the Ed25519 one.
    let dir = tempfile::tempdir().unwrap();
    for sub in ["signcerts", "keystore"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    std::fs::copy(fixture("user1-ed25519-cert.pem"), dir.path().join("signcerts/cert.pem")).unwrap();
    std::fs::copy(fixture("admin-key.pem"), dir.path().join("keystore/a_sk")).unwrap();
    std::fs::copy(fixture("user1-ed25519-key.pem"), dir.path().join("keystore/b_sk")).unwrap();
    let id = Identity::from_msp_dir("Org1MSP", dir.path()).unwrap();
    assert!(id.is_ed25519());
    let cert = std::fs::read(fixture("user1-ed25519-cert.pem")).unwrap();
    verify(&cert, b"m", &id.sign(b"m")).unwrap();

    for (cert, key) in [("user1-ed25519-cert.pem", "admin-key.pem"), ("admin-cert.pem", "user1-ed25519-key.pem")] {
        let err = Identity::from_files("Org1MSP", &fixture(cert), &fixture(key)).unwrap_err();
        assert!(err.to_string().contains("the private key does not belong to the certificate"), "{err}");
    }
    std::fs::remove_file(dir.path().join("keystore/b_sk")).unwrap();
    let err = Identity::from_msp_dir("Org1MSP", dir.path()).unwrap_err();
    assert!(err.to_string().contains("keystore/ has no private key (P-256 or Ed25519) for"), "{err}");
}
