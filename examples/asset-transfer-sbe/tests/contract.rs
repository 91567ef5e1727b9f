//! The asset-transfer-sbe example, in-process with `ccaas_testkit::Emulator`: creating an asset
//! sets its key's endorsement policy to the creator's org, a transfer hands it to the new owner's
//! org, and the other transactions leave it alone.

use asset_transfer_sbe::AssetContract;
use ccaas_shim::policy::KeyEndorsementPolicy;
use ccaas_shim::VALIDATION_PARAMETER;
use ccaas_testkit::{Emulator, Identity, TxOutcome};

/// The orgs of the key-level endorsement policy the transaction set on `key`, if it set one.
fn policy_orgs(outcome: &TxOutcome, key: &str) -> Option<Vec<String>> {
    let write = outcome.metadata_writes.iter().find(|w| w.key == key)?;
    Some(KeyEndorsementPolicy::from_bytes(&write.entries[VALIDATION_PARAMETER]).unwrap().list_orgs())
}

#[tokio::test]
async fn the_owner_org_endorses_each_asset_and_a_transfer_hands_it_on() {
    let peer = Emulator::in_process(AssetContract).await;
    let org1 = Identity::generate("Org1MSP", "alice");

    let created = peer.tx("CreateAsset").args(["asset1", "100", "Alice"]).creator(org1).submit().await.unwrap();
    assert!(created.assert_ok().is_committed());
    assert_eq!(policy_orgs(&created, "asset1"), Some(vec!["Org1MSP".to_string()]));
    let json = r#"{"ID":"asset1","Value":100,"Owner":"Alice","OwnerOrg":"Org1MSP"}"#;
    assert_eq!(peer.state("asset1").unwrap(), json);
    assert_eq!(peer.evaluate("ReadAsset", ["asset1"]).await.unwrap().assert_ok().payload_str(), json);

    let updated = peer.submit("UpdateAsset", ["asset1", "200"]).await.unwrap();
    assert_eq!(policy_orgs(updated.assert_ok(), "asset1"), None, "an update keeps the policy");
    assert!(peer.state("asset1").unwrap().starts_with(br#"{"ID":"asset1","Value":200,"#));

    let transferred = peer.submit("TransferAsset", ["asset1", "Bob", "Org2MSP"]).await.unwrap();
    assert_eq!(policy_orgs(transferred.assert_ok(), "asset1"), Some(vec!["Org2MSP".to_string()]));
    assert_eq!(peer.state("asset1").unwrap(), r#"{"ID":"asset1","Value":200,"Owner":"Bob","OwnerOrg":"Org2MSP"}"#);

    assert_eq!(peer.evaluate("AssetExists", ["asset1"]).await.unwrap().payload_str(), "true");
    peer.submit("DeleteAsset", ["asset1"]).await.unwrap().assert_ok();
    assert_eq!(peer.evaluate("AssetExists", ["asset1"]).await.unwrap().payload_str(), "false");
}

#[tokio::test]
async fn missing_and_duplicate_assets_fail_with_the_sample_texts() {
    let peer = Emulator::in_process(AssetContract).await;
    peer.submit("CreateAsset", ["asset1", "100", "Alice"]).await.unwrap().assert_ok();
    peer.submit("CreateAsset", ["asset1", "100", "Alice"])
        .await
        .unwrap()
        .assert_error("The asset asset1 already exists");
    for call in [
        &["ReadAsset", "nope"][..],
        &["UpdateAsset", "nope", "1"],
        &["TransferAsset", "nope", "Bob", "Org2MSP"],
        &["DeleteAsset", "nope"],
    ] {
        let outcome = peer.tx(call[0]).args(call[1..].iter().copied()).submit().await.unwrap();
        assert!(outcome.assert_error("The asset nope does not exist").metadata_writes.is_empty(), "{call:?}");
    }
}
