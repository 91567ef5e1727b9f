//! Ownership: `apply` and `down` change or delete only objects labelled
//! `app.kubernetes.io/managed-by: ccaas-deploy`. A `<name>-tls` Secret that cert-manager made
//! (labelled so, or unlabelled and written by its field manager) and a Service someone made with
//! kubectl survive `apply` (which applies nothing and names each, its owner and the ways out) and
//! `down` (which deletes ours, leaves theirs with a warning, and exits 0); `--force-conflicts`
//! takes them over, or deletes them. (`up` is checked the same way in `up.rs`, which has Fabric.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::support::Cluster;
use crate::{apply, block, namespace, nodesim, stderr};

/// What cert-manager's issuing controller is called as a field manager.
pub const CERT_MANAGER: &str = "cert-manager-certificates-issuing";

/// Creates a `kubernetes.io/tls` Secret as cert-manager would (field manager [`CERT_MANAGER`]),
/// labelled `app.kubernetes.io/managed-by: <managed_by>` or unlabelled; returns its data.
pub fn foreign_secret(c: &Cluster, ns: &str, name: &str, managed_by: Option<&str>) -> BTreeMap<String, Value> {
    let labels = managed_by.map(|m| json!({"app.kubernetes.io/managed-by": m})).unwrap_or(json!({}));
    let data = json!({"tls.crt": "dGhlaXJzLWNlcnQ=", "tls.key": "dGhlaXJzLWtleQ=="});
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "type": "kubernetes.io/tls",
        "data": data,
    }))
    .unwrap();
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let pp = PostParams { field_manager: Some(CERT_MANAGER.into()), ..PostParams::default() };
        Api::<Secret>::namespaced(client, ns).create(&pp, &secret).await.unwrap();
    });
    serde_json::from_value(data).unwrap()
}

/// The Secret's labels and data, or `None` when it is gone.
pub fn secret(c: &Cluster, ns: &str, name: &str) -> Option<(BTreeMap<String, String>, BTreeMap<String, Value>)> {
    let s = block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        Api::<Secret>::namespaced(client, ns).get_opt(name).await.unwrap()
    })?;
    let data = serde_json::to_value(s.data.unwrap_or_default()).unwrap();
    Some((s.metadata.labels.unwrap_or_default(), serde_json::from_value(data).unwrap()))
}

/// Two PEM-looking files (the API server does not parse a TLS Secret's data, nor does the node
/// simulator).
pub fn tls_files(dir: &Path) {
    std::fs::write(dir.join("tls.crt"), "-----BEGIN CERTIFICATE-----\nb3Vycy1jZXJ0\n-----END CERTIFICATE-----\n")
        .unwrap();
    std::fs::write(dir.join("tls.key"), "-----BEGIN PRIVATE KEY-----\nb3Vycy1rZXk=\n-----END PRIVATE KEY-----\n")
        .unwrap();
}

fn exists<K>(c: &Cluster, ns: &str, name: &str) -> bool
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        Api::<K>::namespaced(client, ns).get_opt(name).await.unwrap().is_some()
    })
}

fn down(c: &Cluster, dir: &Path, extra: &[&str]) -> Output {
    let file = dir.join("ccaas-deploy.yaml");
    c.deploy(&[&["down", "-f", file.to_str().unwrap(), "--output", "json"], extra].concat())
}

#[test]
fn objects_that_are_not_ours_survive_apply_and_down() {
    let Some(cluster) = Cluster::up("k8s-own", crate::ports::port(crate::ports::k8s::OWNERSHIP)) else { return };
    let _node = nodesim::NodeSim::start(&cluster.kubeconfig, "ccaas-sim-own");
    let ns = "ccaas-own";
    namespace(&cluster, ns);
    let dir = tempfile::tempdir().unwrap();
    tls_files(dir.path());
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let tls = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap(), "--timeout", "60"];
    let image = "localhost:5000/asset:1.0";
    std::fs::write(
        dir.path().join("ccaas-deploy.yaml"),
        format!(
            "chaincode: {{name: asset, version: '1.0', address: 'asset:7052'}}\nimage: {{reference: '{image}'}}\n\
             kubernetes:\n  namespace: {ns}\n  tls: {{cert: tls.crt, key: tls.key}}\n"
        ),
    )
    .unwrap();

    // 1. An unlabelled Secret written by cert-manager and a Service made with kubectl: apply
    //    applies nothing and names both, who wrote them, and the three ways out.
    let theirs = foreign_secret(&cluster, ns, "asset-tls", None);
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "asset", "namespace": ns},
        "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    }))
    .unwrap();
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&cluster.kubeconfig)).await.unwrap();
        let pp = PostParams { field_manager: Some("kubectl-create".into()), ..PostParams::default() };
        Api::<Service>::namespaced(client, ns).create(&pp, &svc).await.unwrap();
    });
    let (out, _) = apply(&cluster, ns, "asset", image, &tls);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for says in [
        "nothing applied",
        "Secret ccaas-own/asset-tls (no app.kubernetes.io/managed-by label; written by field manager \
         cert-manager-certificates-issuing)",
        "Service ccaas-own/asset (no app.kubernetes.io/managed-by label; written by field manager kubectl-create)",
        "rename ours",
        "kubectl delete -n ccaas-own secret/asset-tls service/asset",
        "--force-conflicts",
        "--tls-secret",
    ] {
        assert!(err.contains(says), "apply's error does not say {says:?}:\n{err}");
    }
    eprintln!("apply refused, as expected:\n{err}");
    assert!(!exists::<Deployment>(&cluster, ns, "asset"), "apply wrote the Deployment before refusing");
    assert_eq!(secret(&cluster, ns, "asset-tls").unwrap().1, theirs);

    // 2. Their Service gone, their Secret now labelled by cert-manager: the error says so.
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&cluster.kubeconfig)).await.unwrap();
        Api::<Service>::namespaced(client.clone(), ns).delete("asset", &DeleteParams::default()).await.unwrap();
        let label = json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "cert-manager"}}});
        Api::<Secret>::namespaced(client, ns)
            .patch("asset-tls", &PatchParams::default(), &Patch::Merge(&label))
            .await
            .unwrap();
    });
    let (out, _) = apply(&cluster, ns, "asset", image, &tls);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Secret ccaas-own/asset-tls (labelled app.kubernetes.io/managed-by: cert-manager)"), "{err}");
    assert!(!err.contains("Service ccaas-own/asset"), "{err}");
    let (labels, data) = secret(&cluster, ns, "asset-tls").unwrap();
    assert_eq!((labels["app.kubernetes.io/managed-by"].as_str(), data), ("cert-manager", theirs.clone()));

    // 3. Ours without TLS rolls out beside it; down deletes ours, leaves theirs with a warning,
    //    and exits 0 (nothing of ours remains).
    let (out, _) = apply(&cluster, ns, "asset", image, &["--timeout", "60"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = down(&cluster, dir.path(), &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["deleted"], json!(["Service ccaas-own/asset", "Deployment ccaas-own/asset"]), "{v}");
    // No Fabric identity: it does not claim the definition is committed.
    assert_eq!(v["committed"], "unknown", "{v}");
    assert!(v["note"].as_str().unwrap().contains("was not read: no Fabric identity"), "{v}");
    assert_eq!(v["left"][0]["kind"], "Secret", "{v}");
    assert_eq!(v["left"][0]["name"], "asset-tls", "{v}");
    assert_eq!(v["left"][0]["owner"], "labelled app.kubernetes.io/managed-by: cert-manager", "{v}");
    assert!(
        err.contains("warning: left Secret ccaas-own/asset-tls (labelled app.kubernetes.io/managed-by: cert-manager)")
            && err.contains("down --force-conflicts"),
        "{err}"
    );
    eprintln!("down left theirs, as expected:\n{err}");
    assert_eq!(secret(&cluster, ns, "asset-tls").unwrap().1, theirs);
    assert!(!exists::<Deployment>(&cluster, ns, "asset"));

    // 4. --force-conflicts takes their Secret over: our data, our label; then down deletes it.
    let (out, _) = apply(&cluster, ns, "asset", image, &[&tls[..], &["--force-conflicts"]].concat());
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("taking over Secret ccaas-own/asset-tls"), "{err}");
    let (labels, data) = secret(&cluster, ns, "asset-tls").unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "ccaas-deploy");
    assert_ne!(data, theirs);
    let out = down(&cluster, dir.path(), &[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["left"], json!([]), "{v}");
    assert!(secret(&cluster, ns, "asset-tls").is_none());

    // 5. down --force-conflicts deletes theirs too.
    foreign_secret(&cluster, ns, "asset-tls", Some("cert-manager"));
    let out = down(&cluster, dir.path(), &["--force-conflicts"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v["deleted"], json!(["Secret ccaas-own/asset-tls"]), "{v}");
    assert!(secret(&cluster, ns, "asset-tls").is_none());
}
