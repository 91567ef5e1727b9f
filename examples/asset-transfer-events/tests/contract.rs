//! The asset-transfer-events example, in-process with `ccaas_testkit::Emulator`: each change of
//! an asset sets the event named after its transaction, with the Go sample's payload.

use asset_transfer_events::SmartContract;
use ccaas_testkit::{Emulator, TxOutcome};

const ASSET: &str = r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tom","Size":5}"#;
const UPDATED: &str = r#"{"AppraisedValue":350,"Color":"red","ID":"asset1","Owner":"Tom","Size":6}"#;
const TRANSFERRED: &str = r#"{"AppraisedValue":350,"Color":"red","ID":"asset1","Owner":"Ann","Size":6}"#;

/// The event's name and payload.
fn event(outcome: &TxOutcome) -> (String, String) {
    let event = outcome.event.as_ref().expect("the transaction sets an event");
    (event.event_name.clone(), String::from_utf8(event.payload.to_vec()).unwrap())
}

#[tokio::test]
async fn create_update_transfer_and_delete_each_emit_their_event() {
    let peer = Emulator::in_process(SmartContract).await;

    let created = peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await.unwrap();
    assert!(created.assert_ok().is_committed());
    assert_eq!(event(&created), ("CreateAsset".into(), ASSET.into()));
    assert_eq!(peer.state("asset1").unwrap(), ASSET);

    let read = peer.evaluate("ReadAsset", ["asset1"]).await.unwrap();
    assert_eq!(read.assert_ok().payload_str(), ASSET);
    assert!(read.event.is_none(), "reading sets no event");

    let updated = peer.submit("UpdateAsset", ["asset1", "red", "6", "Tom", "350"]).await.unwrap();
    assert_eq!(event(updated.assert_ok()), ("UpdateAsset".into(), UPDATED.into()));

    let transferred = peer.submit("TransferAsset", ["asset1", "Ann"]).await.unwrap();
    assert_eq!(transferred.assert_ok().payload_str(), "Tom");
    assert_eq!(event(&transferred), ("TransferAsset".into(), TRANSFERRED.into()));

    let deleted = peer.submit("DeleteAsset", ["asset1"]).await.unwrap();
    assert_eq!(event(deleted.assert_ok()), ("DeleteAsset".into(), TRANSFERRED.into()));
    assert!(peer.state("asset1").is_none());
}

#[tokio::test]
async fn refused_changes_fail_with_the_go_texts_and_write_nothing() {
    let peer = Emulator::in_process(SmartContract).await;
    peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await.unwrap().assert_ok();

    let again = peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await.unwrap();
    assert!(again.assert_error("the asset asset1 already exists").writes.is_empty());
    for call in [
        &["UpdateAsset", "nope", "red", "6", "Tom", "350"][..],
        &["TransferAsset", "nope", "Ann"],
        &["DeleteAsset", "nope"],
    ] {
        let outcome = peer.tx(call[0]).args(call[1..].iter().copied()).submit().await.unwrap();
        assert!(outcome.assert_error("the asset nope does not exist").writes.is_empty(), "{call:?}");
    }
    let bad = peer.submit("CreateAsset", ["asset2", "blue", "five", "Tom", "300"]).await.unwrap();
    bad.assert_error("error managing parameter param2. conversion error. cannot convert passed value five to int");
}
