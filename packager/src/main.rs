#![forbid(unsafe_code)]
//! `ccaas-package`: build, identify and inspect deterministic Fabric CCaaS packages, and
//! generate TLS material for chaincode servers.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
