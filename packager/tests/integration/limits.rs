//! Hostile packages: gzip bombs are refused at the decompression limit, and reading one holds
//! nothing of it (the reader streams; what it keeps is bounded by `MAX_DECOMPRESSED`).

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use ccaas_package::{inspect, package_id, Error, MAX_DECOMPRESSED};
use common::*;
use flate2::{Compress, Compression, FlushCompress};

const METADATA: &str = r#"{"type":"ccaas","label":"bomb_1.0"}"#;

/// Raw deflate of `data`, ending on a byte boundary (a full flush), so that such pieces can be
/// concatenated into one stream.
fn deflate_piece(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Full).unwrap();
    assert_eq!(c.total_in() as usize, data.len());
    out
}

/// A gzip stream of `prefix` followed by `zeros_mib` MiB of zeros, made in milliseconds: one MiB
/// of zeros is deflated once and that piece repeated (about 1 KiB per MiB).
fn gzip_with_zeros(prefix: &[u8], zeros_mib: usize) -> Vec<u8> {
    const MIB: usize = 1 << 20;
    let zeros = vec![0u8; MIB];
    let piece = deflate_piece(&zeros);
    let mut crc = crc32fast::Hasher::new();
    crc.update(prefix);
    let mut zeros_crc = crc32fast::Hasher::new();
    zeros_crc.update(&zeros);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_piece(prefix));
    for _ in 0..zeros_mib {
        out.extend_from_slice(&piece);
        crc.combine(&zeros_crc);
    }
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]); // final empty stored block
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&((prefix.len() + zeros_mib * MIB) as u32).to_le_bytes());
    out
}

/// A tar header for a regular file `name` of `size` bytes.
fn header(name: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// A package whose outer tar holds metadata.json then a `code.tar.gz` of `mib` MiB of zeros.
fn outer_bomb(mib: usize) -> Vec<u8> {
    let mut prefix = header("metadata.json", METADATA.len() as u64);
    prefix.extend_from_slice(METADATA.as_bytes());
    prefix.resize(1024, 0);
    prefix.extend(header("code.tar.gz", (mib as u64) << 20));
    gzip_with_zeros(&prefix, mib)
}

/// A well-formed small package whose `code.tar.gz` holds connection.json and `mib` MiB of zeros.
fn inner_bomb(mib: usize) -> Vec<u8> {
    let mut prefix = header("connection.json", CONNECTION.len() as u64);
    prefix.extend_from_slice(CONNECTION.as_bytes());
    prefix.resize(1024, 0);
    prefix.extend(header("zeros", (mib as u64) << 20));
    let code = gzip_with_zeros(&prefix, mib);
    raw_targz(&[
        ("metadata.json", tar::EntryType::Regular, METADATA.as_bytes()),
        ("code.tar.gz", tar::EntryType::Regular, &code),
    ])
}

fn assert_too_large(r: Result<impl std::fmt::Debug, Error>) {
    match r {
        Err(e @ Error::TooLarge { limit }) => {
            assert_eq!(limit, MAX_DECOMPRESSED);
            assert!(e.to_string().contains("more than 100 MiB"), "{e}");
        }
        other => panic!("expected the decompression limit, got {other:?}"),
    }
}

#[test]
fn the_bomb_builder_makes_valid_gzip() {
    // What the bombs are made of decompresses to what it says (a small instance, fully read).
    let gz = gzip_with_zeros(b"abc", 3);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut out).unwrap();
    assert_eq!(out.len(), 3 + 3 * 1024 * 1024);
    assert!(out.starts_with(b"abc") && out[3..].iter().all(|b| *b == 0));
}

#[test]
fn gzip_bombs_are_refused_at_the_limit() {
    // 200 MiB of zeros behind a ~200 KiB outer archive: refused by inspect and by id.
    let outer = outer_bomb(200);
    assert!(outer.len() < 512 * 1024, "{}", outer.len());
    assert_too_large(inspect(&outer));
    assert_too_large(package_id(&outer));

    // The same behind a ~2 KiB package (a bomb in code.tar.gz): inspect reads it and refuses;
    // the package ID, like the peer's calculatepackageid, only reads the outer archive.
    let inner = inner_bomb(200);
    assert!(inner.len() < 4 * 1024, "{}", inner.len());
    assert_too_large(inspect(&inner));
    assert!(package_id(&inner).unwrap().starts_with("bomb_1.0:"));

    // Just under the limit is read (and is a package with an unexpected file).
    let big = inner_bomb(99);
    let report = inspect(&big).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("unexpected file 'zeros'")), "{:?}", report.warnings);
}

/// The CLI refuses a bomb inside an address space of 64 MiB, less than the limit itself: the
/// reader holds nothing of what it decompresses (the reader before this one held the whole
/// decompressed layer, then a copy of each entry: about 1 GiB for this file).
#[test]
fn the_cli_refuses_a_bomb_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("outer.tgz", outer_bomb(512)), ("inner.tgz", inner_bomb(512))] {
        std::fs::File::create(dir.path().join(name)).unwrap().write_all(&bytes).unwrap();
        for cmd in ["inspect", "id"] {
            let out = limited(dir.path(), 64 << 10, &[cmd, name]);
            if cmd == "id" && name == "inner.tgz" {
                assert_eq!(out.code, 0, "{}", out.stderr);
                continue;
            }
            assert_eq!(out.code, 2, "{cmd} {name}: {}", out.stderr);
            assert!(out.stderr.contains(&format!("{name} is not a usable chaincode package")), "{}", out.stderr);
            assert!(out.stderr.contains("more than 100 MiB"), "{}", out.stderr);
            assert!(out.stdout.is_empty());
        }
    }
    // The same limit leaves room for real work: a normal package inspects fine.
    std::fs::write(dir.path().join("ok.tgz"), raw_package(METADATA, CONNECTION)).unwrap();
    assert_eq!(limited(dir.path(), 64 << 10, &["inspect", "ok.tgz"]).code, 0);
}

/// Runs the binary with its virtual memory limited to `kib` KiB (`ulimit -v`).
fn limited(dir: &Path, kib: u32, args: &[&str]) -> Out {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
