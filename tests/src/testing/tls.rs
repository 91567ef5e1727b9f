//! Throw-away X.509 material for tests: a CA, server and client certificates (ECDSA P-256,
//! generated with rcgen).
//!
//! ```
//! let pki = ccaas_testkit::testing::tls::TestPki::new();
//! let server = pki.server(&["localhost", "127.0.0.1"]);
//! let client = pki.client("peer0.org1.example.com");
//! assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! assert!(server.key_pem.contains("PRIVATE KEY") && client.cert_pem.contains("CERTIFICATE"));
//! ```

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// The PKCS#8 private key (PEM).
    pub key_pem: String,
}

/// A test certificate authority.
pub struct TestPki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// The parameters of a certificate authority named `dn` (unconstrained, signs certificates and CRLs).
pub(crate) fn ca_params(dn: DistinguishedName) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// `O=fabric-ccaas test[, OU=<unit>], CN=<common_name>`: the names of the test kit's certificates.
pub(crate) fn name(common_name: &str, unit: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "fabric-ccaas test");
    if let Some(unit) = unit {
        dn.push(DnType::OrganizationalUnitName, unit);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

impl TestPki {
    /// A new CA (`CN=ccaas test CA`).
    pub fn new() -> Self {
        let key = KeyPair::generate().expect("generate CA key");
        let params = ca_params(name("ccaas test CA", None));
        let cert = params.self_signed(&key).expect("self-sign CA");
        TestPki { ca_pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// The CA certificate (PEM): the `root_cert` of connection.json, or the server's client CA.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A server certificate for the given DNS names and IP addresses.
    pub fn server(&self, names: &[&str]) -> CertifiedKey {
        self.issue(names, names.first().copied().unwrap_or("localhost"), ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (what the peer presents with `client_auth_required`).
    pub fn client(&self, common_name: &str) -> CertifiedKey {
        self.issue(&[], common_name, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, names: &[&str], common_name: &str, usage: ExtendedKeyUsagePurpose) -> CertifiedKey {
        let key = KeyPair::generate().expect("generate key");
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("certificate params");
        params.distinguished_name = name(common_name, None);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).expect("sign certificate");
        CertifiedKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }
}
