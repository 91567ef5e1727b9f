//! `#[contract(rename_all = "GoPascalCase")]`: transaction names as a Go contract has them
//! (golint's initialisms in capitals), and integer parameters described as integers.

use ccaas_shim::prelude::*;
use serde_json::{json, Value};

use crate::contract_support::Peer;

#[derive(Default)]
pub struct Wallet;

#[contract(rename_all = "GoPascalCase")]
impl Wallet {
    #[transaction(evaluate)]
    async fn client_account_id(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.stub().tx_id().to_string())
    }

    #[transaction(evaluate)]
    async fn get_asset_ids(&self, _ctx: &Context<'_>, first: u64, count: usize) -> Result<Vec<u64>> {
        Ok((first..first + count as u64).collect())
    }

    #[transaction]
    async fn set_url(&self, ctx: &Context<'_>, url: String) -> Result<()> {
        Ok(ctx.stub().put_state("URL", url).await?)
    }

    #[transaction(evaluate, name = "balanceOf")]
    async fn balance_of(&self, _ctx: &Context<'_>, account: String) -> Result<i64> {
        Ok(account.len() as i64)
    }
}

#[test]
fn transaction_names_keep_go_initialisms() {
    let metadata = serde_json::to_value(ContractChaincode::new().contract(Wallet).metadata()).unwrap();
    let names: Vec<&str> = metadata["contracts"]["Wallet"]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ClientAccountID", "GetAssetIDs", "SetURL", "balanceOf"]);
}

#[test]
fn unsigned_integers_are_described_as_integers() {
    let metadata = serde_json::to_value(ContractChaincode::new().contract(Wallet).metadata()).unwrap();
    let get_ids = &metadata["contracts"]["Wallet"]["transactions"][1];
    let integer = json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX });
    let schemas: Vec<&Value> = get_ids["parameters"].as_array().unwrap().iter().map(|p| &p["schema"]).collect();
    assert_eq!(schemas, [&integer, &integer]);
    assert_eq!(get_ids["returns"], json!({ "type": "array", "items": integer }));
}

#[tokio::test]
async fn clients_call_the_go_names() {
    let mut peer = Peer::start(ContractChaincode::new().contract(Wallet)).await;
    assert_eq!(peer.ok(&["ClientAccountID"]).await, "tx0001");
    assert_eq!(peer.ok(&["GetAssetIDs", "7", "3"]).await, "[7,8,9]");
    // contract-api-go's first-letter fallback still applies.
    assert_eq!(peer.ok(&["getAssetIDs", "1", "1"]).await, "[1]");
    peer.ok(&["SetURL", "https://example.com"]).await;
    assert_eq!(peer.state["URL"], "https://example.com");
    assert_eq!(peer.fail(&["ClientAccountId"]).await, "Function ClientAccountId not found in contract Wallet");
}
