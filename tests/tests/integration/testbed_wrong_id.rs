//! A real Fabric peer (the fabric-testbed) and a chaincode server started with a `CHAINCODE_ID`
//! that is not the installed package ID: the server's log names the cause and what to do.
//!
//! The testbed is `<workspace>/../shared/fabric-testbed`, or `$FABRIC_TESTBED_DIR`. Without it
//! the test skips with one line, except under `CI=true`, where that is a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccaas_package::{build_package, write_package_atomically, ConnectionSpec, PackageSpec};
use ccaas_testkit::testing::ports;

/// This test's testbed port base and chaincode port: offsets 40 and 1081 in the process's slot of
/// ports ([`ports::port`]), which the table of ccaas-deploy's tests (deploy/tests/common/ports.rs)
/// reserves for it, so this test and a concurrent run of any testbed test never share a port.
const PORT_BASE_OFFSET: u16 = 40;
const CHAINCODE_PORT_OFFSET: u16 = 1081;
const CHAINCODE: &str = env!("CARGO_BIN_EXE_ccaas-test-chaincode");

fn testbed_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("FABRIC_TESTBED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fabric-testbed"),
    };
    if dir.join("up").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but there is no fabric-testbed at {} (set FABRIC_TESTBED_DIR)", dir.display());
    }
    eprintln!("skipping: no fabric-testbed at {}; put it there or set FABRIC_TESTBED_DIR", dir.display());
    None
}

/// A started testbed, stopped (with the chaincode registered in its pids/) when dropped.
struct Testbed {
    dir: PathBuf,
    state: PathBuf,
    env: BTreeMap<String, String>,
}

impl Drop for Testbed {
    fn drop(&mut self) {
        let _ = Command::new(self.dir.join("down")).arg(&self.state).arg("--wipe").output();
    }
}

impl Testbed {
    fn up(dir: PathBuf, state: PathBuf) -> Testbed {
        let mut up = Command::new(dir.join("up"));
        up.arg(&state)
            .env("FABRIC_TESTBED_PORT_BASE", ports::port(PORT_BASE_OFFSET).to_string())
            .stderr(Stdio::piped());
        let out = up.output().unwrap();
        let mut testbed = Testbed { dir, state: state.clone(), env: BTreeMap::new() };
        assert!(out.status.success(), "fabric-testbed up failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(state.join("testbed.env")).unwrap();
        testbed.env = text
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
            .map(|(name, value)| (name.to_string(), value.trim_matches('\'').to_string()))
            .collect();
        testbed
    }

    fn var(&self, name: &str) -> &str {
        self.env.get(name).unwrap_or_else(|| panic!("testbed.env has no {name}"))
    }

    /// The peer CLI as the org's admin; its output, failing the test if it fails.
    fn peer(&self, args: &[&str]) -> String {
        let out = self.peer_command(args).output().unwrap();
        assert!(out.status.success(), "peer {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn peer_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(Path::new(self.var("FABRIC_BIN")).join("peer"));
        command.args(args).env_clear().envs(&self.env).env("PATH", std::env::var_os("PATH").unwrap_or_default());
        command
    }

    fn orderer_args(&self) -> Vec<&str> {
        vec![
            "-o",
            self.var("ORDERER_ADDRESS"),
            "--tls",
            "--cafile",
            self.var("ORDERER_CA"),
            "--ordererTLSHostnameOverride",
            self.var("ORDERER_TLS_HOSTNAME"),
        ]
    }
}

#[test]
fn a_real_peer_refusing_the_chaincode_id_is_logged_as_that() {
    let Some(dir) = testbed_dir() else { return };
    let tmp = tempfile::Builder::new().prefix("ccaas-testkit-wrong-id-").tempdir().unwrap();
    let testbed = Testbed::up(dir, tmp.path().join("state"));

    let address = format!("127.0.0.1:{}", ports::port(CHAINCODE_PORT_OFFSET));
    let built = build_package(&PackageSpec::ccaas("basic_1.0", ConnectionSpec::new(address.clone()))).unwrap();
    let package = tmp.path().join("basic.tar.gz");
    write_package_atomically(&package, &built).unwrap();
    testbed.peer(&["lifecycle", "chaincode", "install", package.to_str().unwrap()]);

    // The server runs with the label alone: the most common mistake.
    let log_path = tmp.path().join("chaincode.log");
    let mut child = Command::new(CHAINCODE)
        .env_clear()
        .env("CHAINCODE_SERVER_ADDRESS", &address)
        .env("CHAINCODE_ID", "basic_1.0")
        .env("CHAINCODE_HANDSHAKE_TIMEOUT", "3s")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    // `down` stops what pids/ names, also when the test fails.
    std::fs::write(testbed.state.join("pids/chaincode-wrong-id"), child.id().to_string()).unwrap();

    let channel = testbed.var("CHANNEL").to_string();
    let mut approve = vec!["lifecycle", "chaincode", "approveformyorg"];
    approve.extend(testbed.orderer_args());
    approve.extend(["-C", &channel, "-n", "basic", "-v", "1.0", "--package-id", &built.package_id, "--sequence", "1"]);
    testbed.peer(&approve);
    let mut commit = vec!["lifecycle", "chaincode", "commit"];
    commit.extend(testbed.orderer_args());
    commit.extend(["-C", &channel, "-n", "basic", "-v", "1.0", "--sequence", "1"]);
    commit.extend(["--peerAddresses", testbed.var("ORG1_PEER_ADDRESS")]);
    commit.extend(["--tlsRootCertFiles", testbed.var("ORG1_PEER_TLS_CA")]);
    testbed.peer(&commit);

    let query = testbed
        .peer_command(&["chaincode", "query", "-C", &channel, "-n", "basic", "-c", r#"{"Args":["GetAllAssets"]}"#])
        .output()
        .unwrap();
    assert!(!query.status.success(), "the query succeeded with a wrong chaincode id");

    let started = Instant::now();
    let line = loop {
        let log = std::fs::read_to_string(&log_path).unwrap();
        if let Some(line) = log.lines().find(|line| line.contains("the peer refused chaincode ID")) {
            break line.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no refusal in the chaincode's log:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("the chaincode's log line: {line}");
    for names in
        ["ERROR", "chaincode ID basic_1.0:", "CHAINCODE_ID must be the installed package ID", "ccaas-package id"]
    {
        assert!(line.contains(names), "{names} missing in {line}");
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("did not become a ready chaincode stream in time"), "{log}");
    assert!(!log.contains("h2 protocol error"), "{log}");
    // The peer's side of it.
    let peer_log = std::fs::read_to_string(testbed.state.join("logs/peer0.org1.log")).unwrap();
    assert!(peer_log.contains("peer will not accept external chaincode connection basic_1.0"), "{peer_log}");
    let _ = child.kill();
    let _ = child.wait();
}
