//! The server's configuration, parsed once at the edge (environment or code) into typed values.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
#[cfg(feature = "tls")]
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "tls")]
use base64::Engine as _;
#[cfg(feature = "tls")]
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tracing::{debug, warn};

use super::limits::{parse_duration, Limits};
#[cfg(feature = "tls")]
use super::tls::{self, TlsConfig, TlsError};

/// The address the server listens on when no variable names one: every interface, port 7052.
pub const DEFAULT_ADDRESS: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 7052);

/// How long shutdown waits for in-flight transactions by default: 25 s, inside Kubernetes'
/// default 30 s termination grace period.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(25);

// Listen address.
const CHAINCODE_SERVER_ADDRESS: &str = "CHAINCODE_SERVER_ADDRESS";
const CORE_CHAINCODE_ADDRESS: &str = "CORE_CHAINCODE_ADDRESS";
// Chaincode (package) id.
const CHAINCODE_ID: &str = "CHAINCODE_ID";
const CORE_CHAINCODE_ID_NAME: &str = "CORE_CHAINCODE_ID_NAME";
const CORE_CHAINCODE_ID: &str = "CORE_CHAINCODE_ID";
// The peer's MSP id.
const CORE_PEER_LOCALMSPID: &str = "CORE_PEER_LOCALMSPID";
// Automatic write batching on Fabric 3.1 peers.
const CHAINCODE_WRITE_BATCHING: &str = "CHAINCODE_WRITE_BATCHING";
// Prometheus metrics (the `metrics` feature).
const CHAINCODE_METRICS_ADDRESS: &str = "CHAINCODE_METRICS_ADDRESS";
// Resource limits.
const CHAINCODE_HANDSHAKE_TIMEOUT: &str = "CHAINCODE_HANDSHAKE_TIMEOUT";
const CHAINCODE_MAX_CONNECTIONS: &str = "CHAINCODE_MAX_CONNECTIONS";
const CHAINCODE_MAX_READY_CONNECTIONS: &str = "CHAINCODE_MAX_READY_CONNECTIONS";
const CHAINCODE_MAX_TRANSACTIONS: &str = "CHAINCODE_MAX_TRANSACTIONS";
const CHAINCODE_TRANSACTION_TIMEOUT: &str = "CHAINCODE_TRANSACTION_TIMEOUT";
// fabric-samples family.
const CHAINCODE_TLS_DISABLED: &str = "CHAINCODE_TLS_DISABLED";
const CHAINCODE_TLS_KEY: &str = "CHAINCODE_TLS_KEY";
const CHAINCODE_TLS_CERT: &str = "CHAINCODE_TLS_CERT";
const CHAINCODE_CLIENT_CA_CERT: &str = "CHAINCODE_CLIENT_CA_CERT";
// contract-api (Go, Java) family.
const CORE_PEER_TLS_ENABLED: &str = "CORE_PEER_TLS_ENABLED";
const CORE_TLS_CLIENT_KEY_FILE: &str = "CORE_TLS_CLIENT_KEY_FILE";
const CORE_TLS_CLIENT_CERT_FILE: &str = "CORE_TLS_CLIENT_CERT_FILE";
const CORE_TLS_CLIENT_KEY_PATH: &str = "CORE_TLS_CLIENT_KEY_PATH";
const CORE_TLS_CLIENT_CERT_PATH: &str = "CORE_TLS_CLIENT_CERT_PATH";
const CORE_PEER_TLS_ROOTCERT_FILE: &str = "CORE_PEER_TLS_ROOTCERT_FILE";
// Node family.
const CORE_CHAINCODE_TLS_KEY_FILE: &str = "CORE_CHAINCODE_TLS_KEY_FILE";
const CORE_CHAINCODE_TLS_CERT_FILE: &str = "CORE_CHAINCODE_TLS_CERT_FILE";
const CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE: &str = "CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE";
const CORE_CHAINCODE_TLS_KEY_PATH: &str = "CORE_CHAINCODE_TLS_KEY_PATH";
const CORE_CHAINCODE_TLS_CERT_PATH: &str = "CORE_CHAINCODE_TLS_CERT_PATH";
const CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH: &str = "CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH";

/// Every family's client-CA variables (each form), checked against the client CA in effect.
#[cfg(feature = "tls")]
const CLIENT_CA_VARIABLES: [(&str, Encoding); 4] = [
    (CHAINCODE_CLIENT_CA_CERT, Encoding::Pem),
    (CORE_PEER_TLS_ROOTCERT_FILE, Encoding::Pem),
    (CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE, Encoding::Pem),
    (CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH, Encoding::Base64Pem),
];

/// The families that need a switch: the switch, and the file variables that name TLS files. Set
/// while their switch is unset (not explicitly off) and no family is on, they are reported (the
/// server serves plaintext, as the other shims do).
const SWITCHED_FAMILIES: [(&str, &[&str]); 2] = [
    (CHAINCODE_TLS_DISABLED, &[CHAINCODE_TLS_KEY, CHAINCODE_TLS_CERT, CHAINCODE_CLIENT_CA_CERT]),
    (
        CORE_PEER_TLS_ENABLED,
        &[
            CORE_TLS_CLIENT_KEY_FILE,
            CORE_TLS_CLIENT_KEY_PATH,
            CORE_TLS_CLIENT_CERT_FILE,
            CORE_TLS_CLIENT_CERT_PATH,
            CORE_PEER_TLS_ROOTCERT_FILE,
        ],
    ),
];

/// Everything the chaincode server needs, as typed values.
///
/// Build it in code ([`ServerConfig::new`] and the public fields, or
/// [`Server::builder`](super::Server::builder)) or read it from the environment with
/// [`ServerConfig::from_env`]; the variables and their precedence are documented in the
/// [module documentation](super#environment-variables).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen (default [`DEFAULT_ADDRESS`], `0.0.0.0:7052`).
    pub address: SocketAddr,
    /// The chaincode package ID (`label:hash`) the peer launches; sent in REGISTER.
    pub chaincode_id: String,
    /// TLS, or `None` for plaintext (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
    /// How long shutdown waits for in-flight transactions (default 25 s).
    pub shutdown_deadline: Duration,
    /// The MSP id of the peer running the chaincode (`CORE_PEER_LOCALMSPID`), returned by
    /// [`ChaincodeStub::peer_msp_id`](crate::ChaincodeStub::peer_msp_id).
    pub peer_msp_id: Option<String>,
    /// Whether every transaction collects its writes into one batch when the peer advertises
    /// Fabric 3.1 write batching (default true; see
    /// [`ChaincodeService::with_automatic_write_batching`](crate::ChaincodeService::with_automatic_write_batching)).
    pub automatic_write_batching: bool,
    /// Connection, transaction and time limits (see [`Limits`]).
    pub limits: Limits,
    /// Where to serve Prometheus metrics (`GET /metrics`), or `None` (the default) for no
    /// metrics. Needs the shim's `metrics` feature: without it a server with an address fails to
    /// start with [`ConfigError::MetricsNotBuilt`].
    pub metrics_address: Option<SocketAddr>,
}

/// A configuration error found at startup. Each names the environment variable (and file) at
/// fault, so the message alone says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No chaincode id was given.
    #[error(
        "no chaincode id: set CHAINCODE_ID, CORE_CHAINCODE_ID_NAME or CORE_CHAINCODE_ID \
         (or call ServerBuilder::chaincode_id) to the chaincode package ID"
    )]
    MissingChaincodeId,
    /// A listen address is not `host:port`, or its host does not resolve.
    #[error("{variable}={value:?} is not a usable listen address (host:port): {reason}")]
    InvalidAddress {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A boolean variable holds something other than Go's `strconv.ParseBool` forms.
    #[error("{variable}={value:?} is not a boolean (use true or false)")]
    InvalidBool {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// A limit variable is not a positive number or duration.
    #[error("{variable}={value:?} is not {expected}")]
    InvalidLimit {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What it should be, e.g. `a positive duration such as 10s or 500ms`.
        expected: &'static str,
    },
    /// TLS was switched on but its key or certificate variable is missing.
    #[error("{enabled_by} turns TLS on, but {missing} is not set")]
    MissingTlsVariable {
        /// What switched TLS on, e.g. `CORE_PEER_TLS_ENABLED=true`.
        enabled_by: String,
        /// The missing variable(s), e.g. `CORE_TLS_CLIENT_CERT_FILE (or CORE_TLS_CLIENT_CERT_PATH)`.
        missing: String,
    },
    /// A file named by a variable cannot be read.
    #[error("{variable} ({}): cannot read the file: {error}", .path.display())]
    ReadFile {
        /// The variable.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// A `*_PATH` file does not hold base64-encoded PEM.
    #[error("{variable} ({}): the file holds neither PEM nor base64-encoded PEM: {reason}", .path.display())]
    InvalidBase64 {
        /// The variable.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// A file named by a variable holds unusable TLS material.
    #[cfg(feature = "tls")]
    #[error("{variable} ({}): {error}", .path.display())]
    TlsFile {
        /// The variable.
        variable: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        error: TlsError,
    },
    /// The private key does not belong to the certificate.
    #[error(
        "{key_variable} ({}): the private key does not match the certificate in {cert_variable} ({})",
        .key_path.display(),
        .cert_path.display()
    )]
    KeyMismatch {
        /// The key's variable.
        key_variable: &'static str,
        /// The key file.
        key_path: PathBuf,
        /// The certificate's variable.
        cert_variable: &'static str,
        /// The certificate file.
        cert_path: PathBuf,
    },
    /// TLS is on without a client CA while a client-CA variable of another family (or the
    /// other form of the family's own) is set: mutual TLS would be silently off.
    #[error(
        "{ignored} ({}) names a client CA, but TLS comes from the {family} family ({enabled_by}), whose client CA \
         variable {in_effect} is not set, so {ignored} would be ignored and mutual TLS would be off (any client \
         could connect without a certificate); set {in_effect} to the CA of the peers' client certificates, or \
         unset {ignored} to serve TLS without client authentication",
        .ignored_path.display()
    )]
    ClientCaIgnored {
        /// The client-CA variable that is set but not in effect.
        ignored: &'static str,
        /// The file it names.
        ignored_path: PathBuf,
        /// The family in effect (`fabric-samples`, `contract-api`, `Node`).
        family: &'static str,
        /// What switched that family on, e.g. `CHAINCODE_TLS_DISABLED=false`.
        enabled_by: String,
        /// The family's client-CA variable, which is unset.
        in_effect: &'static str,
    },
    /// Two client-CA variables name different CA certificates.
    #[error(
        "{ignored} ({}) names other CA certificates than {in_effect} ({}), the client CA in effect (the {family} \
         family, {enabled_by}), so which CA the peers' certificates must chain to is ambiguous; point both \
         variables at the same CA file, or unset {ignored}",
        .ignored_path.display(),
        .in_effect_path.display()
    )]
    ClientCaDiffers {
        /// The client-CA variable that is set but not in effect.
        ignored: &'static str,
        /// The file it names.
        ignored_path: PathBuf,
        /// The family in effect.
        family: &'static str,
        /// What switched that family on.
        enabled_by: String,
        /// The client-CA variable in effect.
        in_effect: &'static str,
        /// The file it names.
        in_effect_path: PathBuf,
    },
    /// TLS material given in code is unusable.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// TLS is switched on in the environment but the shim was built without its `tls` feature.
    #[error(
        "{enabled_by} turns TLS on but this chaincode was built without the ccaas-shim feature `tls`: build it with \
         the feature (features = [\"tls\"] on ccaas-shim in Cargo.toml, or --features ccaas-shim/tls), or unset \
         the TLS variables to serve plaintext"
    )]
    TlsNotBuilt {
        /// What switched TLS on, e.g. `CHAINCODE_TLS_DISABLED=false`.
        enabled_by: String,
    },
    /// A metrics address is configured but the shim was built without its `metrics` feature.
    #[error(
        "metrics are asked for ({source_name}={address}) but this chaincode was built without the ccaas-shim \
         feature `metrics`: build it with the feature (in the chaincode's Cargo.toml: ccaas-shim = {{ ..., \
         features = [\"metrics\"] }}), or unset {source_name}"
    )]
    MetricsNotBuilt {
        /// Where the address came from: `CHAINCODE_METRICS_ADDRESS` or `ServerBuilder::metrics_address`.
        source_name: &'static str,
        /// The address.
        address: SocketAddr,
    },
}

impl ServerConfig {
    /// A plaintext configuration on [`DEFAULT_ADDRESS`] with the default shutdown deadline.
    pub fn new(chaincode_id: impl Into<String>) -> Self {
        ServerConfig {
            address: DEFAULT_ADDRESS,
            chaincode_id: chaincode_id.into(),
            #[cfg(feature = "tls")]
            tls: None,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
            peer_msp_id: None,
            automatic_write_batching: true,
            limits: Limits::default(),
            metrics_address: None,
        }
    }

    /// Reads the configuration from the process environment (see the
    /// [module documentation](super#environment-variables)), reading and checking every TLS file.
    ///
    /// Mixed TLS variable families never weaken TLS silently: with TLS on, every client-CA
    /// variable that is set, in any family, must agree with the client CA in effect, else this
    /// fails with [`ConfigError::ClientCaIgnored`] (mutual TLS would be off) or
    /// [`ConfigError::ClientCaDiffers`] (see the [TLS rules](super#tls)).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned()))
    }

    /// Like [`from_env`](Self::from_env), with variables looked up through `lookup` instead of
    /// the process environment (for tests, or configuration from another source).
    ///
    /// Values are trimmed; an empty value counts as unset.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ccaas_shim::server::ServerConfig;
    ///
    /// let env = HashMap::from([
    ///     ("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999"),
    ///     ("CORE_CHAINCODE_ID_NAME", "basic_1.0:4ec1d5e1"),
    /// ]);
    /// let config = ServerConfig::from_lookup(|name| env.get(name).map(|v| v.to_string())).unwrap();
    /// assert_eq!(config.address, "127.0.0.1:9999".parse().unwrap());
    /// assert_eq!(config.chaincode_id, "basic_1.0:4ec1d5e1");
    /// assert!(config.tls.is_none());
    /// ```
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Env(lookup);
        let address = env.address()?;
        let chaincode_id = env.chaincode_id()?;
        let peer_msp_id = env.get(CORE_PEER_LOCALMSPID);
        #[cfg(feature = "tls")]
        let tls = env.tls()?;
        #[cfg(not(feature = "tls"))]
        env.tls()?;
        let automatic_write_batching = env.bool(CHAINCODE_WRITE_BATCHING)?.unwrap_or(true);
        let limits = env.limits()?;
        let metrics_address =
            env.get(CHAINCODE_METRICS_ADDRESS).map(|v| parse_address(CHAINCODE_METRICS_ADDRESS, &v)).transpose()?;
        if let (Some(address), false) = (metrics_address, cfg!(feature = "metrics")) {
            return Err(ConfigError::MetricsNotBuilt { source_name: CHAINCODE_METRICS_ADDRESS, address });
        }
        Ok(ServerConfig {
            address,
            chaincode_id,
            #[cfg(feature = "tls")]
            tls,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
            peer_msp_id,
            automatic_write_batching,
            limits,
            metrics_address,
        })
    }
}

/// Parses a boolean like Go's `strconv.ParseBool`.
fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(ConfigError::InvalidBool { variable, value: value.to_string() }),
    }
}

/// Parses `host:port` (or `:port`, meaning every interface), resolving a host name.
fn parse_address(variable: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidAddress { variable, value: value.to_string(), reason };
    if let Ok(address) = value.parse::<SocketAddr>() {
        return Ok(address);
    }
    let (host, port) = value.rsplit_once(':').ok_or_else(|| invalid("no port".to_string()))?;
    let port: u16 = port.parse().map_err(|_| invalid(format!("{port:?} is not a port number")))?;
    if host.is_empty() {
        return Ok(SocketAddr::new(DEFAULT_ADDRESS.ip(), port));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let resolved: Vec<SocketAddr> =
        (host, port).to_socket_addrs().map_err(|e| invalid(format!("cannot resolve {host:?}: {e}")))?.collect();
    // Like Go's net.Listen, a name with several addresses listens on one, preferring IPv4.
    resolved
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| invalid(format!("{host:?} resolves to no address")))
}

/// How a file's content is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// PEM text (`*_FILE` variables and fabric-samples' variables).
    Pem,
    /// Base64 of PEM text (`*_PATH` variables).
    Base64Pem,
}

/// A file named by a variable.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
struct FileVar {
    variable: &'static str,
    path: PathBuf,
    encoding: Encoding,
}

/// One TLS variable family, switched on.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
struct Family {
    name: &'static str,
    enabled_by: String,
    key: Result<FileVar, String>,
    cert: Result<FileVar, String>,
    client_ca: Option<FileVar>,
    /// The family's (PEM) client-CA variable, named when it is missing.
    client_ca_variable: &'static str,
}

struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A variable's trimmed value; empty counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|value| value.trim().to_string()).filter(|value| !value.is_empty())
    }

    /// The first variable of `names` that is set.
    fn first(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|&name| self.get(name).map(|value| (name, value)))
    }

    fn bool(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        self.get(name).map(|value| parse_bool(name, &value)).transpose()
    }

    fn limits(&self) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        Ok(Limits {
            handshake_timeout: self.duration(CHAINCODE_HANDSHAKE_TIMEOUT)?.unwrap_or(defaults.handshake_timeout),
            max_connections: self.count(CHAINCODE_MAX_CONNECTIONS)?.unwrap_or(defaults.max_connections),
            max_ready_connections: self
                .count(CHAINCODE_MAX_READY_CONNECTIONS)?
                .unwrap_or(defaults.max_ready_connections),
            max_transactions_per_connection: self
                .count(CHAINCODE_MAX_TRANSACTIONS)?
                .unwrap_or(defaults.max_transactions_per_connection),
            transaction_timeout: self.duration(CHAINCODE_TRANSACTION_TIMEOUT)?.unwrap_or(defaults.transaction_timeout),
        })
    }

    fn duration(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        match parse_duration(&value) {
            Some(duration) if !duration.is_zero() => Ok(Some(duration)),
            _ => Err(ConfigError::InvalidLimit {
                variable: name,
                value,
                expected: "a positive duration such as 10s, 500ms or 2m",
            }),
        }
    }

    fn count(&self, name: &'static str) -> Result<Option<usize>, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        match value.parse::<usize>() {
            Ok(count) if count > 0 => Ok(Some(count)),
            _ => Err(ConfigError::InvalidLimit { variable: name, value, expected: "a positive whole number" }),
        }
    }

    fn address(&self) -> Result<SocketAddr, ConfigError> {
        match self.first(&[CHAINCODE_SERVER_ADDRESS, CORE_CHAINCODE_ADDRESS]) {
            Some((variable, value)) => parse_address(variable, &value),
            None => Ok(DEFAULT_ADDRESS),
        }
    }

    fn chaincode_id(&self) -> Result<String, ConfigError> {
        let names = [CHAINCODE_ID, CORE_CHAINCODE_ID_NAME, CORE_CHAINCODE_ID];
        let (variable, id) = self.first(&names).ok_or(ConfigError::MissingChaincodeId)?;
        for other in names.iter().filter(|&&name| name != variable) {
            if let Some(value) = self.get(other) {
                if value != id {
                    warn!(
                        used = variable, id = %id, ignored = other, ignored_id = %value,
                        "chaincode id variables disagree; using {variable}: unset {other} or give both the installed \
                         package ID"
                    );
                }
            }
        }
        Ok(id)
    }

    /// A file variable, or the first of a `*_FILE` (PEM) / `*_PATH` (base64 PEM) pair.
    fn file(&self, pem: &'static str, base64: Option<&'static str>) -> Option<FileVar> {
        let pem_value = self.get(pem);
        let base64_value = base64.and_then(|name| self.get(name).map(|value| (name, value)));
        if let (Some(_), Some((name, _))) = (&pem_value, &base64_value) {
            warn!(used = pem, ignored = name, "both variables are set; using the PEM file {pem}: unset {name}");
        }
        match (pem_value, base64_value) {
            (Some(path), _) => Some(FileVar { variable: pem, path: PathBuf::from(path), encoding: Encoding::Pem }),
            (None, Some((variable, path))) => {
                Some(FileVar { variable, path: PathBuf::from(path), encoding: Encoding::Base64Pem })
            }
            (None, None) => None,
        }
    }

    fn required(&self, pem: &'static str, base64: Option<&'static str>) -> Result<FileVar, String> {
        self.file(pem, base64).ok_or_else(|| match base64 {
            Some(other) => format!("{pem} (or {other})"),
            None => pem.to_string(),
        })
    }

    fn samples_family(&self) -> Result<Option<Family>, ConfigError> {
        let disabled = self.bool(CHAINCODE_TLS_DISABLED)?.unwrap_or(true);
        if disabled {
            return Ok(None);
        }
        Ok(Some(Family {
            name: "fabric-samples",
            enabled_by: format!("{CHAINCODE_TLS_DISABLED}=false"),
            key: self.required(CHAINCODE_TLS_KEY, None),
            cert: self.required(CHAINCODE_TLS_CERT, None),
            client_ca: self.file(CHAINCODE_CLIENT_CA_CERT, None),
            client_ca_variable: CHAINCODE_CLIENT_CA_CERT,
        }))
    }

    fn contract_api_family(&self) -> Result<Option<Family>, ConfigError> {
        let enabled = self.bool(CORE_PEER_TLS_ENABLED)?.unwrap_or(false);
        if !enabled {
            return Ok(None);
        }
        Ok(Some(Family {
            name: "contract-api",
            enabled_by: format!("{CORE_PEER_TLS_ENABLED}=true"),
            key: self.required(CORE_TLS_CLIENT_KEY_FILE, Some(CORE_TLS_CLIENT_KEY_PATH)),
            cert: self.required(CORE_TLS_CLIENT_CERT_FILE, Some(CORE_TLS_CLIENT_CERT_PATH)),
            client_ca: self.file(CORE_PEER_TLS_ROOTCERT_FILE, None),
            client_ca_variable: CORE_PEER_TLS_ROOTCERT_FILE,
        }))
    }

    fn node_family(&self) -> Option<Family> {
        let all = [
            CORE_CHAINCODE_TLS_KEY_FILE,
            CORE_CHAINCODE_TLS_KEY_PATH,
            CORE_CHAINCODE_TLS_CERT_FILE,
            CORE_CHAINCODE_TLS_CERT_PATH,
            CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE,
            CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH,
        ];
        let (first, _) = self.first(&all)?;
        Some(Family {
            name: "Node",
            enabled_by: format!("{first} being set"),
            key: self.required(CORE_CHAINCODE_TLS_KEY_FILE, Some(CORE_CHAINCODE_TLS_KEY_PATH)),
            cert: self.required(CORE_CHAINCODE_TLS_CERT_FILE, Some(CORE_CHAINCODE_TLS_CERT_PATH)),
            client_ca: self.file(CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE, Some(CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH)),
            client_ca_variable: CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE,
        })
    }

    /// The TLS variable family in effect, if any switches TLS on.
    fn tls_family(&self) -> Result<Option<Family>, ConfigError> {
        // Every family's switches are parsed (a malformed boolean is always an error), then the
        // first family that is on wins.
        let families: Vec<Family> =
            [self.samples_family()?, self.contract_api_family()?, self.node_family()].into_iter().flatten().collect();
        let mut families = families.into_iter();
        let Some(chosen) = families.next() else {
            let stray: Vec<&str> = SWITCHED_FAMILIES
                .iter()
                .filter(|(switch, _)| self.get(switch).is_none())
                .flat_map(|(_, files)| files.iter().copied())
                .filter(|name| self.get(name).is_some())
                .collect();
            if stray.is_empty() {
                debug!("no TLS variables switch TLS on; serving plaintext");
            } else {
                warn!(
                    set = ?stray,
                    "TLS files are named but their family's switch is unset (CHAINCODE_TLS_DISABLED=false \
                     or CORE_PEER_TLS_ENABLED=true turns TLS on); serving plaintext"
                );
            }
            return Ok(None);
        };
        for ignored in families {
            warn!(
                used = chosen.name,
                ignored = ignored.name,
                ignored_switch = %ignored.enabled_by,
                "several TLS variable families are set; using the first by precedence"
            );
        }
        Ok(Some(chosen))
    }

    /// Without the `tls` feature: refuses an environment that switches TLS on.
    #[cfg(not(feature = "tls"))]
    fn tls(&self) -> Result<(), ConfigError> {
        match self.tls_family()? {
            None => Ok(()),
            Some(chosen) => Err(ConfigError::TlsNotBuilt { enabled_by: chosen.enabled_by }),
        }
    }

    #[cfg(feature = "tls")]
    fn tls(&self) -> Result<Option<TlsConfig>, ConfigError> {
        let Some(chosen) = self.tls_family()? else { return Ok(None) };
        let missing =
            |missing: String| ConfigError::MissingTlsVariable { enabled_by: chosen.enabled_by.clone(), missing };
        let key_var = chosen.key.clone().map_err(missing)?;
        let cert_var = chosen.cert.clone().map_err(missing)?;

        let cert_chain = load_certificates(&cert_var)?;
        let key = load_private_key(&key_var)?;
        let signing_key = tls::load_signing_key(&key).map_err(|error| tls_file_error(&key_var, error))?;
        tls::check_key_matches(&cert_chain, signing_key).map_err(|error| match error {
            TlsError::KeyMismatch => ConfigError::KeyMismatch {
                key_variable: key_var.variable,
                key_path: key_var.path.clone(),
                cert_variable: cert_var.variable,
                cert_path: cert_var.path.clone(),
            },
            other => tls_file_error(&cert_var, other),
        })?;
        let client_ca = match &chosen.client_ca {
            None => None,
            Some(ca_var) => {
                let roots = load_certificates(ca_var)?;
                let verifier = tls::client_verifier(&roots).map_err(|error| tls_file_error(ca_var, error))?;
                Some((roots, verifier))
            }
        };
        self.check_client_cas(&chosen, client_ca.as_ref().map(|(roots, _)| roots.as_slice()))?;
        tracing::info!(
            family = chosen.name,
            switch = %chosen.enabled_by,
            cert = %cert_var.path.display(),
            key = %key_var.path.display(),
            client_ca = ?chosen.client_ca.as_ref().map(|ca| ca.path.display().to_string()),
            "TLS configured from the environment"
        );
        Ok(Some(tls::assemble(cert_chain, key, client_ca)))
    }

    /// Every client-CA variable that is set, in any family and either form, must agree with the
    /// client CA in effect (`roots`, from `chosen`): refused when there is none (mutual TLS would
    /// be silently off) or when it names other certificates.
    #[cfg(feature = "tls")]
    fn check_client_cas(&self, chosen: &Family, roots: Option<&[CertificateDer<'static>]>) -> Result<(), ConfigError> {
        for (variable, encoding) in CLIENT_CA_VARIABLES {
            let Some(path) = self.get(variable) else { continue };
            let other = FileVar { variable, path: PathBuf::from(path), encoding };
            match (&chosen.client_ca, roots) {
                (Some(ca), _) if ca.variable == variable => {}
                (Some(ca), Some(roots)) => {
                    if ca.path != other.path && !same_certificates(&load_certificates(&other)?, roots) {
                        return Err(ConfigError::ClientCaDiffers {
                            ignored: variable,
                            ignored_path: other.path,
                            family: chosen.name,
                            enabled_by: chosen.enabled_by.clone(),
                            in_effect: ca.variable,
                            in_effect_path: ca.path.clone(),
                        });
                    }
                }
                _ => {
                    return Err(ConfigError::ClientCaIgnored {
                        ignored: variable,
                        ignored_path: other.path,
                        family: chosen.name,
                        enabled_by: chosen.enabled_by.clone(),
                        in_effect: chosen.client_ca_variable,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Whether two CA lists hold the same certificates, in any order.
#[cfg(feature = "tls")]
fn same_certificates(a: &[CertificateDer<'static>], b: &[CertificateDer<'static>]) -> bool {
    fn sorted<'a>(list: &'a [CertificateDer<'static>]) -> Vec<&'a [u8]> {
        let mut v: Vec<&[u8]> = list.iter().map(|c| c.as_ref()).collect();
        v.sort();
        v.dedup();
        v
    }
    sorted(a) == sorted(b)
}

#[cfg(feature = "tls")]
fn tls_file_error(file: &FileVar, error: TlsError) -> ConfigError {
    ConfigError::TlsFile { variable: file.variable, path: file.path.clone(), error }
}

#[cfg(feature = "tls")]
fn load_certificates(file: &FileVar) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = read_pem(file)?;
    tls::parse_certificates(&pem).map_err(|error| tls_file_error(file, error))
}

#[cfg(feature = "tls")]
fn load_private_key(file: &FileVar) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let pem = read_pem(file)?;
    tls::parse_private_key(&pem).map_err(|error| tls_file_error(file, error))
}

#[cfg(feature = "tls")]
fn has_pem_marker(content: &[u8]) -> bool {
    content.windows(b"-----BEGIN".len()).any(|window| window == b"-----BEGIN")
}

#[cfg(feature = "tls")]
fn decode_base64(content: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: Vec<u8> = content.iter().copied().filter(|byte| !byte.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// A file's PEM text. Both forms are accepted whichever variable names the file: a `*_PATH`
/// file that already holds PEM, or a PEM-file variable whose file holds base64 of PEM, is read
/// as what it is (the two are easy to mix up, and unambiguous to tell apart).
#[cfg(feature = "tls")]
fn read_pem(file: &FileVar) -> Result<Vec<u8>, ConfigError> {
    let content = read_file(file.variable, &file.path)?;
    if has_pem_marker(&content) {
        return Ok(content);
    }
    match (file.encoding, decode_base64(&content)) {
        (_, Ok(decoded)) if has_pem_marker(&decoded) => {
            if file.encoding == Encoding::Pem {
                debug!(variable = file.variable, path = %file.path.display(), "the file holds base64-encoded PEM");
            }
            Ok(decoded)
        }
        // Not PEM: the parser reports what is missing (no certificate / no private key).
        (Encoding::Pem, _) => Ok(content),
        (Encoding::Base64Pem, Ok(_)) => Err(ConfigError::InvalidBase64 {
            variable: file.variable,
            path: file.path.clone(),
            reason: "the decoded content is not PEM".to_string(),
        }),
        (Encoding::Base64Pem, Err(e)) => {
            Err(ConfigError::InvalidBase64 { variable: file.variable, path: file.path.clone(), reason: e.to_string() })
        }
    }
}

#[cfg(feature = "tls")]
fn read_file(variable: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|error| ConfigError::ReadFile { variable, path: path.to_path_buf(), error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_go_parse_bool() {
        for value in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(parse_bool("X", value).unwrap(), "{value}");
        }
        for value in ["0", "f", "F", "FALSE", "false", "False"] {
            assert!(!parse_bool("X", value).unwrap(), "{value}");
        }
        for value in ["yes", "on", "tRUE", "2", "no"] {
            assert!(matches!(parse_bool("X", value), Err(ConfigError::InvalidBool { variable: "X", .. })), "{value}");
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("A", "127.0.0.1:9999").unwrap(), "127.0.0.1:9999".parse().unwrap());
        assert_eq!(parse_address("A", "[::1]:9999").unwrap(), "[::1]:9999".parse().unwrap());
        assert_eq!(parse_address("A", ":9999").unwrap(), "0.0.0.0:9999".parse().unwrap());
        assert_eq!(parse_address("A", "localhost:7052").unwrap().port(), 7052);
        assert_eq!(parse_address("A", "localhost:7052").unwrap(), "127.0.0.1:7052".parse().unwrap());
        for bad in ["7052", "localhost", "localhost:port", "localhost:70000", ":"] {
            let error = parse_address("A", bad).unwrap_err();
            assert!(error.to_string().starts_with(&format!("A={bad:?}")), "{error}");
        }
    }

    /// Built without `tls`: any family that switches TLS on is refused, naming its switch and the
    /// feature, before any TLS file is read; plaintext variables still start the server.
    #[cfg(not(feature = "tls"))]
    #[test]
    fn tls_needs_the_feature() {
        let refused = [
            (vec![("CHAINCODE_TLS_DISABLED", "false")], "CHAINCODE_TLS_DISABLED=false"),
            (
                vec![("CORE_PEER_TLS_ENABLED", "true"), ("CORE_TLS_CLIENT_KEY_FILE", "/no/such/key")],
                "CORE_PEER_TLS_ENABLED=true",
            ),
            (vec![("CORE_CHAINCODE_TLS_CERT_FILE", "/no/such/cert")], "CORE_CHAINCODE_TLS_CERT_FILE being set"),
        ];
        for (vars, switch) in refused {
            let vars: Vec<(&str, &str)> = [("CHAINCODE_ID", "cc:1")].into_iter().chain(vars).collect();
            let lookup = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
            let error = ServerConfig::from_lookup(lookup).unwrap_err();
            assert!(matches!(&error, ConfigError::TlsNotBuilt { enabled_by } if enabled_by == switch), "{error:?}");
            assert!(error.to_string().contains("feature `tls`"), "{error}");
        }
        let plaintext = [("CHAINCODE_ID", "cc:1"), ("CHAINCODE_TLS_DISABLED", "true")];
        let lookup = |name: &str| plaintext.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        assert_eq!(ServerConfig::from_lookup(lookup).unwrap().chaincode_id, "cc:1");
    }
}
