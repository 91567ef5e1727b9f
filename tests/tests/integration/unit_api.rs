//! The in-process unit-test API, `ccaas_testkit::Emulator`: what it accepts, the per-transaction
//! options, and what a test can inspect afterwards.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ccaas_shim::contract::{contract, Context, ContractChaincode, TransactionContext};
use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use ccaas_testkit::{CommitStatus, Emulator, Identity, Ledger, PeerEmulator, StateDatabase};

/// A contract that shows what it was given.
#[derive(Default)]
pub struct Probe;

#[contract(rename_all = "PascalCase")]
impl Probe {
    #[transaction]
    async fn put(&self, ctx: &Context<'_>, key: String, value: String) -> Result<(), String> {
        ctx.stub().put_state(&key, value).await.map_err(|e| e.to_string())
    }

    #[transaction(evaluate)]
    async fn get(&self, ctx: &Context<'_>, key: String) -> Result<String, String> {
        let value = ctx.stub().get_state(&key).await.map_err(|e| e.to_string())?;
        value.map(|v| String::from_utf8_lossy(&v).into_owned()).ok_or_else(|| format!("{key} does not exist"))
    }

    /// The caller, the transaction's timestamp and its transient data.
    #[transaction(evaluate)]
    async fn whoami(&self, ctx: &Context<'_>) -> Result<String, String> {
        let identity = ctx.client_identity().map_err(|e| e.to_string())?;
        let id = identity.decoded_id().map_err(|e| e.to_string())?;
        let seconds = ctx.stub().tx_timestamp().map_or(0, |t| t.seconds);
        let transient: BTreeMap<&String, String> =
            ctx.stub().transient().iter().map(|(k, v)| (k, String::from_utf8_lossy(v).into_owned())).collect();
        Ok(format!("{} {id} {seconds} {transient:?} {}", identity.msp_id(), ctx.stub().channel_id()))
    }

    #[transaction]
    async fn announce(&self, ctx: &Context<'_>, name: String, payload: String) -> Result<(), String> {
        ctx.stub().put_state("announced", name.clone()).await.map_err(|e| e.to_string())?;
        ctx.stub().set_event(&name, payload).map_err(|e| e.to_string())
    }

    #[transaction]
    async fn put_then_fail(&self, ctx: &Context<'_>, key: String) -> Result<(), String> {
        ctx.stub().put_state(&key, "never").await.map_err(|e| e.to_string())?;
        Err("failed on purpose".to_string())
    }
}

/// A second contract, to serve a `ContractChaincode` of two.
#[derive(Default)]
pub struct Other;

#[contract]
impl Other {
    #[transaction(evaluate)]
    async fn name(&self, _ctx: &Context<'_>) -> &'static str {
        "other"
    }
}

/// A low-level chaincode.
struct Echo;

impl Chaincode for Echo {
    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, args) = stub.function_and_parameters();
        Response::success(format!("{function}({})", args.join(",")))
    }
}

#[tokio::test]
async fn serves_a_contract_a_contract_chaincode_or_a_low_level_chaincode() {
    let contract = Emulator::in_process(Probe).await;
    contract.submit("Put", ["k", "v"]).await.unwrap().assert_ok();
    assert_eq!(contract.evaluate("Get", ["k"]).await.unwrap().payload_str(), "v");

    let both = Emulator::in_process(ContractChaincode::new().contract(Probe).contract(Other)).await;
    assert_eq!(both.evaluate("Other:name", [""; 0]).await.unwrap().payload_str(), "other");

    let raw = Emulator::in_process(Echo).await;
    assert_eq!(raw.evaluate("f", ["a", "b"]).await.unwrap().payload_str(), "f(a,b)");
    let shared = Emulator::in_process(Arc::new(Echo)).await;
    assert_eq!(shared.evaluate("g", [""; 0]).await.unwrap().payload_str(), "g()");
}

#[tokio::test]
async fn submit_commits_and_evaluate_does_not() {
    let peer = Emulator::in_process(Probe).await;
    let evaluated = peer.evaluate("Put", ["k", "v"]).await.unwrap();
    assert_eq!(evaluated.commit, CommitStatus::Evaluated);
    assert_eq!(evaluated.writes.len(), 1, "the write set is there, but not committed");
    assert!(peer.state("k").is_none());

    let submitted = peer.submit("Put", ["k", "v"]).await.unwrap();
    assert!(submitted.is_committed());
    assert_eq!(submitted.writes[0].key, "k");
    assert_eq!(submitted.writes[0].value.as_deref(), Some(&b"v"[..]));
    assert_eq!(peer.state("k").unwrap(), "v");
    assert_eq!(peer.ledger().get(peer.chaincode_name(), "k").unwrap(), "v");

    let read = peer.evaluate("Get", ["k"]).await.unwrap();
    assert_eq!(read.reads.len(), 1);
    assert_eq!(read.reads[0].key, "k");
    assert!(read.reads[0].version.is_some());
}

#[tokio::test]
async fn a_failed_transaction_commits_nothing() {
    let peer = Emulator::in_process(Probe).await;
    let failed = peer.submit("PutThenFail", ["k"]).await.unwrap();
    failed.assert_error("failed on purpose");
    assert_eq!(failed.commit, CommitStatus::NotEndorsed);
    assert!(peer.state("k").is_none());
}

#[tokio::test]
async fn creator_transient_timestamp_and_channel_per_transaction() {
    let peer = Emulator::builder().channel("ch1").in_process(Probe).await;
    let alice = Identity::generate("Org2MSP", "alice");
    let outcome = peer
        .tx("Whoami")
        .creator(alice)
        .transient("price", "42")
        .transient("secret", "s3cr3t")
        .timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .evaluate()
        .await
        .unwrap();
    let text = outcome.assert_ok().payload_str().into_owned();
    assert!(text.starts_with("Org2MSP x509::") && text.contains("CN=alice"), "{text}");
    assert!(text.ends_with(r#" 1700000000 {"price": "42", "secret": "s3cr3t"} ch1"#), "{text}");

    let other_channel = peer.tx("Whoami").channel("ch2").evaluate().await.unwrap();
    let text = other_channel.payload_str();
    assert!(text.starts_with("Org1MSP x509::") && text.contains("CN=User1@org1.example.com"), "{text}");
    assert!(other_channel.payload_str().ends_with(" {} ch2"));
}

#[tokio::test]
async fn the_default_creator_can_be_set() {
    let peer = Emulator::builder().creator(Identity::generate("Org3MSP", "bob")).in_process(Probe).await;
    let outcome = peer.evaluate("Whoami", [""; 0]).await.unwrap();
    let text = outcome.payload_str();
    assert!(text.starts_with("Org3MSP x509::") && text.contains("CN=bob"), "{text}");
}

#[tokio::test]
async fn events_are_reported_with_the_chaincode_name() {
    let peer = Emulator::builder().chaincode_name("probe").in_process(Probe).await;
    let outcome = peer.submit("Announce", ["Created", "{\"id\":1}"]).await.unwrap();
    outcome.assert_ok();
    let event = outcome.event.as_ref().expect("an event");
    assert_eq!(event.event_name, "Created");
    assert_eq!(&event.payload[..], b"{\"id\":1}");
    assert_eq!(event.chaincode_id, "probe");
    assert_eq!(event.tx_id, outcome.tx_id);
    assert_eq!(outcome.to_string(), r#"status 200, payload "", event "Created""#);
    assert_eq!(peer.ledger().get("probe", "announced").unwrap(), "Created");
}

#[tokio::test]
async fn the_ledger_can_be_seeded_before_and_after_connecting() {
    let peer = Emulator::builder()
        .chaincode_name("notes")
        .seed([("a", "1")])
        .seed(vec![("b".to_string(), "2".to_string())])
        .in_process(Probe)
        .await;
    assert_eq!(peer.chaincode_name(), "notes");
    assert_eq!(peer.evaluate("Get", ["a"]).await.unwrap().payload_str(), "1");
    assert_eq!(peer.evaluate("Get", ["b"]).await.unwrap().payload_str(), "2");
    assert_eq!(peer.ledger().height(), 1, "one block for the whole seed");

    peer.seed([("c", "3")]);
    assert_eq!(peer.evaluate("Get", ["c"]).await.unwrap().payload_str(), "3");
    peer.seed([("c", "")]);
    peer.evaluate("Get", ["c"]).await.unwrap().assert_error("c does not exist");
}

#[tokio::test]
async fn a_shared_ledger_outlives_the_emulator() {
    let ledger = Ledger::new();
    ledger.seed("basic", [("k", "before")]);
    {
        let peer = Emulator::builder().ledger(Arc::clone(&ledger)).in_process(Probe).await;
        peer.submit("Put", ["k", "after"]).await.unwrap().assert_ok();
    }
    assert_eq!(ledger.get("basic", "k").unwrap(), "after");
    assert_eq!(ledger.history("basic", "k").len(), 2);
}

#[tokio::test]
async fn other_emulator_settings_pass_through() {
    let peer = Emulator::builder().peer(|b| b.state_database(StateDatabase::CouchDb)).in_process(Probe).await;
    let outcome = peer.submit("Put", ["_design", "x"]).await.unwrap();
    assert!(outcome.message().ends_with(r#"invalid key [_design], cannot begin with "_""#), "{outcome}");
    let emulator: &PeerEmulator = peer.peer();
    assert!(emulator.violations().is_empty());
    assert_eq!(emulator.channel_id(), "mychannel");
}

#[tokio::test]
async fn init_and_concurrent_transactions() {
    let peer = Emulator::builder().peer(|b| b.init_required("1.0")).in_process(Probe).await;
    peer.tx("Put").args(["k", "init"]).init().submit().await.unwrap().assert_ok();
    assert_eq!(peer.state("k").unwrap(), "init");
    let reads = (0..32).map(|_| {
        let peer = peer.clone();
        async move { peer.evaluate("Get", ["k"]).await.unwrap() }
    });
    for outcome in futures::future::join_all(reads).await {
        assert_eq!(outcome.assert_ok().payload_str(), "init");
    }
    assert!(peer.peer().violations().is_empty());
}

#[tokio::test]
async fn outcomes_display_their_status_message_and_payload() {
    let peer = Emulator::in_process(Probe).await;
    peer.submit("Put", ["k", "v"]).await.unwrap();
    let ok = peer.evaluate("Get", ["k"]).await.unwrap();
    assert_eq!(ok.to_string(), r#"status 200, payload "v""#);
    let failed = peer.evaluate("Get", ["nope"]).await.unwrap();
    assert_eq!(failed.to_string(), r#"status 500, message "nope does not exist""#);
    assert_eq!(failed.message(), "nope does not exist");
}

#[tokio::test]
#[should_panic(expected = r#"expected status 200, got status 500, message "nope does not exist""#)]
async fn assert_ok_panics_with_the_message() {
    let peer = Emulator::in_process(Probe).await;
    peer.evaluate("Get", ["nope"]).await.unwrap().assert_ok();
}

#[tokio::test]
#[should_panic(expected = r#"expected a failure with message "other", got status 500, message "nope does not exist""#)]
async fn assert_error_panics_on_another_message() {
    let peer = Emulator::in_process(Probe).await;
    peer.evaluate("Get", ["nope"]).await.unwrap().assert_error("other");
}

#[tokio::test]
async fn events_can_be_asserted_as_json_or_read_typed() {
    let peer = Emulator::in_process(Probe).await;
    let outcome = peer.submit("Announce", ["Transfer", r#"{"from":"a", "to":"b","value":5}"#]).await.unwrap();
    // Compared as JSON: key order and spacing do not matter.
    outcome.assert_ok().assert_event("Transfer", r#"{"to":"b","value":5,"from":"a"}"#);
    assert_eq!(outcome.event_str().unwrap(), r#"{"from":"a", "to":"b","value":5}"#);

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Transfer {
        from: String,
        to: String,
        value: u64,
    }
    let transfer: Transfer = outcome.event_json("Transfer");
    assert_eq!(transfer, Transfer { from: "a".into(), to: "b".into(), value: 5 });

    // A payload that is not JSON is compared as text.
    let plain = peer.submit("Announce", ["Note", "hello"]).await.unwrap();
    plain.assert_event("Note", "hello");
    peer.submit("Put", ["k", "v"]).await.unwrap().assert_no_event();
    assert!(peer.submit("Put", ["k", "v"]).await.unwrap().event_str().is_none());
}

#[tokio::test]
#[should_panic(expected = r#"expected event "Transfer" with payload {"value":6}, got payload {"value":5}"#)]
async fn assert_event_panics_on_another_payload() {
    let peer = Emulator::in_process(Probe).await;
    let outcome = peer.submit("Announce", ["Transfer", r#"{"value":5}"#]).await.unwrap();
    outcome.assert_event("Transfer", r#"{"value":6}"#);
}

#[tokio::test]
#[should_panic(expected = r#"expected event "Transfer", got no event (status 200, payload "")"#)]
async fn assert_event_panics_without_an_event() {
    let peer = Emulator::in_process(Probe).await;
    peer.submit("Put", ["k", "v"]).await.unwrap().assert_event("Transfer", "{}");
}

#[tokio::test]
async fn arguments_may_be_borrowed_and_a_call_may_have_none() {
    let peer = Emulator::in_process(Probe).await;
    // Arguments built at run time, borrowed for the call (no 'static needed).
    let key = format!("key-{}", 7);
    let value = String::from("seven");
    peer.submit("Put", [key.as_str(), &value]).await.unwrap().assert_ok();
    let keys = vec![key.clone()];
    assert_eq!(peer.evaluate("Get", &keys).await.unwrap().payload_str(), "seven");
    assert_eq!(peer.tx("Get").arg(&key).evaluate().await.unwrap().payload_str(), "seven");
    // Bytes too.
    peer.submit("Put", [b"raw".as_slice(), b"bytes"]).await.unwrap().assert_ok();
    assert_eq!(peer.state("raw").unwrap(), "bytes");
    // No arguments.
    assert_eq!(
        Emulator::in_process(Other).await.evaluate("name", ccaas_testkit::NO_ARGS).await.unwrap().payload_str(),
        "other"
    );
}

#[tokio::test]
async fn an_identity_knows_the_client_id_the_chaincode_sees() {
    let peer = Emulator::in_process(Probe).await;
    let alice = Identity::generate("Org2MSP", "alice");
    let seen = peer.tx("Whoami").creator(alice.clone()).evaluate().await.unwrap();
    let decoded = ccaas_shim::identity::ClientIdentity::from_creator(&alice.serialize()).unwrap();
    assert_eq!(alice.client_id(), decoded.id().unwrap());
    assert!(seen.payload_str().contains(&decoded.decoded_id().unwrap()), "{seen}");
    assert_ne!(alice.client_id(), Identity::default_client().client_id());
}

#[test]
#[should_panic(expected = "this identity of Org1MSP has no client id")]
fn an_identity_without_a_certificate_has_no_client_id() {
    Identity::new("Org1MSP", "not a certificate").client_id();
}

/// The prelude beside anyhow: `anyhow::Result` transactions, anyhow's `Context` trait imported
/// for its methods only, and a `Result<T, String>` next to the prelude's `Result<T>`.
mod with_anyhow {
    use anyhow::Context as _;
    use ccaas_shim::prelude::*;
    use ccaas_testkit::Emulator;

    #[derive(Default)]
    pub struct Ledger;

    #[contract(rename_all = "PascalCase")]
    impl Ledger {
        #[transaction]
        async fn put(&self, ctx: &Context<'_>, key: String, value: i64) -> anyhow::Result<()> {
            ctx.stub().put_state(&key, value.to_string()).await.context("could not write")?;
            Ok(())
        }

        #[transaction(evaluate)]
        async fn get(&self, ctx: &Context<'_>, key: String) -> anyhow::Result<i64> {
            let bytes = ctx.stub().get_state(&key).await?.with_context(|| format!("{key} does not exist"))?;
            Ok(String::from_utf8(bytes.to_vec())?.parse()?)
        }

        #[transaction(evaluate)]
        async fn msp(&self, ctx: &Context<'_>) -> Result<String, String> {
            ctx.client_identity().map(|id| id.msp_id().to_string()).map_err(|e| e.to_string())
        }
    }

    #[tokio::test]
    async fn anyhow_and_explicit_error_types_still_work() {
        let peer = Emulator::in_process(Ledger).await;
        peer.submit("Put", ["a", "5"]).await.unwrap().assert_ok();
        assert_eq!(peer.evaluate("Get", ["a"]).await.unwrap().payload_str(), "5");
        peer.evaluate("Get", ["b"]).await.unwrap().assert_error("b does not exist");
        peer.submit("Put", ["", "1"]).await.unwrap().assert_error("could not write");
        peer.seed([("text", "five")]);
        peer.evaluate("Get", ["text"]).await.unwrap().assert_error("invalid digit found in string");
        assert_eq!(peer.evaluate("Msp", ccaas_testkit::NO_ARGS).await.unwrap().payload_str(), "Org1MSP");
    }
}
