//! The transaction context handed to every transaction and hook.

use crate::identity::{ClientIdentity, IdentityError};
use crate::ChaincodeStub;

/// What a contract's transactions receive as their first parameter after `&self`.
///
/// A fresh context is made for every transaction and shared (by reference) by the before hook,
/// the transaction (or the unknown-transaction hook) and the after hook, like the context
/// pointer of fabric-contract-api-go. [`Context`] is the ready-made one; implement this trait
/// for a type of your own when the context should carry more than [`Context`]'s data slot.
///
/// The client identity (Go's `ctx.GetClientIdentity()`) is derived from the stub's creator by
/// the provided [`client_identity`](Self::client_identity), so a context needs no field for it.
///
/// ```
/// use ccaas_shim::contract::TransactionContext;
/// use ccaas_shim::ChaincodeStub;
///
/// /// A context that knows when the transaction started.
/// pub struct AuditContext<'a> {
///     stub: &'a ChaincodeStub,
///     started: std::time::Instant,
/// }
///
/// impl<'a> TransactionContext<'a> for AuditContext<'a> {
///     fn new(stub: &'a ChaincodeStub) -> Self {
///         AuditContext { stub, started: std::time::Instant::now() }
///     }
///     fn stub(&self) -> &'a ChaincodeStub {
///         self.stub
///     }
/// }
/// ```
pub trait TransactionContext<'a>: Sized + Send + Sync {
    /// Makes the context of one transaction.
    fn new(stub: &'a ChaincodeStub) -> Self;

    /// The transaction's stub: arguments, ledger state, events, and the proposal.
    fn stub(&self) -> &'a ChaincodeStub;

    /// The identity of the client that submitted the transaction (MSP ID, X.509 subject,
    /// Fabric CA attributes), decoded from the proposal's creator on each call.
    fn client_identity(&self) -> Result<ClientIdentity, IdentityError> {
        ClientIdentity::from_creator(self.stub().creator())
    }
}

/// The default transaction context: the stub, plus a data slot `D` of your own.
///
/// `D` starts as `D::default()` for every transaction (Go's zero value). Because hooks and the
/// transaction share the context by `&` reference, use interior mutability (`OnceLock`,
/// `Mutex`, atomics) in `D` to pass values from the before hook to the transaction.
///
/// ```
/// use std::sync::OnceLock;
/// use ccaas_shim::contract::{contract, Context};
///
/// #[derive(Default)]
/// pub struct Caller {
///     org: OnceLock<String>,
/// }
///
/// #[derive(Default)]
/// pub struct Greeter;
///
/// #[contract]
/// impl Greeter {
///     #[before_transaction]
///     async fn remember(&self, ctx: &Context<'_, Caller>) {
///         let _ = ctx.data().org.set(ctx.stub().channel_id().to_string());
///     }
///
///     #[transaction(evaluate)]
///     async fn hello(&self, ctx: &Context<'_, Caller>, name: String) -> String {
///         format!("hello {name} from {}", ctx.data().org.get().map_or("?", |s| s))
///     }
/// }
/// ```
pub struct Context<'a, D = ()> {
    stub: &'a ChaincodeStub,
    data: D,
}

impl<'a, D> Context<'a, D> {
    /// The transaction's stub.
    pub fn stub(&self) -> &'a ChaincodeStub {
        self.stub
    }

    /// The context's data.
    pub fn data(&self) -> &D {
        &self.data
    }
}

impl<'a, D: Default + Send + Sync> TransactionContext<'a> for Context<'a, D> {
    fn new(stub: &'a ChaincodeStub) -> Self {
        Context { stub, data: D::default() }
    }

    fn stub(&self) -> &'a ChaincodeStub {
        self.stub
    }
}

impl<D: std::fmt::Debug> std::fmt::Debug for Context<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("tx_id", &self.stub.tx_id()).field("data", &self.data).finish()
    }
}
