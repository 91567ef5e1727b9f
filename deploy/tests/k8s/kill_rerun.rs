//! `up` killed with SIGKILL at a random point (image assembly and push, install, approve, commit,
//! apply, rollout), then run again plainly: the re-run finishes the job with no cleanup, and the
//! registry, the channel and the cluster end as one uninterrupted run leaves them: the tag holds
//! the image of that binary, the definition is committed at the next sequence (not one more) with
//! the package approved, the Deployment runs that image and package and is rolled out, and a
//! further `up` has nothing to do. Each run brings a new binary and version, so each has every
//! step to do. See `tests/common/kill.rs` for `CCAAS_KILL_RUNS` and `CCAAS_KILL_SEED`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Cluster, DEPLOY};
use crate::up::{fabric, ok, registry, run};
use crate::{deployment, kill, namespace, nodesim};

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A copy of /bin/true with `n` more bytes: another binary, so another image.
fn binary(dir: &Path, n: u32) -> PathBuf {
    let mut bytes = std::fs::read("/bin/true").unwrap();
    bytes.extend(std::iter::repeat_n(0u8, n as usize + 1));
    let path = dir.join(format!("true-{n}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn up_killed_at_any_point_then_rerun_ends_as_one_run() {
    let Some(reg) = registry() else { return };
    let Some(cluster) = Cluster::up("k8s-kill", crate::ports::port(crate::ports::k8s::KILL)) else { return };
    let Some(t) = fabric::Testbed::up("k8s-kill", 1, crate::ports::port(crate::ports::testbed::K8S_KILL)) else {
        return;
    };
    let _node = nodesim::NodeSim::start(&cluster.kubeconfig, "ccaas-sim-kill");
    namespace(&cluster, "ccaas-kill");
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("127.0.0.1:{}/kill:1", reg.1);
    let config = format!(
        r#"chaincode:
  name: asset
  version: "0"
  signature_policy: "OR('Org1MSP.member')"
  address: asset:7052
image:
  reference: {reference}
  binary: /bin/true
  insecure: true
kubernetes:
  namespace: ccaas-kill
  node_selector: {{"{label}": "true"}}
  tolerations: [{{key: "{label}", operator: Equal, value: "true", effect: NoSchedule}}]
fabric:
  config: {}
  user: admin
"#,
        t.var("ORG1_NETWORK_CONFIG"),
        label = nodesim::LABEL
    );
    std::fs::write(dir.path().join("ccaas-deploy.yaml"), config).unwrap();
    let up = |i: u32, bin: &Path| -> Vec<String> {
        ["up", "--binary", bin.to_str().unwrap(), "--cc-version", &i.to_string(), "--output", "json"]
            .map(String::from)
            .to_vec()
    };
    // What one run leaves: checked after the uninterrupted run and after each re-run.
    let check = |i: u32, bin: &Path, v: &Value| {
        let image = ccaas_deploy::image::build(&ccaas_deploy::image::ImageSpec::new(bin)).unwrap();
        let (out, _) = run(&cluster, dir.path(), &args(&up(i, bin)));
        let again: Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!(again["changed"], serde_json::json!([]), "a further up changed things: {again}");
        assert_eq!(again["image"]["digest"].as_str(), Some(image.digest()), "the registry's image: {again}");
        assert_eq!(v["plan"]["sequence"], i64::from(i) + 1, "{v}");
        let package_id = v["package_id"].as_str().unwrap();
        let qc = t
            .peer_cli(1, &["lifecycle", "chaincode", "querycommitted", "-C", "mychannel", "-n", "asset", "-O", "json"]);
        let qc: Value = serde_json::from_slice(&qc.stdout).unwrap();
        assert_eq!((qc["sequence"].as_i64(), qc["version"].as_str()), (Some(i64::from(i) + 1), Some(&*i.to_string())));
        let d = deployment(&cluster, "ccaas-kill", "asset");
        let c = &d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0];
        assert_eq!(
            c.image.as_deref(),
            Some(&*format!("127.0.0.1:{}/kill@{}", reg.1, image.digest())),
            "the pods' image"
        );
        let env = c.env.as_ref().unwrap().iter().find(|e| e.name == "CHAINCODE_ID").unwrap();
        assert_eq!(env.value.as_deref(), Some(package_id));
        let status = d.status.unwrap_or_default();
        assert_eq!((status.updated_replicas, status.ready_replicas), (Some(1), Some(1)), "not rolled out");
    };

    let mut delays = kill::Delays::new("up kills");
    let bin = binary(dir.path(), 0);
    let (out, full) = run(&cluster, dir.path(), &args(&up(0, &bin)));
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    check(0, &bin, &v);
    let mut rows = Vec::new();
    for i in 1..=kill::runs() {
        let bin = binary(dir.path(), i);
        let delay = delays.below(full);
        let mut killed = Command::new(DEPLOY);
        killed
            .env_clear()
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env("XDG_CACHE_HOME", dir.path().join(".cache"))
            .current_dir(dir.path())
            .args(args(&up(i, &bin)));
        let ended = kill::kill_after(&mut killed, delay);
        let (out, rerun_took) = run(&cluster, dir.path(), &args(&up(i, &bin)));
        let code = out.status.code().unwrap_or(-1);
        assert_eq!(
            code,
            0,
            "run {i}, killed after {delay:?}: the re-run failed\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        check(i, &bin, &v);
        let changed = v["changed"].as_array().map_or(0, Vec::len);
        rows.push(kill::Row {
            run: i,
            delay,
            full,
            ended,
            rerun_code: code,
            rerun_took,
            rerun_did: format!("{} ({changed} changes)", kill::actions(&v["fabric_done"])),
            rerun_replans: v["replans"].as_array().map_or(0, Vec::len),
        });
    }
    // And once where the random delays seldom fall: once the rollout has begun.
    let i = kill::runs() + 1;
    let bin = binary(dir.path(), i);
    let mut killed = Command::new(DEPLOY);
    killed
        .env_clear()
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("XDG_CACHE_HOME", dir.path().join(".cache"))
        .current_dir(dir.path())
        .args(args(&up(i, &bin)));
    let delay = kill::kill_at(&mut killed, "kubernetes: ");
    let (out, rerun_took) = run(&cluster, dir.path(), &args(&up(i, &bin)));
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(code, 0, "killed in the rollout: the re-run failed\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    check(i, &bin, &v);
    let changed = v["changed"].as_array().map_or(0, Vec::len);
    rows.push(kill::Row {
        run: i,
        delay,
        full,
        ended: None,
        rerun_code: code,
        rerun_took,
        rerun_did: format!(
            "{} ({changed} changes; killed at its first `kubernetes:` line)",
            kill::actions(&v["fabric_done"])
        ),
        rerun_replans: v["replans"].as_array().map_or(0, Vec::len),
    });
    kill::report("up killed with SIGKILL, then run again", &rows);
}
