//! TLS material for the chaincode server, checked when it is loaded, served through rustls.

use std::fmt;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{InconsistentKeys, RootCertStore};

/// What is wrong with TLS material (PEM text) given to [`TlsConfig`].
///
/// When the material comes from files named by environment variables,
/// [`ConfigError`](super::ConfigError) wraps this with the variable and the file path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The PEM text holds no `CERTIFICATE` block.
    #[error("no certificate found (expected a PEM \"CERTIFICATE\" block)")]
    NoCertificate,
    /// The PEM text holds no private key block.
    #[error("no private key found (expected a PEM \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\" block)")]
    NoPrivateKey,
    /// The PEM text is malformed.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// The private key is not one rustls can sign with (ECDSA P-256/P-384, Ed25519, RSA).
    #[error("unsupported private key: {0}")]
    UnsupportedKey(String),
    /// The (first) certificate could not be parsed.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// The private key's public key is not the one in the certificate (SubjectPublicKeyInfo
    /// differs): the key and the certificate are not a pair.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// The client CA certificates cannot be used to verify client certificates.
    #[error("invalid client CA certificate: {0}")]
    InvalidClientCa(String),
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}")]
    Rustls(String),
}

/// The chaincode server's TLS identity and, for mutual TLS, the CAs that sign the peers' client
/// certificates.
///
/// Everything is parsed and checked when the value is built: the certificate chain, the private
/// key, that the key belongs to the first certificate, and that the client CAs are usable. So a
/// `TlsConfig` that exists always serves.
///
/// The server speaks TLS 1.2 and 1.3 (never older), offers ALPN `h2`, and with client CAs
/// requires every client (the peer) to present a certificate that chains to one of them, as the
/// Go shim does with `RequireAndVerifyClientCert`.
///
/// ```
/// # use ccaas_shim::server::TlsConfig;
/// # fn demo(cert_pem: &[u8], key_pem: &[u8], peer_ca_pem: &[u8]) -> Result<(), ccaas_shim::server::TlsError> {
/// let tls = TlsConfig::from_pem(cert_pem, key_pem)?.with_client_ca_pem(peer_ca_pem)?;
/// assert!(tls.requires_client_auth());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    cert_chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    client_auth: Option<ClientAuth>,
}

#[derive(Clone)]
struct ClientAuth {
    roots: Vec<CertificateDer<'static>>,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_chain_len", &self.cert_chain.len())
            .field("key", &"<redacted>")
            .field("client_ca_certs", &self.client_auth.as_ref().map(|auth| auth.roots.len()))
            .finish()
    }
}

impl TlsConfig {
    /// Server-side TLS from a PEM certificate chain (server certificate first, then any
    /// intermediates) and a PEM private key (PKCS#8, SEC1 or PKCS#1).
    pub fn from_pem(cert_chain_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Result<Self, TlsError> {
        let cert_chain = parse_certificates(cert_chain_pem.as_ref())?;
        let key = parse_private_key(key_pem.as_ref())?;
        Self::from_der(cert_chain, key)
    }

    /// Server-side TLS from DER certificates and key.
    pub fn from_der(cert_chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self, TlsError> {
        if cert_chain.is_empty() {
            return Err(TlsError::NoCertificate);
        }
        let signing_key = load_signing_key(&key)?;
        check_key_matches(&cert_chain, signing_key)?;
        Ok(TlsConfig { cert_chain, key: Arc::new(key), client_auth: None })
    }

    /// Requires mutual TLS: every client must present a certificate issued by one of the CAs in
    /// `client_ca_pem` (one or more PEM certificates).
    pub fn with_client_ca_pem(self, client_ca_pem: impl AsRef<[u8]>) -> Result<Self, TlsError> {
        let roots = parse_certificates(client_ca_pem.as_ref())?;
        self.with_client_ca_der(roots)
    }

    /// Requires mutual TLS with client CAs given as DER certificates.
    pub fn with_client_ca_der(mut self, roots: Vec<CertificateDer<'static>>) -> Result<Self, TlsError> {
        let verifier = client_verifier(&roots)?;
        self.client_auth = Some(ClientAuth { roots, verifier });
        Ok(self)
    }

    /// The server's certificate chain, server certificate first.
    pub fn cert_chain(&self) -> &[CertificateDer<'static>] {
        &self.cert_chain
    }

    /// The CAs client certificates must chain to, when mutual TLS is on.
    pub fn client_ca_certs(&self) -> Option<&[CertificateDer<'static>]> {
        self.client_auth.as_ref().map(|auth| auth.roots.as_slice())
    }

    /// Whether clients must present a certificate (mutual TLS).
    pub fn requires_client_auth(&self) -> bool {
        self.client_auth.is_some()
    }

    /// The rustls configuration the server runs with.
    pub(crate) fn rustls_server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = provider();
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let builder = match &self.client_auth {
            Some(auth) => builder.with_client_cert_verifier(Arc::clone(&auth.verifier)),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(self.cert_chain.clone(), self.key.clone_key())
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in `pem`, in order. None is an error.
pub(crate) fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::MalformedPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

/// The first private key in `pem`.
pub(crate) fn parse_private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => Err(TlsError::NoPrivateKey),
        Err(e) => Err(TlsError::MalformedPem(e.to_string())),
    }
}

/// Loads the key with the ring provider (rejecting key types it cannot sign with).
pub(crate) fn load_signing_key(key: &PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, TlsError> {
    provider().key_provider.load_private_key(key.clone_key()).map_err(|e| TlsError::UnsupportedKey(e.to_string()))
}

/// Compares the certificate's SubjectPublicKeyInfo with the key's public key.
pub(crate) fn check_key_matches(
    cert_chain: &[CertificateDer<'static>],
    key: Arc<dyn SigningKey>,
) -> Result<(), TlsError> {
    match CertifiedKey::new(cert_chain.to_vec(), key).keys_match() {
        // A key type that cannot report its public key is not an error (rustls treats it alike).
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(TlsError::KeyMismatch),
        Err(e) => Err(TlsError::InvalidCertificate(e.to_string())),
    }
}

/// A verifier that requires a client certificate chaining to one of `roots`.
pub(crate) fn client_verifier(roots: &[CertificateDer<'static>]) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    if roots.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).map_err(|e| TlsError::InvalidClientCa(e.to_string()))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider())
        .build()
        .map_err(|e| TlsError::InvalidClientCa(e.to_string()))
}

/// Assembles a checked configuration (used by the environment loader, which checks each piece
/// itself to name the variable and file that is wrong).
pub(crate) fn assemble(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<(Vec<CertificateDer<'static>>, Arc<dyn ClientCertVerifier>)>,
) -> TlsConfig {
    TlsConfig {
        cert_chain,
        key: Arc::new(key),
        client_auth: client_ca.map(|(roots, verifier)| ClientAuth { roots, verifier }),
    }
}
