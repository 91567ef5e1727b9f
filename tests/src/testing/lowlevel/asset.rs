//! The [`Asset`] model and its JSON form on the ledger.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use ccaas_shim::contract::Object;
use ccaas_shim::json as gojson;

/// An asset, stored as JSON under its [`id`](Asset::id).
///
/// The JSON keys and their order are the Go sample's (`AppraisedValue, Color, ID, Owner, Size`,
/// alphabetical so every language writes the same bytes), and [`to_json`](Asset::to_json) escapes
/// strings as Go's `json.Marshal` does:
///
/// ```
/// use ccaas_testkit::testing::lowlevel::Asset;
/// let asset = Asset::new("asset1", "blue", 5, "Tomoko", 300);
/// assert_eq!(
///     asset.to_json(),
///     br#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#
/// );
/// ```
///
/// Reading is as lenient as Go's `json.Unmarshal` into the struct: unknown keys are ignored and
/// missing or `null` fields keep their zero value.
///
/// In the contract metadata (`components.schemas.Asset`) every field is required, as in the Go
/// sample's: the leniency is the container's `#[serde(default)]`, which the schema ignores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Object)]
#[serde(default)]
pub struct Asset {
    /// The appraised value (Go `int`, which is Rust's `isize`).
    #[serde(rename = "AppraisedValue", deserialize_with = "null_as_zero")]
    pub appraised_value: isize,
    /// The colour.
    #[serde(rename = "Color", deserialize_with = "null_as_zero")]
    pub color: String,
    /// The asset's id, which is also its ledger key.
    #[serde(rename = "ID", deserialize_with = "null_as_zero")]
    pub id: String,
    /// The current owner.
    #[serde(rename = "Owner", deserialize_with = "null_as_zero")]
    pub owner: String,
    /// The size (Go `int`, which is Rust's `isize`).
    #[serde(rename = "Size", deserialize_with = "null_as_zero")]
    pub size: isize,
}

impl Asset {
    /// An asset from the transaction arguments, in `CreateAsset`'s order.
    pub fn new(
        id: impl Into<String>,
        color: impl Into<String>,
        size: isize,
        owner: impl Into<String>,
        appraised_value: isize,
    ) -> Self {
        Asset { appraised_value, color: color.into(), id: id.into(), owner: owner.into(), size }
    }

    /// The JSON bytes Go's `json.Marshal` writes for the same asset.
    pub fn to_json(&self) -> Vec<u8> {
        gojson::to_vec(self).expect("an Asset always serializes")
    }

    /// Parses an asset as stored on the ledger: a JSON object, or `null` for the zero asset (as
    /// Go's `json.Unmarshal` leaves the struct untouched then).
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let asset = deserializer.deserialize_any(ObjectOrNull)?;
        deserializer.end()?;
        Ok(asset)
    }

    /// The six assets `InitLedger` writes, in the Go sample's order.
    pub fn initial() -> [Asset; 6] {
        [
            Asset::new("asset1", "blue", 5, "Tomoko", 300),
            Asset::new("asset2", "red", 5, "Brad", 400),
            Asset::new("asset3", "green", 10, "Jin Soo", 500),
            Asset::new("asset4", "yellow", 10, "Max", 600),
            Asset::new("asset5", "black", 15, "Adriana", 700),
            Asset::new("asset6", "white", 15, "Michel", 800),
        ]
    }
}

/// JSON for a list of assets as the Go contract API returns a `[]*Asset`: a JSON array, or no
/// bytes at all for an empty list (Go's nil slice serializes to an empty string there).
pub(crate) fn list_to_json(assets: &[Asset]) -> Vec<u8> {
    if assets.is_empty() {
        return Vec::new();
    }
    gojson::to_vec(assets).expect("assets always serialize")
}

/// Accepts only what Go decodes into a struct: an object or `null`. (serde's derived struct
/// deserialization would also take a JSON array, field by field.)
struct ObjectOrNull;

impl<'de> Visitor<'de> for ObjectOrNull {
    type Value = Asset;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an asset object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Asset, E> {
        Ok(Asset::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Asset, A::Error> {
        Asset::deserialize(MapAccessDeserializer::new(map))
    }
}

/// `null` leaves a Go struct field at its zero value; serde would reject it.
fn null_as_zero<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes Go's `json.Marshal` writes for the six `InitLedger` assets.
    const GO_INITIAL: [&str; 6] = [
        r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}"#,
        r#"{"AppraisedValue":400,"Color":"red","ID":"asset2","Owner":"Brad","Size":5}"#,
        r#"{"AppraisedValue":500,"Color":"green","ID":"asset3","Owner":"Jin Soo","Size":10}"#,
        r#"{"AppraisedValue":600,"Color":"yellow","ID":"asset4","Owner":"Max","Size":10}"#,
        r#"{"AppraisedValue":700,"Color":"black","ID":"asset5","Owner":"Adriana","Size":15}"#,
        r#"{"AppraisedValue":800,"Color":"white","ID":"asset6","Owner":"Michel","Size":15}"#,
    ];

    #[test]
    fn initial_assets_serialize_to_the_go_bytes() {
        for (asset, go) in Asset::initial().iter().zip(GO_INITIAL) {
            assert_eq!(String::from_utf8(asset.to_json()).unwrap(), go);
        }
    }

    #[test]
    fn json_round_trips() {
        for go in GO_INITIAL {
            assert_eq!(Asset::from_json(go.as_bytes()).unwrap().to_json(), go.as_bytes());
        }
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn negative_and_large_integers_and_html_escapes() {
        let asset = Asset::new("a<b>", "&", -1, "O'Brien \"Bob\"", isize::MAX);
        assert_eq!(
            String::from_utf8(asset.to_json()).unwrap(),
            r#"{"AppraisedValue":9223372036854775807,"Color":"\u0026","ID":"a\u003cb\u003e","Owner":"O'Brien \"Bob\"","Size":-1}"#
        );
    }

    #[test]
    fn reading_is_lenient_like_go() {
        let asset = Asset::from_json(br#"{"ID":"x","Size":null,"Extra":[1,2],"Owner":"o"}"#).unwrap();
        assert_eq!(asset, Asset::new("x", "", 0, "o", 0));
        assert_eq!(Asset::from_json(b"null").unwrap(), Asset::default());
        assert_eq!(Asset::from_json(b" {} ").unwrap(), Asset::default());
    }

    #[test]
    fn reading_rejects_what_go_rejects() {
        assert!(Asset::from_json(b"not json").is_err());
        assert!(Asset::from_json(br#"{"Size":"5"}"#).is_err());
        assert!(Asset::from_json(br#"{"Size":5.5}"#).is_err());
        assert!(Asset::from_json(br#"{"Size":1e2}"#).is_err());
        assert!(Asset::from_json(br#"{"Size":9223372036854775808}"#).is_err());
        assert!(Asset::from_json(br#"{} {}"#).is_err());
        assert!(Asset::from_json(br#"[]"#).is_err());
        assert!(Asset::from_json(br#"[300,"blue","asset1","Tomoko",5]"#).is_err());
        assert!(Asset::from_json(br#""asset1""#).is_err());
        assert!(Asset::from_json(b"").is_err());
    }

    #[test]
    fn lists_serialize_like_the_go_contract_api() {
        assert_eq!(list_to_json(&[]), b"");
        let two = &Asset::initial()[..2];
        assert_eq!(list_to_json(two), format!("[{},{}]", GO_INITIAL[0], GO_INITIAL[1]).into_bytes());
    }
}
