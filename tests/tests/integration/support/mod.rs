//! Test chaincodes and servers shared by the integration tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ccaas_shim::server::{Server, TlsConfig};
use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use serde_json::json;
use tokio::sync::{oneshot, Notify};

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
            // Walks a range and reads another key for every row, between the iterator's batch fetches.
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
            // range_wait_write start end n key value: reads n rows of the range (`all`: to its end),
            // closes it, waits like read_wait_write, then writes.
            "range_wait_write" => {
                let mut rows = tri!(stub.get_state_by_range(&args[0], &args[1]).await);
                let limit = args[2].parse().unwrap_or(usize::MAX);
                let mut read = 0;
                while read < limit && tri!(rows.next().await).is_some() {
                    read += 1;
                }
                tri!(rows.close().await);
                self.waiting.notify_one();
                self.gate.notified().await;
                tri!(stub.put_state(&args[3], args[4].clone()).await);
                Response::success(read.to_string())
            }
            // pread_wait_write collection key out value: a private read, then as read_wait_write.
            "pread_wait_write" => {
                tri!(stub.get_private_data(&args[0], &args[1]).await);
                self.waiting.notify_one();
                self.gate.notified().await;
                tri!(stub.put_state(&args[2], args[3].clone()).await);
                Response::success("")
            }
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

/// Polls `condition` until it holds (no time limit of its own: the test harness's timeout applies).
pub async fn eventually(mut condition: impl FnMut() -> bool) {
    while !condition() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

// ---------------------------------------------------------------------- the complete stub

/// A chaincode exercising the whole `ChaincodeStub`; every function answers JSON (or fails with
/// the stub's error as status 500).
#[derive(Clone, Default)]
pub struct StubProbe;

fn text(value: Option<Bytes>) -> serde_json::Value {
    match value {
        Some(v) => json!(String::from_utf8_lossy(&v)),
        None => serde_json::Value::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ok(value: serde_json::Value) -> Response {
    Response::success(serde_json::to_vec(&value).unwrap())
}

fn metadata_json(metadata: std::collections::HashMap<String, Bytes>) -> serde_json::Value {
    let sorted: std::collections::BTreeMap<String, String> =
        metadata.into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect();
    json!(sorted)
}

fn policy_orgs(policy: Option<Bytes>) -> serde_json::Value {
    match policy {
        None => serde_json::Value::Null,
        Some(bytes) => json!(ccaas_shim::policy::KeyEndorsementPolicy::from_bytes(&bytes).unwrap().list_orgs()),
    }
}

fn policy_bytes(role: &str, orgs: &[String]) -> Vec<u8> {
    let mut policy = ccaas_shim::policy::KeyEndorsementPolicy::new();
    let orgs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    policy.add_orgs(role, &orgs).unwrap();
    policy.policy().unwrap()
}

async fn keys_of(iterator: ccaas_shim::StateIterator) -> ccaas_shim::Result<serde_json::Value> {
    let rows = iterator.collect_all().await?;
    Ok(json!(rows
        .iter()
        .map(|kv| json!({"ns": kv.namespace, "key": kv.key.escape_debug().to_string(), "value": String::from_utf8_lossy(&kv.value)}))
        .collect::<Vec<_>>()))
}

fn page_json(rows: serde_json::Value, page: ccaas_shim::PageInfo) -> serde_json::Value {
    json!({"rows": rows, "count": page.fetched_records_count, "bookmark": page.bookmark})
}

impl StubProbe {
    /// One step of a `script`: `put:k=v`, `del:k`, `pput:coll:k=v`, `pdel:coll:k`, `purge:coll:k`,
    /// `meta:k:metakey=v`, `pmeta:coll:k:metakey=v`, `get:k`, `pget:coll:k`, `mget:k1,k2`,
    /// `pmget:coll:k1,k2`, `start`, `finish`, `many:prefix:n` (puts prefix0..prefixN),
    /// `range:start:end:n:yields` (takes n rows, then yields to the runtime `yields` times before
    /// dropping the iterator), `page:size` (a paginated range over everything), `prange:coll`
    /// (a private range over everything), `try:STEP` (runs STEP and answers `ok` or its error
    /// instead of failing), `fail:text` (fails the script), `range_hold:ms` (takes one row of a range over
    /// everything, then sleeps holding the iterator; `range_hold:panic` panics holding it).
    async fn step(stub: &ChaincodeStub, step: &str, out: &mut Vec<serde_json::Value>) -> ccaas_shim::Result<()> {
        let (op, rest) = step.split_once(':').unwrap_or((step, ""));
        let kv = |s: &str| s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap();
        match op {
            "put" => {
                let (k, v) = kv(rest);
                stub.put_state(&k, v).await?
            }
            "del" => stub.del_state(rest).await?,
            "pput" => {
                let (coll, rest) = rest.split_once(':').unwrap();
                let (k, v) = kv(rest);
                stub.put_private_data(coll, &k, v).await?
            }
            "pdel" => {
                let (coll, k) = rest.split_once(':').unwrap();
                stub.del_private_data(coll, k).await?
            }
            "purge" => {
                let (coll, k) = rest.split_once(':').unwrap();
                stub.purge_private_data(coll, k).await?
            }
            "meta" => {
                let (k, rest) = rest.split_once(':').unwrap();
                let (mk, v) = kv(rest);
                stub.put_state_metadata(k, &mk, v).await?
            }
            "pmeta" => {
                let mut parts = rest.splitn(3, ':');
                let (coll, k) = (parts.next().unwrap(), parts.next().unwrap());
                let (mk, v) = kv(parts.next().unwrap());
                stub.put_private_data_metadata(coll, k, &mk, v).await?
            }
            "get" => out.push(text(stub.get_state(rest).await?)),
            "pget" => {
                let (coll, k) = rest.split_once(':').unwrap();
                out.push(text(stub.get_private_data(coll, k).await?))
            }
            "mget" => {
                let keys: Vec<&str> = rest.split(',').collect();
                let values = stub.get_multiple_states(&keys).await?;
                out.push(json!(values.into_iter().map(text).collect::<Vec<_>>()))
            }
            "pmget" => {
                let (coll, keys) = rest.split_once(':').unwrap();
                let keys: Vec<&str> = keys.split(',').collect();
                let values = stub.get_multiple_private_data(coll, &keys).await?;
                out.push(json!(values.into_iter().map(text).collect::<Vec<_>>()))
            }
            "mgetn" => {
                // mgetn:prefix:n reads prefix0..prefix{n-1} at once and reports how many exist.
                let (prefix, n) = rest.split_once(':').unwrap();
                let keys: Vec<String> = (0..n.parse::<usize>().unwrap()).map(|i| format!("{prefix}{i}")).collect();
                let values = stub.get_multiple_states(&keys).await?;
                out.push(json!(values.iter().filter(|v| v.is_some()).count()))
            }
            "many" => {
                let (prefix, n) = rest.split_once(':').unwrap();
                for i in 0..n.parse::<usize>().unwrap() {
                    stub.put_state(&format!("{prefix}{i}"), format!("v{i}")).await?;
                }
            }
            "range" => {
                let parts: Vec<&str> = rest.splitn(4, ':').collect();
                let (take, yields): (usize, usize) = (parts[2].parse().unwrap(), parts[3].parse().unwrap());
                let mut rows = stub.get_state_by_range(parts[0], parts[1]).await?;
                let mut taken = 0;
                while taken < take && rows.next().await?.is_some() {
                    taken += 1;
                }
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                out.push(json!(taken))
            }
            "page" => {
                let (rows, page) = stub.get_state_by_range_with_pagination("", "", rest.parse().unwrap(), "").await?;
                drop(rows);
                out.push(json!(page.fetched_records_count))
            }
            "prange" => {
                let rows = stub.get_private_data_by_range(rest, "", "").await?.collect_all().await?;
                out.push(json!(rows.len()))
            }
            "try" => match Box::pin(Self::step(stub, rest, out)).await {
                Ok(()) => out.push(json!("ok")),
                Err(e) => out.push(json!({ "error": e.to_string() })),
            },
            "fail" => return Err(ccaas_shim::ShimError::InvalidArgument(rest.to_string())),
            "range_hold" => {
                let mut rows = stub.get_state_by_range("", "").await?;
                rows.next().await?;
                if rest == "panic" {
                    panic!("boom with an open iterator");
                }
                tokio::time::sleep(std::time::Duration::from_millis(rest.parse().unwrap())).await;
                drop(rows);
            }
            "start" => stub.start_write_batch(),
            "finish" => stub.finish_write_batch().await?,
            other => panic!("unknown step {other}"),
        }
        Ok(())
    }

    async fn run(&self, stub: &ChaincodeStub, function: &str, args: &[String]) -> Response {
        match function {
            // Runs `script` steps in order; answers the reads.
            "script" => {
                let mut out = Vec::new();
                for step in args {
                    tri!(Self::step(stub, step, &mut out).await);
                }
                ok(json!(out))
            }
            // ------------------------------------------------------------ private data
            "pput" => {
                tri!(stub.put_private_data(&args[0], &args[1], args[2].clone()).await);
                ok(json!(null))
            }
            "pput_transient" => {
                let value = stub.transient().get(&args[2]).cloned().unwrap_or_default();
                tri!(stub.put_private_data(&args[0], &args[1], value).await);
                ok(json!(null))
            }
            "pget" => ok(text(tri!(stub.get_private_data(&args[0], &args[1]).await))),
            "phash" => ok(json!(tri!(stub.get_private_data_hash(&args[0], &args[1]).await).map(|h| hex(&h)))),
            "pdel" => {
                tri!(stub.del_private_data(&args[0], &args[1]).await);
                ok(json!(null))
            }
            "ppurge" => {
                tri!(stub.purge_private_data(&args[0], &args[1]).await);
                ok(json!(null))
            }
            // Writes, then reads the same private key: not visible before commit.
            "pput_then_get" => {
                tri!(stub.put_private_data(&args[0], &args[1], args[2].clone()).await);
                let seen = tri!(stub.get_private_data(&args[0], &args[1]).await);
                let hash = tri!(stub.get_private_data_hash(&args[0], &args[1]).await);
                ok(json!({"value": text(seen), "hash": hash.map(|h| hex(&h))}))
            }
            "prange" => {
                ok(tri!(keys_of(tri!(stub.get_private_data_by_range(&args[0], &args[1], &args[2]).await)).await))
            }
            "ppartial" => ok(tri!(
                keys_of(tri!(stub.get_private_data_by_partial_composite_key(&args[0], &args[1], &args[2..]).await))
                    .await
            )),
            "prich" => ok(tri!(keys_of(tri!(stub.get_private_data_query_result(&args[0], &args[1]).await)).await)),
            "pput_composite" => {
                let key = tri!(stub.create_composite_key(&args[1], &args[2..args.len() - 1]));
                tri!(stub.put_private_data(&args[0], &key, args[args.len() - 1].clone()).await);
                ok(json!(null))
            }
            "prange_then_put" => {
                tri!(keys_of(tri!(stub.get_private_data_by_range(&args[0], "", "").await)).await);
                tri!(stub.put_state("after", "query").await);
                ok(json!(null))
            }
            "put_then_prange" => {
                tri!(stub.put_state("before", "query").await);
                ok(tri!(keys_of(tri!(stub.get_private_data_by_range(&args[0], "", "").await)).await))
            }
            "pmeta_put" => {
                tri!(stub.put_private_data_metadata(&args[0], &args[1], &args[2], args[3].clone()).await);
                ok(json!(null))
            }
            "pmeta_get" => ok(metadata_json(tri!(stub.get_private_data_metadata(&args[0], &args[1]).await))),
            "pvp_set" => {
                let policy = policy_bytes("MEMBER", &args[2..]);
                tri!(stub.set_private_data_validation_parameter(&args[0], &args[1], policy).await);
                ok(json!(null))
            }
            "pvp_get" => ok(policy_orgs(tri!(stub.get_private_data_validation_parameter(&args[0], &args[1]).await))),
            // ------------------------------------------------------------ state metadata
            "put" => {
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                ok(json!(null))
            }
            "get" => ok(text(tri!(stub.get_state(&args[0]).await))),
            "meta_put" => {
                tri!(stub.put_state_metadata(&args[0], &args[1], args[2].clone()).await);
                ok(json!(null))
            }
            "meta_get" => ok(metadata_json(tri!(stub.get_state_metadata(&args[0]).await))),
            // vp_set key role org...: a key-level endorsement policy built with KeyEndorsementPolicy.
            "vp_set" => {
                let policy = policy_bytes(&args[1], &args[2..]);
                tri!(stub.set_state_validation_parameter(&args[0], policy).await);
                ok(json!(null))
            }
            "vp_get" => ok(policy_orgs(tri!(stub.get_state_validation_parameter(&args[0]).await))),
            // Reads the policy, adds an org and writes it back (the Go samples' pattern).
            "vp_add" => {
                let current = tri!(stub.get_state_validation_parameter(&args[0]).await).unwrap_or_default();
                let mut policy = ccaas_shim::policy::KeyEndorsementPolicy::from_bytes(&current).unwrap();
                policy.add_orgs("PEER", &[args[1].as_str()]).unwrap();
                tri!(stub.set_state_validation_parameter(&args[0], policy.policy().unwrap()).await);
                ok(json!(null))
            }
            // ------------------------------------------------------------ pagination
            "page_range" => {
                let size: i32 = args[2].parse().unwrap();
                let (it, page) =
                    tri!(stub.get_state_by_range_with_pagination(&args[0], &args[1], size, &args[3]).await);
                ok(page_json(tri!(keys_of(it).await), page))
            }
            "page_partial" => {
                let size: i32 = args[1].parse().unwrap();
                let (it, page) = tri!(
                    stub.get_state_by_partial_composite_key_with_pagination(&args[0], &args[3..], size, &args[2]).await
                );
                ok(page_json(tri!(keys_of(it).await), page))
            }
            "page_all_composite" => {
                let size: i32 = args[0].parse().unwrap();
                let (it, page) = tri!(stub.get_all_states_composite_key_with_pagination(size, &args[1]).await);
                ok(page_json(tri!(keys_of(it).await), page))
            }
            "page_rich" => {
                let size: i32 = args[1].parse().unwrap();
                let (it, page) = tri!(stub.get_query_result_with_pagination(&args[0], size, &args[2]).await);
                ok(page_json(tri!(keys_of(it).await), page))
            }
            "page_then_put" => {
                let (it, _) = tri!(stub.get_state_by_range_with_pagination("", "", 2, "").await);
                tri!(keys_of(it).await);
                tri!(stub.put_state("after", "page").await);
                ok(json!(null))
            }
            "put_then_page" => {
                tri!(stub.put_state("before", "page").await);
                let (it, _) = tri!(stub.get_state_by_range_with_pagination("", "", 2, "").await);
                ok(tri!(keys_of(it).await))
            }
            "put_composite" => {
                let key = tri!(stub.create_composite_key(&args[0], &args[1..args.len() - 1]));
                tri!(stub.put_state(&key, args[args.len() - 1].clone()).await);
                ok(json!(null))
            }
            // ------------------------------------------------------------ proposal data
            "proposal" => {
                let identity = stub.client_identity();
                let decorations: std::collections::BTreeMap<_, _> = stub
                    .decorations()
                    .iter()
                    .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                let transient: std::collections::BTreeMap<_, _> = stub
                    .transient()
                    .iter()
                    .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                let timestamp = stub.tx_timestamp();
                ok(json!({
                    "tx_id": stub.tx_id(),
                    "channel_id": stub.channel_id(),
                    "msp_id": identity.as_ref().map(|i| i.msp_id().to_string()).ok(),
                    "id": identity.as_ref().ok().and_then(|i| i.id().ok()),
                    "decoded_id": identity.as_ref().ok().and_then(|i| i.decoded_id().ok()),
                    "creator": hex(stub.creator()),
                    "binding": hex(stub.binding()),
                    "transient": transient,
                    "decorations": decorations,
                    "seconds": timestamp.map(|t| t.seconds),
                    "nanos": timestamp.map(|t| t.nanos),
                    "peer_msp_id": stub.peer_msp_id().map(str::to_string).map_err(|e| e.to_string()).unwrap_or_else(|e| e),
                    "is_init": stub.is_init(),
                    "args": stub.string_args(),
                }))
            }
            // event name payload [name payload ...]: each replaces the previous one.
            "events" => {
                for pair in args.chunks(2) {
                    tri!(stub.set_event(pair[0].clone(), pair[1].clone()));
                }
                ok(json!(null))
            }
            "empty_event" => ok(json!(stub.set_event("", "x").unwrap_err().to_string())),
            // ------------------------------------------------------------ chaincode to chaincode
            // call name channel args...: answers the callee's response as JSON (status 200).
            "call" => {
                let response = stub.invoke_chaincode(&args[0], &args[2..], &args[1]).await;
                ok(json!({
                    "status": response.status,
                    "message": response.message,
                    "payload": String::from_utf8_lossy(&response.payload),
                }))
            }
            // call_then_put name channel key value args...: calls, then writes a key of its own.
            "call_then_put" => {
                let response = stub.invoke_chaincode(&args[0], &args[4..], &args[1]).await;
                tri!(stub.put_state(&args[2], args[3].clone()).await);
                tri!(stub.set_event("caller", "event"));
                ok(json!({"status": response.status, "payload": String::from_utf8_lossy(&response.payload)}))
            }
            // call_passthrough name channel args...: answers the callee's response as is.
            "call_passthrough" => stub.invoke_chaincode(&args[0], &args[2..], &args[1]).await,
            "fail" => Response::error(args.first().cloned().unwrap_or_else(|| "failed on purpose".into())),
            "put_then_fail" => {
                tri!(stub.put_state(&args[0], args[1].clone()).await);
                Response::error("callee failed after writing")
            }
            other => Response::error(format!("unknown function {other}")),
        }
    }
}

impl Chaincode for StubProbe {
    async fn init(&self, stub: &ChaincodeStub) -> Response {
        self.invoke(stub).await
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, args) = stub.function_and_parameters();
        self.run(stub, &function, &args).await
    }
}

/// The JSON payload of an outcome.
pub fn payload_json(outcome: &ccaas_testkit::TxOutcome) -> serde_json::Value {
    assert_eq!(outcome.status(), 200, "{}", outcome.response.message);
    serde_json::from_slice(&outcome.response.payload).unwrap()
}

/// Hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    hex(bytes)
}

// ---------------------------------------------------------------------- raw protocol

/// The chaincode's end of a raw connection: the test plays the chaincode with raw messages.
pub struct RawChaincode {
    pub tx: tokio::sync::mpsc::Sender<Result<ccaas_protos::protos::ChaincodeMessage, tonic::Status>>,
    pub rx: tokio::sync::mpsc::Receiver<ccaas_protos::protos::ChaincodeMessage>,
}

impl RawChaincode {
    /// Registers as `raw:1` with an emulator configured by `builder`.
    pub async fn connect(builder: ccaas_testkit::EmulatorBuilder) -> (ccaas_testkit::PeerEmulator, RawChaincode) {
        use ccaas_protos::protos::{chaincode_message::Type, ChaincodeId};
        use prost::Message;
        let (to_chaincode, rx) = tokio::sync::mpsc::channel(64);
        let (tx, from_chaincode) = tokio::sync::mpsc::channel(64);
        let connecting = tokio::spawn(
            builder
                .chaincode_id("raw:1")
                .connect_stream(to_chaincode, tokio_stream::wrappers::ReceiverStream::new(from_chaincode)),
        );
        let mut raw = RawChaincode { tx, rx };
        let id = ChaincodeId { name: "raw:1".into(), ..Default::default() };
        raw.send(Type::Register, "", "", id.encode_to_vec()).await;
        assert_eq!(raw.recv().await.r#type, Type::Registered as i32);
        assert_eq!(raw.recv().await.r#type, Type::Ready as i32);
        (connecting.await.unwrap().unwrap(), raw)
    }

    pub async fn send(
        &self,
        kind: ccaas_protos::protos::chaincode_message::Type,
        txid: &str,
        channel: &str,
        payload: impl Into<Bytes>,
    ) {
        let message = ccaas_protos::protos::ChaincodeMessage {
            r#type: kind as i32,
            payload: payload.into(),
            txid: txid.into(),
            channel_id: channel.into(),
            ..Default::default()
        };
        self.tx.send(Ok(message)).await.unwrap();
    }

    pub async fn recv(&mut self) -> ccaas_protos::protos::ChaincodeMessage {
        self.rx.recv().await.expect("the peer closed the stream")
    }

    /// Starts `tx` on the peer; returns it with the TRANSACTION (or INIT) message received.
    pub async fn start(
        &mut self,
        tx: ccaas_testkit::TxBuilder,
    ) -> (
        tokio::task::JoinHandle<Result<ccaas_testkit::TxOutcome, ccaas_testkit::EmulatorError>>,
        ccaas_protos::protos::ChaincodeMessage,
    ) {
        let task = tokio::spawn(tx.submit());
        let message = self.recv().await;
        (task, message)
    }

    /// Sends a request of the transaction and returns the peer's reply.
    pub async fn request(
        &mut self,
        tx: &ccaas_protos::protos::ChaincodeMessage,
        kind: ccaas_protos::protos::chaincode_message::Type,
        payload: impl Into<Bytes>,
    ) -> ccaas_protos::protos::ChaincodeMessage {
        self.send(kind, &tx.txid, &tx.channel_id, payload).await;
        self.recv().await
    }

    pub async fn complete(&self, tx: &ccaas_protos::protos::ChaincodeMessage, status: i32) {
        use prost::Message;
        let response = ccaas_protos::protos::Response { status, message: String::new(), payload: Bytes::new() };
        self.send(
            ccaas_protos::protos::chaincode_message::Type::Completed,
            &tx.txid,
            &tx.channel_id,
            response.encode_to_vec(),
        )
        .await;
    }
}

/// The asset-transfer-basic example's contract in a chaincode, as its binary serves it.
pub fn asset_transfer_basic() -> ccaas_shim::contract::ContractChaincode {
    ccaas_shim::contract::ContractChaincode::new().contract(asset_transfer_basic::SmartContract)
}
