//! Where the emulator's messages go: a CCaaS server over TCP (plaintext, TLS or mutual TLS), a
//! `ccaas-shim` service in the same process, or any pair of channels.

use std::time::Duration;

use ccaas_protos::protos::chaincode_client::ChaincodeClient;
use ccaas_protos::protos::ChaincodeMessage;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity as TlsIdentity};

use crate::error::EmulatorError;

/// The largest message either way (the peer's 100 MiB).
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// How many messages may wait to be written to the chaincode.
pub(crate) const OUTBOUND_CAPACITY: usize = 1024;

/// TLS settings of a connection, as in the chaincode's `connection.json`.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// The CA certificate(s) that sign the chaincode server's certificate (`root_cert`, PEM).
    pub root_cert_pem: Vec<u8>,
    /// The client certificate and key presented for mutual TLS (`client_cert`, `client_key`, PEM).
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The name to verify the server certificate against instead of the address's host
    /// (`domain`).
    pub domain: Option<String>,
}

/// A CCaaS server to dial.
///
/// ```
/// use ccaas_testkit::{Target, TlsOptions};
/// let plain = Target::new("127.0.0.1:7052");
/// let mtls = Target::new("basic.example.com:7052").tls(TlsOptions {
///     root_cert_pem: b"-----BEGIN CERTIFICATE-----...".to_vec(),
///     client_identity: Some((b"cert".to_vec(), b"key".to_vec())),
///     domain: Some("basic".into()),
/// });
/// # let _ = (plain, mtls);
/// ```
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` (a `http://` or `https://` prefix is accepted).
    pub address: String,
    /// TLS settings; `None` is plaintext.
    pub tls: Option<TlsOptions>,
    /// The dial timeout (connection.json `dial_timeout`, the peer's default 3 s).
    pub connect_timeout: Duration,
    /// HTTP/2 keepalive pings as the peer sends them (every 60 s, 20 s timeout, also when idle).
    pub http2_keepalive: bool,
}

impl Target {
    /// A plaintext target.
    pub fn new(address: impl Into<String>) -> Self {
        Target { address: address.into(), tls: None, connect_timeout: Duration::from_secs(3), http2_keepalive: true }
    }

    /// Uses TLS.
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the dial timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    fn uri(&self) -> String {
        let address = self.address.trim();
        if address.contains("://") {
            return address.to_string();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{address}")
    }
}

/// Both directions of an open connection.
pub(crate) struct Connection {
    pub(crate) to_chaincode: mpsc::Sender<ChaincodeMessage>,
    pub(crate) from_chaincode: BoxStream<'static, Result<ChaincodeMessage, tonic::Status>>,
    /// Keeps the gRPC channel (and its TCP connection) alive.
    pub(crate) channel: Option<Channel>,
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Dials `target` and opens `protos.Chaincode/Connect`.
pub(crate) async fn dial(target: &Target) -> Result<Connection, EmulatorError> {
    let uri = target.uri();
    let invalid = |reason: String| EmulatorError::InvalidAddress { address: target.address.clone(), reason };
    let mut endpoint = Endpoint::from_shared(uri.clone()).map_err(|e| invalid(error_chain(&e)))?;
    endpoint = endpoint.connect_timeout(target.connect_timeout);
    if target.http2_keepalive {
        endpoint = endpoint
            .http2_keep_alive_interval(Duration::from_secs(60))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true);
    }
    if let Some(tls) = &target.tls {
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.root_cert_pem));
        if let Some((cert, key)) = &tls.client_identity {
            config = config.identity(TlsIdentity::from_pem(cert, key));
        }
        if let Some(domain) = &tls.domain {
            config = config.domain_name(domain.clone());
        }
        endpoint = endpoint.tls_config(config).map_err(|e| EmulatorError::Tls(error_chain(&e)))?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| EmulatorError::Connect { address: target.address.clone(), reason: error_chain(&e) })?;
    let mut client = ChaincodeClient::new(channel.clone())
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let (to_chaincode, outbound) = mpsc::channel(OUTBOUND_CAPACITY);
    let response = client.connect(ReceiverStream::new(outbound)).await?;
    Ok(Connection { to_chaincode, from_chaincode: Box::pin(response.into_inner()), channel: Some(channel) })
}
