//! Composite keys and the key validation rules of Fabric's Go shim.
//!
//! A composite key is `"\u{0}" + objectType + "\u{0}" + attr1 + "\u{0}" + ... + attrN + "\u{0}"`.
//! Simple keys must not start with `\u{0}`, so the two never collide. A range query with an empty
//! start key starts at `"\u{1}"` instead, so that unbounded ranges skip composite keys.

use crate::error::{Result, ShimError};

/// First character of every composite key (U+0000).
pub const COMPOSITE_KEY_NAMESPACE: char = '\u{0}';
/// The separator between composite key components (U+0000).
const SEPARATOR: char = '\u{0}';
/// The largest code point, used as the open upper bound of partial composite key ranges.
pub const MAX_UNICODE_RUNE: char = '\u{10FFFF}';
/// What an empty range start key is replaced with (skips the composite key namespace).
pub const EMPTY_KEY_SUBSTITUTE: &str = "\u{1}";

/// Builds a composite key from an object type and attributes, with the Go shim's validation.
///
/// ```
/// let key = ccaas_shim::create_composite_key("owner~asset", &["alice", "asset1"]).unwrap();
/// assert_eq!(key, "\u{0}owner~asset\u{0}alice\u{0}asset1\u{0}");
/// let (object_type, attrs) = ccaas_shim::split_composite_key(&key).unwrap();
/// assert_eq!((object_type.as_str(), attrs), ("owner~asset", vec!["alice".to_string(), "asset1".to_string()]));
/// ```
pub fn create_composite_key<S: AsRef<str>>(object_type: &str, attributes: &[S]) -> Result<String> {
    validate_composite_key_attribute(object_type)?;
    let len = 2 + object_type.len() + attributes.iter().map(|a| a.as_ref().len() + 1).sum::<usize>();
    let mut key = String::with_capacity(len);
    key.push(COMPOSITE_KEY_NAMESPACE);
    key.push_str(object_type);
    key.push(SEPARATOR);
    for attribute in attributes {
        let attribute = attribute.as_ref();
        validate_composite_key_attribute(attribute)?;
        key.push_str(attribute);
        key.push(SEPARATOR);
    }
    Ok(key)
}

/// Splits a composite key into its object type and attributes.
///
/// Fails on a key that is not a composite key (one that does not start with U+0000 or has no
/// object type terminator).
pub fn split_composite_key(composite_key: &str) -> Result<(String, Vec<String>)> {
    let body = composite_key.strip_prefix(COMPOSITE_KEY_NAMESPACE).ok_or_else(|| {
        ShimError::invalid(format!("key [{composite_key}] is not a composite key: it does not start with U+0000"))
    })?;
    let mut components = body.split(SEPARATOR);
    let object_type = components.next().unwrap_or_default().to_string();
    if !body.ends_with(SEPARATOR) {
        return Err(ShimError::invalid(format!(
            "key [{}] is not a composite key: it does not end with U+0000",
            composite_key.escape_debug()
        )));
    }
    let mut attributes: Vec<String> = components.map(str::to_string).collect();
    attributes.pop(); // the empty remainder after the final separator
    Ok((object_type, attributes))
}

/// The `[start, end)` range that covers every key with this partial composite key as prefix.
pub(crate) fn partial_composite_key_range<S: AsRef<str>>(
    object_type: &str,
    attributes: &[S],
) -> Result<(String, String)> {
    let start = create_composite_key(object_type, attributes)?;
    let mut end = String::with_capacity(start.len() + 4);
    end.push_str(&start);
    end.push(MAX_UNICODE_RUNE);
    Ok((start, end))
}

/// Rejects U+0000 and U+10FFFF inside a composite key attribute, with the Go shim's message.
fn validate_composite_key_attribute(attribute: &str) -> Result<()> {
    for (index, ch) in attribute.char_indices() {
        if ch == SEPARATOR || ch == MAX_UNICODE_RUNE {
            return Err(ShimError::invalid(format!(
                "input contains unicode U+{:04X} starting at position [{index}]. U+0000 and U+10FFFF are not allowed in the input attribute of a composite key",
                ch as u32
            )));
        }
    }
    Ok(())
}

/// Simple keys (range bounds) must not start with U+0000, the composite key namespace.
pub(crate) fn validate_simple_keys(keys: &[&str]) -> Result<()> {
    for key in keys {
        if key.starts_with(COMPOSITE_KEY_NAMESPACE) {
            return Err(ShimError::invalid(format!(
                "first character of the key [{key}] contains a null character which is not allowed"
            )));
        }
    }
    Ok(())
}

/// Keys written to the ledger must not be empty.
pub(crate) fn validate_key_not_empty(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(ShimError::invalid("key must not be an empty string"));
    }
    Ok(())
}

/// Private data calls need a collection.
pub(crate) fn validate_collection(collection: &str) -> Result<()> {
    if collection.is_empty() {
        return Err(ShimError::invalid("collection must not be an empty string"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_attributes_are_allowed_like_go() {
        let key = create_composite_key("", &["", ""]).unwrap();
        assert_eq!(key, "\u{0}\u{0}\u{0}\u{0}");
        assert_eq!(split_composite_key(&key).unwrap(), (String::new(), vec![String::new(), String::new()]));
    }

    #[test]
    fn forbidden_code_points_are_reported_with_byte_position() {
        let err = create_composite_key("asset", &["ab\u{0}c"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input contains unicode U+0000 starting at position [2]. U+0000 and U+10FFFF are not allowed in the input attribute of a composite key"
        );
        let err = create_composite_key("é\u{10FFFF}", &[] as &[&str]).unwrap_err();
        assert!(err.to_string().starts_with("input contains unicode U+10FFFF starting at position [2]."));
    }

    #[test]
    fn split_rejects_simple_keys() {
        assert!(split_composite_key("asset1").is_err());
        assert!(split_composite_key("\u{0}type").is_err());
        assert_eq!(split_composite_key("\u{0}type\u{0}").unwrap(), ("type".to_string(), vec![]));
    }

    #[test]
    fn partial_range_is_prefix_to_max_rune() {
        let (start, end) = partial_composite_key_range("color", &["blue"]).unwrap();
        assert_eq!(start, "\u{0}color\u{0}blue\u{0}");
        assert_eq!(end, "\u{0}color\u{0}blue\u{0}\u{10FFFF}");
    }

    #[test]
    fn simple_keys_must_not_start_with_nul() {
        assert!(validate_simple_keys(&["a", ""]).is_ok());
        assert_eq!(
            validate_simple_keys(&["\u{0}a"]).unwrap_err().to_string(),
            "first character of the key [\u{0}a] contains a null character which is not allowed"
        );
    }
}
