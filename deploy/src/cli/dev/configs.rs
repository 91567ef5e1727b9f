//! The local network's files: where everything is in the state directory, its ports, and the
//! configuration the Fabric tools and nodes read (cryptogen's `crypto-config.yaml`,
//! configtxgen's `configtx.yaml`, each node's `orderer.yaml` / `core.yaml` made from the release's
//! sample, and the environment files for the peer CLI).
//!
//! The network is that of fabric-samples' test network, on 127.0.0.1: one etcdraft orderer
//! (`orderer.example.com`, `OrdererMSP`) with the channel participation API, and
//! `peer0.orgN.example.com` (`OrgNMSP`) per org, TLS everywhere, the Gateway on, the ccaas builder
//! registered, no Docker (`vm.endpoint` empty); the channel's policies are the test network's
//! (`MAJORITY Endorsement` for lifecycle and chaincodes), with a 250 ms batch timeout.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use serde_norway::{Mapping, Value};

/// Ports per network: the orderer's three, the chaincode server's, three per peer (3 orgs at most).
pub const PORTS: u16 = 16;

/// A local network: its state directory, orgs, channel and ports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Net {
    /// The state directory (absolute).
    pub state: PathBuf,
    /// Peer organizations, one peer each (1 to 3).
    pub orgs: u32,
    /// The channel.
    pub channel: String,
    /// The first port; the network uses [`PORTS`] from it.
    pub base: u16,
}

impl Net {
    /// The orderer's Broadcast and Deliver port.
    pub fn orderer_port(&self) -> u16 {
        self.base
    }
    /// The orderer's admin port (channel participation API, mutual TLS).
    pub fn orderer_admin_port(&self) -> u16 {
        self.base + 1
    }
    /// The orderer's operations port (`/healthz`, `/metrics`).
    pub fn orderer_ops_port(&self) -> u16 {
        self.base + 2
    }
    /// The chaincode server's port.
    pub fn chaincode_port(&self) -> u16 {
        self.base + 3
    }
    /// Org `n`'s peer port (Endorser, Gateway, Deliver, gossip).
    pub fn peer_port(&self, n: u32) -> u16 {
        self.base + 4 + 3 * (n as u16 - 1)
    }
    /// Org `n`'s peer's operations port.
    pub fn peer_ops_port(&self, n: u32) -> u16 {
        self.peer_port(n) + 2
    }
    /// Every port of the network, with what it is for.
    pub fn ports(&self) -> Vec<(u16, String)> {
        let mut ports = vec![
            (self.orderer_port(), "orderer".to_string()),
            (self.orderer_admin_port(), "orderer admin".into()),
            (self.orderer_ops_port(), "orderer operations".into()),
            (self.chaincode_port(), "chaincode server".into()),
        ];
        for n in 1..=self.orgs {
            ports.push((self.peer_port(n), self.peer_host(n)));
            ports.push((self.peer_port(n) + 1, format!("{} chaincode listener", self.peer_host(n))));
            ports.push((self.peer_ops_port(n), format!("{} operations", self.peer_host(n))));
        }
        ports
    }

    /// `crypto/` (cryptogen's output).
    pub fn crypto(&self) -> PathBuf {
        self.state.join("crypto")
    }
    /// `config/`.
    pub fn config(&self) -> PathBuf {
        self.state.join("config")
    }
    /// `data/` (ledgers).
    pub fn data(&self) -> PathBuf {
        self.state.join("data")
    }
    /// `logs/`.
    pub fn logs(&self) -> PathBuf {
        self.state.join("logs")
    }
    /// The channel's genesis block.
    pub fn block(&self) -> PathBuf {
        self.config().join(format!("{}.block", self.channel))
    }
    /// The orderer's config folder (`FABRIC_CFG_PATH`).
    pub fn orderer_config(&self) -> PathBuf {
        self.config().join("orderer")
    }
    /// Org `n`'s peer's config folder (`FABRIC_CFG_PATH`).
    pub fn peer_config(&self, n: u32) -> PathBuf {
        self.config().join(format!("peer0.org{n}"))
    }
    fn orderer_org(&self) -> PathBuf {
        self.crypto().join("ordererOrganizations/example.com")
    }
    fn orderer_dir(&self) -> PathBuf {
        self.orderer_org().join("orderers/orderer.example.com")
    }
    /// The orderer org's TLS CA certificate.
    pub fn orderer_tlsca(&self) -> PathBuf {
        self.orderer_org().join("tlsca/tlsca.example.com-cert.pem")
    }
    /// The orderer admin's TLS client certificate and key (for the admin endpoint).
    pub fn orderer_admin_tls(&self) -> (PathBuf, PathBuf) {
        let tls = self.orderer_org().join("users/Admin@example.com/tls");
        (tls.join("client.crt"), tls.join("client.key"))
    }
    /// Org `n`'s peer's host name (in its TLS certificate).
    pub fn peer_host(&self, n: u32) -> String {
        format!("peer0.org{n}.example.com")
    }
    fn org_dir(&self, n: u32) -> PathBuf {
        self.crypto().join(format!("peerOrganizations/org{n}.example.com"))
    }
    fn peer_dir(&self, n: u32) -> PathBuf {
        self.org_dir(n).join(format!("peers/{}", self.peer_host(n)))
    }
    /// Org `n`'s TLS CA certificate.
    pub fn peer_tlsca(&self, n: u32) -> PathBuf {
        self.org_dir(n).join(format!("tlsca/tlsca.org{n}.example.com-cert.pem"))
    }
    /// Org `n`'s admin's MSP folder.
    pub fn admin_msp(&self, n: u32) -> PathBuf {
        self.org_dir(n).join(format!("users/Admin@org{n}.example.com/msp"))
    }
    /// Org `n`'s MSP ID.
    pub fn msp_id(&self, n: u32) -> String {
        format!("Org{n}MSP")
    }
    /// The environment file for the peer CLI as org `n`'s admin.
    pub fn env_file(&self, n: u32) -> PathBuf {
        self.state.join(format!("org{n}.env"))
    }
}

/// cryptogen's input: the orderer org and one peer org per org, each with an admin and a user;
/// TLS certificates name the host, `localhost` and `127.0.0.1`.
pub fn crypto_config(net: &Net) -> String {
    let sans = json!(["localhost", "127.0.0.1"]);
    let peer_orgs: Vec<_> = (1..=net.orgs)
        .map(|n| {
            json!({"Name": format!("Org{n}"), "Domain": format!("org{n}.example.com"), "EnableNodeOUs": true,
                   "Template": {"Count": 1, "SANS": sans}, "Users": {"Count": 1}})
        })
        .collect();
    yaml(&json!({
        "OrdererOrgs": [{"Name": "Orderer", "Domain": "example.com", "EnableNodeOUs": true,
                         "Specs": [{"Hostname": "orderer", "SANS": sans}]}],
        "PeerOrgs": peer_orgs,
    }))
}

/// configtxgen's input: the profile `ChannelUsingRaft` for the channel's genesis block.
pub fn configtx(net: &Net, application_capability: &str) -> String {
    let sig = |rule: String| json!({"Type": "Signature", "Rule": rule});
    let meta = |rule: &str| json!({"Type": "ImplicitMeta", "Rule": rule});
    let orderer_dir = net.orderer_dir();
    let orderer_org = json!({
        "Name": "OrdererOrg", "ID": "OrdererMSP", "MSPDir": net.orderer_org().join("msp"),
        "Policies": {"Readers": sig("OR('OrdererMSP.member')".into()), "Writers": sig("OR('OrdererMSP.member')".into()),
                     "Admins": sig("OR('OrdererMSP.admin')".into())},
        "OrdererEndpoints": [format!("127.0.0.1:{}", net.orderer_port())],
    });
    let peer_orgs: Vec<_> = (1..=net.orgs)
        .map(|n| {
            let m = net.msp_id(n);
            json!({
                "Name": m, "ID": m, "MSPDir": net.org_dir(n).join("msp"),
                "Policies": {"Readers": sig(format!("OR('{m}.admin', '{m}.peer', '{m}.client')")),
                             "Writers": sig(format!("OR('{m}.admin', '{m}.client')")),
                             "Admins": sig(format!("OR('{m}.admin')")),
                             "Endorsement": sig(format!("OR('{m}.peer')"))},
                "AnchorPeers": [{"Host": "127.0.0.1", "Port": net.peer_port(n)}],
            })
        })
        .collect();
    let standard =
        json!({"Readers": meta("ANY Readers"), "Writers": meta("ANY Writers"), "Admins": meta("MAJORITY Admins")});
    let mut orderer_policies = standard.clone();
    orderer_policies["BlockValidation"] = meta("ANY Writers");
    let mut application_policies = standard.clone();
    application_policies["LifecycleEndorsement"] = meta("MAJORITY Endorsement");
    application_policies["Endorsement"] = meta("MAJORITY Endorsement");
    let tls_cert = orderer_dir.join("tls/server.crt");
    let organizations: Vec<_> = std::iter::once(orderer_org.clone()).chain(peer_orgs.clone()).collect();
    yaml(&json!({
        "Organizations": organizations,
        "Profiles": {"ChannelUsingRaft": {
            "Policies": standard,
            "Capabilities": {"V2_0": true},
            "Orderer": {
                "OrdererType": "etcdraft",
                "EtcdRaft": {
                    "Consenters": [{"Host": "127.0.0.1", "Port": net.orderer_port(),
                                    "ClientTLSCert": tls_cert, "ServerTLSCert": tls_cert}],
                    "Options": {"TickInterval": "100ms", "ElectionTick": 10, "HeartbeatTick": 1,
                                "MaxInflightBlocks": 5, "SnapshotIntervalSize": "16 MB"}},
                "BatchTimeout": "250ms",
                "BatchSize": {"MaxMessageCount": 10, "AbsoluteMaxBytes": "99 MB", "PreferredMaxBytes": "512 KB"},
                "Organizations": [orderer_org],
                "Policies": orderer_policies,
                "Capabilities": {"V2_0": true}},
            "Application": {
                "Organizations": peer_orgs,
                "Policies": application_policies,
                "Capabilities": {application_capability: true}},
        }},
    }))
}

/// The orderer's `orderer.yaml`: the release's sample with the addresses, TLS files, MSP and
/// data folders of this network (no system channel: channels are joined through the admin API).
pub fn orderer_yaml(net: &Net, sample: &str) -> anyhow::Result<String> {
    let dir = net.orderer_dir();
    let (cert, key, ca) = (dir.join("tls/server.crt"), dir.join("tls/server.key"), dir.join("tls/ca.crt"));
    let data = net.data().join("orderer");
    edit(
        sample,
        &[
            ("General.ListenAddress", json!("127.0.0.1")),
            ("General.ListenPort", json!(net.orderer_port())),
            ("General.TLS.Enabled", json!(true)),
            ("General.TLS.PrivateKey", json!(key)),
            ("General.TLS.Certificate", json!(cert)),
            ("General.TLS.RootCAs", json!([ca])),
            ("General.TLS.ClientAuthRequired", json!(false)),
            ("General.Cluster.ClientCertificate", json!(cert)),
            ("General.Cluster.ClientPrivateKey", json!(key)),
            ("General.Cluster.RootCAs", json!([ca])),
            ("General.BootstrapMethod", json!("none")),
            ("General.BootstrapFile", json!("")),
            ("General.LocalMSPDir", json!(dir.join("msp"))),
            ("General.LocalMSPID", json!("OrdererMSP")),
            ("FileLedger.Location", json!(data)),
            ("Consensus.WALDir", json!(data.join("etcdraft/wal"))),
            ("Consensus.SnapDir", json!(data.join("etcdraft/snapshot"))),
            ("Operations.ListenAddress", json!(format!("127.0.0.1:{}", net.orderer_ops_port()))),
            ("Operations.TLS.Enabled", json!(false)),
            ("Metrics.Provider", json!("prometheus")),
            ("Admin.ListenAddress", json!(format!("127.0.0.1:{}", net.orderer_admin_port()))),
            ("Admin.TLS.Enabled", json!(true)),
            ("Admin.TLS.Certificate", json!(cert)),
            ("Admin.TLS.PrivateKey", json!(key)),
            ("Admin.TLS.RootCAs", json!([ca])),
            ("Admin.TLS.ClientAuthRequired", json!(true)),
            ("Admin.TLS.ClientRootCAs", json!([ca])),
            ("ChannelParticipation.Enabled", json!(true)),
        ],
    )
}

/// Org `n`'s peer's `core.yaml`: the release's sample with this peer's addresses, TLS files, MSP,
/// ledger folder, the Gateway, the ccaas builder at `builder`, and gossip that retries every
/// second (so that the peers of a new network find each other in seconds).
pub fn core_yaml(net: &Net, n: u32, sample: &str, builder: &Path) -> anyhow::Result<String> {
    let dir = net.peer_dir(n);
    let address = format!("127.0.0.1:{}", net.peer_port(n));
    let data = net.data().join(format!("peer0.org{n}"));
    edit(
        sample,
        &[
            ("peer.id", json!(net.peer_host(n))),
            ("peer.networkId", json!("ccaas-dev")),
            ("peer.listenAddress", json!(address)),
            ("peer.address", json!(address)),
            ("peer.chaincodeListenAddress", json!(format!("127.0.0.1:{}", net.peer_port(n) + 1))),
            ("peer.chaincodeAddress", json!(format!("127.0.0.1:{}", net.peer_port(n) + 1))),
            ("peer.addressAutoDetect", json!(false)),
            ("peer.gateway.enabled", json!(true)),
            ("peer.gossip.bootstrap", json!(address)),
            ("peer.gossip.endpoint", json!(address)),
            ("peer.gossip.externalEndpoint", json!(address)),
            ("peer.gossip.useLeaderElection", json!(false)),
            ("peer.gossip.orgLeader", json!(true)),
            ("peer.gossip.reconnectInterval", json!("1s")),
            ("peer.gossip.membershipTrackerInterval", json!("1s")),
            ("peer.gossip.dialTimeout", json!("1s")),
            ("peer.gossip.aliveTimeInterval", json!("1s")),
            ("peer.gossip.publishStateInfoInterval", json!("1s")),
            ("peer.gossip.requestStateInfoInterval", json!("1s")),
            ("peer.tls.enabled", json!(true)),
            ("peer.tls.clientAuthRequired", json!(false)),
            ("peer.tls.cert.file", json!(dir.join("tls/server.crt"))),
            ("peer.tls.key.file", json!(dir.join("tls/server.key"))),
            ("peer.tls.rootcert.file", json!(dir.join("tls/ca.crt"))),
            ("peer.tls.clientRootCAs.files", json!([dir.join("tls/ca.crt")])),
            ("peer.fileSystemPath", json!(data)),
            ("peer.mspConfigPath", json!(dir.join("msp"))),
            ("peer.localMspId", json!(net.msp_id(n))),
            ("vm.endpoint", json!("")),
            (
                "chaincode.externalBuilders",
                json!([{"name": "ccaas_builder", "path": builder,
                        "propagateEnvironment": ["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"]}]),
            ),
            ("ledger.snapshots.rootDir", json!(data.join("snapshots"))),
            ("operations.listenAddress", json!(format!("127.0.0.1:{}", net.peer_ops_port(n)))),
            ("operations.tls.enabled", json!(false)),
            ("metrics.provider", json!("prometheus")),
        ],
    )
}

/// The file to source for the peer CLI (and `ccaas-deploy`'s commands) as org `n`'s admin, with
/// the orderer's address and TLS settings for `peer chaincode invoke`.
pub fn env_file(net: &Net, n: u32, fabric_bin: &Path) -> String {
    let q = |v: &dyn AsRef<std::ffi::OsStr>| shell_quote(&v.as_ref().to_string_lossy());
    let vars: [(&str, String); 11] = [
        ("FABRIC_CFG_PATH", q(&net.peer_config(n))),
        ("CORE_PEER_LOCALMSPID", q(&net.msp_id(n))),
        ("CORE_PEER_MSPCONFIGPATH", q(&net.admin_msp(n))),
        ("CORE_PEER_ADDRESS", q(&format!("127.0.0.1:{}", net.peer_port(n)))),
        ("CORE_PEER_TLS_ENABLED", q(&"true")),
        ("CORE_PEER_TLS_ROOTCERT_FILE", q(&net.peer_tlsca(n))),
        ("ORDERER_ADDRESS", q(&format!("127.0.0.1:{}", net.orderer_port()))),
        ("ORDERER_CA", q(&net.orderer_tlsca())),
        ("ORDERER_TLS_HOSTNAME", q(&"orderer.example.com")),
        ("CHANNEL_NAME", q(&net.channel)),
        ("PATH", format!("{}:\"$PATH\"", q(&fabric_bin))),
    ];
    let mut text = format!(
        "# The local Fabric network of `ccaas-deploy dev` ({}), as {}'s admin: source this file for the\n\
         # peer CLI (peer chaincode invoke -o \"$ORDERER_ADDRESS\" --tls --cafile \"$ORDERER_CA\" ...) and ccaas-deploy.\n",
        net.state.display(),
        net.msp_id(n)
    );
    for (k, v) in vars {
        text.push_str(&format!("export {k}={v}\n"));
    }
    text
}

/// `'value'` for a POSIX shell.
fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

fn yaml(v: &serde_json::Value) -> String {
    serde_norway::to_string(v).expect("JSON values are YAML values")
}

/// `sample` (YAML) with each `path` (dotted keys, matched without regard to case as Fabric's
/// configuration reader matches them) set to its value.
fn edit(sample: &str, settings: &[(&str, serde_json::Value)]) -> anyhow::Result<String> {
    let mut doc: Value = serde_norway::from_str(sample).context("the release's sample configuration is not YAML")?;
    for (path, value) in settings {
        let value = serde_norway::to_value(value).expect("JSON values are YAML values");
        set(&mut doc, path, value);
    }
    Ok(serde_norway::to_string(&doc)?)
}

fn set(doc: &mut Value, path: &str, value: Value) {
    let keys: Vec<&str> = path.split('.').collect();
    let mut node = doc;
    for (i, key) in keys.iter().enumerate() {
        if !node.is_mapping() {
            *node = Value::Mapping(Mapping::new());
        }
        let map = node.as_mapping_mut().expect("a mapping");
        let existing = map.keys().find(|k| k.as_str().is_some_and(|s| s.eq_ignore_ascii_case(key))).cloned();
        let key = existing.unwrap_or_else(|| Value::String(key.to_string()));
        if i + 1 == keys.len() {
            map.insert(key, value);
            return;
        }
        node = map.entry(key).or_insert(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(orgs: u32) -> Net {
        Net { state: PathBuf::from("/s"), orgs, channel: "mychannel".into(), base: 21000 }
    }

    #[test]
    fn ports_do_not_overlap_and_fit_in_the_block() {
        for orgs in 1..=3 {
            let mut ports: Vec<u16> = net(orgs).ports().into_iter().map(|(p, _)| p).collect();
            assert_eq!(ports.len(), 4 + 3 * orgs as usize);
            assert!(ports.iter().all(|p| (21000..21000 + PORTS).contains(p)), "{ports:?}");
            ports.sort();
            ports.dedup();
            assert_eq!(ports.len(), 4 + 3 * orgs as usize);
        }
    }

    #[test]
    fn edits_keep_the_rest_of_the_sample_and_match_keys_in_any_case() {
        let sample = "# comment\nGeneral:\n  ListenPort: 7050\n  TLS:\n    Enabled: false\n    RootCAs:\n      - a\nKeep: {x: 1}\n";
        let out = edit(
            sample,
            &[
                ("general.tls.enabled", json!(true)),
                ("General.TLS.RootCAs", json!(["b", "c"])),
                ("New.Key", json!("v")),
            ],
        )
        .unwrap();
        let v: Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(v["General"]["ListenPort"], Value::from(7050));
        assert_eq!(v["General"]["TLS"]["Enabled"], Value::from(true));
        assert_eq!(v["General"]["TLS"]["RootCAs"], serde_norway::to_value(["b", "c"]).unwrap());
        assert!(v["General"]["TLS"].get("enabled").is_none(), "no second key in another case");
        assert_eq!(v["Keep"]["x"], Value::from(1));
        assert_eq!(v["New"]["Key"], Value::from("v"));
    }

    #[test]
    fn the_peer_config_has_the_builder_and_this_networks_addresses() {
        let sample = "peer:\n  id: jdoe\n  gossip:\n    bootstrap: 127.0.0.1:7051\nchaincode:\n  externalBuilders: []\nvm:\n  endpoint: unix:///var/run/docker.sock\n";
        let out = core_yaml(&net(2), 2, sample, Path::new("/fabric/builders/ccaas")).unwrap();
        let v: Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(v["peer"]["id"], Value::from("peer0.org2.example.com"));
        assert_eq!(v["peer"]["listenAddress"], Value::from("127.0.0.1:21007"));
        assert_eq!(v["peer"]["gossip"]["bootstrap"], Value::from("127.0.0.1:21007"));
        assert_eq!(v["peer"]["localMspId"], Value::from("Org2MSP"));
        assert_eq!(v["vm"]["endpoint"], Value::from(""));
        assert_eq!(v["chaincode"]["externalBuilders"][0]["path"], Value::from("/fabric/builders/ccaas"));
        assert_eq!(v["operations"]["listenAddress"], Value::from("127.0.0.1:21009"));
    }

    #[test]
    fn configtx_names_every_org_and_the_capability() {
        let text = configtx(&net(3), "V2_5");
        let v: Value = serde_norway::from_str(&text).unwrap();
        let profile = &v["Profiles"]["ChannelUsingRaft"];
        assert_eq!(profile["Application"]["Organizations"].as_sequence().unwrap().len(), 3);
        assert_eq!(profile["Application"]["Capabilities"]["V2_5"], Value::from(true));
        assert_eq!(profile["Application"]["Organizations"][2]["AnchorPeers"][0]["Port"], Value::from(21010));
        assert_eq!(profile["Orderer"]["EtcdRaft"]["Consenters"][0]["Port"], Value::from(21000));
        assert_eq!(
            profile["Application"]["Policies"]["LifecycleEndorsement"]["Rule"],
            Value::from("MAJORITY Endorsement")
        );
    }

    #[test]
    fn the_env_file_quotes_for_the_shell() {
        let mut n = net(1);
        n.state = PathBuf::from("/tmp/it's here");
        let text = env_file(&n, 1, Path::new("/fabric/bin"));
        assert!(text.contains(r"export CORE_PEER_MSPCONFIGPATH='/tmp/it'\''s here/crypto/"), "{text}");
        assert!(text.contains("export CORE_PEER_ADDRESS='127.0.0.1:21004'\n"), "{text}");
        assert!(text.contains("export PATH='/fabric/bin':\"$PATH\"\n"), "{text}");
    }
}
