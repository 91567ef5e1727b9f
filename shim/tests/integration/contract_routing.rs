//! Routing, typed arguments, results and errors of `#[contract]` chaincodes, through an
//! in-process peer connection.

use crate::contract_support;

use ccaas_shim::contract::{contract, Context, ContractChaincode, ContractError, Object};
use contract_support::Peer;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Object)]
#[serde(rename_all = "PascalCase")]
pub struct Asset {
    #[serde(rename = "ID")]
    pub id: String,
    pub owner: String,
    pub size: i64,
}

#[derive(Default)]
pub struct Assets;

#[contract(rename_all = "PascalCase")]
impl Assets {
    #[transaction]
    async fn create_asset(&self, ctx: &Context<'_>, asset: Asset) -> Result<(), ContractError> {
        let json = serde_json::to_vec(&asset).map_err(ContractError::failed)?;
        ctx.stub().put_state(&self.key(&asset.id), json).await.map_err(ContractError::failed)
    }

    #[transaction(evaluate)]
    async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset, String> {
        let bytes = ctx.stub().get_state(&self.key(&id)).await.map_err(|e| e.to_string())?;
        let bytes = bytes.ok_or_else(|| format!("the asset {id} does not exist"))?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    #[transaction(evaluate)]
    async fn echo(&self, _ctx: &Context<'_>, text: String) -> String {
        text
    }

    #[transaction(evaluate)]
    async fn add(&self, _ctx: &Context<'_>, a: i32, b: i64) -> i64 {
        i64::from(a) + b
    }

    #[transaction(evaluate)]
    async fn negate(&self, _ctx: &Context<'_>, flag: bool) -> bool {
        !flag
    }

    #[transaction(evaluate)]
    async fn sum(&self, _ctx: &Context<'_>, values: Vec<u32>, scale: Option<u32>) -> u32 {
        values.iter().sum::<u32>() * scale.unwrap_or(1)
    }

    #[transaction]
    async fn nothing(&self, _ctx: &Context<'_>) {}

    #[transaction(evaluate, name = "Explicit")]
    async fn renamed(&self, _ctx: &Context<'_>) -> &'static str {
        "explicitly named"
    }

    #[transaction]
    async fn fail(&self, _ctx: &Context<'_>, message: String) -> Result<String, String> {
        Err(message)
    }

    /// Not a transaction: clients cannot call it.
    fn key(&self, id: &str) -> String {
        format!("asset:{id}")
    }
}

#[derive(Default)]
pub struct Counter;

#[contract(name = "Tally")]
impl Counter {
    #[transaction]
    async fn increment(&self, ctx: &Context<'_>, key: String, by: u64) -> Result<u64, ContractError> {
        let stub = ctx.stub();
        let current = stub.get_state(&key).await.map_err(ContractError::failed)?;
        let current: u64 = current.map_or(0, |b| String::from_utf8_lossy(&b).parse().unwrap_or(0));
        stub.put_state(&key, (current + by).to_string()).await.map_err(ContractError::failed)?;
        Ok(current + by)
    }

    #[transaction(evaluate)]
    async fn echo(&self, _ctx: &Context<'_>, text: String) -> String {
        format!("tally:{text}")
    }
}

async fn peer() -> Peer {
    Peer::start(ContractChaincode::new().contract(Assets).contract(Counter)).await
}

#[tokio::test]
async fn bare_names_go_to_the_first_contract_and_qualified_names_to_theirs() {
    let mut peer = peer().await;
    assert_eq!(peer.ok(&["Echo", "hi"]).await, "hi");
    assert_eq!(peer.ok(&["Assets:Echo", "hi"]).await, "hi");
    assert_eq!(peer.ok(&["Tally:echo", "hi"]).await, "tally:hi");
    assert_eq!(peer.ok(&["Explicit"]).await, "explicitly named");
}

#[tokio::test]
async fn an_explicit_default_contract_takes_bare_names() {
    let chaincode = ContractChaincode::new().contract(Assets).default_contract(Counter);
    assert_eq!(chaincode.default_name(), "Tally");
    let mut peer = Peer::start(chaincode).await;
    assert_eq!(peer.ok(&["echo", "hi"]).await, "tally:hi");
    assert_eq!(peer.ok(&["Assets:Echo", "hi"]).await, "hi");
}

#[tokio::test]
async fn a_lowercase_first_letter_finds_the_transaction_as_in_go() {
    let mut peer = peer().await;
    assert_eq!(peer.ok(&["echo", "x"]).await, "x");
    assert_eq!(peer.ok(&["Assets:add", "1", "2"]).await, "3");
    // Only the first letter is adjusted, and only upwards.
    assert_eq!(peer.fail(&["ECHO", "x"]).await, "Function ECHO not found in contract Assets");
}

#[tokio::test]
async fn unknown_names_fail_with_contract_api_go_messages() {
    let mut peer = peer().await;
    assert_eq!(peer.fail(&["Nope:Echo", "x"]).await, "Contract not found with name Nope");
    assert_eq!(peer.fail(&["Missing"]).await, "Function Missing not found in contract Assets");
    assert_eq!(peer.fail(&["Tally:Missing"]).await, "Function Missing not found in contract Tally");
    assert_eq!(peer.fail(&["Assets:"]).await, "Blank function name passed");
    assert_eq!(peer.fail(&[]).await, "Blank function name passed");
    // Private helpers are not transactions.
    assert_eq!(peer.fail(&["key", "a"]).await, "Function key not found in contract Assets");
}

#[tokio::test]
async fn arguments_are_converted_to_their_types() {
    let mut peer = peer().await;
    assert_eq!(peer.ok(&["Add", "40", "2"]).await, "42");
    assert_eq!(peer.ok(&["Add", "-1", "9000000000"]).await, "8999999999");
    assert_eq!(peer.ok(&["Add", "", "5"]).await, "5", "an empty number is zero, as in Go");
    assert_eq!(peer.ok(&["Negate", "true"]).await, "false");
    assert_eq!(peer.ok(&["Negate", "F"]).await, "true");
    assert_eq!(peer.ok(&["Sum", "[1,2,3]", ""]).await, "6");
    assert_eq!(peer.ok(&["Sum", "[1,2,3]", "2"]).await, "12");
    assert_eq!(peer.ok(&["Echo", "\"quoted\" {not json}"]).await, "\"quoted\" {not json}");
}

#[tokio::test]
async fn bad_arguments_name_the_parameter_and_the_type() {
    let mut peer = peer().await;
    assert_eq!(
        peer.fail(&["Add", "x", "1"]).await,
        "error managing parameter a. conversion error. cannot convert passed value x to i32"
    );
    assert_eq!(
        peer.fail(&["Add", "1", "1.5"]).await,
        "error managing parameter b. conversion error. cannot convert passed value 1.5 to i64"
    );
    assert_eq!(
        peer.fail(&["Negate", "yes"]).await,
        "error managing parameter flag. conversion error. cannot convert passed value yes to bool"
    );
    let message = peer.fail(&["Sum", "[1,-2]", ""]).await;
    assert!(
        message.starts_with(
            "error managing parameter values. conversion error. value [1,-2] was not passed in expected format Vec<u32>: "
        ),
        "{message}"
    );
    let message = peer.fail(&["CreateAsset", r#"{"ID":"a1","Owner":"Tom"}"#]).await;
    assert!(
        message.starts_with(
            r#"error managing parameter asset. conversion error. value {"ID":"a1","Owner":"Tom"} was not passed in expected format Asset: missing field `Size`"#
        ),
        "{message}"
    );
}

#[tokio::test]
async fn the_argument_count_must_match() {
    let mut peer = peer().await;
    assert_eq!(peer.fail(&["Add", "1"]).await, "incorrect number of params. Expected 2, received 1");
    assert_eq!(peer.fail(&["Add", "1", "2", "3"]).await, "incorrect number of params. Expected 2, received 3");
    assert_eq!(peer.fail(&["Nothing", "extra"]).await, "incorrect number of params. Expected 0, received 1");
}

#[tokio::test]
async fn results_become_payloads_and_errors_become_status_500() {
    let mut peer = peer().await;
    let asset = Asset { id: "a1".into(), owner: "Tom".into(), size: 5 };
    let json = serde_json::to_string(&asset).unwrap();
    assert_eq!(json, r#"{"ID":"a1","Owner":"Tom","Size":5}"#);
    assert_eq!(peer.ok(&["CreateAsset", &json]).await, "");
    assert!(peer.state.contains_key("asset:a1"));
    assert_eq!(serde_json::from_str::<Asset>(&peer.ok(&["ReadAsset", "a1"]).await).unwrap(), asset);
    assert_eq!(peer.fail(&["ReadAsset", "a9"]).await, "the asset a9 does not exist");
    assert_eq!(peer.fail(&["Fail", "boom"]).await, "boom");
    assert_eq!(peer.ok(&["Nothing"]).await, "");
    assert_eq!(peer.ok(&["Tally:increment", "k", "2"]).await, "2");
    assert_eq!(peer.ok(&["Tally:increment", "k", "3"]).await, "5");
}

#[tokio::test]
async fn init_without_a_function_succeeds_and_otherwise_routes_like_invoke() {
    let mut peer = peer().await;
    let response = peer.init(&[]).await;
    assert_eq!((response.status, &response.payload[..]), (200, &b"Default initiator successful."[..]));
    let response = peer.init(&[""]).await;
    assert_eq!(&response.payload[..], b"Default initiator successful.");
    let response = peer.init(&["Tally:echo", "x"]).await;
    assert_eq!((response.status, &response.payload[..]), (200, &b"tally:x"[..]));
}

#[tokio::test]
async fn the_system_contract_serves_the_metadata() {
    let mut peer = peer().await;
    let json = peer.ok(&["org.hyperledger.fabric:GetMetadata"]).await;
    let metadata: serde_json::Value = serde_json::from_str(&json).unwrap();
    let contracts = metadata["contracts"].as_object().unwrap();
    assert_eq!(contracts.keys().collect::<Vec<_>>(), ["Assets", "Tally", "org.hyperledger.fabric"]);
    assert_eq!(metadata["contracts"]["Assets"]["default"], true);
    assert_eq!(metadata["contracts"]["Tally"]["default"], false);
    assert_eq!(peer.ok(&["org.hyperledger.fabric:getMetadata"]).await, json);
    assert_eq!(
        peer.fail(&["org.hyperledger.fabric:Nope"]).await,
        "Function Nope not found in contract org.hyperledger.fabric"
    );
}

#[test]
#[should_panic(expected = "multiple contracts being merged into chaincode with name Assets")]
fn two_contracts_cannot_share_a_name() {
    let _ = ContractChaincode::new().contract(Assets).contract(Assets);
}

#[test]
fn transactions_stay_ordinary_methods() {
    // The impl block is kept as written, minus the attributes.
    let assets = Assets;
    assert_eq!(assets.key("a"), "asset:a");
}
