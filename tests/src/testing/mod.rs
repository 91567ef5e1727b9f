//! Test chaincodes, TLS material, and the ports of tests that start real networks.
//!
//! [`AssetTransfer`] implements the transactions of fabric-samples' `asset-transfer-basic`
//! (same names, arguments, JSON and error texts) on the low-level [`Chaincode`] trait. The
//! conformance checks and the benchmark drive it in this crate's own tests; the
//! `ccaas-test-chaincode` binary serves it over TCP.
//!
//! [`lowlevel`] is fabric-samples' asset-transfer-basic reproduced byte for byte on the low-level
//! trait: the baseline `examples/asset-transfer-basic` (on the contract API) is benchmarked and
//! checked against.

pub mod lowlevel;
pub mod ports;
pub mod tls;

use ccaas_shim::{Chaincode, ChaincodeStub, Response};
use serde::{Deserialize, Serialize};

/// An asset, serialized exactly as fabric-samples' Go chaincode does (fields in alphabetical
/// order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The appraised value.
    #[serde(rename = "AppraisedValue")]
    pub appraised_value: i64,
    /// The color.
    #[serde(rename = "Color")]
    pub color: String,
    /// The asset id (also its key).
    #[serde(rename = "ID")]
    pub id: String,
    /// The owner.
    #[serde(rename = "Owner")]
    pub owner: String,
    /// The size.
    #[serde(rename = "Size")]
    pub size: i64,
}

impl Asset {
    /// An asset from its fields.
    pub fn new(id: &str, color: &str, size: i64, owner: &str, appraised_value: i64) -> Self {
        Asset { appraised_value, color: color.to_string(), id: id.to_string(), owner: owner.to_string(), size }
    }

    /// The JSON the chaincode stores and returns.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an asset always serializes")
    }
}

/// The six assets of `InitLedger`.
pub fn initial_assets() -> Vec<Asset> {
    vec![
        Asset::new("asset1", "blue", 5, "Tomoko", 300),
        Asset::new("asset2", "red", 5, "Brad", 400),
        Asset::new("asset3", "green", 10, "Jin Soo", 500),
        Asset::new("asset4", "yellow", 10, "Max", 600),
        Asset::new("asset5", "black", 15, "Adriana", 700),
        Asset::new("asset6", "white", 15, "Michel", 800),
    ]
}

/// asset-transfer-basic's transactions: `InitLedger`, `CreateAsset id color size owner value`,
/// `ReadAsset id`, `UpdateAsset id color size owner value`, `DeleteAsset id`, `AssetExists id`,
/// `TransferAsset id newOwner` (returns the old owner), `GetAllAssets`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetTransfer;

type TxResult = Result<String, String>;

impl AssetTransfer {
    async fn read(stub: &ChaincodeStub, id: &str) -> Result<Asset, String> {
        let bytes = stub
            .get_state(id)
            .await
            .map_err(|e| format!("failed to read from world state: {e}"))?
            .ok_or_else(|| format!("the asset {id} does not exist"))?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    async fn exists(stub: &ChaincodeStub, id: &str) -> Result<bool, String> {
        stub.get_state(id).await.map(|v| v.is_some()).map_err(|e| format!("failed to read from world state: {e}"))
    }

    async fn put(stub: &ChaincodeStub, asset: &Asset) -> Result<(), String> {
        stub.put_state(&asset.id, asset.to_json()).await.map_err(|e| e.to_string())
    }

    fn parse_asset(args: &[String]) -> Result<Asset, String> {
        let [id, color, size, owner, value] = args else {
            return Err(format!("Incorrect number of params. Expected 5, received {}", args.len()));
        };
        let size = size.parse().map_err(|_| format!("Error converting value {size} to int"))?;
        let value = value.parse().map_err(|_| format!("Error converting value {value} to int"))?;
        Ok(Asset::new(id, color, size, owner, value))
    }

    fn expect<const N: usize>(args: &[String]) -> Result<&[String; N], String> {
        args.try_into().map_err(|_| format!("Incorrect number of params. Expected {N}, received {}", args.len()))
    }

    async fn run(stub: &ChaincodeStub, function: &str, args: &[String]) -> TxResult {
        match function {
            "InitLedger" => {
                for asset in initial_assets() {
                    Self::put(stub, &asset).await.map_err(|e| format!("failed to put to world state. {e}"))?;
                }
                Ok(String::new())
            }
            "CreateAsset" => {
                let asset = Self::parse_asset(args)?;
                if Self::exists(stub, &asset.id).await? {
                    return Err(format!("the asset {} already exists", asset.id));
                }
                Self::put(stub, &asset).await?;
                Ok(String::new())
            }
            "ReadAsset" => {
                let [id] = Self::expect::<1>(args)?;
                Ok(Self::read(stub, id).await?.to_json())
            }
            "UpdateAsset" => {
                let asset = Self::parse_asset(args)?;
                if !Self::exists(stub, &asset.id).await? {
                    return Err(format!("the asset {} does not exist", asset.id));
                }
                Self::put(stub, &asset).await?;
                Ok(String::new())
            }
            "DeleteAsset" => {
                let [id] = Self::expect::<1>(args)?;
                if !Self::exists(stub, id).await? {
                    return Err(format!("the asset {id} does not exist"));
                }
                stub.del_state(id).await.map_err(|e| e.to_string())?;
                Ok(String::new())
            }
            "AssetExists" => {
                let [id] = Self::expect::<1>(args)?;
                Ok(Self::exists(stub, id).await?.to_string())
            }
            "TransferAsset" => {
                let [id, new_owner] = Self::expect::<2>(args)?;
                let mut asset = Self::read(stub, id).await?;
                let old_owner = std::mem::replace(&mut asset.owner, new_owner.clone());
                Self::put(stub, &asset).await?;
                Ok(old_owner)
            }
            "GetAllAssets" => {
                let mut rows = stub.get_state_by_range("", "").await.map_err(|e| e.to_string())?;
                let mut assets = Vec::new();
                while let Some(row) = rows.next().await.map_err(|e| e.to_string())? {
                    let asset: Asset = serde_json::from_slice(&row.value).map_err(|e| e.to_string())?;
                    assets.push(asset);
                }
                serde_json::to_string(&assets).map_err(|e| e.to_string())
            }
            // Not in the Go sample: holds a transaction in flight (graceful shutdown tests).
            "Sleep" => {
                let [millis] = Self::expect::<1>(args)?;
                let millis: u64 = millis.parse().map_err(|_| format!("Error converting value {millis} to uint64"))?;
                tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                Ok(format!("slept {millis} ms"))
            }
            other => Err(format!("Function {other} not found in contract SmartContract")),
        }
    }
}

impl Chaincode for AssetTransfer {
    async fn init(&self, _stub: &ChaincodeStub) -> Response {
        Response::success("Default initiator successful.")
    }

    async fn invoke(&self, stub: &ChaincodeStub) -> Response {
        let (function, args) = stub.function_and_parameters();
        Self::run(stub, &function, &args).await.into()
    }
}
