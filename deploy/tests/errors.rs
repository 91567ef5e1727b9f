//! Failures as data and deadlines, with no network but stand-ins on 127.0.0.1: with `--output
//! json` a failure prints exactly one JSON object (`kind`, `message`, `exit_code`, `retryable`,
//! `tx_ids`); a peer that accepts and never answers ends the command at its `--timeout` with exit
//! 4 naming it; every local input is checked before any connection (`--plan --offline`, `up
//! --offline`); and README.md's exit-code table is the one the code uses. The kinds that need a
//! real peer or cluster (waiting, drift, rollout) are in the testbed and k8s tests.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ccaas_deploy::Kind;
use serde_json::Value;

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).to_str().unwrap().to_string()
}

/// A TCP listener on 127.0.0.1 that accepts connections, holds them and never answers; counts them.
struct Stalled {
    address: String,
    accepted: Arc<AtomicUsize>,
}

fn stalled() -> Stalled {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(c);
        }
    });
    Stalled { address, accepted }
}

/// An address on 127.0.0.1 where nothing listens.
fn closed() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `ccaas-deploy --output json` as Org1MSP (the fixture's MSP folder) with `peer` as its peer.
fn deploy(peer: &str) -> Command {
    let mut c = Command::new(DEPLOY);
    c.env_clear().args(["--msp-id", "Org1MSP", "--msp-dir", &fixture("msp"), "--peer-address", peer]);
    c.args(["--output", "json"]);
    c
}

fn run(c: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = c.output().unwrap();
    (out, started.elapsed())
}

/// The one JSON object a failure prints on stdout, checked against the exit code and `kind`.
fn failure(out: &Output, kind: Kind) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object on stdout:\n{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["kind"], kind.name(), "{v}\n{stderr}");
    assert_eq!(v["exit_code"], kind.exit_code(), "{v}");
    assert_eq!(out.status.code(), Some(i32::from(kind.exit_code())), "{v}\n{stderr}");
    assert_eq!(v["retryable"], kind.retryable(), "{v}");
    assert!(v["tx_ids"].is_array(), "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(stderr.contains(message), "stderr says it too:\n{stderr}\nJSON: {message}");
    v
}

#[test]
fn a_stalled_peer_ends_the_command_at_its_timeout_with_exit_4_naming_it() {
    let peer = stalled();
    let (out, took) = run(deploy(&peer.address).args(["--timeout", "2", "installed"]));
    let v = failure(&out, Kind::Timeout);
    assert!(took < Duration::from_secs(5), "ended at its timeout, not later: {took:?}");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(&peer.address) && message.contains("did not answer within"), "{message}");
    assert_eq!(v["retryable"], true);

    // With TLS the handshake stalls; the environment variable gives the timeout.
    let (out, took) = run(deploy(&peer.address)
        .args(["--tls-ca", &fixture("admin-cert.pem"), "installed"])
        .env("CCAAS_DEPLOY_TIMEOUT", "2"));
    let v = failure(&out, Kind::Timeout);
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(v["message"].as_str().unwrap().contains(&peer.address), "{v}");
}

#[test]
fn nothing_listening_is_a_connection_failure_worth_retrying() {
    let address = closed();
    let (out, _) = run(deploy(&address).args(["installed"]));
    let v = failure(&out, Kind::Connection);
    let message = v["message"].as_str().unwrap();
    assert!(message.contains(&address) && message.contains("nothing listens there"), "{message}");
}

#[test]
fn local_inputs_are_checked_before_any_connection() {
    let peer = stalled();
    let def = ["-n", "basic", "-v", "1.0"];
    let missing = "/nonexistent/basic.tar.gz";
    for args in [
        vec!["install", missing],
        vec!["lifecycle", missing],
        vec!["approve", "--sequence", "1", missing],
        vec!["approve", "--sequence", "1", "--signature-policy", "OR(nonsense"],
        vec!["commit", "--sequence", "1", "--signature-policy", "OR(nonsense"],
        vec!["approve", "--sequence", "1"],
    ] {
        let (out, took) = run(deploy(&peer.address).args(&args[..1]).args(def).args(&args[1..]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let v = failure(&out, Kind::Configuration);
        assert!(!stderr.contains("connecting to"), "{args:?}: {stderr}");
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
        assert_eq!(v["retryable"], false);
    }
    assert_eq!(peer.accepted.load(Ordering::SeqCst), 0, "nothing was dialled");
    // A bad input file is 2 even when the peer is down.
    let (out, _) = run(deploy(&closed()).args(["lifecycle", "-n", "basic", "-v", "1.0", missing]));
    failure(&out, Kind::Configuration);
}

#[test]
fn plan_offline_checks_a_lifecycle_without_the_network() {
    let peer = stalled();
    let lifecycle = ["lifecycle", "-n", "basic", "-v", "1.0", "--label", "basic_1.0", "--address", "basic:7052"];
    let (out, _) = run(deploy(&peer.address).args(lifecycle).args(["--plan", "--offline"]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["offline"], true);
    assert!(v["package_id"].as_str().unwrap().starts_with("basic_1.0:"), "{v}");
    assert_eq!((v["msp_id"].as_str(), v["channel"].as_str()), (Some("Org1MSP"), Some("mychannel")), "{v}");
    assert_eq!(peer.accepted.load(Ordering::SeqCst), 0, "nothing was dialled");

    // A bad policy is found offline too; --offline without --plan is a usage error, as JSON.
    let (out, _) = run(deploy(&peer.address).args(lifecycle).args(["--plan", "--offline", "--signature-policy", "x"]));
    failure(&out, Kind::Configuration);
    let (out, _) = run(deploy(&peer.address).args(lifecycle).args(["--offline"]));
    let v = failure(&out, Kind::Configuration);
    assert!(v["message"].as_str().unwrap().contains("--plan"), "{v}");
    assert_eq!(peer.accepted.load(Ordering::SeqCst), 0);
}

#[test]
fn up_offline_checks_the_file_and_its_inputs_without_the_network() {
    let peer = stalled();
    let api = stalled();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: 'https://{}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\n\
             current-context: x\n",
            api.address
        ),
    )
    .unwrap();
    let file = dir.path().join("ccaas-deploy.yaml");
    let yaml = format!(
        "chaincode:\n  name: asset\n  version: \"1.0\"\n  address: asset:7052\nimage:\n  reference: \
         127.0.0.1:5000/asset:1.0\nkubernetes:\n  kubeconfig: {}\n",
        kubeconfig.display()
    );
    std::fs::write(&file, &yaml).unwrap();
    let up = |extra: &[&str]| run(deploy(&peer.address).args(["up", "-f", file.to_str().unwrap()]).args(extra)).0;
    let out = up(&["--offline"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["offline"], true);
    assert!(v["package_id"].as_str().unwrap().starts_with("asset_1.0:"), "{v}");

    // A binary that is not there, with the peer down: 2, before any connection.
    let out = up(&["--offline", "--binary", "/nonexistent/asset"]);
    failure(&out, Kind::Configuration);
    std::fs::write(&file, yaml.replace("address: asset:7052", "address: asset:7052\n  tls:\n    root_cert: no.pem"))
        .unwrap();
    let out = run(deploy(&closed()).args(["up", "-f", file.to_str().unwrap()])).0;
    failure(&out, Kind::Configuration);
    assert_eq!(peer.accepted.load(Ordering::SeqCst) + api.accepted.load(Ordering::SeqCst), 0, "nothing was dialled");
}

#[test]
fn a_usage_error_with_json_output_is_one_configuration_object() {
    let out =
        Command::new(DEPLOY).env_clear().args(["--output", "json", "lifecycle", "--no-such-flag"]).output().unwrap();
    let v = failure(&out, Kind::Configuration);
    assert!(v["message"].as_str().unwrap().contains("--no-such-flag"), "{v}");
}

/// A peer that refuses every proposal, as a peer does an unauthorized client.
#[tokio::test]
async fn a_refusal_is_exit_1_and_not_retryable() {
    use ccaas_protos::protos::endorser_server::{Endorser, EndorserServer};
    use ccaas_protos::protos::{ProposalResponse, SignedProposal};
    struct Refuses;
    #[tonic::async_trait]
    impl Endorser for Refuses {
        async fn process_proposal(
            &self,
            _: tonic::Request<SignedProposal>,
        ) -> Result<tonic::Response<ProposalResponse>, tonic::Status> {
            Err(tonic::Status::permission_denied("access denied: creator org unknown"))
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EndorserServer::new(Refuses))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let out =
        tokio::task::spawn_blocking(move || deploy(&address).args(["installed"]).output().unwrap()).await.unwrap();
    let v = failure(&out, Kind::Refused);
    assert!(v["message"].as_str().unwrap().contains("access denied"), "{v}");
}

#[test]
fn a_failed_build_is_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() { this does not compile }\n").unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let out = Command::new(DEPLOY)
        .env_remove("CARGO_TARGET_DIR")
        .args(["--output", "json", "build-static", "--package", "broken", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    let v = failure(&out, Kind::Build);
    assert!(v["message"].as_str().unwrap().contains("cargo build of broken failed"), "{v}");
}

#[test]
fn logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let (out, _) = run(deploy(&closed()).env("CCAAS_DEPLOY_LOG", "debug").args(["installed"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "debug logs were written: {stderr}");
    assert!(!stderr.contains('\x1b'), "no ANSI escape codes: {stderr}");
}

/// README.md's exit-code table lists every kind with its code and whether to retry, as the code
/// has them.
#[test]
fn the_readme_exit_code_table_is_the_codes() {
    let mut readme = String::new();
    std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .unwrap()
        .read_to_string(&mut readme)
        .unwrap();
    let section = &readme[readme.find("## Exit codes").expect("README.md has an Exit codes section")..];
    let rows: Vec<Vec<String>> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().trim_matches('`').to_string()).collect())
        .collect();
    for kind in Kind::ALL {
        let row = rows
            .iter()
            .find(|r| r[1] == kind.name())
            .unwrap_or_else(|| panic!("no row for kind {} in README.md's table", kind.name()));
        assert!(row[0].split(',').any(|c| c.trim() == kind.exit_code().to_string()), "{row:?}");
        assert_eq!(row[3], if kind.retryable() { "yes" } else { "no" }, "{row:?}");
    }
}
