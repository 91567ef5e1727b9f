//! `META-INF/statedb` CouchDB index files carried in the code package.
//!
//! The peer extracts every `code.tar.gz` entry whose name starts with
//! `META-INF/statedb/` at install time, and the ccaas builder copies `META-INF` into its
//! build output. The index locations Fabric uses are
//! `META-INF/statedb/couchdb/indexes/*.json` (channel state) and
//! `META-INF/statedb/couchdb/collections/<collection>/indexes/*.json` (private data).

use std::path::Path;

use serde::ser::SerializeStruct;
use serde::Serialize;

use crate::error::{Error, Result};

/// Largest index file [`read_meta_inf_dir`] reads: 1 MiB (a CouchDB index definition is a few
/// hundred bytes).
pub const MAX_INDEX_SIZE: u64 = 1024 * 1024;

/// A file under `META-INF/`, with its path relative to `META-INF`
/// (e.g. `statedb/couchdb/indexes/indexOwner.json`) and its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetaInfFile {
    /// Path relative to `META-INF/`, `/`-separated.
    pub path: String,
    /// File contents, packaged byte for byte.
    pub contents: Vec<u8>,
}

impl MetaInfFile {
    /// A file at `path` (relative to `META-INF/`).
    pub fn new(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        MetaInfFile { path: path.into(), contents: contents.into() }
    }

    /// The entry name inside `code.tar.gz`.
    pub fn archive_path(&self) -> String {
        format!("META-INF/{}", self.path)
    }
}

impl Serialize for MetaInfFile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("MetaInfFile", 3)?;
        st.serialize_field("path", &self.archive_path())?;
        st.serialize_field("size", &self.contents.len())?;
        st.serialize_field("contents", &String::from_utf8_lossy(&self.contents))?;
        st.end()
    }
}

/// Checks that `path` (relative to `META-INF/`) is a CouchDB index location.
pub(crate) fn check_index_path(path: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('/').collect();
    let file = match parts.as_slice() {
        ["statedb", "couchdb", "indexes", file] => file,
        ["statedb", "couchdb", "collections", coll, "indexes", file]
            if !coll.is_empty() && *coll != "." && *coll != ".." =>
        {
            file
        }
        _ => {
            return Err("only statedb/couchdb/indexes/*.json and \
                 statedb/couchdb/collections/<collection>/indexes/*.json are CouchDB index \
                 locations"
                .into())
        }
    };
    match file.strip_suffix(".json") {
        Some(stem) if !stem.is_empty() => Ok(()),
        _ => Err("index files must be named *.json".into()),
    }
}

/// Checks that `contents` is a JSON object with an `index` object, as CouchDB expects of
/// an index definition.
pub(crate) fn check_index_json(contents: &[u8]) -> std::result::Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(contents).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value.as_object().ok_or("invalid index definition: not a JSON object")?;
    match obj.get("index") {
        Some(serde_json::Value::Object(_)) => Ok(()),
        _ => Err("invalid index definition: it has no \"index\" object (CouchDB expects \
                  {\"index\":{\"fields\":[...]},...})"
            .into()),
    }
}

/// Validates files before packaging: index locations, JSON, no duplicates.
pub(crate) fn validate(files: &[MetaInfFile]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        let fail = |reason: String| Error::MetaInf { path: f.archive_path(), reason };
        check_index_path(&f.path).map_err(fail)?;
        check_index_json(&f.contents).map_err(fail)?;
        if !seen.insert(f.path.as_str()) {
            return Err(fail("given more than once".into()));
        }
    }
    Ok(())
}

/// Reads the index files of a `META-INF` directory. `dir` may be the `META-INF`
/// directory itself (containing `statedb/`) or a directory containing `META-INF/`.
/// Every file found must be a valid index at a valid location, so nothing is silently
/// left out. The result is sorted by path.
pub fn read_meta_inf_dir(dir: &Path) -> Result<Vec<MetaInfFile>> {
    let root = if dir.join("statedb").is_dir() {
        dir.to_path_buf()
    } else if dir.join("META-INF").join("statedb").is_dir() {
        dir.join("META-INF")
    } else {
        return Err(Error::MetaInf {
            path: dir.display().to_string(),
            reason: "no statedb directory found (expected DIR/statedb/couchdb/indexes/*.json \
                     or DIR/META-INF/statedb/couchdb/indexes/*.json)"
                .into(),
        });
    };
    let mut files = Vec::new();
    walk(&root, "", 0, &mut files)?;
    files.sort();
    validate(&files)?;
    Ok(files)
}

fn walk(dir: &Path, rel: &str, depth: usize, out: &mut Vec<MetaInfFile>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().into_string().map_err(|n| Error::MetaInf {
            path: path.display().to_string(),
            reason: format!("file name {n:?} is not UTF-8"),
        })?;
        let rel_path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            // The deepest valid location is statedb/couchdb/collections/<c>/indexes.
            if depth >= 5 {
                return Err(Error::MetaInf {
                    path: format!("META-INF/{rel_path}"),
                    reason: "directory is nested too deeply to be an index location".into(),
                });
            }
            walk(&path, &rel_path, depth + 1, out)?;
        } else {
            check_index_path(&rel_path)
                .map_err(|reason| Error::MetaInf { path: format!("META-INF/{rel_path}"), reason })?;
            if meta.len() > MAX_INDEX_SIZE {
                return Err(Error::MetaInf {
                    path: format!("META-INF/{rel_path}"),
                    reason: format!(
                        "{} bytes, over the {} MiB limit for an index definition (they are a few hundred bytes)",
                        meta.len(),
                        MAX_INDEX_SIZE >> 20
                    ),
                });
            }
            let contents = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            out.push(MetaInfFile::new(rel_path, contents));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        assert!(check_index_path("statedb/couchdb/indexes/a.json").is_ok());
        assert!(check_index_path("statedb/couchdb/collections/c1/indexes/a.json").is_ok());
        for bad in [
            "statedb/couchdb/indexes/a.txt",
            "statedb/couchdb/indexes/.json",
            "statedb/couchdb/a.json",
            "statedb/couchdb/indexes/x/a.json",
            "statedb/couchdb/collections//indexes/a.json",
            "other.json",
        ] {
            assert!(check_index_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oversized_index_files_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join("statedb/couchdb/indexes");
        std::fs::create_dir_all(&idx).unwrap();
        let file = std::fs::File::create(idx.join("big.json")).unwrap();
        file.set_len(MAX_INDEX_SIZE + 1).unwrap();
        let e = read_meta_inf_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("META-INF/statedb/couchdb/indexes/big.json"), "{e}");
        assert!(e.contains("1048577 bytes, over the 1 MiB limit"), "{e}");
    }

    #[test]
    fn index_json() {
        assert!(check_index_json(br#"{"index":{"fields":["owner"]},"name":"i"}"#).is_ok());
        assert!(check_index_json(b"{").unwrap_err().contains("invalid JSON"));
        assert!(check_index_json(b"[]").is_err());
        assert!(check_index_json(br#"{"fields":[]}"#).is_err());
    }
}
