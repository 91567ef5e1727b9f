//! Packages made by other tools, checked by `inspect` (and `id`) with the peer's and
//! the builders' own rules and error texts.

use crate::common;

use std::path::Path;
use std::process::Command;

use ccaas_package::{build_package, inspect, package_id, ConnectionSpec, PackageSpec};
use common::*;
use tar::EntryType;

const METADATA: &str = r#"{"type":"ccaas","label":"basic_1.0"}"#;

fn err(bytes: &[u8]) -> String {
    inspect(bytes).expect_err("package must be rejected").to_string()
}

fn sh_tar(dir: &Path, args: &[&str]) {
    let status = Command::new("tar").args(args).current_dir(dir).status().unwrap();
    assert!(status.success(), "tar {args:?}");
}

/// The common recipe `tar -C dir -czf pkg.tgz .`, made with the system (GNU) tar.
#[test]
fn gnu_tar_dot_recipe_is_rejected_like_the_peer_does() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(src.join("connection.json"), CONNECTION).unwrap();
    std::fs::write(pkg.join("metadata.json"), METADATA).unwrap();
    sh_tar(dir.path(), &["-C", "src", "-czf", "pkg/code.tar.gz", "."]);
    sh_tar(dir.path(), &["-C", "pkg", "-czf", "dot.tgz", "."]);

    let bytes = std::fs::read(dir.path().join("dot.tgz")).unwrap();
    let expected = "tar entry ./ is not a regular file, type 53";
    assert_eq!(err(&bytes), expected);
    assert_eq!(package_id(&bytes).unwrap_err().to_string(), expected);
    for cmd in [["inspect", "dot.tgz"], ["id", "dot.tgz"]] {
        let out = run_in(dir.path(), &cmd);
        assert_eq!(out.code, 2, "{cmd:?}");
        assert!(out.stderr.contains(expected), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }

    // The right recipe names the two files: inner `./` entries are fine for the builder.
    sh_tar(dir.path(), &["-C", "pkg", "-czf", "named.tgz", "metadata.json", "code.tar.gz"]);
    let bytes = std::fs::read(dir.path().join("named.tgz")).unwrap();
    let report = inspect(&bytes).unwrap();
    assert_eq!(report.connection.unwrap().address, "basic:7052");
    assert!(report.code_entries.iter().any(|e| e.name == "./" && e.kind == "dir"));
    assert_eq!(report.package_id, package_id(&bytes).unwrap());
    assert_eq!(report.package_id, format!("basic_1.0:{}", ccaas_package::sha256_hex(&bytes)));
}

/// The same recipe built in-process with the `tar` crate, independent of GNU tar.
#[test]
fn tar_crate_dot_entries_are_rejected() {
    let code = raw_targz(&[
        ("./", EntryType::Directory, b""),
        ("./connection.json", EntryType::Regular, CONNECTION.as_bytes()),
    ]);
    let with_dir = raw_targz(&[
        ("./", EntryType::Directory, b""),
        ("./metadata.json", EntryType::Regular, METADATA.as_bytes()),
        ("./code.tar.gz", EntryType::Regular, &code),
    ]);
    assert_eq!(err(&with_dir), "tar entry ./ is not a regular file, type 53");

    // Without the directory entry, `./metadata.json` is still not `metadata.json`.
    let dotted = raw_targz(&[
        ("./metadata.json", EntryType::Regular, METADATA.as_bytes()),
        ("./code.tar.gz", EntryType::Regular, &code),
    ]);
    assert_eq!(err(&dotted), "did not find a code package inside the package");
    let report_less = raw_targz(&[
        ("./metadata.json", EntryType::Regular, METADATA.as_bytes()),
        ("code.tar.gz", EntryType::Regular, &code),
    ]);
    assert_eq!(err(&report_less), "did not find any package metadata (missing metadata.json)");
}

#[test]
fn outer_archive_rules() {
    let code = raw_targz(&[("connection.json", EntryType::Regular, CONNECTION.as_bytes())]);
    let pkg = |entries: &[(&str, EntryType, &[u8])]| raw_targz(entries);

    let extra = pkg(&[
        ("metadata.json", EntryType::Regular, METADATA.as_bytes()),
        ("code.tar.gz", EntryType::Regular, &code),
        ("README", EntryType::Regular, b"hi"),
    ]);
    let report = inspect(&extra).unwrap();
    assert!(report
        .warnings
        .contains(&"Encountered unexpected file 'README' in top level of chaincode package".to_string()));

    let link =
        pkg(&[("metadata.json", EntryType::Regular, METADATA.as_bytes()), ("code.tar.gz", EntryType::Symlink, b"")]);
    assert_eq!(err(&link), "tar entry code.tar.gz is not a regular file, type 50");

    assert!(err(b"plain text").starts_with("error reading as gzip stream"));
    let no_meta = pkg(&[("code.tar.gz", EntryType::Regular, &code)]);
    assert_eq!(err(&no_meta), "did not find any package metadata (missing metadata.json)");

    let bad_label = raw_package(r#"{"type":"ccaas","label":"-x"}"#, CONNECTION);
    assert!(err(&bad_label).starts_with("invalid label '-x'. Label must be non-empty"));
    let label_type = raw_package(r#"{"type":"ccaas","label":7}"#, CONNECTION);
    assert_eq!(
        err(&label_type),
        "could not unmarshal metadata.json as json: json: cannot unmarshal number into Go \
         struct field ChaincodePackageMetadata.label of type string"
    );
}

#[test]
fn inner_archive_rules() {
    let with_inner = |entries: &[(&str, EntryType, &[u8])]| {
        let code = raw_targz(entries);
        raw_targz(&[
            ("metadata.json", EntryType::Regular, METADATA.as_bytes()),
            ("code.tar.gz", EntryType::Regular, &code),
        ])
    };
    let conn = ("connection.json", EntryType::Regular, CONNECTION.as_bytes());
    assert_eq!(
        err(&with_inner(&[conn, ("link", EntryType::Symlink, b"")])),
        "invalid file type '50' contained in archive for file 'link'"
    );
    assert_eq!(
        err(&with_inner(&[conn, ("../evil", EntryType::Regular, b"x")])),
        "tar contains the absolute or escaping path '../evil'"
    );
    assert_eq!(
        err(&with_inner(&[conn, ("/etc/evil", EntryType::Regular, b"x")])),
        "tar contains the absolute or escaping path '/etc/evil'"
    );
    assert!(err(&with_inner(&[])).starts_with("connection.json not found in code.tar.gz"));

    let not_gzip = raw_targz(&[
        ("metadata.json", EntryType::Regular, METADATA.as_bytes()),
        ("code.tar.gz", EntryType::Regular, b"nope"),
    ]);
    assert!(err(&not_gzip).starts_with("error retrieving DB artifacts from code package"));

    // `./META-INF/...` reaches the builder but not the peer's index extraction.
    let index = br#"{"index":{"fields":["a"]}}"#;
    let report =
        inspect(&with_inner(&[conn, ("./META-INF/statedb/couchdb/indexes/a.json", EntryType::Regular, index)]))
            .unwrap();
    assert_eq!(report.meta_inf.len(), 1);
    assert!(report.warnings.iter().any(|w| w.contains("raw name prefix META-INF/statedb/")));
}

#[test]
fn connection_json_rules_of_the_ccaas_builder_and_peer() {
    let cases = [
        (
            r#"{"address":"a:1","dial_timeout":10,"tls_required":false}"#,
            "connection.json: json: cannot unmarshal number into Go struct field connection.dial_timeout of type string",
        ),
        (
            r#"{"address":"a:1","dial_timeout":"10s","tls_required":"true"}"#,
            "connection.json: json: cannot unmarshal string into Go struct field connection.tls_required of type bool",
        ),
        (
            r#"{"dial_timeout":"10s"}"#,
            "chaincode address not provided",
        ),
        (
            r#"{"address":"a:1"}"#,
            "the ccaas builder writes \"\" and the peer then fails with time: invalid duration \"\"",
        ),
        (
            r#"{"address":"a:1","dial_timeout":"10"}"#,
            "time: missing unit in duration \"10\"",
        ),
        (
            r#"{"address":"{{.peername}:1","dial_timeout":"10s"}"#,
            "connection.json field 'address' is not a valid Go text/template: template: :1: bad character U+007D '}'",
        ),
        (
            r#"{"address":"a:1","dial_timeout":"10s","tls_required":true}"#,
            "chaincode tls root cert not provided",
        ),
        (
            r#"{"address":"a:1","dial_timeout":"10s","tls_required":true,"client_auth_required":true,"root_cert":"x"}"#,
            "chaincode tls key not provided",
        ),
        (
            r#"{"address":"a:1","dial_timeout":"10s","tls_required":true,"root_cert":"not pem"}"#,
            "root_cert: no PEM CERTIFICATE block found",
        ),
    ];
    for (json, want) in cases {
        let e = err(&raw_package(METADATA, json));
        assert!(e.contains(want), "{json}: {e}");
    }

    // Type is case-insensitive for the builder; unknown fields and `domain` warn.
    let ok = raw_package(
        r#"{"type":"CCaaS","label":"basic_1.0"}"#,
        r#"{"address":"a:1","dial_timeout":"3s","Tls_Required":false,"domain":"a","extra":1}"#,
    );
    let report = inspect(&ok).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("unknown field 'extra'")));
    assert!(report.warnings.iter().any(|w| w.contains("stock ccaas builder drops")));
    assert_eq!(report.connection.unwrap().domain.as_deref(), Some("a"));

    let golang = raw_package(r#"{"type":"golang","label":"basic_1.0"}"#, CONNECTION);
    assert!(err(&golang).starts_with("chaincode type should be ccaas, it is golang"));
}

#[test]
fn k8s_package_rules() {
    let image = format!(r#"{{"name":"ghcr.io/org/cc","digest":"sha256:{}"}}"#, "a".repeat(64));
    let pkg = |label: &str, image: &str| {
        let code = raw_targz(&[("image.json", EntryType::Regular, image.as_bytes())]);
        raw_targz(&[
            ("metadata.json", EntryType::Regular, format!(r#"{{"type":"k8s","label":"{label}"}}"#).as_bytes()),
            ("code.tar.gz", EntryType::Regular, &code),
        ])
    };
    assert_eq!(inspect(&pkg("cc", &image)).unwrap().image.unwrap().name, "ghcr.io/org/cc");
    assert!(err(&pkg("Basic_1.0", &image)).contains("RFC 1035"));
    assert!(err(&pkg("cc", r#"{"name":"x"}"#)).contains("both name and digest are required"));
    assert!(err(&pkg("cc", r#"{"name":"x","digest":"sha256:abc"}"#)).contains("64 lowercase hex"));
}

#[test]
fn our_packages_pass_every_rule() {
    let spec = PackageSpec::ccaas("basic_1.0", ConnectionSpec::new("basic:7052"));
    let built = build_package(&spec).unwrap();
    let report = inspect(&built.bytes).unwrap();
    assert!(report.warnings.is_empty());
    assert_eq!(report.code_entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["connection.json"]);
}
