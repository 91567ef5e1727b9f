//! Applying rendered manifests to a cluster and waiting for the rollout, as `kubectl apply
//! --server-side` and `kubectl rollout status` do.
//!
//! ccaas-deploy changes and deletes only its own objects: those labelled
//! `app.kubernetes.io/managed-by: ccaas-deploy` (every object [`crate::render`] makes carries the
//! label). [`apply`] first reads every object it is about to write; if one exists without the
//! label (a `<name>-tls` Secret made by cert-manager, another team's Service of the same name) it
//! changes nothing and fails with [`RolloutError::NotOurs`], which names each object, who seems
//! to own it and what to do. Otherwise it sends each manifest as a server-side apply with field
//! manager `ccaas-deploy`, forcing ownership of the fields it sets on its own objects. [`delete`]
//! deletes only its own objects (with the object's UID as a precondition, so an object replaced
//! meanwhile is not deleted) and reports the others it left. With `force_conflicts` both take
//! over, or delete, objects that are not theirs as well. [`wait`] follows each Deployment until its
//! controller has observed the new generation and every replica is updated and available, and
//! fails when the Deployment's progress deadline passes (its `Progressing` condition says
//! `ProgressDeadlineExceeded`) or the caller's deadline does; a failure names each pod's reason
//! (unschedulable, image pull, crash loop, readiness failing) from its status and events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::Value;

pub(crate) use super::rollout_error::{api_error, API_SERVER};
pub use super::rollout_error::{explain, Foreign, RolloutError};
use crate::render::{MANAGED_BY_LABEL, MANAGER};

/// Who owns `o` if not ccaas-deploy: `None` when it is labelled ours.
fn foreign_owner(o: &DynamicObject) -> Option<String> {
    match o.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)) {
        Some(v) if v == MANAGER => None,
        Some(v) => Some(format!("labelled {MANAGED_BY_LABEL}: {v}")),
        None => {
            let managers: BTreeSet<&str> =
                o.metadata.managed_fields.iter().flatten().filter_map(|f| f.manager.as_deref()).collect();
            Some(if managers.is_empty() {
                format!("no {MANAGED_BY_LABEL} label, no field manager recorded")
            } else {
                format!(
                    "no {MANAGED_BY_LABEL} label; written by field manager {}",
                    managers.into_iter().collect::<Vec<_>>().join(", ")
                )
            })
        }
    }
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
    // Every call has a deadline: 10 s to connect, 60 s to answer, or what is left of --timeout.
    let mut config = config;
    config.connect_timeout = Some(crate::deadline::limit(Duration::from_secs(10)));
    config.read_timeout = Some(crate::deadline::limit(Duration::from_secs(60)));
    config.write_timeout = Some(crate::deadline::limit(Duration::from_secs(60)));
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

/// An object [`apply`] is about to write, as read before.
struct Target<'a> {
    manifest: &'a Value,
    kind: String,
    namespace: String,
    name: String,
    api: Api<DynamicObject>,
    before: Option<DynamicObject>,
}

/// Reads every object `manifests` name; fails with [`RolloutError::NotOurs`] if any exists
/// without ccaas-deploy's label, unless `force_conflicts`.
async fn read_targets<'a>(
    client: &Client,
    manifests: &'a [Value],
    force_conflicts: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Target<'a>>, RolloutError> {
    let mut targets = Vec::new();
    let mut foreign = Vec::new();
    for m in manifests {
        let ar = resource(m)?;
        let namespace = m["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
        let name = m["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &ar);
        let before =
            api.get_opt(&name).await.map_err(|e| api_error(format!("reading {} {namespace}/{name}", ar.kind), e))?;
        if let Some(owner) = before.as_ref().and_then(foreign_owner) {
            let f = Foreign { kind: ar.kind.clone(), namespace: namespace.clone(), name: name.clone(), owner };
            if force_conflicts {
                progress(&format!("taking over {f}: --force-conflicts"));
            } else {
                foreign.push(f);
            }
        }
        targets.push(Target { manifest: m, kind: ar.kind, namespace, name, api, before });
    }
    if !foreign.is_empty() {
        return Err(RolloutError::NotOurs(foreign));
    }
    Ok(targets)
}

/// Checks, changing nothing, that [`apply`] would not fail with [`RolloutError::NotOurs`]:
/// `up` calls it before its first step, so such a conflict stops it before anything changed.
///
/// Each manifest is also applied as a server-side dry run (nothing is stored), so a missing
/// namespace, a permission the user lacks or an object the API server would refuse stops `up`
/// here too.
pub async fn check_ours(client: &Client, manifests: &[Value], force_conflicts: bool) -> Result<(), RolloutError> {
    let _waiting = crate::deadline::waiting(API_SERVER);
    for t in read_targets(client, manifests, force_conflicts, &mut |_| {}).await? {
        let params = PatchParams::apply(MANAGER).dry_run();
        let params = if t.before.is_some() { params.force() } else { params };
        t.api
            .patch(&t.name, &params, &Patch::Apply(t.manifest))
            .await
            .map_err(|e| api_error(format!("applying {} {}/{} (dry run)", t.kind, t.namespace, t.name), e))?;
    }
    Ok(())
}

/// Server-side applies `manifests` in order (field manager `ccaas-deploy`), after checking that
/// every object that already exists is labelled ccaas-deploy's (nothing is written otherwise);
/// with `force_conflicts`, objects that are not are taken over too (their conflicting fields and
/// the label become ccaas-deploy's).
pub async fn apply(
    client: &Client,
    manifests: &[Value],
    force_conflicts: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Applied>, RolloutError> {
    let _waiting = crate::deadline::waiting(API_SERVER);
    let mut out = Vec::new();
    for t in read_targets(client, manifests, force_conflicts, progress).await? {
        let (kind, ns, name) = (t.kind, t.namespace, t.name);
        // Forced only over an object read as ours (or forced): one created meanwhile by someone
        // else makes the apply conflict instead of being taken over.
        let params = if t.before.is_some() { PatchParams::apply(MANAGER).force() } else { PatchParams::apply(MANAGER) };
        let after = t
            .api
            .patch(&name, &params, &Patch::Apply(t.manifest))
            .await
            .map_err(|e| api_error(format!("applying {kind} {ns}/{name}"), e))?;
        let changed = t.before.as_ref().and_then(|b| b.metadata.resource_version.clone())
            != after.metadata.resource_version.clone();
        let verb = match (&t.before, changed) {
            (None, _) => "created",
            (Some(_), true) => "updated",
            (Some(_), false) => "unchanged",
        };
        progress(&format!("{verb} {kind} {ns}/{name}"));
        out.push(Applied { kind, namespace: ns, name, changed, generation: after.metadata.generation });
    }
    Ok(out)
}

/// What [`delete`] did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Deleted {
    /// The objects deleted, as `Kind namespace/name`.
    pub deleted: Vec<String>,
    /// The objects of the same kind and name that are not ccaas-deploy's, left in place.
    pub left: Vec<Foreign>,
}

/// Deletes the objects `manifests` name that are labelled ccaas-deploy's (all of them with
/// `force_conflicts`) and waits until each is gone; absent objects are fine, and objects that
/// are not ccaas-deploy's are left and returned in [`Deleted::left`].
pub async fn delete(
    client: &Client,
    manifests: &[Value],
    force_conflicts: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<Deleted, RolloutError> {
    let _waiting = crate::deadline::waiting(API_SERVER);
    let mut out = Deleted::default();
    for m in manifests.iter().rev() {
        let ar = resource(m)?;
        let ns = m["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let read = |e: kube::Error| api_error(format!("reading {} {ns}/{name}", ar.kind), e);
        let Some(existing) = api.get_opt(name).await.map_err(read)? else {
            progress(&format!("{} {ns}/{name} was not there", ar.kind));
            continue;
        };
        if let Some(owner) = foreign_owner(&existing) {
            let f = Foreign { kind: ar.kind.clone(), namespace: ns.into(), name: name.into(), owner };
            if !force_conflicts {
                out.left.push(f);
                continue;
            }
            progress(&format!("deleting {f}: --force-conflicts"));
        }
        // The UID read above as a precondition: an object replaced meanwhile is not deleted.
        let uid = existing.metadata.uid.clone();
        let params = DeleteParams {
            preconditions: Some(Preconditions { uid: uid.clone(), resource_version: None }),
            ..DeleteParams::foreground()
        };
        match api.delete(name, &params).await {
            Ok(_) => {
                // Foreground deletion: the object goes once its pods (or other dependents) have.
                let deadline = Instant::now() + Duration::from_secs(120);
                let mut said = false;
                while api.get_opt(name).await.map_err(read)?.is_some_and(|o| o.metadata.uid == uid) {
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
                out.deleted.push(format!("{} {ns}/{name}", ar.kind));
            }
            Err(kube::Error::Api(s)) if s.code == 404 => progress(&format!("{} {ns}/{name} was not there", ar.kind)),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                return Err(RolloutError::Api {
                    what: format!("deleting {} {ns}/{name}", ar.kind),
                    cause: format!("it was replaced after it was read ({}); run the command again", s.message),
                })
            }
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

/// The end of a terminated container's message, as `, its log ending in: ...`: its
/// termination-message file, or with `terminationMessagePolicy: FallbackToLogsOnError` (which
/// `render` sets) the end of its log, where a chaincode that stops at startup says why (a missing
/// variable, an unreadable file, TLS asked of a build without the `tls` feature). The last three
/// lines, at most 400 characters.
fn last_words(message: Option<&str>) -> String {
    let lines: Vec<&str> = message.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let text = lines[lines.len().saturating_sub(3)..].join(" / ");
    let chars = text.chars().count();
    let text: String = if chars > 400 { "...".chars().chain(text.chars().skip(chars - 400)).collect() } else { text };
    format!(", its log ending in: {text}")
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
                    text.push_str(&last_words(t.message.as_deref()));
                }
            }
            why.push(text);
        } else if let Some(t) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()) {
            why.push(format!(
                "container {} terminated: {} (exit code {}){}",
                cs.name,
                t.reason.clone().unwrap_or_default(),
                t.exit_code,
                last_words(t.message.as_deref())
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
    let _waiting = crate::deadline::waiting(&format!("the rollout of {} in {ns}", names.join(", ")));
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

#[cfg(test)]
mod tests {
    use super::last_words;

    #[test]
    fn last_words_are_the_last_three_lines_bounded() {
        assert_eq!(last_words(None), "");
        assert_eq!(last_words(Some(" \n\n")), "");
        let log = "starting\nreading config\n\nerror: CHAINCODE_ID is not set\n  hint: set it\n";
        assert_eq!(
            last_words(Some(log)),
            ", its log ending in: reading config / error: CHAINCODE_ID is not set / hint: set it"
        );
        let long = format!("{}é", "x".repeat(500));
        let words = last_words(Some(&long));
        assert!(words.starts_with(", its log ending in: ...x") && words.ends_with('é'), "{words}");
        assert_eq!(words.chars().count(), ", its log ending in: ...".len() + 400);
    }
}
