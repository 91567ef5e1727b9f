//! `render` and `apply`: the chaincode server's workload flags, its Kubernetes manifests, and
//! the rollout (which `up` waits for too).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ccaas_deploy::render::{self, RenderTarget};
use ccaas_deploy::rollout::{self, RolloutError};
use ccaas_deploy::{Error, Kind};
use clap::{Args, ValueEnum};
use serde_json::json;

use super::lifecycle::PackageArgs;
use super::output::{Output, Printer};

/// `KEY=VALUE`.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

/// What to render for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetArg {
    /// Deployment, Service and TLS Secret.
    Kubernetes,
    /// An hlf-operator FabricChaincode (hlf.kungfusoftware.es/v1alpha1).
    HlfOperator,
}

impl From<TargetArg> for ccaas_deploy::render::RenderTarget {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Kubernetes => Self::Kubernetes,
            TargetArg::HlfOperator => Self::HlfOperator,
        }
    }
}

/// The chaincode server workload (the same meaning for every target).
#[derive(Args, Debug)]
pub struct WorkloadArgs {
    /// Name of the Deployment and Service (a DNS-1035 label).
    #[arg(long, short = 'n')]
    pub name: String,
    /// Kubernetes namespace.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Image reference (registry/repo:tag).
    #[arg(long)]
    pub image: String,
    /// The image's digest (sha256:...): the pods then run image@digest.
    #[arg(long)]
    pub digest: Option<String>,
    /// The package ID the servers answer to (or give the package).
    #[arg(long, conflicts_with_all = ["file", "label"])]
    pub package_id: Option<String>,
    #[command(flatten)]
    pub package: PackageArgs,
    /// Replicas of each Deployment.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Chaincode server port (container and Service).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_PORT)]
    pub port: u16,
    /// Serve Prometheus metrics on this port: sets CHAINCODE_METRICS_ADDRESS, adds the container and
    /// Service port `metrics` and the prometheus.io/scrape, port and path annotations. The chaincode
    /// must be built with the shim's `metrics` feature [default: no metrics].
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// More environment variables (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,
    /// Resource request, e.g. cpu=100m (repeatable).
    #[arg(long = "request", value_name = "RESOURCE=QUANTITY", value_parser = key_value)]
    pub requests: Vec<(String, String)>,
    /// Resource limit, e.g. memory=128Mi (repeatable).
    #[arg(long = "limit", value_name = "RESOURCE=QUANTITY", value_parser = key_value)]
    pub limits: Vec<(String, String)>,
    /// Image pull Secret (repeatable).
    #[arg(long = "image-pull-secret", value_name = "NAME")]
    pub image_pull_secrets: Vec<String>,
    /// Node selector label (repeatable).
    #[arg(long = "node-selector", value_name = "KEY=VALUE", value_parser = key_value)]
    pub node_selector: Vec<(String, String)>,
    /// Toleration in kubectl taint syntax: key=value:Effect, key:Effect or key (repeatable).
    #[arg(long = "toleration", value_name = "TAINT")]
    pub tolerations: Vec<ccaas_deploy::render::Toleration>,
    /// TLS server certificate (PEM); rendered into the Secret <server>-tls.
    #[arg(long, requires = "tls_key", conflicts_with = "tls_secret")]
    pub tls_cert: Option<PathBuf>,
    /// TLS server key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA of the peers' client certificates (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// An existing Secret with tls.crt and tls.key (and ca.crt with --tls-client-auth).
    #[arg(long, value_name = "NAME")]
    pub tls_secret: Option<String>,
    /// The --tls-secret has ca.crt: the peers must present client certificates.
    #[arg(long, requires = "tls_secret")]
    pub tls_client_auth: bool,
    /// Numeric user and group of the container (not 0).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_USER)]
    pub uid: u32,
    /// One Deployment and Service per peer, named by the address template with the peer's name
    /// for {{.peername}} (comma-separated or repeated).
    #[arg(long, value_name = "PEERNAME", value_delimiter = ',')]
    pub per_peer: Vec<String>,
    /// The package's address template, e.g. '{{.peername}}-asset:7052' [default: --address].
    #[arg(long, value_name = "HOST:PORT")]
    pub address_template: Option<String>,
    /// Seconds a rollout may make no progress before it fails (the Deployments'
    /// progressDeadlineSeconds).
    #[arg(long, value_name = "SECONDS", default_value_t = ccaas_deploy::render::DEFAULT_PROGRESS_DEADLINE)]
    pub progress_deadline: u32,
    /// The package's address is served elsewhere (another Service, an ingress, a server outside
    /// Kubernetes): do not require it to be the Service rendered here (same name and port in the
    /// same namespace, or name.namespace.svc[.cluster.local]).
    #[arg(long)]
    pub external_address: bool,
}

impl WorkloadArgs {
    pub fn workload(&self) -> Result<ccaas_deploy::render::Workload, Error> {
        use ccaas_deploy::render::{Resources, Tls, Workload};
        let (package_id, address) = match &self.package_id {
            Some(id) => (id.clone(), None),
            None if self.package.is_given() => {
                let p = self.package.load()?;
                let address = match &self.package.address {
                    Some(a) => Some(a.clone()),
                    None => ccaas_package::inspect(&p.bytes).ok().and_then(|r| r.connection).map(|c| c.address),
                };
                (p.package_id, address)
            }
            None => {
                return Err(Error::Config(
                    "no package ID: give --package-id, a package file, or --label and --address".into(),
                ))
            }
        };
        let tls = match (&self.tls_cert, &self.tls_key, &self.tls_secret) {
            (Some(cert), Some(key), _) => {
                Some(Tls::Files { cert: cert.clone(), key: key.clone(), client_ca: self.tls_client_ca.clone() })
            }
            (_, _, Some(name)) => Some(Tls::Secret { name: name.clone(), client_auth: self.tls_client_auth }),
            _ => None,
        };
        let mut w = Workload::new(&self.name, &self.image, package_id);
        w.namespace = self.namespace.clone();
        w.digest = self.digest.clone();
        w.replicas = self.replicas;
        w.port = self.port;
        w.metrics_port = self.metrics_port;
        w.env = self.env.iter().cloned().collect();
        w.resources = Resources {
            requests: self.requests.iter().cloned().collect(),
            limits: self.limits.iter().cloned().collect(),
        };
        w.image_pull_secrets = self.image_pull_secrets.clone();
        w.node_selector = self.node_selector.iter().cloned().collect();
        w.tolerations = self.tolerations.clone();
        w.tls = tls;
        w.user = self.uid;
        w.per_peer = self.per_peer.clone();
        // The package's address names the per-peer servers; without them it is only checked.
        w.address_template = self
            .address_template
            .clone()
            .or_else(|| self.package.address.clone().filter(|_| !self.per_peer.is_empty()));
        w.progress_deadline_seconds = self.progress_deadline;
        // The package's address (or, with --package-id, the address template) must be the
        // Service rendered here, unless it is served elsewhere.
        if let Some(address) = address.or_else(|| w.address_template.clone()).filter(|_| !self.external_address) {
            ccaas_deploy::render::check_address(&w, &address, "--external-address")?;
        }
        Ok(w)
    }
}

#[derive(Args, Debug)]
pub struct Render {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// What to render.
    #[arg(long, value_enum, default_value_t = TargetArg::Kubernetes)]
    pub target: TargetArg,
}

#[derive(Args, Debug)]
pub struct Apply {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// What to apply.
    #[arg(long, value_enum, default_value_t = TargetArg::Kubernetes)]
    pub target: TargetArg,
    /// Print the manifests as YAML (or JSON with --output json) and change nothing; needs no cluster.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Apply and return without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
}

/// Which cluster.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// kubeconfig file [default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Take over objects of the same name that ccaas-deploy did not make (not labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy), e.g. a <name>-tls Secret of cert-manager.
    /// Without it, if one exists, the command changes nothing (up: not even the image or Fabric)
    /// and its error names each object, its owner and what to do (exit 2).
    #[arg(long)]
    pub force_conflicts: bool,
}

pub fn render(out: &Printer, a: &Render) -> anyhow::Result<u8> {
    let w = a.workload.workload()?;
    let manifests = render::render(&w, render_target(a.target))?;
    match out.output {
        Output::Text => print!("{}", render::to_yaml(&manifests)?),
        Output::Json => println!("{}", json!(manifests)),
    }
    Ok(0)
}

/// Exit code of `apply` when the rollout fails.
pub const EXIT_ROLLOUT_FAILED: u8 = 6;

fn render_target(t: TargetArg) -> RenderTarget {
    match t {
        TargetArg::Kubernetes => RenderTarget::Kubernetes,
        TargetArg::HlfOperator => RenderTarget::HlfOperator,
    }
}

/// Waits for the rollout `target` makes of `manifests` (the workload's Deployments, or what
/// hlf-operator makes of its FabricChaincode): until the command's deadline, less the time to
/// read why the pods are not ready; without one, the Deployment's progress deadline and 10 s.
pub(crate) async fn wait_rollout(
    client: &kube::Client,
    w: &render::Workload,
    names: &[String],
    manifests: &[serde_json::Value],
    target: RenderTarget,
    progress: &mut dyn FnMut(&str),
) -> Result<(), RolloutError> {
    let deadline = ccaas_deploy::deadline::remaining()
        .map(|r| r.saturating_sub(Duration::from_secs(2)))
        .unwrap_or(Duration::from_secs(u64::from(w.progress_deadline_seconds) + 10));
    match target {
        RenderTarget::Kubernetes => rollout::wait(client, &w.namespace, names, deadline, progress).await,
        RenderTarget::HlfOperator => ccaas_deploy::hlf::wait(client, manifests, deadline, progress).await,
    }
}

pub async fn apply(out: &Printer, a: &Apply) -> anyhow::Result<u8> {
    let w = a.workload.workload()?;
    let manifests = render::render(&w, render_target(a.target))?;
    if a.dry_run {
        match out.output {
            Output::Text => print!("{}", render::to_yaml(&manifests)?),
            Output::Json => println!("{}", json!(manifests)),
        }
        return Ok(0);
    }
    let started = Instant::now();
    let client = rollout::client(a.cluster.kubeconfig.as_deref()).await?;
    let mut progress = |l: &str| out.progress(l);
    let applied = rollout::apply(&client, &manifests, a.cluster.force_conflicts, &mut progress).await?;
    let names = w.server_names()?;
    if !a.no_wait {
        if let Err(e) = wait_rollout(&client, &w, &names, &manifests, render_target(a.target), &mut progress).await {
            if let RolloutError::Failed { .. } | RolloutError::Operator { .. } = e {
                eprintln!("error: {e}");
                out.failed(Kind::Rollout, e.to_string(), Vec::new());
                out.result(&[], json!({"applied": applied, "rolled_out": false, "error": e.to_string()}));
                return Ok(EXIT_ROLLOUT_FAILED);
            }
            return Err(e.into());
        }
    }
    out.result(
        &[format!(
            "{} in {}: {} ({:.1?})",
            names.join(", "),
            w.namespace,
            if a.no_wait { "applied" } else { "rolled out" },
            started.elapsed()
        )],
        json!({"applied": applied, "rolled_out": !a.no_wait, "seconds": started.elapsed().as_secs_f64()}),
    );
    Ok(0)
}
