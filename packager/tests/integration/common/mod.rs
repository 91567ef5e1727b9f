//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use ccaas_package::{ConnectionSpec, MetaInfFile, PackageSpec};

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).expect("fixture exists")
}

pub const BIN: &str = env!("CARGO_BIN_EXE_ccaas-package");

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(BIN).args(args).current_dir(dir).output().expect("binary runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Names in `dir`, sorted (to prove nothing was left behind).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

pub const INDEX_OWNER: &str =
    "{\"index\":{\"fields\":[\"docType\",\"owner\"]},\"ddoc\":\"indexOwnerDoc\",\"name\":\"indexOwner\",\"type\":\"json\"}\n";
pub const INDEX_COLOR: &str = "{\"index\":{\"fields\":[\"color\"]},\"name\":\"indexColor\"}\n";

/// ID of the package built from [`golden_spec`]. See tests/golden.rs for when and how
/// to update it.
pub const GOLDEN_MTLS_ID: &str = "basic_1.0:9529d0d4262703b795fda789508243ca2bf46ebe731a556f1bdd76767ef29425";

/// The golden input: templated address, TLS with client auth (SEC1 client key) and two
/// CouchDB indexes. `golden_cli_args` produces the same package through the CLI.
pub fn golden_spec() -> PackageSpec {
    let conn = ConnectionSpec::new("{{.peername}}_basic_ccaas:9999")
        .dial_timeout("10s")
        .tls(fixture("ca.pem"))
        .client_auth(fixture("client-ec.pem"), fixture("client-ec.key"));
    PackageSpec::ccaas("basic_1.0", conn).with_meta_inf(vec![
        MetaInfFile::new("statedb/couchdb/indexes/indexOwner.json", INDEX_OWNER),
        MetaInfFile::new("statedb/couchdb/collections/assetCollection/indexes/indexColor.json", INDEX_COLOR),
    ])
}

/// Writes the golden inputs under `dir` (TLS files and a META-INF tree).
pub fn write_golden_inputs(dir: &Path) {
    for f in ["ca.pem", "client-ec.pem", "client-ec.key"] {
        std::fs::write(dir.join(f), fixture(f)).unwrap();
    }
    let idx = dir.join("META-INF/statedb/couchdb/indexes");
    let coll = dir.join("META-INF/statedb/couchdb/collections/assetCollection/indexes");
    std::fs::create_dir_all(&idx).unwrap();
    std::fs::create_dir_all(&coll).unwrap();
    std::fs::write(idx.join("indexOwner.json"), INDEX_OWNER).unwrap();
    std::fs::write(coll.join("indexColor.json"), INDEX_COLOR).unwrap();
}

pub fn golden_cli_args(inputs: &Path, out: &Path) -> Vec<String> {
    let p = |f: &str| inputs.join(f).display().to_string();
    vec![
        "build".into(),
        "--label".into(),
        "basic_1.0".into(),
        "--address".into(),
        "{{.peername}}_basic_ccaas:9999".into(),
        "--dial-timeout".into(),
        "10s".into(),
        "--tls-root-cert".into(),
        p("ca.pem"),
        "--client-auth".into(),
        "--client-cert".into(),
        p("client-ec.pem"),
        "--client-key".into(),
        p("client-ec.key"),
        "--meta-inf".into(),
        p("META-INF"),
        "-o".into(),
        out.display().to_string(),
    ]
}

/// A `.tar.gz` made with the `tar` crate, with arbitrary names and types, the way other
/// tools produce packages. Names are written raw (no normalisation, `..` allowed).
pub fn raw_targz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_entry_type(*kind);
        if kind.is_symlink() {
            h.set_link_name("target").unwrap();
        }
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

pub const CONNECTION: &str = r#"{"address":"basic:7052","dial_timeout":"10s","tls_required":false}"#;

/// A package from raw parts: metadata.json then code.tar.gz holding connection.json.
pub fn raw_package(metadata: &str, connection: &str) -> Vec<u8> {
    let code = raw_targz(&[("connection.json", tar::EntryType::Regular, connection.as_bytes())]);
    raw_targz(&[
        ("metadata.json", tar::EntryType::Regular, metadata.as_bytes()),
        ("code.tar.gz", tar::EntryType::Regular, &code),
    ])
}
