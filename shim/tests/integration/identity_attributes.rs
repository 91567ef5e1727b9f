//! Fabric CA attributes (certificate extension 1.2.3.4.5.6.7.8.1), their assertions, and idemix
//! identities.

use ccaas_shim::identity::{ClientIdentity, IdentityError, IdentityKind, ATTRIBUTES_OID};
use ccaas_shim::protos::common::{MspRole, OrganizationUnit};
use ccaas_shim::protos::msp::{SerializedIdemixIdentity, SerializedIdentity};
use ccaas_shim::protos::prost::Message;
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, DnType, Issuer, KeyPair};

fn creator(msp_id: &str, id_bytes: impl Into<Vec<u8>>) -> Vec<u8> {
    SerializedIdentity { mspid: msp_id.into(), id_bytes: id_bytes.into().into() }.encode_to_vec()
}

/// A Fabric CA-like user certificate, signed by a CA, with `attrs_json` in the attribute
/// extension when given.
fn user_certificate(attrs_json: Option<&str>) -> String {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(vec![]).unwrap();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CountryName, "US");
    ca.distinguished_name.push(DnType::StateOrProvinceName, "North Carolina");
    ca.distinguished_name.push(DnType::LocalityName, "Durham");
    ca.distinguished_name.push(DnType::OrganizationName, "org1.example.com");
    ca.distinguished_name.push(DnType::CommonName, "ca.org1.example.com");
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationalUnitName, "client");
    params.distinguished_name.push(DnType::CommonName, "appUser1");
    if let Some(json) = attrs_json {
        let oid: Vec<u64> = ATTRIBUTES_OID.split('.').map(|arc| arc.parse().unwrap()).collect();
        params.custom_extensions.push(CustomExtension::from_oid_content(&oid, json.as_bytes().to_vec()));
    }
    params.signed_by(&key, &issuer).unwrap().pem()
}

const FABRIC_CA_ATTRS: &str = concat!(
    r#"{"attrs":{"hf.Affiliation":"org1.department1","hf.EnrollmentID":"appUser1","#,
    r#""hf.Type":"client","role":"auditor"}}"#
);

#[test]
fn attributes_come_from_the_fabric_ca_extension() {
    let id = ClientIdentity::from_creator(&creator("Org1MSP", user_certificate(Some(FABRIC_CA_ATTRS)))).unwrap();
    assert_eq!(id.kind(), IdentityKind::X509);
    assert_eq!(
        id.decoded_id().unwrap(),
        "x509::CN=appUser1,OU=client::CN=ca.org1.example.com,O=org1.example.com,L=Durham,ST=North Carolina,C=US"
    );
    assert_eq!(id.attribute("hf.EnrollmentID").as_deref(), Some("appUser1"));
    assert_eq!(id.attribute("role").as_deref(), Some("auditor"));
    assert_eq!(id.attribute("Role"), None); // names are case-sensitive
    assert_eq!(id.attribute("foo"), None);
    let names: Vec<&str> = id.attributes().keys().map(String::as_str).collect();
    assert_eq!(names, ["hf.Affiliation", "hf.EnrollmentID", "hf.Type", "role"]);
}

#[test]
fn assert_attribute_value_uses_gos_texts() {
    let id = ClientIdentity::from_creator(&creator("Org1MSP", user_certificate(Some(FABRIC_CA_ATTRS)))).unwrap();
    assert_eq!(id.assert_attribute_value("role", "auditor"), Ok(()));

    let err = id.assert_attribute_value("role", "admin").unwrap_err();
    assert_eq!(
        err,
        IdentityError::AttributeMismatch { name: "role".into(), actual: "auditor".into(), expected: "admin".into() }
    );
    assert_eq!(err.to_string(), "attribute 'role' equals 'auditor', not 'admin'");

    let err = id.assert_attribute_value("foo", "").unwrap_err();
    assert_eq!(err, IdentityError::AttributeNotFound { name: "foo".into() });
    assert_eq!(err.to_string(), "attribute 'foo' was not found");
}

#[test]
fn a_certificate_without_the_extension_has_no_attributes() {
    let id = ClientIdentity::from_creator(&creator("Org1MSP", user_certificate(None))).unwrap();
    assert!(id.attributes().is_empty());
    assert_eq!(id.attribute("hf.Type"), None);
    assert_eq!(
        id.assert_attribute_value("hf.Type", "client").unwrap_err().to_string(),
        "attribute 'hf.Type' was not found"
    );
}

#[test]
fn attribute_json_is_read_as_go_reads_it() {
    let read = |json: &str| ClientIdentity::from_creator(&creator("Org1MSP", user_certificate(Some(json))));
    // Go's encoding/json matches the field name case-insensitively, ignores other keys, and
    // stores a null value as the empty string.
    let id = read(r#"{"Attrs":{"a":"1","b":null},"other":{"x":1}}"#).unwrap();
    assert_eq!(id.attribute("a").as_deref(), Some("1"));
    assert_eq!(id.attribute("b").as_deref(), Some(""));
    assert!(read("null").unwrap().attributes().is_empty());
    assert!(read(r#"{"attrs":null}"#).unwrap().attributes().is_empty());

    for bad in [r#"{"attrs":{"a":1}}"#, r#"{"attrs":"a"}"#, "[]", "not json", ""] {
        let err = read(bad).unwrap_err();
        assert!(matches!(err, IdentityError::Attributes(_)), "{bad}: {err:?}");
        assert!(
            err.to_string().starts_with(
                "failed to get attributes from the transaction invoker's certificate: \
                 failed to unmarshal attributes from certificate: "
            ),
            "{err}"
        );
    }
}

fn idemix_creator(ou: &str, role: i32) -> Vec<u8> {
    let idemix = SerializedIdemixIdentity {
        nym_x: vec![1; 32].into(),
        nym_y: vec![2; 32].into(),
        ou: OrganizationUnit {
            msp_identifier: "idemixMSP".into(),
            organizational_unit_identifier: ou.into(),
            certifiers_identifier: vec![3; 32].into(),
        }
        .encode_to_vec()
        .into(),
        role: MspRole { msp_identifier: "idemixMSP".into(), role }.encode_to_vec().into(),
        proof: vec![4; 64].into(),
    };
    creator("idemixMSP", idemix.encode_to_vec())
}

#[test]
fn idemix_identities_have_ou_and_role_but_no_certificate() {
    let id = ClientIdentity::from_creator(&idemix_creator("org1.department1", 0)).unwrap();
    assert_eq!(id.kind(), IdentityKind::Idemix);
    assert_eq!(id.msp_id(), "idemixMSP");
    assert!(id.certificate().is_none());
    assert_eq!(id.id(), Err(IdentityError::NoCertificate));
    assert_eq!(id.decoded_id(), Err(IdentityError::NoCertificate));
    assert_eq!(id.has_ou_value("org1.department1"), Err(IdentityError::NoCertificate));
    assert_eq!(id.attribute("ou").as_deref(), Some("org1.department1"));
    assert_eq!(id.attribute("role").as_deref(), Some("member"));
    assert_eq!(id.attribute("id"), None);
    id.assert_attribute_value("role", "member").unwrap();

    // Go's role names: 0 member, 1 admin, 2 client, 3 peer; anything else is empty.
    for (role, name) in [(1, "admin"), (2, "client"), (3, "peer"), (4, ""), (9, "")] {
        let id = ClientIdentity::from_creator(&idemix_creator("ou", role)).unwrap();
        assert_eq!(id.attribute("role").as_deref(), Some(name), "role {role}");
    }
}
