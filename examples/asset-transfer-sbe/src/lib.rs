//! # asset-transfer-sbe
//!
//! fabric-samples' `asset-transfer-sbe` chaincode (`chaincode-typescript`, the sample has no Go
//! version) on the contract API: each asset key carries its own endorsement policy (state-based
//! endorsement), built with [`ccaas_shim::policy`]. Creating an asset requires, from then on,
//! an endorsement by the creator's org for every change of it; a transfer hands that right to
//! the new owner's org. The peers enforce the policy when they validate the transaction.
//!
//! `Value` is an integer here (a JavaScript `number` in the sample), and argument errors have the
//! contract API's texts, not fabric-contract-api-node's.
#![forbid(unsafe_code)]

use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
use ccaas_shim::prelude::*;
use serde::{Deserialize, Serialize};

/// An asset, stored as JSON under its id (JavaScript's `JSON.stringify` of the sample's class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(rename_all = "PascalCase")]
pub struct Asset {
    /// The asset id.
    #[serde(rename = "ID")]
    pub id: String,
    /// The value.
    pub value: i64,
    /// The owner.
    pub owner: String,
    /// The owner's org (MSP ID), whose peers must endorse changes of the asset.
    pub owner_org: String,
}

/// The contract.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetContract;

#[contract(name = "AssetContract", rename_all = "GoPascalCase")]
impl AssetContract {
    /// Creates an asset owned by `owner` of the caller's org, which must endorse its changes.
    #[transaction]
    pub async fn create_asset(&self, ctx: &Context<'_>, asset_id: String, value: i64, owner: String) -> Result<()> {
        ensure!(!self.asset_exists(ctx, asset_id.clone()).await?, "The asset {asset_id} already exists");
        let owner_org = ctx.client_identity()?.msp_id().to_owned();
        let asset = Asset { id: asset_id.clone(), value, owner, owner_org };
        ctx.stub().put_state(&asset_id, serde_json::to_vec(&asset)?).await?;
        set_state_based_endorsement(ctx, &asset_id, &[&asset.owner_org]).await
    }

    /// The stored asset JSON, as it is.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<String> {
        match ctx.stub().get_state(&asset_id).await? {
            Some(json) => Ok(String::from_utf8_lossy(&json).into_owned()),
            None => bail!("The asset {asset_id} does not exist"),
        }
    }

    /// Sets the asset's value (endorsed by the owner's org).
    #[transaction]
    pub async fn update_asset(&self, ctx: &Context<'_>, asset_id: String, new_value: i64) -> Result<()> {
        let mut asset: Asset = serde_json::from_str(&self.read_asset(ctx, asset_id.clone()).await?)?;
        asset.value = new_value;
        Ok(ctx.stub().put_state(&asset_id, serde_json::to_vec(&asset)?).await?)
    }

    /// Deletes the asset (endorsed by the owner's org).
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<()> {
        ensure!(self.asset_exists(ctx, asset_id.clone()).await?, "The asset {asset_id} does not exist");
        Ok(ctx.stub().del_state(&asset_id).await?)
    }

    /// Gives the asset to `new_owner` of `new_owner_org` (endorsed by the current owner's org);
    /// from then on `new_owner_org` must endorse its changes.
    #[transaction]
    pub async fn transfer_asset(
        &self,
        ctx: &Context<'_>,
        asset_id: String,
        new_owner: String,
        new_owner_org: String,
    ) -> Result<()> {
        let mut asset: Asset = serde_json::from_str(&self.read_asset(ctx, asset_id.clone()).await?)?;
        asset.owner = new_owner;
        asset.owner_org = new_owner_org;
        ctx.stub().put_state(&asset_id, serde_json::to_vec(&asset)?).await?;
        set_state_based_endorsement(ctx, &asset.id, &[&asset.owner_org]).await
    }

    /// Whether the asset exists.
    #[transaction(evaluate)]
    pub async fn asset_exists(&self, ctx: &Context<'_>, asset_id: String) -> Result<bool> {
        Ok(ctx.stub().get_state(&asset_id).await?.is_some())
    }
}

/// Requires a member of each of `orgs` to endorse every future change of `key`.
async fn set_state_based_endorsement(ctx: &Context<'_>, key: &str, orgs: &[&str]) -> Result<()> {
    let mut policy = KeyEndorsementPolicy::new();
    policy.add_orgs(RoleType::Member, orgs)?;
    Ok(ctx.stub().set_state_validation_parameter(key, policy.policy()?).await?)
}
