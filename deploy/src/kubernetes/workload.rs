//! The chaincode server's workload, the same for every target: what [`crate::render`] turns into
//! manifests (and `up` reads from its file), with the checks it must pass first.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::image::{DEFAULT_PORT, DEFAULT_USER};
use crate::Error;

/// The default progress deadline of the Deployments, in seconds.
pub const DEFAULT_PROGRESS_DEADLINE: u32 = 120;

/// Environment variable names that [`render`](crate::render::render) sets itself; a user `env`
/// entry may not repeat them.
pub const RESERVED_ENV: [&str; 18] = [
    "CHAINCODE_ID",
    "CORE_CHAINCODE_ID_NAME",
    "CORE_CHAINCODE_ID",
    "CHAINCODE_SERVER_ADDRESS",
    "CORE_CHAINCODE_ADDRESS",
    "CHAINCODE_TLS_DISABLED",
    "CORE_PEER_TLS_ENABLED",
    "CHAINCODE_TLS_CERT",
    "CHAINCODE_TLS_KEY",
    "CHAINCODE_CLIENT_CA_CERT",
    "CORE_TLS_CLIENT_CERT_FILE",
    "CORE_TLS_CLIENT_KEY_FILE",
    "CORE_PEER_TLS_ROOTCERT_FILE",
    "CORE_CHAINCODE_TLS_CERT_FILE",
    "CORE_CHAINCODE_TLS_KEY_FILE",
    "CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE",
    "CHAINCODE_METRICS_ADDRESS",
    "HOME",
];

/// What to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RenderTarget {
    /// Deployment, Service and Secret.
    #[default]
    Kubernetes,
    /// An hlf-operator `FabricChaincode` (`hlf.kungfusoftware.es/v1alpha1`); its controller makes
    /// the Deployment and Service.
    HlfOperator,
}

/// The server's TLS material. In a config file: `{cert, key, client_ca}` (files) or
/// `{secret, client_auth}` (an existing Secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Tls {
    /// PEM files read now and rendered into a Secret named `<server>-tls`.
    Files {
        /// The server certificate (chain).
        cert: PathBuf,
        /// Its private key.
        key: PathBuf,
        /// CA of the client certificates the peers present (mutual TLS); none: no client auth.
        #[serde(default)]
        client_ca: Option<PathBuf>,
    },
    /// An existing Secret with keys `tls.crt`, `tls.key` and, for mutual TLS, `ca.crt`.
    Secret {
        /// The Secret's name in the workload's namespace (`secret:` in a config file).
        #[serde(rename = "secret")]
        name: String,
        /// Whether the Secret has `ca.crt` (the peers must present client certificates).
        #[serde(default)]
        client_auth: bool,
    },
}

/// Compute resources of the container (Kubernetes quantities, e.g. `cpu: 100m`, `memory: 64Mi`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Requests.
    #[serde(default)]
    pub requests: BTreeMap<String, String>,
    /// Limits.
    #[serde(default)]
    pub limits: BTreeMap<String, String>,
}

/// A toleration, as in a pod spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    /// Taint key (empty with `Exists`: every taint).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// `Equal` or `Exists`.
    pub operator: String,
    /// Taint value (with `Equal`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`; empty: all.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub effect: String,
}

impl std::str::FromStr for Toleration {
    type Err = String;

    /// `kubectl taint`'s syntax: `key=value:Effect`, `key:Effect` or `key` (`Exists`), with the
    /// effect optional.
    fn from_str(s: &str) -> Result<Self, String> {
        let (kv, effect) = match s.split_once(':') {
            Some((kv, e)) => (kv, e.to_string()),
            None => (s, String::new()),
        };
        if !["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect.as_str()) {
            return Err(format!(
                "toleration '{s}': effect '{effect}' is not NoSchedule, PreferNoSchedule or NoExecute"
            ));
        }
        let t = match kv.split_once('=') {
            Some((k, v)) => Toleration { key: k.into(), operator: "Equal".into(), value: v.into(), effect },
            None => Toleration { key: kv.into(), operator: "Exists".into(), value: String::new(), effect },
        };
        if t.key.is_empty() && t.operator == "Equal" {
            return Err(format!("toleration '{s}': a value needs a key (key=value:Effect)"));
        }
        Ok(t)
    }
}

/// One description of a chaincode server workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Name of the Deployment and Service (a DNS-1035 label), and the chaincode's name label.
    pub name: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Image reference (`registry/repo:tag`).
    pub image: String,
    /// The image's manifest digest (`sha256:...`) when known: the image is then pinned as
    /// `repository@digest`.
    #[serde(default)]
    pub digest: Option<String>,
    /// The package ID the servers answer to.
    pub package_id: String,
    /// Replicas of each Deployment.
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    /// The chaincode server port (container and Service).
    #[serde(default = "default_port")]
    pub port: u16,
    /// More environment variables (after the ones [`render`](crate::render::render) sets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Compute resources.
    #[serde(default)]
    pub resources: Resources,
    /// Image pull Secret names.
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    /// Node selector.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// TLS material; none: plaintext.
    #[serde(default)]
    pub tls: Option<Tls>,
    /// Numeric user and group the container runs as (not 0).
    #[serde(default = "default_user")]
    pub user: u32,
    /// One Deployment and Service per peer, named by [`Workload::address_template`] with the
    /// peer's name for `{{.peername}}`.
    #[serde(default)]
    pub per_peer: Vec<String>,
    /// The package's address (`{{.peername}}-asset:7052` with `per_peer`): its host names the
    /// per-peer servers, its port must be [`Workload::port`].
    #[serde(default)]
    pub address_template: Option<String>,
    /// Seconds a rollout may make no progress before the Deployment reports it failed.
    #[serde(default = "default_progress_deadline")]
    pub progress_deadline_seconds: u32,
    /// Serve Prometheus metrics on this port (`CHAINCODE_METRICS_ADDRESS`; the chaincode must be
    /// built with the shim's `metrics` feature), exposed as the container and Service port
    /// `metrics` with the `prometheus.io/*` annotations. None (the default): no metrics.
    #[serde(default)]
    pub metrics_port: Option<u16>,
}

fn default_namespace() -> String {
    "default".into()
}
fn default_replicas() -> u32 {
    1
}
fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_progress_deadline() -> u32 {
    DEFAULT_PROGRESS_DEADLINE
}
fn default_user() -> u32 {
    DEFAULT_USER
}

impl Workload {
    /// A workload with the defaults: namespace `default`, 1 replica, port 7052, user 65532.
    pub fn new(name: impl Into<String>, image: impl Into<String>, package_id: impl Into<String>) -> Self {
        Workload {
            name: name.into(),
            namespace: default_namespace(),
            image: image.into(),
            digest: None,
            package_id: package_id.into(),
            replicas: 1,
            port: DEFAULT_PORT,
            env: BTreeMap::new(),
            resources: Resources::default(),
            image_pull_secrets: Vec::new(),
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            tls: None,
            user: DEFAULT_USER,
            per_peer: Vec::new(),
            address_template: None,
            progress_deadline_seconds: DEFAULT_PROGRESS_DEADLINE,
            metrics_port: None,
        }
    }

    /// The image reference the pods run: `repository@digest` (without the tag, which some
    /// tools refuse next to a digest) when the digest is known.
    pub fn image_ref(&self) -> String {
        match &self.digest {
            Some(d) => {
                let name_start = self.image.rfind('/').map(|i| i + 1).unwrap_or(0);
                let repo = match self.image[name_start..].rfind(':') {
                    Some(i) => &self.image[..name_start + i],
                    None => self.image.as_str(),
                };
                format!("{repo}@{d}")
            }
            None => self.image.clone(),
        }
    }

    /// The names of the servers: [`Workload::name`], or one per peer from the address template.
    pub fn server_names(&self) -> Result<Vec<String>, Error> {
        if self.per_peer.is_empty() {
            return Ok(vec![self.name.clone()]);
        }
        let template = self.address_template.as_deref().ok_or_else(|| {
            Error::Config(format!(
                "per-peer servers for {} need the package's address template, e.g. \
                 '{{{{.peername}}}}-{}:{}' (--address-template)",
                self.name, self.name, self.port
            ))
        })?;
        let (host, _) = split_address(template)?;
        if !host.contains("{{.peername}}") {
            return Err(Error::Config(format!(
                "address template '{template}' has no {{{{.peername}}}}: every peer would dial the same server; \
                 drop --per-peer or put {{{{.peername}}}} in the host"
            )));
        }
        // The Service name is the host's first label (`{{.peername}}-asset.fabric.svc` names
        // `peer0-asset`); the rest, the namespace and domain, is checked by [`check_address`].
        let name = host.replace("{{.peername}}", "\u{0}");
        let name = name.split('.').next().unwrap_or_default();
        Ok(self.per_peer.iter().map(|p| name.replace('\u{0}', p)).collect())
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
        dns_label("name", &self.name)?;
        dns_label("namespace", &self.namespace)?;
        if self.image.is_empty() {
            return Err(Error::Config("no image: give the image reference (registry/repo:tag)".into()));
        }
        if let Some(d) = &self.digest {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err(Error::Config(format!("image digest '{d}' is not sha256:<64 lowercase hex digits>")));
            }
        }
        if self.package_id.is_empty() {
            return Err(Error::Config("no package ID: give --package-id or a package".into()));
        }
        if self.port == 0 {
            return Err(Error::Config("port 0: give the chaincode server's port (--port)".into()));
        }
        match self.metrics_port {
            Some(0) => {
                return Err(Error::Config(
                    "metrics port 0: give the port the chaincode serves its metrics on (--metrics-port), or \
                     leave it out for no metrics"
                        .into(),
                ))
            }
            Some(p) if p == self.port => {
                return Err(Error::Config(format!(
                    "the metrics port {p} is the chaincode server's port: the metrics need a port of their own; \
                     give another --metrics-port (9464 is Prometheus' usual one for exporters)"
                )))
            }
            _ => {}
        }
        if self.progress_deadline_seconds == 0 {
            return Err(Error::Config("a progress deadline of 0 s fails every rollout: give seconds > 0".into()));
        }
        if self.user == 0 {
            return Err(Error::Config("user 0 is root: give a non-root numeric user (--user)".into()));
        }
        for k in self.env.keys() {
            if RESERVED_ENV.contains(&k.as_str()) {
                return Err(Error::Config(format!(
                    "env {k} is set by ccaas-deploy from the package ID, port, metrics port and TLS options; \
                     remove it from env"
                )));
            }
        }
        if let Some(t) = &self.address_template {
            let (_, port) = split_address(t)?;
            if port != self.port {
                return Err(Error::Config(format!(
                    "the address template '{t}' has port {port} but the server port is {}: \
                     the peers would dial a port nothing serves; make them equal",
                    self.port
                )));
            }
        }
        for n in self.server_names()? {
            dns_label("server name (from the address template)", &n)?;
        }
        if let Some(Tls::Secret { name, .. }) = &self.tls {
            dns_subdomain("TLS Secret name", name)?;
        }
        Ok(())
    }
}

/// Checks that the package's `address` (what the peers dial, maybe with `{{.peername}}`) is a
/// Service that `w` renders: the same name and port, as `name`, `name.namespace`,
/// `name.namespace.svc` or `name.namespace.svc.<cluster domain>` (the rule of
/// [`dials_a_service`], which `status` also uses). A mismatch is a
/// configuration error naming both, and how to say the address is served elsewhere
/// (`external`, e.g. `--external-address`).
pub fn check_address(w: &Workload, address: &str, external: &str) -> Result<(), Error> {
    w.validate()?;
    let services: Vec<ServiceAddress> = w
        .server_names()?
        .into_iter()
        .map(|name| ServiceAddress { name, namespace: w.namespace.clone(), port: w.port })
        .collect();
    if dials_a_service(address, &services) {
        return Ok(());
    }
    let rendered: Vec<String> = services.iter().map(ServiceAddress::address).collect();
    let host = match &w.address_template {
        Some(t) if !w.per_peer.is_empty() => {
            let host = split_address(t)?.0.replace("{{.peername}}", "\u{0}");
            host.split('.').next().unwrap_or_default().replace('\u{0}', "{{.peername}}")
        }
        _ => w.name.clone(),
    };
    let example = format!("{host}:{}", w.port);
    Err(Error::Config(format!(
        "the package's address {address} is not the Service rendered for it ({}): the peers would dial nothing \
         there; package the Service's address (e.g. {example}), or, if {address} is served elsewhere (another \
         Service, an ingress, a server outside Kubernetes), say so with {external}",
        rendered.join(", ")
    )))
}

/// A Service of the chaincode.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceAddress {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its chaincode port.
    pub port: u16,
}

/// Whether `address` (`host:port`, maybe with `{{.peername}}`) dials one of `services`.
pub fn dials_a_service(address: &str, services: &[ServiceAddress]) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else { return false };
    let Ok(port) = port.parse::<u16>() else { return false };
    // The template's own dot is not a domain separator.
    let host = host.replace("{{.peername}}", "\u{0}");
    let (first, rest) = host.split_once('.').unwrap_or((&host, ""));
    let name_matches = |name: &str| match first.split_once('\u{0}') {
        None => first == name,
        Some((prefix, suffix)) => {
            name.len() > prefix.len() + suffix.len() && name.starts_with(prefix) && name.ends_with(suffix)
        }
    };
    services.iter().any(|s| {
        let ns_svc = format!("{}.svc", s.namespace);
        s.port == port
            && name_matches(&s.name)
            && (rest.is_empty()
                || rest == s.namespace
                || rest == ns_svc
                || rest.strip_prefix(&ns_svc).is_some_and(|d| d.starts_with('.') && d.len() > 1))
    })
}

impl ServiceAddress {
    /// `name.namespace:port`.
    pub fn address(&self) -> String {
        format!("{}.{}:{}", self.name, self.namespace, self.port)
    }
}

fn split_address(a: &str) -> Result<(&str, u16), Error> {
    let bad = || Error::Config(format!("address '{a}' is not host:port"));
    let (host, port) = a.rsplit_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host, port))
}

fn dns_label(what: &str, s: &str) -> Result<(), Error> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{what} '{s}' is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, \
             at most 63 characters), which Kubernetes requires of Service names"
        )))
    }
}

fn dns_subdomain(what: &str, s: &str) -> Result<(), Error> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!("{what} '{s}' is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")))
    }
}
