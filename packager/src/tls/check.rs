//! Consistency checks on TLS material, before it is packaged.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::keys;
use crate::error::{Error, Result};

fn parse<'a>(der: &'a CertificateDer<'_>) -> X509Certificate<'a> {
    // `keys::certificates` has already checked that every block parses.
    x509_parser::parse_x509_certificate(der).map(|(_, c)| c).expect("certificate was validated when read")
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn validity_warning(field: &str, cert: &X509Certificate<'_>, warnings: &mut Vec<String>) {
    let now = now_unix();
    let subject = cert.subject().to_string();
    if cert.validity().not_after.timestamp() < now {
        warnings.push(format!("{field}: certificate '{subject}' expired on {}", cert.validity().not_after));
    } else if cert.validity().not_before.timestamp() > now {
        warnings.push(format!("{field}: certificate '{subject}' is not valid before {}", cert.validity().not_before));
    }
}

/// Checks `root_cert`: at least one PEM certificate, all valid X.509. Expired or
/// not-yet-valid certificates give warnings.
pub fn root_bundle(pem: &str, warnings: &mut Vec<String>) -> Result<()> {
    for der in keys::certificates("root_cert", pem)? {
        validity_warning("root_cert", &parse(&der), warnings);
    }
    Ok(())
}

/// Checks a client certificate and key as Go's `tls.X509KeyPair` would pair them: the key
/// must be the private key of the first certificate in `cert_pem`.
pub fn client_pair(cert_pem: &str, key_pem: &str, warnings: &mut Vec<String>) -> Result<()> {
    let certs = keys::certificates("client_cert", cert_pem)?;
    let key = keys::private_key("client_key", key_pem)?;
    let leaf = parse(&certs[0]);
    if leaf.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(Error::Tls(format!(
            "client_key does not match client_cert: the public key of certificate '{}' is not \
             the public key of the private key (the peer would fail with \"tls: private key \
             does not match public key\")",
            leaf.subject()
        )));
    }
    validity_warning("client_cert", &leaf, warnings);
    if let Ok(Some(eku)) = leaf.extended_key_usage() {
        if !eku.value.client_auth && !eku.value.any {
            warnings.push(format!(
                "client_cert: certificate '{}' has an extended key usage without clientAuth; \
                 a chaincode server that verifies client certificates will reject it",
                leaf.subject()
            ));
        }
    }
    Ok(())
}

/// The SANs of `cert`, for messages.
fn san_list(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => out.push(format!("DNS:{d}")),
                GeneralName::IPAddress(ip) => out.push(match ip_from_bytes(ip) {
                    Some(ip) => format!("IP:{ip}"),
                    None => "IP:?".into(),
                }),
                _ => {}
            }
        }
    }
    out
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// Go's `x509.Certificate.VerifyHostname` (which the peer's TLS client uses): IP hosts
/// match IP SANs only; names match DNS SANs case-insensitively, `*` only as the whole
/// leftmost label.
pub fn certificate_covers(cert_der: &[u8], host: &str) -> bool {
    match x509_parser::parse_x509_certificate(cert_der) {
        Ok((_, cert)) => covers(&cert, host),
        Err(_) => false,
    }
}

fn covers(cert: &X509Certificate<'_>, host: &str) -> bool {
    let candidate = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let names = &san.value.general_names;
    if let Ok(ip) = candidate.parse::<IpAddr>() {
        return names.iter().any(|n| match n {
            GeneralName::IPAddress(b) => ip_from_bytes(b).is_some_and(|i| same_ip(i, ip)),
            _ => false,
        });
    }
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    names.iter().any(|n| match n {
        GeneralName::DNSName(pattern) => {
            let pattern = pattern.to_ascii_lowercase();
            let pattern = pattern.strip_suffix('.').unwrap_or(&pattern);
            let (p, h): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), host.split('.').collect());
            p.len() == h.len()
                && p.iter().zip(&h).enumerate().all(|(i, (p, h))| (i == 0 && *p == "*" && !h.is_empty()) || p == h)
        }
        _ => false,
    })
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

/// Checks the chaincode server's certificate (chain: leaf first, then intermediates):
/// it must chain to `root_pem` for TLS server use, as the peer verifies it, and its SANs
/// must cover every name in `hosts`.
pub fn server_cert(server_pem: &str, root_pem: Option<&str>, hosts: &[String]) -> Result<()> {
    let chain = keys::certificates("server certificate", server_pem)?;
    if let Some(root_pem) = root_pem {
        let roots = keys::certificates("root_cert", root_pem)?;
        let anchors = roots
            .iter()
            .map(|r| {
                webpki::anchor_from_trusted_cert(r)
                    .map_err(|e| Error::Tls(format!(
                        "root_cert: unusable as a trust anchor ({e:?}): give the CA certificate that signed the server certificate"
                    )))
            })
            .collect::<Result<Vec<_>>>()?;
        let leaf = webpki::EndEntityCert::try_from(&chain[0]).map_err(|e| {
            Error::Tls(format!(
                "server certificate: not a usable X.509 certificate ({e:?}): give the server's certificate in PEM"
            ))
        })?;
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &chain[1..],
            UnixTime::now(),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| {
            Error::Tls(format!(
                "server certificate is not valid for TLS server use under root_cert \
                 (--tls-root-cert): {e:?}; the peer would refuse the handshake"
            ))
        })?;
    }
    let leaf = parse(&chain[0]);
    for host in hosts {
        if !covers(&leaf, host) {
            return Err(Error::Tls(format!(
                "server certificate SANs [{}] do not cover '{host}': the peer verifies the \
                 chaincode server's certificate against this name",
                san_list(&leaf).join(", ")
            )));
        }
    }
    Ok(())
}
