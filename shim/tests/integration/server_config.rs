//! `ServerConfig::from_lookup`: every environment convention, their precedence, and every
//! startup error naming its variable and file. No test touches the process environment.

use crate::server_support;

use std::collections::HashMap;

use base64::Engine as _;
use ccaas_shim::server::{ConfigError, Server, ServerConfig, TlsConfig, TlsError, DEFAULT_SHUTDOWN_DEADLINE};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use server_support::{Ca, Leaf, TestChaincode, CHAINCODE_ID};

/// Certificates written to a temporary directory.
struct Files {
    dir: tempfile::TempDir,
    ca: Ca,
    server: Leaf,
    peer_ca: Ca,
}

impl Files {
    fn new() -> Files {
        let ca = Ca::new("server-ca");
        let server = ca.server();
        let files = Files { dir: tempfile::tempdir().unwrap(), ca, server, peer_ca: Ca::new("peer-ca") };
        files.write("server.crt", files.server.cert_pem.as_bytes());
        files.write("server.key", files.server.key_pem.as_bytes());
        files.write("peer-ca.crt", files.peer_ca.cert_pem().as_bytes());
        let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        files.write("server.crt.b64", b64(&files.server.cert_pem).as_bytes());
        files.write("server.key.b64", b64(&files.server.key_pem).as_bytes());
        files.write("peer-ca.crt.b64", b64(&files.peer_ca.cert_pem()).as_bytes());
        files
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn write(&self, name: &str, content: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), content).unwrap();
        self.path(name)
    }

    /// Another server certificate and key, from another CA.
    fn other_server(&self, prefix: &str) -> (String, String) {
        let other = Ca::new("other-ca").server();
        (
            self.write(&format!("{prefix}.crt"), other.cert_pem.as_bytes()),
            self.write(&format!("{prefix}.key"), other.key_pem.as_bytes()),
        )
    }

    fn server_cert_der(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(self.server.cert_pem.as_bytes()).unwrap()
    }

    fn peer_ca_der(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(self.peer_ca.cert_pem().as_bytes()).unwrap()
    }
}

fn config(vars: &[(&str, String)]) -> Result<ServerConfig, ConfigError> {
    let env: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    ServerConfig::from_lookup(|name| env.get(name).cloned())
}

fn with_id(vars: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut all = vec![("CHAINCODE_ID", CHAINCODE_ID.to_string())];
    all.extend(vars.iter().cloned());
    all
}

fn s(value: &str) -> String {
    value.to_string()
}

fn assert_names(error: &ConfigError, parts: &[&str]) {
    let text = error.to_string();
    for part in parts {
        assert!(text.contains(part), "{text:?} does not mention {part:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Address, id, MSP id.

#[test]
fn defaults() {
    let config = config(&with_id(&[])).unwrap();
    assert_eq!(config.address, "0.0.0.0:7052".parse().unwrap());
    assert_eq!(config.chaincode_id, CHAINCODE_ID);
    assert!(config.tls.is_none());
    assert_eq!(config.shutdown_deadline, DEFAULT_SHUTDOWN_DEADLINE);
    assert_eq!(config.peer_msp_id, None);
}

#[test]
fn address_variables_in_order() {
    let both =
        with_id(&[("CHAINCODE_SERVER_ADDRESS", s("127.0.0.1:9999")), ("CORE_CHAINCODE_ADDRESS", s("0.0.0.0:1111"))]);
    assert_eq!(config(&both).unwrap().address, "127.0.0.1:9999".parse().unwrap());
    let node = with_id(&[("CORE_CHAINCODE_ADDRESS", s("0.0.0.0:1111"))]);
    assert_eq!(config(&node).unwrap().address, "0.0.0.0:1111".parse().unwrap());
    // Host names resolve; an empty value counts as unset.
    let named = with_id(&[("CHAINCODE_SERVER_ADDRESS", s(" ")), ("CORE_CHAINCODE_ADDRESS", s("localhost:7052"))]);
    let address = config(&named).unwrap().address;
    assert!(address.ip().is_loopback() && address.port() == 7052, "{address}");
    let all_interfaces = with_id(&[("CHAINCODE_SERVER_ADDRESS", s(":9999"))]);
    assert_eq!(config(&all_interfaces).unwrap().address, "0.0.0.0:9999".parse().unwrap());
}

#[test]
fn bad_address_names_the_variable() {
    let error = config(&with_id(&[("CORE_CHAINCODE_ADDRESS", s("chaincode"))])).unwrap_err();
    assert!(matches!(error, ConfigError::InvalidAddress { variable: "CORE_CHAINCODE_ADDRESS", .. }), "{error:?}");
    assert_names(&error, &["CORE_CHAINCODE_ADDRESS", "\"chaincode\""]);
    let error = config(&with_id(&[("CHAINCODE_SERVER_ADDRESS", s("0.0.0.0:http"))])).unwrap_err();
    assert_names(&error, &["CHAINCODE_SERVER_ADDRESS"]);
}

#[test]
fn chaincode_id_variables_in_order() {
    let all = [("CHAINCODE_ID", s("a:1")), ("CORE_CHAINCODE_ID_NAME", s("b:2")), ("CORE_CHAINCODE_ID", s("c:3"))];
    assert_eq!(config(&all).unwrap().chaincode_id, "a:1");
    assert_eq!(config(&all[1..]).unwrap().chaincode_id, "b:2");
    assert_eq!(config(&all[2..]).unwrap().chaincode_id, "c:3");
}

#[test]
fn missing_chaincode_id_names_all_three_variables() {
    let error = config(&[("CHAINCODE_SERVER_ADDRESS", s("0.0.0.0:9999")), ("CHAINCODE_ID", s(""))]).unwrap_err();
    assert!(matches!(error, ConfigError::MissingChaincodeId));
    assert_names(&error, &["CHAINCODE_ID", "CORE_CHAINCODE_ID_NAME", "CORE_CHAINCODE_ID"]);
}

#[test]
fn peer_msp_id() {
    let config = config(&with_id(&[("CORE_PEER_LOCALMSPID", s("Org1MSP"))])).unwrap();
    assert_eq!(config.peer_msp_id.as_deref(), Some("Org1MSP"));
}

// ---------------------------------------------------------------------------------------------
// The three TLS families.

#[test]
fn fabric_samples_family() {
    let files = Files::new();
    let vars = with_id(&[
        ("CHAINCODE_TLS_DISABLED", s("false")),
        ("CHAINCODE_TLS_KEY", files.path("server.key")),
        ("CHAINCODE_TLS_CERT", files.path("server.crt")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert!(!tls.requires_client_auth());

    let mut mutual = vars.clone();
    mutual.push(("CHAINCODE_CLIENT_CA_CERT", files.path("peer-ca.crt")));
    let tls = config(&mutual).unwrap().tls.expect("TLS");
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);
}

#[test]
fn fabric_samples_family_is_off_by_default_and_when_disabled() {
    let files = Files::new();
    let files_only =
        [("CHAINCODE_TLS_KEY", files.path("server.key")), ("CHAINCODE_TLS_CERT", files.path("server.crt"))];
    assert!(config(&with_id(&files_only)).unwrap().tls.is_none());
    for off in ["true", "1", "T", "True"] {
        let mut vars = with_id(&files_only);
        vars.push(("CHAINCODE_TLS_DISABLED", s(off)));
        assert!(config(&vars).unwrap().tls.is_none(), "{off}");
    }
    for on in ["false", "0", "f", "F", "FALSE", "False"] {
        let mut vars = with_id(&files_only);
        vars.push(("CHAINCODE_TLS_DISABLED", s(on)));
        assert!(config(&vars).unwrap().tls.is_some(), "{on}");
    }
}

#[test]
fn contract_api_family_with_pem_files() {
    let files = Files::new();
    let vars = with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", files.path("server.key")),
        ("CORE_TLS_CLIENT_CERT_FILE", files.path("server.crt")),
        ("CORE_PEER_TLS_ROOTCERT_FILE", files.path("peer-ca.crt")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);

    // Off unless CORE_PEER_TLS_ENABLED says so.
    let off: Vec<_> = vars.iter().filter(|(k, _)| *k != "CORE_PEER_TLS_ENABLED").cloned().collect();
    assert!(config(&off).unwrap().tls.is_none());
    let mut disabled = off.clone();
    disabled.push(("CORE_PEER_TLS_ENABLED", s("false")));
    assert!(config(&disabled).unwrap().tls.is_none());
}

#[test]
fn contract_api_family_with_base64_files() {
    let files = Files::new();
    let vars = with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("TRUE")),
        ("CORE_TLS_CLIENT_KEY_PATH", files.path("server.key.b64")),
        ("CORE_TLS_CLIENT_CERT_PATH", files.path("server.crt.b64")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert!(!tls.requires_client_auth());
}

#[test]
fn node_family_with_pem_files() {
    let files = Files::new();
    let vars = with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", files.path("peer-ca.crt")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);
}

#[test]
fn node_family_with_base64_files() {
    let files = Files::new();
    let vars = with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_PATH", files.path("server.key.b64")),
        ("CORE_CHAINCODE_TLS_CERT_PATH", files.path("server.crt.b64")),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", files.path("peer-ca.crt.b64")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);
}

#[test]
fn pem_and_base64_are_recognised_whichever_variable_names_them() {
    let files = Files::new();
    // A *_PATH variable naming a plain PEM file, a *_FILE variable naming base64 of PEM.
    let vars = with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_PATH", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt.b64")),
    ]);
    assert_eq!(config(&vars).unwrap().tls.expect("TLS").cert_chain(), [files.server_cert_der()]);
}

#[test]
fn file_variable_wins_over_path_variable() {
    let files = Files::new();
    let (other_cert, _) = files.other_server("other");
    let vars = with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
        ("CORE_CHAINCODE_TLS_CERT_PATH", other_cert),
    ]);
    assert_eq!(config(&vars).unwrap().tls.expect("TLS").cert_chain(), [files.server_cert_der()]);
}

// ---------------------------------------------------------------------------------------------
// Precedence between families.

#[test]
fn fabric_samples_wins_over_contract_api_and_node() {
    let files = Files::new();
    let (cert2, key2) = files.other_server("contract");
    let (cert3, key3) = files.other_server("node");
    let vars = with_id(&[
        ("CHAINCODE_TLS_DISABLED", s("false")),
        ("CHAINCODE_TLS_KEY", files.path("server.key")),
        ("CHAINCODE_TLS_CERT", files.path("server.crt")),
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", key2),
        ("CORE_TLS_CLIENT_CERT_FILE", cert2),
        ("CORE_CHAINCODE_TLS_KEY_FILE", key3),
        ("CORE_CHAINCODE_TLS_CERT_FILE", cert3),
    ]);
    assert_eq!(config(&vars).unwrap().tls.expect("TLS").cert_chain(), [files.server_cert_der()]);
}

#[test]
fn contract_api_wins_over_node() {
    let files = Files::new();
    let (cert3, key3) = files.other_server("node");
    let vars = with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("1")),
        ("CORE_TLS_CLIENT_KEY_FILE", files.path("server.key")),
        ("CORE_TLS_CLIENT_CERT_FILE", files.path("server.crt")),
        ("CORE_CHAINCODE_TLS_KEY_FILE", key3),
        ("CORE_CHAINCODE_TLS_CERT_FILE", cert3),
    ]);
    assert_eq!(config(&vars).unwrap().tls.expect("TLS").cert_chain(), [files.server_cert_der()]);
}

#[test]
fn a_family_switched_off_does_not_veto_another() {
    let files = Files::new();
    let vars = with_id(&[
        ("CHAINCODE_TLS_DISABLED", s("true")),
        ("CORE_PEER_TLS_ENABLED", s("false")),
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
    ]);
    assert_eq!(config(&vars).unwrap().tls.expect("TLS").cert_chain(), [files.server_cert_der()]);
}

#[test]
fn the_chosen_family_is_complete_even_if_a_later_one_is_not() {
    let files = Files::new();
    let vars = with_id(&[
        ("CHAINCODE_TLS_DISABLED", s("false")),
        ("CHAINCODE_TLS_KEY", files.path("server.key")),
        ("CHAINCODE_TLS_CERT", files.path("server.crt")),
        // A stray Node variable is ignored (with a warning) since fabric-samples comes first.
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("missing.key")),
    ]);
    assert!(config(&vars).unwrap().tls.is_some());
}

// ---------------------------------------------------------------------------------------------
// Mixed families never weaken TLS: every client-CA variable that is set must agree with the
// client CA in effect.

fn contract_api(key: String, cert: String) -> Vec<(&'static str, String)> {
    with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", key),
        ("CORE_TLS_CLIENT_CERT_FILE", cert),
    ])
}

fn ignored_ca(vars: &[(&'static str, String)], in_effect: &str, ignored: &str) -> ConfigError {
    let error = config(vars).expect_err("mutual TLS silently off must not start");
    assert!(
        matches!(&error, ConfigError::ClientCaIgnored { ignored: i, in_effect: e, .. } if *i == ignored && *e == in_effect),
        "{error:?}"
    );
    assert_names(&error, &[ignored, in_effect, "mutual TLS would be off", "set", "unset"]);
    error
}

#[test]
fn a_client_ca_only_in_an_ignored_family_is_refused() {
    let files = Files::new();
    let key_cert = samples(files.path("server.key"), files.path("server.crt"), None);
    // fabric-samples in effect; contract-api also on with its CA (a test-network shell's CORE_PEER_*).
    let mut vars = key_cert.clone();
    vars.extend([("CORE_PEER_TLS_ENABLED", s("true")), ("CORE_PEER_TLS_ROOTCERT_FILE", files.path("peer-ca.crt"))]);
    let error = ignored_ca(&vars, "CHAINCODE_CLIENT_CA_CERT", "CORE_PEER_TLS_ROOTCERT_FILE");
    assert_names(&error, &["fabric-samples", "CHAINCODE_TLS_DISABLED=false", &files.path("peer-ca.crt")]);

    // The CA in the Node family (on only because of it), in either form.
    for (variable, file) in [
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", "peer-ca.crt"),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", "peer-ca.crt.b64"),
    ] {
        let mut vars = key_cert.clone();
        vars.push((variable, files.path(file)));
        ignored_ca(&vars, "CHAINCODE_CLIENT_CA_CERT", variable);
    }

    // contract-api in effect, the CA only in the lower Node family.
    let mut vars = contract_api(files.path("server.key"), files.path("server.crt"));
    vars.push(("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", files.path("peer-ca.crt")));
    let error = ignored_ca(&vars, "CORE_PEER_TLS_ROOTCERT_FILE", "CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE");
    assert_names(&error, &["contract-api", "CORE_PEER_TLS_ENABLED=true"]);
}

#[test]
fn a_client_ca_of_a_family_that_is_off_is_refused_too() {
    let files = Files::new();
    // Key and certificate from one family, the CA from another whose switch is unset or off.
    for switch in [None, Some("false")] {
        let mut vars = samples(files.path("server.key"), files.path("server.crt"), None);
        vars.push(("CORE_PEER_TLS_ROOTCERT_FILE", files.path("peer-ca.crt")));
        if let Some(value) = switch {
            vars.push(("CORE_PEER_TLS_ENABLED", s(value)));
        }
        ignored_ca(&vars, "CHAINCODE_CLIENT_CA_CERT", "CORE_PEER_TLS_ROOTCERT_FILE");
    }
    let mut vars = contract_api(files.path("server.key"), files.path("server.crt"));
    vars.extend([("CHAINCODE_TLS_DISABLED", s("true")), ("CHAINCODE_CLIENT_CA_CERT", files.path("peer-ca.crt"))]);
    ignored_ca(&vars, "CORE_PEER_TLS_ROOTCERT_FILE", "CHAINCODE_CLIENT_CA_CERT");
}

#[test]
fn client_cas_that_agree_are_mutual_tls_with_that_ca() {
    let files = Files::new();
    let copy = files.write("copy-of-peer-ca.crt", files.peer_ca.cert_pem().as_bytes());
    // What ccaas-deploy renders: every family pointing at the same files.
    let mut vars = samples(files.path("server.key"), files.path("server.crt"), Some(files.path("peer-ca.crt")));
    vars.extend([
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", files.path("server.key")),
        ("CORE_TLS_CLIENT_CERT_FILE", files.path("server.crt")),
        ("CORE_PEER_TLS_ROOTCERT_FILE", files.path("peer-ca.crt")),
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", copy),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", files.path("peer-ca.crt.b64")),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);
}

#[test]
fn client_cas_that_differ_are_refused() {
    let files = Files::new();
    let other_ca = files.write("other-ca.crt", Ca::new("other-peer-ca").cert_pem().as_bytes());
    let mut vars = samples(files.path("server.key"), files.path("server.crt"), Some(files.path("peer-ca.crt")));
    vars.push(("CORE_PEER_TLS_ROOTCERT_FILE", other_ca.clone()));
    let error = config(&vars).unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::ClientCaDiffers {
                ignored: "CORE_PEER_TLS_ROOTCERT_FILE",
                in_effect: "CHAINCODE_CLIENT_CA_CERT",
                ..
            }
        ),
        "{error:?}"
    );
    assert_names(
        &error,
        &[
            "CORE_PEER_TLS_ROOTCERT_FILE",
            &other_ca,
            "CHAINCODE_CLIENT_CA_CERT",
            &files.path("peer-ca.crt"),
            "same CA file",
        ],
    );

    // The Node family's two forms of its own CA.
    let vars = with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", files.path("peer-ca.crt")),
        ("CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", other_ca.clone()),
    ]);
    let error = config(&vars).unwrap_err();
    assert!(matches!(&error, ConfigError::ClientCaDiffers { ignored: "CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", .. }));

    // An unreadable ignored CA is an error naming it, not a reason to skip the check.
    let mut vars = samples(files.path("server.key"), files.path("server.crt"), Some(files.path("peer-ca.crt")));
    vars.push(("CORE_PEER_TLS_ROOTCERT_FILE", files.path("nope.crt")));
    let error = config(&vars).unwrap_err();
    assert!(matches!(&error, ConfigError::ReadFile { variable: "CORE_PEER_TLS_ROOTCERT_FILE", .. }), "{error:?}");
}

#[test]
fn a_stronger_family_in_effect_and_plaintext_stay_as_they_were() {
    let files = Files::new();
    // The family in effect has mutual TLS; an ignored family has TLS without a CA: mutual TLS.
    let (cert2, key2) = files.other_server("contract");
    let mut vars = samples(files.path("server.key"), files.path("server.crt"), Some(files.path("peer-ca.crt")));
    vars.extend([
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", key2),
        ("CORE_TLS_CLIENT_CERT_FILE", cert2),
    ]);
    let tls = config(&vars).unwrap().tls.expect("TLS");
    assert_eq!(tls.cert_chain(), [files.server_cert_der()]);
    assert_eq!(tls.client_ca_certs().unwrap(), [files.peer_ca_der()]);
    // No family on: plaintext, whatever file variables are set; a warning names those of a family
    // whose switch is unset, none when the switches say off (a peer CLI shell running a
    // plaintext server).
    let vars = with_id(&[
        ("CHAINCODE_TLS_KEY", files.path("server.key")),
        ("CHAINCODE_TLS_CERT", files.path("server.crt")),
        ("CORE_PEER_TLS_ROOTCERT_FILE", files.path("peer-ca.crt")),
    ]);
    assert!(config(&vars).unwrap().tls.is_none());
    let logged = warnings(&vars);
    assert!(logged.contains("serving plaintext") && logged.contains("CHAINCODE_TLS_KEY"), "{logged}");
    let mut off = vars.clone();
    off.extend([("CHAINCODE_TLS_DISABLED", s("true")), ("CORE_PEER_TLS_ENABLED", s("false"))]);
    assert!(config(&off).unwrap().tls.is_none());
    assert_eq!(warnings(&off), "");
}

/// The warnings `config(vars)` logs.
fn warnings(vars: &[(&'static str, String)]) -> String {
    #[derive(Clone, Default)]
    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let _ = config(vars);
    });
    let bytes = capture.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Errors, each naming its variable (and file).

#[test]
fn bad_booleans_name_the_variable() {
    for (variable, value) in
        [("CHAINCODE_TLS_DISABLED", "no"), ("CORE_PEER_TLS_ENABLED", "yes"), ("CORE_PEER_TLS_ENABLED", "tRuE")]
    {
        let error = config(&with_id(&[(variable, s(value))])).unwrap_err();
        assert!(matches!(&error, ConfigError::InvalidBool { variable: v, .. } if *v == variable), "{error:?}");
        assert_names(&error, &[variable, value]);
    }
    // Even when another family would be chosen.
    let files = Files::new();
    let vars = with_id(&[
        ("CHAINCODE_TLS_DISABLED", s("false")),
        ("CHAINCODE_TLS_KEY", files.path("server.key")),
        ("CHAINCODE_TLS_CERT", files.path("server.crt")),
        ("CORE_PEER_TLS_ENABLED", s("enabled")),
    ]);
    assert_names(&config(&vars).unwrap_err(), &["CORE_PEER_TLS_ENABLED", "enabled"]);
}

#[test]
fn an_enabled_family_needs_key_and_certificate() {
    let files = Files::new();
    let error =
        config(&with_id(&[("CHAINCODE_TLS_DISABLED", s("false")), ("CHAINCODE_TLS_CERT", files.path("server.crt"))]))
            .unwrap_err();
    assert!(matches!(error, ConfigError::MissingTlsVariable { .. }), "{error:?}");
    assert_names(&error, &["CHAINCODE_TLS_DISABLED=false", "CHAINCODE_TLS_KEY"]);

    let error = config(&with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", files.path("server.key")),
    ]))
    .unwrap_err();
    assert_names(&error, &["CORE_PEER_TLS_ENABLED=true", "CORE_TLS_CLIENT_CERT_FILE", "CORE_TLS_CLIENT_CERT_PATH"]);

    // Node: a key without a certificate, or a client CA alone, is not plaintext but an error.
    let error = config(&with_id(&[("CORE_CHAINCODE_TLS_KEY_FILE", files.path("server.key"))])).unwrap_err();
    assert_names(
        &error,
        &["CORE_CHAINCODE_TLS_KEY_FILE", "CORE_CHAINCODE_TLS_CERT_FILE", "CORE_CHAINCODE_TLS_CERT_PATH"],
    );
    let error = config(&with_id(&[("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", files.path("peer-ca.crt"))])).unwrap_err();
    assert_names(&error, &["CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", "CORE_CHAINCODE_TLS_KEY_FILE"]);
}

fn samples(key: String, cert: String, ca: Option<String>) -> Vec<(&'static str, String)> {
    let mut vars =
        with_id(&[("CHAINCODE_TLS_DISABLED", s("false")), ("CHAINCODE_TLS_KEY", key), ("CHAINCODE_TLS_CERT", cert)]);
    if let Some(ca) = ca {
        vars.push(("CHAINCODE_CLIENT_CA_CERT", ca));
    }
    vars
}

#[test]
fn unreadable_file_names_variable_and_path() {
    let files = Files::new();
    let missing = files.path("nope.crt");
    let error = config(&samples(files.path("server.key"), missing.clone(), None)).unwrap_err();
    assert!(matches!(error, ConfigError::ReadFile { variable: "CHAINCODE_TLS_CERT", .. }), "{error:?}");
    assert_names(&error, &["CHAINCODE_TLS_CERT", &missing]);

    let error = config(&with_id(&[
        ("CORE_CHAINCODE_TLS_KEY_PATH", files.path("nope.key.b64")),
        ("CORE_CHAINCODE_TLS_CERT_FILE", files.path("server.crt")),
    ]))
    .unwrap_err();
    assert_names(&error, &["CORE_CHAINCODE_TLS_KEY_PATH", &files.path("nope.key.b64")]);
}

#[test]
fn a_certificate_file_without_a_certificate() {
    let files = Files::new();
    let garbage = files.write("garbage.crt", b"this is not a certificate\n");
    let error = config(&samples(files.path("server.key"), garbage.clone(), None)).unwrap_err();
    assert!(
        matches!(&error, ConfigError::TlsFile { variable: "CHAINCODE_TLS_CERT", error: TlsError::NoCertificate, .. }),
        "{error:?}"
    );
    assert_names(&error, &["CHAINCODE_TLS_CERT", &garbage, "no certificate"]);

    // The key file given as the certificate.
    let error = config(&samples(files.path("server.key"), files.path("server.key"), None)).unwrap_err();
    assert_names(&error, &["CHAINCODE_TLS_CERT", &files.path("server.key"), "no certificate"]);
}

#[test]
fn a_key_file_without_a_key() {
    let files = Files::new();
    let error = config(&samples(files.path("server.crt"), files.path("server.crt"), None)).unwrap_err();
    assert!(
        matches!(&error, ConfigError::TlsFile { variable: "CHAINCODE_TLS_KEY", error: TlsError::NoPrivateKey, .. }),
        "{error:?}"
    );
    assert_names(&error, &["CHAINCODE_TLS_KEY", &files.path("server.crt"), "no private key"]);
}

#[test]
fn malformed_pem() {
    let files = Files::new();
    let truncated = &files.server.cert_pem[..files.server.cert_pem.len() / 2];
    let broken = files.write("truncated.crt", truncated.as_bytes());
    let error = config(&samples(files.path("server.key"), broken.clone(), None)).unwrap_err();
    assert!(
        matches!(&error, ConfigError::TlsFile { variable: "CHAINCODE_TLS_CERT", error: TlsError::MalformedPem(_), .. }),
        "{error:?}"
    );
    assert_names(&error, &["CHAINCODE_TLS_CERT", &broken]);
}

#[test]
fn invalid_base64_names_variable_and_path() {
    let files = Files::new();
    let bad = files.write("bad.b64", b"%%% not base64 %%%");
    let error = config(&with_id(&[
        ("CORE_PEER_TLS_ENABLED", s("true")),
        ("CORE_TLS_CLIENT_KEY_FILE", files.path("server.key")),
        ("CORE_TLS_CLIENT_CERT_PATH", bad.clone()),
    ]))
    .unwrap_err();
    assert!(matches!(error, ConfigError::InvalidBase64 { variable: "CORE_TLS_CLIENT_CERT_PATH", .. }), "{error:?}");
    assert_names(&error, &["CORE_TLS_CLIENT_CERT_PATH", &bad]);
}

#[test]
fn key_that_does_not_match_the_certificate() {
    let files = Files::new();
    let (_, other_key) = files.other_server("other");
    let error = config(&samples(other_key.clone(), files.path("server.crt"), None)).unwrap_err();
    assert!(matches!(error, ConfigError::KeyMismatch { .. }), "{error:?}");
    assert_names(
        &error,
        &["CHAINCODE_TLS_KEY", &other_key, "CHAINCODE_TLS_CERT", &files.path("server.crt"), "does not match"],
    );
}

#[test]
fn client_ca_file_without_certificates() {
    let files = Files::new();
    // A private key where the CA certificates should be.
    let error = config(&samples(files.path("server.key"), files.path("server.crt"), Some(files.path("server.key"))))
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ConfigError::TlsFile { variable: "CHAINCODE_CLIENT_CA_CERT", error: TlsError::NoCertificate, .. }
        ),
        "{error:?}"
    );
    assert_names(&error, &["CHAINCODE_CLIENT_CA_CERT", &files.path("server.key")]);
    let empty = files.write("empty.crt", b"");
    let error = config(&samples(files.path("server.key"), files.path("server.crt"), Some(empty.clone()))).unwrap_err();
    assert_names(&error, &["CHAINCODE_CLIENT_CA_CERT", &empty, "no certificate"]);
}

// ---------------------------------------------------------------------------------------------
// Configuration in code.

#[test]
fn tls_config_from_pem_checks_everything() {
    let files = Files::new();
    let other = Ca::new("x").server();
    assert_eq!(TlsConfig::from_pem(&files.server.cert_pem, &other.key_pem).unwrap_err(), TlsError::KeyMismatch);
    assert_eq!(TlsConfig::from_pem("", &files.server.key_pem).unwrap_err(), TlsError::NoCertificate);
    assert_eq!(TlsConfig::from_pem(&files.server.cert_pem, "").unwrap_err(), TlsError::NoPrivateKey);
    let tls = TlsConfig::from_pem(&files.server.cert_pem, &files.server.key_pem).unwrap();
    assert!(!tls.requires_client_auth());
    assert_eq!(tls.clone().with_client_ca_pem("nothing").unwrap_err(), TlsError::NoCertificate);
    assert!(tls.with_client_ca_pem(files.peer_ca.cert_pem()).unwrap().requires_client_auth());
    // The chain may include the CA.
    let chain = format!("{}{}", files.server.cert_pem, files.ca.cert_pem());
    assert_eq!(TlsConfig::from_pem(chain, &files.server.key_pem).unwrap().cert_chain().len(), 2);
    // Debug never shows the key.
    let debug = format!("{:?}", TlsConfig::from_pem(&files.server.cert_pem, &files.server.key_pem).unwrap());
    assert!(!debug.contains("PRIVATE"), "{debug}");
}

#[test]
fn builder_requires_a_chaincode_id() {
    let error = Server::builder(TestChaincode).build().unwrap_err();
    assert!(matches!(error, ConfigError::MissingChaincodeId));
    let server = Server::builder(TestChaincode).chaincode_id(CHAINCODE_ID).build().unwrap();
    assert_eq!(server.config().address, "0.0.0.0:7052".parse().unwrap());
    assert_eq!(server.config().shutdown_deadline, DEFAULT_SHUTDOWN_DEADLINE);
    assert!(Server::new(TestChaincode, ServerConfig::new(" ")).is_err());
}
