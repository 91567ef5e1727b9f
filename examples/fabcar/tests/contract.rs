//! Unit tests of the fabcar example (its contract, `SmartContract`, in `FabCar`), in-process with
//! `ccaas_testkit::Emulator`: every transaction and its failures, with the bytes the Go fabcar
//! (fabric-contract-api-go v1.2.0) writes and returns.

use ccaas_testkit::{Emulator, TxOutcome};
use fabcar::FabCar;

/// `json.Marshal` of the ten cars of the Go sample's `InitLedger`, stored under `CAR0`..`CAR9`.
const GO_CARS: [&str; 10] = [
    r#"{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}"#,
    r#"{"make":"Ford","model":"Mustang","colour":"red","owner":"Brad"}"#,
    r#"{"make":"Hyundai","model":"Tucson","colour":"green","owner":"Jin Soo"}"#,
    r#"{"make":"Volkswagen","model":"Passat","colour":"yellow","owner":"Max"}"#,
    r#"{"make":"Tesla","model":"S","colour":"black","owner":"Adriana"}"#,
    r#"{"make":"Peugeot","model":"205","colour":"purple","owner":"Michel"}"#,
    r#"{"make":"Chery","model":"S22L","colour":"white","owner":"Aarav"}"#,
    r#"{"make":"Fiat","model":"Punto","colour":"violet","owner":"Pari"}"#,
    r#"{"make":"Tata","model":"Nano","colour":"indigo","owner":"Valeria"}"#,
    r#"{"make":"Holden","model":"Barina","colour":"brown","owner":"Shotaro"}"#,
];

const NO_ARGS: [&str; 0] = [];

async fn peer() -> Emulator {
    Emulator::in_process(FabCar::default()).await
}

async fn initialized() -> Emulator {
    let peer = peer().await;
    peer.submit("InitLedger", NO_ARGS).await.unwrap().assert_ok();
    peer
}

fn writes(outcome: &TxOutcome) -> Vec<(&str, Option<&[u8]>)> {
    outcome.writes.iter().map(|w| (w.key.as_str(), w.value.as_deref())).collect()
}

#[tokio::test]
async fn init_ledger_writes_the_ten_cars() {
    let peer = peer().await;
    let outcome = peer.submit("InitLedger", NO_ARGS).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert!(outcome.event.is_none());
    // The write set is in key order: CAR0, CAR1, ..., CAR9.
    let expected: Vec<(String, Option<&[u8]>)> =
        GO_CARS.iter().enumerate().map(|(i, car)| (format!("CAR{i}"), Some(car.as_bytes()))).collect();
    let actual: Vec<(String, Option<&[u8]>)> = writes(&outcome).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(actual, expected);
    for (i, car) in GO_CARS.iter().enumerate() {
        assert_eq!(peer.state(&format!("CAR{i}")).unwrap(), car);
    }
}

#[tokio::test]
async fn query_car_returns_the_car_json() {
    let peer = initialized().await;
    for (i, car) in GO_CARS.iter().enumerate() {
        let outcome = peer.evaluate("QueryCar", [format!("CAR{i}")]).await.unwrap();
        assert_eq!(outcome.assert_ok().payload_str(), *car);
        assert_eq!(outcome.reads.len(), 1);
    }
    peer.evaluate("QueryCar", ["CAR99"]).await.unwrap().assert_error("CAR99 does not exist");
}

#[tokio::test]
async fn query_car_reads_leniently_as_go_does() {
    // Unknown keys are ignored, missing ones are empty, and a value that is not JSON is the empty
    // car (the Go sample ignores json.Unmarshal's error). Go would also match `Make` to `make`.
    let peer = Emulator::builder()
        .seed([("X", r#" {"owner":"Bob","make":"A&B","junk":{"a":[1]}} "#), ("Y", "not json")])
        .in_process(FabCar::default())
        .await;
    let x = peer.evaluate("QueryCar", ["X"]).await.unwrap();
    assert_eq!(x.assert_ok().payload_str(), r#"{"make":"A\u0026B","model":"","colour":"","owner":"Bob"}"#);
    let y = peer.evaluate("QueryCar", ["Y"]).await.unwrap();
    assert_eq!(y.assert_ok().payload_str(), r#"{"make":"","model":"","colour":"","owner":""}"#);
}

#[tokio::test]
async fn create_car_writes_without_checking() {
    let peer = initialized().await;
    let outcome = peer.submit("CreateCar", ["CAR10", "Honda", "Accord", "black", "Tom"]).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert!(outcome.reads.is_empty(), "the Go sample does not read first");
    assert_eq!(
        writes(&outcome),
        [("CAR10", Some(&br#"{"make":"Honda","model":"Accord","colour":"black","owner":"Tom"}"#[..]))]
    );
    // An existing car is replaced, with Go's escapes.
    peer.submit("CreateCar", ["CAR0", "<a>", "&", "\u{2028}", "é"]).await.unwrap().assert_ok();
    assert_eq!(
        peer.state("CAR0").unwrap(),
        r#"{"make":"\u003ca\u003e","model":"\u0026","colour":"\u2028","owner":"é"}"#
    );
}

#[tokio::test]
async fn query_all_cars_lists_every_key_in_order() {
    let peer = peer().await;
    let empty = peer.evaluate("QueryAllCars", NO_ARGS).await.unwrap();
    assert_eq!(empty.assert_ok().payload_str(), "[]", "the Go sample starts from an empty, non-nil slice");

    peer.submit("InitLedger", NO_ARGS).await.unwrap().assert_ok();
    peer.submit("CreateCar", ["CAR10", "Honda", "Accord", "black", "Tom"]).await.unwrap().assert_ok();
    let all = peer.evaluate("QueryAllCars", NO_ARGS).await.unwrap();
    let mut keys: Vec<String> = (0..=10).map(|i| format!("CAR{i}")).collect();
    keys.sort();
    let rows: Vec<String> = keys
        .iter()
        .map(|key| {
            let record = match key.as_str() {
                "CAR10" => r#"{"make":"Honda","model":"Accord","colour":"black","owner":"Tom"}"#,
                other => GO_CARS[other[3..].parse::<usize>().unwrap()],
            };
            format!(r#"{{"Key":"{key}","Record":{record}}}"#)
        })
        .collect();
    assert_eq!(all.assert_ok().payload_str(), format!("[{}]", rows.join(",")));
}

#[tokio::test]
async fn change_car_owner_rewrites_the_car() {
    let peer = initialized().await;
    let outcome = peer.submit("ChangeCarOwner", ["CAR4", "Dave"]).await.unwrap();
    outcome.assert_ok();
    assert!(outcome.response.payload.is_empty());
    assert_eq!(
        writes(&outcome),
        [("CAR4", Some(&br#"{"make":"Tesla","model":"S","colour":"black","owner":"Dave"}"#[..]))]
    );
    let missing = peer.submit("ChangeCarOwner", ["CAR99", "Dave"]).await.unwrap();
    missing.assert_error("CAR99 does not exist");
    assert!(missing.writes.is_empty());
}

#[tokio::test]
async fn contract_api_go_v1_texts() {
    let peer = initialized().await;
    let cases: [(&[&str], &str); 7] = [
        (&["DeleteCar", "CAR1"], "Function DeleteCar not found in contract SmartContract"),
        (&["querycar", "CAR0"], "Function querycar not found in contract SmartContract"),
        (&["SmartContract:"], "Blank function name passed"),
        (&["Other:QueryCar", "CAR0"], "Contract not found with name Other"),
        (&["CreateCar", "CAR1", "a"], "Incorrect number of params. Expected 5, received 2"),
        (&["QueryCar"], "Incorrect number of params. Expected 1, received 0"),
        (&["changeCarOwner", "CAR0"], "Incorrect number of params. Expected 2, received 1"),
    ];
    for (call, message) in cases {
        peer.tx(call[0]).args(call[1..].iter().copied()).submit().await.unwrap().assert_error(message);
    }
    // Lowercase first letter, the contract's name and surplus arguments are accepted.
    assert_eq!(peer.evaluate("queryCar", ["CAR0", "extra"]).await.unwrap().payload_str(), GO_CARS[0]);
    assert_eq!(peer.evaluate("SmartContract:QueryCar", ["CAR1"]).await.unwrap().payload_str(), GO_CARS[1]);
    assert!(peer.peer().violations().is_empty());
    let peer = Emulator::builder().peer(|b| b.init_required("1.0")).in_process(FabCar::default()).await;
    let init = peer.tx("").init().submit().await.unwrap();
    assert_eq!(init.assert_ok().payload_str(), "Default initiator successful.");
}
