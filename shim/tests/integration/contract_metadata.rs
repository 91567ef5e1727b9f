//! Contract metadata: an asset-transfer-basic shaped contract's `GetMetadata` JSON, checked
//! against fabric-contract-api's contract schema (`fixtures/contract-schema.json`) and against
//! the shape contract-api-go produces.

use crate::contract_support;

use std::collections::BTreeMap;

use ccaas_shim::contract::{contract, Context, ContractChaincode, ContractError, Info, Object};
use contract_support::Peer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// fabric-samples' `Asset`, with the same JSON names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
#[serde(rename_all = "PascalCase")]
pub struct Asset {
    pub appraised_value: i64,
    pub color: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub owner: String,
    pub size: i64,
}

#[derive(Default)]
pub struct SmartContract;

type Result<T> = std::result::Result<T, ContractError>;

fn failed(e: impl std::fmt::Display) -> ContractError {
    ContractError::failed(e)
}

#[contract(name = "basic", rename_all = "PascalCase", version = "1.0.0")]
impl SmartContract {
    #[transaction]
    async fn init_ledger(&self, ctx: &Context<'_>) -> Result<()> {
        for (i, owner) in ["Tomoko", "Brad"].into_iter().enumerate() {
            let asset = Asset {
                id: format!("asset{}", i + 1),
                color: "blue".into(),
                size: 5,
                owner: owner.into(),
                appraised_value: 300,
            };
            self.put(ctx, &asset).await?;
        }
        Ok(())
    }

    #[transaction]
    async fn create_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: i64,
        owner: String,
        appraised_value: i64,
    ) -> Result<()> {
        if self.asset_exists(ctx, id.clone()).await? {
            return Err(failed(format!("the asset {id} already exists")));
        }
        self.put(ctx, &Asset { id, color, size, owner, appraised_value }).await
    }

    #[transaction(evaluate)]
    async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset> {
        let bytes = ctx.stub().get_state(&id).await.map_err(failed)?;
        let bytes = bytes.ok_or_else(|| failed(format!("the asset {id} does not exist")))?;
        serde_json::from_slice(&bytes).map_err(failed)
    }

    #[transaction]
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: i64,
        owner: String,
        appraised_value: i64,
    ) -> Result<()> {
        if !self.asset_exists(ctx, id.clone()).await? {
            return Err(failed(format!("the asset {id} does not exist")));
        }
        self.put(ctx, &Asset { id, color, size, owner, appraised_value }).await
    }

    #[transaction]
    async fn delete_asset(&self, ctx: &Context<'_>, id: String) -> Result<()> {
        if !self.asset_exists(ctx, id.clone()).await? {
            return Err(failed(format!("the asset {id} does not exist")));
        }
        ctx.stub().del_state(&id).await.map_err(failed)
    }

    #[transaction(evaluate)]
    async fn asset_exists(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        Ok(ctx.stub().get_state(&id).await.map_err(failed)?.is_some())
    }

    #[transaction]
    async fn transfer_asset(&self, ctx: &Context<'_>, id: String, new_owner: String) -> Result<String> {
        let mut asset = self.read_asset(ctx, id).await?;
        let old_owner = std::mem::replace(&mut asset.owner, new_owner);
        self.put(ctx, &asset).await?;
        Ok(old_owner)
    }

    #[transaction(evaluate)]
    async fn get_all_assets(&self, ctx: &Context<'_>) -> Result<Vec<Asset>> {
        let results = ctx.stub().get_state_by_range("", "").await.map_err(failed)?;
        let results = results.collect_all().await.map_err(failed)?;
        results.iter().map(|kv| serde_json::from_slice(&kv.value).map_err(failed)).collect()
    }

    async fn put(&self, ctx: &Context<'_>, asset: &Asset) -> Result<()> {
        let json = serde_json::to_vec(asset).map_err(failed)?;
        ctx.stub().put_state(&asset.id, json).await.map_err(failed)
    }
}

/// Types exercising the rest of the schema mapping.
#[derive(Serialize, Deserialize, Object)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub tracking_id: String,
    pub items: Vec<Asset>,
    pub carrier: Option<Carrier>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Skipped by serde, so absent from the schema; never read by these tests.
    #[serde(skip)]
    #[allow(dead_code)]
    pub cache: u8,
    #[object(optional)]
    pub weight_grams: u32,
    pub labels: BTreeMap<String, bool>,
    pub status: Status,
    #[serde(flatten)]
    pub audit: Audit,
    pub next: Option<Box<Shipment>>,
    pub raw: serde_json::Value,
}

#[derive(Serialize, Deserialize, Object)]
pub struct Carrier {
    pub name: String,
}

#[derive(Serialize, Deserialize, Object)]
pub struct Audit {
    pub created_by: String,
    pub revision: Option<u16>,
}

#[derive(Serialize, Deserialize, Object)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    InTransit,
    Delivered,
    #[serde(rename = "lost!")]
    Lost,
}

#[derive(Serialize, Deserialize, Object)]
pub struct ShipmentId(pub String);

/// A type without `Object`: described as any JSON.
#[derive(Serialize, Deserialize)]
pub struct Opaque {
    pub anything: u8,
}

#[derive(Default)]
pub struct Logistics;

#[contract(title = "Logistics", description = "Moves assets around")]
impl Logistics {
    #[transaction]
    async fn ship(&self, _ctx: &Context<'_>, shipment: Shipment, id: ShipmentId, priority: u8) -> ShipmentId {
        let _ = (shipment, priority);
        id
    }

    #[transaction(evaluate)]
    #[allow(clippy::too_many_arguments)]
    async fn numbers(&self, _ctx: &Context<'_>, a: i8, b: i16, c: u64, d: f32, e: f64, f: [u32; 2]) -> Opaque {
        let _ = (a, b, c, d, e, f);
        Opaque { anything: 0 }
    }
}

fn chaincode() -> ContractChaincode {
    ContractChaincode::new()
        .info(Info::new("asset-transfer-basic", "1.0.0"))
        .contract(SmartContract)
        .contract(Logistics)
}

fn contract_schema() -> Value {
    serde_json::from_str(include_str!("../fixtures/contract-schema.json")).expect("the fixture is JSON")
}

fn validation_errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("a valid JSON schema");
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[tokio::test]
async fn get_metadata_validates_against_the_contract_schema() {
    let mut peer = Peer::start(chaincode()).await;
    let metadata: Value = serde_json::from_str(&peer.ok(&["org.hyperledger.fabric:GetMetadata"]).await).unwrap();
    assert_eq!(validation_errors(&contract_schema(), &metadata), Vec::<String>::new());
}

#[test]
fn the_validator_rejects_metadata_that_breaks_the_schema() {
    let schema = contract_schema();
    let mut metadata = serde_json::to_value(chaincode().metadata()).unwrap();
    metadata["contracts"]["basic"]["transactions"][0]["parameters"] =
        json!([{ "name": "x", "schema": { "oneOf": [] } }]);
    metadata["contracts"]["basic"]["default"] = json!("yes");
    metadata["info"] = json!({ "title": "no version" });
    assert_eq!(validation_errors(&schema, &metadata).len(), 3, "{:?}", validation_errors(&schema, &metadata));
}

#[test]
fn the_metadata_has_contract_api_go_shape() {
    let metadata = serde_json::to_value(chaincode().metadata()).unwrap();
    assert_eq!(
        metadata["$schema"],
        "https://hyperledger.github.io/fabric-chaincode-node/main/api/contract-schema.json"
    );
    assert_eq!(metadata["info"], json!({ "title": "asset-transfer-basic", "version": "1.0.0" }));
    let basic = &metadata["contracts"]["basic"];
    assert_eq!(basic["name"], "basic");
    assert_eq!(basic["default"], true);
    assert_eq!(basic["info"], json!({ "title": "basic", "version": "1.0.0" }));
    let names: Vec<&str> =
        basic["transactions"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "AssetExists",
            "CreateAsset",
            "DeleteAsset",
            "GetAllAssets",
            "InitLedger",
            "ReadAsset",
            "TransferAsset",
            "UpdateAsset"
        ]
    );
    let tx = |name: &str| basic["transactions"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    let string = json!({ "type": "string" });
    let int64 = json!({ "type": "integer", "format": "int64" });
    assert_eq!(
        tx("CreateAsset"),
        json!({
            "name": "CreateAsset",
            "tag": ["submit", "SUBMIT"],
            "parameters": [
                { "name": "id", "schema": string },
                { "name": "color", "schema": string },
                { "name": "size", "schema": int64 },
                { "name": "owner", "schema": string },
                { "name": "appraised_value", "schema": int64 },
            ]
        })
    );
    assert_eq!(
        tx("ReadAsset"),
        json!({
            "name": "ReadAsset",
            "tag": ["evaluate", "EVALUATE"],
            "parameters": [{ "name": "id", "schema": string }],
            "returns": { "$ref": "#/components/schemas/Asset" }
        })
    );
    assert_eq!(tx("AssetExists")["returns"], json!({ "type": "boolean" }));
    assert_eq!(tx("TransferAsset")["returns"], string);
    assert_eq!(
        tx("GetAllAssets"),
        json!({
            "name": "GetAllAssets",
            "tag": ["evaluate", "EVALUATE"],
            "returns": { "type": "array", "items": { "$ref": "#/components/schemas/Asset" } }
        })
    );
    assert_eq!(tx("InitLedger"), json!({ "name": "InitLedger", "tag": ["submit", "SUBMIT"] }));
    assert_eq!(
        metadata["components"]["schemas"]["Asset"],
        json!({
            "$id": "Asset",
            "type": "object",
            "properties": {
                "AppraisedValue": int64,
                "Color": string,
                "ID": string,
                "Owner": string,
                "Size": int64,
            },
            "required": ["AppraisedValue", "Color", "ID", "Owner", "Size"],
            "additionalProperties": false
        })
    );
    assert_eq!(
        metadata["contracts"]["org.hyperledger.fabric"],
        json!({
            "name": "org.hyperledger.fabric",
            "info": { "title": "org.hyperledger.fabric", "version": "latest" },
            "transactions": [{ "name": "GetMetadata", "tag": ["evaluate", "EVALUATE"], "returns": string }],
            "default": false
        })
    );
}

#[test]
fn objects_honor_serde_names_and_optionality() {
    let metadata = serde_json::to_value(chaincode().metadata()).unwrap();
    let logistics = &metadata["contracts"]["Logistics"];
    assert_eq!(
        logistics["info"],
        json!({ "title": "Logistics", "description": "Moves assets around", "version": "latest" })
    );
    let ship = &logistics["transactions"][1];
    assert_eq!(ship["name"], "ship");
    assert_eq!(ship["parameters"][0]["schema"], json!({ "$ref": "#/components/schemas/Shipment" }));
    assert_eq!(ship["parameters"][1]["schema"], json!({ "type": "string" }), "a newtype is its field");
    assert_eq!(
        ship["parameters"][2]["schema"],
        json!({ "type": "integer", "format": "int32", "minimum": 0, "maximum": 255 })
    );
    assert_eq!(ship["returns"], json!({ "type": "string" }));

    let shipment = &metadata["components"]["schemas"]["Shipment"];
    assert_eq!(
        shipment["properties"],
        json!({
            "trackingId": { "type": "string" },
            "items": { "type": "array", "items": { "$ref": "Asset" } },
            "carrier": { "$ref": "Carrier" },
            "notes": { "type": "array", "items": { "type": "string" } },
            "weightGrams": { "type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295_u64 },
            "labels": { "type": "object", "additionalProperties": { "type": "boolean" } },
            "status": { "type": "string", "enum": ["IN_TRANSIT", "DELIVERED", "lost!"] },
            "created_by": { "type": "string" },
            "revision": { "type": "integer", "format": "int64", "minimum": 0, "maximum": 65535 },
            "next": { "$ref": "Shipment" },
            "raw": {}
        })
    );
    assert_eq!(shipment["required"], json!(["trackingId", "items", "labels", "status", "created_by", "raw"]));
    assert_eq!(shipment["additionalProperties"], false);
    assert!(metadata["components"]["schemas"]["Carrier"].is_object());

    let numbers = &logistics["transactions"][0];
    let schemas: Vec<&Value> = numbers["parameters"].as_array().unwrap().iter().map(|p| &p["schema"]).collect();
    assert_eq!(
        schemas,
        [
            &json!({ "type": "integer", "format": "int8" }),
            &json!({ "type": "integer", "format": "int16" }),
            &json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX }),
            &json!({ "type": "number", "format": "float" }),
            &json!({ "type": "number", "format": "double" }),
            &json!({ "type": "array", "items": { "type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295_u64 } }),
        ]
    );
    assert_eq!(numbers["returns"], json!({}), "a type without Object is any JSON");
}

#[test]
fn serialized_objects_match_their_component_schema() {
    let metadata = chaincode().metadata();
    let mut asset_schema = serde_json::to_value(&metadata.components.schemas["Asset"]).unwrap();
    asset_schema.as_object_mut().unwrap().remove("$id");
    let asset =
        Asset { appraised_value: 300, color: "blue".into(), id: "asset1".into(), owner: "Tomoko".into(), size: 5 };
    assert_eq!(validation_errors(&asset_schema, &serde_json::to_value(&asset).unwrap()), Vec::<String>::new());
    let wrong = json!({ "ID": "asset1", "Color": "blue", "Size": "5", "Owner": "x", "AppraisedValue": 1, "Extra": 1 });
    assert_eq!(validation_errors(&asset_schema, &wrong).len(), 2);
}

#[tokio::test]
async fn the_asset_transfer_contract_runs() {
    let mut peer = Peer::start(chaincode()).await;
    peer.ok(&["InitLedger"]).await;
    assert_eq!(peer.ok(&["AssetExists", "asset1"]).await, "true");
    peer.ok(&["CreateAsset", "asset9", "red", "3", "Max", "100"]).await;
    assert_eq!(
        peer.fail(&["CreateAsset", "asset9", "red", "3", "Max", "100"]).await,
        "the asset asset9 already exists"
    );
    assert_eq!(peer.ok(&["TransferAsset", "asset9", "Ann"]).await, "Max");
    assert_eq!(
        peer.ok(&["basic:ReadAsset", "asset9"]).await,
        r#"{"AppraisedValue":100,"Color":"red","ID":"asset9","Owner":"Ann","Size":3}"#
    );
    peer.ok(&["DeleteAsset", "asset9"]).await;
    assert_eq!(peer.ok(&["AssetExists", "asset9"]).await, "false");
    assert_eq!(
        peer.fail(&["UpdateAsset", "asset9", "red", "x", "Max", "100"]).await,
        "error managing parameter size. conversion error. cannot convert passed value x to i64"
    );
}

// ------------------------------------------------------------------ META-INF/metadata.json

fn metadata_file(json: &Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.json");
    std::fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    (dir, path)
}

#[tokio::test]
async fn a_metadata_file_replaces_the_parts_it_gives() {
    // A file written by hand, as for contract-api-go: its own info and a contract description
    // (with a field the schema allows and the model drops, and no tags).
    let file = json!({
        "info": { "title": "Assets", "version": "3.1.0", "termsOfService": "none" },
        "contracts": {
            "basic": {
                "name": "basic",
                "info": { "title": "Basic", "version": "3.1.0" },
                "transactions": [{ "name": "ReadAsset", "parameters": [{ "name": "id", "schema": { "type": "string" } }] }]
            }
        }
    });
    let (_dir, path) = metadata_file(&file);
    let mut peer = Peer::start(chaincode().metadata_file(&path).unwrap()).await;
    let served: Value = serde_json::from_str(&peer.ok(&["org.hyperledger.fabric:GetMetadata"]).await).unwrap();
    assert_eq!(validation_errors(&contract_schema(), &served), Vec::<String>::new());
    assert_eq!(served["info"], json!({ "title": "Assets", "version": "3.1.0" }));
    assert_eq!(served["contracts"].as_object().unwrap().keys().collect::<Vec<_>>(), ["basic"]);
    assert_eq!(served["contracts"]["basic"]["transactions"][0]["name"], "ReadAsset");
    assert_eq!(served["contracts"]["basic"]["default"], false);
    // The file has no components: the generated ones are served.
    assert!(served["components"]["schemas"]["Asset"].is_object(), "{}", served["components"]);
    // It only describes: the contracts still run as written.
    peer.ok(&["InitLedger"]).await;
    assert!(peer.ok(&["ReadAsset", "asset1"]).await.contains("\"ID\":\"asset1\""));
}

#[tokio::test]
async fn a_metadata_file_with_no_contracts_keeps_the_generated_ones() {
    let (_dir, path) = metadata_file(&json!({ "info": { "title": "Assets", "version": "2" }, "contracts": {} }));
    let metadata = chaincode().metadata_file(&path).unwrap().metadata();
    assert_eq!((metadata.info.title.as_str(), metadata.info.version.as_str()), ("Assets", "2"));
    let generated = chaincode().metadata();
    assert_eq!(metadata.contracts, generated.contracts);
    assert_eq!(metadata.components, generated.components);
}

#[test]
fn a_bad_metadata_file_is_refused_with_its_path_and_the_reason() {
    let cases = [
        (json!({ "info": { "title": "t" }, "contracts": {} }), "missing field `version`"),
        (json!({ "info": { "title": "t", "version": "1" } }), "missing field `contracts`"),
        (
            json!({ "info": { "title": "t", "version": "1" }, "contracts": { "c": { "transactions": [] } } }),
            "missing field `name`",
        ),
        (
            json!({ "info": { "title": "t", "version": "1" }, "contracts": { "c": { "name": "c", "transactions": {} } } }),
            "invalid type: map, expected a sequence",
        ),
    ];
    for (json, reason) in cases {
        let (_dir, path) = metadata_file(&json);
        let error = chaincode().metadata_file(&path).unwrap_err().to_string();
        assert!(error.starts_with(&format!("the contract metadata file {} does not match", path.display())), "{error}");
        assert!(error.contains(reason), "{error}");
    }
    let (dir, path) = metadata_file(&json!({}));
    std::fs::write(&path, "{ not json").unwrap();
    assert!(chaincode().metadata_file(&path).unwrap_err().to_string().contains("key must be a string"));
    let missing = dir.path().join("absent.json");
    let error = chaincode().metadata_file(&missing).unwrap_err().to_string();
    assert!(error.starts_with(&format!("cannot read the contract metadata file {}", missing.display())), "{error}");
}

#[test]
fn without_a_file_beside_the_executable_the_generated_metadata_is_served() {
    // The test binary's directory has no META-INF (contract-api-go's convention); nothing changes.
    let executable = std::env::current_exe().unwrap();
    assert!(!executable.parent().unwrap().join("META-INF/metadata.json").exists());
    let chaincode = chaincode().metadata_file_beside_executable().unwrap();
    assert_eq!(chaincode.metadata(), self::chaincode().metadata());
}
