//! `invoke` and `query` refuse bad arguments before reading any identity or dialling any peer:
//! exit 2, with a message that names the problem and the form to use.

use std::process::Command;

fn deploy(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ccaas-deploy")).env_clear().args(args).output().unwrap();
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
    (out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_arguments_exit_2_and_say_what_to_write() {
    let (code, err) = deploy(&["query", "-n", "basic"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: no function: give it and its arguments after the flags (-n basic ReadAsset asset1), or as the peer \
         CLI does (-c '{\"Args\":[\"ReadAsset\",\"asset1\"]}')\n"
    );

    let (code, err) = deploy(&["invoke", "-n", "basic", "-c", r#"{"Args":["CreateAsset",5]}"#]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(r#"error: -c {"Args":["CreateAsset",5]}: Args holds 5, not a string; write it as"#),
        "{err}"
    );

    let (code, err) = deploy(&["query", "-n", "basic", "-c", r#"{"Args":["ReadAsset"]}"#, "ReadAsset"]);
    assert_eq!(code, 2);
    assert!(err.contains("'--ctor <JSON>' cannot be used with"), "{err}");

    let (code, err) = deploy(&["invoke", "-n", "private", "CreateAsset", "--transient", "asset_properties"]);
    assert_eq!(code, 2);
    assert!(err.contains("--transient asset_properties: not KEY=VALUE"), "{err}");

    let (code, err) = deploy(&["--via-orderer", "invoke", "-n", "basic", "InitLedger"]);
    assert_eq!(code, 2);
    assert!(err.contains("--via-orderer is for approve and commit; invoke and query go through the peer's Gateway"));

    // Good arguments get as far as the identity (here: none given).
    let (code, err) = deploy(&["query", "-n", "basic", "ReadAsset", "-5", "--transient", r#"{"k":"dg=="}"#]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: no MSP ID"), "{err}");
}
