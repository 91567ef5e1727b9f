//! The peer model driven with raw messages: the test plays the chaincode.

use crate::support;

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, ChaincodeId, ChaincodeMessage, GetState, GetStateByRange, QueryResponse, QueryStateClose,
    QueryStateNext, Response,
};
use ccaas_testkit::model::ViolationKind;
use ccaas_testkit::{EmulatorError, PeerEmulator, TxOutcome};
use prost::Message;
use support::eventually;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

/// The chaincode's end of a raw connection.
struct RawChaincode {
    tx: mpsc::Sender<Result<ChaincodeMessage, tonic::Status>>,
    rx: mpsc::Receiver<ChaincodeMessage>,
}

impl RawChaincode {
    async fn connect() -> (PeerEmulator, RawChaincode) {
        Self::connect_with(PeerEmulator::builder()).await
    }

    async fn connect_with(builder: ccaas_testkit::EmulatorBuilder) -> (PeerEmulator, RawChaincode) {
        let (to_chaincode, rx) = mpsc::channel(64);
        let (tx, from_chaincode) = mpsc::channel(64);
        let connecting = tokio::spawn(
            builder.chaincode_id("raw:1").connect_stream(to_chaincode, ReceiverStream::new(from_chaincode)),
        );
        let mut raw = RawChaincode { tx, rx };
        let id = ChaincodeId { name: "raw:1".into(), ..Default::default() };
        raw.send(Type::Register, "", "", id.encode_to_vec()).await;
        assert_eq!(raw.recv().await.r#type, Type::Registered as i32);
        assert_eq!(raw.recv().await.r#type, Type::Ready as i32);
        (connecting.await.unwrap().unwrap(), raw)
    }

    async fn send(&self, kind: Type, txid: &str, channel: &str, payload: impl Into<Bytes>) {
        let message = ChaincodeMessage {
            r#type: kind as i32,
            payload: payload.into(),
            txid: txid.into(),
            channel_id: channel.into(),
            ..Default::default()
        };
        self.tx.send(Ok(message)).await.unwrap();
    }

    async fn recv(&mut self) -> ChaincodeMessage {
        self.rx.recv().await.expect("the peer closed the stream")
    }

    /// Starts a transaction on the peer and returns it with the TRANSACTION message received.
    async fn start(&mut self, peer: &PeerEmulator) -> (JoinHandle<Result<TxOutcome, EmulatorError>>, ChaincodeMessage) {
        let task = tokio::spawn(peer.transaction("f").submit());
        let message = self.recv().await;
        assert_eq!(message.r#type, Type::Transaction as i32);
        (task, message)
    }

    async fn complete(&self, tx: &ChaincodeMessage, status: i32) {
        let response = Response { status, message: String::new(), payload: Bytes::new() };
        self.send(Type::Completed, &tx.txid, &tx.channel_id, response.encode_to_vec()).await;
    }
}

fn get_state(key: &str) -> Vec<u8> {
    GetState { key: key.into(), collection: String::new() }.encode_to_vec()
}

#[tokio::test]
async fn a_second_concurrent_request_of_one_transaction_is_dropped() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", [("a", "A"), ("b", "B"), ("c", "C")]);
    let (task, tx) = cc.start(&peer).await;

    let pause = peer.model().pause().await;
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, get_state("a")).await;
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, get_state("b")).await;
    eventually(|| !peer.violations().is_empty()).await;
    drop(pause);

    let reply = cc.recv().await;
    assert_eq!((reply.r#type, &reply.payload[..]), (Type::Response as i32, &b"A"[..]));
    // The next reply on the stream answers the next request: "b" was never answered.
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, get_state("c")).await;
    let reply = cc.recv().await;
    assert_eq!((reply.r#type, &reply.payload[..]), (Type::Response as i32, &b"C"[..]));

    let violations = peer.violations();
    assert_eq!(violations.len(), 1);
    assert_eq!((violations[0].dropped.as_str(), violations[0].outstanding.as_str()), ("GET_STATE", "GET_STATE"));
    assert_eq!(
        violations[0].log,
        format!(
            "[{}] Another request pending for this CC: raw:1, Txid: {}, ChannelID: mychannel. Cannot process.",
            &tx.txid[..8],
            tx.txid
        )
    );
    assert_eq!(peer.stats().dropped_requests, 1);

    cc.complete(&tx, 200).await;
    let outcome = task.await.unwrap().unwrap();
    let read_keys: Vec<&str> = outcome.reads.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(read_keys, ["a", "c"]);
}

#[tokio::test]
async fn sequential_requests_are_all_answered() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", [("a", "A")]);
    let (task, tx) = cc.start(&peer).await;
    for _ in 0..3 {
        cc.send(Type::GetState, &tx.txid, &tx.channel_id, get_state("a")).await;
        assert_eq!(&cc.recv().await.payload[..], b"A");
    }
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
    assert!(peer.violations().is_empty());
}

#[tokio::test]
async fn iterators_next_close_and_not_found() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", (0..250).map(|i| (format!("k{i:03}"), "v")).collect::<Vec<_>>());
    let (task, tx) = cc.start(&peer).await;
    let range = GetStateByRange { start_key: String::new(), end_key: String::new(), ..Default::default() };

    // First batch: 100 rows, more to come.
    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, range.encode_to_vec()).await;
    let first = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert_eq!((first.results.len(), first.has_more), (100, true));
    assert_eq!(peer.model().open_iterators(&tx.channel_id, &tx.txid), vec![first.id.clone()]);

    let next = QueryStateNext { id: first.id.clone() }.encode_to_vec();
    cc.send(Type::QueryStateNext, &tx.txid, &tx.channel_id, next.clone()).await;
    let second = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert_eq!((second.results.len(), second.has_more, second.id.as_str()), (100, true, first.id.as_str()));

    // Close early: the iterator is gone, and closing again is fine.
    let close = QueryStateClose { id: first.id.clone() }.encode_to_vec();
    cc.send(Type::QueryStateClose, &tx.txid, &tx.channel_id, close.clone()).await;
    let closed = cc.recv().await;
    assert_eq!(closed.r#type, Type::Response as i32);
    let closed = QueryResponse::decode(closed.payload).unwrap();
    assert_eq!((closed.has_more, closed.id.as_str(), closed.results.len()), (false, first.id.as_str(), 0));
    assert!(peer.model().open_iterators(&tx.channel_id, &tx.txid).is_empty());

    cc.send(Type::QueryStateNext, &tx.txid, &tx.channel_id, next).await;
    let error = cc.recv().await;
    assert_eq!(error.r#type, Type::Error as i32);
    assert_eq!(
        String::from_utf8_lossy(&error.payload),
        format!("QUERY_STATE_NEXT failed: transaction ID: {}: query iterator not found", tx.txid)
    );
    assert_eq!((error.txid.as_str(), error.channel_id.as_str()), (tx.txid.as_str(), tx.channel_id.as_str()));

    cc.send(Type::QueryStateClose, &tx.txid, &tx.channel_id, close).await;
    assert_eq!(cc.recv().await.r#type, Type::Response as i32);

    // A second range left open is closed by the peer when the transaction completes.
    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, range.encode_to_vec()).await;
    let open = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert!(open.has_more);
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
    let stats = peer.stats();
    assert_eq!(stats.iterators_closed_by_chaincode, 1);
    assert_eq!(stats.iterators_closed_at_completion, 1);
}

#[tokio::test]
async fn a_finished_iterator_is_not_found() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", [("a", "A")]);
    let (task, tx) = cc.start(&peer).await;
    let range = GetStateByRange::default().encode_to_vec();
    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, range).await;
    let only = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert_eq!((only.results.len(), only.has_more), (1, false));
    cc.send(Type::QueryStateNext, &tx.txid, &tx.channel_id, QueryStateNext { id: only.id }.encode_to_vec()).await;
    assert_eq!(cc.recv().await.r#type, Type::Error as i32);
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn requests_outside_a_transaction_have_no_ledger_context() {
    let (peer, mut cc) = RawChaincode::connect().await;
    cc.send(Type::GetState, "nope", "mychannel", get_state("a")).await;
    let error = cc.recv().await;
    assert_eq!(String::from_utf8_lossy(&error.payload), "GET_STATE failed: transaction ID: nope: no ledger context");
    let violations = peer.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].kind, ViolationKind::OutsideTransaction);
    assert_eq!((violations[0].tx_id.as_str(), violations[0].dropped.as_str()), ("nope", "GET_STATE"));
}

/// A request of a transaction after its COMPLETED (as a background task of the shim could send)
/// is answered with the peer's error and flagged as a protocol violation.
#[tokio::test]
async fn a_request_after_completed_is_a_protocol_violation() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", (0..150).map(|i| (format!("k{i:03}"), "v")));
    let (task, tx) = cc.start(&peer).await;
    let range = GetStateByRange::default().encode_to_vec();
    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, range).await;
    let first = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert!(first.has_more);
    assert!(peer.violations().is_empty());
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();

    cc.send(Type::QueryStateNext, &tx.txid, &tx.channel_id, QueryStateNext { id: first.id }.encode_to_vec()).await;
    let error = cc.recv().await;
    assert_eq!(error.r#type, Type::Error as i32);
    assert_eq!(
        String::from_utf8_lossy(&error.payload),
        format!("QUERY_STATE_NEXT failed: transaction ID: {}: no ledger context", tx.txid)
    );
    let violations = peer.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].kind, ViolationKind::OutsideTransaction);
    assert_eq!((violations[0].tx_id.as_str(), violations[0].dropped.as_str()), (tx.txid.as_str(), "QUERY_STATE_NEXT"));
}

#[tokio::test]
async fn an_undecodable_payload_is_an_unmarshal_error() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, vec![0xff, 0xff, 0xff]).await;
    let error = cc.recv().await;
    assert_eq!(error.r#type, Type::Error as i32);
    let text = String::from_utf8_lossy(&error.payload).into_owned();
    assert!(text.starts_with(&format!("GET_STATE failed: transaction ID: {}: unmarshal failed: ", tx.txid)), "{text}");
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn completions_for_unknown_transactions_are_dropped() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let stray = ChaincodeMessage { txid: "stray".into(), channel_id: "mychannel".into(), ..Default::default() };
    cc.complete(&stray, 200).await;
    let (task, tx) = cc.start(&peer).await;
    cc.complete(&tx, 200).await;
    assert_eq!(task.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn an_error_message_fails_the_transaction() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::Error, &tx.txid, &tx.channel_id, "init failed badly").await;
    let error = task.await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "transaction returned with failure: init failed badly");
}

#[tokio::test]
async fn an_unexpected_message_type_ends_the_stream() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::Register, &tx.txid, &tx.channel_id, Bytes::new()).await;
    let reason = peer.closed().await;
    assert_eq!(
        reason,
        format!(
            "error handling message, ending stream: [{}] Fabric side handler cannot handle message (REGISTER) while in ready state",
            tx.txid
        )
    );
    assert_eq!(task.await.unwrap().unwrap_err().to_string(), "chaincode stream terminated");
    // The peer closed its side too.
    assert!(cc.rx.recv().await.is_none());
    assert!(!peer.is_connected());
}

#[tokio::test]
async fn the_chaincode_closing_the_stream_terminates_running_transactions() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let (task, _tx) = cc.start(&peer).await;
    drop(cc);
    assert!(matches!(task.await.unwrap(), Err(EmulatorError::StreamTerminated)));
    assert_eq!(peer.closed().await, "received EOF, ending chaincode support stream");
}

fn page(start: &str, end: &str, page_size: i32, bookmark: &str) -> Vec<u8> {
    let metadata = ccaas_protos::protos::QueryMetadata { page_size, bookmark: bookmark.into() };
    GetStateByRange {
        start_key: start.into(),
        end_key: end.into(),
        collection: String::new(),
        metadata: metadata.encode_to_vec().into(),
    }
    .encode_to_vec()
}

fn page_info(response: &QueryResponse) -> ccaas_protos::protos::QueryResponseMetadata {
    ccaas_protos::protos::QueryResponseMetadata::decode(response.metadata.clone()).unwrap()
}

#[tokio::test]
async fn paginated_ranges_answer_one_page_with_a_bookmark() {
    let (peer, mut cc) = RawChaincode::connect().await;
    peer.ledger().seed("raw", (0..25).map(|i| (format!("k{i:02}"), "v")).collect::<Vec<_>>());
    let (task, tx) = cc.start(&peer).await;

    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, page("", "", 10, "")).await;
    let first = QueryResponse::decode(cc.recv().await.payload).unwrap();
    assert_eq!((first.results.len(), first.has_more), (10, false));
    let info = page_info(&first);
    assert_eq!((info.fetched_records_count, info.bookmark.as_str()), (10, "k10"));

    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, page("", "", 10, "k20")).await;
    let last = QueryResponse::decode(cc.recv().await.payload).unwrap();
    let info = page_info(&last);
    assert_eq!((last.results.len(), info.fetched_records_count, info.bookmark.as_str()), (5, 5, ""));

    // After a paginated query the transaction is read-only.
    let put = ccaas_protos::protos::PutState { key: "x".into(), value: "y".into(), collection: String::new() };
    cc.send(Type::PutState, &tx.txid, &tx.channel_id, put.encode_to_vec()).await;
    let error = cc.recv().await;
    assert_eq!(
        String::from_utf8_lossy(&error.payload),
        format!(
            "PUT_STATE failed: transaction ID: {0}: txid [{0}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed",
            tx.txid
        )
    );
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();

    // And a transaction that wrote cannot paginate.
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::PutState, &tx.txid, &tx.channel_id, put.encode_to_vec()).await;
    assert_eq!(cc.recv().await.r#type, Type::Response as i32);
    cc.send(Type::GetStateByRange, &tx.txid, &tx.channel_id, page("", "", 10, "")).await;
    let error = cc.recv().await;
    assert_eq!(
        String::from_utf8_lossy(&error.payload),
        format!(
            "GET_STATE_BY_RANGE failed: transaction ID: {0}: txid [{0}]: unsuppored transaction. Paginated queries are supported only in a read-only transaction",
            tx.txid
        )
    );
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn private_data_is_answered_as_an_undefined_collection() {
    let (peer, mut cc) = RawChaincode::connect_with(PeerEmulator::builder().init_required("1.0")).await;
    let request = GetState { key: "k".into(), collection: "secrets".into() };

    // Inside Init (the chaincode is defined with --init-required) the peer refuses private data first.
    let init = tokio::spawn(peer.transaction("f").init().submit());
    let tx = cc.recv().await;
    assert_eq!(tx.r#type, Type::Init as i32);
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, request.encode_to_vec()).await;
    assert_eq!(
        String::from_utf8_lossy(&cc.recv().await.payload),
        format!("GET_STATE failed: transaction ID: {}: private data APIs are not allowed in chaincode Init()", tx.txid)
    );
    cc.complete(&tx, 200).await;
    init.await.unwrap().unwrap();

    // Then, in a transaction, the collection is looked up (and this chaincode defines none).
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::GetState, &tx.txid, &tx.channel_id, request.encode_to_vec()).await;
    assert_eq!(
        String::from_utf8_lossy(&cc.recv().await.payload),
        format!("GET_STATE failed: transaction ID: {}: collection mychannel/raw/secrets could not be found", tx.txid)
    );
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_chaincode_that_never_registers_times_out() {
    let (to_chaincode, _rx) = mpsc::channel(4);
    let (_tx, from_chaincode) = mpsc::channel::<Result<ChaincodeMessage, tonic::Status>>(4);
    let error = PeerEmulator::builder()
        .startup_timeout(std::time::Duration::from_millis(50))
        .connect_stream(to_chaincode, ReceiverStream::new(from_chaincode))
        .await
        .unwrap_err();
    assert!(matches!(error, EmulatorError::StartupTimeout(_)), "{error:?}");
}

#[tokio::test]
async fn state_metadata_of_a_missing_key_is_an_empty_result() {
    let (peer, mut cc) = RawChaincode::connect().await;
    let (task, tx) = cc.start(&peer).await;
    cc.send(Type::GetStateMetadata, &tx.txid, &tx.channel_id, get_state("k")).await;
    let reply = cc.recv().await;
    assert_eq!(reply.r#type, Type::Response as i32);
    let result = ccaas_protos::protos::StateMetadataResult::decode(reply.payload).unwrap();
    assert!(result.entries.is_empty());
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
    assert!(peer.is_connected());
}
