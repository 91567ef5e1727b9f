//! Fabric 3.1 write batching and multi-key reads: the same chaincode gives the same results
//! whether or not the peer advertises them, and the shim sends WRITE_BATCH_STATE and
//! GET_STATE_MULTIPLE only when the peer did (a peer that did not advertise them ends the
//! connection, as a peer before 3.1 does).

use crate::support;

use std::sync::Arc;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::{
    write_record, GetState, GetStateMultiple, GetStateMultipleResult, WriteBatchState, WriteRecord,
};
use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::model::{CollectionConfig, ViolationKind};
use ccaas_testkit::{Direction, EmulatorBuilder, EmulatorError, Identity, PeerEmulator, Transcript, TxOutcome};
use prost::Message;
use serde_json::{json, Value};
use support::{payload_json, RawChaincode, StubProbe};

fn base() -> EmulatorBuilder {
    PeerEmulator::builder()
        .chaincode_name("basic")
        .collection(CollectionConfig::new("shared", ["Org1MSP", "Org2MSP"]))
        .collection(CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true).member_only_write(true))
}

/// How the peer and the chaincode are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The peer advertises nothing (a peer before 3.1, or 3.1 with the code defaults).
    Plain,
    /// The peer advertises both; the chaincode calls `start_write_batch`.
    Explicit,
    /// The peer advertises both; the service opens a batch for every transaction.
    Automatic,
}

async fn peer(mode: Mode, transcript: &Transcript) -> PeerEmulator {
    let mut builder = base().transcript(transcript.hook());
    if mode != Mode::Plain {
        builder = builder.write_batch(true, 1000).get_multiple_keys(true, 1000);
    }
    let service = ChaincodeService::new(Arc::new(StubProbe), "probe:1", Drain::new())
        .with_automatic_write_batching(mode == Mode::Automatic);
    let peer = builder.connect_in_process(&service).await.unwrap();
    peer.ledger().seed("basic", [("seed1", "a"), ("seed2", "b")]);
    peer.ledger().seed_private("basic", "shared", [("pseed", "s")]);
    peer
}

/// What a run leaves behind, to compare runs.
#[derive(Debug, PartialEq)]
struct Snapshot {
    payload: Value,
    writes: String,
    public: Vec<(String, bytes::Bytes)>,
    private: Vec<(String, bytes::Bytes)>,
    hashes: Vec<(String, bytes::Bytes)>,
    metadata: String,
}

fn snapshot(peer: &PeerEmulator, outcome: &TxOutcome) -> Snapshot {
    let ledger = peer.ledger();
    Snapshot {
        payload: payload_json(outcome),
        writes: serde_json::to_string(&(&outcome.writes, &outcome.metadata_writes)).unwrap(),
        public: ledger.entries("basic"),
        private: ledger.private_entries("basic", "shared"),
        hashes: ledger.private_hashes("basic", "shared"),
        metadata: format!(
            "{:?} {:?}",
            ledger.metadata("basic", "k1"),
            ledger.private_metadata("basic", "shared", "p1")
        ),
    }
}

const WORKLOAD: &[&str] = &[
    "many:k:20",
    "put:k3=again",
    "del:k5",
    "pput:shared:p1=secret",
    "meta:k1:VALIDATION_PARAMETER=policy",
    "pmeta:shared:p1:owner=alice",
    "mget:seed1,seed2,missing",
    "pmget:shared:pseed,absent",
    "get:k3",
    "finish",
    "put:after=finish",
];

#[tokio::test]
async fn the_same_chaincode_gives_the_same_results_with_and_without_batching() {
    let mut runs = Vec::new();
    for mode in [Mode::Plain, Mode::Explicit, Mode::Automatic] {
        let transcript = Transcript::new();
        let peer = peer(mode, &transcript).await;
        let mut script: Vec<&str> = WORKLOAD.to_vec();
        if mode == Mode::Explicit {
            script.insert(0, "start");
        }
        let outcome = peer.invoke("script", script).await.unwrap();
        assert!(outcome.is_committed(), "{mode:?}: {}", outcome.response.message);
        assert!(peer.violations().is_empty(), "{mode:?}: {:?}", peer.violations());
        assert!(peer.is_connected());
        let stats = peer.stats();
        let counts = [
            Type::WriteBatchState,
            Type::GetStateMultiple,
            Type::PutState,
            Type::DelState,
            Type::PutStateMetadata,
            Type::GetState,
        ]
        .map(|t| stats.count(t));
        runs.push((mode, snapshot(&peer, &outcome), counts, transcript));
    }
    let (_, plain, plain_counts, _) = &runs[0];
    assert_eq!(
        plain.payload,
        json!([["a", "b", null], ["s", null], null]),
        "multi-key reads in key order; the transaction does not see its own writes"
    );
    assert_eq!(plain.public.len(), 2 + 19 + 1);
    for (mode, run, _, _) in &runs[1..] {
        assert_eq!(run, plain, "{mode:?} differs from the unbatched run");
    }
    // Without advertising: one message per write and per key read.
    // [WRITE_BATCH_STATE, GET_STATE_MULTIPLE, PUT_STATE, DEL_STATE, PUT_STATE_METADATA, GET_STATE]
    assert_eq!(*plain_counts, [0, 0, 23, 1, 2, 6]);
    // Advertised: the writes before `finish` go in one WRITE_BATCH_STATE, the one after alone.
    for (mode, _, counts, transcript) in &runs[1..] {
        assert_eq!(*counts, [1, 2, 1, 0, 0, 1], "{mode:?}");
        let batches = batch_sizes(transcript);
        // 20 keys (k3 overwritten and k5 deleted in their slots), p1, and two metadata records.
        assert_eq!(batches, [23], "{mode:?}");
    }
}

fn batch_sizes(transcript: &Transcript) -> Vec<usize> {
    transcript
        .entries()
        .iter()
        .filter(|e| e.direction == Direction::ChaincodeToPeer && e.kind() == Some(Type::WriteBatchState))
        .map(|e| WriteBatchState::decode(e.message.payload.clone()).unwrap().rec.len())
        .collect()
}

#[tokio::test]
async fn an_open_batch_is_flushed_before_completed_in_chunks_of_the_advertised_size() {
    // 50 is below the Go shim's floor of 100: 250 writes go in 100 + 100 + 50.
    for (advertised, expected) in [(50, vec![100, 100, 50]), (100, vec![100, 100, 50]), (120, vec![120, 120, 10])] {
        let transcript = Transcript::new();
        let peer = base().transcript(transcript.hook()).write_batch(true, advertised).connect_chaincode(StubProbe);
        let peer = peer.await.unwrap();
        let outcome = peer.invoke("script", ["start", "many:k:250"]).await.unwrap();
        assert!(outcome.is_committed());
        assert_eq!(batch_sizes(&transcript), expected, "advertised {advertised}");
        assert_eq!(peer.stats().count(Type::PutState), 0);
        assert_eq!(peer.ledger().len("basic"), 250);
        assert!(peer.violations().is_empty());
    }
}

#[tokio::test]
async fn multi_key_reads_are_chunked_or_fall_back_to_single_reads() {
    let keys: Vec<(String, String)> = (0..250).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
    let chunked = base().get_multiple_keys(true, 100).connect_chaincode(StubProbe).await.unwrap();
    chunked.ledger().seed("basic", keys.clone());
    let outcome = chunked.query("script", ["mgetn:k:260"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!([250]));
    assert_eq!((chunked.stats().count(Type::GetStateMultiple), chunked.stats().count(Type::GetState)), (3, 0));
    assert_eq!(outcome.reads.len(), 260);

    let plain = base().connect_chaincode(StubProbe).await.unwrap();
    plain.ledger().seed("basic", keys);
    let outcome = plain.query("script", ["mgetn:k:260"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!([250]));
    assert_eq!((plain.stats().count(Type::GetStateMultiple), plain.stats().count(Type::GetState)), (0, 260));
    assert!(plain.violations().is_empty() && plain.is_connected());
}

#[tokio::test]
async fn in_a_batch_the_last_write_per_key_wins() {
    let transcript = Transcript::new();
    let peer = base().transcript(transcript.hook()).write_batch(true, 100).connect_chaincode(StubProbe).await.unwrap();
    peer.ledger().seed("basic", [("b", "old")]);
    let script = ["start", "put:a=1", "put:b=1", "put:a=2", "del:b", "put:c=3"];
    let outcome = peer.invoke("script", script).await.unwrap();
    assert!(outcome.is_committed());
    let sent: Vec<WriteRecord> = transcript
        .entries()
        .iter()
        .filter(|e| e.kind() == Some(Type::WriteBatchState))
        .flat_map(|e| WriteBatchState::decode(e.message.payload.clone()).unwrap().rec)
        .collect();
    let records: Vec<(&str, i32, &[u8])> = sent.iter().map(|r| (r.key.as_str(), r.r#type, &r.value[..])).collect();
    let (put, del) = (write_record::Type::PutState as i32, write_record::Type::DelState as i32);
    assert_eq!(records, [("a", put, &b"2"[..]), ("b", del, &b""[..]), ("c", put, &b"3"[..])]);
    let ledger = peer.ledger();
    assert_eq!((ledger.get("basic", "a").unwrap(), ledger.get("basic", "c").unwrap()), ("2".into(), "3".into()));
    assert!(ledger.get("basic", "b").is_none());
}

#[tokio::test]
async fn an_error_at_the_flush_fails_the_transaction() {
    let org2 = Identity::generate("Org2MSP", "User1@org2.example.com");
    let script = ["start", "put:ok=1", "pput:secrets:k=v"];
    let batched = base().write_batch(true, 100).connect_chaincode(StubProbe).await.unwrap();
    let error = batched.transaction("script").args(script).creator(org2.clone()).submit().await.unwrap_err();
    let EmulatorError::TransactionFailed(text) = &error else { panic!("{error:?}") };
    assert!(text.starts_with("failed send batch: WRITE_BATCH_STATE failed: transaction ID: "), "{text}");
    assert!(text.ends_with(
        ": tx creator does not have write access permission on privatedata in chaincodeName:basic collectionName: secrets"
    ));
    assert!(batched.ledger().get("basic", "ok").is_none(), "nothing is committed");

    // Unbatched, the same write fails where it is made.
    let plain = base().connect_chaincode(StubProbe).await.unwrap();
    let outcome = plain.transaction("script").args(script).creator(org2).submit().await.unwrap();
    assert_eq!(outcome.status(), 500);
    assert!(outcome.response.message.starts_with("PUT_STATE failed: transaction ID: "));
    assert!(plain.ledger().get("basic", "ok").is_none());
}

#[tokio::test]
async fn an_unadvertised_type_ends_the_connection_like_a_peer_before_3_1() {
    for (kind, number, payload) in [
        (Type::WriteBatchState, 24, WriteBatchState::default().encode_to_vec()),
        (
            Type::GetStateMultiple,
            25,
            GetStateMultiple { keys: vec!["k".into()], collection: String::new() }.encode_to_vec(),
        ),
    ] {
        let (peer, mut cc) = RawChaincode::connect(PeerEmulator::builder()).await;
        let (task, tx) = cc.start(peer.transaction("f")).await;
        cc.send(kind, &tx.txid, &tx.channel_id, payload).await;
        let reason = peer.closed().await;
        assert_eq!(
            reason,
            format!(
                "error handling message, ending stream: [{}] Fabric side handler cannot handle message ({number}) while in ready state",
                tx.txid
            )
        );
        assert!(matches!(task.await.unwrap(), Err(EmulatorError::StreamTerminated)));
        let violations = peer.violations();
        assert_eq!(violations.len(), 1);
        assert_eq!(
            (violations[0].kind, violations[0].dropped.as_str()),
            (ViolationKind::NotAdvertised, kind.as_str_name())
        );
    }
}

#[tokio::test]
async fn the_peer_applies_a_batch_in_order_and_stops_at_the_first_failure() {
    let (peer, mut cc) = RawChaincode::connect(
        PeerEmulator::builder().chaincode_name("raw").write_batch(true, 1000).get_multiple_keys(true, 1000),
    )
    .await;
    peer.ledger().seed("raw", [("x", "X"), ("y", "Y")]);
    let (task, tx) = cc.start(peer.transaction("f")).await;

    let reply = cc
        .request(
            &tx,
            Type::GetStateMultiple,
            GetStateMultiple { keys: vec!["x".into(), "missing".into(), "y".into()], collection: String::new() }
                .encode_to_vec(),
        )
        .await;
    let values = GetStateMultipleResult::decode(reply.payload).unwrap().values;
    assert_eq!(values, [&b"X"[..], &b""[..], &b"Y"[..]]);

    let put = |key: &str| WriteRecord {
        key: key.into(),
        value: "v".into(),
        r#type: write_record::Type::PutState as i32,
        ..Default::default()
    };
    let unknown = WriteRecord { key: "u".into(), r#type: 0, ..Default::default() };
    let batch = WriteBatchState { rec: vec![put("a"), unknown, put("c")] }.encode_to_vec();
    let reply = cc.request(&tx, Type::WriteBatchState, batch).await;
    assert_eq!(reply.r#type, Type::Error as i32);
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!("WRITE_BATCH_STATE failed: transaction ID: {}: unknown operation type", tx.txid)
    );
    // A private record of an undefined collection fails like PUT_STATE does.
    let private = WriteRecord { collection: "nope".into(), ..put("p") };
    let reply = cc.request(&tx, Type::WriteBatchState, WriteBatchState { rec: vec![private] }.encode_to_vec()).await;
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!(
            "WRITE_BATCH_STATE failed: transaction ID: {}: collection mychannel/raw/nope could not be found",
            tx.txid
        )
    );
    let single =
        cc.request(&tx, Type::GetState, GetState { key: "x".into(), collection: String::new() }.encode_to_vec());
    assert_eq!(&single.await.payload[..], b"X");
    cc.complete(&tx, 200).await;
    let outcome = task.await.unwrap().unwrap();
    // The record before the failure stays in the simulation; the one after was never applied.
    let keys: Vec<&str> = outcome.writes.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["a"]);
    assert!(peer.violations().is_empty() && peer.is_connected());
}
