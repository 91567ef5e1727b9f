//! Reading an existing package back, with every rule the peer and the builders apply.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use crate::archive::{self, Budget, LayerError, TYPE_DIR, TYPE_REG};
use crate::connection::{validate_connection, ConnectionJson};
use crate::error::{Error, Result};
use crate::gojson::{self, GoKind};
use crate::k8s::ImageJson;
use crate::label::validate_k8s_label;
use crate::meta_inf::{check_index_json, check_index_path, MetaInfFile};
use crate::package_id::{format_package_id, parse_outer, sha256_hex, PackageMetadata};

/// Which builder a package is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// Chaincode as a service (the ccaas builder bundled with the peer).
    Ccaas,
    /// fabric-builder-k8s.
    K8s,
}

/// An entry of `code.tar.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeEntry {
    /// Entry name as stored.
    pub name: String,
    /// `"file"` or `"dir"`.
    pub kind: &'static str,
    /// Size in bytes (0 for directories).
    pub size: usize,
}

/// What [`inspect`] found in a valid package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectReport {
    /// `<label>:<sha256>`.
    pub package_id: String,
    /// SHA-256 of the whole file.
    pub sha256: String,
    /// `metadata.json`.
    pub metadata: PackageMetadata,
    /// ccaas or k8s.
    pub kind: PackageKind,
    /// `connection.json` of a ccaas package.
    pub connection: Option<ConnectionJson>,
    /// `image.json` of a k8s package.
    pub image: Option<ImageJson>,
    /// Files under `META-INF/`, sorted by path.
    pub meta_inf: Vec<MetaInfFile>,
    /// Every entry of `code.tar.gz`, in archive order.
    pub code_entries: Vec<CodeEntry>,
    /// Legal but noteworthy findings (the peer's "Encountered unexpected file", fields the
    /// builder drops, and so on).
    pub warnings: Vec<String>,
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The external builder's `ValidPath`: not absolute, not escaping.
fn valid_path(name: &str) -> bool {
    let clean = go_clean(name);
    !(clean.starts_with('/') || clean == ".." || clean.starts_with("../"))
}

struct Inner {
    /// Regular files by cleaned path: the data of `connection.json`, `image.json` and
    /// `META-INF/...` (the others are only named, so their data is skipped, not kept).
    files: BTreeMap<String, Vec<u8>>,
    entries: Vec<CodeEntry>,
    warnings: Vec<String>,
}

/// `code.tar.gz` as the peer (install) and the external builder (untar) read it, streamed
/// from the outer archive.
fn read_inner(code: &mut dyn Read, budget: &Budget) -> Result<Inner> {
    let bad = |m: String| Error::InvalidPackage(format!("error retrieving DB artifacts from code package: {m}"));
    let mut inner = Inner { files: BTreeMap::new(), entries: Vec::new(), warnings: Vec::new() };
    let read = archive::read_layer(code, budget, |mut e| {
        if !valid_path(&e.name) {
            return Err(
                Error::InvalidPackage(format!("tar contains the absolute or escaping path '{}'", e.name)).into()
            );
        }
        let kind = match e.typeflag {
            TYPE_REG => "file",
            TYPE_DIR => "dir",
            other => {
                return Err(Error::InvalidPackage(format!(
                    "invalid file type '{other}' contained in archive for file '{}'",
                    e.name
                ))
                .into())
            }
        };
        let size = usize::try_from(e.size).unwrap_or(usize::MAX);
        inner.entries.push(CodeEntry { name: e.name.clone(), kind, size: if kind == "dir" { 0 } else { size } });
        if kind == "dir" {
            return Ok(());
        }
        let clean = go_clean(&e.name);
        if clean.starts_with("META-INF/statedb/") && !e.name.starts_with("META-INF/statedb/") {
            inner.warnings.push(format!(
                "code.tar.gz entry '{}' is not seen by the peer's CouchDB index extraction, \
                 which matches the raw name prefix META-INF/statedb/",
                e.name
            ));
        }
        let keep = clean.starts_with("META-INF/") || clean == "connection.json" || clean == "image.json";
        let data = if keep { e.read_all(budget)? } else { Vec::new() };
        if inner.files.insert(clean, data).is_some() {
            inner
                .warnings
                .push(format!("code.tar.gz contains '{}' more than once; the builder keeps the last copy", e.name));
        }
        Ok(())
    });
    match read {
        Ok(()) => Ok(inner),
        Err(LayerError::Package(e)) => Err(e),
        Err(LayerError::Gzip(m) | LayerError::Tar(m)) => Err(bad(m)),
    }
}

const CONNECTION_FIELDS: &[(&str, GoKind)] = &[
    ("address", GoKind::String),
    ("dial_timeout", GoKind::String),
    ("tls_required", GoKind::Bool),
    ("client_auth_required", GoKind::Bool),
    ("root_cert", GoKind::String),
    ("client_key", GoKind::String),
    ("client_cert", GoKind::String),
];

/// `connection.json` as the ccaas builder decodes it (typed: `dial_timeout` must be a
/// string, `tls_required` a bool), then the builder's and the peer's checks.
fn read_connection(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ConnectionJson> {
    let decoded = gojson::unmarshal(bytes, "main.connection", CONNECTION_FIELDS)
        .map_err(|e| Error::InvalidPackage(format!("connection.json: {e}")))?;
    let raw: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let mut domain = None;
    for key in &decoded.unknown {
        if key == "domain" {
            match raw.get("domain") {
                Some(serde_json::Value::String(d)) => domain = Some(d.clone()),
                Some(serde_json::Value::Null) => {}
                Some(_) => warnings.push("connection.json: domain is not a string; the peer would reject it".into()),
                None => {}
            }
        } else {
            warnings
                .push(format!("connection.json: unknown field '{key}' is ignored and dropped by the ccaas builder"));
        }
    }
    let conn = ConnectionJson {
        address: decoded.string("address"),
        dial_timeout: decoded.string("dial_timeout"),
        tls_required: decoded.bool("tls_required"),
        client_auth_required: decoded.bool("client_auth_required"),
        root_cert: decoded.string("root_cert"),
        client_key: decoded.string("client_key"),
        client_cert: decoded.string("client_cert"),
        domain,
    };
    warnings.extend(validate_connection(&conn, None)?);
    Ok(conn)
}

fn read_image(bytes: &[u8]) -> Result<ImageJson> {
    let decoded = gojson::unmarshal(bytes, "util.ImageJson", &[("name", GoKind::String), ("digest", GoKind::String)])
        .map_err(|e| Error::InvalidPackage(format!("image.json: {e}")))?;
    let image = ImageJson { name: decoded.string("name"), digest: decoded.string("digest") };
    if image.name.is_empty() || image.digest.is_empty() {
        return Err(Error::InvalidPackage(
            "image.json: both name and digest are required by fabric-builder-k8s".into(),
        ));
    }
    image.validate()?;
    Ok(image)
}

/// Parses a package and checks it against the rules of the peer (outer archive, label,
/// code package), of the external-builder untar (entry types and paths) and of the ccaas
/// builder or fabric-builder-k8s (typed `connection.json` / `image.json`, templates, TLS
/// fields). Errors carry the peer's or builder's own wording.
///
/// ```
/// use ccaas_package::{build_package, inspect, ConnectionSpec, PackageSpec};
/// let built = build_package(&PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("cc:7052"))).unwrap();
/// let report = inspect(&built.bytes).unwrap();
/// assert_eq!(report.package_id, built.package_id);
/// assert_eq!(report.connection.unwrap().address, "cc:7052");
/// ```
pub fn inspect(bytes: &[u8]) -> Result<InspectReport> {
    let budget = Budget::new();
    // The peer uses the last code.tar.gz; its errors come after those of the outer archive.
    let mut code = None;
    let outer = parse_outer(bytes, &budget, |entry| {
        match read_inner(entry.data, &budget) {
            Err(e @ Error::TooLarge { .. }) => return Err(e.into()),
            read => code = Some(read),
        }
        Ok(())
    })?;
    let mut warnings = outer.warnings;
    let kind = match outer.metadata.package_type.to_ascii_lowercase().as_str() {
        "ccaas" => PackageKind::Ccaas,
        "k8s" => PackageKind::K8s,
        other => {
            return Err(Error::InvalidPackage(format!(
                "chaincode type should be ccaas, it is {other} (ccaas-package handles ccaas \
                 packages and fabric-builder-k8s k8s packages)"
            )))
        }
    };
    let inner = code.expect("parse_outer fails without a code.tar.gz")?;
    warnings.extend(inner.warnings);
    let mut files = inner.files;
    let (mut connection, mut image) = (None, None);
    let code_file = match kind {
        PackageKind::Ccaas => "connection.json",
        PackageKind::K8s => {
            validate_k8s_label(&outer.metadata.label)?;
            "image.json"
        }
    };
    let Some(code_bytes) = files.remove(code_file) else {
        return Err(Error::InvalidPackage(format!(
            "{code_file} not found in code.tar.gz (the builder reads \
             <CHAINCODE_SOURCE_DIR>/{code_file})"
        )));
    };
    match kind {
        PackageKind::Ccaas => connection = Some(read_connection(&code_bytes, &mut warnings)?),
        PackageKind::K8s => image = Some(read_image(&code_bytes)?),
    }
    let mut meta_inf = Vec::new();
    for (path, data) in files {
        let Some(rel) = path.strip_prefix("META-INF/") else {
            warnings.push(format!("code.tar.gz: unexpected file '{path}' is ignored by the builder"));
            continue;
        };
        if let Err(why) = check_index_path(rel).and_then(|()| check_index_json(&data)) {
            warnings.push(format!("META-INF/{rel}: {why}"));
        }
        meta_inf.push(MetaInfFile::new(rel, data));
    }
    Ok(InspectReport {
        package_id: format_package_id(&outer.metadata.label, bytes),
        sha256: sha256_hex(bytes),
        metadata: outer.metadata,
        kind,
        connection,
        image,
        meta_inf,
        code_entries: inner.entries,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_and_valid_path() {
        assert_eq!(go_clean("./a//b/../c"), "a/c");
        assert_eq!(go_clean("./"), ".");
        assert_eq!(go_clean("/../a"), "/a");
        assert!(valid_path("./"));
        assert!(valid_path("a/../b"));
        assert!(valid_path("..foo"));
        assert!(!valid_path("../x"));
        assert!(!valid_path("a/../../x"));
        assert!(!valid_path("/etc/passwd"));
        assert!(!valid_path(".."));
    }
}
