//! End to end: `ccaas-deploy up` assembles the asset-transfer-basic example's image (from the
//! workspace's build of it: dynamically linked, so its libraries go into the image), pushes it to
//! Debian's docker-registry on loopback, installs, approves and commits it on the fabric-testbed,
//! and rolls it out on the k8s-testbed, where the node simulator pulls the image with skopeo and
//! runs its entrypoint on the host network. The real peer then reaches the chaincode:
//! InitLedger and ReadAsset through the peer return the Go sample's bytes.

use std::time::Instant;

use serde_json::Value;

use crate::support::Cluster;
use crate::up::{fabric, ok, registry, run};
use crate::{namespace, nodesim};

/// The chaincode port: the package's address, the container port and the Deployment's
/// CHAINCODE_SERVER_ADDRESS (the simulated pods share the host network with the peer).
const PORT: u16 = 9998;

#[test]
fn up_runs_the_chaincode_the_peer_calls() {
    let Some(reg) = registry() else { return };
    if which_skopeo().is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but skopeo is missing (.ci/run installs it)");
        }
        eprintln!("skipping up_runs_the_chaincode_the_peer_calls: skopeo is not installed");
        return;
    }
    let Some(cluster) = Cluster::up("k8s-e2e", 16463) else { return };
    let Some(t) = fabric::Testbed::up("k8s-e2e", 1, 4050) else { return };
    let binary = fabric::bin_dir().join("asset-transfer-basic");
    let _node = nodesim::NodeSim::start_running(&cluster.kubeconfig, "ccaas-sim-e2e");
    namespace(&cluster, "ccaas-e2e");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"chaincode:
  name: basic
  version: "1.0"
  signature_policy: "OR('Org1MSP.member')"
  address: 127.0.0.1:{PORT}
image:
  reference: 127.0.0.1:{}/asset-transfer-basic:1.0
  binary: {}
  insecure: true
kubernetes:
  namespace: ccaas-e2e
  port: {PORT}
  node_selector: {{"{label}": "true"}}
  tolerations: [{{key: "{label}", operator: Equal, value: "true", effect: NoSchedule}}]
fabric:
  config: {}
  user: admin
"#,
        reg.1,
        binary.display(),
        t.var("ORG1_NETWORK_CONFIG"),
        label = nodesim::LABEL
    );
    std::fs::write(dir.path().join("ccaas-deploy.yaml"), config).unwrap();

    let started = Instant::now();
    let (out, took) = run(&cluster, dir.path(), &["up", "--output", "json", "--timeout", "120"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["rolled_out"], true, "{v}");
    let asset = t.invoke_and_query(1);
    eprintln!(
        "from a built binary to a chaincode answering through the peer: {:.1?} (up: {took:.1?})",
        started.elapsed()
    );
    assert_eq!(asset.trim_end(), r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#);

    let (out, took) = run(&cluster, dir.path(), &["up"]);
    let text = ok(&out);
    assert!(text.lines().last().unwrap_or_default().starts_with("nothing to do"), "{text}");
    eprintln!("no-op up: {took:.1?}");
}

fn which_skopeo() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join("skopeo")).find(|p| p.is_file())
}
