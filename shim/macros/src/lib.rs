//! Procedural macros of `ccaas-shim`'s contract API: `#[contract]`, `#[transaction]`, the hook
//! markers and `#[derive(Object)]`. Use them through `ccaas_shim::contract`, whose documentation
//! describes the rules; the generated code refers to `::ccaas_shim::contract`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod case;
mod contract;
mod metadata;
mod object;
mod parse;
mod transaction;

use proc_macro::TokenStream;
use quote::quote;

/// The path of the runtime support in generated code.
pub(crate) fn runtime() -> proc_macro2::TokenStream {
    quote!(::ccaas_shim::contract::__private)
}

/// Makes an inherent impl block a contract: implements `ccaas_shim::contract::Contract` for the
/// type, with the methods marked `#[transaction]` as its transactions.
///
/// Options: `name = "..."`, `rename_all = "PascalCase"`, `title`, `version`, `description`.
#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    contract::expand(attr.into(), item.into()).into()
}

/// Marks a method of a `#[contract]` impl block as a transaction: `#[transaction]` (submit),
/// `#[transaction(evaluate)]`, optionally with `name = "..."`.
#[proc_macro_attribute]
pub fn transaction(_attr: TokenStream, item: TokenStream) -> TokenStream {
    misplaced("transaction", item)
}

/// Marks the method of a `#[contract]` impl block that runs before every transaction.
#[proc_macro_attribute]
pub fn before_transaction(_attr: TokenStream, item: TokenStream) -> TokenStream {
    misplaced("before_transaction", item)
}

/// Marks the method of a `#[contract]` impl block that runs after every successful transaction.
#[proc_macro_attribute]
pub fn after_transaction(_attr: TokenStream, item: TokenStream) -> TokenStream {
    misplaced("after_transaction", item)
}

/// Marks the method of a `#[contract]` impl block that runs for unknown function names.
#[proc_macro_attribute]
pub fn unknown_transaction(_attr: TokenStream, item: TokenStream) -> TokenStream {
    misplaced("unknown_transaction", item)
}

/// Implements `ccaas_shim::contract::Schema` for a struct (an object in `components.schemas`),
/// a unit-only enum (a string with `enum` values) or a newtype (its field's schema), honoring
/// serde's `rename`, `rename_all`, `skip`, `default`, `skip_serializing_if` and `flatten`.
/// `#[object(optional)]` on a field makes it not `required`.
#[proc_macro_derive(Object, attributes(object))]
pub fn derive_object(input: TokenStream) -> TokenStream {
    object::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn misplaced(what: &str, item: TokenStream) -> TokenStream {
    let message = format!("`#[{what}]` only works on a method inside a `#[contract]` impl block");
    let item = proc_macro2::TokenStream::from(item);
    quote!(::core::compile_error!(#message); #item).into()
}
