//! A stand-in for hlf-operator's `FabricChaincode` controller
//! (`controllers/chaincode/deploy/chaincode_deploy_controller.go` of
//! github.com/hyperledger-labs/hlf-operator), doing what its source does, written anew from
//! reading it: each time a resource changes (its resourceVersion moves, which its own writes do
//! too, as controller-runtime's watch sees them) it reconciles it:
//!
//! * being deleted: deletes the Deployment and Service named after it and the Secret
//!   `<name>-certs`, then removes its finalizer; otherwise adds the finalizer;
//! * `spec.credentials` set: enrolling needs a Fabric CA, which the tests do not run, so it
//!   fails as the operator does when the CA cannot be reached (`FAILED`, "Failed to create
//!   chaincode crypto material");
//! * labels `app: fabric-chaincode`, `chaincode: <name>` plus `spec.podLabels` (one map, as in
//!   the source: the pod labels end up in the Deployment's labels and selector, and the
//!   Service's selector); the Deployment named after the resource with one container
//!   `chaincode` (no ports), the operator's environment then `spec.env`, TCP probes on
//!   `chaincodeServerPort`, and the pod settings of the spec; created, or its spec replaced
//!   (the metadata kept), as the source does;
//! * the Service named after the resource on port 7052 → 7052; the reconcile that creates it
//!   ends with status `FAILED` and no message (the source's quirk), the next with `RUNNING`;
//! * any error: `FAILED` with the error as message and reason.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Client;
use serde_json::{json, Value};

const FINALIZER: &str = "finalizer.chaincode.hlf.kungfusoftware.es";

pub struct OperatorSim {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OperatorSim {
    /// Reconciles every FabricChaincode of the cluster of `kubeconfig` until dropped.
    pub fn start(kubeconfig: &std::path::Path) -> OperatorSim {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let kubeconfig = kubeconfig.to_path_buf();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let client = ccaas_deploy::rollout::client(Some(&kubeconfig)).await.unwrap();
                let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource());
                let mut seen = BTreeMap::<String, String>::new();
                while !flag.load(Ordering::Relaxed) {
                    match all.list(&ListParams::default()).await {
                        Ok(list) => {
                            for fc in list.items {
                                let key =
                                    format!("{}/{}", fc.metadata.namespace.clone().unwrap_or_default(), name(&fc));
                                let rv = fc.metadata.resource_version.clone().unwrap_or_default();
                                if seen.get(&key) == Some(&rv) {
                                    continue;
                                }
                                seen.insert(key.clone(), rv);
                                if let Err(e) = reconcile(&client, fc).await {
                                    eprintln!("operator stand-in: {key}: {e}");
                                }
                            }
                        }
                        Err(e) => eprintln!("operator stand-in: {e}"),
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            });
        });
        OperatorSim { stop, thread: Some(thread) }
    }
}

impl Drop for OperatorSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk("hlf.kungfusoftware.es", "v1alpha1", "FabricChaincode");
    ApiResource::from_gvk_with_plural(&gvk, "fabricchaincodes")
}

fn name(fc: &DynamicObject) -> String {
    fc.metadata.name.clone().unwrap_or_default()
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

async fn reconcile(client: &Client, mut fc: DynamicObject) -> Result<(), kube::Error> {
    let ns = fc.metadata.namespace.clone().unwrap_or_else(|| "default".into());
    let name = name(&fc);
    let fcs: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource());
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let finalizers = fc.metadata.finalizers.clone().unwrap_or_default();
    if fc.metadata.deletion_timestamp.is_some() {
        if finalizers.iter().any(|f| f == FINALIZER) {
            let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
            for r in [
                deployments.delete(&name, &DeleteParams::default()).await.map(|_| ()),
                services.delete(&name, &DeleteParams::default()).await.map(|_| ()),
                secrets.delete(&format!("{name}-certs"), &DeleteParams::default()).await.map(|_| ()),
            ] {
                match r {
                    Err(e) if !not_found(&e) => return Err(e),
                    _ => {}
                }
            }
            fc.metadata.finalizers = Some(finalizers.into_iter().filter(|f| f != FINALIZER).collect());
            fcs.replace(&name, &PostParams::default(), &fc).await?;
        }
        return Ok(());
    }
    if !finalizers.iter().any(|f| f == FINALIZER) {
        fc.metadata.finalizers = Some(finalizers.into_iter().chain([FINALIZER.to_string()]).collect());
        fc = fcs.replace(&name, &PostParams::default(), &fc).await?;
    }
    let result = write_objects(&deployments, &services, &ns, &name, &fc.data["spec"]).await;
    let (status, ok, message) = match result {
        Ok(true) => ("RUNNING", true, String::new()),
        // The reconcile that created the Service.
        Ok(false) => ("FAILED", false, String::new()),
        Err(e) => ("FAILED", false, e),
    };
    set_status(&fcs, &fc, status, ok, &message).await
}

/// The Deployment and the Service; `Ok(false)` when the Service was created now.
async fn write_objects(
    deployments: &Api<Deployment>,
    services: &Api<Service>,
    ns: &str,
    name: &str,
    spec: &Value,
) -> Result<bool, String> {
    if !spec["credentials"].is_null() {
        return Err("Failed to create chaincode crypto material".into());
    }
    let mut labels = json!({"app": "fabric-chaincode", "chaincode": name});
    for (k, v) in spec["podLabels"].as_object().into_iter().flatten() {
        labels[k] = v.clone();
    }
    let port = spec["chaincodeServerPort"].as_i64().unwrap_or(7052);
    let address = format!("0.0.0.0:{port}");
    let mut env = vec![
        json!({"name": "CHAINCODE_ID", "value": spec["packageId"]}),
        json!({"name": "CORE_CHAINCODE_ID", "value": spec["packageId"]}),
        json!({"name": "CHAINCODE_SERVER_ADDRESS", "value": address}),
        json!({"name": "CORE_CHAINCODE_ADDRESS", "value": address}),
        json!({"name": "CHAINCODE_TLS_DISABLED", "value": "true"}),
        json!({"name": "CORE_PEER_TLS_ENABLED", "value": "false"}),
    ];
    env.extend(spec["env"].as_array().cloned().unwrap_or_default());
    let probe = json!({"tcpSocket": {"port": port}, "initialDelaySeconds": 5, "timeoutSeconds": 1,
        "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3});
    let mut container = json!({"name": "chaincode", "image": spec["image"], "imagePullPolicy": spec["imagePullPolicy"],
        "env": env, "livenessProbe": probe, "readinessProbe": probe, "securityContext": spec["securityContext"]});
    for k in ["resources", "command", "args"] {
        if !spec[k].is_null() {
            container[k] = spec[k].clone();
        }
    }
    let mut pod = json!({"containers": [container], "restartPolicy": "Always",
        "imagePullSecrets": spec["imagePullSecrets"], "affinity": spec["affinity"], "tolerations": spec["tolerations"],
        "nodeSelector": spec["nodeSelector"], "securityContext": spec["podSecurityContext"],
        "enableServiceLinks": spec["enableServiceLinks"].as_bool().unwrap_or(false)});
    if let Some(sa) = spec["serviceAccountName"].as_str().filter(|s| !s.is_empty()) {
        pod["serviceAccountName"] = json!(sa);
    }
    let wanted = json!({
        "replicas": spec["replicas"],
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels, "annotations": spec["podAnnotations"]}, "spec": pod},
        "strategy": {"type": "RollingUpdate"},
    });
    let text = |e: kube::Error| match e {
        kube::Error::Api(s) => s.message,
        e => e.to_string(),
    };
    match deployments.get_opt(name).await.map_err(text)? {
        None => {
            let d: Deployment = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": spec["annotations"]},
                "spec": wanted,
            }))
            .map_err(|e| e.to_string())?;
            deployments.create(&PostParams::default(), &d).await.map_err(text)?;
        }
        Some(mut d) => {
            d.spec = Some(serde_json::from_value(wanted).map_err(|e| e.to_string())?);
            deployments
                .replace(name, &PostParams::default(), &d)
                .await
                .map_err(|e| format!("failed to update the deployment: {}", text(e)))?;
        }
    }
    let service_spec = json!({
        "ports": [{"name": "chaincode", "protocol": "TCP", "port": 7052, "targetPort": 7052}],
        "selector": labels,
        "type": "ClusterIP",
    });
    match services.get_opt(name).await.map_err(text)? {
        None => {
            let s: Service = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": ns},
                "spec": service_spec,
            }))
            .map_err(|e| e.to_string())?;
            services.create(&PostParams::default(), &s).await.map_err(text)?;
            Ok(false)
        }
        Some(mut s) => {
            let mut spec = s.spec.take().unwrap_or_default();
            let wanted: k8s_openapi::api::core::v1::ServiceSpec =
                serde_json::from_value(service_spec).map_err(|e| e.to_string())?;
            spec.ports = wanted.ports;
            spec.type_ = wanted.type_;
            spec.selector = wanted.selector;
            s.spec = Some(spec);
            services.replace(name, &PostParams::default(), &s).await.map_err(text)?;
            Ok(true)
        }
    }
}

/// `status.status`, `status.message` and the condition of that type, as the source's
/// setConditionStatus: the condition's transition time stays while its status does.
async fn set_status(
    fcs: &Api<DynamicObject>,
    fc: &DynamicObject,
    status: &str,
    ok: bool,
    message: &str,
) -> Result<(), kube::Error> {
    let mut conditions = fc.data["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let flag = if ok { "True" } else { "False" };
    let mut condition = json!({"type": status, "status": flag});
    if !message.is_empty() {
        condition["reason"] = json!(message);
        condition["message"] = json!(message);
    }
    match conditions.iter_mut().find(|c| c["type"] == status) {
        Some(c) => {
            condition["lastTransitionTime"] =
                if c["status"] == flag { c["lastTransitionTime"].clone() } else { json!(crate::nodesim::now()) };
            *c = condition;
        }
        None => {
            condition["lastTransitionTime"] = json!(crate::nodesim::now());
            conditions.push(condition);
        }
    }
    // The whole status, as the source's Status().Update does (an unchanged one changes nothing).
    // Kubernetes 1.20 refuses an empty string in a custom resource's field ("must be of type
    // string: null", the fault behind the `default: ""` it rejects), and `message` is required:
    // where the operator writes "", the stand-in writes " ".
    let mut fc = fc.clone();
    let message = if message.is_empty() { " " } else { message };
    fc.data["status"] = json!({"status": status, "message": message, "conditions": conditions});
    fcs.replace_status(&name(&fc), &PostParams::default(), &fc).await?;
    Ok(())
}
