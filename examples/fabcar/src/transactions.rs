//! One function per transaction, with the Go sample's ledger calls and error texts.
//!
//! Each function makes the same stub calls in the same order as fabric-samples'
//! `chaincode/fabcar/go/fabcar.go`, so read and write sets are identical.

use crate::{Car, QueryResult, TxError, WorldState};

/// The range `QueryAllCars` reads: `GetStateByRange("", "")`, every simple key.
///
/// The Go sample read `"CAR0"` to `"CAR99"` until fabric-samples commit 6c29fa01 (June 2020)
/// opened the range; this is the later behaviour, the one the sample had when it was removed.
pub const QUERY_ALL_CARS_RANGE: (&str, &str) = ("", "");

/// The ledger key of the `index`-th initial car: `CAR0` to `CAR9`.
pub fn initial_car_key(index: usize) -> String {
    format!("CAR{index}")
}

/// `InitLedger`: writes the ten [initial cars](Car::initial) under `CAR0` to `CAR9`.
pub async fn init_ledger<S: WorldState>(state: &S) -> Result<(), TxError> {
    for (index, car) in Car::initial().iter().enumerate() {
        state
            .put_state(&initial_car_key(index), car.to_json())
            .await
            .map_err(|e| TxError::new(format!("Failed to put to world state. {e}")))?;
    }
    Ok(())
}

/// `CreateCar`: writes `car` under `car_number`, replacing any car already there (the Go sample
/// does not check).
pub async fn create_car<S: WorldState>(state: &S, car_number: &str, car: &Car) -> Result<(), TxError> {
    Ok(state.put_state(car_number, car.to_json()).await?)
}

/// `QueryCar`: the car stored under `car_number`, read as [`Car::from_json`] reads it.
pub async fn query_car<S: WorldState>(state: &S, car_number: &str) -> Result<Car, TxError> {
    let value =
        state.get_state(car_number).await.map_err(|e| TxError::new(format!("Failed to read from world state. {e}")))?;
    match value {
        // Go's shim reads an empty payload as nil: "does not exist" too.
        Some(bytes) if !bytes.as_ref().is_empty() => Ok(Car::from_json(bytes.as_ref())),
        _ => Err(TxError::new(format!("{car_number} does not exist"))),
    }
}

/// `QueryAllCars`: every key in [`QUERY_ALL_CARS_RANGE`] with the car read from its value, in
/// key order. A value that is not a car reads as the empty car, as in the Go sample.
pub async fn query_all_cars<S: WorldState>(state: &S) -> Result<Vec<QueryResult>, TxError> {
    let (start_key, end_key) = QUERY_ALL_CARS_RANGE;
    let mut results = Vec::new();
    state
        .for_each_in_range(start_key, end_key, |key, value| {
            results.push(QueryResult::new(key, Car::from_json(value)));
        })
        .await?;
    Ok(results)
}

/// `ChangeCarOwner`: reads the car as [`query_car`] does (failing the same way) and writes it
/// back with `new_owner`.
pub async fn change_car_owner<S: WorldState>(state: &S, car_number: &str, new_owner: &str) -> Result<(), TxError> {
    let mut car = query_car(state, car_number).await?;
    car.owner = new_owner.to_owned();
    Ok(state.put_state(car_number, car.to_json()).await?)
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory [`WorldState`] for tests: writes are visible at once.

    use std::collections::BTreeMap;
    use std::ops::Bound;
    use std::sync::Mutex;

    use ccaas_shim::{Result, ShimError};

    use crate::WorldState;

    /// A map of keys to values. `fail_reads` / `fail_writes` make reads (including range
    /// queries) or writes fail with that peer error.
    #[derive(Default)]
    pub(crate) struct MemoryState {
        pub(crate) map: Mutex<BTreeMap<String, Vec<u8>>>,
        pub(crate) fail_reads: Option<String>,
        pub(crate) fail_writes: Option<String>,
    }

    impl MemoryState {
        pub(crate) fn insert(&self, key: &str, value: &[u8]) {
            self.map.lock().unwrap().insert(key.to_owned(), value.to_vec());
        }

        pub(crate) fn value(&self, key: &str) -> Option<String> {
            self.map.lock().unwrap().get(key).map(|v| String::from_utf8(v.clone()).unwrap())
        }

        pub(crate) fn keys(&self) -> Vec<String> {
            self.map.lock().unwrap().keys().cloned().collect()
        }

        fn check(failure: &Option<String>) -> Result<()> {
            match failure {
                Some(message) => Err(ShimError::Peer(message.clone())),
                None => Ok(()),
            }
        }
    }

    impl WorldState for MemoryState {
        async fn get_state(&self, key: &str) -> Result<Option<impl AsRef<[u8]> + Send>> {
            Self::check(&self.fail_reads)?;
            Ok(self.map.lock().unwrap().get(key).cloned())
        }

        async fn put_state(&self, key: &str, value: Vec<u8>) -> Result<()> {
            Self::check(&self.fail_writes)?;
            self.map.lock().unwrap().insert(key.to_owned(), value);
            Ok(())
        }

        async fn for_each_in_range<F>(&self, start_key: &str, end_key: &str, mut visit: F) -> Result<()>
        where
            F: FnMut(&str, &[u8]) + Send,
        {
            Self::check(&self.fail_reads)?;
            // Like the peer: an empty start skips composite keys (they start with U+0000).
            let start = if start_key.is_empty() { "\u{1}" } else { start_key };
            let end = if end_key.is_empty() { Bound::Unbounded } else { Bound::Excluded(end_key) };
            let rows: Vec<(String, Vec<u8>)> = self
                .map
                .lock()
                .unwrap()
                .range::<str, _>((Bound::Included(start), end))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (key, value) in &rows {
                visit(key, value);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryState;
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    /// The values Go's fabcar writes in `InitLedger`, from `json.Marshal`.
    const GO_INITIAL: [(&str, &str); 10] = [
        ("CAR0", r#"{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}"#),
        ("CAR1", r#"{"make":"Ford","model":"Mustang","colour":"red","owner":"Brad"}"#),
        ("CAR2", r#"{"make":"Hyundai","model":"Tucson","colour":"green","owner":"Jin Soo"}"#),
        ("CAR3", r#"{"make":"Volkswagen","model":"Passat","colour":"yellow","owner":"Max"}"#),
        ("CAR4", r#"{"make":"Tesla","model":"S","colour":"black","owner":"Adriana"}"#),
        ("CAR5", r#"{"make":"Peugeot","model":"205","colour":"purple","owner":"Michel"}"#),
        ("CAR6", r#"{"make":"Chery","model":"S22L","colour":"white","owner":"Aarav"}"#),
        ("CAR7", r#"{"make":"Fiat","model":"Punto","colour":"violet","owner":"Pari"}"#),
        ("CAR8", r#"{"make":"Tata","model":"Nano","colour":"indigo","owner":"Valeria"}"#),
        ("CAR9", r#"{"make":"Holden","model":"Barina","colour":"brown","owner":"Shotaro"}"#),
    ];

    #[test]
    fn init_ledger_writes_the_go_bytes() {
        let state = MemoryState::default();
        block_on(init_ledger(&state)).unwrap();
        assert_eq!(state.keys().len(), 10);
        for (key, json) in GO_INITIAL {
            assert_eq!(state.value(key).as_deref(), Some(json), "{key}");
        }
    }

    #[test]
    fn query_all_cars_lists_every_key_in_order() {
        let state = MemoryState::default();
        block_on(init_ledger(&state)).unwrap();
        state.insert("CAR10", br#"{"make":"Kia","model":"Rio","colour":"grey","owner":"Ana"}"#);
        state.insert("ZZZ", b"not a car");
        state.insert("\u{0}composite\u{0}key\u{0}", br#"{"make":"hidden"}"#);
        let results = block_on(query_all_cars(&state)).unwrap();
        let keys: Vec<&str> = results.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["CAR0", "CAR1", "CAR10", "CAR2", "CAR3", "CAR4", "CAR5", "CAR6", "CAR7", "CAR8", "CAR9", "ZZZ"]
        );
        assert_eq!(results[0].record, Car::initial()[0]);
        assert_eq!(results[2].record, Car::new("Kia", "Rio", "grey", "Ana"));
        assert_eq!(results[11].record, Car::default());
    }

    #[test]
    fn query_all_cars_of_an_empty_ledger_is_empty() {
        assert_eq!(block_on(query_all_cars(&MemoryState::default())).unwrap(), []);
    }

    #[test]
    fn create_query_and_change_owner() {
        let state = MemoryState::default();
        let car = Car::new("Kia", "Rio", "grey", "Ana");
        block_on(create_car(&state, "CAR12", &car)).unwrap();
        assert_eq!(state.value("CAR12").unwrap(), r#"{"make":"Kia","model":"Rio","colour":"grey","owner":"Ana"}"#);
        assert_eq!(block_on(query_car(&state, "CAR12")).unwrap(), car);

        block_on(change_car_owner(&state, "CAR12", "Dave")).unwrap();
        assert_eq!(state.value("CAR12").unwrap(), r#"{"make":"Kia","model":"Rio","colour":"grey","owner":"Dave"}"#);

        // CreateCar overwrites without checking, as the Go sample does.
        let other = Car::new("Audi", "A4", "", "Eve");
        block_on(create_car(&state, "CAR12", &other)).unwrap();
        assert_eq!(block_on(query_car(&state, "CAR12")).unwrap(), other);
    }

    #[test]
    fn change_car_owner_rewrites_the_stored_value_as_go_does() {
        // Go unmarshals into a Car and marshals it again: keys are normalized, unknown ones
        // dropped, and a value that is not a car becomes an empty car with the new owner.
        let state = MemoryState::default();
        state.insert("A", br#"{"Owner":"x","MAKE":"Fiat","extra":1}"#);
        state.insert("B", b"[1,2]");
        block_on(change_car_owner(&state, "A", "Pat")).unwrap();
        block_on(change_car_owner(&state, "B", "Sam")).unwrap();
        assert_eq!(state.value("A").unwrap(), r#"{"make":"Fiat","model":"","colour":"","owner":"Pat"}"#);
        assert_eq!(state.value("B").unwrap(), r#"{"make":"","model":"","colour":"","owner":"Sam"}"#);
    }

    #[test]
    fn missing_cars_fail_with_the_go_text() {
        let state = MemoryState::default();
        assert_eq!(block_on(query_car(&state, "CAR42")).unwrap_err().message(), "CAR42 does not exist");
        assert_eq!(block_on(change_car_owner(&state, "CAR42", "x")).unwrap_err().message(), "CAR42 does not exist");
        state.insert("EMPTY", b"");
        assert_eq!(block_on(query_car(&state, "EMPTY")).unwrap_err().message(), "EMPTY does not exist");
        assert_eq!(state.keys(), ["EMPTY"]);
    }

    #[test]
    fn ledger_errors_are_wrapped_as_in_go() {
        let reads = MemoryState { fail_reads: Some("boom".into()), ..MemoryState::default() };
        assert_eq!(block_on(query_car(&reads, "CAR0")).unwrap_err().message(), "Failed to read from world state. boom");
        assert_eq!(
            block_on(change_car_owner(&reads, "CAR0", "x")).unwrap_err().message(),
            "Failed to read from world state. boom"
        );
        assert_eq!(block_on(query_all_cars(&reads)).unwrap_err().message(), "boom");

        let writes = MemoryState { fail_writes: Some("bang".into()), ..MemoryState::default() };
        assert_eq!(block_on(init_ledger(&writes)).unwrap_err().message(), "Failed to put to world state. bang");
        assert_eq!(block_on(create_car(&writes, "CAR0", &Car::default())).unwrap_err().message(), "bang");
        writes.insert("CAR0", GO_INITIAL[0].1.as_bytes());
        assert_eq!(block_on(change_car_owner(&writes, "CAR0", "x")).unwrap_err().message(), "bang");
    }
}
