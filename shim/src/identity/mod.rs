//! The client identity of a transaction: who submitted it (the equivalent of Go's `pkg/cid`).
//!
//! A transaction's creator ([`ChaincodeStub::creator`](crate::ChaincodeStub::creator)) is a
//! serialized `msp.SerializedIdentity`: the client's MSP ID and, for an X.509 identity, its
//! certificate in PEM. [`ClientIdentity::from_creator`] decodes it and gives the MSP ID,
//! Fabric's client ID (`base64("x509::<subject DN>::<issuer DN>")`, byte for byte the string
//! that Go's `cid.GetID` returns), the certificate, and the Fabric CA attributes carried in the
//! certificate. Idemix identities are recognized too: they have an MSP ID and the `ou` and `role`
//! attributes, but no certificate and so no client ID.
//!
//! How distinguished names are written, and which Go source each rule comes from, is documented
//! on [`DistinguishedName`].
//!
//! ```
//! use ccaas_shim::identity::ClientIdentity;
//! # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
//! # let key = rcgen::KeyPair::generate()?;
//! # let mut params = rcgen::CertificateParams::new(vec![])?;
//! # params.distinguished_name = rcgen::DistinguishedName::new();
//! # params.distinguished_name.push(rcgen::DnType::CommonName, "appUser");
//! # let pem = params.self_signed(&key)?.pem();
//! # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
//! // In a chaincode: let creator = stub.creator();
//! let client = ClientIdentity::from_creator(&creator)?;
//! assert_eq!(client.msp_id(), "Org1MSP");
//! assert_eq!(client.decoded_id()?, "x509::CN=appUser::CN=appUser");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod der;
mod name;
mod pem;
mod x509;
#[cfg(test)]
mod x509_differential;

pub use name::DistinguishedName;

use base64::prelude::{Engine as _, BASE64_STANDARD};
use bytes::Bytes;
use ccaas_protos::common::{MspRole, OrganizationUnit};
use ccaas_protos::msp::{SerializedIdemixIdentity, SerializedIdentity};
use prost::Message;
use std::collections::BTreeMap;

/// The OID of the certificate extension in which Fabric CA puts a user's attributes
/// (`attrmgr.AttrOIDString`).
pub const ATTRIBUTES_OID: &str = "1.2.3.4.5.6.7.8.1";

/// Why a client identity could not be read, or an assertion about it failed. The texts follow
/// Go's `pkg/cid` where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The transaction has no creator.
    #[error("failed to get transaction invoker's identity from the chaincode stub: the creator is empty")]
    EmptyCreator,
    /// The creator is not a serialized `msp.SerializedIdentity`.
    #[error("failed to unmarshal transaction invoker's identity: {0}")]
    Creator(String),
    /// The identity bytes hold a PEM block that is not an X.509 certificate, read with the rules
    /// of Go's `x509.ParseCertificate` (the public key and the standard extensions are not
    /// decoded: the peer has already checked them).
    #[error("failed to parse certificate: {0}")]
    Certificate(String),
    /// The identity bytes are neither a PEM certificate nor an idemix identity.
    #[error("identity bytes are neither X509 PEM format nor an idemix credential: {0}")]
    NotX509OrIdemix(String),
    /// The certificate's attribute extension is not the JSON Fabric CA writes.
    #[error("failed to get attributes from the transaction invoker's certificate: {0}")]
    Attributes(String),
    /// The identity has no X.509 certificate (it is an idemix identity), so no client ID.
    #[error("cannot determine identity: the client has no X.509 certificate")]
    NoCertificate,
    /// [`ClientIdentity::assert_attribute_value`]: the attribute is missing.
    #[error("attribute '{name}' was not found")]
    AttributeNotFound {
        /// The attribute asked for.
        name: String,
    },
    /// [`ClientIdentity::assert_attribute_value`]: the attribute has another value.
    #[error("attribute '{name}' equals '{actual}', not '{expected}'")]
    AttributeMismatch {
        /// The attribute asked for.
        name: String,
        /// Its value in the identity.
        actual: String,
        /// The value that was expected.
        expected: String,
    },
}

/// What kind of credential the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    /// An X.509 certificate (the usual case).
    X509,
    /// An idemix (anonymous) credential: no certificate; `ou` and `role` attributes only.
    Idemix,
}

/// An X.509 certificate: its DER encoding and its parsed subject and issuer.
///
/// ```
/// use ccaas_shim::identity::Certificate;
/// # let key = rcgen::KeyPair::generate()?;
/// # let mut params = rcgen::CertificateParams::new(vec![])?;
/// # params.distinguished_name = rcgen::DistinguishedName::new();
/// # params.distinguished_name.push(rcgen::DnType::CommonName, "peer0");
/// # let der = params.self_signed(&key)?.der().to_vec();
/// let cert = Certificate::from_der(&der)?;
/// assert_eq!(cert.subject().common_name(), Some("peer0"));
/// assert_eq!(cert.der(), &der[..]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    subject: DistinguishedName,
    issuer: DistinguishedName,
}

impl Certificate {
    /// Parses a DER-encoded certificate with the rules of Go's `x509.ParseCertificate`, except
    /// that the public key and the standard extensions are not decoded. The signature is not
    /// verified: the peer has already validated the creator against the channel's MSPs (with
    /// Go's full parser) before the chaincode sees it.
    ///
    /// ```
    /// use ccaas_shim::identity::Certificate;
    ///
    /// let err = Certificate::from_der(b"not DER").unwrap_err();
    /// assert!(err.to_string().starts_with("failed to parse certificate"));
    /// ```
    pub fn from_der(der: &[u8]) -> Result<Self, IdentityError> {
        parse_certificate(der).map(|(cert, _)| cert)
    }

    /// The certificate's DER encoding.
    ///
    /// ```
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let der = rcgen::CertificateParams::new(vec![])?.self_signed(&key)?.der().to_vec();
    /// let cert = ccaas_shim::identity::Certificate::from_der(&der)?;
    /// assert_eq!(cert.der(), &der[..]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's distinguished name.
    ///
    /// ```
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name = rcgen::DistinguishedName::new();
    /// # params.distinguished_name.push(rcgen::DnType::OrganizationName, "Org1");
    /// # params.distinguished_name.push(rcgen::DnType::CommonName, "user1");
    /// # let der = params.self_signed(&key)?.der().to_vec();
    /// let cert = ccaas_shim::identity::Certificate::from_der(&der)?;
    /// assert_eq!(cert.subject().to_cid_string(), "CN=user1,O=Org1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    /// The issuer's distinguished name.
    ///
    /// ```
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name = rcgen::DistinguishedName::new();
    /// # params.distinguished_name.push(rcgen::DnType::CommonName, "ca.org1");
    /// # let der = params.self_signed(&key)?.der().to_vec();
    /// let cert = ccaas_shim::identity::Certificate::from_der(&der)?;
    /// assert_eq!(cert.issuer().to_string(), "CN=ca.org1"); // self-signed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }
}

/// Parses a certificate; also returns the value of its Fabric CA attribute extension.
fn parse_certificate(der: &[u8]) -> Result<(Certificate, Option<Vec<u8>>), IdentityError> {
    let parsed = x509::parse(der).map_err(IdentityError::Certificate)?;
    let cert = Certificate { der: der.to_vec(), subject: parsed.subject, issuer: parsed.issuer };
    Ok((cert, parsed.attributes))
}

/// The identity that submitted a transaction (Go's `cid.ClientID`).
///
/// ```
/// use ccaas_shim::identity::{ClientIdentity, IdentityKind};
/// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
/// # let key = rcgen::KeyPair::generate()?;
/// # let mut params = rcgen::CertificateParams::new(vec![])?;
/// # params.distinguished_name = rcgen::DistinguishedName::new();
/// # params.distinguished_name.push(rcgen::DnType::CommonName, "appUser");
/// # let pem = params.self_signed(&key)?.pem();
/// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
/// let client = ClientIdentity::from_creator(&creator)?;
/// assert_eq!(client.kind(), IdentityKind::X509);
/// assert_eq!(client.id()?, "eDUwOTo6Q049YXBwVXNlcjo6Q049YXBwVXNlcg==");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    msp_id: String,
    id_bytes: Bytes,
    certificate: Option<Certificate>,
    attributes: BTreeMap<String, String>,
}

impl ClientIdentity {
    /// Decodes a transaction's creator: a serialized `msp.SerializedIdentity` whose identity
    /// bytes are a PEM certificate (the first PEM block is used, whatever its label, as Go's
    /// `pem.Decode` does) or, when they are not PEM, a serialized `msp.SerializedIdemixIdentity`.
    ///
    /// Unlike Go, an empty creator and empty identity bytes are errors (Go would treat the
    /// latter as an idemix identity with empty fields).
    ///
    /// ```
    /// use ccaas_shim::identity::{ClientIdentity, IdentityError};
    ///
    /// assert_eq!(ClientIdentity::from_creator(b""), Err(IdentityError::EmptyCreator));
    /// let err = ClientIdentity::from_creator(b"garbage").unwrap_err();
    /// assert!(err.to_string().starts_with("failed to unmarshal transaction invoker's identity"));
    /// ```
    pub fn from_creator(creator: &[u8]) -> Result<Self, IdentityError> {
        if creator.is_empty() {
            return Err(IdentityError::EmptyCreator);
        }
        let sid = SerializedIdentity::decode(creator).map_err(|e| IdentityError::Creator(e.to_string()))?;
        let (certificate, attributes) = match pem::decode(&sid.id_bytes) {
            Ok(der) => {
                let (cert, ext) = parse_certificate(&der)?;
                let attributes = match ext {
                    Some(json) => parse_attributes(&json).map_err(IdentityError::Attributes)?,
                    None => BTreeMap::new(),
                };
                (Some(cert), attributes)
            }
            Err(pem_error) => {
                let attributes = idemix_attributes(&sid.id_bytes).map_err(|e| match pem_error {
                    // Go says only this; the PEM reason helps with a damaged block.
                    None => IdentityError::NotX509OrIdemix(e),
                    Some(reason) => IdentityError::NotX509OrIdemix(format!("{e} (PEM: {reason})")),
                })?;
                (None, attributes)
            }
        };
        Ok(ClientIdentity { msp_id: sid.mspid, id_bytes: sid.id_bytes, certificate, attributes })
    }

    /// The ID of the MSP the client belongs to (Go's `GetMSPID`).
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let pem = rcgen::CertificateParams::new(vec![])?.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// assert_eq!(client.msp_id(), "Org1MSP");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn msp_id(&self) -> &str {
        &self.msp_id
    }

    /// The identity bytes as the creator carried them (the PEM certificate for X.509).
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let pem = rcgen::CertificateParams::new(vec![])?.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.clone().into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// assert_eq!(client.id_bytes(), pem.as_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id_bytes(&self) -> &Bytes {
        &self.id_bytes
    }

    /// Whether the client used an X.509 certificate or an idemix credential.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let pem = rcgen::CertificateParams::new(vec![])?.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// use ccaas_shim::identity::{ClientIdentity, IdentityKind};
    /// assert_eq!(ClientIdentity::from_creator(&creator)?.kind(), IdentityKind::X509);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> IdentityKind {
        if self.certificate.is_some() {
            IdentityKind::X509
        } else {
            IdentityKind::Idemix
        }
    }

    /// The client's certificate; `None` for an idemix identity (Go's `GetX509Certificate`).
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name = rcgen::DistinguishedName::new();
    /// # params.distinguished_name.push(rcgen::DnType::CommonName, "appUser");
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// let cert = client.certificate().expect("an X.509 identity");
    /// assert_eq!(cert.subject().common_name(), Some("appUser"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// Fabric's client ID: `base64("x509::<subject DN>::<issuer DN>")`, standard alphabet with
    /// padding, the DNs written by [`DistinguishedName::to_cid_string`]. Equal to what Go's
    /// `cid.GetID` returns for the same certificate; stays the same when the certificate is
    /// renewed with the same names. An idemix identity has none
    /// ([`IdentityError::NoCertificate`]).
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name = rcgen::DistinguishedName::new();
    /// # params.distinguished_name.push(rcgen::DnType::CommonName, "appUser");
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// // base64 of "x509::CN=appUser::CN=appUser"
    /// assert_eq!(client.id()?, "eDUwOTo6Q049YXBwVXNlcjo6Q049YXBwVXNlcg==");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> Result<String, IdentityError> {
        Ok(BASE64_STANDARD.encode(self.decoded_id()?))
    }

    /// The client ID before base64: `x509::<subject DN>::<issuer DN>`.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name = rcgen::DistinguishedName::new();
    /// # params.distinguished_name.push(rcgen::DnType::CountryName, "US");
    /// # params.distinguished_name.push(rcgen::DnType::CommonName, "appUser");
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// assert_eq!(client.decoded_id()?, "x509::CN=appUser,C=US::CN=appUser,C=US");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decoded_id(&self) -> Result<String, IdentityError> {
        let cert = self.certificate.as_ref().ok_or(IdentityError::NoCertificate)?;
        Ok(format!("x509::{}::{}", cert.subject.to_cid_string(), cert.issuer.to_cid_string()))
    }

    /// The value of a Fabric CA attribute (for idemix: `ou` or `role`), if the identity has it.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(
    /// #     &[1, 2, 3, 4, 5, 6, 7, 8, 1], br#"{"attrs":{"hf.Type":"client","department":"audit"}}"#.to_vec()));
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// assert_eq!(client.attribute("department").as_deref(), Some("audit"));
    /// assert_eq!(client.attribute("missing"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.attributes.get(name).cloned()
    }

    /// All attributes, by name.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(
    /// #     &[1, 2, 3, 4, 5, 6, 7, 8, 1], br#"{"attrs":{"hf.Type":"client","department":"audit"}}"#.to_vec()));
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// let names: Vec<&str> = client.attributes().keys().map(String::as_str).collect();
    /// assert_eq!(names, ["department", "hf.Type"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// Checks that the attribute `name` exists and equals `value`, with Go's error texts:
    /// `attribute 'x' was not found`, `attribute 'x' equals 'y', not 'z'`.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.custom_extensions.push(rcgen::CustomExtension::from_oid_content(
    /// #     &[1, 2, 3, 4, 5, 6, 7, 8, 1], br#"{"attrs":{"role":"auditor"}}"#.to_vec()));
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// client.assert_attribute_value("role", "auditor")?;
    /// let err = client.assert_attribute_value("role", "admin").unwrap_err();
    /// assert_eq!(err.to_string(), "attribute 'role' equals 'auditor', not 'admin'");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn assert_attribute_value(&self, name: &str, value: &str) -> Result<(), IdentityError> {
        match self.attributes.get(name) {
            None => Err(IdentityError::AttributeNotFound { name: name.into() }),
            Some(actual) if actual != value => Err(IdentityError::AttributeMismatch {
                name: name.into(),
                actual: actual.clone(),
                expected: value.into(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Whether the certificate's subject has the organizational unit `ou` (Go's `HasOUValue`);
    /// an error for an idemix identity.
    ///
    /// ```
    /// # use ccaas_shim::protos::{msp::SerializedIdentity, prost::Message};
    /// # let key = rcgen::KeyPair::generate()?;
    /// # let mut params = rcgen::CertificateParams::new(vec![])?;
    /// # params.distinguished_name.push(rcgen::DnType::OrganizationalUnitName, "client");
    /// # let pem = params.self_signed(&key)?.pem();
    /// # let creator = SerializedIdentity { mspid: "Org1MSP".into(), id_bytes: pem.into() }.encode_to_vec();
    /// let client = ccaas_shim::identity::ClientIdentity::from_creator(&creator)?;
    /// assert!(client.has_ou_value("client")?);
    /// assert!(!client.has_ou_value("admin")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_ou_value(&self, ou: &str) -> Result<bool, IdentityError> {
        let cert = self.certificate.as_ref().ok_or(IdentityError::NoCertificate)?;
        Ok(cert.subject.organizational_units().contains(&ou))
    }
}

/// Go's `json.Unmarshal` of the extension into `attrmgr.Attributes`
/// (`struct { Attrs map[string]string `json:"attrs"` }`).
fn parse_attributes(json: &[u8]) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_slice::<FabricAttributes>(json)
        .map(|attrs| attrs.0.unwrap_or_default())
        .map_err(|e| format!("failed to unmarshal attributes from certificate: {e}"))
}

/// The attribute JSON, read with the parts of Go's `encoding/json` rules that matter here: a
/// top-level `null` is no attributes; keys match the field name `attrs` case-insensitively
/// (ASCII only) and any other key is ignored; `"attrs": null` clears the map and a later `attrs`
/// key adds to it; a `null` value is the empty string; any other non-string value is an error.
struct FabricAttributes(Option<BTreeMap<String, String>>);

impl<'de> serde::Deserialize<'de> for FabricAttributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FabricAttributes;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a JSON object like {"attrs":{"name":"value"}}"#)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(FabricAttributes(None))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut attrs: Option<BTreeMap<String, String>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key.eq_ignore_ascii_case("attrs") {
                        map.next_value_seed(Attrs(&mut attrs))?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(FabricAttributes(attrs))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The value of an `attrs` key, read into the attributes so far: `null` clears them, an object's
/// entries are added (a `null` value as the empty string). Read in place rather than as a map of
/// its own, which would be one more map type compiled into every chaincode.
struct Attrs<'a>(&'a mut Option<BTreeMap<String, String>>);

impl<'de> serde::de::DeserializeSeed<'de> for Attrs<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Attrs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let attrs = self.0.get_or_insert_with(BTreeMap::new);
        while let Some((key, value)) = map.next_entry::<String, Option<String>>()? {
            attrs.insert(key, value.unwrap_or_default());
        }
        Ok(())
    }
}

/// Go's `attrmgr.GetAttributesFromIdemix`: `ou` and `role` from a `SerializedIdemixIdentity`.
fn idemix_attributes(id_bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    if id_bytes.is_empty() {
        return Err("the identity bytes are empty".into());
    }
    let idemix = SerializedIdemixIdentity::decode(id_bytes)
        .map_err(|e| format!("failed to unmarshal transaction invoker's idemix identity: {e}"))?;
    let ou = OrganizationUnit::decode(idemix.ou.as_ref())
        .map_err(|e| format!("failed to unmarshal transaction invoker's ou: {e}"))?;
    let role = MspRole::decode(idemix.role.as_ref())
        .map_err(|e| format!("failed to unmarshal transaction invoker's role: {e}"))?;
    let role = match role.role {
        0 => "member",
        1 => "admin",
        2 => "client",
        3 => "peer",
        _ => "", // Go leaves other roles (ORDERER included) empty
    };
    Ok(BTreeMap::from([("ou".to_owned(), ou.organizational_unit_identifier), ("role".to_owned(), role.to_owned())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_json_follows_go() {
        let parse = |s: &str| parse_attributes(s.as_bytes());
        let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(parse(r#"{"attrs":{"a":"1","b":"2"}}"#), Ok(map(&[("a", "1"), ("b", "2")])));
        assert_eq!(parse("null"), Ok(map(&[])));
        assert_eq!(parse("{}"), Ok(map(&[])));
        assert_eq!(parse(r#"{"attrs":null}"#), Ok(map(&[])));
        assert_eq!(parse(r#"{"ATTRS":{"a":"1"},"other":[1,2]}"#), Ok(map(&[("a", "1")])));
        assert_eq!(parse(r#"{"attrs":{"a":"1"},"Attrs":{"b":"2"}}"#), Ok(map(&[("a", "1"), ("b", "2")])));
        assert_eq!(parse(r#"{"attrs":{"a":"1"},"attrs":null}"#), Ok(map(&[])));
        assert_eq!(parse(r#"{"attrs":{"a":"1","a":"2"}}"#), Ok(map(&[("a", "2")])));
        assert_eq!(parse(r#"{"attrs":{"a":null}}"#), Ok(map(&[("a", "")])));
        assert!(parse(r#"{"attrs":{"a":1}}"#).is_err());
        assert!(parse(r#"{"attrs":["a"]}"#).is_err());
        assert!(parse(r#"[]"#).is_err());
        assert!(parse(r#"{"attrs":{}} x"#).is_err());
        assert!(parse("").unwrap_err().starts_with("failed to unmarshal attributes from certificate: "));
    }
}
