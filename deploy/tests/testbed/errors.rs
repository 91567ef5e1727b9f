//! Error cases against a live peer, each with the message the user sees and its exit code.

use crate::package;
use crate::support::{run, Testbed};

fn assert_has(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "missing {p:?} in:\n{text}");
    }
}

#[test]
fn errors_name_the_peer_the_org_and_the_cause() {
    let Some(t) = Testbed::up("errors", 1, crate::ports::port(crate::ports::testbed::ERRORS)) else { return };
    let nowhere = crate::ports::port(crate::ports::chaincode::ERRORS_NOTHING);
    let dir = tempfile::tempdir().unwrap();
    let peer = t.var("ORG1_PEER_ADDRESS").to_string();

    // A TLS CA that does not match: the orderer org's CA for the peer.
    let (code, out, err) =
        run(t.deploy_as_peer_cli(1).env("CORE_PEER_TLS_ROOTCERT_FILE", t.var("ORDERER_CA")).arg("installed"));
    assert_eq!(code, 4, "{out}{err}");
    assert_has(
        &err,
        &[
            &format!("error: cannot connect to {peer} (Org1MSP) at {peer}: "),
            &format!("the server's TLS certificate is not signed by the TLS CA given ({})", t.var("ORDERER_CA")),
        ],
    );

    // A TLS host name that the certificate does not have.
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(["--tls-hostname", "peer0.org9.example.com", "installed"]));
    assert_eq!(code, 4);
    assert_has(
        &err,
        &["the server's TLS certificate is not valid for 'peer0.org9.example.com'", "ssl-target-name-override"],
    );

    // An unreachable peer (nothing listens there).
    let (code, _, err) =
        run(t.deploy_as_peer_cli(1).env("CORE_PEER_ADDRESS", format!("127.0.0.1:{nowhere}")).arg("installed"));
    assert_eq!(code, 4);
    assert_has(
        &err,
        &[&format!("cannot connect to 127.0.0.1:{nowhere} (Org1MSP) at 127.0.0.1:{nowhere}: nothing listens there (connection refused)")],
    );

    // A package the peer refuses: a valid k8s package, but the peer has only the ccaas builder.
    let k8s = ccaas_package::build_package(&ccaas_package::PackageSpec::k8s(
        "basic-k8s",
        ccaas_package::ImageJson::parse_reference(&format!("example.com/basic@sha256:{}", "a".repeat(64))).unwrap(),
    ))
    .unwrap();
    let k8s_path = dir.path().join("k8s.tgz");
    ccaas_package::write_package_atomically(&k8s_path, &k8s).unwrap();
    let (code, _, err) = run(t.deploy_as_peer_cli(1).arg("install").arg(&k8s_path));
    assert_eq!(code, 1);
    assert_has(
        &err,
        &[
            &format!("error: {peer} (Org1MSP) refused to install package {}: ", k8s.package_id),
            "failed to invoke backing implementation of 'InstallChaincode': could not build chaincode",
            "no external builder on this peer accepts the package's type",
        ],
    );

    // Sequence conflicts, in the peer's words plus what to do.
    let (pkg, built) =
        package(dir.path(), "basic.tgz", "basic_1.0", crate::ports::port(crate::ports::chaincode::ERRORS));
    let approve = ["approve", "-n", "basic", "-v", "1.0", "--sequence", "1", "--package-id", &built.package_id];
    let (code, out, err) = run(t.deploy_as_peer_cli(1).arg("install").arg(&pkg));
    assert_eq!(code, 0, "{out}{err}");
    // Installing again is success, and the package is not sent again.
    let (code, out, _) = run(t.deploy_as_peer_cli(1).args(["install", "--output", "json"]).arg(&pkg));
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["peers"][0]["already_installed"], serde_json::Value::Bool(true), "{out}");
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(approve));
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(t.deploy_as_peer_cli(1).args(["approved", "-n", "basic"]));
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().last().unwrap(),
        format!("Org1MSP approved basic version 1.0 sequence 1 with package {}", built.package_id)
    );
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(approve));
    assert_eq!(code, 1);
    assert_has(
        &err,
        &[
            &format!("error: {peer} (Org1MSP) refused to approve basic version 1.0 sequence 1 for Org1MSP: "),
            "attempted to redefine uncommitted sequence (1) for namespace basic with unchanged content",
            "already approved exactly this definition and package",
        ],
    );
    let (code, _, err) = run(t.deploy_as_peer_cli(1).args(["commit", "-n", "basic", "-v", "1.0", "--sequence", "2"]));
    assert_eq!(code, 1);
    assert_has(
        &err,
        &[
            "refused to check commit readiness of basic sequence 2: ",
            "requested sequence is 2, but new definition must be sequence 1",
            "pass that --sequence",
        ],
    );

    let (code, _, err) = run(t
        .deploy_as_peer_cli(1)
        .args(["approve", "-n", "basic", "-v", "1.0", "--sequence", "5"])
        .args(["--package-id", &built.package_id]));
    assert_eq!(code, 1);
    assert_has(
        &err,
        &[
            "refused to approve basic version 1.0 sequence 5 for Org1MSP: ",
            "requested sequence 5 is larger than the next available sequence number 1",
            "approve the committed sequence (to change only the package) or the one after it",
        ],
    );

    // A readiness check shows the (only) approval.
    let (code, out, _) =
        run(t.deploy_as_peer_cli(1).args(["readiness", "-n", "basic", "-v", "1.0", "--sequence", "1"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().last(), Some("basic sequence 1: Org1MSP=approved"));
}
