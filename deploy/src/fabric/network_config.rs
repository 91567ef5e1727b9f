//! Network config files: hlf-operator's (`kubectl hlf inspect` + `kubectl hlf utils adduser`) and
//! the Fabric common connection profile (YAML or JSON) they derive from. Both name peers and
//! orderers with a `url`, `tlsCACerts` (inline `pem`, a `path`, or the PEM text) and `grpcOptions`
//! (`ssl-target-name-override` / `hostnameOverride`); hlf-operator's also carries users.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{read_file, yaml_error, Error, Result};
use crate::limits;

/// A parsed network config file.
#[derive(Debug, Deserialize)]
pub struct NetworkConfig {
    /// `client.organization`.
    #[serde(default)]
    pub client: Client,
    /// Organizations by key (hlf-operator uses the MSP ID as key).
    #[serde(default)]
    pub organizations: BTreeMap<String, Organization>,
    /// Peers by name.
    #[serde(default)]
    pub peers: BTreeMap<String, Node>,
    /// Orderers by name.
    #[serde(default)]
    pub orderers: BTreeMap<String, Node>,
    /// Channels by name.
    #[serde(default)]
    pub channels: BTreeMap<String, serde_norway::Value>,
    #[serde(skip)]
    path: PathBuf,
}

/// The `client` section.
#[derive(Debug, Default, Deserialize)]
pub struct Client {
    /// The organization the client acts for.
    #[serde(default)]
    pub organization: String,
    /// `tlsCerts`: the TLS client identity, where fabric-sdk-go's connection profiles have it.
    #[serde(default, rename = "tlsCerts")]
    pub tls_certs: TlsCerts,
}

/// `client.tlsCerts`.
#[derive(Debug, Default, Deserialize)]
pub struct TlsCerts {
    /// `client.tlsCerts.client`: the certificate and key presented to peers that require mutual
    /// TLS (fabric-sdk-go's `MutualTLSConfig.Client`).
    #[serde(default)]
    pub client: Option<TlsClient>,
}

/// A TLS client certificate and key, inline or as paths.
#[derive(Debug, Default, Deserialize)]
pub struct TlsClient {
    /// The certificate.
    #[serde(default)]
    pub cert: Pem,
    /// The private key.
    #[serde(default)]
    pub key: Pem,
}

/// One organization.
#[derive(Debug, Deserialize)]
pub struct Organization {
    /// Its MSP ID.
    #[serde(default)]
    pub mspid: String,
    /// Names of its peers.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Names of its orderers.
    #[serde(default)]
    pub orderers: Vec<String>,
    /// Users (hlf-operator's `adduser`): name → certificate and key.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
}

/// A user's certificate and key. `Debug` shows their size, not their text.
#[derive(Debug, Deserialize)]
pub struct User {
    /// The certificate.
    pub cert: Pem,
    /// The private key.
    pub key: Pem,
}

/// PEM text, inline or in a file. A config may give it as the PEM text itself, as
/// `{pem: TEXT}` (hlf-operator's form; TEXT may be a list of PEM texts, as some connection
/// profiles write), or as `{path: FILE}` (relative to the config file). A value of another
/// form is an error that says what the value is, never what it says (it may be a private key);
/// `Debug` shows its size only.
#[derive(Default)]
pub struct Pem {
    /// The PEM text (a list is joined with line breaks).
    pub pem: Option<String>,
    /// A file holding it (relative to the config file).
    pub path: Option<PathBuf>,
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pem = self.pem.as_ref().map(|p| format!("<redacted: {} bytes>", p.len()));
        f.debug_struct("Pem").field("pem", &pem).field("path", &self.path).finish()
    }
}

impl<'de> Deserialize<'de> for Pem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Pem, D::Error> {
        Pem::from_value(serde_norway::Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Pem {
    fn from_value(value: serde_norway::Value) -> std::result::Result<Pem, String> {
        use serde_norway::Value;
        const FORMS: &str = "give the PEM text itself, `pem: TEXT` or `path: FILE` (the value is not shown)";
        let what = |v: &Value| match v {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "text",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a map",
            Value::Tagged(_) => "a tagged value",
        };
        let text = |v: Value, field: &str| match v {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            Value::Sequence(items) if field == "pem" => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    other => {
                        Err(format!("`pem` is a list holding {} where PEM text is expected; {FORMS}", what(&other)))
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|v| Some(v.join("\n"))),
            other => Err(format!("`{field}` is {} where text is expected; {FORMS}", what(&other))),
        };
        match value {
            Value::String(s) if s.contains("-----BEGIN ") => Ok(Pem { pem: Some(s), path: None }),
            Value::String(_) => Err(format!("text that is not PEM (no -----BEGIN line); {FORMS}")),
            Value::Null => Ok(Pem::default()),
            Value::Mapping(map) => {
                let mut pem = Pem::default();
                for (key, v) in map {
                    match key.as_str() {
                        Some("pem") => pem.pem = text(v, "pem")?,
                        Some("path") => pem.path = text(v, "path")?.map(PathBuf::from),
                        _ => {}
                    }
                }
                Ok(pem)
            }
            other => Err(format!("{} where PEM is expected; {FORMS}", what(&other))),
        }
    }
}

/// A peer or orderer.
#[derive(Debug, Deserialize)]
pub struct Node {
    /// `grpcs://host:port` or `grpc://host:port` (or plain `host:port`).
    pub url: String,
    /// The TLS CA certificates.
    #[serde(default, rename = "tlsCACerts")]
    pub tls_ca_certs: Pem,
    /// gRPC options.
    #[serde(default, rename = "grpcOptions")]
    pub grpc_options: BTreeMap<String, serde_norway::Value>,
}

impl NetworkConfig {
    /// Reads and parses a network config file.
    pub fn load(path: &Path) -> Result<NetworkConfig> {
        Self::parse(&limits::read_config("network config", path)?, path)
    }

    /// Parses a network config's YAML text; `path` names it in errors. Text over
    /// [`limits::MAX_CONFIG_SIZE`], or nesting `[...]`/`{...}` deeper than
    /// [`limits::MAX_YAML_NESTING`], is refused before it is parsed.
    pub fn parse(text: &[u8], path: &Path) -> Result<NetworkConfig> {
        limits::check_size("network config", path, text.len() as u64)?;
        limits::check_yaml_nesting("network config", path, text)?;
        let mut config: NetworkConfig = serde_norway::from_slice(text)
            .map_err(|e| Error::Config(format!("network config {}: {}", path.display(), yaml_error(&e))))?;
        config.path = path.to_path_buf();
        Ok(config)
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The organization `msp_id` (by key or by `mspid`).
    pub fn organization(&self, msp_id: &str) -> Result<&Organization> {
        self.organizations.get(msp_id).or_else(|| self.organizations.values().find(|o| o.mspid == msp_id)).ok_or_else(
            || {
                Error::Config(format!(
                    "organization {msp_id} is not in {} (organizations there: {})",
                    self.path.display(),
                    self.organizations.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            },
        )
    }

    /// `client.tlsCerts.client` (certificate and key, PEM), if the file has both.
    pub fn tls_client(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let Some(c) = &self.client.tls_certs.client else { return Ok(None) };
        let cert = self.pem(&c.cert, "TLS client certificate")?;
        let key = self.pem(&c.key, "TLS client key")?;
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            _ => Err(Error::Config(format!(
                "client.tlsCerts.client in {} has a certificate or a key but not both; give both (pem or path)",
                self.path.display()
            ))),
        }
    }

    /// The MSP IDs of the organizations that have a user called `user`.
    pub fn orgs_with_user(&self, user: &str) -> Vec<String> {
        self.organizations
            .iter()
            .filter(|(_, o)| o.users.contains_key(user))
            .map(|(k, o)| if o.mspid.is_empty() { k.clone() } else { o.mspid.clone() })
            .collect()
    }

    /// Reads a PEM value, inline or from a file relative to the config file.
    pub fn pem(&self, pem: &Pem, what: &'static str) -> Result<Option<Vec<u8>>> {
        if let Some(text) = &pem.pem {
            return Ok(Some(text.clone().into_bytes()));
        }
        match &pem.path {
            Some(p) => {
                let p = self.path.parent().unwrap_or(Path::new(".")).join(p);
                read_file(what, &p).map(Some)
            }
            None => Ok(None),
        }
    }
}

impl Node {
    /// `host:port` and whether TLS is on, from the `url`.
    pub fn address(&self) -> (String, bool) {
        let url = self.url.trim();
        if let Some(rest) = url.strip_prefix("grpcs://") {
            (rest.trim_end_matches('/').to_string(), true)
        } else if let Some(rest) = url.strip_prefix("grpc://") {
            (rest.trim_end_matches('/').to_string(), false)
        } else {
            (url.to_string(), true)
        }
    }

    /// The TLS host name to verify: `ssl-target-name-override`, else `hostnameOverride`.
    pub fn hostname_override(&self) -> Option<String> {
        ["ssl-target-name-override", "hostnameOverride"]
            .iter()
            .find_map(|k| self.grpc_options.get(*k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
            .map(str::to_string)
    }
}
