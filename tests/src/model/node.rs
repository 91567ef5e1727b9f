//! What the chaincodes of one emulated peer share: the channels' ledgers, the collection
//! definitions of every namespace, and the chaincodes the peer runs, by name, so that
//! INVOKE_CHAINCODE can run the callee on its own connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use ccaas_protos::protos::{ChaincodeInput, ChaincodeMessage};
use futures::future::BoxFuture;

use super::collections::{CollectionConfig, IMPLICIT_COLLECTION_PREFIX};
use super::context::TxParams;
use super::ledger::Ledger;
use super::lock;

/// A transaction the peer runs on a called chaincode (`HandleInvokeChaincode` → `Invoke`).
pub(crate) struct CalleeCall {
    /// The callee's transaction: same txid, the target channel, the callee's namespace, and the
    /// caller's simulation when on the caller's channel.
    pub(crate) params: TxParams,
    /// The callee's input (arguments and the proposal's decorations).
    pub(crate) input: ChaincodeInput,
}

/// A chaincode connection that can run transactions for other chaincodes.
pub(crate) trait ChaincodeHost: Send + Sync {
    /// Runs `call` on this connection and returns the chaincode's COMPLETED or ERROR message, or
    /// the peer's cause of the failure (`txid: … exists`, the execute timeout, a closed stream).
    fn execute(self: Arc<Self>, call: CalleeCall) -> BoxFuture<'static, Result<ChaincodeMessage, String>>;
}

/// One emulated peer: shared by every connection (chaincode) it runs.
pub(crate) struct PeerNode {
    default_ledger: Arc<Ledger>,
    channel_ledgers: Mutex<HashMap<String, Arc<Ledger>>>,
    chaincodes: Mutex<HashMap<String, Weak<dyn ChaincodeHost>>>,
    collections: Mutex<HashMap<String, Vec<CollectionConfig>>>,
    /// Chaincodes defined with `--init-required`, by name, with their definition's version.
    init_required: Mutex<HashMap<String, String>>,
}

impl PeerNode {
    pub(crate) fn new(default_ledger: Arc<Ledger>) -> Arc<PeerNode> {
        Arc::new(PeerNode {
            default_ledger,
            channel_ledgers: Mutex::new(HashMap::new()),
            chaincodes: Mutex::new(HashMap::new()),
            collections: Mutex::new(HashMap::new()),
            init_required: Mutex::new(HashMap::new()),
        })
    }

    /// The ledger every channel uses unless it was given its own.
    pub(crate) fn default_ledger(&self) -> &Arc<Ledger> {
        &self.default_ledger
    }

    /// The ledger of `channel_id`.
    pub(crate) fn ledger(&self, channel_id: &str) -> Arc<Ledger> {
        lock(&self.channel_ledgers).get(channel_id).cloned().unwrap_or_else(|| Arc::clone(&self.default_ledger))
    }

    /// Gives `channel_id` its own ledger.
    pub(crate) fn set_channel_ledger(&self, channel_id: &str, ledger: Arc<Ledger>) {
        lock(&self.channel_ledgers).insert(channel_id.to_string(), ledger);
    }

    /// Adds collection definitions of `namespace` (a definition with the same name is replaced).
    pub(crate) fn define_collections(&self, namespace: &str, collections: &[CollectionConfig]) {
        let mut all = lock(&self.collections);
        let defined = all.entry(namespace.to_string()).or_default();
        for collection in collections {
            defined.retain(|c| c.name != collection.name);
            defined.push(collection.clone());
        }
    }

    /// Defines `namespace` with `--init-required` at definition version `version`.
    pub(crate) fn require_init(&self, namespace: &str, version: &str) {
        lock(&self.init_required).insert(namespace.to_string(), version.to_string());
    }

    /// The definition version of `namespace` if it was defined with `--init-required`.
    pub(crate) fn init_required(&self, namespace: &str) -> Option<String> {
        lock(&self.init_required).get(namespace).cloned()
    }

    /// The definition of a collection as the access checks look it up (`CollectionInfo`): an
    /// explicit collection of the namespace, or any org's implicit collection.
    pub(crate) fn collection(&self, namespace: &str, name: &str) -> Option<CollectionConfig> {
        if let Some(found) = lock(&self.collections).get(namespace).and_then(|c| c.iter().find(|c| c.name == name)) {
            return Some(found.clone());
        }
        name.strip_prefix(IMPLICIT_COLLECTION_PREFIX).map(CollectionConfig::implicit)
    }

    /// Whether the simulator accepts the collection name (`validateCollName`): an explicit
    /// collection, or the implicit collection of one of the channel's orgs.
    pub(crate) fn defines(&self, namespace: &str, name: &str, channel_orgs: &[String]) -> bool {
        if lock(&self.collections).get(namespace).is_some_and(|c| c.iter().any(|c| c.name == name)) {
            return true;
        }
        name.strip_prefix(IMPLICIT_COLLECTION_PREFIX).is_some_and(|msp| channel_orgs.iter().any(|o| o == msp))
    }

    /// Makes a chaincode callable by name.
    pub(crate) fn register(&self, name: &str, host: Weak<dyn ChaincodeHost>) {
        lock(&self.chaincodes).insert(name.to_string(), host);
    }

    /// The running chaincode called `name`.
    pub(crate) fn chaincode(&self, name: &str) -> Option<Arc<dyn ChaincodeHost>> {
        let mut chaincodes = lock(&self.chaincodes);
        let host = chaincodes.get(name)?.upgrade();
        if host.is_none() {
            chaincodes.remove(name);
        }
        host
    }

    /// The names of the chaincodes the peer runs.
    pub(crate) fn chaincode_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            lock(&self.chaincodes).iter().filter(|(_, h)| h.strong_count() > 0).map(|(n, _)| n.clone()).collect();
        names.sort();
        names
    }
}
