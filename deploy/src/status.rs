//! `ccaas-deploy status`: one view of a chaincode for one org, and what drifted.
//!
//! [`fabric`] reads the committed definition, this org's approval at the committed sequence and
//! at the next one (with every org's approval of the same definition), the packages on the org's
//! peers, and the address (`connection.json`) of each package the org approved. [`kubernetes`]
//! adds the chaincode's Deployments (labelled `app.kubernetes.io/name: <chaincode>` and
//! managed by ccaas-deploy), their pods, whether each is ready, the package ID each serves (its
//! container's `CHAINCODE_ID`) and the Services `up` rendered. [`Status::drift`] compares them,
//! each finding a sentence that says what to run:
//!
//! * an approved package that is not installed on one of the org's peers;
//! * pods serving a package the org does not approve at the committed sequence (one approved at
//!   the next sequence is told apart: it waits for the commit);
//! * a Deployment with no ready pod, or none at all for a committed package;
//! * an approved package whose address is not one of those Services: `name`, `name.namespace`,
//!   `name.namespace.svc` or `name.namespace.svc.<cluster domain>`, with the Service's port (a
//!   `{{.peername}}` in the address stands for any name).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Pod, Service};
use kube::api::{Api, ListParams};
use kube::Client;
use serde::Serialize;

use crate::error::Result;
use crate::lifecycle::{Installed, Session};
pub use crate::render::{dials_a_service, ServiceAddress};
use crate::render::{MANAGED_BY_LABEL, MANAGER};
use crate::rollout::RolloutError;

/// Everything `status` shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    /// The chaincode.
    pub name: String,
    /// The channel.
    pub channel: String,
    /// The org (MSP ID) whose view this is.
    pub org: String,
    /// The committed definition, if any.
    pub committed: Option<Committed>,
    /// The next sequence.
    pub next: Next,
    /// The packages installed on each of the org's peers.
    pub peers: Vec<PeerPackages>,
    /// Package ID → the address its `connection.json` names, for the approved packages that the
    /// org's peers have.
    pub addresses: BTreeMap<String, String>,
    /// The chaincode's servers on Kubernetes, when asked for.
    pub kubernetes: Option<Kubernetes>,
}

/// The committed definition.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Committed {
    /// Its sequence.
    pub sequence: i64,
    /// Its version.
    pub version: String,
    /// Which orgs approved it.
    pub approvals: BTreeMap<String, bool>,
    /// This org's approval at this sequence (`None`: it has not approved it).
    pub approved: Option<Approval>,
}

/// An approval of this org.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Approval {
    /// The version approved.
    pub version: String,
    /// The package its peers run ("": none, its peers do not run the chaincode).
    pub package_id: String,
}

/// The sequence after the committed one (1 when nothing is committed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Next {
    /// The sequence.
    pub sequence: i64,
    /// This org's approval at it, if any.
    pub approved: Option<Approval>,
    /// Every org's approval of the definition this org approved at it (empty without one).
    pub approvals: BTreeMap<String, bool>,
}

/// The packages on one peer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerPackages {
    /// The peer.
    pub peer: String,
    /// Its installed packages.
    pub installed: Vec<Installed>,
}

/// The chaincode's servers in one namespace.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Kubernetes {
    /// The namespace.
    pub namespace: String,
    /// The Deployments.
    pub deployments: Vec<Server>,
    /// The Services, as the peers would dial them.
    pub services: Vec<ServiceAddress>,
}

/// A Deployment of the chaincode.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Server {
    /// Its name.
    pub name: String,
    /// The image its pod template runs.
    pub image: String,
    /// The package ID its pod template serves (`CHAINCODE_ID`).
    pub package_id: String,
    /// Replicas wanted.
    pub replicas: i32,
    /// Replicas ready.
    pub ready: i32,
    /// Its pods.
    pub pods: Vec<PodState>,
}

/// A pod of a Deployment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PodState {
    /// Its name.
    pub name: String,
    /// Whether it is ready.
    pub ready: bool,
    /// The package ID it serves (`CHAINCODE_ID`).
    pub package_id: String,
}

/// One finding of [`Status::drift`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Drift {
    /// `not_installed`, `not_approved`, `not_committed`, `not_ready`, `no_deployment` or
    /// `address`.
    pub kind: &'static str,
    /// What is wrong and what to run.
    pub message: String,
}

/// Reads the Fabric side of `name`'s status through `session` (this org's peers).
pub async fn fabric(session: &Session, name: &str) -> Result<Status> {
    let approval = |s: Option<crate::lifecycle::Sequenced>| {
        s.map(|a| Approval { version: a.definition.version, package_id: a.package_id })
    };
    let committed = match session.committed(name).await? {
        None => None,
        Some(c) => Some(Committed {
            sequence: c.sequence,
            version: c.definition.version.clone(),
            approvals: c.approvals,
            approved: approval(session.approved(name, c.sequence).await?.filter(|a| a.sequence == c.sequence)),
        }),
    };
    let next_sequence = committed.as_ref().map_or(0, |c| c.sequence) + 1;
    let next_approval = session.approved(name, next_sequence).await?.filter(|a| a.sequence == next_sequence);
    let approvals = match &next_approval {
        Some(a) => session.readiness(&a.definition, next_sequence).await?.approvals,
        None => BTreeMap::new(),
    };
    let next = Next { sequence: next_sequence, approved: approval(next_approval), approvals };
    let mut peers = Vec::new();
    let mut addresses = BTreeMap::new();
    let approved: BTreeSet<String> = committed
        .iter()
        .filter_map(|c| c.approved.as_ref())
        .chain(next.approved.as_ref())
        .map(|a| a.package_id.clone())
        .filter(|p| !p.is_empty())
        .collect();
    for node in session.own_peers() {
        let installed = session.installed(node).await?;
        for id in &approved {
            if addresses.contains_key(id) || !installed.iter().any(|i| &i.package_id == id) {
                continue;
            }
            if let Some(bytes) = session.installed_package(node, id).await? {
                match ccaas_package::inspect(&bytes) {
                    Ok(r) => {
                        if let Some(c) = r.connection {
                            addresses.insert(id.clone(), c.address);
                        }
                    }
                    Err(e) => tracing::warn!(package = %id, error = %e, "cannot read the installed package"),
                }
            }
        }
        peers.push(PeerPackages { peer: node.endpoint.name.clone(), installed });
    }
    Ok(Status {
        name: name.into(),
        channel: session.channel().into(),
        org: session.identity().msp_id().into(),
        committed,
        next,
        peers,
        addresses,
        kubernetes: None,
    })
}

/// Reads `name`'s Deployments, pods and Services in `namespace`: those labelled
/// `app.kubernetes.io/name: <name>` and `app.kubernetes.io/managed-by: ccaas-deploy`, and the
/// Service hlf-operator makes (unlabelled) for each of its Deployments (labelled
/// `app: fabric-chaincode`, see [`crate::hlf`]).
pub async fn kubernetes(client: &Client, namespace: &str, name: &str) -> Result<Kubernetes, RolloutError> {
    let _waiting = crate::deadline::waiting(crate::rollout::API_SERVER);
    let labels = ListParams::default().labels(&format!("app.kubernetes.io/name={name},{MANAGED_BY_LABEL}={MANAGER}"));
    let err = |what: &str, e: kube::Error| {
        crate::rollout::api_error(format!("listing the {what} of {name} in namespace {namespace}"), e)
    };
    let deployments = Api::<Deployment>::namespaced(client.clone(), namespace)
        .list(&labels)
        .await
        .map_err(|e| err("Deployments", e))?
        .items;
    let pods = Api::<Pod>::namespaced(client.clone(), namespace).list(&labels).await.map_err(|e| err("pods", e))?.items;
    let service_api = Api::<Service>::namespaced(client.clone(), namespace);
    let mut services = service_api.list(&labels).await.map_err(|e| err("Services", e))?.items;
    for d in &deployments {
        let operators = d.metadata.labels.as_ref().and_then(|l| l.get("app")).is_some_and(|a| a == "fabric-chaincode");
        let name = d.metadata.name.clone().unwrap_or_default();
        if operators && !services.iter().any(|s| s.metadata.name.as_deref() == Some(&name)) {
            services.extend(service_api.get_opt(&name).await.map_err(|e| err("Services", e))?);
        }
    }
    Ok(kubernetes_from(namespace, &deployments, &pods, &services))
}

/// The servers as [`kubernetes`] reports them, from the objects read.
pub fn kubernetes_from(namespace: &str, deployments: &[Deployment], pods: &[Pod], services: &[Service]) -> Kubernetes {
    let chaincode_id = |c: Option<&Container>| {
        c.and_then(|c| c.env.as_ref())
            .and_then(|env| env.iter().find(|e| e.name == "CHAINCODE_ID"))
            .and_then(|e| e.value.clone())
            .unwrap_or_default()
    };
    let instance = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/instance")).cloned().unwrap_or_default()
    };
    let mut servers: Vec<Server> = deployments
        .iter()
        .map(|d| {
            let name = d.metadata.name.clone().unwrap_or_default();
            let container = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|s| s.containers.first());
            let mut pods: Vec<PodState> = pods
                .iter()
                .filter(|p| instance(&p.metadata) == name && p.metadata.deletion_timestamp.is_none())
                .map(|p| PodState {
                    name: p.metadata.name.clone().unwrap_or_default(),
                    ready: p
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
                    package_id: chaincode_id(p.spec.as_ref().and_then(|s| s.containers.first())),
                })
                .collect();
            pods.sort_by(|a, b| a.name.cmp(&b.name));
            Server {
                image: container.and_then(|c| c.image.clone()).unwrap_or_default(),
                package_id: chaincode_id(container),
                replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ready: d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
                name,
                pods,
            }
        })
        .collect();
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut services: Vec<ServiceAddress> = services
        .iter()
        .filter_map(|s| {
            let ports = s.spec.as_ref()?.ports.as_ref()?;
            let port = ports.iter().find(|p| p.name.as_deref() == Some("chaincode")).or(ports.first())?;
            Some(ServiceAddress {
                name: s.metadata.name.clone()?,
                namespace: s.metadata.namespace.clone().unwrap_or_else(|| namespace.into()),
                port: u16::try_from(port.port).ok()?,
            })
        })
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Kubernetes { namespace: namespace.into(), deployments: servers, services }
}

impl Status {
    /// The drift between the approvals, the peers and the servers; `up_file` (the `up` config
    /// file, if the user has one) words the commands to run.
    pub fn drift(&self, up_file: Option<&Path>) -> Vec<Drift> {
        let mut out = Vec::new();
        let org = &self.org;
        let name = &self.name;
        let up = up_file.map(|f| format!("`ccaas-deploy up -f {}`", f.display()));
        // The approved packages: (sequence, package, committed).
        let current = self.committed.as_ref().and_then(|c| c.approved.as_ref().map(|a| (c.sequence, a)));
        let pending = self.next.approved.as_ref().filter(|a| !a.package_id.is_empty());
        let mut approved: Vec<(i64, &str, bool)> = Vec::new();
        if let Some((seq, a)) = current.filter(|(_, a)| !a.package_id.is_empty()) {
            approved.push((seq, &a.package_id, true));
        }
        if let Some(a) = pending {
            approved.push((self.next.sequence, &a.package_id, false));
        }
        let not_committed = |seq: i64| format!("{name} sequence {seq}, which is not committed yet");

        for (seq, package, committed) in &approved {
            let missing: Vec<&str> = self
                .peers
                .iter()
                .filter(|p| !p.installed.iter().any(|i| i.package_id == *package))
                .map(|p| p.peer.as_str())
                .collect();
            if missing.is_empty() {
                continue;
            }
            let what = if *committed { format!("{name} sequence {seq}") } else { not_committed(*seq) };
            let install = match &up {
                Some(up) => {
                    format!("run {up} (it installs the package it builds), or `ccaas-deploy install <package file>`")
                }
                None => "install it: `ccaas-deploy install <package file>` (or `ccaas-deploy lifecycle`)".into(),
            };
            out.push(Drift {
                kind: "not_installed",
                message: format!(
                    "package {package}, which {org} approved for {what}, is not installed on {}: {} cannot run \
                     {name}; {install}",
                    missing.join(", "),
                    if missing.len() == 1 { "that peer" } else { "those peers" }
                ),
            });
        }

        let Some(k) = &self.kubernetes else { return out };
        let ns = &k.namespace;
        let roll_out = |package: &str, image: &str| match &up {
            Some(up) => format!("run {up}"),
            None => {
                format!("run `ccaas-deploy apply -n {name} --namespace {ns} --image {image} --package-id {package}`")
            }
        };
        for d in &k.deployments {
            let served: BTreeSet<&str> = std::iter::once(d.package_id.as_str())
                .chain(d.pods.iter().map(|p| p.package_id.as_str()))
                .filter(|p| !p.is_empty())
                .collect();
            for s in served {
                if current.is_some_and(|(_, a)| a.package_id == s) {
                    continue;
                }
                let serving = format!("Deployment {ns}/{} serves package {s}", d.name);
                let peers_run = match current {
                    Some((_, a)) if !a.package_id.is_empty() => format!("the peers run {} until then", a.package_id),
                    _ => format!("until then the peers do not run {name} for {org}"),
                };
                if pending.is_some_and(|a| a.package_id == s) {
                    out.push(Drift {
                        kind: "not_committed",
                        message: format!(
                            "{serving}, which {org} approved for {}: {peers_run}; commit it once enough orgs approve \
                             (`ccaas-deploy lifecycle` says whose approval is missing){}",
                            not_committed(self.next.sequence),
                            match current {
                                Some((_, a)) if !a.package_id.is_empty() =>
                                    format!(", or roll back: {}", roll_out(&a.package_id, &d.image)),
                                _ => String::new(),
                            }
                        ),
                    });
                    continue;
                }
                let (why, fix) = match current {
                    Some((seq, a)) if !a.package_id.is_empty() => (
                        format!("it approved {} for sequence {seq}", a.package_id),
                        format!(
                            "{} to serve {}, or approve {s} if it is the one to run",
                            roll_out(&a.package_id, &d.image),
                            a.package_id
                        ),
                    ),
                    Some((seq, _)) => (
                        format!("it approved no package for sequence {seq}, so its peers do not run {name}"),
                        format!("approve {s} (`ccaas-deploy lifecycle` or `approve --package-id {s}`)"),
                    ),
                    None if self.committed.is_some() => (
                        "it has not approved the committed definition".to_string(),
                        format!("approve it with {s} (`ccaas-deploy lifecycle`)"),
                    ),
                    None => (
                        "nothing is committed".to_string(),
                        format!("approve and commit {name} with {s} (`ccaas-deploy lifecycle`)"),
                    ),
                };
                out.push(Drift {
                    kind: "not_approved",
                    message: format!("{serving}, which {org} does not approve ({why}): {fix}"),
                });
            }
            if d.replicas > 0 && d.ready == 0 {
                out.push(Drift {
                    kind: "not_ready",
                    message: format!(
                        "no pod of Deployment {ns}/{} is ready (0 of {}): the peers cannot reach {name}; \
                         `kubectl -n {ns} describe pods -l app.kubernetes.io/instance={}` says why",
                        d.name, d.replicas, d.name
                    ),
                });
            }
        }
        if k.deployments.is_empty() {
            if let Some((seq, a)) = current.filter(|(_, a)| !a.package_id.is_empty()) {
                out.push(Drift {
                    kind: "no_deployment",
                    message: format!(
                        "no Deployment of {name} in namespace {ns} (labelled app.kubernetes.io/name={name}, \
                         {MANAGED_BY_LABEL}={MANAGER}), but {org} approved {} for sequence {seq}: the peers cannot \
                         reach {name}; {}",
                        a.package_id,
                        roll_out(&a.package_id, "<image>")
                    ),
                });
            }
        }
        for (seq, package, _) in &approved {
            let Some(address) = self.addresses.get(*package) else { continue };
            if dials_a_service(address, &k.services) {
                continue;
            }
            let services: Vec<String> = k.services.iter().map(ServiceAddress::address).collect();
            let example =
                k.services.first().map(|s| format!("{}:{}", s.name, s.port)).unwrap_or(format!("{name}:7052"));
            out.push(Drift {
                kind: "address",
                message: format!(
                    "package {package} (approved for sequence {seq}) dials {address}, which is not a Service of {name} \
                     in namespace {ns} ({}): the peers dial nothing there; package the Service's address instead \
                     (e.g. {example}: chaincode.address in the up file, or --address) and run {}",
                    if services.is_empty() { "there is none".to_string() } else { services.join(", ") },
                    up.clone().unwrap_or("`ccaas-deploy lifecycle` with the new package".into())
                ),
            });
        }
        out
    }

    /// The status in plain words, one line each (without the drift).
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("{} on channel {}, for {}", self.name, self.channel, self.org)];
        let approvals = |a: &BTreeMap<String, bool>| {
            a.iter()
                .map(|(k, v)| format!("{k}={}", if *v { "approved" } else { "not approved" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let approval = |a: &Option<Approval>, seq: i64| match a {
            None => format!("{} has not approved sequence {seq}", self.org),
            Some(a) if a.package_id.is_empty() => {
                format!(
                    "{} approved version {} at sequence {seq} with no package (its peers do not run it)",
                    self.org, a.version
                )
            }
            Some(a) => {
                format!("{} approved version {} at sequence {seq} with package {}", self.org, a.version, a.package_id)
            }
        };
        match &self.committed {
            None => out.push(format!("committed: nothing ({} is not defined on {})", self.name, self.channel)),
            Some(c) => {
                out.push(format!(
                    "committed: version {} sequence {} (approvals: {})",
                    c.version,
                    c.sequence,
                    approvals(&c.approvals)
                ));
                out.push(approval(&c.approved, c.sequence));
            }
        }
        let n = &self.next;
        match &n.approved {
            None => out.push(format!("next sequence {}: {} has approved nothing", n.sequence, self.org)),
            Some(_) => out.push(format!(
                "next sequence {}: {} (approvals of the same definition: {})",
                n.sequence,
                approval(&n.approved, n.sequence),
                approvals(&n.approvals)
            )),
        }
        for p in &self.peers {
            let list: Vec<String> = p
                .installed
                .iter()
                .map(|i| match self.addresses.get(&i.package_id) {
                    Some(a) => format!("{} (address {a})", i.package_id),
                    None => i.package_id.clone(),
                })
                .collect();
            out.push(format!(
                "{}: {}",
                p.peer,
                if list.is_empty() { "no package installed".to_string() } else { list.join(", ") }
            ));
        }
        if let Some(k) = &self.kubernetes {
            if k.deployments.is_empty() {
                out.push(format!("kubernetes: no Deployment of {} in namespace {}", self.name, k.namespace));
            }
            for d in &k.deployments {
                let pods: Vec<String> = d
                    .pods
                    .iter()
                    .map(|p| {
                        let state = if p.ready { "ready" } else { "not ready" };
                        if p.package_id == d.package_id {
                            format!("{} {state}", p.name)
                        } else {
                            format!("{} {state}, serving {}", p.name, p.package_id)
                        }
                    })
                    .collect();
                out.push(format!(
                    "kubernetes: Deployment {}/{}: {} of {} ready, serving {} (pods: {})",
                    k.namespace,
                    d.name,
                    d.ready,
                    d.replicas,
                    d.package_id,
                    if pods.is_empty() { "none".to_string() } else { pods.join(", ") }
                ));
            }
            for s in &k.services {
                out.push(format!("kubernetes: Service {}", s.address()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P1: &str = "basic_1.0:1111";
    const P2: &str = "basic_2.0:2222";

    fn installed(ids: &[&str]) -> Vec<Installed> {
        ids.iter()
            .map(|id| Installed {
                package_id: id.to_string(),
                label: id.split(':').next().unwrap().into(),
                references: BTreeMap::new(),
            })
            .collect()
    }

    /// Org1 approved P1 at the committed sequence 1; both peers have it; P1 dials basic:7052.
    fn consistent() -> Status {
        Status {
            name: "basic".into(),
            channel: "mychannel".into(),
            org: "Org1MSP".into(),
            committed: Some(Committed {
                sequence: 1,
                version: "1.0".into(),
                approvals: BTreeMap::from([("Org1MSP".into(), true), ("Org2MSP".into(), true)]),
                approved: Some(Approval { version: "1.0".into(), package_id: P1.into() }),
            }),
            next: Next { sequence: 2, approved: None, approvals: BTreeMap::new() },
            peers: vec![
                PeerPackages { peer: "peer0".into(), installed: installed(&[P1]) },
                PeerPackages { peer: "peer1".into(), installed: installed(&[P1, P2]) },
            ],
            addresses: BTreeMap::from([(P1.to_string(), "basic:7052".to_string())]),
            kubernetes: None,
        }
    }

    /// The objects `up` makes for basic in namespace fabric, read back: a Deployment serving
    /// `template`, with one pod per entry of `pods` (package, ready).
    fn cluster(template: &str, pods: &[(&str, bool)]) -> Kubernetes {
        let labels = json!({"app.kubernetes.io/name": "basic", "app.kubernetes.io/instance": "basic",
                            MANAGED_BY_LABEL: MANAGER});
        let env = |id: &str| json!([{"name": "CHAINCODE_ID", "value": id}, {"name": "CHAINCODE_SERVER_ADDRESS", "value": "0.0.0.0:7052"}]);
        let ready = pods.iter().filter(|(_, r)| *r).count();
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "basic", "namespace": "fabric", "labels": labels},
            "spec": {"replicas": pods.len(), "selector": {"matchLabels": {"app.kubernetes.io/instance": "basic"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "chaincode", "image": "registry/basic:1", "env": env(template)}]}}},
            "status": {"readyReplicas": ready},
        }))
        .unwrap();
        let pod_objects: Vec<Pod> = pods
            .iter()
            .enumerate()
            .map(|(i, (id, ready))| {
                serde_json::from_value(json!({
                    "metadata": {"name": format!("basic-{i}"), "namespace": "fabric", "labels": labels},
                    "spec": {"containers": [{"name": "chaincode", "image": "registry/basic:1", "env": env(id)}]},
                    "status": {"conditions": [{"type": "Ready", "status": if *ready { "True" } else { "False" }}]},
                }))
                .unwrap()
            })
            .collect();
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "basic", "namespace": "fabric", "labels": labels},
            "spec": {"ports": [{"name": "chaincode", "port": 7052, "targetPort": "chaincode", "protocol": "TCP"}]},
        }))
        .unwrap();
        kubernetes_from("fabric", &[deployment], &pod_objects, &[service])
    }

    fn kinds(d: &[Drift]) -> Vec<&str> {
        d.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn objects_are_read_as_up_renders_them() {
        let k = cluster(P1, &[(P1, true), (P2, false)]);
        assert_eq!(k.deployments.len(), 1);
        let d = &k.deployments[0];
        assert_eq!((d.name.as_str(), d.package_id.as_str(), d.replicas, d.ready), ("basic", P1, 2, 1));
        assert_eq!(d.pods[1], PodState { name: "basic-1".into(), ready: false, package_id: P2.into() });
        assert_eq!(k.services, vec![ServiceAddress { name: "basic".into(), namespace: "fabric".into(), port: 7052 }]);
    }

    #[test]
    fn consistent_is_no_drift() {
        let mut s = consistent();
        assert_eq!(s.drift(None), vec![]);
        s.kubernetes = Some(cluster(P1, &[(P1, true)]));
        assert_eq!(s.drift(None), vec![], "{:?}", s.drift(None));
        let text = s.lines().join("\n");
        assert!(
            text.contains("committed: version 1.0 sequence 1 (approvals: Org1MSP=approved, Org2MSP=approved)"),
            "{text}"
        );
        assert!(text.contains("Org1MSP approved version 1.0 at sequence 1 with package basic_1.0:1111"), "{text}");
        assert!(
            text.contains(
                "kubernetes: Deployment fabric/basic: 1 of 1 ready, serving basic_1.0:1111 (pods: basic-0 ready)"
            ),
            "{text}"
        );
        assert!(text.contains("peer1: basic_1.0:1111 (address basic:7052), basic_2.0:2222"), "{text}");
    }

    #[test]
    fn an_approved_package_not_installed_on_a_peer() {
        let mut s = consistent();
        s.peers[0].installed.clear();
        let d = s.drift(None);
        assert_eq!(kinds(&d), vec!["not_installed"]);
        assert_eq!(
            d[0].message,
            "package basic_1.0:1111, which Org1MSP approved for basic sequence 1, is not installed on peer0: that peer \
             cannot run basic; install it: `ccaas-deploy install <package file>` (or `ccaas-deploy lifecycle`)"
        );
        let with_file = s.drift(Some(Path::new("cc.yaml")));
        assert!(with_file[0].message.contains("run `ccaas-deploy up -f cc.yaml` (it installs the package it builds)"));
    }

    #[test]
    fn pods_serving_a_package_the_org_no_longer_approves() {
        let mut s = consistent();
        // Org1 re-approved P2 at the committed sequence; the pods still serve P1.
        s.committed.as_mut().unwrap().approved = Some(Approval { version: "1.0".into(), package_id: P2.into() });
        s.addresses.insert(P2.into(), "basic.fabric.svc.cluster.local:7052".into());
        s.kubernetes = Some(cluster(P1, &[(P1, true)]));
        let d = s.drift(None);
        assert_eq!(kinds(&d), vec!["not_installed", "not_approved"], "{d:?}");
        assert_eq!(
            d[1].message,
            "Deployment fabric/basic serves package basic_1.0:1111, which Org1MSP does not approve (it approved \
             basic_2.0:2222 for sequence 1): run `ccaas-deploy apply -n basic --namespace fabric --image \
             registry/basic:1 --package-id basic_2.0:2222` to serve basic_2.0:2222, or approve basic_1.0:1111 if it \
             is the one to run"
        );
        // A pod of the old ReplicaSet still serving P1 while the template serves P2 is drift too.
        s.peers[0].installed = installed(&[P2]);
        s.kubernetes = Some(cluster(P2, &[(P2, true), (P1, true)]));
        assert_eq!(kinds(&s.drift(None)), vec!["not_approved"]);
    }

    #[test]
    fn pods_ahead_of_the_commit_are_told_apart() {
        let mut s = consistent();
        s.next.approved = Some(Approval { version: "2.0".into(), package_id: P2.into() });
        s.next.approvals = BTreeMap::from([("Org1MSP".into(), true), ("Org2MSP".into(), false)]);
        s.kubernetes = Some(cluster(P2, &[(P2, true)]));
        let d = s.drift(Some(Path::new("ccaas-deploy.yaml")));
        assert_eq!(kinds(&d), vec!["not_installed", "not_committed"], "{d:?}");
        assert!(d[0]
            .message
            .contains("approved for basic sequence 2, which is not committed yet, is not installed on peer0"));
        assert!(
            d[1].message.starts_with(
                "Deployment fabric/basic serves package basic_2.0:2222, which Org1MSP approved for basic sequence 2, \
                 which is not committed yet: the peers run basic_1.0:1111 until then; commit it once enough orgs approve"
            ),
            "{}",
            d[1].message
        );
        assert!(d[1].message.ends_with("or roll back: run `ccaas-deploy up -f ccaas-deploy.yaml`"), "{}", d[1].message);
    }

    #[test]
    fn no_ready_pod_and_no_deployment() {
        let mut s = consistent();
        s.kubernetes = Some(cluster(P1, &[(P1, false)]));
        let d = s.drift(None);
        assert_eq!(kinds(&d), vec!["not_ready"]);
        assert!(d[0].message.contains("no pod of Deployment fabric/basic is ready (0 of 1)"));
        let mut k = cluster(P1, &[]);
        k.deployments.clear();
        s.kubernetes = Some(k);
        let d = s.drift(None);
        assert_eq!(kinds(&d), vec!["no_deployment"]);
        assert!(d[0].message.contains("no Deployment of basic in namespace fabric"), "{}", d[0].message);
    }

    #[test]
    fn a_package_whose_address_is_not_the_rendered_service() {
        let mut s = consistent();
        s.addresses.insert(P1.into(), "asset:7052".into());
        s.kubernetes = Some(cluster(P1, &[(P1, true)]));
        let d = s.drift(Some(Path::new("ccaas-deploy.yaml")));
        assert_eq!(kinds(&d), vec!["address"]);
        assert_eq!(
            d[0].message,
            "package basic_1.0:1111 (approved for sequence 1) dials asset:7052, which is not a Service of basic in \
             namespace fabric (basic.fabric:7052): the peers dial nothing there; package the Service's address \
             instead (e.g. basic:7052: chaincode.address in the up file, or --address) and run `ccaas-deploy up -f \
             ccaas-deploy.yaml`"
        );
    }

    #[test]
    fn service_addresses() {
        let svc = |name: &str| ServiceAddress { name: name.into(), namespace: "fabric".into(), port: 7052 };
        let basic = [svc("basic")];
        for ok in ["basic:7052", "basic.fabric:7052", "basic.fabric.svc:7052", "basic.fabric.svc.cluster.local:7052"] {
            assert!(dials_a_service(ok, &basic), "{ok}");
        }
        for bad in ["basic:7053", "basic.other:7052", "asset:7052", "basic.fabric.svc.:7052", "basic", "127.0.0.1:7052"]
        {
            assert!(!dials_a_service(bad, &basic), "{bad}");
        }
        let per_peer = [svc("peer0-basic"), svc("peer1-basic")];
        assert!(dials_a_service("{{.peername}}-basic:7052", &per_peer));
        assert!(dials_a_service("{{.peername}}-basic.fabric:7052", &per_peer));
        assert!(!dials_a_service("{{.peername}}-asset:7052", &per_peer));
        assert!(!dials_a_service("{{.peername}}-basic:7052", &basic));
    }
}
