//! docs/deploying.md's "The lifecycle, step by step", run as written against a testbed (with a port of
//! the run's own for the page's chaincode port).

use std::process::Command;

use crate::doc_block::sh_block;
use crate::support::{bin_dir, run, Testbed};

#[test]
fn docs_lifecycle_section_runs_as_written() {
    let script = sh_block("docs/deploying.md", "## The lifecycle, step by step");
    assert!(script.contains("ccaas-deploy --config org1.yaml --user admin lifecycle"));
    // The page's chaincode port, moved into this run's own ports.
    let port = crate::ports::port(crate::ports::chaincode::README).to_string();
    assert!(script.contains("127.0.0.1:9999") && script.contains("127.0.0.1/9999"), "{script}");
    let script = script
        .replace("127.0.0.1:9999", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1/9999", &format!("127.0.0.1/{port}"));
    let Some(t) = Testbed::up("readme", 1, crate::ports::port(crate::ports::testbed::README)) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", bin_dir().display(), t.var("FABRIC_BIN"));
    let result = run(Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .envs(&t.env)
        .env("PATH", path)
        .env("FABRIC_LOGGING_SPEC", "warning"));
    // The section leaves its chaincode server running and names its pid in asset.pid: the
    // testbed's `down` stops it with the network.
    if let Ok(pid) = std::fs::read_to_string(dir.path().join("asset.pid")) {
        std::fs::write(t.state.join("pids/asset-readme"), pid.trim()).unwrap();
    }
    let (code, out, err) = result;
    assert_eq!(code, 0, "docs/deploying.md's lifecycle section failed\nstdout:\n{out}\nstderr:\n{err}");
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
