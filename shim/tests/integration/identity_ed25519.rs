//! Ed25519 creators (Fabric 3): the client identity reads them as Go's `pkg/cid` does, as it
//! reads ECDSA ones: the key's algorithm changes nothing in the ID, the MSP ID or the attributes.
//! (`deploy/tests/testbed/mtls.rs` shows the same through a real Fabric 3.1.5 peer.)

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ccaas_shim::identity::{ClientIdentity, IdentityKind, ATTRIBUTES_OID};
use ccaas_shim::protos::msp::SerializedIdentity;
use ccaas_shim::protos::prost::Message;
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, DnType, Issuer, KeyPair, PKCS_ED25519};

fn creator(msp_id: &str, pem: impl Into<Vec<u8>>) -> Vec<u8> {
    SerializedIdentity { mspid: msp_id.into(), id_bytes: pem.into().into() }.encode_to_vec()
}

/// cryptogen 3.1.5's User1 with `PublicKeyAlgorithm: ed25519` (see the fixtures' README).
#[test]
fn cryptogen_ed25519_user() {
    let path = format!("{}/tests/fixtures/identity/ed25519_user1.pem", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(&path).unwrap();
    let id = ClientIdentity::from_creator(&creator("Org1MSP", pem.as_bytes())).unwrap();
    assert_eq!(id.kind(), IdentityKind::X509);
    assert_eq!(id.msp_id(), "Org1MSP");
    // Subject in certificate order C=US / ST=California / L=San Francisco / OU=client /
    // CN=User1@org1.example.com; issuer C / ST / L / O=org1.example.com / CN=ca.org1.example.com.
    // Go's getDN prints the RDNs last-first (see identity_id.rs).
    let decoded = "x509::CN=User1@org1.example.com,OU=client,L=San Francisco,ST=California,C=US::\
                   CN=ca.org1.example.com,O=org1.example.com,L=San Francisco,ST=California,C=US";
    assert_eq!(id.decoded_id().unwrap(), decoded);
    assert_eq!(id.id().unwrap(), BASE64_STANDARD.encode(decoded));
    // cryptogen writes no Fabric CA attributes.
    assert!(id.attributes().is_empty());
    assert_eq!(id.attribute("hf.Type"), None);
    assert!(id.assert_attribute_value("hf.Type", "client").is_err());
    let cert = id.certificate().unwrap();
    assert_eq!(cert.subject().common_name(), Some("User1@org1.example.com"));
}

/// An Ed25519 user certificate of an ECDSA CA, with Fabric CA's attribute extension.
#[test]
fn ed25519_user_with_attributes() {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(vec![]).unwrap();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::OrganizationName, "org2.example.com");
    ca.distinguished_name.push(DnType::CommonName, "ca.org2.example.com");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationalUnitName, "client");
    params.distinguished_name.push(DnType::CommonName, "edUser");
    let oid: Vec<u64> = ATTRIBUTES_OID.split('.').map(|arc| arc.parse().unwrap()).collect();
    let attrs = r#"{"attrs":{"hf.EnrollmentID":"edUser","hf.Type":"client","role":"auditor"}}"#;
    params.custom_extensions.push(CustomExtension::from_oid_content(&oid, attrs.as_bytes().to_vec()));
    let pem = params.signed_by(&key, &issuer).unwrap().pem();

    let id = ClientIdentity::from_creator(&creator("Org2MSP", pem)).unwrap();
    assert_eq!(id.msp_id(), "Org2MSP");
    assert_eq!(id.decoded_id().unwrap(), "x509::CN=edUser,OU=client::CN=ca.org2.example.com,O=org2.example.com");
    assert_eq!(id.attribute("role").as_deref(), Some("auditor"));
    assert_eq!(id.assert_attribute_value("hf.Type", "client"), Ok(()));
    let names: Vec<&str> = id.attributes().keys().map(String::as_str).collect();
    assert_eq!(names, ["hf.EnrollmentID", "hf.Type", "role"]);
}
