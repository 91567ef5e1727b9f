//! The `ccaas-package` binary: exit codes, messages, output shapes, and that a failed
//! build leaves no file (and no temporary file) behind.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// Runs a build expected to fail validation; checks exit 2, the message, and that the
/// working directory is unchanged.
fn assert_build_fails(dir: &Path, args: &[&str], message: &str) {
    let before = listing(dir);
    let out = run_in(dir, args);
    assert_eq!(out.code, 2, "{args:?}\n{}", out.stderr);
    assert!(out.stderr.contains(message), "{args:?}: expected {message:?} in\n{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(listing(dir), before, "files left behind by {args:?}");
}

#[test]
fn validation_errors_exit_1_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["ca.pem", "client-ec.pem", "client-ec.key", "other.key", "server.pem"] {
        std::fs::copy(fixture_path(f), d.join(f)).unwrap();
    }
    let base = |label: &str, address: &str| -> Vec<String> {
        ["build", "--label", label, "--address", address, "-o", "pkg.tgz"].map(String::from).to_vec()
    };
    let run = |args: Vec<String>, msg: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_build_fails(d, &refs, msg);
    };
    let with = |mut v: Vec<String>, extra: &[&str]| {
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    run(
        base("bad label", "cc:7052"),
        "invalid label 'bad label'. Label must be non-empty, can only consist of alphanumerics, symbols from '.+-_', and can only begin with alphanumerics",
    );
    run(base("cc", "cc"), "invalid chaincode address 'cc': missing port in address");
    run(base("cc", "cc:70520"), "must be a number from 1 to 65535");
    run(base("cc", "[::1:7052"), "missing ']' in address");
    run(
        base("cc", "{{.peername}_cc:7052"),
        "connection.json field 'address' is not a valid Go text/template: template: :1: bad character U+007D '}'",
    );
    run(
        base("cc", "{{if .x}}cc:7052"),
        "connection.json field 'address' is not a valid Go text/template: template: :1: unexpected EOF",
    );
    run(with(base("cc", "cc:7052"), &["--dial-timeout", "10"]), "time: missing unit in duration \"10\"");
    run(
        with(
            base("cc", "cc:7052"),
            &["--client-auth", "--client-cert", "client-ec.pem", "--client-key", "client-ec.key"],
        ),
        "chaincode tls root cert not provided",
    );
    run(
        with(base("cc", "cc:7052"), &["--tls-root-cert", "ca.pem", "--client-auth", "--client-key", "client-ec.key"]),
        "chaincode tls cert not provided",
    );
    run(
        with(
            base("cc", "cc:7052"),
            &[
                "--tls-root-cert",
                "ca.pem",
                "--client-auth",
                "--client-cert",
                "client-ec.pem",
                "--client-key",
                "other.key",
            ],
        ),
        "client_key does not match client_cert",
    );
    run(
        with(base("cc", "cc:7052"), &["--tls-root-cert", "client-ec.key"]),
        "--tls-root-cert client-ec.key: root_cert: no PEM CERTIFICATE block found",
    );
    run(with(base("cc", "cc:7052"), &["--tls-root-cert", "missing.pem"]), "cannot read --tls-root-cert missing.pem");
    run(
        with(base("cc", "elsewhere:7052"), &["--tls-root-cert", "ca.pem", "--server-cert", "server.pem"]),
        "server certificate SANs [DNS:basic-ccaas, IP:127.0.0.1] do not cover 'elsewhere'",
    );

    // META-INF with invalid JSON; the file is named.
    let meta = d.join("meta");
    let idx = meta.join("statedb/couchdb/indexes");
    std::fs::create_dir_all(&idx).unwrap();
    std::fs::write(idx.join("bad.json"), "{\"index\": ").unwrap();
    run(
        with(base("cc", "cc:7052"), &["--meta-inf", "meta"]),
        "META-INF file 'META-INF/statedb/couchdb/indexes/bad.json': invalid JSON",
    );
    std::fs::write(idx.join("bad.json"), "{}").unwrap();
    std::fs::write(idx.join("notes.txt"), "x").unwrap();
    run(
        with(base("cc", "cc:7052"), &["--meta-inf", "meta"]),
        "META-INF file 'META-INF/statedb/couchdb/indexes/notes.txt'",
    );
    std::fs::remove_dir_all(&meta).unwrap();

    // k8s rules
    let digest = format!("sha256:{}", "a".repeat(64));
    run(
        ["build", "--type", "k8s", "--label", "Basic", "--image", &format!("ghcr.io/x/cc@{digest}"), "-o", "pkg.tgz"]
            .map(String::from)
            .to_vec(),
        "fabric-builder-k8s requires an RFC 1035 DNS label",
    );
    run(
        ["build", "--type", "k8s", "--label", "cc", "--image", "ghcr.io/x/cc@sha256:abc", "-o", "pkg.tgz"]
            .map(String::from)
            .to_vec(),
        "must be sha256: followed by 64 lowercase hex digits",
    );
}

#[test]
fn unwritable_output_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let build_to = |out: &str, message: &str| {
        let args = ["build", "--label", "cc", "--address", "cc:7052", "-o", out];
        assert_build_fails(d, &args, message);
    };

    // Parent directory missing.
    build_to("missing/pkg.tgz", "cannot write the package: missing/pkg.tgz: No such file or directory");

    // Parent is a regular file.
    std::fs::write(d.join("file"), "x").unwrap();
    build_to("file/pkg.tgz", "cannot write the package: file/pkg.tgz: Not a directory");

    // Read-only directory (meaningless for root, who can write anyway).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = d.join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let probe = ro.join("probe");
        if std::fs::write(&probe, "x").is_err() {
            build_to("ro/pkg.tgz", "Permission denied");
            assert!(listing(&ro).is_empty());
        } else {
            let _ = std::fs::remove_file(&probe);
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    // Output path is an existing directory: the rename fails, the temp file is removed.
    std::fs::create_dir(d.join("adir")).unwrap();
    build_to("adir", "cannot write the package: adir");
    assert!(listing(&d.join("adir")).is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let digest = format!("sha256:{}", "a".repeat(64));
    let image = format!("x@{digest}");
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["build"],
        vec!["build", "--label", "cc"],
        vec!["build", "--address", "cc:1"],
        vec!["build", "--label", "cc", "--address", "cc:1", "--client-cert", "c.pem"],
        vec!["build", "--label", "cc", "--address", "cc:1", "--server-cert", "s.pem"],
        vec!["build", "--label", "cc", "--address", "cc:1", "--output", "yaml"],
        vec!["build", "--label", "cc", "--address", "cc:1", "--type", "docker"],
        vec!["build", "--label", "cc", "--type", "k8s"],
        vec!["build", "--label", "cc", "--type", "k8s", "--image", &image, "--address", "cc:1"],
        vec!["build", "--label", "cc", "--address", "cc:1", "--image", &image],
        vec!["build", "--label", "cc", "--address", "cc:1", "--no-such-flag"],
        vec!["id"],
        vec!["inspect"],
        vec!["tls", "--out", "d"],
        vec!["tls", "--host", "h"],
        vec!["tls", "--host", "h", "--out", "d", "--days", "0"],
    ];
    for args in cases {
        let out = run_in(dir.path(), &args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert!(listing(dir.path()).is_empty());
    assert_eq!(run_in(dir.path(), &["--help"]).code, 0);
    assert_eq!(run_in(dir.path(), &["build", "--help"]).code, 0);
}

#[test]
fn json_output_shapes_and_ids_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out =
        run_in(d, &["build", "--label", "basic_1.0", "--address", "{{.peername}}_basic:9999", "--output", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["label", "package_id", "path", "sha256"]);
    assert_eq!(v["label"], "basic_1.0");
    assert_eq!(v["path"], "basic_1.0.tar.gz", "default output name");
    let bytes = std::fs::read(d.join("basic_1.0.tar.gz")).unwrap();
    let sha = ccaas_package::sha256_hex(&bytes);
    assert_eq!(v["sha256"], sha);
    assert_eq!(v["package_id"], format!("basic_1.0:{sha}"));
    assert_eq!(listing(d), ["basic_1.0.tar.gz"]);

    let text = run_in(d, &["id", "basic_1.0.tar.gz"]);
    assert_eq!(text.code, 0);
    assert_eq!(text.stdout, format!("basic_1.0:{sha}\n"));
    let json = run_in(d, &["id", "basic_1.0.tar.gz", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v, serde_json::json!({ "package_id": format!("basic_1.0:{sha}") }));

    let insp = run_in(d, &["inspect", "basic_1.0.tar.gz", "--output", "json"]);
    assert_eq!(insp.code, 0, "{}", insp.stderr);
    let v: serde_json::Value = serde_json::from_str(&insp.stdout).unwrap();
    assert_eq!(v["package_id"], format!("basic_1.0:{sha}"));
    assert_eq!(v["metadata"]["type"], "ccaas");
    assert_eq!(v["metadata"]["label"], "basic_1.0");
    assert_eq!(v["kind"], "ccaas");
    assert_eq!(v["connection"]["address"], "{{.peername}}_basic:9999");
    assert_eq!(v["connection"]["dial_timeout"], "10s");
    assert_eq!(v["connection"]["tls_required"], false);
    assert_eq!(v["image"], serde_json::Value::Null);
    assert!(v["warnings"].as_array().unwrap().is_empty());

    let human = run_in(d, &["inspect", "basic_1.0.tar.gz"]);
    assert!(human.stdout.contains(&format!("package ID: basic_1.0:{sha}")));
    assert!(human.stdout.contains("checks: ok"));

    // A missing file is a runtime error.
    assert_eq!(run_in(d, &["id", "nope.tgz"]).code, 2, "a bad input file is 2, as in ccaas-deploy");
    assert_eq!(run_in(d, &["inspect", "nope.tgz"]).code, 2);
}

#[test]
fn domain_warns_on_stderr_and_k8s_builds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out =
        run_in(d, &["build", "--label", "cc", "--address", "cc:7052", "--domain", "cc.example.com", "-o", "d.tgz"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning: domain 'cc.example.com': the stock ccaas builder drops this field"));
    assert!(out.stderr.contains("only honours it"));

    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let image = format!("ghcr.io/org/cc@{digest}");
    let out = run_in(d, &["build", "--type", "k8s", "--label", "cc", "--image", &image, "-o", "k.tgz"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let insp = run_in(d, &["inspect", "k.tgz", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&insp.stdout).unwrap();
    assert_eq!(v["metadata"]["type"], "k8s");
    assert_eq!(v["image"], serde_json::json!({"name": "ghcr.io/org/cc", "digest": digest}));
}

#[test]
fn tls_command_writes_material_build_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_in(d, &["tls", "--host", "basic-ccaas", "--host", "10.1.2.3", "--out", "certs", "--days", "30"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let files = ["ca.key", "ca.pem", "client.key", "client.pem", "server.key", "server.pem"];
    assert_eq!(listing(&d.join("certs")), files);
    assert_eq!(out.stdout.lines().count(), 6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in files {
            let mode = std::fs::metadata(d.join("certs").join(f)).unwrap().permissions().mode();
            if f.ends_with(".key") {
                assert_eq!(mode & 0o777, 0o600, "{f}");
            } else {
                assert_eq!(mode & 0o133, 0, "{f}: at most 0644");
            }
        }
    }

    // Refuses to overwrite, leaving the files untouched; --force replaces them.
    let ca_before = std::fs::read(d.join("certs/ca.pem")).unwrap();
    let again = run_in(d, &["tls", "--host", "x", "--out", "certs"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("refusing to overwrite existing files (use --force)"));
    assert_eq!(std::fs::read(d.join("certs/ca.pem")).unwrap(), ca_before);
    assert_eq!(listing(&d.join("certs")), files);

    let c = |f: &str| p(&d.join("certs").join(f));
    let build = run_in(
        d,
        &[
            "build",
            "--label",
            "cc",
            "--address",
            "basic-ccaas:7052",
            "--tls-root-cert",
            &c("ca.pem"),
            "--client-auth",
            "--client-cert",
            &c("client.pem"),
            "--client-key",
            &c("client.key"),
            "--server-cert",
            &c("server.pem"),
            "-o",
            "tls.tgz",
        ],
    );
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(!build.stderr.contains("warning"), "{}", build.stderr);
    let ip = run_in(
        d,
        &[
            "build",
            "--label",
            "cc",
            "--address",
            "10.1.2.3:7052",
            "--tls-root-cert",
            &c("ca.pem"),
            "--server-cert",
            &c("server.pem"),
            "-o",
            "ip.tgz",
        ],
    );
    assert_eq!(ip.code, 0, "{}", ip.stderr);

    let forced = run_in(d, &["tls", "--host", "x", "--out", "certs", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(std::fs::read(d.join("certs/ca.pem")).unwrap(), ca_before);
    assert_eq!(listing(&d.join("certs")), files);
}

/// Inputs that are not what they claim: a directory for a file, an empty file, bytes that are
/// not an archive. Each gets a message naming the input, exit 1, and no output.
#[test]
fn wrong_kinds_of_input_are_named_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("adir")).unwrap();
    std::fs::write(d.join("empty.pem"), "").unwrap();
    let build = |extra: &[&str], message: &str| {
        let mut args = vec!["build", "--label", "cc", "--address", "cc:7052", "-o", "pkg.tgz"];
        args.extend_from_slice(extra);
        assert_build_fails(d, &args, message);
    };
    build(&["--tls-root-cert", "adir"], "cannot read --tls-root-cert adir");
    build(&["--tls-root-cert", "empty.pem"], "root_cert is empty (--tls-root-cert");
    build(&["--meta-inf", "missing-dir"], "missing-dir");

    // `inspect` of a directory, an empty file, and random bytes.
    std::fs::write(d.join("empty.tgz"), "").unwrap();
    std::fs::write(
        d.join("noise.tgz"),
        (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    for (file, message) in [("adir", "adir"), ("empty.tgz", "empty.tgz"), ("noise.tgz", "noise.tgz")] {
        let out = run_in(d, &["inspect", file]);
        assert_eq!(out.code, 2, "inspect {file}: {}", out.stderr);
        assert!(out.stderr.contains(message), "inspect {file}: expected {message:?} in\n{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

/// A full disk: the write fails with the system's reason and leaves neither the package nor its
/// temporary file. Uses a tiny tmpfs (mounting needs root; skipped with a reason otherwise).
#[test]
fn a_full_disk_leaves_no_partial_package() {
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("tiny");
    std::fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8k", "tmpfs"])
        .arg(&mount_point)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root); the full-disk case is not exercised");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mount_point);
    // Fill the file system but a few bytes, so the package cannot fit.
    let filler = mount_point.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 8 * 1024]);
    let before = listing(&mount_point);
    let out = run_in(dir.path(), &["build", "--label", "cc", "--address", "cc:7052", "-o", "tiny/pkg.tgz"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("cannot write the package: tiny/pkg.tgz"), "{}", out.stderr);
    assert!(out.stderr.contains("No space left on device"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(listing(&mount_point), before, "files left behind on the full disk");
}

/// The lines of a PEM file between its BEGIN and END lines (the secret part of a key).
fn pem_body(pem: &str) -> Vec<String> {
    pem.lines().filter(|l| !l.starts_with("-----") && !l.is_empty()).map(str::to_string).collect()
}

/// A package holding the peer's TLS client key is written 0600 (one without stays 0644), and
/// `inspect` prints the key only with --show-secrets, in text and JSON.
#[test]
fn the_client_key_stays_private_in_files_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_golden_inputs(d);
    // A permissive umask, so the mode seen is the one the file was created with.
    let build = |args: &[String]| {
        let out = Command::new("sh")
            .arg("-c")
            .arg("umask 000; exec \"$0\" \"$@\"")
            .arg(BIN)
            .args(args)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    build(&golden_cli_args(d, &d.join("mtls.tgz")));
    build(&["build", "--label", "cc", "--address", "cc:7052", "-o", "plain.tgz"].map(String::from));
    let tls = |f: &str| d.join(f).display().to_string();
    build(
        &["build", "--label", "cc", "--address", "cc:7052", "--tls-root-cert", &tls("ca.pem"), "-o", "tls.tgz"]
            .map(String::from),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| std::fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("mtls.tgz"), 0o600, "a package with client_key");
        assert_eq!(mode("plain.tgz"), 0o644, "a package without a key");
        assert_eq!(mode("tls.tgz"), 0o644, "TLS without client auth holds no key");
        // Rebuilding over an existing public file gives a private one (a new file, renamed in).
        std::fs::copy(d.join("plain.tgz"), d.join("over.tgz")).unwrap();
        build(&golden_cli_args(d, &d.join("over.tgz")));
        assert_eq!(mode("over.tgz"), 0o600);
    }

    let key = fixture("client-ec.key");
    let body = pem_body(&key);
    assert_eq!(body.len(), 3);
    let placeholder = format!("<redacted: {} bytes; --show-secrets prints it>", key.len());
    let shows_key = |out: &Out| body.iter().any(|l| out.stdout.contains(l.as_str()) || out.stderr.contains(l.as_str()));

    let text = run_in(d, &["inspect", "mtls.tgz"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(!shows_key(&text), "{}", text.stdout);
    assert!(text.stdout.contains(&format!("\"client_key\": \"{placeholder}\"")), "{}", text.stdout);
    assert!(text.stdout.contains("BEGIN CERTIFICATE"), "certificates are not secret: {}", text.stdout);

    let json = run_in(d, &["inspect", "mtls.tgz", "--output", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(!shows_key(&json), "{}", json.stdout);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["connection"]["client_key"], placeholder.as_str());
    assert_eq!(v["connection"]["client_auth_required"], true);

    let shown = run_in(d, &["inspect", "mtls.tgz", "--output", "json", "--show-secrets"]);
    let v: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(v["connection"]["client_key"], key.as_str());
    let shown = run_in(d, &["inspect", "mtls.tgz", "--show-secrets"]);
    assert!(shows_key(&shown), "{}", shown.stdout);

    // Without a key there is nothing to redact: the field stays empty.
    let plain = run_in(d, &["inspect", "plain.tgz", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(v["connection"]["client_key"], "");
}
