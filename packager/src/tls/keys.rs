//! Loading PEM certificates and private keys in the formats Go's `tls.X509KeyPair`
//! accepts (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`).

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, Result};

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// All `CERTIFICATE` blocks of `pem`, in order. Errors name `field`.
pub(crate) fn certificates(field: &str, pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = item.map_err(|e| Error::Tls(format!("{field}: cannot read PEM: {e}")))?;
        x509_parser::parse_x509_certificate(&cert)
            .map_err(|e| Error::Tls(format!("{field}: certificate #{} is not valid X.509: {e}", certs.len() + 1)))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(Error::Tls(format!(
            "{field}: no PEM CERTIFICATE block found: give the certificate's PEM file (a `-----BEGIN CERTIFICATE-----` block), not a key or a DER file"
        )));
    }
    Ok(certs)
}

/// The first private key block of `pem`, loaded (and thereby checked) by *ring* through
/// rcgen. SEC1 and PKCS#1 keys are re-wrapped as PKCS#8 first.
pub(crate) fn private_key(field: &str, pem: &str) -> Result<rcgen::KeyPair> {
    if pem.contains("ENCRYPTED") {
        return Err(Error::Tls(format!(
            "{field}: encrypted private keys are not supported (the peer cannot use them \
             either); decrypt it, e.g. with `openssl pkey -in KEY -out KEY.plain`"
        )));
    }
    let mut found = None;
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes()) {
        let (kind, der) = item.map_err(|e| Error::Tls(format!("{field}: cannot read PEM: {e}")))?;
        if matches!(kind, SectionKind::PrivateKey | SectionKind::EcPrivateKey | SectionKind::RsaPrivateKey) {
            found = Some((kind, der));
            break;
        }
    }
    let Some((kind, der)) = found else {
        return Err(Error::Tls(format!(
            "{field}: no PEM PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block found: give the private key's PEM file, not a certificate"
        )));
    };
    let candidates = match kind {
        SectionKind::RsaPrivateKey => vec![pkcs8_wrap(&alg_id(OID_RSA_ENCRYPTION, None), &der)],
        SectionKind::EcPrivateKey => match sec1_curve(&der) {
            Some(curve) => vec![pkcs8_wrap(&alg_id(OID_EC_PUBLIC_KEY, Some(curve)), &der)],
            None => {
                [OID_P256, OID_P384].iter().map(|c| pkcs8_wrap(&alg_id(OID_EC_PUBLIC_KEY, Some(c)), &der)).collect()
            }
        },
        _ => vec![der],
    };
    let mut last_err = None;
    for pkcs8 in candidates {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8));
        match rcgen::KeyPair::try_from(&key) {
            Ok(pair) => return Ok(pair),
            Err(e) => last_err = Some(e),
        }
    }
    Err(Error::Tls(format!(
        "{field}: cannot load the private key ({}); supported are EC P-256/P-384 keys (SEC1 \
         keys must embed their public key), RSA keys of 2048-8192 bits and Ed25519 keys, as \
         PKCS#8, SEC1 or PKCS#1 PEM",
        last_err.map_or_else(|| "unknown format".to_string(), |e| e.to_string())
    )))
}

/// The named-curve OID in a SEC1 `ECPrivateKey`'s `[0] parameters`, if present.
fn sec1_curve(der: &[u8]) -> Option<&[u8]> {
    let (tag, body, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = body;
    while let Some((tag, content, tail)) = read_tlv(rest) {
        if tag == 0xa0 {
            let (oid_tag, oid, _) = read_tlv(content)?;
            return (oid_tag == 0x06).then_some(oid);
        }
        rest = tail;
    }
    None
}

fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn alg_id(oid: &[u8], curve: Option<&[u8]>) -> Vec<u8> {
    let mut body = tlv(0x06, oid);
    match curve {
        Some(c) => body.extend(tlv(0x06, c)),
        None => body.extend([0x05, 0x00]),
    }
    tlv(0x30, &body)
}

fn pkcs8_wrap(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(alg);
    body.extend(tlv(0x04, key));
    tlv(0x30, &body)
}
