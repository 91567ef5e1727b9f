//! `invoke` and `query`: the chaincode's answer on stdout, as it is or in a JSON document.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use ccaas_deploy::client::Node;
use ccaas_deploy::config::Target;
use ccaas_deploy::invoke::{self, Call};
use ccaas_deploy::Error;

use crate::args::Output;
use crate::Printer;

/// Runs `call` through the Gateway of the target's first peer: `invoke` if `submit`, else `query`.
pub(crate) async fn run(out: &Printer, submit: bool, mut call: Call, target: &Target) -> anyhow::Result<u8> {
    // As with the peer CLI's --peerAddresses: peers of several organizations named with --peer
    // mean those organizations.
    if call.orgs.is_empty() {
        let mut orgs: Vec<String> = Vec::new();
        for p in &target.peers {
            if !orgs.contains(&p.org) {
                orgs.push(p.org.clone());
            }
        }
        if orgs.len() > 1 {
            call.orgs = orgs;
        }
    }
    let peer = target.peers.first().ok_or_else(|| Error::Config("no peer to talk to".into()))?;
    tracing::info!(gateway = %peer.name, orgs = ?call.orgs, channel = %target.channel, "calling {}", call.chaincode);
    let gateway = Node::connect(peer).await?;
    let outcome = if submit {
        invoke::invoke(&gateway, &target.identity, &target.channel, &call).await?
    } else {
        invoke::query(&gateway, &target.identity, &target.channel, &call).await?
    };
    let valid = outcome.commit.as_ref().is_none_or(|c| c.is_valid());
    let mut stdout = std::io::stdout().lock();
    match out.output {
        // With the failure's fields, if the transaction is invalid.
        Output::Json => out.result(&[], outcome.to_json()),
        Output::Text if valid => {
            stdout.write_all(&outcome.payload).context("cannot write to stdout")?;
            // A shell prompt would follow the answer on its line; a pipe gets the bytes as they are.
            if stdout.is_terminal() && !outcome.payload.is_empty() && !outcome.payload.ends_with(b"\n") {
                stdout.write_all(b"\n").context("cannot write to stdout")?;
            }
            if let Some(c) = &outcome.commit {
                eprintln!("{}: committed in block {} (tx {})", call.describe("invoke"), c.block, outcome.tx_id);
            }
        }
        Output::Text => {}
    }
    stdout.flush().context("cannot write to stdout")?;
    match outcome.commit {
        Some(c) if !valid => {
            Err(Error::Invalid { tx_id: outcome.tx_id, action: call.describe("invoke"), code: c.status }.into())
        }
        _ => Ok(0),
    }
}
