//! The shim's certificate and PEM readers against `x509-parser`, the crate the shim used before
//! (now a dev-dependency only): the same accept/reject decision and the same subject, issuer and
//! attribute extension value for every certificate in the repository's fixtures and fuzz
//! corpus, for certificates made with rcgen and by hand, and for thousands of damaged copies;
//! except where Go (the reference: Fabric's `cid` runs Go's `x509.ParseCertificate` and
//! `pem.Decode`) and x509-parser disagree, each such rule shown on its own certificate below.

use super::{pem, x509, DistinguishedName, ATTRIBUTES_OID};
use base64::prelude::{Engine as _, BASE64_STANDARD};
use std::collections::BTreeMap;
use std::path::Path;

type Outcome = Result<(DistinguishedName, DistinguishedName, Option<Vec<u8>>), String>;

/// What the shim did before: x509-parser, then Go's name rules on the raw names, then the first
/// extension with the attribute OID.
fn old(der: &[u8]) -> Outcome {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err("x509: trailing data".into());
    }
    let subject = DistinguishedName::from_der(cert.subject().as_raw()).map_err(|e| e.to_string())?;
    let issuer = DistinguishedName::from_der(cert.issuer().as_raw()).map_err(|e| e.to_string())?;
    let attributes =
        cert.extensions().iter().find(|ext| ext.oid.to_id_string() == ATTRIBUTES_OID).map(|ext| ext.value.to_vec());
    Ok((subject, issuer, attributes))
}

fn new(der: &[u8]) -> Outcome {
    x509::parse(der).map(|parsed| (parsed.subject, parsed.issuer, parsed.attributes))
}

/// The outcomes of many comparisons: agreements counted, disagreements by rule.
#[derive(Default, Debug)]
struct Tally {
    accepted: usize,
    rejected: usize,
    /// "only Go rejects: <our error>", "only x509-parser rejects: <its error>" or "both
    /// accept; …", with a count and the first example.
    differences: BTreeMap<String, (usize, String)>,
}

impl Tally {
    fn differ(&mut self, key: String, what: &str) {
        self.differences.entry(key).or_insert_with(|| (0, what.to_owned())).0 += 1;
    }

    fn compare(&mut self, what: &str, der: &[u8]) {
        match (old(der), new(der)) {
            (Ok(old), Ok(new)) if old == new => self.accepted += 1,
            (Ok(old), Ok(new)) => {
                assert_eq!((&old.0, &old.1), (&new.0, &new.1), "{what}: both accept, with different names");
                // Go reads extensions only in a version 3 certificate, tagged exactly A3 (after
                // the optional unique IDs, 81 and 82); x509-parser in any version, tagged [3] of
                // any class.
                let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
                let after_key =
                    cert.public_key().raw.as_ptr() as usize - der.as_ptr() as usize + cert.public_key().raw.len();
                let mut tail = super::der::Reader::new(&der[after_key..]);
                let _ = tail.read_optional(0x81);
                let _ = tail.read_optional(0x82);
                let wrapper_is_a3 = tail.peek(0xa3);
                assert!(
                    new.2.is_none() && (cert.version() != x509_parser::x509::X509Version::V3 || !wrapper_is_a3),
                    "{what}"
                );
                self.differ(
                    "both accept; only x509-parser reads the extensions (version 1 or 2, or not tagged A3)".into(),
                    what,
                );
            }
            (Err(_), Err(_)) => self.rejected += 1,
            (Ok(_), Err(ours)) => self.differ(format!("only Go rejects: {ours}"), what),
            (Err(theirs), Ok(_)) => self.differ(format!("only x509-parser rejects: {theirs}"), what),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates from the repository.

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the shim is in the workspace")
}

/// Every PEM certificate in `text` (also indented, as in YAML, or with `\n` escaped, as in JSON).
fn pem_certificates(text: &str) -> Vec<Vec<u8>> {
    let text = text.replace("\\n", "\n");
    let mut found = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        if line.contains("-----BEGIN CERTIFICATE-----") {
            body = Some(String::new());
        } else if line.contains("-----END CERTIFICATE-----") {
            if let Some(b64) = body.take() {
                found.push(BASE64_STANDARD.decode(b64).expect("fixture base64"));
            }
        } else if let Some(b64) = body.as_mut().filter(|_| !line.contains(':')) {
            b64.push_str(line.trim()); // (a line with a colon is an RFC 1421 header)
        }
    }
    found
}

/// (file, DER) for every certificate under the fixture and corpus directories, and every corpus
/// file that is DER itself.
fn repository_certificates() -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let name = path.strip_prefix(repo_root()).unwrap().display().to_string();
            for der in pem_certificates(&String::from_utf8_lossy(&bytes)) {
                out.push((name.clone(), der));
            }
            if bytes.first() == Some(&0x30) {
                out.push((name, bytes));
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["fuzz/corpus", "shim/tests/fixtures", "deploy/tests/fixtures", "packager/tests/fixtures"] {
        walk(&repo_root().join(dir), &mut out);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Certificates made with rcgen.

fn generated_certificates() -> Vec<(String, Vec<u8>)> {
    use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, CustomExtension, DnType, DnValue, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
    };

    let names: Vec<Vec<(DnType, DnValue)>> = vec![
        vec![],
        vec![(DnType::CommonName, "appUser".into())],
        vec![
            (DnType::CountryName, DnValue::PrintableString(PrintableString::try_from("US").unwrap())),
            (DnType::StateOrProvinceName, "North Carolina".into()),
            (DnType::LocalityName, "Durham".into()),
            (DnType::OrganizationName, "org1.example.com".into()),
            (DnType::OrganizationalUnitName, "client".into()),
            (DnType::CommonName, "user1@org1.example.com".into()),
        ],
        vec![
            (DnType::CommonName, DnValue::TeletexString(TeletexString::try_from("t61 name").unwrap())),
            (DnType::OrganizationName, DnValue::BmpString(BmpString::try_from("東京株式会社").unwrap())),
            (DnType::OrganizationalUnitName, DnValue::Ia5String(Ia5String::try_from("ia5 unit").unwrap())),
            // Not a string type for Go: kept, but not in the ID.
            (DnType::LocalityName, DnValue::UniversalString(UniversalString::try_from("Zürich").unwrap())),
        ],
        vec![
            (DnType::CommonName, r#"#1 "Quoted", a+b; <x> \ y "#.into()),
            (DnType::OrganizationName, "Zoë Ölçer 東京".into()),
            (DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]), DnValue::Ia5String("a@b.c".try_into().unwrap())),
            (DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]), "example".into()),
            (DnType::CustomDnType(vec![2, 5, 4, 5]), "SN-0001".into()),
            (DnType::CustomDnType(vec![2, 5, 4, 17]), "27701".into()),
            (DnType::CustomDnType(vec![2, 5, 4, 9]), "1 Main St".into()),
        ],
        vec![(
            DnType::CommonName,
            DnValue::PrintableString(PrintableString::try_from("peer0 (org1), ok: yes").unwrap()),
        )],
    ];
    let algorithms = [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ECDSA_P384_SHA384, &rcgen::PKCS_ED25519];
    let attrs = br#"{"attrs":{"hf.Affiliation":"org1.department1","hf.EnrollmentID":"appUser","hf.Type":"client"}}"#;
    let attribute_oid: Vec<u64> = ATTRIBUTES_OID.split('.').map(|arc| arc.parse().unwrap()).collect();

    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(vec![]).unwrap();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name.push(DnType::OrganizationName, "org1.example.com");
    ca.distinguished_name.push(DnType::CommonName, "ca.org1.example.com");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = Issuer::new(ca, ca_key);

    let mut out = Vec::new();
    for (n, name) in names.iter().enumerate() {
        for (a, algorithm) in algorithms.iter().enumerate() {
            for variant in 0..4 {
                let key = KeyPair::generate_for(algorithm).unwrap();
                let mut params = CertificateParams::new(vec![]).unwrap();
                params.distinguished_name = rcgen::DistinguishedName::new();
                for (kind, value) in name {
                    params.distinguished_name.push(kind.clone(), value.clone());
                }
                match variant {
                    0 => {}
                    1 => {
                        params.custom_extensions.push(CustomExtension::from_oid_content(&attribute_oid, attrs.to_vec()))
                    }
                    2 => {
                        params.subject_alt_names = vec![
                            SanType::DnsName("peer0.org1.example.com".try_into().unwrap()),
                            SanType::IpAddress([127, 0, 0, 1].into()),
                            SanType::Rfc822Name("a@b.c".try_into().unwrap()),
                            SanType::URI("spiffe://org1/peer0".try_into().unwrap()),
                        ];
                        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign];
                        params.extended_key_usages =
                            vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
                        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(2));
                        params.use_authority_key_identifier_extension = true;
                        let mut critical = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
                        critical.set_criticality(true);
                        params.custom_extensions.push(critical);
                        params
                            .custom_extensions
                            .push(CustomExtension::from_oid_content(&attribute_oid, b"null".to_vec()));
                    }
                    _ => {
                        // UTCTime's last year, GeneralizedTime's first, and a serial with its top bit set.
                        params.not_before = date_time_ymd(2049, 12, 31);
                        params.not_after = date_time_ymd(2050, 1, 1);
                        params.serial_number = Some(vec![0x80, 0, 1].into());
                        params.custom_extensions.push(CustomExtension::from_oid_content(&attribute_oid, Vec::new()));
                    }
                }
                let cert = if variant % 2 == 0 { params.self_signed(&key) } else { params.signed_by(&key, &ca) };
                out.push((format!("rcgen name {n}, key {a}, variant {variant}"), cert.unwrap().der().to_vec()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Certificates built byte by byte, for what rcgen cannot write.

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    super::der::encode_length(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    for arc in std::iter::once(arcs[0] * 40 + arcs[1]).chain(arcs[2..].iter().copied()) {
        let mut bytes = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            bytes.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(bytes.iter().rev());
    }
    tlv(0x06, &content)
}

/// An attribute of a name: OID, tag and content of the value.
type Attribute<'a> = (&'a [u32], u8, &'a [u8]);

/// A name: its RDNs.
fn name(rdns: &[&[Attribute<'_>]]) -> Vec<u8> {
    let sets: Vec<Vec<u8>> = rdns
        .iter()
        .map(|rdn| {
            tlv(
                0x31,
                &rdn.iter().map(|(arcs, tag, value)| seq(&[oid(arcs), tlv(*tag, value)])).collect::<Vec<_>>().concat(),
            )
        })
        .collect();
    seq(&sets)
}

/// The parts of a certificate, to be varied one at a time.
#[derive(Clone)]
struct Parts {
    version: Vec<u8>,
    serial: Vec<u8>,
    inner_algorithm: Vec<u8>,
    issuer: Vec<u8>,
    validity: Vec<u8>,
    subject: Vec<u8>,
    spki: Vec<u8>,
    /// Unique IDs, extensions and anything else after the key, as written.
    tail: Vec<u8>,
    outer_algorithm: Vec<u8>,
    signature: Vec<u8>,
}

const CN: &[u32] = &[2, 5, 4, 3];
const OU: &[u32] = &[2, 5, 4, 11];
const O: &[u32] = &[2, 5, 4, 10];

impl Parts {
    fn new() -> Self {
        use rcgen::PublicKeyData as _;
        let ecdsa_sha256 = seq(&[oid(&[1, 2, 840, 10045, 4, 3, 2])]);
        Parts {
            version: tlv(0xa0, &tlv(0x02, &[2])),
            serial: tlv(0x02, &[0x01, 0x23]),
            inner_algorithm: ecdsa_sha256.clone(),
            issuer: name(&[&[(O, 0x0c, b"Org1")], &[(CN, 0x13, b"ca")]]),
            validity: seq(&[tlv(0x17, b"250101000000Z"), tlv(0x17, b"491231235959Z")]),
            subject: name(&[&[(O, 0x0c, b"Org1")], &[(OU, 0x0c, b"client"), (CN, 0x0c, b"user1")]]),
            spki: rcgen::KeyPair::generate().unwrap().subject_public_key_info(),
            tail: extensions(&[extension(&[1, 2, 3, 4, 5, 6, 7, 8, 1], br#"{"attrs":{"a":"1"}}"#)]),
            outer_algorithm: ecdsa_sha256,
            signature: tlv(0x03, &[0, 0x30, 0x00]),
        }
    }

    fn der(&self) -> Vec<u8> {
        let tbs = seq(&[
            self.version.clone(),
            self.serial.clone(),
            self.inner_algorithm.clone(),
            self.issuer.clone(),
            self.validity.clone(),
            self.subject.clone(),
            self.spki.clone(),
            self.tail.clone(),
        ]);
        seq(&[tbs, self.outer_algorithm.clone(), self.signature.clone()])
    }
}

fn extension(arcs: &[u32], value: &[u8]) -> Vec<u8> {
    seq(&[oid(arcs), tlv(0x04, value)])
}

/// `[3] { SEQUENCE OF Extension }`.
fn extensions(list: &[Vec<u8>]) -> Vec<u8> {
    tlv(0xa3, &seq(list))
}

/// Names and values both parsers agree on, which OpenSSL and rcgen do not write.
fn hand_built_certificates() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let names: [(&str, Vec<u8>); 7] = [
        (
            "repeated OUs and CNs",
            name(&[&[(OU, 0x0c, b"a")], &[(OU, 0x0c, b"b")], &[(CN, 0x0c, b"x")], &[(CN, 0x0c, b"y")]]),
        ),
        ("multi-valued RDN", name(&[&[(O, 0x0c, b"O1"), (O, 0x0c, b"O2"), (CN, 0x13, b"z")]])),
        ("Latin-1 T61String", name(&[&[(CN, 0x14, b"Z\xfcrich")]])),
        ("BMPString with a terminator", name(&[&[(CN, 0x1e, &[0x67, 0x71, 0x4e, 0xac, 0, 0])]])),
        (
            "NumericString and INTEGER values",
            name(&[&[(&[2, 5, 4, 17], 0x12, b"70173")], &[(&[1, 2, 3], 0x02, &[42])]]),
        ),
        ("empty name", name(&[])),
        ("PrintableString with * and &", name(&[&[(CN, 0x13, b"*.example & co")]])),
    ];
    for (what, subject) in names {
        let mut parts = Parts::new();
        parts.subject = subject;
        out.push((what.to_owned(), parts.der()));
    }
    let mut v1 = Parts::new();
    v1.version = Vec::new();
    v1.tail = Vec::new();
    out.push(("version 1".into(), v1.der()));
    let mut generalized = Parts::new();
    generalized.validity = seq(&[tlv(0x18, b"19500101000000Z"), tlv(0x18, b"99991231235959Z")]);
    out.push(("GeneralizedTime".into(), generalized.der()));
    out
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn every_certificate_of_the_repository_reads_the_same() {
    let certificates = repository_certificates();
    // The identity fixtures and corpus, the deploy fixtures (MSP, network configs), the
    // packager's TLS fixtures (P-256, P-384, RSA).
    assert!(certificates.len() >= 15, "only {} certificates found", certificates.len());
    let mut tally = Tally::default();
    for (file, der) in &certificates {
        tally.compare(file, der);
    }
    eprintln!("{tally:?}");
    assert!(tally.differences.is_empty(), "{tally:?}");
    // connection-org1.yaml has one empty PEM block; everything else is a certificate.
    assert_eq!(tally.rejected, 1, "{tally:?}");

    // The identity seeds of the fuzz corpus are valid inputs: creators or a DER certificate.
    let corpus = repo_root().join("fuzz/corpus/identity");
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let creator = super::ClientIdentity::from_creator(&data);
        assert!(creator.is_ok() || super::Certificate::from_der(&data).is_ok(), "{}: {creator:?}", path.display());
    }
}

#[test]
fn rcgen_and_hand_built_certificates_read_the_same() {
    let mut tally = Tally::default();
    for (what, der) in generated_certificates().iter().chain(&hand_built_certificates()) {
        assert!(new(der).is_ok(), "{what}: {:?}", new(der));
        tally.compare(what, der);
    }
    eprintln!("{tally:?}");
    assert!(tally.differences.is_empty() && tally.rejected == 0, "{tally:?}");
}

#[test]
fn damaged_certificates_are_judged_the_same() {
    let mut bases: Vec<(String, Vec<u8>)> = repository_certificates()
        .into_iter()
        .filter(|(file, _)| file.ends_with("client-rsa.pem") || file.ends_with("multi_valued_rdn.pem"))
        .collect();
    bases.push(("hand-built".into(), Parts::new().der()));
    let generated = generated_certificates();
    bases.extend(
        generated.into_iter().filter(|(what, _)| what.ends_with("variant 1") || what.ends_with("variant 2")).step_by(5),
    );
    assert!(bases.len() >= 5);

    let mut tally = Tally::default();
    for (what, der) in &bases {
        for i in 0..der.len() {
            for value in [der[i] ^ 0x01, der[i] ^ 0x80, der[i] ^ 0xff, 0x00, der[i].wrapping_add(1)] {
                if value != der[i] {
                    let mut damaged = der.clone();
                    damaged[i] = value;
                    tally.compare(&format!("{what}: byte {i} = {value:#04x}"), &damaged);
                }
            }
            let mut removed = der.clone();
            removed.remove(i);
            tally.compare(&format!("{what}: byte {i} removed"), &removed);
            let mut inserted = der.clone();
            inserted.insert(i, 0);
            tally.compare(&format!("{what}: 00 inserted at {i}"), &inserted);
            tally.compare(&format!("{what}: cut at {i}"), &der[..i]);
        }
    }
    eprintln!("{tally:#?}");
    assert!(tally.accepted > 10_000 && tally.rejected > 10_000, "{tally:?}");
    for (difference, (count, example)) in &tally.differences {
        // x509-parser rejects data that Go ignores: whatever follows the last field Go reads in
        // the TBSCertificate (for Go, extensions are only an element tagged exactly A3, so a
        // damaged A3 or a key that swallows it leaves the rest unread), and whatever follows
        // the SEQUENCE inside [3] (see go_and_x509_parser_differ).
        let go_ignores_trailing_data = [
            "only x509-parser rejects: Parsing Error: InvalidExtensions",
            "only x509-parser rejects: Parsing Error: NomError(Eof)",
        ];
        // Otherwise only Go's stricter rules: exact identifier octets (x509-parser ignores the
        // class), OIDs decoded, DER INTEGERs and BOOLEANs, the [3] length, matching signature
        // algorithms, non-negative serials, versions 1 to 3, no repeated extension.
        assert!(
            difference.starts_with("only Go rejects: x509: ")
                || difference.starts_with("both accept; only x509-parser reads the extensions")
                || go_ignores_trailing_data.contains(&difference.as_str()),
            "{difference}: {count} times, e.g. {example}"
        );
    }
}

/// Each rule on which Go and x509-parser disagree, on a certificate of its own: Go's answer
/// (read in Go's `crypto/x509/parser.go` and `cryptobyte`), which the shim gives, and the
/// opposite one x509-parser gave.
#[test]
fn go_and_x509_parser_differ() {
    let ski = extension(&[2, 5, 29, 14], &tlv(0x04, &[1, 2, 3, 4]));
    type Case = (&'static str, Box<dyn Fn(&mut Parts)>, Result<(), &'static str>);
    let cases: Vec<Case> = vec![
        // Go accepts, x509-parser refused.
        (
            "data after the extensions, inside the TBSCertificate (Go ignores it)",
            Box::new(|p| p.tail.extend(tlv(0x05, &[]))),
            Ok(()),
        ),
        (
            "data after the extensions' SEQUENCE, inside [3] (Go ignores it)",
            Box::new(|p| p.tail = tlv(0xa3, &[seq(&[]), tlv(0x05, &[])].concat())),
            Ok(()),
        ),
        (
            "a GeneralizedTime with an offset",
            Box::new(|p| p.validity = seq(&[tlv(0x17, b"250101000000Z"), tlv(0x18, b"20500101000000-0530")])),
            Ok(()),
        ),
        // Go refuses, x509-parser accepted.
        ("a negative serial", Box::new(|p| p.serial = tlv(0x02, &[0xff, 0x01])), Err("x509: negative serial number")),
        (
            "a serial with a superfluous leading zero",
            Box::new(|p| p.serial = tlv(0x02, &[0x00, 0x01])),
            Err("x509: malformed serial number"),
        ),
        ("version 4", Box::new(|p| p.version = tlv(0xa0, &tlv(0x02, &[3]))), Err("x509: invalid version")),
        (
            "different inner and outer signature algorithms",
            Box::new(|p| p.outer_algorithm = seq(&[oid(&[1, 2, 840, 10045, 4, 3, 3])])),
            Err("x509: inner and outer signature algorithm identifiers don't match"),
        ),
        (
            "an extension twice",
            Box::new(move |p| p.tail = extensions(&[ski.clone(), ski.clone()])),
            Err("x509: certificate contains duplicate extension with OID \"2.5.29.14\""),
        ),
        (
            "a critical flag that is neither 00 nor ff",
            Box::new(|p| p.tail = extensions(&[seq(&[oid(&[2, 5, 29, 14]), tlv(0x01, &[0x01]), tlv(0x04, &[])])])),
            Err("x509: malformed extension critical field"),
        ),
        (
            "an extension OID with a superfluous 0x80 in an arc",
            Box::new(|p| p.tail = extensions(&[seq(&[tlv(0x06, &[0x55, 0x80, 0x1d]), tlv(0x04, &[])])])),
            Err("x509: malformed extension OID field"),
        ),
        (
            "a context-specific [16] where a SEQUENCE belongs (x509-parser ignores the class)",
            Box::new(|p| p.validity[0] = 0xb0),
            Err("x509: malformed validity"),
        ),
        (
            "a [3] shorter than the extensions in it (x509-parser ignores its length)",
            Box::new(|p| {
                let list = seq(&[]);
                p.tail = [vec![0xa3, list.len() as u8 - 1], list].concat();
            }),
            Err("x509: malformed extensions"),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, change, go) in cases {
        let mut parts = Parts::new();
        change(&mut parts);
        let der = parts.der();
        let ours = new(&der);
        if ours.as_ref().map(|_| ()).map_err(String::as_str) != go || old(&der).is_ok() != go.is_err() {
            wrong.push(format!("{what}: Go {go:?}, ours {:?}, x509-parser {:?}", ours.err(), old(&der).err()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // Both accept, but Go reads extensions only in version 3 certificates.
    let mut v1 = Parts::new();
    v1.version = Vec::new();
    let der = v1.der();
    assert_eq!(new(&der).unwrap().2, None);
    assert_eq!(old(&der).unwrap().2.as_deref(), Some(&br#"{"attrs":{"a":"1"}}"#[..]));
}

/// Certificates in PEM as OpenSSL, rcgen and Fabric write it, with CRLF, other line widths and
/// text around: both readers give the same bytes.
#[test]
fn pem_blocks_read_the_same() {
    let mut compared = 0;
    for (what, der) in repository_certificates().iter().chain(&generated_certificates()) {
        let b64 = BASE64_STANDARD.encode(der);
        for width in [64, 76] {
            let lines: Vec<&str> = b64.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
            for nl in ["\n", "\r\n"] {
                let block =
                    format!("-----BEGIN CERTIFICATE-----{nl}{}{nl}-----END CERTIFICATE-----{nl}", lines.join(nl));
                let around = format!("Bag Attributes{nl}    friendlyName: user1{nl}{block}{nl}trailing text");
                for text in [block.clone(), around, block.repeat(2)] {
                    let ours = pem::decode(text.as_bytes()).ok();
                    let theirs = x509_parser::pem::parse_x509_pem(text.as_bytes()).ok().map(|(_, pem)| pem.contents);
                    assert_eq!(ours, theirs, "{what}: {text:?}");
                    assert_eq!(ours.as_deref(), Some(&der[..]), "{what}");
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1000);
}

/// Where Go's `pem.Decode` and x509-parser's `parse_x509_pem` disagree: Go's answer, which the
/// shim gives (`None`: no block, so the creator is read as an idemix identity), and
/// x509-parser's.
#[test]
fn go_and_x509_parser_differ_on_pem() {
    // "AQID" is 01 02 03.
    type Case = (&'static str, &'static str, Option<&'static [u8]>, Option<&'static [u8]>);
    let cases: [Case; 6] = [
        (
            "RFC 1421 headers",
            "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END CERTIFICATE-----\n",
            Some(&[1, 2, 3]),
            None,
        ),
        (
            "blanks inside a base64 line",
            "-----BEGIN CERTIFICATE-----\nAQ ID\n-----END CERTIFICATE-----\n",
            Some(&[1, 2, 3]),
            None,
        ),
        (
            "unused bits of the last base64 character set (Go's decoder is not strict)",
            "-----BEGIN CERTIFICATE-----\nAQJ=\n-----END CERTIFICATE-----\n",
            Some(&[1, 2]),
            None,
        ),
        (
            "a BEGIN line without an END, then a whole block (Go takes the last BEGIN before the first END)",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n",
            Some(&[1, 2, 3]),
            None,
        ),
        (
            "an END line with another label",
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END X509 CRL-----\n",
            None,
            Some(&[1, 2, 3]),
        ),
        (
            "text after the END line's dashes",
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----garbage\n",
            None,
            Some(&[1, 2, 3]),
        ),
    ];
    for (what, text, go, x509_parser) in cases {
        assert_eq!(pem::decode(text.as_bytes()).ok().as_deref(), go, "{what}");
        let theirs = x509_parser::pem::parse_x509_pem(text.as_bytes()).ok().map(|(_, pem)| pem.contents);
        assert_eq!(theirs.as_deref(), x509_parser, "{what}");
    }
}
