//! Go literal syntax: quoted strings (`strconv.Unquote`), character constants
//! (`strconv.UnquoteChar`) and numbers (`parse.newNumber`).

use super::lex::{go_quote, Kind};

const SYNTAX: &str = "invalid syntax";

/// Validates a Go string literal (`"..."` or a raw string) and returns its value.
pub(crate) fn unquote(lit: &str) -> Result<String, String> {
    if let Some(raw) = lit.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        return Ok(raw.replace('\r', ""));
    }
    let inner = lit.strip_prefix('"').and_then(|s| s.strip_suffix('"')).ok_or(SYNTAX)?;
    let mut out = String::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let (c, tail) = unquote_char(rest, '"')?;
        out.push(c);
        rest = tail;
    }
    Ok(out)
}

/// Go's `strconv.UnquoteChar`: decodes the first character or escape of `s`.
fn unquote_char(s: &str, quote: char) -> Result<(char, &str), String> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(SYNTAX)?;
    if c == quote && (quote == '\'' || quote == '"') {
        return Err(SYNTAX.into());
    }
    if c == '\n' && quote == '"' {
        return Err(SYNTAX.into());
    }
    if c != '\\' {
        return Ok((c, chars.as_str()));
    }
    let esc = chars.next().ok_or(SYNTAX)?;
    let rest = chars.as_str();
    let simple = match esc {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' if esc == quote => Some(esc),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, rest));
    }
    let hex = |n: usize| -> Result<(u32, &str), String> {
        let digits = rest.get(..n).ok_or(SYNTAX)?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| SYNTAX)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SYNTAX.into());
        }
        Ok((v, &rest[n..]))
    };
    match esc {
        'x' => {
            let (v, tail) = hex(2)?;
            // In a Go string `\xNN` is a byte; only ASCII bytes map to a char here.
            Ok((char::from_u32(v).unwrap_or('\u{fffd}'), tail))
        }
        'u' | 'U' => {
            let (v, tail) = hex(if esc == 'u' { 4 } else { 8 })?;
            let c = char::from_u32(v).ok_or(SYNTAX)?;
            Ok((c, tail))
        }
        '0'..='7' => {
            let digits = s.get(1..4).ok_or(SYNTAX)?;
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(SYNTAX.into());
            }
            let v = u32::from_str_radix(digits, 8).map_err(|_| SYNTAX)?;
            if v > 255 {
                return Err(SYNTAX.into());
            }
            Ok((char::from_u32(v).unwrap_or('\u{fffd}'), &s[4..]))
        }
        _ => Err(SYNTAX.into()),
    }
}

/// Validates a number-like token the way `parse.newNumber` does.
pub(crate) fn check_number(text: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::CharConstant => {
            let inner = text.strip_prefix('\'').ok_or(SYNTAX)?;
            let (_, tail) = unquote_char(inner, '\'')?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            Ok(())
        }
        Kind::Complex => {
            // real part, then a signed imaginary part ending in 'i'
            let split = text
                .char_indices()
                .skip(1)
                .filter(|&(i, c)| {
                    (c == '+' || c == '-') && !matches!(text.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P')
                })
                .map(|(i, _)| i)
                .last()
                .ok_or(SYNTAX)?;
            let (re, im) = text.split_at(split);
            let im = im.strip_suffix('i').ok_or(SYNTAX)?;
            if is_float(re) && is_float(im) {
                Ok(())
            } else {
                Err(format!("illegal number syntax: {}", go_quote(text)))
            }
        }
        _ => {
            if let Some(im) = text.strip_suffix('i') {
                if is_float(im) {
                    return Ok(());
                }
            }
            if is_int(text) {
                return Ok(());
            }
            if is_float(text) {
                if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                    return Err(format!("integer overflow: {}", go_quote(text)));
                }
                return Ok(());
            }
            Err(format!("illegal number syntax: {}", go_quote(text)))
        }
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Go's `underscoreOK`: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let s = split_sign(s).1.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &b in &s[i..] {
        if b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()) {
            saw = b'0';
        } else if b == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds.
fn is_int(s: &str) -> bool {
    if !underscore_ok(s) {
        return false;
    }
    let (neg, body) = split_sign(s);
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(v) => !neg || v <= 1u64 << 63,
        Err(_) => false,
    }
}

/// `strconv.ParseFloat(s, 64)` succeeds (finite result).
fn is_float(s: &str) -> bool {
    if !underscore_ok(s) {
        return false;
    }
    let (_, body) = split_sign(s);
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        let Some((mant, exp)) = hex.split_once('p') else {
            return false;
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        return !(int.is_empty() && frac.is_empty())
            && int.chars().chain(frac.chars()).all(|c| c.is_ascii_hexdigit())
            && !exp.is_empty()
            && exp.chars().all(|c| c.is_ascii_digit());
    }
    let (mant, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if (int.is_empty() && frac.is_empty()) || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return false;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    clean.parse::<f64>().is_ok_and(f64::is_finite)
}
