//! # asset-transfer-events
//!
//! fabric-samples' `asset-transfer-events` chaincode (`chaincode-go`) on the contract API: every
//! transaction that changes an asset sets a chaincode event named after itself, whose payload is
//! the asset's JSON. Clients receive the event when the transaction commits.
//!
//! Assets on the ledger are read with serde, which is stricter than Go's `json.Unmarshal`: only
//! malformed data already on the ledger is answered differently.
#![forbid(unsafe_code)]

use ccaas_shim::prelude::*;
use serde::{Deserialize, Serialize};

/// An asset, stored as JSON under its id (fields in alphabetical order, as in the Go sample).
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

/// The contract. `compat = "go"` answers argument errors with contract-api-go's texts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartContract;

#[contract(name = "SmartContract", rename_all = "GoPascalCase", compat = "go")]
impl SmartContract {
    /// Writes a new asset; event `CreateAsset`.
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
        // As in the Go sample, only an asset that is certainly there stops the creation.
        if let Ok(Some(_)) = ctx.stub().get_state(&id).await {
            bail!("the asset {id} already exists");
        }
        let asset = Asset { appraised_value, color, id, owner, size };
        self.write(ctx, "CreateAsset", &asset).await
    }

    /// Returns the asset stored under `id`.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset> {
        Ok(serde_json::from_slice(&self.read_state(ctx, &id).await?)?)
    }

    /// Replaces an existing asset; event `UpdateAsset`.
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
        self.read_state(ctx, &id).await?;
        let asset = Asset { appraised_value, color, id, owner, size };
        self.write(ctx, "UpdateAsset", &asset).await
    }

    /// Deletes an existing asset; event `DeleteAsset`, with the deleted asset.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>, id: String) -> Result<()> {
        let json = self.read_state(ctx, &id).await?;
        ctx.stub().set_event("DeleteAsset", json)?;
        Ok(ctx.stub().del_state(&id).await?)
    }

    /// Sets a new owner and returns the previous one; event `TransferAsset`.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>, id: String, new_owner: String) -> Result<String> {
        let mut asset = self.read_asset(ctx, id).await?;
        let old_owner = std::mem::replace(&mut asset.owner, new_owner);
        self.write(ctx, "TransferAsset", &asset).await?;
        Ok(old_owner)
    }

    /// The stored JSON of asset `id`.
    async fn read_state(&self, ctx: &Context<'_>, id: &str) -> Result<Vec<u8>> {
        let json = ctx.stub().get_state(id).await.map_err(|e| failed!("failed to read from world state: {e}"))?;
        json.map(Vec::from).ok_or_else(|| failed!("the asset {id} does not exist"))
    }

    /// Sets the event `name` with the asset's JSON as payload, and writes the asset.
    async fn write(&self, ctx: &Context<'_>, name: &str, asset: &Asset) -> Result<()> {
        let json = ccaas_shim::json::to_vec(asset)?;
        ctx.stub().set_event(name, json.clone())?;
        Ok(ctx.stub().put_state(&asset.id, json).await?)
    }
}
