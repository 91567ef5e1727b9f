//! Arguments: from the client's strings to typed parameters, as fabric-contract-api does it.
//!
//! The conversion is driven by the parameter's `Deserialize` implementation (so it sees through
//! type aliases and newtypes), following contract-api-go's `serializer/json_transaction_serializer.go`
//! and `internal/types/types.go`:
//!
//! * strings (and `char`, and anything that deserializes as a string) take the argument as is;
//! * integers, floats and `bool` are parsed from the text (`"5"`, `"-1.5"`, `"true"`; booleans
//!   also accept Go's `1 t T TRUE True 0 f F FALSE False`); an empty argument is the zero value,
//!   as in Go;
//! * structs, sequences, maps and tuples are read from the argument's JSON text;
//! * enums take a bare variant name (`Red`) or JSON (`"Red"`, `{"Rgb":[1,2,3]}`);
//! * `Option<T>`: an empty argument or `null` is `None`, anything else `Some` of `T`'s rule;
//! * self-describing types (`serde_json::Value`) get the JSON value, or the text as a string
//!   when it is not JSON (Go's `interface{}`).

use std::fmt;

use serde::de::{self, value::BorrowedStrDeserializer, DeserializeOwned, Deserializer, Visitor};

use super::ContractError;

/// Converts one argument to `T`; `parameter` and `type_name` only appear in the error, and so
/// does `basic_name`, which replaces the Rust name of a basic type that did not parse (Go's names
/// under `compat = "go"`).
pub(crate) fn from_arg<T: DeserializeOwned>(
    text: &str,
    parameter: &str,
    type_name: &str,
    basic_name: Option<&str>,
) -> Result<T, ContractError> {
    T::deserialize(ArgDeserializer { text, type_name, basic_name })
        .map_err(|e| ContractError::Argument { parameter: parameter.to_string(), reason: e.0 })
}

/// Why an argument did not convert.
#[derive(Debug)]
pub(crate) struct ArgError(String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

impl de::Error for ArgError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ArgError(msg.to_string())
    }
}

struct ArgDeserializer<'de> {
    text: &'de str,
    /// The parameter's type as written in the transaction's signature.
    type_name: &'de str,
    /// The name basic type errors use instead of the Rust type's.
    basic_name: Option<&'de str>,
}

type JsonDeserializer<'de> = serde_json::Deserializer<serde_json::de::StrRead<'de>>;

impl<'de> ArgDeserializer<'de> {
    /// contract-api-go's text for a basic type that did not parse.
    fn cannot_convert(&self, to: &str) -> ArgError {
        ArgError(format!("cannot convert passed value {} to {}", self.text, self.basic_name.unwrap_or(to)))
    }

    /// contract-api-go's text for JSON that did not match, plus serde's reason.
    fn wrong_format(&self, reason: impl fmt::Display) -> ArgError {
        ArgError(format!("value {} was not passed in expected format {}: {reason}", self.text, self.type_name))
    }

    fn json<V, F>(self, visitor: V, read: F) -> Result<V::Value, ArgError>
    where
        V: Visitor<'de>,
        F: FnOnce(&mut JsonDeserializer<'de>, V) -> Result<V::Value, serde_json::Error>,
    {
        let mut de = serde_json::Deserializer::from_str(self.text);
        read(&mut de, visitor).and_then(|value| de.end().map(|()| value)).map_err(|e| self.wrong_format(e))
    }

    fn is_null(&self) -> bool {
        self.text.is_empty() || self.text == "null"
    }
}

macro_rules! number {
    ($($method:ident => $visit:ident($ty:ty, $name:literal);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
            if self.text.is_empty() {
                return visitor.$visit(<$ty>::default());
            }
            match self.text.parse::<$ty>() {
                Ok(value) => visitor.$visit(value),
                Err(_) => Err(self.cannot_convert($name)),
            }
        }
    )*};
}

macro_rules! from_json {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, ArgError> {
            self.json(visitor, |de, visitor| de.$method($($arg,)* visitor))
        }
    )*};
}

impl<'de> Deserializer<'de> for ArgDeserializer<'de> {
    type Error = ArgError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        if serde_json::from_str::<de::IgnoredAny>(self.text).is_ok() {
            self.json(visitor, |de, visitor| de.deserialize_any(visitor))
        } else {
            visitor.visit_borrowed_str(self.text)
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        match self.text {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => visitor.visit_bool(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => visitor.visit_bool(true),
            _ => Err(self.cannot_convert("bool")),
        }
    }

    number! {
        deserialize_i8 => visit_i8(i8, "i8");
        deserialize_i16 => visit_i16(i16, "i16");
        deserialize_i32 => visit_i32(i32, "i32");
        deserialize_i64 => visit_i64(i64, "i64");
        deserialize_i128 => visit_i128(i128, "i128");
        deserialize_u8 => visit_u8(u8, "u8");
        deserialize_u16 => visit_u16(u16, "u16");
        deserialize_u32 => visit_u32(u32, "u32");
        deserialize_u64 => visit_u64(u64, "u64");
        deserialize_u128 => visit_u128(u128, "u128");
        deserialize_f32 => visit_f32(f32, "f32");
        deserialize_f64 => visit_f64(f64, "f64");
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        let mut chars = self.text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(self.cannot_convert("char")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        if self.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.wrong_format("expected an empty argument or null"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, ArgError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ArgError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ArgError> {
        let trimmed = self.text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('"') {
            return self.json(visitor, |de, visitor| de.deserialize_enum(name, variants, visitor));
        }
        visitor.visit_enum(BorrowedStrDeserializer::<ArgError>::new(self.text)).map_err(|e| self.wrong_format(e))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgError> {
        visitor.visit_unit()
    }

    from_json! {
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    fn arg<T: DeserializeOwned>(text: &str, ty: &str) -> Result<T, String> {
        from_arg(text, "p", ty, None).map_err(|e| e.to_string())
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Point {
        x: i32,
        y: i32,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Color {
        Red,
        Rgb(u8, u8, u8),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Id(String);

    #[test]
    fn basic_types_parse_like_go() {
        assert_eq!(arg::<String>("\"quoted\"", "String").unwrap(), "\"quoted\"");
        assert_eq!(arg::<i32>("5", "i32").unwrap(), 5);
        assert_eq!(arg::<i64>("", "i64").unwrap(), 0);
        assert_eq!(arg::<u8>("+7", "u8").unwrap(), 7);
        assert_eq!(arg::<f64>("-1.5", "f64").unwrap(), -1.5);
        assert!(arg::<bool>("true", "bool").unwrap());
        assert!(arg::<bool>("T", "bool").unwrap());
        assert!(!arg::<bool>("0", "bool").unwrap());
        assert_eq!(arg::<char>("x", "char").unwrap(), 'x');
        assert_eq!(arg::<Id>("{x}", "Id").unwrap(), Id("{x}".into()));
    }

    #[test]
    fn basic_type_errors_use_go_text() {
        assert_eq!(
            arg::<i32>("abc", "i32").unwrap_err(),
            "error managing parameter p. conversion error. cannot convert passed value abc to i32"
        );
        assert_eq!(
            arg::<u8>("300", "u8").unwrap_err(),
            "error managing parameter p. conversion error. cannot convert passed value 300 to u8"
        );
        assert_eq!(
            arg::<bool>("yes", "bool").unwrap_err(),
            "error managing parameter p. conversion error. cannot convert passed value yes to bool"
        );
    }

    #[test]
    fn compound_types_come_from_json() {
        assert_eq!(arg::<Point>(r#"{"x":1,"y":2}"#, "Point").unwrap(), Point { x: 1, y: 2 });
        assert_eq!(arg::<Vec<u32>>("[1,2]", "Vec<u32>").unwrap(), vec![1, 2]);
        assert!(arg::<BTreeMap<String, bool>>(r#"{"a":true}"#, "M").unwrap()["a"]);
        assert_eq!(arg::<(i32, String)>(r#"[1,"a"]"#, "T").unwrap(), (1, "a".into()));
        let err = arg::<Point>(r#"{"x":1}"#, "Point").unwrap_err();
        assert!(
            err.starts_with(
                r#"error managing parameter p. conversion error. value {"x":1} was not passed in expected format Point: missing field `y`"#
            ),
            "{err}"
        );
        assert!(arg::<Point>(r#"{"x":1,"y":2} trailing"#, "Point").is_err());
    }

    #[test]
    fn enums_options_and_values() {
        assert_eq!(arg::<Color>("Red", "Color").unwrap(), Color::Red);
        assert_eq!(arg::<Color>("\"Red\"", "Color").unwrap(), Color::Red);
        assert_eq!(arg::<Color>(r#"{"Rgb":[1,2,3]}"#, "Color").unwrap(), Color::Rgb(1, 2, 3));
        assert!(arg::<Color>("Purple", "Color").unwrap_err().contains("unknown variant `Purple`"));
        assert_eq!(arg::<Option<i32>>("", "Option<i32>").unwrap(), None);
        assert_eq!(arg::<Option<i32>>("null", "Option<i32>").unwrap(), None);
        assert_eq!(arg::<Option<i32>>("4", "Option<i32>").unwrap(), Some(4));
        assert_eq!(arg::<serde_json::Value>("hello", "Value").unwrap(), serde_json::json!("hello"));
        assert_eq!(arg::<serde_json::Value>("[1]", "Value").unwrap(), serde_json::json!([1]));
        arg::<()>("", "()").unwrap();
    }
}
