//! Before/after/unknown hooks and custom transaction contexts.

use crate::contract_support;

use std::sync::{Arc, Mutex, OnceLock};

use ccaas_shim::contract::{contract, Context, ContractChaincode, TransactionContext};
use ccaas_shim::ChaincodeStub;
use contract_support::Peer;
use serde_json::Value;

/// Data the before hook leaves for the transaction.
#[derive(Default)]
pub struct Caller {
    tag: OnceLock<String>,
}

type Ctx<'a> = Context<'a, Caller>;

pub struct Hooked {
    log: Arc<Mutex<Vec<String>>>,
}

impl Hooked {
    fn record(&self, entry: impl Into<String>) {
        self.log.lock().unwrap().push(entry.into());
    }
}

#[contract]
impl Hooked {
    #[before_transaction]
    async fn check(&self, ctx: &Ctx<'_>) -> Result<(), String> {
        let (function, _) = ctx.stub().function_and_parameters();
        self.record(format!("before {function}"));
        if function == "blocked" {
            return Err(format!("access to {function} denied"));
        }
        let _ = ctx.data().tag.set(format!("tagged by before ({})", ctx.stub().tx_id()));
        Ok(())
    }

    #[transaction]
    async fn double(&self, _ctx: &Ctx<'_>, n: u32) -> u32 {
        self.record("double");
        n * 2
    }

    #[transaction(evaluate)]
    async fn tag(&self, ctx: &Ctx<'_>) -> String {
        self.record("tag");
        ctx.data().tag.get().cloned().unwrap_or_default()
    }

    #[transaction]
    async fn failing(&self, _ctx: &Ctx<'_>) -> Result<(), String> {
        self.record("failing");
        Err("the transaction failed".to_string())
    }

    #[transaction]
    async fn veto(&self, _ctx: &Ctx<'_>) -> &'static str {
        self.record("veto");
        "veto"
    }

    #[after_transaction]
    async fn audit(&self, _ctx: &Ctx<'_>, result: &Value) -> Result<(), String> {
        self.record(format!("after {result}"));
        if result == "veto" {
            return Err("the after hook rejected the result".to_string());
        }
        Ok(())
    }

    #[unknown_transaction]
    async fn fallback(&self, ctx: &Ctx<'_>) -> Result<String, String> {
        let (function, args) = ctx.stub().function_and_parameters();
        self.record(format!("unknown {function}"));
        if function == "strict" {
            return Err(format!("{function} is not a transaction"));
        }
        Ok(format!("no transaction {function} ({} args)", args.len()))
    }
}

async fn hooked() -> (Peer, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let peer = Peer::start(ContractChaincode::new().contract(Hooked { log: Arc::clone(&log) })).await;
    (peer, log)
}

fn take(log: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[tokio::test]
async fn hooks_run_before_and_after_the_transaction() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.ok(&["double", "21"]).await, "42");
    assert_eq!(take(&log), ["before double", "double", "after 42"]);
    assert_eq!(peer.ok(&["Hooked:double", "1"]).await, "2");
    assert_eq!(take(&log), ["before Hooked:double", "double", "after 2"]);
}

#[tokio::test]
async fn the_context_is_shared_by_the_hooks_and_the_transaction() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.ok(&["tag"]).await, "tagged by before (tx0001)");
    assert_eq!(take(&log), ["before tag", "tag", r#"after "tagged by before (tx0001)""#]);
}

#[tokio::test]
async fn a_failing_before_hook_aborts_the_transaction() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.fail(&["blocked"]).await, "access to blocked denied");
    assert_eq!(take(&log), ["before blocked"]);
}

#[tokio::test]
async fn the_after_hook_is_skipped_when_the_transaction_fails_and_can_fail_it() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.fail(&["failing"]).await, "the transaction failed");
    assert_eq!(take(&log), ["before failing", "failing"]);
    assert_eq!(peer.fail(&["veto"]).await, "the after hook rejected the result");
    assert_eq!(take(&log), ["before veto", "veto", r#"after "veto""#]);
}

#[tokio::test]
async fn arguments_are_checked_after_the_before_hook_as_in_go() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.fail(&["double"]).await, "incorrect number of params. Expected 1, received 0");
    assert_eq!(take(&log), ["before double"]);
}

#[tokio::test]
async fn unknown_functions_go_to_the_unknown_hook() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.ok(&["nothing", "a", "b"]).await, "no transaction nothing (2 args)");
    assert_eq!(take(&log), ["before nothing", "unknown nothing", r#"after "no transaction nothing (2 args)""#]);
    assert_eq!(peer.fail(&["strict"]).await, "strict is not a transaction");
    assert_eq!(take(&log), ["before strict", "unknown strict"]);
    // An unknown contract never reaches the contract's hooks.
    assert_eq!(peer.fail(&["Other:double", "1"]).await, "Contract not found with name Other");
    assert!(take(&log).is_empty());
}

#[tokio::test]
async fn hooks_are_not_transactions() {
    let (mut peer, log) = hooked().await;
    assert_eq!(peer.ok(&["check"]).await, "no transaction check (0 args)");
    assert_eq!(take(&log)[1], "unknown check");
}

/// A context type of its own, implementing the trait directly.
pub struct ShoutingContext<'a> {
    stub: &'a ChaincodeStub,
    txid: String,
}

impl<'a> TransactionContext<'a> for ShoutingContext<'a> {
    fn new(stub: &'a ChaincodeStub) -> Self {
        ShoutingContext { stub, txid: stub.tx_id().to_uppercase() }
    }

    fn stub(&self) -> &'a ChaincodeStub {
        self.stub
    }
}

#[derive(Default)]
pub struct Custom;

#[contract]
impl Custom {
    #[transaction(evaluate)]
    async fn whoami(&self, ctx: &ShoutingContext<'_>, greeting: String) -> String {
        format!("{greeting} {} on {}", ctx.txid, ctx.stub().channel_id())
    }

    #[transaction(evaluate)]
    async fn caller(&self, ctx: &ShoutingContext<'_>) -> Result<String, ccaas_shim::identity::IdentityError> {
        Ok(ctx.client_identity()?.msp_id().to_string())
    }

    #[unknown_transaction]
    async fn other(&self, _ctx: &ShoutingContext<'_>) {}
}

#[tokio::test]
async fn a_custom_context_type_is_made_for_every_transaction() {
    let mut peer = Peer::start(ContractChaincode::new().contract(Custom)).await;
    assert_eq!(peer.ok(&["whoami", "hello"]).await, "hello TX0001 on mychannel");
    assert_eq!(peer.ok(&["whoami", "hi"]).await, "hi TX0002 on mychannel");
    assert_eq!(peer.ok(&["anything"]).await, "", "an unknown hook returning () succeeds with no payload");
}
