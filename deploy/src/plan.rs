//! The idempotent lifecycle: read what the channel and the peers have, decide the steps that
//! are missing, and do them.
//!
//! * Everything in place → no step.
//! * The definition is committed and unchanged, but this org's peers should run a new package
//!   → install it and re-approve at the committed sequence (no other org is needed).
//! * The definition changed (or nothing is committed) → approve the next sequence, then commit
//!   as soon as the approvals meet the channel's `LifecycleEndorsement` policy (see
//!   [`crate::commit_policy`]: e.g. 2 of 3 orgs under the default `MAJORITY Endorsement`), endorsed
//!   by the approving orgs' peers; if they do not, say what is missing and from whom, and stop.
//!   When the channel configuration cannot be read, every org must approve (with a warning).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::commit_policy::{self, Check, CommitRule};
use crate::definition::Definition;
use crate::error::{Error, Result};
use crate::lifecycle::{Session, TxOutcome, Via};

/// One step of a plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Step {
    /// Install the package on a peer.
    Install {
        /// The peer.
        peer: String,
    },
    /// Approve the definition for the identity's organization.
    Approve {
        /// The organization.
        org: String,
        /// At which sequence.
        sequence: i64,
        /// Why, in words.
        reason: String,
    },
    /// Commit the definition.
    Commit {
        /// At which sequence.
        sequence: i64,
    },
    /// Other organizations must approve before the commit.
    WaitForApprovals {
        /// At which sequence.
        sequence: i64,
        /// The organizations whose approval could meet the commit rule.
        orgs: Vec<String>,
        /// What is missing, e.g. `1 more approval, from any of Org2MSP, Org3MSP`.
        needed: String,
    },
}

/// What `lifecycle` will do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Plan {
    /// The channel.
    pub channel: String,
    /// The chaincode name.
    pub name: String,
    /// The version wanted.
    pub version: String,
    /// The package this org's peers should run.
    pub package_id: String,
    /// The committed sequence, if any.
    pub committed_sequence: Option<i64>,
    /// The sequence the plan works at.
    pub sequence: i64,
    /// What is already in place, in words.
    pub done: Vec<String>,
    /// What is missing, in order.
    pub steps: Vec<Step>,
    /// When the plan works at the next sequence: the rule that decides the commit, over the
    /// approvals (this org's counted as given when the plan approves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_rule: Option<Check>,
    /// The chaincode's endorsement policy over the same approvals: whether the orgs that approved
    /// can endorse its transactions once it is committed (told, not enforced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorsement: Option<Check>,
    /// Why the commit waits for every org (the channel configuration could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The compiled commit rule, for [`execute`]'s second look.
    #[serde(skip)]
    pub rule: Option<CommitRule>,
}

impl Plan {
    /// `true` when nothing needs doing.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    /// A step in plain words.
    pub fn step_line(&self, step: &Step) -> String {
        match step {
            Step::Install { peer } => format!("install package {} on {peer}", self.package_id),
            Step::Approve { org, sequence, reason } => format!(
                "approve {} version {} at sequence {sequence} for {org} with package {} ({reason})",
                self.name, self.version, self.package_id
            ),
            Step::Commit { sequence } => {
                format!("commit {} version {} at sequence {sequence} on {}", self.name, self.version, self.channel)
            }
            Step::WaitForApprovals { sequence, needed, .. } => {
                format!("then stop: {} sequence {sequence} needs {needed} before it can be committed", self.name)
            }
        }
    }

    /// What the chaincode's endorsement policy says of the approvals: whether the approving orgs
    /// can endorse its transactions once it is committed.
    pub fn endorsement_line(&self) -> Option<String> {
        let e = self.endorsement.as_ref()?;
        let then = if e.met {
            "the approving orgs can endorse its transactions"
        } else {
            "its transactions cannot be endorsed until more orgs approve it with a package"
        };
        Some(format!("{}; once committed, {then}", e.line()))
    }

    /// The plan in plain words, one line each: what is done, the steps, and the rules that decide.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.done.iter().map(|d| format!("already done: {d}")).collect();
        out.extend(self.steps.iter().map(|s| self.step_line(s)));
        if let Some(c) = &self.commit_rule {
            out.push(format!("commit rule: {}", c.line()));
        }
        out.extend(self.endorsement_line());
        if self.steps.is_empty() {
            out.push(format!(
                "nothing to do: {} version {} is committed at sequence {} and this organization's peers run {}",
                self.name, self.version, self.sequence, self.package_id
            ));
        }
        out
    }
}

/// Reads the channel and the peers and decides what is missing.
pub async fn make(session: &Session, definition: &Definition, package_id: &str) -> Result<Plan> {
    let org = session.identity().msp_id().to_string();
    let mut done = Vec::new();
    let mut steps = Vec::new();
    let mut decided = Decided::default();
    for node in session.own_peers() {
        if session.is_installed(node, package_id).await? {
            done.push(format!("package {package_id} is installed on {}", node.endpoint.name));
        } else {
            steps.push(Step::Install { peer: node.endpoint.name.clone() });
        }
    }
    let committed = session.committed(&definition.name).await?;
    let committed_sequence = committed.as_ref().map(|c| c.sequence);
    let sequence;
    match &committed {
        Some(c) if definition.same_as(&c.definition) => {
            sequence = c.sequence;
            done.push(format!(
                "{} version {} is committed at sequence {sequence}",
                definition.name, definition.version
            ));
            let approved = session.approved(&definition.name, sequence).await?;
            match approved {
                Some(a) if a.package_id == package_id && a.definition.same_as(definition) => {
                    done.push(format!("{org} approved it with package {package_id}"))
                }
                Some(a) => steps.push(Step::Approve {
                    org: org.clone(),
                    sequence,
                    reason: format!(
                        "new package for {org}'s peers, same definition: re-approve at the committed sequence \
                         (was {})",
                        if a.package_id.is_empty() { "no package" } else { &a.package_id }
                    ),
                }),
                None => steps.push(Step::Approve {
                    org: org.clone(),
                    sequence,
                    reason: format!("{org} has not approved the committed definition"),
                }),
            }
        }
        _ => {
            sequence = committed_sequence.unwrap_or(0) + 1;
            let approved = session.approved(&definition.name, sequence).await?;
            let approved_ok = matches!(&approved, Some(a) if a.sequence == sequence
                && a.definition.same_as(definition) && a.package_id == package_id);
            if approved_ok {
                done.push(format!("{org} approved sequence {sequence} with package {package_id}"));
            } else {
                let reason = match &committed {
                    None => "nothing is committed yet".to_string(),
                    Some(c) => format!("the definition changes: {}", definition.differences(&c.definition).join(", ")),
                };
                steps.push(Step::Approve { org: org.clone(), sequence, reason });
            }
            let (rule, config) = commit_policy::read(session).await?;
            let approvals = with_own(session.readiness(definition, sequence).await?.approvals, &org);
            let check = rule.check(&approvals);
            if check.met {
                steps.push(Step::Commit { sequence });
            } else {
                steps.push(Step::WaitForApprovals {
                    sequence,
                    orgs: check.could_approve.clone(),
                    needed: check.missing.clone(),
                });
            }
            if let Some(config) = config {
                let (name, endorsement) = config.endorsement(definition);
                let approved = approvals.iter().filter(|(_, a)| **a).map(|(o, _)| o.clone()).collect();
                decided.endorsement = Some(endorsement.check(&name, &approved));
            }
            decided.warning = rule.warning();
            decided.commit_rule = Some(check);
            decided.rule = Some(rule);
        }
    }
    Ok(Plan {
        channel: session.channel().into(),
        name: definition.name.clone(),
        version: definition.version.clone(),
        package_id: package_id.into(),
        committed_sequence,
        sequence,
        done,
        steps,
        commit_rule: decided.commit_rule,
        endorsement: decided.endorsement,
        warning: decided.warning,
        rule: decided.rule,
    })
}

#[derive(Default)]
struct Decided {
    commit_rule: Option<Check>,
    endorsement: Option<Check>,
    warning: Option<String>,
    rule: Option<CommitRule>,
}

/// The approvals with `org`'s counted as given (the plan approves before it commits).
fn with_own(mut approvals: BTreeMap<String, bool>, org: &str) -> BTreeMap<String, bool> {
    approvals.insert(org.to_string(), true);
    approvals
}

/// Commits `definition` at `sequence` if `rule` is met by the approvals readiness reports now;
/// `Ok(Err(check))` says what is missing when it is not. The commit is endorsed by the approving
/// orgs' peers (a peer refuses to endorse a definition its org did not approve): through the
/// Gateway they are its endorsing organizations; with [`Via::Orderer`], the configured peers of
/// those orgs, which must be enough to meet the rule. With [`CommitRule::EveryOrg`] the
/// endorsers are chosen as before the rule was known (the Gateway's choice, or every peer).
pub async fn commit_if_met(
    session: &Session,
    definition: &Definition,
    sequence: i64,
    via: Via,
    rule: &CommitRule,
) -> Result<std::result::Result<(Check, TxOutcome), Check>> {
    let approvals = session.readiness(definition, sequence).await?.approvals;
    let check = rule.check(&approvals);
    if !check.met {
        return Ok(Err(check));
    }
    let orgs = match rule {
        CommitRule::EveryOrg { .. } => Vec::new(),
        CommitRule::Policy(_) => check.approved.clone(),
    };
    if via == Via::Orderer && !orgs.is_empty() {
        let reachable: BTreeMap<String, bool> = approvals
            .iter()
            .map(|(o, a)| (o.clone(), *a && session.peers().iter().any(|p| &p.endpoint.org == o)))
            .collect();
        let with_peers = rule.check(&reachable);
        if !with_peers.met {
            return Err(Error::Config(format!(
                "cannot commit {} sequence {sequence} through the orderer: {} approved it, but the configured peers \
                 of approving orgs ({}) cannot endorse enough to meet {}: {}; give a network config with their peers \
                 (--config with every org, --peer), or drop --via-orderer to let the Gateway find them",
                definition.name,
                check.approved.join(", "),
                if with_peers.approved.is_empty() { "none".into() } else { with_peers.approved.join(", ") },
                with_peers.policy,
                with_peers.missing,
            )));
        }
    }
    let tx = session.commit_endorsed_by(definition, sequence, via, &orgs).await?;
    Ok(Ok((check, tx)))
}

/// What a step did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StepResult {
    /// The step.
    #[serde(flatten)]
    pub step: Step,
    /// The transaction, for approve and commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<TxOutcome>,
}

/// The IDs of the transactions of `done` (its approvals and commit).
pub fn tx_ids(done: &[StepResult]) -> Vec<String> {
    done.iter().filter_map(|d| d.tx.as_ref().map(|t| t.tx_id.clone())).collect()
}

/// The outcome of [`execute`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// The steps done.
    pub done: Vec<StepResult>,
    /// Organizations whose approval could meet the commit rule (empty when committed).
    pub waiting_for: Vec<String>,
    /// What is missing when waiting, e.g. `1 more approval, from any of Org2MSP, Org3MSP`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub needed: String,
}

/// Does the plan's steps in order; `progress` hears about each before it starts. A
/// `WaitForApprovals` step checks readiness once more (another org may have approved since the
/// plan was made) and commits if the commit rule is met now.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    definition: &Definition,
    package: &[u8],
    via: Via,
    progress: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    let mut done = Vec::new();
    let mut waiting_for = Vec::new();
    let mut needed = String::new();
    let every_org = CommitRule::EveryOrg { why: "the plan has no commit rule".into() };
    let rule = plan.rule.as_ref().unwrap_or(&every_org);
    for step in &plan.steps {
        progress(&plan.step_line(step));
        let tx = match step {
            Step::Install { peer } => {
                let node =
                    session.peers().iter().find(|n| &n.endpoint.name == peer).expect("planned peers are connected");
                session.install_on(node, package, &plan.package_id).await?;
                None
            }
            Step::Approve { sequence, .. } => {
                Some(session.approve(definition, *sequence, Some(&plan.package_id), via).await?)
            }
            Step::Commit { sequence } | Step::WaitForApprovals { sequence, .. } => {
                match commit_if_met(session, definition, *sequence, via, rule).await? {
                    Ok((check, tx)) => {
                        if matches!(step, Step::WaitForApprovals { .. }) {
                            progress(&format!("the approvals meet the commit rule now ({}): committed", check.line()));
                        }
                        done.push(StepResult { step: Step::Commit { sequence: *sequence }, tx: Some(tx) });
                    }
                    Err(check) => {
                        waiting_for = check.could_approve;
                        needed = check.missing;
                    }
                }
                continue;
            }
        };
        done.push(StepResult { step: step.clone(), tx });
    }
    Ok(Outcome { done, waiting_for, needed })
}
