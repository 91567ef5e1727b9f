async fn init_then_read() -> Result<(), Box<dyn std::error::Error>> {
    let peer = ccaas_testkit::Emulator::builder()
        .peer(|b| b.init_required("1.0"))
        .in_process(asset_transfer_basic::SmartContract)
        .await;
    assert!(peer.evaluate("ReadAsset", ["asset1"]).await.is_err()); // "... must call as init first"
    peer.tx("InitLedger").init().submit().await?.assert_ok();
    peer.evaluate("ReadAsset", ["asset1"]).await?.assert_ok();
    Ok(())
}
