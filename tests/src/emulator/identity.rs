//! Client identities: who signs a proposal, as the MSP id and X.509 certificate Fabric serializes
//! as its creator, with the private key that signs it when the identity was generated here.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use ccaas_protos::msp::SerializedIdentity;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use prost::Message;

use crate::error::EmulatorError;
use crate::model::Signer;
use rcgen::{CertificateParams, CustomExtension, DistinguishedName, DnType, Issuer, KeyPair, KeyUsagePurpose};

/// Fabric CA's attribute extension (`1.2.3.4.5.6.7.8.1`, JSON `{"attrs":{...}}`).
const ATTRIBUTES_OID: &[u64] = &[1, 2, 3, 4, 5, 6, 7, 8, 1];

/// A client identity: an MSP id and the PEM certificate Fabric serializes as the proposal's
/// creator (`msp.SerializedIdentity{mspid, id_bytes}`). Identities made by
/// [`generate`](Self::generate) or [`builder`](Self::builder) also hold their private key and
/// sign the proposals they create (ECDSA P-256 over SHA-256, DER, low S, as Fabric's clients
/// sign); one made by [`new`](Self::new) from a certificate alone sends an empty signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The MSP id, e.g. `Org1MSP`.
    pub msp_id: String,
    /// The identity bytes: a PEM X.509 certificate for X.509 identities.
    pub id_bytes: Bytes,
    signer: Option<ProposalSigner>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("msp_id", &self.msp_id)
            .field("id_bytes", &crate::printable(&self.id_bytes))
            .field("signs", &self.signer.is_some())
            .finish()
    }
}

/// The key an identity signs proposals with (compared by identity, never printed).
#[derive(Clone)]
struct ProposalSigner(Arc<SigningKey>);

impl PartialEq for ProposalSigner {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ProposalSigner {}

impl Identity {
    /// An identity from an MSP id and certificate bytes (PEM), without a key: its proposals
    /// carry an empty signature.
    pub fn new(msp_id: impl Into<String>, id_bytes: impl Into<Bytes>) -> Self {
        Identity { msp_id: msp_id.into(), id_bytes: id_bytes.into(), signer: None }
    }

    /// An identity from an existing certificate and, optionally, its private key: PEM files as
    /// Fabric CA and `cryptogen` write them (`signcerts/cert.pem`, `keystore/priv_sk`: PKCS#8,
    /// ECDSA P-256), for example a user of a test network. Without a key, proposals carry an
    /// empty signature. The key is not checked against the certificate.
    ///
    /// ```
    /// use ccaas_testkit::Identity;
    ///
    /// let key = rcgen::KeyPair::generate().unwrap();
    /// let cert = rcgen::CertificateParams::new(vec![]).unwrap().self_signed(&key).unwrap();
    /// let identity = Identity::from_pem("Org2MSP", &cert.pem(), Some(&key.serialize_pem())).unwrap();
    /// assert!(identity.sign(b"proposal").is_some());
    /// assert!(Identity::from_pem("Org2MSP", "not a certificate", None).is_err());
    /// ```
    pub fn from_pem(msp_id: impl Into<String>, cert_pem: &str, key_pem: Option<&str>) -> Result<Self, EmulatorError> {
        let identity = Identity::new(msp_id, cert_pem.to_string());
        if let Err(e) = ccaas_shim::identity::ClientIdentity::from_creator(&identity.serialize()) {
            return Err(EmulatorError::Identity(format!("the certificate is not a client identity: {e}")));
        }
        let Some(key_pem) = key_pem else {
            return Ok(identity);
        };
        let key = KeyPair::from_pem(key_pem)
            .map_err(|e| EmulatorError::Identity(format!("the private key is not a PEM PKCS#8 key: {e}")))?;
        let key = SigningKey::from_pkcs8_der(&key.serialize_der())
            .map_err(|e| EmulatorError::Identity(format!("the private key is not an ECDSA P-256 key: {e}")))?;
        Ok(identity.signing_key(key))
    }

    /// A fresh self-signed X.509 identity with the given common name and `OU=client`
    /// (generated with rcgen; ECDSA P-256). It signs its proposals.
    pub fn generate(msp_id: impl Into<String>, common_name: &str) -> Self {
        let key = KeyPair::generate().expect("generate identity key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("identity params");
        params.distinguished_name = crate::testing::tls::name(common_name, Some("client"));
        let pem = params.self_signed(&key).expect("self-sign identity").pem();
        Identity::new(msp_id, pem).signing_with(&key)
    }

    /// An identity as Fabric CA enrolls one, issued by this process's test CA of the MSP, with
    /// node OUs and attributes for attribute-based access control:
    ///
    /// ```
    /// use ccaas_testkit::Identity;
    /// let auditor = Identity::builder("Org1MSP", "alice").attribute("role", "auditor").build();
    /// let admin = Identity::builder("Org1MSP", "root").ou("admin").build();
    /// # let _ = (auditor, admin);
    /// ```
    pub fn builder(msp_id: impl Into<String>, common_name: impl Into<String>) -> IdentityBuilder {
        IdentityBuilder {
            msp_id: msp_id.into(),
            common_name: common_name.into(),
            unit: "client".to_string(),
            attributes: BTreeMap::new(),
        }
    }

    /// The default client: `User1@org1.example.com` of `Org1MSP` (one certificate per process).
    pub fn default_client() -> Self {
        static DEFAULT: OnceLock<Identity> = OnceLock::new();
        DEFAULT.get_or_init(|| Identity::generate("Org1MSP", "User1@org1.example.com")).clone()
    }

    /// The identity as a collection's member orgs policy sees it: its MSP id and the node OUs
    /// (`admin`, `client`, `peer`, `orderer`) its certificate carries.
    pub fn signer(&self) -> Signer {
        Signer::of_creator(&self.serialize())
    }

    /// The client id a chaincode sees for this identity: Go's `ctx.GetClientIdentity().GetID()`,
    /// `ctx.client_identity()?.id()?` in the shim (`x509::CN=...::CN=...`, base64-encoded).
    ///
    /// ```
    /// use ccaas_testkit::Identity;
    ///
    /// let alice = Identity::generate("Org1MSP", "alice");
    /// let id = alice.client_id();
    /// let decoded = String::from_utf8(base64::Engine::decode(&base64::prelude::BASE64_STANDARD, &id).unwrap()).unwrap();
    /// assert!(decoded.starts_with("x509::CN=alice"), "{decoded}");
    /// ```
    ///
    /// # Panics
    /// If the identity bytes are not an X.509 certificate (an identity made by [`new`](Self::new)
    /// from other bytes has no client id).
    pub fn client_id(&self) -> String {
        match ccaas_shim::identity::ClientIdentity::from_creator(&self.serialize()).and_then(|id| id.id()) {
            Ok(id) => id,
            Err(e) => panic!("this identity of {} has no client id: {e}", self.msp_id),
        }
    }

    /// The serialized identity (a proposal's `creator`).
    pub fn serialize(&self) -> Bytes {
        SerializedIdentity { mspid: self.msp_id.clone(), id_bytes: self.id_bytes.clone() }.encode_to_vec().into()
    }

    /// Signs `message` as a Fabric client signs a proposal: ECDSA P-256 of its SHA-256, DER, with
    /// S in the lower half of the curve order (the MSP refuses high-S signatures). `None` for an
    /// identity without a key.
    pub fn sign(&self, message: &[u8]) -> Option<Bytes> {
        let signer = self.signer.as_ref()?;
        let signature: Signature = signer.0.sign(message);
        let signature = signature.normalize_s().unwrap_or(signature);
        Some(Bytes::copy_from_slice(signature.to_der().as_bytes()))
    }

    fn signing_with(self, key: &KeyPair) -> Self {
        let key = SigningKey::from_pkcs8_der(&key.serialize_der()).expect("rcgen makes P-256 PKCS#8 keys");
        self.signing_key(key)
    }

    fn signing_key(mut self, key: SigningKey) -> Self {
        self.signer = Some(ProposalSigner(Arc::new(key)));
        self
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity::default_client()
    }
}

/// Builds an [`Identity`] issued by the test CA of its MSP (see [`Identity::builder`]).
///
/// The certificate is what Fabric CA enrolls: subject `OU=<node OU>, CN=<name>` (default OU
/// `client`) under the issuer
/// `C=US, ST=North Carolina, L=Durham, O=<org>.example.com, CN=ca.<org>.example.com` (`Org1MSP`
/// gives `org1`), with Fabric CA's default attributes `hf.EnrollmentID` (the name), `hf.Type`
/// (the OU) and `hf.Affiliation` (empty) besides those added here. Each MSP's CA is made once
/// per process, so identities of one MSP share their issuer. The subject holds one OU (the
/// certificate generator writes one value per name attribute), not Fabric CA's affiliation OUs.
#[derive(Debug, Clone)]
pub struct IdentityBuilder {
    msp_id: String,
    common_name: String,
    unit: String,
    attributes: BTreeMap<String, String>,
}

impl IdentityBuilder {
    /// The organizational unit, Fabric's node OU: `client` (the default), `admin`, `peer` or
    /// `orderer`.
    pub fn ou(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Adds (or replaces) a Fabric CA attribute, which the chaincode reads with
    /// `ClientIdentity::attribute` and `assert_attribute_value`.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Issues the certificate.
    pub fn build(self) -> Identity {
        let mut attributes = BTreeMap::from([
            ("hf.Affiliation".to_string(), String::new()),
            ("hf.EnrollmentID".to_string(), self.common_name.clone()),
            ("hf.Type".to_string(), self.unit.clone()),
        ]);
        attributes.extend(self.attributes);
        let attrs = serde_json::json!({ "attrs": attributes }).to_string();

        let key = KeyPair::generate().expect("generate identity key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("identity params");
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::OrganizationalUnitName, self.unit.as_str());
        params.distinguished_name.push(DnType::CommonName, self.common_name.as_str());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.custom_extensions.push(CustomExtension::from_oid_content(ATTRIBUTES_OID, attrs.into_bytes()));
        let pem = with_msp_ca(&self.msp_id, |issuer| params.signed_by(&key, issuer).expect("issue identity").pem());
        Identity::new(self.msp_id, pem).signing_with(&key)
    }
}

/// Runs `issue` with the test CA of `msp_id`, made on first use.
fn with_msp_ca<T>(msp_id: &str, issue: impl FnOnce(&Issuer<'static, KeyPair>) -> T) -> T {
    static CAS: OnceLock<Mutex<HashMap<String, Arc<Issuer<'static, KeyPair>>>>> = OnceLock::new();
    let issuer = {
        let mut cas = CAS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(cas.entry(msp_id.to_string()).or_insert_with(|| Arc::new(msp_ca(msp_id))))
    };
    issue(&issuer)
}

fn msp_ca(msp_id: &str) -> Issuer<'static, KeyPair> {
    let org = msp_id.strip_suffix("MSP").unwrap_or(msp_id).to_lowercase();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "North Carolina");
    dn.push(DnType::LocalityName, "Durham");
    dn.push(DnType::OrganizationName, format!("{org}.example.com"));
    dn.push(DnType::CommonName, format!("ca.{org}.example.com"));
    let key = KeyPair::generate().expect("generate CA key");
    Issuer::new(crate::testing::tls::ca_params(dn), key)
}
