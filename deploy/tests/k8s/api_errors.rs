//! Kubernetes API errors as sentences with the fix, on the real API server: a namespace that does
//! not exist (from `apply`, and from the server-side dry run `up` makes before it changes
//! anything), and a user the RBAC authorizer forbids (the testbed runs with
//! `--authorization-mode=RBAC`; the user is a namespace's default service account, whose token
//! the token controller makes).

use std::process::Command;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;

use crate::support::{Cluster, DEPLOY};
use crate::{apply, block, namespace, stderr};

/// A kubeconfig like the cluster's admin one, authenticating with `ns`'s default service
/// account's token instead.
fn service_account_kubeconfig(c: &Cluster, ns: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let token = block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        let secrets: Api<Secret> = Api::namespaced(client, ns);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let sa = sas.get("default").await.unwrap();
            if let Some(name) = sa.secrets.unwrap_or_default().first().and_then(|r| r.name.clone()) {
                let s = secrets.get(&name).await.unwrap();
                if let Some(t) = s.data.and_then(|d| d.get("token").cloned()) {
                    break String::from_utf8(t.0).unwrap();
                }
            }
            assert!(std::time::Instant::now() < deadline, "no token for {ns}'s default service account");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    let mut kc: serde_norway::Value = serde_norway::from_str(&std::fs::read_to_string(&c.kubeconfig).unwrap()).unwrap();
    for user in kc["users"].as_sequence_mut().unwrap() {
        user["user"] = serde_norway::from_str(&format!("{{token: '{token}'}}")).unwrap();
    }
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_norway::to_string(&kc).unwrap()).unwrap();
    path
}

#[test]
fn api_errors_say_what_to_do() {
    let Some(cluster) = Cluster::up("k8s-api-errors", crate::ports::port(crate::ports::k8s::API_ERRORS)) else {
        return;
    };

    // 1. A namespace that does not exist: apply says so and how to fix it (exit 2).
    let (out, _) = apply(&cluster, "ccaas-missing", "asset", "r/asset:1", &["--no-wait"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "applying Deployment ccaas-missing/asset: namespace ccaas-missing does not exist: create it (kubectl \
             create namespace ccaas-missing), or pass --namespace"
        ),
        "{err}"
    );
    // `up`'s check before its first step (a server-side dry run) finds it too.
    let mut w = ccaas_deploy::render::Workload::new("asset", "r/asset:1", "asset_1.0:0123");
    w.namespace = "ccaas-missing".into();
    let manifests = ccaas_deploy::render::render(&w, ccaas_deploy::render::RenderTarget::Kubernetes).unwrap();
    let checked = block(async {
        let client = ccaas_deploy::rollout::client(Some(&cluster.kubeconfig)).await.unwrap();
        ccaas_deploy::rollout::check_ours(&client, &manifests, false).await
    });
    let e = checked.unwrap_err().to_string();
    assert!(e.contains("(dry run): namespace ccaas-missing does not exist"), "{e}");

    // 2. A user RBAC forbids: which user may not do what on which resource, and how to grant it.
    let ns = "ccaas-rbac";
    namespace(&cluster, ns);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = service_account_kubeconfig(&cluster, ns, dir.path());
    let out = Command::new(DEPLOY)
        .env_clear()
        .env("KUBECONFIG", &kubeconfig)
        .args(["apply", "--namespace", ns, "--name", "asset", "--image", "r/asset:1", "--package-id", "a:1"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "reading Deployment {ns}/asset: forbidden: user system:serviceaccount:{ns}:default may not get \
             deployments.apps in namespace {ns}: ask a cluster administrator to grant it (e.g. kubectl create role"
        )),
        "{err}"
    );
    eprintln!("forbidden, as expected:\n{err}");
}
