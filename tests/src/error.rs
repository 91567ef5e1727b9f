//! Typed errors of the emulator.

use crate::model::texts;

/// What can go wrong connecting to a chaincode or executing a transaction.
///
/// Where the peer has its own text for a failure, the error displays it verbatim (for example
/// [`ExecuteTimeout`](EmulatorError::ExecuteTimeout) is `timeout expired while executing
/// transaction`).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The address could not be turned into an endpoint.
    #[error("invalid chaincode address {address}: {reason}")]
    InvalidAddress {
        /// The address given.
        address: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The TLS settings were rejected.
    #[error("TLS configuration rejected: {0}")]
    Tls(String),
    /// The TCP/TLS connection could not be made.
    #[error("error creating grpc connection to {address}: {reason}")]
    Connect {
        /// The address dialed.
        address: String,
        /// The transport's error, with its causes.
        reason: String,
    },
    /// The `Connect` call failed.
    #[error("error creating grpc client connection: {0}")]
    Rpc(#[from] tonic::Status),
    /// The chaincode registered with an empty id.
    #[error("{0}")]
    Rejected(String),
    /// The chaincode registered with another id than the one the peer expects (its package
    /// ID). Displayed as the peer's text, which names only the registered id.
    #[error("{}", texts::not_launching(.registered))]
    WrongChaincodeId {
        /// The id the chaincode registered with.
        registered: String,
        /// The id the peer expects.
        expected: String,
    },
    /// The chaincode broke the registration protocol.
    #[error("registration failed: {0}")]
    Handshake(String),
    /// The chaincode did not send REGISTER in time.
    #[error("timeout expired while starting chaincode: no REGISTER within {0:?}")]
    StartupTimeout(std::time::Duration),
    /// The transaction was rejected before it reached the chaincode (for example its txid is
    /// already executing: `txid: <txid>(<channel>) exists`).
    #[error("invalid invocation: {0}")]
    InvalidInvocation(String),
    /// The chaincode did not complete the transaction within the execute timeout.
    #[error("{}", texts::EXECUTION_TIMEOUT)]
    ExecuteTimeout,
    /// The stream ended while the transaction ran, or before it was sent.
    #[error("{}", texts::STREAM_TERMINATED)]
    StreamTerminated,
    /// The chaincode answered the transaction with ERROR (the text is its payload).
    #[error("transaction returned with failure: {0}")]
    TransactionFailed(String),
    /// The chaincode answered with something that is not COMPLETED or ERROR, or an undecodable
    /// response.
    #[error("bad response for transaction {tx_id}: {reason}")]
    BadResponse {
        /// The transaction.
        tx_id: String,
        /// What was wrong.
        reason: String,
    },
    /// The chaincode did not echo a KEEPALIVE in time.
    #[error("no KEEPALIVE echo within {0:?}")]
    KeepaliveTimeout(std::time::Duration),
    /// A client identity could not be made from the certificate or key given.
    #[error("invalid client identity: {0}")]
    Identity(String),
    /// A local I/O failure (reading certificates and the like).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
