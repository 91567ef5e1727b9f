//! `ccaas-deploy render` (the manifests `--dry-run` prints, no cluster): golden YAML for the plain,
//! TLS, per-peer, metrics and hlf-operator cases, and the descriptions it refuses.
//!
//! `UPDATE_GOLDEN=1 cargo test -p ccaas-deploy --test render` rewrites the golden files; review
//! the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn run(args: &[&str]) -> Output {
    Command::new(DEPLOY).env_clear().current_dir(fixtures()).arg("render").args(args).output().unwrap()
}

fn golden(name: &str, args: &[&str]) {
    let out = run(args);
    assert!(out.status.success(), "render {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    let got = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(got, want, "render {args:?} differs from {}", path.display());
    // Every document parses as YAML and is a Kubernetes object.
    for doc in got.split("---\n").filter(|d| !d.trim().is_empty()) {
        let v: serde_json::Value = serde_norway::from_str(doc).unwrap();
        assert!(v["apiVersion"].is_string() && v["kind"].is_string() && v["metadata"]["name"].is_string(), "{doc}");
    }
}

fn docs(args: &[&str]) -> Vec<serde_json::Value> {
    let out = run(&[&["--output", "json"], args].concat());
    assert!(out.status.success(), "render {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const PLAIN: &[&str] = &[
    "--name",
    "asset",
    "--namespace",
    "fabric",
    "--image",
    "localhost:5000/asset-transfer-basic:1.0",
    "--digest",
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "--package-id",
    "asset_1.0:4f3c21a0b6f2e3f4a1f0c3e2d1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0918",
    "--replicas",
    "2",
    "--port",
    "9999",
    "--env",
    "RUST_LOG=info",
    "--request",
    "cpu=50m",
    "--request",
    "memory=32Mi",
    "--limit",
    "memory=128Mi",
    "--image-pull-secret",
    "registry-creds",
    "--node-selector",
    "kubernetes.io/os=linux",
    "--toleration",
    "dedicated=chaincode:NoSchedule",
];

#[test]
fn plain_deployment_and_service() {
    golden("plain.yaml", PLAIN);
    let d = docs(PLAIN);
    assert_eq!(d.iter().map(|d| d["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["Deployment", "Service"]);
    let c = &d[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["image"],
        "localhost:5000/asset-transfer-basic@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    // The Service port follows the chaincode port, with protocol TCP (Kubernetes 1.20 needs it).
    assert_eq!(d[1]["spec"]["ports"][0]["port"], 9999);
    assert_eq!(d[1]["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    let env: Vec<(&str, &str)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    for name in ["CHAINCODE_ID", "CORE_CHAINCODE_ID_NAME", "CORE_CHAINCODE_ID"] {
        assert!(env.contains(&(name, PLAIN[9])), "{name} missing: {env:?}");
    }
    for name in ["CHAINCODE_SERVER_ADDRESS", "CORE_CHAINCODE_ADDRESS"] {
        assert!(env.contains(&(name, "0.0.0.0:9999")), "{name} missing: {env:?}");
    }
}

#[test]
fn a_metrics_port_is_a_named_container_and_service_port_with_scrape_annotations() {
    let args = [PLAIN, &["--metrics-port", "9464"]].concat();
    golden("metrics.yaml", &args);
    let d = docs(&args);
    let pod = &d[0]["spec"]["template"];
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["ports"][1], serde_json::json!({"name": "metrics", "containerPort": 9464, "protocol": "TCP"}));
    let env = c["env"].as_array().unwrap();
    assert!(
        env.contains(&serde_json::json!({"name": "CHAINCODE_METRICS_ADDRESS", "value": "0.0.0.0:9464"})),
        "{env:?}"
    );
    assert_eq!(
        d[1]["spec"]["ports"][1],
        serde_json::json!({"name": "metrics", "port": 9464, "targetPort": "metrics", "protocol": "TCP"})
    );
    for annotations in [&pod["metadata"]["annotations"], &d[1]["metadata"]["annotations"]] {
        assert_eq!(annotations["prometheus.io/scrape"], "true");
        assert_eq!(annotations["prometheus.io/port"], "9464");
        assert_eq!(annotations["prometheus.io/path"], "/metrics");
    }

    // Without it: no metrics port, variable or annotation anywhere.
    let plain = serde_json::to_string(&docs(PLAIN)).unwrap();
    for absent in ["metrics", "prometheus.io"] {
        assert!(!plain.contains(absent), "{absent} in the plain render: {plain}");
    }

    // The hlf-operator's Service is its controller's: the pods get the variable and the annotations.
    let hlf = ["--target", "hlf-operator", "--name", "asset", "--image", "r/a:1", "--package-id", "a:1"];
    let d = docs(&[&hlf[..], &["--metrics-port", "9464"]].concat());
    let spec = &d[0]["spec"];
    assert_eq!(spec["env"][1], serde_json::json!({"name": "CHAINCODE_METRICS_ADDRESS", "value": "0.0.0.0:9464"}));
    assert_eq!(spec["podAnnotations"]["prometheus.io/port"], "9464");
}

#[test]
fn a_new_package_changes_the_pod_template() {
    let mut other = PLAIN.to_vec();
    other[9] = "asset_1.1:aaaa";
    let (a, b) = (docs(PLAIN), docs(&other));
    let ann = |d: &serde_json::Value| d["spec"]["template"]["metadata"]["annotations"].clone();
    assert_eq!(ann(&a[0])["fabric-ccaas/package-id"], PLAIN[9]);
    assert_ne!(ann(&a[0]), ann(&b[0]), "a package change must roll the pods");
}

#[test]
fn tls_from_files_renders_a_secret_mounted_where_the_variables_point() {
    let args = [
        "--name",
        "asset",
        "--image",
        "localhost:5000/asset:1.0",
        "--package-id",
        "asset_1.0:abcd",
        "--tls-cert",
        "admin-cert.pem",
        "--tls-key",
        "admin-key.pem",
        "--tls-client-ca",
        "user1-cert.pem",
    ];
    golden("tls.yaml", &args);
    let d = docs(&args);
    assert_eq!(d.iter().map(|d| d["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["Secret", "Deployment", "Service"]);
    assert_eq!(d[0]["metadata"]["name"], "asset-tls");
    assert_eq!(d[0]["type"], "kubernetes.io/tls");
    let pod = &d[1]["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["secret"]["secretName"], "asset-tls");
    let mount = pod["containers"][0]["volumeMounts"][0]["mountPath"].as_str().unwrap();
    let env = pod["containers"][0]["env"].as_array().unwrap();
    let var = |n: &str| env.iter().find(|e| e["name"] == n).map(|e| e["value"].as_str().unwrap().to_string());
    assert_eq!(var("CHAINCODE_TLS_DISABLED").as_deref(), Some("false"));
    assert_eq!(var("CHAINCODE_TLS_CERT"), Some(format!("{mount}/tls.crt")));
    assert_eq!(var("CHAINCODE_TLS_KEY"), Some(format!("{mount}/tls.key")));
    assert_eq!(var("CHAINCODE_CLIENT_CA_CERT"), Some(format!("{mount}/ca.crt")));
    // New TLS material rolls the pods.
    assert!(d[1]["spec"]["template"]["metadata"]["annotations"]["fabric-ccaas/tls-sha256"].is_string());
}

#[test]
fn tls_from_an_existing_secret_renders_no_secret() {
    let d = docs(&[
        "--name",
        "asset",
        "--image",
        "r/asset:1",
        "--package-id",
        "asset:1",
        "--tls-secret",
        "asset-certs",
        "--tls-client-auth",
    ]);
    assert_eq!(d.iter().map(|d| d["kind"].as_str().unwrap()).collect::<Vec<_>>(), ["Deployment", "Service"]);
    assert_eq!(d[0]["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"], "asset-certs");
}

#[test]
fn per_peer_servers_are_named_by_the_address_template() {
    let args = [
        "--name",
        "asset",
        "--image",
        "localhost:5000/asset:1.0",
        "--label",
        "asset_1.0",
        "--address",
        "{{.peername}}-asset:9999",
        "--port",
        "9999",
        "--per-peer",
        "peer0org1,peer1org1",
    ];
    golden("per-peer.yaml", &args);
    let d = docs(&args);
    let names: Vec<(&str, &str)> =
        d.iter().map(|d| (d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect();
    assert_eq!(
        names,
        [
            ("Deployment", "peer0org1-asset"),
            ("Service", "peer0org1-asset"),
            ("Deployment", "peer1org1-asset"),
            ("Service", "peer1org1-asset")
        ]
    );
    // The package ID is the one the packager computes for that label and address.
    let id = d[0]["spec"]["template"]["metadata"]["annotations"]["fabric-ccaas/package-id"].as_str().unwrap();
    assert!(id.starts_with("asset_1.0:") && id.len() == "asset_1.0:".len() + 64, "{id}");
}

#[test]
fn hlf_operator_fabric_chaincode() {
    let args = [
        "--target",
        "hlf-operator",
        "--name",
        "asset",
        "--namespace",
        "fabric",
        "--image",
        "localhost:5000/asset:1.0",
        "--package-id",
        "asset_1.0:abcd",
        "--env",
        "RUST_LOG=info",
        "--image-pull-secret",
        "registry-creds",
    ];
    golden("hlf-operator.yaml", &args);
    let d = docs(&args);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["apiVersion"], "hlf.kungfusoftware.es/v1alpha1");
    assert_eq!(d[0]["kind"], "FabricChaincode");
    // The fields the CRD requires.
    for f in ["chaincodeServerPort", "image", "imagePullPolicy", "packageId", "replicas"] {
        assert!(!d[0]["spec"][f].is_null(), "spec.{f} missing");
    }
}

#[test]
fn every_object_carries_the_managed_by_label_apply_and_down_go_by() {
    let tls = [
        "--name",
        "asset",
        "--image",
        "r/asset:1",
        "--package-id",
        "asset:1",
        "--tls-cert",
        "admin-cert.pem",
        "--tls-key",
        "admin-key.pem",
    ];
    let hlf = ["--target", "hlf-operator", "--name", "asset", "--image", "r/asset:1", "--package-id", "asset:1"];
    let per_peer = [
        "--name",
        "asset",
        "--image",
        "r/asset:1",
        "--label",
        "asset_1.0",
        "--address",
        "{{.peername}}-asset:7052",
        "--per-peer",
        "peer0org1,peer1org1",
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for args in [PLAIN, &tls[..], &hlf[..], &per_peer[..]] {
        for d in docs(args) {
            let what = format!("{} {}", d["kind"], d["metadata"]["name"]);
            assert_eq!(
                d["metadata"]["labels"][ccaas_deploy::render::MANAGED_BY_LABEL],
                ccaas_deploy::render::MANAGER,
                "{what}"
            );
            kinds.insert(d["kind"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["Deployment", "FabricChaincode", "Secret", "Service"]);
}

fn refused(args: &[&str], says: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: stderr does not say '{says}': {err}");
}

#[test]
fn refuses_descriptions_that_cannot_work() {
    let base = ["--name", "asset", "--image", "r/a:1", "--package-id", "a:1"];
    refused(&["--name", "Asset_1", "--image", "r/a:1", "--package-id", "a:1"], "DNS-1035");
    refused(&[&base[..], &["--env", "CHAINCODE_ID=x"]].concat(), "remove it from env");
    refused(&[&base[..], &["--uid", "0"]].concat(), "non-root");
    refused(&[&base[..], &["--digest", "sha256:12"]].concat(), "64 lowercase hex");
    refused(&[&base[..], &["--per-peer", "p0"]].concat(), "address template");
    refused(&[&base[..], &["--per-peer", "p0", "--address-template", "asset:7052"]].concat(), "{{.peername}}");
    refused(&[&base[..], &["--address-template", "asset:9999"]].concat(), "port 9999");
    refused(&[&base[..], &["--target", "hlf-operator", "--port", "9999"]].concat(), "7052");
    refused(&[&base[..], &["--target", "hlf-operator", "--tls-secret", "s"]].concat(), "Fabric CA enrollment");
    refused(&[&base[..], &["--tls-cert", "missing.pem", "--tls-key", "admin-key.pem"]].concat(), "missing.pem");
    refused(&[&base[..], &["--tls-cert", "network-org1.yaml", "--tls-key", "admin-key.pem"]].concat(), "not PEM");
    refused(&["--name", "asset", "--image", "r/a:1"], "no package ID");
    refused(&[&base[..], &["--metrics-port", "7052"]].concat(), "a port of their own");
    refused(&[&base[..], &["--metrics-port", "0"]].concat(), "metrics port 0");
    refused(&[&base[..], &["--env", "CHAINCODE_METRICS_ADDRESS=0.0.0.0:9464"]].concat(), "remove it from env");
}

#[test]
fn the_package_address_must_be_the_rendered_service() {
    let base = ["--name", "asset", "--namespace", "fabric", "--image", "r/a:1", "--label", "asset_1.0"];
    let with = |address: &'static str, more: &[&'static str]| [&base[..], &["--address", address], more].concat();
    // The Service's name and port, in any of the forms a pod in the cluster resolves.
    for a in ["asset:7052", "asset.fabric:7052", "asset.fabric.svc:7052", "asset.fabric.svc.cluster.local:7052"] {
        ok_args(&with(a, &[]));
    }
    ok_args(&with("asset:9999", &["--port", "9999"]));
    // Another name, port or namespace is refused, naming both values and the way out.
    for (bad, port) in
        [("other:7052", "7052"), ("asset:7053", "7052"), ("asset.default:7052", "7052"), ("asset:7052", "9999")]
    {
        let args = with(bad, &["--port", port]);
        refused(
            &args,
            &format!("the package's address {bad} is not the Service rendered for it (asset.fabric:{port})"),
        );
        refused(&args, "--external-address");
        // Served elsewhere: rendered as asked.
        ok_args(&with(bad, &["--port", port, "--external-address"]));
    }
    // A package file: its connection.json's address is checked.
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("p.tar.gz");
    let spec = ccaas_package::PackageSpec::ccaas("asset_1.0", ccaas_package::ConnectionSpec::new("elsewhere:7052"));
    std::fs::write(&pkg, ccaas_package::build_package(&spec).unwrap().bytes).unwrap();
    let p = pkg.to_str().unwrap();
    refused(&["--name", "asset", "--image", "r/a:1", p], "the package's address elsewhere:7052 is not the Service");
    ok_args(&["--name", "asset", "--image", "r/a:1", p, "--external-address"]);
    // Per peer: the template's namespace must be the rendered one.
    let per_peer = ["--name", "asset", "--image", "r/a:1", "--label", "l", "--per-peer", "p0,p1"];
    ok_args(&[&per_peer[..], &["--address", "{{.peername}}-asset.default.svc:7052"]].concat());
    refused(
        &[&per_peer[..], &["--address", "{{.peername}}-asset.fabric:7052"]].concat(),
        "(p0-asset.default:7052, p1-asset.default:7052): the peers would dial nothing there; package the Service's \
         address (e.g. {{.peername}}-asset:7052)",
    );
}

fn ok_args(args: &[&str]) {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}
