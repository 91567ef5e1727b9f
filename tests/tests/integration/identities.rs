//! The test kit's client identities: Fabric CA-like certificates with a node OU and attributes
//! (for attribute-based access control), issued by one test CA per MSP, and proposals signed as
//! Fabric clients sign them.

use ccaas_protos::msp::SerializedIdentity;
use ccaas_protos::protos::SignedProposal;
use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use ccaas_testkit::{Emulator, Identity};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use prost::Message;

/// Answers what the chaincode sees of its caller; `audit` requires the attribute role=auditor.
struct Abac;

impl Chaincode for Abac {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let identity = match stub.client_identity() {
            Ok(identity) => identity,
            Err(e) => return Response::error(e.to_string()),
        };
        match stub.function_and_parameters().0.as_str() {
            "whoami" => Response::success(identity.decoded_id().unwrap_or_default()),
            "attrs" => Response::success(serde_json::to_vec(identity.attributes()).unwrap()),
            "audit" => match identity.assert_attribute_value("role", "auditor") {
                Ok(()) => Response::success("audited"),
                Err(e) => Response::error(e.to_string()),
            },
            "signed_proposal" => Response::success(stub.signed_proposal().cloned().unwrap_or_default().encode_to_vec()),
            other => Response::error(format!("unknown function {other}")),
        }
    }
}

#[tokio::test]
async fn a_built_identity_is_issued_by_its_msps_ca_with_its_ous() {
    let peer = Emulator::in_process(Abac).await;
    let alice = Identity::builder("Org1MSP", "alice").build();
    let seen = peer.tx("whoami").creator(alice).submit().await.unwrap();
    let ca = "CN=ca.org1.example.com,O=org1.example.com,L=Durham,ST=North Carolina,C=US";
    assert_eq!(seen.assert_ok().payload_str(), format!("x509::CN=alice,OU=client::{ca}"));

    let admin = Identity::builder("Org2MSP", "root").ou("admin").build();
    let seen = peer.tx("whoami").creator(admin.clone()).submit().await.unwrap();
    let ca = "CN=ca.org2.example.com,O=org2.example.com,L=Durham,ST=North Carolina,C=US";
    assert_eq!(seen.assert_ok().payload_str(), format!("x509::CN=root,OU=admin::{ca}"));
    let attrs = peer.tx("attrs").creator(admin).submit().await.unwrap();
    assert!(attrs.payload_str().contains(r#""hf.Type":"admin""#), "{attrs}");
}

#[tokio::test]
async fn attributes_reach_the_chaincode_for_access_control() {
    let peer = Emulator::in_process(Abac).await;
    let auditor = Identity::builder("Org1MSP", "alice").attribute("role", "auditor").build();
    let attrs = peer.tx("attrs").creator(auditor.clone()).submit().await.unwrap();
    let attrs: serde_json::Value = serde_json::from_slice(&attrs.response.payload).unwrap();
    assert_eq!(
        attrs,
        serde_json::json!({"hf.Affiliation": "", "hf.EnrollmentID": "alice", "hf.Type": "client", "role": "auditor"})
    );
    peer.tx("audit").creator(auditor).submit().await.unwrap().assert_ok();

    let clerk = Identity::builder("Org1MSP", "bob").attribute("role", "clerk").build();
    peer.tx("audit")
        .creator(clerk)
        .submit()
        .await
        .unwrap()
        .assert_error("attribute 'role' equals 'clerk', not 'auditor'");
    let plain = Identity::generate("Org1MSP", "carol");
    peer.tx("audit").creator(plain).submit().await.unwrap().assert_error("attribute 'role' was not found");
}

/// The proposal the chaincode received, and the public key of its creator's certificate.
async fn received_proposal(peer: &Emulator, creator: Identity) -> (SignedProposal, Option<VerifyingKey>) {
    let outcome = peer.tx("signed_proposal").creator(creator.clone()).submit().await.unwrap();
    let signed = SignedProposal::decode(outcome.assert_ok().response.payload.clone()).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&creator.id_bytes).unwrap();
    let certificate = pem.parse_x509().unwrap();
    let key = VerifyingKey::from_public_key_der(certificate.public_key().raw).ok();
    (signed, key)
}

#[tokio::test]
async fn proposals_are_signed_by_the_creators_key_with_low_s() {
    let peer = Emulator::in_process(Abac).await;
    for creator in [Identity::builder("Org1MSP", "alice").build(), Identity::generate("Org2MSP", "bob")] {
        for _ in 0..8 {
            let (signed, key) = received_proposal(&peer, creator.clone()).await;
            let signature = Signature::from_der(&signed.signature).expect("a DER ECDSA signature");
            key.unwrap().verify(&signed.proposal_bytes, &signature).expect("signed by the creator's key");
            assert!(signature.normalize_s().is_none(), "S is in the lower half, as the MSP requires");
        }
    }
}

#[tokio::test]
async fn an_identity_without_a_key_sends_an_empty_signature() {
    let peer = Emulator::in_process(Abac).await;
    let pem = Identity::generate("Org1MSP", "dave").id_bytes;
    let (signed, _) = received_proposal(&peer, Identity::new("Org1MSP", pem)).await;
    assert!(signed.signature.is_empty());
    let creator = SerializedIdentity::decode(
        ccaas_protos::common::SignatureHeader::decode(
            ccaas_protos::common::Header::decode(
                ccaas_protos::protos::Proposal::decode(signed.proposal_bytes).unwrap().header,
            )
            .unwrap()
            .signature_header,
        )
        .unwrap()
        .creator,
    )
    .unwrap();
    assert_eq!(creator.mspid, "Org1MSP");
}
