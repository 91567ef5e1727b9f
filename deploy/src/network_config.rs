//! Network config files: hlf-operator's (`kubectl hlf inspect` + `kubectl hlf utils adduser`) and
//! the Fabric common connection profile (YAML or JSON) they derive from. Both name peers and
//! orderers with a `url`, `tlsCACerts` (inline `pem` or a `path`) and `grpcOptions`
//! (`ssl-target-name-override` / `hostnameOverride`); hlf-operator's also carries users.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{read_file, Error, Result};

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

/// A user's certificate and key, inline.
#[derive(Debug, Deserialize)]
pub struct User {
    /// The certificate.
    pub cert: Pem,
    /// The private key.
    pub key: Pem,
}

/// Inline PEM, or a path to a PEM file.
#[derive(Debug, Default, Deserialize)]
pub struct Pem {
    /// The PEM text.
    #[serde(default)]
    pub pem: Option<PemText>,
    /// A file holding it (relative to the config file).
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// `pem:` is a string in hlf-operator's files and sometimes a list in connection profiles.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PemText {
    /// One PEM string.
    One(String),
    /// Several PEM strings (concatenated).
    Many(Vec<String>),
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
        Self::parse(&read_file("network config", path)?, path)
    }

    /// Parses a network config's YAML text; `path` names it in errors.
    pub fn parse(text: &[u8], path: &Path) -> Result<NetworkConfig> {
        let mut config: NetworkConfig = serde_norway::from_slice(text)
            .map_err(|e| Error::Config(format!("network config {}: {e}", path.display())))?;
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
            return Ok(Some(match text {
                PemText::One(s) => s.clone().into_bytes(),
                PemText::Many(v) => v.join("\n").into_bytes(),
            }));
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
