//! Go's `time.ParseDuration`, which the peer applies to `dial_timeout`.

/// Parses a Go duration string (`"10s"`, `"1m30s"`, `"500ms"`, `"1.5h"`, `"0"`) into
/// nanoseconds, with Go's error messages.
///
/// ```
/// use ccaas_package::connection::parse_go_duration;
/// assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
/// assert_eq!(parse_go_duration("10").unwrap_err(), "time: missing unit in duration \"10\"");
/// ```
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &d in &b[..int_len] {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .filter(|v| *v <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[int_len..];
        let pre = int_len > 0;
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for &d in &rest.as_bytes()[..n] {
                if overflow {
                    continue;
                }
                match frac.checked_mul(10).and_then(|f| f.checked_add(u64::from(d - b'0'))).filter(|f| *f <= LIMIT) {
                    Some(f) => {
                        frac = f;
                        scale *= 10.0;
                    }
                    None => overflow = true,
                }
            }
            post = n > 0;
            s = &rest[n..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s.char_indices().find(|(_, c)| *c == '.' || c.is_ascii_digit()).map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let unit_str = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match unit_str {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {} in duration {}", quote(unit_str), quote(orig))),
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.checked_add(v).filter(|t| *t <= LIMIT).ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    #[test]
    fn go_examples() {
        assert_eq!(p("10s"), Ok(10_000_000_000));
        assert_eq!(p("500ms"), Ok(500_000_000));
        assert_eq!(p("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(p("1h2m3s4ms5us6ns"), Ok(3_723_004_005_006));
        assert_eq!(p("3\u{b5}s"), Ok(3_000));
        assert_eq!(p(".5s"), Ok(500_000_000));
        assert_eq!(p("5.s"), Ok(5_000_000_000));
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("-3s"), Ok(-3_000_000_000));
        assert_eq!(p("+3s"), Ok(3_000_000_000));
        assert_eq!(p("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(p("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn go_errors() {
        assert_eq!(p(""), Err("time: invalid duration \"\"".into()));
        assert_eq!(p("10"), Err("time: missing unit in duration \"10\"".into()));
        assert_eq!(p("10sec"), Err("time: unknown unit \"sec\" in duration \"10sec\"".into()));
        assert_eq!(p(".s"), Err("time: invalid duration \".s\"".into()));
        assert_eq!(p("s"), Err("time: invalid duration \"s\"".into()));
        assert_eq!(p("1 s"), Err("time: unknown unit \" s\" in duration \"1 s\"".into()));
        assert!(p("9223372036854775808ns").is_err());
        assert!(p("3000000h").is_err());
    }
}
