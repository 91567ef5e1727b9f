//! `ccaas-package build`.

use std::path::PathBuf;

use anyhow::Context;
use ccaas_package::{
    build_package, read_meta_inf_dir, write_package_atomically, ConnectionSpec, ImageJson, PackageSpec,
    DEFAULT_DIAL_TIMEOUT,
};
use clap::{Args, CommandFactory, ValueEnum};

use super::{print_warnings, read_text, Cli, OutputFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PackageType {
    /// Chaincode as a service (the ccaas builder bundled with the peer).
    Ccaas,
    /// fabric-builder-k8s (image by digest).
    K8s,
}

#[derive(Debug, Args)]
pub(super) struct BuildArgs {
    /// Package label (the first half of the package ID).
    #[arg(long)]
    label: String,

    /// Package type.
    #[arg(long = "type", value_enum, default_value_t = PackageType::Ccaas)]
    package_type: PackageType,

    /// Address the peer dials, HOST:PORT; may be a Go template such as {{.peername}}_cc:9999.
    #[arg(long, value_name = "HOST:PORT")]
    address: Option<String>,

    /// Dial timeout, a Go duration.
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_DIAL_TIMEOUT)]
    dial_timeout: String,

    /// PEM CA bundle that verifies the chaincode server's certificate; turns TLS on.
    #[arg(long, value_name = "FILE")]
    tls_root_cert: Option<PathBuf>,

    /// Peers authenticate to the chaincode server with --client-cert/--client-key (mTLS).
    #[arg(long)]
    client_auth: bool,

    /// PEM client certificate the peer presents.
    #[arg(long, value_name = "FILE", requires = "client_auth")]
    client_cert: Option<PathBuf>,

    /// PEM client private key (PKCS#8, SEC1 or PKCS#1).
    #[arg(long, value_name = "FILE", requires = "client_auth")]
    client_key: Option<PathBuf>,

    /// Check only (not packaged): the chaincode server's certificate must chain to
    /// --tls-root-cert and its SANs must cover the address host.
    #[arg(long, value_name = "FILE", requires = "tls_root_cert")]
    server_cert: Option<PathBuf>,

    /// Value of the connection.json `domain` field (see the warning it produces).
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,

    /// META-INF directory (or a directory containing META-INF) with CouchDB indexes.
    #[arg(long, value_name = "DIR")]
    meta_inf: Option<PathBuf>,

    /// Image for --type k8s, as NAME@sha256:DIGEST.
    #[arg(
        long,
        value_name = "NAME@sha256:DIGEST",
        required_if_eq("package_type", "k8s"),
        conflicts_with_all = ["address", "tls_root_cert", "client_auth", "server_cert", "domain"]
    )]
    image: Option<String>,

    /// Output file [default: <label>.tar.gz].
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,

    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
}

fn spec_from(args: &BuildArgs) -> anyhow::Result<PackageSpec> {
    let mut spec = match args.package_type {
        PackageType::K8s => {
            let image = args.image.as_deref().unwrap_or_default();
            PackageSpec::k8s(&args.label, ImageJson::parse_reference(image)?)
        }
        PackageType::Ccaas => {
            let address = args.address.clone().unwrap_or_default();
            let mut conn = ConnectionSpec::new(address).dial_timeout(&args.dial_timeout);
            if let Some(path) = &args.tls_root_cert {
                conn = conn.tls(read_text("--tls-root-cert", path)?);
            }
            if args.client_auth {
                conn.tls_required = true;
                conn.client_auth_required = true;
                if let Some(path) = &args.client_cert {
                    conn.client_cert = Some(read_text("--client-cert", path)?);
                }
                if let Some(path) = &args.client_key {
                    conn.client_key = Some(read_text("--client-key", path)?);
                }
            }
            if let Some(path) = &args.server_cert {
                conn = conn.check_server_cert(read_text("--server-cert", path)?);
            }
            if let Some(domain) = &args.domain {
                conn = conn.domain(domain);
            }
            PackageSpec::ccaas(&args.label, conn)
        }
    };
    if let Some(dir) = &args.meta_inf {
        spec = spec.with_meta_inf(read_meta_inf_dir(dir)?);
    }
    Ok(spec)
}

/// Cross-argument rules clap cannot express (a defaulted `--type`); exit 2 like clap.
fn check_usage(args: &BuildArgs) {
    let usage = |kind, msg: &str| {
        let mut cli = Cli::command();
        cli.build();
        let build = cli.find_subcommand_mut("build").expect("the build subcommand exists");
        build.error(kind, msg).exit()
    };
    if args.package_type == PackageType::Ccaas {
        if args.image.is_some() {
            usage(clap::error::ErrorKind::ArgumentConflict, "--image is only valid with --type k8s");
        }
        if args.address.is_none() {
            usage(
                clap::error::ErrorKind::MissingRequiredArgument,
                "--address <HOST:PORT> is required for a ccaas package",
            );
        }
    }
}

/// A TLS error names the connection.json field (`root_cert: ...`); on the command line that field
/// came from a file, so the error names the option and the file too.
fn name_the_file(error: ccaas_package::Error, args: &BuildArgs) -> anyhow::Error {
    let text = error.to_string();
    let files = [
        ("root_cert", "--tls-root-cert", &args.tls_root_cert),
        ("client_cert", "--client-cert", &args.client_cert),
        ("client_key", "--client-key", &args.client_key),
        ("server certificate", "--server-cert", &args.server_cert),
    ];
    for (field, flag, path) in files {
        if let (true, Some(path)) = (text.starts_with(&format!("{field}:")), path) {
            return anyhow::Error::new(error).context(format!("{flag} {}", path.display()));
        }
    }
    error.into()
}

pub(super) fn run(args: BuildArgs) -> anyhow::Result<()> {
    check_usage(&args);
    let spec = spec_from(&args)?;
    let built = build_package(&spec).map_err(|e| name_the_file(e, &args))?;
    print_warnings(&built.warnings);
    let path = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.tar.gz", args.label)));
    write_package_atomically(&path, &built).context("cannot write the package")?;
    eprintln!("wrote {} ({} bytes)", path.display(), built.bytes.len());
    match args.output {
        OutputFormat::Text => println!("{}", built.package_id),
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({
                "package_id": built.package_id,
                "label": built.label,
                "path": path.display().to_string(),
                "sha256": built.sha256,
            })
        ),
    }
    Ok(())
}
