//! Private data collection definitions and the peer's access checks
//! (`core/common/privdata/store.go`, `core/chaincode/handler.go` `getReadWritePermission`).
//!
//! A collection's membership is a list of MSP ids (Fabric's member orgs policy, reduced to
//! "signed by a member of one of these orgs"). Two questions are asked of it:
//!
//! * is the **client** (the proposal's creator) a member? A member may read and write; a
//!   non-member may read unless `member_only_read`, and write unless `member_only_write`
//!   (`RetrieveReadWritePermission`);
//! * is the **peer** a member ([`PeerConfig::peer_msp_id`](super::PeerConfig::peer_msp_id))? Only
//!   members store the private values; every peer stores their hashes.
//!
//! Every org of the channel also has its implicit collection `_implicit_org_<MSPID>`, which
//! anyone may read and write and whose only member is that org.

use serde::Serialize;

/// The prefix of implicit collection names (`core/chaincode/implicitcollection/name.go`).
pub const IMPLICIT_COLLECTION_PREFIX: &str = "_implicit_org_";

/// A private data collection of a chaincode definition (a `StaticCollectionConfig`).
///
/// ```
/// use ccaas_testkit::model::CollectionConfig;
/// let secrets = CollectionConfig::new("secrets", ["Org1MSP"]).member_only_read(true).member_only_write(true);
/// assert!(secrets.is_member("Org1MSP") && !secrets.is_member("Org2MSP"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionConfig {
    /// The collection name.
    pub name: String,
    /// The MSP ids of the member orgs.
    pub member_orgs: Vec<String>,
    /// Only members may read (`memberOnlyRead`).
    pub member_only_read: bool,
    /// Only members may write (`memberOnlyWrite`).
    pub member_only_write: bool,
}

impl CollectionConfig {
    /// A collection with these member orgs; anyone may read and write until restricted.
    pub fn new<I, S>(name: impl Into<String>, member_orgs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CollectionConfig {
            name: name.into(),
            member_orgs: member_orgs.into_iter().map(Into::into).collect(),
            member_only_read: false,
            member_only_write: false,
        }
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

    /// Whether an identity of `msp_id` is a member.
    pub fn is_member(&self, msp_id: &str) -> bool {
        self.member_orgs.iter().any(|org| org == msp_id)
    }

    /// (read, write) permission of a client of `creator_msp_id` (`RetrieveReadWritePermission`).
    pub(crate) fn permission(&self, creator_msp_id: &str) -> (bool, bool) {
        if !self.member_only_read && !self.member_only_write {
            return (true, true);
        }
        if self.is_member(creator_msp_id) {
            return (true, true);
        }
        (!self.member_only_read, !self.member_only_write)
    }
}
