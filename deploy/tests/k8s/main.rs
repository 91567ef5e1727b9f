//! `ccaas-deploy apply` on a real Kubernetes API server (the k8s-testbed, v1.20.2, or the cluster
//! of `CCAAS_K8S_KUBECONFIG`) with the node simulator of `nodesim.rs` playing the kubelet:
//! a rollout completes, a second apply changes nothing, an image change rolls out, and a pod
//! that never becomes ready, crash-loops, cannot pull its image or cannot be scheduled makes the
//! command fail with that pod's reason within the deadline. `ownership.rs`: objects that are not
//! ccaas-deploy's survive `apply`, `up` and `down` unless `--force-conflicts` is given.
//! `api_errors.rs`: the API server's refusals (missing namespace, RBAC) as sentences with the fix.
//! `hlf.rs`: `up` and `down` with the hlf-operator target, `hlfsim.rs` playing the operator.

mod api_errors;
#[path = "../common/cargo_env.rs"]
mod cargo_env;
#[path = "../common/doc_block.rs"]
mod doc_block;
mod e2e;
mod hlf;
mod hlfsim;
#[path = "../common/kill.rs"]
mod kill;
mod kill_rerun;
mod nodesim;
mod ownership;
#[path = "../common/ports.rs"]
mod ports;
mod support;
mod up;

use std::process::Output;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use serde_json::{json, Value};

use support::Cluster;

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// A Deployment, read with a client of its own runtime (a kube client lives on the runtime that
/// made it).
fn deployment(c: &Cluster, ns: &str, name: &str) -> Deployment {
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        Api::<Deployment>::namespaced(client, ns).get(name).await.unwrap()
    })
}

/// A fresh namespace with its default service account (pods are refused until it exists).
fn namespace(c: &Cluster, name: &str) {
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let nss: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        let _ = nss.create(&PostParams::default(), &ns).await;
        let sas: Api<ServiceAccount> = Api::namespaced(client, name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while sas.get_opt("default").await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "no default service account in {name}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `apply` of a workload on the simulated node.
fn apply(c: &Cluster, ns: &str, name: &str, image: &str, extra: &[&str]) -> (Output, Duration) {
    let sel = format!("{}=true", nodesim::LABEL);
    let tol = format!("{}=true:NoSchedule", nodesim::LABEL);
    let mut args = vec![
        "apply",
        "--namespace",
        ns,
        "--name",
        name,
        "--image",
        image,
        "--package-id",
        "asset_1.0:0123",
        "--node-selector",
        &sel,
        "--toleration",
        &tol,
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let out = c.deploy(&args);
    (out, started.elapsed())
}

fn applied(out: &Output) -> Value {
    assert!(out.status.success(), "apply failed:\n{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn live_pod_images(c: &Cluster, ns: &str, name: &str) -> Vec<String> {
    let list = block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let pods: Api<Pod> = Api::namespaced(client, ns);
        pods.list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}"))).await.unwrap()
    });
    list.items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default())
        .collect()
}

/// Installs hlf-operator's FabricChaincode CRD (the whole CRD, made 1.20-compatible: see the
/// fixture's header) and waits until it is established.
fn install_fabric_chaincode_crd(c: &Cluster) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crd_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hlf-fabricchaincode-crd.yaml");
    let crd: CustomResourceDefinition = serde_norway::from_str(&std::fs::read_to_string(crd_path).unwrap()).unwrap();
    block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let crds: Api<CustomResourceDefinition> = Api::all(client);
        crds.create(&PostParams::default(), &crd).await.expect("the CRD installs on this API server");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = crds.get("fabricchaincodes.hlf.kungfusoftware.es").await.unwrap();
            let established = got
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            assert!(Instant::now() < deadline, "the CRD was not established");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

/// Every field of `rendered` is in `stored`, with the same value (the API server may add its
/// defaults, but prunes or changes nothing of ours).
fn kept(rendered: &Value, stored: &Value) -> bool {
    match (rendered, stored) {
        (Value::Object(r), Value::Object(s)) => r.iter().all(|(k, v)| s.get(k).is_some_and(|sv| kept(v, sv))),
        (Value::Array(r), Value::Array(s)) => r.len() == s.len() && r.iter().zip(s).all(|(a, b)| kept(a, b)),
        (r, s) => r == s,
    }
}

fn fabric_chaincode_is_accepted(c: &Cluster, ns: &str) {
    use kube::api::DynamicObject;
    use kube::core::{ApiResource, GroupVersionKind};
    install_fabric_chaincode_crd(c);
    let args = [
        "--target",
        "hlf-operator",
        "--namespace",
        ns,
        "--name",
        "asset-op",
        "--image",
        "localhost:5000/asset:1.0",
        "--digest",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "--package-id",
        "asset_1.0:0123",
        "--replicas",
        "2",
        "--env",
        "RUST_LOG=info",
        "--image-pull-secret",
        "registry-creds",
        "--node-selector",
        "kubernetes.io/os=linux",
        "--toleration",
        "dedicated=chaincode:NoSchedule",
        "--request",
        "cpu=50m",
        "--limit",
        "memory=128Mi",
        "--output",
        "json",
    ];
    let rendered = c.deploy(&[&["render"], &args[..]].concat());
    let rendered: Value = serde_json::from_slice(&rendered.stdout).unwrap();
    // --no-wait: no hlf-operator runs here to make the Deployment.
    let out = c.deploy(&[&["apply", "--no-wait"], &args[..]].concat());
    let v = applied(&out);
    assert_eq!(v["applied"][0]["kind"], "FabricChaincode");
    let stored = block(async {
        let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("hlf.kungfusoftware.es", "v1alpha1", "FabricChaincode"),
            "fabricchaincodes",
        );
        Api::<DynamicObject>::namespaced_with(client, ns, &ar).get("asset-op").await.unwrap()
    });
    assert!(
        kept(&rendered[0]["spec"], &stored.data["spec"]),
        "the API server pruned or changed fields of our FabricChaincode:\nrendered {}\nstored {}",
        rendered[0]["spec"],
        stored.data["spec"]
    );
}

#[test]
fn rollouts_complete_and_fail_for_real_reasons() {
    let Some(cluster) = Cluster::up("k8s-rollout", crate::ports::port(crate::ports::k8s::ROLLOUT)) else { return };
    let _node = nodesim::NodeSim::start(&cluster.kubeconfig, "ccaas-sim-0");
    let ns = "ccaas-rollout";
    namespace(&cluster, ns);

    // 0. hlf-operator's FabricChaincode CRD (whole, made 1.20-compatible) takes our
    //    FabricChaincode as rendered: nothing refused, nothing pruned (its defaults added).
    fabric_chaincode_is_accepted(&cluster, ns);

    // 1. A rollout completes, with progress on stderr.
    let (out, took) = apply(&cluster, ns, "asset", "localhost:5000/asset:1.0", &["--replicas", "2", "--timeout", "90"]);
    let v = applied(&out);
    assert_eq!(v["rolled_out"], true);
    assert!(stderr(&out).contains("deployment asset successfully rolled out"), "{}", stderr(&out));
    let d = deployment(&cluster, ns, "asset");
    assert_eq!(d.status.as_ref().unwrap().available_replicas, Some(2));
    eprintln!("first rollout: {took:.1?}");

    // 2. The same description again: nothing changes.
    let (out, took) = apply(&cluster, ns, "asset", "localhost:5000/asset:1.0", &["--replicas", "2"]);
    let v = applied(&out);
    assert!(v["applied"].as_array().unwrap().iter().all(|a| a["changed"] == false), "{v}");
    assert!(stderr(&out).contains("unchanged Deployment"), "{}", stderr(&out));
    eprintln!("no-op apply: {took:.1?}");

    // 3. A new image rolls out: every live pod runs it.
    let (out, _) = apply(&cluster, ns, "asset", "localhost:5000/asset:1.1", &["--replicas", "2", "--timeout", "90"]);
    let v = applied(&out);
    assert!(v["applied"][0]["changed"] == true, "{v}");
    let images = live_pod_images(&cluster, ns, "asset");
    assert!(!images.is_empty() && images.iter().all(|i| i == "localhost:5000/asset:1.1"), "{images:?}");
    let d = deployment(&cluster, ns, "asset");
    assert_eq!(d.status.as_ref().unwrap().updated_replicas, Some(2));

    // 4. Failures, each with the pod's reason, before the deadline (progress deadline 8 s).
    let cases: Vec<(&str, &str, Vec<&str>, &[&str])> = vec![
        ("stuck", "localhost:5000/never-ready:1", vec![], &["readiness failing", "Readiness probe failed"]),
        ("crashing", "localhost:5000/crashloop:1", vec![], &["CrashLoopBackOff", "last exit code 1"]),
        ("unpulled", "localhost:5000/no-such-image:1", vec![], &["ImagePullBackOff", "Back-off pulling image"]),
    ];
    std::thread::scope(|s| {
        for (name, image, extra, says) in &cases {
            let cluster = &cluster;
            s.spawn(move || {
                let mut args = vec!["--progress-deadline", "8", "--timeout", "40"];
                args.extend(extra.iter().copied());
                let (out, took) = apply(cluster, ns, name, image, &args);
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(6), "{name}: {err}");
                for s in *says {
                    assert!(err.contains(s), "{name}: stderr does not say '{s}':\n{err}");
                }
                assert!(err.contains(&format!("deployment {ns}/{name} did not roll out")), "{err}");
                assert!(took < Duration::from_secs(40), "{name}: took {took:?}");
                eprintln!("{name}: failed as expected in {took:.1?}");
            });
        }
    });

    // 5. Unschedulable (only on the testbed, where the simulated node is the only node): without
    //    the toleration the pod has nowhere to go.
    if std::env::var_os("CCAAS_K8S_KUBECONFIG").is_none() {
        let started = Instant::now();
        let out = cluster.deploy(&[
            "apply",
            "--namespace",
            ns,
            "--name",
            "nowhere",
            "--image",
            "localhost:5000/asset:1.0",
            "--package-id",
            "asset_1.0:0123",
            "--progress-deadline",
            "8",
            "--timeout",
            "40",
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(6), "{err}");
        assert!(err.contains("unschedulable") && err.contains("taint"), "{err}");
        eprintln!("nowhere: failed as expected in {:.1?}", started.elapsed());
    }
}
