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

use crate::commit_policy::{Check, CommitRule};
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

/// Reads the channel and the peers and decides what is missing. When a query is refused because
/// the committed definition changed while the plan was being made (another run's commit, or a
/// killed run's, landed in between: "requested sequence is N, but new definition must be
/// sequence N+1"), it reads again, up to [`REPLANS`] times.
pub async fn make(session: &Session, definition: &Definition, package_id: &str) -> Result<Plan> {
    let mut attempt = 0;
    loop {
        let mut seen = None;
        match make_once(session, definition, package_id, &mut seen).await {
            Err(e @ Error::Refused { .. }) if attempt < REPLANS && seen.is_some() => {
                let now = session.committed(&definition.name).await?.map(|c| c.sequence);
                if seen != Some(now) {
                    tracing::info!(error = %e, "the committed definition changed while planning; reading again");
                    attempt += 1;
                    continue;
                }
                return Err(e);
            }
            r => return r,
        }
    }
}

/// [`make`], once; `seen` gets the committed sequence it read.
async fn make_once(
    session: &Session,
    definition: &Definition,
    package_id: &str,
    seen: &mut Option<Option<i64>>,
) -> Result<Plan> {
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
    *seen = Some(committed_sequence);
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
            let (rule, config) = session.commit_rule().await?;
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
    /// The steps that failed because of another run, each followed by a fresh read of the channel.
    pub replans: Vec<Replan>,
    /// The sequence the plan worked at in the end (another run may have moved it).
    pub sequence: i64,
}

/// How many times [`execute`] reads the channel again after steps that lost a race, before it
/// gives up with [`Error::Conflict`].
pub const REPLANS: u32 = 3;

/// A step that failed because of another transaction, and what a fresh read of the channel said.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Replan {
    /// The step, in words.
    pub step: String,
    /// Why it failed: the peer's words, or the validation code.
    pub cause: String,
    /// This run's transaction, when it was committed as invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    /// What the fresh read said.
    pub then: Then,
}

/// What a fresh read of the channel said about a step that failed.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Another run (or a killed run's transaction) did it: carry on with what is still missing.
    AlreadyDone,
    /// It is still to do and its transaction lost a race (`MVCC_READ_CONFLICT`): do it again.
    Again,
}

/// Does the plan's steps in order; `progress` hears about each before it starts. A
/// `WaitForApprovals` step checks readiness once more (another org may have approved since the
/// plan was made) and commits if the commit rule is met now.
///
/// Races: when an install, approve or commit is refused or its transaction is invalid, the
/// channel is read again ([`make`]). If the step is no longer needed (another run, or a killed
/// run's transaction, did it), the fresh plan goes on; if it is and its transaction lost a race
/// (`MVCC_READ_CONFLICT`, `PHANTOM_READ_CONFLICT`), it is done again; otherwise the failure
/// stands. After [`REPLANS`] fresh reads, a further race is [`Error::Conflict`].
pub async fn execute(
    session: &Session,
    plan: &Plan,
    definition: &Definition,
    package: &[u8],
    via: Via,
    progress: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    let mut outcome =
        Outcome { done: Vec::new(), waiting_for: Vec::new(), needed: String::new(), replans: Vec::new(), sequence: 0 };
    let mut current = plan.clone();
    let mut conflicts = Vec::new();
    'plan: loop {
        outcome.sequence = current.sequence;
        for step in current.steps.clone() {
            let line = current.step_line(&step);
            progress(&line);
            let error = {
                let _in_flight = crate::in_flight::enter(format!("step: {line}"));
                match do_step(session, &current, &step, definition, package, via, progress, &mut outcome).await {
                    Ok(()) => continue,
                    Err(e @ (Error::Refused { .. } | Error::Invalid { .. })) => e,
                    Err(e) => return Err(e),
                }
            };
            let tx_id = lost_race(&error).map(str::to_string);
            conflicts.extend(tx_id.clone());
            let fresh = match make(session, definition, &current.package_id).await {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the channel again after a failed step");
                    return Err(error);
                }
            };
            let Some(then) = after_failure(&step, &error, &fresh) else { return Err(error) };
            let attempts = outcome.replans.len() as u32;
            if attempts >= REPLANS {
                return Err(Error::Conflict { step: line, tx_ids: conflicts, attempts: attempts + 1 });
            }
            let cause = match &error {
                Error::Invalid { tx_id, code, .. } => format!("transaction {tx_id} was committed as invalid: {code}"),
                Error::Refused { message, .. } => message.clone(),
                e => e.to_string(),
            };
            progress(&match then {
                Then::AlreadyDone => format!(
                    "{line}: {cause}; the channel, read again, has it done (by another run, or an earlier run's \
                     transaction): going on with what is still missing"
                ),
                Then::Again => format!(
                    "{line}: {cause}: another transaction changed what it read; read the channel again, doing it \
                     again ({} of {REPLANS})",
                    attempts + 1
                ),
            });
            outcome.replans.push(Replan { step: line, cause, tx_id, then });
            current = fresh;
            continue 'plan;
        }
        return Ok(outcome);
    }
}

/// Does one step, recording it in `outcome`.
#[allow(clippy::too_many_arguments)]
async fn do_step(
    session: &Session,
    plan: &Plan,
    step: &Step,
    definition: &Definition,
    package: &[u8],
    via: Via,
    progress: &mut dyn FnMut(&str),
    outcome: &mut Outcome,
) -> Result<()> {
    let every_org = CommitRule::EveryOrg { why: "the plan has no commit rule".into() };
    let rule = plan.rule.as_ref().unwrap_or(&every_org);
    let tx = match step {
        Step::Install { peer } => {
            let node = session.peers().iter().find(|n| &n.endpoint.name == peer).expect("planned peers are connected");
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
                    outcome.done.push(StepResult { step: Step::Commit { sequence: *sequence }, tx: Some(tx) });
                }
                Err(check) => {
                    outcome.waiting_for = check.could_approve;
                    outcome.needed = check.missing;
                }
            }
            return Ok(());
        }
    };
    outcome.done.push(StepResult { step: step.clone(), tx });
    Ok(())
}

/// This run's transaction that lost a race: committed as invalid because another transaction
/// changed what it read.
fn lost_race(error: &Error) -> Option<&str> {
    match error {
        Error::Invalid { tx_id, code, .. } if code == "MVCC_READ_CONFLICT" || code == "PHANTOM_READ_CONFLICT" => {
            Some(tx_id)
        }
        _ => None,
    }
}

/// What to do after `step` failed with `error`, given `fresh`, the plan made from a new read of
/// the channel: go on with it when it no longer has the step (it is done), do the step again when
/// its transaction lost a race, or nothing (`None`): the failure stands.
fn after_failure(step: &Step, error: &Error, fresh: &Plan) -> Option<Then> {
    let same = |s: &Step| match (step, s) {
        (Step::Install { peer: a }, Step::Install { peer: b }) => a == b,
        (Step::Approve { sequence: a, .. }, Step::Approve { sequence: b, .. }) => a == b,
        (
            Step::Commit { sequence: a } | Step::WaitForApprovals { sequence: a, .. },
            Step::Commit { sequence: b } | Step::WaitForApprovals { sequence: b, .. },
        ) => a == b,
        _ => false,
    };
    if !fresh.steps.iter().any(same) {
        Some(Then::AlreadyDone)
    } else {
        lost_race(error).map(|_| Then::Again)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(steps: Vec<Step>) -> Plan {
        Plan {
            channel: "mychannel".into(),
            name: "basic".into(),
            version: "1.0".into(),
            package_id: "basic_1.0:00".into(),
            committed_sequence: None,
            sequence: 1,
            done: Vec::new(),
            steps,
            commit_rule: None,
            endorsement: None,
            warning: None,
            rule: None,
        }
    }

    fn invalid(code: &str) -> Error {
        Error::Invalid { tx_id: "t1".into(), action: "approve".into(), code: code.into() }
    }

    fn refused(message: &str) -> Error {
        Error::Refused {
            node: "peer0".into(),
            org: "Org1MSP".into(),
            action: "approve".into(),
            message: message.into(),
            hint: String::new(),
        }
    }

    #[test]
    fn a_step_another_run_did_is_done_whatever_the_failure() {
        let approve = Step::Approve { org: "Org1MSP".into(), sequence: 1, reason: "new".into() };
        let commit = Step::Commit { sequence: 1 };
        let after_approve = plan(vec![commit.clone()]);
        for e in [invalid("MVCC_READ_CONFLICT"), refused("attempted to redefine uncommitted sequence (1)")] {
            assert_eq!(after_failure(&approve, &e, &after_approve), Some(Then::AlreadyDone), "{e}");
        }
        let e = refused("requested sequence is 1, but new definition must be sequence 2");
        assert_eq!(after_failure(&commit, &e, &plan(vec![])), Some(Then::AlreadyDone));
        // Committed by another run with another definition: this one goes to the next sequence.
        let next = plan(vec![Step::Approve { org: "Org1MSP".into(), sequence: 2, reason: "changes".into() }]);
        assert_eq!(after_failure(&approve, &e, &next), Some(Then::AlreadyDone));
    }

    #[test]
    fn a_step_still_needed_is_done_again_only_after_a_lost_race() {
        let approve = Step::Approve { org: "Org1MSP".into(), sequence: 1, reason: "new".into() };
        let commit = Step::Commit { sequence: 1 };
        let still = plan(vec![approve.clone(), commit.clone()]);
        assert_eq!(after_failure(&approve, &invalid("MVCC_READ_CONFLICT"), &still), Some(Then::Again));
        assert_eq!(after_failure(&approve, &invalid("PHANTOM_READ_CONFLICT"), &still), Some(Then::Again));
        // A real refusal, or another validation code, stands.
        assert_eq!(after_failure(&approve, &refused("access denied"), &still), None);
        assert_eq!(after_failure(&approve, &invalid("ENDORSEMENT_POLICY_FAILURE"), &still), None);
        // A commit that now waits for approvals is the same step, not done.
        let waiting =
            plan(vec![Step::WaitForApprovals { sequence: 1, orgs: vec!["Org2MSP".into()], needed: "x".into() }]);
        assert_eq!(after_failure(&commit, &refused("ENDORSEMENT_POLICY_FAILURE"), &waiting), None);
        assert_eq!(after_failure(&commit, &invalid("MVCC_READ_CONFLICT"), &waiting), Some(Then::Again));
    }

    #[test]
    fn a_persistent_conflict_names_the_step_and_transactions_and_says_a_rerun_is_safe() {
        let e = Error::Conflict { step: "approve basic".into(), tx_ids: vec!["t1".into(), "t2".into()], attempts: 3 };
        let text = e.to_string();
        assert!(
            text.starts_with("approve basic: still in conflict with other transactions after 3 re-reads"),
            "{text}"
        );
        assert!(text.contains("t1, t2") && text.contains("a re-run is safe"), "{text}");
    }
}
