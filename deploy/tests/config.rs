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
fn cli_unknown_user_exits_2_with_the_message_and_only_the_failure_on_stdout() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccaas-deploy"))
        .env_clear()
        .args(["--config", fixture("network-org1.yaml").to_str().unwrap(), "--user", "nobody"])
        .args(["--output", "json", "installed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let failure: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failure["kind"], "configuration");
    assert!(failure["message"].as_str().unwrap().starts_with("user 'nobody' is not in "), "{failure}");
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

/// The fixture network config with `organizations.Org1MSP.users.admin.key` replaced by `key`
/// (or the whole user, with `whole_user`), written to a temporary file.
fn config_with_key(dir: &std::path::Path, key: serde_norway::Value, whole_user: bool) -> PathBuf {
    let text = std::fs::read_to_string(fixture("network-org1.yaml")).unwrap();
    let mut v: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let admin = &mut v["organizations"]["Org1MSP"]["users"]["admin"];
    if whole_user {
        *admin = key;
    } else {
        admin["key"] = key;
    }
    let path = dir.join("org1.yaml");
    std::fs::write(&path, serde_norway::to_string(&v).unwrap()).unwrap();
    path
}

fn admin_key() -> String {
    std::fs::read_to_string(fixture("admin-key.pem")).unwrap()
}

/// The base64 lines of a PEM text: what must never be printed.
fn secret_lines(pem: &str) -> Vec<String> {
    pem.lines().filter(|l| !l.starts_with("-----") && !l.trim().is_empty()).map(str::to_string).collect()
}

fn resolve(config: PathBuf) -> Result<ccaas_deploy::config::Target, Error> {
    Sources { config: Some(config), user: Some("admin".into()), ..Default::default() }.resolve()
}

#[test]
fn a_key_given_as_bare_pem_text_works() {
    let dir = tempfile::tempdir().unwrap();
    let t = resolve(config_with_key(dir.path(), admin_key().into(), false)).unwrap();
    assert_eq!(t.identity.msp_id(), "Org1MSP");
    // The other forms still work: {pem: [..]} (a list) and {path: ..} (relative to the config).
    std::fs::copy(fixture("admin-key.pem"), dir.path().join("admin.key")).unwrap();
    let path_form = serde_norway::from_str("{path: admin.key}").unwrap();
    resolve(config_with_key(dir.path(), path_form, false)).unwrap();
    let list_form = serde_norway::Value::Mapping(
        [("pem".into(), serde_norway::Value::Sequence(vec![admin_key().into()]))].into_iter().collect(),
    );
    resolve(config_with_key(dir.path(), list_form, false)).unwrap();
}

#[test]
fn a_malformed_key_is_an_error_that_does_not_quote_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = admin_key();
    let secret = secret_lines(&key);
    let not_pem = secret.join("");
    let cases: Vec<(serde_norway::Value, bool, &str)> = vec![
        (7.into(), false, "a number where PEM is expected"),
        (serde_norway::Value::Sequence(vec![key.clone().into()]), false, "a list where PEM is expected"),
        (serde_norway::from_str("{pem: 5}").unwrap(), false, "`pem` is a number where text is expected"),
        (serde_norway::from_str(&format!("{{pem: [{not_pem:?}, 1]}}")).unwrap(), false, "holding a number"),
        (serde_norway::from_str(&format!("{{path: [{not_pem:?}]}}")).unwrap(), false, "`path` is a list"),
        (not_pem.clone().into(), false, "text that is not PEM (no -----BEGIN line)"),
        // The key pasted in place of the whole user: serde's own "invalid type" error.
        (key.clone().into(), true, "users.admin: invalid type: a string (not shown), expected struct User"),
    ];
    for (value, whole_user, expected) in cases {
        let err = resolve(config_with_key(dir.path(), value, whole_user)).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(err.contains("org1.yaml"), "{err}");
        for line in &secret {
            assert!(!err.contains(line.as_str()), "key material in: {err}");
        }
        assert!(!err.contains(&not_pem[..20]), "the value is quoted in: {err}");
    }
}

/// `Debug` of everything that holds the signing key or a TLS client key shows no key material.
#[test]
fn debug_output_shows_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_key(dir.path(), admin_key().into(), false);
    let t = Sources {
        config: Some(config.clone()),
        user: Some("admin".into()),
        tls_client_cert: Some(fixture("user1-cert.pem")),
        tls_client_key: Some(fixture("user1-key.pem")),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let tls = t.peers[0].tls.as_ref().unwrap();
    assert!(tls.client_identity.is_some());
    let network = ccaas_deploy::network_config::NetworkConfig::load(&config).unwrap();
    let user = &network.organization("Org1MSP").unwrap().users["admin"];
    let printed = [
        format!("{t:?}"),
        format!("{:?}", t.peers[0]),
        format!("{tls:?}"),
        format!("{network:?}"),
        format!("{user:?}"),
        format!("{:?}", user.key),
    ];
    let keys = [admin_key(), std::fs::read_to_string(fixture("user1-key.pem")).unwrap()];
    for text in &printed {
        for line in keys.iter().flat_map(|k| secret_lines(k)) {
            assert!(!text.contains(&line), "key material in {text}");
        }
        assert!(text.contains("redacted"), "{text}");
    }
}

#[test]
fn oversized_and_deeply_nested_network_configs_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, format!("name: x\n{}", "# padding\n".repeat(110_000))).unwrap();
    let err = resolve(big).unwrap_err().to_string();
    assert!(err.contains("big.yaml is 1100008 bytes or more, over the 1 MiB limit"), "{err}");

    // 200 KB of nesting took the YAML parser 35 s; it is refused before parsing.
    for (name, text) in [
        ("seq.yaml", format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
        ("map.yaml", format!("peers: {}1{}", "{a: ".repeat(40_000), "}".repeat(40_000))),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = resolve(path).unwrap_err().to_string();
        assert!(err.contains(&format!("{name}: [...] or {{...}} nested more than 128 levels deep")), "{err}");
    }
}

/// `client.tlsCerts.client` (fabric-sdk-go's place, which the fabric-testbed uses), inline or
/// by path; the flags win over it; `CORE_PEER_TLS_CLIENTAUTHREQUIRED=false` presents nothing,
/// `true` without a pair is refused before dialling.
#[test]
fn tls_client_certificate_from_the_network_config_or_the_flags() {
    let text = std::fs::read_to_string(fixture("network-org1.yaml")).unwrap();
    assert!(!text.contains("tlsCerts"));
    let cert = std::fs::read_to_string(fixture("user1-cert.pem")).unwrap();
    let key = std::fs::read_to_string(fixture("user1-key.pem")).unwrap();
    let indent = |pem: &str| pem.lines().map(|l| format!("          {l}\n")).collect::<String>();
    let dir = tempfile::tempdir().unwrap();
    let inline = dir.path().join("inline.yaml");
    std::fs::write(
        &inline,
        text.replace(
            "client:\n  organization: Org1MSP\n",
            &format!(
                "client:\n  organization: Org1MSP\n  tlsCerts:\n    client:\n      cert:\n        pem: |\n{}      key:\n        pem: |\n{}",
                indent(&cert),
                indent(&key)
            ),
        ),
    )
    .unwrap();
    std::fs::copy(fixture("user1-cert.pem"), dir.path().join("client.crt")).unwrap();
    std::fs::copy(fixture("user1-key.pem"), dir.path().join("client.key")).unwrap();
    let by_path = dir.path().join("by-path.yaml");
    std::fs::write(
        &by_path,
        text.replace(
            "client:\n  organization: Org1MSP\n",
            "client:\n  organization: Org1MSP\n  tlsCerts:\n    client:\n      cert:\n        path: client.crt\n      key:\n        path: client.key\n",
        ),
    )
    .unwrap();
    let sources =
        |config: &PathBuf| Sources { config: Some(config.clone()), user: Some("admin".into()), ..Default::default() };
    for config in [&inline, &by_path] {
        let t = sources(config).resolve().unwrap();
        for endpoint in t.peers.iter().chain(t.orderer.iter()) {
            let (c, k) = endpoint.tls.as_ref().unwrap().client_identity.clone().expect("the config's pair");
            assert_eq!((c, k), (cert.clone().into_bytes(), key.clone().into_bytes()), "{}", config.display());
        }
        let off = Sources { tls_client_auth_required: Some(false), ..sources(config) }.resolve().unwrap();
        assert!(off.peers[0].tls.as_ref().unwrap().client_identity.is_none());
    }
    // The flags win.
    let flags = Sources {
        tls_client_cert: Some(fixture("admin-cert.pem")),
        tls_client_key: Some(fixture("admin-key.pem")),
        ..sources(&inline)
    };
    let t = flags.resolve().unwrap();
    let (c, _) = t.peers[0].tls.as_ref().unwrap().client_identity.clone().unwrap();
    assert_eq!(c, std::fs::read(fixture("admin-cert.pem")).unwrap());
    // Half a pair, in the flags or in the file.
    let half = Sources { tls_client_cert: Some(fixture("admin-cert.pem")), ..sources(&inline) };
    let err = half.resolve().unwrap_err().to_string();
    assert!(err.starts_with("--tls-client-cert and --tls-client-key go together"), "{err}");
    let half_file = dir.path().join("half.yaml");
    std::fs::write(
        &half_file,
        text.replace(
            "client:\n  organization: Org1MSP\n",
            "client:\n  organization: Org1MSP\n  tlsCerts:\n    client:\n      cert:\n        path: client.crt\n",
        ),
    )
    .unwrap();
    let err = sources(&half_file).resolve().unwrap_err().to_string();
    assert!(err.contains("has a certificate or a key but not both"), "{err}");
    // Required, with none.
    let required = Sources { tls_client_auth_required: Some(true), ..sources(&fixture("network-org1.yaml")) };
    let err = required.resolve().unwrap_err().to_string();
    assert!(
        err.starts_with("TLS client authentication is required (CORE_PEER_TLS_CLIENTAUTHREQUIRED=true) but no TLS client certificate is given: pass --tls-client-cert and --tls-client-key")
            && err.contains("client.tlsCerts.client"),
        "{err}"
    );
}

/// An Ed25519 user (Fabric 3) in a network config, as `kubectl hlf utils adduser` would add it.
#[test]
fn ed25519_user_of_a_network_config() {
    let text = std::fs::read_to_string(fixture("network-org1.yaml")).unwrap();
    let indent = |pem: &str| pem.lines().map(|l| format!("            {l}\n")).collect::<String>();
    let cert = std::fs::read_to_string(fixture("user1-ed25519-cert.pem")).unwrap();
    let key = std::fs::read_to_string(fixture("user1-ed25519-key.pem")).unwrap();
    let user = format!(
        "    users:\n      user1:\n        cert:\n          pem: |\n{}        key:\n          pem: |\n{}",
        indent(&cert),
        indent(&key)
    );
    let text = text.replacen("    users:\n      admin:\n", &format!("{user}      admin:\n"), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org1.yaml");
    std::fs::write(&path, text).unwrap();
    let t = Sources { config: Some(path), user: Some("user1".into()), ..Default::default() }.resolve().unwrap();
    assert!(t.identity.is_ed25519());
    assert_eq!(t.identity.cert_pem(), cert.as_bytes());
    ccaas_deploy::identity::verify(cert.as_bytes(), b"m", &t.identity.sign(b"m")).unwrap();
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
