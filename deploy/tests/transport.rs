//! The gRPC client against an in-process fake peer (tonic over rustls): mutual TLS with a
//! client certificate, the error when a peer wants one and gets none, and retries with backoff
//! while the peer answers UNAVAILABLE.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ccaas_deploy::config::{Endpoint, Target, Tls};
use ccaas_deploy::identity::Identity;
use ccaas_deploy::lifecycle::Session;
use ccaas_deploy::Error;
use ccaas_protos::lifecycle::query_installed_chaincodes_result::InstalledChaincode;
use ccaas_protos::lifecycle::QueryInstalledChaincodesResult;
use ccaas_protos::protos::endorser_server::{Endorser, EndorserServer};
use ccaas_protos::protos::{ProposalResponse, Response, SignedProposal};
use ccaas_testkit::testing::tls::TestPki;
use prost::Message;
use tonic::transport::{Certificate, Identity as TlsIdentity, Server, ServerTlsConfig};

/// Answers every proposal with one installed package, after `unavailable` UNAVAILABLE answers;
/// records whether the caller presented a client certificate.
struct FakePeer {
    calls: Arc<AtomicUsize>,
    unavailable: usize,
    saw_client_cert: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl Endorser for FakePeer {
    async fn process_proposal(
        &self,
        request: tonic::Request<SignedProposal>,
    ) -> Result<tonic::Response<ProposalResponse>, tonic::Status> {
        if request.peer_certs().is_some_and(|c| !c.is_empty()) {
            self.saw_client_cert.fetch_add(1, Ordering::SeqCst);
        }
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.unavailable {
            return Err(tonic::Status::unavailable("peer is starting"));
        }
        let result = QueryInstalledChaincodesResult {
            installed_chaincodes: vec![InstalledChaincode {
                package_id: "basic_1.0:abc".into(),
                label: "basic_1.0".into(),
                ..Default::default()
            }],
        };
        Ok(tonic::Response::new(ProposalResponse {
            response: Some(Response { status: 200, payload: result.encode_to_vec().into(), ..Default::default() }),
            ..Default::default()
        }))
    }
}

struct Fake {
    address: String,
    calls: Arc<AtomicUsize>,
    saw_client_cert: Arc<AtomicUsize>,
}

async fn serve(pki: &TestPki, client_ca: Option<&str>, unavailable: usize) -> Fake {
    let server = pki.server(&["peer0.org1.example.com", "127.0.0.1"]);
    let mut tls = ServerTlsConfig::new().identity(TlsIdentity::from_pem(&server.cert_pem, &server.key_pem));
    if let Some(ca) = client_ca {
        tls = tls.client_ca_root(Certificate::from_pem(ca));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let calls = Arc::new(AtomicUsize::new(0));
    let saw_client_cert = Arc::new(AtomicUsize::new(0));
    let peer = FakePeer { calls: calls.clone(), unavailable, saw_client_cert: saw_client_cert.clone() };
    tokio::spawn(
        Server::builder()
            .tls_config(tls)
            .unwrap()
            .add_service(EndorserServer::new(peer))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Fake { address, calls, saw_client_cert }
}

fn target(pki: &TestPki, address: &str, client: Option<(String, String)>) -> Target {
    let fixture = |n: &str| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(n);
    Target {
        identity: Identity::from_files("Org1MSP", &fixture("admin-cert.pem"), &fixture("admin-key.pem")).unwrap(),
        peers: vec![Endpoint {
            name: "peer0.org1.example.com".into(),
            org: "Org1MSP".into(),
            address: address.into(),
            tls: Some(Tls {
                ca_pem: pki.ca_pem().as_bytes().to_vec(),
                ca_source: "test CA".into(),
                server_name: Some("peer0.org1.example.com".into()),
                client_identity: client.map(|(c, k)| (c.into_bytes(), k.into_bytes())),
            }),
        }],
        orderer: None,
        channel: "mychannel".into(),
    }
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate() {
    let pki = TestPki::new();
    let fake = serve(&pki, Some(pki.ca_pem()), 0).await;
    let client = pki.client("Admin@org1.example.com");
    let session =
        Session::connect(&target(&pki, &fake.address, Some((client.cert_pem, client.key_pem)))).await.unwrap();
    let installed = session.installed(&session.peers()[0]).await.unwrap();
    assert_eq!(installed[0].package_id, "basic_1.0:abc");
    assert_eq!(fake.saw_client_cert.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_peer_that_requires_a_client_certificate_says_so() {
    let pki = TestPki::new();
    let fake = serve(&pki, Some(pki.ca_pem()), 0).await;
    let err = match Session::connect(&target(&pki, &fake.address, None)).await {
        Err(e) => e,
        Ok(session) => session.installed(&session.peers()[0]).await.unwrap_err(),
    };
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to peer0.org1.example.com (Org1MSP) at {}: ", fake.address)),
        "{text}"
    );
    assert!(text.contains("--tls-client-cert"), "{text}");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_client_certificate_of_an_untrusted_ca_is_named_as_refused() {
    let pki = TestPki::new();
    let fake = serve(&pki, Some(pki.ca_pem()), 0).await;
    let stranger = TestPki::new().client("Admin@org9.example.com");
    let err = match Session::connect(&target(&pki, &fake.address, Some((stranger.cert_pem, stranger.key_pem)))).await {
        Err(e) => e,
        Ok(session) => session.installed(&session.peers()[0]).await.unwrap_err(),
    };
    let text = err.to_string();
    assert!(matches!(err, Error::Connect { .. }), "{text}");
    assert!(text.contains("requires a TLS client certificate (mutual TLS) and refused the one presented"), "{text}");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unavailable_is_retried_with_backoff() {
    let pki = TestPki::new();
    let fake = serve(&pki, None, 2).await;
    let session = Session::connect(&target(&pki, &fake.address, None)).await.unwrap();
    let started = std::time::Instant::now();
    let installed = session.installed(&session.peers()[0]).await.unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3, "two UNAVAILABLE answers, then success");
    assert!(started.elapsed() >= std::time::Duration::from_millis(700), "backoff 250 ms then 500 ms");
}

#[tokio::test]
async fn unavailable_for_good_gives_up_after_four_attempts() {
    let pki = TestPki::new();
    let fake = serve(&pki, None, usize::MAX).await;
    let session = Session::connect(&target(&pki, &fake.address, None)).await.unwrap();
    let err = session.installed(&session.peers()[0]).await.unwrap_err();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to peer0.org1.example.com (Org1MSP) at {}: unavailable: peer is starting",
            fake.address
        )
    );
}
