//! `status`: its flags, and what it shows.

use std::path::PathBuf;

use ccaas_deploy::lifecycle::Session;
use ccaas_deploy::up::UpConfig;
use ccaas_deploy::{rollout, status, Error, Kind};
use clap::Args;
use serde_json::json;

use super::connection::ConnectionArgs;
use super::output::Printer;

pub const STATUS_HELP: &str =
    "Drift (exit 7), each with what to run: a package the organization approved (at the committed
or the next sequence) that one of its peers does not have; pods serving a package it does not
approve at the committed sequence (or one approved at the next sequence, waiting for the commit);
a Deployment with no ready pod, or none for the approved package; an approved package whose
address (connection.json) is not a Service of the chaincode (name, name.namespace or
name.namespace.svc[.domain], with the Service's port).

Kubernetes: the Deployments, pods and Services labelled app.kubernetes.io/name=<name> and
app.kubernetes.io/managed-by=ccaas-deploy in the namespace (--namespace, or kubernetes.namespace
of -f, else default), read with --kubeconfig, kubernetes.kubeconfig of -f, $KUBECONFIG or
~/.kube/config.

Examples:
  ccaas-deploy status -n basic
  ccaas-deploy status -f ccaas-deploy.yaml --output json
  ccaas-deploy status -n basic --namespace fabric";

/// `status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Chaincode name [default: chaincode.name of --file].
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    /// An up config file (ccaas-deploy.yaml): the chaincode's name, its Kubernetes settings and
    /// the fabric section, as `up` reads them; turns on the Kubernetes view.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Namespace of the chaincode's servers; turns on the Kubernetes view.
    #[arg(long)]
    pub namespace: Option<String>,
    /// kubeconfig file; turns on the Kubernetes view.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Exit code: `status` found drift.
pub const EXIT_DRIFT: u8 = 7;

pub async fn run(out: &Printer, a: &StatusArgs, file: Option<&UpConfig>, session: &Session) -> anyhow::Result<u8> {
    let name = match (&a.name, file) {
        (Some(n), _) => n.clone(),
        (None, Some(c)) => c.chaincode.name.clone(),
        (None, None) => anyhow::bail!(Error::Config(
            "status needs the chaincode's name: give -n NAME, or -f with the up config file".into()
        )),
    };
    let mut st = status::fabric(session, &name).await?;
    if a.file.is_some() || a.namespace.is_some() || a.kubeconfig.is_some() {
        let k = file.map(|c| &c.kubernetes);
        let namespace =
            a.namespace.clone().or_else(|| k.and_then(|k| k.namespace.clone())).unwrap_or_else(|| "default".into());
        let kubeconfig = a.kubeconfig.clone().or_else(|| k.and_then(|k| k.kubeconfig.clone()));
        let client = rollout::client(kubeconfig.as_deref()).await?;
        st.kubernetes = Some(status::kubernetes(&client, &namespace, &name).await?);
    }
    let drift = st.drift(a.file.as_deref());
    let mut text = st.lines();
    if drift.is_empty() {
        text.push("consistent: nothing to do".into());
    }
    text.extend(drift.iter().map(|d| format!("drift: {}", d.message)));
    let mut value = serde_json::to_value(&st)?;
    value["drift"] = json!(drift);
    value["consistent"] = json!(drift.is_empty());
    out.result(&text, value);
    if drift.is_empty() {
        return Ok(0);
    }
    let found = drift.iter().map(|d| d.message.as_str()).collect::<Vec<_>>();
    out.failed(Kind::Drift, format!("drift: {}", found.join("; ")), Vec::new());
    Ok(EXIT_DRIFT)
}
