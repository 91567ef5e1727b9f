//! Kubernetes manifests for a chaincode server, rendered from one [`Workload`] description:
//! a Deployment, a Service and (with TLS files) a Secret per server, or an hlf-operator
//! `FabricChaincode` resource with the same meaning.
//!
//! The manifests are plain JSON values (`serde_json::Value`), printed as YAML by [`to_yaml`]; the
//! same values are what a server-side apply sends. They work on Kubernetes 1.20 and later:
//!
//! * probes are `tcpSocket` probes on the chaincode port (gRPC probes, which would call the shim's
//!   health service, are beta only from 1.24); a server that accepts connections has bound its
//!   port after loading its TLS material, which is what the shim checks before it serves;
//! * every container and Service port says `protocol: TCP` (1.20's server-side apply fails with
//!   HTTP 500 without it).
//!
//! The pod template carries the package ID as an annotation (and, with TLS files, a digest of
//! them), so a new package or new TLS material rolls the pods.
//!
//! With a metrics port ([`Workload::metrics_port`]) the server is told to serve its Prometheus
//! metrics there (`CHAINCODE_METRICS_ADDRESS`; the chaincode must be built with the shim's
//! `metrics` feature), the container and the Service get a port named `metrics`, and the pod
//! template and the Service carry the `prometheus.io/scrape`, `prometheus.io/port` and
//! `prometheus.io/path` annotations that Prometheus' Kubernetes discovery is commonly set up to
//! follow.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use super::workload::{
    check_address, dials_a_service, RenderTarget, Resources, ServiceAddress, Tls, Toleration, Workload,
    DEFAULT_PROGRESS_DEADLINE, RESERVED_ENV,
};
pub use crate::image::{DEFAULT_PORT, DEFAULT_USER};
use crate::Error;

/// The field manager and [`MANAGED_BY_LABEL`] value.
pub const MANAGER: &str = "ccaas-deploy";
/// The label that marks every object [`render`] makes as ccaas-deploy's: `apply`, `up` and `down`
/// change or delete only objects that carry it with the value [`MANAGER`].
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Pod-template annotation holding the package ID the servers run.
pub const PACKAGE_ID_ANNOTATION: &str = "fabric-ccaas/package-id";
/// Pod-template annotation holding the SHA-256 of the TLS files (with [`Tls::Files`]).
pub const TLS_DIGEST_ANNOTATION: &str = "fabric-ccaas/tls-sha256";
/// Where the TLS Secret is mounted in the container.
pub const TLS_MOUNT: &str = "/etc/fabric-ccaas/tls";
/// The port name of the metrics, on the container and the Service.
pub const METRICS_PORT_NAME: &str = "metrics";
/// The path the shim serves its metrics on.
pub const METRICS_PATH: &str = "/metrics";

/// TLS files read once: their Secret data and digest.
struct TlsMaterial {
    secret_name: String,
    /// Secret to render (files) or none (an existing Secret).
    data: Option<BTreeMap<String, String>>,
    client_auth: bool,
    digest: Option<String>,
}

fn read_pem(what: &str, path: &PathBuf) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(path).map_err(|cause| Error::Read {
        what: match what {
            "cert" => "TLS certificate",
            "key" => "TLS private key",
            _ => "TLS client CA",
        },
        path: path.clone(),
        cause,
    })?;
    if !bytes.split(|b| *b == b'\n').any(|l| l.starts_with(b"-----BEGIN ")) {
        return Err(Error::Config(format!(
            "{} is not PEM (no -----BEGIN line): give the PEM file of the TLS {what}",
            path.display()
        )));
    }
    Ok(bytes)
}

fn tls_material(server: &str, tls: &Tls) -> Result<TlsMaterial, Error> {
    match tls {
        Tls::Secret { name, client_auth } => {
            Ok(TlsMaterial { secret_name: name.clone(), data: None, client_auth: *client_auth, digest: None })
        }
        Tls::Files { cert, key, client_ca } => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut data = BTreeMap::new();
            let mut h = Sha256::new();
            for (k, what, p) in
                [("tls.crt", "cert", Some(cert)), ("tls.key", "key", Some(key)), ("ca.crt", "ca", client_ca.as_ref())]
            {
                if let Some(p) = p {
                    let bytes = read_pem(what, p)?;
                    h.update(k.as_bytes());
                    h.update((bytes.len() as u64).to_be_bytes());
                    h.update(&bytes);
                    data.insert(k.to_string(), b64.encode(bytes));
                }
            }
            Ok(TlsMaterial {
                secret_name: format!("{server}-tls"),
                data: Some(data),
                client_auth: client_ca.is_some(),
                digest: Some(hex(&h.finalize())),
            })
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn labels(w: &Workload, server: &str) -> Value {
    json!({
        "app.kubernetes.io/name": w.name,
        "app.kubernetes.io/instance": server,
        "app.kubernetes.io/component": "chaincode",
        "app.kubernetes.io/part-of": "hyperledger-fabric",
        MANAGED_BY_LABEL: MANAGER,
    })
}

fn selector(w: &Workload, server: &str) -> Value {
    json!({"app.kubernetes.io/name": w.name, "app.kubernetes.io/instance": server})
}

fn env_list(w: &Workload, tls: Option<&TlsMaterial>) -> Vec<Value> {
    let listen = format!("0.0.0.0:{}", w.port);
    let mut env: Vec<(String, String)> = vec![
        ("CHAINCODE_ID".into(), w.package_id.clone()),
        ("CORE_CHAINCODE_ID_NAME".into(), w.package_id.clone()),
        ("CORE_CHAINCODE_ID".into(), w.package_id.clone()),
        ("CHAINCODE_SERVER_ADDRESS".into(), listen.clone()),
        ("CORE_CHAINCODE_ADDRESS".into(), listen),
    ];
    match tls {
        None => {
            env.push(("CHAINCODE_TLS_DISABLED".into(), "true".into()));
            env.push(("CORE_PEER_TLS_ENABLED".into(), "false".into()));
        }
        Some(t) => {
            let cert = format!("{TLS_MOUNT}/tls.crt");
            let key = format!("{TLS_MOUNT}/tls.key");
            let ca = format!("{TLS_MOUNT}/ca.crt");
            // fabric-samples' names, then contract-api's (Go, Java), then the Node CLI's: all point
            // at the same files, so any shim finds them.
            env.push(("CHAINCODE_TLS_DISABLED".into(), "false".into()));
            env.push(("CHAINCODE_TLS_CERT".into(), cert.clone()));
            env.push(("CHAINCODE_TLS_KEY".into(), key.clone()));
            if t.client_auth {
                env.push(("CHAINCODE_CLIENT_CA_CERT".into(), ca.clone()));
            }
            env.push(("CORE_PEER_TLS_ENABLED".into(), "true".into()));
            env.push(("CORE_TLS_CLIENT_CERT_FILE".into(), cert.clone()));
            env.push(("CORE_TLS_CLIENT_KEY_FILE".into(), key.clone()));
            if t.client_auth {
                env.push(("CORE_PEER_TLS_ROOTCERT_FILE".into(), ca.clone()));
            }
            env.push(("CORE_CHAINCODE_TLS_CERT_FILE".into(), cert));
            env.push(("CORE_CHAINCODE_TLS_KEY_FILE".into(), key));
            if t.client_auth {
                env.push(("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE".into(), ca));
            }
        }
    }
    if let Some(p) = w.metrics_port {
        env.push(("CHAINCODE_METRICS_ADDRESS".into(), format!("0.0.0.0:{p}")));
    }
    env.extend(w.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.into_iter().map(|(name, value)| json!({"name": name, "value": value})).collect()
}

/// The `prometheus.io/*` annotations, with a metrics port.
fn scrape_annotations(w: &Workload) -> BTreeMap<String, String> {
    let Some(p) = w.metrics_port else { return BTreeMap::new() };
    BTreeMap::from([
        ("prometheus.io/scrape".to_string(), "true".to_string()),
        ("prometheus.io/port".to_string(), p.to_string()),
        ("prometheus.io/path".to_string(), METRICS_PATH.to_string()),
    ])
}

fn deployment(w: &Workload, server: &str, tls: Option<&TlsMaterial>) -> Value {
    let mut annotations = BTreeMap::from([(PACKAGE_ID_ANNOTATION.to_string(), w.package_id.clone())]);
    if let Some(d) = tls.and_then(|t| t.digest.clone()) {
        annotations.insert(TLS_DIGEST_ANNOTATION.into(), d);
    }
    annotations.extend(scrape_annotations(w));
    let mut ports = vec![json!({"name": "chaincode", "containerPort": w.port, "protocol": "TCP"})];
    if let Some(p) = w.metrics_port {
        ports.push(json!({"name": METRICS_PORT_NAME, "containerPort": p, "protocol": "TCP"}));
    }
    let probe = |initial: u32, period: u32, failures: u32| {
        json!({"tcpSocket": {"port": "chaincode"}, "initialDelaySeconds": initial,
               "periodSeconds": period, "timeoutSeconds": 1, "failureThreshold": failures})
    };
    let mut container = json!({
        "name": "chaincode",
        "image": w.image_ref(),
        "imagePullPolicy": "IfNotPresent",
        "ports": ports,
        "env": env_list(w, tls),
        "readinessProbe": probe(1, 2, 3),
        "livenessProbe": probe(10, 10, 3),
        "securityContext": container_security_context(w),
        // A container that stops at startup leaves the end of its log as its termination
        // message, which `up` shows with the crash loop.
        "terminationMessagePolicy": "FallbackToLogsOnError",
    });
    let r = &w.resources;
    if !r.requests.is_empty() || !r.limits.is_empty() {
        let mut res = serde_json::Map::new();
        if !r.limits.is_empty() {
            res.insert("limits".into(), json!(r.limits));
        }
        if !r.requests.is_empty() {
            res.insert("requests".into(), json!(r.requests));
        }
        container["resources"] = Value::Object(res);
    }
    let mut pod_spec = json!({
        "containers": [],
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": w.user,
            "runAsGroup": w.user,
            "fsGroup": w.user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "enableServiceLinks": false,
        "automountServiceAccountToken": false,
    });
    if let Some(t) = tls {
        container["volumeMounts"] = json!([{"name": "tls", "mountPath": TLS_MOUNT, "readOnly": true}]);
        pod_spec["volumes"] = json!([{"name": "tls", "secret": {"secretName": t.secret_name, "defaultMode": 0o440}}]);
    }
    pod_spec["containers"] = json!([container]);
    add_scheduling(&mut pod_spec, w);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": server, "namespace": w.namespace, "labels": labels(w, server)},
        "spec": {
            "replicas": w.replicas,
            "selector": {"matchLabels": selector(w, server)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "progressDeadlineSeconds": w.progress_deadline_seconds,
            "revisionHistoryLimit": 5,
            "template": {
                "metadata": {"labels": labels(w, server), "annotations": annotations},
                "spec": pod_spec,
            },
        },
    })
}

fn service(w: &Workload, server: &str) -> Value {
    let mut ports = vec![json!({"name": "chaincode", "port": w.port, "targetPort": "chaincode", "protocol": "TCP"})];
    if let Some(p) = w.metrics_port {
        ports.push(json!({"name": METRICS_PORT_NAME, "port": p, "targetPort": METRICS_PORT_NAME, "protocol": "TCP"}));
    }
    let mut metadata = json!({"name": server, "namespace": w.namespace, "labels": labels(w, server)});
    let annotations = scrape_annotations(w);
    if !annotations.is_empty() {
        metadata["annotations"] = json!(annotations);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "type": "ClusterIP",
            "selector": selector(w, server),
            "ports": ports,
        },
    })
}

fn secret(w: &Workload, server: &str, t: &TlsMaterial) -> Option<Value> {
    let data = t.data.as_ref()?;
    Some(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": t.secret_name, "namespace": w.namespace, "labels": labels(w, server)},
        "data": data,
    }))
}

/// Pod-template annotation (in `spec.podAnnotations`) holding [`spec_digest`] of the
/// `FabricChaincode` spec: the operator's Deployment carries it once made from that spec.
pub const SPEC_DIGEST_ANNOTATION: &str = "fabric-ccaas/spec-sha256";

/// The SHA-256 (hex) of a `FabricChaincode` spec without `replicas` (which the operator's
/// Deployment states itself) and without its own [`SPEC_DIGEST_ANNOTATION`].
pub fn spec_digest(spec: &Value) -> String {
    let mut s = spec.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("replicas");
    }
    if let Some(a) = s.get_mut("podAnnotations").and_then(Value::as_object_mut) {
        a.remove(SPEC_DIGEST_ANNOTATION);
    }
    let text = serde_json::to_vec(&crate::image::sorted(s)).unwrap_or_default();
    Sha256::digest(&text).iter().map(|b| format!("{b:02x}")).collect()
}

/// The chaincode container's security context: the workload's user, nothing else allowed.
fn container_security_context(w: &Workload) -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": w.user,
        "runAsGroup": w.user,
        "capabilities": {"drop": ["ALL"]},
    })
}

/// Pull secrets, node selector and tolerations, each where the workload has some: a Deployment's
/// pod spec and a `FabricChaincode`'s spec name them alike.
fn add_scheduling(spec: &mut Value, w: &Workload) {
    if !w.image_pull_secrets.is_empty() {
        spec["imagePullSecrets"] = w.image_pull_secrets.iter().map(|n| json!({"name": n})).collect();
    }
    if !w.node_selector.is_empty() {
        spec["nodeSelector"] = json!(w.node_selector);
    }
    if !w.tolerations.is_empty() {
        spec["tolerations"] = json!(w.tolerations);
    }
}

fn fabric_chaincode(w: &Workload, server: &str) -> Result<Value, Error> {
    if w.tls.is_some() {
        return Err(Error::Config(
            "the hlf-operator target cannot use given TLS files or a Secret: its FabricChaincode gets TLS \
             only from a Fabric CA enrollment (spec.credentials); render for the Kubernetes target \
             (--target kubernetes), or drop the TLS options and set credentials with kubectl hlf"
                .into(),
        ));
    }
    let metrics = w.metrics_port.map(|p| json!({"name": "CHAINCODE_METRICS_ADDRESS", "value": format!("0.0.0.0:{p}")}));
    let env: Vec<Value> =
        metrics.into_iter().chain(w.env.iter().map(|(k, v)| json!({"name": k, "value": v}))).collect();
    let mut pod_annotations = BTreeMap::from([(PACKAGE_ID_ANNOTATION.to_string(), w.package_id.clone())]);
    pod_annotations.extend(scrape_annotations(w));
    let mut spec = json!({
        "image": w.image_ref(),
        "imagePullPolicy": "IfNotPresent",
        "packageId": w.package_id,
        "replicas": w.replicas,
        "chaincodeServerPort": w.port,
        // The operator sets CHAINCODE_ID, CORE_CHAINCODE_ID and the addresses; a contract-api
        // server also needs CORE_CHAINCODE_ID_NAME (the operator does not set it).
        "env": std::iter::once(json!({"name": "CORE_CHAINCODE_ID_NAME", "value": w.package_id}))
            .chain(env)
            .collect::<Vec<_>>(),
        "podAnnotations": pod_annotations,
        "labels": labels(w, server),
        "podLabels": labels(w, server),
        "podSecurityContext": {"runAsNonRoot": true, "runAsUser": w.user, "runAsGroup": w.user, "fsGroup": w.user},
        "securityContext": container_security_context(w),
    });
    add_scheduling(&mut spec, w);
    let r = &w.resources;
    if !r.requests.is_empty() || !r.limits.is_empty() {
        spec["resources"] = json!({"requests": r.requests, "limits": r.limits});
    }
    let digest = spec_digest(&spec);
    spec["podAnnotations"][SPEC_DIGEST_ANNOTATION] = json!(digest);
    Ok(json!({
        "apiVersion": "hlf.kungfusoftware.es/v1alpha1",
        "kind": "FabricChaincode",
        "metadata": {"name": server, "namespace": w.namespace, "labels": labels(w, server)},
        "spec": spec,
    }))
}

/// The manifests for `w`, in apply order: per server, the TLS Secret (when rendered from files),
/// the Deployment and the Service; or one `FabricChaincode` per server.
///
/// The hlf-operator's controller always makes its Service on port 7052 (whatever
/// `chaincodeServerPort` says), so that target requires port 7052. Its Service has no metrics
/// port either: with a metrics port, its pods get the variable and the `prometheus.io/*`
/// annotations (for Prometheus' pod discovery), not a Service port.
pub fn render(w: &Workload, target: RenderTarget) -> Result<Vec<Value>, Error> {
    w.validate()?;
    let mut out = Vec::new();
    for server in w.server_names()? {
        match target {
            RenderTarget::Kubernetes => {
                let tls = w.tls.as_ref().map(|t| tls_material(&server, t)).transpose()?;
                if let Some(s) = tls.as_ref().and_then(|t| secret(w, &server, t)) {
                    out.push(s);
                }
                out.push(deployment(w, &server, tls.as_ref()));
                out.push(service(w, &server));
            }
            RenderTarget::HlfOperator => {
                if w.port != DEFAULT_PORT {
                    return Err(Error::Config(format!(
                        "the hlf-operator target needs port 7052: its controller's Service always listens on \
                         7052 and ignores chaincodeServerPort, so port {} would be unreachable",
                        w.port
                    )));
                }
                out.push(fabric_chaincode(w, &server)?);
            }
        }
    }
    Ok(out)
}

/// The manifests as one YAML stream (`---` between documents), as `kubectl apply -f` reads it.
pub fn to_yaml(manifests: &[Value]) -> Result<String, Error> {
    let mut s = String::new();
    for m in manifests {
        s.push_str("---\n");
        s.push_str(
            &serde_norway::to_string(&crate::image::sorted(m.clone()))
                .map_err(|e| Error::Config(format!("cannot write a manifest as YAML: {e}")))?,
        );
    }
    Ok(s)
}
