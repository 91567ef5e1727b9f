//! `connection.json`: the typed wire form ([`ConnectionJson`]), the input form
//! ([`ConnectionSpec`]), and the rules the ccaas builder and the peer apply to it.

mod address;
mod duration;
mod validate;

use serde::{Deserialize, Serialize};

pub(crate) use address::check_hostname;
pub use address::validate_address;
pub use duration::parse_go_duration;
pub use validate::{validate_connection, validate_dial_timeout};

/// The dial timeout written when none is given. (The peer's own default, used when the
/// field is absent *in the released* `connection.json`, is 3s; but the stock ccaas builder
/// always writes the field, and an empty string is rejected by the peer, so a package
/// must carry an explicit value.)
pub const DEFAULT_DIAL_TIMEOUT: &str = "10s";

/// The `connection.json` inside a ccaas package, field for field.
///
/// This is what the peer reads (after the ccaas builder has expanded templates) to dial
/// the chaincode server: `root_cert` is the CA bundle the peer uses to verify the
/// *chaincode server's* certificate, `client_cert`/`client_key` are what the peer presents
/// as a TLS client when `client_auth_required` is true. All PEM fields are PEM text.
///
/// Deserialisation follows Go's zero-value semantics: absent fields are empty/false.
///
/// ```
/// use ccaas_package::ConnectionJson;
/// let c: ConnectionJson = serde_json::from_str(
///     r#"{"address":"cc:7052","dial_timeout":"10s","tls_required":false}"#).unwrap();
/// assert_eq!(c.address, "cc:7052");
/// assert!(!c.client_auth_required);
/// assert_eq!(c.root_cert, "");
/// ```
///
/// `Debug` shows `client_key` as `<redacted: N bytes>`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionJson {
    /// `host:port` the peer dials (may be a Go template).
    #[serde(default)]
    pub address: String,
    /// Go duration string, e.g. `"10s"`.
    #[serde(default)]
    pub dial_timeout: String,
    /// Whether the peer connects with TLS.
    #[serde(default)]
    pub tls_required: bool,
    /// Whether the peer presents `client_cert`/`client_key`.
    #[serde(default)]
    pub client_auth_required: bool,
    /// PEM CA bundle that verifies the chaincode server certificate.
    #[serde(default)]
    pub root_cert: String,
    /// PEM private key the peer uses as TLS client.
    #[serde(default)]
    pub client_key: String,
    /// PEM certificate (chain) the peer presents as TLS client.
    #[serde(default)]
    pub client_cert: String,
    /// TLS server name override (fabric ≥ 2.5 peers, only with client auth; dropped by the
    /// stock ccaas builder). Omitted from the JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// What to put in `connection.json`, plus an optional check-only server certificate.
///
/// ```
/// use ccaas_package::ConnectionSpec;
/// let spec = ConnectionSpec::new("{{.peername}}_basic_ccaas:9999").dial_timeout("5s");
/// let json = spec.to_connection_json().unwrap();
/// assert_eq!(json.dial_timeout, "5s");
/// assert!(!json.tls_required);
/// ```
///
/// `Debug` shows `client_key` as `<redacted: N bytes>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionSpec {
    /// `host:port` (may be a Go template such as `{{.peername}}_cc:9999`).
    pub address: String,
    /// Go duration string; [`DEFAULT_DIAL_TIMEOUT`] by default.
    pub dial_timeout: String,
    /// Connect with TLS. Set by [`ConnectionSpec::tls`] and [`ConnectionSpec::client_auth`].
    pub tls_required: bool,
    /// Present a client certificate. Set by [`ConnectionSpec::client_auth`].
    pub client_auth_required: bool,
    /// PEM CA bundle verifying the chaincode server.
    pub root_cert: Option<String>,
    /// PEM client certificate for mTLS.
    pub client_cert: Option<String>,
    /// PEM client private key for mTLS (PKCS#8, SEC1 or PKCS#1).
    pub client_key: Option<String>,
    /// Optional `domain` field.
    pub domain: Option<String>,
    /// Check only, never packaged: the chaincode server's certificate (chain), checked to
    /// chain to `root_cert` and to have SANs covering the address host.
    pub server_cert: Option<String>,
}

/// What `Debug` prints for a private key: its size, never its text.
pub(crate) fn redacted(secret: &str) -> String {
    format!("<redacted: {} bytes>", secret.len())
}

impl std::fmt::Debug for ConnectionJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionJson")
            .field("address", &self.address)
            .field("dial_timeout", &self.dial_timeout)
            .field("tls_required", &self.tls_required)
            .field("client_auth_required", &self.client_auth_required)
            .field("root_cert", &self.root_cert)
            .field("client_key", &redacted(&self.client_key))
            .field("client_cert", &self.client_cert)
            .field("domain", &self.domain)
            .finish()
    }
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSpec")
            .field("address", &self.address)
            .field("dial_timeout", &self.dial_timeout)
            .field("tls_required", &self.tls_required)
            .field("client_auth_required", &self.client_auth_required)
            .field("root_cert", &self.root_cert)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key.as_deref().map(redacted))
            .field("domain", &self.domain)
            .field("server_cert", &self.server_cert)
            .finish()
    }
}

impl ConnectionSpec {
    /// A plaintext connection to `address` with the default dial timeout.
    pub fn new(address: impl Into<String>) -> Self {
        ConnectionSpec {
            address: address.into(),
            dial_timeout: DEFAULT_DIAL_TIMEOUT.to_string(),
            tls_required: false,
            client_auth_required: false,
            root_cert: None,
            client_cert: None,
            client_key: None,
            domain: None,
            server_cert: None,
        }
    }

    /// Sets `dial_timeout`.
    pub fn dial_timeout(mut self, timeout: impl Into<String>) -> Self {
        self.dial_timeout = timeout.into();
        self
    }

    /// Turns TLS on, with the CA bundle that verifies the chaincode server.
    pub fn tls(mut self, root_cert_pem: impl Into<String>) -> Self {
        self.tls_required = true;
        self.root_cert = Some(root_cert_pem.into());
        self
    }

    /// Turns client authentication (mTLS) on, which implies TLS.
    pub fn client_auth(mut self, cert_pem: impl Into<String>, key_pem: impl Into<String>) -> Self {
        self.tls_required = true;
        self.client_auth_required = true;
        self.client_cert = Some(cert_pem.into());
        self.client_key = Some(key_pem.into());
        self
    }

    /// Sets the `domain` field (see the warning [`validate_connection`] produces).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Asks for the server certificate check (not packaged).
    pub fn check_server_cert(mut self, server_cert_pem: impl Into<String>) -> Self {
        self.server_cert = Some(server_cert_pem.into());
        self
    }

    /// The `connection.json` this spec produces, after checking that the TLS switches
    /// and the TLS material agree. Full validation is [`validate_connection`].
    pub fn to_connection_json(&self) -> crate::Result<ConnectionJson> {
        if !self.tls_required {
            if self.client_auth_required {
                return Err(crate::Error::Tls(
                    "chaincode tls root cert not provided: client auth needs TLS, and TLS \
                     needs the CA that signed the chaincode server's certificate \
                     (--tls-root-cert)"
                        .into(),
                ));
            }
            if self.root_cert.is_some() || self.client_cert.is_some() || self.client_key.is_some() {
                return Err(crate::Error::Spec("TLS material given but tls_required is false".into()));
            }
        }
        if !self.client_auth_required && (self.client_cert.is_some() || self.client_key.is_some()) {
            return Err(crate::Error::Spec(
                "client certificate/key given but client auth is off (--client-auth)".into(),
            ));
        }
        Ok(ConnectionJson {
            address: self.address.clone(),
            dial_timeout: self.dial_timeout.clone(),
            tls_required: self.tls_required,
            client_auth_required: self.client_auth_required,
            root_cert: self.root_cert.clone().unwrap_or_default(),
            client_key: self.client_key.clone().unwrap_or_default(),
            client_cert: self.client_cert.clone().unwrap_or_default(),
            domain: self.domain.clone(),
        })
    }
}
