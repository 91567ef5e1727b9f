//! The Rust code in `src/generated/` is committed, so no build of a chaincode runs a protobuf
//! compiler. This test regenerates it from `proto/` with the pinned generator (`protox` to parse,
//! `tonic-prost-build` to emit prost messages and tonic services; both dev-dependencies at exact
//! versions) and fails on any difference, so the committed code cannot drift from the `.proto`
//! files or from the generator.
//!
//! After changing a `.proto` file or the generator's version, rewrite the committed code with:
//!
//! ```text
//! CCAAS_REGENERATE_PROTOS=1 cargo test -p ccaas-protos --test generated
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The command that rewrites `src/generated/`.
const REGENERATE: &str = "CCAAS_REGENERATE_PROTOS=1 cargo test -p ccaas-protos --test generated";

/// The compiled `.proto` files, in `proto/`. Each package becomes `src/generated/<package>.rs`.
const FILES: &[&str] = &[
    "common.proto",
    "msp.proto",
    "queryresult.proto",
    "orderer.proto",
    "peer.proto",
    "lifecycle.proto",
    "gateway.proto",
    "health.proto",
];

/// Compiles `proto/` into `out` and returns the generated files by name, each with a header that
/// says how it was made.
fn generate(out: &Path) -> BTreeMap<String, String> {
    let proto_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let descriptors = protox::compile(FILES, [&proto_dir]).expect("the .proto files compile");
    tonic_prost_build::configure()
        // Every `bytes` field is a `bytes::Bytes`, so payloads move without copies.
        .bytes(".")
        .build_client(true)
        .build_server(true)
        // `Chaincode.Connect` would clash with the generated `connect` constructor; clients use `new(channel)`.
        .build_transport(false)
        // tonic is optional: the clients behind the crate's `client` feature, the servers behind `server`.
        .client_mod_attribute(".", "#[cfg(feature = \"client\")]")
        .server_mod_attribute(".", "#[cfg(feature = \"server\")]")
        .emit_rerun_if_changed(false)
        .out_dir(out)
        .compile_fds(descriptors)
        .expect("tonic-prost-build generates the code");
    read_dir(out)
        .into_iter()
        .map(|(name, code)| {
            let header = format!("// Generated from protos/proto/ by protos/tests/generated.rs: do not edit. Regenerate with\n// {REGENERATE}\n");
            (name, header + &code)
        })
        .collect()
}

/// The `.rs` files of `dir`, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = fs::read_dir(dir) else { return BTreeMap::new() };
    entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let code = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, code)
        })
        .collect()
}

/// Replaces `dir`'s `.rs` files with `files`: each written to a temporary file and renamed into
/// place, so a failed write leaves no half-written file; files no longer generated are removed.
fn rewrite(dir: &Path, files: &BTreeMap<String, String>) {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    for name in read_dir(dir).keys().filter(|name| !files.contains_key(*name)) {
        let path = dir.join(name);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("cannot remove {}: {e}", path.display()));
    }
    for (name, code) in files {
        let (path, partial) = (dir.join(name), dir.join(format!(".{name}.partial")));
        fs::write(&partial, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", partial.display()));
        fs::rename(&partial, &path).unwrap_or_else(|e| panic!("cannot replace {}: {e}", path.display()));
    }
}

#[test]
fn committed_code_is_what_the_generator_makes() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ccaas-protos-generated");
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).expect("a scratch directory");
    let generated = generate(&scratch);
    let committed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/generated");

    if std::env::var_os("CCAAS_REGENERATE_PROTOS").is_some_and(|v| !v.is_empty()) {
        rewrite(&committed_dir, &generated);
        eprintln!("rewrote {}", committed_dir.display());
        return;
    }

    let committed = read_dir(&committed_dir);
    let mut stale: Vec<String> = generated
        .iter()
        .filter(|(name, code)| committed.get(*name) != Some(code))
        .map(|(name, _)| format!("src/generated/{name} differs from the generator's output"))
        .collect();
    stale.extend(
        committed
            .keys()
            .filter(|name| !generated.contains_key(*name))
            .map(|name| format!("src/generated/{name} is no longer generated")),
    );
    assert!(
        stale.is_empty(),
        "the committed protobuf code is out of date with protos/proto/ or the generator:\n  {}\nrewrite it with:\n  {REGENERATE}",
        stale.join("\n  ")
    );
}
