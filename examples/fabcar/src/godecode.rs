//! Reading JSON the way Go's `encoding/json.Unmarshal` fills a struct whose fields are strings,
//! for callers that ignore its error (the Go sample's `_ = json.Unmarshal(bytes, car)`).
//!
//! What Go does, and so what this does:
//!
//! * The whole input is checked first (one JSON value, optional whitespace around it, at most
//!   10,000 nested arrays and objects). If it is not valid JSON nothing is filled in.
//! * Only a top-level object fills fields; an array, string, number, `true`, `false` or `null`
//!   leaves the struct as it was.
//! * Keys match field names case-insensitively (with Unicode simple folding, so `K` (U+212A)
//!   matches `k` and `ſ` (U+017F) matches `s`). Unknown keys are skipped.
//! * A string value is stored; `null` keeps the field's value; a number, boolean, array or object
//!   is a type error that Go records and skips, so it keeps the value too. Later keys overwrite
//!   earlier ones.
//! * Strings are unescaped as Go does: a `\uXXXX` surrogate that is not the first half of a pair
//!   followed by the second becomes U+FFFD, and so does each byte of invalid UTF-8.

/// Go's `maxNestingDepth`: deeper input is a syntax error.
const MAX_DEPTH: usize = 10_000;

/// The string each of the fields `names` ends up with when Go unmarshals `json` into a fresh
/// struct of string fields with those JSON names (`None`: left untouched, Go's zero value `""`).
///
/// The names must be ASCII, as Go's field names in the sample are.
pub(crate) fn string_fields<const N: usize>(json: &[u8], names: [&str; N]) -> [Option<String>; N] {
    debug_assert!(names.iter().all(|n| n.is_ascii()));
    let mut fields: [Option<String>; N] = std::array::from_fn(|_| None);
    if !is_valid(json) {
        return fields;
    }
    let mut cursor = Cursor { bytes: json, at: 0 };
    cursor.skip_whitespace();
    if cursor.peek() != Some(b'{') {
        return fields;
    }
    cursor.at += 1;
    cursor.skip_whitespace();
    if cursor.peek() == Some(b'}') {
        return fields;
    }
    // Valid JSON, so the object is `"key" : value` members separated by commas.
    loop {
        let key = unquote(cursor.string());
        cursor.skip_whitespace();
        cursor.at += 1; // ':'
        cursor.skip_whitespace();
        let field = names.iter().position(|name| folds_to(&key, name));
        match field {
            Some(index) if cursor.peek() == Some(b'"') => {
                fields[index] = Some(unquote(cursor.string()));
            }
            _ => cursor.skip_value(),
        }
        cursor.skip_whitespace();
        if cursor.peek() != Some(b',') {
            return fields;
        }
        cursor.at += 1;
        cursor.skip_whitespace();
    }
}

/// Whether a JSON key selects the field `name` in Go: the same length in characters and each
/// character equal under simple case folding. Only `K` (Kelvin) and `ſ` (long s) fold to ASCII
/// letters from outside ASCII.
fn folds_to(key: &str, name: &str) -> bool {
    let fold = |c: char| match c {
        '\u{212A}' => 'k',
        '\u{17F}' => 's',
        c => c.to_ascii_lowercase(),
    };
    let mut key = key.chars();
    name.chars().all(|n| key.next().map(fold) == Some(n.to_ascii_lowercase())) && key.next().is_none()
}

/// Go's unescaping of a string's contents (without the quotes), for input already known to be
/// valid JSON.
fn unquote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        match raw[at] {
            b'\\' => {
                let escaped = raw[at + 1];
                at += 2;
                match escaped {
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    b'u' => {
                        let unit = hex4(&raw[at..]).unwrap_or(0xFFFD);
                        at += 4;
                        out.push(match unit {
                            0xD800..=0xDBFF => match low_surrogate(&raw[at..]) {
                                Some(low) => {
                                    at += 6;
                                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                                    char::from_u32(c).unwrap_or('\u{FFFD}')
                                }
                                None => '\u{FFFD}',
                            },
                            unit => char::from_u32(unit).unwrap_or('\u{FFFD}'),
                        });
                    }
                    // `"`, `\` and `/` stand for themselves.
                    other => out.push(char::from(other)),
                }
            }
            byte if byte.is_ascii() => {
                out.push(char::from(byte));
                at += 1;
            }
            _ => {
                // One UTF-8 sequence, or U+FFFD for a single byte that does not start one.
                let window = &raw[at..raw.len().min(at + 4)];
                let valid = match std::str::from_utf8(window) {
                    Ok(s) => s,
                    Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
                };
                match valid.chars().next() {
                    Some(c) => {
                        out.push(c);
                        at += c.len_utf8();
                    }
                    None => {
                        out.push('\u{FFFD}');
                        at += 1;
                    }
                }
            }
        }
    }
    out
}

/// The value of four hex digits at the start of `s`.
fn hex4(s: &[u8]) -> Option<u32> {
    let digits = s.get(..4)?;
    digits.iter().try_fold(0, |value, &d| Some(value * 16 + char::from(d).to_digit(16)?))
}

/// The second half of a surrogate pair, if `s` starts with its `\uXXXX` escape.
fn low_surrogate(s: &[u8]) -> Option<u32> {
    let unit = hex4(s.strip_prefix(b"\\u")?)?;
    (0xDC00..=0xDFFF).contains(&unit).then_some(unit)
}

/// A position in JSON text already known to be valid.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The contents of the string starting here, moving past its closing quote.
    fn string(&mut self) -> &'a [u8] {
        let start = self.at + 1;
        let mut at = start;
        while let Some(&byte) = self.bytes.get(at) {
            match byte {
                b'"' => break,
                b'\\' => at += 2,
                _ => at += 1,
            }
        }
        self.at = at + 1;
        &self.bytes[start..at.min(self.bytes.len())]
    }

    /// Moves past the value starting here.
    fn skip_value(&mut self) {
        match self.peek() {
            Some(b'"') => {
                self.string();
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(byte) = self.peek() {
                    match byte {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            // A number or literal: no delimiters or whitespace inside.
            _ => {
                while matches!(self.peek(), Some(byte) if !matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                {
                    self.at += 1;
                }
            }
        }
    }
}

/// Go's `checkValid`: exactly one JSON value (RFC 8259 grammar) with optional whitespace around
/// it, nested at most [`MAX_DEPTH`] deep. String contents are not checked for UTF-8.
fn is_valid(json: &[u8]) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        Object,
        Array,
    }
    let mut open: Vec<Open> = Vec::new();
    let mut cursor = Cursor { bytes: json, at: 0 };
    cursor.skip_whitespace();
    'value: loop {
        // A value starts here.
        match cursor.peek() {
            Some(b'{') | Some(b'[') => {
                let kind = if cursor.peek() == Some(b'{') { Open::Object } else { Open::Array };
                cursor.at += 1;
                open.push(kind);
                if open.len() > MAX_DEPTH {
                    return false;
                }
                cursor.skip_whitespace();
                let close = if kind == Open::Object { b'}' } else { b']' };
                if cursor.peek() == Some(close) {
                    cursor.at += 1;
                    open.pop();
                } else if kind == Open::Object {
                    if !member_key(&mut cursor) {
                        return false;
                    }
                    continue 'value;
                } else {
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !valid_string(&mut cursor) {
                    return false;
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                if !valid_number(&mut cursor) {
                    return false;
                }
            }
            Some(b't') => {
                if !literal(&mut cursor, b"true") {
                    return false;
                }
            }
            Some(b'f') => {
                if !literal(&mut cursor, b"false") {
                    return false;
                }
            }
            Some(b'n') => {
                if !literal(&mut cursor, b"null") {
                    return false;
                }
            }
            _ => return false,
        }
        // A value ended: close containers or move to the next element.
        loop {
            cursor.skip_whitespace();
            let Some(&kind) = open.last() else {
                return cursor.at == json.len();
            };
            match (kind, cursor.peek()) {
                (_, Some(b',')) => {
                    cursor.at += 1;
                    cursor.skip_whitespace();
                    if kind == Open::Object && !member_key(&mut cursor) {
                        return false;
                    }
                    continue 'value;
                }
                (Open::Object, Some(b'}')) | (Open::Array, Some(b']')) => {
                    cursor.at += 1;
                    open.pop();
                }
                _ => return false,
            }
        }
    }
}

/// `"key" :` and the whitespace after it.
fn member_key(cursor: &mut Cursor<'_>) -> bool {
    if cursor.peek() != Some(b'"') || !valid_string(cursor) {
        return false;
    }
    cursor.skip_whitespace();
    if cursor.peek() != Some(b':') {
        return false;
    }
    cursor.at += 1;
    cursor.skip_whitespace();
    true
}

/// A string starting at the opening quote: no raw control characters, only JSON's escapes.
fn valid_string(cursor: &mut Cursor<'_>) -> bool {
    cursor.at += 1;
    loop {
        let Some(byte) = cursor.peek() else {
            return false;
        };
        cursor.at += 1;
        match byte {
            b'"' => return true,
            b'\\' => match cursor.peek() {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => cursor.at += 1,
                Some(b'u') => {
                    if hex4(&cursor.bytes[cursor.at + 1..]).is_none() {
                        return false;
                    }
                    cursor.at += 5;
                }
                _ => return false,
            },
            0x00..=0x1F => return false,
            _ => {}
        }
    }
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn valid_number(cursor: &mut Cursor<'_>) -> bool {
    fn digits(cursor: &mut Cursor<'_>) -> usize {
        let start = cursor.at;
        while matches!(cursor.peek(), Some(b'0'..=b'9')) {
            cursor.at += 1;
        }
        cursor.at - start
    }
    if cursor.peek() == Some(b'-') {
        cursor.at += 1;
    }
    match cursor.peek() {
        Some(b'0') => cursor.at += 1,
        Some(b'1'..=b'9') => {
            digits(cursor);
        }
        _ => return false,
    }
    if cursor.peek() == Some(b'.') {
        cursor.at += 1;
        if digits(cursor) == 0 {
            return false;
        }
    }
    if matches!(cursor.peek(), Some(b'e' | b'E')) {
        cursor.at += 1;
        if matches!(cursor.peek(), Some(b'+' | b'-')) {
            cursor.at += 1;
        }
        if digits(cursor) == 0 {
            return false;
        }
    }
    true
}

fn literal(cursor: &mut Cursor<'_>, word: &[u8]) -> bool {
    if cursor.bytes[cursor.at..].starts_with(word) {
        cursor.at += word.len();
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    //! Every expectation here is what Go's `json.Unmarshal` (1.19) leaves in a fresh
    //! `struct { Make, Model, Colour, Owner string }` with the sample's tags.

    use super::string_fields;

    const NAMES: [&str; 4] = ["make", "model", "colour", "owner"];

    /// The four fields, `""` for the untouched ones.
    fn decode(json: &[u8]) -> [String; 4] {
        string_fields(json, NAMES).map(Option::unwrap_or_default)
    }

    fn fields(make: &str, model: &str, colour: &str, owner: &str) -> [String; 4] {
        [make, model, colour, owner].map(str::to_owned)
    }

    fn empty() -> [String; 4] {
        fields("", "", "", "")
    }

    #[test]
    fn keys_match_case_insensitively() {
        assert_eq!(
            decode(br#"{"make":"Ford","MODEL":"Mustang","Colour":"red","oWnEr":"Brad"}"#),
            fields("Ford", "Mustang", "red", "Brad")
        );
        // The Kelvin sign folds to k, raw or escaped; near misses are unknown keys.
        assert_eq!(decode("{\"ma\u{212A}e\":\"K\"}".as_bytes()), fields("K", "", "", ""));
        assert_eq!(decode(br#"{"ma\u212Ae":"esc","m\u0061ke":"later"}"#), fields("later", "", "", ""));
        assert_eq!(decode(br#"{"owner ":"x","own":"y","color":"red","":"z"}"#), empty());
    }

    #[test]
    fn later_keys_win_and_null_keeps_the_value() {
        assert_eq!(decode(br#"{"make":"a","make":null,"model":"b","model":"c"}"#), fields("a", "c", "", ""));
    }

    #[test]
    fn values_that_are_not_strings_are_skipped() {
        assert_eq!(decode(br#"{"make":1,"model":true,"colour":["x"],"owner":{"owner":"b"}}"#), empty());
        assert_eq!(decode(br#"{"owner":"x","n":-0.5e+3,"a":[{"make":"no"},"]"],"b":"}"}"#), fields("", "", "", "x"));
    }

    #[test]
    fn only_a_top_level_object_fills_fields() {
        for json in [&b"[{\"owner\":\"x\"}]"[..], b"\"x\"", b"null", b"1", b"true", b"{}"] {
            assert_eq!(decode(json), empty(), "{}", String::from_utf8_lossy(json));
        }
        assert_eq!(decode(b" \t\r\n{\"owner\":\"x\"}\n "), fields("", "", "", "x"));
    }

    #[test]
    fn invalid_json_fills_nothing() {
        for json in [
            &b""[..],
            b" ",
            b"{\"owner\":\"x\"} x",
            b"{\"owner\":\"x\"} {}",
            b"{\"owner\":\"a\x01\"}",
            b"{\"owner\":\"x\",\"n\":01}",
            b"{\"owner\":\"x\",\"n\":1.}",
            b"{\"owner\":\"x\",\"n\":.5}",
            b"{\"owner\":\"x\",\"n\":+1}",
            b"{\"owner\":\"x\",\"n\":tru}",
            b"{\"owner\":\"x\",}",
            b"{\"owner\":\"x\" \"make\":\"y\"}",
            b"{\"owner\":\"\\x\"}",
            b"{\"owner\":\"\\u12\"}",
            b"{'owner':'x'}",
            b"{\"owner\":\"x\"",
            b"\xff{\"owner\":\"x\"}",
        ] {
            assert_eq!(decode(json), empty(), "{}", String::from_utf8_lossy(json));
        }
    }

    #[test]
    fn nesting_deeper_than_10000_is_invalid() {
        let nested = |depth: usize| format!(r#"{{"make":"a","x":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
        // The object itself is one level.
        assert_eq!(decode(nested(9_999).as_bytes()), fields("a", "", "", ""));
        assert_eq!(decode(nested(10_000).as_bytes()), empty());
    }

    #[test]
    fn escapes_and_surrogates_unquote_like_go() {
        assert_eq!(decode(br#"{"owner":"a\u0000b\/\"\\\b\f\n\r\t"}"#), fields("", "", "", "a\0b/\"\\\u{8}\u{c}\n\r\t"));
        assert_eq!(
            decode(br#"{"owner":"\ud83d\ude00|\ud800|\udc00|\ud800\u0041|\ud800\ud800\udc00"}"#),
            fields("", "", "", "😀|\u{fffd}|\u{fffd}|\u{fffd}A|\u{fffd}\u{10000}")
        );
    }

    #[test]
    fn each_invalid_utf8_byte_becomes_a_replacement_character() {
        assert_eq!(
            decode(b"{\"owner\":\"\xff\xe2\x82x\xed\xa0\x80\xf0\x9f\x98\x80\"}"),
            fields("", "", "", "\u{fffd}\u{fffd}\u{fffd}x\u{fffd}\u{fffd}\u{fffd}😀")
        );
    }
}
