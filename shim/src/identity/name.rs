//! X.509 distinguished names, formatted exactly as Go formats them (rules on
//! [`DistinguishedName`]).

use super::der::{
    bit_string_ok, encode_length, integer_ok, parse_oid, Reader, TAG_BIT_STRING, TAG_BOOLEAN, TAG_INTEGER, TAG_NULL,
    TAG_OID, TAG_SEQUENCE, TAG_SET,
};
use std::fmt;

const TAG_UTF8_STRING: u8 = 0x0c;
const TAG_NUMERIC_STRING: u8 = 0x12;
const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_T61_STRING: u8 = 0x14;
const TAG_IA5_STRING: u8 = 0x16;
const TAG_BMP_STRING: u8 = 0x1e;

/// The nine attribute types Go knows by name (`attributeTypeNames` in `pkix.go`), by the last
/// arc of `2.5.4.x`.
fn short_name(arc: u32) -> Option<&'static str> {
    Some(match arc {
        3 => "CN",
        5 => "SERIALNUMBER",
        6 => "C",
        7 => "L",
        8 => "ST",
        9 => "STREET",
        10 => "O",
        11 => "OU",
        17 => "POSTALCODE",
        _ => return None,
    })
}

/// An X.509 distinguished name: a certificate's subject or issuer.
///
/// [`to_cid_string`](Self::to_cid_string) gives the form in Fabric's client ID; `Display` gives
/// Go's `pkix.Name.String()`.
///
/// The rules come from three pieces of Go (read in the Go and Fabric sources):
///
/// 1. **Parsing** — Go's `crypto/x509` `parser.go`, `parseName` + `readASN1Any` +
///    `parseASN1String`: each attribute value is decoded by its exact tag. T61String is read as
///    Latin-1, PrintableString must hold only `a-z A-Z 0-9 ' ( ) + , - . / : = ? space * &`,
///    UTF8String must be valid UTF-8, BMPString is UCS-2 (an optional trailing `00 00` is
///    dropped; surrogates and the noncharacters U+FFFE, U+FFFF, U+FDD0–U+FDEF are rejected),
///    IA5String must be ASCII, NumericString only digits and spaces. A string that breaks its
///    type's rules makes Go reject the whole certificate; so do we. Other value types (INTEGER,
///    BIT STRING, …) are kept but are not strings. This is current Go; older releases differ in
///    three corners, which therefore give different IDs there: they kept T61String bytes as
///    they were (not valid UTF-8 beyond ASCII), accepted surrogate pairs in BMPString, and
///    rejected certificates with non-string values (`unsupported string type`, golang/go#69463;
///    Go 1.23 still did).
/// 2. **The parsed `pkix.Name`** — `crypto/x509/pkix/pkix.go`, `Name.FillFromRDNSequence`:
///    multi-valued RDNs are *flattened*; only string values of the nine standard attributes
///    (2.5.4.3 CN, .5 SERIALNUMBER, .6 C, .7 L, .8 ST, .9 STREET, .10 O, .11 OU, .17 POSTALCODE)
///    land in named fields, in certificate order; for CN and SERIALNUMBER the *last* one wins.
///    `ExtraNames` stays empty when parsing.
/// 3. **The string** — Fabric's `pkg/cid/cid.go`, `getDN`, formats `Name.ToRDNSequence()`
///    (`pkix.go`), which rebuilds the sequence from the named fields in a fixed order: one RDN
///    each for all C, all ST, all L, all STREET, all POSTALCODE, all O, all OU values (several
///    values of one type become one multi-valued RDN), then CN and SERIALNUMBER if non-empty.
///    `getDN` then writes the RDNs last-first, joined by `,`, values of one RDN joined by `+`, as
///    `SHORTNAME=value`, escaping `, + " \ < > ;` anywhere, `#` or space as the first character
///    and space as the last character with a backslash. Nothing else is escaped: NUL, `=`, `/`
///    and non-ASCII text are written as they are. Attributes of any other type (emailAddress,
///    DC, UID, …), non-string values and the original grouping and order of RDNs therefore do
///    not appear in Fabric's ID at all.
///
/// `Display` is Go's `pkix.Name.String()` instead: the same `ToRDNSequence()` part, preceded
/// (so, after reversal, followed) by every non-standard attribute as its own RDN, written
/// `1.2.3.4=#<hex>` where the hex is Go's `asn1.Marshal` of the parsed value (a string is
/// re-encoded as PrintableString when every character is in the PrintableString set without `*`
/// and `&`, else as UTF8String; a NULL value prints `\<nil\>`).
///
/// ```
/// use ccaas_shim::identity::DistinguishedName;
///
/// // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 (CN), UTF8String "peer0" } } }
/// let der = [0x30, 0x10, 0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03,
///            0x0c, 0x05, b'p', b'e', b'e', b'r', b'0'];
/// let name = DistinguishedName::from_der(&der)?;
/// assert_eq!(name.to_cid_string(), "CN=peer0");
/// assert_eq!(name.to_string(), "CN=peer0");
/// assert_eq!(name.common_name(), Some("peer0"));
/// # Ok::<(), ccaas_shim::identity::IdentityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    der: Vec<u8>,
    /// The attributes in certificate order, RDNs flattened (Go's `Name.Names`).
    names: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Attribute {
    oid: Vec<u32>,
    value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// A string type, decoded.
    Text(String),
    /// NULL (Go: a nil value).
    Null,
    /// Any other type: its whole DER encoding.
    Other(Vec<u8>),
}

impl Attribute {
    /// `Some(x)` for the standard attribute `2.5.4.x`.
    fn standard_arc(&self) -> Option<u32> {
        match self.oid.as_slice() {
            [2, 5, 4, arc] if short_name(*arc).is_some() => Some(*arc),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl DistinguishedName {
    /// Parses the DER encoding of a `Name` (an RDN sequence) with Go's rules; an error text is
    /// Go's, e.g. `x509: invalid RDNSequence: invalid attribute value: invalid PrintableString`.
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// // CN as a PrintableString holding '@', which PrintableString does not allow.
    /// let der = [0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03,
    ///            0x13, 0x03, b'a', b'@', b'b'];
    /// let err = DistinguishedName::from_der(&der).unwrap_err();
    /// assert!(err.to_string().contains("invalid PrintableString"));
    /// ```
    pub fn from_der(der: &[u8]) -> Result<Self, super::IdentityError> {
        parse(der).map_err(super::IdentityError::Certificate)
    }

    /// The DER encoding of the name, as it appears in the certificate.
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// let der = [0x30, 0x00]; // the empty name
    /// assert_eq!(DistinguishedName::from_der(&der)?.as_der(), &der);
    /// # Ok::<(), ccaas_shim::identity::IdentityError>(())
    /// ```
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// The name as Fabric's `pkg/cid` writes it inside the client ID (`getDN` over Go's
    /// `Name.ToRDNSequence()`): only the nine standard attributes, in Go's fixed order, last
    /// first; several values of one type form one `+`-joined RDN.
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// // C=US / O=Org1 / CN=alice+OU=client, i.e. a multi-valued last RDN.
    /// let der = [
    ///     0x30, 0x3b,
    ///     0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, b'U', b'S',
    ///     0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x04, b'O', b'r', b'g', b'1',
    ///     0x31, 0x1d,
    ///     0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05, b'a', b'l', b'i', b'c', b'e',
    ///     0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x06, b'c', b'l', b'i', b'e', b'n', b't',
    /// ];
    /// let name = DistinguishedName::from_der(&der)?;
    /// // Go regroups by type: the multi-valued RDN does not survive.
    /// assert_eq!(name.to_cid_string(), "CN=alice,OU=client,O=Org1,C=US");
    /// # Ok::<(), ccaas_shim::identity::IdentityError>(())
    /// ```
    pub fn to_cid_string(&self) -> String {
        let mut out = String::new();
        for (i, rdn) in self.to_rdn_sequence().iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (j, (name, value)) in rdn.iter().enumerate() {
                if j > 0 {
                    out.push('+');
                }
                out.push_str(name);
                out.push('=');
                escape_into(value, &mut out);
            }
        }
        out
    }

    /// The common name, as Go's `Name.CommonName`: the last CN with a string value, `None` if
    /// there is none or it is empty.
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// let der = [0x30, 0x00];
    /// assert_eq!(DistinguishedName::from_der(&der)?.common_name(), None);
    /// # Ok::<(), ccaas_shim::identity::IdentityError>(())
    /// ```
    pub fn common_name(&self) -> Option<&str> {
        self.last_value(3).filter(|cn| !cn.is_empty())
    }

    /// The organizations (O), in certificate order, as Go's `Name.Organization`.
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// // O=Org1
    /// let der = [0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x0a,
    ///            0x0c, 0x04, b'O', b'r', b'g', b'1'];
    /// assert_eq!(DistinguishedName::from_der(&der)?.organizations(), ["Org1"]);
    /// # Ok::<(), ccaas_shim::identity::IdentityError>(())
    /// ```
    pub fn organizations(&self) -> Vec<&str> {
        self.values(10)
    }

    /// The organizational units (OU), in certificate order, as Go's
    /// `Name.OrganizationalUnit` (Fabric puts the node role here: `client`, `peer`, `admin`,
    /// `orderer`).
    ///
    /// ```
    /// use ccaas_shim::identity::DistinguishedName;
    ///
    /// // OU=client
    /// let der = [0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x0b,
    ///            0x0c, 0x06, b'c', b'l', b'i', b'e', b'n', b't'];
    /// assert_eq!(DistinguishedName::from_der(&der)?.organizational_units(), ["client"]);
    /// # Ok::<(), ccaas_shim::identity::IdentityError>(())
    /// ```
    pub fn organizational_units(&self) -> Vec<&str> {
        self.values(11)
    }

    /// String values of the standard attribute `2.5.4.<arc>`, in order.
    fn values(&self, arc: u32) -> Vec<&str> {
        self.names.iter().filter(|a| a.oid == [2, 5, 4, arc]).filter_map(Attribute::text).collect()
    }

    fn last_value(&self, arc: u32) -> Option<&str> {
        self.values(arc).pop()
    }

    /// Go's `Name.ToRDNSequence()` for a parsed name: (short name, value) per RDN.
    fn to_rdn_sequence(&self) -> Vec<Vec<(&'static str, &str)>> {
        let mut rdns = Vec::new();
        // Country, Province, Locality, StreetAddress, PostalCode, Organization, OU.
        for arc in [6, 8, 7, 9, 17, 10, 11] {
            let values = self.values(arc);
            if !values.is_empty() {
                let name = short_name(arc).unwrap_or_default();
                rdns.push(values.into_iter().map(|v| (name, v)).collect());
            }
        }
        // CommonName and SerialNumber: the last value, only when non-empty.
        for arc in [3, 5] {
            if let Some(value) = self.last_value(arc).filter(|v| !v.is_empty()) {
                rdns.push(vec![(short_name(arc).unwrap_or_default(), value)]);
            }
        }
        rdns
    }
}

/// Go's `pkix.Name.String()` for a parsed name.
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go builds [non-standard attributes…, ToRDNSequence()…] and prints it reversed: the
        // standard part first, then the non-standard attributes in reverse certificate order.
        let mut out = self.to_cid_string();
        for attr in self.names.iter().rev().filter(|a| a.standard_arc().is_none()) {
            if !out.is_empty() {
                out.push(',');
            }
            let oid = attr.oid.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            out.push_str(&oid);
            match &attr.value {
                Value::Text(s) => {
                    out.push_str("=#");
                    push_hex(&marshal_go_string(s), &mut out);
                }
                Value::Other(der) => {
                    out.push_str("=#");
                    push_hex(der, &mut out);
                }
                // asn1.Marshal(nil) fails, so Go prints fmt.Sprint(nil), escaped.
                Value::Null => {
                    out.push('=');
                    escape_into("<nil>", &mut out);
                }
            }
        }
        f.write_str(&out)
    }
}

/// Escapes an attribute value as Fabric's `getDN` (and Go's `RDNSequence.String`) do.
fn escape_into(value: &str, out: &mut String) {
    let last = value.len().wrapping_sub(1);
    for (idx, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => idx == 0 || idx == last,
            '#' => idx == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Go's `asn1.Marshal` of a Go string: PrintableString when every character is in the
/// PrintableString set (`encoding/asn1` `isPrintable`, rejecting `*` and `&`), else UTF8String.
fn marshal_go_string(s: &str) -> Vec<u8> {
    let printable = s.bytes().all(|b| is_printable(b, false));
    let mut out = vec![if printable { TAG_PRINTABLE_STRING } else { TAG_UTF8_STRING }];
    encode_length(s.len(), &mut out);
    out.extend_from_slice(s.as_bytes());
    out
}

/// The PrintableString set; `lenient` adds `*` and `&`, which `crypto/x509`'s parser accepts.
fn is_printable(b: u8, lenient: bool) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'\''..=b')' | b'+'..=b'/' | b' ' | b':' | b'=' | b'?')
        || (lenient && matches!(b, b'*' | b'&'))
}

fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// Go's `parseName`: SEQUENCE OF SET OF SEQUENCE { OID, ANY }.
pub(super) fn parse(der: &[u8]) -> Result<DistinguishedName, String> {
    const INVALID: &str = "x509: invalid RDNSequence";
    let mut seq = Reader::new(der);
    let mut rdns = Reader::new(seq.read(TAG_SEQUENCE).ok_or(INVALID)?);
    let mut names = Vec::new();
    while !rdns.is_empty() {
        let mut set = Reader::new(rdns.read(TAG_SET).ok_or(INVALID)?);
        while !set.is_empty() {
            let mut atv = Reader::new(set.read(TAG_SEQUENCE).ok_or_else(|| format!("{INVALID}: invalid attribute"))?);
            let oid =
                atv.read(TAG_OID).and_then(parse_oid).ok_or_else(|| format!("{INVALID}: invalid attribute type"))?;
            let value = read_value(&mut atv).map_err(|e| format!("{INVALID}: invalid attribute value: {e}"))?;
            names.push(Attribute { oid, value });
        }
    }
    Ok(DistinguishedName { der: der.to_vec(), names })
}

/// Go's `readASN1Any`: strings decoded and checked, a few other types checked, the rest kept.
fn read_value(atv: &mut Reader<'_>) -> Result<Value, String> {
    let element = atv.read_any().ok_or("invalid ASN.1 element")?;
    let content = element.content;
    let ok = match element.tag {
        TAG_T61_STRING | TAG_PRINTABLE_STRING | TAG_UTF8_STRING | TAG_BMP_STRING | TAG_IA5_STRING
        | TAG_NUMERIC_STRING => return parse_asn1_string(element.tag, content).map(Value::Text),
        TAG_NULL => return Ok(Value::Null),
        // cryptobyte's ReadASN1Integer into an int64: minimal two's complement, at most 8 bytes.
        TAG_INTEGER => integer_ok(content) && content.len() <= 8,
        TAG_BIT_STRING => bit_string_ok(content),
        TAG_OID => parse_oid(content).is_some(),
        TAG_BOOLEAN => matches!(content, [0x00] | [0xff]),
        _ => true,
    };
    if !ok {
        return Err(format!("invalid ASN.1 value with tag {:#04x}", element.tag));
    }
    Ok(Value::Other(element.full.to_vec()))
}

/// Go's `parseASN1String` (current releases).
fn parse_asn1_string(tag: u8, value: &[u8]) -> Result<String, String> {
    match tag {
        // T.61 is read as Latin-1: every byte is the code point of the same value.
        TAG_T61_STRING => Ok(value.iter().map(|b| char::from(*b)).collect()),
        TAG_PRINTABLE_STRING => {
            if value.iter().all(|b| is_printable(*b, true)) {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err("invalid PrintableString".into())
            }
        }
        TAG_UTF8_STRING => std::str::from_utf8(value).map(str::to_owned).map_err(|_| "invalid UTF-8 string".into()),
        TAG_BMP_STRING => {
            if !value.len().is_multiple_of(2) {
                return Err("invalid BMPString".into());
            }
            let value = match value {
                [rest @ .., 0, 0] => rest,
                _ => value,
            };
            value
                .chunks_exact(2)
                .map(|pair| {
                    let point = u16::from_be_bytes([pair[0], pair[1]]);
                    let reserved = point == 0xfffe || point == 0xffff || (0xfdd0..=0xfdef).contains(&point);
                    // Surrogates (0xd800..=0xdfff) have no char, so from_u32 rejects them.
                    char::from_u32(u32::from(point)).filter(|_| !reserved).ok_or_else(|| "invalid BMPString".to_owned())
                })
                .collect()
        }
        TAG_IA5_STRING => {
            if value.is_ascii() {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err("invalid IA5String".into())
            }
        }
        TAG_NUMERIC_STRING => {
            if value.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err("invalid NumericString".into())
            }
        }
        _ => Err(format!("unsupported string type: {tag}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_go() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            (" ", "\\ "),
            ("  ", "\\ \\ "),
            ("#", "\\#"),
            ("a#b", "a#b"),
            ("# x #", "\\# x #"),
            (" lead", "\\ lead"),
            ("trail ", "trail\\ "),
            ("a,b+c\"d\\e<f>g;h", "a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h"),
            ("a=b/c", "a=b/c"),
            ("nul\0x", "nul\0x"),
            ("Zürich 東京 ", "Zürich 東京\\ "),
        ];
        for (value, expected) in cases {
            let mut out = String::new();
            escape_into(value, &mut out);
            assert_eq!(out, expected, "{value:?}");
        }
    }

    #[test]
    fn strings_follow_go() {
        assert_eq!(parse_asn1_string(TAG_T61_STRING, b"Z\xfcrich").unwrap(), "Zürich");
        assert_eq!(parse_asn1_string(TAG_BMP_STRING, &[0x67, 0x71, 0x4e, 0xac, 0, 0]).unwrap(), "東京");
        assert!(parse_asn1_string(TAG_BMP_STRING, &[0xd8, 0x3d, 0xde, 0x00]).is_err());
        assert!(parse_asn1_string(TAG_BMP_STRING, &[0xff, 0xfe]).is_err());
        assert!(parse_asn1_string(TAG_BMP_STRING, &[0x00]).is_err());
        assert_eq!(parse_asn1_string(TAG_PRINTABLE_STRING, b"*.example & co").unwrap(), "*.example & co");
        assert!(parse_asn1_string(TAG_PRINTABLE_STRING, b"a_b").is_err());
        assert!(parse_asn1_string(TAG_IA5_STRING, b"\xc3\xa4").is_err());
        assert_eq!(parse_asn1_string(TAG_NUMERIC_STRING, b"12 34").unwrap(), "12 34");
        assert!(parse_asn1_string(TAG_NUMERIC_STRING, b"12-34").is_err());
        assert!(parse_asn1_string(TAG_UTF8_STRING, b"\xff").is_err());
    }

    #[test]
    fn go_marshal_of_strings() {
        assert_eq!(marshal_go_string("abc"), [0x13, 3, b'a', b'b', b'c']);
        assert_eq!(marshal_go_string("a@b"), [0x0c, 3, b'a', b'@', b'b']);
        assert_eq!(marshal_go_string("a*b")[0], 0x0c);
        assert_eq!(marshal_go_string(""), [0x13, 0]);
    }
}
