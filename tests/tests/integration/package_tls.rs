//! The packager and the server agree on TLS: the example chaincode serves with the material
//! `ccaas-package tls` writes (read through the fabric-samples environment variables), and the
//! emulator dials it using exactly the TLS fields of the built package's `connection.json`, the
//! way a peer does after installing the package.

use std::collections::HashMap;
use std::path::Path;

use ccaas_package::{
    build_package, inspect, tls, write_package_atomically, ConnectionJson, ConnectionSpec, PackageSpec,
};
use ccaas_shim::server::{Server, ServerConfig};
use ccaas_testkit::{PeerEmulator, Target, TlsOptions};

use crate::support;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Builds, writes and re-reads a package for `address`, returning its ID and connection.json.
fn package(dir: &Path, address: &str, material: &tls::TlsMaterial, client_auth: bool) -> (String, ConnectionJson) {
    let mut connection =
        ConnectionSpec::new(address).tls(material.ca_cert.clone()).check_server_cert(material.server_cert.clone());
    if client_auth {
        connection = connection.client_auth(material.client_cert.clone(), material.client_key.clone());
    }
    let built = build_package(&PackageSpec::ccaas("basic_1.0", connection)).expect("the package builds");
    let path = dir.join(if client_auth { "mtls.tar.gz" } else { "tls.tar.gz" });
    write_package_atomically(&path, &built).expect("the package is written");
    let report = inspect(&std::fs::read(&path).unwrap()).expect("the package inspects clean");
    assert_eq!(report.package_id, built.package_id);
    (report.package_id, report.connection.expect("a ccaas package has connection.json"))
}

/// What a peer takes from connection.json to dial the chaincode.
fn target_from_connection_json(connection: &ConnectionJson) -> Target {
    assert!(connection.tls_required, "the package asks for TLS");
    let client_identity = connection
        .client_auth_required
        .then(|| (connection.client_cert.as_bytes().to_vec(), connection.client_key.as_bytes().to_vec()));
    Target::new(connection.address.clone()).tls(TlsOptions {
        root_cert_pem: connection.root_cert.as_bytes().to_vec(),
        client_identity,
        domain: None,
    })
}

/// Serves the example with the fabric-samples TLS variables pointing at `dir`'s files.
async fn serve_example(
    listener: TcpListener,
    dir: &Path,
    package_id: &str,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let env: HashMap<&str, String> = HashMap::from([
        ("CHAINCODE_ID", package_id.to_string()),
        ("CHAINCODE_TLS_DISABLED", "false".to_string()),
        ("CHAINCODE_TLS_KEY", file("server.key")),
        ("CHAINCODE_TLS_CERT", file("server.pem")),
        ("CHAINCODE_CLIENT_CA_CERT", file("ca.pem")),
    ]);
    let config = ServerConfig::from_lookup(|name| env.get(name).cloned()).expect("the environment is valid");
    assert!(config.tls.as_ref().is_some_and(|tls| tls.requires_client_auth()));
    let server = Server::new(support::asset_transfer_basic(), config).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .serve_with_listener(listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("the server shuts down cleanly");
    });
    (stop, task)
}

#[tokio::test]
async fn a_peer_dials_the_example_with_the_packages_tls_fields() {
    let dir = tempfile::tempdir().unwrap();
    let material = tls::generate(&["localhost".to_string(), "127.0.0.1".to_string()], 30).unwrap();
    material.write_to_dir(dir.path(), false).unwrap();

    // The package ID depends on the address, which depends on the port: bind it first.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("localhost:{}", listener.local_addr().unwrap().port());
    let (package_id, connection) = package(dir.path(), &address, &material, true);
    assert_eq!(connection.address, address);

    let (stop, server) = serve_example(listener, dir.path(), &package_id).await;

    let peer = PeerEmulator::builder()
        .chaincode_id(package_id.clone())
        .connect(&target_from_connection_json(&connection))
        .await
        .expect("the peer connects with the package's mTLS fields");
    assert_eq!(peer.chaincode_id(), package_id);
    let created = peer.invoke("CreateAsset", ["asset9", "teal", "3", "Ana", "90"]).await.unwrap();
    assert_eq!(created.response.status, 200, "{}", created.response.message);
    let read = peer.query("ReadAsset", ["asset9"]).await.unwrap();
    assert_eq!(
        read.response.payload.as_ref(),
        br#"{"AppraisedValue":90,"Color":"teal","ID":"asset9","Owner":"Ana","Size":3}"#
    );

    // A package without client auth gives the peer no certificate: the mTLS server refuses it.
    let (_, no_client_auth) = package(dir.path(), &connection.address, &material, false);
    let refused =
        PeerEmulator::builder().chaincode_id(package_id).connect(&target_from_connection_json(&no_client_auth)).await;
    assert!(refused.is_err(), "a peer without a client certificate must be refused");

    stop.send(()).unwrap();
    server.await.unwrap();
}
