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
}

pub(super) fn run(args: TlsArgs) -> anyhow::Result<()> {
    let material = ccaas_package::tls::generate(&args.hosts, args.days)?;
    let paths = material.write_to_dir(&args.out, args.force)?;
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
