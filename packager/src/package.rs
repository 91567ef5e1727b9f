//! Building packages: [`PackageSpec`] in, deterministic bytes and ID out.

use serde::Serialize;

use crate::archive;
use crate::connection::{validate_connection, ConnectionSpec};
use crate::error::{Error, Result};
use crate::k8s::ImageJson;
use crate::label::{validate_k8s_label, validate_label};
use crate::meta_inf::{self, MetaInfFile};
use crate::package_id::{format_package_id, sha256_hex};
use crate::write::{write_file_atomically, MODE_PRIVATE, MODE_PUBLIC};

/// What the code package contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSpec {
    /// A chaincode-as-a-service package (`type: "ccaas"`, `connection.json`).
    Ccaas(ConnectionSpec),
    /// A fabric-builder-k8s package (`type: "k8s"`, `image.json`).
    K8s(ImageJson),
}

/// Everything that determines a package's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSpec {
    /// Package label (first half of the package ID).
    pub label: String,
    /// `connection.json` or `image.json`.
    pub code: CodeSpec,
    /// Optional CouchDB index files (any order; they are packaged sorted by path).
    pub meta_inf: Vec<MetaInfFile>,
}

impl PackageSpec {
    /// A ccaas package.
    pub fn ccaas(label: impl Into<String>, connection: ConnectionSpec) -> Self {
        PackageSpec { label: label.into(), code: CodeSpec::Ccaas(connection), meta_inf: Vec::new() }
    }

    /// A fabric-builder-k8s package.
    pub fn k8s(label: impl Into<String>, image: ImageJson) -> Self {
        PackageSpec { label: label.into(), code: CodeSpec::K8s(image), meta_inf: Vec::new() }
    }

    /// Adds `META-INF` files.
    pub fn with_meta_inf(mut self, files: Vec<MetaInfFile>) -> Self {
        self.meta_inf = files;
        self
    }

    /// The `type` written to `metadata.json`.
    pub fn package_type(&self) -> &'static str {
        match self.code {
            CodeSpec::Ccaas(_) => "ccaas",
            CodeSpec::K8s(_) => "k8s",
        }
    }
}

/// A built package: its exact bytes and identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    /// The `.tar.gz` file contents.
    pub bytes: Vec<u8>,
    /// `<label>:<sha256>`, as the peer will report it.
    pub package_id: String,
    /// The label.
    pub label: String,
    /// Lower-case hex SHA-256 of `bytes`.
    pub sha256: String,
    /// Legal but noteworthy things about the input (e.g. `domain` being dropped).
    pub warnings: Vec<String>,
    /// The package carries a private key (`client_key` of `connection.json`, for mutual TLS):
    /// [`write_package_atomically`] then writes it readable by its owner only.
    pub holds_private_key: bool,
}

#[derive(Serialize)]
struct MetadataOut<'a> {
    #[serde(rename = "type")]
    package_type: &'a str,
    label: &'a str,
}

fn json_file<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).expect("plain structs serialise");
    out.push(b'\n');
    out
}

/// Validates `spec` completely and builds the package in memory. Pure: no I/O, and the
/// same spec gives the same bytes on every machine.
///
/// Layout: an outer USTAR tar (gzip) with exactly `metadata.json`
/// (`{"type":"ccaas","label":"..."}`) then `code.tar.gz`; the inner tar (gzip) holds
/// `connection.json` (or `image.json`) and the `META-INF` files, sorted by name. Every
/// header has mode 0644, uid/gid 0, empty owner names and mtime 0; gzip headers have
/// mtime 0, no file name and OS 255; the compressor is a pinned `miniz_oxide` at level 9.
///
/// ```
/// use ccaas_package::{build_package, ConnectionSpec, PackageSpec};
/// let spec = PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("{{.peername}}_basic:9999"));
/// let a = build_package(&spec).unwrap();
/// let b = build_package(&spec).unwrap();
/// assert_eq!(a.bytes, b.bytes);
/// assert!(a.package_id.starts_with("basic_1.0:"));
///
/// let bad = PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("{{.peername}_basic:9999"));
/// assert!(build_package(&bad).is_err());
/// ```
pub fn build_package(spec: &PackageSpec) -> Result<BuiltPackage> {
    let mut warnings = Vec::new();
    let mut holds_private_key = false;
    let (code_name, code_file) = match &spec.code {
        CodeSpec::Ccaas(conn) => {
            validate_label(&spec.label)?;
            let json = conn.to_connection_json()?;
            warnings.extend(validate_connection(&json, conn.server_cert.as_deref())?);
            holds_private_key = !json.client_key.is_empty();
            ("connection.json", json_file(&json))
        }
        CodeSpec::K8s(image) => {
            validate_k8s_label(&spec.label)?;
            image.validate()?;
            ("image.json", json_file(image))
        }
    };
    meta_inf::validate(&spec.meta_inf)?;
    let mut inner: Vec<(String, &[u8])> =
        spec.meta_inf.iter().map(|f| (f.archive_path(), f.contents.as_slice())).collect();
    inner.push((code_name.to_string(), &code_file));
    inner.sort_by(|a, b| a.0.cmp(&b.0));
    let inner_refs: Vec<(&str, &[u8])> = inner.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let code = archive::tar_gz(&inner_refs)?;

    let metadata = serde_json::to_vec(&MetadataOut { package_type: spec.package_type(), label: &spec.label })
        .map_err(|e| Error::Spec(e.to_string()))?;
    let bytes = archive::tar_gz(&[("metadata.json", &metadata), ("code.tar.gz", &code)])?;
    Ok(BuiltPackage {
        package_id: format_package_id(&spec.label, &bytes),
        sha256: sha256_hex(&bytes),
        label: spec.label.clone(),
        bytes,
        warnings,
        holds_private_key,
    })
}

/// Writes a built package to `path` atomically: mode 0644 before umask, or 0600 when the
/// package holds the peer's TLS client key ([`BuiltPackage::holds_private_key`]); the mode is
/// the new file's from its creation, never widened then narrowed. On failure no file, and no
/// temporary file, is left behind.
pub fn write_package_atomically(path: &std::path::Path, package: &BuiltPackage) -> Result<()> {
    let mode = if package.holds_private_key { MODE_PRIVATE } else { MODE_PUBLIC };
    write_file_atomically(path, &package.bytes, mode)
}
