//! `dev`'s flags.

use std::path::PathBuf;

use clap::Args;

use crate::cli::connection::ConnectionArgs;

pub const DEV_EXAMPLES: &str = r#"Examples:
  ccaas-deploy dev --fabric ~/fabric                 # in a chaincode crate; ~/fabric holds bin/ and config/
  ccaas-deploy dev -p asset-transfer-basic -n basic --keep --orgs 2
  ccaas-deploy dev --config org1.yaml --user admin   # your own network instead of a local one

The definition is the chaincode section of ccaas-deploy.yaml (beside the package's Cargo.toml, or -f),
with the flags below taking precedence; a change to it while dev runs (or in the flags of the next run)
is approved and committed at the next sequence. The local network's state is in target/ccaas-dev/
(--state): its logs, and org1.env (org2.env, ...) to source for the peer CLI and ccaas-deploy."#;

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
