//! Shared by the `server_*` tests: in-test certificates, a trivial chaincode, a running server,
//! a health check and a hand-driven peer side of the shim protocol.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ccaas_protos::protos::chaincode_client::ChaincodeClient;
use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::{ChaincodeId, ChaincodeInput, ChaincodeMessage};
use ccaas_shim::server::{Server, ServerConfig, ServerError};
use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use prost::Message;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

pub const CHAINCODE_ID: &str = "basic_1.0:6f0a2c1d";

/// A certificate authority made for one test.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server(&self) -> Leaf {
        self.leaf("chaincode.example", ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (the peer's).
    pub fn client(&self) -> Leaf {
        self.leaf("peer0.org1.example.com", ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A client certificate valid only from `not_before` to `not_after` ((year, month, day)).
    pub fn client_valid_between(&self, not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "peer0.org1.example.com");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    fn leaf(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }
}

/// The txids the test chaincode has started, in order (see [`wait_started`]).
static STARTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Waits until the chaincode is running transaction `txid`.
pub async fn wait_started(txid: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !STARTED.lock().unwrap().iter().any(|started| started == txid) {
        assert!(std::time::Instant::now() < deadline, "{txid} never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The test chaincode: `echo <text>` answers `<text>`; `sleep <ms>` sleeps, then answers `slept`;
/// `big <bytes>` answers that many bytes; `get2 <k1> <k2>` reads both keys in turn and answers
/// `v1,v2`.
pub struct TestChaincode;

impl Chaincode for TestChaincode {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        STARTED.lock().unwrap().push(stub.tx_id().to_string());
        let (function, args) = stub.function_and_parameters();
        match function.as_str() {
            "echo" => Response::success(args.first().cloned().unwrap_or_default()),
            "sleep" => {
                let ms: u64 = args.first().and_then(|ms| ms.parse().ok()).unwrap_or(300);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Response::success("slept")
            }
            "big" => Response::success(vec![b'x'; args[0].parse().unwrap()]),
            "get2" => {
                let mut values = Vec::new();
                for key in &args[..2] {
                    match stub.get_state(key).await {
                        Ok(value) => values.push(String::from_utf8_lossy(&value.unwrap_or_default()).into_owned()),
                        Err(e) => return Response::error(e.to_string()),
                    }
                }
                Response::success(values.join(","))
            }
            other => Response::error(format!("unknown function {other}")),
        }
    }
}

/// A server running in the background on 127.0.0.1, stopped through `stop`.
pub struct Running {
    pub addr: SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), ServerError>>,
}

impl Running {
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks for shutdown and waits for the server to return.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        self.shutdown();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("the server did not stop").unwrap()
    }
}

/// Starts `TestChaincode` with `config` (its address is ignored: 127.0.0.1:0 is used).
pub async fn start(config: ServerConfig) -> Running {
    init_tracing();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::new(TestChaincode, config).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_listener(listener, async move {
        let _ = stopped.await;
    }));
    Running { addr, stop: Some(stop), task }
}

/// Logs go to the test's captured output (shown when a test fails); `RUST_LOG` overrides.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("ccaas_shim=debug"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

pub fn plaintext_config() -> ServerConfig {
    ServerConfig::new(CHAINCODE_ID)
}

/// A plaintext channel.
pub async fn plaintext_channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{addr}")).unwrap().connect_timeout(Duration::from_secs(5)).connect().await
}

/// A TLS channel trusting `ca_pem` for `localhost`, optionally with a client identity.
pub async fn tls_channel(
    addr: SocketAddr,
    ca_pem: &str,
    client: Option<&Leaf>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem)).domain_name("localhost");
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.cert_pem, &client.key_pem));
    }
    Endpoint::from_shared(format!("https://127.0.0.1:{}", addr.port()))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .tls_config(tls)?
        .connect()
        .await
}

/// `grpc.health.v1.Health/Check` for `service`.
pub async fn health(channel: Channel, service: &str) -> Result<ServingStatus, tonic::Status> {
    let request = HealthCheckRequest { service: service.to_string() };
    let mut client = HealthClient::new(channel);
    let response =
        tokio::time::timeout(Duration::from_secs(5), client.check(request)).await.expect("health check hung")?;
    Ok(response.into_inner().status())
}

/// The peer's side of one `Connect` stream, driven by hand.
pub struct PeerStream {
    pub to_chaincode: mpsc::Sender<ChaincodeMessage>,
    pub from_chaincode: tonic::Streaming<ChaincodeMessage>,
}

impl PeerStream {
    /// Calls `protos.Chaincode/Connect`, with the peer's 100 MiB message limits.
    pub async fn connect(channel: Channel) -> Result<PeerStream, tonic::Status> {
        let (to_chaincode, outbound) = mpsc::channel(16);
        let mut client = ChaincodeClient::new(channel)
            .max_decoding_message_size(ccaas_shim::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(ccaas_shim::MAX_MESSAGE_SIZE);
        let response = client.connect(ReceiverStream::new(outbound)).await?;
        Ok(PeerStream { to_chaincode, from_chaincode: response.into_inner() })
    }

    /// The next message from the chaincode (`None` when the stream ended).
    pub async fn recv(&mut self) -> Option<ChaincodeMessage> {
        tokio::time::timeout(Duration::from_secs(5), self.from_chaincode.message())
            .await
            .expect("no message from the chaincode within 5 s")
            .ok()
            .flatten()
    }

    pub async fn send(&self, message: ChaincodeMessage) {
        self.to_chaincode.send(message).await.expect("the request stream is closed");
    }

    /// REGISTER (checked) ← , REGISTERED →, READY → (empty payload: a pre-3.1 peer).
    pub async fn handshake(&mut self) {
        let register = self.recv().await.expect("no REGISTER");
        assert_eq!(register.r#type, Type::Register as i32, "first message: {register:?}");
        let id = ChaincodeId::decode(register.payload).unwrap();
        assert_eq!(id.name, CHAINCODE_ID);
        self.send(message(Type::Registered, "", Bytes::new())).await;
        self.send(message(Type::Ready, "", Bytes::new())).await;
    }

    /// Sends a TRANSACTION with `args` on channel `mychannel`.
    pub async fn transaction(&self, txid: &str, args: &[&str]) {
        let input = ChaincodeInput {
            args: args.iter().map(|arg| Bytes::copy_from_slice(arg.as_bytes())).collect(),
            ..Default::default()
        };
        self.send(message(Type::Transaction, txid, Bytes::from(input.encode_to_vec()))).await;
    }
}

pub fn message(kind: Type, txid: &str, payload: Bytes) -> ChaincodeMessage {
    ChaincodeMessage {
        r#type: kind as i32,
        txid: txid.to_string(),
        channel_id: if txid.is_empty() { String::new() } else { "mychannel".to_string() },
        payload,
        ..Default::default()
    }
}

/// The `Response` inside a COMPLETED message.
pub fn completed_response(message: &ChaincodeMessage) -> ccaas_protos::protos::Response {
    assert_eq!(message.r#type, Type::Completed as i32, "expected COMPLETED, got {message:?}");
    ccaas_protos::protos::Response::decode(message.payload.clone()).unwrap()
}

/// The log lines written on this thread while it lives (the server's too, on a current-thread
/// runtime), without colours; the test's global subscriber is bypassed meanwhile.
pub struct Logs {
    bytes: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the log lines at info level and above (see [`Logs`]).
pub fn capture_logs() -> Logs {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let writer = LogWriter(Arc::clone(&bytes));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    Logs { bytes, _guard: tracing::subscriber::set_default(subscriber) }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// The first line that contains `needle`, waiting up to 5 s for it.
    pub async fn line_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.text().lines().find(|line| line.contains(needle)) {
                return line.to_string();
            }
            assert!(std::time::Instant::now() < deadline, "no log line with {needle:?} in:\n{}", self.text());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
