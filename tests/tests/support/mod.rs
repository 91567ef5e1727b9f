//! Test chaincodes and servers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ccaas_shim::server::{Server, TlsConfig};
use ccaas_shim::{Chaincode, ChaincodeService, ChaincodeStub, Drain, Response};
use serde_json::json;
use tokio::sync::{oneshot, Notify};
use tokio_stream::wrappers::TcpListenerStream;

/// The package ID the test chaincodes register with.
pub const PACKAGE_ID: &str = "probe_1.0:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A chaincode with one function per protocol feature under test.
#[derive(Clone, Default)]
pub struct Probe {
    /// `wait` blocks until this is notified.
    pub gate: Arc<Notify>,
    /// Notified when a `wait` transaction has started.
    pub waiting: Arc<Notify>,
}

fn fail(e: impl std::fmt::Display) -> Response {
    Response::error(e.to_string())
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return fail(e),
        }
    };
}

impl Probe {
    async fn run(&self, stub: &ChaincodeStub, function: &str, args: &[String]) -> Response {
        match function {
            "put" => {
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                Response::success("")
            }
            "get" => Response::success(tri!(stub.get_state(&args[0]).await).unwrap_or_default()),
            "del" => {
                tri!(stub.del_state(&args[0]).await);
                Response::success("")
            }
            // Writes, then reads the same key: Fabric does not show a transaction its own writes.
            "put_then_get" => {
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                let seen = tri!(stub.get_state(&args[0]).await);
                Response::success(seen.map(|v| v.to_vec()).unwrap_or_else(|| b"<absent>".to_vec()))
            }
            "put_then_fail" => {
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                tri!(stub.set_event("never", "emitted"));
                Response::error("failed on purpose")
            }
            "range_keys" => {
                let rows = tri!(tri!(stub.get_state_by_range(&args[0], &args[1]).await).collect_all().await);
                let keys: Vec<String> = rows.into_iter().map(|kv| kv.key).collect();
                Response::success(serde_json::to_vec(&keys).unwrap())
            }
            // Reads `n` rows, closes the iterator and returns its id.
            "range_close_early" => {
                let n: usize = args[2].parse().unwrap();
                let mut rows = tri!(stub.get_state_by_range(&args[0], &args[1]).await);
                for _ in 0..n {
                    tri!(rows.next().await);
                }
                let id = rows.id().to_string();
                tri!(rows.close().await);
                Response::success(id)
            }
            // Reads `n` rows and drops the iterator unfinished.
            "range_drop_early" => {
                let n: usize = args[2].parse().unwrap();
                let mut rows = tri!(stub.get_state_by_range(&args[0], &args[1]).await);
                for _ in 0..n {
                    tri!(rows.next().await);
                }
                let id = rows.id().to_string();
                drop(rows);
                // The shim closes a dropped iterator before the next request.
                tri!(stub.get_state("after-drop").await);
                Response::success(id)
            }
            "put_composite" => {
                let (value, parts) = args.split_last().unwrap();
                let key = tri!(stub.create_composite_key(&parts[0], &parts[1..]));
                tri!(stub.put_state(&key, value.clone()).await);
                Response::success(key)
            }
            "partial" => {
                let rows =
                    tri!(tri!(stub.get_state_by_partial_composite_key(&args[0], &args[1..]).await).collect_all().await);
                let split: Vec<Vec<String>> = rows
                    .iter()
                    .map(|kv| {
                        let (object_type, attrs) = stub.split_composite_key(&kv.key).unwrap();
                        std::iter::once(object_type).chain(attrs).collect()
                    })
                    .collect();
                Response::success(serde_json::to_vec(&split).unwrap())
            }
            "rich" => {
                let rows = tri!(tri!(stub.get_query_result(&args[0]).await).collect_all().await);
                let out: Vec<_> =
                    rows.iter().map(|kv| json!({"key": kv.key, "value": String::from_utf8_lossy(&kv.value)})).collect();
                Response::success(serde_json::to_vec(&out).unwrap())
            }
            "history" => {
                let rows = tri!(tri!(stub.get_history_for_key(&args[0]).await).collect_all().await);
                let out: Vec<_> = rows
                    .iter()
                    .map(|m| json!({"tx_id": m.tx_id, "value": String::from_utf8_lossy(&m.value), "is_delete": m.is_delete}))
                    .collect();
                Response::success(serde_json::to_vec(&out).unwrap())
            }
            "event" => {
                tri!(stub.set_event(args[0].clone(), args[1].clone()));
                Response::success("")
            }
            "panic" => panic!("boom in {}", stub.tx_id()),
            "wait" => {
                self.waiting.notify_one();
                self.gate.notified().await;
                Response::success("released")
            }
            // Three reads at once: the shim must still send them one at a time.
            "join_reads" => {
                let (a, b, c) =
                    tokio::join!(stub.get_state(&args[0]), stub.get_state(&args[1]), stub.get_state(&args[2]));
                let values: Vec<String> = [a, b, c]
                    .into_iter()
                    .map(|v| v.map(|v| String::from_utf8_lossy(&v.unwrap_or_default()).into_owned()))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| vec![e.to_string()]);
                Response::success(values.join(","))
            }
            // Walks a range and reads another key for every row, while the iterator prefetches.
            "range_with_reads" => {
                let mut rows = tri!(stub.get_state_by_range(&args[0], &args[1]).await);
                let mut count = 0;
                while let Some(row) = tri!(rows.next().await) {
                    let other = tri!(stub.get_state(&format!("other-{}", row.key)).await);
                    if other.is_some() {
                        count += 1;
                    }
                }
                Response::success(count.to_string())
            }
            // Reads a key, blocks until released, then writes it.
            "read_wait_write" => {
                tri!(stub.get_state(&args[0]).await);
                self.waiting.notify_one();
                self.gate.notified().await;
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                Response::success("")
            }
            // Blocks until released, then lists every simple key.
            "wait_then_range" => {
                self.waiting.notify_one();
                self.gate.notified().await;
                let rows = tri!(tri!(stub.get_state_by_range("", "").await).collect_all().await);
                let keys: Vec<String> = rows.into_iter().map(|kv| kv.key).collect();
                Response::success(serde_json::to_vec(&keys).unwrap())
            }
            // The 200-transaction mix: read a seed, write an output, delete a temp key, and read
            // the output back (a transaction does not see its own write).
            "mix" => {
                let i: usize = args[0].parse().unwrap();
                let seed = tri!(stub.get_state(&format!("seed-{}", i % 10)).await).unwrap_or_default();
                let seed = String::from_utf8_lossy(&seed).into_owned();
                let out_key = format!("out-{i:03}");
                tri!(stub.put_state(&out_key, format!("{seed}+{i}")).await);
                tri!(stub.del_state(&format!("tmp-{i:03}")).await);
                let own = tri!(stub.get_state(&out_key).await);
                Response::success(format!("{seed}+{i}|{}", if own.is_none() { "unseen" } else { "SEEN" }))
            }
            // What the proposal carries: creator, transient map, txid and timestamp.
            "proposal_info" => {
                use ccaas_protos::common::{ChannelHeader, Header, SignatureHeader};
                use ccaas_protos::msp::SerializedIdentity;
                use ccaas_protos::protos::{ChaincodeProposalPayload, Proposal};
                use prost::Message;
                let signed = stub.signed_proposal().expect("the peer sends the proposal");
                let proposal = Proposal::decode(signed.proposal_bytes.clone()).unwrap();
                let header = Header::decode(proposal.header).unwrap();
                let channel = ChannelHeader::decode(header.channel_header).unwrap();
                let signature = SignatureHeader::decode(header.signature_header).unwrap();
                let creator = SerializedIdentity::decode(signature.creator).unwrap();
                let payload = ChaincodeProposalPayload::decode(proposal.payload).unwrap();
                let mut transient: Vec<_> =
                    payload.transient_map.iter().map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v))).collect();
                transient.sort();
                Response::success(
                    serde_json::to_vec(&json!({
                        "mspid": creator.mspid,
                        "cert": String::from_utf8_lossy(&creator.id_bytes),
                        "transient": transient,
                        "tx_id": channel.tx_id,
                        "channel_id": channel.channel_id,
                        "seconds": channel.timestamp.map(|t| t.seconds),
                        "nonce_len": signature.nonce.len(),
                    }))
                    .unwrap(),
                )
            }
            "args" => Response::success(stub.args().iter().map(|a| a.to_vec()).collect::<Vec<_>>().join(&b","[..])),
            "init_flag" => Response::success(stub.is_init().to_string()),
            other => Response::error(format!("unknown function {other}")),
        }
    }
}

impl Chaincode for Probe {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, args) = stub.function_and_parameters();
        self.run(stub, &function, &args).await
    }
}

/// A running plaintext or TLS server (the shim's own `Server`); stops when dropped.
pub struct TestServer {
    pub address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<(), ccaas_shim::server::ServerError>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// TLS settings of a test server.
pub struct ServerTls {
    pub cert_pem: String,
    pub key_pem: String,
    /// Require client certificates signed by this CA.
    pub client_ca_pem: Option<String>,
}

/// Serves `chaincode` on 127.0.0.1 (a free port) with `ccaas_shim::server::Server`.
pub async fn serve<C: Chaincode>(chaincode: C, id: &str, tls: Option<ServerTls>) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut builder = Server::builder(chaincode).chaincode_id(id);
    if let Some(tls) = tls {
        let mut config = TlsConfig::from_pem(tls.cert_pem, tls.key_pem).unwrap();
        if let Some(ca) = tls.client_ca_pem {
            config = config.with_client_ca_pem(ca).unwrap();
        }
        builder = builder.tls(config);
    }
    let server = builder.build().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_with_listener(listener, async {
        let _ = rx.await;
    }));
    TestServer { address, shutdown: Some(tx), task }
}

/// Serves `chaincode` with a bare tonic server around `ChaincodeService` (no shim server).
pub async fn serve_with_tonic<C: Chaincode>(chaincode: C, id: &str) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = ChaincodeService::new(Arc::new(chaincode), id, Drain::new());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(tonic::transport::Server::builder().add_service(service.into_server()).serve_with_incoming_shutdown(
        TcpListenerStream::new(listener),
        async {
            let _ = rx.await;
        },
    ));
    (address, tx)
}

/// Polls `condition` until it holds (no time limit of its own: the test harness's timeout applies).
pub async fn eventually(mut condition: impl FnMut() -> bool) {
    while !condition() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Bytes of a string, for raw messages.
pub fn b(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}
