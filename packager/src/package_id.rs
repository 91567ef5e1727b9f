//! Package IDs and the peer's parsing of the outer package.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::{self, Budget, LayerError, TarEntry, TYPE_REG};
use crate::error::{Error, Result};
use crate::gojson::{self, GoKind};
use crate::label::validate_label;

/// The parsed `metadata.json` (the peer's `ChaincodePackageMetadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageMetadata {
    /// Builder type: `ccaas`, `k8s`, `golang`, ... (only the builders look at it).
    #[serde(rename = "type")]
    pub package_type: String,
    /// Package label; the first half of the package ID.
    pub label: String,
    /// Legacy source path (empty for ccaas packages).
    pub path: String,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `<label>:<sha256 hex of bytes>`, the peer's `persistence.PackageID`.
///
/// ```
/// let id = ccaas_package::format_package_id("basic_1.0", b"");
/// assert_eq!(id, "basic_1.0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// ```
pub fn format_package_id(label: &str, bytes: &[u8]) -> String {
    format!("{label}:{}", sha256_hex(bytes))
}

/// The outer package as the peer sees it.
#[derive(Debug, Clone)]
pub(crate) struct Outer {
    pub metadata: PackageMetadata,
    pub warnings: Vec<String>,
}

/// The peer's `ParseChaincodePackage`: gzip, tar entries that are all regular files,
/// exact names `metadata.json` and `code.tar.gz`, a valid label. Error texts are the
/// peer's. The archive is streamed, never held decompressed: `on_code` is handed each
/// `code.tar.gz` entry to read (the peer uses the last one) or to leave (it is then skipped),
/// and `budget` bounds what both layers decompress.
pub(crate) fn parse_outer(
    bytes: &[u8],
    budget: &Budget,
    mut on_code: impl FnMut(&mut TarEntry<'_>) -> Result<(), LayerError>,
) -> Result<Outer> {
    let bad = |m: String| Error::InvalidPackage(m);
    let mut metadata = None;
    let mut code_seen = false;
    let mut warnings = Vec::new();
    let read = archive::read_layer(bytes, budget, |mut entry| {
        if entry.typeflag != TYPE_REG {
            return Err(bad(format!("tar entry {} is not a regular file, type {}", entry.name, entry.typeflag)).into());
        }
        match entry.name.as_str() {
            "metadata.json" => {
                if metadata.is_some() {
                    warnings.push("metadata.json appears more than once; the last one is used".into());
                }
                let data = entry.read_all(budget)?;
                let md = gojson::unmarshal(
                    &data,
                    "persistence.ChaincodePackageMetadata",
                    &[("type", GoKind::String), ("path", GoKind::String), ("label", GoKind::String)],
                )
                .map_err(|e| bad(format!("could not unmarshal metadata.json as json: {e}")))?;
                metadata = Some(PackageMetadata {
                    package_type: md.string("type"),
                    label: md.string("label"),
                    path: md.string("path"),
                });
            }
            "code.tar.gz" => {
                if code_seen {
                    warnings.push("code.tar.gz appears more than once; the last one is used".into());
                }
                code_seen = true;
                on_code(&mut entry)?;
            }
            other => warnings.push(format!("Encountered unexpected file '{other}' in top level of chaincode package")),
        }
        Ok(())
    });
    match read {
        Ok(()) => {}
        Err(LayerError::Package(e)) => return Err(e),
        Err(LayerError::Gzip(m)) => return Err(bad(format!("error reading as gzip stream: {m}"))),
        Err(LayerError::Tar(m)) => return Err(bad(m)),
    }
    if !code_seen {
        return Err(bad("did not find a code package inside the package".into()));
    }
    let metadata = metadata.ok_or_else(|| bad("did not find any package metadata (missing metadata.json)".into()))?;
    validate_label(&metadata.label)?;
    Ok(Outer { metadata, warnings })
}

/// The package ID of an existing package file's bytes, like
/// `peer lifecycle chaincode calculatepackageid`: the package is parsed with the peer's
/// rules and the label is read from its `metadata.json`.
///
/// ```
/// use ccaas_package::{build_package, package_id, ConnectionSpec, PackageSpec};
/// let built = build_package(&PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("cc:7052"))).unwrap();
/// assert_eq!(package_id(&built.bytes).unwrap(), built.package_id);
/// assert!(package_id(b"not a package").is_err());
/// ```
pub fn package_id(bytes: &[u8]) -> Result<String> {
    let outer = parse_outer(bytes, &Budget::new(), |_| Ok(()))?;
    Ok(format_package_id(&outer.metadata.label, bytes))
}
