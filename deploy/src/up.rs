//! The `ccaas-deploy up` description: one YAML file, checked into the chaincode's repository,
//! that says which chaincode (definition and package), which image, and how it runs on
//! Kubernetes. `up` goes image → package → install → approve → commit → rollout and does only
//! what changed; `down` removes what `up` rolled out. Both change or delete only Kubernetes
//! objects labelled `app.kubernetes.io/managed-by: ccaas-deploy` (see [`crate::rollout`]).
//!
//! ```yaml
//! chaincode:
//!   name: asset
//!   version: "1.0"
//!   signature_policy: "OR('Org1MSP.member')"   # optional (default: the channel's endorsement policy)
//!   init_required: false                       # optional
//!   collections_config: collections.json       # optional: private data collections (peer CLI JSON)
//!   label: asset_1.0                           # optional, default <name>_<version>
//!   address: asset:7052                        # what the peers dial (may use {{.peername}}): the
//!                                              # Service up renders (name[.namespace[.svc[.domain]]]:port)
//!   external_address: false                    # optional: true if the address is served elsewhere
//!   dial_timeout: 10s                          # optional
//!   tls:                                       # optional: the peers dial with TLS
//!     root_cert: ca.pem                        # CA of the server's certificate
//!     client_cert: peer-client.pem             # optional, with client_key: mutual TLS
//!     client_key: peer-client.key
//! image:
//!   reference: 127.0.0.1:5000/asset:1.0        # where the image is (pushed to, with binary)
//!   binary: target/x86_64-unknown-linux-gnu/release/asset-transfer-basic   # optional: build and push
//!   insecure: true                             # optional: plain-HTTP registry
//!   digest: sha256:...                         # optional without binary: pin the image
//! kubernetes:                                  # optional; every field optional
//!   target: kubernetes                         # or hlf-operator: a FabricChaincode (crate::hlf)
//!   namespace: default
//!   replicas: 1
//!   port: 7052
//!   metrics_port: 9464                         # optional: Prometheus metrics (the shim's `metrics` feature)
//!   env: {RUST_LOG: info}
//!   resources: {requests: {cpu: 50m}, limits: {memory: 128Mi}}
//!   image_pull_secrets: []
//!   node_selector: {}
//!   tolerations: []                            # [{key, operator, value, effect}]
//!   tls: null                                  # {cert, key, client_ca} (files) or {secret, client_auth}
//!   per_peer: []                               # peer names for {{.peername}}
//!   progress_deadline_seconds: 120
//!   kubeconfig: ~/.kube/config                 # optional
//! fabric:                                      # optional; the global flags override it
//!   config: org1.yaml                          # network config (--config)
//!   user: admin                                # --user
//!   channel: mychannel                         # --channel
//!   peers: []                                  # --peer
//! ```
//!
//! Relative paths are relative to the file's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::definition::Definition;
use crate::render::{RenderTarget, Resources, Tls, Toleration, Workload};
use crate::Error;

/// The whole file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    /// The chaincode definition and package.
    pub chaincode: ChaincodeSection,
    /// The image.
    pub image: ImageSection,
    /// How it runs.
    #[serde(default)]
    pub kubernetes: KubernetesSection,
    /// Which Fabric network and identity (the global flags override these).
    #[serde(default)]
    pub fabric: FabricSection,
}

/// `chaincode:`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChaincodeSection {
    /// Chaincode name (also the Deployment and Service name).
    pub name: String,
    /// Version.
    pub version: String,
    /// Endorsement policy in the signature-policy language.
    #[serde(default)]
    pub signature_policy: Option<String>,
    /// Whether Init must be invoked first.
    #[serde(default)]
    pub init_required: bool,
    /// Private data collections: a file in the peer CLI's JSON format (`--collections-config`).
    #[serde(default)]
    pub collections_config: Option<PathBuf>,
    /// Package label [default `<name>_<version>`].
    #[serde(default)]
    pub label: Option<String>,
    /// The address the peers dial (connection.json), e.g. `asset:7052` or `{{.peername}}-asset:7052`.
    pub address: String,
    /// connection.json's dial timeout.
    #[serde(default)]
    pub dial_timeout: Option<String>,
    /// The address is served elsewhere (another Service, an ingress, a server outside
    /// Kubernetes): `up` then does not require it to be the Service it renders.
    #[serde(default)]
    pub external_address: bool,
    /// TLS material the peers use to dial (it goes into the package's connection.json, so new
    /// material makes a new package).
    #[serde(default)]
    pub tls: Option<PackageTls>,
}

/// `chaincode.tls:` the peers' side of the connection.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PackageTls {
    /// PEM CA bundle verifying the chaincode server.
    pub root_cert: PathBuf,
    /// PEM client certificate the peers present (mutual TLS).
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// Its private key.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

/// `image:`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// `registry/repository:tag`.
    pub reference: String,
    /// A built chaincode binary: the image is assembled from it and pushed to `reference`.
    #[serde(default)]
    pub binary: Option<PathBuf>,
    /// The registry speaks plain HTTP.
    #[serde(default)]
    pub insecure: bool,
    /// The image digest, to pin an image pushed by other means.
    #[serde(default)]
    pub digest: Option<String>,
}

/// `kubernetes:`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSection {
    /// What `up` rolls out [default `kubernetes`: Deployments and Services]; `hlf-operator`: a
    /// `FabricChaincode` per server, which hlf-operator turns into them (see [`crate::hlf`]).
    #[serde(default)]
    pub target: Option<RenderTarget>,
    /// Namespace [default `default`].
    #[serde(default)]
    pub namespace: Option<String>,
    /// Replicas [default 1].
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Chaincode server port [default 7052].
    #[serde(default)]
    pub port: Option<u16>,
    /// Prometheus metrics port: `CHAINCODE_METRICS_ADDRESS`, a `metrics` container and Service
    /// port and the `prometheus.io/*` annotations (see [`Workload::metrics_port`]) [default: none].
    #[serde(default)]
    pub metrics_port: Option<u16>,
    /// More environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Compute resources.
    #[serde(default)]
    pub resources: Resources,
    /// Image pull Secrets.
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    /// Node selector.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// TLS material of the server.
    #[serde(default)]
    pub tls: Option<Tls>,
    /// Numeric user [default 65532].
    #[serde(default)]
    pub user: Option<u32>,
    /// Peer names for per-peer servers.
    #[serde(default)]
    pub per_peer: Vec<String>,
    /// Progress deadline in seconds [default 120].
    #[serde(default)]
    pub progress_deadline_seconds: Option<u32>,
    /// kubeconfig file.
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
}

/// `fabric:`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSection {
    /// Network config file.
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// User in it.
    #[serde(default)]
    pub user: Option<String>,
    /// Channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Peer names.
    #[serde(default)]
    pub peers: Vec<String>,
}

impl UpConfig {
    /// Reads `path`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<UpConfig, Error> {
        let text = crate::limits::read_config("up config", path)?;
        crate::limits::check_yaml_nesting("up config", path, &text)?;
        let mut c: UpConfig = serde_norway::from_slice(&text).map_err(|e| {
            let e = crate::error::yaml_error(&e);
            Error::Config(format!("{}: {e} (see `ccaas-deploy up --help` for the format)", path.display()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(b) = c.image.binary.as_mut() {
            fix(b);
        }
        if let Some(k) = c.kubernetes.kubeconfig.as_mut() {
            fix(k);
        }
        if let Some(f) = c.fabric.config.as_mut() {
            fix(f);
        }
        if let Some(f) = c.chaincode.collections_config.as_mut() {
            fix(f);
        }
        if let Some(t) = c.chaincode.tls.as_mut() {
            fix(&mut t.root_cert);
            if let Some(p) = t.client_cert.as_mut() {
                fix(p);
            }
            if let Some(p) = t.client_key.as_mut() {
                fix(p);
            }
        }
        if let Some(Tls::Files { cert, key, client_ca }) = c.kubernetes.tls.as_mut() {
            fix(cert);
            fix(key);
            if let Some(ca) = client_ca.as_mut() {
                fix(ca);
            }
        }
        Ok(c)
    }

    /// The chaincode definition: name, version, endorsement policy, collections, init-required.
    pub fn definition(&self) -> Result<Definition, Error> {
        let c = &self.chaincode;
        let mut d = Definition::new(&c.name, &c.version);
        if let Some(p) = &c.signature_policy {
            d = d.signature_policy(p).map_err(|e| {
                Error::Config(format!("chaincode.signature_policy: {}", e.trim_start_matches("--signature-policy: ")))
            })?;
        }
        if let Some(f) = &c.collections_config {
            let json =
                std::fs::read(f).map_err(|cause| Error::Read { what: "collections config", path: f.clone(), cause })?;
            d = d.collections_json(&json).map_err(|e| Error::Config(format!("{}: {e}", f.display())))?;
        }
        d.init_required = c.init_required;
        Ok(d)
    }

    /// The package: label, address, dial timeout and TLS material from `chaincode:`. With TLS
    /// files in `kubernetes.tls`, the server certificate is checked against the root
    /// certificate and the address (not packaged).
    pub fn package(&self) -> Result<ccaas_package::BuiltPackage, Error> {
        let read = |what: &'static str, p: &PathBuf| {
            std::fs::read_to_string(p).map_err(|cause| Error::Read { what, path: p.clone(), cause })
        };
        let mut conn = ccaas_package::ConnectionSpec::new(self.chaincode.address.clone());
        if let Some(t) = &self.chaincode.dial_timeout {
            conn = conn.dial_timeout(t.clone());
        }
        if let Some(t) = &self.chaincode.tls {
            conn = conn.tls(read("TLS root certificate", &t.root_cert)?);
            match (&t.client_cert, &t.client_key) {
                (Some(c), Some(k)) => {
                    conn = conn.client_auth(read("TLS client certificate", c)?, read("TLS client key", k)?)
                }
                (None, None) => {}
                _ => {
                    return Err(Error::Config(
                        "chaincode.tls needs both client_cert and client_key for mutual TLS, or neither".into(),
                    ))
                }
            }
            if let Some(Tls::Files { cert, .. }) = &self.kubernetes.tls {
                conn = conn.check_server_cert(read("TLS certificate", cert)?);
            }
        }
        Ok(ccaas_package::build_package(&ccaas_package::PackageSpec::ccaas(self.label(), conn))?)
    }

    /// The rollout target (`kubernetes.target`).
    pub fn target(&self) -> RenderTarget {
        self.kubernetes.target.unwrap_or_default()
    }

    /// The package label.
    pub fn label(&self) -> String {
        self.chaincode.label.clone().unwrap_or_else(|| format!("{}_{}", self.chaincode.name, self.chaincode.version))
    }

    /// The workload for `package_id`, with the image digest when known.
    pub fn workload(&self, package_id: &str, digest: Option<String>) -> Workload {
        let k = &self.kubernetes;
        let mut w = Workload::new(&self.chaincode.name, &self.image.reference, package_id);
        w.digest = digest.or_else(|| self.image.digest.clone());
        if let Some(ns) = &k.namespace {
            w.namespace = ns.clone();
        }
        if let Some(r) = k.replicas {
            w.replicas = r;
        }
        if let Some(p) = k.port {
            w.port = p;
        }
        w.metrics_port = k.metrics_port;
        w.env = k.env.clone();
        w.resources = k.resources.clone();
        w.image_pull_secrets = k.image_pull_secrets.clone();
        w.node_selector = k.node_selector.clone();
        w.tolerations = k.tolerations.clone();
        w.tls = k.tls.clone();
        if let Some(u) = k.user {
            w.user = u;
        }
        w.per_peer = k.per_peer.clone();
        if !k.per_peer.is_empty() {
            w.address_template = Some(self.chaincode.address.clone());
        }
        if let Some(d) = k.progress_deadline_seconds {
            w.progress_deadline_seconds = d;
        }
        w
    }
}
