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
    let report = inspect(&read(&args.file)?).map_err(not_a_package(&args.file))?;
    print_warnings(&report.warnings);
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&report)?,
    }
    Ok(())
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
