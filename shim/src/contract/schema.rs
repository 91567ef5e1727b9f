//! JSON schemas of parameter, return and object types, in fabric-contract-api's dialect.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Where `$ref`s of top-level schemas (parameters, returns) point.
pub const COMPONENTS_PREFIX: &str = "#/components/schemas/";

/// A type with a JSON schema for contract metadata.
///
/// Implemented for Rust's primitive, string, collection and smart-pointer types with the
/// schemas fabric-contract-api-go gives their Go counterparts (`metadata/schema.go`,
/// `internal/types/types.go`), and by `#[derive(Object)]` for your structs and unit enums.
/// A parameter or return type that does not implement `Schema` still works; its metadata
/// schema is then `{}` (any JSON), like Go's `interface{}`.
///
/// | Rust | schema |
/// |---|---|
/// | `String`, `&str`, `char` | `{"type":"string"}` |
/// | `bool` | `{"type":"boolean"}` |
/// | `i8`, `i16`, `i32`, `i64`/`isize` | `{"type":"integer","format":"int8"…"int64"}` |
/// | `u8`, `u16`, `u32` | `integer` (`int32`/`int64`) with `minimum` 0 and `maximum` |
/// | `u64`, `usize` | `{"type":"integer","minimum":0,"maximum":18446744073709551615}` ‡ |
/// | `f32`, `f64` | `{"type":"number","format":"float"/"double"}` |
/// | `Vec<T>`, `[T; N]`, `VecDeque<T>`, sets | `{"type":"array","items":T}` |
/// | `HashMap<K, V>`, `BTreeMap<K, V>` | `{"type":"object","additionalProperties":V}` |
/// | `Option<T>`, `Box<T>`, `Arc<T>` | `T` (an `Option` field of an object is not `required`) |
/// | `#[derive(Object)]` struct `T` | `{"$ref":"#/components/schemas/T"}`, and `T` in `components` |
///
/// ‡ Integers are described as integers. contract-api-go describes Go's `uint` and `uint64` as
/// `{"type":"number","format":"double","multipleOf":1,...}` (JSON numbers that happen to be
/// whole), which tells a client generator to use a float; here `u64` and `usize` are `integer`
/// with their range instead, as `i64` is `{"type":"integer","format":"int64"}` in both.
pub trait Schema {
    /// The schema of `Self`, registering the objects it uses in `components`.
    fn schema(components: &mut Components) -> Value;
}

/// The `components` section of contract metadata: the object types, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Components {
    /// Object schemas by `$id`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schemas: BTreeMap<String, ObjectSchema>,
    /// How many objects are being described right now (references inside objects are bare).
    #[serde(skip)]
    depth: usize,
}

impl Components {
    /// A reference to the object `id`: `#/components/schemas/<id>` at the top level and a bare
    /// `<id>` inside another object, as both fabric-contract-api-go and -node write them.
    pub fn reference(&self, id: &str) -> Value {
        if self.depth == 0 {
            json!({ "$ref": format!("{COMPONENTS_PREFIX}{id}") })
        } else {
            json!({ "$ref": id })
        }
    }

    /// Registers the object `id` (built by `build` unless it is already known, so recursive
    /// types terminate) and returns a reference to it.
    pub fn object(&mut self, id: &str, build: impl FnOnce(&mut Components) -> ObjectSchema) -> Value {
        if !self.schemas.contains_key(id) {
            self.schemas.insert(id.to_string(), ObjectSchema::new(id));
            self.depth += 1;
            let object = build(self);
            self.depth -= 1;
            self.schemas.insert(id.to_string(), object);
        }
        self.reference(id)
    }

    /// The object a `$ref` schema points to, if it is one of `components`.
    pub fn resolve(&self, schema: &Value) -> Option<&ObjectSchema> {
        let reference = schema.get("$ref")?.as_str()?;
        self.schemas.get(reference.strip_prefix(COMPONENTS_PREFIX).unwrap_or(reference))
    }
}

/// The schema of one object type, as in `components.schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectSchema {
    /// The object's name.
    #[serde(rename = "$id")]
    pub id: String,
    /// Always `"object"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The schema of each property, by JSON name.
    pub properties: BTreeMap<String, Value>,
    /// The properties that must be present, in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Whether properties not listed are allowed (never, for a derived object).
    #[serde(rename = "additionalProperties")]
    pub additional_properties: bool,
}

impl ObjectSchema {
    /// An object with no properties yet.
    pub fn new(id: impl Into<String>) -> Self {
        ObjectSchema {
            id: id.into(),
            kind: "object".to_string(),
            properties: BTreeMap::new(),
            required: Vec::new(),
            additional_properties: false,
        }
    }

    /// Adds a property.
    pub fn property(&mut self, name: impl Into<String>, schema: Value, required: bool) -> &mut Self {
        let name = name.into();
        if required && !self.required.contains(&name) {
            self.required.push(name.clone());
        }
        self.properties.insert(name, schema);
        self
    }

    /// Adds the properties of a `#[serde(flatten)]`ed field whose schema is `schema`; a
    /// flattened type that is not an object (a map) allows additional properties instead.
    pub fn flatten(&mut self, components: &Components, schema: &Value) -> &mut Self {
        match components.resolve(schema) {
            Some(inner) => {
                for (name, property) in &inner.properties {
                    let required = inner.required.contains(name);
                    self.property(name.clone(), property.clone(), required);
                }
            }
            None => self.additional_properties = true,
        }
        self
    }
}

macro_rules! schema {
    ($($ty:ty => $schema:tt;)*) => {$(
        impl Schema for $ty {
            fn schema(_: &mut Components) -> Value {
                json!($schema)
            }
        }
    )*};
}

schema! {
    bool => { "type": "boolean" };
    String => { "type": "string" };
    str => { "type": "string" };
    char => { "type": "string" };
    i8 => { "type": "integer", "format": "int8" };
    i16 => { "type": "integer", "format": "int16" };
    i32 => { "type": "integer", "format": "int32" };
    i64 => { "type": "integer", "format": "int64" };
    isize => { "type": "integer", "format": "int64" };
    i128 => { "type": "integer" };
    u8 => { "type": "integer", "format": "int32", "minimum": 0, "maximum": 255 };
    u16 => { "type": "integer", "format": "int64", "minimum": 0, "maximum": 65535 };
    u32 => { "type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295_u64 };
    u64 => { "type": "integer", "minimum": 0, "maximum": 18446744073709551615_u64 };
    usize => { "type": "integer", "minimum": 0, "maximum": 18446744073709551615_u64 };
    u128 => { "type": "integer", "minimum": 0 };
    f32 => { "type": "number", "format": "float" };
    f64 => { "type": "number", "format": "double" };
    Value => {};
    serde_json::Map<String, Value> => { "type": "object" };
}

fn array<T: Schema + ?Sized>(components: &mut Components) -> Value {
    json!({ "type": "array", "items": T::schema(components) })
}

fn set<T: Schema + ?Sized>(components: &mut Components) -> Value {
    json!({ "type": "array", "items": T::schema(components), "uniqueItems": true })
}

fn map<V: Schema + ?Sized>(components: &mut Components) -> Value {
    json!({ "type": "object", "additionalProperties": V::schema(components) })
}

macro_rules! wrapper {
    ($($ty:ty => $f:ident;)*) => {$(
        impl<T: Schema> Schema for $ty {
            fn schema(components: &mut Components) -> Value {
                $f::<T>(components)
            }
        }
    )*};
}

fn same<T: Schema>(components: &mut Components) -> Value {
    T::schema(components)
}

wrapper! {
    Option<T> => same;
    [T] => array;
    Vec<T> => array;
    VecDeque<T> => array;
}

macro_rules! pointer {
    ($($ty:ty;)*) => {$(
        impl<T: Schema + ?Sized> Schema for $ty {
            fn schema(components: &mut Components) -> Value {
                T::schema(components)
            }
        }
    )*};
}

pointer! {
    Box<T>;
    Arc<T>;
    &T;
}

impl<T: Schema + ToOwned + ?Sized> Schema for Cow<'_, T> {
    fn schema(components: &mut Components) -> Value {
        T::schema(components)
    }
}

impl<T: Schema, const N: usize> Schema for [T; N] {
    fn schema(components: &mut Components) -> Value {
        array::<T>(components)
    }
}

impl<T: Schema, S> Schema for HashSet<T, S> {
    fn schema(components: &mut Components) -> Value {
        set::<T>(components)
    }
}

impl<T: Schema> Schema for BTreeSet<T> {
    fn schema(components: &mut Components) -> Value {
        set::<T>(components)
    }
}

impl<K, V: Schema, S> Schema for HashMap<K, V, S> {
    fn schema(components: &mut Components) -> Value {
        map::<V>(components)
    }
}

impl<K, V: Schema> Schema for BTreeMap<K, V> {
    fn schema(components: &mut Components) -> Value {
        map::<V>(components)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_match_contract_api_go() {
        let mut c = Components::default();
        assert_eq!(i32::schema(&mut c), json!({"type":"integer","format":"int32"}));
        assert_eq!(Vec::<Option<String>>::schema(&mut c), json!({"type":"array","items":{"type":"string"}}));
        assert_eq!(
            HashMap::<String, bool>::schema(&mut c),
            json!({"type":"object","additionalProperties":{"type":"boolean"}})
        );
        assert_eq!(u64::schema(&mut c)["maximum"], json!(u64::MAX));
        assert!(c.schemas.is_empty());
    }

    #[test]
    fn objects_are_registered_once_and_nested_refs_are_bare() {
        let mut c = Components::default();
        let outer = c.object("Outer", |c| {
            let inner = c.object("Inner", |_| ObjectSchema::new("Inner"));
            let again = c.object("Outer", |_| unreachable!("cycles stop at the placeholder"));
            let mut o = ObjectSchema::new("Outer");
            o.property("inner", inner, true).property("parent", again, false);
            o
        });
        assert_eq!(outer, json!({"$ref":"#/components/schemas/Outer"}));
        assert_eq!(c.schemas["Outer"].properties["inner"], json!({"$ref":"Inner"}));
        assert_eq!(c.schemas["Outer"].required, vec!["inner".to_string()]);
        assert_eq!(c.reference("Inner"), json!({"$ref":"#/components/schemas/Inner"}));
    }
}
