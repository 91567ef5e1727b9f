//! Why a contract transaction failed. Every variant becomes a status-500 [`Response`](crate::Response)
//! whose message is the variant's text; the texts of routing and argument errors are the ones
//! fabric-contract-api-go uses, so client applications see the same messages.

use crate::identity::IdentityError;
use crate::policy::PolicyError;
use crate::ShimError;

/// Why a contract metadata file (`META-INF/metadata.json`) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MetadataFileError {
    /// The file exists (or was named) but could not be read.
    #[error("cannot read the contract metadata file {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON in the contract metadata shape (`info` with `title` and `version`,
    /// `contracts` by name, each with `name` and `transactions`, ...).
    #[error(
        "the contract metadata file {path} does not match the contract metadata schema: {source}; \
         fix it, or remove it to serve the metadata generated from the contracts"
    )]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// Where and why decoding failed.
        source: serde_json::Error,
    },
    /// The path of the running executable is unknown, so `META-INF` beside it cannot be found.
    #[error("cannot find the running executable to look for META-INF/metadata.json beside it: {0}")]
    NoExecutable(std::io::Error),
}

/// Why a contract transaction failed.
///
/// It is also the error type of [`contract::Result`](super::Result), the result type to give
/// transactions: `?` then works on every stub call ([`ShimError`]), on the client identity
/// ([`IdentityError`]), on `serde_json` and on key-level endorsement policies ([`PolicyError`]),
/// with no mapping. For your own errors, `bail!("the note {key} does not exist")` returns one
/// with a formatted text (see [`bail!`](crate::bail), [`ensure!`](crate::ensure) and
/// [`failed!`](crate::failed)); `anyhow::Result` works as well.
///
/// ```
/// use ccaas_shim::prelude::*;
///
/// #[derive(Default)]
/// pub struct Notes;
///
/// #[contract(rename_all = "PascalCase")]
/// impl Notes {
///     #[transaction]
///     async fn write(&self, ctx: &Context<'_>, key: String, text: String) -> Result<()> {
///         let author = ctx.client_identity()?.id()?; // IdentityError
///         let note = serde_json::to_vec(&(author, text))?; // serde_json::Error
///         ctx.stub().put_state(&key, note).await?; // ShimError
///         Ok(())
///     }
///
///     #[transaction(evaluate)]
///     async fn length(&self, ctx: &Context<'_>, key: String) -> Result<usize> {
///         let note = ctx.stub().get_state(&key).await?;
///         let Some(note) = note else { bail!("the note {key} does not exist") };
///         Ok(note.len())
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// No contract has this name (contract-api-go's `contract_chaincode.go` text).
    #[error("Contract not found with name {0}")]
    ContractNotFound(String),
    /// The function part of `Contract:Function` was empty.
    #[error("Blank function name passed")]
    BlankFunction,
    /// The contract has no such transaction and no unknown-transaction hook.
    #[error("Function {function} not found in contract {contract}")]
    FunctionNotFound {
        /// The function name as the client sent it.
        function: String,
        /// The contract it was looked up in.
        contract: String,
    },
    /// The client sent a different number of arguments than the transaction takes.
    #[error("incorrect number of params. Expected {expected}, received {received}")]
    ArgumentCount {
        /// How many the transaction takes.
        expected: usize,
        /// How many the client sent.
        received: usize,
    },
    /// An argument could not be converted to its parameter's type.
    #[error("error managing parameter{}. conversion error. {reason}", spaced(.parameter))]
    Argument {
        /// The parameter's name. Empty under `#[contract(compat = "go")]` when the function was
        /// called by its lowercased name, as contract-api-go then names none
        /// (`error managing parameter. conversion error. ...`).
        parameter: String,
        /// What was wrong, e.g. `cannot convert passed value abc to i32`.
        reason: String,
    },
    /// The transaction's result could not be serialized.
    #[error("error handling success response. {0}")]
    Return(String),
    /// A transaction or hook returned an error; the text is its `Display`.
    #[error("{0}")]
    Failed(String),
    /// A stub call failed and the transaction passed its error on with `?`; the text is the
    /// [`ShimError`]'s (for a peer error, the peer's own text, as the Go shim reports it).
    #[error(transparent)]
    Stub(#[from] ShimError),
    /// The client identity could not be read (`ctx.client_identity()?`, `identity.id()?`); the
    /// text is the [`IdentityError`]'s, Go's `pkg/cid` text where it has one.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// `serde_json::to_vec(&asset)?` and `serde_json::from_slice(&bytes)?` in a transaction: the
/// error becomes [`ContractError::Failed`] with serde_json's message.
impl From<serde_json::Error> for ContractError {
    fn from(error: serde_json::Error) -> Self {
        ContractError::failed(error)
    }
}

/// `policy.add_orgs(RoleType::Member, &[msp_id])?` and `policy.policy()?` in a transaction: the
/// error becomes [`ContractError::Failed`] with the [`PolicyError`]'s (Go's) text.
impl From<PolicyError> for ContractError {
    fn from(error: PolicyError) -> Self {
        ContractError::failed(error)
    }
}

/// ` name`, or nothing for an empty name.
fn spaced(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" {name}")
    }
}

impl ContractError {
    /// A [`ContractError::Failed`] carrying `error`'s message.
    pub fn failed(error: impl std::fmt::Display) -> Self {
        ContractError::Failed(error.to_string())
    }
}

/// A [`ContractError::Failed`] whose text is `format!`'s: Go's `fmt.Errorf(...)` as a value, to
/// pass on, e.g. `.map_err(|e| failed!("failed to read asset {id}: {e}"))?`.
///
/// To return it at once, use [`bail!`](crate::bail); to return it unless a condition holds,
/// [`ensure!`](crate::ensure). All three are in the [prelude](crate::prelude).
///
/// ```
/// use ccaas_shim::prelude::*;
///
/// let id = "asset1";
/// let error = failed!("the asset {id} does not exist");
/// assert_eq!(error, ContractError::Failed("the asset asset1 does not exist".into()));
/// ```
#[macro_export]
macro_rules! failed {
    ($($format:tt)+) => {
        $crate::contract::ContractError::Failed(::std::format!($($format)+))
    };
}

/// Returns a [`ContractError::Failed`] whose text is `format!`'s from the function: Go's
/// `return fmt.Errorf(...)`, in one line.
///
/// The error goes through `From`, so `bail!` works in a transaction returning the prelude's
/// `Result<T>`, and in one returning `anyhow::Result<T>` or another error type that converts from
/// [`ContractError`]. The transaction fails with status 500 and the text as its message.
///
/// ```
/// use ccaas_shim::prelude::*;
///
/// /// Go: `if size <= 0 { return fmt.Errorf("size %d of %s must be positive", size, id) }`
/// fn check(id: &str, size: i64) -> Result<i64> {
///     if size <= 0 {
///         bail!("size {size} of {id} must be positive");
///     }
///     Ok(size)
/// }
///
/// assert_eq!(check("asset1", 5), Ok(5));
/// let error = check("asset1", 0).unwrap_err();
/// assert_eq!(error.to_string(), "size 0 of asset1 must be positive");
/// ```
#[macro_export]
macro_rules! bail {
    ($($format:tt)+) => {
        return ::core::result::Result::Err(::core::convert::From::from($crate::failed!($($format)+)))
    };
}

/// Returns a [`ContractError::Failed`] with a formatted text unless `condition` holds: Go's
/// `if !condition { return fmt.Errorf(...) }`. `ensure!(condition, "text {x}")` is
/// `if !condition { bail!("text {x}") }` (see [`bail!`](crate::bail)).
///
/// ```
/// use ccaas_shim::prelude::*;
///
/// fn check(color: &str, size: i64) -> Result<()> {
///     ensure!(!color.is_empty(), "color field must be a non-empty string");
///     ensure!(size > 0, "size field must be a positive integer, not {size}");
///     Ok(())
/// }
///
/// assert_eq!(check("blue", 5), Ok(()));
/// assert_eq!(check("", 5).unwrap_err().to_string(), "color field must be a non-empty string");
/// assert_eq!(check("blue", -1).unwrap_err().to_string(), "size field must be a positive integer, not -1");
/// ```
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($format:tt)+) => {
        if !$condition {
            $crate::bail!($($format)+);
        }
    };
}

impl From<ContractError> for crate::Response {
    fn from(error: ContractError) -> Self {
        crate::Response::error(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::KeyEndorsementPolicy;

    #[test]
    fn a_policy_error_is_failed_with_its_text() {
        let policy = || -> crate::contract::Result<Vec<u8>> {
            let mut policy = KeyEndorsementPolicy::new();
            policy.add_orgs("AUDITOR", &["Org1MSP"])?;
            Ok(policy.policy()?)
        };
        assert_eq!(policy(), Err(ContractError::Failed("role type AUDITOR does not exist".into())));
    }

    #[test]
    fn bail_and_ensure_return_through_from() {
        // Another error type than ContractError: the macros convert with `From`.
        fn boxed(n: i32) -> std::result::Result<i32, Box<dyn std::error::Error>> {
            crate::ensure!(n != 0, "{n} is zero");
            if n < 0 {
                crate::bail!("{n} is negative");
            }
            Ok(n)
        }
        assert_eq!(boxed(3).unwrap(), 3);
        assert_eq!(boxed(0).unwrap_err().to_string(), "0 is zero");
        assert_eq!(boxed(-2).unwrap_err().to_string(), "-2 is negative");

        // In expression position, as a match arm.
        let parse = |text: &str| -> crate::contract::Result<u8> {
            match text.parse() {
                Ok(n) => Ok(n),
                Err(e) => crate::bail!("cannot convert {text}: {e}"),
            }
        };
        assert_eq!(parse("7"), Ok(7));
        assert_eq!(parse("x"), Err(ContractError::Failed("cannot convert x: invalid digit found in string".into())));
    }
}
