//! A fabric-testbed per test group: started in its own state directory with its own port base,
//! stopped with `down --wipe` when dropped (also when the test fails).
//!
//! The testbed is `<workspace>/../shared/fabric-testbed`, or `$FABRIC_TESTBED_DIR`. Without it
//! the tests skip with one line, except under `CI=true`, where that is a failure.
//! `FABRIC_TESTBED_BIN` is passed through to `up`.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

fn testbed_dir() -> PathBuf {
    match std::env::var_os("FABRIC_TESTBED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-testbed"),
    }
}

pub struct Testbed {
    pub state: PathBuf,
    pub env: BTreeMap<String, String>,
    up_dir: PathBuf,
    _tmp: tempfile::TempDir,
    children: Vec<Child>,
}

impl Testbed {
    /// Starts a testbed with `orgs` orgs at `port_base`, or returns `None` (after one line on
    /// stderr) when there is no testbed here and this is not CI.
    pub fn up(group: &str, orgs: u32, port_base: u16) -> Option<Testbed> {
        Testbed::up_with(group, orgs, port_base, &[])
    }

    /// [`Testbed::up`] with more of the testbed's settings, e.g.
    /// `("FABRIC_TESTBED_LIFECYCLE_POLICY", "ANY")`.
    pub fn up_with(group: &str, orgs: u32, port_base: u16, settings: &[(&str, &str)]) -> Option<Testbed> {
        let dir = testbed_dir();
        if !dir.join("up").is_file() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but there is no fabric-testbed at {} (set FABRIC_TESTBED_DIR)", dir.display());
            }
            eprintln!(
                "skipping {group}: no fabric-testbed at {}; put it there or set FABRIC_TESTBED_DIR to run these tests",
                dir.display()
            );
            return None;
        }
        let tmp = tempfile::Builder::new().prefix(&format!("ccaas-deploy-{group}-")).tempdir().unwrap();
        let state = tmp.path().join("state");
        let started = Instant::now();
        let mut cmd = Command::new(dir.join("up"));
        cmd.arg(&state)
            .env("FABRIC_TESTBED_PORT_BASE", port_base.to_string())
            .env("FABRIC_TESTBED_ORGS", orgs.to_string())
            .envs(settings.iter().copied())
            .stderr(Stdio::piped());
        for v in ["FABRIC_TESTBED_BIN", "PATH", "HOME", "TMPDIR"] {
            if let Some(val) = std::env::var_os(v) {
                cmd.env(v, val);
            }
        }
        let out = cmd.output().unwrap();
        let mut testbed =
            Testbed { state: state.clone(), env: BTreeMap::new(), up_dir: dir, _tmp: tmp, children: Vec::new() };
        assert!(out.status.success(), "fabric-testbed up failed:\n{}", String::from_utf8_lossy(&out.stderr));
        eprintln!("{group}: testbed with {orgs} org(s) up in {:.1?}", started.elapsed());
        testbed.env = parse_env(&std::fs::read_to_string(state.join("testbed.env")).unwrap());
        Some(testbed)
    }

    pub fn var(&self, name: &str) -> &str {
        self.env.get(name).unwrap_or_else(|| panic!("testbed.env has no {name}"))
    }

    /// `ccaas-deploy` with a clean environment (nothing from the test's own shell).
    pub fn deploy(&self) -> Command {
        let mut c = Command::new(DEPLOY);
        c.env_clear();
        c
    }

    /// `ccaas-deploy` with the peer CLI's environment of org `n` (as a fabric-samples user has it).
    pub fn deploy_as_peer_cli(&self, n: u32) -> Command {
        let mut c = self.deploy();
        c.envs(self.peer_cli_env(n));
        c
    }

    /// The `peer` CLI's variables for org `n`'s admin and peer.
    pub fn peer_cli_env(&self, n: u32) -> BTreeMap<String, String> {
        let mut e = self.env.clone();
        e.insert("CORE_PEER_LOCALMSPID".into(), self.var(&format!("ORG{n}_MSPID")).into());
        e.insert("CORE_PEER_MSPCONFIGPATH".into(), self.var(&format!("ORG{n}_ADMIN_MSP")).into());
        e.insert("CORE_PEER_ADDRESS".into(), self.var(&format!("ORG{n}_PEER_ADDRESS")).into());
        e.insert("CORE_PEER_TLS_ROOTCERT_FILE".into(), self.var(&format!("ORG{n}_PEER_TLS_CA")).into());
        e.insert("FABRIC_LOGGING_SPEC".into(), "warning".into());
        e
    }

    /// The testbed's `peer` CLI acting as org `n`'s admin.
    pub fn peer_cli(&self, n: u32, args: &[&str]) -> Output {
        Command::new(Path::new(self.var("FABRIC_BIN")).join("peer"))
            .env_clear()
            .envs(self.peer_cli_env(n))
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts the asset-transfer-basic example as a chaincode server on `port` with
    /// `package_id`, registers its pid for `down`, and waits until it listens.
    pub fn start_chaincode(&mut self, port: u16, package_id: &str) {
        self.start_example("asset-transfer-basic", port, package_id, &[])
    }

    /// Starts an example that `bin_dir` builds as a chaincode server, as `start_chaincode` does,
    /// with `env` added to its environment.
    pub fn start_example(&mut self, example: &str, port: u16, package_id: &str, env: &[(&str, &str)]) {
        let log = std::fs::File::create(self.state.join(format!("logs/asset-{port}.log"))).unwrap();
        let child = Command::new(bin_dir().join(example))
            .env_clear()
            .env("CHAINCODE_SERVER_ADDRESS", format!("127.0.0.1:{port}"))
            .env("CHAINCODE_ID", package_id)
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        std::fs::write(self.state.join(format!("pids/asset-{port}")), child.id().to_string()).unwrap();
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the chaincode did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Invokes InitLedger through both orgs' peers and reads asset1 back through org 1's peer.
    pub fn invoke_and_query(&self, orgs: u32) -> String {
        let mut args: Vec<String> = [
            "chaincode",
            "invoke",
            "-o",
            self.var("ORDERER_ADDRESS"),
            "--tls",
            "--cafile",
            self.var("ORDERER_CA"),
            "--ordererTLSHostnameOverride",
            self.var("ORDERER_TLS_HOSTNAME"),
            "-C",
            "mychannel",
            "-n",
            "basic",
            "-c",
            r#"{"Args":["InitLedger"]}"#,
            "--waitForEvent",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in 1..=orgs {
            args.extend(["--peerAddresses".into(), self.var(&format!("ORG{n}_PEER_ADDRESS")).into()]);
            args.extend(["--tlsRootCertFiles".into(), self.var(&format!("ORG{n}_PEER_TLS_CA")).into()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.peer_cli(1, &refs);
        assert!(out.status.success(), "invoke failed: {}", String::from_utf8_lossy(&out.stderr));
        let out = self.peer_cli(
            1,
            &["chaincode", "query", "-C", "mychannel", "-n", "basic", "-c", r#"{"Args":["ReadAsset","asset1"]}"#],
        );
        assert!(out.status.success(), "query failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let status = Command::new(self.up_dir.join("down")).arg(&self.state).arg("--wipe").status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("fabric-testbed down --wipe {} failed: {status:?}", self.state.display());
        }
    }
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

/// The directory of the workspace's binaries; builds `asset-transfer-basic`,
/// `asset-transfer-private-data` (with the shim's `tls` feature) and `ccaas-package` there once
/// per test process (a no-op when they are up to date).
pub fn bin_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let dir = Path::new(DEPLOY).parent().unwrap();
            let release = dir.file_name().is_some_and(|n| n == "release");
            let mut build = Command::new(cargo);
            // Without what cargo sets for this test process (see cargo_env).
            for (name, _) in std::env::vars_os() {
                if crate::cargo_env::set_for_this_test(&name.to_string_lossy()) {
                    build.env_remove(&name);
                }
            }
            let out = build
                .args(["build", "--locked", "-p", "asset-transfer-basic", "-p", "asset-transfer-private-data"])
                .args(["-p", "ccaas-package"])
                // The examples serve mutual TLS in mtls.rs: the shim's opt-in feature.
                .args(["--features", "ccaas-shim/tls"])
                .args(release.then_some("--release"))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
            assert!(out.status.success(), "cargo build failed:\n{}", String::from_utf8_lossy(&out.stderr));
            dir.to_path_buf()
        })
        .clone()
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that must succeed and returns its stdout.
pub fn ok(cmd: &mut Command) -> String {
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, 0, "{cmd:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    stdout
}
