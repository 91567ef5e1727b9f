//! # asset-transfer-private-data
//!
//! fabric-samples' `asset-transfer-private-data` chaincode (`chaincode-go`): assets in collection
//! `assetCollection`, appraised values in each org's `<MSPID>PrivateCollection` (both defined in
//! `collections_config.json`), private values as transient data, writes by the peer's org only.
//! Not ported: `DeleteTranferAgreement`, `QueryAssetByOwner`, `QueryAssets`. JSON is read with
//! serde, stricter than Go: malformed JSON fails with serde's reason.
#![forbid(unsafe_code)]

use ccaas_shim::json;
use ccaas_shim::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const ASSET_COLLECTION: &str = "assetCollection";
const TRANSFER_AGREEMENT: &str = "transferAgreement";

/// An asset, visible to both orgs. `owner` is the owner's client id (`x509::<subject>::<issuer>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct Asset {
    #[serde(rename = "objectType")]
    pub object_type: String,
    #[serde(rename = "assetID")]
    pub id: String,
    pub color: String,
    pub size: isize,
    pub owner: String,
}

/// An asset's appraised value, private to an org.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default)]
pub struct AssetPrivateDetails {
    #[serde(rename = "assetID")]
    pub id: String,
    #[serde(rename = "appraisedValue")]
    pub appraised_value: isize,
}

/// A buyer's agreement to buy an asset: the asset's id and the buyer's client id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct TransferAgreement {
    #[serde(rename = "assetID")]
    pub id: String,
    #[serde(rename = "buyerID")]
    pub buyer_id: String,
}

/// The transient inputs (missing fields are empty, as in Go).
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Input {
    object_type: String,
    #[serde(rename = "assetID")]
    id: String,
    color: String,
    size: isize,
    appraised_value: isize,
    #[serde(rename = "buyerMSP")]
    buyer_msp: String,
}

/// The contract. `compat = "go"` answers argument errors with contract-api-go's texts.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmartContract;

#[contract(name = "SmartContract", rename_all = "GoPascalCase", compat = "go")]
impl SmartContract {
    /// Creates the asset in transient `asset_properties`, owned by the caller, valued in its org.
    #[transaction]
    pub async fn create_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_properties", "asset not found in the transient map input")?;
        ensure!(!input.object_type.is_empty(), "objectType field must be a non-empty string");
        ensure!(!input.id.is_empty(), "assetID field must be a non-empty string");
        ensure!(!input.color.is_empty(), "color field must be a non-empty string");
        ensure!(input.size > 0, "size field must be a positive integer");
        ensure!(input.appraised_value > 0, "appraisedValue field must be a positive integer");
        let existing = ctx.stub().get_private_data(ASSET_COLLECTION, &input.id).await;
        let existing = existing.map_err(|e| failed!("failed to get asset: {e}"))?;
        ensure!(existing.is_none(), "this asset already exists: {}", input.id);
        let owner = client_id(ctx)?;
        verify_client_org(ctx).map_err(|e| failed!("CreateAsset cannot be performed: Error {e}"))?;
        let Input { object_type, id, color, size, appraised_value, .. } = input;
        let asset = json::to_vec(&Asset { object_type, id: id.clone(), color, size, owner })?;
        let put = ctx.stub().put_private_data(ASSET_COLLECTION, &id, asset).await;
        put.map_err(|e| failed!("failed to put asset into private data collecton: {e}"))?;
        let details = json::to_vec(&AssetPrivateDetails { id: id.clone(), appraised_value })?;
        let put = ctx.stub().put_private_data(&collection_name(ctx)?, &id, details).await;
        put.map_err(|e| failed!("failed to put asset private details: {e}"))
    }

    /// The buyer agrees to the value in transient `asset_value`: stored, as sent, in the
    /// buyer's org collection, with the buyer's id as the transfer agreement.
    #[transaction]
    pub async fn agree_to_transfer(&self, ctx: &Context<'_>) -> Result<()> {
        let buyer = client_id(ctx)?;
        let (value, bytes): (AssetPrivateDetails, _) =
            transient(ctx, "asset_value", "asset_value key not found in the transient map")?;
        ensure!(!value.id.is_empty(), "assetID field must be a non-empty string");
        ensure!(value.appraised_value > 0, "appraisedValue field must be a positive integer");
        let asset = self.read_asset(ctx, value.id.clone()).await.map_err(|e| failed!("error reading asset: {e}"))?;
        ensure!(asset.is_some(), "{} does not exist", value.id);
        verify_client_org(ctx).map_err(|e| failed!("AgreeToTransfer cannot be performed: Error {e}"))?;
        let put = ctx.stub().put_private_data(&collection_name(ctx)?, &value.id, bytes).await;
        put.map_err(|e| failed!("failed to put asset bid: {e}"))?;
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&value.id])?;
        let put = ctx.stub().put_private_data(ASSET_COLLECTION, &key, buyer).await;
        put.map_err(|e| failed!("failed to put asset bid: {e}"))
    }

    /// The owner transfers the asset in transient `asset_owner` to the buyer who agreed to its value.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_owner", "asset owner not found in the transient map")?;
        ensure!(!input.id.is_empty(), "assetID field must be a non-empty string");
        ensure!(!input.buyer_msp.is_empty(), "buyerMSP field must be a non-empty string");
        let asset = self.read_asset(ctx, input.id.clone()).await.map_err(|e| failed!("error reading asset: {e}"))?;
        let Some(mut asset) = asset else { bail!("{} does not exist", input.id) };
        verify_client_org(ctx).map_err(|e| failed!("TransferAsset cannot be performed: Error {e}"))?;
        let verified = verify_agreement(ctx, &input.id, &asset.owner, &input.buyer_msp).await;
        verified.map_err(|e| failed!("failed transfer verification: {e}"))?;
        let agreement = self.read_transfer_agreement(ctx, input.id.clone()).await;
        let agreement = agreement.map_err(|e| failed!("failed ReadTransferAgreement to find buyerID: {e}"))?;
        asset.owner = agreement.map(|a| a.buyer_id).unwrap_or_default();
        ensure!(!asset.owner.is_empty(), "BuyerID not found in TransferAgreement for {}", input.id);
        ctx.stub().put_private_data(ASSET_COLLECTION, &input.id, json::to_vec(&asset)?).await?;
        ctx.stub().del_private_data(&collection_name(ctx)?, &input.id).await?;
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&input.id])?;
        Ok(ctx.stub().del_private_data(ASSET_COLLECTION, &key).await?)
    }

    /// The owner's org deletes the asset in transient `asset_delete` and its appraised value.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_delete", "asset to delete not found in the transient map")?;
        ensure!(!input.id.is_empty(), "assetID field must be a non-empty string");
        verify_client_org(ctx).map_err(|e| failed!("DeleteAsset cannot be performed: Error {e}"))?;
        let asset = ctx.stub().get_private_data(ASSET_COLLECTION, &input.id).await;
        let asset = asset.map_err(|e| failed!("failed to read asset: {e}"))?;
        ensure!(asset.is_some(), "asset not found: {}", input.id);
        let owners = collection_name(ctx)?;
        let details = ctx.stub().get_private_data(&owners, &input.id).await;
        let details = details.map_err(|e| failed!("failed to read asset from owner's Collection: {e}"))?;
        ensure!(details.is_some(), "asset not found in owner's private Collection {owners}: {}", input.id);
        let deleted = ctx.stub().del_private_data(ASSET_COLLECTION, &input.id).await;
        deleted.map_err(|e| failed!("failed to delete state: {e}"))?;
        Ok(ctx.stub().del_private_data(&owners, &input.id).await?)
    }

    /// The asset `asset_id`, or nothing if there is none.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<Option<Asset>> {
        let bytes = ctx.stub().get_private_data(ASSET_COLLECTION, &asset_id).await;
        parse(bytes.map_err(|e| failed!("failed to read asset: {e}"))?)
    }

    /// The appraised value of `asset_id` in `collection`, or nothing if there is none.
    #[transaction(evaluate)]
    pub async fn read_asset_private_details(
        &self,
        ctx: &Context<'_>,
        collection: String,
        asset_id: String,
    ) -> Result<Option<AssetPrivateDetails>> {
        let bytes = ctx.stub().get_private_data(&collection, &asset_id).await;
        parse(bytes.map_err(|e| failed!("failed to read asset details: {e}"))?)
    }

    /// Who agreed to buy asset `id`, or nothing.
    #[transaction(evaluate)]
    pub async fn read_transfer_agreement(&self, ctx: &Context<'_>, id: String) -> Result<Option<TransferAgreement>> {
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&id])?;
        let buyer = ctx.stub().get_private_data(ASSET_COLLECTION, &key).await;
        let buyer = buyer.map_err(|e| failed!("failed to read TransferAgreement: {e}"))?;
        Ok(buyer.map(|buyer| TransferAgreement { id, buyer_id: String::from_utf8_lossy(&buyer).into_owned() }))
    }

    /// The assets with keys from `start` (included) to `end` (excluded).
    #[transaction(evaluate)]
    pub async fn get_asset_by_range(&self, ctx: &Context<'_>, start: String, end: String) -> Result<Vec<Asset>> {
        let mut rows = ctx.stub().get_private_data_by_range(ASSET_COLLECTION, &start, &end).await?;
        let mut assets = Vec::new();
        while let Some(row) = rows.next().await? {
            assets.extend(parse(Some(row.value))?);
        }
        Ok(assets)
    }
}

/// Checks that the owner started the transfer and that the buyer's org stored the owner's value.
async fn verify_agreement(ctx: &Context<'_>, id: &str, owner: &str, buyer_msp: &str) -> Result<()> {
    ensure!(client_id(ctx)? == owner, "error: submitting client identity does not own asset");
    let (owners, buyers) = (collection_name(ctx)?, format!("{buyer_msp}PrivateCollection"));
    let missing = format!("hash of appraised value for {id} does not exist in collection");
    let Some(owner_hash) = value_hash(ctx, "owners", &owners, id).await? else { bail!("{missing} {owners}") };
    let Some(buyer_hash) = value_hash(ctx, "buyer", &buyers, id).await? else {
        bail!("{missing} {buyers}. AgreeToTransfer must be called by the buyer first")
    };
    let differ = format!("hash for appraised value for owner {owner_hash} does not value for seller {buyer_hash}");
    ensure!(owner_hash == buyer_hash, "{differ}");
    Ok(())
}

/// The hash every peer holds of `id`'s value in `collection` (the `whose` collection), in hex.
async fn value_hash(ctx: &Context<'_>, whose: &str, collection: &str, id: &str) -> Result<Option<String>> {
    let hash = ctx.stub().get_private_data_hash(collection, id).await;
    let hash =
        hash.map_err(|e| failed!("failed to get hash of appraised value from {whose} collection {collection}: {e}"));
    Ok(hash?.map(|hash| hash.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Refuses a client of another org than the peer's: it must not read or write this org's data.
fn verify_client_org(ctx: &Context<'_>) -> Result<()> {
    let client = ctx.client_identity().map_err(|e| failed!("failed getting the client's MSPID: {e}"))?;
    let peer = ctx.stub().peer_msp_id().map_err(|e| failed!("failed getting the peer's MSPID: {e}"))?;
    let refused = format!("client from org {} is not authorized to read or write private data", client.msp_id());
    ensure!(client.msp_id() == peer, "{refused} from an org {peer} peer");
    Ok(())
}

/// The caller's org collection, `<MSPID>PrivateCollection`.
fn collection_name(ctx: &Context<'_>) -> Result<String> {
    let client = ctx.client_identity().map_err(|e| failed!("failed to infer private collection name for the org: {e}"));
    Ok(format!("{}PrivateCollection", client?.msp_id()))
}

/// The caller's id, `x509::<subject>::<issuer>` (Go's base64-decoded `GetID()`).
fn client_id(ctx: &Context<'_>) -> Result<String> {
    ctx.client_identity().and_then(|client| client.decoded_id()).map_err(|e| failed!("Failed to read clientID: {e}"))
}

/// The JSON in transient field `key`, parsed, and as sent.
fn transient<T: DeserializeOwned>(ctx: &Context<'_>, key: &str, missing: &str) -> Result<(T, Vec<u8>)> {
    let Some(bytes) = ctx.stub().transient().get(key) else { bail!("{missing}") };
    let value = serde_json::from_slice(bytes).map_err(|e| failed!("failed to unmarshal JSON: {e}"))?;
    Ok((value, bytes.to_vec()))
}

fn parse<T: DeserializeOwned>(bytes: Option<impl AsRef<[u8]>>) -> Result<Option<T>> {
    let parsed = bytes.map(|b| serde_json::from_slice(b.as_ref()));
    parsed.transpose().map_err(|e| failed!("failed to unmarshal JSON: {e}"))
}
