//! The network, identity and channel flags. Each also reads the variable the `peer` CLI (or
//! fabric-samples' scripts) uses, so a shell set up for the test network needs no flags.

use std::path::PathBuf;

use ccaas_deploy::config::Sources;
use clap::Args;

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
