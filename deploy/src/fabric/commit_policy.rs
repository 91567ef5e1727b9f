//! Whether a chaincode definition can be committed: the channel's
//! `/Channel/Application/LifecycleEndorsement` policy, read from the channel configuration (the
//! peer's `cscc` `GetChannelConfig`, open to the channel's Readers) and evaluated over the
//! approvals that commit readiness reports, as the peers evaluate it when they validate the
//! commit. The same evaluation tells whether the orgs that approved can endorse the chaincode's
//! own transactions (its endorsement policy, by default `/Channel/Application/Endorsement`).
//!
//! How approvals count: a commit is valid when its endorsements satisfy `LifecycleEndorsement`,
//! and a peer endorses a commit only if its own org approved the definition ("chaincode
//! definition not agreed to by this org"). So each approving org counts as one endorsement,
//! signed by one of its peers, and the policy is evaluated over those:
//!
//! * `ImplicitMeta` (`ANY`, `ALL` or `MAJORITY` of a sub-policy, e.g. `MAJORITY Endorsement`):
//!   the sub-policy of every group below (the channel's orgs), of which 1, all, or half plus one
//!   must be met; with no group below it is met (Fabric's rule), and an org without that
//!   sub-policy counts but is never met.
//! * Signature policies (`AND`, `OR`, `OutOf`): Fabric's `cauthdsl` evaluation, each endorsement
//!   used once, greedily in the policy's order.
//! * Principals: `MSP.peer` and `MSP.member` are met by the approval of that MSP's org, since its
//!   peer signs the endorsement; `MSP.admin`, `MSP.client` and `MSP.orderer` never are. An
//!   organizational unit or a single identity of an MSP counts as met by that org's approval (the
//!   peer's certificate decides, which cannot be seen from here); anonymity and combined
//!   principals never are.

use std::collections::{BTreeMap, BTreeSet};

use ccaas_protos::common::msp_principal::Classification;
use ccaas_protos::common::msp_role::MspRoleType;
use ccaas_protos::common::signature_policy::Type as SigType;
use ccaas_protos::common::{
    implicit_meta_policy, ImplicitMetaPolicy, MspPrincipal, MspRole, OrganizationUnit, SignaturePolicy,
    SignaturePolicyEnvelope,
};
use ccaas_protos::msp::SerializedIdentity;
use ccaas_protos::protos::application_policy::Type as AppPolicyType;
use ccaas_protos::protos::ApplicationPolicy;
use prost::Message;
use serde::Serialize;

use crate::definition::Definition;
use crate::error::{Error, Result};

/// The policy that decides a commit.
pub const LIFECYCLE_ENDORSEMENT: &str = "/Channel/Application/LifecycleEndorsement";

// The channel configuration messages (fabric-protos `common/configtx.proto`, `msp/msp_config.proto`),
// only the fields read here.
#[derive(Clone, PartialEq, Message)]
struct Config {
    #[prost(uint64, tag = "1")]
    sequence: u64,
    #[prost(message, optional, tag = "2")]
    channel_group: Option<ConfigGroup>,
}

#[derive(Clone, PartialEq, Message)]
struct ConfigGroup {
    #[prost(btree_map = "string, message", tag = "2")]
    groups: BTreeMap<String, ConfigGroup>,
    #[prost(btree_map = "string, message", tag = "3")]
    values: BTreeMap<String, ConfigValue>,
    #[prost(btree_map = "string, message", tag = "4")]
    policies: BTreeMap<String, ConfigPolicy>,
}

#[derive(Clone, PartialEq, Message)]
struct ConfigValue {
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct ConfigPolicy {
    #[prost(message, optional, tag = "2")]
    policy: Option<ccaas_protos::common::Policy>,
}

#[derive(Clone, PartialEq, Message)]
struct MspConfig {
    #[prost(bytes = "vec", tag = "2")]
    config: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct FabricMspConfig {
    #[prost(string, tag = "1")]
    name: String,
}

// common.Policy.PolicyType
const POLICY_SIGNATURE: i32 = 1;
const POLICY_IMPLICIT_META: i32 = 3;

/// A channel's configuration, as its peers hold it.
#[derive(Clone, Debug)]
pub struct ChannelConfig {
    root: ConfigGroup,
}

/// A policy compiled for evaluation over approvals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `ANY`, `ALL` or `MAJORITY` of the sub-policy of each group below.
    ImplicitMeta {
        /// The rule.
        rule: MetaRule,
        /// The sub-policy's name, e.g. `Endorsement`.
        sub_policy: String,
        /// Each group below (an org, named by its MSP ID) and its sub-policy.
        subs: Vec<(String, Rule)>,
    },
    /// A signature policy.
    Signature(Signature),
    /// A policy the peer would reject every time: missing, or of a kind it cannot evaluate.
    Reject(String),
}

/// The rule of an `ImplicitMeta` policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaRule {
    /// One sub-policy.
    Any,
    /// Every sub-policy.
    All,
    /// Half of them plus one.
    Majority,
}

/// A signature policy's rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// `n` of the rules (`AND`: all, `OR`: one).
    NOutOf {
        /// How many.
        n: i32,
        /// The rules.
        rules: Vec<Signature>,
    },
    /// One principal.
    SignedBy(Principal),
}

/// A principal of a signature policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// As the policy language writes it, e.g. `Org1MSP.peer`.
    pub text: String,
    /// Its MSP ID ("" for anonymity and combined principals).
    pub msp: String,
    /// Whether an approval of the MSP's org meets it (its peer's endorsement does).
    pub by_approval: bool,
}

/// A policy evaluated over approvals.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Check {
    /// The policy, e.g. `LifecycleEndorsement`.
    pub policy: String,
    /// Its rule, e.g. `MAJORITY Endorsement` or `OR('Org1MSP.peer')`.
    pub rule: String,
    /// The orgs that approved, sorted.
    pub approved: Vec<String>,
    /// Whether their approvals meet it.
    pub met: bool,
    /// How far the approvals go, e.g. `2 of 3 orgs approved (Org1MSP, Org2MSP)`.
    pub summary: String,
    /// When not met: what is missing, e.g. `1 more approval, from any of Org3MSP, Org4MSP`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub missing: String,
    /// When not met: the orgs whose approval could meet it, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub could_approve: Vec<String>,
}

impl Check {
    /// The error that says the commit of `name` at `sequence` must wait, and for whom.
    pub fn waiting_error(self, name: &str, sequence: i64) -> Error {
        Error::ApprovalsMissing {
            name: name.into(),
            sequence,
            orgs: self.could_approve,
            rule: format!("{} ({}: {})", self.policy, self.rule, self.summary),
            needed: self.missing,
        }
    }

    /// One line: `LifecycleEndorsement: MAJORITY Endorsement: 2 of 3 orgs approved (Org1MSP,
    /// Org2MSP): met`.
    pub fn line(&self) -> String {
        let verdict = if self.met { "met".to_string() } else { format!("not met: needs {}", self.missing) };
        format!("{}: {}: {}: {verdict}", self.policy, self.rule, self.summary)
    }
}

/// What decides whether a definition can be committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitRule {
    /// The channel's `LifecycleEndorsement` policy.
    Policy(Rule),
    /// The channel configuration could not be read (`why`): every org must approve.
    EveryOrg {
        /// Why the configuration could not be read.
        why: String,
    },
}

impl CommitRule {
    /// The rule over `approvals` (MSP ID → approved, as commit readiness reports them).
    pub fn check(&self, approvals: &BTreeMap<String, bool>) -> Check {
        let approved: BTreeSet<String> = approvals.iter().filter(|(_, a)| **a).map(|(o, _)| o.clone()).collect();
        match self {
            CommitRule::Policy(rule) => rule.check("LifecycleEndorsement", &approved),
            CommitRule::EveryOrg { .. } => {
                let missing: Vec<String> = approvals.iter().filter(|(_, a)| !**a).map(|(o, _)| o.clone()).collect();
                Check {
                    policy: "every org (the channel configuration could not be read)".into(),
                    rule: "ALL".into(),
                    summary: orgs_approved(approved.len(), approvals.len(), &approved),
                    approved: approved.into_iter().collect(),
                    met: missing.is_empty(),
                    missing: if missing.is_empty() { String::new() } else { approvals_of(&missing) },
                    could_approve: missing,
                }
            }
        }
    }

    /// The warning to show when the rule is the fallback.
    pub fn warning(&self) -> Option<String> {
        match self {
            CommitRule::Policy(_) => None,
            CommitRule::EveryOrg { why } => Some(format!(
                "cannot read the channel configuration ({why}), so the commit waits for every org's approval \
                 instead of the channel's LifecycleEndorsement policy; use an identity among the channel's Readers \
                 (an org admin or member) to commit as soon as the policy is met"
            )),
        }
    }
}

impl ChannelConfig {
    /// Decodes a marshalled `common.Config` (what `cscc` `GetChannelConfig` answers).
    pub fn decode(bytes: &[u8]) -> Result<ChannelConfig, String> {
        let config = Config::decode(bytes).map_err(|e| format!("not a channel configuration: {e}"))?;
        let root = config.channel_group.ok_or("the channel configuration has no channel group")?;
        if !root.groups.contains_key("Application") {
            return Err("the channel configuration has no Application group".into());
        }
        Ok(ChannelConfig { root })
    }

    /// The MSP IDs of the channel's application orgs, sorted.
    pub fn orgs(&self) -> Vec<String> {
        let app = &self.root.groups["Application"];
        let mut orgs: Vec<String> = app.groups.iter().map(|(k, g)| msp_id(k, g)).collect();
        orgs.sort();
        orgs
    }

    /// The policy at `path` (`/Channel/Application/LifecycleEndorsement`, or relative to
    /// `/Channel`), compiled; a missing policy is a [`Rule::Reject`], as the peer treats it.
    pub fn policy(&self, path: &str) -> Rule {
        let relative = path.strip_prefix("/Channel/").unwrap_or(path.trim_start_matches('/'));
        let mut parts: Vec<&str> = relative.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut group = &self.root;
        for p in parts {
            match group.groups.get(p) {
                Some(g) => group = g,
                None => return Rule::Reject(format!("the channel has no policy {path}")),
            }
        }
        compile(group, name, path)
    }

    /// The rule that decides a commit: `LifecycleEndorsement`.
    pub fn commit_rule(&self) -> CommitRule {
        CommitRule::Policy(self.policy(LIFECYCLE_ENDORSEMENT))
    }

    /// The endorsement policy of `definition` (a signature policy, or a reference to a channel
    /// policy), compiled, with its name for messages.
    pub fn endorsement(&self, definition: &Definition) -> (String, Rule) {
        let name = format!("endorsement policy of {}", definition.name);
        match ApplicationPolicy::decode(definition.validation_parameter.as_slice()).map(|p| p.r#type) {
            Ok(Some(AppPolicyType::SignaturePolicy(env))) => (name, signature_rule(&env)),
            Ok(Some(AppPolicyType::ChannelConfigPolicyReference(path))) => {
                let rule = self.policy(&path);
                (format!("{name} ({path})"), rule)
            }
            _ => (name, Rule::Reject("the definition's endorsement policy is unreadable".into())),
        }
    }
}

fn msp_id(group_name: &str, g: &ConfigGroup) -> String {
    g.values
        .get("MSP")
        .and_then(|v| MspConfig::decode(v.value.as_slice()).ok())
        .and_then(|m| FabricMspConfig::decode(m.config.as_slice()).ok())
        .map(|m| m.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| group_name.to_string())
}

fn compile(group: &ConfigGroup, name: &str, path: &str) -> Rule {
    let Some(policy) = group.policies.get(name).and_then(|p| p.policy.as_ref()) else {
        return Rule::Reject(format!("the channel has no policy {path}"));
    };
    match policy.r#type {
        POLICY_SIGNATURE => match SignaturePolicyEnvelope::decode(policy.value.as_ref()) {
            Ok(env) => signature_rule(&env),
            Err(e) => Rule::Reject(format!("{path} is an unreadable signature policy: {e}")),
        },
        POLICY_IMPLICIT_META => match ImplicitMetaPolicy::decode(policy.value.as_ref()) {
            Ok(m) => {
                let rule = match implicit_meta_policy::Rule::try_from(m.rule) {
                    Ok(implicit_meta_policy::Rule::Any) => MetaRule::Any,
                    Ok(implicit_meta_policy::Rule::All) => MetaRule::All,
                    Ok(implicit_meta_policy::Rule::Majority) => MetaRule::Majority,
                    Err(_) => return Rule::Reject(format!("{path} has an unknown implicit meta rule {}", m.rule)),
                };
                let subs = group
                    .groups
                    .iter()
                    .map(|(k, g)| {
                        let sub_path = format!("{}/{k}/{}", path.rsplit_once('/').map_or("", |(p, _)| p), m.sub_policy);
                        (msp_id(k, g), compile(g, &m.sub_policy, &sub_path))
                    })
                    .collect();
                Rule::ImplicitMeta { rule, sub_policy: m.sub_policy, subs }
            }
            Err(e) => Rule::Reject(format!("{path} is an unreadable implicit meta policy: {e}")),
        },
        t => Rule::Reject(format!("{path} is a policy of type {t}, which cannot be evaluated over approvals")),
    }
}

/// A signature policy envelope, compiled (an out-of-range principal index: [`Rule::Reject`], as
/// Fabric refuses to compile it).
pub fn signature_rule(env: &SignaturePolicyEnvelope) -> Rule {
    let principals: Vec<Principal> = env.identities.iter().map(principal).collect();
    match env.rule.as_ref().map(|r| signature(r, &principals)) {
        Some(Ok(s)) => Rule::Signature(s),
        Some(Err(e)) => Rule::Reject(e),
        None => Rule::Reject("a signature policy without a rule".into()),
    }
}

fn signature(p: &SignaturePolicy, principals: &[Principal]) -> Result<Signature, String> {
    match &p.r#type {
        Some(SigType::SignedBy(i)) => principals
            .get(usize::try_from(*i).unwrap_or(usize::MAX))
            .cloned()
            .map(Signature::SignedBy)
            .ok_or_else(|| format!("a signature policy names principal {i} of {}", principals.len())),
        Some(SigType::NOutOf(n)) => Ok(Signature::NOutOf {
            n: n.n,
            rules: n.rules.iter().map(|r| signature(r, principals)).collect::<Result<_, _>>()?,
        }),
        None => Err("an empty signature policy rule".into()),
    }
}

fn principal(p: &MspPrincipal) -> Principal {
    let never = |text: &str| Principal { text: text.into(), msp: String::new(), by_approval: false };
    match Classification::try_from(p.principal_classification) {
        Ok(Classification::Role) => match MspRole::decode(p.principal.as_ref()) {
            Ok(r) => {
                let role = MspRoleType::try_from(r.role).unwrap_or(MspRoleType::Member);
                Principal {
                    text: format!("{}.{}", r.msp_identifier, role.as_str_name().to_ascii_lowercase()),
                    by_approval: matches!(role, MspRoleType::Member | MspRoleType::Peer),
                    msp: r.msp_identifier,
                }
            }
            Err(_) => never("an unreadable role principal"),
        },
        Ok(Classification::OrganizationUnit) => match OrganizationUnit::decode(p.principal.as_ref()) {
            Ok(ou) => Principal {
                text: format!("{} OU {}", ou.msp_identifier, ou.organizational_unit_identifier),
                msp: ou.msp_identifier,
                by_approval: true,
            },
            Err(_) => never("an unreadable organizational unit principal"),
        },
        Ok(Classification::Identity) => match SerializedIdentity::decode(p.principal.as_ref()) {
            Ok(id) => Principal { text: format!("an identity of {}", id.mspid), msp: id.mspid, by_approval: true },
            Err(_) => never("an unreadable identity principal"),
        },
        Ok(Classification::Anonymity) => never("an anonymity principal"),
        Ok(Classification::Combined) => never("a combined principal"),
        Err(_) => never("a principal of an unknown kind"),
    }
}

impl Rule {
    /// The rule in the policy languages' words: `MAJORITY Endorsement`, `OR('Org1MSP.peer')`.
    pub fn text(&self) -> String {
        match self {
            Rule::ImplicitMeta { rule, sub_policy, .. } => format!("{} {sub_policy}", rule.name()),
            Rule::Signature(s) => s.text(),
            Rule::Reject(why) => format!("never met ({why})"),
        }
    }

    /// Whether the approvals of `approved` (MSP IDs) meet the rule.
    pub fn met(&self, approved: &BTreeSet<String>) -> bool {
        match self {
            Rule::ImplicitMeta { rule, subs, .. } => {
                subs.iter().filter(|(_, r)| r.met(approved)).count() >= rule.threshold(subs.len())
            }
            Rule::Signature(s) => {
                let ids: Vec<&String> = approved.iter().collect();
                s.eval(&ids, &mut vec![false; ids.len()])
            }
            Rule::Reject(_) => false,
        }
    }

    /// The rule over `approved`, named `policy` in messages.
    pub fn check(&self, policy: &str, approved: &BTreeSet<String>) -> Check {
        let met = self.met(approved);
        let (missing, could) = if met { (String::new(), BTreeSet::new()) } else { self.missing(approved) };
        let summary = match self {
            Rule::ImplicitMeta { subs, .. } => {
                let orgs: BTreeSet<String> =
                    subs.iter().filter(|(_, r)| r.met(approved)).map(|(o, _)| o.clone()).collect();
                orgs_approved(orgs.len(), subs.len(), &orgs)
            }
            _ if approved.is_empty() => "no org approved".into(),
            _ => format!("approved by {}", join(approved)),
        };
        Check {
            policy: policy.into(),
            rule: self.text(),
            approved: approved.iter().cloned().collect(),
            met,
            summary,
            missing,
            could_approve: could.into_iter().collect(),
        }
    }

    /// What is missing, and the orgs whose approvals could give it.
    fn missing(&self, approved: &BTreeSet<String>) -> (String, BTreeSet<String>) {
        match self {
            Rule::ImplicitMeta { rule, sub_policy, subs } => {
                let unmet: Vec<&(String, Rule)> = subs.iter().filter(|(_, r)| !r.met(approved)).collect();
                let more = rule.threshold(subs.len()) - (subs.len() - unmet.len());
                let helpers: Vec<(&String, BTreeSet<String>)> =
                    unmet.iter().map(|(org, r)| (org, r.helpers(approved))).collect();
                let all: BTreeSet<String> = helpers.iter().flat_map(|(_, h)| h.iter().cloned()).collect();
                // The usual case: each org's sub-policy is met by its own approval.
                if helpers.iter().all(|(org, h)| h.len() == 1 && h.contains(*org)) {
                    let orgs: Vec<String> = all.iter().cloned().collect();
                    return (count_from(more, &orgs), all);
                }
                let parts: Vec<String> = unmet
                    .iter()
                    .map(|(org, r)| {
                        let (m, _) = r.missing(approved);
                        format!("{org}'s {sub_policy} ({}: {m})", r.text())
                    })
                    .collect();
                (format!("{more} more of the orgs' {sub_policy} policies, of: {}", parts.join("; ")), all)
            }
            Rule::Signature(s) => {
                let helpers = self.helpers(approved);
                if helpers.is_empty() {
                    let why = "an approval that no org can give: the orgs of its principals that a peer can sign \
                               for (MSP.peer, MSP.member) have all approved, or it names none (endorsements come \
                               from peers, not admins or clients)";
                    return (why.into(), helpers);
                }
                // OR, AND and OutOf of principals: how many more, from whom.
                if let Signature::NOutOf { n, rules } = s {
                    if rules.iter().all(|r| matches!(r, Signature::SignedBy(_))) {
                        let ids: Vec<&String> = approved.iter().collect();
                        let mut used = vec![false; ids.len()];
                        let done = rules.iter().filter(|r| r.eval(&ids, &mut used)).count();
                        let more = usize::try_from(*n).unwrap_or(0).saturating_sub(done);
                        let orgs: Vec<String> = helpers.iter().cloned().collect();
                        return (count_from(more, &orgs), helpers);
                    }
                }
                (format!("approvals from some of {}", join(&helpers)), helpers)
            }
            Rule::Reject(why) => (format!("an approval that cannot be given: {why}"), BTreeSet::new()),
        }
    }

    /// The orgs that have not approved and whose approval could help meet the rule.
    fn helpers(&self, approved: &BTreeSet<String>) -> BTreeSet<String> {
        match self {
            Rule::ImplicitMeta { subs, .. } => {
                subs.iter().filter(|(_, r)| !r.met(approved)).flat_map(|(_, r)| r.helpers(approved)).collect()
            }
            Rule::Signature(s) => {
                let mut out = BTreeSet::new();
                s.principals(&mut |p| {
                    if p.by_approval && !approved.contains(&p.msp) {
                        out.insert(p.msp.clone());
                    }
                });
                out
            }
            Rule::Reject(_) => BTreeSet::new(),
        }
    }
}

impl MetaRule {
    fn name(self) -> &'static str {
        match self {
            MetaRule::Any => "ANY",
            MetaRule::All => "ALL",
            MetaRule::Majority => "MAJORITY",
        }
    }

    /// How many of `n` sub-policies must be met (Fabric's `NewImplicitMetaPolicy`).
    pub fn threshold(self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        match self {
            MetaRule::Any => 1,
            MetaRule::All => n,
            MetaRule::Majority => n / 2 + 1,
        }
    }
}

impl Signature {
    /// cauthdsl: each identity (one peer per approving org, in `ids`) satisfies one principal;
    /// an `NOutOf` tries every rule on a copy of `used` and keeps the copy of each rule that is met.
    fn eval(&self, ids: &[&String], used: &mut [bool]) -> bool {
        match self {
            Signature::SignedBy(p) => {
                for (i, id) in ids.iter().enumerate() {
                    if !used[i] && p.by_approval && p.msp == **id {
                        used[i] = true;
                        return true;
                    }
                }
                false
            }
            Signature::NOutOf { n, rules } => {
                let mut verified = 0;
                let mut scratch = used.to_vec();
                for r in rules {
                    scratch.copy_from_slice(used);
                    if r.eval(ids, &mut scratch) {
                        verified += 1;
                        used.copy_from_slice(&scratch);
                    }
                }
                verified >= *n
            }
        }
    }

    fn principals(&self, f: &mut dyn FnMut(&Principal)) {
        match self {
            Signature::SignedBy(p) => f(p),
            Signature::NOutOf { rules, .. } => rules.iter().for_each(|r| r.principals(f)),
        }
    }

    fn text(&self) -> String {
        match self {
            Signature::SignedBy(p) => format!("'{}'", p.text),
            Signature::NOutOf { n, rules } => {
                let inner: Vec<String> = rules.iter().map(Signature::text).collect();
                match *n {
                    1 => format!("OR({})", inner.join(", ")),
                    n if n as usize == rules.len() => format!("AND({})", inner.join(", ")),
                    n => format!("OutOf({n}, {})", inner.join(", ")),
                }
            }
        }
    }
}

fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items.into_iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

fn orgs_approved(done: usize, of: usize, orgs: &BTreeSet<String>) -> String {
    if orgs.is_empty() {
        format!("{done} of {of} orgs approved")
    } else {
        format!("{done} of {of} orgs approved ({})", join(orgs))
    }
}

/// "the approval of A" / "the approvals of A, B".
fn approvals_of(orgs: &[String]) -> String {
    match orgs {
        [one] => format!("the approval of {one}"),
        many => format!("the approvals of {}", join(many)),
    }
}

/// `more` approvals from `orgs`: all of them, or any `more` of them.
fn count_from(more: usize, orgs: &[String]) -> String {
    if more >= orgs.len() {
        approvals_of(orgs)
    } else {
        let s = if more == 1 { "" } else { "s" };
        format!("{more} more approval{s}, from any of {}", join(orgs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_signature_policy;
    use ccaas_protos::common::Policy;

    fn set(orgs: &[&str]) -> BTreeSet<String> {
        orgs.iter().map(|s| s.to_string()).collect()
    }

    fn sig(text: &str) -> Rule {
        signature_rule(&parse_signature_policy(text).unwrap())
    }

    fn policy_of(rule: &Rule) -> ConfigPolicy {
        ConfigPolicy { policy: Some(encode(rule)) }
    }

    /// The configuration policy of a rule built by these tests (signature or implicit meta).
    fn encode(rule: &Rule) -> Policy {
        match rule {
            Rule::ImplicitMeta { rule, sub_policy, .. } => Policy {
                r#type: POLICY_IMPLICIT_META,
                value: ImplicitMetaPolicy {
                    sub_policy: sub_policy.clone(),
                    rule: match rule {
                        MetaRule::Any => 0,
                        MetaRule::All => 1,
                        MetaRule::Majority => 2,
                    },
                }
                .encode_to_vec()
                .into(),
            },
            Rule::Signature(_) => unreachable!("signature rules are encoded from their text"),
            Rule::Reject(_) => unreachable!(),
        }
    }

    fn sig_policy(text: &str) -> ConfigPolicy {
        ConfigPolicy {
            policy: Some(Policy {
                r#type: POLICY_SIGNATURE,
                value: parse_signature_policy(text).unwrap().encode_to_vec().into(),
            }),
        }
    }

    fn meta(rule: MetaRule, sub: &str) -> ConfigPolicy {
        policy_of(&Rule::ImplicitMeta { rule, sub_policy: sub.into(), subs: Vec::new() })
    }

    fn org_group(msp: &str, endorsement: ConfigPolicy) -> ConfigGroup {
        let fabric = FabricMspConfig { name: msp.into() }.encode_to_vec();
        let msp_value = MspConfig { config: fabric }.encode_to_vec();
        ConfigGroup {
            groups: BTreeMap::new(),
            values: BTreeMap::from([("MSP".to_string(), ConfigValue { value: msp_value })]),
            policies: BTreeMap::from([("Endorsement".to_string(), endorsement)]),
        }
    }

    /// A channel config as configtxgen makes it: the orgs' groups named by `Org<n>` (not the MSP
    /// ID), each with its own `Endorsement`, and the Application group's policies.
    fn channel(orgs: Vec<(&str, ConfigPolicy)>, app_policies: Vec<(&str, ConfigPolicy)>) -> ChannelConfig {
        let groups =
            orgs.into_iter().enumerate().map(|(i, (msp, e))| (format!("Org{}", i + 1), org_group(msp, e))).collect();
        let app = ConfigGroup {
            groups,
            values: BTreeMap::new(),
            policies: app_policies.into_iter().map(|(n, p)| (n.to_string(), p)).collect(),
        };
        let root = ConfigGroup {
            groups: BTreeMap::from([("Application".to_string(), app)]),
            values: BTreeMap::new(),
            policies: BTreeMap::new(),
        };
        let bytes = Config { sequence: 3, channel_group: Some(root) }.encode_to_vec();
        ChannelConfig::decode(&bytes).unwrap()
    }

    fn test_network(n: usize, rule: MetaRule) -> ChannelConfig {
        let msps: Vec<String> = (1..=n).map(|i| format!("Org{i}MSP")).collect();
        channel(
            msps.iter().map(|m| (m.as_str(), sig_policy(&format!("OR('{m}.peer')")))).collect(),
            vec![("LifecycleEndorsement", meta(rule, "Endorsement")), ("Endorsement", meta(rule, "Endorsement"))],
        )
    }

    fn approvals(all: usize, yes: &[usize]) -> BTreeMap<String, bool> {
        (1..=all).map(|i| (format!("Org{i}MSP"), yes.contains(&i))).collect()
    }

    #[test]
    fn majority_of_three_is_met_by_two_and_names_the_rule() {
        let c = test_network(3, MetaRule::Majority);
        assert_eq!(c.orgs(), vec!["Org1MSP", "Org2MSP", "Org3MSP"], "MSP IDs come from the MSP values");
        let rule = c.commit_rule();
        let one = rule.check(&approvals(3, &[1]));
        assert!(!one.met);
        assert_eq!(
            one.line(),
            "LifecycleEndorsement: MAJORITY Endorsement: 1 of 3 orgs approved (Org1MSP): not met: needs 1 more \
             approval, from any of Org2MSP, Org3MSP"
        );
        assert_eq!(one.could_approve, vec!["Org2MSP", "Org3MSP"]);
        let two = rule.check(&approvals(3, &[1, 2]));
        assert!(two.met);
        assert_eq!(
            two.line(),
            "LifecycleEndorsement: MAJORITY Endorsement: 2 of 3 orgs approved (Org1MSP, Org2MSP): met"
        );
        assert!(two.missing.is_empty() && two.could_approve.is_empty(), "nothing is missing once met");
    }

    #[test]
    fn majority_of_five_with_two_says_how_many_more_and_from_whom() {
        let c = test_network(5, MetaRule::Majority);
        let check = c.commit_rule().check(&approvals(5, &[1, 4]));
        assert!(!check.met);
        assert_eq!(check.missing, "1 more approval, from any of Org2MSP, Org3MSP, Org5MSP");
        assert_eq!(check.could_approve, vec!["Org2MSP", "Org3MSP", "Org5MSP"]);
        assert_eq!(
            check.clone().waiting_error("basic", 4).to_string(),
            "cannot commit basic sequence 4 yet: LifecycleEndorsement (MAJORITY Endorsement: 2 of 5 orgs approved \
             (Org1MSP, Org4MSP)) needs 1 more approval, from any of Org2MSP, Org3MSP, Org5MSP; they approve with \
             `ccaas-deploy approve` (or `ccaas-deploy lifecycle`) and the same definition"
        );
        let none = c.commit_rule().check(&approvals(5, &[]));
        assert_eq!(none.missing, "3 more approvals, from any of Org1MSP, Org2MSP, Org3MSP, Org4MSP, Org5MSP");
        assert_eq!(none.summary, "0 of 5 orgs approved");
    }

    #[test]
    fn any_and_all() {
        let any = test_network(3, MetaRule::Any).commit_rule();
        assert!(!any.check(&approvals(3, &[])).met);
        assert!(any.check(&approvals(3, &[3])).met);
        let all = test_network(3, MetaRule::All).commit_rule();
        let two = all.check(&approvals(3, &[1, 3]));
        assert!(!two.met);
        assert_eq!(two.missing, "the approval of Org2MSP");
        let one = all.check(&approvals(3, &[2]));
        assert_eq!(one.missing, "the approvals of Org1MSP, Org3MSP");
        assert!(all.check(&approvals(3, &[1, 2, 3])).met);
    }

    #[test]
    fn implicit_meta_over_nested_sub_policies() {
        // Org3's Endorsement needs Org1 as well; Org2's needs an admin, which no peer is.
        let c = channel(
            vec![
                ("Org1MSP", sig_policy("OR('Org1MSP.peer')")),
                ("Org2MSP", sig_policy("OR('Org2MSP.admin')")),
                ("Org3MSP", sig_policy("AND('Org3MSP.member', 'Org1MSP.peer')")),
            ],
            vec![("LifecycleEndorsement", meta(MetaRule::Majority, "Endorsement"))],
        );
        let rule = c.commit_rule();
        // Org2's approval never meets its own policy.
        let check = rule.check(&approvals(3, &[1, 2]));
        assert!(!check.met);
        assert_eq!(check.summary, "1 of 3 orgs approved (Org1MSP)");
        assert_eq!(check.could_approve, vec!["Org3MSP"], "only Org3's approval helps");
        assert!(
            check.missing.contains("Org3MSP's Endorsement (AND('Org3MSP.member', 'Org1MSP.peer')"),
            "{}",
            check.missing
        );
        assert!(check.missing.contains("Org2MSP's Endorsement (OR('Org2MSP.admin'): an approval that no org can give"));
        // Org3 alone does not meet its own policy without Org1.
        assert!(!rule.check(&approvals(3, &[3, 2])).met);
        assert!(rule.check(&approvals(3, &[1, 3])).met);
        // An implicit meta policy over a group with none below is met without approvals (Fabric: 0 of 0).
        let empty = channel(
            vec![("Org1MSP", meta(MetaRule::All, "Endorsement"))],
            vec![("LifecycleEndorsement", meta(MetaRule::All, "Endorsement"))],
        );
        assert!(empty.commit_rule().check(&approvals(1, &[])).met);
    }

    #[test]
    fn an_org_without_the_sub_policy_counts_but_is_never_met() {
        let mut c = test_network(2, MetaRule::Majority);
        let app = c.root.groups.get_mut("Application").unwrap();
        app.groups.get_mut("Org2").unwrap().policies.clear();
        let rule = c.commit_rule();
        assert!(!rule.check(&approvals(2, &[1, 2])).met, "MAJORITY of 2 needs both; Org2 has no Endorsement");
        assert!(matches!(c.policy("/Channel/Application/Nope"), Rule::Reject(_)));
    }

    #[test]
    fn signature_policies_count_each_endorsement_once() {
        let two_of_org1 = sig("AND('Org1MSP.peer', 'Org1MSP.member')");
        assert!(!two_of_org1.met(&set(&["Org1MSP"])), "one peer of Org1 cannot be two signers");
        let out_of = sig("OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer')");
        assert!(!out_of.met(&set(&["Org2MSP"])));
        assert!(out_of.met(&set(&["Org2MSP", "Org3MSP"])));
        let c = out_of.check("LifecycleEndorsement", &set(&["Org2MSP"]));
        assert_eq!(c.missing, "1 more approval, from any of Org1MSP, Org3MSP");
        assert_eq!(c.summary, "approved by Org2MSP");
        let and = sig("AND('Org1MSP.peer', 'Org2MSP.peer')").check("LifecycleEndorsement", &set(&["Org1MSP"]));
        assert_eq!(and.missing, "the approval of Org2MSP");
        let nested = sig("OR(AND('A.peer', 'B.peer'), AND('C.member', 'D.peer'))");
        assert!(nested.met(&set(&["C", "D"])));
        assert!(!nested.met(&set(&["A", "D"])));
        assert_eq!(nested.check("x", &set(&["A"])).missing, "approvals from some of B, C, D");
        let admins = sig("OR('Org1MSP.admin', 'Org1MSP.client')").check("x", &set(&["Org1MSP"]));
        assert!(!admins.met && admins.could_approve.is_empty());
        assert!(admins.missing.starts_with("an approval that no org can give"));
    }

    #[test]
    fn chaincode_endorsement_policies() {
        let c = test_network(3, MetaRule::Majority);
        let def = Definition::new("basic", "1.0");
        let (name, rule) = c.endorsement(&def);
        assert_eq!(name, "endorsement policy of basic (/Channel/Application/Endorsement)");
        assert_eq!(rule.text(), "MAJORITY Endorsement");
        let def = def.signature_policy("OR('Org1MSP.peer','Org2MSP.peer')").unwrap();
        let (name, rule) = c.endorsement(&def);
        assert_eq!(
            (name.as_str(), rule.text().as_str()),
            ("endorsement policy of basic", "OR('Org1MSP.peer', 'Org2MSP.peer')")
        );
        assert!(rule.met(&set(&["Org2MSP"])));
    }

    #[test]
    fn the_fallback_waits_for_every_org() {
        let rule = CommitRule::EveryOrg { why: "access denied".into() };
        let c = rule.check(&approvals(3, &[1, 2]));
        assert!(!c.met);
        assert_eq!(c.missing, "the approval of Org3MSP");
        assert_eq!(c.could_approve, vec!["Org3MSP"]);
        assert!(rule.warning().unwrap().contains("access denied"));
        assert!(rule.check(&approvals(3, &[1, 2, 3])).met);
    }

    #[test]
    fn unreadable_configs_are_refused_with_a_reason() {
        assert!(ChannelConfig::decode(b"\xff\xff").unwrap_err().contains("not a channel configuration"));
        let bytes = Config { sequence: 1, channel_group: Some(ConfigGroup::default()) }.encode_to_vec();
        assert!(ChannelConfig::decode(&bytes).unwrap_err().contains("no Application group"));
    }
}
