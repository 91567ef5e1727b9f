//! `build-static` runs cargo without the tool's secrets: a fake cargo (found through `CARGO`, as
//! build-static finds cargo) records its arguments and environment; the registry credentials are
//! not in it, and the package is one `--package=NAME` argument (a name starting with '-' cannot
//! pass for a flag).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const DEPLOY: &str = env!("CARGO_BIN_EXE_ccaas-deploy");

#[test]
fn cargo_gets_no_registry_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (args, env) = (dir.path().join("args"), dir.path().join("env"));
    let fake = dir.path().join("cargo");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nenv > '{}'\n", args.display(), env.display()),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(DEPLOY)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CARGO", &fake)
        .env("CCAAS_REGISTRY_USER", "ci")
        .env("CCAAS_REGISTRY_PASSWORD", "s3cret-password")
        .env("KEPT_VARIABLE", "kept")
        .args(["build-static", "--package=-Zunstable-options"])
        .output()
        .unwrap();
    // The fake cargo builds nothing: build-static then says so.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no binary target"), "{err}");
    let env = std::fs::read_to_string(&env).unwrap();
    assert!(env.contains("KEPT_VARIABLE=kept"), "the rest of the environment is passed: {env}");
    assert!(!env.contains("CCAAS_REGISTRY") && !env.contains("s3cret-password"), "{env}");
    let args: Vec<String> = std::fs::read_to_string(&args).unwrap().lines().map(String::from).collect();
    assert!(args.contains(&"--package=-Zunstable-options".to_string()), "{args:?}");
    assert!(!args.iter().any(|a| a == "-p" || a == "-Zunstable-options"), "{args:?}");
}
