//! `up` and `down` with the hlf-operator target, on both testbeds: the fabric-testbed
//! (lifecycle), the k8s-testbed with hlf-operator's whole `FabricChaincode` CRD, the stand-in of
//! `hlfsim.rs` playing the operator's controller, and the node simulator playing the kubelet.
//! The README's hlf-operator section runs as written; then, from one file: a first `up` does
//! everything and waits for the operator's Deployment and status; a second does nothing; a new
//! image only changes the resource; a new package is installed and re-approved and reaches the
//! pods; pods that never become ready fail `up` with their reason; the operator's `FAILED`
//! fails it with the operator's message; `down` deletes the resource and waits for the
//! operator's Deployment, Service and pods to go.

use std::process::{Command, Output};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{json, Value};

use crate::doc_block::sh_block;
use crate::support::Cluster;
use crate::up::{fabric, ok, registry, run};
use crate::{block, hlfsim, install_fabric_chaincode_crd, live_pod_images, namespace, nodesim};

const NS: &str = "ccaas-hlf";

async fn fabric_chaincodes(c: &Cluster, ns: &str) -> (kube::Client, Api<DynamicObject>) {
    let client = ccaas_deploy::rollout::client(Some(&c.kubeconfig)).await.unwrap();
    let gvk = GroupVersionKind::gvk("hlf.kungfusoftware.es", "v1alpha1", "FabricChaincode");
    let api = Api::namespaced_with(client.clone(), ns, &ApiResource::from_gvk_with_plural(&gvk, "fabricchaincodes"));
    (client, api)
}

/// The FabricChaincode, the operator's Deployment and Service (each if there).
fn objects(c: &Cluster, ns: &str, name: &str) -> (Option<DynamicObject>, Option<Deployment>, Option<Service>) {
    block(async {
        let (client, fcs) = fabric_chaincodes(c, ns).await;
        (
            fcs.get_opt(name).await.unwrap(),
            Api::<Deployment>::namespaced(client.clone(), ns).get_opt(name).await.unwrap(),
            Api::<Service>::namespaced(client, ns).get_opt(name).await.unwrap(),
        )
    })
}

fn env_of(d: &Deployment, name: &str) -> Option<String> {
    let c = &d.spec.as_ref()?.template.spec.as_ref()?.containers[0];
    c.env.iter().flatten().find(|e| e.name == name).and_then(|e| e.value.clone())
}

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn changed(v: &Value) -> Vec<String> {
    v["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

#[test]
fn up_and_down_with_hlf_operator() {
    let Some(reg) = registry() else { return };
    let Some(cluster) = Cluster::up("k8s-hlf", crate::ports::port(crate::ports::k8s::HLF)) else { return };
    let Some(t) = fabric::Testbed::up("k8s-hlf", 1, crate::ports::port(crate::ports::testbed::K8S_HLF)) else { return };
    // Untainted, so the README's workload (no tolerations) lands on it.
    let _node = nodesim::NodeSim::start_untainted(&cluster.kubeconfig, "ccaas-sim-hlf");
    install_fabric_chaincode_crd(&cluster);
    let _operator = hlfsim::OperatorSim::start(&cluster.kubeconfig);
    namespace(&cluster, "default");
    namespace(&cluster, NS);

    // 0. The README's section, as written.
    let script = sh_block("README.md", "### hlf-operator: the guide's three steps as one `up`");
    assert!(script.contains("target: hlf-operator") && script.contains("ccaas-deploy up"));
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", fabric::bin_dir().display(), t.var("FABRIC_BIN"));
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .envs(&t.env)
        .env("PATH", path)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("REGISTRY", format!("127.0.0.1:{}", reg.1))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the README's hlf-operator section failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for expected in [
        "done: asset version 1.0 sequence 1",
        "nothing to do: asset version 1.0 sequence 1",
        "deleted FabricChaincode default/asset, Deployment default/asset and Service default/asset (by hlf-operator)",
        "asset version 1.0 sequence 1 stays committed on channel mychannel",
        "fabric: commit",
        "hlf-operator made Deployment default/asset",
        "FabricChaincode default/asset is RUNNING",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}\nstderr:\n{stderr}");
    }

    // 1. From one file, with every setting the target carries.
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"chaincode:
  name: ledger
  version: "1.0"
  signature_policy: "OR('Org1MSP.member')"
  address: ledger:7052
image:
  reference: 127.0.0.1:{}/ledger:1.0
  binary: /bin/true
  insecure: true
kubernetes:
  target: hlf-operator
  namespace: {NS}
  replicas: 2
  env: {{RUST_LOG: info}}
  resources: {{requests: {{cpu: 50m}}, limits: {{memory: 128Mi}}}}
  image_pull_secrets: [registry-creds]
  node_selector: {{"{label}": "true"}}
  tolerations: [{{key: "{label}", operator: Equal, value: "true", effect: NoSchedule}}]
fabric:
  config: {}
  user: admin
"#,
        reg.1,
        t.var("ORG1_NETWORK_CONFIG"),
        label = nodesim::LABEL
    );
    std::fs::write(dir.path().join("ccaas-deploy.yaml"), &config).unwrap();
    let (out, took) = run(&cluster, dir.path(), &["up", "--output", "json"]);
    let v = json_of(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    for step in [
        "fabric: install",
        "fabric: approve",
        "fabric: commit",
        "kubernetes: created FabricChaincode ccaas-hlf/ledger",
        "hlf-operator made Deployment ccaas-hlf/ledger",
        "kubernetes: deployment ledger successfully rolled out",
        "kubernetes: FabricChaincode ccaas-hlf/ledger is RUNNING",
    ] {
        assert!(err.contains(step), "no '{step}' progress:\n{err}");
    }
    assert_eq!(v["rolled_out"], true, "{v}");
    let package_id = v["package_id"].as_str().unwrap().to_string();
    let digest = v["image"]["digest"].as_str().unwrap().to_string();
    let pinned = format!("127.0.0.1:{}/ledger@{digest}", reg.1);
    let (fc, d, s) = objects(&cluster, NS, "ledger");
    let (fc, d, s) = (fc.unwrap(), d.unwrap(), s.unwrap());
    let spec = &fc.data["spec"];
    assert_eq!((spec["image"].as_str(), spec["packageId"].as_str()), (Some(&*pinned), Some(&*package_id)), "{spec}");
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["imagePullSecrets"], json!([{"name": "registry-creds"}]));
    assert_eq!(spec["resources"]["limits"]["memory"], "128Mi");
    assert!(spec["env"].as_array().unwrap().contains(&json!({"name": "RUST_LOG", "value": "info"})), "{spec}");
    let managers: Vec<_> = fc
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|f| f.operation.as_deref() == Some("Apply"))
        .map(|f| f.manager.clone().unwrap_or_default())
        .collect();
    assert_eq!(managers, ["ccaas-deploy"]);
    assert_eq!(fc.data["status"]["status"], "RUNNING");
    // The operator's Deployment: its labels, the image pinned, the package ID, our settings.
    let labels = d.metadata.labels.clone().unwrap_or_default();
    assert_eq!((labels["app"].as_str(), labels["chaincode"].as_str()), ("fabric-chaincode", "ledger"));
    let container = &d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some(&*pinned));
    assert_eq!(env_of(&d, "CHAINCODE_ID").as_deref(), Some(&*package_id));
    assert_eq!(env_of(&d, "CORE_CHAINCODE_ID_NAME").as_deref(), Some(&*package_id));
    assert_eq!(env_of(&d, "RUST_LOG").as_deref(), Some("info"));
    assert_eq!(d.status.as_ref().unwrap().available_replicas, Some(2));
    assert_eq!(s.spec.unwrap().ports.unwrap()[0].port, 7052);
    eprintln!("first up with the hlf-operator target: {took:.1?}");
    // `status` with the same file finds the operator's Deployment and Service, consistent.
    let (out, _) = run(&cluster, dir.path(), &["status", "-f", "ccaas-deploy.yaml", "--output", "json"]);
    let st = json_of(&out);
    assert_eq!(st["consistent"], true, "{st}");
    assert_eq!(st["kubernetes"]["deployments"][0]["package_id"], package_id.as_str(), "{st}");
    assert_eq!(st["kubernetes"]["services"], json!([{"name": "ledger", "namespace": NS, "port": 7052}]), "{st}");

    // 2. Nothing changed: nothing done.
    let (out, took) = run(&cluster, dir.path(), &["up", "--output", "json"]);
    let v = json_of(&out);
    assert_eq!(changed(&v), Vec::<String>::new(), "{v}");
    assert_eq!(v["rolled_out"], true);
    let (out, _) = run(&cluster, dir.path(), &["up"]);
    assert!(ok(&out).lines().last().unwrap_or_default().starts_with("nothing to do: ledger version 1.0 sequence 1"));
    eprintln!("no-op up: {took:.1?}");

    // 3. A new image: the resource only, and the operator rolls the pods.
    let (out, _) = run(&cluster, dir.path(), &["up", "--binary", "/bin/false", "--output", "json"]);
    let v = json_of(&out);
    let new_digest = v["image"]["digest"].as_str().unwrap().to_string();
    assert_ne!(new_digest, digest);
    let c = changed(&v);
    assert!(c.iter().all(|c| !c.starts_with("fabric")), "{c:?}");
    assert!(c.contains(&"kubernetes: FabricChaincode ccaas-hlf/ledger".to_string()), "{c:?}");
    let pinned = format!("127.0.0.1:{}/ledger@{new_digest}", reg.1);
    let images = live_pod_images(&cluster, NS, "ledger");
    assert!(images.len() == 2 && images.iter().all(|i| *i == pinned), "{images:?}");

    // 4. A new package (another address of the same Service): installed and re-approved at the
    //    same sequence, and the operator's pods get its ID.
    let (out, _) = run(
        &cluster,
        dir.path(),
        &["up", "--binary", "/bin/false", "--address", "ledger.ccaas-hlf:7052", "--output", "json"],
    );
    let v = json_of(&out);
    let actions: Vec<&str> =
        v["plan"]["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["install", "approve"], "{v}");
    let new_package = v["package_id"].as_str().unwrap();
    assert_ne!(new_package, package_id);
    let (_, d, _) = objects(&cluster, NS, "ledger");
    assert_eq!(env_of(&d.unwrap(), "CHAINCODE_ID").as_deref(), Some(new_package));

    // 5. Pods that never become ready: exit 6 with their reason, as for the Kubernetes target.
    let never = format!("127.0.0.1:{}/never-ready:1.0", reg.1);
    let args = ["up", "--binary", "/bin/false", "--address", "ledger.ccaas-hlf:7052", "--image", &never];
    let (out, took) = run(&cluster, dir.path(), &[&args[..], &["--timeout", "15"]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("deployment ccaas-hlf/ledger did not roll out") && err.contains("readiness failing"), "{err}");
    eprintln!("a rollout that fails: exit 6 in {took:.1?}");

    // 6. The operator's FAILED, with its message: TLS credentials added by another field manager
    //    (kept by up's server-side apply), which the operator cannot enroll here.
    block(async {
        let (_, fcs) = fabric_chaincodes(&cluster, NS).await;
        let credentials = json!({"spec": {"credentials": {"cahost": "ca.invalid", "caname": "tlsca", "caport": 7054,
            "catls": {"cacert": "Y2E="}, "enrollid": "x", "enrollsecret": "y"}}});
        let patch = json!({"apiVersion": "hlf.kungfusoftware.es/v1alpha1", "kind": "FabricChaincode",
            "metadata": {"name": "ledger"}, "spec": credentials["spec"]});
        fcs.patch("ledger", &PatchParams::apply("kubectl-patch"), &Patch::Apply(&patch)).await.unwrap();
    });
    let (out, _) = run(&cluster, dir.path(), &[&args[..], &["--timeout", "15"]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains(
            "FabricChaincode ccaas-hlf/ledger did not roll out: hlf-operator reports FAILED: Failed to create \
             chaincode crypto material"
        ),
        "{err}"
    );
    let (fc, _, _) = objects(&cluster, NS, "ledger");
    assert!(!fc.unwrap().data["spec"]["credentials"].is_null(), "up removed a field another manager set");

    // 7. down: the resource, then what the operator made, go; the definition stays.
    let (out, _) = run(&cluster, dir.path(), &["down"]);
    let text = ok(&out);
    assert!(
        text.contains(
            "deleted FabricChaincode ccaas-hlf/ledger, Deployment ccaas-hlf/ledger and Service ccaas-hlf/ledger (by \
             hlf-operator)"
        ),
        "{text}"
    );
    assert!(text.contains("ledger version 1.0 sequence 1 stays committed on channel mychannel"), "{text}");
    let (fc, d, s) = objects(&cluster, NS, "ledger");
    assert!(fc.is_none() && d.is_none() && s.is_none());
    assert!(live_pod_images(&cluster, NS, "ledger").is_empty());
    let (out, _) = run(&cluster, dir.path(), &["down"]);
    assert!(ok(&out).contains("nothing to delete"));
}
