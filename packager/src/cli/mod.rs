//! Command-line definitions and dispatch.

mod build;
mod inspect;
mod tls;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Deterministic Hyperledger Fabric chaincode-as-a-service packages.
#[derive(Debug, Parser)]
#[command(name = "ccaas-package", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a package and print its package ID.
    Build(Box<build::BuildArgs>),
    /// Print the package ID of a package file (like `peer lifecycle chaincode calculatepackageid`).
    Id(inspect::IdArgs),
    /// Show a package's metadata and connection.json, checked against the peer's rules.
    Inspect(inspect::InspectArgs),
    /// Generate a CA, a chaincode server certificate and a peer client certificate.
    Tls(tls::TlsArgs),
}

/// Result format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

fn read_text(flag: &str, path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {flag} {}: {e}", path.display()))
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Build(args) => build::run(*args),
        Command::Id(args) => inspect::run_id(args),
        Command::Inspect(args) => inspect::run_inspect(args),
        Command::Tls(args) => tls::run(args),
    }
}
