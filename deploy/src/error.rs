//! The library's error type: every variant says what failed, where (file, peer, org) and what to do.

use std::path::PathBuf;

/// A failure of the deploy library, worded for the person running the command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {what} {path}: {cause}")]
    Read {
        /// What the file should hold ("certificate", "network config", ...).
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// The operating system's reason.
        cause: std::io::Error,
    },

    /// The identity (certificate and key) is unusable.
    #[error("identity of {msp_id} from {source_desc}: {cause}")]
    Identity {
        /// The MSP ID the identity claims.
        msp_id: String,
        /// Where it came from (file, MSP folder, network config user).
        source_desc: String,
        /// What is wrong with it, and what to do.
        cause: String,
    },

    /// The configuration (flags, environment, network config file) is incomplete or inconsistent.
    #[error("{0}")]
    Config(String),

    /// The user is not in the network config.
    #[error(
        "user '{user}' is not in {path} for organization {org} (users there: {known}); \
         add it with `kubectl hlf utils adduser --config={path} --username={user} --mspid={org} ...` \
         or pass another --user"
    )]
    UnknownUser {
        /// The user asked for.
        user: String,
        /// The organization (MSP ID).
        org: String,
        /// The network config file.
        path: String,
        /// The users the file has for that organization.
        known: String,
    },

    /// A peer or orderer could not be reached, or the TLS handshake failed.
    #[error("cannot connect to {node} ({org}) at {address}: {cause}")]
    Connect {
        /// The peer or orderer name.
        node: String,
        /// Its organization (MSP ID).
        org: String,
        /// The address dialled.
        address: String,
        /// The cause, in the user's terms, with what to check.
        cause: String,
    },

    /// A peer, the gateway or the orderer answered, but refused the request.
    #[error("{node} ({org}) refused to {action}: {message}{hint}")]
    Refused {
        /// The peer or orderer name.
        node: String,
        /// Its organization (MSP ID).
        org: String,
        /// What was asked ("install package X", "approve ...").
        action: String,
        /// The peer's own message.
        message: String,
        /// What to do about it (empty, or a sentence starting with "; ").
        hint: String,
    },

    /// A transaction was ordered but the peers marked it invalid.
    #[error("transaction {tx_id} ({action}) was committed as invalid: {code}{}", crate::hints::invalid(code))]
    Invalid {
        /// The transaction ID.
        tx_id: String,
        /// What the transaction did.
        action: String,
        /// The validation code, e.g. `ENDORSEMENT_POLICY_FAILURE`.
        code: String,
    },

    /// The chaincode answered with an error status (400 or more: the shim's errors are 500).
    #[error("{action}: the chaincode answered status {status} on {peer} ({org}): {message}")]
    Chaincode {
        /// What was called ("query ReadAsset on basic").
        action: String,
        /// The chaincode's status, e.g. 500.
        status: i32,
        /// The chaincode's message.
        message: String,
        /// The peer that ran it, as the Gateway names it (`host:port`).
        peer: String,
        /// Its organization (MSP ID).
        org: String,
    },

    /// A definition cannot be committed yet: the approvals do not meet the commit rule (the
    /// channel's `LifecycleEndorsement` policy, or every org when it cannot be read).
    #[error(
        "cannot commit {name} sequence {sequence} yet: {rule} needs {needed}; {} with \
         `ccaas-deploy approve` (or `ccaas-deploy lifecycle`) and the same definition",
        if orgs.len() == 1 { format!("{} approves", orgs[0]) } else { "they approve".to_string() }
    )]
    ApprovalsMissing {
        /// The chaincode name.
        name: String,
        /// The sequence.
        sequence: i64,
        /// The organizations (MSP IDs) whose approval could meet the rule.
        orgs: Vec<String>,
        /// The rule and how far the approvals go, e.g. `LifecycleEndorsement (MAJORITY
        /// Endorsement: 1 of 3 orgs approved (Org1MSP))`.
        rule: String,
        /// What is missing, e.g. `1 more approval, from any of Org2MSP, Org3MSP`.
        needed: String,
    },

    /// Other transactions kept changing what this command's transactions read
    /// (`MVCC_READ_CONFLICT`), or kept doing its steps first, after every re-read of the channel
    /// it allows itself: another run is changing the same chaincode. A re-run is safe.
    #[error(
        "{step}: still in conflict with other transactions after {attempts} re-reads of the channel{}; another \
         run is changing the same chaincode: run this again once it is done (a re-run is safe: it re-reads the \
         channel and does only what is missing)",
        if tx_ids.is_empty() { String::new() } else { format!(" (conflicting transactions of this run: {})", tx_ids.join(", ")) }
    )]
    Conflict {
        /// The step that could not be done, in words.
        step: String,
        /// This run's transactions that were committed as invalid for a conflict.
        tx_ids: Vec<String>,
        /// How many times the channel was read again.
        attempts: u32,
    },

    /// The package could not be built or read.
    #[error("package: {0}")]
    Package(#[from] ccaas_package::Error),

    /// A peer, orderer, registry or Kubernetes API server did not answer in time: its own limit
    /// (5 s to connect, 60 s a request) or what was left of the command's `--timeout`.
    #[error(
        "{what} did not answer within {:.1}s: is it up and reachable from here? (give the whole command more time \
         with --timeout or CCAAS_DEPLOY_TIMEOUT)",
        after.as_secs_f64()
    )]
    Timeout {
        /// What did not answer, e.g. `peer0-org1 (Org1MSP) at 10.0.0.5:7051 (connect)`.
        what: String,
        /// How long it was given.
        after: std::time::Duration,
    },

    /// A registry could not be reached (no answer on the address, TLS failure).
    #[error("cannot reach {what}: {cause}")]
    Unreachable {
        /// What was dialled, e.g. `the registry at https://host:5000/v2/`.
        what: String,
        /// The cause, with what to check.
        cause: String,
    },
}

/// What kind of failure ended a command: its name in `--output json` (`"kind"`), its exit code,
/// and whether running the same command again, unchanged, may succeed. The names and codes are
/// stable; README.md has the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Kind {
    /// A peer, the orderer or a chaincode said no, or a transaction was invalid (1).
    Refused,
    /// Bad flags, files, keys, configs, policies or packages: fix the input (2).
    Configuration,
    /// The commit waits for other organizations' approvals (3).
    Waiting,
    /// A peer, orderer, registry or Kubernetes API server could not be reached (4).
    Connection,
    /// Something did not answer before its deadline or the command's `--timeout` (4).
    Timeout,
    /// `build-static`: cargo failed (5).
    Build,
    /// `apply`, `up`: the rollout failed or did not finish in time (6).
    Rollout,
    /// `status`: the approvals, the peers and the servers disagree (7).
    Drift,
    /// Another run changed the channel at the same time, again after re-planning (8).
    Conflict,
    /// Stopped by SIGINT (130) or SIGTERM (143).
    Interrupted,
}

impl Kind {
    /// Every kind, in exit-code order.
    pub const ALL: [Kind; 10] = [
        Kind::Refused,
        Kind::Configuration,
        Kind::Waiting,
        Kind::Connection,
        Kind::Timeout,
        Kind::Build,
        Kind::Rollout,
        Kind::Drift,
        Kind::Conflict,
        Kind::Interrupted,
    ];

    /// The exit code (SIGINT's for [`Kind::Interrupted`]; SIGTERM's is 143).
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Refused => 1,
            Kind::Configuration => 2,
            Kind::Waiting => 3,
            Kind::Connection | Kind::Timeout => 4,
            Kind::Build => 5,
            Kind::Rollout => 6,
            Kind::Drift => 7,
            Kind::Conflict => 8,
            Kind::Interrupted => 130,
        }
    }

    /// Whether the same command, run again unchanged, may succeed (the failure was transient).
    pub fn retryable(self) -> bool {
        matches!(self, Kind::Connection | Kind::Timeout | Kind::Conflict | Kind::Interrupted)
    }

    /// The name in JSON (`"kind"`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Refused => "refused",
            Kind::Configuration => "configuration",
            Kind::Waiting => "waiting",
            Kind::Connection => "connection",
            Kind::Timeout => "timeout",
            Kind::Build => "build",
            Kind::Rollout => "rollout",
            Kind::Drift => "drift",
            Kind::Conflict => "conflict",
            Kind::Interrupted => "interrupted",
        }
    }
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> Kind {
        match self {
            Error::Read { .. }
            | Error::Identity { .. }
            | Error::Config(_)
            | Error::UnknownUser { .. }
            | Error::Package(_) => Kind::Configuration,
            Error::Connect { .. } | Error::Unreachable { .. } => Kind::Connection,
            Error::Timeout { .. } => Kind::Timeout,
            Error::Refused { .. } | Error::Invalid { .. } | Error::Chaincode { .. } => Kind::Refused,
            Error::ApprovalsMissing { .. } => Kind::Waiting,
            Error::Conflict { .. } => Kind::Conflict,
        }
    }

    /// The exit code: the kind's.
    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }

    /// The transaction IDs this failure involves.
    pub fn tx_ids(&self) -> Vec<String> {
        match self {
            Error::Invalid { tx_id, .. } => vec![tx_id.clone()],
            Error::Conflict { tx_ids, .. } => tx_ids.clone(),
            _ => Vec::new(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn read_file(what: &'static str, path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|cause| Error::Read { what, path: path.to_path_buf(), cause })
}

/// A YAML parse error's message without the text of any string value it quotes: serde quotes
/// the value of a mistyped field (`invalid type: string "...", expected ...`), and a config's
/// values may be private keys or secrets. The field's place and line stay in the message.
pub(crate) fn yaml_error(e: &serde_norway::Error) -> String {
    let message = e.to_string();
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(at) = rest.find("string \"") {
        out.push_str(&rest[..at]);
        out.push_str("a string (not shown)");
        let quoted = &rest[at + "string \"".len()..];
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(quoted.len(), |(i, _)| i + 1);
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}
