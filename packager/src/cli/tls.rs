//! `ccaas-package tls`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub(super) struct TlsArgs {
    /// Host name or IP address of the chaincode server as peers dial it (repeatable); one
    /// SAN each, IP addresses as IP SANs.
    #[arg(long = "host", value_name = "HOST", required = true)]
    hosts: Vec<String>,

    /// Directory to write ca.pem, ca.key, server.pem, server.key, client.pem, client.key.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Validity in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: u32,

    /// Overwrite existing files.
    #[arg(long)]
    force: bool,

    /// Give server.pem and server.key to this user (and group, default the same number): the
    /// user the chaincode image runs as (65532 for `ccaas-deploy image`, see its --uid), so it
    /// reads the key (mode 0600) from a mount without a chmod. Needs root: sudo, or for rootless
    /// podman `podman unshare ccaas-package tls ... --owner 65532`.
    #[arg(long, value_name = "UID[:GID]", value_parser = owner)]
    owner: Option<(u32, u32)>,
}

/// `UID[:GID]`, numeric.
fn owner(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not UID[:GID] with numeric ids (e.g. 65532 or 65532:65532)");
    let (u, g) = s.split_once(':').unwrap_or((s, s));
    Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?))
}

pub(super) fn run(args: TlsArgs) -> anyhow::Result<()> {
    let material = ccaas_package::tls::generate(&args.hosts, args.days)?;
    let paths = material.write_to_dir_owned(&args.out, args.force, args.owner)?;
    for p in &paths {
        println!("{}", p.display());
    }
    let d = args.out.display();
    eprintln!(
        "chaincode server: CHAINCODE_TLS_CERT={d}/server.pem CHAINCODE_TLS_KEY={d}/server.key \
         CHAINCODE_CLIENT_CA_CERT={d}/ca.pem"
    );
    eprintln!(
        "package: ccaas-package build ... --tls-root-cert {d}/ca.pem --client-auth \
         --client-cert {d}/client.pem --client-key {d}/client.key"
    );
    Ok(())
}
