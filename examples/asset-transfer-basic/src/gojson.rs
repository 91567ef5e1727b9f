//! JSON bytes as Go's `encoding/json.Marshal` writes them.
//!
//! serde_json's compact output already matches Go's for the types used here (no spaces, the same
//! short escapes `\" \\ \b \f \n \r \t` and `\u00XX` with lowercase hex for other control
//! characters). Go additionally escapes `<`, `>` and `&` (HTML-safe output) and U+2028/U+2029, so
//! a client hashing or comparing payloads sees identical bytes from this chaincode and the Go one.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Serializes `value` as compact JSON with Go's extra escapes.
pub(crate) fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer::with_formatter(&mut out, GoFormatter))?;
    Ok(out)
}

/// Compact formatting plus the escapes Go's encoder adds to string contents.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain_from = 0;
        for (at, c) in fragment.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            writer.write_all(escape.as_bytes())?;
            plain_from = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }
}

#[cfg(test)]
mod tests {
    use super::to_vec;

    fn encode(s: &str) -> String {
        String::from_utf8(to_vec(s).unwrap()).unwrap()
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        assert_eq!(
            encode("<a href=\"x\">&</a>"),
            r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_escaped_like_go() {
        assert_eq!(encode("a\u{2028}b\u{2029}c"), r#""a\u2028b\u2029c""#);
    }

    #[test]
    fn control_characters_use_gos_escapes() {
        // Go 1.22+ writes \b and \f; other controls as \u00XX with lowercase hex; DEL as is.
        assert_eq!(
            encode("\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}\"\\"),
            "\"\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\\\"\\\\\""
        );
    }

    #[test]
    fn non_ascii_and_slash_are_written_as_is() {
        assert_eq!(encode("Jin Soo/é/日本"), "\"Jin Soo/é/日本\"");
    }
}
