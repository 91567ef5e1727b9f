//! Enough of Go's `encoding/json` `Unmarshal` into a struct to report the same type
//! errors the peer and the ccaas builder would: keys match case-insensitively, `null`
//! leaves the zero value, unknown keys are ignored, a wrong JSON type is an error.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    String,
    Bool,
}

impl GoKind {
    fn name(self) -> &'static str {
        match self {
            GoKind::String => "string",
            GoKind::Bool => "bool",
        }
    }

    fn accepts(self, v: &Value) -> bool {
        matches!((self, v), (GoKind::String, Value::String(_)) | (GoKind::Bool, Value::Bool(_)))
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The decoded fields (non-null, type-checked) and the keys that matched no field.
pub(crate) struct GoStruct {
    pub fields: BTreeMap<&'static str, Value>,
    pub unknown: Vec<String>,
}

impl GoStruct {
    pub fn string(&self, field: &str) -> String {
        self.fields.get(field).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    pub fn bool(&self, field: &str) -> bool {
        self.fields.get(field).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// Decodes `bytes` into the Go struct `go_type` with the given `(json name, kind)` fields.
pub(crate) fn unmarshal(bytes: &[u8], go_type: &str, fields: &[(&'static str, GoKind)]) -> Result<GoStruct, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let obj = match value {
        Value::Object(o) => o,
        Value::Null => serde_json::Map::new(),
        other => return Err(format!("json: cannot unmarshal {} into Go value of type {go_type}", json_type(&other))),
    };
    let short = go_type.rsplit('.').next().unwrap_or(go_type);
    let mut out = GoStruct { fields: BTreeMap::new(), unknown: Vec::new() };
    for (key, v) in &obj {
        let field =
            fields.iter().find(|(n, _)| n == key).or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(key)));
        let Some(&(name, kind)) = field else {
            out.unknown.push(key.clone());
            continue;
        };
        if v.is_null() {
            continue;
        }
        if !kind.accepts(v) {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field {short}.{name} of type {}",
                json_type(v),
                kind.name()
            ));
        }
        // An exact key wins over a case-folded one.
        if key == name || !out.fields.contains_key(name) {
            out.fields.insert(name, v.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[(&str, GoKind)] = &[("label", GoKind::String), ("tls", GoKind::Bool)];

    #[test]
    fn go_semantics() {
        let s = unmarshal(br#"{"Label":"x","tls":null,"other":1}"#, "p.T", F).unwrap();
        assert_eq!(s.string("label"), "x");
        assert!(!s.bool("tls"));
        assert_eq!(s.unknown, vec!["other".to_string()]);
        assert_eq!(
            unmarshal(br#"{"tls":"true"}"#, "p.T", F).err().unwrap(),
            "json: cannot unmarshal string into Go struct field T.tls of type bool"
        );
        assert_eq!(unmarshal(b"[]", "p.T", F).err().unwrap(), "json: cannot unmarshal array into Go value of type p.T");
        assert!(unmarshal(b"null", "p.T", F).is_ok());
        assert!(unmarshal(b"{", "p.T", F).is_err());
    }
}
