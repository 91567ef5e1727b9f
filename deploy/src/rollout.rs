//! Applying rendered manifests to a cluster and waiting for the rollout, as `kubectl apply
//! --server-side` and `kubectl rollout status` do.
//!
//! [`apply`] sends each manifest as a server-side apply with field manager `ccaas-deploy`
//! (forcing ownership of the fields it sets). [`wait`] follows each Deployment until its
//! controller has observed the new generation and every replica is updated and available, and
//! fails when the Deployment's progress deadline passes (its `Progressing` condition says
//! `ProgressDeadlineExceeded`) or the caller's deadline does; a failure names each pod's reason
//! (unschedulable, image pull, crash loop, readiness failing) from its status and events.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::Value;

use crate::render::MANAGER;

/// A failure to apply or to roll out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// No usable cluster configuration.
    #[error("no Kubernetes cluster to talk to: {0}")]
    Config(String),
    /// The API server refused or could not be reached.
    #[error("{what}: {cause}")]
    Api {
        /// What was being done.
        what: String,
        /// The API server's answer.
        cause: String,
    },
    /// The rollout did not complete.
    #[error("deployment {namespace}/{name} did not roll out: {why}{}", pods_text(.pods))]
    Failed {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
        /// Why (deadline, condition).
        why: String,
        /// Each pod's reason, by pod name.
        pods: BTreeMap<String, String>,
    },
}

fn pods_text(pods: &BTreeMap<String, String>) -> String {
    if pods.is_empty() {
        return "; no pods were created (check the ReplicaSet's events: quota, admission, service account)".into();
    }
    pods.iter().map(|(p, r)| format!("\n  pod {p}: {r}")).collect()
}

fn api_error(what: impl Into<String>, e: kube::Error) -> RolloutError {
    RolloutError::Api { what: what.into(), cause: e.to_string() }
}

/// A client from `kubeconfig` (a file), else `$KUBECONFIG`, `~/.kube/config` or the in-cluster
/// service account, as kubectl finds them.
pub async fn client(kubeconfig: Option<&Path>) -> Result<Client, RolloutError> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| RolloutError::Config(format!("cannot read kubeconfig {}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|e| RolloutError::Config(format!("kubeconfig {}: {e}", path.display())))?
        }
        None => Config::infer().await.map_err(|e| {
            RolloutError::Config(format!("{e}; give --kubeconfig FILE, set KUBECONFIG, or run inside a cluster"))
        })?,
    };
    Client::try_from(config).map_err(|e| RolloutError::Config(format!("cannot make a Kubernetes client: {e}")))
}

/// The API resource of a rendered manifest (the kinds [`crate::render`] makes).
fn resource(m: &Value) -> Result<ApiResource, RolloutError> {
    let api_version = m["apiVersion"].as_str().unwrap_or_default();
    let kind = m["kind"].as_str().unwrap_or_default();
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let plural = match kind {
        "Deployment" => "deployments",
        "Service" => "services",
        "Secret" => "secrets",
        "FabricChaincode" => "fabricchaincodes",
        other => return Err(RolloutError::Config(format!("cannot apply a {other}: not a kind ccaas-deploy renders"))),
    };
    Ok(ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural))
}

/// One applied object.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Applied {
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Whether the apply changed the object (its resourceVersion moved).
    pub changed: bool,
    /// `metadata.generation` after the apply (Deployments: what [`wait`] waits for).
    pub generation: Option<i64>,
}

/// Server-side applies `manifests` in order (field manager `ccaas-deploy`, forced).
pub async fn apply(
    client: &Client,
    manifests: &[Value],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Applied>, RolloutError> {
    let mut out = Vec::new();
    for m in manifests {
        let ar = resource(m)?;
        let ns = m["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let what = format!("applying {} {ns}/{name}", ar.kind);
        let before = api.get_opt(name).await.map_err(|e| api_error(what.clone(), e))?;
        let after = api
            .patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(m))
            .await
            .map_err(|e| api_error(what.clone(), e))?;
        let changed = before.as_ref().and_then(|b| b.metadata.resource_version.clone())
            != after.metadata.resource_version.clone();
        progress(&format!(
            "{} {} {ns}/{name}",
            if before.is_none() {
                "created"
            } else if changed {
                "updated"
            } else {
                "unchanged"
            },
            ar.kind
        ));
        out.push(Applied {
            kind: ar.kind.clone(),
            namespace: ns.into(),
            name: name.into(),
            changed,
            generation: after.metadata.generation,
        });
    }
    Ok(out)
}

/// Deletes what `manifests` name and waits until each is gone (absent objects are fine);
/// returns what was deleted.
pub async fn delete(
    client: &Client,
    manifests: &[Value],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<String>, RolloutError> {
    let mut out = Vec::new();
    for m in manifests.iter().rev() {
        let ar = resource(m)?;
        let ns = m["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        match api.delete(name, &DeleteParams::foreground()).await {
            Ok(_) => {
                // Foreground deletion: the object goes once its pods (or other dependents) have.
                let deadline = Instant::now() + Duration::from_secs(120);
                let mut said = false;
                while api
                    .get_opt(name)
                    .await
                    .map_err(|e| api_error(format!("reading {} {ns}/{name}", ar.kind), e))?
                    .is_some()
                {
                    if Instant::now() > deadline {
                        return Err(RolloutError::Api {
                            what: format!("deleting {} {ns}/{name}", ar.kind),
                            cause: "still there after 120 s (its pods may be stuck terminating: see kubectl get pods)"
                                .into(),
                        });
                    }
                    if !said {
                        progress(&format!("waiting for {} {ns}/{name} and its pods to go", ar.kind));
                        said = true;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                progress(&format!("deleted {} {ns}/{name}", ar.kind));
                out.push(format!("{} {ns}/{name}", ar.kind));
            }
            Err(kube::Error::Api(s)) if s.code == 404 => progress(&format!("{} {ns}/{name} was not there", ar.kind)),
            Err(e) => return Err(api_error(format!("deleting {} {ns}/{name}", ar.kind), e)),
        }
    }
    Ok(out)
}

/// Where a Deployment's rollout stands, in `kubectl rollout status`'s words; `None`: done.
fn status_line(d: &Deployment) -> Result<Option<String>, String> {
    let name = d.metadata.name.clone().unwrap_or_default();
    let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    if d.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return Ok(Some(format!("waiting for deployment {name} spec update to be observed")));
    }
    if let Some(c) = st.conditions.as_ref().and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing")) {
        if c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return Err(format!("its progress deadline passed ({})", c.message.clone().unwrap_or_default()));
        }
    }
    let updated = st.updated_replicas.unwrap_or(0);
    let replicas = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < spec_replicas {
        return Ok(Some(format!(
            "waiting for deployment {name} rollout to finish: {updated} out of {spec_replicas} new replicas have been updated"
        )));
    }
    if replicas > updated {
        return Ok(Some(format!(
            "waiting for deployment {name} rollout to finish: {} old replicas are pending termination",
            replicas - updated
        )));
    }
    if available < updated {
        return Ok(Some(format!(
            "waiting for deployment {name} rollout to finish: {available} of {updated} updated replicas are available"
        )));
    }
    Ok(None)
}

/// Why a pod is not ready, from its status and its latest warning event.
pub fn pod_reason(pod: &Pod, events: &[Event]) -> String {
    let st = pod.status.clone().unwrap_or_default();
    let mut why = Vec::new();
    for c in st.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" {
            why.push(format!(
                "unschedulable: {}",
                c.message.clone().unwrap_or_else(|| c.reason.clone().unwrap_or_default())
            ));
        }
    }
    for cs in st.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.clone().unwrap_or_default();
            let mut text = format!("container {} {reason}", cs.name);
            if let Some(m) = &w.message {
                text.push_str(&format!(": {m}"));
            }
            if reason == "CrashLoopBackOff" {
                if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
                    text.push_str(&format!(" (last exit code {}, restarts {})", t.exit_code, cs.restart_count));
                }
            }
            why.push(text);
        } else if let Some(t) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()) {
            why.push(format!(
                "container {} terminated: {} (exit code {})",
                cs.name,
                t.reason.clone().unwrap_or_default(),
                t.exit_code
            ));
        } else if !cs.ready {
            why.push(format!("container {} is running but readiness failing", cs.name));
        }
    }
    if why.is_empty() {
        why.push(format!("phase {}", st.phase.clone().unwrap_or_else(|| "Pending".into())));
    }
    if let Some(e) = events.iter().filter(|e| e.type_.as_deref() == Some("Warning")).max_by_key(|e| {
        e.last_timestamp.as_ref().map(|t| t.0.as_second()).or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
    }) {
        why.push(format!(
            "last event {}: {}",
            e.reason.clone().unwrap_or_default(),
            e.message.clone().unwrap_or_default().trim()
        ));
    }
    why.join("; ")
}

async fn pod_reasons(client: &Client, d: &Deployment) -> BTreeMap<String, String> {
    let ns = d.metadata.namespace.clone().unwrap_or_else(|| "default".into());
    let selector = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let mut out = BTreeMap::new();
    let Ok(list) = pods.list(&ListParams::default().labels(&selector)).await else { return out };
    for p in list.items {
        let name = p.metadata.name.clone().unwrap_or_default();
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if ready {
            continue;
        }
        let evs = events
            .list(&ListParams::default().fields(&format!("involvedObject.kind=Pod,involvedObject.name={name}")))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        out.insert(name, pod_reason(&p, &evs));
    }
    out
}

/// Waits for each Deployment in `names` (namespace `ns`) to roll out, printing each change of
/// state; fails at the Deployment's progress deadline or when `deadline` has passed, naming
/// every pod that is not ready and why.
pub async fn wait(
    client: &Client,
    ns: &str,
    names: &[String],
    deadline: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<(), RolloutError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let started = Instant::now();
    for name in names {
        let mut last = String::new();
        loop {
            let d = api.get(name).await.map_err(|e| api_error(format!("reading deployment {ns}/{name}"), e))?;
            let failed =
                |why: String, pods| RolloutError::Failed { namespace: ns.into(), name: name.clone(), why, pods };
            match status_line(&d) {
                Ok(None) => {
                    progress(&format!("deployment {name} successfully rolled out"));
                    break;
                }
                Ok(Some(line)) => {
                    if line != last {
                        progress(&line);
                        last = line;
                    }
                }
                Err(why) => return Err(failed(why, pod_reasons(client, &d).await)),
            }
            if started.elapsed() >= deadline {
                let why = format!("not done after {}s ({last})", deadline.as_secs());
                return Err(failed(why, pod_reasons(client, &d).await));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(())
}
