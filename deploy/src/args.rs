//! Command-line flags. Each connection flag also reads the variable the `peer` CLI (or
//! fabric-samples' scripts) uses, so a shell set up for the test network needs no flags.

use std::path::PathBuf;

use ccaas_deploy::config::Sources;
use ccaas_deploy::definition::Definition;
use ccaas_deploy::Error;
use ccaas_package::{build_package, package_id, ConnectionSpec, PackageSpec};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deploy chaincode-as-a-service to Hyperledger Fabric: install, approve, commit, or
/// `lifecycle` to do only what is missing; build the server's image, render and apply its
/// Kubernetes manifests, or `up` to do all of it from one config file.
///
/// Exit codes (and the "kind" of --output json's failure object): 0 success; 1 refused by a
/// peer, the gateway or the orderer, an error answered by the chaincode (invoke, query), or an
/// invalid transaction (refused); 2 usage or configuration error, checked before any connection
/// (also a registry or Kubernetes API refusal, or a Kubernetes object of another owner in the
/// way: see apply --force-conflicts) (configuration); 3 the commit waits for more approvals
/// (waiting); 4 a peer, orderer, registry or Kubernetes API server cannot be reached (connection)
/// or did not answer in time (timeout); 5 build-static: cargo failed (build); 6 apply/up: the
/// rollout failed or timed out (rollout); 7 status: drift (drift); 8 another run's changes
/// conflicted, even after re-planning (conflict); 130/143 SIGINT/SIGTERM (interrupted). When two
/// hold, the higher wins (up waiting and with a failed rollout: 6; its JSON's exit_reasons names
/// both). With --output json a failure prints one JSON object: kind, message, exit_code,
/// retryable, tx_ids.
#[derive(Parser, Debug)]
#[command(name = "ccaas-deploy", version)]
pub struct Cli {
    /// Result format on stdout (with json, progress goes to stderr).
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Give the whole command at most this many seconds: every network call (peers, Gateway,
    /// orderer, registry, Kubernetes) is bounded by what is left, and on expiry the command exits
    /// 4 naming what did not answer; apply and up wait for the rollout until then (dev runs
    /// until stopped and ignores it) [default: no
    /// limit for the command; a call gets 5 s to connect and 60 s to answer, a rollout its
    /// progress deadline plus 10 s].
    #[arg(long, global = true, env = "CCAAS_DEPLOY_TIMEOUT", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    // The connection flags given before the subcommand (`ccaas-deploy --config net.yaml
    // installed`): hidden here (see `Cli::with_hidden_connection`); the commands that talk to a
    // Fabric network take them after it too, and list them in their --help.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line parser, with the connection flags before the subcommand hidden from the
    /// help (a subcommand's --help lists them where it uses them).
    pub fn with_hidden_connection() -> clap::Command {
        use clap::CommandFactory;
        let ids: Vec<clap::Id> = ConnectionArgs::augment_args(clap::Command::new("connection"))
            .get_arguments()
            .map(|a| a.get_id().clone())
            .collect();
        ids.iter().fold(Cli::command(), |c, id| c.mut_arg(id, |a| a.hide(true)))
    }
}

/// Result format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Sentences.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Install a package on the organization's peers (already installed is success).
    Install(PackageOnly),
    /// List the packages installed on the organization's peers.
    Installed(Installed),
    /// Show the organization's approval of a chaincode.
    Approved(Approved),
    /// Show the committed definition of a chaincode.
    Committed(NameOnly),
    /// Show which organizations approved a definition at a sequence.
    Readiness(WithSequence),
    /// Approve a definition for the organization.
    Approve(Approve),
    /// Commit a definition on the channel.
    ///
    /// Only once its approvals meet the channel's LifecycleEndorsement policy (else exit 3, naming
    /// what is missing and the orgs that could give it); the approving orgs' peers endorse it.
    Commit(WithSequence),
    /// Do what is missing: install, approve (at the right sequence) and commit.
    ///
    /// The commit happens as soon as the approvals meet the channel's LifecycleEndorsement policy
    /// (e.g. 2 of 3 orgs under MAJORITY Endorsement), endorsed by the approving orgs' peers;
    /// until then it says what is missing and from whom, and exits 3. --plan shows the steps and
    /// the rule that decides. A step another run did meanwhile is skipped, one whose transaction
    /// lost a race (MVCC_READ_CONFLICT) is done again, after reading the channel again; a conflict
    /// that persists exits 8 (a re-run is safe).
    Lifecycle(Lifecycle),
    /// Show a chaincode for the organization, and what drifted (exit 7).
    ///
    /// The committed definition, every org's approval at the committed and the next sequence, the
    /// packages on the org's peers and, with Kubernetes settings (-f, --namespace or
    /// --kubeconfig), its Deployments, their ready pods and the package they serve. Exits 0 when
    /// consistent, 7 on drift (each finding says what to run).
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
    /// Submit a transaction: the chaincode runs on the endorsers the policy needs (the first
    /// peer's Gateway finds them), the orderer orders it, and this waits until it is committed.
    /// Prints the chaincode's answer; exits 1 when the chaincode answers an error (its status and
    /// message are printed) or the transaction is committed as invalid (its validation code is
    /// printed).
    #[command(after_help = CALL_EXAMPLES)]
    Invoke(CallArgs),
    /// Evaluate a chaincode function on one peer (through the first peer's Gateway) and print its
    /// answer; nothing is committed. Exits 1 when the chaincode answers an error.
    #[command(after_help = CALL_EXAMPLES)]
    Query(CallArgs),
    /// Print the chaincode server's Kubernetes manifests as YAML, without a cluster
    /// (Deployment, Service and TLS Secret, or an hlf-operator FabricChaincode).
    Render(Box<Render>),
    /// Image → package → install → approve → commit → rollout from one config file
    /// (ccaas-deploy.yaml), doing only what changed; see docs/deploying.md for the format.
    Up(Box<UpArgs>),
    /// Delete what `up` rolled out (Deployments, Services, TLS Secrets labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy; others of the same name are left and named,
    /// see --force-conflicts); the channel's chaincode definition is not touched.
    Down(Box<DownArgs>),
    /// Server-side apply the manifests (field manager ccaas-deploy) and wait for the rollout as
    /// `kubectl rollout status` does; --dry-run prints them instead. Objects of the same name
    /// that ccaas-deploy did not make are refused (see --force-conflicts).
    Apply(Box<Apply>),
    /// Assemble the chaincode server's OCI image from a built binary (reproducible: the same
    /// binary gives the same digest) and write it as an OCI layout or a docker archive.
    Image(ImageArgs),
    /// Build a workspace binary static (glibc crt-static, not position-independent, x86_64-unknown-linux-gnu, release)
    /// for an image, and print its path. Built with thin LTO over 4 codegen units (unless
    /// CARGO_PROFILE_RELEASE_LTO / _CODEGEN_UNITS say otherwise), and its hot code laid out
    /// together (less memory per running instance); --no-layout skips that.
    BuildStatic(BuildStatic),
    /// Make a new chaincode crate that builds, tests and serves as it is: a contract, its server,
    /// its tests with the test kit, a ccaas-deploy.yaml for `up`, and a Cargo.lock from
    /// fabric-ccaas's.
    New(New),
    /// Run the chaincode of this crate (or -p PACKAGE) against Fabric peers and rebuild and restart
    /// it on every saved change: starts a local network from your Fabric release (or uses the
    /// network that --config or the identity flags name), deploys the chaincode once, then builds,
    /// serves and watches. Ctrl-C stops the server and the network (--keep keeps the network's state
    /// for the next run).
    #[command(after_help = DEV_EXAMPLES)]
    Dev(Box<DevArgs>),
    /// Print the functions a callgrind profile (`valgrind --tool=callgrind --demangle=no`) saw
    /// run, as build-static's hot-code list spells them (bench/hot-functions.sh uses it).
    #[command(hide = true)]
    HotFunctions(HotFunctions),
}

/// The network, identity and channel: the flags of the commands that talk to a Fabric network,
/// before or after the subcommand (after it wins).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Fabric network and identity")]
pub struct ConnectionArgs {
    /// Network config: hlf-operator's (kubectl hlf inspect + adduser) or a connection profile.
    /// With it, the peer CLI's CORE_PEER_* and ORDERER_* variables are ignored (flags are not).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A user of the network config (with --config).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A peer by its name in the network config (repeatable; default: all of the org's).
    #[arg(long = "peer", value_name = "NAME")]
    pub peers: Vec<String>,
    /// MSP ID of the identity.
    #[arg(long, visible_alias = "mspid", env = "CORE_PEER_LOCALMSPID", value_name = "MSPID")]
    pub msp_id: Option<String>,
    /// MSP folder of the identity (signcerts/, keystore/).
    #[arg(long, env = "CORE_PEER_MSPCONFIGPATH", value_name = "DIR")]
    pub msp_dir: Option<PathBuf>,
    /// PEM certificate of the identity (with --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key of the identity (with --cert).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Peer address without a network config (repeatable).
    #[arg(long = "peer-address", env = "CORE_PEER_ADDRESS", value_name = "HOST:PORT", value_delimiter = ',')]
    pub peer_addresses: Vec<String>,
    /// TLS CA of the peers (without it they are dialled in plaintext).
    #[arg(long, env = "CORE_PEER_TLS_ROOTCERT_FILE", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// Whether the peers use TLS (the peer CLI's switch); false dials them in plaintext.
    #[arg(
        long,
        env = "CORE_PEER_TLS_ENABLED",
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub tls_enabled: Option<bool>,
    /// Host name to verify in the peers' TLS certificates instead of the address's.
    #[arg(long, env = "CORE_PEER_TLS_SERVERHOSTOVERRIDE", value_name = "NAME")]
    pub tls_hostname: Option<String>,
    /// TLS client certificate (PEM), for peers that require mutual TLS [default: the network
    /// config's client.tlsCerts.client].
    #[arg(long, env = "CORE_PEER_TLS_CLIENTCERT_FILE", value_name = "FILE")]
    pub tls_client_cert: Option<PathBuf>,
    /// TLS client key (PEM: PKCS#8, ECDSA or Ed25519).
    #[arg(long, env = "CORE_PEER_TLS_CLIENTKEY_FILE", value_name = "FILE")]
    pub tls_client_key: Option<PathBuf>,
    /// Whether to present the TLS client certificate (the peer CLI's switch): false presents
    /// none; true requires one.
    #[arg(
        long,
        env = "CORE_PEER_TLS_CLIENTAUTHREQUIRED",
        value_name = "BOOL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub tls_client_auth_required: Option<bool>,
    /// Orderer address (only for --via-orderer without a network config).
    #[arg(long, env = "ORDERER_ADDRESS", value_name = "HOST:PORT")]
    pub orderer_address: Option<String>,
    /// Orderer TLS CA.
    #[arg(long, env = "ORDERER_CA", value_name = "FILE")]
    pub orderer_ca: Option<PathBuf>,
    /// Host name to verify in the orderer's TLS certificate.
    #[arg(long, env = "ORDERER_TLS_HOSTNAME", value_name = "NAME")]
    pub orderer_tls_hostname: Option<String>,
    /// Channel [default: the network config's only channel, else mychannel].
    #[arg(long, short = 'C', env = "CHANNEL_NAME", value_name = "NAME")]
    pub channel: Option<String>,
    /// Send approve and commit transactions to the orderer with the configured peers'
    /// endorsements, instead of through the first peer's Gateway.
    #[arg(long)]
    pub via_orderer: bool,
}

impl Command {
    /// The connection flags after the subcommand, for the commands that talk to a Fabric network.
    pub fn connection(&self) -> Option<&ConnectionArgs> {
        match self {
            Command::Install(a) => Some(&a.connection),
            Command::Installed(a) => Some(&a.connection),
            Command::Approved(a) => Some(&a.connection),
            Command::Committed(a) => Some(&a.connection),
            Command::Readiness(a) | Command::Commit(a) => Some(&a.connection),
            Command::Approve(a) => Some(&a.connection),
            Command::Lifecycle(a) => Some(&a.connection),
            Command::Status(a) => Some(&a.connection),
            Command::Invoke(a) | Command::Query(a) => Some(&a.connection),
            Command::Up(a) => Some(&a.connection),
            Command::Down(a) => Some(&a.connection),
            Command::Dev(a) => Some(&a.connection),
            Command::Render(_)
            | Command::Apply(_)
            | Command::Image(_)
            | Command::BuildStatic(_)
            | Command::New(_)
            | Command::HotFunctions(_) => None,
        }
    }
}

impl ConnectionArgs {
    /// The flags given before the subcommand (`top`) and after it (`sub`), each with its
    /// matches: a flag typed after the subcommand wins, then one typed before it, then the
    /// environment or the default (the same on both). Also returns the IDs whose value came from
    /// the environment among [`ConnectionArgs::FROM_PEER_CLI_ENV`].
    pub fn merge(
        top: &ConnectionArgs,
        top_m: &clap::ArgMatches,
        sub: &ConnectionArgs,
        sub_m: &clap::ArgMatches,
    ) -> (ConnectionArgs, Vec<&'static str>) {
        use clap::parser::ValueSource::{CommandLine, EnvVariable};
        let mut out = sub.clone();
        let mut from_env = Vec::new();
        let typed_before =
            |id: &str| sub_m.value_source(id) != Some(CommandLine) && top_m.value_source(id) == Some(CommandLine);
        macro_rules! pick {
            ($($f:ident),*) => {$(
                if typed_before(stringify!($f)) {
                    out.$f = top.$f.clone();
                } else if sub_m.value_source(stringify!($f)) == Some(EnvVariable)
                    && Self::FROM_PEER_CLI_ENV.contains(&stringify!($f))
                {
                    from_env.push(stringify!($f));
                }
            )*};
        }
        pick!(
            config,
            user,
            peers,
            msp_id,
            msp_dir,
            cert,
            key,
            peer_addresses,
            tls_ca,
            tls_enabled,
            tls_hostname,
            tls_client_cert,
            tls_client_key,
            tls_client_auth_required,
            orderer_address,
            orderer_ca,
            orderer_tls_hostname,
            channel,
            via_orderer
        );
        (out, from_env)
    }

    /// The peer CLI's variables, by argument ID: with `--config`, those that came from the
    /// environment are ignored (a shell set up for one org must not override the file).
    pub const FROM_PEER_CLI_ENV: [&'static str; 12] = [
        "msp_id",
        "tls_enabled",
        "msp_dir",
        "peer_addresses",
        "tls_ca",
        "tls_hostname",
        "tls_client_cert",
        "tls_client_key",
        "tls_client_auth_required",
        "orderer_address",
        "orderer_ca",
        "orderer_tls_hostname",
    ];

    /// The arguments that name a network and an identity in it (all but the channel), by ID.
    pub const NAMING_A_NETWORK: [&'static str; 16] = [
        "config",
        "user",
        "peers",
        "msp_id",
        "msp_dir",
        "cert",
        "key",
        "peer_addresses",
        "tls_ca",
        "tls_enabled",
        "tls_hostname",
        "tls_client_cert",
        "tls_client_key",
        "orderer_address",
        "orderer_ca",
        "orderer_tls_hostname",
    ];

    /// The sources, leaving out the arguments whose IDs are in `drop`.
    pub fn sources(&self, drop: &[&str]) -> Sources {
        let mut s = self.all_sources();
        for id in drop {
            match *id {
                "msp_id" => s.msp_id = None,
                "msp_dir" => s.msp_dir = None,
                "peer_addresses" => s.peer_addresses.clear(),
                "tls_ca" => s.tls_ca = None,
                "tls_enabled" => s.tls_enabled = None,
                "tls_hostname" => s.tls_hostname = None,
                "tls_client_cert" => s.tls_client_cert = None,
                "tls_client_key" => s.tls_client_key = None,
                "tls_client_auth_required" => s.tls_client_auth_required = None,
                "orderer_address" => s.orderer_address = None,
                "orderer_ca" => s.orderer_ca = None,
                "orderer_tls_hostname" => s.orderer_tls_hostname = None,
                _ => {}
            }
        }
        s
    }

    fn all_sources(&self) -> Sources {
        Sources {
            config: self.config.clone(),
            user: self.user.clone(),
            peer_names: self.peers.clone(),
            msp_id: self.msp_id.clone(),
            msp_dir: self.msp_dir.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            peer_addresses: self.peer_addresses.clone(),
            tls_ca: self.tls_ca.clone(),
            tls_enabled: self.tls_enabled,
            tls_hostname: self.tls_hostname.clone(),
            tls_client_auth_required: self.tls_client_auth_required,
            tls_client_cert: self.tls_client_cert.clone(),
            tls_client_key: self.tls_client_key.clone(),
            orderer_address: self.orderer_address.clone(),
            orderer_ca: self.orderer_ca.clone(),
            orderer_tls_hostname: self.orderer_tls_hostname.clone(),
            channel: self.channel.clone(),
        }
    }
}

/// A package: a file, or a label and address for the packager library to build.
#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Package file (.tar.gz).
    #[arg(value_name = "PACKAGE", conflicts_with_all = ["label", "address"])]
    pub file: Option<PathBuf>,
    /// Build the package: its label.
    #[arg(long, requires = "address")]
    pub label: Option<String>,
    /// Build the package: the chaincode server address the peers dial.
    #[arg(long, requires = "label", value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Build the package: the dial timeout.
    #[arg(long, default_value = ccaas_package::DEFAULT_DIAL_TIMEOUT, value_name = "DURATION")]
    pub dial_timeout: String,
}

pub struct LoadedPackage {
    pub bytes: Vec<u8>,
    pub package_id: String,
}

impl PackageArgs {
    pub fn is_given(&self) -> bool {
        self.file.is_some() || self.label.is_some()
    }

    pub fn load(&self) -> Result<LoadedPackage, Error> {
        match (&self.file, &self.label, &self.address) {
            (Some(f), _, _) => {
                let bytes =
                    std::fs::read(f).map_err(|e| Error::Config(format!("cannot read package {}: {e}", f.display())))?;
                // Parsed as the peer does; a gzip bomb is refused at ccaas_package::MAX_DECOMPRESSED.
                let package_id = package_id(&bytes)
                    .map_err(|e| Error::Config(format!("{} is not a usable chaincode package: {e}", f.display())))?;
                Ok(LoadedPackage { bytes, package_id })
            }
            (None, Some(label), Some(address)) => {
                let spec = PackageSpec::ccaas(
                    label.clone(),
                    ConnectionSpec::new(address.clone()).dial_timeout(self.dial_timeout.clone()),
                );
                let built = build_package(&spec)?;
                Ok(LoadedPackage { bytes: built.bytes, package_id: built.package_id })
            }
            _ => Err(Error::Config("no package: give a package file, or --label and --address".into())),
        }
    }
}

/// A chaincode definition.
#[derive(Args, Debug)]
pub struct DefinitionArgs {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Chaincode version.
    #[arg(long, short = 'v')]
    pub version: String,
    /// Endorsement policy in the signature-policy language, e.g. "OR('Org1MSP.peer','Org2MSP.peer')".
    #[arg(long, visible_alias = "policy", conflicts_with = "channel_config_policy")]
    pub signature_policy: Option<String>,
    /// Endorsement policy as a channel config policy reference [default: /Channel/Application/Endorsement].
    #[arg(long)]
    pub channel_config_policy: Option<String>,
    /// Private data collections, in the peer CLI's JSON format.
    #[arg(long, value_name = "FILE")]
    pub collections_config: Option<PathBuf>,
    /// The chaincode's Init must be invoked before other transactions.
    #[arg(long)]
    pub init_required: bool,
}

impl DefinitionArgs {
    pub fn definition(&self) -> Result<Definition, Error> {
        let mut d = Definition::new(&self.name, &self.version);
        if let Some(p) = &self.signature_policy {
            d = d.signature_policy(p).map_err(Error::Config)?;
        }
        if let Some(r) = &self.channel_config_policy {
            d = d.channel_config_policy(r);
        }
        if let Some(f) = &self.collections_config {
            let json = ccaas_deploy::limits::read_config("collections config", f)?;
            d = d.collections_json(&json).map_err(|e| Error::Config(format!("{}: {e}", f.display())))?;
        }
        d.init_required = self.init_required;
        Ok(d)
    }
}

#[derive(Args, Debug)]
pub struct Installed {
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct PackageOnly {
    #[command(flatten)]
    pub package: PackageArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct NameOnly {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Approved {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Sequence [default: the latest approved].
    #[arg(long)]
    pub sequence: Option<i64>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct WithSequence {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    /// Sequence.
    #[arg(long)]
    pub sequence: i64,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Approve {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    /// Sequence.
    #[arg(long)]
    pub sequence: i64,
    /// The package ID the organization's peers run.
    #[arg(long, conflicts_with_all = ["file", "label"])]
    pub package_id: Option<String>,
    #[command(flatten)]
    pub package: PackageArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct Lifecycle {
    #[command(flatten)]
    pub definition: DefinitionArgs,
    #[command(flatten)]
    pub package: PackageArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: check every local input (definition, policy, package, identity, network
    /// config) without the network, print what the plan would be made for, and stop.
    #[arg(long, requires = "plan")]
    pub offline: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

const STATUS_HELP: &str = "Drift (exit 7), each with what to run: a package the organization approved (at the committed
or the next sequence) that one of its peers does not have; pods serving a package it does not
approve at the committed sequence (or one approved at the next sequence, waiting for the commit);
a Deployment with no ready pod, or none for the approved package; an approved package whose
address (connection.json) is not a Service of the chaincode (name, name.namespace or
name.namespace.svc[.domain], with the Service's port).

Kubernetes: the Deployments, pods and Services labelled app.kubernetes.io/name=<name> and
app.kubernetes.io/managed-by=ccaas-deploy in the namespace (--namespace, or kubernetes.namespace
of -f, else default), read with --kubeconfig, kubernetes.kubeconfig of -f, $KUBECONFIG or
~/.kube/config.

Examples:
  ccaas-deploy status -n basic
  ccaas-deploy status -f ccaas-deploy.yaml --output json
  ccaas-deploy status -n basic --namespace fabric";

/// `status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Chaincode name [default: chaincode.name of --file].
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    /// An up config file (ccaas-deploy.yaml): the chaincode's name, its Kubernetes settings and
    /// the fabric section, as `up` reads them; turns on the Kubernetes view.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Namespace of the chaincode's servers; turns on the Kubernetes view.
    #[arg(long)]
    pub namespace: Option<String>,
    /// kubeconfig file; turns on the Kubernetes view.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

const DEV_EXAMPLES: &str = r#"Examples:
  ccaas-deploy dev --fabric ~/fabric                 # in a chaincode crate; ~/fabric holds bin/ and config/
  ccaas-deploy dev -p asset-transfer-basic -n basic --keep --orgs 2
  ccaas-deploy dev --config org1.yaml --user admin   # your own network instead of a local one

The definition is the chaincode section of ccaas-deploy.yaml (beside the package's Cargo.toml, or -f),
with the flags below taking precedence; a change to it while dev runs (or in the flags of the next run)
is approved and committed at the next sequence. The local network's state is in target/ccaas-dev/
(--state): its logs, and org1.env (org2.env, ...) to source for the peer CLI and ccaas-deploy."#;

const CALL_EXAMPLES: &str = r#"Examples:
  ccaas-deploy query -n basic ReadAsset asset1
  ccaas-deploy query -n basic -c '{"Args":["ReadAsset","asset1"]}' --output json
  ccaas-deploy invoke -n basic CreateAsset asset7 blue 5 Tom 300
  ccaas-deploy invoke -n private -c '{"function":"CreateAsset","Args":[]}' \
      --transient 'asset_properties={"objectType":"asset","assetID":"a1","color":"blue","size":5,"appraisedValue":300}'

Output: the chaincode's answer as it is (a newline is added only on a terminal), or with --output json
{"tx_id", "payload", "payload_encoding": "utf-8"|"base64"} and, for invoke, "block" and "status" (the
validation code, e.g. VALID or MVCC_READ_CONFLICT)."#;

/// A chaincode call (`invoke`, `query`).
#[derive(Args, Debug)]
pub struct CallArgs {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// The function and its arguments in the peer CLI's JSON: '{"Args":["ReadAsset","asset1"]}' or
    /// '{"function":"ReadAsset","Args":["asset1"]}'.
    #[arg(long, short = 'c', value_name = "JSON", conflicts_with = "args")]
    pub ctor: Option<String>,
    /// The function, then its arguments (instead of -c); put them after `--` if one starts with '-'.
    #[arg(value_name = "FUNCTION [ARG]", allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// Transient data (repeatable), given to the endorsing chaincode and never stored on the
    /// ledger: KEY=VALUE (the value as it is), or the peer CLI's JSON of base64 values,
    /// '{"KEY":"BASE64",...}'.
    #[arg(long, value_name = "KEY=VALUE|JSON")]
    pub transient: Vec<String>,
    /// An organization whose peers endorse (invoke) or may answer (query); repeatable. Without it
    /// the Gateway chooses, except that with --peer naming peers of several organizations, those
    /// organizations endorse (as the peer CLI's --peerAddresses).
    #[arg(long = "endorsing-org", value_name = "MSPID")]
    pub endorsing_orgs: Vec<String>,
    /// The call is the chaincode's Init (invoke, for a definition with --init-required).
    #[arg(long, short = 'I', visible_alias = "isInit")]
    pub is_init: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl CallArgs {
    /// The call, checked before anything is dialled.
    pub fn call(&self) -> Result<ccaas_deploy::invoke::Call, Error> {
        let args = match &self.ctor {
            Some(json) => ccaas_deploy::invoke::parse_ctor(json)?,
            None if self.args.is_empty() => {
                return Err(Error::Config(format!(
                    "no function: give it and its arguments after the flags (-n {} ReadAsset asset1), or as the \
                     peer CLI does (-c '{{\"Args\":[\"ReadAsset\",\"asset1\"]}}')",
                    self.name
                )))
            }
            None => self.args.iter().map(|a| a.clone().into_bytes()).collect(),
        };
        Ok(ccaas_deploy::invoke::Call {
            chaincode: self.name.clone(),
            invocation: ccaas_deploy::proposal::Invocation {
                args,
                transient: ccaas_deploy::invoke::parse_transient(&self.transient)?,
                is_init: self.is_init,
            },
            orgs: self.endorsing_orgs.clone(),
        })
    }
}

/// `dev`.
#[derive(Args, Debug)]
pub struct DevArgs {
    /// An existing network to use instead of a local one (any of these flags names one).
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The workspace package whose binary is the chaincode server (cargo -p) [default: the package
    /// of the current directory].
    #[arg(long, short = 'p', value_name = "PACKAGE")]
    pub package: Option<String>,
    /// The package's binary, when it has several.
    #[arg(long, value_name = "NAME")]
    pub bin: Option<String>,
    /// Cargo.toml to start from [default: cargo's search from the current directory].
    #[arg(long, value_name = "FILE")]
    pub manifest_path: Option<PathBuf>,
    /// Build with --release.
    #[arg(long)]
    pub release: bool,
    /// The up file whose chaincode section is the definition [default: ccaas-deploy.yaml beside the
    /// package's Cargo.toml, if there].
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Chaincode name [default: the file's chaincode.name, else the package's name].
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    /// Chaincode version [default: the file's chaincode.version, else 1.0].
    #[arg(long = "cc-version", short = 'v', value_name = "VERSION")]
    pub version: Option<String>,
    /// Endorsement policy in the signature-policy language [default: the file's, else the channel's].
    #[arg(long, visible_alias = "policy", conflicts_with = "channel_config_policy")]
    pub signature_policy: Option<String>,
    /// Endorsement policy as a channel config policy reference.
    #[arg(long)]
    pub channel_config_policy: Option<String>,
    /// Private data collections, in the peer CLI's JSON format [default: the file's].
    #[arg(long, value_name = "FILE")]
    pub collections_config: Option<PathBuf>,
    /// The chaincode's Init must be invoked before other transactions.
    #[arg(long)]
    pub init_required: bool,
    /// The address the peers dial, in the package's connection.json [default: 127.0.0.1 and a
    /// port kept in the state directory]; the server listens on its port.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// A Fabric release: the folder with bin/ (peer, orderer, osnadmin, configtxgen, cryptogen),
    /// config/ and builders/ccaas/ [default: $FABRIC_BIN/.., else the release of the `peer` on PATH].
    #[arg(long, value_name = "DIR")]
    pub fabric: Option<PathBuf>,
    /// Organizations of the local network, one peer each.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3))]
    pub orgs: u32,
    /// The local network's state (crypto material, ledgers, logs) [default: target/ccaas-dev].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// First of the 16 ports the local network uses on 127.0.0.1 [default: a free range from
    /// 20000, kept in the state directory].
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1024..=65519))]
    pub port_base: Option<u16>,
    /// Keep the local network's state when stopping: the next run starts it again, with its
    /// ledger, in seconds.
    #[arg(long)]
    pub keep: bool,
    /// Start a new local network even if one was kept.
    #[arg(long)]
    pub fresh: bool,
}

/// `KEY=VALUE`.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

/// What to render for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetArg {
    /// Deployment, Service and TLS Secret.
    Kubernetes,
    /// An hlf-operator FabricChaincode (hlf.kungfusoftware.es/v1alpha1).
    HlfOperator,
}

impl From<TargetArg> for ccaas_deploy::render::RenderTarget {
    fn from(t: TargetArg) -> Self {
        match t {
            TargetArg::Kubernetes => Self::Kubernetes,
            TargetArg::HlfOperator => Self::HlfOperator,
        }
    }
}

/// The chaincode server workload (the same meaning for every target).
#[derive(Args, Debug)]
pub struct WorkloadArgs {
    /// Name of the Deployment and Service (a DNS-1035 label).
    #[arg(long, short = 'n')]
    pub name: String,
    /// Kubernetes namespace.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Image reference (registry/repo:tag).
    #[arg(long)]
    pub image: String,
    /// The image's digest (sha256:...): the pods then run image@digest.
    #[arg(long)]
    pub digest: Option<String>,
    /// The package ID the servers answer to (or give the package).
    #[arg(long, conflicts_with_all = ["file", "label"])]
    pub package_id: Option<String>,
    #[command(flatten)]
    pub package: PackageArgs,
    /// Replicas of each Deployment.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Chaincode server port (container and Service).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_PORT)]
    pub port: u16,
    /// Serve Prometheus metrics on this port: sets CHAINCODE_METRICS_ADDRESS, adds the container and
    /// Service port `metrics` and the prometheus.io/scrape, port and path annotations. The chaincode
    /// must be built with the shim's `metrics` feature [default: no metrics].
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// More environment variables (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,
    /// Resource request, e.g. cpu=100m (repeatable).
    #[arg(long = "request", value_name = "RESOURCE=QUANTITY", value_parser = key_value)]
    pub requests: Vec<(String, String)>,
    /// Resource limit, e.g. memory=128Mi (repeatable).
    #[arg(long = "limit", value_name = "RESOURCE=QUANTITY", value_parser = key_value)]
    pub limits: Vec<(String, String)>,
    /// Image pull Secret (repeatable).
    #[arg(long = "image-pull-secret", value_name = "NAME")]
    pub image_pull_secrets: Vec<String>,
    /// Node selector label (repeatable).
    #[arg(long = "node-selector", value_name = "KEY=VALUE", value_parser = key_value)]
    pub node_selector: Vec<(String, String)>,
    /// Toleration in kubectl taint syntax: key=value:Effect, key:Effect or key (repeatable).
    #[arg(long = "toleration", value_name = "TAINT")]
    pub tolerations: Vec<ccaas_deploy::render::Toleration>,
    /// TLS server certificate (PEM); rendered into the Secret <server>-tls.
    #[arg(long, requires = "tls_key", conflicts_with = "tls_secret")]
    pub tls_cert: Option<PathBuf>,
    /// TLS server key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA of the peers' client certificates (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// An existing Secret with tls.crt and tls.key (and ca.crt with --tls-client-auth).
    #[arg(long, value_name = "NAME")]
    pub tls_secret: Option<String>,
    /// The --tls-secret has ca.crt: the peers must present client certificates.
    #[arg(long, requires = "tls_secret")]
    pub tls_client_auth: bool,
    /// Numeric user and group of the container (not 0).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_USER)]
    pub uid: u32,
    /// One Deployment and Service per peer, named by the address template with the peer's name
    /// for {{.peername}} (comma-separated or repeated).
    #[arg(long, value_name = "PEERNAME", value_delimiter = ',')]
    pub per_peer: Vec<String>,
    /// The package's address template, e.g. '{{.peername}}-asset:7052' [default: --address].
    #[arg(long, value_name = "HOST:PORT")]
    pub address_template: Option<String>,
    /// Seconds a rollout may make no progress before it fails (the Deployments'
    /// progressDeadlineSeconds).
    #[arg(long, value_name = "SECONDS", default_value_t = ccaas_deploy::render::DEFAULT_PROGRESS_DEADLINE)]
    pub progress_deadline: u32,
    /// The package's address is served elsewhere (another Service, an ingress, a server outside
    /// Kubernetes): do not require it to be the Service rendered here (same name and port in the
    /// same namespace, or name.namespace.svc[.cluster.local]).
    #[arg(long)]
    pub external_address: bool,
}

impl WorkloadArgs {
    pub fn workload(&self) -> Result<ccaas_deploy::render::Workload, Error> {
        use ccaas_deploy::render::{Resources, Tls, Workload};
        let (package_id, address) = match &self.package_id {
            Some(id) => (id.clone(), None),
            None if self.package.is_given() => {
                let p = self.package.load()?;
                let address = match &self.package.address {
                    Some(a) => Some(a.clone()),
                    None => ccaas_package::inspect(&p.bytes).ok().and_then(|r| r.connection).map(|c| c.address),
                };
                (p.package_id, address)
            }
            None => {
                return Err(Error::Config(
                    "no package ID: give --package-id, a package file, or --label and --address".into(),
                ))
            }
        };
        let tls = match (&self.tls_cert, &self.tls_key, &self.tls_secret) {
            (Some(cert), Some(key), _) => {
                Some(Tls::Files { cert: cert.clone(), key: key.clone(), client_ca: self.tls_client_ca.clone() })
            }
            (_, _, Some(name)) => Some(Tls::Secret { name: name.clone(), client_auth: self.tls_client_auth }),
            _ => None,
        };
        let mut w = Workload::new(&self.name, &self.image, package_id);
        w.namespace = self.namespace.clone();
        w.digest = self.digest.clone();
        w.replicas = self.replicas;
        w.port = self.port;
        w.metrics_port = self.metrics_port;
        w.env = self.env.iter().cloned().collect();
        w.resources = Resources {
            requests: self.requests.iter().cloned().collect(),
            limits: self.limits.iter().cloned().collect(),
        };
        w.image_pull_secrets = self.image_pull_secrets.clone();
        w.node_selector = self.node_selector.iter().cloned().collect();
        w.tolerations = self.tolerations.clone();
        w.tls = tls;
        w.user = self.uid;
        w.per_peer = self.per_peer.clone();
        // The package's address names the per-peer servers; without them it is only checked.
        w.address_template = self
            .address_template
            .clone()
            .or_else(|| self.package.address.clone().filter(|_| !self.per_peer.is_empty()));
        w.progress_deadline_seconds = self.progress_deadline;
        // The package's address (or, with --package-id, the address template) must be the
        // Service rendered here, unless it is served elsewhere.
        if let Some(address) = address.or_else(|| w.address_template.clone()).filter(|_| !self.external_address) {
            ccaas_deploy::render::check_address(&w, &address, "--external-address")?;
        }
        Ok(w)
    }
}

#[derive(Args, Debug)]
pub struct Render {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// What to render.
    #[arg(long, value_enum, default_value_t = TargetArg::Kubernetes)]
    pub target: TargetArg,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The config file.
    #[arg(long, short = 'f', default_value = "ccaas-deploy.yaml", value_name = "FILE")]
    pub file: PathBuf,
    /// Override image.binary.
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// Override image.reference.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// Override chaincode.version.
    #[arg(long = "cc-version", value_name = "VERSION")]
    pub cc_version: Option<String>,
    /// Override chaincode.address.
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Override kubernetes.namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// The package's address is served elsewhere, not by the Service up renders (as
    /// chaincode.external_address: true).
    #[arg(long)]
    pub external_address: bool,
    /// Override kubernetes.target: Deployments and Services, or an hlf-operator FabricChaincode.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub token_hosts: TokenHostArgs,
    /// Check the file and every local input (binary, package, definition, TLS files, identity,
    /// network config, kubeconfig, registry credentials) without the network, print what `up`
    /// would deploy, and stop.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl UpArgs {
    /// The file with the flags applied.
    pub fn config(&self) -> Result<ccaas_deploy::up::UpConfig, Error> {
        let mut c = ccaas_deploy::up::UpConfig::load(&self.file)?;
        if let Some(b) = &self.binary {
            c.image.binary = Some(b.clone());
        }
        if let Some(i) = &self.image {
            c.image.reference = i.clone();
        }
        if let Some(v) = &self.cc_version {
            c.chaincode.version = v.clone();
        }
        if let Some(a) = &self.address {
            c.chaincode.address = a.clone();
        }
        if let Some(n) = &self.namespace {
            c.kubernetes.namespace = Some(n.clone());
        }
        if self.external_address {
            c.chaincode.external_address = true;
        }
        if let Some(k) = &self.cluster.kubeconfig {
            c.kubernetes.kubeconfig = Some(k.clone());
        }
        if let Some(t) = self.target {
            c.kubernetes.target = Some(t.into());
        }
        ccaas_deploy::hlf::check_config(&c)?;
        // The package's address must be the Service up renders, unless it is served elsewhere:
        // checked before anything is done.
        if !c.chaincode.external_address {
            let w = c.workload(&c.package()?.package_id, None);
            ccaas_deploy::render::check_address(
                &w,
                &c.chaincode.address,
                "--external-address (chaincode.external_address: true in the up file)",
            )?;
        }
        Ok(c)
    }
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The config file.
    #[arg(long, short = 'f', default_value = "ccaas-deploy.yaml", value_name = "FILE")]
    pub file: PathBuf,
    /// Override kubernetes.namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// kubeconfig file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Override kubernetes.target: what up rolled out.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    /// Also delete objects of the same name that ccaas-deploy did not make (not labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy). Without it they are left in place, each named
    /// in a warning and in the result ("left" with --output json), and the exit code is 0:
    /// nothing of ccaas-deploy's remains.
    #[arg(long)]
    pub force_conflicts: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl DownArgs {
    /// The file with the flags applied.
    pub fn config(&self) -> Result<ccaas_deploy::up::UpConfig, Error> {
        let mut c = ccaas_deploy::up::UpConfig::load(&self.file)?;
        if let Some(n) = &self.namespace {
            c.kubernetes.namespace = Some(n.clone());
        }
        if let Some(k) = &self.kubeconfig {
            c.kubernetes.kubeconfig = Some(k.clone());
        }
        if let Some(t) = self.target {
            c.kubernetes.target = Some(t.into());
        }
        Ok(c)
    }
}

#[derive(Args, Debug)]
pub struct Apply {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// What to apply.
    #[arg(long, value_enum, default_value_t = TargetArg::Kubernetes)]
    pub target: TargetArg,
    /// Print the manifests as YAML (or JSON with --output json) and change nothing; needs no cluster.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Apply and return without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
}

/// Which cluster.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// kubeconfig file [default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Take over objects of the same name that ccaas-deploy did not make (not labelled
    /// app.kubernetes.io/managed-by: ccaas-deploy), e.g. a <name>-tls Secret of cert-manager.
    /// Without it, if one exists, the command changes nothing (up: not even the image or Fabric)
    /// and its error names each object, its owner and what to do (exit 2).
    #[arg(long)]
    pub force_conflicts: bool,
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// The chaincode server binary, the entrypoint (static, or dynamically linked: its libraries
    /// are copied in).
    #[arg(value_name = "BINARY")]
    pub binary: PathBuf,
    /// Path of the binary in the image, and the entrypoint [default: /usr/local/bin/<name>].
    #[arg(long, value_name = "PATH")]
    pub entrypoint: Option<String>,
    /// Exposed port and the CHAINCODE_SERVER_ADDRESS default (0.0.0.0:PORT).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_PORT)]
    pub port: u16,
    /// No exposed port and no CHAINCODE_SERVER_ADDRESS: an image that serves nothing (tools).
    #[arg(long, conflicts_with = "port")]
    pub no_port: bool,
    /// Another binary, at /usr/local/bin/<name> beside the entrypoint (repeatable); `podman run
    /// --entrypoint /usr/local/bin/<name>` runs it.
    #[arg(long = "add-binary", value_name = "FILE")]
    pub add_binaries: Vec<PathBuf>,
    /// Numeric user and group (not 0).
    #[arg(long, default_value_t = ccaas_deploy::render::DEFAULT_USER)]
    pub uid: u32,
    /// More environment defaults (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,
    /// Reference recorded in the archives (docker-archive tag, OCI ref.name) [default: <name>:latest].
    #[arg(long, value_name = "REF")]
    pub tag: Option<String>,
    /// Write an OCI image layout directory.
    #[arg(long, value_name = "DIR")]
    pub oci_layout: Option<PathBuf>,
    /// Write an OCI layout as one tar (skopeo's oci-archive:).
    #[arg(long, value_name = "FILE")]
    pub oci_archive: Option<PathBuf>,
    /// Write a docker-archive tar (podman load -i FILE, docker load).
    #[arg(long, value_name = "FILE")]
    pub docker_archive: Option<PathBuf>,
    #[command(flatten)]
    pub push: PushArgs,
}

/// Pushing to a registry.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// Push to this reference (registry-host[:port]/repository:tag) with the registry HTTP API.
    #[arg(long, value_name = "REF")]
    pub push: Option<String>,
    /// The registry speaks plain HTTP (e.g. a registry on loopback).
    #[arg(long, requires = "push")]
    pub insecure: bool,
    /// Registry user (Basic, or to get a Bearer token); the password comes from
    /// CCAAS_REGISTRY_PASSWORD or --registry-password-stdin. Sent only to the --push registry
    /// (and CCAAS_REGISTRY_HOST, when set, must be that registry). Without it, the entry of
    /// `podman login`/`docker login`'s auth file for the registry's host is used.
    #[arg(long, env = "CCAAS_REGISTRY_USER", value_name = "USER")]
    pub registry_user: Option<String>,
    /// Read the registry password from the first line of stdin.
    #[arg(long, requires = "registry_user")]
    pub registry_password_stdin: bool,
    /// An extra CA (PEM) to verify an HTTPS registry with, besides the system's.
    #[arg(long, env = "CCAAS_REGISTRY_CA", value_name = "FILE")]
    pub registry_ca: Option<PathBuf>,
    #[command(flatten)]
    pub token_hosts: TokenHostArgs,
}

/// Token services on other hosts.
#[derive(Args, Debug)]
pub struct TokenHostArgs {
    /// A token service on another host than the registry's that may get the registry
    /// credentials to issue a Bearer token: the host of the registry challenge's realm, e.g.
    /// gitlab.example.com for a self-hosted GitLab's registry.example.com; repeatable. Docker
    /// Hub's and GitLab.com's need none.
    #[arg(
        long = "registry-token-host",
        env = "CCAAS_REGISTRY_TOKEN_HOSTS",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    pub registry_token_hosts: Vec<String>,
}

/// The registry password from CCAAS_REGISTRY_PASSWORD, or stdin's first line.
fn registry_password(user: &str, stdin: bool) -> Result<String, Error> {
    use ccaas_deploy::registry_auth::PASSWORD_VAR;
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::Config(format!("cannot read the registry password from stdin: {e}")))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    std::env::var(PASSWORD_VAR).map_err(|_| {
        Error::Config(format!(
            "registry user {user} has no password: set {PASSWORD_VAR} (image --push also reads it from stdin \
             with --registry-password-stdin)"
        ))
    })
}

/// The credentials for pushing to `reference`: the given user (`--registry-user` or
/// CCAAS_REGISTRY_USER) bound by CCAAS_REGISTRY_HOST or, without it, to a reference given on
/// the command line; else the auth files' entry for its host (see ccaas_deploy::registry_auth).
pub fn push_options(
    reference: &ccaas_deploy::registry::Reference,
    user: Option<&str>,
    password_stdin: bool,
    reference_on_command_line: bool,
    insecure: bool,
    ca: Option<PathBuf>,
    token_hosts: &TokenHostArgs,
) -> Result<ccaas_deploy::registry::PushOptions, Error> {
    use ccaas_deploy::registry::Credentials;
    use ccaas_deploy::registry_auth::{self, Given, HOST_VAR};
    let given = match user.filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(Given {
            credentials: Credentials { user: u.to_string(), password: registry_password(u, password_stdin)? },
            host: std::env::var(HOST_VAR).ok(),
            reference_on_command_line,
        }),
    };
    let credentials = registry_auth::resolve(reference, given, &registry_auth::auth_files())?;
    Ok(ccaas_deploy::registry::PushOptions {
        insecure,
        credentials,
        ca,
        token_hosts: token_hosts.registry_token_hosts.clone(),
    })
}

impl PushArgs {
    /// The options for pushing to `reference` (the --push reference).
    pub fn options(
        &self,
        reference: &ccaas_deploy::registry::Reference,
    ) -> Result<ccaas_deploy::registry::PushOptions, Error> {
        push_options(
            reference,
            self.registry_user.as_deref(),
            self.registry_password_stdin,
            true,
            self.insecure,
            self.registry_ca.clone(),
            &self.token_hosts,
        )
    }
}

#[derive(Args, Debug)]
pub struct BuildStatic {
    /// The workspace package whose binary to build (cargo -p).
    #[arg(long, short = 'p', value_name = "PACKAGE")]
    pub package: String,
    /// Cargo.toml of the workspace [default: cargo's search from the current directory].
    #[arg(long, value_name = "FILE")]
    pub manifest_path: Option<PathBuf>,
    /// Cargo features to build with, as for cargo --features (e.g. `ccaas-shim/metrics`).
    #[arg(long, value_name = "FEATURES")]
    pub features: Option<String>,
    /// Link the functions in their default places (build-static otherwise puts the functions a
    /// chaincode server runs next to each other, with the linker's --symbol-ordering-file).
    #[arg(long)]
    pub no_layout: bool,
    /// The hot-function list to lay out [default: the shim's, built in; see bench/hot-functions.sh].
    #[arg(long, value_name = "FILE", conflicts_with = "no_layout")]
    pub hot_functions: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct HotFunctions {
    /// callgrind output files; the functions of each that the ones before it lacked follow theirs,
    /// so the code every server runs comes first (e.g. plaintext, then TLS).
    #[arg(required = true, value_name = "CALLGRIND_OUT")]
    pub profiles: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct New {
    /// The crate's name (lower-case ASCII letters, digits, '-' and '_'); its chaincode name is the
    /// same with '-' for '_'.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The directory to create (new or empty) [default: ./NAME].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Depend on the shim and the test kit of this fabric-ccaas checkout [default: the one this
    /// ccaas-deploy was built from].
    #[arg(long, value_name = "CHECKOUT", conflicts_with = "git")]
    pub path: Option<PathBuf>,
    /// Depend on them by git URL instead, at --tag or --rev.
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// The git tag (with --git).
    #[arg(long, requires = "git", conflicts_with = "rev")]
    pub tag: Option<String>,
    /// The git revision (with --git).
    #[arg(long, requires = "git")]
    pub rev: Option<String>,
}
