//! A node simulator: registers a Ready node (labelled `ccaas-deploy/simulated=true` and, unless it
//! runs containers for real, tainted `ccaas-deploy/simulated=true:NoSchedule`), keeps its heartbeat, and drives the status of
//! the pods bound to it as a kubelet would, by image name:
//!
//! * an image containing `never-ready`: running, never ready (a `Readiness probe failed` event);
//! * `crashloop`: waiting in CrashLoopBackOff (last exit code 1);
//! * `no-such-image`: waiting in ImagePullBackOff;
//! * anything else: running and ready.
//!
//! Started with [`NodeSim::start_running_untainted`], it runs the containers of ready pods for real: it
//! copies the pod's image from its registry with skopeo, unpacks the layer, and starts the
//! entrypoint as a process on the host network with the image's and the pod's environment (a
//! dynamically linked entrypoint through the image's own loader and libraries); the pod turns
//! ready when the container port accepts connections, and a process that exits leaves it in
//! CrashLoopBackOff with its exit code and, under `terminationMessagePolicy:
//! FallbackToLogsOnError`, the end of its log as the termination message, as the kubelet does.
//!
//! Pods being deleted are removed at once (and their process, if any, killed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

pub const LABEL: &str = "ccaas-deploy/simulated";

pub struct NodeSim {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn now() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // RFC 3339 in UTC from Unix seconds.
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Howard Hinnant's days-to-civil.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl NodeSim {
    /// Registers node `name` in the cluster of `kubeconfig` and drives its pods until dropped.
    pub fn start(kubeconfig: &std::path::Path, name: &str) -> NodeSim {
        Self::start_with(kubeconfig, name, true, false)
    }

    /// Like [`NodeSim::start`] without the taint (any pod may land on it), and runs the
    /// containers of ready pods for real.
    pub fn start_running_untainted(kubeconfig: &std::path::Path, name: &str) -> NodeSim {
        Self::start_with(kubeconfig, name, false, true)
    }

    /// Like [`NodeSim::start`] without the taint: any pod may land on it (and is not run).
    pub fn start_untainted(kubeconfig: &std::path::Path, name: &str) -> NodeSim {
        Self::start_with(kubeconfig, name, false, false)
    }

    fn start_with(kubeconfig: &std::path::Path, name: &str, taint: bool, run: bool) -> NodeSim {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let kubeconfig = kubeconfig.to_path_buf();
        let node = name.to_string();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let client = ccaas_deploy::rollout::client(Some(&kubeconfig)).await.unwrap();
                register(&client, &node, taint).await;
                ready_tx.send(()).unwrap();
                let mut beat = 0u32;
                let mut runner = Runner { enabled: run, ..Runner::default() };
                while !flag.load(Ordering::Relaxed) {
                    if beat.is_multiple_of(20) {
                        heartbeat(&client, &node).await;
                    }
                    beat += 1;
                    if let Err(e) = drive_pods(&client, &node, &mut runner).await {
                        eprintln!("node simulator {node}: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                runner.stop_all();
                let nodes: Api<Node> = Api::all(client);
                let _ = nodes.delete(&node, &DeleteParams::default()).await;
            });
        });
        ready_rx.recv_timeout(Duration::from_secs(30)).expect("the node simulator registered its node");
        NodeSim { stop, thread: Some(thread) }
    }
}

impl Drop for NodeSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn register(client: &Client, name: &str, taint: bool) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", LABEL: "true"}},
        "spec": {"taints": if taint { json!([{"key": LABEL, "value": "true", "effect": "NoSchedule"}]) } else { json!([]) }},
    });
    nodes.patch(name, &PatchParams::apply("node-simulator").force(), &Patch::Apply(&node)).await.unwrap();
    heartbeat(client, name).await;
}

async fn heartbeat(client: &Client, name: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let t = now();
    let capacity = json!({"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    let status = json!({"status": {
        "capacity": capacity, "allocatable": capacity,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "node simulator",
             "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
             "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
             "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
             "lastHeartbeatTime": t, "lastTransitionTime": t}],
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
        "nodeInfo": {"machineID": "sim", "systemUUID": "sim", "bootID": "sim", "kernelVersion": "sim",
            "osImage": "node simulator", "containerRuntimeVersion": "sim://1", "kubeletVersion": "v1.20.2",
            "kubeProxyVersion": "v1.20.2", "operatingSystem": "linux", "architecture": "amd64"},
    }});
    if let Err(e) = nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await {
        eprintln!("node simulator {name}: heartbeat: {e}");
    }
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Behaviour {
    Ready,
    NeverReady,
    CrashLoop,
    ImagePullBackOff,
}

fn behaviour(image: &str) -> Behaviour {
    if image.contains("never-ready") {
        Behaviour::NeverReady
    } else if image.contains("crashloop") {
        Behaviour::CrashLoop
    } else if image.contains("no-such-image") {
        Behaviour::ImagePullBackOff
    } else {
        Behaviour::Ready
    }
}

/// The containers run for real, by pod UID.
#[derive(Default)]
struct Runner {
    enabled: bool,
    children: std::collections::BTreeMap<String, (std::process::Child, u16, tempfile::TempDir)>,
}

impl Runner {
    fn stop(&mut self, uid: &str) {
        if let Some((mut c, _, _)) = self.children.remove(uid) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn stop_all(&mut self) {
        let uids: Vec<String> = self.children.keys().cloned().collect();
        for u in uids {
            self.stop(&u);
        }
    }

    /// Pulls `image`, unpacks it and starts its entrypoint with `env`; returns the process.
    fn start(&mut self, uid: &str, image: &str, env: &[(String, String)], port: u16) -> Result<(), String> {
        use std::io::Read;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let layout = dir.path().join("oci");
        let out = std::process::Command::new("skopeo")
            .args(["copy", "--src-tls-verify=false", &format!("docker://{image}")])
            .arg(format!("oci:{}:run", layout.display()))
            .output()
            .map_err(|e| format!("skopeo: {e}"))?;
        if !out.status.success() {
            return Err(format!("skopeo copy {image}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let read_json = |p: std::path::PathBuf| -> Result<serde_json::Value, String> {
            serde_json::from_slice(&std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?)
                .map_err(|e| e.to_string())
        };
        let blob = |d: &serde_json::Value| {
            layout.join("blobs/sha256").join(d.as_str().unwrap_or("").trim_start_matches("sha256:"))
        };
        let index = read_json(layout.join("index.json"))?;
        let manifest = read_json(blob(&index["manifests"][0]["digest"]))?;
        let config = read_json(blob(&manifest["config"]["digest"]))?;
        let rootfs = dir.path().join("rootfs");
        for layer in manifest["layers"].as_array().cloned().unwrap_or_default() {
            let gz = std::fs::read(blob(&layer["digest"])).map_err(|e| e.to_string())?;
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut tar).map_err(|e| e.to_string())?;
            tar::Archive::new(tar.as_slice()).unpack(&rootfs).map_err(|e| e.to_string())?;
        }
        let entrypoint = config["config"]["Entrypoint"][0].as_str().ok_or("the image has no entrypoint")?;
        let exe = rootfs.join(entrypoint.trim_start_matches('/'));
        let loader = rootfs.join("lib64/ld-linux-x86-64.so.2");
        let mut cmd = if loader.is_file() {
            let mut c = std::process::Command::new(&loader);
            c.arg("--inhibit-cache")
                .arg("--library-path")
                .arg(format!(
                    "{}:{}",
                    rootfs.join("lib/x86_64-linux-gnu").display(),
                    rootfs.join("usr/lib/x86_64-linux-gnu").display()
                ))
                .arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        cmd.env_clear();
        for e in config["config"]["Env"].as_array().cloned().unwrap_or_default() {
            if let Some((k, v)) = e.as_str().and_then(|e| e.split_once('=')) {
                cmd.env(k, v);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let log = std::fs::File::create(dir.path().join("container.log")).map_err(|e| e.to_string())?;
        cmd.stdout(log.try_clone().map_err(|e| e.to_string())?).stderr(log);
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        self.children.insert(uid.to_string(), (child, port, dir));
        Ok(())
    }

    /// Whether the pod's process listens; its exit code and log when it exited.
    fn listening(&mut self, uid: &str) -> Result<bool, (i32, String)> {
        let Some((child, port, dir)) = self.children.get_mut(uid) else { return Ok(false) };
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("container.log")).unwrap_or_default();
            return Err((status.code().unwrap_or(128), log));
        }
        Ok(std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok())
    }
}

async fn drive_pods(client: &Client, node: &str, runner: &mut Runner) -> Result<(), kube::Error> {
    let all: Api<Pod> = Api::all(client.clone());
    let pods = all.list(&ListParams::default().fields(&format!("spec.nodeName={node}"))).await?;
    for pod in pods.items {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() {
            runner.stop(&uid);
            let _ = api.delete(&name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
            continue;
        }
        let spec = pod.spec.clone().unwrap_or_default();
        let Some(container) = spec.containers.first() else { continue };
        let image = container.image.clone().unwrap_or_default();
        let b = behaviour(&image);
        let mut marker = format!("{b:?}");
        let mut running_for_real = false;
        // A container run for real that exited: its exit code and termination message.
        let mut exited: Option<(i32, String)> = None;
        if runner.enabled && b == Behaviour::Ready {
            // Run the container; the pod is ready when its port accepts connections.
            if !runner.children.contains_key(&uid) {
                let env: Vec<(String, String)> = container
                    .env
                    .iter()
                    .flatten()
                    .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
                    .collect();
                let port =
                    container.ports.as_ref().and_then(|p| p.first()).map(|p| p.container_port as u16).unwrap_or(7052);
                if let Err(e) = runner.start(&uid, &image, &env, port) {
                    eprintln!("node simulator {node}: pod {ns}/{name}: {e}");
                    continue;
                }
            }
            match runner.listening(&uid) {
                Ok(true) => running_for_real = true,
                Ok(false) => marker = "Starting".into(),
                Err((code, log)) => {
                    eprintln!("node simulator {node}: pod {ns}/{name}: the container exited ({code}): {log}");
                    marker = "Exited".into();
                    // As the kubelet does with FallbackToLogsOnError: the log's last 80 lines, at
                    // most 2048 bytes, when the container failed and wrote no message file.
                    let fallback = container.termination_message_policy.as_deref() == Some("FallbackToLogsOnError");
                    let message = if fallback && code != 0 {
                        let lines: Vec<&str> = log.lines().collect();
                        let tail = lines[lines.len().saturating_sub(80)..].join("\n");
                        let mut start = tail.len().saturating_sub(2048);
                        while !tail.is_char_boundary(start) {
                            start += 1;
                        }
                        tail[start..].to_string()
                    } else {
                        String::new()
                    };
                    exited = Some((code, message));
                }
            }
        }
        let current = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("ccaas-deploy/simulated-state"))
            .cloned()
            .unwrap_or_default();
        if current == marker {
            continue;
        }
        let t = now();
        let cond = |ty: &str, ok: bool| json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastTransitionTime": t});
        let ready = b == Behaviour::Ready && (!runner.enabled || running_for_real);
        let state = match b {
            _ if exited.is_some() => json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 10s restarting failed container={} pod={name}", container.name)}}),
            Behaviour::Ready | Behaviour::NeverReady => json!({"running": {"startedAt": t}}),
            Behaviour::CrashLoop => json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 40s restarting failed container={} pod={name}", container.name)}}),
            Behaviour::ImagePullBackOff => json!({"waiting": {"reason": "ImagePullBackOff",
                "message": format!("Back-off pulling image \"{image}\"")}}),
        };
        let mut cs = json!({"name": container.name, "ready": ready, "started": matches!(b, Behaviour::Ready | Behaviour::NeverReady),
            "restartCount": if b == Behaviour::CrashLoop { 3 } else { 0 }, "image": image, "imageID": "", "state": state});
        if b == Behaviour::CrashLoop {
            cs["lastState"] =
                json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": t, "finishedAt": t}});
        }
        if let Some((code, message)) = &exited {
            cs["started"] = json!(false);
            cs["restartCount"] = json!(1);
            cs["lastState"] = json!({"terminated": {"exitCode": code, "reason": "Error", "message": message,
                "startedAt": t, "finishedAt": t}});
        }
        let phase = if b == Behaviour::ImagePullBackOff { "Pending" } else { "Running" };
        let status = json!({"status": {
            "phase": phase, "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}], "startTime": t,
            "conditions": [cond("Initialized", true), cond("Ready", ready), cond("ContainersReady", ready), cond("PodScheduled", true)],
            "containerStatuses": [cs],
        }});
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await?;
        let mark = json!({"metadata": {"annotations": {"ccaas-deploy/simulated-state": marker}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&mark)).await?;
        if b == Behaviour::NeverReady {
            let events: Api<Event> = Api::namespaced(client.clone(), &ns);
            let ev: Event = serde_json::from_value(json!({
                "metadata": {"generateName": format!("{name}."), "namespace": ns},
                "involvedObject": {"kind": "Pod", "namespace": ns, "name": name, "uid": pod.metadata.uid,
                    "apiVersion": "v1", "fieldPath": format!("spec.containers{{{}}}", container.name)},
                "reason": "Unhealthy", "type": "Warning",
                "message": format!("Readiness probe failed: dial tcp 127.0.0.1:{}: connect: connection refused",
                    container.ports.as_ref().and_then(|p| p.first()).map(|p| p.container_port).unwrap_or(7052)),
                "source": {"component": "kubelet", "host": node},
                "firstTimestamp": t, "lastTimestamp": t, "count": 1,
            }))
            .unwrap();
            events.create(&PostParams::default(), &ev).await?;
        }
    }
    Ok(())
}
