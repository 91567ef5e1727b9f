//! Private data collection definitions and the peer's access checks
//! (`core/common/privdata/store.go`, `core/chaincode/handler.go` `getReadWritePermission`).
//!
//! A collection's membership is its member orgs policy (a [`SignaturePolicy`], e.g.
//! `OR('Org1MSP.member', 'Org2MSP.member')`). Two questions are asked of it:
//!
//! * does the **client** (the proposal's creator) satisfy it? A member may read and write; a
//!   non-member may read unless `member_only_read`, and write unless `member_only_write`
//!   (`RetrieveReadWritePermission`, which evaluates the policy against the creator);
//! * is the **peer's org** one of the orgs the policy names
//!   ([`PeerConfig::peer_msp_id`](super::PeerConfig::peer_msp_id), `MemberOrgs`)? Only members
//!   store the private values; every peer stores their hashes.
//!
//! Every org of the channel also has its implicit collection `_implicit_org_<MSPID>`, which
//! anyone may read and write and whose only member is that org.

use serde::Serialize;

use super::policy::{SignaturePolicy, Signer};

/// The prefix of implicit collection names (`core/chaincode/implicitcollection/name.go`).
pub const IMPLICIT_COLLECTION_PREFIX: &str = "_implicit_org_";

/// A private data collection of a chaincode definition (a `StaticCollectionConfig`).
///
/// ```
/// use ccaas_testkit::model::CollectionConfig;
/// let secrets = CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true).member_only_write(true);
/// assert!(secrets.is_member("Org1MSP") && !secrets.is_member("Org2MSP"));
///
/// let audited = CollectionConfig::with_policy("audit", "OR('Org1MSP.member', 'Org2MSP.admin')").unwrap();
/// assert_eq!(audited.member_orgs(), ["Org1MSP", "Org2MSP"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionConfig {
    /// The collection name.
    pub name: String,
    /// Who is a member (`member_orgs_policy`).
    pub member_orgs_policy: SignaturePolicy,
    /// Only members may read (`memberOnlyRead`).
    pub member_only_read: bool,
    /// Only members may write (`memberOnlyWrite`).
    pub member_only_write: bool,
}

impl CollectionConfig {
    /// A collection whose members are any identity of these orgs (`OR('<org>.member', ...)`);
    /// anyone may read and write until restricted.
    pub fn new<I, S>(name: impl Into<String>, member_orgs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let orgs: Vec<String> = member_orgs.into_iter().map(Into::into).collect();
        CollectionConfig {
            name: name.into(),
            member_orgs_policy: SignaturePolicy::any_member_of(&orgs),
            member_only_read: false,
            member_only_write: false,
        }
    }

    /// A collection with a member orgs policy in Fabric's syntax, as a collections config file
    /// gives it (`"policy": "OR('Org1MSP.member', 'Org2MSP.admin')"`).
    pub fn with_policy(name: impl Into<String>, policy: &str) -> Result<Self, String> {
        Ok(CollectionConfig {
            name: name.into(),
            member_orgs_policy: SignaturePolicy::parse(policy)?,
            member_only_read: false,
            member_only_write: false,
        })
    }

    /// The collections of a collections config file, the JSON given to `peer lifecycle chaincode
    /// approveformyorg --collections-config`: each entry's `name`, `policy`, `memberOnlyRead` and
    /// `memberOnlyWrite` (absent flags are `false`; the other fields do not change what a peer
    /// lets a chaincode do in one transaction, and are ignored).
    ///
    /// ```
    /// use ccaas_testkit::model::CollectionConfig;
    /// let json = r#"[{"name": "assetCollection", "policy": "OR('Org1MSP.member', 'Org2MSP.member')",
    ///                 "blockToLive": 1000000, "memberOnlyRead": true}]"#;
    /// let collections = CollectionConfig::from_collections_config(json).unwrap();
    /// assert_eq!(collections[0].member_orgs(), ["Org1MSP", "Org2MSP"]);
    /// assert!(collections[0].member_only_read && !collections[0].member_only_write);
    /// ```
    pub fn from_collections_config(json: &str) -> Result<Vec<Self>, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry {
            name: String,
            policy: String,
            #[serde(default)]
            member_only_read: bool,
            #[serde(default)]
            member_only_write: bool,
        }
        let entries: Vec<Entry> = serde_json::from_str(json).map_err(|e| {
            format!("not a collections config (a JSON array of collections with a name and a policy): {e}")
        })?;
        entries
            .into_iter()
            .map(|entry| {
                let collection = CollectionConfig::with_policy(&entry.name, &entry.policy)
                    .map_err(|e| format!("the policy of collection {}: {e}", entry.name))?;
                Ok(collection.member_only_read(entry.member_only_read).member_only_write(entry.member_only_write))
            })
            .collect()
    }

    /// The orgs the policy names: their peers store the private values (`MemberOrgs`).
    pub fn member_orgs(&self) -> Vec<String> {
        self.member_orgs_policy.msp_ids()
    }

    /// Only members may read.
    pub fn member_only_read(mut self, on: bool) -> Self {
        self.member_only_read = on;
        self
    }

    /// Only members may write.
    pub fn member_only_write(mut self, on: bool) -> Self {
        self.member_only_write = on;
        self
    }

    /// The implicit collection of an org (`GenerateImplicitCollectionForOrg`).
    pub fn implicit(msp_id: &str) -> Self {
        CollectionConfig::new(format!("{IMPLICIT_COLLECTION_PREFIX}{msp_id}"), [msp_id])
    }

    /// Whether the org `msp_id` is a member (its peers store the private values).
    pub fn is_member(&self, msp_id: &str) -> bool {
        self.member_orgs().iter().any(|org| org == msp_id)
    }

    /// (read, write) permission of the proposal's creator (`RetrieveReadWritePermission`).
    pub(crate) fn permission(&self, creator: &Signer) -> (bool, bool) {
        if !self.member_only_read && !self.member_only_write {
            return (true, true);
        }
        if self.member_orgs_policy.is_satisfied_by(std::slice::from_ref(creator)) {
            return (true, true);
        }
        (!self.member_only_read, !self.member_only_write)
    }
}
