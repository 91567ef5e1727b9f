//! The asset-transfer-private-data example, in-process with two peers (Org1's and Org2's) on
//! one ledger, with the collections of the example's `collections_config.json`: an asset created
//! from transient data by an Org1 client, agreed to by an Org2 client and transferred to them; a
//! client of another org is refused; the transient data never reaches the public write set.

use std::sync::Arc;

use asset_transfer_private_data::SmartContract;
use ccaas_shim::contract::ContractChaincode;
use ccaas_shim::identity::ClientIdentity;
use ccaas_shim::{ChaincodeService, Drain};
use ccaas_testkit::model::CollectionConfig;
use ccaas_testkit::{Identity, Ledger, PeerConfig, PeerEmulator, TxOutcome};
use serde_json::Value;

const NAME: &str = "private";

/// The collections of this crate's `collections_config.json`.
fn collections() -> Vec<CollectionConfig> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/collections_config.json");
    CollectionConfig::from_collections_config(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The peer of `msp_id` on `ledger`, running the chaincode as a peer of that org would launch it
/// (`CORE_PEER_LOCALMSPID=<msp_id>`).
async fn peer(msp_id: &str, ledger: &Arc<Ledger>) -> PeerEmulator {
    let config = PeerConfig { peer_msp_id: msp_id.to_string(), ..PeerConfig::default() };
    let builder = collections().into_iter().fold(
        PeerEmulator::builder().chaincode_name(NAME).peer_config(config).ledger(ledger.clone()),
        |builder, collection| builder.collection(collection),
    );
    let chaincode = ContractChaincode::new().contract(SmartContract);
    let service = ChaincodeService::new(Arc::new(chaincode), "private:0", Drain::new()).with_peer_msp_id(msp_id);
    builder.connect_in_process(&service).await.unwrap()
}

async fn submit(peer: &PeerEmulator, who: &Identity, function: &'static str, transient: (&str, &str)) -> TxOutcome {
    peer.transaction(function)
        .creator(who.clone())
        .transient(transient.0, transient.1.to_string())
        .submit()
        .await
        .unwrap()
}

async fn read_asset(peer: &PeerEmulator, who: &Identity) -> Value {
    let outcome = peer.transaction("ReadAsset").arg("asset1").creator(who.clone()).evaluate().await.unwrap();
    outcome.assert_ok().payload_json()
}

fn client_id(who: &Identity) -> String {
    ClientIdentity::from_creator(&who.serialize()).unwrap().decoded_id().unwrap()
}

const PROPERTIES: &str = r#"{"objectType":"asset","assetID":"asset1","color":"green","size":20,"appraisedValue":100}"#;
const VALUE: &str = r#"{"assetID":"asset1","appraisedValue":100}"#;

#[tokio::test]
async fn create_agree_transfer_and_delete_a_private_asset() {
    let ledger = Ledger::new();
    let (org1, org2) = (peer("Org1MSP", &ledger).await, peer("Org2MSP", &ledger).await);
    let (alice, bob) = (Identity::generate("Org1MSP", "alice"), Identity::generate("Org2MSP", "bob"));

    let created = submit(&org1, &alice, "CreateAsset", ("asset_properties", PROPERTIES)).await;
    assert!(created.is_committed(), "{}", created.response.message);
    // Only private writes: the transient data never reaches the public write set or state.
    let collections: Vec<_> = created.writes.iter().map(|w| w.collection.as_deref()).collect();
    assert_eq!(collections, [Some("Org1MSPPrivateCollection"), Some("assetCollection")]);
    assert!(ledger.get(NAME, "asset1").is_none());
    assert!(created.response.payload.is_empty() && created.event.is_none());
    let details = ledger.private(NAME, "Org1MSPPrivateCollection", "asset1").unwrap();
    assert_eq!(details, VALUE.as_bytes());
    let asset = read_asset(&org1, &alice).await;
    assert_eq!(asset["owner"], client_id(&alice).as_str());
    assert_eq!(
        (asset["objectType"].as_str(), asset["color"].as_str(), asset["size"].as_i64()),
        (Some("asset"), Some("green"), Some(20))
    );

    let agreed = submit(&org2, &bob, "AgreeToTransfer", ("asset_value", VALUE)).await;
    assert!(agreed.is_committed(), "{}", agreed.response.message);
    assert!(agreed.writes.iter().all(|w| w.collection.is_some()));
    let transferred =
        submit(&org1, &alice, "TransferAsset", ("asset_owner", r#"{"assetID":"asset1","buyerMSP":"Org2MSP"}"#)).await;
    assert!(transferred.is_committed(), "{}", transferred.response.message);
    assert_eq!(read_asset(&org2, &bob).await["owner"], client_id(&bob).as_str());
    assert!(ledger.private(NAME, "Org1MSPPrivateCollection", "asset1").is_none(), "the seller's value is gone");

    let deleted = submit(&org2, &bob, "DeleteAsset", ("asset_delete", r#"{"assetID":"asset1"}"#)).await;
    assert!(deleted.is_committed(), "{}", deleted.response.message);
    let gone = org2.transaction("ReadAsset").arg("asset1").creator(bob).evaluate().await.unwrap();
    assert_eq!((gone.status(), gone.response.payload.len()), (200, 0), "a missing asset is an empty payload");
}

#[tokio::test]
async fn clients_of_other_orgs_are_refused() {
    let ledger = Ledger::new();
    let org1 = peer("Org1MSP", &ledger).await;

    // Org2 is a member of assetCollection, but this is Org1's peer: the sample's org check.
    let bob = Identity::generate("Org2MSP", "bob");
    let refused = submit(&org1, &bob, "CreateAsset", ("asset_properties", PROPERTIES)).await;
    assert_eq!(
        refused.response.message,
        "CreateAsset cannot be performed: Error client from org Org2MSP is not authorized to read or write private data from an org Org1MSP peer"
    );
    assert!(refused.writes.is_empty());

    // Org3 is no member of any collection: the peer refuses it the first read.
    let carol = Identity::generate("Org3MSP", "carol");
    let refused = submit(&org1, &carol, "CreateAsset", ("asset_properties", PROPERTIES)).await;
    assert!(refused.response.message.starts_with("failed to get asset: "), "{}", refused.response.message);
    assert!(refused.response.message.contains("does not have read access"), "{}", refused.response.message);
    assert!(refused.writes.is_empty());

    // Transient input is checked like the Go sample checks it.
    let alice = Identity::generate("Org1MSP", "alice");
    let no_size = submit(
        &org1,
        &alice,
        "CreateAsset",
        ("asset_properties", r#"{"objectType":"asset","assetID":"a","color":"red"}"#),
    )
    .await;
    assert_eq!(no_size.response.message, "size field must be a positive integer");
    let missing = org1.transaction("CreateAsset").creator(alice).submit().await.unwrap();
    assert_eq!(missing.response.message, "asset not found in the transient map input");
}
