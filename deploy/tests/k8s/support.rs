//! The cluster for these tests: the k8s-testbed (`<workspace>/../shared/k8s-testbed`, or
//! `$K8S_TESTBED_DIR`), started in a temporary state directory on an API port of its own per test
//! group (an offset in the process's slot of ports, etcd 64 below: ../common/ports.rs has the table) and stopped with `down --wipe` when dropped; or any cluster named by `CCAAS_K8S_KUBECONFIG` (a
//! kubeconfig file), which is used as it is (the workloads then only land on the simulated
//! node: it is tainted and labelled, and they select and tolerate it).
//!
//! Without a testbed and without `CCAAS_K8S_KUBECONFIG` the tests skip with one line, except
//! under `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

pub const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

pub struct Cluster {
    pub kubeconfig: PathBuf,
    testbed: Option<(PathBuf, PathBuf)>,
    _tmp: Option<tempfile::TempDir>,
}

/// Whether an `up` of this process has succeeded. Until one has, `up`s run one at a time: on a
/// machine without etcd the testbed installs Debian's etcd-server, and apt refuses a second install
/// while one runs (the dpkg lock).
static UP_SUCCEEDED: Mutex<bool> = Mutex::new(false);

fn testbed_dir() -> PathBuf {
    match std::env::var_os("K8S_TESTBED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/k8s-testbed"),
    }
}

impl Cluster {
    /// Starts a testbed with its API on `api_port` and etcd on `api_port - 64` (and the next port).
    pub fn up(group: &str, api_port: u16) -> Option<Cluster> {
        if let Some(kc) = std::env::var_os("CCAAS_K8S_KUBECONFIG") {
            eprintln!("{group}: using the cluster of CCAAS_K8S_KUBECONFIG={}", PathBuf::from(&kc).display());
            return Some(Cluster { kubeconfig: kc.into(), testbed: None, _tmp: None });
        }
        let dir = testbed_dir();
        if !dir.join("up").is_file() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but there is no k8s-testbed at {} (set K8S_TESTBED_DIR)", dir.display());
            }
            eprintln!(
                "skipping {group}: no k8s-testbed at {} and no CCAAS_K8S_KUBECONFIG; set one to run these tests",
                dir.display()
            );
            return None;
        }
        let tmp = tempfile::Builder::new().prefix(&format!("ccaas-deploy-{group}-")).tempdir().unwrap();
        let state = tmp.path().join("state");
        let started = Instant::now();
        let etcd_port = (api_port - 64).to_string();
        let api_port = api_port.to_string();
        let up = || {
            Command::new(dir.join("up"))
                .arg(&state)
                .env("K8S_TESTBED_API_PORT", &api_port)
                .env("K8S_TESTBED_ETCD_PORT", &etcd_port)
                .output()
                .unwrap()
        };
        let mut succeeded = UP_SUCCEEDED.lock().unwrap_or_else(|e| e.into_inner());
        let out = if *succeeded {
            drop(succeeded);
            up()
        } else {
            let out = up();
            *succeeded = out.status.success();
            out
        };
        let mut cluster =
            Cluster { kubeconfig: PathBuf::new(), testbed: Some((dir.clone(), state.clone())), _tmp: Some(tmp) };
        assert!(out.status.success(), "k8s-testbed up failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let kubeconfig = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string();
        eprintln!("{group}: k8s-testbed up on port {api_port} in {:.1?}", started.elapsed());
        cluster.kubeconfig = kubeconfig.into();
        Some(cluster)
    }

    /// `ccaas-deploy` with a clean environment and this cluster's kubeconfig in `KUBECONFIG`.
    pub fn deploy(&self, args: &[&str]) -> Output {
        Command::new(DEPLOY).env_clear().env("KUBECONFIG", &self.kubeconfig).args(args).output().unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some((dir, state)) = self.testbed.take() {
            let _ = Command::new(dir.join("down")).arg(&state).arg("--wipe").output();
        }
    }
}
