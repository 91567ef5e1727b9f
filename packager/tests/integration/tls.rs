//! `tls::generate` output, checked with independent verifiers (rustls/webpki and
//! x509-parser), and the key/certificate checks applied when packaging.

use crate::common;

use std::net::IpAddr;
use std::sync::Arc;

use ccaas_package::{build_package, tls, ConnectionSpec, PackageSpec};
use common::fixture;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use x509_parser::extensions::GeneralName;

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

fn roots(ca_pem: &str) -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    store.add(der(ca_pem)).unwrap();
    Arc::new(store)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn material() -> tls::TlsMaterial {
    tls::generate(&["basic-ccaas".into(), "127.0.0.1".into(), "*.cc.svc".into()], 7).unwrap()
}

#[test]
fn generated_material_parses_and_has_the_right_extensions() {
    let m = material();
    for key in [&m.ca_key, &m.server_key, &m.client_key] {
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
        assert!(matches!(PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(), PrivateKeyDer::Pkcs8(_)));
    }
    let ca_der = der(&m.ca_cert);
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    assert!(ca.is_ca());

    let server_der = der(&m.server_cert);
    let (_, server) = x509_parser::parse_x509_certificate(&server_der).unwrap();
    let sans: Vec<String> = server
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => format!("DNS:{d}"),
            GeneralName::IPAddress(b) => {
                format!("IP:{}", IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()))
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(sans, ["DNS:basic-ccaas", "IP:127.0.0.1", "DNS:*.cc.svc"]);
    let eku = server.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);
    assert_eq!(server.issuer(), ca.subject());

    let client_der = der(&m.client_cert);
    let (_, client) = x509_parser::parse_x509_certificate(&client_der).unwrap();
    let eku = client.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert_eq!(client.issuer(), ca.subject());
}

#[test]
fn rustls_accepts_the_client_and_server_certificates() {
    let m = material();
    let client_verifier = WebPkiClientVerifier::builder_with_provider(roots(&m.ca_cert), provider()).build().unwrap();
    client_verifier.verify_client_cert(&der(&m.client_cert), &[], UnixTime::now()).unwrap();
    // The server certificate is not a client certificate.
    assert!(client_verifier.verify_client_cert(&der(&m.server_cert), &[], UnixTime::now()).is_err());

    let server_verifier = WebPkiServerVerifier::builder_with_provider(roots(&m.ca_cert), provider()).build().unwrap();
    let verify = |name: &str| {
        server_verifier.verify_server_cert(
            &der(&m.server_cert),
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            UnixTime::now(),
        )
    };
    verify("basic-ccaas").unwrap();
    verify("127.0.0.1").unwrap();
    verify("peer0.cc.svc").unwrap();
    assert!(verify("elsewhere").is_err());

    // Another CA does not vouch for them.
    let other = material();
    let foreign = WebPkiClientVerifier::builder_with_provider(roots(&other.ca_cert), provider()).build().unwrap();
    assert!(foreign.verify_client_cert(&der(&m.client_cert), &[], UnixTime::now()).is_err());
}

#[test]
fn packaging_checks_generated_material() {
    let m = material();
    let mtls = |address: &str| {
        ConnectionSpec::new(address)
            .tls(&m.ca_cert)
            .client_auth(&m.client_cert, &m.client_key)
            .check_server_cert(&m.server_cert)
    };
    for ok in ["basic-ccaas:7052", "127.0.0.1:7052", "x.cc.svc:7052", "BASIC-CCAAS.:7052"] {
        let built = build_package(&PackageSpec::ccaas("cc", mtls(ok))).unwrap();
        assert!(built.warnings.is_empty(), "{ok}: {:?}", built.warnings);
    }
    let err = |spec: ConnectionSpec| build_package(&PackageSpec::ccaas("cc", spec)).unwrap_err().to_string();
    assert!(err(mtls("10.0.0.1:7052")).contains("do not cover '10.0.0.1'"));
    assert!(err(mtls("a.b.cc.svc:7052")).contains("do not cover 'a.b.cc.svc'"));
    // With client auth the peer verifies `domain` instead, so it must be covered too.
    assert!(err(mtls("basic-ccaas:7052").domain("other")).contains("do not cover 'other'"));

    // A server certificate from another CA.
    let other = material();
    let foreign = ConnectionSpec::new("basic-ccaas:7052").tls(&m.ca_cert).check_server_cert(&other.server_cert);
    assert!(err(foreign).contains("not valid for TLS server use under root_cert"));
    // The client certificate is not a server certificate.
    let wrong_usage = ConnectionSpec::new("basic-ccaas:7052").tls(&m.ca_cert).check_server_cert(&m.client_cert);
    assert!(err(wrong_usage).contains("not valid for TLS server use"));

    // Templated address: chain still checked, SANs skipped with a warning.
    let templated = ConnectionSpec::new("{{.peername}}:7052").tls(&m.ca_cert).check_server_cert(&m.server_cert);
    let built = build_package(&PackageSpec::ccaas("cc", templated)).unwrap();
    assert!(built.warnings.iter().any(|w| w.contains("SANs are not checked")));

    // Swapped key.
    let swapped = ConnectionSpec::new("basic-ccaas:7052").tls(&m.ca_cert).client_auth(&m.client_cert, &m.server_key);
    assert!(err(swapped).contains("client_key does not match client_cert"));
}

#[test]
fn client_key_formats() {
    let ok = |cert: &str, key: &str| {
        let spec = ConnectionSpec::new("cc:7052").tls(fixture("ca.pem")).client_auth(cert, key);
        build_package(&PackageSpec::ccaas("cc", spec))
    };
    // SEC1 P-256, PKCS#8 P-384, PKCS#1 RSA-2048 (made with OpenSSL, tests/fixtures).
    for name in ["client-ec", "client-p384", "client-rsa"] {
        let built = ok(&fixture(&format!("{name}.pem")), &fixture(&format!("{name}.key")));
        assert!(built.is_ok(), "{name}: {:?}", built.err());
    }
    // SEC1 without the curve parameters (the form inside PKCS#8), cut out of a PKCS#8 key.
    let m = material();
    let pkcs8 = PrivateKeyDer::from_pem_slice(m.client_key.as_bytes()).unwrap();
    let inner = pkcs8.secret_der();
    let sec1 = &inner[inner.len() - 0x6d..]; // OCTET STRING content: ECPrivateKey
    assert_eq!(sec1[0], 0x30);
    let pem = format!("-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n", base64_lines(sec1));
    assert!(ok(&m.client_cert, &pem).is_ok());

    let mismatch = |cert: &str, key: &str| ok(&fixture(cert), &fixture(key)).unwrap_err().to_string();
    assert!(mismatch("client-rsa.pem", "client-ec.key").contains("does not match"));
    assert!(mismatch("client-ec.pem", "other.key").contains("does not match"));
    assert!(mismatch("client-ec.pem", "client-ec.pem").contains("no PEM PRIVATE KEY"));
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(ok(&fixture("client-ec.pem"), encrypted)
        .unwrap_err()
        .to_string()
        .contains("encrypted private keys are not supported"));
}

fn base64_lines(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n")
}

#[test]
fn write_to_dir_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let m = material();
    m.write_to_dir(dir.path(), false).unwrap();
    std::fs::remove_file(dir.path().join("client.key")).unwrap();
    // One file exists → nothing is written, even the missing one.
    let e = m.write_to_dir(dir.path(), false).unwrap_err().to_string();
    assert!(e.contains("refusing to overwrite"));
    assert!(!dir.path().join("client.key").exists());
    m.write_to_dir(dir.path(), true).unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("client.key")).unwrap(), m.client_key);
}

/// `Debug` of everything that holds a private key shows its size, never its text.
#[test]
fn debug_output_redacts_private_keys() {
    let m = material();
    let spec = ConnectionSpec::new("cc:7052").tls(&m.ca_cert).client_auth(&m.client_cert, &m.client_key);
    let json = spec.to_connection_json().unwrap();
    let package_spec = PackageSpec::ccaas("cc", spec.clone());
    let report = ccaas_package::inspect(&build_package(&package_spec).unwrap().bytes).unwrap();
    let printed = [
        format!("{m:?}"),
        format!("{spec:?}"),
        format!("{json:?}"),
        format!("{package_spec:?}"),
        format!("{report:?}"),
    ];
    for text in &printed {
        for key in [&m.ca_key, &m.server_key, &m.client_key] {
            let body = key.lines().nth(1).unwrap();
            assert!(!text.contains(body), "key material in {text}");
        }
        assert!(text.contains(&format!("<redacted: {} bytes>", m.client_key.len())), "{text}");
    }
    assert!(printed[0].contains(m.ca_cert.lines().nth(1).unwrap()), "certificates are shown");
}

/// `tls --owner UID[:GID]`: server.pem and server.key belong to the image's user (the key keeps
/// mode 0600), so a container running as that user reads them from a mount; the other files stay
/// the caller's. Without the right to change owners, nothing is written and the error says how.
#[cfg(unix)]
#[test]
fn owner_gives_the_server_files_to_the_image_user() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").unwrap();
    let me = std::fs::metadata(&probe).unwrap();
    let out = dir.path().join("tls");
    let run = |owner: &str| {
        std::process::Command::new(common::BIN)
            .args(["tls", "--host", "127.0.0.1", "--out", out.to_str().unwrap(), "--force", "--owner", owner])
            .output()
            .unwrap()
    };
    let bad = run("nonroot");
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not UID[:GID] with numeric ids"));
    let result = run("65532");
    if me.uid() != 0 {
        // Not root: refused with the way to do it, and nothing written.
        let err = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success() && err.contains("podman unshare"), "{err}");
        assert!(!out.join("server.key").exists());
        eprintln!("not root: --owner refused as expected; the ownership itself is checked when run as root");
        return;
    }
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let meta = |f: &str| std::fs::metadata(out.join(f)).unwrap();
    for f in ["server.key", "server.pem"] {
        assert_eq!((meta(f).uid(), meta(f).gid()), (65532, 65532), "{f}");
    }
    assert_eq!(meta("server.key").mode() & 0o777, 0o600);
    for f in ["ca.pem", "ca.key", "client.pem", "client.key"] {
        assert_eq!((meta(f).uid(), meta(f).gid()), (me.uid(), me.gid()), "{f}");
    }
    assert_eq!(meta("ca.key").mode() & 0o777, 0o600);
    // UID:GID.
    assert!(run("1000:2000").status.success());
    assert_eq!((meta("server.key").uid(), meta("server.key").gid()), (1000, 2000));
}
