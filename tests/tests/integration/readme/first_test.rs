use ccaas_testkit::Emulator;

#[tokio::test]
async fn create_then_read() -> Result<(), Box<dyn std::error::Error>> {
    let peer = Emulator::in_process(asset_transfer_basic::SmartContract).await;
    peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await?.assert_ok();
    let read = peer.evaluate("ReadAsset", ["asset1"]).await?;
    assert_eq!(read.payload_str(), r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tom","Size":5}"#);
    peer.evaluate("ReadAsset", ["nope"]).await?.assert_error("the asset nope does not exist");
    Ok(())
}
