//! The error a transaction fails with.

use std::fmt;

use ccaas_shim::ShimError;

/// Why a transaction failed; its text becomes the message of the status-500 response.
///
/// The texts are the Go sample's and the Go contract API's, so clients matching on error
/// messages see the same strings from this chaincode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxError(String);

impl TxError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        TxError(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TxError {}

/// A stub error passed through unchanged (the Go sample's `return err`).
impl From<ShimError> for TxError {
    fn from(e: ShimError) -> Self {
        TxError(e.to_string())
    }
}

/// A JSON decoding error passed through unchanged (the Go sample's `return err`).
impl From<serde_json::Error> for TxError {
    fn from(e: serde_json::Error) -> Self {
        TxError(e.to_string())
    }
}
