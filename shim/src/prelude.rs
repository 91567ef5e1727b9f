//! The names a contract needs, in one import: `use ccaas_shim::prelude::*;`.
//!
//! * the attributes: [`contract`], [`transaction`], [`before_transaction`],
//!   [`after_transaction`], [`unknown_transaction`], and `#[derive(`[`Object`]`)]`;
//! * the transaction context [`Context`], and the [`TransactionContext`] trait, whose
//!   [`client_identity`](TransactionContext::client_identity) gives the caller (Go's
//!   `ctx.GetClientIdentity()`);
//! * [`Result`], `Result<T, E = ContractError>`: with it `?` works on stub calls, the client
//!   identity, `serde_json` and key-level endorsement policies ([`ContractError`]'s
//!   conversions). It replaces std's `Result` in your module; `Result<T, E>` with an explicit
//!   error type is std's as before;
//! * [`bail!`], [`ensure!`] and [`failed!`]: a [`ContractError`] with a formatted text, returned
//!   (`bail!("the asset {id} does not exist")`, Go's `return fmt.Errorf(...)`), returned unless a
//!   condition holds, or made to pass on;
//! * [`ContractChaincode`] (several contracts in one chaincode), [`ChaincodeStub`],
//!   [`ClientIdentity`], [`Response`], and [`run_from_env`] for `main`.
//!
//! With `anyhow`, whose `Context` trait has the same name as the transaction context, import
//! its trait for its methods only: `use anyhow::Context as _;`.
//!
//! ```
//! use ccaas_shim::prelude::*;
//!
//! #[derive(Default)]
//! pub struct Wallet;
//!
//! #[contract(rename_all = "GoPascalCase")]
//! impl Wallet {
//!     /// The caller's client id, as Go's `ctx.GetClientIdentity().GetID()`.
//!     #[transaction(evaluate)]
//!     async fn client_account_id(&self, ctx: &Context<'_>) -> Result<String> {
//!         Ok(ctx.client_identity()?.id()?)
//!     }
//! }
//!
//! let chaincode = ContractChaincode::new().contract(Wallet);
//! assert_eq!(chaincode.metadata().contracts["Wallet"].transactions[0].name, "ClientAccountID");
//!
//! // main: `async fn main() -> std::process::ExitCode { run_from_env(Wallet).await }`
//! ```

pub use crate::contract::{
    after_transaction, before_transaction, contract, transaction, unknown_transaction, Context, ContractChaincode,
    ContractError, Object, Result, TransactionContext,
};
pub use crate::identity::ClientIdentity;
pub use crate::server::run_from_env;
pub use crate::{bail, ensure, failed};
pub use crate::{ChaincodeStub, Response};
