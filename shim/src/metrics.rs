//! Opt-in Prometheus metrics: what the server and its transactions did, counted where it happens
//! and served in the Prometheus text format on their own address (`CHAINCODE_METRICS_ADDRESS`,
//! [`ServerBuilder::metrics_address`](crate::server::ServerBuilder::metrics_address)).
//!
//! Built only with the shim's `metrics` feature. Without it [`Metrics`] and its guards are empty
//! types whose methods do nothing, so the hooks in the server and the handler compile away; with
//! it and no address configured, every hook is one check of an empty `Option`.
//!
//! The series (docs/reliability.md shows a scrape):
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `chaincode_transactions_total` | counter | `function`, `outcome` | transactions (INIT and TRANSACTION) finished |
//! | `chaincode_transaction_duration_seconds` | histogram | `function` | from the peer's message to the chaincode's answer |
//! | `chaincode_transactions_in_flight` | gauge | | transactions running now |
//! | `chaincode_stub_requests_total` | counter | `type` | requests to the peer (`GET_STATE`, `PUT_STATE`, ...) |
//! | `chaincode_write_batches_total` | counter | | write batches sent (each one or more `WRITE_BATCH_STATE`) |
//! | `chaincode_write_batch_records_total` | counter | | writes sent in those batches |
//! | `chaincode_connections_open` | gauge | | accepted connections not yet closed |
//! | `chaincode_connections_ready` | gauge | | chaincode streams past READY |
//! | `chaincode_connections_refused_total` | counter | `reason` | connections closed before they were ready |
//! | `chaincode_limits_hit_total` | counter | `limit` | times a [`Limits`](crate::server::Limits) limit (or the message size) refused something |
//!
//! `outcome` is `success` (status below 400), `error` (the chaincode's response had status 400 or
//! more, or it panicked), `failed` (the shim answered ERROR: bad input, a failed write batch, a
//! result over the message size), `timeout` (cancelled at the transaction timeout) or `aborted`
//! (stopped at the shutdown deadline). `function` is the transaction's first argument; to bound
//! the series a hostile client can create, names longer than 64 bytes or not UTF-8, and names
//! after the first 100, count as `_other`.

#[cfg(feature = "metrics")]
pub(crate) use enabled::*;

#[cfg(not(feature = "metrics"))]
pub(crate) use disabled::*;

/// Why a connection was closed before it became a ready chaincode stream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    /// Closed, still in its handshake, to admit a new connection at `max_connections`.
    MaxConnections,
    /// It was not ready within `handshake_timeout`.
    HandshakeTimeout,
    /// Its TLS handshake failed.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
}

/// A limit that refused or cut something (other than a connection: see [`Refusal`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// A TRANSACTION or INIT refused at `max_transactions_per_connection`.
    MaxTransactions,
    /// A transaction cancelled at `transaction_timeout`.
    TransactionTimeout,
    /// A message over [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE), either way.
    MessageSize,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Success,
    Error,
    Failed,
    Timeout,
}

#[cfg(not(feature = "metrics"))]
mod disabled {
    use ccaas_protos::protos::chaincode_message::Type;

    use super::{Limit, Outcome, Refusal};

    /// Without the `metrics` feature: nothing, and every hook does nothing.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Metrics(());

    /// Held while a connection is open (nothing without the feature).
    pub(crate) struct Open;
    /// Held while a chaincode stream is ready (nothing without the feature).
    pub(crate) struct Ready;
    /// Held while a transaction runs (nothing without the feature).
    pub(crate) struct Transaction;

    impl Metrics {
        #[inline(always)]
        pub(crate) fn connection_open(&self) -> Open {
            Open
        }
        #[inline(always)]
        pub(crate) fn connection_ready(&self) -> Ready {
            Ready
        }
        #[inline(always)]
        pub(crate) fn connection_refused(&self, _reason: Refusal) {}
        #[inline(always)]
        pub(crate) fn limit_hit(&self, _limit: Limit) {}
        #[inline(always)]
        pub(crate) fn transaction(&self, _function: Option<&[u8]>) -> Transaction {
            Transaction
        }
        #[inline(always)]
        pub(crate) fn stub_request(&self, _kind: Type) {}
        #[inline(always)]
        pub(crate) fn write_batch(&self, _records: usize) {}
    }

    impl Transaction {
        #[inline(always)]
        pub(crate) fn finish(self, _outcome: Outcome) {}
    }
}

#[cfg(feature = "metrics")]
mod enabled {
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::sync::{Arc, RwLock};
    use std::time::{Duration, Instant};

    use ccaas_protos::protos::chaincode_message::Type;
    use http::{header, Method, Request, Response, StatusCode};
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use prometheus_client::encoding::prometheus_text;
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::Registry;
    use tokio::net::TcpListener;
    use tokio::sync::Semaphore;
    use tokio_util::sync::CancellationToken;
    use tracing::{debug, warn};

    use super::{Limit, Outcome, Refusal};

    /// Where the scrape is served.
    pub(crate) const PATH: &str = "/metrics";
    /// Function names beyond this many count as [`OTHER`].
    const MAX_FUNCTIONS: usize = 100;
    /// Longer function names count as [`OTHER`].
    const MAX_FUNCTION_LEN: usize = 64;
    /// The `function` label of the names not counted by their own.
    const OTHER: &str = "_other";
    /// Scrapes served at once; more connections wait for a slot.
    const MAX_SCRAPERS: usize = 8;
    /// How long a scraper may take to send its request headers.
    const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// The transaction durations' buckets, in seconds: a ReadAsset takes tens of microseconds of
    /// the chaincode's time and a round trip to the peer; the timeout is 30 s.
    const BUCKETS: [f64; 15] =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
    // The label values, in the order of the arrays of counters they index.
    const OUTCOMES: [&str; 4] = ["success", "error", "failed", "timeout"];
    const REFUSALS: [&str; 3] = ["max_connections", "handshake_timeout", "tls_handshake"];
    const LIMITS: [&str; 5] =
        ["max_connections", "handshake_timeout", "max_transactions", "transaction_timeout", "message_size"];

    type Labels = [(&'static str, Cow<'static, str>); 1];
    type TxLabels = [(&'static str, Cow<'static, str>); 2];
    type StaticLabels = [(&'static str, &'static str); 1];

    /// The server's metrics, or none when no metrics address is configured.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Metrics(Option<Arc<Series>>);

    /// Every series, and the registry that encodes them.
    #[derive(Debug)]
    struct Series {
        registry: Registry,
        transactions: Family<TxLabels, Counter>,
        durations: Family<Labels, Histogram, fn() -> Histogram>,
        /// Each function's series, found without allocating.
        functions: RwLock<HashMap<Box<str>, Arc<FunctionSeries>>>,
        in_flight: Gauge,
        stub_requests: Family<StaticLabels, Counter>,
        write_batches: Counter,
        write_batch_records: Counter,
        open: Gauge,
        ready: Gauge,
        refused: [Counter; 3],
        limits: [Counter; 5],
    }

    /// One function's series.
    #[derive(Debug)]
    struct FunctionSeries {
        outcomes: [Counter; 4],
        aborted: Counter,
        duration: Histogram,
    }

    fn duration_histogram() -> Histogram {
        Histogram::new(BUCKETS)
    }

    impl Series {
        fn new() -> Self {
            let mut registry = Registry::default();
            let transactions = Family::<TxLabels, Counter>::default();
            registry.register(
                "chaincode_transactions",
                "Transactions (INIT and TRANSACTION) finished, by function and outcome",
                transactions.clone(),
            );
            let durations = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram);
            registry.register(
                "chaincode_transaction_duration_seconds",
                "Time from the peer's TRANSACTION or INIT to the chaincode's answer, by function",
                durations.clone(),
            );
            let in_flight = Gauge::default();
            registry.register("chaincode_transactions_in_flight", "Transactions running now", in_flight.clone());
            let stub_requests = Family::<StaticLabels, Counter>::default();
            registry.register(
                "chaincode_stub_requests",
                "Requests from the chaincode to the peer, by message type",
                stub_requests.clone(),
            );
            let write_batches = Counter::default();
            registry.register(
                "chaincode_write_batches",
                "Write batches sent to the peer (each one or more WRITE_BATCH_STATE messages)",
                write_batches.clone(),
            );
            let write_batch_records = Counter::default();
            registry.register(
                "chaincode_write_batch_records",
                "Writes sent to the peer in write batches",
                write_batch_records.clone(),
            );
            let open = Gauge::default();
            registry.register("chaincode_connections_open", "Accepted connections not yet closed", open.clone());
            let ready = Gauge::default();
            registry.register(
                "chaincode_connections_ready",
                "Chaincode streams registered with the peer (past READY) and not yet ended",
                ready.clone(),
            );
            let refused_family = Family::<StaticLabels, Counter>::default();
            registry.register(
                "chaincode_connections_refused",
                "Connections closed before they became a ready chaincode stream, by reason",
                refused_family.clone(),
            );
            let refused = REFUSALS.map(|reason| refused_family.get_or_create_owned(&[("reason", reason)]));
            let limits_family = Family::<StaticLabels, Counter>::default();
            registry.register(
                "chaincode_limits_hit",
                "Times a server limit refused or cut a connection, a transaction or a message, by limit",
                limits_family.clone(),
            );
            let limits = LIMITS.map(|limit| limits_family.get_or_create_owned(&[("limit", limit)]));
            Series {
                registry,
                transactions,
                durations,
                functions: RwLock::default(),
                in_flight,
                stub_requests,
                write_batches,
                write_batch_records,
                open,
                ready,
                refused,
                limits,
            }
        }

        /// The series of `function` (or of [`OTHER`]).
        fn function(&self, function: Option<&[u8]>) -> Arc<FunctionSeries> {
            let name = function
                .and_then(|f| std::str::from_utf8(f).ok())
                .filter(|f| f.len() <= MAX_FUNCTION_LEN)
                .unwrap_or(OTHER);
            if let Some(series) = self.functions.read().unwrap_or_else(|e| e.into_inner()).get(name) {
                return Arc::clone(series);
            }
            let mut functions = self.functions.write().unwrap_or_else(|e| e.into_inner());
            let name = if functions.len() >= MAX_FUNCTIONS && !functions.contains_key(name) { OTHER } else { name };
            if let Some(series) = functions.get(name) {
                return Arc::clone(series);
            }
            let label = || Cow::Owned(name.to_string());
            let outcome = |outcome: &'static str| {
                self.transactions.get_or_create_owned(&[("function", label()), ("outcome", Cow::Borrowed(outcome))])
            };
            let series = Arc::new(FunctionSeries {
                outcomes: OUTCOMES.map(outcome),
                aborted: outcome("aborted"),
                duration: self.durations.get_or_create_owned(&[("function", label())]),
            });
            functions.insert(name.into(), Arc::clone(&series));
            series
        }

        fn encode(&self) -> String {
            let mut text = String::new();
            // Writing to a String fails only if an encoder does, which ours do not.
            if let Err(e) = prometheus_text::encode(&mut text, &self.registry) {
                warn!(error = %e, "could not encode the metrics");
            }
            text
        }
    }

    /// Held while a connection is open.
    pub(crate) struct Open(Option<Gauge>);
    /// Held while a chaincode stream is ready.
    pub(crate) struct Ready(Option<Gauge>);

    impl Drop for Open {
        fn drop(&mut self) {
            if let Some(gauge) = &self.0 {
                gauge.dec();
            }
        }
    }

    impl Drop for Ready {
        fn drop(&mut self) {
            if let Some(gauge) = &self.0 {
                gauge.dec();
            }
        }
    }

    /// Held while a transaction runs: [`finish`](Transaction::finish) counts its outcome and
    /// duration; dropped unfinished (aborted at the shutdown deadline) it counts as `aborted`.
    pub(crate) struct Transaction(Option<Running>);

    struct Running {
        series: Arc<FunctionSeries>,
        in_flight: Gauge,
        started: Instant,
    }

    impl Transaction {
        pub(crate) fn finish(mut self, outcome: Outcome) {
            if let Some(running) = self.0.take() {
                let index = match outcome {
                    Outcome::Success => 0,
                    Outcome::Error => 1,
                    Outcome::Failed => 2,
                    Outcome::Timeout => 3,
                };
                running.series.outcomes[index].inc();
                running.series.duration.observe(running.started.elapsed().as_secs_f64());
                running.in_flight.dec();
            }
        }
    }

    impl Drop for Transaction {
        fn drop(&mut self) {
            if let Some(running) = self.0.take() {
                running.series.aborted.inc();
                running.in_flight.dec();
            }
        }
    }

    impl Metrics {
        /// Metrics that count (and can be served by [`serve`]).
        pub(crate) fn enabled() -> Self {
            Metrics(Some(Arc::new(Series::new())))
        }

        pub(crate) fn connection_open(&self) -> Open {
            Open(self.0.as_ref().map(|s| {
                s.open.inc();
                s.open.clone()
            }))
        }

        pub(crate) fn connection_ready(&self) -> Ready {
            Ready(self.0.as_ref().map(|s| {
                s.ready.inc();
                s.ready.clone()
            }))
        }

        pub(crate) fn connection_refused(&self, reason: Refusal) {
            if let Some(s) = &self.0 {
                let (refusal, limit) = match reason {
                    Refusal::MaxConnections => (0, Some(0)),
                    Refusal::HandshakeTimeout => (1, Some(1)),
                    Refusal::Tls => (2, None),
                };
                s.refused[refusal].inc();
                if let Some(limit) = limit {
                    s.limits[limit].inc();
                }
            }
        }

        pub(crate) fn limit_hit(&self, limit: Limit) {
            if let Some(s) = &self.0 {
                let index = match limit {
                    Limit::MaxTransactions => 2,
                    Limit::TransactionTimeout => 3,
                    Limit::MessageSize => 4,
                };
                s.limits[index].inc();
            }
        }

        /// A transaction starts; `function` is its first argument.
        pub(crate) fn transaction(&self, function: Option<&[u8]>) -> Transaction {
            Transaction(self.0.as_ref().map(|s| {
                s.in_flight.inc();
                Running { series: s.function(function), in_flight: s.in_flight.clone(), started: Instant::now() }
            }))
        }

        pub(crate) fn stub_request(&self, kind: Type) {
            if let Some(s) = &self.0 {
                s.stub_requests.get_or_create(&[("type", kind.as_str_name())]).inc();
            }
        }

        pub(crate) fn write_batch(&self, records: usize) {
            if let Some(s) = &self.0 {
                s.write_batches.inc();
                s.write_batch_records.inc_by(records as u64);
            }
        }

        /// The scrape's text, or `None` when the metrics are off.
        pub(crate) fn encode(&self) -> Option<String> {
            self.0.as_ref().map(|s| s.encode())
        }
    }

    /// Serves `GET /metrics` on `listener` (HTTP/1.1) until `stop` is cancelled.
    pub(crate) fn serve(listener: TcpListener, metrics: Metrics, stop: CancellationToken) {
        let scrapers = Arc::new(Semaphore::new(MAX_SCRAPERS));
        tokio::spawn(async move {
            loop {
                let (tcp, remote) = tokio::select! {
                    () = stop.cancelled() => break,
                    next = listener.accept() => match next {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            debug!(error = %e, "accepting a metrics connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let Ok(slot) = Arc::clone(&scrapers).acquire_owned().await else { break };
                let (metrics, stop) = (metrics.clone(), stop.clone());
                tokio::spawn(async move {
                    let _slot = slot;
                    let service = hyper::service::service_fn(move |request| {
                        std::future::ready(Ok::<_, Infallible>(respond(&metrics, &request)))
                    });
                    let mut builder = http1::Builder::new();
                    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
                    let connection = builder.serve_connection(TokioIo::new(tcp), service);
                    tokio::select! {
                        () = stop.cancelled() => {}
                        result = connection => if let Err(e) = result {
                            debug!(%remote, error = %e, "metrics connection failed");
                        },
                    }
                });
            }
        });
    }

    fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<String> {
        let reply = |status: StatusCode, text: String| {
            let mut response = Response::new(text);
            *response.status_mut() = status;
            response
        };
        if request.uri().path() != PATH {
            return reply(StatusCode::NOT_FOUND, format!("not found: the metrics are at {PATH}\n"));
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return reply(StatusCode::METHOD_NOT_ALLOWED, format!("use GET {PATH}\n"));
        }
        let mut response = reply(StatusCode::OK, metrics.encode().unwrap_or_default());
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(prometheus_text::CONTENT_TYPE));
        response
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn function_names_beyond_the_cap_count_as_other() {
        let metrics = Metrics::enabled();
        for i in 0..150 {
            metrics.transaction(Some(format!("f{i}").as_bytes())).finish(Outcome::Success);
        }
        metrics.transaction(Some("x".repeat(65).as_bytes())).finish(Outcome::Success);
        metrics.transaction(Some(&[0xff, 0xfe])).finish(Outcome::Error);
        metrics.transaction(None).finish(Outcome::Failed);
        // Known names still count by their own after the cap.
        metrics.transaction(Some(b"f7")).finish(Outcome::Success);
        drop(metrics.transaction(Some(b"f8")));

        let text = metrics.encode().unwrap();
        let count = |series: &str| -> u64 {
            let line = text.lines().find(|l| l.starts_with(series)).unwrap_or_else(|| panic!("no {series}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        let functions: std::collections::HashSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("chaincode_transactions_total{function=\""))
            .map(|l| l.split('"').next().unwrap())
            .collect();
        assert_eq!(functions.len(), 101, "100 names and _other");
        assert_eq!(count("chaincode_transactions_total{function=\"_other\",outcome=\"success\"} "), 51);
        assert_eq!(count("chaincode_transactions_total{function=\"_other\",outcome=\"error\"} "), 1);
        assert_eq!(count("chaincode_transactions_total{function=\"_other\",outcome=\"failed\"} "), 1);
        assert_eq!(count("chaincode_transactions_total{function=\"f7\",outcome=\"success\"} "), 2);
        assert_eq!(count("chaincode_transactions_total{function=\"f8\",outcome=\"aborted\"} "), 1);
        assert_eq!(count("chaincode_transactions_in_flight "), 0);
    }

    #[test]
    fn off_until_enabled() {
        let metrics = Metrics::default();
        metrics.transaction(Some(b"f")).finish(Outcome::Success);
        metrics.connection_refused(Refusal::MaxConnections);
        assert_eq!(metrics.encode(), None);
    }
}
