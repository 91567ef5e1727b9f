//! The token contract of `token/contract.rs` (about 100 lines: the prelude, `?`, Go's names), unit
//! tested with the in-process emulator: minting, transfers, balances, events, and the access
//! rule that refuses minting to Org2MSP. `cli.rs` shows the same refusal through `ccaas-peer
//! --creator Org2MSP`.

#[path = "token/contract.rs"]
pub mod contract;

use ccaas_shim::contract::ContractChaincode;
use ccaas_testkit::{Emulator, Identity, NO_ARGS};
use serde_json::{json, Value};

pub use contract::Token;

#[tokio::test]
async fn org1_mints_transfers_and_everyone_sees_the_balances() {
    let peer = Emulator::in_process(Token).await;
    let minter = Identity::default_client(); // User1 of Org1MSP
    let alice = Identity::generate("Org2MSP", "alice");
    let alice_id = alice.client_id();

    let minted = peer.submit("Mint", ["100"]).await.unwrap();
    minted
        .assert_ok()
        .assert_event("Transfer", &json!({"from": "0x0", "to": minter.client_id(), "value": 100}).to_string());

    let sent = peer.submit("Transfer", [alice_id.as_str(), "30"]).await.unwrap();
    sent.assert_ok();
    let event: Value = sent.event_json("Transfer");
    assert_eq!(event, json!({"from": minter.client_id(), "to": alice_id, "value": 30}));

    assert_eq!(peer.evaluate("BalanceOf", [&alice_id]).await.unwrap().payload_str(), "30");
    assert_eq!(peer.evaluate("ClientAccountBalance", NO_ARGS).await.unwrap().payload_str(), "70");
    let as_alice = peer.tx("ClientAccountBalance").creator(alice.clone()).evaluate().await.unwrap();
    assert_eq!(as_alice.payload_str(), "30");
    let id = peer.tx("ClientAccountID").creator(alice.clone()).evaluate().await.unwrap();
    assert_eq!(id.payload_str(), alice_id);
    assert_eq!(peer.evaluate("TotalSupply", NO_ARGS).await.unwrap().payload_str(), "100");

    // Alice (of Org2) may transfer what she holds, but not more.
    let back = peer.tx("Transfer").args([minter.client_id().as_str(), "10"]).creator(alice.clone());
    back.submit().await.unwrap().assert_ok();
    let too_much = peer.tx("Transfer").args([minter.client_id().as_str(), "21"]).creator(alice.clone());
    too_much.submit().await.unwrap().assert_error(&format!("client account {alice_id} has insufficient funds"));
    assert_eq!(peer.evaluate("BalanceOf", [&alice_id]).await.unwrap().payload_str(), "20");
}

#[tokio::test]
async fn org2_may_not_mint() {
    let peer = Emulator::in_process(Token).await;
    let bob = Identity::generate("Org2MSP", "bob");
    let refused = peer.tx("Mint").arg("50").creator(bob.clone()).submit().await.unwrap();
    refused.assert_error("client is not authorized to mint new tokens").assert_no_event();
    assert!(refused.writes.is_empty() && !refused.is_committed());
    assert_eq!(peer.evaluate("TotalSupply", NO_ARGS).await.unwrap().payload_str(), "0");

    // The same call by a client of Org1MSP is accepted.
    let carol = Identity::generate("Org1MSP", "carol");
    peer.tx("Mint").arg("50").creator(carol.clone()).submit().await.unwrap().assert_ok();
    let balance = peer.tx("ClientAccountBalance").creator(carol).evaluate().await.unwrap();
    assert_eq!(balance.payload_str(), "50");
}

#[tokio::test]
async fn bad_amounts_are_refused_before_anything_is_written() {
    let peer = Emulator::in_process(Token).await;
    peer.submit("Mint", ["0"]).await.unwrap().assert_error("mint amount must be a positive integer");
    peer.submit("Mint", ["-5"])
        .await
        .unwrap()
        .assert_error("error managing parameter amount. conversion error. cannot convert passed value -5 to u64");
    peer.submit("Mint", [u64::MAX.to_string()]).await.unwrap().assert_ok();
    peer.submit("Mint", ["1"]).await.unwrap().assert_error("the amount overflows the balance");
    let me = Identity::default_client().client_id();
    peer.submit("Transfer", [me.as_str(), "1"])
        .await
        .unwrap()
        .assert_error("cannot transfer to and from same client account");
}

#[test]
fn the_metadata_has_go_names_and_integer_amounts() {
    let metadata = serde_json::to_value(ContractChaincode::new().contract(Token).metadata()).unwrap();
    let transactions = metadata["contracts"]["Token"]["transactions"].as_array().unwrap();
    let names: Vec<&str> = transactions.iter().map(|t| t["name"].as_str().unwrap()).collect();
    // Sorted by name, as contract-api-go lists them.
    assert_eq!(names, ["BalanceOf", "ClientAccountBalance", "ClientAccountID", "Mint", "TotalSupply", "Transfer"]);
    let amount = &transactions[3]["parameters"][0];
    assert_eq!(amount["name"], "amount");
    assert_eq!(amount["schema"], json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}));
}
