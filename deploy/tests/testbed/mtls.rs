//! Peers that require TLS client certificates (`FABRIC_TESTBED_PEER_CLIENT_AUTH=true`), and
//! Fabric 3.1.5 with Ed25519 identities (`FABRIC_TESTBED_KEY_ALGORITHM=ed25519`): every command
//! that talks to peers, from each identity source (network config, the peer CLI's environment,
//! flags), and the sentence that says which certificate is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use ccaas_deploy::identity::Identity;
use serde_json::Value;

use crate::package;
use crate::support::{ok, run, Testbed};

const CLIENT_AUTH: (&str, &str) = ("FABRIC_TESTBED_PEER_CLIENT_AUTH", "true");

/// Org 1's admin through its network config (which carries client.tlsCerts.client).
fn with_config(t: &Testbed) -> Command {
    let mut c = t.deploy();
    c.args(["--config", t.var("ORG1_NETWORK_CONFIG"), "--user", "admin"]);
    c
}

/// Org 1's admin from flags alone: the MSP folder, the peer, its TLS CA, and `tls` (a TLS
/// client certificate and key) if given.
fn with_flags(t: &Testbed, tls: Option<(&str, &str)>) -> Command {
    let mut c = t.deploy();
    c.args(["--msp-id", "Org1MSP", "--msp-dir", t.var("ORG1_ADMIN_MSP")])
        .args(["--peer-address", t.var("ORG1_PEER_ADDRESS"), "--tls-ca", t.var("ORG1_PEER_TLS_CA")])
        .args(["--tls-hostname", t.var("ORG1_PEER_TLS_HOSTNAME")]);
    if let Some((cert, key)) = tls {
        c.args(["--tls-client-cert", cert, "--tls-client-key", key]);
    }
    c
}

/// The network config of org 1 without client.tlsCerts, written to `dir`.
fn config_without_tls_client(t: &Testbed, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(t.var("ORG1_NETWORK_CONFIG")).unwrap();
    let mut yaml: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let client = yaml.get_mut("client").and_then(|c| c.as_mapping_mut()).unwrap();
    assert!(client.remove("tlsCerts").is_some(), "the testbed's network config has client.tlsCerts");
    let path = dir.join("network-org1-no-tls-client.yaml");
    std::fs::write(&path, serde_norway::to_string(&yaml).unwrap()).unwrap();
    path
}

/// Asserts the failure of a command against a peer that wants a client certificate when none
/// is presented: exit 4, and a sentence naming the flags, the peer CLI's variables and the
/// network config's place for it.
fn assert_certificate_required(cmd: &mut Command) {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 4, "{out}{err}");
    for part in [
        "requires a TLS client certificate (mutual TLS) and none was presented",
        "--tls-client-cert and --tls-client-key",
        "CORE_PEER_TLS_CLIENTCERT_FILE and CORE_PEER_TLS_CLIENTKEY_FILE, with CORE_PEER_TLS_CLIENTAUTHREQUIRED=true",
        "client.tlsCerts.client",
    ] {
        assert!(err.contains(part), "missing {part:?} in: {err}");
    }
}

/// Fabric 2.5.6 peers with `peer.tls.clientAuthRequired`: install, approve, readiness, commit,
/// approved, committed, installed, status, lifecycle, invoke and query with the org admin's TLS
/// client certificate from the network config, the peer CLI's environment and flags; without
/// it each source fails with the sentence that says what to give.
#[test]
fn client_auth_required_by_the_peers() {
    let Some(mut t) = Testbed::up_with("mtls", 1, crate::ports::port(crate::ports::testbed::MTLS), &[CLIENT_AUTH])
    else {
        return;
    };
    let chaincode_port = crate::ports::port(crate::ports::chaincode::MTLS);
    let dir = tempfile::tempdir().unwrap();
    let (pkg, built) = package(dir.path(), "basic.tgz", "basic_1.0", chaincode_port);
    let id = built.package_id.as_str();
    let definition = ["-n", "basic", "-v", "1.0", "--sequence", "1"];

    // The network config: its client.tlsCerts.client.
    let out = ok(with_config(&t).arg("install").arg(&pkg));
    assert!(out.contains(&format!("{id}: installed on peer0.org1.example.com")), "{out}");
    ok(with_config(&t).arg("approve").args(definition).args(["--package-id", id]));
    let ready: Value =
        serde_json::from_str(&ok(with_config(&t).arg("readiness").args(definition).args(["--output", "json"])))
            .unwrap();
    assert_eq!(ready["approvals"]["Org1MSP"], true, "{ready}");
    ok(with_config(&t).arg("commit").args(definition));
    let out = ok(with_config(&t).args(["approved", "-n", "basic"]));
    assert!(out.contains(id), "{out}");
    t.start_chaincode(chaincode_port, id);

    // The peer CLI's environment: testbed.env's CORE_PEER_TLS_CLIENTAUTHREQUIRED and
    // CORE_PEER_TLS_CLIENT{CERT,KEY}_FILE (the Org1 admin's TLS pair).
    assert_eq!(t.var("CORE_PEER_TLS_CLIENTAUTHREQUIRED"), "true");
    let out = ok(t.deploy_as_peer_cli(1).args(["lifecycle", "-n", "basic", "-v", "1.0"]).arg(&pkg));
    assert!(out.contains("nothing to do"), "{out}");
    let committed: Value =
        serde_json::from_str(&ok(t.deploy_as_peer_cli(1).args(["committed", "-n", "basic", "--output", "json"])))
            .unwrap();
    assert_eq!(committed["sequence"], 1, "{committed}");
    let out = ok(t.deploy_as_peer_cli(1).args(["status", "-n", "basic"]));
    assert!(out.contains("consistent: nothing to do"), "{out}");
    ok(t.deploy_as_peer_cli(1).args(["invoke", "-n", "basic", "CreateAsset", "m1", "blue", "5", "Tom", "300"]));

    // Flags: --tls-client-cert and --tls-client-key.
    let pair = Some((t.var("ORG1_ADMIN_TLS_CERT"), t.var("ORG1_ADMIN_TLS_KEY")));
    let out = ok(with_flags(&t, pair).args(["query", "-n", "basic", "ReadAsset", "m1"]));
    assert!(out.contains(r#""Owner":"Tom""#), "{out}");
    let out = ok(with_flags(&t, pair).arg("installed"));
    assert!(out.contains(id), "{out}");
    ok(with_flags(&t, pair).args(["invoke", "-n", "basic", "TransferAsset", "m1", "Ann"]));
    let out = ok(with_config(&t).args(["query", "-n", "basic", "ReadAsset", "m1"]));
    assert!(out.contains(r#""Owner":"Ann""#), "{out}");

    // Without a client certificate, from each source.
    assert_certificate_required(with_flags(&t, None).arg("installed"));
    assert_certificate_required(with_flags(&t, None).args(["query", "-n", "basic", "ReadAsset", "m1"]));
    let bare = config_without_tls_client(&t, dir.path());
    assert_certificate_required(t.deploy().arg("--config").arg(&bare).args([
        "--user",
        "admin",
        "committed",
        "-n",
        "basic",
    ]));
    assert_certificate_required(t.deploy_as_peer_cli(1).env("CORE_PEER_TLS_CLIENTAUTHREQUIRED", "false").args([
        "committed",
        "-n",
        "basic",
    ]));
    // Required, but no certificate named: refused before dialling.
    let (code, _, err) = run(t
        .deploy_as_peer_cli(1)
        .env_remove("CORE_PEER_TLS_CLIENTCERT_FILE")
        .env_remove("CORE_PEER_TLS_CLIENTKEY_FILE")
        .arg("installed"));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("TLS client authentication is required (CORE_PEER_TLS_CLIENTAUTHREQUIRED=true) but no TLS client")
            && err.contains("--tls-client-cert"),
        "{err}"
    );
    // A client certificate of a CA the peer does not trust: the orderer's admin is not one
    // (the peers trust the orderer org's TLS CA), so a self-made CA's.
    let (cert, key) = untrusted_client_pair(dir.path());
    let (code, _, err) = run(with_flags(&t, Some((cert.to_str().unwrap(), key.to_str().unwrap()))).arg("installed"));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("refused the one presented"), "{err}");
}

/// A TLS client certificate and key from a CA of its own, which no peer trusts.
fn untrusted_client_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(vec![]).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["client".into()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (c, k) = (dir.join("untrusted.crt"), dir.join("untrusted.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

/// Go's `pkix.Name.String()` of a certificate's subject or issuer, for cryptogen's names
/// (attributes C, ST, L, O, OU, CN with plain values): the RDNs in reverse order, joined by
/// commas.
fn go_name(name: &x509_parser::x509::X509Name) -> String {
    let mut parts: Vec<String> = Vec::new();
    for rdn in name.iter_rdn() {
        for attr in rdn.iter() {
            let short = match attr.attr_type().to_id_string().as_str() {
                "2.5.4.6" => "C",
                "2.5.4.8" => "ST",
                "2.5.4.7" => "L",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.3" => "CN",
                other => panic!("an attribute cryptogen does not write: {other}"),
            };
            parts.push(format!("{short}={}", attr.as_str().unwrap()));
        }
    }
    parts.reverse();
    parts.join(",")
}

/// `x509::<subject>::<issuer>` of a PEM certificate file, as Go's `cid` makes it (decoded).
fn expected_client_id(cert_file: &str) -> String {
    let pem = std::fs::read(cert_file).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let cert = pem.parse_x509().unwrap();
    format!("x509::{}::{}", go_name(cert.subject()), go_name(cert.issuer()))
}

/// Fabric 3.1.5 with Ed25519 nodes and User1s, and peers that require client certificates: the
/// admin (ECDSA) deploys the private-data example; User1 (Ed25519 signing key, and an Ed25519
/// TLS client key) runs the lifecycle queries, commits a second definition, invokes and queries,
/// from an MSP folder with the network config, the peer CLI's environment, and PEM files. The
/// chaincode reads the Ed25519 creator: the asset's owner is User1's client id, and its MSP ID
/// picks the org's collection.
#[test]
fn ed25519_identities_on_fabric_3() {
    let settings = [("FABRIC_TESTBED_VERSION", "3.1.5"), ("FABRIC_TESTBED_KEY_ALGORITHM", "ed25519"), CLIENT_AUTH];
    let Some(mut t) = Testbed::up_with("ed25519", 1, crate::ports::port(crate::ports::testbed::ED25519), &settings)
    else {
        return;
    };
    let chaincode_port = crate::ports::port(crate::ports::chaincode::ED25519);
    // User1's signing key and TLS client key are Ed25519 (the admin's stay ECDSA).
    for (cert, key, ed25519) in [
        ("ORG1_USER_CERT", "ORG1_USER_KEY", true),
        ("ORG1_USER_TLS_CERT", "ORG1_USER_TLS_KEY", true),
        ("ORG1_ADMIN_CERT", "ORG1_ADMIN_KEY", false),
    ] {
        let pair = Identity::from_files("Org1MSP", Path::new(t.var(cert)), Path::new(t.var(key))).unwrap();
        assert_eq!(pair.is_ed25519(), ed25519, "{key}");
    }
    let dir = tempfile::tempdir().unwrap();
    let collections = dir.path().join("collections.json");
    std::fs::write(
        &collections,
        r#"[{"name":"assetCollection","policy":"OR('Org1MSP.member')","requiredPeerCount":0,"maxPeerCount":1,
             "blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":true},
            {"name":"Org1MSPPrivateCollection","policy":"OR('Org1MSP.member')","requiredPeerCount":0,
             "maxPeerCount":1,"blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false}]"#,
    )
    .unwrap();
    let (pkg, built) = package(dir.path(), "private.tgz", "private_1.0", chaincode_port);
    let id = built.package_id.as_str();
    ok(with_config(&t)
        .args(["lifecycle", "-n", "private", "-v", "1.0", "--collections-config"])
        .arg(&collections)
        .arg(&pkg));
    t.start_example("asset-transfer-private-data", chaincode_port, id, &[("CORE_PEER_LOCALMSPID", "Org1MSP")]);

    // User1 three ways: its MSP folder with the network config (whose TLS client pair is the
    // admin's, ECDSA); the peer CLI's environment with User1's own TLS pair (Ed25519); PEM files.
    let as_user = |n: usize| {
        let mut c = if n == 1 { t.deploy_as_peer_cli(1) } else { t.deploy() };
        match n {
            0 => c.args(["--config", t.var("ORG1_NETWORK_CONFIG"), "--msp-dir", t.var("ORG1_USER_MSP")]),
            1 => c
                .env("CORE_PEER_MSPCONFIGPATH", t.var("ORG1_USER_MSP"))
                .env("CORE_PEER_TLS_CLIENTCERT_FILE", t.var("ORG1_USER_TLS_CERT"))
                .env("CORE_PEER_TLS_CLIENTKEY_FILE", t.var("ORG1_USER_TLS_KEY")),
            _ => c
                .args(["--msp-id", "Org1MSP", "--cert", t.var("ORG1_USER_CERT"), "--key", t.var("ORG1_USER_KEY")])
                .args(["--peer-address", t.var("ORG1_PEER_ADDRESS"), "--tls-ca", t.var("ORG1_PEER_TLS_CA")])
                .args(["--tls-client-cert", t.var("ORG1_USER_TLS_CERT")])
                .args(["--tls-client-key", t.var("ORG1_USER_TLS_KEY")]),
        };
        c
    };
    let owner = expected_client_id(t.var("ORG1_USER_CERT"));
    assert!(owner.starts_with("x509::CN=User1@org1.example.com,OU=client,"), "{owner}");
    for n in 0..3 {
        let committed: Value =
            serde_json::from_str(&ok(as_user(n).args(["committed", "-n", "private", "--output", "json"]))).unwrap();
        assert_eq!(committed["sequence"], 1, "source {n}: {committed}");
        let asset = format!("e{n}");
        let properties = format!(
            r#"asset_properties={{"objectType":"asset","assetID":"{asset}","color":"green","size":{},"appraisedValue":{}}}"#,
            n + 1,
            100 * (n + 1)
        );
        ok(as_user(n).args(["invoke", "-n", "private", "CreateAsset", "--transient", &properties]));
        let read: Value =
            serde_json::from_str(&ok(as_user(n).args(["query", "-n", "private", "ReadAsset", &asset]))).unwrap();
        assert_eq!(read["owner"], owner, "source {n}: the chaincode's client id of the Ed25519 creator");
        let details = ok(as_user(n).args([
            "query",
            "-n",
            "private",
            "ReadAssetPrivateDetails",
            "Org1MSPPrivateCollection",
            &asset,
        ]));
        assert_eq!(details, format!(r#"{{"assetID":"{asset}","appraisedValue":{}}}"#, 100 * (n + 1)));
    }
    // The admin's (ECDSA) id differs: the owner is whoever signed.
    let admin_properties =
        r#"asset_properties={"objectType":"asset","assetID":"a1","color":"red","size":1,"appraisedValue":1}"#;
    ok(with_config(&t).args(["invoke", "-n", "private", "CreateAsset", "--transient", admin_properties]));
    let read: Value =
        serde_json::from_str(&ok(as_user(0).args(["query", "-n", "private", "ReadAsset", "a1"]))).unwrap();
    assert_eq!(read["owner"], expected_client_id(t.var("ORG1_ADMIN_CERT")));

    // A definition approved by the admin and committed by User1 (Ed25519 proposal and
    // transaction), after User1's readiness query.
    let next = ["-n", "private", "-v", "2.0", "--sequence", "2"];
    ok(with_config(&t).arg("approve").args(next).args(["--package-id", id, "--collections-config"]).arg(&collections));
    let ready: Value = serde_json::from_str(&ok(as_user(2)
        .arg("readiness")
        .args(next)
        .args(["--collections-config"])
        .arg(&collections)
        .args(["--output", "json"])))
    .unwrap();
    assert_eq!(ready["approvals"]["Org1MSP"], true, "{ready}");
    ok(as_user(1).arg("commit").args(next).arg("--collections-config").arg(&collections));
    let committed: Value =
        serde_json::from_str(&ok(as_user(2).args(["committed", "-n", "private", "--output", "json"]))).unwrap();
    assert_eq!((committed["sequence"].as_i64(), committed["version"].as_str()), (Some(2), Some("2.0")), "{committed}");
}
