//! `ccaas-package id` and `ccaas-package inspect`.

use std::path::PathBuf;

use ccaas_package::{inspect, package_id, InspectReport};
use clap::Args;

use super::{print_warnings, OutputFormat};

#[derive(Debug, Args)]
pub(super) struct IdArgs {
    /// Package file.
    file: PathBuf,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
}

#[derive(Debug, Args)]
pub(super) struct InspectArgs {
    /// Package file.
    file: PathBuf,
    /// Result format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    /// Print connection.json's client_key (the peer's TLS private key) instead of
    /// "<redacted: N bytes; --show-secrets prints it>".
    #[arg(long)]
    show_secrets: bool,
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// Names the file in a package error: `<file> is not a usable chaincode package: <cause>`.
fn not_a_package(path: &std::path::Path) -> impl FnOnce(ccaas_package::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{} is not a usable chaincode package: {e}", path.display())
}

pub(super) fn run_id(args: IdArgs) -> anyhow::Result<()> {
    let id = package_id(&read(&args.file)?).map_err(not_a_package(&args.file))?;
    match args.output {
        OutputFormat::Text => println!("{id}"),
        OutputFormat::Json => println!("{}", serde_json::json!({ "package_id": id })),
    }
    Ok(())
}

pub(super) fn run_inspect(args: InspectArgs) -> anyhow::Result<()> {
    let mut report = inspect(&read(&args.file)?).map_err(not_a_package(&args.file))?;
    print_warnings(&report.warnings);
    if !args.show_secrets {
        redact(&mut report);
    }
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&report)?,
    }
    Ok(())
}

/// Replaces the peer's TLS client key (a private key, out of place in terminals and CI logs) by
/// `<redacted: N bytes; --show-secrets prints it>`; an empty key stays empty. The field stays a
/// string, so the JSON keeps its shape.
fn redact(report: &mut InspectReport) {
    if let Some(conn) = report.connection.as_mut().filter(|c| !c.client_key.is_empty()) {
        conn.client_key = format!("<redacted: {} bytes; --show-secrets prints it>", conn.client_key.len());
    }
}

fn print_text(r: &InspectReport) -> anyhow::Result<()> {
    println!("package ID: {}", r.package_id);
    println!("sha256:     {}", r.sha256);
    println!("type:       {}", r.metadata.package_type);
    println!("label:      {}", r.metadata.label);
    println!("code.tar.gz:");
    for e in &r.code_entries {
        match e.kind {
            "dir" => println!("  {} (directory)", e.name),
            _ => println!("  {} ({} bytes)", e.name, e.size),
        }
    }
    if let Some(conn) = &r.connection {
        println!("connection.json:");
        println!("{}", serde_json::to_string_pretty(conn)?);
    }
    if let Some(image) = &r.image {
        println!("image.json:");
        println!("{}", serde_json::to_string_pretty(image)?);
    }
    println!("checks: ok ({} warning(s))", r.warnings.len());
    Ok(())
}
