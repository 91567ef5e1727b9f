//! A chaincode definition as the channel stores it: name, version, plugins, endorsement policy,
//! private data collections and init-required. The policy and plugins are filled with the
//! peer's defaults up front, so that a definition read back from the channel compares equal.

use ccaas_protos::protos::application_policy::Type as PolicyType;
use ccaas_protos::protos::collection_config::Payload as CollectionPayload;
use ccaas_protos::protos::collection_policy_config::Payload as MemberPayload;
use ccaas_protos::protos::{
    ApplicationPolicy, CollectionConfig, CollectionConfigPackage, CollectionPolicyConfig, StaticCollectionConfig,
};
use prost::Message;
use serde::Deserialize;

use crate::policy::parse_signature_policy;

/// The channel's default endorsement policy reference (the peer's default too).
pub const DEFAULT_POLICY: &str = "/Channel/Application/Endorsement";

/// A chaincode definition (without its sequence).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The chaincode name.
    pub name: String,
    /// The version string (free text; only compared).
    pub version: String,
    /// The endorsement plugin (`escc`).
    pub endorsement_plugin: String,
    /// The validation plugin (`vscc`).
    pub validation_plugin: String,
    /// A marshalled `ApplicationPolicy`.
    pub validation_parameter: Vec<u8>,
    /// Private data collections, if any.
    pub collections: Option<CollectionConfigPackage>,
    /// Whether `Init` must be called first.
    pub init_required: bool,
}

impl Definition {
    /// A definition with the peer's defaults: plugins `escc`/`vscc`, the channel's
    /// `/Channel/Application/Endorsement` policy, no collections, no init.
    pub fn new(name: &str, version: &str) -> Definition {
        Definition {
            name: name.into(),
            version: version.into(),
            endorsement_plugin: "escc".into(),
            validation_plugin: "vscc".into(),
            validation_parameter: channel_config_policy(DEFAULT_POLICY),
            collections: None,
            init_required: false,
        }
    }

    /// Sets a signature policy, e.g. `OR('Org1MSP.peer','Org2MSP.peer')`.
    pub fn signature_policy(mut self, policy: &str) -> Result<Definition, String> {
        let env = parse_signature_policy(policy).map_err(|e| format!("--signature-policy: {e}"))?;
        self.validation_parameter =
            ApplicationPolicy { r#type: Some(PolicyType::SignaturePolicy(env)) }.encode_to_vec();
        Ok(self)
    }

    /// Sets a channel-config policy reference, e.g. `/Channel/Application/Endorsement`.
    pub fn channel_config_policy(mut self, reference: &str) -> Definition {
        self.validation_parameter = channel_config_policy(reference);
        self
    }

    /// Sets the collections from the `peer` CLI's JSON format (`--collections-config`).
    pub fn collections_json(mut self, json: &[u8]) -> Result<Definition, String> {
        self.collections = Some(parse_collections(json)?);
        Ok(self)
    }

    /// Whether two definitions are the same (an absent and an empty collection set are equal).
    pub fn same_as(&self, other: &Definition) -> bool {
        self.differences(other).is_empty()
    }

    /// What differs from `other`, in words ("version 1.0 → 2.0").
    pub fn differences(&self, other: &Definition) -> Vec<String> {
        let mut d = Vec::new();
        if self.version != other.version {
            d.push(format!("version {} → {}", other.version, self.version));
        }
        if self.endorsement_plugin != other.endorsement_plugin || self.validation_plugin != other.validation_plugin {
            d.push("endorsement or validation plugin".into());
        }
        if self.validation_parameter != other.validation_parameter {
            d.push("endorsement policy".into());
        }
        let empty = CollectionConfigPackage::default();
        if self.collections.as_ref().unwrap_or(&empty) != other.collections.as_ref().unwrap_or(&empty) {
            d.push("collections".into());
        }
        if self.init_required != other.init_required {
            d.push(format!("init-required {} → {}", other.init_required, self.init_required));
        }
        d
    }
}

fn channel_config_policy(reference: &str) -> Vec<u8> {
    ApplicationPolicy { r#type: Some(PolicyType::ChannelConfigPolicyReference(reference.into())) }.encode_to_vec()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CollectionJson {
    name: String,
    policy: String,
    #[serde(default)]
    required_peer_count: i32,
    #[serde(default)]
    max_peer_count: i32,
    #[serde(default)]
    block_to_live: u64,
    #[serde(default)]
    member_only_read: bool,
    #[serde(default)]
    member_only_write: bool,
    #[serde(default)]
    endorsement_policy: Option<EndorsementJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EndorsementJson {
    #[serde(default)]
    signature_policy: Option<String>,
    #[serde(default)]
    channel_config_policy: Option<String>,
}

/// Parses the `peer` CLI's collections config JSON.
pub fn parse_collections(json: &[u8]) -> Result<CollectionConfigPackage, String> {
    let list: Vec<CollectionJson> =
        serde_json::from_slice(json).map_err(|e| format!("collections config is not valid: {e}"))?;
    let mut config = Vec::new();
    for c in list {
        let member = parse_signature_policy(&c.policy).map_err(|e| format!("collection '{}': policy: {e}", c.name))?;
        let endorsement_policy = match c.endorsement_policy {
            None => None,
            Some(EndorsementJson { signature_policy: Some(s), channel_config_policy: None }) => {
                let env = parse_signature_policy(&s).map_err(|e| format!("collection '{}': {e}", c.name))?;
                Some(ApplicationPolicy { r#type: Some(PolicyType::SignaturePolicy(env)) })
            }
            Some(EndorsementJson { signature_policy: None, channel_config_policy: Some(r) }) => {
                Some(ApplicationPolicy { r#type: Some(PolicyType::ChannelConfigPolicyReference(r)) })
            }
            Some(_) => {
                return Err(format!(
                    "collection '{}': endorsementPolicy needs exactly one of signaturePolicy and channelConfigPolicy",
                    c.name
                ))
            }
        };
        config.push(CollectionConfig {
            payload: Some(CollectionPayload::StaticCollectionConfig(StaticCollectionConfig {
                name: c.name,
                member_orgs_policy: Some(CollectionPolicyConfig {
                    payload: Some(MemberPayload::SignaturePolicy(member)),
                }),
                required_peer_count: c.required_peer_count,
                maximum_peer_count: c.max_peer_count,
                block_to_live: c.block_to_live,
                member_only_read: c.member_only_read,
                member_only_write: c.member_only_write,
                endorsement_policy,
            })),
        });
    }
    Ok(CollectionConfigPackage { config })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_equal_a_read_back_definition() {
        let a = Definition::new("basic", "1.0");
        let b = Definition::new("basic", "1.0").channel_config_policy(DEFAULT_POLICY);
        assert!(a.same_as(&b));
        let c = Definition::new("basic", "2.0").signature_policy("OR('Org1MSP.peer')").unwrap();
        assert_eq!(c.differences(&a), vec!["version 1.0 → 2.0".to_string(), "endorsement policy".to_string()]);
        let mut d = a.clone();
        d.init_required = true;
        assert_eq!(d.differences(&a), vec!["init-required false → true".to_string()]);
        let e = a.clone().collections_json(b"[]").unwrap();
        assert!(e.same_as(&a), "no collections and an empty collection set are the same");
    }

    #[test]
    fn collections_from_peer_cli_json() {
        let json = br#"[{"name":"private","policy":"OR('Org1MSP.member')","requiredPeerCount":0,
            "maxPeerCount":3,"blockToLive":1000000,"memberOnlyRead":true,"memberOnlyWrite":true,
            "endorsementPolicy":{"signaturePolicy":"OR('Org1MSP.peer')"}}]"#;
        let p = parse_collections(json).unwrap();
        let Some(CollectionPayload::StaticCollectionConfig(c)) = &p.config[0].payload else { panic!() };
        assert_eq!((c.name.as_str(), c.maximum_peer_count, c.block_to_live), ("private", 3, 1_000_000));
        assert!(parse_collections(b"[{\"name\":\"x\"}]").unwrap_err().contains("policy"));
    }
}
