//! Fabric's client ID (`x509::<subject>::<issuer>`, base64) for certificates with awkward names.
//!
//! The expected strings are derived by hand from the Go rules that `pkg/cid` applies (see the
//! documentation of `ccaas_shim::identity::DistinguishedName`), step by step in the comments:
//!
//! * R1 `Name.FillFromRDNSequence` (Go `crypto/x509/pkix/pkix.go`) flattens all RDNs and keeps,
//!   in certificate order, the string values of C, ST, L, STREET, POSTALCODE, O, OU; CN and
//!   SERIALNUMBER keep only the last value. Every other attribute type is dropped.
//! * R2 `Name.ToRDNSequence` rebuilds RDNs in the fixed order C, ST, L, STREET, POSTALCODE, O,
//!   OU (all values of one type in one RDN), CN, SERIALNUMBER (only if non-empty).
//! * R3 `cid.getDN` (Fabric `pkg/cid/cid.go`) prints the RDNs last-first, joined by `,`, the
//!   values of one RDN joined by `+`, `SHORTNAME=value`, escaping `, + " \ < > ;` anywhere and a
//!   leading `#` or space and a trailing space with `\`; UTF-8 is written as it is.
//!
//! The three PEM fixtures were also checked against Go's `x509.ParseCertificate` + `getDN`.

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ccaas_shim::identity::{Certificate, ClientIdentity, DistinguishedName, IdentityError, IdentityKind};
use ccaas_shim::protos::msp::SerializedIdentity;
use ccaas_shim::protos::prost::Message;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/identity/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn creator(msp_id: &str, id_bytes: impl Into<Vec<u8>>) -> Vec<u8> {
    SerializedIdentity { mspid: msp_id.into(), id_bytes: id_bytes.into().into() }.encode_to_vec()
}

fn client(pem: &str) -> ClientIdentity {
    ClientIdentity::from_creator(&creator("Org1MSP", pem)).expect("a valid X.509 creator")
}

/// Issuer of the three fixtures. Certificate order: C=US / ST=North Carolina / L=Durham /
/// {OU=Fabric + O=org1.example.com} / CN=ca.org1.example.com.
/// R2: [C] [ST] [L] [O] [OU] [CN] → R3 reversed; the multi-valued RDN splits into O and OU.
const CA_DN: &str = "CN=ca.org1.example.com,OU=Fabric,O=org1.example.com,L=Durham,ST=North Carolina,C=US";

#[test]
fn multi_valued_rdn_is_regrouped_like_go() {
    // Subject in certificate order: C=US / O=Org1 / OU=client / OU=department1 /
    // {OU=org1 + CN=user1 + UID=u1}.
    // R1: C [US], O [Org1], OU [client, department1, org1], CN user1; UID (0.9.2342.19200300.100.1.1)
    //     is not one of the nine and is dropped.
    // R2: [C=US] [O=Org1] [OU=client, OU=department1, OU=org1] [CN=user1]
    // R3: CN=user1,OU=client+OU=department1+OU=org1,O=Org1,C=US
    let id = client(&fixture("multi_valued_rdn.pem"));
    let subject = "CN=user1,OU=client+OU=department1+OU=org1,O=Org1,C=US";
    assert_eq!(id.decoded_id().unwrap(), format!("x509::{subject}::{CA_DN}"));
    assert_eq!(
        id.id().unwrap(),
        "eDUwOTo6Q049dXNlcjEsT1U9Y2xpZW50K09VPWRlcGFydG1lbnQxK09VPW9yZzEsTz1PcmcxLEM9VVM6OkNOPWNhLm9yZzEu\
         ZXhhbXBsZS5jb20sT1U9RmFicmljLE89b3JnMS5leGFtcGxlLmNvbSxMPUR1cmhhbSxTVD1Ob3J0aCBDYXJvbGluYSxDPVVT"
    );

    let cert = id.certificate().unwrap();
    assert_eq!(cert.subject().to_cid_string(), subject);
    assert_eq!(cert.issuer().to_cid_string(), CA_DN);
    // Go's Name.String() keeps the dropped UID at the end, as OID=#<asn1.Marshal("u1")>:
    // "u1" is printable, so PrintableString 13 02 75 31.
    assert_eq!(cert.subject().to_string(), format!("{subject},0.9.2342.19200300.100.1.1=#13027531"));
    assert_eq!(cert.issuer().to_string(), CA_DN);
    assert_eq!(cert.subject().common_name(), Some("user1"));
    assert_eq!(cert.subject().organizational_units(), ["client", "department1", "org1"]);
    assert!(id.has_ou_value("department1").unwrap());
    assert!(!id.has_ou_value("Fabric").unwrap()); // that OU is the issuer's
}

#[test]
fn special_characters_are_escaped_like_go() {
    // Subject in certificate order (all UTF8String): L="#" / ST=" " / O=" leading space" /
    // OU="#not first # ok" / STREET="a,b;c" / CN=`#1 "Quoted", a+b; <x> \ y ` (trailing space).
    // R2: [ST] [L] [STREET] [O] [OU] [CN]; R3 reversed: CN, OU, O, STREET, L, ST, with escapes:
    //   CN  `#1 "Quoted", a+b; <x> \ y ` → `\#1 \"Quoted\"\, a\+b\; \<x\> \\ y\ `
    //       (leading #, both ", the comma, +, ;, <, >, \ and the trailing space)
    //   OU  `#not first # ok` → `\#not first # ok` (only the first # is special)
    //   O   ` leading space` → `\ leading space`
    //   STREET `a,b;c` → `a\,b\;c`
    //   L   `#` → `\#`;  ST ` ` → `\ ` (first character, escaped once)
    let id = client(&fixture("escaped_chars.pem"));
    let subject =
        r#"CN=\#1 \"Quoted\"\, a\+b\; \<x\> \\ y\ ,OU=\#not first # ok,O=\ leading space,STREET=a\,b\;c,L=\#,ST=\ "#;
    assert_eq!(id.decoded_id().unwrap(), format!("x509::{subject}::{CA_DN}"));
    assert_eq!(
        id.id().unwrap(),
        "eDUwOTo6Q049XCMxIFwiUXVvdGVkXCJcLCBhXCtiXDsgXDx4XD4gXFwgeVwgLE9VPVwjbm90IGZpcnN0ICMgb2ssTz1cIGxl\
         YWRpbmcgc3BhY2UsU1RSRUVUPWFcLGJcO2MsTD1cIyxTVD1cIDo6Q049Y2Eub3JnMS5leGFtcGxlLmNvbSxPVT1GYWJyaWMs\
         Tz1vcmcxLmV4YW1wbGUuY29tLEw9RHVyaGFtLFNUPU5vcnRoIENhcm9saW5hLEM9VVM="
    );
    let cert = id.certificate().unwrap();
    assert_eq!(cert.subject().common_name(), Some(r#"#1 "Quoted", a+b; <x> \ y "#));
    assert_eq!(cert.subject().to_string(), subject);
}

#[test]
fn non_ascii_text_is_kept_as_utf8_like_go() {
    // Subject in certificate order: C=CH / ST=Zürich / L=Zürich / O=東京株式会社 /
    // {OU=テスト + OU=Ünïcødé} (OpenSSL sorted the SET by encoding) / CN=Zoë Ölçer 東京.
    // R2: [C] [ST] [L] [O] [OU=テスト, OU=Ünïcødé] [CN]; R3 reversed, no escapes: Go escapes
    // nothing outside the ASCII specials.
    let id = client(&fixture("non_ascii.pem"));
    let subject = "CN=Zoë Ölçer 東京,OU=テスト+OU=Ünïcødé,O=東京株式会社,L=Zürich,ST=Zürich,C=CH";
    assert_eq!(id.decoded_id().unwrap(), format!("x509::{subject}::{CA_DN}"));
    assert_eq!(
        id.id().unwrap(),
        "eDUwOTo6Q049Wm/DqyDDlmzDp2VyIOadseS6rCxPVT3jg4bjgrnjg4grT1U9w5xuw69jw7hkw6ksTz3mnbHkuqzmoKrlvI/k\
         vJrnpL4sTD1aw7xyaWNoLFNUPVrDvHJpY2gsQz1DSDo6Q049Y2Eub3JnMS5leGFtcGxlLmNvbSxPVT1GYWJyaWMsTz1vcmcx\
         LmV4YW1wbGUuY29tLEw9RHVyaGFtLFNUPU5vcnRoIENhcm9saW5hLEM9VVM="
    );
}

#[test]
fn id_is_standard_padded_base64_of_the_decoded_id() {
    for name in ["multi_valued_rdn.pem", "escaped_chars.pem", "non_ascii.pem", "ca.pem"] {
        let id = client(&fixture(name));
        let decoded = BASE64_STANDARD.decode(id.id().unwrap()).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), id.decoded_id().unwrap(), "{name}");
        assert_eq!(id.msp_id(), "Org1MSP");
        assert_eq!(id.kind(), IdentityKind::X509);
        assert_eq!(id.id_bytes().as_ref(), fixture(name).as_bytes());
    }
    // The self-signed CA: subject and issuer are the same name.
    assert_eq!(client(&fixture("ca.pem")).decoded_id().unwrap(), format!("x509::{CA_DN}::{CA_DN}"));
}

#[test]
fn the_pem_block_may_have_text_around_it() {
    let pem = format!("Bag Attributes\n  friendlyName: user1\n{}\ntrailing text\n", fixture("non_ascii.pem"));
    let id = client(&pem);
    assert!(id.decoded_id().unwrap().starts_with("x509::CN=Zoë Ölçer 東京,"));
    let der = &id.certificate().unwrap().der().to_vec();
    assert_eq!(Certificate::from_der(der).unwrap(), *id.certificate().unwrap());
}

// ---------------------------------------------------------------------------------------------
// Names built byte by byte, for the string types and attribute kinds OpenSSL does not write.

/// A minimal DER writer.
mod der {
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// A SET OF, its members sorted by encoding as DER requires.
    pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut parts = parts.to_vec();
        parts.sort();
        tlv(0x31, &parts.concat())
    }

    pub fn oid(arcs: &[u32]) -> Vec<u8> {
        let mut content = Vec::new();
        let mut push = |mut arc: u32| {
            let mut bytes = vec![(arc & 0x7f) as u8];
            arc >>= 7;
            while arc > 0 {
                bytes.push(0x80 | (arc & 0x7f) as u8);
                arc >>= 7;
            }
            bytes.reverse();
            content.extend(bytes);
        };
        push(arcs[0] * 40 + arcs[1]);
        arcs[2..].iter().for_each(|a| push(*a));
        tlv(0x06, &content)
    }

    /// AttributeTypeAndValue with a value of the given tag and content.
    pub fn atv(oid_arcs: &[u32], tag: u8, value: &[u8]) -> Vec<u8> {
        seq(&[oid(oid_arcs), tlv(tag, value)])
    }

    pub fn name(rdns: &[Vec<Vec<u8>>]) -> Vec<u8> {
        seq(&rdns.iter().map(|rdn| set(rdn)).collect::<Vec<_>>())
    }

    /// A v3 certificate with the given names around a real P-256 public key; the signature is
    /// not a signature (nothing here verifies it).
    pub fn certificate(subject: &[u8], issuer: &[u8]) -> Vec<u8> {
        use rcgen::PublicKeyData as _;
        let key = rcgen::KeyPair::generate().unwrap();
        let ecdsa_sha256 = seq(&[oid(&[1, 2, 840, 10045, 4, 3, 2])]);
        let tbs = seq(&[
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[0x01, 0x23]),
            ecdsa_sha256.clone(),
            issuer.to_vec(),
            seq(&[tlv(0x17, b"250101000000Z"), tlv(0x17, b"491231235959Z")]),
            subject.to_vec(),
            key.subject_public_key_info(),
        ]);
        seq(&[tbs, ecdsa_sha256, tlv(0x03, &[0, 0x30, 0x00])])
    }

    pub fn pem(der: &[u8]) -> String {
        use base64::prelude::{Engine as _, BASE64_STANDARD};
        let b64 = BASE64_STANDARD.encode(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    }
}

const UTF8: u8 = 0x0c;
const NUMERIC: u8 = 0x12;
const PRINTABLE: u8 = 0x13;
const T61: u8 = 0x14;
const IA5: u8 = 0x16;
const BMP: u8 = 0x1e;

const CN: &[u32] = &[2, 5, 4, 3];
const SERIAL: &[u32] = &[2, 5, 4, 5];
const C: &[u32] = &[2, 5, 4, 6];
const L: &[u32] = &[2, 5, 4, 7];
const ST: &[u32] = &[2, 5, 4, 8];
const STREET: &[u32] = &[2, 5, 4, 9];
const O: &[u32] = &[2, 5, 4, 10];
const OU: &[u32] = &[2, 5, 4, 11];
const POSTALCODE: &[u32] = &[2, 5, 4, 17];
const GIVEN_NAME: &[u32] = &[2, 5, 4, 42];
const EMAIL: &[u32] = &[1, 2, 840, 113549, 1, 9, 1];
const DC: &[u32] = &[0, 9, 2342, 19200300, 100, 1, 25];

fn bmp(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

#[test]
fn every_string_type_and_attribute_order_like_go() {
    use der::atv;
    let subject = der::name(&[
        vec![atv(C, PRINTABLE, b"DE")],
        vec![atv(ST, T61, b"Baden-W\xfcrttemberg")], // T61String read as Latin-1
        vec![atv(L, BMP, &[bmp("東京"), vec![0, 0]].concat())], // UCS-2 with a 00 00 terminator
        vec![atv(O, PRINTABLE, b"*.example & co")],  // '*' and '&' tolerated by Go's parser
        vec![atv(POSTALCODE, NUMERIC, b"70173")],
        vec![atv(STREET, IA5, b"1 Main St")],
        vec![atv(EMAIL, IA5, b"a@b.c")],
        vec![atv(DC, IA5, b"example")],
        vec![atv(CN, UTF8, b"first")],
        vec![atv(SERIAL, PRINTABLE, b"1234")],
        vec![atv(CN, UTF8, b"second"), atv(GIVEN_NAME, UTF8, b"Ann")],
        vec![atv(OU, UTF8, b"")],
    ]);
    let issuer = der::name(&[
        vec![atv(CN, T61, b"Z\xfcrich CA")],
        vec![atv(O, UTF8, b"O1"), atv(O, UTF8, b"O2")],
        vec![atv(CN, UTF8, b"")],
    ]);
    let pem = der::pem(&der::certificate(&subject, &issuer));
    let id = client(&pem);
    let cert = id.certificate().unwrap();

    // Subject. R1: C [DE], ST [Baden-Württemberg], L [東京], O [*.example & co], POSTALCODE
    // [70173], STREET [1 Main St], OU [""], CN "second" (last wins), SERIALNUMBER "1234";
    // emailAddress, DC and givenName dropped.
    // R2: [C] [ST] [L] [STREET] [POSTALCODE] [O] [OU] [CN] [SERIALNUMBER]; R3 reversed.
    let subject_dn = "SERIALNUMBER=1234,CN=second,OU=,O=*.example & co,POSTALCODE=70173,STREET=1 Main St,\
                      L=東京,ST=Baden-Württemberg,C=DE";
    // Issuer. R1: CN "" (the last CN, so the T61 one is gone), O [O1, O2]. R2: [O=O1, O=O2]
    // and no CN because it is empty.
    let issuer_dn = "O=O1+O=O2";
    assert_eq!(id.decoded_id().unwrap(), format!("x509::{subject_dn}::{issuer_dn}"));
    assert_eq!(cert.subject().common_name(), Some("second"));
    assert_eq!(cert.issuer().common_name(), None);
    assert_eq!(cert.subject().organizations(), ["*.example & co"]);
    assert_eq!(cert.issuer().organizations(), ["O1", "O2"]);

    // Go's Name.String(): the same, then the non-standard attributes in reverse certificate
    // order (givenName sorts before CN in its SET), each OID=#hex(asn1.Marshal(value)):
    // "Ann" and "example" are printable → PrintableString 13..; "a@b.c" has '@' → UTF8String 0c..
    assert_eq!(
        cert.subject().to_string(),
        format!(
            "{subject_dn},2.5.4.42=#1303416e6e,0.9.2342.19200300.100.1.25=#13076578616d706c65,\
             1.2.840.113549.1.9.1=#0c056140622e63"
        )
    );
    assert_eq!(cert.issuer().to_string(), issuer_dn);
    assert_eq!(cert.subject().as_der(), &subject[..]);
    assert_eq!(DistinguishedName::from_der(&issuer).unwrap(), *cert.issuer());
}

#[test]
fn non_string_values_are_skipped_like_current_go() {
    use der::atv;
    // Current Go (readASN1Any in crypto/x509/parser.go) accepts non-string attribute values;
    // FillFromRDNSequence only takes strings, so they never reach the ID (an OU that is an
    // INTEGER is skipped too). Name.String() prints the non-standard ones: INTEGER 42 and
    // BOOLEAN true re-marshalled, NULL as fmt.Sprint(nil) = "<nil>", escaped.
    let subject = der::name(&[
        vec![atv(CN, UTF8, b"nonstring")],
        vec![atv(&[1, 2, 3, 4], 0x05, b"")],
        vec![atv(&[1, 2, 3, 5], 0x02, &[42])],
        vec![atv(&[1, 2, 3, 6], 0x01, &[0xff])],
        vec![atv(OU, 0x02, &[7])],
    ]);
    let issuer = der::name(&[vec![atv(CN, PRINTABLE, b"ca")]]);
    let id = client(&der::pem(&der::certificate(&subject, &issuer)));
    assert_eq!(id.decoded_id().unwrap(), "x509::CN=nonstring::CN=ca");
    let cert = id.certificate().unwrap();
    assert_eq!(cert.subject().to_string(), r"CN=nonstring,1.2.3.6=#0101ff,1.2.3.5=#02012a,1.2.3.4=\<nil\>");
    assert!(cert.subject().organizational_units().is_empty());
}

#[test]
fn strings_go_rejects_make_the_certificate_invalid() {
    use der::atv;
    let issuer = der::name(&[vec![atv(CN, PRINTABLE, b"ca")]]);
    let cases: [(Vec<u8>, &str); 5] = [
        (atv(CN, PRINTABLE, b"under_score"), "invalid PrintableString"),
        (atv(CN, UTF8, b"\xff"), "invalid UTF-8 string"),
        (atv(CN, IA5, "ä".as_bytes()), "invalid IA5String"),
        (atv(CN, NUMERIC, b"12a"), "invalid NumericString"),
        (atv(CN, BMP, &[0xd8, 0x3d, 0xde, 0x00]), "invalid BMPString"), // a surrogate pair
    ];
    for (attribute, reason) in cases {
        let subject = der::name(&[vec![attribute]]);
        let err = ClientIdentity::from_creator(&creator("Org1MSP", der::pem(&der::certificate(&subject, &issuer))))
            .unwrap_err();
        assert_eq!(
            err,
            IdentityError::Certificate(format!("x509: invalid RDNSequence: invalid attribute value: {reason}"))
        );
        assert!(err.to_string().starts_with("failed to parse certificate: x509: invalid RDNSequence"), "{err}");
    }
}

#[test]
fn garbage_creators_give_clear_errors() {
    assert_eq!(ClientIdentity::from_creator(b""), Err(IdentityError::EmptyCreator));

    let err = ClientIdentity::from_creator(b"foo").unwrap_err();
    assert!(matches!(err, IdentityError::Creator(_)), "{err:?}");
    assert!(err.to_string().starts_with("failed to unmarshal transaction invoker's identity: "), "{err}");

    // Identity bytes that are neither PEM nor an idemix identity.
    let err = ClientIdentity::from_creator(&creator("Org1MSP", "not a certificate")).unwrap_err();
    assert!(matches!(err, IdentityError::NotX509OrIdemix(_)), "{err:?}");
    assert!(err.to_string().starts_with("identity bytes are neither X509 PEM format nor an idemix credential: "));

    let err = ClientIdentity::from_creator(&creator("Org1MSP", "")).unwrap_err();
    assert_eq!(err, IdentityError::NotX509OrIdemix("the identity bytes are empty".into()));

    // A PEM block whose base64 is broken: the PEM reason is added to Go's text.
    let broken = "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n";
    let err = ClientIdentity::from_creator(&creator("Org1MSP", broken)).unwrap_err();
    assert!(err.to_string().contains("(PEM: "), "{err}");

    // A well-formed PEM block that holds no certificate.
    let not_a_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = ClientIdentity::from_creator(&creator("Org1MSP", not_a_cert)).unwrap_err();
    assert!(matches!(err, IdentityError::Certificate(_)), "{err:?}");
    assert!(err.to_string().starts_with("failed to parse certificate: "), "{err}");

    // Trailing bytes after the certificate, which Go rejects too.
    let mut der = der::certificate(&der::name(&[]), &der::name(&[]));
    der.push(0);
    let err = ClientIdentity::from_creator(&creator("Org1MSP", der::pem(&der))).unwrap_err();
    assert_eq!(err, IdentityError::Certificate("x509: trailing data".into()));
}

#[test]
fn an_empty_name_formats_as_an_empty_string() {
    let id = client(&der::pem(&der::certificate(&der::name(&[]), &der::name(&[]))));
    assert_eq!(id.decoded_id().unwrap(), "x509::::");
    assert_eq!(id.id().unwrap(), BASE64_STANDARD.encode("x509::::"));
    assert_eq!(id.certificate().unwrap().subject().to_string(), "");
}
