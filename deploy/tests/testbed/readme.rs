//! The README's "Deploy" section, run exactly as written against a testbed.

use std::process::Command;

use crate::support::{bin_dir, run, Testbed};

fn deploy_section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("\n## Deploy\n").nth(1).expect("README has a Deploy section");
    let section = section.split("\n## ").next().unwrap();
    let block = section.split("```sh\n").nth(1).expect("a sh block").split("\n```").next().unwrap();
    block.to_string()
}

#[test]
fn readme_deploy_section_runs_as_written() {
    let script = deploy_section();
    assert!(script.contains("ccaas-deploy --config org1.yaml --user admin lifecycle"));
    let Some(t) = Testbed::up("readme", 1, 22050) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", bin_dir().display(), t.var("FABRIC_BIN"));
    let (code, out, err) = run(Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .envs(&t.env)
        .env("PATH", path)
        .env("FABRIC_LOGGING_SPEC", "warning"));
    assert_eq!(code, 0, "the README's Deploy section failed\nstdout:\n{out}\nstderr:\n{err}");
    for expected in [
        "installed on peer0.org1.example.com",
        "approved asset version 1.0 sequence 1 for Org1MSP",
        "committed asset version 1.0 sequence 1",
        "asset version 1.0 sequence 1 (approvals: Org1MSP=approved)",
        r#""ID":"asset1""#,
        "nothing to do: asset version 1.0 is committed at sequence 1",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}\nstderr:\n{err}");
    }
}
