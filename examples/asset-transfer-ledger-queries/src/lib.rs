//! # asset-transfer-ledger-queries
//!
//! fabric-samples' `asset-transfer-ledger-queries` chaincode (`chaincode-go`): a composite key
//! index (`color~name`), range queries with and without pagination, a key's history, and CouchDB
//! rich queries (a channel whose state database is CouchDB). `META-INF/statedb/couchdb/indexes/
//! indexOwner.json` indexes the owner query: `ccaas-package build --meta-inf <this crate>`. Assets
//! are read with serde, stricter than Go's `json.Unmarshal` on malformed data.
#![forbid(unsafe_code)]

use ccaas_shim::prelude::*;
use ccaas_shim::StateIterator;
use serde::{Deserialize, Serialize};

/// The composite key index of assets by colour: `color~name` + (colour, id).
const INDEX: &str = "color~name";

/// An asset, stored as JSON under its id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default, rename_all = "camelCase")]
pub struct Asset {
    /// Always `asset`: tells assets from other documents in rich queries.
    pub doc_type: String,
    /// The asset id, also its key.
    #[serde(rename = "ID")]
    pub id: String,
    /// The colour.
    pub color: String,
    /// The size.
    pub size: isize,
    /// The owner.
    pub owner: String,
    /// The appraised value.
    pub appraised_value: isize,
}

/// One entry of an asset's history.
#[derive(Debug, Clone, Serialize, Object)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQueryResult {
    /// The asset as this transaction left it (only the id for a delete).
    pub record: Asset,
    /// The transaction.
    pub tx_id: String,
    /// When the transaction was created (RFC 3339, as Go writes a `time.Time`).
    pub timestamp: String,
    /// Whether the transaction deleted the asset.
    pub is_delete: bool,
}

/// One page of a paginated query.
#[derive(Debug, Clone, Serialize, Object)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedQueryResult {
    /// The page's assets (`null` if none, like Go's nil slice).
    pub records: Option<Vec<Asset>>,
    /// How many there are.
    pub fetched_records_count: i32,
    /// Pass it to the next call for the next page.
    pub bookmark: String,
}

/// The contract. `compat = "go"` answers argument errors with contract-api-go's texts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimpleChaincode;

#[contract(name = "SimpleChaincode", rename_all = "GoPascalCase", compat = "go")]
impl SimpleChaincode {
    /// Creates six assets.
    #[transaction]
    pub async fn init_ledger(&self, ctx: &Context<'_>) -> Result<()> {
        let assets = [
            ("asset1", "blue", 5, "Tomoko", 300),
            ("asset2", "red", 5, "Brad", 400),
            ("asset3", "green", 10, "Jin Soo", 500),
            ("asset4", "yellow", 10, "Max", 600),
            ("asset5", "black", 15, "Adriana", 700),
            ("asset6", "white", 15, "Michel", 800),
        ];
        for (id, color, size, owner, value) in assets {
            self.create_asset(ctx, id.into(), color.into(), size, owner.into(), value).await?;
        }
        Ok(())
    }

    /// Writes a new asset and its `color~name` index entry.
    #[transaction]
    pub async fn create_asset(
        &self,
        ctx: &Context<'_>,
        asset_id: String,
        color: String,
        size: isize,
        owner: String,
        appraised_value: isize,
    ) -> Result<()> {
        let exists = self.asset_exists(ctx, asset_id.clone()).await.map_err(|e| failed!("failed to get asset: {e}"))?;
        ensure!(!exists, "asset already exists: {asset_id}");
        let asset = Asset { doc_type: "asset".into(), id: asset_id, color, size, owner, appraised_value };
        ctx.stub().put_state(&asset.id, ccaas_shim::json::to_vec(&asset)?).await?;
        let index_key = ctx.stub().create_composite_key(INDEX, &[&asset.color, &asset.id])?;
        Ok(ctx.stub().put_state(&index_key, vec![0]).await?)
    }

    /// Returns the asset stored under `asset_id`.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<Asset> {
        let json = ctx.stub().get_state(&asset_id).await.map_err(|e| failed!("failed to get asset {asset_id}: {e}"))?;
        let Some(json) = json else { bail!("asset {asset_id} does not exist") };
        Ok(serde_json::from_slice(&json)?)
    }

    /// Deletes an asset and its index entry.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<()> {
        let asset = self.read_asset(ctx, asset_id.clone()).await?;
        ctx.stub().del_state(&asset_id).await.map_err(|e| failed!("failed to delete asset {asset_id}: {e}"))?;
        let index_key = ctx.stub().create_composite_key(INDEX, &[&asset.color, &asset.id])?;
        Ok(ctx.stub().del_state(&index_key).await?)
    }

    /// Sets an asset's owner.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>, asset_id: String, new_owner: String) -> Result<()> {
        let mut asset = self.read_asset(ctx, asset_id.clone()).await?;
        asset.owner = new_owner;
        Ok(ctx.stub().put_state(&asset_id, ccaas_shim::json::to_vec(&asset)?).await?)
    }

    /// Gives every asset of `color` to `new_owner`, found through the `color~name` index.
    #[transaction]
    pub async fn transfer_asset_by_color(&self, ctx: &Context<'_>, color: String, new_owner: String) -> Result<()> {
        let mut rows = ctx.stub().get_state_by_partial_composite_key(INDEX, &[&color]).await?;
        while let Some(row) = rows.next().await? {
            let (_, attributes) = ctx.stub().split_composite_key(&row.key)?;
            let Some(id) = attributes.get(1) else { continue };
            let mut asset = self.read_asset(ctx, id.clone()).await?;
            asset.owner = new_owner.clone();
            let put = ctx.stub().put_state(id, ccaas_shim::json::to_vec(&asset)?).await;
            put.map_err(|e| failed!("transfer failed for asset {id}: {e}"))?;
        }
        Ok(())
    }

    /// The assets from key `from` (included) to `to` (excluded), in key order.
    #[transaction(evaluate)]
    pub async fn get_assets_by_range(&self, ctx: &Context<'_>, from: String, to: String) -> Result<Option<Vec<Asset>>> {
        assets(ctx.stub().get_state_by_range(&from, &to).await?).await
    }

    /// One page of [`get_assets_by_range`](Self::get_assets_by_range).
    #[transaction(evaluate)]
    pub async fn get_assets_by_range_with_pagination(
        &self,
        ctx: &Context<'_>,
        start_key: String,
        end_key: String,
        page_size: isize,
        bookmark: String,
    ) -> Result<PaginatedQueryResult> {
        let stub = ctx.stub();
        let (rows, page) =
            stub.get_state_by_range_with_pagination(&start_key, &end_key, page_size as i32, &bookmark).await?;
        let records = assets(rows).await?;
        Ok(PaginatedQueryResult { records, fetched_records_count: page.fetched_records_count, bookmark: page.bookmark })
    }

    /// The assets of `owner`: a rich query, which the packaged `indexOwner` index serves.
    #[transaction(evaluate)]
    pub async fn query_assets_by_owner(&self, ctx: &Context<'_>, owner: String) -> Result<Option<Vec<Asset>>> {
        let query = format!(r#"{{"selector":{{"docType":"asset","owner":"{owner}"}}}}"#);
        assets(ctx.stub().get_query_result(&query).await?).await
    }

    /// The assets a Mango query selects, e.g. `{"selector":{"owner":"tom"}}`.
    #[transaction(evaluate)]
    pub async fn query_assets(&self, ctx: &Context<'_>, query_string: String) -> Result<Option<Vec<Asset>>> {
        assets(ctx.stub().get_query_result(&query_string).await?).await
    }

    /// One page of [`query_assets`](Self::query_assets).
    #[transaction(evaluate)]
    pub async fn query_assets_with_pagination(
        &self,
        ctx: &Context<'_>,
        query_string: String,
        page_size: isize,
        bookmark: String,
    ) -> Result<PaginatedQueryResult> {
        let (rows, page) =
            ctx.stub().get_query_result_with_pagination(&query_string, page_size as i32, &bookmark).await?;
        let records = assets(rows).await?;
        Ok(PaginatedQueryResult { records, fetched_records_count: page.fetched_records_count, bookmark: page.bookmark })
    }

    /// Every change of an asset, newest first.
    #[transaction(evaluate)]
    pub async fn get_asset_history(
        &self,
        ctx: &Context<'_>,
        asset_id: String,
    ) -> Result<Option<Vec<HistoryQueryResult>>> {
        let mut rows = ctx.stub().get_history_for_key(&asset_id).await?;
        let mut records = Vec::new();
        while let Some(row) = rows.next().await? {
            let record = if row.value.is_empty() {
                Asset { id: asset_id.clone(), ..Asset::default() }
            } else {
                serde_json::from_slice(&row.value)?
            };
            // RFC 3339 as Go's `time.Time` writes it (without trailing zeros in the fraction).
            let timestamp = row.timestamp.unwrap_or_default().to_string();
            records.push(HistoryQueryResult { record, tx_id: row.tx_id, timestamp, is_delete: row.is_delete });
        }
        Ok((!records.is_empty()).then_some(records))
    }

    /// Whether an asset is stored under `asset_id`.
    #[transaction(evaluate)]
    pub async fn asset_exists(&self, ctx: &Context<'_>, asset_id: String) -> Result<bool> {
        let json = ctx.stub().get_state(&asset_id).await;
        Ok(json.map_err(|e| failed!("failed to read asset {asset_id} from world state. {e}"))?.is_some())
    }
}

/// The assets a query returns; `None` (Go's nil slice) if there are none.
async fn assets(mut rows: StateIterator) -> Result<Option<Vec<Asset>>> {
    let mut assets = Vec::new();
    while let Some(row) = rows.next().await? {
        assets.push(serde_json::from_slice(&row.value)?);
    }
    Ok((!assets.is_empty()).then_some(assets))
}
