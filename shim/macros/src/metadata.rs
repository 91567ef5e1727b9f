//! The `metadata()` method `#[contract]` generates.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Type;

use crate::contract::Transaction;
use crate::parse::ContractArgs;
use crate::runtime;

/// An expression for the JSON schema of `ty`: `Schema::schema` if `ty` implements it, else `{}`.
pub(crate) fn schema_of(ty: &Type, components: &TokenStream) -> TokenStream {
    let rt = runtime();
    quote! {{
        #[allow(unused_imports)]
        use #rt::{ViaAnyJson as _, ViaSchema as _};
        (&#rt::SchemaProbe::<#ty>::new()).schema_of(#components)
    }}
}

/// The body of `Contract::metadata`.
pub(crate) fn body(name: &str, args: &ContractArgs, transactions: &[Transaction]) -> TokenStream {
    let rt = runtime();
    let components = quote!(__components);
    let text = |lit: &Option<syn::LitStr>| lit.as_ref().map(syn::LitStr::value).unwrap_or_default();
    let (title, version) = (text(&args.title), text(&args.version));
    let description = match &args.description {
        Some(d) => quote!(::core::option::Option::Some(::std::string::String::from(#d))),
        None => quote!(::core::option::Option::None),
    };
    let transactions = transactions.iter().map(|tx| {
        let tx_name = &tx.name;
        let kind = if tx.evaluate { quote!(evaluate) } else { quote!(submit) };
        let params = tx.method.params.iter().map(|p| {
            let (param_name, schema) = (&p.name, schema_of(&p.ty, &components));
            quote!(.parameter(#param_name, #schema))
        });
        let returns = tx.method.returns.schema_type().map(|ty| {
            let schema = schema_of(ty, &components);
            quote!(.returns(#schema))
        });
        quote!(.transaction(#rt::TransactionMetadata::#kind(#tx_name) #(#params)* #returns))
    });
    quote! {
        let mut __info = #rt::Info::new(#title, #version);
        __info.description = #description;
        #rt::ContractMetadata::new(#name, __info) #(#transactions)*
    }
}
