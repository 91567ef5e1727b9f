//! Identity and endpoint sources resolved into one `Target`, without a network. The fixture
//! `network-org1.yaml` is the hlf-operator network config the fabric-testbed writes.

use std::path::PathBuf;
use std::process::Command;

use ccaas_deploy::config::Sources;
use ccaas_deploy::Error;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn hlf_network_config_with_a_user() {
    let t = Sources { config: Some(fixture("network-org1.yaml")), user: Some("admin".into()), ..Default::default() }
        .resolve()
        .unwrap();
    assert_eq!(t.identity.msp_id(), "Org1MSP");
    assert_eq!(t.channel, "mychannel");
    assert_eq!(t.peers.len(), 1);
    let peer = &t.peers[0];
    assert_eq!((peer.name.as_str(), peer.org.as_str()), ("peer0.org1.example.com", "Org1MSP"));
    assert!(peer.address.starts_with("127.0.0.1:"), "{}", peer.address);
    let tls = peer.tls.as_ref().expect("grpcs:// means TLS");
    assert_eq!(tls.server_name.as_deref(), Some("peer0.org1.example.com"));
    assert!(tls.ca_pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let orderer = t.orderer.expect("the config names an orderer");
    assert_eq!((orderer.name.as_str(), orderer.org.as_str()), ("orderer.example.com", "OrdererMSP"));
}

#[test]
fn unknown_user_names_the_file_the_org_and_the_users_there() {
    let path = fixture("network-org1.yaml");
    let err = Sources { config: Some(path.clone()), user: Some("nobody".into()), ..Default::default() }
        .resolve()
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "user 'nobody' is not in {p} for organization Org1MSP (users there: admin); add it with \
             `kubectl hlf utils adduser --config={p} --username=nobody --mspid=Org1MSP ...` or pass another --user",
            p = path.display()
        )
    );
}

#[test]
fn unknown_peer_name_lists_the_peers() {
    let err = Sources {
        config: Some(fixture("network-org1.yaml")),
        user: Some("admin".into()),
        peer_names: vec!["org1-peer0.default".into()],
        ..Default::default()
    }
    .resolve()
    .unwrap_err();
    assert!(err.to_string().starts_with("peer 'org1-peer0.default' is not in "), "{err}");
    assert!(err.to_string().ends_with("(peers there: peer0.org1.example.com)"), "{err}");
}

#[test]
fn peer_cli_environment_msp_folder_address_and_tls_ca() {
    let t = Sources {
        msp_id: Some("Org1MSP".into()),
        msp_dir: Some(fixture("msp")),
        peer_addresses: vec!["localhost:7051".into()],
        tls_ca: Some(fixture("admin-cert.pem")),
        tls_hostname: Some("peer0.org1.example.com".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(t.channel, "mychannel");
    assert_eq!(t.peers[0].address, "localhost:7051");
    assert_eq!(t.peers[0].tls.as_ref().unwrap().server_name.as_deref(), Some("peer0.org1.example.com"));
    assert!(t.orderer.is_none());
}

#[test]
fn no_identity_says_which_flags_or_variables_give_one() {
    let err = Sources { msp_id: Some("Org1MSP".into()), ..Default::default() }.resolve().unwrap_err();
    assert!(err.to_string().starts_with("no identity: pass --config FILE --user NAME, or --msp-dir"), "{err}");
    assert!(err.to_string().contains("CORE_PEER_MSPCONFIGPATH"), "{err}");
}

#[test]
fn cli_unknown_user_exits_2_with_the_message_and_nothing_on_stdout() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccaas-deploy"))
        .env_clear()
        .args(["--config", fixture("network-org1.yaml").to_str().unwrap(), "--user", "nobody"])
        .args(["--output", "json", "installed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: user 'nobody' is not in "), "{stderr}");
}

#[test]
fn connection_profile_with_an_msp_folder() {
    let t =
        Sources { config: Some(fixture("connection-org1.yaml")), msp_dir: Some(fixture("msp")), ..Default::default() }
            .resolve()
            .unwrap();
    assert_eq!(t.identity.msp_id(), "Org1MSP", "client.organization Org1 has mspid Org1MSP");
    assert_eq!(t.peers[0].address, "localhost:7051");
    assert_eq!(t.peers[0].org, "Org1MSP");
    let tls = t.peers[0].tls.as_ref().unwrap();
    assert_eq!(
        tls.ca_pem,
        std::fs::read(fixture("admin-cert.pem")).unwrap(),
        "tlsCACerts.path is relative to the file"
    );
    assert_eq!(tls.server_name.as_deref(), Some("peer0.org1.example.com"));
}

#[test]
fn kubectl_hlf_inspect_leaves_client_organization_empty_the_user_decides() {
    let text = std::fs::read_to_string(fixture("network-org1.yaml")).unwrap();
    let text = text.replace("client:\n  organization: Org1MSP\n", "client:\n  organization: \"\"\n");
    assert!(text.contains("organization: \"\""));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org1.yaml");
    std::fs::write(&path, text).unwrap();
    let t = Sources { config: Some(path), user: Some("admin".into()), ..Default::default() }.resolve().unwrap();
    assert_eq!(t.identity.msp_id(), "Org1MSP");
    assert_eq!(t.peers[0].name, "peer0.org1.example.com");
}

#[test]
fn core_peer_tls_enabled_switches_tls_as_for_the_peer_cli() {
    let base = Sources {
        msp_id: Some("Org1MSP".into()),
        msp_dir: Some(fixture("msp")),
        peer_addresses: vec!["localhost:7051".into()],
        ..Default::default()
    };
    let off = Sources { tls_enabled: Some(false), tls_ca: Some(fixture("admin-cert.pem")), ..base.clone() };
    assert!(off.resolve().unwrap().peers[0].tls.is_none());
    let on_without_ca = Sources { tls_enabled: Some(true), ..base };
    let err = on_without_ca.resolve().unwrap_err().to_string();
    assert!(err.starts_with("TLS is on (CORE_PEER_TLS_ENABLED=true) but no TLS CA is given"), "{err}");
}

/// Each subcommand's --help lists only the flags it uses: the commands that need no Fabric
/// network show no identity, peer or orderer flag; those that talk to one list them all, with
/// the peer CLI's variables.
#[test]
fn help_lists_the_connection_flags_only_where_they_are_used() {
    let help = |cmd: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ccaas-deploy")).env_clear().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd} --help");
        String::from_utf8(out.stdout).unwrap()
    };
    let connection = [
        "--config <FILE>",
        "--user",
        "--msp-id",
        "--msp-dir",
        "--cert",
        "--peer-address",
        "--tls-ca",
        "--tls-client-cert",
        "--orderer-address",
        "--orderer-ca",
        "--channel",
        "--via-orderer",
        "CORE_PEER_LOCALMSPID",
    ];
    for cmd in ["image", "build-static", "render", "new", "apply"] {
        let text = help(cmd);
        for flag in connection {
            assert!(!text.contains(flag), "{cmd} --help lists {flag}:\n{text}");
        }
    }
    for cmd in ["install", "installed", "approve", "commit", "lifecycle", "status", "invoke", "query", "up", "down"] {
        let text = help(cmd);
        for flag in connection {
            assert!(text.contains(flag), "{cmd} --help lacks {flag}:\n{text}");
        }
    }
    // Before the subcommand they still work, and after it too; after wins.
    let user_error = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ccaas-deploy")).env_clear().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let config = fixture("network-org1.yaml");
    let config = config.to_str().unwrap();
    assert!(user_error(&["installed", "--config", config, "--user", "nobody"]).starts_with("error: user 'nobody'"));
    assert!(user_error(&["--config", config, "--user", "somebody", "installed", "--user", "nobody"])
        .starts_with("error: user 'nobody'"));
}
