//! Generating a small CA, a chaincode server certificate and a peer client certificate.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};
use crate::write::{Staged, MODE_PRIVATE, MODE_PUBLIC};

/// PEM material for a TLS/mTLS chaincode server and the peers that dial it.
///
/// | file | content | used by |
/// |---|---|---|
/// | `ca.pem` | CA certificate | `build --tls-root-cert`; chaincode `CHAINCODE_CLIENT_CA_CERT` |
/// | `ca.key` | CA key (PKCS#8) | keep offline; signs more certificates |
/// | `server.pem` | server certificate, one SAN per host | chaincode `CHAINCODE_TLS_CERT` |
/// | `server.key` | server key | chaincode `CHAINCODE_TLS_KEY` |
/// | `client.pem` | client certificate (clientAuth) | `build --client-cert` |
/// | `client.key` | client key | `build --client-key` |
///
/// All keys are ECDSA P-256 in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). `Debug` shows
/// the keys as `<redacted: N bytes>`.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// CA certificate PEM.
    pub ca_cert: String,
    /// CA private key PEM.
    pub ca_key: String,
    /// Chaincode server certificate PEM.
    pub server_cert: String,
    /// Chaincode server private key PEM.
    pub server_key: String,
    /// Peer client certificate PEM.
    pub client_cert: String,
    /// Peer client private key PEM.
    pub client_key: String,
}

/// File names written by [`TlsMaterial::write_to_dir`], in order.
pub const TLS_FILES: [&str; 6] = ["ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key"];

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::connection::redacted;
        f.debug_struct("TlsMaterial")
            .field("ca_cert", &self.ca_cert)
            .field("ca_key", &redacted(&self.ca_key))
            .field("server_cert", &self.server_cert)
            .field("server_key", &redacted(&self.server_key))
            .field("client_cert", &self.client_cert)
            .field("client_key", &redacted(&self.client_key))
            .finish()
    }
}

impl TlsMaterial {
    fn files(&self) -> [(&'static str, &str, u32); 6] {
        [
            (TLS_FILES[0], &self.ca_cert, MODE_PUBLIC),
            (TLS_FILES[1], &self.ca_key, MODE_PRIVATE),
            (TLS_FILES[2], &self.server_cert, MODE_PUBLIC),
            (TLS_FILES[3], &self.server_key, MODE_PRIVATE),
            (TLS_FILES[4], &self.client_cert, MODE_PUBLIC),
            (TLS_FILES[5], &self.client_key, MODE_PRIVATE),
        ]
    }

    /// Writes the six files into `dir` (created if missing). Keys get mode 0600 on unix.
    /// Unless `force`, refuses (before writing anything) if any of the files exists.
    /// Every file is staged first and only then renamed into place.
    pub fn write_to_dir(&self, dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
        self.write_to_dir_owned(dir, force, None)
    }

    /// [`TlsMaterial::write_to_dir`], with `server.pem` and `server.key` owned by
    /// `server_owner` (uid, gid): the user a chaincode image runs as (65532:65532 for
    /// `ccaas-deploy image`), which then reads its key (mode 0600) from a mount as it is. The
    /// other files stay the caller's. Changing a file's owner needs root: run it with `sudo`, or,
    /// for rootless podman, inside `podman unshare` (the container's ids map there); without
    /// that permission nothing is written and the error says so.
    pub fn write_to_dir_owned(
        &self,
        dir: &Path,
        force: bool,
        server_owner: Option<(u32, u32)>,
    ) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let paths: Vec<PathBuf> = TLS_FILES.iter().map(|f| dir.join(f)).collect();
        if !force {
            let existing: Vec<String> =
                paths.iter().filter(|p| p.symlink_metadata().is_ok()).map(|p| p.display().to_string()).collect();
            if !existing.is_empty() {
                return Err(Error::Spec(format!(
                    "refusing to overwrite existing files (use --force): {}",
                    existing.join(", ")
                )));
            }
        }
        let staged = self
            .files()
            .iter()
            .zip(&paths)
            .map(|((_, pem, mode), path)| Staged::new(path, pem.as_bytes(), *mode))
            .collect::<Result<Vec<_>>>()?;
        if let Some((uid, gid)) = server_owner {
            give_server_files(&staged, uid, gid)?;
        }
        for s in staged {
            s.commit()?;
        }
        Ok(paths)
    }
}

/// Gives the staged `server.pem` and `server.key` (the third and fourth of [`TLS_FILES`]) to
/// `uid`:`gid`.
#[cfg(unix)]
fn give_server_files(staged: &[Staged], uid: u32, gid: u32) -> Result<()> {
    for s in &staged[2..4] {
        s.chown(uid, gid).map_err(|e| {
            Error::Tls(format!(
                "cannot give server.pem and server.key to {uid}:{gid} ({e}): only root may change a file's owner; \
                 run this with sudo, or for rootless podman inside `podman unshare` (e.g. `podman unshare \
                 ccaas-package tls ... --owner {uid}:{gid}`), where the container's user ids map; nothing was written"
            ))
        })?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn give_server_files(_: &[Staged], _: u32, _: u32) -> Result<()> {
    Err(Error::Tls("--owner needs a unix system (file owners are numeric user and group ids)".into()))
}

fn tls_err(what: &str) -> impl Fn(rcgen::Error) -> Error + '_ {
    move |e| Error::Tls(format!("cannot generate {what}: {e}"))
}

fn san_for(host: &str) -> Result<SanType> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    crate::connection::check_hostname(name)
        .map_err(|reason| Error::Tls(format!("invalid --host '{host}': {reason}")))?;
    let ia5 = host.to_string().try_into().map_err(|e| Error::Tls(format!("invalid --host '{host}': {e}")))?;
    Ok(SanType::DnsName(ia5))
}

fn params(cn: &str, days: u32, now: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "ccaas-package");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = now - Duration::minutes(5);
    p.not_after = now + Duration::days(i64::from(days));
    p.use_authority_key_identifier_extension = true;
    p
}

/// Generates a CA, a server certificate whose SANs are `hosts` (IP literals become IP
/// SANs, everything else DNS SANs; the first host is also the subject CN) and a client
/// certificate, all valid for `days` days.
///
/// ```
/// let m = ccaas_package::tls::generate(&["basic-ccaas".into(), "127.0.0.1".into()], 30).unwrap();
/// assert!(m.server_cert.starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(m.client_key.starts_with("-----BEGIN PRIVATE KEY-----"));
/// ```
pub fn generate(hosts: &[String], days: u32) -> Result<TlsMaterial> {
    if hosts.is_empty() {
        return Err(Error::Tls("at least one --host is required".into()));
    }
    if days == 0 {
        return Err(Error::Tls("--days must be at least 1".into()));
    }
    let sans = hosts.iter().map(|h| san_for(h)).collect::<Result<Vec<_>>>()?;
    let now = OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate().map_err(tls_err("the CA key"))?;
    let mut ca_params = params("ccaas-package chaincode TLS CA", days, now);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca_params.use_authority_key_identifier_extension = false;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err("the CA"))?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(tls_err("the server key"))?;
    let mut server_params = params(&hosts[0], days, now);
    server_params.subject_alt_names = sans;
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params.signed_by(&server_key, &issuer).map_err(tls_err("the server certificate"))?;

    let client_key = KeyPair::generate().map_err(tls_err("the client key"))?;
    let mut client_params = params("fabric-peer", days, now);
    client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).map_err(tls_err("the client certificate"))?;

    Ok(TlsMaterial {
        ca_cert: ca_cert.pem(),
        ca_key: ca_key_pem,
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        client_cert: client_cert.pem(),
        client_key: client_key.serialize_pem(),
    })
}
