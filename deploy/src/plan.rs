//! The idempotent lifecycle: read what the channel and the peers have, decide the steps that
//! are missing, and do them.
//!
//! * Everything in place → no step.
//! * The definition is committed and unchanged, but this org's peers should run a new package
//!   → install it and re-approve at the committed sequence (no other org is needed).
//! * The definition changed (or nothing is committed) → approve the next sequence, then commit
//!   once every org has approved; if some have not, say which and stop.

use serde::Serialize;

use crate::definition::Definition;
use crate::error::Result;
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
        /// The organizations that have not approved.
        orgs: Vec<String>,
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
}

impl Plan {
    /// `true` when nothing needs doing.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan in plain words, one line each.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.done.iter().map(|d| format!("already done: {d}")).collect();
        for s in &self.steps {
            out.push(match s {
                Step::Install { peer } => format!("install package {} on {peer}", self.package_id),
                Step::Approve { org, sequence, reason } => format!(
                    "approve {} version {} at sequence {sequence} for {org} with package {} ({reason})",
                    self.name, self.version, self.package_id
                ),
                Step::Commit { sequence } => {
                    format!("commit {} version {} at sequence {sequence} on {}", self.name, self.version, self.channel)
                }
                Step::WaitForApprovals { sequence, orgs } => format!(
                    "then stop: {} must approve {} sequence {sequence} before it can be committed",
                    orgs.join(", "),
                    self.name
                ),
            });
        }
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
            let readiness = session.readiness(definition, sequence).await?;
            let missing: Vec<String> = readiness.missing().into_iter().filter(|o| *o != org).collect();
            if missing.is_empty() {
                steps.push(Step::Commit { sequence });
            } else {
                steps.push(Step::WaitForApprovals { sequence, orgs: missing });
            }
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
    })
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

/// The outcome of [`execute`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// The steps done.
    pub done: Vec<StepResult>,
    /// Organizations whose approval is still missing (empty when committed).
    pub waiting_for: Vec<String>,
}

/// Does the plan's steps in order; `progress` hears about each before it starts. A
/// `WaitForApprovals` step checks readiness once more (another org may have approved since the
/// plan was made) and commits if it can.
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
    for (step, line) in plan.steps.iter().zip(plan.lines().into_iter().skip(plan.done.len())) {
        progress(&line);
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
            Step::Commit { sequence } => Some(session.commit(definition, *sequence, via).await?),
            Step::WaitForApprovals { sequence, .. } => {
                let org = session.identity().msp_id();
                let missing: Vec<String> = session
                    .readiness(definition, *sequence)
                    .await?
                    .missing()
                    .into_iter()
                    .filter(|o| o != org)
                    .collect();
                if missing.is_empty() {
                    progress(&format!("every organization has approved now: commit at sequence {sequence}"));
                    let tx = session.commit(definition, *sequence, via).await?;
                    done.push(StepResult { step: Step::Commit { sequence: *sequence }, tx: Some(tx) });
                    continue;
                }
                waiting_for = missing;
                continue;
            }
        };
        done.push(StepResult { step: step.clone(), tx });
    }
    Ok(Outcome { done, waiting_for })
}
