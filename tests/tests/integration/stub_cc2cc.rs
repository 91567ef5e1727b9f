//! Chaincode-to-chaincode calls: two chaincodes on one emulated peer, each on its own connection;
//! the callee runs with the caller's txid, on the caller's simulation (same channel) or on a
//! read-only simulation of another channel's ledger.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::ChaincodeMessage;
use ccaas_testkit::{Direction, Ledger, PeerEmulator, Transcript};
use prost::Message;
use serde_json::json;
use support::{payload_json, StubProbe};

struct Pair {
    caller: PeerEmulator,
    callee: PeerEmulator,
    callee_transcript: Transcript,
}

async fn pair() -> Pair {
    let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(StubProbe).await.unwrap();
    let callee_transcript = Transcript::new();
    let callee = PeerEmulator::builder()
        .chaincode_name("callee")
        .chaincode_id("callee_1.0:0")
        .transcript(callee_transcript.hook())
        .join(&caller)
        .connect_chaincode(StubProbe)
        .await
        .unwrap();
    Pair { caller, callee, callee_transcript }
}

#[tokio::test]
async fn on_the_same_channel_the_callees_writes_join_the_callers_transaction() {
    let Pair { caller, callee, callee_transcript } = pair().await;
    assert_eq!(caller.chaincodes(), ["callee", "caller"]);
    caller.ledger().seed("callee", [("seen", "by the callee")]);

    let outcome = caller.invoke("call_then_put", ["callee", "", "mine", "1", "put", "theirs", "2"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!({"status": 200, "payload": "null"}));
    assert!(outcome.is_committed());
    let written: Vec<(&str, &str)> = outcome.writes.iter().map(|w| (w.namespace.as_str(), w.key.as_str())).collect();
    assert_eq!(written, [("callee", "theirs"), ("caller", "mine")]);
    let ledger = caller.ledger();
    assert_eq!(ledger.get("callee", "theirs").unwrap(), "2");
    assert_eq!(ledger.get("caller", "mine").unwrap(), "1");
    // Only the caller's event survives.
    assert_eq!(outcome.event.unwrap().event_name, "caller");

    // The callee ran with the same txid, on its own connection, with the client's proposal.
    let entries = callee_transcript.for_tx(&outcome.tx_id);
    let started = entries.iter().find(|e| e.kind() == Some(Type::Transaction)).expect("a TRANSACTION for the callee");
    assert_eq!(started.message.channel_id, "mychannel");
    assert!(started.message.proposal.is_some());
    assert!(entries.iter().any(|e| e.direction == Direction::ChaincodeToPeer && e.kind() == Some(Type::PutState)));

    // Its reads join the caller's read set; the response is decoded from the nested message.
    let outcome = caller.invoke("call", ["callee", "", "get", "seen"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!({"status": 200, "message": "", "payload": "\"by the callee\""}));
    assert!(outcome.reads.iter().any(|r| r.namespace == "callee" && r.key == "seen"));
    // `name:version` and `name/` both address the callee on this channel.
    let outcome = caller.invoke("call_passthrough", ["callee:1.0", "", "get", "seen"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!("by the callee"));
    assert!(caller.violations().is_empty() && callee.violations().is_empty());
    assert_eq!(caller.stats().count(Type::InvokeChaincode), 3);
    assert_eq!(callee.stats().transactions_started, 3);
    assert_eq!(callee.stats().transactions_committed, 0, "the caller commits");
}

#[tokio::test]
async fn on_another_channel_the_call_is_read_only() {
    let other = Ledger::new();
    other.seed("callee", [("where", "other channel")]);
    let caller = PeerEmulator::builder()
        .chaincode_name("caller")
        .channel_ledger("otherchannel", other.clone())
        .connect_chaincode(StubProbe)
        .await
        .unwrap();
    let _callee =
        PeerEmulator::builder().chaincode_name("callee").join(&caller).connect_chaincode(StubProbe).await.unwrap();
    caller.ledger().seed("callee", [("where", "my channel")]);

    let outcome = caller.invoke("call", ["callee", "otherchannel", "get", "where"]).await.unwrap();
    assert_eq!(payload_json(&outcome)["payload"], json!("\"other channel\""));
    let outcome = caller.invoke("call", ["callee", "", "get", "where"]).await.unwrap();
    assert_eq!(payload_json(&outcome)["payload"], json!("\"my channel\""));

    // The callee's writes on the other channel are thrown away, the caller's own are committed.
    let outcome =
        caller.invoke("call_then_put", ["callee", "otherchannel", "mine", "1", "put", "theirs", "2"]).await.unwrap();
    assert_eq!(payload_json(&outcome)["status"], json!(200));
    assert!(outcome.is_committed());
    assert!(outcome.writes.iter().all(|w| w.namespace == "caller"));
    assert!(other.get("callee", "theirs").is_none());
    assert!(caller.ledger().get("callee", "theirs").is_none());
    assert_eq!(caller.ledger().get("caller", "mine").unwrap(), "1");
}

#[tokio::test]
async fn callee_failures_come_back_as_status_500() {
    let Pair { caller, callee: _callee, .. } = pair().await;
    // A callee that completes with its own error status: its response, unchanged.
    let outcome = caller.invoke("call", ["callee", "", "fail", "boom"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!({"status": 500, "message": "boom", "payload": ""}));
    let outcome = caller.invoke("call_passthrough", ["callee", "", "fail", "boom"]).await.unwrap();
    assert_eq!((outcome.status(), outcome.response.message.as_str()), (500, "boom"));
    assert!(!outcome.is_committed());

    // An unknown chaincode: the peer's error text in the payload and an empty message, as the Go
    // shim's `handleInvokeChaincode` builds it.
    let outcome = caller.invoke("call", ["nope", "", "get", "k"]).await.unwrap();
    assert_eq!(payload_json(&outcome)["message"], json!(""));
    assert_eq!(
        payload_json(&outcome)["payload"],
        json!(format!(
            "INVOKE_CHAINCODE failed: transaction ID: {}: execute failed: invalid invocation: [channel mychannel] failed to get chaincode container info for nope: chaincode nope not found",
            outcome.tx_id
        ))
    );
    // Calling itself on the same channel: its txid is already running on its connection.
    let outcome = caller.invoke("call", ["caller", "", "get", "k"]).await.unwrap();
    assert_eq!(
        payload_json(&outcome)["payload"],
        json!(format!(
            "INVOKE_CHAINCODE failed: transaction ID: {0}: execute failed: error sending: txid: {0}(mychannel) exists",
            outcome.tx_id
        ))
    );
}

#[tokio::test]
async fn a_failed_callees_writes_stay_in_the_shared_simulation() {
    // As on a peer: the callee wrote into the caller's simulator before failing, and a caller
    // that ignores the failure commits those writes.
    let Pair { caller, callee: _callee, .. } = pair().await;
    let outcome = caller.invoke("call", ["callee", "", "put_then_fail", "k", "v"]).await.unwrap();
    assert_eq!(payload_json(&outcome)["status"], json!(500));
    assert!(outcome.is_committed());
    assert_eq!(caller.ledger().get("callee", "k").unwrap(), "v");
}

#[tokio::test]
async fn a_callee_that_answers_with_error_is_a_500_carrying_its_whole_reply() {
    // A callee whose write batch fails at flush answers ERROR (not COMPLETED). As in the Go
    // shim, the caller gets status 500, an empty message, and the callee's encoded reply as the
    // payload.
    let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(StubProbe).await.unwrap();
    let _callee = PeerEmulator::builder()
        .chaincode_name("callee")
        .write_batch(true, 100)
        .join(&caller)
        .connect_chaincode(StubProbe)
        .await
        .unwrap();
    let outcome = caller.invoke("call_passthrough", ["callee", "", "script", "start", "pput:nope:k=v"]).await.unwrap();
    assert_eq!((outcome.status(), outcome.response.message.as_str()), (500, ""));
    let reply = ChaincodeMessage::decode(outcome.response.payload.clone()).expect("the callee's encoded reply");
    assert_eq!((reply.r#type, reply.txid.as_str()), (Type::Error as i32, outcome.tx_id.as_str()));
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!(
            "failed send batch: WRITE_BATCH_STATE failed: transaction ID: {}: collection mychannel/callee/nope could not be found",
            outcome.tx_id
        )
    );
}

#[tokio::test]
async fn the_callee_may_be_a_chaincode_server_over_tcp() {
    let server = support::serve(StubProbe, "callee_1.0:0", None).await;
    let caller = PeerEmulator::builder().chaincode_name("caller").connect_chaincode(StubProbe).await.unwrap();
    let callee = PeerEmulator::builder()
        .chaincode_name("callee")
        .chaincode_id("callee_1.0:0")
        .join(&caller)
        .connect(&ccaas_testkit::Target::new(server.address.to_string()))
        .await
        .unwrap();
    let outcome = caller.invoke("call_then_put", ["callee", "", "mine", "1", "put", "theirs", "2"]).await.unwrap();
    assert!(outcome.is_committed());
    assert_eq!(callee.ledger().get("callee", "theirs").unwrap(), "2");
    // A chaincode may call itself on another channel: a separate (read-only) transaction.
    let outcome = caller.invoke("call", ["caller", "otherchannel", "get", "mine"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!({"status": 200, "message": "", "payload": "\"1\""}));
}
