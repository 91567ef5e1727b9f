//! # asset-transfer-basic
//!
//! fabric-samples' `asset-transfer-basic` chaincode (`chaincode-go`) on the contract API: one
//! `#[transaction]` per Go method, with the same names, arguments, JSON bytes and error texts.
//!
//! Assets on the ledger are read with serde, which is stricter than Go's `json.Unmarshal`
//! (e.g. a `null` field fails): only malformed data already on the ledger is answered differently.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ccaas_testkit::EmulatorError> {
//! use ccaas_testkit::Emulator;
//! let peer = Emulator::in_process(asset_transfer_basic::SmartContract).await;
//! peer.submit("CreateAsset", ["asset1", "blue", "5", "Tom", "300"]).await?.assert_ok();
//! let read = peer.evaluate("ReadAsset", ["asset1"]).await?;
//! assert_eq!(read.payload_str(), r#"{"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tom","Size":5}"#);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use ccaas_shim::prelude::*;
use serde::{Deserialize, Serialize};

/// An asset, stored as JSON under its id. The fields are in alphabetical order, as in the Go
/// sample, so every language writes the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default, rename_all = "PascalCase")]
pub struct Asset {
    /// The appraised value (a Go `int`).
    pub appraised_value: isize,
    /// The colour.
    pub color: String,
    /// The id, which is also the ledger key.
    #[serde(rename = "ID")]
    pub id: String,
    /// The current owner.
    pub owner: String,
    /// The size (a Go `int`).
    pub size: isize,
}

impl Asset {
    fn new(id: &str, color: &str, size: isize, owner: &str, appraised_value: isize) -> Self {
        let (id, color, owner) = (id.to_owned(), color.to_owned(), owner.to_owned());
        Asset { appraised_value, color, id, owner, size }
    }
}

/// The contract. `compat = "go"` answers argument errors with contract-api-go's texts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartContract;

#[contract(name = "SmartContract", rename_all = "GoPascalCase", compat = "go")]
impl SmartContract {
    /// Writes six assets.
    #[transaction]
    pub async fn init_ledger(&self, ctx: &Context<'_>) -> Result<()> {
        let assets = [
            Asset::new("asset1", "blue", 5, "Tomoko", 300),
            Asset::new("asset2", "red", 5, "Brad", 400),
            Asset::new("asset3", "green", 10, "Jin Soo", 500),
            Asset::new("asset4", "yellow", 10, "Max", 600),
            Asset::new("asset5", "black", 15, "Adriana", 700),
            Asset::new("asset6", "white", 15, "Michel", 800),
        ];
        for asset in assets {
            let json = ccaas_shim::json::to_vec(&asset)?;
            ctx.stub().put_state(&asset.id, json).await.map_err(|e| failed!("failed to put to world state. {e}"))?;
        }
        Ok(())
    }

    /// Writes a new asset.
    #[transaction]
    pub async fn create_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: isize,
        owner: String,
        appraised_value: isize,
    ) -> Result<()> {
        ensure!(!self.asset_exists(ctx, id.clone()).await?, "the asset {id} already exists");
        let asset = Asset::new(&id, &color, size, &owner, appraised_value);
        Ok(ctx.stub().put_state(&id, ccaas_shim::json::to_vec(&asset)?).await?)
    }

    /// Returns the asset stored under `id`.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset> {
        let json = ctx.stub().get_state(&id).await.map_err(|e| failed!("failed to read from world state: {e}"))?;
        let Some(json) = json else { bail!("the asset {id} does not exist") };
        Ok(serde_json::from_slice(&json)?)
    }

    /// Replaces an existing asset.
    #[transaction]
    pub async fn update_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: isize,
        owner: String,
        appraised_value: isize,
    ) -> Result<()> {
        ensure!(self.asset_exists(ctx, id.clone()).await?, "the asset {id} does not exist");
        let asset = Asset::new(&id, &color, size, &owner, appraised_value);
        Ok(ctx.stub().put_state(&id, ccaas_shim::json::to_vec(&asset)?).await?)
    }

    /// Deletes an existing asset.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>, id: String) -> Result<()> {
        ensure!(self.asset_exists(ctx, id.clone()).await?, "the asset {id} does not exist");
        Ok(ctx.stub().del_state(&id).await?)
    }

    /// Whether an asset is stored under `id`.
    #[transaction(evaluate)]
    pub async fn asset_exists(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        Ok(ctx.stub().get_state(&id).await.map_err(|e| failed!("failed to read from world state: {e}"))?.is_some())
    }

    /// Sets a new owner and returns the previous one.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>, id: String, new_owner: String) -> Result<String> {
        let mut asset = self.read_asset(ctx, id.clone()).await?;
        let old_owner = std::mem::replace(&mut asset.owner, new_owner);
        ctx.stub().put_state(&id, ccaas_shim::json::to_vec(&asset)?).await?;
        Ok(old_owner)
    }

    /// Every asset, in key order. Like Go's nil slice, `None` (no assets) is an empty payload.
    #[transaction(evaluate)]
    pub async fn get_all_assets(&self, ctx: &Context<'_>) -> Result<Option<Vec<Asset>>> {
        let mut rows = ctx.stub().get_state_by_range("", "").await?;
        let mut assets = Vec::new();
        while let Some(row) = rows.next().await? {
            assets.push(serde_json::from_slice(&row.value)?);
        }
        Ok((!assets.is_empty()).then_some(assets))
    }
}
