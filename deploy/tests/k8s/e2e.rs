//! End to end, and docs/deploying.md's "From source to a running chaincode" run as written (with a
//! port of the run's own for the page's 9997):
//! `ccaas-deploy up` assembles the asset-transfer-basic example's image (from the workspace's
//! build of it: dynamically linked, so its libraries go into the image), pushes it to Debian's
//! docker-registry on loopback, installs, approves and commits it on the fabric-testbed, and
//! rolls it out on the k8s-testbed, where the node simulator pulls the image with skopeo and runs
//! its entrypoint on the host network. The real peer then reaches the chaincode: InitLedger and
//! ReadAsset through the peer return the Go sample's bytes. A second `up` does nothing; `down`
//! removes the servers. Then a server that stops at startup (a bad variable): `up` fails naming
//! the crash loop and the server's own error.

use std::process::Command;
use std::time::Instant;

use crate::doc_block::sh_block;
use crate::support::Cluster;
use crate::up::{fabric, registry};
use crate::{namespace, nodesim};

#[test]
fn docs_from_source_to_a_running_chaincode() {
    let script = sh_block("docs/deploying.md", "## From source to a running chaincode");
    assert!(script.contains("ccaas-deploy up"));
    // The page's chaincode port (the node simulator runs the server on the host), moved into this
    // run's own ports.
    assert!(script.contains("127.0.0.1:9997") && script.contains("port: 9997"), "{script}");
    let port = crate::ports::port(crate::ports::chaincode::K8S_E2E).to_string();
    let script =
        script.replace("127.0.0.1:9997", &format!("127.0.0.1:{port}")).replace("port: 9997", &format!("port: {port}"));
    let Some(reg) = registry() else { return };
    if which("skopeo").is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but skopeo is missing (.ci/run installs it)");
        }
        eprintln!("skipping docs_from_source_to_a_running_chaincode: skopeo is not installed");
        return;
    }
    let Some(cluster) = Cluster::up("k8s-e2e", crate::ports::port(crate::ports::k8s::E2E)) else { return };
    let Some(t) = fabric::Testbed::up("k8s-e2e", 1, crate::ports::port(crate::ports::testbed::K8S_E2E)) else { return };
    let bin = fabric::bin_dir();
    // Untainted, so the page's workload (no tolerations) lands on it.
    let _node = nodesim::NodeSim::start_running_untainted(&cluster.kubeconfig, "ccaas-sim-e2e");
    namespace(&cluster, "default");
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", bin.display(), t.var("FABRIC_BIN"));
    let started = Instant::now();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .envs(&t.env)
        .env("PATH", path)
        .env("FABRIC_LOGGING_SPEC", "warning")
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("REGISTRY", format!("127.0.0.1:{}", reg.1))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "docs/deploying.md's section failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    eprintln!("docs/deploying.md's section (two ups, invoke, query, down): {:.1?}", started.elapsed());
    for expected in [
        "kubernetes: deployment basic successfully rolled out",
        r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#,
        "nothing to do: basic version 1.0 sequence 1",
        "deleted Deployment default/basic",
        "basic version 1.0 sequence 1 stays committed on channel mychannel",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}\nstderr:\n{stderr}");
    }
    // The query's output line is exactly the Go sample's bytes.
    assert!(stdout
        .lines()
        .any(|l| l == r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#));

    // A server that stops at startup: `up` names the crash loop with the server's own words (the
    // end of its log, the termination message of the container `render` makes).
    let config = std::fs::read_to_string(dir.path().join("ccaas-deploy.yaml")).unwrap();
    let broken = config.replace("kubernetes:\n", "kubernetes:\n  env: {CHAINCODE_TRANSACTION_TIMEOUT: soon}\n");
    assert_ne!(broken, config);
    std::fs::write(dir.path().join("broken.yaml"), broken).unwrap();
    let deploy = |args: &[&str]| {
        Command::new(bin.join("ccaas-deploy"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .envs(&t.env)
            .env("PATH", format!("{}:/usr/bin:/bin", t.var("FABRIC_BIN")))
            .env("KUBECONFIG", &cluster.kubeconfig)
            .output()
            .unwrap()
    };
    let out = deploy(&["up", "-f", "broken.yaml", "--timeout", "20"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("CrashLoopBackOff")
            && err.contains("(last exit code 2, restarts 1), its log ending in: ")
            && err.contains(r#"CHAINCODE_TRANSACTION_TIMEOUT="soon" is not a positive duration"#),
        "{err}"
    );
    let out = deploy(&["down", "-f", "broken.yaml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| std::path::Path::new(d).join(tool)).find(|p| p.is_file())
}
