//! Typed errors of the shim.

/// What can go wrong in a stub call or while serving a peer connection.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ShimError {
    /// The peer answered the request with an `ERROR` message; the text is the peer's own, e.g.
    /// `GET_STATE failed: transaction ID: 4f..: private data APIs are not allowed in chaincode Init()`.
    #[error("{0}")]
    Peer(String),
    /// An argument was rejected before anything was sent to the peer (Go shim's rules and texts).
    #[error("{0}")]
    InvalidArgument(String),
    /// A write the peer is known to refuse, reported by the `put_*` / `del_*` call itself when the
    /// write would otherwise wait in a write batch and fail the whole transaction at its flush.
    /// The text is the peer's reason, e.g. `Transaction has already performed a paginated query.
    /// Writes are not allowed`.
    #[error("{0}")]
    WriteRefused(String),
    /// The stream to the peer ended while this transaction was still talking to it.
    #[error("the connection to the peer closed before it answered {0}")]
    ConnectionClosed(&'static str),
    /// The peer answered with a message type that is not a reply to a stub request.
    #[error("unexpected {got} message from the peer in reply to {request}")]
    UnexpectedReply {
        /// The request that was sent.
        request: &'static str,
        /// The message type that came back.
        got: String,
    },
    /// A reply from the peer could not be decoded.
    #[error("could not decode the peer's reply to {request}: {reason}")]
    Decode {
        /// The request whose reply was malformed.
        request: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// The peer does not support what was asked (for example an iterator used after `close`).
    #[error("{0}")]
    Unsupported(String),
}

/// Result type of the shim.
pub type Result<T, E = ShimError> = std::result::Result<T, E>;

impl ShimError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ShimError::InvalidArgument(message.into())
    }
}
