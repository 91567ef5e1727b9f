//! X.509 certificates, read as Go's `x509.ParseCertificate` reads them (`crypto/x509`
//! `parser.go`, on `golang.org/x/crypto/cryptobyte`), with Go's error texts.
//!
//! Every step of Go's `parseCertificate` is here, in Go's order, with two exceptions, both parts
//! the client identity never exposes: the public key of a known algorithm (RSA, ECDSA, Ed25519,
//! X25519, DSA) is not decoded (Go also checks, for instance, that an ECDSA point is on its
//! curve), and the contents of the standard extensions (key usage, basic constraints, subject
//! alternative names, name constraints, …) are not decoded; both are read as Go frames them (an
//! algorithm identifier and a BIT STRING; an OID, an optional BOOLEAN and an OCTET STRING). The
//! peer runs Go's full parser on every creator before a chaincode sees it, so a certificate that
//! reaches a chaincode passes both.

use super::der::{
    bit_string_ok, integer_ok, parse_oid, Reader, TAG_BIT_STRING, TAG_BOOLEAN, TAG_GENERALIZED_TIME, TAG_INTEGER,
    TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, TAG_UTC_TIME,
};
use super::{name, DistinguishedName};

/// `[0] EXPLICIT Version`, `[1] IMPLICIT issuerUniqueID`, `[2] IMPLICIT subjectUniqueID`,
/// `[3] EXPLICIT Extensions`.
const TAG_VERSION: u8 = 0xa0;
const TAG_ISSUER_UID: u8 = 0x81;
const TAG_SUBJECT_UID: u8 = 0x82;
const TAG_EXTENSIONS: u8 = 0xa3;

/// Fabric CA's attribute extension, 1.2.3.4.5.6.7.8.1 (`super::ATTRIBUTES_OID`).
const ATTRIBUTES_ARCS: [u32; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 1];

/// What the client identity takes from a certificate.
pub(super) struct Parsed {
    pub(super) subject: DistinguishedName,
    pub(super) issuer: DistinguishedName,
    /// The value of the Fabric CA attribute extension (1.2.3.4.5.6.7.8.1), if there is one.
    pub(super) attributes: Option<Vec<u8>>,
}

/// Go's `x509.ParseCertificate` (see the module documentation for what is not checked).
pub(super) fn parse(der: &[u8]) -> Result<Parsed, String> {
    let mut outer = Reader::new(der);
    let mut input = Reader::new(outer.read(TAG_SEQUENCE).ok_or("x509: malformed certificate")?);
    let mut tbs = Reader::new(input.read(TAG_SEQUENCE).ok_or("x509: malformed tbs certificate")?);

    let version = match tbs.read_optional(TAG_VERSION) {
        Err(()) => return Err("x509: malformed version".into()),
        Ok(None) => 0,
        Ok(Some(explicit)) => {
            let mut explicit = Reader::new(explicit);
            let value = explicit.read(TAG_INTEGER).and_then(read_i64).filter(|_| explicit.is_empty());
            value.ok_or("x509: malformed version")?
        }
    };
    if version < 0 {
        return Err("x509: malformed version".into());
    }
    // Go's Version is one-indexed (and an int: INTEGER 2^63-1 wraps, as in Go).
    let version = version.wrapping_add(1);
    if version > 3 {
        return Err("x509: invalid version".into());
    }

    let serial = tbs.read(TAG_INTEGER).filter(|c| integer_ok(c)).ok_or("x509: malformed serial number")?;
    if serial[0] & 0x80 != 0 {
        return Err("x509: negative serial number".into());
    }

    let signature_algorithm = tbs.read(TAG_SEQUENCE).ok_or("x509: malformed signature algorithm identifier")?;
    let outer_algorithm = input.read(TAG_SEQUENCE).ok_or("x509: malformed algorithm identifier")?;
    if outer_algorithm != signature_algorithm {
        return Err("x509: inner and outer signature algorithm identifiers don't match".into());
    }
    parse_algorithm_identifier(signature_algorithm)?;

    let issuer = tbs.read_element(TAG_SEQUENCE).ok_or("x509: malformed issuer")?;
    let issuer = name::parse(issuer.full)?;

    let mut validity = Reader::new(tbs.read(TAG_SEQUENCE).ok_or("x509: malformed validity")?);
    parse_time(&mut validity)?;
    parse_time(&mut validity)?;

    // Go says "malformed issuer" here too.
    let subject = tbs.read_element(TAG_SEQUENCE).ok_or("x509: malformed subject")?;
    let subject = name::parse(subject.full)?;

    let mut spki = Reader::new(tbs.read(TAG_SEQUENCE).ok_or("x509: malformed spki")?);
    let key_algorithm = spki.read(TAG_SEQUENCE).ok_or("x509: malformed public key algorithm identifier")?;
    parse_algorithm_identifier(key_algorithm)?;
    spki.read(TAG_BIT_STRING).filter(|c| bit_string_ok(c)).ok_or("x509: malformed subjectPublicKey")?;

    let mut attributes = None;
    if version > 1 {
        tbs.read_optional(TAG_ISSUER_UID).map_err(|()| "x509: malformed issuerUniqueID")?;
        tbs.read_optional(TAG_SUBJECT_UID).map_err(|()| "x509: malformed subjectUniqueID")?;
    }
    if version == 3 {
        if let Some(explicit) = tbs.read_optional(TAG_EXTENSIONS).map_err(|()| "x509: malformed extensions")? {
            let list = Reader::new(explicit).read(TAG_SEQUENCE).ok_or("x509: malformed extensions")?;
            attributes = parse_extensions(list)?;
        }
    }
    // Whatever else the TBSCertificate holds is ignored, as Go does.

    input.read(TAG_BIT_STRING).filter(|c| bit_string_ok(c)).ok_or("x509: malformed signature")?;
    // Go ignores what follows the signature inside the Certificate SEQUENCE, but not after it.
    if !outer.is_empty() {
        return Err("x509: trailing data".into());
    }
    Ok(Parsed { subject, issuer, attributes })
}

/// The extensions (Go's loop over `parseExtension`, which rejects a repeated OID); returns the
/// value of the attribute extension.
fn parse_extensions(list: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut list = Reader::new(list);
    let mut seen: Vec<Vec<u32>> = Vec::new();
    let mut attributes = None;
    while !list.is_empty() {
        let mut extension = Reader::new(list.read(TAG_SEQUENCE).ok_or("x509: malformed extension")?);
        let oid = extension.read(TAG_OID).and_then(parse_oid).ok_or("x509: malformed extension OID field")?;
        if extension.peek(TAG_BOOLEAN) {
            extension
                .read(TAG_BOOLEAN)
                .filter(|c| matches!(c, [0x00] | [0xff]))
                .ok_or("x509: malformed extension critical field")?;
        }
        let value = extension.read(TAG_OCTET_STRING).ok_or("x509: malformed extension value field")?;
        if seen.contains(&oid) {
            let dotted = oid.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            return Err(format!("x509: certificate contains duplicate extension with OID \"{dotted}\""));
        }
        if oid == ATTRIBUTES_ARCS {
            attributes = Some(value.to_vec());
        }
        seen.push(oid);
    }
    Ok(attributes)
}

/// Go's `parseAI`: an OID, then optionally one element of any type (the parameters).
fn parse_algorithm_identifier(content: &[u8]) -> Result<(), String> {
    let mut ai = Reader::new(content);
    ai.read(TAG_OID).and_then(parse_oid).ok_or("x509: malformed OID")?;
    if !ai.is_empty() && ai.read_any().is_none() {
        return Err("x509: malformed parameters".into());
    }
    Ok(())
}

/// cryptobyte's `ReadASN1Integer` into an `int64`.
fn read_i64(content: &[u8]) -> Option<i64> {
    if !integer_ok(content) || content.len() > 8 {
        return None;
    }
    let sign = if content[0] & 0x80 != 0 { -1i64 } else { 0 };
    Some(content.iter().fold(sign, |acc, b| (acc << 8) | i64::from(*b)))
}

/// Go's `parseTime`: a UTCTime or a GeneralizedTime.
fn parse_time(validity: &mut Reader<'_>) -> Result<(), String> {
    if validity.peek(TAG_UTC_TIME) {
        validity.read(TAG_UTC_TIME).filter(|t| utc_time_ok(t)).ok_or("x509: malformed UTCTime")?;
    } else if validity.peek(TAG_GENERALIZED_TIME) {
        validity
            .read(TAG_GENERALIZED_TIME)
            .filter(|t| generalized_time_ok(t))
            .ok_or("x509: malformed GeneralizedTime")?;
    } else {
        return Err("x509: unsupported time format".into());
    }
    Ok(())
}

/// cryptobyte's `ReadASN1UTCTime`: Go's `time.Parse` with the layout `060102150405Z0700`, or
/// if that fails `0601021504Z0700`, and the text must be exactly what `Format` writes back. So:
/// `YYMMDDhhmm`, optionally `ss`, then `Z` or a non-zero `±hhmm` offset; a real date (`YY`
/// below 69 is 20YY), hour below 24, minute and second below 60.
fn utc_time_ok(text: &[u8]) -> bool {
    [12, 10].into_iter().any(|n| {
        text.len() > n && text[..n].iter().all(u8::is_ascii_digit) && zone_ok(&text[n..]) && {
            let yy = two_digits(&text[0..]);
            let year = if yy >= 69 { 1900 + yy } else { 2000 + yy };
            let second = if n == 12 { two_digits(&text[10..]) } else { 0 };
            date_time_ok(year, &text[2..10], second)
        }
    })
}

/// cryptobyte's `ReadASN1GeneralizedTime`: layout `20060102150405.999999999Z0700`, round trip
/// included. So: `YYYYMMDDhhmmss`, optionally `.` and one to nine digits not ending in `0`, then
/// `Z` or a non-zero `±hhmm` offset.
fn generalized_time_ok(text: &[u8]) -> bool {
    if text.len() < 15 || !text[..14].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rest = &text[14..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) || fraction[digits - 1] == b'0' {
            return false;
        }
        rest = &fraction[digits..];
    }
    let year = two_digits(&text[0..]) * 100 + two_digits(&text[2..]);
    zone_ok(rest) && date_time_ok(year, &text[4..12], two_digits(&text[12..]))
}

/// `MMDDhhmm` (digits) and the seconds make a valid time of `year`.
fn date_time_ok(year: u32, mmddhhmm: &[u8], second: u32) -> bool {
    let (month, day) = (two_digits(mmddhhmm), two_digits(&mmddhhmm[2..]));
    let (hour, minute) = (two_digits(&mmddhhmm[4..]), two_digits(&mmddhhmm[6..]));
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60
}

/// Go's `Z0700` as parsed and then formatted: `Z`, or a sign and `hhmm` with the hour at most
/// 24 (Go's parser allows 24), the minute below 60, and not zero (Go writes a zero offset `Z`).
fn zone_ok(zone: &[u8]) -> bool {
    match zone {
        b"Z" => true,
        [b'+' | b'-', digits @ ..] if digits.len() == 4 && digits.iter().all(u8::is_ascii_digit) => {
            let (hour, minute) = (two_digits(digits), two_digits(&digits[2..]));
            hour <= 24 && minute < 60 && (hour, minute) != (0, 0)
        }
        _ => false,
    }
}

/// The number written by the first two bytes, both ASCII digits.
fn two_digits(digits: &[u8]) -> u32 {
    u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_follow_go() {
        for ok in [
            "250101000000Z",
            "2501010000Z", // minute precision: Go's fallback layout
            "491231235959Z",
            "500101000000Z",
            "000229120000Z", // 2000 is a leap year
            "680229000000Z", // 2068
            "250101000000+0100",
            "250101000000-2359",
            "250101000000+2400", // Go's parser allows an offset of 24 hours
            "2501010000+0530",
        ] {
            assert!(utc_time_ok(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "250101000000",
            "250101000000z",
            "250101000000+0000", // Go writes a zero offset as Z
            "250101000000-0000",
            "250101000000+0060",
            "250101000000+2500",
            "250101000000+01",
            "250101000000.5Z",
            "250101000060Z",
            "250101006000Z",
            "250101240000Z",
            "251301000000Z",
            "250001000000Z",
            "250100000000Z",
            "250431000000Z",
            "010229000000Z",  // 2001 is not a leap year
            "700229000000Z",  // neither is 1970
            "25010100000Z",   // eleven digits
            "2501010000000Z", // thirteen
            "25010100000 Z",
            "+50101000000Z",
            "2501010000ZZ",
        ] {
            assert!(!utc_time_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn generalized_times_follow_go() {
        for ok in [
            "20250101000000Z",
            "21260101000000Z",
            "20000229000000Z",
            "00000229000000Z", // year 0 is a leap year in Go's proleptic calendar
            "20250101000000.5Z",
            "20250101000000.123456789Z",
            "20250101000000.000000001Z",
            "20250101000000+0530",
            "20250101000000.25-0100",
        ] {
            assert!(generalized_time_ok(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "202501010000Z", // seconds are required
            "20250101000000",
            "20250101000000.Z",
            "20250101000000.0Z",
            "20250101000000.50Z",
            "20250101000000,5Z",
            "20250101000000.1234567891Z",
            "20250101000000+0000",
            "19000229000000Z",
            "20250101000060Z",
            "20251301000000Z",
        ] {
            assert!(!generalized_time_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn the_attribute_oid() {
        let dotted = ATTRIBUTES_ARCS.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        assert_eq!(dotted, super::super::ATTRIBUTES_OID);
    }

    #[test]
    fn version_integers() {
        assert_eq!(read_i64(&[0x02]), Some(2));
        assert_eq!(read_i64(&[0xff]), Some(-1));
        assert_eq!(read_i64(&[0x00, 0x80]), Some(128));
        assert_eq!(read_i64(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Some(i64::MAX));
        assert_eq!(read_i64(&[0x80, 0, 0, 0, 0, 0, 0, 0]), Some(i64::MIN));
        assert_eq!(read_i64(&[0x00, 0x02]), None); // not minimal
        assert_eq!(read_i64(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0]), None); // more than 64 bits
        assert_eq!(read_i64(&[]), None);
    }
}
