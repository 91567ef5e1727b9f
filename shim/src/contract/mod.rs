//! The contract API: typed transactions in `#[contract]` impl blocks, as in fabric-contract-api.
//!
//! ```
//! use ccaas_shim::prelude::*; // contract, transaction, Object, Context, Result, ContractError, ...
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Object)]
//! #[serde(rename_all = "PascalCase")]
//! pub struct Asset {
//!     #[serde(rename = "ID")]
//!     pub id: String,
//!     pub owner: String,
//!     pub size: i64,
//! }
//!
//! #[derive(Default)]
//! pub struct AssetContract;
//!
//! #[contract(rename_all = "PascalCase")]
//! impl AssetContract {
//!     /// Submitted: may write the ledger. Arguments arrive as strings and are converted.
//!     /// `Result<T>` is `Result<T, ContractError>`: `?` works on stub calls, the client
//!     /// identity and serde_json.
//!     #[transaction]
//!     async fn create_asset(&self, ctx: &Context<'_>, id: String, owner: String, size: i64) -> Result<()> {
//!         let asset = Asset { id: id.clone(), owner, size };
//!         ctx.stub().put_state(&id, serde_json::to_vec(&asset)?).await?;
//!         Ok(())
//!     }
//!
//!     /// Evaluated: a query. Returns JSON.
//!     #[transaction(evaluate)]
//!     async fn read_asset(&self, ctx: &Context<'_>, id: String) -> Result<Asset> {
//!         let bytes = ctx.stub().get_state(&id).await?;
//!         let bytes = bytes.ok_or_else(|| ContractError::failed(format!("the asset {id} does not exist")))?;
//!         Ok(serde_json::from_slice(&bytes)?)
//!     }
//!
//!     // Not annotated: a private helper, not callable by clients.
//!     fn key(&self, id: &str) -> String {
//!         id.to_string()
//!     }
//! }
//!
//! let chaincode = ContractChaincode::new().contract(AssetContract);
//! let metadata = chaincode.metadata();
//! let contract = &metadata.contracts["AssetContract"];
//! assert_eq!(contract.transactions[0].name, "CreateAsset");
//! assert_eq!(contract.transactions[1].tag, ["evaluate", "EVALUATE"]);
//! assert!(metadata.components.schemas.contains_key("Asset"));
//! // Serve it from `main`: `run_from_env(AssetContract).await` (or `run_from_env(chaincode)`).
//! ```
//!
//! # Contracts
//! `#[contract]` goes on an inherent `impl` block of a `Send + Sync + 'static` type and implements
//! [`Contract`] for it. Options: `name = "..."` (default: the type's name), `rename_all = "..."`
//! for transaction names (serde's rule names, e.g. `"PascalCase"` turns `create_asset` into
//! `CreateAsset`, or `"GoPascalCase"`, PascalCase that keeps Go's initialisms in capitals as
//! golint has Go names written, so a contract ported from Go keeps its transaction names:
//! `client_account_id` is `ClientAccountID`, `get_url` is `GetURL`, `get_asset_ids` is
//! `GetAssetIDs`, for golint's list `ACL API ASCII CPU CSS DNS EOF GUID HTML HTTP HTTPS ID IP
//! JSON LHS QPS RAM RHS RPC SLA SMTP SQL SSH TCP TLS TTL UDP UI UID UUID URI URL UTF8 VM XML XMPP
//! XSRF XSS`; default: the method's name as written), `title`, `version`,
//! `description` for the contract's metadata `info`, and `compat = "go"` (see
//! [below](#compat--go-contract-api-gos-argument-handling)). Add contracts to a
//! [`ContractChaincode`]; clients call `ContractName:Function`, or just `Function` in the default
//! contract.
//!
//! # Transactions
//! `#[transaction]` (submit) or `#[transaction(evaluate)]` (query), with an optional
//! `name = "..."`, marks an `async fn` taking `&self`, the transaction context, then the
//! arguments, which must be owned types implementing `serde::Deserialize`, each bound to a plain
//! name (`id: String`, `mut n: i64`). Methods without an attribute are private helpers that
//! clients cannot call. When a client's function name is not found as sent and starts with a
//! lowercase letter, the name with that letter uppercased is tried, as contract-api-go does.
//!
//! ## Arguments
//! Each argument string is converted by its parameter's `Deserialize` (so aliases and newtypes
//! behave like the type they wrap), following contract-api-go's JSON serializer:
//! * strings, `char`, and anything deserialized from a string take the argument as is;
//! * integers, floats and `bool` are parsed from the text (`"5"`, `"-1.5"`, `"true"`; booleans
//!   also take Go's `1 t T TRUE True 0 f F FALSE False`); an empty argument is zero / `false`,
//!   as in Go;
//! * structs, sequences, maps and tuples are read from the argument's JSON;
//! * enums take a bare variant name (`Red`) or JSON (`"Red"`, `{"Rgb":[1,2,3]}`);
//! * `Option<T>`: an empty argument or `null` is `None`, anything else `Some` by `T`'s rule;
//! * `serde_json::Value` takes the JSON, or the text as a string when it is not JSON.
//!
//! A wrong number of arguments fails with `incorrect number of params. Expected N, received M`
//! (unlike Go, surplus arguments are an error too, except under `compat = "go"`); an argument
//! that does not convert fails with `error managing parameter <name>. conversion error. cannot
//! convert passed value <text> to <type>` (basic types) or `... value <text> was not passed in
//! expected format <type>: <serde's reason>` (JSON types). Arguments are checked by serde, not against the metadata's JSON
//! schema; use `#[serde(deny_unknown_fields)]` to reject extra properties as Go's schema check
//! does.
//!
//! ## Results
//! Give transactions [`Result<T>`](Result) (in the [prelude](crate::prelude)), whose error is a
//! [`ContractError`] that stub, client-identity, `serde_json` and key-level endorsement policy
//! ([`PolicyError`](crate::policy::PolicyError)) errors convert to, so `?` needs no `map_err`; `anyhow::Result<T>` and `Result<T, E>` with any `E: Display` work as well.
//!
//! A return type whose last path segment is `Result` (`Result<T, E>`, `anyhow::Result<T>`, an
//! alias named `Result`) is fallible: `Err(e)` fails the transaction (status 500, message
//! `e.to_string()`, so `E: Display`), `Ok(v)` is returned as a plain `v`. The rule is
//! syntactic: give other fallible aliases the name `Result`. A value becomes the payload by its
//! `Serialize`: a `String` (or anything serialized as a string: `&str`, `char`, newtypes of
//! strings, unit enum variants) as is, `()` and `None` as an empty payload, anything else as
//! its `serde_json` text.
//!
//! Go's contract API returns an empty payload for a nil slice, map or pointer and JSON for an
//! empty one (`[]`, `{}`); in Rust that distinction is `None` versus `Some`: a transaction
//! returning `Option<Vec<T>>` answers `None` with an empty payload and `Some(vec![])` with `[]`,
//! while a plain `Vec<T>` is always JSON.
//!
//! # `compat = "go"`: contract-api-go's argument handling
//! By default arguments are checked strictly and errors name the Rust parameters and types. A
//! contract ported from Go whose clients depend on contract-api-go's exact texts can ask for
//! its behaviour instead with `#[contract(compat = "go")]`:
//! * surplus arguments are ignored; only missing ones fail (`incorrect number of params.
//!   Expected 5, received 2`);
//! * parameters are named `param0`, `param1`, ... in the metadata and in conversion errors, as Go
//!   cannot see parameter names; when the function is called by its lowercased name
//!   (`createAsset`) the error names no parameter at all (`error managing parameter. conversion
//!   error. ...`), because contract-api-go then finds no metadata for the transaction;
//! * basic type errors name Go's types: `cannot convert passed value 5kg to int` for an `isize`
//!   parameter (Go's `int`), `int64` for `i64`, `uint8` for `u8`, `float64` for `f64`, and so on.
//!   Declare a Go `int` parameter as `isize` (both are the platform's word size).
//!
//! # Hooks
//! Mark at most one method of each kind in the `#[contract]` block (all `async fn`, taking
//! `&self` and the context):
//! * `#[before_transaction]` runs before every call to the contract, even of an unknown
//!   function and before the arguments are converted; an `Err` aborts the transaction.
//! * `#[after_transaction]` runs after a transaction (or unknown hook) that succeeded; it may take
//!   a third parameter `result: &serde_json::Value`, the result as JSON (`null` for `()`); an
//!   `Err` fails the transaction.
//! * `#[unknown_transaction]` runs instead of failing with `Function X not found in contract Y`;
//!   its result is handled like a transaction's. The function name is in
//!   `ctx.stub().function_and_parameters()`.
//!
//! Hooks return `()` or `Result<(), E: Display>`. One context is shared by before →
//! transaction → after, as in contract-api-go.
//!
//! # Context
//! The context parameter is `&C` for a `C` implementing [`TransactionContext`]: [`Context`]
//! (the stub plus an optional data slot) or a type of your own. All transactions and hooks of a
//! contract take the same context type. [`TransactionContext::client_identity`] gives the
//! caller's identity.
//!
//! # Metadata
//! `org.hyperledger.fabric:GetMetadata` returns [`ContractChaincode::metadata`] as JSON in
//! fabric-contract-api's shape. `#[derive(Object)]` on a struct with named fields (or a unit-only
//! enum, or a newtype) implements [`Schema`], so the type appears in `components.schemas` under
//! its serde names (`rename`, `rename_all`, `skip`, `flatten`); `Option` fields, fields with
//! `#[serde(default)]` or `skip_serializing_if`, and fields marked `#[object(optional)]` are not
//! `required`. Parameter names in the metadata are the Rust parameter names.
//!
//! As in contract-api-go, a hand-written `META-INF/metadata.json` can replace parts of the
//! generated metadata: see [`ContractChaincode::metadata_file`] and
//! [`ContractChaincode::metadata_file_beside_executable`].

mod args;
mod chaincode;
mod context;
mod error;
mod metadata;
mod payload;
mod schema;

pub use ccaas_shim_macros::{
    after_transaction, before_transaction, contract, transaction, unknown_transaction, Object,
};
pub use chaincode::{ContractChaincode, DEFAULT_INIT_MESSAGE, SYSTEM_CONTRACT};
pub use context::{Context, TransactionContext};
pub use error::{ContractError, MetadataFileError};
pub use metadata::{
    ChaincodeMetadata, Contact, ContractMetadata, Info, License, ParameterMetadata, TransactionMetadata,
    METADATA_SCHEMA,
};
pub use schema::{Components, ObjectSchema, Schema, COMPONENTS_PREFIX};

use bytes::Bytes;

use crate::ChaincodeStub;

/// A boxed future that is `Send`: what [`Contract::invoke`] returns (the same type as
/// `futures::future::BoxFuture`).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The result of a transaction or hook: `Result<T>` fails with a [`ContractError`], to which
/// stub errors ([`ShimError`](crate::ShimError)), identity errors
/// ([`IdentityError`](crate::identity::IdentityError)), `serde_json` errors and policy errors
/// ([`PolicyError`](crate::policy::PolicyError)) convert, so `?` needs no mapping. `Result<T, E>` with any `E: Display` (`String`, `anyhow::Error`, ...)
/// is std's `Result`, as before.
pub type Result<T, E = ContractError> = std::result::Result<T, E>;

/// A contract: a named set of transactions with hooks and metadata.
///
/// `#[contract]` implements it; there is rarely a reason to implement it by hand.
pub trait Contract: Send + Sync + 'static {
    /// The contract's name: the `Name` in `Name:Function`.
    fn name(&self) -> &str;

    /// The contract's metadata; object types its transactions use go into `components`.
    fn metadata(&self, components: &mut Components) -> ContractMetadata;

    /// Runs `function` with `args`: the before hook, the transaction (or the unknown-transaction
    /// hook, or [`ContractError::FunctionNotFound`]), then the after hook. Returns the payload.
    fn invoke<'a>(
        &'a self,
        stub: &'a ChaincodeStub,
        function: &'a str,
        args: &'a [String],
    ) -> BoxFuture<'a, Result<Bytes, ContractError>>;
}

/// Support for the code `#[contract]` and `#[derive(Object)]` generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    use std::borrow::Cow;
    use std::fmt::Display;
    use std::marker::PhantomData;

    pub use super::BoxFuture;
    pub use bytes::Bytes;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    pub use serde_json::{json, Value};

    pub use super::{
        ChaincodeMetadata, Components, Contract, ContractError, ContractMetadata, Info, ObjectSchema, Schema,
        TransactionContext, TransactionMetadata,
    };
    pub use crate::ChaincodeStub;

    /// Fails unless exactly `expected` arguments were passed.
    pub fn check_count(args: &[String], expected: usize) -> Result<(), ContractError> {
        if args.len() == expected {
            Ok(())
        } else {
            Err(ContractError::ArgumentCount { expected, received: args.len() })
        }
    }

    /// Fails if fewer than `expected` arguments were passed; surplus ones are ignored, as
    /// contract-api-go does (`compat = "go"`).
    pub fn check_min_count(args: &[String], expected: usize) -> Result<(), ContractError> {
        if args.len() >= expected {
            Ok(())
        } else {
            Err(ContractError::ArgumentCount { expected, received: args.len() })
        }
    }

    /// Converts argument `index` (already counted) to `T`.
    pub fn arg<T: DeserializeOwned>(
        args: &[String],
        index: usize,
        parameter: &str,
        type_name: &str,
    ) -> Result<T, ContractError> {
        super::args::from_arg(&args[index], parameter, type_name, None)
    }

    /// [`arg`] under `compat = "go"`: `parameter` is empty when contract-api-go would name none,
    /// and `go_type` is Go's name for a primitive parameter type, used in conversion errors.
    pub fn go_arg<T: DeserializeOwned>(
        args: &[String],
        index: usize,
        parameter: &str,
        type_name: &str,
        go_type: Option<&str>,
    ) -> Result<T, ContractError> {
        super::args::from_arg(&args[index], parameter, type_name, go_type)
    }

    /// The `Ok` value of a fallible transaction, or its error's message.
    pub fn ok<T, E: Display>(result: Result<T, E>) -> Result<T, ContractError> {
        result.map_err(ContractError::failed)
    }

    /// The payload of a result and, if an after hook wants it, the result as JSON.
    pub fn encode<T: Serialize>(value: &T, with_json: bool) -> Result<(Bytes, Value), ContractError> {
        let payload = super::payload::encode(value)?;
        let json = if with_json {
            serde_json::to_value(value).map_err(|e| ContractError::Return(e.to_string()))?
        } else {
            Value::Null
        };
        Ok((payload, json))
    }

    /// What a hook may return: `()` or `Result<(), E: Display>`.
    #[diagnostic::on_unimplemented(
        message = "a contract hook must return `()` or `Result<(), E>` with `E: Display`, not `{Self}`"
    )]
    pub trait HookOutcome {
        /// The hook's error, as a transaction failure.
        fn into_result(self) -> Result<(), ContractError>;
    }

    impl HookOutcome for () {
        fn into_result(self) -> Result<(), ContractError> {
            Ok(())
        }
    }

    impl<E: Display> HookOutcome for Result<(), E> {
        fn into_result(self) -> Result<(), ContractError> {
            self.map_err(ContractError::failed)
        }
    }

    /// The outcome of a hook.
    pub fn hook(outcome: impl HookOutcome) -> Result<(), ContractError> {
        outcome.into_result()
    }

    /// `function` if it is one of `names`, else the name with its first letter uppercased if
    /// that is one of them (contract-api-go's `toFirstRuneUpperCase`), else `function`.
    pub fn resolve<'a>(function: &'a str, names: &[&str]) -> Cow<'a, str> {
        if names.contains(&function) {
            return Cow::Borrowed(function);
        }
        let mut chars = function.chars();
        match chars.next() {
            Some(first) if first.is_lowercase() => {
                let upper: String = first.to_uppercase().chain(chars).collect();
                if names.contains(&upper.as_str()) {
                    Cow::Owned(upper)
                } else {
                    Cow::Borrowed(function)
                }
            }
            _ => Cow::Borrowed(function),
        }
    }

    /// The error for a function the contract does not have.
    pub fn not_found(function: &str, contract: &str) -> ContractError {
        ContractError::FunctionNotFound { function: function.to_string(), contract: contract.to_string() }
    }

    /// Picks [`Schema::schema`] for types that implement it and `{}` for the others (by
    /// autoref-based specialization: call `(&SchemaProbe::<T>::new()).schema_of(c)` with both
    /// [`ViaSchema`] and [`ViaAnyJson`] in scope).
    pub struct SchemaProbe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

    impl<T: ?Sized> SchemaProbe<T> {
        /// A probe for `T`.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            SchemaProbe(PhantomData)
        }
    }

    /// The schema of a type implementing [`Schema`].
    pub trait ViaSchema {
        /// The schema.
        fn schema_of(&self, components: &mut Components) -> Value;
    }

    impl<T: Schema + ?Sized> ViaSchema for SchemaProbe<T> {
        fn schema_of(&self, components: &mut Components) -> Value {
            T::schema(components)
        }
    }

    /// The schema of any other type: `{}`.
    pub trait ViaAnyJson {
        /// The schema.
        fn schema_of(&self, components: &mut Components) -> Value;
    }

    impl<T: ?Sized> ViaAnyJson for &SchemaProbe<T> {
        fn schema_of(&self, _: &mut Components) -> Value {
            json!({})
        }
    }
}
