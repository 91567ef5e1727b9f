//! Private data collections: values only the collection's member peers store.

use std::collections::HashMap;

use bytes::Bytes;
use ccaas_protos::protos::{chaincode_message::Type, write_record};

use super::{record, ChaincodeStub, StateIterator, VALIDATION_PARAMETER};
use crate::error::Result;
use crate::keys;

impl ChaincodeStub {
    /// The private value of `key` in `collection`, or `None`. Needs read access to the collection.
    pub async fn get_private_data(&self, collection: &str, key: &str) -> Result<Option<Bytes>> {
        keys::validate_collection(collection)?;
        self.read(Type::GetState, collection, key).await
    }

    /// The SHA-256 hash of a private value, readable by peers outside the collection too.
    pub async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Option<Bytes>> {
        keys::validate_collection(collection)?;
        self.read(Type::GetPrivateDataHash, collection, key).await
    }

    /// Several private values of one collection, in the order given.
    pub async fn get_multiple_private_data<S: AsRef<str>>(
        &self,
        collection: &str,
        keys: &[S],
    ) -> Result<Vec<Option<Bytes>>> {
        keys::validate_collection(collection)?;
        self.read_multiple(collection, keys).await
    }

    /// Writes a private value. Pass sensitive inputs through the transient map, not arguments.
    pub async fn put_private_data(&self, collection: &str, key: &str, value: impl Into<Bytes>) -> Result<()> {
        keys::validate_collection(collection)?;
        keys::validate_key_not_empty(key)?;
        let mut write = record(write_record::Type::PutState, collection, key);
        write.value = value.into();
        self.write(write).await
    }

    /// Deletes a private value (its hash stays on the ledger). As with
    /// [`del_state`](Self::del_state), an empty key is left to the peer to judge, as in Go.
    pub async fn del_private_data(&self, collection: &str, key: &str) -> Result<()> {
        keys::validate_collection(collection)?;
        self.write(record(write_record::Type::DelState, collection, key)).await
    }

    /// Deletes a private value and purges its history from the private data store. An empty key
    /// is left to the peer to judge, as in Go.
    pub async fn purge_private_data(&self, collection: &str, key: &str) -> Result<()> {
        keys::validate_collection(collection)?;
        self.write(record(write_record::Type::PurgePrivateData, collection, key)).await
    }

    /// Private keys in `[start_key, end_key)` (the peer does not paginate private data).
    pub async fn get_private_data_by_range(
        &self,
        collection: &str,
        start_key: &str,
        end_key: &str,
    ) -> Result<StateIterator> {
        keys::validate_collection(collection)?;
        let start_key = super::range_start(start_key, end_key)?;
        self.range_query(collection, start_key, end_key.to_string(), None).await.map(|(it, _)| it)
    }

    /// Private keys with a partial composite key.
    pub async fn get_private_data_by_partial_composite_key<S: AsRef<str>>(
        &self,
        collection: &str,
        object_type: &str,
        attributes: &[S],
    ) -> Result<StateIterator> {
        keys::validate_collection(collection)?;
        let (start, end) = keys::partial_composite_key_range(object_type, attributes)?;
        self.range_query(collection, start, end, None).await.map(|(it, _)| it)
    }

    /// A rich query on a private collection (CouchDB only).
    pub async fn get_private_data_query_result(&self, collection: &str, query: &str) -> Result<StateIterator> {
        keys::validate_collection(collection)?;
        self.rich_query(collection, query, None).await.map(|(it, _)| it)
    }

    /// Every metadata entry of a private key.
    pub async fn get_private_data_metadata(&self, collection: &str, key: &str) -> Result<HashMap<String, Bytes>> {
        keys::validate_collection(collection)?;
        self.read_metadata(collection, key).await
    }

    /// Sets one metadata entry of a private key.
    pub async fn put_private_data_metadata(
        &self,
        collection: &str,
        key: &str,
        metakey: &str,
        value: impl Into<Bytes>,
    ) -> Result<()> {
        keys::validate_collection(collection)?;
        self.write_metadata(collection, key, metakey, value.into()).await
    }

    /// The key-level endorsement policy of a private key, if set.
    pub async fn get_private_data_validation_parameter(&self, collection: &str, key: &str) -> Result<Option<Bytes>> {
        keys::validate_collection(collection)?;
        Ok(self.read_metadata(collection, key).await?.remove(VALIDATION_PARAMETER))
    }

    /// Sets the key-level endorsement policy of a private key.
    pub async fn set_private_data_validation_parameter(
        &self,
        collection: &str,
        key: &str,
        policy: impl Into<Bytes>,
    ) -> Result<()> {
        keys::validate_collection(collection)?;
        self.write_metadata(collection, key, VALIDATION_PARAMETER, policy.into()).await
    }
}
