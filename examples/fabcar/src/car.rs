//! The [`Car`] model, its JSON form on the ledger and [`QueryResult`], the rows of
//! `QueryAllCars`.

use serde::Serialize;

use crate::godecode;
use ccaas_shim::json as gojson;

/// A car, stored as JSON under its car number (`CAR0`, `CAR1`, ... for the initial ones).
///
/// The JSON keys are the Go struct's tags, in its field order (not alphabetical):
/// `make, model, colour, owner`. [`to_json`](Car::to_json) writes the bytes Go's `json.Marshal`
/// writes, including its escapes of `<`, `>`, `&`, U+2028 and U+2029:
///
/// ```
/// use fabcar::Car;
/// let car = Car::new("Toyota", "Prius", "blue", "Tomoko");
/// assert_eq!(
///     car.to_json(),
///     br#"{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Car {
    /// The manufacturer (JSON `make`).
    pub make: String,
    /// The model (JSON `model`).
    pub model: String,
    /// The colour (JSON `colour`, British spelling).
    pub colour: String,
    /// The current owner (JSON `owner`).
    pub owner: String,
}

impl Car {
    /// A car from its four attributes, in `CreateCar`'s argument order.
    pub fn new(
        make: impl Into<String>,
        model: impl Into<String>,
        colour: impl Into<String>,
        owner: impl Into<String>,
    ) -> Self {
        Car { make: make.into(), model: model.into(), colour: colour.into(), owner: owner.into() }
    }

    /// The JSON bytes Go's `json.Marshal` writes for the same car.
    pub fn to_json(&self) -> Vec<u8> {
        gojson::to_vec(self).expect("a Car always serializes")
    }

    /// The car Go's fabcar reads from `bytes`: it ignores `json.Unmarshal`'s error, so this never
    /// fails.
    ///
    /// A JSON object fills the fields whose keys match case-insensitively; anything that is not
    /// valid JSON, or not an object, reads as the empty car; a field whose value is not a string
    /// stays empty. Unknown keys are ignored.
    ///
    /// ```
    /// use fabcar::Car;
    /// let car = Car::from_json(br#"{"Owner":"Brad","make":"Ford","model":7,"x":[]}"#);
    /// assert_eq!(car, Car::new("Ford", "", "", "Brad"));
    /// assert_eq!(Car::from_json(b"not json"), Car::default());
    /// ```
    pub fn from_json(bytes: &[u8]) -> Self {
        let [make, model, colour, owner] = godecode::string_fields(bytes, ["make", "model", "colour", "owner"]);
        Car {
            make: make.unwrap_or_default(),
            model: model.unwrap_or_default(),
            colour: colour.unwrap_or_default(),
            owner: owner.unwrap_or_default(),
        }
    }

    /// The ten cars `InitLedger` writes, in the Go sample's order; the car at index `i` is stored
    /// under `CAR<i>`.
    pub fn initial() -> [Car; 10] {
        [
            Car::new("Toyota", "Prius", "blue", "Tomoko"),
            Car::new("Ford", "Mustang", "red", "Brad"),
            Car::new("Hyundai", "Tucson", "green", "Jin Soo"),
            Car::new("Volkswagen", "Passat", "yellow", "Max"),
            Car::new("Tesla", "S", "black", "Adriana"),
            Car::new("Peugeot", "205", "purple", "Michel"),
            Car::new("Chery", "S22L", "white", "Aarav"),
            Car::new("Fiat", "Punto", "violet", "Pari"),
            Car::new("Tata", "Nano", "indigo", "Valeria"),
            Car::new("Holden", "Barina", "brown", "Shotaro"),
        ]
    }
}

/// One row of `QueryAllCars`: a ledger key and the car read from its value.
///
/// Serializes as the Go `QueryResult` struct does: `{"Key":"CAR0","Record":{...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct QueryResult {
    /// The ledger key (JSON `Key`).
    #[serde(rename = "Key")]
    pub key: String,
    /// The car stored under it (JSON `Record`).
    #[serde(rename = "Record")]
    pub record: Car,
}

impl QueryResult {
    /// A row for `key` holding `record`.
    pub fn new(key: impl Into<String>, record: Car) -> Self {
        QueryResult { key: key.into(), record }
    }
}

/// JSON for `QueryAllCars`' result as the Go contract API returns a `[]QueryResult`: always an
/// array, `[]` when there are no cars (the Go sample starts from an empty, non-nil slice).
///
/// ```
/// use fabcar::{query_results_to_json, Car, QueryResult};
/// assert_eq!(query_results_to_json(&[]), b"[]");
/// let rows = [QueryResult::new("CAR4", Car::new("Tesla", "S", "black", "Adriana"))];
/// assert_eq!(
///     query_results_to_json(&rows),
///     br#"[{"Key":"CAR4","Record":{"make":"Tesla","model":"S","colour":"black","owner":"Adriana"}}]"#
/// );
/// ```
pub fn query_results_to_json(results: &[QueryResult]) -> Vec<u8> {
    gojson::to_vec(results).expect("query results always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_serialize_in_struct_order_with_gos_escapes() {
        // Go: json.Marshal(Car{Make: "a<b>&", Model: "\"q\"\\", Colour: "\u2028\t", Owner: "é"})
        let car = Car::new("a<b>&", "\"q\"\\", "\u{2028}\t", "é");
        assert_eq!(
            String::from_utf8(car.to_json()).unwrap(),
            r#"{"make":"a\u003cb\u003e\u0026","model":"\"q\"\\","colour":"\u2028\t","owner":"é"}"#
        );
        assert_eq!(Car::default().to_json(), br#"{"make":"","model":"","colour":"","owner":""}"#);
    }

    #[test]
    fn json_round_trips() {
        for car in Car::initial() {
            assert_eq!(Car::from_json(&car.to_json()), car);
        }
        let odd = Car::new("<&>", "\u{0}\u{1f}\u{7f}", "\u{2029}😀", "\"\\/");
        assert_eq!(Car::from_json(&odd.to_json()), odd);
    }

    #[test]
    fn query_results_serialize_like_gos_query_result() {
        let rows = [QueryResult::new("CAR0", Car::initial()[0].clone()), QueryResult::new("a&b", Car::default())];
        assert_eq!(
            String::from_utf8(query_results_to_json(&rows)).unwrap(),
            concat!(
                r#"[{"Key":"CAR0","Record":{"make":"Toyota","model":"Prius","colour":"blue","owner":"Tomoko"}},"#,
                r#"{"Key":"a\u0026b","Record":{"make":"","model":"","colour":"","owner":""}}]"#
            )
        );
        assert_eq!(query_results_to_json(&[]), b"[]");
    }
}
