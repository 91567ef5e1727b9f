//! The `ccaas-peer` command: exit codes, invoke/query, the ledger kept between runs, --creator
//! and client-id, events, conformance and bench.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use ccaas_shim::contract::ContractChaincode;
use ccaas_testkit::testing::AssetTransfer;
use serde_json::Value;
use support::serve;

use crate::token_contract::Token;

const PEER: &str = env!("CARGO_BIN_EXE_ccaas-peer");
const CHAINCODE: &str = env!("CARGO_BIN_EXE_ccaas-test-chaincode");
const ID: &str = "basic_1.0:abc";

/// Runs ccaas-peer with a state directory of its own (nothing is kept from one call to the next
/// unless a test passes --state).
async fn peer(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    peer_in(home.path(), args).await
}

/// Runs ccaas-peer with `XDG_STATE_HOME=home`: the default ledger is kept under `home`.
async fn peer_in(home: &std::path::Path, args: &[&str]) -> Output {
    tokio::process::Command::new(PEER)
        .args(args)
        .env_remove("CHAINCODE_SERVER_ADDRESS")
        .env_remove("CHAINCODE_ID")
        .env_remove("CCAAS_PEER_STATE")
        .env("XDG_STATE_HOME", home)
        .output()
        .await
        .expect("run ccaas-peer")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn temp_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ccaas-peer-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test]
async fn usage_errors_exit_2() {
    assert_eq!(code(&peer(&[]).await), 2);
    assert_eq!(code(&peer(&["frobnicate"]).await), 2);
    assert_eq!(code(&peer(&["query"]).await), 2, "a function is required");
    assert_eq!(code(&peer(&["--client-cert", "c.pem", "query", "f"]).await), 2, "--client-key is required");
    let output = peer(&["--domain", "x", "query", "f"]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(stderr(&output).contains("need --tls-root-cert"));
    assert_eq!(code(&peer(&["bench", "--concurrency", "0"]).await), 2);
    assert_eq!(code(&peer(&["bench", "--function", "Nope"]).await), 2);
    assert_eq!(code(&peer(&["bench", "--duration", "1s", "--transactions", "5"]).await), 2);
    assert_eq!(code(&peer(&["--tls-root-cert", "/does/not/exist.pem", "query", "f"]).await), 2);
    assert_eq!(code(&peer(&["--help"]).await), 0);
    assert_eq!(code(&peer(&["--creator", ":alice", "client-id"]).await), 2);
    assert_eq!(code(&peer(&["--creator", "Org2MSP:", "client-id"]).await), 2);
}

#[tokio::test]
async fn a_missing_server_exits_4() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let output = peer(&["--address", &address, "query", "ReadAsset", "a"]).await;
    assert_eq!(code(&output), 4, "a connection failure, as in ccaas-deploy");
    assert!(stderr(&output).contains("error creating grpc connection"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_then_query_with_a_state_file() {
    let server = serve(AssetTransfer, ID, None).await;
    let address = server.address.to_string();
    let state = temp_file("state.json");
    let state = state.to_str().unwrap();
    let common = ["--address", address.as_str(), "--chaincode-id", ID];

    let output =
        peer(&[&common[..], &["invoke", "CreateAsset", "a1", "blue", "5", "Tom", "300", "--state", state]].concat())
            .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("status 200 (Committed)"), "{}", stderr(&output));

    let output =
        peer(&[&common[..], &["query", "ReadAsset", "a1", "--state", state, "--output", "json"]].concat()).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["commit"], "Evaluated");
    assert_eq!(json["payload"], r#"{"AppraisedValue":300,"Color":"blue","ID":"a1","Owner":"Tom","Size":5}"#);

    let output = peer(&[&common[..], &["query", "ReadAsset", "a2", "--state", state]].concat()).await;
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("status 500: the asset a2 does not exist"), "{}", stderr(&output));

    let output = peer(&[&common[..], &["--transcript", "query", "AssetExists", "a1", "--state", state]].concat()).await;
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output).trim(), "true");
    let transcript = stderr(&output);
    for kind in ["REGISTER", "REGISTERED", "READY", "TRANSACTION", "GET_STATE", "RESPONSE", "COMPLETED"] {
        assert!(transcript.contains(kind), "{kind} missing from\n{transcript}");
    }
    let _ = std::fs::remove_file(state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_chaincode_id_exits_1() {
    let server = serve(AssetTransfer, ID, None).await;
    let output =
        peer(&["--address", &server.address.to_string(), "--chaincode-id", "other:1", "query", "GetAllAssets"]).await;
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(text.contains("peer will not accept external chaincode connection basic_1.0:abc"), "{text}");
    assert!(text.contains("the chaincode registered as basic_1.0:abc, but --chaincode-id"), "{text}");
    assert!(text.contains("expects other:1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_prints_pass_per_check() {
    let server = serve(AssetTransfer, ID, None).await;
    let output = peer(&["--address", &server.address.to_string(), "--chaincode-id", ID, "conformance"]).await;
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().filter(|l| l.starts_with("PASS")).count(), 8, "{text}");
    assert!(text.contains("8 passed, 0 failed"));

    let output =
        peer(&["--address", &server.address.to_string(), "--chaincode-id", ID, "conformance", "--output", "json"])
            .await;
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["checks"].as_array().unwrap().len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_spawns_the_chaincode_and_reports_its_peak_rss() {
    let output = peer(&[
        "--chaincode-id",
        ID,
        "bench",
        "--spawn",
        CHAINCODE,
        "--function",
        "CreateAsset",
        "--concurrency",
        "1,4",
        "--transactions",
        "30",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["function"], "CreateAsset");
    let levels = json["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[1]["concurrency"], 4);
    assert_eq!(levels[1]["transactions"], 30);
    assert_eq!(levels[1]["errors"], 0);
    assert!(json["peak_rss_kib"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_required_then_init_with_a_state_file() {
    let server = serve(AssetTransfer, ID, None).await;
    let address = server.address.to_string();
    let state = temp_file("init-state.json");
    let state = state.to_str().unwrap();
    let common = ["--address", address.as_str(), "--chaincode-id", ID];

    // Defined with --init-required and not yet initialized: the peer refuses a transaction.
    let output =
        peer(&[&common[..], &["query", "GetAllAssets", "--init-required", "1.0", "--state", state]].concat()).await;
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output)
            .contains("chaincode 'basic' has not been initialized for this version, must call as init first"),
        "{}",
        stderr(&output)
    );
    // --init defines it so; the INIT commits and the flag is kept in the state file.
    let output = peer(&[&common[..], &["invoke", "InitLedger", "--init", "--state", state]].concat()).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output =
        peer(&[&common[..], &["query", "GetAllAssets", "--init-required", "1.0", "--state", state]].concat()).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // A second INIT of the same version is refused.
    let output = peer(&[&common[..], &["invoke", "InitLedger", "--init", "--state", state]].concat()).await;
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("is already initialized but called as init"), "{}", stderr(&output));
    let _ = std::fs::remove_file(state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_is_kept_between_runs_by_default() {
    let server = serve(AssetTransfer, ID, None).await;
    let address = server.address.to_string();
    let home = tempfile::tempdir().unwrap();
    let common = ["--address", address.as_str(), "--chaincode-id", ID];

    let output =
        peer_in(home.path(), &[&common[..], &["invoke", "CreateAsset", "a1", "blue", "5", "Tom", "300"]].concat())
            .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let file = home.path().join("ccaas-peer/mychannel.basic.json");
    assert!(stderr(&output).contains(&format!("ledger: empty, kept in {}", file.display())), "{}", stderr(&output));
    assert!(file.exists());

    let output = peer_in(home.path(), &[&common[..], &["query", "ReadAsset", "a1"]].concat()).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains(r#""Owner":"Tom""#), "{}", stdout(&output));
    assert!(stderr(&output).contains(&format!("ledger: {} (1 keys; --fresh starts empty)", file.display())));

    // --fresh starts empty (and keeps the empty ledger for the next run).
    let output = peer_in(home.path(), &[&common[..], &["query", "ReadAsset", "a1", "--fresh"]].concat()).await;
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("the asset a1 does not exist"), "{}", stderr(&output));
    let output = peer_in(home.path(), &[&common[..], &["query", "AssetExists", "a1"]].concat()).await;
    assert_eq!(stdout(&output).trim(), "false");

    // Another chaincode name is another ledger.
    let output =
        peer_in(home.path(), &[&common[..], &["--chaincode-name", "other", "query", "AssetExists", "a1"]].concat())
            .await;
    assert!(stderr(&output).contains("ccaas-peer/mychannel.other.json"), "{}", stderr(&output));
}

#[tokio::test]
async fn client_id_prints_the_id_the_chaincode_sees() {
    let output = peer(&["--creator", "Org2MSP:alice", "client-id"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let id = stdout(&output).trim().to_string();
    assert_eq!(id, ccaas_testkit::Identity::generate("Org2MSP", "alice").client_id());
    // The same in every run (only the key is new).
    assert_eq!(stdout(&peer(&["--creator", "Org2MSP:alice", "client-id"]).await).trim(), id);

    // Without --creator: the default client, User1 of Org1MSP.
    let default = stdout(&peer(&["client-id"]).await).trim().to_string();
    assert_eq!(default, ccaas_testkit::Identity::default_client().client_id());

    let output = peer(&["--creator", "Org2MSP", "client-id", "--output", "json"]).await;
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["msp_id"], "Org2MSP");
    assert_eq!(json["name"], "User1@org2.example.com");
    assert!(json["decoded_id"].as_str().unwrap().starts_with("x509::CN=User1@org2.example.com"), "{json}");
}

/// The token contract's access rule through the CLI: Org2MSP may not mint, Org1MSP may; events
/// are printed with their payload; transfers go to the client id `client-id` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_contract_through_the_cli_with_creator() {
    let server = serve(ContractChaincode::new().contract(Token), ID, None).await;
    let address = server.address.to_string();
    let home = tempfile::tempdir().unwrap();
    let common = ["--address", address.as_str(), "--chaincode-id", ID];
    let run = |args: Vec<&str>| {
        let args: Vec<String> = common.iter().copied().chain(args).map(str::to_string).collect();
        let home = home.path().to_path_buf();
        async move { peer_in(&home, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };

    let output = run(vec!["--creator", "Org2MSP", "invoke", "Mint", "50"]).await;
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("status 500: client is not authorized to mint new tokens"), "{}", stderr(&output));

    let output = run(vec!["invoke", "Mint", "50"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let minter = ccaas_testkit::Identity::default_client().client_id();
    let event = format!(r#"event Transfer: {{"from":"0x0","to":"{minter}","value":50}}"#);
    assert!(stderr(&output).contains(&event), "{}", stderr(&output));

    let alice = stdout(&peer(&["--creator", "Org2MSP:alice", "client-id"]).await).trim().to_string();
    let output = run(vec!["--creator", "Org1MSP", "invoke", "Transfer", &alice, "20"]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = run(vec!["--creator", "Org2MSP:alice", "query", "ClientAccountBalance"]).await;
    assert_eq!(stdout(&output).trim(), "20", "{}", stderr(&output));
    let output = run(vec!["query", "TotalSupply", "--output", "json"]).await;
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["payload"], "50");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_says_what_it_needs_of_the_chaincode() {
    let server = serve(ContractChaincode::new().contract(Token), ID, None).await;
    let output = peer(&["--address", &server.address.to_string(), "--chaincode-id", ID, "conformance"]).await;
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    assert!(text.starts_with(ccaas_testkit::conformance::REQUIREMENTS), "{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 3, "{text}");
    assert!(failed.iter().all(|l| l.contains("this check needs asset-transfer-basic's transactions")), "{text}");
    assert!(text.contains("5 passed, 3 failed"), "{text}");
}

/// A test network user's certificate and key (here made with rcgen) sign instead of a generated
/// identity: `client-id` prints that certificate's id, and the token contract refuses it as
/// Org2MSP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creator_cert_and_key_sign_as_an_existing_user() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "User1@org2.example.com");
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("priv_sk"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (cert_path, key_path) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    let expected = ccaas_testkit::Identity::from_pem("Org2MSP", &cert.pem(), None).unwrap().client_id();

    let signing = ["--creator", "Org2MSP", "--creator-cert", cert_path, "--creator-key", key_path];
    let output = peer(&[&signing[..], &["client-id"]].concat()).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), expected);

    let server = serve(ContractChaincode::new().contract(Token), ID, None).await;
    let address = server.address.to_string();
    let output = peer(&[&["--address", address.as_str()][..], &signing[..], &["invoke", "Mint", "5"]].concat()).await;
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("client is not authorized to mint new tokens"), "{}", stderr(&output));
    let output =
        peer(&[&["--address", address.as_str()][..], &signing[..], &["query", "ClientAccountID"]].concat()).await;
    assert_eq!(stdout(&output).trim(), expected, "{}", stderr(&output));

    // Usage errors: no --creator, a name with a certificate, a file that is no certificate.
    assert_eq!(code(&peer(&["--creator-cert", cert_path, "client-id"]).await), 2);
    assert_eq!(code(&peer(&["--creator", "Org2MSP:bob", "--creator-cert", cert_path, "client-id"]).await), 2);
    let output = peer(&["--creator", "Org2MSP", "--creator-cert", key_path, "client-id"]).await;
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("the certificate is not a client identity"), "{}", stderr(&output));
}
