//! The hlf-operator rollout target: `up` applies a `FabricChaincode`
//! (`hlf.kungfusoftware.es/v1alpha1`, as [`crate::render`] makes it with
//! [`RenderTarget::HlfOperator`]) and waits for what
//! hlf-operator's controller makes of it; `down` deletes it and waits for what the operator made
//! to go.
//!
//! # What the operator does with a `FabricChaincode`
//!
//! Read from its controller (`controllers/chaincode/deploy/chaincode_deploy_controller.go` of
//! github.com/hyperledger-labs/hlf-operator); on every change of the resource it:
//!
//! * adds its finalizer `finalizer.chaincode.hlf.kungfusoftware.es`; when the resource is
//!   deleted it deletes the Deployment, the Service and the Secret `<name>-certs` it made, then
//!   removes the finalizer, so the resource goes only after them (and only while the operator
//!   runs);
//! * makes (or replaces the spec of) a **Deployment named after the resource**, labelled and
//!   selected by `app: fabric-chaincode`, `chaincode: <name>`, plus `spec.podLabels` (the
//!   controller adds those to the same map, so they end up in the Deployment's labels, its
//!   selector and the Service's selector too: they cannot change once the Deployment exists,
//!   whose selector is immutable); `spec.annotations` become the Deployment's annotations,
//!   `spec.podAnnotations` the pod template's; `spec.replicas` the replicas; strategy
//!   `RollingUpdate` with Kubernetes' defaults (25 % surge and unavailable) and **no
//!   progressDeadlineSeconds** (Kubernetes' default, 600 s);
//! * one container `chaincode` with `spec.image`, `spec.imagePullPolicy`, `spec.resources`,
//!   `spec.securityContext`, `spec.command`/`spec.args`, **no declared ports**, and TCP
//!   readiness and liveness probes on `spec.chaincodeServerPort` (5 s initial delay, every 5 s,
//!   3 failures); the pod gets `spec.imagePullSecrets`, `spec.nodeSelector`,
//!   `spec.tolerations`, `spec.affinity`, `spec.podSecurityContext`,
//!   `spec.serviceAccountName` and `spec.enableServiceLinks`;
//! * the environment `CHAINCODE_ID` and `CORE_CHAINCODE_ID` (the package ID),
//!   `CHAINCODE_SERVER_ADDRESS` and `CORE_CHAINCODE_ADDRESS` (`0.0.0.0:<chaincodeServerPort>`),
//!   the TLS variables below, then `spec.env` (ccaas-deploy adds `CORE_CHAINCODE_ID_NAME`, which
//!   contract-api servers read and the operator does not set);
//! * TLS only from `spec.credentials`, a Fabric CA enrollment (CA host, port, name, TLS CA,
//!   enrollment ID and secret, CSR hosts; the CRD's `credentials.external` is not read by the
//!   controller): it enrolls a TLS certificate into the Secret `<name>-certs` (`tls.crt`,
//!   `tls.key`, `tlsroot.crt`, renewed 7 days before expiry), mounts it at `/config/certs` and
//!   sets `CHAINCODE_TLS_DISABLED=false`, `CORE_PEER_TLS_ENABLED=true` and the certificate, key
//!   and client CA variables, so the server then requires client certificates of that CA.
//!   Without credentials it sets `CHAINCODE_TLS_DISABLED=true` and `CORE_PEER_TLS_ENABLED=false`;
//! * a **ClusterIP Service named after the resource, on port 7052 to target port 7052** whatever
//!   `chaincodeServerPort` says (so the package's address is `<name>:7052` and the server must
//!   listen on 7052);
//! * its result in the resource's status: `status.status` `RUNNING` with a `RUNNING` condition
//!   `True` when the Deployment and Service were written, else `FAILED` with the error in
//!   `status.message` and a `FAILED` condition. The reconcile that creates the Service marks the
//!   resource `FAILED` with no message, and the next one `RUNNING`: a `FAILED` without a message
//!   (empty or blank) is a step, not a failure; so is one whose error passes (a conflict when
//!   it updates its Deployment while the Deployment controller writes its status): its status
//!   write makes it reconcile again. It records no observed generation. (On
//!   Kubernetes 1.20, which refuses empty strings in a custom resource, its status writes with
//!   an empty message fail, and the status stays empty: `up` then times out naming it.)
//!
//! # What `up` sets, and what it refuses
//!
//! The `FabricChaincode` carries the image pinned by digest (`repository@sha256:...` when `up`
//! pushed it or `image.digest` names it), the package ID, replicas, `kubernetes.env`,
//! `resources`, `image_pull_secrets`, `node_selector` and `tolerations`, a non-root security
//! context (`kubernetes.user`), ccaas-deploy's labels as `labels` and `podLabels`, and as
//! `podAnnotations` the package ID and [`SPEC_DIGEST_ANNOTATION`], a digest of the spec without
//! its replicas. The operator copies the pod annotations into its Deployment, so `up` knows
//! that the Deployment it watches was made from the spec it applied: it waits for that
//! Deployment, then for its rollout as for the Kubernetes target (every replica updated and
//! available, each pod's reason on failure), and for the resource's status to say `RUNNING`.
//! A `FAILED` status with a message that lasts [`FAILED_GRACE`] fails `up` (exit 6) with the
//! operator's message. The resource is applied server-side with field manager `ccaas-deploy`,
//! so fields that other managers set (e.g. `spec.credentials` added with `kubectl patch`) stay.
//!
//! Refused, with a sentence naming the setting ([`check_config`], and [`crate::render`]):
//! `kubernetes.port` other than 7052 (the operator's Service always targets 7052),
//! `kubernetes.tls` (the operator takes TLS only from a Fabric CA enrollment) and
//! `kubernetes.progress_deadline_seconds` (the operator's Deployment has none; `--timeout`
//! bounds how long `up` waits, 130 s by default). A Deployment of the resource's name that the
//! operator did not make for it (e.g. one of the Kubernetes target) is refused before anything
//! changes ([`check_deployments`]): the operator would try to replace it and fail on its
//! immutable selector.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Client;
use serde_json::Value;

pub use crate::render::{spec_digest, SPEC_DIGEST_ANNOTATION};
use crate::render::{RenderTarget, DEFAULT_PORT};
use crate::rollout::{self, api_error, Deleted, RolloutError};
use crate::up::UpConfig;
use crate::Error;

/// How long a `FAILED` status with a message may last before [`wait`] takes it as the
/// operator's verdict: the operator reconciles again right after writing it, and a passing
/// error (a conflict) then turns into `RUNNING`.
pub const FAILED_GRACE: Duration = Duration::from_secs(5);

/// Refuses, with the setting's name, what the hlf-operator target cannot express (nothing for
/// the Kubernetes target).
pub fn check_config(c: &UpConfig) -> Result<(), Error> {
    if c.target() != RenderTarget::HlfOperator {
        return Ok(());
    }
    let k = &c.kubernetes;
    if k.port.is_some_and(|p| p != DEFAULT_PORT) {
        return Err(Error::Config(format!(
            "kubernetes.port {} with kubernetes.target hlf-operator: the operator's Service always targets port \
             7052, whatever chaincodeServerPort says; remove kubernetes.port (the server then listens on 7052)",
            k.port.unwrap_or_default()
        )));
    }
    if k.tls.is_some() {
        return Err(Error::Config(
            "kubernetes.tls with kubernetes.target hlf-operator: the operator serves TLS only with a certificate it \
             enrolls from a Fabric CA (the FabricChaincode's spec.credentials), not from files or a Secret; remove \
             kubernetes.tls, and add spec.credentials with kubectl (up leaves fields it does not set), or use \
             kubernetes.target kubernetes"
                .into(),
        ));
    }
    if k.progress_deadline_seconds.is_some() {
        return Err(Error::Config(
            "kubernetes.progress_deadline_seconds with kubernetes.target hlf-operator: the operator's Deployment has \
             no progress deadline of ours (Kubernetes' default, 600 s, applies); remove it, and bound how long up \
             waits with --timeout"
                .into(),
        ));
    }
    Ok(())
}

fn fabric_chaincodes(client: &Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("hlf.kungfusoftware.es", "v1alpha1", "FabricChaincode");
    Api::namespaced_with(client.clone(), ns, &ApiResource::from_gvk_with_plural(&gvk, "fabricchaincodes"))
}

fn meta(m: &Value) -> (String, String) {
    let ns = m["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
    (ns, m["metadata"]["name"].as_str().unwrap_or_default().to_string())
}

/// The operator's labels for the objects it makes for `name`.
fn operator_selector(name: &str) -> String {
    format!("app=fabric-chaincode,chaincode={name}")
}

/// Fails when a Deployment named like one of the `FabricChaincode`s exists and was not made by
/// the operator for it (without its `app: fabric-chaincode`, `chaincode: <name>` labels).
pub async fn check_deployments(client: &Client, manifests: &[Value]) -> Result<(), RolloutError> {
    for m in manifests {
        let (ns, name) = meta(m);
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let Some(d) =
            deployments.get_opt(&name).await.map_err(|e| api_error(format!("reading Deployment {ns}/{name}"), e))?
        else {
            continue;
        };
        let labels = d.metadata.labels.unwrap_or_default();
        let operators =
            labels.get("app").map(String::as_str) == Some("fabric-chaincode") && labels.get("chaincode") == Some(&name);
        if !operators {
            let whose = match labels.get(crate::render::MANAGED_BY_LABEL) {
                Some(v) if v == crate::render::MANAGER => {
                    "ccaas-deploy's, from the Kubernetes target: remove it with `ccaas-deploy down --target kubernetes`"
                        .to_string()
                }
                _ => format!(
                    "not the operator's: delete it if nothing needs it (kubectl delete -n {ns} deployment/{name})"
                ),
            };
            return Err(RolloutError::Api {
                what: format!("Deployment {ns}/{name} is in the way of FabricChaincode {ns}/{name}"),
                cause: format!(
                    "hlf-operator would try to replace it and fail (a Deployment's selector cannot change); it is \
                     {whose}, or choose another chaincode.name; nothing was changed"
                ),
            });
        }
    }
    Ok(())
}

/// The resource's `status.status` and `status.message` (trimmed; empty when absent).
fn status_of(fc: &DynamicObject) -> (String, String) {
    let s = &fc.data["status"];
    (s["status"].as_str().unwrap_or_default().to_string(), s["message"].as_str().unwrap_or_default().trim().to_string())
}

/// Waits, for each `FabricChaincode` in `manifests`, until the operator has made its Deployment
/// from the applied spec, the Deployment has rolled out ([`rollout::wait`]: every replica
/// updated and available; each pod's reason on failure) and the resource's status says
/// `RUNNING`. Fails with [`RolloutError::Operator`] when the operator reports `FAILED` with a
/// message for [`FAILED_GRACE`] at any point (during the rollout too) or does nothing in time,
/// with [`RolloutError::Failed`] when the rollout fails, and once `deadline` has passed.
pub async fn wait(
    client: &Client,
    manifests: &[Value],
    deadline: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<(), RolloutError> {
    let started = Instant::now();
    for m in manifests {
        let (ns, name) = meta(m);
        let digest = m["spec"]["podAnnotations"][SPEC_DIGEST_ANNOTATION].as_str().unwrap_or_default().to_string();
        let replicas = m["spec"]["replicas"].as_i64().unwrap_or(1) as i32;
        let fcs = fabric_chaincodes(client, &ns);
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let failed = |why: String| RolloutError::Operator { namespace: ns.clone(), name: name.clone(), why };
        let mut last = String::new();
        // Since when the operator has said FAILED with a message.
        let mut failing: Option<Instant> = None;
        // 1. The operator's Deployment, made from this spec.
        loop {
            let read = |e| api_error(format!("reading FabricChaincode {ns}/{name}"), e);
            let fc =
                fcs.get_opt(&name).await.map_err(read)?.ok_or_else(|| failed("it was deleted meanwhile".into()))?;
            let (status, message) = status_of(&fc);
            if let Some(why) = lasting_failure(&mut failing, &status, &message) {
                return Err(failed(why));
            }
            let d = deployments
                .get_opt(&name)
                .await
                .map_err(|e| api_error(format!("reading Deployment {ns}/{name}"), e))?;
            let made = d.as_ref().and_then(|d| {
                let spec = d.spec.as_ref()?;
                let annotations = spec.template.metadata.as_ref()?.annotations.as_ref()?;
                Some(annotations.get(SPEC_DIGEST_ANNOTATION) == Some(&digest) && spec.replicas == Some(replicas))
            });
            // While the operator says FAILED, its Deployment is not taken as its answer.
            let line = match made {
                Some(true) if failing.is_none() => {
                    progress(&format!("hlf-operator made Deployment {ns}/{name} from FabricChaincode {ns}/{name}"));
                    break;
                }
                _ if failing.is_some() => format!("hlf-operator reports FAILED: {message}; waiting for its retry"),
                Some(_) => format!("waiting for hlf-operator to update Deployment {ns}/{name} to this spec"),
                None => format!("waiting for hlf-operator to make Deployment {ns}/{name}"),
            };
            if line != last {
                progress(&line);
                last = line;
            }
            if started.elapsed() >= deadline {
                let noticed = if fc.metadata.finalizers.iter().flatten().any(|f| f.contains("kungfusoftware")) {
                    format!("its status is '{status}'")
                } else {
                    format!("it has no finalizer and no status: is hlf-operator running and watching namespace {ns}?")
                };
                return Err(failed(format!("{last} after {}s; {noticed}", deadline.as_secs())));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // 2. Its rollout, as for the Kubernetes target, unless the operator fails meanwhile
        //    (its message names the cause; pods that never get ready would only show it).
        let left = deadline.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
        tokio::select! {
            rolled = rollout::wait(client, &ns, std::slice::from_ref(&name), left, progress) => rolled?,
            verdict = operator_failure(&fcs, &ns, &name) => return Err(verdict),
        }
        // 3. The operator's word.
        failing = None;
        loop {
            let read = |e| api_error(format!("reading FabricChaincode {ns}/{name}"), e);
            let fc =
                fcs.get_opt(&name).await.map_err(read)?.ok_or_else(|| failed("it was deleted meanwhile".into()))?;
            match status_of(&fc) {
                (s, _) if s == "RUNNING" => {
                    progress(&format!("FabricChaincode {ns}/{name} is RUNNING"));
                    break;
                }
                (s, m)
                    if s == "FAILED"
                        && !m.is_empty()
                        && failing.get_or_insert_with(Instant::now).elapsed() >= FAILED_GRACE =>
                {
                    return Err(failed(format!("hlf-operator reports FAILED: {m}")))
                }
                (s, _) if started.elapsed() >= deadline => {
                    return Err(failed(format!(
                        "its Deployment rolled out, but its status is '{s}', not RUNNING, after {}s",
                        deadline.as_secs()
                    )))
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
    Ok(())
}

/// Returns once the operator has said `FAILED` with a message for [`FAILED_GRACE`] (or the
/// resource is gone, or cannot be read); polls until then.
async fn operator_failure(fcs: &Api<DynamicObject>, ns: &str, name: &str) -> RolloutError {
    let failed = |why: String| RolloutError::Operator { namespace: ns.to_string(), name: name.to_string(), why };
    let mut failing: Option<Instant> = None;
    loop {
        let fc = match fcs.get_opt(name).await {
            Ok(Some(fc)) => fc,
            Ok(None) => return failed("it was deleted meanwhile".into()),
            Err(e) => return api_error(format!("reading FabricChaincode {ns}/{name}"), e),
        };
        let (status, message) = status_of(&fc);
        if let Some(why) = lasting_failure(&mut failing, &status, &message) {
            return failed(why);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Keeps in `failing` since when the operator has said `FAILED` with a message (any other status
/// clears it); the failure, once that has lasted [`FAILED_GRACE`].
fn lasting_failure(failing: &mut Option<Instant>, status: &str, message: &str) -> Option<String> {
    if status != "FAILED" || message.is_empty() {
        *failing = None;
        return None;
    }
    (failing.get_or_insert_with(Instant::now).elapsed() >= FAILED_GRACE)
        .then(|| format!("hlf-operator reports FAILED: {message}"))
}

/// Deletes the `FabricChaincode`s of `manifests` that are ccaas-deploy's (all with
/// `force_conflicts`; see [`rollout::delete`]: each is gone once the operator's finalizer has
/// deleted its Deployment, Service and TLS Secret), then waits until the operator's Deployment
/// and Service and their pods are gone too; those are added to [`Deleted::deleted`].
pub async fn delete(
    client: &Client,
    manifests: &[Value],
    force_conflicts: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<Deleted, RolloutError> {
    let mut done = rollout::delete(client, manifests, force_conflicts, progress).await?;
    for m in manifests {
        let (ns, name) = meta(m);
        if !done.deleted.contains(&format!("FabricChaincode {ns}/{name}")) {
            continue;
        }
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let services: Api<Service> = Api::namespaced(client.clone(), &ns);
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let until = Instant::now() + Duration::from_secs(120);
        let mut said = false;
        loop {
            let mut there = BTreeMap::new();
            let read = |what: &str, e| api_error(format!("reading {what} {ns}/{name}"), e);
            if deployments.get_opt(&name).await.map_err(|e| read("Deployment", e))?.is_some() {
                there.insert("Deployment", 1);
            }
            if services.get_opt(&name).await.map_err(|e| read("Service", e))?.is_some() {
                there.insert("Service", 1);
            }
            let list = pods
                .list(&ListParams::default().labels(&operator_selector(&name)))
                .await
                .map_err(|e| read("pods of", e))?;
            if !list.items.is_empty() {
                there.insert("pods", list.items.len());
            }
            if there.is_empty() {
                break;
            }
            if Instant::now() > until {
                return Err(RolloutError::Api {
                    what: format!("deleting FabricChaincode {ns}/{name}"),
                    cause: format!(
                        "the operator's {} still there after 120 s (kubectl get -n {ns} deployment,service,pods)",
                        there.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            if !said {
                progress(&format!("waiting for hlf-operator's Deployment {ns}/{name}, its Service and pods to go"));
                said = true;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        progress(&format!("hlf-operator's Deployment {ns}/{name} and Service {ns}/{name} are gone"));
        done.deleted.push(format!("Deployment {ns}/{name} and Service {ns}/{name} (by hlf-operator)"));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_spec_digest_ignores_replicas_and_itself() {
        let spec =
            json!({"image": "r/a@sha256:00", "replicas": 1, "podAnnotations": {"fabric-ccaas/package-id": "a:1"}});
        let d = spec_digest(&spec);
        let mut more = spec.clone();
        more["replicas"] = json!(3);
        more["podAnnotations"][SPEC_DIGEST_ANNOTATION] = json!(d);
        assert_eq!(spec_digest(&more), d);
        more["env"] = json!([{"name": "RUST_LOG", "value": "info"}]);
        assert_ne!(spec_digest(&more), d);
    }
}
