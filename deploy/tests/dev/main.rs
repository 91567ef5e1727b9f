//! `ccaas-deploy dev` against real Fabric binaries (the fabric-testbed's release tarball): the
//! first deploy, an edited chaincode answering through the peer, a failed build that leaves the
//! old server serving, definition changes committed at sequences 2 (ccaas-deploy.yaml) and 3 (a
//! flag), Ctrl-C leaving no process,
//! `--keep` and the next start with the ledger, from the crate's folder and with `-p` from its
//! workspace, and a run after a `dev` that was killed stopping what that one left.
//!
//! One network serves the steps; a two-org network runs beside it (16 ports each, from port bases in
//! the process's own slot of ports: ../common/ports.rs has the table). The chaincode crate is written to a temporary
//! folder and built into the workspace's target directory (its dependencies are the workspace's).
//! The timings are printed (docs/benchmarks.md has them).

#[path = "../common/cargo_env.rs"]
mod cargo_env;
#[path = "../common/ports.rs"]
mod ports;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use support::{deploy_as_org1, fabric_release, running, until_answer, workspace, Dev};

/// A contract whose `Version` answers `version`, with `Put` and `Get` for the ledger.
fn contract(version: &str) -> String {
    format!(
        r#"use ccaas_shim::prelude::*;

/// The contract of dev's test.
#[derive(Debug, Default)]
pub struct DevContract;

#[contract(rename_all = "PascalCase")]
impl DevContract {{
    /// Which build answers.
    #[transaction(evaluate)]
    pub async fn version(&self, _ctx: &Context<'_>) -> String {{
        "{version}".to_string()
    }}

    /// Writes `value` under `key`.
    #[transaction]
    pub async fn put(&self, ctx: &Context<'_>, key: String, value: String) -> Result<()> {{
        Ok(ctx.stub().put_state(&key, value.into_bytes()).await?)
    }}

    /// The value under `key`.
    #[transaction(evaluate)]
    pub async fn get(&self, ctx: &Context<'_>, key: String) -> Result<String> {{
        let value = ctx.stub().get_state(&key).await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&value).into_owned())
    }}
}}
"#
    )
}

const UP_FILE: &str = r#"chaincode:
  name: devcc
  version: "1.0"
  address: devcc:7052
image:
  reference: registry.example.com/devcc:1.0
"#;

/// A workspace with the member `name` (a chaincode crate on the workspace's shim, with the
/// workspace's profiles and lockfile, so its dependencies build as the workspace's do), and
/// `up_file` as its ccaas-deploy.yaml.
fn write_crate(root: &Path, name: &str, up_file: Option<&str>) -> std::path::PathBuf {
    let ws = workspace();
    let manifest = std::fs::read_to_string(ws.join("Cargo.toml")).unwrap();
    // Its profiles, but those of packages the crate does not have (cargo would warn).
    let profiles: String = manifest[manifest.find("\n[profile.").expect("the workspace has profiles")..]
        .split("\n[")
        .filter(|section| {
            !section.starts_with("profile.dev.package.") || section.starts_with("profile.dev.package.\"*\"")
        })
        .collect::<Vec<_>>()
        .join("\n[");
    std::fs::write(
        root.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [\"{name}\"]\n{profiles}\n"),
    )
    .unwrap();
    std::fs::copy(ws.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nccaas-shim = {{ path = {:?} }}\ntokio = {{ version = \"1\", features = [\"full\"] }}\n",
            ws.join("shim").display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), contract("v1")).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        format!(
            "#[tokio::main(flavor = \"current_thread\")]\nasync fn main() -> std::process::ExitCode {{\n    \
             ccaas_shim::run_from_env({name}::DevContract).await\n}}\n"
        ),
    )
    .unwrap();
    if let Some(up_file) = up_file {
        std::fs::write(dir.join("ccaas-deploy.yaml"), up_file).unwrap();
    }
    dir
}

#[test]
fn dev_deploys_rebuilds_on_save_redefines_stops_and_restarts_with_the_ledger() {
    let Some(fabric) = fabric_release("dev") else { return };
    let tmp = tempfile::Builder::new().prefix("ccaas-deploy-dev-").tempdir().unwrap();
    let dir = write_crate(tmp.path(), "devcc", Some(UP_FILE));
    let state = tmp.path().join("state");
    let target = workspace().join("target");
    let env = vec![("CARGO_TARGET_DIR".to_string(), target.display().to_string())];
    let port_base = ports::port(ports::dev::ONE_ORG).to_string();
    let args = ["--fabric", fabric.to_str().unwrap(), "--port-base", &port_base, "--keep"];

    // The crate is built first: the target is the first start with a built binary.
    let t = Instant::now();
    let mut build = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    support::clean_env(&mut build).args(["build", "-p", "devcc"]).current_dir(&dir).env("CARGO_TARGET_DIR", &target);
    assert!(build.status().unwrap().success(), "the test crate does not build");
    eprintln!("dev: the test crate built in {:.1?}", t.elapsed());

    // 1. The first deploy, from the crate's folder.
    let mut dev = Dev::start(&dir, &state, &args, &env);
    dev.wait_for(0, "dev: ready in", Duration::from_secs(120));
    let query = ["query", "-n", "devcc", "Version"];
    until_answer(&state, &query, "v1", Duration::from_secs(20));
    let first = dev.started.elapsed();
    let out = dev.output();
    for expected in [
        "starting a new network: Fabric",
        "lifecycle: Org1MSP: install package devcc_dev:",
        "devcc version 1.0 is committed at sequence 1 with package devcc_dev:",
        "chaincode | ", // the server's log among the steps
    ] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
    let (code, _, err) = deploy_as_org1(&state, &["invoke", "-n", "devcc", "Put", "k1", "kept"]);
    assert_eq!(code, 0, "{err}");
    // The printed file works for the peer CLI too.
    let peer = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#". "$1" && peer chaincode query -C mychannel -n devcc -c '{"Args":["Get","k1"]}'"#)
        .arg("-")
        .arg(state.join("org1.env"))
        .env("FABRIC_LOGGING_SPEC", "warning")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&peer.stdout).trim(), "kept", "{}", String::from_utf8_lossy(&peer.stderr));

    // 2. An edit: the new code answers through the peer, with no lifecycle transaction.
    let lib = dir.join("src/lib.rs");
    let mark = dev.mark();
    std::fs::write(&lib, contract("v2")).unwrap();
    let saved = Instant::now();
    until_answer(&state, &query, "v2", Duration::from_secs(120));
    let edit = saved.elapsed();
    let built = dev.wait_for(mark, "dev: built in", Duration::from_secs(5));
    let serving = dev.wait_for(mark, "after the save", Duration::from_secs(5));
    assert!(!dev.output()[..].split('\n').skip(mark).any(|l| l.contains("lifecycle:")), "{}", dev.output());

    // 3. A failed build: the compiler's errors are shown and the old server keeps answering.
    let mark = dev.mark();
    std::fs::write(&lib, contract("v3") + "\nfn broken( {\n").unwrap();
    dev.wait_for(
        mark,
        "the build failed (the compiler's errors are above); the previous build keeps serving",
        Duration::from_secs(120),
    );
    assert!(
        dev.output().split('\n').skip(mark).any(|l| l.contains("error")),
        "no compiler error shown:\n{}",
        dev.output()
    );
    until_answer(&state, &query, "v2", Duration::from_secs(5));
    std::fs::write(&lib, contract("v3")).unwrap();
    until_answer(&state, &query, "v3", Duration::from_secs(120));

    // 4. A definition change in ccaas-deploy.yaml: approved and committed at sequence 2.
    let mark = dev.mark();
    std::fs::write(dir.join("ccaas-deploy.yaml"), UP_FILE.replace("\"1.0\"", "\"2.0\"")).unwrap();
    dev.wait_for(mark, "the definition changed (version 1.0 → 2.0)", Duration::from_secs(30));
    dev.wait_for(mark, "devcc version 2.0 is committed at sequence 2", Duration::from_secs(30));
    let (code, out, err) = deploy_as_org1(&state, &["committed", "-n", "devcc"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("devcc version 2.0 sequence 2"), "{out}");
    until_answer(&state, &query, "v3", Duration::from_secs(5));

    // 5. Ctrl-C: nothing left running; --keep keeps the network's state.
    let procs = dev.recorded();
    let names: Vec<&str> = procs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["chaincode", "orderer", "peer0.org1"]);
    dev.signal(Signal::INT);
    assert!(dev.wait_exit(Duration::from_secs(60)).success(), "{}", dev.output());
    for (name, pid) in &procs {
        assert!(!running(*pid), "{name} (pid {pid}) still runs after Ctrl-C");
    }
    assert!(state.join("network.json").is_file() && state.join("data").is_dir(), "--keep kept nothing");
    assert!(dev.output().contains("the network's state is kept in"), "{}", dev.output());

    // 6. The next start, from the workspace's root with -p, in a shell that sourced org1.env (the
    // peer CLI's variables name no other network for dev, and do not turn the server's TLS on):
    // the kept network, its ledger, its sequence 2, nothing to approve again.
    let mut again: Vec<&str> = vec!["-p", "devcc"];
    again.extend(args);
    let mut sourced = env.clone();
    sourced.extend(support::env_file(&state.join("org1.env")));
    let mut dev = Dev::start(tmp.path(), &state, &again, &sourced);
    until_answer(&state, &query, "v3", Duration::from_secs(60));
    let second = dev.started.elapsed();
    dev.wait_for(0, "dev: ready in", Duration::from_secs(5));
    until_answer(&state, &["query", "-n", "devcc", "Get", "k1"], "kept", Duration::from_secs(5));
    let out = dev.output();
    assert!(out.contains("starting the kept network"), "{out}");
    assert!(
        out.contains("devcc version 2.0 is committed at sequence 2 with package devcc_dev:")
            && out.contains("(already)"),
        "{out}"
    );
    assert!(!out.contains("lifecycle:"), "a lifecycle transaction on a kept network:\n{out}");

    // 7. dev killed outright leaves its processes; the next run stops them, takes a new version
    // from its flags (sequence 3) and, without --keep, removes the network when stopped.
    let left = dev.recorded();
    dev.signal(Signal::KILL);
    dev.wait_exit(Duration::from_secs(10));
    assert!(left.iter().all(|(_, pid)| running(*pid)), "the nodes outlive a SIGKILLed dev until the next run");
    let without_keep = ["--fabric", fabric.to_str().unwrap(), "--port-base", &port_base, "--cc-version", "3.0"];
    let mut dev = Dev::start(&dir, &state, &without_keep, &env);
    dev.wait_for(0, "stopped what an earlier dev left running: chaincode (pid", Duration::from_secs(30));
    dev.wait_for(0, "devcc version 3.0 is committed at sequence 3", Duration::from_secs(60));
    until_answer(&state, &query, "v3", Duration::from_secs(60));
    for (name, pid) in &left {
        assert!(!running(*pid), "{name} (pid {pid}) of the killed dev still runs");
    }
    let procs = dev.recorded();
    dev.signal(Signal::TERM);
    assert!(dev.wait_exit(Duration::from_secs(60)).success(), "{}", dev.output());
    for (name, pid) in &procs {
        assert!(!running(*pid), "{name} (pid {pid}) still runs after SIGTERM");
    }
    assert!(!state.join("network.json").exists() && !state.join("data").exists(), "the network was not removed");
    assert!(support::recorded(&state).is_empty());

    eprintln!(
        "dev timings: first start to answering {first:.1?}; save to the new code answering {edit:.1?} ({built}; \
         {serving}); --keep's second start to answering {second:.1?}"
    );
}

/// Two orgs, no up file (the package's name, version 1.0): both approve, one commits, and an
/// invoke through the Gateway gets both orgs' endorsements (the channel's MAJORITY policy).
#[test]
fn dev_with_two_orgs_approves_as_each() {
    let Some(fabric) = fabric_release("dev with two orgs") else { return };
    let tmp = tempfile::Builder::new().prefix("ccaas-deploy-dev2-").tempdir().unwrap();
    let dir = write_crate(tmp.path(), "devcc2", None);
    let state = tmp.path().join("state");
    let env = vec![("CARGO_TARGET_DIR".to_string(), workspace().join("target").display().to_string())];
    let port_base = ports::port(ports::dev::TWO_ORGS).to_string();
    let args = ["--fabric", fabric.to_str().unwrap(), "--port-base", &port_base, "--orgs", "2"];
    let mut dev = Dev::start(&dir, &state, &args, &env);
    dev.wait_for(0, "dev: ready in", Duration::from_secs(300));
    let out = dev.output();
    for expected in [
        "lifecycle: Org1MSP: approve devcc2 version 1.0 at sequence 1",
        "lifecycle: Org2MSP: approve devcc2 version 1.0 at sequence 1",
        "lifecycle: Org2MSP: commit devcc2 version 1.0 at sequence 1",
    ] {
        assert!(out.contains(expected), "no {expected:?} in:\n{out}");
    }
    assert!(!out.contains("then stop:"), "{out}");
    let (code, out, err) = deploy_as_org1(&state, &["invoke", "-n", "devcc2", "--output", "json", "Put", "k", "v"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["status"], "VALID", "{out}");
    let (code, out, err) = deploy_as_org1(&state, &["committed", "-n", "devcc2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("approvals: Org1MSP=approved, Org2MSP=approved"), "{out}");
    assert!(support::env_file(&state.join("org2.env")).contains(&("CORE_PEER_LOCALMSPID".into(), "Org2MSP".into())));
    let procs = dev.recorded();
    assert_eq!(procs.len(), 4, "{procs:?}");
    dev.signal(Signal::INT);
    assert!(dev.wait_exit(Duration::from_secs(60)).success(), "{}", dev.output());
    for (name, pid) in &procs {
        assert!(!running(*pid), "{name} (pid {pid}) still runs after Ctrl-C");
    }
}

#[test]
fn without_fabric_dev_says_where_to_get_a_release() {
    let tmp = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_dir = Path::new(&cargo).parent().map(Path::to_path_buf).unwrap_or_default();
    let out = support::clean_env(&mut std::process::Command::new(support::DEPLOY))
        .args(["dev", "-p", "asset-transfer-basic", "--state"])
        .arg(tmp.path().join("state"))
        .current_dir(workspace())
        .env("PATH", cargo_dir)
        .env_remove("FABRIC_BIN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for expected in [
        "no Fabric release found (no --fabric, no FABRIC_BIN, no `peer` on PATH)",
        "https://github.com/hyperledger/fabric/releases",
        "install-fabric.sh binary",
        "--fabric DIR with the folder that holds bin/ and config/",
        "--config FILE --user NAME",
    ] {
        assert!(err.contains(expected), "no {expected:?} in: {err}");
    }
}
