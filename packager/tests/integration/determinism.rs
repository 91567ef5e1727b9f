//! Same inputs, different everything else → same bytes and the golden ID.
//!
//! Two CLI runs as subprocesses, with the inputs rewritten between them (new inode,
//! different mtimes), in different directories, under different `TZ`, `LC_ALL`/`LANG`
//! and umask (set through `sh -c 'umask ...; exec ...'`).

use crate::common;

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

fn set_mtimes(dir: &Path, when: SystemTime) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            set_mtimes(&path, when);
        } else {
            File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        }
    }
}

fn run_build(inputs: &Path, out: &Path, tz: &str, locale: &str, umask: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(golden_cli_args(inputs, out))
        .current_dir(inputs)
        .env("TZ", tz)
        .env("LC_ALL", locale)
        .env("LANG", locale)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn two_runs_in_different_environments_give_identical_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();

    write_golden_inputs(a.path());
    set_mtimes(a.path(), UNIX_EPOCH + Duration::from_secs(1_000_000_000));
    let out_a = a.path().join("first.tar.gz");
    let id_a = run_build(a.path(), &out_a, "UTC", "C", "022");

    // Rewrite the inputs elsewhere, with other mtimes, then build under another TZ,
    // locale and umask.
    write_golden_inputs(b.path());
    set_mtimes(b.path(), SystemTime::now() + Duration::from_secs(86_400));
    let out_b = b.path().join("second.tgz");
    let id_b = run_build(b.path(), &out_b, "Asia/Kathmandu", "fr_FR.UTF-8", "077");

    let bytes_a = std::fs::read(&out_a).unwrap();
    let bytes_b = std::fs::read(&out_b).unwrap();
    assert_eq!(bytes_a, bytes_b, "package bytes differ between runs");
    assert_eq!(id_a, id_b);
    assert_eq!(id_a, GOLDEN_MTLS_ID, "CLI output differs from the library golden");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // The golden package holds client_key: owner-only under any umask (the umask applies to
        // the file, never to the bytes).
        assert_eq!(mode(&out_a), 0o600);
        assert_eq!(mode(&out_b), 0o600);
    }

    // Rebuilding over an existing file gives the same bytes again.
    let id_c = run_build(b.path(), &out_b, "America/St_Johns", "C.UTF-8", "002");
    assert_eq!(id_c, id_a);
    assert_eq!(std::fs::read(&out_b).unwrap(), bytes_a);
    assert_eq!(listing(b.path()), ["META-INF", "ca.pem", "client-ec.key", "client-ec.pem", "second.tgz"]);
}
