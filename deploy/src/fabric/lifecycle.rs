//! The `_lifecycle` calls: install (idempotent, per peer), the installed / approved / committed
//! queries, commit readiness, and approve / commit as transactions through the peer's Gateway
//! (`Endorse`, `Submit`, `CommitStatus`) or, bypassing it, through the orderer's `Broadcast`
//! with explicit per-peer endorsements.

use std::collections::BTreeMap;

use ccaas_protos::gateway::EndorseRequest;
use ccaas_protos::lifecycle as lc;
use prost::Message;
use serde::Serialize;

use crate::client::Node;
use crate::commit_policy::{ChannelConfig, CommitRule};
use crate::config::Target;
use crate::definition::Definition;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::proposal::{self, Proposal};

const LIFECYCLE: &str = "_lifecycle";

/// How approve and commit transactions reach the orderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Via {
    /// The first peer's Gateway endorses (finding other orgs' endorsers itself) and submits.
    #[default]
    Gateway,
    /// The configured peers endorse directly; the transaction is broadcast to the orderer.
    Orderer,
}

/// A connected client for one organization: its identity, its peers, maybe an orderer.
#[derive(Debug)]
pub struct Session {
    identity: Identity,
    channel: String,
    peers: Vec<Node>,
    orderer: Option<crate::config::Endpoint>,
}

/// A package installed on a peer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Installed {
    /// The package ID.
    pub package_id: String,
    /// Its label.
    pub label: String,
    /// `channel → [name:version]` of the definitions that use it.
    pub references: BTreeMap<String, Vec<String>>,
}

/// The result of installing on one peer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstallOutcome {
    /// The peer.
    pub peer: String,
    /// The package ID.
    pub package_id: String,
    /// `true` if it was installed already (and the package was not sent).
    pub already_installed: bool,
}

/// A definition read from the channel, with its sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequenced {
    /// The sequence.
    pub sequence: i64,
    /// The definition.
    pub definition: Definition,
    /// For an approval: the package ID approved ("" for none).
    pub package_id: String,
    /// For a committed definition: which orgs approved it.
    pub approvals: BTreeMap<String, bool>,
}

/// Commit readiness: which orgs approved the definition, and what differs for the others.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Readiness {
    /// MSP ID → approved.
    pub approvals: BTreeMap<String, bool>,
    /// MSP ID → the fields that differ from its approval.
    pub mismatches: BTreeMap<String, Vec<String>>,
}

impl Readiness {
    /// The orgs that have not approved, sorted.
    pub fn missing(&self) -> Vec<String> {
        self.approvals.iter().filter(|(_, ok)| !**ok).map(|(k, _)| k.clone()).collect()
    }
}

/// A transaction that committed as valid.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TxOutcome {
    /// The transaction ID.
    pub tx_id: String,
    /// The block it is in.
    pub block: u64,
}

impl Session {
    /// Connects to every peer of the target (the first is used for channel queries and as the
    /// Gateway).
    pub async fn connect(target: &Target) -> Result<Session> {
        let mut peers = Vec::new();
        for endpoint in &target.peers {
            peers.push(Node::connect(endpoint).await?);
        }
        if peers.is_empty() {
            return Err(Error::Config("no peer to talk to".into()));
        }
        Ok(Session {
            identity: target.identity.clone(),
            channel: target.channel.clone(),
            peers,
            orderer: target.orderer.clone(),
        })
    }

    /// The signing identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The connected peers.
    pub fn peers(&self) -> &[Node] {
        &self.peers
    }

    /// The peers of the identity's own organization.
    pub fn own_peers(&self) -> impl Iterator<Item = &Node> {
        self.peers.iter().filter(|p| p.endpoint.org == self.identity.msp_id())
    }

    fn gateway(&self) -> &Node {
        self.own_peers().next().unwrap_or(&self.peers[0])
    }

    /// Calls `_lifecycle` `function` on `node`; `Ok(None)` when the peer answers "not found".
    async fn call<A: Message, R: Message + Default>(
        &self,
        node: &Node,
        channel: &str,
        function: &str,
        args: &A,
        action: &str,
    ) -> Result<Option<R>> {
        let p = proposal::for_identity(
            &self.identity,
            channel,
            LIFECYCLE,
            vec![function.as_bytes().to_vec(), args.encode_to_vec()],
        );
        let resp = node.process_proposal(&proposal::sign(&self.identity, &p), action).await?;
        let r = resp.response.unwrap_or_default();
        if r.status == 404 || r.message.contains("could not fetch approved chaincode definition") {
            return Ok(None);
        }
        if !(200..400).contains(&r.status) {
            return Err(node.refused(action, r.message));
        }
        R::decode(r.payload.as_ref())
            .map(Some)
            .map_err(|e| node.refused(action, format!("unreadable answer from the peer: {e}")))
    }

    /// The packages installed on `node`.
    pub async fn installed(&self, node: &Node) -> Result<Vec<Installed>> {
        let r: lc::QueryInstalledChaincodesResult = self
            .call(
                node,
                "",
                "QueryInstalledChaincodes",
                &lc::QueryInstalledChaincodesArgs {},
                "list installed chaincodes",
            )
            .await?
            .unwrap_or_default();
        Ok(r.installed_chaincodes
            .into_iter()
            .map(|c| Installed {
                package_id: c.package_id,
                label: c.label,
                references: c
                    .references
                    .into_iter()
                    .map(|(ch, refs)| {
                        (ch, refs.chaincodes.into_iter().map(|c| format!("{}:{}", c.name, c.version)).collect())
                    })
                    .collect(),
            })
            .collect())
    }

    /// Whether `package_id` is installed on `node` (from the peer's list: the peer answers a
    /// lookup of a missing package with a generic error).
    pub async fn is_installed(&self, node: &Node, package_id: &str) -> Result<bool> {
        Ok(self.installed(node).await?.iter().any(|i| i.package_id == package_id))
    }

    /// Installs `package` (whose ID is `package_id`) on `node` unless it is there already.
    pub async fn install_on(&self, node: &Node, package: &[u8], package_id: &str) -> Result<InstallOutcome> {
        let outcome = |already_installed| InstallOutcome {
            peer: node.endpoint.name.clone(),
            package_id: package_id.into(),
            already_installed,
        };
        if self.is_installed(node, package_id).await? {
            return Ok(outcome(true));
        }
        let action = format!("install package {package_id}");
        tracing::info!(peer = %node.endpoint.name, %package_id, bytes = package.len(), "installing");
        let args = lc::InstallChaincodeArgs { chaincode_install_package: package.to_vec().into() };
        match self.call::<_, lc::InstallChaincodeResult>(node, "", "InstallChaincode", &args, &action).await {
            Ok(Some(r)) if r.package_id != package_id => {
                Err(node
                    .refused(&action, format!("the peer computed package ID {} instead of {package_id}", r.package_id)))
            }
            Ok(_) => Ok(outcome(false)),
            // Another client installed it in the meantime.
            Err(Error::Refused { message, .. }) if message.contains("chaincode already successfully installed") => {
                Ok(outcome(true))
            }
            Err(e) => Err(e),
        }
    }

    /// The committed definition of `name`, if any.
    pub async fn committed(&self, name: &str) -> Result<Option<Sequenced>> {
        let args = lc::QueryChaincodeDefinitionArgs { name: name.into() };
        let r: Option<lc::QueryChaincodeDefinitionResult> = self
            .call(self.gateway(), &self.channel, "QueryChaincodeDefinition", &args, &format!("query committed {name}"))
            .await?;
        Ok(r.map(|r| Sequenced {
            sequence: r.sequence,
            definition: Definition {
                name: name.into(),
                version: r.version,
                endorsement_plugin: r.endorsement_plugin,
                validation_plugin: r.validation_plugin,
                validation_parameter: r.validation_parameter.to_vec(),
                collections: r.collections,
                init_required: r.init_required,
            },
            package_id: String::new(),
            approvals: r.approvals.into_iter().collect(),
        }))
    }

    /// What the identity's organization approved for `name` at `sequence` (0: the latest).
    pub async fn approved(&self, name: &str, sequence: i64) -> Result<Option<Sequenced>> {
        let args = lc::QueryApprovedChaincodeDefinitionArgs { name: name.into(), sequence };
        let action = format!("query {}'s approval of {name}", self.identity.msp_id());
        let r: Option<lc::QueryApprovedChaincodeDefinitionResult> =
            self.call(self.gateway(), &self.channel, "QueryApprovedChaincodeDefinition", &args, &action).await?;
        Ok(r.map(|r| Sequenced {
            sequence: r.sequence,
            package_id: match r.source.and_then(|s| s.r#type) {
                Some(lc::chaincode_source::Type::LocalPackage(l)) => l.package_id,
                _ => String::new(),
            },
            definition: Definition {
                name: name.into(),
                version: r.version,
                endorsement_plugin: r.endorsement_plugin,
                validation_plugin: r.validation_plugin,
                validation_parameter: r.validation_parameter.to_vec(),
                collections: r.collections,
                init_required: r.init_required,
            },
            approvals: BTreeMap::new(),
        }))
    }

    /// Which organizations approved `definition` at `sequence`.
    pub async fn readiness(&self, definition: &Definition, sequence: i64) -> Result<Readiness> {
        let d = definition;
        let args = lc::CheckCommitReadinessArgs {
            sequence,
            name: d.name.clone(),
            version: d.version.clone(),
            endorsement_plugin: d.endorsement_plugin.clone(),
            validation_plugin: d.validation_plugin.clone(),
            validation_parameter: d.validation_parameter.clone().into(),
            collections: d.collections.clone(),
            init_required: d.init_required,
        };
        let action = format!("check commit readiness of {} sequence {sequence}", d.name);
        let r: lc::CheckCommitReadinessResult = self
            .call(self.gateway(), &self.channel, "CheckCommitReadiness", &args, &action)
            .await?
            .ok_or_else(|| self.gateway().refused(&action, "not found".into()))?;
        Ok(Readiness {
            approvals: r.approvals.into_iter().collect(),
            mismatches: r.mismatches.into_iter().map(|(k, v)| (k, v.items)).collect(),
        })
    }

    /// Approves `definition` at `sequence` for the identity's organization, pointing its peers
    /// at `package_id` (`None`: the org's peers will not run the chaincode).
    pub async fn approve(
        &self,
        definition: &Definition,
        sequence: i64,
        package_id: Option<&str>,
        via: Via,
    ) -> Result<TxOutcome> {
        let d = definition;
        let source = lc::ChaincodeSource {
            r#type: Some(match package_id {
                Some(id) => {
                    lc::chaincode_source::Type::LocalPackage(lc::chaincode_source::Local { package_id: id.into() })
                }
                None => lc::chaincode_source::Type::Unavailable(lc::chaincode_source::Unavailable {}),
            }),
        };
        let args = lc::ApproveChaincodeDefinitionForMyOrgArgs {
            sequence,
            name: d.name.clone(),
            version: d.version.clone(),
            endorsement_plugin: d.endorsement_plugin.clone(),
            validation_plugin: d.validation_plugin.clone(),
            validation_parameter: d.validation_parameter.clone().into(),
            collections: d.collections.clone(),
            init_required: d.init_required,
            source: Some(source),
        };
        let action =
            format!("approve {} version {} sequence {sequence} for {}", d.name, d.version, self.identity.msp_id());
        let own: Vec<&Node> = self.own_peers().collect();
        self.transact(
            "ApproveChaincodeDefinitionForMyOrg",
            args.encode_to_vec(),
            vec![self.identity.msp_id().into()],
            &own,
            via,
            &action,
        )
        .await
    }

    /// Commits `definition` at `sequence` on the channel (endorsers: the Gateway's choice, or every
    /// configured peer with [`Via::Orderer`]).
    pub async fn commit(&self, definition: &Definition, sequence: i64, via: Via) -> Result<TxOutcome> {
        self.commit_endorsed_by(definition, sequence, via, &[]).await
    }

    /// Commits `definition` at `sequence`, endorsed by peers of `orgs` (MSP IDs; empty: as
    /// [`Session::commit`]): through the Gateway, they are its endorsing organizations; with
    /// [`Via::Orderer`], the configured peers of those orgs endorse. A peer endorses a commit only
    /// if its org approved the definition, so `orgs` should be the orgs that approved it.
    pub async fn commit_endorsed_by(
        &self,
        definition: &Definition,
        sequence: i64,
        via: Via,
        orgs: &[String],
    ) -> Result<TxOutcome> {
        let d = definition;
        let args = lc::CommitChaincodeDefinitionArgs {
            sequence,
            name: d.name.clone(),
            version: d.version.clone(),
            endorsement_plugin: d.endorsement_plugin.clone(),
            validation_plugin: d.validation_plugin.clone(),
            validation_parameter: d.validation_parameter.clone().into(),
            collections: d.collections.clone(),
            init_required: d.init_required,
        };
        let action = format!("commit {} version {} sequence {sequence}", d.name, d.version);
        let endorsers: Vec<&Node> =
            self.peers.iter().filter(|p| orgs.is_empty() || orgs.contains(&p.endpoint.org)).collect();
        if via == Via::Orderer && endorsers.is_empty() {
            return Err(Error::Config(format!(
                "cannot {action} through the orderer: no configured peer belongs to an org that approved it ({}); \
                 give a network config with their peers, or drop --via-orderer to let the Gateway find them",
                orgs.join(", ")
            )));
        }
        self.transact("CommitChaincodeDefinition", args.encode_to_vec(), orgs.to_vec(), &endorsers, via, &action).await
    }

    /// The channel's configuration, from the first peer (`cscc` `GetChannelConfig`, which the
    /// channel's Readers may call).
    pub async fn channel_config(&self) -> Result<ChannelConfig> {
        let node = self.gateway();
        let action = format!("read the configuration of channel {}", self.channel);
        let args = vec![b"GetChannelConfig".to_vec(), self.channel.as_bytes().to_vec()];
        let p = proposal::for_identity(&self.identity, "", "cscc", args);
        let resp = node.process_proposal(&proposal::sign(&self.identity, &p), &action).await?;
        let r = resp.response.unwrap_or_default();
        if !(200..400).contains(&r.status) {
            return Err(node.refused(&action, r.message));
        }
        ChannelConfig::decode(&r.payload).map_err(|m| node.refused(&action, m))
    }

    /// The rule that decides commits on the session's channel, and the channel configuration it
    /// comes from. When the peer does not give the configuration (the identity is not among the
    /// channel's Readers, or the answer is unreadable) the rule is [`CommitRule::EveryOrg`], saying
    /// why; a peer that cannot be reached is an error.
    pub async fn commit_rule(&self) -> Result<(CommitRule, Option<ChannelConfig>)> {
        match self.channel_config().await {
            Ok(c) => Ok((c.commit_rule(), Some(c))),
            Err(Error::Refused { node, message, .. }) => {
                Ok((CommitRule::EveryOrg { why: format!("{node} answered: {message}") }, None))
            }
            Err(e) => Err(e),
        }
    }

    /// The package `package_id` as installed on `node` (`None`: not installed there).
    pub async fn installed_package(&self, node: &Node, package_id: &str) -> Result<Option<Vec<u8>>> {
        if !self.is_installed(node, package_id).await? {
            return Ok(None);
        }
        let args = lc::GetInstalledChaincodePackageArgs { package_id: package_id.into() };
        let action = format!("get installed package {package_id}");
        let r: Option<lc::GetInstalledChaincodePackageResult> =
            self.call(node, "", "GetInstalledChaincodePackage", &args, &action).await?;
        Ok(r.map(|r| r.chaincode_install_package.to_vec()))
    }

    async fn transact(
        &self,
        function: &str,
        args: Vec<u8>,
        endorsing_orgs: Vec<String>,
        endorsers: &[&Node],
        via: Via,
        action: &str,
    ) -> Result<TxOutcome> {
        let p = proposal::for_identity(&self.identity, &self.channel, LIFECYCLE, vec![function.into(), args]);
        let gateway = self.gateway();
        let in_flight = crate::in_flight::enter_transaction(
            &p.tx_id,
            format!("transaction {} ({action}): being endorsed, not sent to the orderer yet", p.tx_id),
        );
        match via {
            Via::Gateway => {
                let request = EndorseRequest {
                    transaction_id: p.tx_id.clone(),
                    channel_id: self.channel.clone(),
                    proposed_transaction: Some(proposal::sign(&self.identity, &p)),
                    endorsing_organizations: endorsing_orgs,
                };
                let prepared = gateway.endorse(request, action).await?;
                gateway.submit(&self.identity, &self.channel, &p.tx_id, prepared, action).await?;
            }
            Via::Orderer => self.broadcast(&p, endorsers, action).await?,
        }
        in_flight.update(format!(
            "transaction {} ({action}): sent to the orderer, not known to be committed yet: it may still commit",
            p.tx_id
        ));
        tracing::info!(tx_id = %p.tx_id, ?via, %action, "submitted; waiting for the commit status");
        let committed = gateway.commit_status(&self.identity, &self.channel, &p.tx_id, action).await?;
        if !committed.valid {
            return Err(Error::Invalid { tx_id: p.tx_id, action: action.into(), code: committed.code });
        }
        Ok(TxOutcome { tx_id: p.tx_id, block: committed.block })
    }

    async fn broadcast(&self, p: &Proposal, endorsers: &[&Node], action: &str) -> Result<()> {
        let orderer_endpoint = self.orderer.as_ref().ok_or_else(|| {
            Error::Config(format!(
                "cannot {action} through the orderer: no orderer configured (--orderer-address, ORDERER_ADDRESS, \
                 or orderers in the network config)"
            ))
        })?;
        let signed = proposal::sign(&self.identity, p);
        let mut responses = Vec::new();
        for node in endorsers {
            let r = node.process_proposal(&signed, action).await?;
            let status = r.response.as_ref().map(|r| r.status).unwrap_or(0);
            if !(200..400).contains(&status) {
                return Err(node.refused(action, r.response.map(|r| r.message).unwrap_or_default()));
            }
            responses.push(r);
        }
        let envelope = proposal::transaction(&self.identity, p, &responses)
            .map_err(|m| Error::Config(format!("cannot {action}: {m}")))?;
        let orderer = Node::connect(orderer_endpoint).await?;
        orderer.broadcast(envelope, action).await
    }
}
