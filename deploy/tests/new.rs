//! `ccaas-deploy new`: the crate it makes builds, passes its tests, clippy and rustfmt offline
//! against this checkout, keeps the workspace's pinned versions, serves a peer in plaintext (and
//! refuses TLS, naming the feature; with `--tls` it serves mutual TLS), and has an `up` file that
//! parses; bad names, non-empty directories and non-checkouts are refused with nothing
//! written; the template's profiles are the workspace's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ccaas_deploy::render::{self, RenderTarget};
use ccaas_deploy::up::UpConfig;
use ccaas_testkit::{PeerEmulator, Target};

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn new_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(DEPLOY).arg("new").args(args).current_dir(cwd).env_remove("CCAAS_DEPLOY_LOG").output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The entries of `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// `cargo ARGS` in `dir`, offline, with its own target directory under the workspace's (so a
/// re-run is incremental).
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    eprintln!("cargo {}: {:.1?}", args.join(" "), started.elapsed());
    assert!(
        out.status.success(),
        "cargo {} failed\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// `ccaas-deploy up --offline` of the crate in `dir` with `binary`, its server serving TLS
/// (`kubernetes.tls` with a certificate and key of `pki`): checks the local inputs only.
fn up_offline_with_server_tls(dir: &Path, binary: &Path, pki: &ccaas_testkit::testing::tls::TestPki) -> Output {
    let server = pki.server(&["localhost"]);
    std::fs::write(dir.join("server.pem"), &server.cert_pem).unwrap();
    std::fs::write(dir.join("server.key"), &server.key_pem).unwrap();
    std::fs::write(
        dir.join("kubeconfig"),
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n\
         current-context: x\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(dir.join("ccaas-deploy.yaml")).unwrap().replace(
        "kubernetes:\n",
        "kubernetes:\n  kubeconfig: kubeconfig\n  tls: {cert: server.pem, key: server.key}\n",
    );
    std::fs::write(dir.join("tls.yaml"), config).unwrap();
    let msp = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/msp");
    Command::new(DEPLOY)
        .args(["--msp-id", "Org1MSP", "--msp-dir"])
        .arg(msp)
        .args(["--peer-address", "127.0.0.1:1", "up", "-f", "tls.yaml", "--offline", "--binary"])
        .arg(binary)
        .current_dir(dir)
        .env_remove("CCAAS_DEPLOY_LOG")
        .output()
        .unwrap()
}

/// The emulated peer, connected to the server being started at `target` as `chaincode_id` (it
/// retries for 20 s).
async fn connect(target: &Target, chaincode_id: &str) -> PeerEmulator {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match PeerEmulator::builder().chaincode_id(chaincode_id).connect(target).await {
            Ok(peer) => return peer,
            Err(e) if Instant::now() > deadline => panic!("the chaincode never accepted a connection: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn target_dir() -> PathBuf {
    workspace().join("target/ccaas-new-test")
}

/// name → versions of the registry packages of a Cargo.lock.
fn locked_versions(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut versions = BTreeMap::<String, Vec<String>>::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).map(|v| v.trim_end_matches('"'))
        };
        if field("source").is_some_and(|s| s.starts_with("registry+")) {
            versions.entry(field("name").unwrap().into()).or_default().push(field("version").unwrap().into());
        }
    }
    versions
}

#[tokio::test]
async fn the_new_crate_builds_tests_lints_and_serves_offline() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // The defaults: ./NAME, and the checkout this binary was built from.
    let out = new_in(tmp.path(), &["asset-keeper", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = tmp.path().join("asset-keeper");
    assert_eq!(made["chaincode"], "asset-keeper");
    assert_eq!(made["depends_on"]["path"], workspace().to_str().unwrap());
    assert_eq!(made["lockfile_from"], workspace().join("Cargo.lock").to_str().unwrap());
    for file in made["files"].as_array().unwrap() {
        assert!(dir.join(file.as_str().unwrap()).is_file(), "{file} is missing");
    }
    assert_eq!(listing(tmp.path()), ["asset-keeper"], "only the crate's directory is written");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let shim = format!("ccaas-shim = {{ path = \"{}\" }}", workspace().join("shim").display());
    assert!(manifest.contains(&shim), "{manifest}");
    for file in made["files"].as_array().unwrap() {
        let content = std::fs::read_to_string(dir.join(file.as_str().unwrap())).unwrap();
        assert!(!content.contains("@crate@") && !content.contains("@lib@"), "{file} has an unfilled placeholder");
    }

    // The `up` file parses, packages and renders as it is (its placeholders are valid values).
    let up = UpConfig::load(&dir.join("ccaas-deploy.yaml")).unwrap();
    assert_eq!((up.chaincode.name.as_str(), up.chaincode.address.as_str()), ("asset-keeper", "asset-keeper:7052"));
    assert_eq!(
        up.image.binary.as_deref(),
        Some(dir.join("target/x86_64-unknown-linux-gnu/release/asset-keeper").as_path())
    );
    let package = up.package().unwrap();
    assert!(package.package_id.starts_with("asset-keeper_1.0:"), "{}", package.package_id);
    render::render(&up.workload(&package.package_id, None), RenderTarget::Kubernetes).unwrap();

    let tested = cargo(&dir, &["test", "--offline"]);
    let stdout = text(&tested.stdout);
    assert!(stdout.contains("test result: ok. 2 passed"), "{stdout}");
    let stderr = text(&tested.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning")).collect();
    assert!(warnings.is_empty(), "the build warns: {warnings:?}");
    cargo(&dir, &["clippy", "--offline", "--all-targets", "--", "-D", "warnings"]);
    cargo(&dir, &["fmt", "--check"]);

    // Cargo kept the workspace's pinned versions: every registry package of the crate's lockfile
    // is at a version the workspace's lockfile has.
    let ours = locked_versions(&std::fs::read_to_string(workspace().join("Cargo.lock")).unwrap());
    let theirs = locked_versions(&std::fs::read_to_string(dir.join("Cargo.lock")).unwrap());
    assert!(theirs.contains_key("rustls") && theirs.len() > 50, "{theirs:?}");
    for (name, versions) in &theirs {
        for v in versions {
            assert!(
                ours.get(name).is_some_and(|o| o.contains(v)),
                "{name} {v} is not the workspace's ({:?})",
                ours.get(name)
            );
        }
    }

    // The binary serves a peer as `run_from_env` does.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(target_dir().join("debug/asset-keeper"))
        .env("CHAINCODE_ID", "asset-keeper_1.0:test")
        .env("CHAINCODE_SERVER_ADDRESS", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let peer = connect(&Target::new(format!("127.0.0.1:{port}")), "asset-keeper_1.0:test").await;
    let created = peer.invoke("CreateAsset", ["asset1", "Tom", "100"]).await.unwrap();
    assert_eq!(created.status(), 200, "{}", created.response.message);
    let read = peer.query("ReadAsset", ["asset1"]).await.unwrap();
    assert_eq!(read.payload_str(), r#"{"id":"asset1","owner":"Tom","value":100}"#);
    server.kill().unwrap();
    server.wait().unwrap();

    // Plaintext by default: a TLS switch in its environment stops it at startup, naming the feature.
    let refused = Command::new(target_dir().join("debug/asset-keeper"))
        .env("CHAINCODE_ID", "asset-keeper_1.0:test")
        .env("CHAINCODE_TLS_DISABLED", "false")
        .output()
        .unwrap();
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CHAINCODE_TLS_DISABLED=false turns TLS on") && stderr.contains("features = [\"tls\"]"));
    assert_eq!(made["tls"], false);
    // ... and `up` refuses to deploy it with server TLS before anything is contacted.
    let binary = target_dir().join("debug/asset-keeper");
    let elf = std::fs::read(&binary).unwrap();
    assert_eq!(ccaas_deploy::layout::shim_serves_tls(&elf), Some(false));
    let refused = up_offline_with_server_tls(&dir, &binary, &ccaas_testkit::testing::tls::TestPki::new());
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("kubernetes.tls has the server serve TLS, but")
            && stderr.contains("was built without the ccaas-shim feature `tls`"),
        "{stderr}"
    );
    eprintln!("new, test, clippy, fmt and serve: {:.1?}", started.elapsed());
}

/// `new --tls`: the shim with its `tls` feature, and the binary serves mutual TLS.
#[tokio::test]
async fn with_tls_the_new_crate_serves_mutual_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let out = new_in(tmp.path(), &["tls-keeper", "--tls"]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(said.contains("it serves TLS or plaintext, as its environment says"), "{said}");
    let dir = tmp.path().join("tls-keeper");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let shim = format!("ccaas-shim = {{ path = \"{}\", features = [\"tls\"] }}", workspace().join("shim").display());
    assert!(manifest.contains(&shim), "{manifest}");
    cargo(&dir, &["build", "--offline"]);

    let pki = ccaas_testkit::testing::tls::TestPki::new();
    let (server_cert, client) = (pki.server(&["localhost", "127.0.0.1"]), pki.client("peer0.org1.example.com"));
    for (name, content) in [("server.pem", &server_cert.cert_pem), ("server.key", &server_cert.key_pem)] {
        std::fs::write(tmp.path().join(name), content).unwrap();
    }
    std::fs::write(tmp.path().join("ca.pem"), pki.ca_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(target_dir().join("debug/tls-keeper"))
        .env("CHAINCODE_ID", "tls-keeper_1.0:test")
        .env("CHAINCODE_SERVER_ADDRESS", format!("127.0.0.1:{port}"))
        .env("CHAINCODE_TLS_DISABLED", "false")
        .env("CHAINCODE_TLS_CERT", tmp.path().join("server.pem"))
        .env("CHAINCODE_TLS_KEY", tmp.path().join("server.key"))
        .env("CHAINCODE_CLIENT_CA_CERT", tmp.path().join("ca.pem"))
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let target = Target::new(format!("127.0.0.1:{port}")).tls(ccaas_testkit::TlsOptions {
        root_cert_pem: pki.ca_pem().as_bytes().to_vec(),
        client_identity: Some((client.cert_pem.into_bytes(), client.key_pem.into_bytes())),
        domain: None,
    });
    let peer = connect(&target, "tls-keeper_1.0:test").await;
    let created = peer.invoke("CreateAsset", ["asset1", "Tom", "100"]).await.unwrap();
    assert_eq!(created.status(), 200, "{}", created.response.message);
    server.kill().unwrap();
    server.wait().unwrap();

    // `up` takes it with server TLS.
    let binary = target_dir().join("debug/tls-keeper");
    assert_eq!(ccaas_deploy::layout::shim_serves_tls(&std::fs::read(&binary).unwrap()), Some(true));
    let checked = up_offline_with_server_tls(&dir, &binary, &pki);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
    assert_eq!(ccaas_deploy::layout::shim_serves_tls(&std::fs::read(DEPLOY).unwrap()), None, "no shim in it");
}

#[test]
fn bad_names_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "a".repeat(64);
    for (name, why) in [
        ("", "only ASCII letters"),
        ("my cc", "only ASCII letters"),
        ("café", "only ASCII letters"),
        ("1cc", "start the name with a letter"),
        ("_cc", "start the name with a letter"),
        ("MyCC", "use mycc"),
        ("fn", "a Rust keyword"),
        ("async", "a Rust keyword"),
        ("test", "a name cargo reserves"),
        ("std", "a name cargo reserves"),
        ("core", "a name cargo reserves"),
        ("proc_macro", "a name cargo reserves"),
        ("cc_", "would not suit Fabric"),
        ("a__b", "would not suit Fabric"),
        (long.as_str(), "would not suit Fabric"),
    ] {
        let out = new_in(tmp.path(), &[name]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name:?}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot make a crate named '{name}'")) && stderr.contains(why),
            "{name:?}: {stderr}"
        );
        assert!(listing(tmp.path()).is_empty(), "{name:?} wrote {:?}", listing(tmp.path()));
    }
}

#[test]
fn a_non_empty_directory_a_missing_parent_and_a_non_checkout_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let out = new_in(tmp.path(), &["mycc", "--dir", "taken"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("taken exists and is not empty: give --dir a new or empty directory"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(listing(&taken), ["notes.txt"]);
    assert_eq!(std::fs::read_to_string(taken.join("notes.txt")).unwrap(), "mine");

    let out = new_in(tmp.path(), &["mycc", "--dir", "no/such/parent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such does not exist: create it first"), "{}", text(&out.stderr));

    let out = new_in(tmp.path(), &["mycc", "--path", "taken"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("taken is not a fabric-ccaas checkout"), "{}", text(&out.stderr));

    let out = new_in(tmp.path(), &["mycc", "--git", "https://example.invalid/fabric-ccaas.git"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--git needs --tag TAG or --rev REV"), "{}", text(&out.stderr));
    assert_eq!(listing(tmp.path()), ["taken"], "nothing else is written");
}

#[test]
fn an_empty_directory_is_filled_in_place_and_git_sources_are_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let url = "https://example.invalid/fabric-ccaas.git";
    // The directory stays (it may be a shell's working directory): the files are moved into it.
    let out = new_in(&empty, &["my_cc", "--dir", ".", "--git", url, "--tag", "v0.1.0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("depends on fabric-ccaas from {url} at tag v0.1.0")),
        "{}",
        text(&out.stdout)
    );
    let manifest = std::fs::read_to_string(empty.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("ccaas-shim = {{ git = \"{url}\", tag = \"v0.1.0\" }}")), "{manifest}");
    assert!(manifest.contains(&format!("ccaas-testkit = {{ git = \"{url}\", tag = \"v0.1.0\" }}")), "{manifest}");
    // The lockfile of the checkout this binary was built from (see `new.rs` for why).
    assert_eq!(
        std::fs::read(empty.join("Cargo.lock")).unwrap(),
        std::fs::read(workspace().join("Cargo.lock")).unwrap()
    );
    let main = std::fs::read_to_string(empty.join("src/main.rs")).unwrap();
    assert!(main.contains("my_cc::AssetContract"), "{main}");
    assert_eq!(UpConfig::load(&empty.join("ccaas-deploy.yaml")).unwrap().chaincode.name, "my-cc");
    assert_eq!(listing(tmp.path()), ["empty"]);
    assert_eq!(
        listing(&empty),
        [".gitignore", "Cargo.lock", "Cargo.toml", "README.md", "ccaas-deploy.yaml", "src", "tests"],
        "the crate's files and nothing else (no staging directory)"
    );

    let out = new_in(tmp.path(), &["other", "--git", url, "--rev", "0123abc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(tmp.path().join("other/Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("ccaas-shim = {{ git = \"{url}\", rev = \"0123abc\" }}")), "{manifest}");
}

/// The `[profile.*]` tables of a Cargo.toml: (header, settings), comments and blank lines left out.
fn profiles(manifest: &str) -> Vec<(String, Vec<String>)> {
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_profile = false;
    for line in manifest.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('[') {
            in_profile = line.starts_with("[profile.");
            if in_profile {
                tables.push((line.to_string(), Vec::new()));
            }
        } else if in_profile {
            tables.last_mut().unwrap().1.push(line.to_string());
        }
    }
    tables
}

#[test]
fn the_template_profiles_are_the_workspace_profiles() {
    let workspace = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    let template = include_str!("../src/new/Cargo.toml.tmpl");
    // Tables for crates only our tools build (the image compressor of ccaas-deploy): a chaincode's
    // tree has none of them, and cargo warns about a profile for a package it does not have.
    let tools_only = ["[profile.dev.package.miniz_oxide]", "[profile.dev.package.crc32fast]"];
    let mut wanted = profiles(&workspace);
    wanted.retain(|(table, _)| !tools_only.contains(&table.as_str()));
    assert!(wanted.len() >= 3, "{wanted:?}");
    assert_eq!(
        profiles(template),
        wanted,
        "the [profile.*] tables of deploy/src/new/Cargo.toml.tmpl differ from the workspace's Cargo.toml: copy them"
    );
}
