use ccaas_testkit::{Emulator, Identity};

#[tokio::test]
async fn create_then_read() -> Result<(), Box<dyn std::error::Error>> {
    // A #[contract] type, a ContractChaincode, or any low-level Chaincode.
    let peer = Emulator::in_process(asset_transfer_basic::SmartContract).await;

    let outcome = peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await?;
    outcome.assert_ok();
    assert_eq!(outcome.writes[0].key, "asset1"); // the write set
    assert!(outcome.event.is_none()); // the chaincode event, if any
    assert!(peer.state("asset1").is_some()); // the committed ledger

    let read = peer.evaluate("ReadAsset", ["asset1"]).await?; // evaluate commits nothing
    assert_eq!(read.payload_str(), r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tom","Size":5}"#);
    peer.evaluate("ReadAsset", ["nope"]).await?.assert_error("the asset nope does not exist");

    // Per transaction: the client identity, transient data and timestamp.
    peer.tx("CreateAsset")
        .args(["asset2", "red", "5", "Ann", "400"])
        .creator(Identity::generate("Org2MSP", "ann"))
        .transient("secret", "s3cr3t")
        .timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        .submit()
        .await?
        .assert_ok();
    Ok(())
}
