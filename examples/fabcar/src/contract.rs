//! Routing a transaction to its function the way fabric-contract-api-go v1.2.0 (the version the
//! Go fabcar pinned) does.
//!
//! The Go chaincode is `contractapi.NewChaincode(new(SmartContract))`; its dispatcher decides the
//! function names, how arguments are counted, how results are serialized, and the error texts for
//! everything that goes wrong before the sample's own code runs. This module reproduces that for
//! the five transactions. Every fabcar parameter is a Go `string`, so no argument can fail to
//! convert.

use crate::car::query_results_to_json;
use crate::transactions::{change_car_owner, create_car, init_ledger, query_all_cars, query_car};
use crate::{Car, TxError, WorldState};

/// The contract's name, the Go struct's type name. A function may be called as `QueryCar` or as
/// `SmartContract:QueryCar`.
pub const CONTRACT_NAME: &str = "SmartContract";

/// What `Init` returns when called without a function name.
pub const DEFAULT_INIT_PAYLOAD: &str = "Default initiator successful.";

/// The transactions, with their Go method names and parameter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transaction {
    InitLedger,
    CreateCar,
    QueryCar,
    QueryAllCars,
    ChangeCarOwner,
}

impl Transaction {
    const ALL: [Transaction; 5] = [
        Transaction::InitLedger,
        Transaction::CreateCar,
        Transaction::QueryCar,
        Transaction::QueryAllCars,
        Transaction::ChangeCarOwner,
    ];

    fn name(self) -> &'static str {
        match self {
            Transaction::InitLedger => "InitLedger",
            Transaction::CreateCar => "CreateCar",
            Transaction::QueryCar => "QueryCar",
            Transaction::QueryAllCars => "QueryAllCars",
            Transaction::ChangeCarOwner => "ChangeCarOwner",
        }
    }

    /// How many arguments the Go method takes after the transaction context.
    fn arity(self) -> usize {
        match self {
            Transaction::InitLedger | Transaction::QueryAllCars => 0,
            Transaction::QueryCar => 1,
            Transaction::ChangeCarOwner => 2,
            Transaction::CreateCar => 5,
        }
    }

    /// The transaction `name` selects. The Go API upper-cases a lower-case first letter
    /// (`unicode.IsLower`, `unicode.ToUpper`) before the lookup, so `queryCar` calls `QueryCar`.
    /// The names are ASCII, and the only lower-case letters outside ASCII whose upper case is an
    /// ASCII letter are `ı` (to `I`) and `ſ` (to `S`).
    fn find(name: &str) -> Option<Transaction> {
        let mut chars = name.chars();
        let first = match chars.next()? {
            c @ 'a'..='z' => c.to_ascii_uppercase(),
            '\u{131}' => 'I',
            '\u{17F}' => 'S',
            c => c,
        };
        let rest = chars.as_str();
        Transaction::ALL.into_iter().find(|t| {
            let mut expected = t.name().chars();
            expected.next() == Some(first) && expected.as_str() == rest
        })
    }
}

/// Runs `function` with `params` against `state` and returns the response payload.
///
/// Payloads are what the Go contract API's JSON serializer returns: the car's JSON for
/// `QueryCar`, a JSON array of `{"Key":..,"Record":..}` for `QueryAllCars` (`[]` when there are
/// none) and no bytes for the rest. Extra arguments are ignored, as in Go.
pub async fn invoke<S: WorldState>(state: &S, function: &str, params: &[String]) -> Result<Vec<u8>, TxError> {
    let (contract, name) = match function.rfind(':') {
        Some(at) => (&function[..at], &function[at + 1..]),
        None => (CONTRACT_NAME, function),
    };
    if contract != CONTRACT_NAME {
        return Err(TxError::new(format!("Contract not found with name {contract}")));
    }
    if name.is_empty() {
        return Err(TxError::new("Blank function name passed"));
    }
    let Some(tx) = Transaction::find(name) else {
        return Err(TxError::new(format!("Function {name} not found in contract {contract}")));
    };
    if params.len() < tx.arity() {
        return Err(TxError::new(format!(
            "Incorrect number of params. Expected {}, received {}",
            tx.arity(),
            params.len()
        )));
    }
    let arg = |index: usize| params[index].as_str();

    match tx {
        Transaction::InitLedger => init_ledger(state).await.map(no_payload),
        Transaction::CreateCar => {
            let car = Car::new(arg(1), arg(2), arg(3), arg(4));
            create_car(state, arg(0), &car).await.map(no_payload)
        }
        Transaction::QueryCar => query_car(state, arg(0)).await.map(|car| car.to_json()),
        Transaction::QueryAllCars => query_all_cars(state).await.map(|results| query_results_to_json(&results)),
        Transaction::ChangeCarOwner => change_car_owner(state, arg(0), arg(1)).await.map(no_payload),
    }
}

fn no_payload(_: ()) -> Vec<u8> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transactions::memory::MemoryState;

    fn call(state: &MemoryState, function: &str, params: &[&str]) -> Result<String, String> {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime
            .block_on(invoke(state, function, &params))
            .map(|payload| String::from_utf8(payload).unwrap())
            .map_err(|e| e.to_string())
    }

    const CAR0: &str = r#"{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}"#;

    #[test]
    fn payloads_are_serialized_like_the_go_contract_api() {
        let state = MemoryState::default();
        assert_eq!(call(&state, "QueryAllCars", &[]), Ok("[]".to_owned()));
        assert_eq!(call(&state, "InitLedger", &[]), Ok(String::new()));
        assert_eq!(call(&state, "QueryCar", &["CAR0"]), Ok(CAR0.to_owned()));
        assert_eq!(call(&state, "CreateCar", &["CAR10", "Kia", "Rio", "grey", "Ana"]), Ok(String::new()));
        assert_eq!(call(&state, "ChangeCarOwner", &["CAR10", "Dave"]), Ok(String::new()));
        assert_eq!(
            call(&state, "QueryCar", &["CAR10"]),
            Ok(r#"{"make":"Kia","model":"Rio","colour":"grey","owner":"Dave"}"#.to_owned())
        );

        let all = call(&state, "QueryAllCars", &[]).unwrap();
        let expected = format!(
            "[{{\"Key\":\"CAR0\",\"Record\":{CAR0}}},\
             {{\"Key\":\"CAR1\",\"Record\":{{\"make\":\"Ford\",\"model\":\"Mustang\",\"colour\":\"red\",\"owner\":\"Brad\"}}}},\
             {{\"Key\":\"CAR10\",\"Record\":{{\"make\":\"Kia\",\"model\":\"Rio\",\"colour\":\"grey\",\"owner\":\"Dave\"}}}},"
        );
        assert!(all.starts_with(&expected), "{all}");
        assert!(all.ends_with(
            r#"{"Key":"CAR9","Record":{"make":"Holden","model":"Barina","colour":"brown","owner":"Shotaro"}}]"#
        ));
        assert_eq!(all.matches("\"Key\"").count(), 11);
    }

    #[test]
    fn query_car_returns_the_normalized_car_not_the_stored_bytes() {
        let state = MemoryState::default();
        state.insert("X", br#" {"owner":"Bob","Make":"A&B","junk":{"a":[1]}} "#);
        assert_eq!(
            call(&state, "QueryCar", &["X"]),
            Ok(r#"{"make":"A\u0026B","model":"","colour":"","owner":"Bob"}"#.to_owned())
        );
    }

    #[test]
    fn contract_prefix_and_lower_case_first_letter_are_accepted() {
        let state = MemoryState::default();
        call(&state, "SmartContract:InitLedger", &[]).unwrap();
        assert_eq!(call(&state, "queryCar", &["CAR0"]), Ok(CAR0.to_owned()));
        assert_eq!(call(&state, "SmartContract:queryCar", &["CAR0"]), Ok(CAR0.to_owned()));
        // unicode.ToUpper('ı') is 'I' in Go.
        assert_eq!(call(&state, "ınitLedger", &[]), Ok(String::new()));
    }

    #[test]
    fn routing_errors_have_the_go_contract_api_texts() {
        let state = MemoryState::default();
        assert_eq!(call(&state, "Nope", &[]), Err("Function Nope not found in contract SmartContract".into()));
        assert_eq!(
            call(&state, "querycar", &["CAR0"]),
            Err("Function querycar not found in contract SmartContract".into())
        );
        assert_eq!(
            call(&state, "QUERYCAR", &["CAR0"]),
            Err("Function QUERYCAR not found in contract SmartContract".into())
        );
        assert_eq!(call(&state, "GetName", &[]), Err("Function GetName not found in contract SmartContract".into()));
        assert_eq!(call(&state, "", &[]), Err("Blank function name passed".into()));
        assert_eq!(call(&state, "SmartContract:", &[]), Err("Blank function name passed".into()));
        assert_eq!(call(&state, "Other:QueryCar", &["CAR0"]), Err("Contract not found with name Other".into()));
        assert_eq!(call(&state, ":QueryCar", &["CAR0"]), Err("Contract not found with name ".into()));
        assert_eq!(call(&state, "a:b:QueryCar", &["CAR0"]), Err("Contract not found with name a:b".into()));
    }

    #[test]
    fn too_few_arguments_fail_and_extra_ones_are_ignored() {
        let state = MemoryState::default();
        assert_eq!(
            call(&state, "CreateCar", &["CAR10", "Kia", "Rio", "grey"]),
            Err("Incorrect number of params. Expected 5, received 4".into())
        );
        assert_eq!(call(&state, "QueryCar", &[]), Err("Incorrect number of params. Expected 1, received 0".into()));
        assert_eq!(
            call(&state, "changeCarOwner", &["CAR0"]),
            Err("Incorrect number of params. Expected 2, received 1".into())
        );
        assert!(state.keys().is_empty());
        assert_eq!(call(&state, "InitLedger", &["extra"]), Ok(String::new()));
        assert_eq!(call(&state, "QueryCar", &["CAR0", "extra"]), Ok(CAR0.to_owned()));
        assert_eq!(call(&state, "CreateCar", &["CAR0", "a", "b", "c", "d", "e"]), Ok(String::new()));
        assert_eq!(state.value("CAR0").unwrap(), r#"{"make":"a","model":"b","colour":"c","owner":"d"}"#);
    }

    #[test]
    fn sample_errors_pass_through_unchanged() {
        let state = MemoryState::default();
        assert_eq!(call(&state, "QueryCar", &["CAR0"]), Err("CAR0 does not exist".into()));
        assert_eq!(call(&state, "ChangeCarOwner", &["CAR0", "x"]), Err("CAR0 does not exist".into()));
    }
}
