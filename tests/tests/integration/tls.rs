//! The emulator dials TLS and mutual-TLS chaincode servers as the peer does (connection.json
//! `root_cert`, `client_cert`/`client_key`, `domain`).

use crate::support;

use ccaas_testkit::testing::tls::TestPki;
use ccaas_testkit::{EmulatorError, PeerEmulator, Target, TlsOptions};
use support::{serve, Probe, ServerTls, PACKAGE_ID};

fn tls(pki: &TestPki, client: Option<(&str, &str)>, domain: Option<&str>) -> TlsOptions {
    TlsOptions {
        root_cert_pem: pki.ca_pem().as_bytes().to_vec(),
        client_identity: client.map(|(c, k)| (c.as_bytes().to_vec(), k.as_bytes().to_vec())),
        domain: domain.map(str::to_string),
    }
}

#[tokio::test]
async fn tls_with_the_server_ca() {
    let pki = TestPki::new();
    let cert = pki.server(&["localhost", "127.0.0.1"]);
    let server = serve(
        Probe::default(),
        PACKAGE_ID,
        Some(ServerTls { cert_pem: cert.cert_pem, key_pem: cert.key_pem, client_ca_pem: None }),
    )
    .await;
    let target = Target::new(format!("localhost:{}", server.address.port())).tls(tls(&pki, None, None));
    let peer = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&target).await.unwrap();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn tls_with_a_domain_override() {
    let pki = TestPki::new();
    let cert = pki.server(&["basic.org1.example.com"]);
    let server = serve(
        Probe::default(),
        PACKAGE_ID,
        Some(ServerTls { cert_pem: cert.cert_pem, key_pem: cert.key_pem, client_ca_pem: None }),
    )
    .await;
    let target = Target::new(server.address.to_string()).tls(tls(&pki, None, Some("basic.org1.example.com")));
    let peer = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&target).await.unwrap();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);
}

#[tokio::test]
async fn mutual_tls_requires_the_client_certificate() {
    let pki = TestPki::new();
    let cert = pki.server(&["localhost"]);
    let client = pki.client("peer0.org1.example.com");
    let server = serve(
        Probe::default(),
        PACKAGE_ID,
        Some(ServerTls {
            cert_pem: cert.cert_pem,
            key_pem: cert.key_pem,
            client_ca_pem: Some(pki.ca_pem().to_string()),
        }),
    )
    .await;
    let address = format!("localhost:{}", server.address.port());

    let with_client = Target::new(address.clone()).tls(tls(&pki, Some((&client.cert_pem, &client.key_pem)), None));
    let peer = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&with_client).await.unwrap();
    assert_eq!(peer.invoke("put", ["k", "v"]).await.unwrap().status(), 200);

    let without_client = Target::new(address).tls(tls(&pki, None, None));
    let error = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&without_client).await.unwrap_err();
    assert!(matches!(error, EmulatorError::Rpc(_) | EmulatorError::Connect { .. }), "{error:?}");
    assert!(format!("{error:?}").contains("CertificateRequired"), "{error:?}");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused() {
    let pki = TestPki::new();
    let stranger = TestPki::new();
    let cert = stranger.server(&["localhost"]);
    let server = serve(
        Probe::default(),
        PACKAGE_ID,
        Some(ServerTls { cert_pem: cert.cert_pem, key_pem: cert.key_pem, client_ca_pem: None }),
    )
    .await;
    let target = Target::new(format!("localhost:{}", server.address.port())).tls(tls(&pki, None, None));
    let error = PeerEmulator::builder().chaincode_id(PACKAGE_ID).connect(&target).await.unwrap_err();
    assert!(matches!(error, EmulatorError::Connect { .. }), "{error:?}");
}

#[tokio::test]
async fn plaintext_to_a_missing_server_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = PeerEmulator::builder().connect(&Target::new(address.to_string())).await.unwrap_err();
    assert!(matches!(error, EmulatorError::Connect { .. }), "{error:?}");
    assert!(error.to_string().starts_with(&format!("error creating grpc connection to {address}")));
}
