//! An MSP signing identity: an X.509 certificate, its private key and the MSP ID, loaded from
//! PEM files or an MSP folder, and signing exactly as Fabric expects: ECDSA P-256 over SHA-256,
//! DER-encoded, low-S; or Ed25519 (Fabric 3), over the message itself.

use std::path::Path;
use std::sync::Arc;

use ccaas_protos::msp::SerializedIdentity;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePrivateKey;
use prost::Message;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use crate::error::{read_file, Error, Result};

/// A signing identity of one MSP.
#[derive(Clone)]
pub struct Identity {
    msp_id: String,
    cert_pem: Vec<u8>,
    key: PrivateKey,
}

/// The key algorithms Fabric's MSP accepts for signing (3.x: also Ed25519).
#[derive(Clone)]
enum PrivateKey {
    P256(SigningKey),
    Ed25519(Arc<Ed25519KeyPair>),
}

/// A certificate's public key.
#[derive(PartialEq)]
enum PublicKey {
    P256(VerifyingKey),
    Ed25519(Vec<u8>),
}

impl PrivateKey {
    fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(VerifyingKey::from(k)),
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.public_key().as_ref().to_vec()),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("msp_id", &self.msp_id).finish_non_exhaustive()
    }
}

impl Identity {
    /// An identity from a PEM certificate and a PEM private key: P-256 (PKCS#8 `PRIVATE KEY` or
    /// SEC1 `EC PRIVATE KEY`) or Ed25519 (PKCS#8 `PRIVATE KEY`, as Fabric 3's cryptogen writes it). `source` says where they came from, for error messages. Fails
    /// if the key is not the certificate's.
    pub fn from_pem(msp_id: &str, cert_pem: &[u8], key_pem: &[u8], source: &str) -> Result<Identity> {
        let err = |cause: String| Error::Identity { msp_id: msp_id.into(), source_desc: source.into(), cause };
        if msp_id.is_empty() {
            return Err(err("no MSP ID given (--msp-id or CORE_PEER_LOCALMSPID)".into()));
        }
        let cert_key = certificate_public_key(cert_pem).map_err(err)?;
        let key = parse_private_key(key_pem).map_err(err)?;
        if key.public_key() != cert_key {
            return Err(err("the private key does not belong to the certificate".into()));
        }
        Ok(Identity { msp_id: msp_id.into(), cert_pem: cert_pem.to_vec(), key })
    }

    /// An identity from a certificate file and a key file.
    pub fn from_files(msp_id: &str, cert: &Path, key: &Path) -> Result<Identity> {
        let cert_pem = read_file("certificate", cert)?;
        let key_pem = read_file("private key", key)?;
        Identity::from_pem(msp_id, &cert_pem, &key_pem, &format!("{} and {}", cert.display(), key.display()))
    }

    /// An identity from an MSP folder as cryptogen, fabric-ca-client and the peer CLI lay it out:
    /// the certificate in `signcerts/`, the key (the one that matches it) in `keystore/`.
    pub fn from_msp_dir(msp_id: &str, dir: &Path) -> Result<Identity> {
        let source = format!("MSP folder {}", dir.display());
        let err = |cause: String| Error::Identity { msp_id: msp_id.into(), source_desc: source.clone(), cause };
        let signcerts = sorted_files(&dir.join("signcerts")).map_err(|e| err(format!("signcerts/: {e}")))?;
        let cert = signcerts.first().ok_or_else(|| err("signcerts/ holds no certificate".into()))?;
        let cert_pem = read_file("certificate", cert)?;
        let cert_key = certificate_public_key(&cert_pem).map_err(&err)?;
        let keys = sorted_files(&dir.join("keystore")).map_err(|e| err(format!("keystore/: {e}")))?;
        for path in &keys {
            let pem = read_file("private key", path)?;
            if let Ok(key) = parse_private_key(&pem) {
                if key.public_key() == cert_key {
                    return Ok(Identity { msp_id: msp_id.into(), cert_pem, key });
                }
            }
        }
        Err(err(format!(
            "keystore/ has no private key (P-256 or Ed25519) for {} ({} files looked at)",
            cert.display(),
            keys.len()
        )))
    }

    /// The MSP ID.
    pub fn msp_id(&self) -> &str {
        &self.msp_id
    }

    /// The PEM certificate.
    pub fn cert_pem(&self) -> &[u8] {
        &self.cert_pem
    }

    /// The protobuf `msp.SerializedIdentity` (MSP ID and PEM certificate): the `creator` of
    /// proposals and transactions.
    pub fn serialized(&self) -> Vec<u8> {
        SerializedIdentity { mspid: self.msp_id.clone(), id_bytes: self.cert_pem.clone().into() }.encode_to_vec()
    }

    /// Whether the key is Ed25519 (else ECDSA P-256).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.key, PrivateKey::Ed25519(_))
    }

    /// Signs `message` as Fabric's MSP does. ECDSA P-256: over SHA-256, S normalised to the lower
    /// half of the order (Fabric rejects high-S signatures), DER-encoded, deterministic (RFC
    /// 6979). Ed25519: over the message itself (no separate hash), 64 bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            PrivateKey::P256(key) => {
                let signature: Signature = key.sign(message);
                let signature = signature.normalize_s().unwrap_or(signature);
                signature.to_der().as_bytes().to_vec()
            }
            PrivateKey::Ed25519(key) => key.sign(message).as_ref().to_vec(),
        }
    }
}

/// Checks a signature by the key of a PEM certificate over `message`, as a peer would: a DER
/// ECDSA signature with the low-S rule, or an Ed25519 one. Returns a description of what is
/// wrong, if anything.
pub fn verify(cert_pem: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let bad = || "the signature does not verify with the certificate's key".to_string();
    match certificate_public_key(cert_pem)? {
        PublicKey::P256(key) => {
            let signature = Signature::from_der(signature).map_err(|e| format!("not a DER ECDSA signature: {e}"))?;
            if signature.normalize_s().is_some() {
                return Err("Invalid S. Must be smaller than half the order".into());
            }
            key.verify(message, &signature).map_err(|_| bad())
        }
        PublicKey::Ed25519(key) => UnparsedPublicKey::new(&ED25519, key).verify(message, signature).map_err(|_| bad()),
    }
}

fn certificate_public_key(cert_pem: &[u8]) -> Result<PublicKey, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem).map_err(|e| format!("not a PEM certificate: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm == x509_parser::oid_registry::OID_SIG_ED25519 {
        return Ok(PublicKey::Ed25519(spki.subject_public_key.data.to_vec()));
    }
    VerifyingKey::from_sec1_bytes(&spki.subject_public_key.data).map(PublicKey::P256).map_err(|_| {
        format!(
            "the certificate's key is neither ECDSA P-256 nor Ed25519 (algorithm {}); Fabric identities use one of these",
            spki.algorithm.algorithm
        )
    })
}

fn parse_private_key(pem: &[u8]) -> Result<PrivateKey, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "the private key is not PEM text".to_string())?;
    if let Ok(key) = SigningKey::from_pkcs8_pem(text) {
        return Ok(PrivateKey::P256(key));
    }
    if let Ok(key) = p256::SecretKey::from_sec1_pem(text) {
        return Ok(PrivateKey::P256(key.into()));
    }
    // Ed25519 in PKCS#8: v1 (the seed alone, as Go's x509.MarshalPKCS8PrivateKey and so
    // cryptogen and fabric-ca write it) or v2 (with the public key).
    let ed25519 = x509_parser::pem::parse_x509_pem(pem)
        .ok()
        .filter(|(_, block)| block.label == "PRIVATE KEY")
        .and_then(|(_, block)| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&block.contents).ok());
    ed25519.map(|k| PrivateKey::Ed25519(Arc::new(k))).ok_or_else(|| {
        "the private key is not a PEM ECDSA P-256 key (PKCS#8 or SEC1) nor a PEM Ed25519 key (PKCS#8)".into()
    })
}

fn sorted_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    Ok(files)
}
