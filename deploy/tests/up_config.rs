//! `up`'s config file: relative paths, unknown fields, and the package it makes: deterministic,
//! and new whenever the address or the TLS material the peers use changes (which `up` then
//! re-approves at the same sequence); the server certificate must chain to the root certificate
//! and cover the address.

use std::path::Path;

use ccaas_deploy::up::UpConfig;

struct Ca {
    key: rcgen::KeyPair,
    params: rcgen::CertificateParams,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { key, params, pem }
}

/// A leaf certificate for `host` signed by `ca`: (cert PEM, key PEM).
fn leaf(ca: &Ca, host: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec![host.to_string()]).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca.params, &ca.key);
    (params.signed_by(&key, &issuer).unwrap().pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const BASE: &str = "chaincode:\n  name: asset\n  version: \"1.0\"\n  address: asset:7052\n\
                    image:\n  reference: 127.0.0.1:5000/asset:1.0\n";

fn package_id(dir: &Path, yaml: &str) -> Result<String, String> {
    write(dir, "ccaas-deploy.yaml", yaml);
    let c = UpConfig::load(&dir.join("ccaas-deploy.yaml")).map_err(|e| e.to_string())?;
    c.package().map(|p| p.package_id).map_err(|e| e.to_string())
}

#[test]
fn packages_follow_the_address_and_the_tls_material() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = package_id(d, BASE).unwrap();
    assert!(plain.starts_with("asset_1.0:"), "{plain}");
    assert_eq!(package_id(d, BASE).unwrap(), plain, "the same file gives the same package");
    let moved = package_id(d, &BASE.replace("asset:7052", "asset:7053")).unwrap();
    assert_ne!(moved, plain, "a new address makes a new package");

    let (ca1, ca2) = (ca("ca one"), ca("ca two"));
    write(d, "ca1.pem", &ca1.pem);
    write(d, "ca2.pem", &ca2.pem);
    // `tls:` belongs under chaincode:, before image:.
    let tls_yaml = |ca: &str| BASE.replace("image:\n", &format!("  tls:\n    root_cert: {ca}\nimage:\n"));
    let tls1 = package_id(d, &tls_yaml("ca1.pem")).unwrap();
    assert_ne!(tls1, plain, "TLS makes a new package");
    assert_eq!(package_id(d, &tls_yaml("ca1.pem")).unwrap(), tls1);
    let tls2 = package_id(d, &tls_yaml("ca2.pem")).unwrap();
    assert_ne!(tls2, tls1, "a new root certificate makes a new package");

    // Mutual TLS: the client pair goes in too; half a pair is refused.
    let (client_cert, client_key) = leaf(&ca1, "peer0");
    write(d, "client.pem", &client_cert);
    write(d, "client.key", &client_key);
    let mtls = BASE.replace(
        "image:\n",
        "  tls:\n    root_cert: ca1.pem\n    client_cert: client.pem\n    client_key: client.key\nimage:\n",
    );
    let m = package_id(d, &mtls).unwrap();
    assert!(m != tls1 && m != plain);
    let half = BASE.replace("image:\n", "  tls:\n    root_cert: ca1.pem\n    client_cert: client.pem\nimage:\n");
    assert!(package_id(d, &half).unwrap_err().contains("both client_cert and client_key"));

    // The server certificate (kubernetes.tls files) must chain to the root and cover the address.
    let (good_cert, good_key) = leaf(&ca1, "asset");
    let (other_cert, _) = leaf(&ca1, "elsewhere");
    let (foreign_cert, _) = leaf(&ca2, "asset");
    write(d, "server.key", &good_key);
    let served =
        |cert: &str| format!("{}kubernetes:\n  tls:\n    cert: {cert}\n    key: server.key\n", tls_yaml("ca1.pem"));
    write(d, "good.pem", &good_cert);
    write(d, "other.pem", &other_cert);
    write(d, "foreign.pem", &foreign_cert);
    assert_eq!(package_id(d, &served("good.pem")).unwrap(), tls1, "the server certificate is checked, not packaged");
    assert!(package_id(d, &served("other.pem")).is_err(), "a certificate for another host must be refused");
    assert!(package_id(d, &served("foreign.pem")).is_err(), "a certificate from another CA must be refused");
}

#[test]
fn the_file_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = package_id(d, &format!("{BASE}colour: blue\n")).unwrap_err();
    assert!(err.contains("ccaas-deploy.yaml") && err.contains("colour"), "{err}");
    let err = package_id(d, &BASE.replace("  address: asset:7052\n", "")).unwrap_err();
    assert!(err.contains("address"), "{err}");
    // Relative paths are relative to the file, not to the working directory.
    write(d, "ccaas-deploy.yaml", &format!("{BASE}  binary: bin/asset\nkubernetes:\n  kubeconfig: kube/config\n"));
    let c = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap();
    assert_eq!(c.image.binary.unwrap(), d.join("bin/asset"));
    assert_eq!(c.kubernetes.kubeconfig.unwrap(), d.join("kube/config"));
    // The workload carries the package ID, the namespace default and the file's settings.
    write(d, "ccaas-deploy.yaml", &format!("{BASE}kubernetes:\n  replicas: 3\n  port: 9999\n  metrics_port: 9464\n"));
    let c = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap();
    let w = c.workload("asset_1.0:ab", Some("sha256:00".into()));
    assert_eq!((w.namespace.as_str(), w.replicas, w.port, w.metrics_port), ("default", 3, 9999, Some(9464)));
    // up renders what render does: the metrics port reaches the manifests.
    let manifests = ccaas_deploy::render::render(&c.workload("asset_1.0:ab", None), Default::default()).unwrap();
    assert_eq!(manifests[1]["spec"]["ports"][1]["name"], "metrics");
    assert_eq!(manifests[0]["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"], "9464");
    assert_eq!(w.image_ref(), "127.0.0.1:5000/asset@sha256:00");
    // Per-peer servers are named by the address template.
    write(
        d,
        "ccaas-deploy.yaml",
        &format!(
            "{}kubernetes:\n  per_peer: [peer0org1, peer1org1]\n",
            BASE.replace("asset:7052", "'{{.peername}}-asset:7052'")
        ),
    );
    let c = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap();
    let w = c.workload(&c.package().unwrap().package_id, None);
    assert_eq!(w.server_names().unwrap(), ["peer0org1-asset", "peer1org1-asset"]);
    // TLS from an existing Secret.
    write(
        d,
        "ccaas-deploy.yaml",
        &format!("{BASE}kubernetes:\n  tls:\n    secret: asset-certs\n    client_auth: true\n"),
    );
    let c = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap();
    assert_eq!(
        c.kubernetes.tls,
        Some(ccaas_deploy::render::Tls::Secret { name: "asset-certs".into(), client_auth: true })
    );
}

/// A file too big, nested too deep, or with a secret in a mistyped field: refused before or
/// without quoting it.
#[test]
fn hostile_files_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let load = |yaml: &str| {
        write(d, "ccaas-deploy.yaml", yaml);
        UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap_err().to_string()
    };
    let e = load(&format!("{BASE}{}", "# padding\n".repeat(110_000)));
    assert!(e.contains("up config "), "{e}");
    let size = BASE.len() + 1_100_000;
    assert!(e.contains(&format!("ccaas-deploy.yaml is {size} bytes or more, over the 1 MiB limit")), "{e}");
    let e = load(&format!("{BASE}kubernetes:\n  env: {}1{}\n", "{a: ".repeat(40_000), "}".repeat(40_000)));
    assert!(e.contains("ccaas-deploy.yaml: [...] or {...} nested more than 128 levels deep"), "{e}");
    // An environment value is often a token: a mistyped `env` does not print it.
    let e = load(&format!("{BASE}kubernetes:\n  env: \"API_TOKEN=s3cr3t-t0ken\"\n"));
    assert!(e.contains("kubernetes.env: invalid type: a string (not shown), expected a map"), "{e}");
    assert!(!e.contains("s3cr3t"), "{e}");
}

#[test]
fn the_definition_has_the_policy_and_the_collections_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let collections = r#"[{"name":"private","policy":"OR('Org1MSP.member')","requiredPeerCount":0,"maxPeerCount":1}]"#;
    write(d, "collections.json", collections);
    let yaml = BASE.replace(
        "  address:",
        "  signature_policy: \"OR('Org1MSP.member')\"\n  collections_config: collections.json\n  address:",
    );
    write(d, "ccaas-deploy.yaml", &yaml);
    let def = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap().definition().unwrap();
    let plain = ccaas_deploy::definition::Definition::new("asset", "1.0");
    assert_eq!((def.name.as_str(), def.version.as_str()), ("asset", "1.0"));
    assert_eq!(def.differences(&plain), ["endorsement policy", "collections"]);
    let expected = plain.signature_policy("OR('Org1MSP.member')").unwrap().collections_json(collections.as_bytes());
    assert!(def.same_as(&expected.unwrap()));

    // The file is relative to the up file, and a missing one is named.
    std::fs::remove_file(d.join("collections.json")).unwrap();
    let e = UpConfig::load(&d.join("ccaas-deploy.yaml")).unwrap().definition().unwrap_err().to_string();
    assert!(e.contains("collections config") && e.contains(&d.join("collections.json").display().to_string()), "{e}");
}

/// `up` refuses a package address that is not the Service it renders before it reads anything
/// else (no identity, no cluster needed), naming both; `--external-address` or
/// `chaincode.external_address: true` let it through (to the next missing piece, the identity).
#[test]
fn up_refuses_an_address_that_is_not_its_service() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let up = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ccaas-deploy"))
            .env_clear()
            .current_dir(d)
            .arg("up")
            .args(args)
            .output()
            .unwrap()
    };
    let yaml = format!("{}kubernetes:\n  namespace: fabric\n", BASE.replace("asset:7052", "asset.other.svc:7052"));
    write(d, "ccaas-deploy.yaml", &yaml);
    let out = up(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "the package's address asset.other.svc:7052 is not the Service rendered for it (asset.fabric:7052)"
        ) && err.contains("chaincode.external_address: true"),
        "{err}"
    );
    for (args, file) in [
        (&["--external-address"][..], yaml.clone()),
        (&[][..], yaml.replace("  address:", "  external_address: true\n  address:")),
    ] {
        write(d, "ccaas-deploy.yaml", &file);
        let out = up(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("is not the Service"), "{err}");
    }
    // The Service's own address in the namespace: accepted.
    write(d, "ccaas-deploy.yaml", &yaml.replace("asset.other.svc:7052", "asset.fabric.svc.cluster.local:7052"));
    let err = String::from_utf8_lossy(&up(&[]).stderr).into_owned();
    assert!(!err.contains("is not the Service"), "{err}");
}

/// With the hlf-operator target (`kubernetes.target` or `--target`), `up` refuses before it reads
/// anything else what the operator's FabricChaincode cannot express, naming the setting; `down`
/// takes the same `--target`.
#[test]
fn up_refuses_what_hlf_operator_cannot_express() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccaas-deploy"))
            .env_clear()
            .current_dir(d)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for (setting, says) in [
        (
            "  port: 7053\n",
            "kubernetes.port 7053 with kubernetes.target hlf-operator: the operator's Service always targets port 7052",
        ),
        (
            "  progress_deadline_seconds: 8\n",
            "kubernetes.progress_deadline_seconds with kubernetes.target hlf-operator",
        ),
        ("  tls: {secret: asset-tls}\n", "kubernetes.tls with kubernetes.target hlf-operator"),
        ("  tls: {cert: tls.crt, key: tls.key}\n", "serves TLS only with a certificate it enrolls from a Fabric CA"),
    ] {
        let file = format!("{BASE}kubernetes:\n  target: hlf-operator\n{setting}");
        write(d, "ccaas-deploy.yaml", &file);
        let (code, err) = run(&["up"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(says), "{setting}: {err}");
        // The same file for the Kubernetes target, by flag: not refused for that.
        let (_, err) = run(&["up", "--target", "kubernetes"]);
        assert!(!err.contains("hlf-operator"), "{setting}: {err}");
        // And the flag sets the target as well as the file does.
        write(d, "ccaas-deploy.yaml", &format!("{BASE}kubernetes:\n{setting}"));
        let (code, err) = run(&["up", "--target", "hlf-operator"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(says), "{setting}: {err}");
    }
    write(d, "ccaas-deploy.yaml", &format!("{BASE}kubernetes:\n  target: openshift\n"));
    let (code, err) = run(&["up"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("kubernetes.target") || err.contains("hlf-operator"), "{err}");
}
