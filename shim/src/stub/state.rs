//! Public world state: read, write, delete, multi-key reads and state metadata.

use std::collections::HashMap;

use bytes::Bytes;
use ccaas_protos::protos::{
    chaincode_message::Type, write_record, GetState, GetStateMetadata, GetStateMultiple, GetStateMultipleResult,
    StateMetadata, StateMetadataResult,
};
use prost::Message;

use super::{record, ChaincodeStub, VALIDATION_PARAMETER};
use crate::error::{Result, ShimError};
use crate::keys;

impl ChaincodeStub {
    /// The value of `key`, or `None` if it does not exist.
    pub async fn get_state(&self, key: &str) -> Result<Option<Bytes>> {
        self.read(Type::GetState, "", key).await
    }

    /// Writes `value` under `key`. An empty key is rejected; an empty value deletes the key, as
    /// in Fabric's write sets.
    ///
    /// # When a refused write is reported
    ///
    /// Without write batching, every write is a round trip and the peer's refusal comes back
    /// from this call. With write batching (Fabric 3.1 peers that advertise it; automatic unless
    /// turned off per server with
    /// [`ServerBuilder::automatic_write_batching`](crate::server::ServerBuilder::automatic_write_batching)
    /// or `CHAINCODE_WRITE_BATCHING=false`, or per transaction with
    /// [`finish_write_batch`](Self::finish_write_batch)) the write waits in the batch, and:
    /// - what the shim can know is still refused **here**, with the peer's reason: an empty key;
    ///   a write after a paginated query or a private data range or rich query; private data in
    ///   Init ([`ShimError::WriteRefused`](crate::ShimError::WriteRefused));
    /// - what only the peer knows is reported **when the batch is sent**: a private write to a
    ///   collection this peer's org may not write, a key or value the state database refuses
    ///   (CouchDB's rules). The batch is sent before the transaction completes, so such a write
    ///   fails the transaction (ERROR `failed send batch: …`); the chaincode's own response and
    ///   event are not returned. A chaincode that must recover from such refusals turns batching
    ///   off, or calls [`finish_write_batch`](Self::finish_write_batch) to send what it wrote so
    ///   far and see the peer's answer.
    pub async fn put_state(&self, key: &str, value: impl Into<Bytes>) -> Result<()> {
        keys::validate_key_not_empty(key)?;
        let mut write = record(write_record::Type::PutState, "", key);
        write.value = value.into();
        self.write(write).await
    }

    /// Deletes `key`.
    ///
    /// An empty key is sent to the peer, as the Go shim does, and the peer decides (a LevelDB
    /// peer accepts deleting `""`). Refusals are reported as for [`put_state`](Self::put_state).
    pub async fn del_state(&self, key: &str) -> Result<()> {
        self.write(record(write_record::Type::DelState, "", key)).await
    }

    /// The values of several keys, in the order given (`None` for a missing key).
    ///
    /// On a Fabric 3.1 peer that advertised it, this is one GET_STATE_MULTIPLE per chunk of the
    /// advertised size; otherwise one GET_STATE per key.
    pub async fn get_multiple_states<S: AsRef<str>>(&self, keys: &[S]) -> Result<Vec<Option<Bytes>>> {
        self.read_multiple("", keys).await
    }

    // ------------------------------------------------------------------ metadata

    /// Every metadata entry of `key` (metakey → value).
    pub async fn get_state_metadata(&self, key: &str) -> Result<HashMap<String, Bytes>> {
        self.read_metadata("", key).await
    }

    /// Sets one metadata entry of `key`.
    pub async fn put_state_metadata(&self, key: &str, metakey: &str, value: impl Into<Bytes>) -> Result<()> {
        self.write_metadata("", key, metakey, value.into()).await
    }

    /// The key-level endorsement policy of `key` (a serialized `SignaturePolicyEnvelope`), if set.
    pub async fn get_state_validation_parameter(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(self.read_metadata("", key).await?.remove(VALIDATION_PARAMETER))
    }

    /// Sets the key-level endorsement policy of `key` (see [`crate::policy`]).
    pub async fn set_state_validation_parameter(&self, key: &str, policy: impl Into<Bytes>) -> Result<()> {
        self.write_metadata("", key, VALIDATION_PARAMETER, policy.into()).await
    }

    // ------------------------------------------------------------------ shared with private data

    pub(super) async fn read(&self, kind: Type, collection: &str, key: &str) -> Result<Option<Bytes>> {
        let request = GetState { key: key.to_string(), collection: collection.to_string() };
        let value = self.link.call(kind, &request).await?;
        Ok((!value.is_empty()).then_some(value))
    }

    pub(super) async fn read_multiple<S: AsRef<str>>(
        &self,
        collection: &str,
        keys: &[S],
    ) -> Result<Vec<Option<Bytes>>> {
        let capabilities = self.env.capabilities;
        let mut values = Vec::with_capacity(keys.len());
        if !capabilities.use_get_multiple_keys {
            for key in keys {
                values.push(self.read(Type::GetState, collection, key.as_ref()).await?);
            }
            return Ok(values);
        }
        for chunk in keys.chunks(capabilities.max_size_get_multiple_keys.max(1) as usize) {
            let request = GetStateMultiple {
                keys: chunk.iter().map(|k| k.as_ref().to_string()).collect(),
                collection: collection.to_string(),
            };
            let payload = self.link.call(Type::GetStateMultiple, &request).await?;
            let result = GetStateMultipleResult::decode(payload)
                .map_err(|e| ShimError::Decode { request: "GET_STATE_MULTIPLE", reason: e.to_string() })?;
            if result.values.len() != chunk.len() {
                return Err(ShimError::Decode {
                    request: "GET_STATE_MULTIPLE",
                    reason: format!("asked for {} keys, received {} values", chunk.len(), result.values.len()),
                });
            }
            values.extend(result.values.into_iter().map(|v| (!v.is_empty()).then_some(v)));
        }
        Ok(values)
    }

    pub(super) async fn read_metadata(&self, collection: &str, key: &str) -> Result<HashMap<String, Bytes>> {
        let request = GetStateMetadata { key: key.to_string(), collection: collection.to_string() };
        let payload = self.link.call(Type::GetStateMetadata, &request).await?;
        let result = StateMetadataResult::decode(payload)
            .map_err(|e| ShimError::Decode { request: "GET_STATE_METADATA", reason: e.to_string() })?;
        Ok(result.entries.into_iter().map(|e| (e.metakey, e.value)).collect())
    }

    pub(super) async fn write_metadata(&self, collection: &str, key: &str, metakey: &str, value: Bytes) -> Result<()> {
        let mut write = record(write_record::Type::PutStateMetadata, collection, key);
        write.metadata = Some(StateMetadata { metakey: metakey.to_string(), value });
        self.write(write).await
    }
}
