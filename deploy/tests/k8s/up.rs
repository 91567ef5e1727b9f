//! `ccaas-deploy up` and `down` from one config file, on both testbeds at once: the
//! fabric-testbed (lifecycle) and the k8s-testbed with the node simulator (rollout), with the
//! image pushed to Debian's docker-registry on loopback. A first `up` does everything; a second
//! does nothing and says so; a new image only rolls out; an address that is not the Service up
//! renders is refused unless served elsewhere (`--external-address`), and then makes a new
//! package, re-approved at the same sequence; a new version goes to the next sequence; a `<name>-tls`
//! Secret of cert-manager in the way stops `up` before it changes anything, and
//! `--force-conflicts` takes it over; `status` with the same file finds the first rollout
//! consistent and the new address's package dialling no Service; `down` deletes the Deployment, Service and Secret and says
//! the channel definition stays committed. A second test: an `up` that both waits for another
//! org's approval and fails its rollout exits 6 and names both reasons.

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../testbed/support.rs"]
#[allow(dead_code)]
pub mod fabric;

use crate::ownership::{foreign_secret, secret, tls_files};
use crate::support::{Cluster, DEPLOY};
use crate::{namespace, nodesim};

/// The registry process, its port, and its storage (kept until the end).
pub struct Registry(Child, pub u16, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn registry() -> Option<Registry> {
    let bin = std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join("docker-registry"))
        .find(|p| p.is_file());
    let Some(bin) = bin else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but docker-registry is missing (.ci/run installs it)");
        }
        eprintln!("skipping up_and_down: docker-registry is not installed (apt-get install docker-registry)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}/data\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: s\n",
        dir.path().display()
    );
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "docker-registry did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Registry(child, port, dir))
}

pub fn run(cluster: &Cluster, dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(DEPLOY)
        .env_clear()
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("XDG_CACHE_HOME", dir.join(".cache"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (out, started.elapsed())
}

pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn up_and_down() {
    let Some(reg) = registry() else { return };
    let Some(cluster) = Cluster::up("k8s-up", crate::ports::port(crate::ports::k8s::UP)) else { return };
    let Some(t) = fabric::Testbed::up("k8s-up", 1, crate::ports::port(crate::ports::testbed::K8S_UP)) else { return };
    let _node = nodesim::NodeSim::start(&cluster.kubeconfig, "ccaas-sim-up");
    namespace(&cluster, "ccaas-up");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"chaincode:
  name: asset
  version: "1.0"
  signature_policy: "OR('Org1MSP.member')"
  address: asset:7052
image:
  reference: 127.0.0.1:{}/asset-transfer-basic:1.0
  binary: /bin/true
  insecure: true
kubernetes:
  namespace: ccaas-up
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

    // 1. Everything, with progress for each step.
    let (out, took) = run(&cluster, dir.path(), &["up", "--output", "json"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    for step in ["image: ", "package: ", "fabric: install", "fabric: approve", "fabric: commit", "kubernetes: created"]
    {
        assert!(err.contains(step), "no '{step}' progress:\n{err}");
    }
    assert_eq!(v["rolled_out"], true);
    assert_eq!(v["plan"]["sequence"], 1);
    let digest = v["image"]["digest"].as_str().unwrap().to_string();
    eprintln!("first up: {took:.1?}");

    // `status` with the same file: the pods serve the approved package, consistent.
    let (out, _) = run(&cluster, dir.path(), &["status", "-f", "ccaas-deploy.yaml", "--output", "json"]);
    let s: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(s["consistent"], true, "{s}");
    let server = &s["kubernetes"]["deployments"][0];
    assert_eq!(server["package_id"], s["committed"]["approved"]["package_id"], "{s}");
    assert_eq!((&server["ready"], &server["replicas"]), (&Value::from(1), &Value::from(1)), "{s}");
    assert_eq!(
        s["kubernetes"]["services"],
        serde_json::json!([{"name": "asset", "namespace": "ccaas-up", "port": 7052}])
    );

    // 2. Nothing changed: nothing done, and it says so.
    let (out, took) = run(&cluster, dir.path(), &["up"]);
    let text = ok(&out);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("nothing to do: asset version 1.0 sequence 1"), "{text}");
    eprintln!("no-op up: {took:.1?}");

    // 2b. A real chaincode binary (this workspace's asset-transfer-basic, when it is built): the
    //     first up assembles and pushes its image; a second finds the binary unchanged and the
    //     image in the registry (HEAD requests) and sends nothing.
    let real = Path::new(DEPLOY).with_file_name("asset-transfer-basic");
    if real.is_file() {
        let b = real.to_str().unwrap();
        let size = std::fs::metadata(&real).unwrap().len() / 1_000_000;
        let (out, took) = run(&cluster, dir.path(), &["up", "--binary", b, "--output", "json"]);
        let first: Value = serde_json::from_str(&ok(&out)).unwrap();
        eprintln!("up with {b} ({size} MB): {took:.1?}");
        let (out, took) = run(&cluster, dir.path(), &["up", "--binary", b, "--output", "json"]);
        let v: Value = serde_json::from_str(&ok(&out)).unwrap();
        eprintln!("no-op up with {b} ({size} MB): {took:.1?}");
        assert_eq!(v["changed"], serde_json::json!([]), "{v}");
        assert_eq!(v["image"]["digest"], first["image"]["digest"], "{v}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("already in the registry") && !err.contains("assembling"), "{err}");
    } else {
        eprintln!("no {}: the no-op up with a real binary is not measured", real.display());
    }

    // 3. A new image (another binary): only a rollout.
    let (out, _) = run(&cluster, dir.path(), &["up", "--binary", "/bin/false", "--output", "json"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_ne!(v["image"]["digest"], digest.as_str());
    let changed: Vec<&str> = v["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changed.iter().all(|c| !c.starts_with("fabric")), "{changed:?}");
    assert!(changed.iter().any(|c| c.starts_with("kubernetes: Deployment")), "{changed:?}");

    // 4. A new address that is not the Service up renders (asset:7052): refused, naming both,
    //    before anything changes; said to be served elsewhere (--external-address), it makes a
    //    new package, re-approved at the same sequence.
    let (out, _) = run(&cluster, dir.path(), &["up", "--binary", "/bin/false", "--address", "asset:7053"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the package's address asset:7053 is not the Service rendered for it (asset.ccaas-up:7052)")
            && err.contains("--external-address"),
        "{err}"
    );
    let (out, _) = run(
        &cluster,
        dir.path(),
        &["up", "--binary", "/bin/false", "--address", "asset:7053", "--external-address", "--output", "json"],
    );
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["plan"]["sequence"], 1);
    let actions: Vec<&str> =
        v["plan"]["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["install", "approve"], "{v}");
    // The new package dials asset:7053, but the Service up rendered listens on 7052: drift (exit 7).
    let (out, _) = run(&cluster, dir.path(), &["status", "-f", "ccaas-deploy.yaml", "--output", "json"]);
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["drift"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["drift"][0]["kind"], "address");
    let message = s["drift"][0]["message"].as_str().unwrap();
    assert!(
        message
            .contains("dials asset:7053, which is not a Service of asset in namespace ccaas-up (asset.ccaas-up:7052)"),
        "{message}"
    );

    // 5. A new version: the next sequence.
    let (out, _) = run(
        &cluster,
        dir.path(),
        &[
            "up",
            "--binary",
            "/bin/false",
            "--address",
            "asset:7053",
            "--external-address",
            "--cc-version",
            "1.1",
            "--output",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["plan"]["sequence"], 2);

    // 6. Server TLS files, but cert-manager's Secret asset-tls is in the way: up stops before it
    //    changes anything (no image, no Fabric step), naming the Secret; --force-conflicts takes it
    //    over, and only Kubernetes changes.
    tls_files(dir.path());
    let with_tls = config.replace("kubernetes:\n", "kubernetes:\n  tls: {cert: tls.crt, key: tls.key}\n");
    std::fs::write(dir.path().join("tls.yaml"), with_tls).unwrap();
    let theirs = foreign_secret(&cluster, "ccaas-up", "asset-tls", Some("cert-manager"));
    let same = ["--binary", "/bin/false", "--address", "asset:7053", "--external-address", "--cc-version", "1.1"];
    let (out, _) = run(&cluster, dir.path(), &[&["up", "-f", "tls.yaml"], &same[..]].concat());
    let (stdout, err) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{err}");
    assert!(
        err.contains("Secret ccaas-up/asset-tls (labelled app.kubernetes.io/managed-by: cert-manager)")
            && err.contains("--force-conflicts")
            && err.contains("--tls-secret"),
        "{err}"
    );
    assert!(
        !stdout.contains("image: ") && !stdout.contains("fabric: "),
        "up changed things before refusing:\n{stdout}"
    );
    assert_eq!(secret(&cluster, "ccaas-up", "asset-tls").unwrap().1, theirs);
    let (out, _) = run(
        &cluster,
        dir.path(),
        &[&["up", "-f", "tls.yaml", "--force-conflicts", "--output", "json"], &same[..]].concat(),
    );
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    let changed: Vec<&str> = v["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changed.contains(&"kubernetes: Secret ccaas-up/asset-tls"), "{changed:?}");
    assert!(changed.iter().all(|c| c.starts_with("kubernetes: ")), "{changed:?}");
    assert_eq!(secret(&cluster, "ccaas-up", "asset-tls").unwrap().0["app.kubernetes.io/managed-by"], "ccaas-deploy");

    // 7. down: the Deployment, Service and Secret go, the definition stays.
    let (out, _) = run(&cluster, dir.path(), &["down", "-f", "tls.yaml"]);
    let text = ok(&out);
    for gone in ["Deployment ccaas-up/asset", "Service ccaas-up/asset", "Secret ccaas-up/asset-tls"] {
        assert!(text.contains(&format!("deleted {gone}")) || text.contains(&format!(", {gone}")), "{text}");
    }
    assert!(text.contains("asset version 1.1 sequence 2 stays committed on channel mychannel"), "{text}");
    assert!(secret(&cluster, "ccaas-up", "asset-tls").is_none());
    let (out, _) = run(&cluster, dir.path(), &["down"]);
    assert!(ok(&out).contains("nothing to delete"));
}

/// Both at once: `up` as Org1 on a two-org channel (MAJORITY Endorsement: Org2 must approve too,
/// so the commit waits, exit 3) with an image whose pods never become ready (the rollout fails,
/// exit 6). The exit code is the more severe, 6, and the JSON and stderr say both.
#[test]
fn up_that_waits_and_fails_its_rollout_says_both() {
    let Some(reg) = registry() else { return };
    let Some(cluster) = Cluster::up("k8s-up-wait", crate::ports::port(crate::ports::k8s::UP_WAIT)) else { return };
    let Some(t) = fabric::Testbed::up("k8s-up-wait", 2, crate::ports::port(crate::ports::testbed::K8S_UP_WAIT)) else {
        return;
    };
    let _node = nodesim::NodeSim::start(&cluster.kubeconfig, "ccaas-sim-up-wait");
    namespace(&cluster, "ccaas-up-wait");
    let dir = tempfile::tempdir().unwrap();
    // The node simulator keeps pods of an image named never-ready running and never ready.
    let config = format!(
        r#"chaincode:
  name: asset
  version: "1.0"
  signature_policy: "OR('Org1MSP.member')"
  address: asset:7052
image:
  reference: 127.0.0.1:{}/never-ready:1.0
  binary: /bin/true
  insecure: true
kubernetes:
  namespace: ccaas-up-wait
  progress_deadline_seconds: 8
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
    let (out, took) = run(&cluster, dir.path(), &["up", "--timeout", "40", "--output", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_reasons"], serde_json::json!(["waiting", "rollout"]), "{v}");
    assert_eq!(v["rolled_out"], false, "{v}");
    // The failure's fields, with the result's: the more severe kind, and the approval's transaction.
    assert_eq!(
        (v["kind"].as_str(), v["exit_code"].as_u64(), v["retryable"].as_bool()),
        (Some("rollout"), Some(6), Some(false))
    );
    let approvals: Vec<&Value> = v["fabric_done"].as_array().unwrap().iter().filter_map(|d| d.get("tx")).collect();
    assert_eq!(v["tx_ids"].as_array().unwrap().len(), approvals.len(), "{v}");
    assert!(
        !approvals.is_empty() && approvals.iter().all(|t| v["tx_ids"].as_array().unwrap().contains(&t["tx_id"])),
        "{v}"
    );
    assert!(!v["needed"].as_str().unwrap_or_default().is_empty(), "{v}");
    assert!(
        err.contains("did not roll out") && err.contains("also waiting for approvals of asset sequence 1"),
        "{err}"
    );
    eprintln!("up that waits and fails its rollout: exit 6 in {took:.1?}\n{err}");
}
