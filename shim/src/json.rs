//! JSON bytes exactly as Go's `encoding/json.Marshal` writes them, so a Rust chaincode returns
//! and stores the same bytes as its Go twin (clients that hash or compare payloads see no
//! difference). The contract API serializes return values with it.
//!
//! serde_json's compact output is Go's for strings and structs except for a few characters Go
//! escapes on top: `<`, `>` and `&` (its HTML-safe default) and U+2028/U+2029. Control
//! characters come out the same: `\b \f \n \r \t` (Go 1.22 and later) and `\u00XX` with
//! lowercase hex for the rest; DEL and non-ASCII text are written as they are.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Serializes `value` as compact JSON with Go's extra escapes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(96);
    value.serialize(&mut Serializer::with_formatter(&mut out, GoEscapes))?;
    Ok(out)
}

/// serde_json's compact formatter plus Go's additional string escapes.
struct GoEscapes;

impl Formatter for GoEscapes {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&bytes[start..at])?;
            writer.write_all(escaped.as_bytes())?;
            start = at + c.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }
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
    fn slashes_and_non_ascii_are_written_as_they_are() {
        assert_eq!(encode("Jin Soo/é/日本/\u{fffd}"), "\"Jin Soo/é/日本/\u{fffd}\"");
    }
}
