//! What one chaincode server lets its clients use: connections, time and transactions.
//!
//! Every byte from the network is treated as hostile: a client that never finishes its handshake,
//! thousands of idle sockets, a peer that floods a connection with transactions, or a chaincode
//! that never returns must not grow the server's memory without bound or hold its resources
//! forever. Each limit has a default that a real peer never reaches, and is set with
//! [`ServerBuilder`](super::ServerBuilder) or the environment (see the
//! [module documentation](super#environment-variables)).

use std::time::Duration;

/// The server's resource limits.
///
/// ```
/// use std::time::Duration;
/// use ccaas_shim::server::Limits;
///
/// let limits = Limits { max_connections: 16, ..Limits::default() };
/// assert_eq!(limits.transaction_timeout, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a new connection may take to finish the TLS handshake, the HTTP/2 preface, the
    /// `Connect` call and the REGISTER / REGISTERED / READY exchange (default 10 s). A connection
    /// that has not become ready by then is closed. A real peer takes milliseconds.
    pub handshake_timeout: Duration,
    /// How many connections may be in their handshake at once, not yet ready chaincode streams
    /// (default 64). At the limit, a new connection is admitted by closing the one that has made
    /// the least progress: the oldest that has not sent a byte yet, else the oldest that has not
    /// opened its chaincode stream, else the oldest that has not become ready. A real peer sends
    /// its first bytes at once and is ready in milliseconds, so any number of silent or slow
    /// connections cannot keep it out; ready streams are never closed to admit anything.
    pub max_connections: usize,
    /// How many ready chaincode streams may be open at once (default 64). A connection that
    /// completes its handshake beyond it is closed. A peer holds one stream per chaincode (a few
    /// more while it re-dials), so a handful of peers never come near.
    pub max_ready_connections: usize,
    /// How many transactions may run at once on one connection (default 1,000). A TRANSACTION
    /// or INIT beyond it is answered at once with ERROR (the peer fails that proposal, which the
    /// client may retry) instead of queuing: the peer's replies to the running transactions
    /// travel on the same stream, so pausing the stream would stall them too.
    pub max_transactions_per_connection: usize,
    /// How long a transaction may run (default 30 s, the peer's own `chaincode.executetimeout`).
    /// After it the transaction's task is cancelled (its iterators and other resources dropped;
    /// the peer closes its side of them when the transaction ends), and the peer gets ERROR for
    /// it; the connection and its other transactions go on.
    pub transaction_timeout: Duration,
}

/// The default [`Limits::handshake_timeout`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// The default [`Limits::max_ready_connections`].
pub const DEFAULT_MAX_READY_CONNECTIONS: usize = 64;
/// The default [`Limits::max_transactions_per_connection`].
pub const DEFAULT_MAX_TRANSACTIONS_PER_CONNECTION: usize = 1000;
/// The default [`Limits::transaction_timeout`].
pub const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_ready_connections: DEFAULT_MAX_READY_CONNECTIONS,
            max_transactions_per_connection: DEFAULT_MAX_TRANSACTIONS_PER_CONNECTION,
            transaction_timeout: DEFAULT_TRANSACTION_TIMEOUT,
        }
    }
}

/// Parses a duration as Go's `time.ParseDuration` writes the common cases (`500ms`, `10s`,
/// `2m`, `1h`, `1m30s`), or a bare number of seconds.
pub(crate) fn parse_duration(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if value.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = value;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).filter(|&n| n > 0)?;
        let amount: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return None,
        };
        total = total.checked_add(unit.checked_mul(u32::try_from(amount).ok()?)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_go_writes_them() {
        let cases =
            [("30", 30_000), ("500ms", 500), ("10s", 10_000), ("2m", 120_000), ("1h", 3_600_000), ("1m30s", 90_000)];
        for (text, millis) in cases {
            assert_eq!(parse_duration(text), Some(Duration::from_millis(millis)), "{text}");
        }
        for bad in ["", "s", "10x", "ten seconds", "1.5s", "-1s", "10 s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
