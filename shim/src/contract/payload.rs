//! Results: from a transaction's return value to the response payload.
//!
//! Driven by the value's `Serialize` implementation, as contract-api-go's `ToString` is driven by
//! the value's kind: a value that serializes as a string (`String`, `&str`, `char`, newtypes of
//! them, unit enum variants) is the payload as is; `()` and `None` are an empty payload; bytes
//! (`serde_bytes`) are passed through; anything else is its `serde_json` text.

use std::fmt;

use bytes::Bytes;
use serde::ser::{self, Impossible, Serialize, Serializer};

use super::ContractError;

/// The payload for `value`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, ContractError> {
    match value.serialize(RawProbe) {
        Ok(raw) => Ok(raw),
        Err(Probe::Json) => {
            crate::json::to_vec(value).map(Bytes::from).map_err(|e| ContractError::Return(e.to_string()))
        }
        Err(Probe::Failed(reason)) => Err(ContractError::Return(reason)),
    }
}

/// Finds the values that are returned as raw bytes; everything else answers [`Probe::Json`].
struct RawProbe;

#[derive(Debug)]
enum Probe {
    /// Not a raw value: serialize as JSON.
    Json,
    /// The value's `Serialize` failed.
    Failed(String),
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Json => f.write_str("not a raw value"),
            Probe::Failed(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Probe {}

impl ser::Error for Probe {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Probe::Failed(msg.to_string())
    }
}

macro_rules! json {
    ($($method:ident($($ty:ty),*);)*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<Bytes, Probe> {
            Err(Probe::Json)
        }
    )*};
}

impl Serializer for RawProbe {
    type Ok = Bytes;
    type Error = Probe;
    type SerializeSeq = Impossible<Bytes, Probe>;
    type SerializeTuple = Impossible<Bytes, Probe>;
    type SerializeTupleStruct = Impossible<Bytes, Probe>;
    type SerializeTupleVariant = Impossible<Bytes, Probe>;
    type SerializeMap = Impossible<Bytes, Probe>;
    type SerializeStruct = Impossible<Bytes, Probe>;
    type SerializeStructVariant = Impossible<Bytes, Probe>;

    fn serialize_str(self, v: &str) -> Result<Bytes, Probe> {
        Ok(Bytes::copy_from_slice(v.as_bytes()))
    }

    fn serialize_char(self, v: char) -> Result<Bytes, Probe> {
        Ok(Bytes::from(v.to_string()))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Bytes, Probe> {
        Ok(Bytes::copy_from_slice(v))
    }

    fn serialize_none(self) -> Result<Bytes, Probe> {
        Ok(Bytes::new())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, Probe> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Bytes, Probe> {
        Ok(Bytes::new())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Bytes, Probe> {
        Ok(Bytes::new())
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<Bytes, Probe> {
        Ok(Bytes::from_static(variant.as_bytes()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<Bytes, Probe> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Bytes, Probe> {
        Err(Probe::Json)
    }

    json! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Probe> {
        Err(Probe::Json)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Probe> {
        Err(Probe::Json)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Probe> {
        Err(Probe::Json)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Probe> {
        Err(Probe::Json)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Probe> {
        Err(Probe::Json)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Probe> {
        Err(Probe::Json)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Probe> {
        Err(Probe::Json)
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::encode;

    #[derive(Serialize)]
    struct Asset {
        #[serde(rename = "ID")]
        id: String,
        size: u32,
    }

    #[derive(Serialize)]
    struct Owner(String);

    #[derive(Serialize)]
    enum Color {
        Red,
    }

    #[test]
    fn strings_are_raw_and_the_rest_is_json() {
        assert_eq!(encode("a \"b\"").unwrap(), "a \"b\"");
        assert_eq!(encode(&Owner("Tom".into())).unwrap(), "Tom");
        assert_eq!(encode(&Color::Red).unwrap(), "Red");
        assert_eq!(encode(&()).unwrap(), "");
        assert_eq!(encode(&None::<u32>).unwrap(), "");
        assert_eq!(encode(&Some("x")).unwrap(), "x");
        assert_eq!(encode(&5_i64).unwrap(), "5");
        assert_eq!(encode(&true).unwrap(), "true");
        assert_eq!(encode(&Asset { id: "a1".into(), size: 5 }).unwrap(), r#"{"ID":"a1","size":5}"#);
        assert_eq!(encode(&vec!["a", "b"]).unwrap(), r#"["a","b"]"#);
    }
}
