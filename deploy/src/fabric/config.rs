//! Where the identity and the endpoints come from, resolved once into a [`Target`].
//!
//! Four sources, as users already have them:
//! 1. an hlf-operator network config with users (`--config org1.yaml --user admin`, peers named
//!    as in the file with `--peer`);
//! 2. a Fabric common connection profile (`--config`) plus an MSP folder (`--msp-dir`, `--msp-id`);
//! 3. PEM files (`--cert`, `--key`, `--msp-id`) with `--peer-address` and `--tls-ca`;
//! 4. the `peer` CLI's environment (`CORE_PEER_LOCALMSPID`, `CORE_PEER_MSPCONFIGPATH`,
//!    `CORE_PEER_ADDRESS`, `CORE_PEER_TLS_ROOTCERT_FILE`, ...), which the binary maps onto the
//!    same fields. This module never reads the environment itself.

use std::path::PathBuf;

use crate::error::{read_file, Error, Result};
use crate::identity::Identity;
use crate::network_config::NetworkConfig;

/// The fabric-samples channel name, used when none is given.
pub const DEFAULT_CHANNEL: &str = "mychannel";

/// Everything the user gave, before resolution. Empty fields were not given.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// A network config file (hlf-operator or connection profile).
    pub config: Option<PathBuf>,
    /// A user of that file's organization.
    pub user: Option<String>,
    /// Peers to use, by their name in the network config (default: all of the org's).
    pub peer_names: Vec<String>,
    /// The MSP ID (default: the config's `client.organization`).
    pub msp_id: Option<String>,
    /// An MSP folder.
    pub msp_dir: Option<PathBuf>,
    /// A PEM certificate file.
    pub cert: Option<PathBuf>,
    /// A PEM private key file.
    pub key: Option<PathBuf>,
    /// Peer addresses (`host:port`) when there is no network config.
    pub peer_addresses: Vec<String>,
    /// The peers' TLS CA file; without it the peers are dialled in plaintext.
    pub tls_ca: Option<PathBuf>,
    /// `CORE_PEER_TLS_ENABLED`: `Some(false)` dials the peers in plaintext even with a CA;
    /// `Some(true)` requires a CA.
    pub tls_enabled: Option<bool>,
    /// The TLS host name to verify instead of the address's host.
    pub tls_hostname: Option<String>,
    /// `CORE_PEER_TLS_CLIENTAUTHREQUIRED`: `Some(false)` presents no TLS client certificate even
    /// if one is given (as the peer CLI does); `Some(true)` requires one (from the flags or the
    /// network config's `client.tlsCerts.client`).
    pub tls_client_auth_required: Option<bool>,
    /// A TLS client certificate for mutual TLS.
    pub tls_client_cert: Option<PathBuf>,
    /// Its key.
    pub tls_client_key: Option<PathBuf>,
    /// The orderer address when there is no network config.
    pub orderer_address: Option<String>,
    /// The orderer's TLS CA file.
    pub orderer_ca: Option<PathBuf>,
    /// The orderer's TLS host name.
    pub orderer_tls_hostname: Option<String>,
    /// The channel.
    pub channel: Option<String>,
}

/// How to give a TLS client certificate, for error messages.
pub const TLS_CLIENT_HOW: &str = "pass --tls-client-cert and --tls-client-key (the peer CLI's \
     CORE_PEER_TLS_CLIENTCERT_FILE and CORE_PEER_TLS_CLIENTKEY_FILE, with CORE_PEER_TLS_CLIENTAUTHREQUIRED=true), \
     or put them in the network config under client.tlsCerts.client (cert and key, pem or path): the \
     organization's TLS client certificate and key, e.g. cryptogen's users/Admin@ORG/tls/client.crt and client.key";

/// TLS settings for one endpoint. `Debug` shows the sizes of the PEM texts, not the texts (the
/// client key is a private key).
#[derive(Clone)]
pub struct Tls {
    /// The CA certificates (PEM) that sign the server's certificate.
    pub ca_pem: Vec<u8>,
    /// Where they came from, for error messages.
    pub ca_source: String,
    /// The name to verify in the server certificate, instead of the address's host.
    pub server_name: Option<String>,
    /// A client certificate and key (PEM) for mutual TLS.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let client = self.client_identity.as_ref().map(|(cert, key)| {
            (format!("<certificate: {} bytes>", cert.len()), format!("<redacted: {} bytes>", key.len()))
        });
        f.debug_struct("Tls")
            .field("ca_pem", &format_args!("<{} bytes>", self.ca_pem.len()))
            .field("ca_source", &self.ca_source)
            .field("server_name", &self.server_name)
            .field("client_identity", &client)
            .finish()
    }
}

/// A peer or orderer to dial. `Debug` redacts its TLS client key.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its name (from the network config, else the address).
    pub name: String,
    /// Its organization's MSP ID.
    pub org: String,
    /// `host:port`.
    pub address: String,
    /// TLS, or `None` for plaintext.
    pub tls: Option<Tls>,
}

/// The resolved configuration: who signs, which peers and orderer, which channel. `Debug`
/// redacts the signing key and the TLS client key.
#[derive(Debug, Clone)]
pub struct Target {
    /// The signing identity.
    pub identity: Identity,
    /// The organization's peers to use (at least one).
    pub peers: Vec<Endpoint>,
    /// The orderer, if known (only needed to bypass the Gateway).
    pub orderer: Option<Endpoint>,
    /// The channel.
    pub channel: String,
}

impl Sources {
    /// Resolves the sources into a [`Target`], reading every file named.
    pub fn resolve(&self) -> Result<Target> {
        let config = self.config.as_deref().map(NetworkConfig::load).transpose()?;
        let client_pair = self.tls_client(config.as_ref())?;
        let msp_id = match (&self.msp_id, &config) {
            (Some(m), _) if !m.is_empty() => m.clone(),
            // hlf-operator keys organizations by MSP ID; connection profiles by a name ("Org1")
            // whose `mspid` is the MSP ID.
            (_, Some(c)) if !c.client.organization.is_empty() => match c.organization(&c.client.organization) {
                Ok(o) if !o.mspid.is_empty() => o.mspid.clone(),
                _ => c.client.organization.clone(),
            },
            // `kubectl hlf inspect` leaves client.organization empty: the org that has the user.
            (_, Some(c)) if self.user.is_some() && c.orgs_with_user(self.user.as_deref().unwrap_or("")).len() == 1 => {
                c.orgs_with_user(self.user.as_deref().unwrap_or(""))[0].clone()
            }
            _ => {
                return Err(Error::Config(
                    "no MSP ID: pass --msp-id (or set CORE_PEER_LOCALMSPID), or use a network config whose \
                     client.organization is set or where only one organization has the --user"
                        .into(),
                ))
            }
        };
        let identity = self.identity(&msp_id, config.as_ref())?;
        let channel = self.channel.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| match &config {
            Some(c) if c.channels.len() == 1 => c.channels.keys().next().cloned().unwrap_or_default(),
            _ => DEFAULT_CHANNEL.to_string(),
        });
        let (peers, orderer) = match &config {
            Some(c) => (self.config_peers(c, &msp_id, &client_pair)?, config_orderer(c, &client_pair)?),
            None => (self.flag_peers(&msp_id, &client_pair)?, self.flag_orderer(&client_pair)?),
        };
        Ok(Target { identity, peers, orderer, channel })
    }

    /// The TLS client certificate and key: the flags' (or the peer CLI's variables'), else the
    /// network config's `client.tlsCerts.client`; none when `CORE_PEER_TLS_CLIENTAUTHREQUIRED`
    /// is false.
    fn tls_client(&self, config: Option<&NetworkConfig>) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.tls_client_auth_required == Some(false) {
            return Ok(None);
        }
        let pair = match (&self.tls_client_cert, &self.tls_client_key) {
            (Some(c), Some(k)) => Some((read_file("TLS client certificate", c)?, read_file("TLS client key", k)?)),
            (None, None) => config.map(NetworkConfig::tls_client).transpose()?.flatten(),
            _ => {
                return Err(Error::Config(
                    "--tls-client-cert and --tls-client-key go together (CORE_PEER_TLS_CLIENTCERT_FILE and \
                     CORE_PEER_TLS_CLIENTKEY_FILE for the peer CLI)"
                        .into(),
                ))
            }
        };
        if pair.is_none() && self.tls_client_auth_required == Some(true) {
            return Err(Error::Config(format!(
                "TLS client authentication is required (CORE_PEER_TLS_CLIENTAUTHREQUIRED=true) but no TLS client \
                 certificate is given: {}",
                TLS_CLIENT_HOW
            )));
        }
        Ok(pair)
    }

    fn identity(&self, msp_id: &str, config: Option<&NetworkConfig>) -> Result<Identity> {
        if let (Some(config), Some(user)) = (config, &self.user) {
            let org = config.organization(msp_id)?;
            let Some(u) = org.users.get(user) else {
                return Err(Error::UnknownUser {
                    user: user.clone(),
                    org: msp_id.into(),
                    path: config.path().display().to_string(),
                    known: if org.users.is_empty() {
                        "none".into()
                    } else {
                        org.users.keys().cloned().collect::<Vec<_>>().join(", ")
                    },
                });
            };
            let source = format!("user '{user}' in {}", config.path().display());
            let missing = |what: &str| Error::Identity {
                msp_id: msp_id.into(),
                source_desc: source.clone(),
                cause: format!("no {what} PEM"),
            };
            let cert = config.pem(&u.cert, "user certificate")?.ok_or_else(|| missing("certificate"))?;
            let key = config.pem(&u.key, "user key")?.ok_or_else(|| missing("key"))?;
            return Identity::from_pem(msp_id, &cert, &key, &source);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            return Identity::from_files(msp_id, cert, key);
        }
        if let Some(dir) = &self.msp_dir {
            return Identity::from_msp_dir(msp_id, dir);
        }
        if let Some(config) = config {
            let users = config.organization(msp_id).map(|o| o.users.keys().cloned().collect::<Vec<_>>().join(", "))?;
            return Err(Error::Config(format!(
                "no identity: pass --user (users of {msp_id} in {}: {}), or --msp-dir",
                config.path().display(),
                if users.is_empty() { "none" } else { &users }
            )));
        }
        Err(Error::Config(
            "no identity: pass --config FILE --user NAME, or --msp-dir DIR --msp-id MSPID, or --cert FILE --key FILE \
             --msp-id MSPID (or set CORE_PEER_MSPCONFIGPATH and CORE_PEER_LOCALMSPID, as for the peer CLI)"
                .into(),
        ))
    }

    fn config_peers(
        &self,
        config: &NetworkConfig,
        msp_id: &str,
        client: &Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Vec<Endpoint>> {
        let names: Vec<String> = if self.peer_names.is_empty() {
            let org = config.organization(msp_id)?;
            if org.peers.is_empty() {
                return Err(Error::Config(format!(
                    "organization {msp_id} lists no peers in {}; name one with --peer",
                    config.path().display()
                )));
            }
            org.peers.clone()
        } else {
            self.peer_names.clone()
        };
        names
            .iter()
            .map(|name| {
                let node = config.peers.get(name).ok_or_else(|| {
                    Error::Config(format!(
                        "peer '{name}' is not in {} (peers there: {})",
                        config.path().display(),
                        config.peers.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                let org = config
                    .organizations
                    .iter()
                    .find(|(_, o)| o.peers.contains(name))
                    .map(|(k, o)| if o.mspid.is_empty() { k.clone() } else { o.mspid.clone() })
                    .unwrap_or_else(|| msp_id.to_string());
                node_endpoint(config, name, &org, node, client)
            })
            .collect()
    }

    fn flag_peers(&self, msp_id: &str, client: &Option<(Vec<u8>, Vec<u8>)>) -> Result<Vec<Endpoint>> {
        if self.peer_addresses.is_empty() {
            return Err(Error::Config(
                "no peer: pass --peer-address HOST:PORT (or set CORE_PEER_ADDRESS), or --config with a network config"
                    .into(),
            ));
        }
        let tls = match (self.tls_enabled, &self.tls_ca) {
            (Some(false), _) => None,
            (Some(true), None) => {
                return Err(Error::Config(
                    "TLS is on (CORE_PEER_TLS_ENABLED=true) but no TLS CA is given: pass --tls-ca or set \
                     CORE_PEER_TLS_ROOTCERT_FILE to the peer organization's TLS CA certificate"
                        .into(),
                ))
            }
            _ => flag_tls(&self.tls_ca, &self.tls_hostname, client)?,
        };
        Ok(self
            .peer_addresses
            .iter()
            .map(|a| Endpoint { name: a.clone(), org: msp_id.into(), address: a.clone(), tls: tls.clone() })
            .collect())
    }

    fn flag_orderer(&self, client: &Option<(Vec<u8>, Vec<u8>)>) -> Result<Option<Endpoint>> {
        let Some(address) = &self.orderer_address else { return Ok(None) };
        Ok(Some(Endpoint {
            name: address.clone(),
            org: "orderer".into(),
            address: address.clone(),
            tls: flag_tls(&self.orderer_ca, &self.orderer_tls_hostname, client)?,
        }))
    }
}

fn flag_tls(
    ca: &Option<PathBuf>,
    hostname: &Option<String>,
    client: &Option<(Vec<u8>, Vec<u8>)>,
) -> Result<Option<Tls>> {
    let Some(ca) = ca else { return Ok(None) };
    Ok(Some(Tls {
        ca_pem: read_file("TLS CA certificate", ca)?,
        ca_source: ca.display().to_string(),
        server_name: hostname.clone().filter(|h| !h.is_empty()),
        client_identity: client.clone(),
    }))
}

fn config_orderer(config: &NetworkConfig, client: &Option<(Vec<u8>, Vec<u8>)>) -> Result<Option<Endpoint>> {
    let Some((name, node)) = config.orderers.iter().next() else { return Ok(None) };
    let org = config
        .organizations
        .iter()
        .find(|(_, o)| o.orderers.iter().any(|n| n == name))
        .map(|(k, o)| if o.mspid.is_empty() { k.clone() } else { o.mspid.clone() })
        .unwrap_or_else(|| "orderer".into());
    node_endpoint(config, name, &org, node, client).map(Some)
}

fn node_endpoint(
    config: &NetworkConfig,
    name: &str,
    org: &str,
    node: &crate::network_config::Node,
    client: &Option<(Vec<u8>, Vec<u8>)>,
) -> Result<Endpoint> {
    let (address, tls_on) = node.address();
    let tls = if tls_on {
        let ca_pem = config.pem(&node.tls_ca_certs, "TLS CA certificate")?.ok_or_else(|| {
            Error::Config(format!("{name} in {} has a grpcs:// url but no tlsCACerts", config.path().display()))
        })?;
        Some(Tls {
            ca_pem,
            ca_source: format!("tlsCACerts of {name} in {}", config.path().display()),
            server_name: node.hostname_override(),
            client_identity: client.clone(),
        })
    } else {
        None
    };
    Ok(Endpoint { name: name.into(), org: org.into(), address, tls })
}
