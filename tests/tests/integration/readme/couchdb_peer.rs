async fn couchdb_peer() -> ccaas_testkit::Emulator {
    ccaas_testkit::Emulator::builder()
        .seed([("asset1", r#"{"ID":"asset1","Owner":"Tom"}"#)])
        .peer(|b| b.state_database(ccaas_testkit::StateDatabase::CouchDb))
        .in_process(asset_transfer_basic::SmartContract)
        .await
}
