//! gRPC connections to peers and orderers over rustls, with each endpoint's TLS CA, an optional
//! client certificate (mutual TLS), the TLS host-name override, timeouts, and retries with
//! backoff while a node is UNAVAILABLE.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ccaas_protos::common::Envelope;
use ccaas_protos::gateway::gateway_client::GatewayClient;
use ccaas_protos::gateway::{
    CommitStatusRequest, EndorseRequest, ErrorDetail, EvaluateRequest, SignedCommitStatusRequest, SubmitRequest,
};
use ccaas_protos::orderer::atomic_broadcast_client::AtomicBroadcastClient;
use ccaas_protos::protos::endorser_client::EndorserClient;
use ccaas_protos::protos::{ProposalResponse, Response, SignedProposal, TxValidationCode};
use prost::Message;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity as TlsIdentity};

use crate::config::Endpoint;
use crate::error::{Error, Result};
use crate::identity::Identity;

/// Time allowed to open a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one request (each attempt, or what is left of the command's deadline:
/// [`crate::deadline`]). Install sends the package; commit waits for a block.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts for a request that fails with UNAVAILABLE (backoff 250 ms, 500 ms, 1 s, ...).
pub const ATTEMPTS: u32 = 4;

/// Where and how a transaction was committed (Gateway `CommitStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Whether the peers marked it VALID.
    pub valid: bool,
    /// Its validation code's name (`VALID`, `MVCC_READ_CONFLICT`, ...), or the number of a code
    /// this build does not know.
    pub code: String,
    /// The block it is in.
    pub block: u64,
}

/// A connection to one peer or orderer.
#[derive(Clone, Debug)]
pub struct Node {
    /// Where it is.
    pub endpoint: Endpoint,
    channel: Channel,
    /// Whether the node refuses the TLS client certificate (or its absence), once a transport
    /// failure made us look.
    client_cert_refused: Arc<OnceLock<bool>>,
}

impl Node {
    /// Connects (TCP, then TLS with the endpoint's CA and host name), retrying while the node
    /// refuses connections.
    pub async fn connect(endpoint: &Endpoint) -> Result<Node> {
        let scheme = if endpoint.tls.is_some() { "https" } else { "http" };
        let connect_err = |cause: String| Error::Connect {
            node: endpoint.name.clone(),
            org: endpoint.org.clone(),
            address: endpoint.address.clone(),
            cause,
        };
        let mut ep = Channel::from_shared(format!("{scheme}://{}", endpoint.address))
            .map_err(|e| connect_err(format!("not a usable address: {e}")))?
            // Later than the bound below, which names the node in a timeout error.
            .connect_timeout(CONNECT_TIMEOUT + Duration::from_secs(1));
        if let Some(tls) = &endpoint.tls {
            let mut cfg = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.ca_pem));
            let host = tls.server_name.clone().unwrap_or_else(|| host_of(&endpoint.address));
            cfg = cfg.domain_name(host);
            if let Some((cert, key)) = &tls.client_identity {
                cfg = cfg.identity(TlsIdentity::from_pem(cert, key));
            }
            ep = ep.tls_config(cfg).map_err(|e| connect_err(format!("bad TLS settings: {e}")))?;
        }
        let what = format!("{} (connect)", describe(endpoint));
        let mut delay = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            // The TCP connection, the TLS handshake and HTTP/2's: a node that accepts and never
            // answers is given CONNECT_TIMEOUT (or what is left of --timeout) per attempt.
            let connected = crate::deadline::bound(&what, CONNECT_TIMEOUT, async { Ok(ep.connect().await) }).await;
            match connected {
                Ok(Ok(channel)) => {
                    return Ok(Node { endpoint: endpoint.clone(), channel, client_cert_refused: Arc::default() })
                }
                Err(timeout) => {
                    if attempt >= ATTEMPTS || crate::deadline::remaining().is_some_and(|r| r.is_zero()) {
                        return Err(timeout);
                    }
                    tracing::debug!(node = %endpoint.name, attempt, "no answer; retrying");
                }
                Ok(Err(e)) => {
                    let mut cause = explain_transport(&e, endpoint, false);
                    let retryable = cause.starts_with("nothing listens") || cause.starts_with("timed out");
                    if !retryable && client_certificate_refused(endpoint).await {
                        cause = explain_transport(&e, endpoint, true);
                    }
                    if !retryable || attempt >= ATTEMPTS {
                        return Err(connect_err(cause));
                    }
                    tracing::debug!(node = %endpoint.name, attempt, %cause, "connect failed; retrying");
                }
            }
            tokio::time::sleep(crate::deadline::limit(delay)).await;
            delay *= 2;
            attempt += 1;
        }
    }

    /// `protos.Endorser/ProcessProposal`.
    pub async fn process_proposal(&self, proposal: &SignedProposal, action: &str) -> Result<ProposalResponse> {
        let client = EndorserClient::new(self.channel.clone());
        self.retry(action, || {
            let mut c = client.clone();
            let p = proposal.clone();
            async move { c.process_proposal(p).await }
        })
        .await
    }

    /// Gateway `Endorse`: returns the prepared (unsigned) transaction envelope.
    pub async fn endorse(&self, request: EndorseRequest, action: &str) -> Result<Envelope> {
        self.gateway_endorse(request, action, Node::status_error).await
    }

    /// Gateway `Endorse` of a chaincode's transaction function: as [`Node::endorse`], but an error
    /// status from the chaincode is [`Error::Chaincode`].
    pub async fn endorse_chaincode(&self, request: EndorseRequest, action: &str) -> Result<Envelope> {
        self.gateway_endorse(request, action, Node::chaincode_error).await
    }

    async fn gateway_endorse(
        &self,
        request: EndorseRequest,
        action: &str,
        error: fn(&Node, &str, &tonic::Status) -> Error,
    ) -> Result<Envelope> {
        let client = GatewayClient::new(self.channel.clone());
        let resp = self
            .call(|| {
                let mut c = client.clone();
                let r = request.clone();
                async move { c.endorse(r).await }
            })
            .await
            .map_err(|s| error(self, action, &s))?;
        resp.prepared_transaction.ok_or_else(|| self.refused(action, "the gateway returned no transaction".into()))
    }

    /// Gateway `Evaluate`: the chaincode's response, from one endorser, committing nothing. An
    /// error status from the chaincode is [`Error::Chaincode`].
    pub async fn evaluate(&self, request: EvaluateRequest, action: &str) -> Result<Response> {
        let client = GatewayClient::new(self.channel.clone());
        let resp = self
            .call(|| {
                let mut c = client.clone();
                let r = request.clone();
                async move { c.evaluate(r).await }
            })
            .await
            .map_err(|s| self.chaincode_error(action, &s))?;
        resp.result.ok_or_else(|| self.refused(action, "the gateway returned no result".into()))
    }

    /// Gateway `Submit` of `prepared` (what [`Node::endorse`] returned), signed by `identity`.
    pub async fn submit(
        &self,
        identity: &Identity,
        channel: &str,
        tx_id: &str,
        prepared: Envelope,
        action: &str,
    ) -> Result<()> {
        let envelope = Envelope { signature: identity.sign(&prepared.payload).into(), payload: prepared.payload };
        let request = SubmitRequest {
            transaction_id: tx_id.into(),
            channel_id: channel.into(),
            prepared_transaction: Some(envelope),
        };
        let client = GatewayClient::new(self.channel.clone());
        self.retry(action, || {
            let mut c = client.clone();
            let r = request.clone();
            async move { c.submit(r).await }
        })
        .await
        .map(|_| ())
    }

    /// Gateway `CommitStatus`: waits until the transaction is in a block and returns its status.
    pub async fn commit_status(
        &self,
        identity: &Identity,
        channel: &str,
        tx_id: &str,
        action: &str,
    ) -> Result<Committed> {
        let request = CommitStatusRequest {
            transaction_id: tx_id.into(),
            channel_id: channel.into(),
            identity: identity.serialized().into(),
        }
        .encode_to_vec();
        let signed = SignedCommitStatusRequest { signature: identity.sign(&request).into(), request: request.into() };
        let client = GatewayClient::new(self.channel.clone());
        let status = self
            .retry(action, || {
                let mut c = client.clone();
                let r = signed.clone();
                async move { c.commit_status(r).await }
            })
            .await?;
        let code = TxValidationCode::try_from(status.result)
            .map(|c| c.as_str_name().to_string())
            .unwrap_or_else(|_| status.result.to_string());
        Ok(Committed { valid: status.result == TxValidationCode::Valid as i32, code, block: status.block_number })
    }

    /// Orderer `Broadcast` of one envelope; fails unless the orderer answers SUCCESS.
    pub async fn broadcast(&self, envelope: Envelope, action: &str) -> Result<()> {
        let what = format!("{} ({action})", describe(&self.endpoint));
        crate::deadline::bound(&what, REQUEST_TIMEOUT, self.broadcast_once(envelope, action)).await
    }

    async fn broadcast_once(&self, envelope: Envelope, action: &str) -> Result<()> {
        let mut client = AtomicBroadcastClient::new(self.channel.clone());
        let mut stream = client
            .broadcast(tokio_stream::iter([envelope]))
            .await
            .map_err(|s| self.status_error(action, &s))?
            .into_inner();
        let resp = stream
            .message()
            .await
            .map_err(|s| self.status_error(action, &s))?
            .ok_or_else(|| self.refused(action, "the orderer closed the stream without an answer".into()))?;
        if resp.status != ccaas_protos::common::Status::Success as i32 {
            let status = ccaas_protos::common::Status::try_from(resp.status)
                .map(|s| s.as_str_name().to_string())
                .unwrap_or_else(|_| resp.status.to_string());
            return Err(self.refused(action, format!("{status}: {}", resp.info)));
        }
        Ok(())
    }

    async fn retry<T, F, Fut>(&self, action: &str, call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        self.call(call).await.map_err(|s| self.status_error(action, &s))
    }

    /// Makes the request, again while the node answers UNAVAILABLE.
    async fn call<T, F, Fut>(&self, mut call: F) -> std::result::Result<T, tonic::Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut delay = Duration::from_millis(250);
        let what = describe(&self.endpoint);
        for attempt in 1.. {
            let after = crate::deadline::limit(REQUEST_TIMEOUT);
            let answer = crate::deadline::track(&what, tokio::time::timeout(after, call())).await;
            let answer = answer.unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded(no_answer(after))));
            match answer {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if std::error::Error::source(&s).is_some() && self.client_cert_refused.get().is_none() => {
                    // A failure below gRPC: with TLS 1.3 a node that refuses the client's
                    // certificate (or its absence) says so only after the handshake.
                    let refused = client_certificate_refused(&self.endpoint).await;
                    let _ = self.client_cert_refused.set(refused);
                    if refused {
                        return Err(s);
                    }
                    if s.code() != tonic::Code::Unavailable || attempt >= ATTEMPTS {
                        return Err(s);
                    }
                    tokio::time::sleep(crate::deadline::limit(delay)).await;
                    delay *= 2;
                }
                Err(s) if s.code() == tonic::Code::Unavailable && attempt < ATTEMPTS => {
                    let status = s.message();
                    tracing::debug!(node = %self.endpoint.name, attempt, %status, "unavailable; retrying");
                    tokio::time::sleep(crate::deadline::limit(delay)).await;
                    delay *= 2;
                }
                Err(s) => return Err(s),
            }
        }
        unreachable!("the loop returns")
    }

    /// A refusal by this node.
    pub fn refused(&self, action: &str, message: String) -> Error {
        let hint = crate::hints::hint(&message);
        Error::Refused {
            node: self.endpoint.name.clone(),
            org: self.endpoint.org.clone(),
            action: action.into(),
            message,
            hint,
        }
    }

    fn status_error(&self, action: &str, status: &tonic::Status) -> Error {
        // A failure below gRPC (TLS alert, reset connection) carries the transport error as its
        // source: with TLS 1.3 a server that wants a client certificate says so only now.
        if let Some(source) = std::error::Error::source(status) {
            return Error::Connect {
                node: self.endpoint.name.clone(),
                org: self.endpoint.org.clone(),
                address: self.endpoint.address.clone(),
                cause: explain_transport(source, &self.endpoint, self.client_cert_refused.get() == Some(&true)),
            };
        }
        if let Some(after) = no_answer_after(status) {
            return Error::Timeout { what: format!("{} ({action})", describe(&self.endpoint)), after };
        }
        if status.code() == tonic::Code::Unavailable {
            return Error::Connect {
                node: self.endpoint.name.clone(),
                org: self.endpoint.org.clone(),
                address: self.endpoint.address.clone(),
                cause: format!("unavailable: {}", status.message()),
            };
        }
        let mut message = status.message().to_string();
        // The Gateway puts each endorser's own error in the details.
        for d in gateway_details(status) {
            let d = format!("{} ({}): {}", d.address, d.msp_id, d.message);
            if !message.contains(&d) {
                message.push_str("; ");
                message.push_str(&d);
            }
        }
        self.refused(action, message)
    }

    /// [`Node::status_error`], except that an endorser's "chaincode response STATUS, MESSAGE" (the
    /// Gateway's words for a chaincode that answered 400 or more) is [`Error::Chaincode`].
    fn chaincode_error(&self, action: &str, status: &tonic::Status) -> Error {
        for d in gateway_details(status) {
            if let Some((code, message)) = chaincode_response(&d.message) {
                return Error::Chaincode {
                    action: action.into(),
                    status: code,
                    message: message.into(),
                    peer: d.address,
                    org: d.msp_id,
                };
            }
        }
        self.status_error(action, status)
    }
}

/// The status and message of the Gateway's "chaincode response 500, the asset x does not exist".
fn chaincode_response(message: &str) -> Option<(i32, &str)> {
    let (code, message) = message.strip_prefix("chaincode response ")?.split_once(", ")?;
    Some((code.parse().ok()?, message))
}

fn gateway_details(status: &tonic::Status) -> Vec<ErrorDetail> {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
        #[prost(message, repeated, tag = "3")]
        details: Vec<prost_types::Any>,
    }
    let Ok(s) = RpcStatus::decode(status.details()) else { return Vec::new() };
    s.details.iter().filter_map(|any| ErrorDetail::decode(any.value.as_slice()).ok()).collect()
}

/// How a node is named in errors: `peer0-org1 (Org1MSP) at 10.0.0.5:7051`.
fn describe(endpoint: &Endpoint) -> String {
    match endpoint.name == endpoint.address {
        true => format!("{} ({})", endpoint.address, endpoint.org),
        false => format!("{} ({}) at {}", endpoint.name, endpoint.org, endpoint.address),
    }
}

/// The message of the DEADLINE_EXCEEDED status [`Node::call`] makes when a node does not answer in time.
fn no_answer(after: Duration) -> String {
    format!("{NO_ANSWER}{}", after.as_millis())
}

const NO_ANSWER: &str = "ccaas-deploy: no answer within ms: ";

/// The time a node was given, if `status` is [`no_answer`]'s.
fn no_answer_after(status: &tonic::Status) -> Option<Duration> {
    let ms = status.message().strip_prefix(NO_ANSWER)?.parse().ok()?;
    (status.code() == tonic::Code::DeadlineExceeded).then(|| Duration::from_millis(ms))
}

fn host_of(address: &str) -> String {
    let host = address.rsplit_once(':').map(|(h, _)| h).unwrap_or(address);
    host.trim_start_matches('[').trim_end_matches(']').to_string()
}

/// Whether the node at `endpoint` refuses this client for its TLS client certificate (or its
/// absence): a TLS connection of its own, with the endpoint's client identity if any, that
/// records whether the server sent a CertificateRequest, and then whether the server ended the
/// connection with a TLS alert (in the handshake, or, with TLS 1.3, right after it, where a gRPC
/// server that accepted the client sends its HTTP/2 settings instead). False without TLS, or
/// when anything else goes wrong.
async fn client_certificate_refused(endpoint: &Endpoint) -> bool {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::AsyncReadExt;

    /// Presents `key` (or nothing) and notes that the server asked.
    #[derive(Debug)]
    struct Asked(AtomicBool, Option<Arc<rustls::sign::CertifiedKey>>);
    impl rustls::client::ResolvesClientCert for Asked {
        fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<rustls::sign::CertifiedKey>> {
            self.0.store(true, Ordering::Relaxed);
            self.1.clone()
        }
        fn has_certs(&self) -> bool {
            true
        }
    }
    let Some(tls) = &endpoint.tls else { return false };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = match &tls.client_identity {
        None => None,
        Some((cert, key)) => {
            let chain: Vec<_> = CertificateDer::pem_slice_iter(cert).flatten().collect();
            let Ok(key) = PrivateKeyDer::from_pem_slice(key) else { return false };
            let Ok(key) = provider.key_provider.load_private_key(key) else { return false };
            Some(Arc::new(rustls::sign::CertifiedKey::new(chain, key)))
        }
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&tls.ca_pem).flatten() {
        let _ = roots.add(cert);
    }
    let asked = Arc::new(Asked(AtomicBool::new(false), key));
    let Ok(builder) = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()
    else {
        return false;
    };
    let mut config = builder.with_root_certificates(roots).with_client_cert_resolver(asked.clone());
    config.alpn_protocols = vec![b"h2".to_vec()];
    let host = tls.server_name.clone().unwrap_or_else(|| host_of(&endpoint.address));
    let Ok(name) = ServerName::try_from(host) else { return false };
    let alert = |e: &std::io::Error| e.to_string().contains("alert");
    let probe = async {
        let Ok(tcp) = tokio::net::TcpStream::connect(&endpoint.address).await else { return false };
        let mut stream = match tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await {
            Ok(s) => s,
            Err(e) => return alert(&e),
        };
        let mut byte = [0u8; 1];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await {
            Ok(Err(e)) => alert(&e),
            _ => false,
        }
    };
    let refused = tokio::time::timeout(crate::deadline::limit(CONNECT_TIMEOUT), probe).await.unwrap_or(false);
    let refused = refused && asked.0.load(Ordering::Relaxed);
    tracing::debug!(node = %endpoint.name, refused, "does the node refuse the TLS client certificate?");
    refused
}

/// Turns a transport error into a cause the user can act on. `client_cert_refused`: the node
/// refuses the client for its TLS client certificate (see [`client_certificate_refused`]).
fn explain_transport(e: &(dyn std::error::Error + 'static), endpoint: &Endpoint, client_cert_refused: bool) -> String {
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !chain.last().is_some_and(|prev: &String| prev.contains(&text)) {
            chain.push(text);
        }
        source = s.source();
    }
    let all = chain.join(": ");
    let ca = endpoint.tls.as_ref().map(|t| t.ca_source.clone()).unwrap_or_default();
    // TLS 1.2 servers (and some 1.3 ones) answer a missing or untrusted client certificate with
    // the bad_certificate alert; 1.3 ones answer a missing one with certificate_required.
    let client_rejected = all.contains("BadCertificate") || all.contains("UnknownCA") || client_cert_refused;
    if all.contains("UnknownIssuer") || all.contains("BadSignature") {
        format!(
            "the server's TLS certificate is not signed by the TLS CA given ({ca}); use the TLS CA of this peer's \
             organization ({all})"
        )
    } else if all.contains("NotValidForName") || all.contains("not valid for name") {
        let name =
            endpoint.tls.as_ref().and_then(|t| t.server_name.clone()).unwrap_or_else(|| host_of(&endpoint.address));
        format!(
            "the server's TLS certificate is not valid for '{name}'; set the TLS host name override \
             (ssl-target-name-override, --tls-hostname) to a name in the certificate ({all})"
        )
    } else if all.contains("Connection refused") {
        format!("nothing listens there (connection refused): is the node running and the address right? ({all})")
    } else if all.contains("timed out") || all.contains("Timeout") || all.contains("deadline") {
        format!("timed out after {CONNECT_TIMEOUT:?}: is the address reachable from here? ({all})")
    } else if all.contains("CertificateRequired") || all.contains("certificate required") || client_rejected {
        let client = endpoint.tls.as_ref().and_then(|t| t.client_identity.as_ref());
        match client {
            None => format!(
                "the node requires a TLS client certificate (mutual TLS) and none was presented: {} ({all})",
                crate::config::TLS_CLIENT_HOW
            ),
            Some(_) => format!(
                "the node requires a TLS client certificate (mutual TLS) and refused the one presented: it must be \
                 issued by a TLS CA the node trusts (its peer.tls.clientRootCAs), e.g. the organization's TLS CA \
                 ({all})"
            ),
        }
    } else {
        all
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chaincode_response_in_the_gateways_words() {
        use super::chaincode_response;
        assert_eq!(
            chaincode_response("chaincode response 500, the asset a, b does not exist"),
            Some((500, "the asset a, b does not exist"))
        );
        assert_eq!(chaincode_response("chaincode response 404, "), Some((404, "")));
        assert_eq!(chaincode_response("make sure the chaincode basic has been successfully defined"), None);
        assert_eq!(chaincode_response("chaincode response x, y"), None);
    }
}
