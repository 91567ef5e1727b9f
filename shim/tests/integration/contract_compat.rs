//! `#[contract(compat = "go")]`: contract-api-go's argument handling, byte for byte.

use crate::contract_support;

use ccaas_shim::contract::{contract, Context, ContractChaincode};
use contract_support::Peer;

#[derive(Default)]
pub struct Ported;

#[contract(name = "SmartContract", rename_all = "PascalCase", compat = "go")]
impl Ported {
    #[transaction]
    async fn create_asset(&self, _ctx: &Context<'_>, id: String, size: isize, value: i64) -> String {
        format!("{id}:{size}:{value}")
    }

    #[transaction(evaluate)]
    async fn flags(&self, _ctx: &Context<'_>, a: bool, b: u8, c: f64, d: usize) -> String {
        format!("{a}:{b}:{c}:{d}")
    }

    #[transaction(evaluate)]
    async fn nothing(&self, _ctx: &Context<'_>) -> &'static str {
        "ok"
    }

    #[transaction(evaluate)]
    async fn wrapped(&self, _ctx: &Context<'_>, n: Option<i32>) -> String {
        format!("{n:?}")
    }
}

async fn peer() -> Peer {
    Peer::start(ContractChaincode::new().contract(Ported)).await
}

#[tokio::test]
async fn surplus_arguments_are_ignored_and_missing_ones_fail() {
    let mut peer = peer().await;
    assert_eq!(peer.ok(&["Nothing", "extra", "more"]).await, "ok");
    assert_eq!(peer.ok(&["CreateAsset", "a", "1", "2", "surplus"]).await, "a:1:2");
    assert_eq!(peer.fail(&["CreateAsset", "a", "1"]).await, "incorrect number of params. Expected 3, received 2");
}

#[tokio::test]
async fn conversion_errors_name_parameters_by_position_and_types_as_go_does() {
    let mut peer = peer().await;
    assert_eq!(
        peer.fail(&["CreateAsset", "a", "5kg", "2"]).await,
        "error managing parameter param1. conversion error. cannot convert passed value 5kg to int"
    );
    assert_eq!(
        peer.fail(&["CreateAsset", "a", "5", "2.5"]).await,
        "error managing parameter param2. conversion error. cannot convert passed value 2.5 to int64"
    );
    assert_eq!(
        peer.fail(&["Flags", "yes", "1", "1", "1"]).await,
        "error managing parameter param0. conversion error. cannot convert passed value yes to bool"
    );
    assert_eq!(
        peer.fail(&["Flags", "true", "256", "1", "1"]).await,
        "error managing parameter param1. conversion error. cannot convert passed value 256 to uint8"
    );
    assert_eq!(
        peer.fail(&["Flags", "true", "1", "x", "1"]).await,
        "error managing parameter param2. conversion error. cannot convert passed value x to float64"
    );
    assert_eq!(
        peer.fail(&["Flags", "true", "1", "1", "-10"]).await,
        "error managing parameter param3. conversion error. cannot convert passed value -10 to uint"
    );
    // Not a bare primitive: the Rust name of the type that failed.
    assert_eq!(
        peer.fail(&["Wrapped", "x"]).await,
        "error managing parameter param0. conversion error. cannot convert passed value x to i32"
    );
    assert_eq!(peer.ok(&["Wrapped", ""]).await, "None");
}

#[tokio::test]
async fn a_lowercased_call_names_no_parameter() {
    let mut peer = peer().await;
    assert_eq!(peer.ok(&["createAsset", "a", "1", "2"]).await, "a:1:2");
    assert_eq!(
        peer.fail(&["createAsset", "a", "1", "x"]).await,
        "error managing parameter. conversion error. cannot convert passed value x to int64"
    );
    assert_eq!(
        peer.fail(&["SmartContract:createAsset", "a", "x", "1"]).await,
        "error managing parameter. conversion error. cannot convert passed value x to int"
    );
    assert_eq!(peer.fail(&["createasset"]).await, "Function createasset not found in contract SmartContract");
}

#[test]
fn the_metadata_names_parameters_by_position() {
    let metadata = ContractChaincode::new().contract(Ported).metadata();
    let create = &metadata.contracts["SmartContract"].transactions[0];
    assert_eq!(create.name, "CreateAsset");
    let names: Vec<&str> = create.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["param0", "param1", "param2"]);
    assert_eq!(create.parameters[1].schema, serde_json::json!({"type": "integer", "format": "int64"}));
}
