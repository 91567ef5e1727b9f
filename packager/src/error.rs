//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong while validating, building, reading or writing a package.
///
/// Where the Fabric peer or the ccaas builder has its own wording for a problem, the
/// message quotes it, so that an error seen here can be searched for in peer logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The package label is not accepted by the peer (or, for `k8s` packages, by
    /// fabric-builder-k8s). The message is the peer's own.
    #[error("{0}")]
    Label(String),

    /// `address` is not a usable `host:port`.
    #[error("invalid chaincode address '{address}': {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// Why it is rejected.
        reason: String,
    },

    /// `dial_timeout` is not a Go duration the peer can parse.
    #[error("invalid dial_timeout '{value}': {reason}")]
    DialTimeout {
        /// The value as given.
        value: String,
        /// Why it is rejected.
        reason: String,
    },

    /// A `connection.json` string is not a valid Go `text/template` (the ccaas builder
    /// parses every value as one).
    #[error("connection.json field '{field}' is not a valid Go text/template: {message}")]
    Template {
        /// The `connection.json` field.
        field: String,
        /// The parse error, in Go's `template: :LINE: ...` form.
        message: String,
    },

    /// TLS material is missing, unreadable or inconsistent.
    #[error("{0}")]
    Tls(String),

    /// A `META-INF` file is misplaced or is not valid JSON.
    #[error("META-INF file '{path}': {reason}")]
    MetaInf {
        /// Path of the file inside the code package (`META-INF/...`).
        path: String,
        /// Why it is rejected.
        reason: String,
    },

    /// The container image reference of a `k8s` package is invalid.
    #[error("invalid image: {0}")]
    Image(String),

    /// The package specification is inconsistent (for example client auth without TLS).
    #[error("{0}")]
    Spec(String),

    /// An existing package fails a rule of the peer or of the ccaas builder. The message
    /// is the peer's (or builder's) own where it has one.
    #[error("{0}")]
    InvalidPackage(String),

    /// An existing package decompresses to more than the reading limit (or one of its entries
    /// claims to): most likely a gzip bomb, since real packages are a few KiB and the peer
    /// takes at most 100 MiB.
    #[error(
        "the package decompresses to more than {} MiB, the limit (the peer takes packages of at \
         most 100 MiB, and a chaincode package is a few KiB): refused without reading further, \
         as a likely gzip bomb; check where the file came from, or rebuild it with `ccaas-package build`",
        limit >> 20
    )]
    TooLarge {
        /// The limit, in decompressed bytes ([`crate::MAX_DECOMPRESSED`]).
        limit: u64,
    },

    /// Reading or writing a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error (part of the message, so not also a `source()`).
        error: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io { path: path.into(), error }
    }
}

/// Shorthand for `Result<T, ccaas_package::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
