//! A real server on 127.0.0.1: plaintext, TLS and mutual TLS, what each refuses, and HTTP/2
//! pings.

use crate::server_support;

use std::sync::Arc;
use std::time::Duration;

use ccaas_shim::server::{ServerConfig, TlsConfig};
use server_support::*;
use tonic_health::pb::health_check_response::ServingStatus;

fn tls_config(ca: &Ca, client_ca: Option<&Ca>) -> ServerConfig {
    let server = ca.server();
    let mut tls = TlsConfig::from_pem(&server.cert_pem, &server.key_pem).unwrap();
    if let Some(client_ca) = client_ca {
        tls = tls.with_client_ca_pem(client_ca.cert_pem()).unwrap();
    }
    ServerConfig { tls: Some(tls), ..plaintext_config() }
}

async fn assert_serving(channel: tonic::transport::Channel) {
    assert_eq!(health(channel.clone(), "").await.unwrap(), ServingStatus::Serving);
    assert_eq!(health(channel, "protos.Chaincode").await.unwrap(), ServingStatus::Serving);
}

#[tokio::test]
async fn plaintext_serves_health_and_the_chaincode() {
    let server = start(plaintext_config()).await;
    let channel = plaintext_channel(server.addr).await.unwrap();
    assert_serving(channel.clone()).await;
    // An unknown service name is NOT_FOUND, as the health protocol says.
    assert_eq!(health(channel.clone(), "nope").await.unwrap_err().code(), tonic::Code::NotFound);

    let mut peer = PeerStream::connect(channel).await.unwrap();
    peer.handshake().await;
    peer.transaction("tx1", &["echo", "hi"]).await;
    let completed = peer.recv().await.unwrap();
    assert_eq!(completed.txid, "tx1");
    assert_eq!(completed_response(&completed).payload, "hi");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn tls_serves_health_and_refuses_plaintext_clients() {
    let ca = Ca::new("tls-ca");
    let server = start(tls_config(&ca, None)).await;
    assert_serving(tls_channel(server.addr, &ca.cert_pem(), None).await.unwrap()).await;

    // A plaintext client: the TLS handshake fails; the server goes on serving.
    let refused = match plaintext_channel(server.addr).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a plaintext client was served by a TLS server");
    // A client that does not trust the server's CA.
    let other = Ca::new("other-ca");
    let refused = match tls_channel(server.addr, &other.cert_pem(), None).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a client trusting another CA accepted the server");
    assert_serving(tls_channel(server.addr, &ca.cert_pem(), None).await.unwrap()).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_client_ca() {
    let server_ca = Ca::new("server-ca");
    let peer_ca = Ca::new("peer-ca");
    let server = start(tls_config(&server_ca, Some(&peer_ca))).await;
    let trusted = peer_ca.client();

    let channel = tls_channel(server.addr, &server_ca.cert_pem(), Some(&trusted)).await.unwrap();
    assert_serving(channel.clone()).await;
    // The chaincode protocol runs over mutual TLS too.
    let mut peer = PeerStream::connect(channel).await.unwrap();
    peer.handshake().await;
    peer.transaction("tx-mtls", &["echo", "secure"]).await;
    assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, "secure");

    // No client certificate.
    let refused = match tls_channel(server.addr, &server_ca.cert_pem(), None).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a client without a certificate was served");

    // A client certificate from another CA (here: the server's CA, which is not a client CA).
    let stranger = server_ca.client();
    let refused = match tls_channel(server.addr, &server_ca.cert_pem(), Some(&stranger)).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a client certificate from another CA was accepted");

    // The failed handshakes did not stop the accept loop.
    assert_serving(tls_channel(server.addr, &server_ca.cert_pem(), Some(&trusted)).await.unwrap()).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn tls_1_2_works_and_alpn_is_h2() {
    let ca = Ca::new("tls12-ca");
    let server = start(tls_config(&ca, None)).await;
    let mut roots = rustls::RootCertStore::empty();
    let ca_der = rustls::pki_types::CertificateDer::from(rcgen_der(&ca.cert_pem()));
    roots.add(ca_der).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = connector.connect(name, tcp).await.unwrap();
        let (_, session) = stream.get_ref();
        assert_eq!(session.protocol_version(), Some(version.version));
        assert_eq!(session.alpn_protocol(), Some(&b"h2"[..]));
    }
    server.stop().await.unwrap();
}

fn rcgen_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
}

/// Go's gRPC server would answer a burst of pings with GOAWAY(ENHANCE_YOUR_CALM) unless its
/// enforcement policy allows them; h2 has no ping policy. A burst far denser
/// than the peer's one ping a minute is answered, and the connection keeps serving.
#[tokio::test]
async fn client_pings_never_get_goaway() {
    let server = start(plaintext_config()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut client, mut connection) = h2::client::handshake(tcp).await.unwrap();
    let mut ping_pong = connection.ping_pong().expect("ping_pong taken once");
    let driver = tokio::spawn(connection);
    for _ in 0..50 {
        tokio::time::timeout(Duration::from_secs(2), ping_pong.ping(h2::Ping::opaque()))
            .await
            .expect("ping not answered")
            .expect("ping failed: the connection was closed");
    }

    // The same connection still serves a gRPC call: Health/Check with an empty request.
    client = client.ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/grpc.health.v1.Health/Check", server.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(request, false).unwrap();
    body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response).await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut frame = Vec::new();
    while let Some(data) = body.data().await {
        let data = data.unwrap();
        body.flow_control().release_capacity(data.len()).unwrap();
        frame.extend_from_slice(&data);
    }
    let trailers = body.trailers().await.unwrap().expect("gRPC trailers");
    assert_eq!(trailers.get("grpc-status").unwrap(), "0");
    // HealthCheckResponse { status: SERVING (1) } = field 1, varint 1.
    assert_eq!(frame, [0, 0, 0, 0, 2, 0x08, 0x01]);
    drop(client);
    driver.abort();

    server.stop().await.unwrap();
}

/// Whether a TLS client with `client` gets served (a handshake and a health check).
async fn served_with(server: &Running, server_ca: &Ca, client: &Leaf) -> bool {
    match tls_channel(server.addr, &server_ca.cert_pem(), Some(client)).await {
        Err(_) => false,
        Ok(channel) => health(channel, "").await.is_ok(),
    }
}

#[tokio::test]
async fn expired_and_not_yet_valid_client_certificates_are_refused() {
    let server_ca = Ca::new("server-ca");
    let peer_ca = Ca::new("peer-ca");
    let server = start(tls_config(&server_ca, Some(&peer_ca))).await;
    let expired = peer_ca.client_valid_between((2020, 1, 1), (2021, 1, 1));
    assert!(!served_with(&server, &server_ca, &expired).await, "an expired client certificate was accepted");
    let not_yet = peer_ca.client_valid_between((2099, 1, 1), (2100, 1, 1));
    assert!(!served_with(&server, &server_ca, &not_yet).await, "a not-yet-valid client certificate was accepted");
    let current = peer_ca.client_valid_between((2020, 1, 1), (2099, 1, 1));
    assert!(served_with(&server, &server_ca, &current).await, "a valid client certificate was refused");
    server.stop().await.unwrap();
}

/// A TLS 1.1 ClientHello (no extensions, one cipher suite): the server must refuse it with an
/// alert, and go on serving TLS 1.2 and 1.3 clients.
#[tokio::test]
async fn clients_below_tls_1_2_are_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ca = Ca::new("old-tls-ca");
    let server = start(tls_config(&ca, None)).await;
    for (name, version) in [("TLS 1.0", [3u8, 1u8]), ("TLS 1.1", [3, 2])] {
        let mut hello = Vec::new();
        hello.extend_from_slice(&version); // client_version
        hello.extend_from_slice(&[7u8; 32]); // random
        hello.push(0); // no session id
        hello.extend_from_slice(&[0, 2, 0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
        hello.extend_from_slice(&[1, 0]); // null compression
        let mut handshake = vec![1u8, 0, (hello.len() >> 8) as u8, hello.len() as u8];
        handshake[1] = (hello.len() >> 16) as u8;
        handshake.extend_from_slice(&hello);
        let mut record = vec![0x16, version[0], version[1], (handshake.len() >> 8) as u8, handshake.len() as u8];
        record.extend_from_slice(&handshake);

        let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        tcp.write_all(&record).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "{name}: the server neither answered nor closed");
        // An alert record (content type 21), or a bare close: never a ServerHello (22).
        assert!(answer.first() != Some(&0x16), "{name}: the server went on with the handshake: {answer:?}");
        assert!(answer.is_empty() || answer[0] == 0x15, "{name}: {answer:?}");
    }
    assert_serving(tls_channel(server.addr, &ca.cert_pem(), None).await.unwrap()).await;
    server.stop().await.unwrap();
}

/// What a client learns of the server's HTTP/2 configuration when it connects: the SETTINGS the
/// server sends, as (identifier, value) in the server's order, and the increment of its
/// connection-level WINDOW_UPDATE (the connection's flow-control window beyond the default).
async fn server_http2_configuration(addr: std::net::SocketAddr) -> (Vec<(u16, u32)>, u32) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The client preface, then an empty SETTINGS frame (length 0, type 4, flags 0, stream 0).
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
    let (mut settings, mut window_increment, mut acknowledged) = (None, None, false);
    while settings.is_none() || window_increment.is_none() || !acknowledged {
        let mut header = [0u8; 9];
        tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut header)).await.unwrap().unwrap();
        let length = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let (kind, flags, stream) = (header[3], header[4], u32::from_be_bytes(header[5..9].try_into().unwrap()));
        let mut payload = vec![0u8; length];
        tcp.read_exact(&mut payload).await.unwrap();
        match (kind, flags & 1, stream) {
            (4, 0, 0) => {
                let pairs = payload
                    .chunks(6)
                    .map(|s| (u16::from_be_bytes([s[0], s[1]]), u32::from_be_bytes([s[2], s[3], s[4], s[5]])));
                settings = Some(pairs.collect());
            }
            (8, _, 0) => window_increment = Some(u32::from_be_bytes(payload[..4].try_into().unwrap())),
            (4, 1, 0) => acknowledged = true,
            _ => {}
        }
    }
    (settings.unwrap(), window_increment.unwrap())
}

/// The HTTP/2 configuration the server advertises is the one the shim was tested against with real
/// peers (tonic's server over hyper): no limit on concurrent streams, 1 MiB stream windows, 16 KiB
/// frames and header lists, and a 1 MiB connection window.
#[tokio::test]
async fn http2_settings_are_unchanged() {
    let server = start(plaintext_config()).await;
    let (settings, window_increment) = server_http2_configuration(server.addr).await;
    // INITIAL_WINDOW_SIZE (4), MAX_FRAME_SIZE (5), MAX_HEADER_LIST_SIZE (6); no MAX_CONCURRENT_STREAMS (3).
    assert_eq!(settings, [(4, 1024 * 1024), (5, 16 * 1024), (6, 16 * 1024)]);
    assert_eq!(window_increment, 1024 * 1024 - 65_535, "a 1 MiB connection window");
    server.stop().await.unwrap();
}

/// A request for a service the server does not serve gets gRPC status UNIMPLEMENTED, and the
/// connection goes on serving.
#[tokio::test]
async fn unknown_services_are_unimplemented() {
    let server = start(plaintext_config()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let driver = tokio::spawn(connection);
    for path in
        ["/protos.ChaincodeSupport/Register", "/grpc.health.v1.Health2/Check", "/", "/grpc.health.v1.Health/Check"]
    {
        let mut client = client.clone().ready().await.unwrap();
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", server.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut body) = client.send_request(request, false).unwrap();
        body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), true).unwrap();
        let response = tokio::time::timeout(Duration::from_secs(5), response).await.unwrap().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        if path == "/grpc.health.v1.Health/Check" {
            // Served: the status comes in the trailers, after the message.
            assert!(!response.headers().contains_key("grpc-status"), "{path}");
        } else {
            // A trailers-only response.
            assert_eq!(response.headers()["grpc-status"], "12", "{path}: UNIMPLEMENTED");
            assert_eq!(response.headers()["content-type"], "application/grpc", "{path}");
        }
    }
    driver.abort();
    server.stop().await.unwrap();
}

/// What a health check with `body` (and `grpc-encoding: encoding`, if any) gets: the trailers-only
/// response's `grpc-status`, `grpc-message` and `grpc-accept-encoding`.
async fn refused_check(
    client: &h2::client::SendRequest<bytes::Bytes>,
    addr: std::net::SocketAddr,
    encoding: Option<&str>,
    body: &'static [u8],
) -> (String, String, Option<String>) {
    let mut client = client.clone().ready().await.unwrap();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(encoding) = encoding {
        request = request.header("grpc-encoding", encoding);
    }
    let (response, mut stream) = client.send_request(request.body(()).unwrap(), false).unwrap();
    stream.send_data(bytes::Bytes::from_static(body), true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response).await.unwrap().unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    (
        header("grpc-status").expect("a trailers-only response"),
        header("grpc-message").unwrap_or_default(),
        header("grpc-accept-encoding"),
    )
}

/// Requests the server cannot read get tonic's statuses and texts, each on its own stream: a
/// compressed body (no encoding is accepted), a message flagged compressed without an encoding, and
/// a message over the size limit.
#[tokio::test]
async fn unreadable_requests_get_tonics_statuses() {
    let server = start(plaintext_config()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let driver = tokio::spawn(connection);
    let empty = &[0, 0, 0, 0, 0];
    assert_eq!(
        refused_check(&client, server.addr, Some("gzip"), empty).await,
        ("12".into(), "Content is compressed with `gzip` which isn't supported".into(), Some("identity".into()))
    );
    assert_eq!(
        refused_check(&client, server.addr, None, &[1, 0, 0, 0, 0]).await,
        (
            "13".into(),
            "protocol error: received message with compressed-flag but no grpc-encoding was specified".into(),
            None
        )
    );
    // 100 MiB + 1 byte.
    assert_eq!(
        refused_check(&client, server.addr, None, &[0, 0x06, 0x40, 0x00, 0x01]).await,
        (
            "11".into(),
            "Error, decoded message length too large: found 104857601 bytes, the limit is: 104857600 bytes".into(),
            None
        )
    );
    // `identity` is no compression: served.
    let mut served = client.clone().ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/grpc.health.v1.Health/Check", server.addr))
        .header("grpc-encoding", "identity")
        .body(())
        .unwrap();
    let (response, mut stream) = served.send_request(request, false).unwrap();
    stream.send_data(bytes::Bytes::from_static(empty), true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response).await.unwrap().unwrap();
    assert!(!response.headers().contains_key("grpc-status"), "served: the status comes in the trailers");
    driver.abort();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_plaintext_client_on_a_tls_server_is_logged_as_that_with_what_to_check() {
    let ca = Ca::new("tls-ca");
    let server = start(tls_config(&ca, None)).await;
    let logs = capture_logs();
    let refused = match plaintext_channel(server.addr).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a plaintext client was served by a TLS server");
    let line = logs.line_with("spoke plaintext HTTP/2 to this TLS chaincode server").await;
    eprintln!("the server's log line: {line}");
    for names in ["WARN", "tls_required", "root_cert", "connection.json", "CHAINCODE_TLS_"] {
        assert!(line.contains(names), "{names} missing in {line}");
    }
    assert!(!logs.text().contains("TLS handshake with a client failed"), "{}", logs.text());
    assert_serving(tls_channel(server.addr, &ca.cert_pem(), None).await.unwrap()).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_tls_client_on_a_plaintext_server_is_logged_as_that_with_what_to_check() {
    let ca = Ca::new("tls-ca");
    let server = start(plaintext_config()).await;
    let logs = capture_logs();
    let refused = match tls_channel(server.addr, &ca.cert_pem(), None).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused, "a TLS client was served by a plaintext server");
    let line = logs.line_with("started a TLS handshake with this plaintext chaincode server").await;
    eprintln!("the server's log line: {line}");
    for names in ["WARN", "tls_required", "connection.json", "CHAINCODE_TLS_KEY", "CHAINCODE_TLS_CERT"] {
        assert!(line.contains(names), "{names} missing in {line}");
    }
    // Not a raw HTTP/2 error.
    assert!(!logs.text().contains("h2"), "{}", logs.text());
    assert_serving(plaintext_channel(server.addr).await.unwrap()).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_distrusts_the_server_certificate_is_logged_with_what_to_check() {
    let ca = Ca::new("tls-ca");
    let server = start(tls_config(&ca, None)).await;
    let logs = capture_logs();
    let other = Ca::new("other-ca");
    let refused = match tls_channel(server.addr, &other.cert_pem(), None).await {
        Err(_) => true,
        Ok(channel) => health(channel, "").await.is_err(),
    };
    assert!(refused);
    let line = logs.line_with("TLS handshake with a client failed").await;
    eprintln!("the server's log line: {line}");
    assert!(line.contains("refused this server's certificate") && line.contains("root_cert"), "{line}");
    server.stop().await.unwrap();
}
