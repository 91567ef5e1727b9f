//! Golden package bytes and IDs.
//!
//! These constants pin the packager's exact output. They fail when anything that affects
//! the bytes changes: archive layout, a header field, JSON formatting, or the pinned
//! compressor (`miniz_oxide` version in Cargo.toml, deflate level in src/archive.rs).
//! Such a change also changes every package ID users have installed and approved, so
//! only update these for an intended format change: run
//! `cargo test -p ccaas-package --test integration golden`, copy the actual values printed by the
//! failing assertions here, and announce that package IDs changed. (Regenerating the TLS
//! fixtures with tests/fixtures/generate.sh also changes the first one.)

use crate::common;

use std::io::Read;
use std::process::Command;

use ccaas_package::{build_package, package_id, ConnectionSpec, ImageJson, PackageSpec};
use common::*;

// GOLDEN_MTLS_ID (the golden_spec() package, also produced by the CLI in
// tests/determinism.rs) lives in tests/common/mod.rs.
const GOLDEN_PLAIN_ID: &str = "basic_1.0:51ff96b55f70fc50100eab5eb69d0ca4a37f21c52831b52824f37ced7b019373";
const GOLDEN_K8S_ID: &str = "go-contract:c2e8cf6937b00a128c9d5ff10133a57a40511831b556a7dd6d9ffc7c0619e489";

#[test]
fn golden_mtls_package() {
    let built = build_package(&golden_spec()).unwrap();
    assert_eq!(built.package_id, GOLDEN_MTLS_ID, "golden ID changed (see module docs)");
    assert_eq!(package_id(&built.bytes).unwrap(), GOLDEN_MTLS_ID);
    assert!(built.warnings.is_empty(), "{:?}", built.warnings);
}

#[test]
fn golden_plain_package() {
    let spec = PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("basic-ccaas:7052"));
    let built = build_package(&spec).unwrap();
    assert_eq!(built.package_id, GOLDEN_PLAIN_ID, "golden ID changed (see module docs)");
}

#[test]
fn golden_k8s_package() {
    let image = ImageJson::parse_reference(&format!(
        "ghcr.io/hyperledger-labs/go-contract@sha256:{}",
        "802c336235cc1e7347e2da36c73fa2e4b6437cfc6f52872674d1e23f23bba63b"
    ))
    .unwrap();
    let built = build_package(&PackageSpec::k8s("go-contract", image)).unwrap();
    assert_eq!(built.package_id, GOLDEN_K8S_ID, "golden ID changed (see module docs)");
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn padded(n: usize) -> usize {
    n.div_ceil(512) * 512
}

/// Checks one USTAR header block: name, size and every fixed field.
fn check_header(block: &[u8], name: &str, size: usize) {
    let field = |r: std::ops::Range<usize>| &block[r];
    assert_eq!(&field(0..name.len()), &name.as_bytes(), "name");
    assert!(field(name.len()..100).iter().all(|b| *b == 0), "name padding");
    assert_eq!(field(100..108), b"0000644\0", "mode");
    assert_eq!(field(108..116), b"0000000\0", "uid");
    assert_eq!(field(116..124), b"0000000\0", "gid");
    assert_eq!(field(124..136), format!("{size:011o}\0").as_bytes(), "size");
    assert_eq!(field(136..148), b"00000000000\0", "mtime");
    assert_eq!(block[156], b'0', "typeflag regular");
    assert_eq!(field(257..265), b"ustar\x0000", "magic");
    assert!(field(265..329).iter().all(|b| *b == 0), "uname/gname empty");
}

/// Walks a tar stream that must be exactly `names` (regular files) then two zero blocks.
fn check_tar(tar: &[u8], names: &[&str]) -> Vec<Vec<u8>> {
    let mut pos = 0;
    let mut bodies = Vec::new();
    for name in names {
        let block = &tar[pos..pos + 512];
        let size =
            usize::from_str_radix(std::str::from_utf8(&block[124..135]).unwrap().trim_start_matches('0').trim(), 8)
                .unwrap_or(0);
        check_header(block, name, size);
        bodies.push(tar[pos + 512..pos + 512 + size].to_vec());
        pos += 512 + padded(size);
    }
    assert_eq!(tar.len(), pos + 1024, "two end blocks, no record padding");
    assert!(tar[pos..].iter().all(|b| *b == 0));
    bodies
}

#[test]
fn layout_is_canonical() {
    let built = build_package(&golden_spec()).unwrap();
    let gz = &built.bytes;
    assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff], "gzip header");
    let outer = check_tar(&gunzip(gz), &["metadata.json", "code.tar.gz"]);
    assert_eq!(outer[0], br#"{"type":"ccaas","label":"basic_1.0"}"#);
    let inner = check_tar(
        &gunzip(&outer[1]),
        &[
            "META-INF/statedb/couchdb/collections/assetCollection/indexes/indexColor.json",
            "META-INF/statedb/couchdb/indexes/indexOwner.json",
            "connection.json",
        ],
    );
    assert_eq!(inner[0], INDEX_COLOR.as_bytes());
    assert_eq!(inner[1], INDEX_OWNER.as_bytes());
    let conn: serde_json::Value = serde_json::from_slice(&inner[2]).unwrap();
    let keys: Vec<&str> = conn.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "address",
        "client_auth_required",
        "client_cert",
        "client_key",
        "dial_timeout",
        "root_cert",
        "tls_required",
    ];
    expected.sort();
    assert_eq!(keys, expected, "no domain unless given");
    let text = String::from_utf8(inner[2].clone()).unwrap();
    let order: Vec<usize> = [
        "\"address\"",
        "\"dial_timeout\"",
        "\"tls_required\"",
        "\"client_auth_required\"",
        "\"root_cert\"",
        "\"client_key\"",
        "\"client_cert\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "stable field order");
    assert_eq!(conn["dial_timeout"], "10s");
    assert_eq!(conn["root_cert"], fixture("ca.pem"));
    assert_eq!(conn["client_key"], fixture("client-ec.key"));
}

#[test]
fn system_tar_and_gzip_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let built = build_package(&golden_spec()).unwrap();
    let pkg = dir.path().join("pkg.tar.gz");
    std::fs::write(&pkg, &built.bytes).unwrap();
    let ok = |cmd: &mut Command| assert!(cmd.status().unwrap().success(), "{cmd:?}");
    ok(Command::new("gzip").arg("-t").arg(&pkg));
    ok(Command::new("tar").arg("-xzf").arg(&pkg).arg("-C").arg(dir.path()));
    let listing = Command::new("tar").arg("-tzf").arg(&pkg).output().unwrap();
    assert_eq!(String::from_utf8(listing.stdout).unwrap(), "metadata.json\ncode.tar.gz\n");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    ok(Command::new("tar").arg("-xzf").arg(dir.path().join("code.tar.gz")).arg("-C").arg(&src));
    assert_eq!(
        std::fs::read_to_string(src.join("META-INF/statedb/couchdb/indexes/indexOwner.json")).unwrap(),
        INDEX_OWNER
    );
    let conn: ccaas_package::ConnectionJson =
        serde_json::from_slice(&std::fs::read(src.join("connection.json")).unwrap()).unwrap();
    assert_eq!(conn.address, "{{.peername}}_basic_ccaas:9999");
    assert_eq!(conn.client_cert, fixture("client-ec.pem"));
}
