//! What can be served: a `#[contract]` type, a [`ContractChaincode`] or any [`Chaincode`].

use crate::contract::{Contract, ContractChaincode};
use crate::Chaincode;

/// What [`run_from_env`](crate::server::run_from_env) (and the test kit's
/// `Emulator::in_process`) can serve: a `#[contract]` type, a [`ContractChaincode`] with several
/// contracts, or any low-level [`Chaincode`].
///
/// `Kind` only tells the two blanket implementations apart ([`AsContract`] for `#[contract]`
/// types, [`AsChaincode`] for chaincodes, `ContractChaincode` included); it is inferred, so
/// callers never write it.
///
/// ```
/// use ccaas_shim::prelude::*;
/// use ccaas_shim::IntoChaincode;
///
/// #[derive(Default)]
/// pub struct Hello;
///
/// #[contract]
/// impl Hello {
///     #[transaction(evaluate)]
///     async fn hello(&self, _ctx: &Context<'_>) -> String {
///         "hello".to_string()
///     }
/// }
///
/// // A contract alone is served in a `ContractChaincode`.
/// let chaincode: ContractChaincode = Hello.into_chaincode();
/// assert!(chaincode.metadata().contracts.contains_key("Hello"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a contract nor a chaincode",
    label = "not servable",
    note = "pass a `#[contract]` type, a `ContractChaincode`, or a type implementing `ccaas_shim::Chaincode`"
)]
pub trait IntoChaincode<Kind> {
    /// The chaincode that is served.
    type Chaincode: Chaincode;

    /// Makes the chaincode.
    fn into_chaincode(self) -> Self::Chaincode;
}

/// [`IntoChaincode`]'s kind for a contract, served alone in a [`ContractChaincode`].
#[derive(Debug)]
pub enum AsContract {}

/// [`IntoChaincode`]'s kind for a chaincode, served as it is.
#[derive(Debug)]
pub enum AsChaincode {}

impl<T: Contract> IntoChaincode<AsContract> for T {
    type Chaincode = ContractChaincode;

    fn into_chaincode(self) -> ContractChaincode {
        ContractChaincode::new().contract(self)
    }
}

impl<T: Chaincode> IntoChaincode<AsChaincode> for T {
    type Chaincode = T;

    fn into_chaincode(self) -> T {
        self
    }
}
