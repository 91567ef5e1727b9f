//! A small subset of CouchDB's Mango query language, applied to JSON values, for the model's
//! CouchDB mode.
//!
//! Supported: `selector` with implicit equality, nested objects and dotted paths, `_id` (the key),
//! the operators `$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $not`; `fields`; `sort` on
//! one field (`["f"]`, `[{"f": "asc"}]` or `[{"f": "desc"}]`); `limit`; `skip`. Values are compared
//! with CouchDB's collation order across types (null < false < true < numbers < strings < arrays <
//! objects); strings compare by code point (CouchDB uses ICU collation, so mixed-case ordering can
//! differ). Unlike CouchDB, `sort` does not require an index. `use_index` and `bookmark` are ignored.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// A parsed rich query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    selector: Value,
    fields: Option<Vec<String>>,
    sort: Option<(String, bool)>,
    limit: Option<usize>,
    skip: usize,
}

/// A document: the key and its value (JSON or not).
pub(crate) struct Doc<'a> {
    pub key: &'a str,
    pub value: &'a [u8],
}

impl Query {
    /// Parses a query, with CouchDB-like error texts.
    pub(crate) fn parse(text: &str) -> Result<Query, String> {
        let parsed: Value = serde_json::from_str(text).map_err(|e| format!("invalid query, not valid JSON: {e}"))?;
        let Value::Object(mut object) = parsed else {
            return Err("invalid query, it must be a JSON object".to_string());
        };
        let selector = object
            .remove("selector")
            .ok_or_else(|| "query must contain a \"selector\" (CouchDB: Missing required key: selector)".to_string())?;
        if !selector.is_object() {
            return Err("the \"selector\" must be a JSON object".to_string());
        }
        validate_selector(&selector)?;
        let fields = match object.remove("fields") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .into_iter()
                    .map(|f| f.as_str().map(str::to_string).ok_or("\"fields\" must be an array of strings"))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err("\"fields\" must be an array of strings".to_string()),
        };
        let sort = match object.remove("sort") {
            None => None,
            Some(Value::Array(items)) => match items.as_slice() {
                [] => None,
                [Value::String(field)] => Some((field.clone(), true)),
                [Value::Object(spec)] if spec.len() == 1 => {
                    let (field, direction) = spec.iter().next().expect("one entry");
                    match direction.as_str() {
                        Some("asc") => Some((field.clone(), true)),
                        Some("desc") => Some((field.clone(), false)),
                        _ => return Err(format!("invalid sort direction for {field}: use \"asc\" or \"desc\"")),
                    }
                }
                _ => return Err("the model supports \"sort\" on one field only".to_string()),
            },
            Some(_) => return Err("\"sort\" must be an array".to_string()),
        };
        let limit = match object.remove("limit") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or("\"limit\" must be a non-negative integer")? as usize),
        };
        let skip = match object.remove("skip") {
            None => 0,
            Some(v) => v.as_u64().ok_or("\"skip\" must be a non-negative integer")? as usize,
        };
        Ok(Query { selector, fields, sort, limit, skip })
    }

    /// Runs the query over `docs` (already in key order); returns the matching keys with their
    /// (projected) values.
    pub(crate) fn run<'a>(&self, docs: impl IntoIterator<Item = Doc<'a>>) -> Vec<(String, Vec<u8>)> {
        let mut matches: Vec<(String, Value, &'a [u8])> = Vec::new();
        for doc in docs {
            let json = document(doc.key, doc.value);
            if matches_selector(&json, &self.selector) {
                matches.push((doc.key.to_string(), json, doc.value));
            }
        }
        if let Some((field, ascending)) = &self.sort {
            matches.sort_by(|a, b| {
                let ordering = compare_opt(lookup(&a.1, field), lookup(&b.1, field));
                if *ascending {
                    ordering
                } else {
                    ordering.reverse()
                }
            });
        }
        let limit = self.limit.unwrap_or(usize::MAX);
        matches
            .into_iter()
            .skip(self.skip)
            .take(limit)
            .map(|(key, json, raw)| {
                let value = match &self.fields {
                    Some(fields) if json.is_object() => project(&json, fields),
                    _ => raw.to_vec(),
                };
                (key, value)
            })
            .collect()
    }
}

/// The JSON a selector sees: the value's fields (if it is a JSON object) plus `_id` = key.
fn document(key: &str, value: &[u8]) -> Value {
    let mut object = match serde_json::from_slice::<Value>(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    object.insert("_id".to_string(), Value::String(key.to_string()));
    Value::Object(object)
}

fn project(doc: &Value, fields: &[String]) -> Vec<u8> {
    let mut out = Map::new();
    for field in fields {
        if field == "_id" {
            continue;
        }
        if let Some(value) = lookup(doc, field) {
            insert_path(&mut out, field, value.clone());
        }
    }
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

fn insert_path(out: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut current = out;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_string(), value);
            return;
        }
        let entry = current.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = entry.as_object_mut().expect("just made an object");
    }
}

fn lookup<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(doc, |value, part| value.as_object()?.get(part))
}

const OPERATORS: &[&str] =
    &["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$and", "$or", "$not"];

fn validate_selector(selector: &Value) -> Result<(), String> {
    match selector {
        Value::Object(map) => {
            for (key, value) in map {
                if key.starts_with('$') {
                    if !OPERATORS.contains(&key.as_str()) {
                        return Err(format!(
                            "invalid_operator: the model's CouchDB emulation does not support {key} (supported: {})",
                            OPERATORS.join(" ")
                        ));
                    }
                    match key.as_str() {
                        "$and" | "$or" => {
                            let Value::Array(items) = value else {
                                return Err(format!("bad_arg: {key} requires an array"));
                            };
                            items.iter().try_for_each(validate_selector)?;
                        }
                        "$in" | "$nin" if !value.is_array() => return Err(format!("bad_arg: {key} requires an array")),
                        "$not" => validate_selector(value)?,
                        _ => {}
                    }
                } else {
                    validate_selector(value)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether `doc` matches a selector object (fields and combinators at this level are ANDed).
fn matches_selector(doc: &Value, selector: &Value) -> bool {
    let Value::Object(conditions) = selector else { return false };
    conditions.iter().all(|(key, condition)| match key.as_str() {
        "$and" => condition.as_array().is_some_and(|items| items.iter().all(|s| matches_selector(doc, s))),
        "$or" => condition.as_array().is_some_and(|items| items.iter().any(|s| matches_selector(doc, s))),
        "$not" => !matches_selector(doc, condition),
        field => matches_field(lookup(doc, field), condition),
    })
}

/// Whether a field's value satisfies a condition (a literal, an operator object or a nested selector).
fn matches_field(value: Option<&Value>, condition: &Value) -> bool {
    match condition {
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => {
            map.iter().all(|(op, arg)| apply_operator(value, op, arg))
        }
        Value::Object(map) => match value {
            // A nested selector: every sub-field must match.
            Some(inner @ Value::Object(_)) => map.iter().all(|(k, c)| matches_field(lookup(inner, k), c)),
            _ => false,
        },
        literal => value.is_some_and(|v| collate(v, literal) == Ordering::Equal),
    }
}

fn apply_operator(value: Option<&Value>, op: &str, arg: &Value) -> bool {
    match op {
        "$exists" => value.is_some() == arg.as_bool().unwrap_or(true),
        "$not" => !matches_field(value, arg),
        "$and" => arg.as_array().is_some_and(|items| items.iter().all(|c| matches_field(value, c))),
        "$or" => arg.as_array().is_some_and(|items| items.iter().any(|c| matches_field(value, c))),
        _ => {
            // Every other operator needs the field to exist.
            let Some(value) = value else { return false };
            match op {
                "$eq" => collate(value, arg) == Ordering::Equal,
                "$ne" => collate(value, arg) != Ordering::Equal,
                "$gt" => collate(value, arg) == Ordering::Greater,
                "$gte" => collate(value, arg) != Ordering::Less,
                "$lt" => collate(value, arg) == Ordering::Less,
                "$lte" => collate(value, arg) != Ordering::Greater,
                "$in" => arg.as_array().is_some_and(|items| items.iter().any(|i| collate(value, i) == Ordering::Equal)),
                "$nin" => {
                    arg.as_array().is_some_and(|items| items.iter().all(|i| collate(value, i) != Ordering::Equal))
                }
                _ => false,
            }
        }
    }
}

fn compare_opt(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => collate(a, b),
    }
}

fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(false) => 1,
        Value::Bool(true) => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
    }
}

/// CouchDB's collation across JSON types.
fn collate(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y) {
                let ordering = collate(i, j);
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y) {
                let ordering = ka.cmp(kb).then_with(|| collate(va, vb));
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, docs: &[(&str, &str)]) -> Vec<String> {
        let q = Query::parse(query).unwrap();
        q.run(docs.iter().map(|(k, v)| Doc { key: k, value: v.as_bytes() })).into_iter().map(|(k, _)| k).collect()
    }

    const DOCS: &[(&str, &str)] = &[
        ("a1", r#"{"color":"blue","size":5,"owner":{"name":"tom"}}"#),
        ("a2", r#"{"color":"red","size":10,"owner":{"name":"ann"}}"#),
        ("a3", r#"{"color":"blue","size":15}"#),
        ("raw", "not json"),
    ];

    #[test]
    fn equality_and_operators() {
        assert_eq!(run(r#"{"selector":{"color":"blue"}}"#, DOCS), ["a1", "a3"]);
        assert_eq!(run(r#"{"selector":{"size":{"$gt":5,"$lte":15}}}"#, DOCS), ["a2", "a3"]);
        assert_eq!(run(r#"{"selector":{"color":{"$ne":"blue"}}}"#, DOCS), ["a2"]);
        assert_eq!(run(r#"{"selector":{"size":{"$in":[5,15]}}}"#, DOCS), ["a1", "a3"]);
        assert_eq!(run(r#"{"selector":{"owner.name":"ann"}}"#, DOCS), ["a2"]);
        assert_eq!(run(r#"{"selector":{"owner":{"name":"tom"}}}"#, DOCS), ["a1"]);
        assert_eq!(run(r#"{"selector":{"$or":[{"size":5},{"color":"red"}]}}"#, DOCS), ["a1", "a2"]);
        assert_eq!(run(r#"{"selector":{"$and":[{"color":"blue"},{"size":{"$gte":10}}]}}"#, DOCS), ["a3"]);
        assert_eq!(run(r#"{"selector":{"_id":{"$gt":null}}}"#, DOCS), ["a1", "a2", "a3", "raw"]);
    }

    #[test]
    fn sort_limit_fields() {
        let q = Query::parse(r#"{"selector":{"size":{"$gt":0}},"sort":[{"size":"desc"}],"limit":2,"fields":["size"]}"#)
            .unwrap();
        let out = q.run(DOCS.iter().map(|(k, v)| Doc { key: k, value: v.as_bytes() }));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "a3");
        assert_eq!(out[0].1, br#"{"size":15}"#);
    }

    #[test]
    fn errors() {
        assert!(Query::parse("{").is_err());
        assert!(Query::parse(r#"{"fields":[]}"#).unwrap_err().contains("selector"));
        assert!(Query::parse(r#"{"selector":{"a":{"$regex":"x"}}}"#).unwrap_err().contains("invalid_operator"));
    }
}
