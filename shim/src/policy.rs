//! Key-level (state-based) endorsement policies (the equivalent of Go's `pkg/statebased`).
//!
//! A [`KeyEndorsementPolicy`] is a set of organizations (MSP IDs), each with a role; its
//! [`policy`](KeyEndorsementPolicy::policy) bytes are a `common.SignaturePolicyEnvelope` that
//! requires a signature from *every* organization in the set, which is what
//! `ChaincodeStub::set_state_validation_parameter` and its private-data variant take. The bytes
//! are identical to those of Go's `statebased.KeyEndorsementPolicy.Policy()` for the same set
//! (facts from `pkg/statebased/statebasedimpl.go`):
//!
//! * principals sorted by MSP ID (byte order), each `MSPPrincipal { principal_classification:
//!   ROLE, principal: MSPRole { msp_identifier, role } }`;
//! * rule `NOutOf { n: <number of orgs>, rules: [SignedBy(0), SignedBy(1), …] }`, version 0;
//! * an empty set gives `NOutOf { n: 0, rules: [] }` with no principals, as Go does.
//!
//! ```
//! use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
//!
//! let mut ep = KeyEndorsementPolicy::new();
//! ep.add_orgs(RoleType::Peer, &["Org2MSP", "Org1MSP"])?;
//! let bytes = ep.policy()?; // stub.set_state_validation_parameter(key, bytes)
//!
//! let mut ep = KeyEndorsementPolicy::from_bytes(&bytes)?;
//! assert_eq!(ep.list_orgs(), ["Org1MSP", "Org2MSP"]);
//! ep.del_orgs(&["Org1MSP"]);
//! assert_eq!(ep.list_orgs(), ["Org2MSP"]);
//! # Ok::<(), ccaas_shim::policy::PolicyError>(())
//! ```

use ccaas_protos::common::{
    msp_principal::Classification, msp_role::MspRoleType, signature_policy, MspPrincipal, MspRole, SignaturePolicy,
    SignaturePolicyEnvelope,
};
use prost::Message;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// What can go wrong with a key-level endorsement policy. Texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The bytes are not a serialized `common.SignaturePolicyEnvelope`.
    #[error("Error unmarshaling to SignaturePolicy: {0}")]
    Decode(String),
    /// A `ROLE` principal in the envelope does not hold a serialized `common.MSPRole`.
    #[error("error unmarshaling msp principal: {0}")]
    Principal(String),
    /// A role name other than `MEMBER` or `PEER` (Go's `RoleTypeDoesNotExistError`).
    #[error("role type {0} does not exist")]
    RoleTypeDoesNotExist(String),
}

impl From<Infallible> for PolicyError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// The role an organization's endorsers must have: Go's `RoleTypeMember` (`"MEMBER"`) and
/// `RoleTypePeer` (`"PEER"`), the only two Go's `AddOrgs` accepts. Use `PEER` when the
/// channel's MSPs have node OUs enabled, `MEMBER` otherwise.
///
/// ```
/// use ccaas_shim::policy::RoleType;
///
/// assert_eq!("PEER".parse::<RoleType>()?, RoleType::Peer);
/// assert_eq!(RoleType::Member.to_string(), "MEMBER");
/// assert_eq!("ADMIN".parse::<RoleType>().unwrap_err().to_string(), "role type ADMIN does not exist");
/// # Ok::<(), ccaas_shim::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleType {
    /// Any member of the organization (`MSPRole.MEMBER`).
    Member,
    /// A peer of the organization (`MSPRole.PEER`).
    Peer,
}

impl RoleType {
    /// Go's name for the role: `"MEMBER"` or `"PEER"`.
    ///
    /// ```
    /// assert_eq!(ccaas_shim::policy::RoleType::Peer.as_str(), "PEER");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            RoleType::Member => "MEMBER",
            RoleType::Peer => "PEER",
        }
    }

    /// The `MSPRole` role type the principal gets.
    ///
    /// ```
    /// use ccaas_shim::policy::RoleType;
    /// use ccaas_shim::protos::common::msp_role::MspRoleType;
    ///
    /// assert_eq!(RoleType::Peer.msp_role_type(), MspRoleType::Peer);
    /// ```
    pub const fn msp_role_type(self) -> MspRoleType {
        match self {
            RoleType::Member => MspRoleType::Member,
            RoleType::Peer => MspRoleType::Peer,
        }
    }
}

impl fmt::Display for RoleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoleType {
    type Err = PolicyError;

    /// Exactly `"MEMBER"` or `"PEER"` (case-sensitive, as in Go).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "MEMBER" => Ok(RoleType::Member),
            "PEER" => Ok(RoleType::Peer),
            other => Err(PolicyError::RoleTypeDoesNotExist(other.to_owned())),
        }
    }
}

impl TryFrom<&str> for RoleType {
    type Error = PolicyError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl TryFrom<String> for RoleType {
    type Error = PolicyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A key-level endorsement policy: the organizations that must all endorse changes to a key
/// (Go's `statebased.KeyEndorsementPolicy`). See the [module documentation](self).
///
/// ```
/// use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
///
/// let mut ep = KeyEndorsementPolicy::new();
/// ep.add_orgs(RoleType::Member, &["Org1MSP"])?;
/// assert_eq!(ep.list_orgs(), ["Org1MSP"]);
/// # Ok::<(), ccaas_shim::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEndorsementPolicy {
    /// MSP ID → `MSPRole.role` (kept as the wire value, so a parsed policy's other roles survive).
    orgs: BTreeMap<String, i32>,
}

impl KeyEndorsementPolicy {
    /// An empty policy (Go's `NewStateEP(nil)`).
    ///
    /// ```
    /// let ep = ccaas_shim::policy::KeyEndorsementPolicy::new();
    /// assert!(ep.list_orgs().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a serialized `common.SignaturePolicyEnvelope`, for example a key's current
    /// validation parameter (Go's `NewStateEP(policy)`). As in Go, only the envelope's `ROLE`
    /// principals are read (each MSP ID with its role, whatever the role; a later principal for
    /// the same MSP ID wins); other principals and the envelope's rule are ignored, so
    /// [`policy`](Self::policy) always gives back an all-of-them policy. Empty bytes give an
    /// empty policy.
    ///
    /// ```
    /// use ccaas_shim::policy::KeyEndorsementPolicy;
    ///
    /// assert!(KeyEndorsementPolicy::from_bytes(&[])?.list_orgs().is_empty());
    /// let err = KeyEndorsementPolicy::from_bytes(b"\xff").unwrap_err();
    /// assert!(err.to_string().starts_with("Error unmarshaling to SignaturePolicy"));
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn from_bytes(policy: &[u8]) -> Result<Self, PolicyError> {
        let envelope = SignaturePolicyEnvelope::decode(policy).map_err(|e| PolicyError::Decode(e.to_string()))?;
        let mut orgs = BTreeMap::new();
        for identity in &envelope.identities {
            if identity.principal_classification == Classification::Role as i32 {
                let role =
                    MspRole::decode(identity.principal.as_ref()).map_err(|e| PolicyError::Principal(e.to_string()))?;
                orgs.insert(role.msp_identifier, role.role);
            }
        }
        Ok(KeyEndorsementPolicy { orgs })
    }

    /// Adds organizations with the given role, replacing the role of those already present
    /// (Go's `AddOrgs`). The role is a [`RoleType`] or its Go name (`"MEMBER"`, `"PEER"`); any
    /// other name fails with Go's `role type X does not exist` and changes nothing.
    ///
    /// ```
    /// use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
    ///
    /// let mut ep = KeyEndorsementPolicy::new();
    /// ep.add_orgs(RoleType::Peer, &["Org1MSP"])?;
    /// ep.add_orgs("MEMBER", &["Org2MSP"])?;
    /// let err = ep.add_orgs("unknown", &["Org3MSP"]).unwrap_err();
    /// assert_eq!(err.to_string(), "role type unknown does not exist");
    /// assert_eq!(ep.list_orgs(), ["Org1MSP", "Org2MSP"]);
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn add_orgs<R>(&mut self, role: R, msp_ids: &[&str]) -> Result<(), PolicyError>
    where
        R: TryInto<RoleType>,
        PolicyError: From<R::Error>,
    {
        let role = role.try_into()?.msp_role_type() as i32;
        for msp_id in msp_ids {
            self.orgs.insert((*msp_id).to_owned(), role);
        }
        Ok(())
    }

    /// Removes organizations; absent ones are ignored (Go's `DelOrgs`).
    ///
    /// ```
    /// use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
    ///
    /// let mut ep = KeyEndorsementPolicy::new();
    /// ep.add_orgs(RoleType::Peer, &["Org1MSP", "Org2MSP"])?;
    /// ep.del_orgs(&["Org1MSP", "Org9MSP"]);
    /// assert_eq!(ep.list_orgs(), ["Org2MSP"]);
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn del_orgs(&mut self, msp_ids: &[&str]) {
        for msp_id in msp_ids {
            self.orgs.remove(*msp_id);
        }
    }

    /// The organizations' MSP IDs, sorted (Go's `ListOrgs` returns them in map order; sorted is
    /// the order of the principals in [`policy`](Self::policy)).
    ///
    /// ```
    /// use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
    ///
    /// let mut ep = KeyEndorsementPolicy::new();
    /// ep.add_orgs(RoleType::Peer, &["b", "a", "C"])?;
    /// assert_eq!(ep.list_orgs(), ["C", "a", "b"]);
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn list_orgs(&self) -> Vec<String> {
        self.orgs.keys().cloned().collect()
    }

    /// The policy as a `common.SignaturePolicyEnvelope` message.
    ///
    /// ```
    /// use ccaas_shim::policy::{KeyEndorsementPolicy, RoleType};
    /// use ccaas_shim::protos::common::signature_policy::Type;
    ///
    /// let mut ep = KeyEndorsementPolicy::new();
    /// ep.add_orgs(RoleType::Peer, &["Org1MSP", "Org2MSP"])?;
    /// let envelope = ep.to_envelope();
    /// assert_eq!(envelope.identities.len(), 2);
    /// let Some(Type::NOutOf(rule)) = envelope.rule.and_then(|r| r.r#type) else { panic!() };
    /// assert_eq!(rule.n, 2);
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn to_envelope(&self) -> SignaturePolicyEnvelope {
        let identities = self
            .orgs
            .iter()
            .map(|(msp_id, role)| MspPrincipal {
                principal_classification: Classification::Role as i32,
                principal: MspRole { msp_identifier: msp_id.clone(), role: *role }.encode_to_vec().into(),
            })
            .collect::<Vec<_>>();
        let rules = (0..identities.len())
            .map(|i| SignaturePolicy { r#type: Some(signature_policy::Type::SignedBy(i as i32)) })
            .collect();
        SignaturePolicyEnvelope {
            version: 0,
            rule: Some(SignaturePolicy {
                r#type: Some(signature_policy::Type::NOutOf(signature_policy::NOutOf {
                    n: identities.len() as i32,
                    rules,
                })),
            }),
            identities,
        }
    }

    /// The serialized policy, ready for `set_state_validation_parameter` (Go's `Policy()`).
    /// It does not fail today; the `Result` mirrors Go's signature.
    ///
    /// ```
    /// use ccaas_shim::policy::KeyEndorsementPolicy;
    ///
    /// // No orgs: NOutOf { n: 0, rules: [] }, exactly as Go encodes it.
    /// assert_eq!(KeyEndorsementPolicy::new().policy()?, [0x12, 0x02, 0x12, 0x00]);
    /// # Ok::<(), ccaas_shim::policy::PolicyError>(())
    /// ```
    pub fn policy(&self) -> Result<Vec<u8>, PolicyError> {
        Ok(self.to_envelope().encode_to_vec())
    }
}
