//! # asset-transfer-private-data
//!
//! fabric-samples' `asset-transfer-private-data` chaincode (`chaincode-go`) on the contract API.
//! Assets live in the private data collection `assetCollection`, shared by Org1 and Org2; each
//! org keeps its appraised values in its own `<MSPID>PrivateCollection`
//! (`collections_config.json` beside this crate defines the three; pass it to `peer lifecycle
//! chaincode approveformyorg --collections-config`). Private values arrive as transient data,
//! which is never written to the public ledger, and every write is refused to a client whose
//! org is not the peer's own.
//!
//! Not ported: `DeleteTranferAgreement`, `QueryAssetByOwner` and `QueryAssets` (see the
//! asset-transfer-ledger-queries example for rich queries). JSON is read with serde, which is
//! stricter than Go's `json.Unmarshal`: malformed stored data is answered differently, and
//! malformed transient JSON fails with serde's reason after `failed to unmarshal JSON: `.
#![forbid(unsafe_code)]

use ccaas_shim::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const ASSET_COLLECTION: &str = "assetCollection";
const TRANSFER_AGREEMENT: &str = "transferAgreement";

/// An asset, visible to both orgs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct Asset {
    /// The object type, e.g. `asset`.
    #[serde(rename = "objectType")]
    pub object_type: String,
    /// The asset id.
    #[serde(rename = "assetID")]
    pub id: String,
    /// The colour.
    pub color: String,
    /// The size.
    pub size: isize,
    /// The owner's client id (`x509::<subject>::<issuer>`).
    pub owner: String,
}

/// An asset's appraised value, private to an org.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Object)]
#[serde(default)]
pub struct AssetPrivateDetails {
    /// The asset id.
    #[serde(rename = "assetID")]
    pub id: String,
    /// The appraised value.
    #[serde(rename = "appraisedValue")]
    pub appraised_value: isize,
}

/// A buyer's agreement to buy an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct TransferAgreement {
    /// The asset id.
    #[serde(rename = "assetID")]
    pub id: String,
    /// The buyer's client id.
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
    /// Creates the asset in transient `asset_properties`, owned by the caller; its appraised
    /// value goes to the caller's org collection.
    #[transaction]
    pub async fn create_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_properties", "asset not found in the transient map input")?;
        ensure(!input.object_type.is_empty(), "objectType field must be a non-empty string")?;
        ensure(!input.id.is_empty(), "assetID field must be a non-empty string")?;
        ensure(!input.color.is_empty(), "color field must be a non-empty string")?;
        ensure(input.size > 0, "size field must be a positive integer")?;
        ensure(input.appraised_value > 0, "appraisedValue field must be a positive integer")?;
        let existing = ctx.stub().get_private_data(ASSET_COLLECTION, &input.id).await;
        if existing.map_err(|e| ContractError::failed(format!("failed to get asset: {e}")))?.is_some() {
            return Err(ContractError::failed(format!("this asset already exists: {}", input.id)));
        }
        let owner = client_id(ctx)?;
        verify_client_org_matches_peer_org(ctx)
            .map_err(|e| ContractError::failed(format!("CreateAsset cannot be performed: Error {e}")))?;

        let Input { object_type, id, color, size, appraised_value, .. } = input;
        let asset = json(&Asset { object_type, id: id.clone(), color, size, owner })?;
        let put = ctx.stub().put_private_data(ASSET_COLLECTION, &id, asset).await;
        put.map_err(|e| ContractError::failed(format!("failed to put asset into private data collecton: {e}")))?;
        let details = json(&AssetPrivateDetails { id: id.clone(), appraised_value })?;
        let put = ctx.stub().put_private_data(&collection_name(ctx)?, &id, details).await;
        put.map_err(|e| ContractError::failed(format!("failed to put asset private details: {e}")))
    }

    /// The buyer agrees to the value in transient `asset_value`: stored, as sent, in the
    /// buyer's org collection, with the buyer's id as the transfer agreement.
    #[transaction]
    pub async fn agree_to_transfer(&self, ctx: &Context<'_>) -> Result<()> {
        let buyer = client_id(ctx)?;
        let (value, bytes): (AssetPrivateDetails, _) =
            transient(ctx, "asset_value", "asset_value key not found in the transient map")?;
        ensure(!value.id.is_empty(), "assetID field must be a non-empty string")?;
        ensure(value.appraised_value > 0, "appraisedValue field must be a positive integer")?;
        let asset = self
            .read_asset(ctx, value.id.clone())
            .await
            .map_err(|e| ContractError::failed(format!("error reading asset: {e}")))?;
        asset.ok_or_else(|| ContractError::failed(format!("{} does not exist", value.id)))?;
        verify_client_org_matches_peer_org(ctx)
            .map_err(|e| ContractError::failed(format!("AgreeToTransfer cannot be performed: Error {e}")))?;

        let put = ctx.stub().put_private_data(&collection_name(ctx)?, &value.id, bytes).await;
        put.map_err(|e| ContractError::failed(format!("failed to put asset bid: {e}")))?;
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&value.id])?;
        let put = ctx.stub().put_private_data(ASSET_COLLECTION, &key, buyer).await;
        put.map_err(|e| ContractError::failed(format!("failed to put asset bid: {e}")))
    }

    /// The owner transfers the asset in transient `asset_owner` to the buyer who agreed to the
    /// same appraised value.
    #[transaction]
    pub async fn transfer_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_owner", "asset owner not found in the transient map")?;
        ensure(!input.id.is_empty(), "assetID field must be a non-empty string")?;
        ensure(!input.buyer_msp.is_empty(), "buyerMSP field must be a non-empty string")?;
        let asset = self
            .read_asset(ctx, input.id.clone())
            .await
            .map_err(|e| ContractError::failed(format!("error reading asset: {e}")))?;
        let mut asset = asset.ok_or_else(|| ContractError::failed(format!("{} does not exist", input.id)))?;
        verify_client_org_matches_peer_org(ctx)
            .map_err(|e| ContractError::failed(format!("TransferAsset cannot be performed: Error {e}")))?;
        verify_agreement(ctx, &input.id, &asset.owner, &input.buyer_msp)
            .await
            .map_err(|e| ContractError::failed(format!("failed transfer verification: {e}")))?;
        let agreement = self.read_transfer_agreement(ctx, input.id.clone()).await;
        let agreement = agreement
            .map_err(|e| ContractError::failed(format!("failed ReadTransferAgreement to find buyerID: {e}")))?;
        asset.owner = agreement.map(|a| a.buyer_id).unwrap_or_default();
        ensure(!asset.owner.is_empty(), format!("BuyerID not found in TransferAgreement for {}", input.id))?;

        ctx.stub().put_private_data(ASSET_COLLECTION, &input.id, json(&asset)?).await?;
        ctx.stub().del_private_data(&collection_name(ctx)?, &input.id).await?;
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&input.id])?;
        Ok(ctx.stub().del_private_data(ASSET_COLLECTION, &key).await?)
    }

    /// The owner's org deletes the asset in transient `asset_delete` and its appraised value.
    #[transaction]
    pub async fn delete_asset(&self, ctx: &Context<'_>) -> Result<()> {
        let (input, _): (Input, _) = transient(ctx, "asset_delete", "asset to delete not found in the transient map")?;
        ensure(!input.id.is_empty(), "assetID field must be a non-empty string")?;
        verify_client_org_matches_peer_org(ctx)
            .map_err(|e| ContractError::failed(format!("DeleteAsset cannot be performed: Error {e}")))?;
        let asset = ctx.stub().get_private_data(ASSET_COLLECTION, &input.id).await;
        asset
            .map_err(|e| ContractError::failed(format!("failed to read asset: {e}")))?
            .ok_or_else(|| ContractError::failed(format!("asset not found: {}", input.id)))?;
        let owners = collection_name(ctx)?;
        let details = ctx.stub().get_private_data(&owners, &input.id).await;
        let details =
            details.map_err(|e| ContractError::failed(format!("failed to read asset from owner's Collection: {e}")))?;
        details.ok_or_else(|| {
            ContractError::failed(format!("asset not found in owner's private Collection {owners}: {}", input.id))
        })?;

        let deleted = ctx.stub().del_private_data(ASSET_COLLECTION, &input.id).await;
        deleted.map_err(|e| ContractError::failed(format!("failed to delete state: {e}")))?;
        Ok(ctx.stub().del_private_data(&owners, &input.id).await?)
    }

    /// The asset `asset_id`, or nothing if there is none.
    #[transaction(evaluate)]
    pub async fn read_asset(&self, ctx: &Context<'_>, asset_id: String) -> Result<Option<Asset>> {
        let bytes = ctx.stub().get_private_data(ASSET_COLLECTION, &asset_id).await;
        parse(bytes.map_err(|e| ContractError::failed(format!("failed to read asset: {e}")))?)
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
        parse(bytes.map_err(|e| ContractError::failed(format!("failed to read asset details: {e}")))?)
    }

    /// Who agreed to buy `asset_id`, or nothing.
    #[transaction(evaluate)]
    pub async fn read_transfer_agreement(
        &self,
        ctx: &Context<'_>,
        asset_id: String,
    ) -> Result<Option<TransferAgreement>> {
        let key = ctx.stub().create_composite_key(TRANSFER_AGREEMENT, &[&asset_id])?;
        let buyer = ctx.stub().get_private_data(ASSET_COLLECTION, &key).await;
        let buyer = buyer.map_err(|e| ContractError::failed(format!("failed to read TransferAgreement: {e}")))?;
        Ok(buyer.map(|id| TransferAgreement { id: asset_id, buyer_id: String::from_utf8_lossy(&id).into_owned() }))
    }

    /// The assets with keys from `start_key` (included) to `end_key` (excluded).
    #[transaction(evaluate)]
    pub async fn get_asset_by_range(
        &self,
        ctx: &Context<'_>,
        start_key: String,
        end_key: String,
    ) -> Result<Vec<Asset>> {
        let mut rows = ctx.stub().get_private_data_by_range(ASSET_COLLECTION, &start_key, &end_key).await?;
        let mut assets = Vec::new();
        while let Some(row) = rows.next().await? {
            assets.push(
                serde_json::from_slice(&row.value)
                    .map_err(|e| ContractError::failed(format!("failed to unmarshal JSON: {e}")))?,
            );
        }
        Ok(assets)
    }
}

/// Checks that the owner started the transfer, and that the buyer's org stored the same
/// appraised value as the owner's (compared by the hashes every peer holds).
async fn verify_agreement(ctx: &Context<'_>, id: &str, owner: &str, buyer_msp: &str) -> Result<()> {
    ensure(client_id(ctx)? == owner, "error: submitting client identity does not own asset")?;
    let (owners, buyers) = (collection_name(ctx)?, format!("{buyer_msp}PrivateCollection"));
    let owner_hash = ctx.stub().get_private_data_hash(&owners, id).await;
    let owner_hash = owner_hash.map_err(|e| {
        ContractError::failed(format!("failed to get hash of appraised value from owners collection {owners}: {e}"))
    })?;
    let owner_hash = owner_hash.ok_or_else(|| {
        ContractError::failed(format!("hash of appraised value for {id} does not exist in collection {owners}"))
    })?;
    let buyer_hash = ctx.stub().get_private_data_hash(&buyers, id).await;
    let buyer_hash = buyer_hash.map_err(|e| {
        ContractError::failed(format!("failed to get hash of appraised value from buyer collection {buyers}: {e}"))
    })?;
    let buyer_hash = buyer_hash.ok_or_else(|| {
        ContractError::failed(format!("hash of appraised value for {id} does not exist in collection {buyers}. AgreeToTransfer must be called by the buyer first"))
    })?;
    if owner_hash != buyer_hash {
        return Err(ContractError::failed(format!(
            "hash for appraised value for owner {} does not value for seller {}",
            hex(&owner_hash),
            hex(&buyer_hash)
        )));
    }
    Ok(())
}

/// Refuses a client of another org than the peer's: it must not read or write this org's data.
fn verify_client_org_matches_peer_org(ctx: &Context<'_>) -> Result<()> {
    let client =
        ctx.client_identity().map_err(|e| ContractError::failed(format!("failed getting the client's MSPID: {e}")))?;
    let peer =
        ctx.stub().peer_msp_id().map_err(|e| ContractError::failed(format!("failed getting the peer's MSPID: {e}")))?;
    if client.msp_id() != peer {
        return Err(ContractError::failed(format!(
            "client from org {} is not authorized to read or write private data from an org {peer} peer",
            client.msp_id()
        )));
    }
    Ok(())
}

/// The caller's org collection, `<MSPID>PrivateCollection`.
fn collection_name(ctx: &Context<'_>) -> Result<String> {
    let client = ctx
        .client_identity()
        .map_err(|e| ContractError::failed(format!("failed to infer private collection name for the org: {e}")))?;
    Ok(format!("{}PrivateCollection", client.msp_id()))
}

/// The caller's id, `x509::<subject>::<issuer>` (Go's base64-decoded `GetID()`).
fn client_id(ctx: &Context<'_>) -> Result<String> {
    let id = ctx.client_identity().and_then(|client| client.decoded_id());
    id.map_err(|e| ContractError::failed(format!("Failed to read clientID: {e}")))
}

/// The JSON in transient field `key`, parsed, and as sent.
fn transient<T: DeserializeOwned>(ctx: &Context<'_>, key: &str, missing: &str) -> Result<(T, Vec<u8>)> {
    let bytes = ctx.stub().transient().get(key).ok_or_else(|| ContractError::failed(missing))?;
    let value =
        serde_json::from_slice(bytes).map_err(|e| ContractError::failed(format!("failed to unmarshal JSON: {e}")))?;
    Ok((value, bytes.to_vec()))
}

fn parse<T: DeserializeOwned>(bytes: Option<impl AsRef<[u8]>>) -> Result<Option<T>> {
    let parsed = bytes.map(|b| serde_json::from_slice(b.as_ref()));
    parsed.transpose().map_err(|e| ContractError::failed(format!("failed to unmarshal JSON: {e}")))
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(ccaas_shim::json::to_vec(value)?)
}

/// Go's `if !condition { return fmt.Errorf(text) }`.
fn ensure(condition: bool, text: impl std::fmt::Display) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(ContractError::failed(text))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
