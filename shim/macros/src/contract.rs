//! `#[contract]`: checks the impl block and implements `Contract` for its type.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{ImplItem, Item, ItemImpl};

use crate::case::unraw;
use crate::parse::{error, no_args, Compat, ContractArgs, TransactionArgs};
use crate::runtime;
use crate::transaction::{Method, Returns, Role};

/// A transaction with its client-facing name.
pub(crate) struct Transaction {
    pub(crate) name: String,
    pub(crate) evaluate: bool,
    pub(crate) method: Method,
}

/// The hooks of a contract.
#[derive(Default)]
struct Hooks {
    before: Option<Method>,
    after: Option<Method>,
    unknown: Option<Method>,
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let parsed: syn::Result<Item> = syn::parse2(item.clone());
    let mut imp = match parsed {
        Ok(Item::Impl(imp)) if imp.trait_.is_none() => imp,
        Ok(Item::Impl(imp)) => {
            let path = imp.trait_.as_ref().map(|(_, path, _)| path.span()).unwrap_or_else(Span::call_site);
            return with_item(
                error(path, "`#[contract]` goes on an inherent impl block (`impl MyContract { ... }`), not on a trait implementation"),
                item,
            );
        }
        Ok(other) => {
            return with_item(
                error(
                    keyword_span(&other),
                    "`#[contract]` goes on an inherent impl block of the contract type: `#[contract] impl MyContract { ... }`",
                ),
                item,
            )
        }
        Err(e) => return with_item(e, item),
    };
    let args = ContractArgs::parse(attr);
    let mut errors: Vec<syn::Error> = Vec::new();
    let (transactions, hooks) = collect(&mut imp, &mut errors);
    let generated = match args {
        Err(e) => Err(e),
        // A method that failed its checks is missing from `transactions`: report only its error.
        Ok(_) if !errors.is_empty() => Ok(TokenStream::new()),
        Ok(args) => generate(&imp, &args, transactions, hooks),
    };
    match generated {
        Ok(tokens) if errors.is_empty() => quote!(#imp #tokens),
        Ok(_) => with_item(combine(errors), imp.into_token_stream()),
        Err(e) => {
            errors.push(e);
            with_item(combine(errors), imp.into_token_stream())
        }
    }
}

fn combine(errors: Vec<syn::Error>) -> syn::Error {
    let mut errors = errors.into_iter();
    let mut first = errors.next().expect("at least one error");
    errors.for_each(|e| first.combine(e));
    first
}

fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#error #item)
}

fn keyword_span(item: &Item) -> Span {
    match item {
        Item::Struct(s) => s.struct_token.span,
        Item::Enum(e) => e.enum_token.span,
        Item::Fn(f) => f.sig.fn_token.span,
        Item::Trait(t) => t.trait_token.span,
        Item::Mod(m) => m.mod_token.span,
        other => other.span(),
    }
}

/// Finds the marked methods, strips the markers, and checks each method.
fn collect(imp: &mut ItemImpl, errors: &mut Vec<syn::Error>) -> (Vec<Method>, Hooks) {
    let mut methods = Vec::new();
    let mut hooks = Hooks::default();
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else {
            if let Some(attrs) = item_attrs(item) {
                for attr in attrs.iter().filter(|a| marker(a).is_some()) {
                    errors.push(error(attr.span(), "contract attributes go on methods (`async fn`)"));
                }
                attrs.retain(|a| marker(a).is_none());
            }
            continue;
        };
        let mut roles = Vec::new();
        for attr in method.attrs.iter().filter(|a| marker(a).is_some()) {
            let role = match marker(attr).expect("filtered") {
                "transaction" => TransactionArgs::parse(attr).map(Role::Transaction),
                "before_transaction" => no_args(attr, "before_transaction").map(|()| Role::Before),
                "after_transaction" => no_args(attr, "after_transaction").map(|()| Role::After),
                _ => no_args(attr, "unknown_transaction").map(|()| Role::Unknown),
            };
            match role {
                Ok(role) => roles.push((role, attr.span())),
                Err(e) => errors.push(e),
            }
        }
        method.attrs.retain(|a| marker(a).is_none());
        let mut roles = roles.into_iter();
        let Some((role, _)) = roles.next() else {
            continue;
        };
        if let Some((extra, span)) = roles.next() {
            errors.push(error(
                span,
                format!("`{}` already has a contract attribute; use one of `#[transaction]`, `#[before_transaction]`, `#[after_transaction]` or `#[unknown_transaction]`", extra.attribute()),
            ));
            continue;
        }
        match Method::analyze(role, method) {
            Err(e) => errors.push(e),
            Ok(m) => match m.role {
                Role::Transaction(_) => methods.push(m),
                Role::Before => set_hook(&mut hooks.before, m, errors),
                Role::After => set_hook(&mut hooks.after, m, errors),
                Role::Unknown => set_hook(&mut hooks.unknown, m, errors),
            },
        }
    }
    (methods, hooks)
}

fn set_hook(slot: &mut Option<Method>, method: Method, errors: &mut Vec<syn::Error>) {
    match slot {
        Some(existing) => errors.push(error(
            method.ident.span(),
            format!(
                "a contract has at most one `#[{}]` hook, and `{}` is one already",
                method.role.attribute(),
                existing.ident
            ),
        )),
        None => *slot = Some(method),
    }
}

fn item_attrs(item: &mut ImplItem) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        ImplItem::Const(c) => Some(&mut c.attrs),
        ImplItem::Type(t) => Some(&mut t.attrs),
        ImplItem::Macro(m) => Some(&mut m.attrs),
        _ => None,
    }
}

/// The contract attribute `attr` is, if any.
fn marker(attr: &syn::Attribute) -> Option<&'static str> {
    let last = attr.path().segments.last()?;
    ["transaction", "before_transaction", "after_transaction", "unknown_transaction"]
        .into_iter()
        .find(|name| last.ident == name)
}

fn generate(imp: &ItemImpl, args: &ContractArgs, methods: Vec<Method>, hooks: Hooks) -> syn::Result<TokenStream> {
    let self_ty = &imp.self_ty;
    let name = match &args.name {
        Some(lit) if lit.value().is_empty() => return Err(error(lit.span(), "the contract name cannot be empty")),
        Some(lit) => lit.value(),
        None => match &**self_ty {
            syn::Type::Path(path) if path.qself.is_none() => unraw(&path.path.segments.last().expect("a path").ident),
            other => {
                return Err(error(
                    other.span(),
                    "cannot name this contract from its type; add `#[contract(name = \"...\")]`",
                ))
            }
        },
    };
    let mut transactions = name_transactions(args, methods)?;
    let Some(first) = transactions.first() else {
        return Err(error(self_ty.span(), "a `#[contract]` needs at least one `#[transaction]` method"));
    };
    let context = first.method.context.clone();
    let go = args.compat == Some(Compat::Go);
    if go {
        // contract-api-go cannot see parameter names: its metadata and errors say `param0`, ...
        for tx in &mut transactions {
            for (i, param) in tx.method.params.iter_mut().enumerate() {
                param.name = format!("param{i}");
            }
        }
    }
    let rt = runtime();
    let names: Vec<&str> = transactions.iter().map(|t| t.name.as_str()).collect();
    let with_json = hooks.after.as_ref().is_some_and(|after| !after.params.is_empty());

    let arms = transactions.iter().map(|tx| {
        let method = &tx.method;
        let count = method.params.len();
        let bindings: Vec<syn::Ident> =
            (0..count).map(|i| syn::Ident::new(&format!("__arg{i}"), Span::call_site())).collect();
        let conversions = method.params.iter().zip(&bindings).enumerate().map(|(i, (p, binding))| {
            let (ty, param_name, type_name) = (&p.ty, &p.name, type_text(&p.ty));
            if go {
                let basic = match go_basic_type(ty) {
                    Some(name) => quote!(::core::option::Option::Some(#name)),
                    None => quote!(::core::option::Option::None),
                };
                quote_spanned!(ty.span()=>
                    let #binding: #ty = #rt::go_arg::<#ty>(
                        __args, #i, if __exact { #param_name } else { "" }, #type_name, #basic,
                    )?;
                )
            } else {
                quote_spanned!(ty.span()=> let #binding: #ty = #rt::arg::<#ty>(__args, #i, #param_name, #type_name)?;)
            }
        });
        let call = call(method, quote!(#(#bindings),*), with_json);
        let tx_name = &tx.name;
        let check = if go { quote!(check_min_count) } else { quote!(check_count) };
        quote! {
            #tx_name => {
                #rt::#check(__args, #count)?;
                #(#conversions)*
                #call
            }
        }
    });
    let resolve = quote!(#rt::resolve(__function, &[#(#names),*]));
    // contract-api-go finds a transaction's metadata, and so its parameter names, only when it
    // is called by its exact name, not by the lowercased one.
    let (resolved, exact) = if go {
        (
            quote!(__resolved),
            quote! {
                let __resolved = #resolve;
                #[allow(unused_variables)]
                let __exact = *__resolved == *__function;
            },
        )
    } else {
        (resolve, quote!())
    };
    let fallback = match &hooks.unknown {
        Some(unknown) => call(unknown, quote!(), with_json),
        None => quote!(return ::core::result::Result::Err(#rt::not_found(__function, #name))),
    };
    let before = hooks.before.as_ref().map(|before| {
        let ident = &before.ident;
        let ctx = ctx_arg(before);
        let outcome = quote_spanned!(before.output_span=> #rt::hook(self.#ident(#ctx).await));
        quote!(#outcome?;)
    });
    let after = hooks.after.as_ref().map(|after| {
        let ident = &after.ident;
        let ctx = ctx_arg(after);
        let outcome = if after.params.is_empty() {
            quote_spanned!(after.output_span=> #rt::hook(self.#ident(#ctx).await))
        } else {
            quote_spanned!(after.output_span=> #rt::hook(self.#ident(#ctx, &__result).await))
        };
        quote!(#outcome?;)
    });
    let metadata = crate::metadata::body(&name, args, &transactions);
    let (impl_generics, _, where_clause) = imp.generics.split_for_impl();

    Ok(quote! {
        impl #impl_generics #rt::Contract for #self_ty #where_clause {
            fn name(&self) -> &str {
                #name
            }

            fn metadata(&self, __components: &mut #rt::Components) -> #rt::ContractMetadata {
                #metadata
            }

            fn invoke<'__a>(
                &'__a self,
                __stub: &'__a #rt::ChaincodeStub,
                __function: &'__a str,
                __args: &'__a [::std::string::String],
            ) -> #rt::BoxFuture<'__a, ::core::result::Result<#rt::Bytes, #rt::ContractError>> {
                ::std::boxed::Box::pin(async move {
                    let __ctx: #context = #rt::TransactionContext::new(__stub);
                    let __ctx = &__ctx;
                    #before
                    #exact
                    #[allow(unused_variables)]
                    let (__payload, __result): (#rt::Bytes, #rt::Value) =
                        match &*#resolved {
                            #(#arms)*
                            _ => { #fallback }
                        };
                    #after
                    ::core::result::Result::Ok::<#rt::Bytes, #rt::ContractError>(__payload)
                })
            }
        }
    })
}

/// The context argument, spanned at the method's context type so a mismatch points there.
fn ctx_arg(method: &Method) -> TokenStream {
    quote_spanned!(method.context_span=> __ctx)
}

/// Calls a transaction or the unknown hook and encodes its result.
fn call(method: &Method, args: TokenStream, with_json: bool) -> TokenStream {
    let rt = runtime();
    let ident = &method.ident;
    let ctx = ctx_arg(method);
    let comma = if args.is_empty() { quote!() } else { quote!(,) };
    let ok = match method.returns {
        Returns::Result(_) => quote!(let __ret = #rt::ok(__ret)?;),
        _ => quote!(),
    };
    quote! {{
        let __ret = self.#ident(#ctx #comma #args).await;
        #ok
        #rt::encode(&__ret, #with_json)?
    }}
}

fn name_transactions(args: &ContractArgs, methods: Vec<Method>) -> syn::Result<Vec<Transaction>> {
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut transactions = Vec::new();
    for method in methods {
        let Role::Transaction(tx) = &method.role else {
            continue;
        };
        let (name, span) = match &tx.name {
            Some(lit) => (lit.value(), lit.span()),
            None => {
                let ident = unraw(&method.ident);
                (args.rename_all.map_or(ident.clone(), |rule| rule.apply_to_field(&ident)), method.ident.span())
            }
        };
        if name.is_empty() || name.contains(':') {
            errors.push(error(span, "a transaction name must be non-empty and contain no `:`"));
        } else if let Some(first) = seen.get(&name) {
            errors.push(error(
                span,
                format!(
                    "two transactions are named `{name}` (`{first}` and `{}`); rename one with `#[transaction(name = \"...\")]`",
                    method.ident
                ),
            ));
        } else {
            seen.insert(name.clone(), method.ident.clone());
        }
        let evaluate = tx.evaluate;
        transactions.push(Transaction { name, evaluate, method });
    }
    if errors.is_empty() {
        Ok(transactions)
    } else {
        Err(combine(errors))
    }
}

/// Go's name for a Rust primitive type written as such (`isize` is Go's `int`), as
/// contract-api-go names the type in `cannot convert passed value X to <type>`.
fn go_basic_type(ty: &syn::Type) -> Option<&'static str> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let ident = path.path.get_ident().filter(|_| path.qself.is_none())?;
    let name = match ident.to_string().as_str() {
        "bool" => "bool",
        "isize" => "int",
        "i8" => "int8",
        "i16" => "int16",
        "i32" => "int32",
        "i64" => "int64",
        "usize" => "uint",
        "u8" => "uint8",
        "u16" => "uint16",
        "u32" => "uint32",
        "u64" => "uint64",
        "f32" => "float32",
        "f64" => "float64",
        _ => return None,
    };
    Some(name)
}

/// A type as users write it, for error messages: `Vec<Asset>`, `HashMap<String, u32>`.
fn type_text(ty: &syn::Type) -> String {
    let compact: String = ty.to_token_stream().to_string().split_whitespace().collect();
    compact.replace(',', ", ").replace("dyn", "dyn ")
}
