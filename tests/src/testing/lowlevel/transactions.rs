//! One function per transaction, with the Go sample's ledger calls and error texts.
//!
//! Each function makes the same stub calls in the same order as fabric-samples'
//! `asset-transfer-basic/chaincode-go`, so read and write sets are identical.

use super::{Asset, TxError, WorldState};

/// `InitLedger`: writes the six [initial assets](Asset::initial).
pub async fn init_ledger<S: WorldState>(state: &S) -> Result<(), TxError> {
    for asset in Asset::initial() {
        state
            .put_state(&asset.id, asset.to_json())
            .await
            .map_err(|e| TxError::new(format!("failed to put to world state. {e}")))?;
    }
    Ok(())
}

/// `CreateAsset`: writes a new asset; fails if its id is taken.
pub async fn create_asset<S: WorldState>(state: &S, asset: &Asset) -> Result<(), TxError> {
    if asset_exists(state, &asset.id).await? {
        return Err(TxError::new(format!("the asset {} already exists", asset.id)));
    }
    Ok(state.put_state(&asset.id, asset.to_json()).await?)
}

/// `ReadAsset`: the asset stored under `id`.
pub async fn read_asset<S: WorldState>(state: &S, id: &str) -> Result<Asset, TxError> {
    let Some(json) = state.get_state(id).await.map_err(read_failed)? else {
        return Err(does_not_exist(id));
    };
    Ok(Asset::from_json(json.as_ref())?)
}

/// `UpdateAsset`: replaces an existing asset with `asset`.
pub async fn update_asset<S: WorldState>(state: &S, asset: &Asset) -> Result<(), TxError> {
    if !asset_exists(state, &asset.id).await? {
        return Err(does_not_exist(&asset.id));
    }
    Ok(state.put_state(&asset.id, asset.to_json()).await?)
}

/// `DeleteAsset`: deletes an existing asset.
pub async fn delete_asset<S: WorldState>(state: &S, id: &str) -> Result<(), TxError> {
    if !asset_exists(state, id).await? {
        return Err(does_not_exist(id));
    }
    Ok(state.del_state(id).await?)
}

/// `AssetExists`: whether anything is stored under `id`.
pub async fn asset_exists<S: WorldState>(state: &S, id: &str) -> Result<bool, TxError> {
    Ok(state.get_state(id).await.map_err(read_failed)?.is_some())
}

/// `TransferAsset`: sets a new owner and returns the previous one.
pub async fn transfer_asset<S: WorldState>(state: &S, id: &str, new_owner: &str) -> Result<String, TxError> {
    let mut asset = read_asset(state, id).await?;
    let old_owner = std::mem::replace(&mut asset.owner, new_owner.to_owned());
    state.put_state(id, asset.to_json()).await?;
    Ok(old_owner)
}

/// `GetAllAssets`: every asset, in key order.
///
/// Every simple key of the chaincode's namespace is read; a value that is not an asset fails the
/// transaction, as in the Go sample.
pub async fn get_all_assets<S: WorldState>(state: &S) -> Result<Vec<Asset>, TxError> {
    let mut assets = Vec::new();
    state
        .for_each_state(|_key, value| {
            assets.push(Asset::from_json(value)?);
            Ok(())
        })
        .await?;
    Ok(assets)
}

fn read_failed(e: ccaas_shim::ShimError) -> TxError {
    TxError::new(format!("failed to read from world state: {e}"))
}

fn does_not_exist(id: &str) -> TxError {
    TxError::new(format!("the asset {id} does not exist"))
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory [`WorldState`] for tests: writes are visible at once.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use ccaas_shim::{Result, ShimError};

    use super::super::{TxError, WorldState};

    /// A map of keys to values; `fail` makes every call fail with that peer error.
    #[derive(Default)]
    pub(crate) struct MemoryState {
        pub(crate) map: Mutex<BTreeMap<String, Vec<u8>>>,
        pub(crate) fail: Option<String>,
    }

    impl MemoryState {
        pub(crate) fn failing(message: &str) -> Self {
            MemoryState { map: Mutex::default(), fail: Some(message.to_owned()) }
        }

        pub(crate) fn insert(&self, key: &str, value: &[u8]) {
            self.map.lock().unwrap().insert(key.to_owned(), value.to_vec());
        }

        pub(crate) fn value(&self, key: &str) -> Option<String> {
            self.map.lock().unwrap().get(key).map(|v| String::from_utf8(v.clone()).unwrap())
        }

        fn check(&self) -> Result<()> {
            match &self.fail {
                Some(message) => Err(ShimError::Peer(message.clone())),
                None => Ok(()),
            }
        }
    }

    impl WorldState for MemoryState {
        async fn get_state(&self, key: &str) -> Result<Option<impl AsRef<[u8]> + Send>> {
            self.check()?;
            Ok(self.map.lock().unwrap().get(key).cloned())
        }

        async fn put_state(&self, key: &str, value: Vec<u8>) -> Result<()> {
            self.check()?;
            self.map.lock().unwrap().insert(key.to_owned(), value);
            Ok(())
        }

        async fn del_state(&self, key: &str) -> Result<()> {
            self.check()?;
            self.map.lock().unwrap().remove(key);
            Ok(())
        }

        async fn for_each_state<F>(&self, mut visit: F) -> Result<(), TxError>
        where
            F: FnMut(&str, &[u8]) -> Result<(), TxError> + Send,
        {
            self.check()?;
            let rows: Vec<_> = self.map.lock().unwrap().clone().into_iter().collect();
            // Like the peer's open-ended range: composite keys (starting with U+0000) are skipped.
            for (key, value) in rows.iter().filter(|(k, _)| !k.starts_with('\u{0}')) {
                visit(key, value)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::MemoryState;
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn init_ledger_then_get_all_assets() {
        let state = MemoryState::default();
        block_on(init_ledger(&state)).unwrap();
        assert_eq!(
            state.value("asset3").unwrap(),
            r#"{"AppraisedValue":500,"Color":"green","ID":"asset3","Owner":"Jin Soo","Size":10}"#
        );
        assert_eq!(block_on(get_all_assets(&state)).unwrap(), Asset::initial());
    }

    #[test]
    fn create_read_update_transfer_delete() {
        let state = MemoryState::default();
        let asset = Asset::new("asset7", "purple", 20, "Ann", 900);
        block_on(create_asset(&state, &asset)).unwrap();
        assert_eq!(block_on(read_asset(&state, "asset7")).unwrap(), asset);
        assert_eq!(block_on(create_asset(&state, &asset)).unwrap_err().message(), "the asset asset7 already exists");

        let updated = Asset::new("asset7", "orange", 21, "Bea", 901);
        block_on(update_asset(&state, &updated)).unwrap();
        assert_eq!(block_on(read_asset(&state, "asset7")).unwrap(), updated);

        assert_eq!(block_on(transfer_asset(&state, "asset7", "Cy")).unwrap(), "Bea");
        assert_eq!(
            state.value("asset7").unwrap(),
            r#"{"AppraisedValue":901,"Color":"orange","ID":"asset7","Owner":"Cy","Size":21}"#
        );

        assert!(block_on(asset_exists(&state, "asset7")).unwrap());
        block_on(delete_asset(&state, "asset7")).unwrap();
        assert!(!block_on(asset_exists(&state, "asset7")).unwrap());
    }

    #[test]
    fn missing_assets_fail_with_the_go_texts() {
        let state = MemoryState::default();
        let missing = "the asset nope does not exist";
        assert_eq!(block_on(read_asset(&state, "nope")).unwrap_err().message(), missing);
        assert_eq!(block_on(delete_asset(&state, "nope")).unwrap_err().message(), missing);
        assert_eq!(block_on(transfer_asset(&state, "nope", "x")).unwrap_err().message(), missing);
        let asset = Asset::new("nope", "c", 1, "o", 2);
        assert_eq!(block_on(update_asset(&state, &asset)).unwrap_err().message(), missing);
        assert!(state.map.lock().unwrap().is_empty());
    }

    #[test]
    fn ledger_errors_are_wrapped_like_go() {
        let state = MemoryState::failing("boom");
        assert_eq!(block_on(init_ledger(&state)).unwrap_err().message(), "failed to put to world state. boom");
        assert_eq!(block_on(read_asset(&state, "a")).unwrap_err().message(), "failed to read from world state: boom");
        assert_eq!(block_on(asset_exists(&state, "a")).unwrap_err().message(), "failed to read from world state: boom");
        assert_eq!(
            block_on(transfer_asset(&state, "a", "b")).unwrap_err().message(),
            "failed to read from world state: boom"
        );
        assert_eq!(block_on(get_all_assets(&state)).unwrap_err().message(), "boom");
    }

    #[test]
    fn get_all_assets_of_an_empty_ledger_is_empty() {
        assert_eq!(block_on(get_all_assets(&MemoryState::default())).unwrap(), Vec::new());
    }

    #[test]
    fn get_all_assets_fails_on_a_value_that_is_not_an_asset() {
        let state = MemoryState::default();
        state.insert("asset1", br#"{"ID":"asset1"}"#);
        state.insert("zzz", b"not json");
        assert!(block_on(get_all_assets(&state)).is_err());
    }
}
