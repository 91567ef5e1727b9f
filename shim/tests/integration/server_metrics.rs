//! Prometheus metrics (the `metrics` feature): a scrape after transactions driven by a hand-driven
//! peer returns the series with the values those transactions make, and the refusal and limit
//! counters move when the limits are hit. Without the feature, asking for metrics fails at
//! startup with an error that says to enable it.

use crate::server_support::*;

use ccaas_shim::server::{ConfigError, Server, ServerConfig};

#[cfg(not(feature = "metrics"))]
#[test]
fn without_the_feature_a_metrics_address_fails_at_startup_saying_to_enable_it() {
    const ADDRESS: &str = "127.0.0.1:9464";
    let env = [("CHAINCODE_ID", CHAINCODE_ID), ("CHAINCODE_METRICS_ADDRESS", ADDRESS)];
    let error = ServerConfig::from_lookup(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
        .expect_err("a metrics address without the feature must fail");
    assert!(matches!(error, ConfigError::MetricsNotBuilt { .. }), "{error:?}");
    let text = error.to_string();
    assert_eq!(
        text,
        "metrics are asked for (CHAINCODE_METRICS_ADDRESS=127.0.0.1:9464) but this chaincode was built without the \
         ccaas-shim feature `metrics`: build it with the feature (in the chaincode's Cargo.toml: ccaas-shim = { ..., \
         features = [\"metrics\"] }), or unset CHAINCODE_METRICS_ADDRESS"
    );

    let error = Server::builder(TestChaincode)
        .chaincode_id(CHAINCODE_ID)
        .metrics_address(ADDRESS.parse().unwrap())
        .build()
        .expect_err("the builder must refuse it too");
    assert!(error.to_string().contains("ServerBuilder::metrics_address=127.0.0.1:9464"), "{error}");
    assert!(error.to_string().contains("feature `metrics`"), "{error}");
}

#[cfg(feature = "metrics")]
mod enabled {
    use super::*;

    use std::net::SocketAddr;
    use std::time::Duration;

    use bytes::Bytes;
    use ccaas_protos::protos::chaincode_message::Type;
    use ccaas_protos::protos::{ChaincodeAdditionalParams, ChaincodeMessage};
    use ccaas_shim::server::{Limits, ServerError};
    use ccaas_shim::{Chaincode, ChaincodeStub, Response};
    use prost::Message;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    /// `get K` reads a key; `put K V` writes one (batched when the peer supports it); `fail`
    /// answers status 500; `sleep MS` sleeps; anything else answers `ok`.
    struct Store;

    impl Chaincode for Store {
        async fn invoke(&self, stub: &ChaincodeStub) -> Response {
            let (function, args) = stub.function_and_parameters();
            match function.as_str() {
                "get" => match stub.get_state(&args[0]).await {
                    Ok(value) => Response::success(value.unwrap_or_default()),
                    Err(e) => Response::error(e.to_string()),
                },
                "put" => {
                    let written = stub.put_state(&args[0], args[1].as_bytes().to_vec()).await;
                    match written {
                        Ok(()) => Response::success(""),
                        Err(e) => Response::error(e.to_string()),
                    }
                }
                "fail" => Response::error("failed on purpose"),
                "sleep" => {
                    tokio::time::sleep(Duration::from_millis(args[0].parse().unwrap())).await;
                    Response::success("slept")
                }
                _ => Response::success("ok"),
            }
        }
    }

    struct Serving {
        addr: SocketAddr,
        metrics: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<(), ServerError>>,
    }

    impl Serving {
        async fn stop(self) {
            let _ = self.stop.send(());
            tokio::time::timeout(Duration::from_secs(10), self.task).await.unwrap().unwrap().unwrap();
        }
    }

    async fn serve(limits: Limits) -> Serving {
        init_tracing();
        let server = Server::builder(Store)
            .chaincode_id(CHAINCODE_ID)
            .address("127.0.0.1:0".parse().unwrap())
            .metrics_address("127.0.0.1:0".parse().unwrap())
            .limits(limits)
            .build()
            .unwrap();
        let bound = server.bind().await.unwrap();
        let (addr, metrics) = (bound.local_addr(), bound.metrics_addr().expect("the metrics address is bound"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.serve_with_shutdown(async move {
            let _ = stopped.await;
        }));
        Serving { addr, metrics, stop, task }
    }

    /// `GET path` over HTTP/1.1: the status line, the headers and the body.
    async fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut response))
            .await
            .expect("the scrape hung")
            .unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        (status.to_string(), headers.to_lowercase(), body.to_string())
    }

    async fn scrape(addr: SocketAddr) -> String {
        let (status, headers, body) = get(addr, "/metrics").await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("content-type: text/plain; version=0.0.4"), "{headers}");
        body
    }

    /// The value of `series` (name and labels, as the text format writes them) in a scrape.
    fn value(scrape: &str, series: &str) -> f64 {
        scrape
            .lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {series} in the scrape:\n{scrape}"))
            .parse()
            .unwrap()
    }

    /// REGISTER ←, REGISTERED →, READY → advertising write batching (a Fabric 3.1 peer).
    async fn handshake_with_batching(peer: &mut PeerStream) {
        assert_eq!(peer.recv().await.unwrap().r#type, Type::Register as i32);
        peer.send(message(Type::Registered, "", Bytes::new())).await;
        let params =
            ChaincodeAdditionalParams { use_write_batch: true, max_size_write_batch: 100, ..Default::default() };
        peer.send(message(Type::Ready, "", Bytes::from(params.encode_to_vec()))).await;
    }

    /// Answers the chaincode's next request (which must be `kind`) with RESPONSE `payload`.
    async fn answer(peer: &mut PeerStream, kind: Type, payload: &'static [u8]) -> ChaincodeMessage {
        let request = peer.recv().await.unwrap();
        assert_eq!(request.r#type, kind as i32, "{request:?}");
        peer.send(message(Type::Response, &request.txid, Bytes::from_static(payload))).await;
        request
    }

    #[tokio::test]
    async fn a_scrape_after_transactions_returns_their_series() {
        let serving = serve(Limits::default()).await;
        let before = scrape(serving.metrics).await;
        assert_eq!(value(&before, "chaincode_connections_open"), 0.0);
        assert_eq!(value(&before, "chaincode_limits_hit_total{limit=\"max_connections\"}"), 0.0);
        assert!(!before.contains("chaincode_transactions_total{"), "no transaction yet:\n{before}");

        let mut peer = PeerStream::connect(plaintext_channel(serving.addr).await.unwrap()).await.unwrap();
        handshake_with_batching(&mut peer).await;
        for txid in ["e1", "e2"] {
            peer.transaction(txid, &["echo"]).await;
            assert_eq!(completed_response(&peer.recv().await.unwrap()).status, 200);
        }
        peer.transaction("f1", &["fail"]).await;
        assert_eq!(completed_response(&peer.recv().await.unwrap()).status, 500);
        peer.transaction("g1", &["get", "k"]).await;
        answer(&mut peer, Type::GetState, b"v").await;
        assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, &b"v"[..]);
        // Two writes, one batch: WRITE_BATCH_STATE before COMPLETED.
        peer.transaction("p1", &["put", "k", "v2"]).await;
        answer(&mut peer, Type::WriteBatchState, b"").await;
        assert_eq!(completed_response(&peer.recv().await.unwrap()).status, 200);
        // One still running while the scrape is taken.
        peer.transaction("s1", &["sleep", "1000"]).await;
        tokio::time::sleep(Duration::from_millis(100)).await;

        let text = scrape(serving.metrics).await;
        let series = |name: &str| value(&text, name);
        assert_eq!(series("chaincode_transactions_total{function=\"echo\",outcome=\"success\"}"), 2.0);
        assert_eq!(series("chaincode_transactions_total{function=\"echo\",outcome=\"error\"}"), 0.0);
        assert_eq!(series("chaincode_transactions_total{function=\"fail\",outcome=\"error\"}"), 1.0);
        assert_eq!(series("chaincode_transactions_total{function=\"get\",outcome=\"success\"}"), 1.0);
        assert_eq!(series("chaincode_transactions_total{function=\"put\",outcome=\"success\"}"), 1.0);
        assert_eq!(series("chaincode_transaction_duration_seconds_count{function=\"echo\"}"), 2.0);
        assert_eq!(series("chaincode_transaction_duration_seconds_bucket{function=\"echo\",le=\"+Inf\"}"), 2.0);
        assert!(series("chaincode_transaction_duration_seconds_sum{function=\"echo\"}") > 0.0);
        assert_eq!(series("chaincode_transactions_in_flight"), 1.0);
        assert_eq!(series("chaincode_stub_requests_total{type=\"GET_STATE\"}"), 1.0);
        assert_eq!(series("chaincode_stub_requests_total{type=\"WRITE_BATCH_STATE\"}"), 1.0);
        assert!(!text.contains("type=\"PUT_STATE\""), "the write went in the batch:\n{text}");
        assert_eq!(series("chaincode_write_batches_total"), 1.0);
        assert_eq!(series("chaincode_write_batch_records_total"), 1.0);
        assert_eq!(series("chaincode_connections_open"), 1.0);
        assert_eq!(series("chaincode_connections_ready"), 1.0);
        assert!(text.contains("# TYPE chaincode_transaction_duration_seconds histogram"), "{text}");

        assert_eq!(completed_response(&peer.recv().await.unwrap()).payload, &b"slept"[..]);
        drop(peer);
        // The connection closes when the peer goes away; its gauges come back down.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let text = scrape(serving.metrics).await;
            // The socket and the chaincode stream end in their own tasks, in either order.
            if value(&text, "chaincode_connections_open") == 0.0 && value(&text, "chaincode_connections_ready") == 0.0 {
                assert_eq!(value(&text, "chaincode_transactions_in_flight"), 0.0);
                assert_eq!(value(&text, "chaincode_transaction_duration_seconds_count{function=\"sleep\"}"), 1.0);
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the connection is still counted open or ready:\n{text}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let (status, _, body) = get(serving.metrics, "/").await;
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        assert_eq!(body, "not found: the metrics are at /metrics\n");
        serving.stop().await;
    }

    #[tokio::test]
    async fn refusal_and_limit_counters_move_when_limits_are_hit() {
        let limits = Limits {
            max_connections: 1,
            max_ready_connections: 1,
            handshake_timeout: Duration::from_millis(300),
            max_transactions_per_connection: 1,
            transaction_timeout: Duration::from_millis(200),
        };
        let serving = serve(limits).await;
        let mut peer = PeerStream::connect(plaintext_channel(serving.addr).await.unwrap()).await.unwrap();
        peer.handshake().await;

        // The transaction limit: a second transaction while one runs is refused; the running one
        // passes the transaction timeout and is cancelled.
        peer.transaction("t1", &["sleep", "5000"]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.transaction("t2", &["echo"]).await;
        let refused = peer.recv().await.unwrap();
        assert_eq!((refused.r#type, refused.txid.as_str()), (Type::Error as i32, "t2"));
        let cancelled = peer.recv().await.unwrap();
        assert_eq!((cancelled.r#type, cancelled.txid.as_str()), (Type::Error as i32, "t1"));

        // The limit of connections in their handshake (1; the peer's is ready): a silent
        // connection takes the place, the next one closes it to get in, and is itself closed at
        // the handshake deadline.
        let _evicted = TcpStream::connect(serving.addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let silent = TcpStream::connect(serving.addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;

        let text = scrape(serving.metrics).await;
        let series = |name: &str| value(&text, name);
        assert_eq!(series("chaincode_limits_hit_total{limit=\"max_transactions\"}"), 1.0);
        assert_eq!(series("chaincode_limits_hit_total{limit=\"transaction_timeout\"}"), 1.0);
        assert_eq!(series("chaincode_transactions_total{function=\"sleep\",outcome=\"timeout\"}"), 1.0);
        assert!(!text.contains("function=\"echo\""), "the refused transaction never ran:\n{text}");
        assert_eq!(series("chaincode_connections_refused_total{reason=\"max_connections\"}"), 1.0);
        assert_eq!(series("chaincode_limits_hit_total{limit=\"max_connections\"}"), 1.0);
        assert_eq!(series("chaincode_connections_refused_total{reason=\"handshake_timeout\"}"), 1.0);
        assert_eq!(series("chaincode_limits_hit_total{limit=\"handshake_timeout\"}"), 1.0);
        assert_eq!(series("chaincode_connections_refused_total{reason=\"tls_handshake\"}"), 0.0);
        assert_eq!(series("chaincode_connections_open"), 1.0, "only the peer's connection is left");
        assert_eq!(series("chaincode_connections_ready"), 1.0);
        drop(silent);
        serving.stop().await;
    }

    #[test]
    fn the_environment_names_the_metrics_address() {
        let env = [("CHAINCODE_ID", CHAINCODE_ID), ("CHAINCODE_METRICS_ADDRESS", ":9464")];
        let config =
            ServerConfig::from_lookup(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())).unwrap();
        assert_eq!(config.metrics_address, Some("0.0.0.0:9464".parse().unwrap()));
        let env = [("CHAINCODE_ID", CHAINCODE_ID), ("CHAINCODE_METRICS_ADDRESS", "9464")];
        let error = ServerConfig::from_lookup(|name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
            .expect_err("a port alone is not an address");
        assert!(matches!(error, ConfigError::InvalidAddress { variable: "CHAINCODE_METRICS_ADDRESS", .. }), "{error}");
    }
}
