//! fabcar end to end: the chaincode served to the testkit's peer emulator, so the stub calls
//! (range query, iterator close) go through the real shim and the peer model.

use ccaas_testkit::PeerEmulator;
use fabcar::FabCar;

const CAR0: &str = r#"{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}"#;

async fn peer() -> PeerEmulator {
    PeerEmulator::builder().connect_chaincode(FabCar::default()).await.expect("the chaincode connects")
}

#[tokio::test]
async fn the_fabcar_walkthrough() {
    let peer = peer().await;
    let ns = peer.chaincode_name().to_string();
    let no_args: [&str; 0] = [];

    let empty = peer.query("QueryAllCars", no_args).await.unwrap();
    assert_eq!(empty.status(), 200, "{}", empty.response.message);
    assert_eq!(empty.payload_str(), "[]");

    let init = peer.invoke("InitLedger", no_args).await.unwrap();
    assert!(init.is_committed(), "{}", init.response.message);
    assert_eq!(init.writes.len(), 10);
    assert_eq!(peer.ledger().get(&ns, "CAR0").unwrap(), CAR0.as_bytes());

    let car = peer.query("QueryCar", ["CAR0"]).await.unwrap();
    assert_eq!(car.payload_str(), CAR0);

    let all = peer.query("QueryAllCars", no_args).await.unwrap();
    assert_eq!(all.status(), 200, "{}", all.response.message);
    let all = all.payload_str();
    assert!(all.starts_with(&format!(r#"[{{"Key":"CAR0","Record":{CAR0}}},{{"Key":"CAR1","#)), "{all}");
    assert_eq!(all.matches(r#""Key""#).count(), 10);

    let create = peer.invoke("CreateCar", ["CAR10", "Honda", "Accord", "black", "Tom"]).await.unwrap();
    assert!(create.is_committed(), "{}", create.response.message);
    let change = peer.invoke("ChangeCarOwner", ["CAR10", "Dave"]).await.unwrap();
    assert!(change.is_committed(), "{}", change.response.message);
    assert_eq!(
        peer.ledger().get(&ns, "CAR10").unwrap(),
        br#"{"make":"Honda","model":"Accord","colour":"black","owner":"Dave"}"#.as_slice()
    );

    let all = peer.query("QueryAllCars", no_args).await.unwrap();
    assert!(
        all.payload_str().contains(
            r#"{"Key":"CAR10","Record":{"make":"Honda","model":"Accord","colour":"black","owner":"Dave"}},{"Key":"CAR2","#
        ),
        "{}",
        all.payload_str()
    );
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}

#[tokio::test]
async fn failures_carry_the_go_texts() {
    let peer = peer().await;
    let missing = peer.query("QueryCar", ["CAR99"]).await.unwrap();
    assert_eq!(missing.status(), 500);
    assert_eq!(missing.response.message, "CAR99 does not exist");

    let change = peer.invoke("ChangeCarOwner", ["CAR99", "x"]).await.unwrap();
    assert_eq!(change.response.message, "CAR99 does not exist");
    assert!(change.writes.is_empty());

    let few = peer.invoke("CreateCar", ["CAR1", "a"]).await.unwrap();
    assert_eq!(few.response.message, "Incorrect number of params. Expected 5, received 2");

    let unknown = peer.query("DeleteCar", ["CAR1"]).await.unwrap();
    assert_eq!(unknown.response.message, "Function DeleteCar not found in contract SmartContract");
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}

#[tokio::test]
async fn query_all_cars_reads_every_key_across_batches() {
    let peer = peer().await;
    let ns = peer.chaincode_name().to_string();
    peer.ledger().seed(&ns, (0..250).map(|i| (format!("CAR{i:03}"), format!(r#"{{"make":"m{i}","owner":"o"}}"#))));
    let all = peer.query("QueryAllCars", [""; 0]).await.unwrap();
    assert_eq!(all.status(), 200, "{}", all.response.message);
    let all = all.payload_str();
    assert_eq!(all.matches(r#""Key""#).count(), 250);
    assert!(all.ends_with(r#"{"Key":"CAR249","Record":{"make":"m249","model":"","colour":"","owner":"o"}}]"#));
    assert!(peer.violations().is_empty(), "{:?}", peer.violations());
}
