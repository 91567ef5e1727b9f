//! `invoke` and `query`: their flags, and the chaincode's answer on stdout, as it is or in a JSON
//! document.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use ccaas_deploy::client::Node;
use ccaas_deploy::config::Target;
use ccaas_deploy::invoke::{self, Call};
use ccaas_deploy::Error;

use clap::Args;

use super::connection::ConnectionArgs;
use super::output::{Output, Printer};

pub const CALL_EXAMPLES: &str = r#"Examples:
  ccaas-deploy query -n basic ReadAsset asset1
  ccaas-deploy query -n basic -c '{"Args":["ReadAsset","asset1"]}' --output json
  ccaas-deploy invoke -n basic CreateAsset asset7 blue 5 Tom 300
  ccaas-deploy invoke -n private -c '{"function":"CreateAsset","Args":[]}' \
      --transient 'asset_properties={"objectType":"asset","assetID":"a1","color":"blue","size":5,"appraisedValue":300}'

Output: the chaincode's answer as it is (a newline is added only on a terminal), or with --output json
{"tx_id", "payload", "payload_encoding": "utf-8"|"base64"} and, for invoke, "block" and "status" (the
validation code, e.g. VALID or MVCC_READ_CONFLICT)."#;

/// A chaincode call (`invoke`, `query`).
#[derive(Args, Debug)]
pub struct CallArgs {
    /// Chaincode name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// The function and its arguments in the peer CLI's JSON: '{"Args":["ReadAsset","asset1"]}' or
    /// '{"function":"ReadAsset","Args":["asset1"]}'.
    #[arg(long, short = 'c', value_name = "JSON", conflicts_with = "args")]
    pub ctor: Option<String>,
    /// The function, then its arguments (instead of -c); put them after `--` if one starts with '-'.
    #[arg(value_name = "FUNCTION [ARG]", allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// Transient data (repeatable), given to the endorsing chaincode and never stored on the
    /// ledger: KEY=VALUE (the value as it is), or the peer CLI's JSON of base64 values,
    /// '{"KEY":"BASE64",...}'.
    #[arg(long, value_name = "KEY=VALUE|JSON")]
    pub transient: Vec<String>,
    /// An organization whose peers endorse (invoke) or may answer (query); repeatable. Without it
    /// the Gateway chooses, except that with --peer naming peers of several organizations, those
    /// organizations endorse (as the peer CLI's --peerAddresses).
    #[arg(long = "endorsing-org", value_name = "MSPID")]
    pub endorsing_orgs: Vec<String>,
    /// The call is the chaincode's Init (invoke, for a definition with --init-required).
    #[arg(long, short = 'I', visible_alias = "isInit")]
    pub is_init: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl CallArgs {
    /// The call, checked before anything is dialled.
    pub fn call(&self) -> Result<ccaas_deploy::invoke::Call, Error> {
        let args = match &self.ctor {
            Some(json) => ccaas_deploy::invoke::parse_ctor(json)?,
            None if self.args.is_empty() => {
                return Err(Error::Config(format!(
                    "no function: give it and its arguments after the flags (-n {} ReadAsset asset1), or as the \
                     peer CLI does (-c '{{\"Args\":[\"ReadAsset\",\"asset1\"]}}')",
                    self.name
                )))
            }
            None => self.args.iter().map(|a| a.clone().into_bytes()).collect(),
        };
        Ok(ccaas_deploy::invoke::Call {
            chaincode: self.name.clone(),
            invocation: ccaas_deploy::proposal::Invocation {
                args,
                transient: ccaas_deploy::invoke::parse_transient(&self.transient)?,
                is_init: self.is_init,
            },
            orgs: self.endorsing_orgs.clone(),
        })
    }
}

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
