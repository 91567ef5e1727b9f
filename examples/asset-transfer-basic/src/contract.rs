//! [`SmartContract`]: the Go sample's contract, on the contract API.

use ccaas_shim::contract::{contract, Context};

use crate::transactions;
use crate::{Asset, TxError};

/// The asset-transfer-basic contract, named `SmartContract` like the Go struct, so clients may
/// call `ReadAsset` or `SmartContract:ReadAsset`.
///
/// `compat = "go"` makes argument handling contract-api-go's: surplus arguments are ignored,
/// parameters are `param0`, `param1`, ... in errors and metadata, and `size` and
/// `appraised_value` are Go `int`s (`isize`), so a bad one fails with `error managing parameter
/// param2. conversion error. cannot convert passed value five to int`.
///
/// Each transaction is one call into [`transactions`], which holds the sample's logic over any
/// [`WorldState`](crate::WorldState).
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartContract;

#[contract(name = "SmartContract", rename_all = "PascalCase", compat = "go")]
impl SmartContract {
    /// `InitLedger`: writes the six [initial assets](Asset::initial).
    #[transaction]
    pub async fn init_ledger(&self, ctx: &Context<'_>) -> Result<(), TxError> {
        transactions::init_ledger(ctx.stub()).await
    }

    /// `CreateAsset id color size owner appraisedValue`: writes a new asset; fails with `the asset
    /// <id> already exists` if the id is taken.
    #[transaction]
    pub async fn create_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: isize,
        owner: String,
        appraised_value: isize,
    ) -> Result<(), TxError> {
        transactions::create_asset(ctx.stub(), &Asset::new(id, color, size, owner, appraised_value)).await
    }

    /// `ReadAsset id`: the asset's JSON; fails with `the asset <id> does not exist`.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset, TxError> {
        transactions::read_asset(ctx.stub(), &id).await
    }

    /// `UpdateAsset id color size owner appraisedValue`: replaces an existing asset.
    #[transaction]
    pub async fn update_asset(
        &self,
        ctx: &Context<'_>,
        id: String,
        color: String,
        size: isize,
        owner: String,
        appraised_value: isize,
    ) -> Result<(), TxError> {
        transactions::update_asset(ctx.stub(), &Asset::new(id, color, size, owner, appraised_value)).await
    }

    /// `DeleteAsset id`: deletes an existing asset.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>, id: String) -> Result<(), TxError> {
        transactions::delete_asset(ctx.stub(), &id).await
    }

    /// `AssetExists id`: `true` or `false`.
    #[transaction(evaluate)]
    pub async fn asset_exists(&self, ctx: &Context<'_>, id: String) -> Result<bool, TxError> {
        transactions::asset_exists(ctx.stub(), &id).await
    }

    /// `TransferAsset id newOwner`: sets the owner; returns the previous one as plain text.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>, id: String, new_owner: String) -> Result<String, TxError> {
        transactions::transfer_asset(ctx.stub(), &id, &new_owner).await
    }

    /// `GetAllAssets`: every asset as a JSON array, in key order.
    ///
    /// The Go sample collects them into a nil slice, which stays nil when there are none, and
    /// contract-api-go returns a nil slice as an empty payload. `None` is the contract API's nil.
    #[transaction(evaluate)]
    pub async fn get_all_assets(&self, ctx: &Context<'_>) -> Result<Option<Vec<Asset>>, TxError> {
        let assets = transactions::get_all_assets(ctx.stub()).await?;
        Ok((!assets.is_empty()).then_some(assets))
    }
}
