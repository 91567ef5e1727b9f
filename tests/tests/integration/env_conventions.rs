//! Every environment convention `ccaas_shim::server` documents (fabric-samples, contract-api Go
//! and Java, Node) starts a working server: the configuration
//! is read from the variables (through `ServerConfig::from_lookup`, the same code as `from_env`),
//! the server is started, and a peer dials it the way that convention implies (plaintext, or
//! mutual TLS with the files named by the variables) and runs a transaction.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use ccaas_shim::server::{Server, ServerConfig};
use ccaas_testkit::testing::tls::TestPki;
use ccaas_testkit::testing::AssetTransfer;
use ccaas_testkit::{PeerEmulator, Target, TlsOptions};
use tokio::net::TcpListener;

const ID: &str = "basic_1.0:4ec191e793b27e953ff2ede5a8bcc63152cecb1e4c3f301a26e22692c61967ad";

/// PEM files (and base64-of-PEM files) of a CA, a server and a peer client certificate.
struct Material {
    pki: TestPki,
    client: (Vec<u8>, Vec<u8>),
}

fn material(dir: &Path) -> Material {
    let pki = TestPki::new();
    let server = pki.server(&["localhost", "127.0.0.1"]);
    let client = pki.client("peer0.org1.example.com");
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    for (name, text) in
        [("server.key", &server.key_pem), ("server.crt", &server.cert_pem), ("ca.crt", &pki.ca_pem().to_string())]
    {
        std::fs::write(dir.join(name), text).unwrap();
        std::fs::write(dir.join(format!("{name}.b64")), b64(text)).unwrap();
    }
    Material { pki, client: (client.cert_pem.into_bytes(), client.key_pem.into_bytes()) }
}

/// Starts the server the variables describe and runs one transaction through it.
async fn serve_and_invoke(vars: &[(&str, String)], material: &Material) {
    let env: HashMap<&str, String> = vars.iter().cloned().collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = ServerConfig::from_lookup(|name| env.get(name).cloned()).expect("the variables are valid");
    assert_eq!(config.chaincode_id, ID);
    let tls = config.tls.as_ref().map(|tls| {
        assert!(tls.requires_client_auth(), "each TLS convention here names a client CA");
        TlsOptions {
            root_cert_pem: material.pki.ca_pem().as_bytes().to_vec(),
            client_identity: Some(material.client.clone()),
            domain: None,
        }
    });
    let server = Server::new(AssetTransfer, config).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_with_listener(listener, async {
        let _ = stopped.await;
    }));

    let mut target = Target::new(format!("localhost:{port}"));
    if let Some(tls) = tls {
        target = target.tls(tls);
    }
    let peer = PeerEmulator::builder().chaincode_id(ID).connect(&target).await.expect("the peer connects");
    let outcome = peer.invoke("CreateAsset", ["a1", "blue", "5", "Tom", "300"]).await.unwrap();
    assert_eq!(outcome.response.status, 200, "{}", outcome.response.message);
    peer.close().await;
    stop.send(()).unwrap();
    serving.await.unwrap().expect("the server stops cleanly");
}

#[tokio::test]
async fn each_environment_convention_starts_a_working_server() {
    let dir = tempfile::tempdir().unwrap();
    let m = material(dir.path());
    let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let id = |var: &'static str| (var, ID.to_string());

    let conventions: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("chainlaunch / fabric-samples plaintext: CHAINCODE_ID", vec![id("CHAINCODE_ID")]),
        ("contract-api: CORE_CHAINCODE_ID_NAME", vec![id("CORE_CHAINCODE_ID_NAME")]),
        (
            "Node: CORE_CHAINCODE_ID + CORE_CHAINCODE_ADDRESS",
            vec![id("CORE_CHAINCODE_ID"), ("CORE_CHAINCODE_ADDRESS", "127.0.0.1:7052".to_string())],
        ),
        (
            "fabric-samples TLS",
            vec![
                id("CHAINCODE_ID"),
                ("CHAINCODE_TLS_DISABLED", "false".to_string()),
                ("CHAINCODE_TLS_KEY", file("server.key")),
                ("CHAINCODE_TLS_CERT", file("server.crt")),
                ("CHAINCODE_CLIENT_CA_CERT", file("ca.crt")),
            ],
        ),
        (
            "contract-api / Java TLS (PEM files)",
            vec![
                id("CORE_CHAINCODE_ID_NAME"),
                ("CORE_PEER_TLS_ENABLED", "true".to_string()),
                ("CORE_TLS_CLIENT_KEY_FILE", file("server.key")),
                ("CORE_TLS_CLIENT_CERT_FILE", file("server.crt")),
                ("CORE_PEER_TLS_ROOTCERT_FILE", file("ca.crt")),
            ],
        ),
        (
            "contract-api TLS (base64 _PATH files)",
            vec![
                id("CORE_CHAINCODE_ID_NAME"),
                ("CORE_PEER_TLS_ENABLED", "true".to_string()),
                ("CORE_TLS_CLIENT_KEY_PATH", file("server.key.b64")),
                ("CORE_TLS_CLIENT_CERT_PATH", file("server.crt.b64")),
                ("CORE_PEER_TLS_ROOTCERT_FILE", file("ca.crt")),
            ],
        ),
        (
            "Node TLS (PEM files)",
            vec![
                id("CORE_CHAINCODE_ID"),
                ("CORE_CHAINCODE_TLS_KEY_FILE", file("server.key")),
                ("CORE_CHAINCODE_TLS_CERT_FILE", file("server.crt")),
                ("CORE_CHAINCODE_TLS_CLIENT_CACERT_FILE", file("ca.crt")),
            ],
        ),
        (
            "Node TLS (base64 _PATH files)",
            vec![
                id("CORE_CHAINCODE_ID"),
                ("CORE_CHAINCODE_TLS_KEY_PATH", file("server.key.b64")),
                ("CORE_CHAINCODE_TLS_CERT_PATH", file("server.crt.b64")),
                ("CORE_CHAINCODE_TLS_CLIENT_CACERT_PATH", file("ca.crt.b64")),
            ],
        ),
    ];
    for (name, vars) in conventions {
        eprintln!("convention: {name}");
        serve_and_invoke(&vars, &m).await;
    }
}
