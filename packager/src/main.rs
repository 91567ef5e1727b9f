#![forbid(unsafe_code)]
//! `ccaas-package`: build, identify and inspect deterministic Fabric CCaaS packages, and
//! generate TLS material for chaincode servers.
//!
//! Exit codes: 0 success, 2 a failure (usage, a bad input, an output that cannot be written); see
//! README.md, "Exit codes".

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Every failure here is one of the input, the output path or the file system: the
            // configuration code of README.md's "Exit codes", as in ccaas-deploy and ccaas-peer.
            ExitCode::from(2)
        }
    }
}
