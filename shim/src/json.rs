//! JSON bytes exactly as Go's `encoding/json.Marshal` writes them, so a Rust chaincode returns
//! and stores the same bytes as its Go twin (clients that hash or compare payloads see no
//! difference). The contract API serializes return values with it.
//!
//! serde_json's compact output is Go's for strings and structs except for a few characters Go
//! escapes on top: `<`, `>` and `&` (its HTML-safe default) and U+2028/U+2029. Control
//! characters come out the same: `\b \f \n \r \t` (Go 1.22 and later) and `\u00XX` with
//! lowercase hex for the rest; DEL and non-ASCII text are written as they are.

use serde::Serialize;

/// Serializes `value` as compact JSON with Go's extra escapes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let json = serde_json::to_vec(value)?;
    // Chunks folded without an early exit compile to SIMD compares: the scan of a payload
    // without these characters (nearly all) costs a fraction of serializing it.
    let escapes = json.chunks(64).any(|chunk| chunk.iter().fold(false, |found, &b| found | starts_go_escape(b)));
    Ok(if escapes { escape_like_go(&json) } else { json })
}

/// `<`, `>`, `&` and the first byte of U+2028/U+2029 (E2 80 A8/A9).
fn starts_go_escape(b: u8) -> bool {
    matches!(b, b'<' | b'>' | b'&' | 0xE2)
}

/// Escapes Go's extra characters wherever they occur in serde_json's compact output. They can
/// only be characters of a string (a key, a value, or inside a `RawValue`, which Go escapes too):
/// JSON's punctuation, numbers and literals are other ASCII bytes, and none of them can be part
/// of an escape sequence serde_json wrote (those are `\` followed by ASCII letters or digits).
fn escape_like_go(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 32);
    let mut rest = json;
    while let Some(at) = rest.iter().position(|&b| starts_go_escape(b)) {
        let (escaped, len): (&[u8], usize) = match &rest[at..] {
            [b'<', ..] => (b"\\u003c", 1),
            [b'>', ..] => (b"\\u003e", 1),
            [b'&', ..] => (b"\\u0026", 1),
            [0xE2, 0x80, 0xA8, ..] => (b"\\u2028", 3),
            [0xE2, 0x80, 0xA9, ..] => (b"\\u2029", 3),
            _ => (&rest[at..at + 1], 1),
        };
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(escaped);
        rest = &rest[at + len..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::to_vec;

    fn encode(s: &str) -> String {
        String::from_utf8(to_vec(s).unwrap()).unwrap()
    }

    #[test]
    fn html_characters_and_separators_are_escaped_like_go() {
        // Go: json.Marshal("a<b>&\u2028\u2029")
        assert_eq!(encode("a<b>&\u{2028}\u{2029}"), r#""a\u003cb\u003e\u0026\u2028\u2029""#);
    }

    #[test]
    fn control_characters_quotes_and_backslashes_use_gos_escapes() {
        assert_eq!(encode("\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}\"\\"), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\\\"\\\\\"");
    }

    #[test]
    fn escapes_among_multibyte_text() {
        // E2 starts other characters too (U+2020, U+20AC, U+2027, U+202A): written as they are.
        assert_eq!(
            encode("\u{2020}\u{20ac}<\u{2027}\u{2028}\u{202a}\u{2029}&é>"),
            "\"\u{2020}\u{20ac}\\u003c\u{2027}\\u2028\u{202a}\\u2029\\u0026é\\u003e\""
        );
        assert_eq!(encode("\u{2029}"), r#""\u2029""#);
        assert_eq!(encode("x\u{20ac}"), "\"x\u{20ac}\"");
    }

    #[test]
    fn keys_and_nested_values_are_escaped_and_structure_is_kept() {
        let value = serde_json::json!({"a<b": [1, -2.5, true, null, {"k": "x&y\u{2028}"}], "plain": "text"});
        // Go: json.Marshal(map[string]any{"a<b": []any{1, -2.5, true, nil, map[string]any{"k": "x&y\u2028"}}, "plain": "text"})
        let expected = r#"{"a\u003cb":[1,-2.5,true,null,{"k":"x\u0026y\u2028"}],"plain":"text"}"#;
        assert_eq!(String::from_utf8(to_vec(&value).unwrap()).unwrap(), expected);
        let plain = serde_json::json!({"ID": "asset1", "Size": 5, "Owner": "Tomoko"});
        assert_eq!(to_vec(&plain).unwrap(), serde_json::to_vec(&plain).unwrap());
    }

    #[test]
    fn slashes_and_non_ascii_are_written_as_they_are() {
        assert_eq!(encode("Jin Soo/é/日本/\u{fffd}"), "\"Jin Soo/é/日本/\u{fffd}\"");
    }
}
