//! State metadata and key-level endorsement (validation parameters), public and private, built
//! with `ccaas_shim::policy::KeyEndorsementPolicy` and committed by the peer model as Fabric's
//! committer does.

use crate::support;

use ccaas_protos::protos::chaincode_message::Type;
use ccaas_protos::protos::PutStateMetadata;
use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
use ccaas_shim::VALIDATION_PARAMETER;
use ccaas_testkit::model::CollectionConfig;
use ccaas_testkit::{Identity, PeerEmulator};
use prost::Message;
use serde_json::json;
use support::{payload_json, RawChaincode, StubProbe};

async fn peer() -> PeerEmulator {
    PeerEmulator::builder()
        .chaincode_name("basic")
        .collection(CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true).member_only_write(true))
        .connect_chaincode(StubProbe)
        .await
        .unwrap()
}

fn policy(role: RoleType, orgs: &[&str]) -> Vec<u8> {
    let mut policy = KeyEndorsementPolicy::new();
    policy.add_orgs(role, orgs).unwrap();
    policy.policy().unwrap()
}

#[tokio::test]
async fn a_validation_parameter_is_set_committed_and_read_back() {
    let peer = peer().await;
    assert!(peer.invoke("put", ["asset1", "blue"]).await.unwrap().is_committed());
    let outcome = peer.invoke("vp_set", ["asset1", "MEMBER", "Org1MSP", "Org2MSP"]).await.unwrap();
    assert!(outcome.is_committed(), "{}", outcome.response.message);
    assert!(outcome.writes.is_empty(), "a metadata write is not a value write");
    assert_eq!(outcome.metadata_writes.len(), 1);
    let expected = policy(RoleType::Member, &["Org1MSP", "Org2MSP"]);
    assert_eq!(outcome.metadata_writes[0].entries[VALIDATION_PARAMETER], expected);

    // The committed metadata is the policy's bytes; the value is unchanged.
    let committed = peer.ledger().get_versioned("basic", "asset1").unwrap();
    assert_eq!(committed.value, "blue");
    assert_eq!(committed.metadata[VALIDATION_PARAMETER], expected);
    assert_eq!(payload_json(&peer.query("vp_get", ["asset1"]).await.unwrap()), json!(["Org1MSP", "Org2MSP"]));

    // Read, extend and write back (the policy builder's round trip through the peer).
    assert!(peer.invoke("vp_add", ["asset1", "Org3MSP"]).await.unwrap().is_committed());
    assert_eq!(
        payload_json(&peer.query("vp_get", ["asset1"]).await.unwrap()),
        json!(["Org1MSP", "Org2MSP", "Org3MSP"])
    );
    let stored = KeyEndorsementPolicy::from_bytes(&peer.ledger().metadata("basic", "asset1")[VALIDATION_PARAMETER]);
    assert_eq!(stored.unwrap().list_orgs(), ["Org1MSP", "Org2MSP", "Org3MSP"]);
    let stats = peer.stats();
    assert_eq!((stats.count(Type::PutStateMetadata), stats.count(Type::GetStateMetadata)), (2, 3));
}

#[tokio::test]
async fn metadata_follows_the_committers_rules() {
    let peer = peer().await;
    let ledger = peer.ledger();

    // A metadata write for a key that does not exist is dropped at commit.
    assert!(peer.invoke("meta_put", ["ghost", "owner", "nobody"]).await.unwrap().is_committed());
    assert!(ledger.get("basic", "ghost").is_none() && ledger.metadata("basic", "ghost").is_empty());
    assert_eq!(payload_json(&peer.query("meta_get", ["ghost"]).await.unwrap()), json!({}));

    // Written with the value in one transaction, it is stored with it.
    let outcome = peer.invoke("script", ["put:k=v1", "meta:k:owner=alice", "get:k"]).await.unwrap();
    assert_eq!(payload_json(&outcome), json!([null]), "the transaction does not see its own writes");
    assert_eq!(payload_json(&peer.query("meta_get", ["k"]).await.unwrap()), json!({"owner": "alice"}));

    // A value update keeps the metadata; a metadata-only update keeps the value, gets a new
    // version and no history entry.
    let before = ledger.get_versioned("basic", "k").unwrap();
    assert!(peer.invoke("put", ["k", "v2"]).await.unwrap().is_committed());
    assert_eq!(ledger.metadata("basic", "k")["owner"], "alice");
    assert!(peer.invoke("meta_put", ["k", "color", "red"]).await.unwrap().is_committed());
    let after = ledger.get_versioned("basic", "k").unwrap();
    assert_eq!(after.value, "v2");
    assert!(after.version > before.version);
    assert_eq!(ledger.history("basic", "k").len(), 2);
    // The peer replaces a key's metadata with the transaction's metadata write: one metakey per
    // PUT_STATE_METADATA, so the earlier `owner` entry is gone.
    assert_eq!(payload_json(&peer.query("meta_get", ["k"]).await.unwrap()), json!({"color": "red"}));

    // A delete drops the metadata; a new value starts without any.
    assert!(peer.invoke("script", ["del:k"]).await.unwrap().is_committed());
    assert!(peer.invoke("put", ["k", "v3"]).await.unwrap().is_committed());
    assert!(ledger.metadata("basic", "k").is_empty());
}

#[tokio::test]
async fn private_metadata_and_validation_parameters() {
    let peer = peer().await;
    assert!(peer.invoke("pput", ["secrets", "pin", "1234"]).await.unwrap().is_committed());
    assert!(peer.invoke("pvp_set", ["secrets", "pin", "Org1MSP"]).await.unwrap().is_committed());
    assert_eq!(payload_json(&peer.query("pvp_get", ["secrets", "pin"]).await.unwrap()), json!(["Org1MSP"]));
    // Kept with the hash: the private value itself is unchanged.
    let ledger = peer.ledger();
    assert_eq!(ledger.private("basic", "secrets", "pin").unwrap(), "1234");
    assert_eq!(
        ledger.private_metadata("basic", "secrets", "pin")[VALIDATION_PARAMETER],
        policy(RoleType::Member, &["Org1MSP"])
    );
    assert!(peer.invoke("pmeta_put", ["secrets", "pin", "owner", "alice"]).await.unwrap().is_committed());
    assert_eq!(payload_json(&peer.query("pmeta_get", ["secrets", "pin"]).await.unwrap()), json!({"owner": "alice"}));

    // The same access checks as the data.
    let org2 = Identity::generate("Org2MSP", "User1@org2.example.com");
    let outcome =
        peer.transaction("pmeta_get").args(["secrets", "pin"]).creator(org2.clone()).evaluate().await.unwrap();
    assert_eq!(
        outcome.response.message,
        format!(
            "GET_STATE_METADATA failed: transaction ID: {}: tx creator does not have read access permission on privatedata in chaincodeName:basic collectionName: secrets",
            outcome.tx_id
        )
    );
    let outcome = peer.transaction("pvp_set").args(["secrets", "pin", "Org2MSP"]).creator(org2).submit().await.unwrap();
    assert!(outcome.response.message.ends_with("tx creator does not have write access permission on privatedata in chaincodeName:basic collectionName: secrets"));
}

#[tokio::test]
async fn metadata_writes_count_as_writes_for_the_read_only_rule() {
    // After a paginated query, a metadata write is refused like any write.
    let (peer, mut cc) = RawChaincode::connect(PeerEmulator::builder().chaincode_name("raw")).await;
    peer.ledger().seed("raw", [("a", "1")]);
    let (task, tx) = cc.start(peer.transaction("f")).await;
    let page = ccaas_protos::protos::GetStateByRange {
        metadata: ccaas_protos::protos::QueryMetadata { page_size: 1, bookmark: String::new() }.encode_to_vec().into(),
        ..Default::default()
    };
    assert_eq!(cc.request(&tx, Type::GetStateByRange, page.encode_to_vec()).await.r#type, Type::Response as i32);
    let put = PutStateMetadata {
        key: "a".into(),
        collection: String::new(),
        metadata: Some(ccaas_protos::protos::StateMetadata { metakey: "m".into(), value: "v".into() }),
    };
    let reply = cc.request(&tx, Type::PutStateMetadata, put.encode_to_vec()).await;
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!(
            "PUT_STATE_METADATA failed: transaction ID: {0}: txid [{0}]: unsuppored transaction. Transaction has already performed a paginated query. Writes are not allowed",
            tx.txid
        )
    );
    // A PUT_STATE_METADATA without metadata panics the peer's handler; it recovers and answers.
    let bare = PutStateMetadata { key: "a".into(), ..Default::default() };
    let reply = cc.request(&tx, Type::PutStateMetadata, bare.encode_to_vec()).await;
    assert_eq!(
        String::from_utf8_lossy(&reply.payload),
        format!("PUT_STATE_METADATA failed: transaction ID: {}: panic during execution", tx.txid)
    );
    cc.complete(&tx, 200).await;
    task.await.unwrap().unwrap();
    assert!(peer.is_connected());
}
