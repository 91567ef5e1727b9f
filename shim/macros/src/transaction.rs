//! Checks a marked method's signature and describes it: context type, arguments, result.

use proc_macro2::{Group, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ImplItemFn, Pat, PathArguments, ReturnType, Type};

use crate::case::unraw;
use crate::parse::{error, TransactionArgs};

/// What a marked method is for.
pub(crate) enum Role {
    Transaction(TransactionArgs),
    Before,
    After,
    Unknown,
}

impl Role {
    pub(crate) fn attribute(&self) -> &'static str {
        match self {
            Role::Transaction(_) => "transaction",
            Role::Before => "before_transaction",
            Role::After => "after_transaction",
            Role::Unknown => "unknown_transaction",
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Role::Transaction(_) => "methods",
            _ => "hooks",
        }
    }
}

/// One argument of a transaction.
pub(crate) struct Param {
    /// The name in metadata and error messages.
    pub(crate) name: String,
    pub(crate) ty: Type,
}

/// How a method's result is handled.
pub(crate) enum Returns {
    /// `()`, or nothing written.
    Unit,
    /// A plain value.
    Value(Type),
    /// `Result<T, E>`; `None` when `T` is `()`.
    Result(Option<Type>),
}

impl Returns {
    /// The type whose schema is the transaction's `returns`, if any.
    pub(crate) fn schema_type(&self) -> Option<&Type> {
        match self {
            Returns::Unit | Returns::Result(None) => None,
            Returns::Value(ty) | Returns::Result(Some(ty)) => Some(ty),
        }
    }
}

/// A checked method.
pub(crate) struct Method {
    pub(crate) role: Role,
    pub(crate) ident: syn::Ident,
    /// The context type (what the `&` points to), with lifetimes replaced by `'_`.
    pub(crate) context: Type,
    pub(crate) context_span: Span,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
    /// Where the return type is written (the name, when there is none).
    pub(crate) output_span: Span,
}

impl Method {
    pub(crate) fn analyze(role: Role, method: &ImplItemFn) -> syn::Result<Method> {
        let sig = &method.sig;
        let what = role.attribute();
        let noun = role.noun();
        if sig.asyncness.is_none() {
            return Err(error(
                sig.fn_token.span,
                format!("`#[{what}]` {noun} must be `async fn`: write `async fn {}(...)`", sig.ident),
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            return Err(error(
                sig.generics.span(),
                format!(
                    "`#[{what}]` {noun} cannot be generic; the context's lifetime is inferred (`ctx: &Context<'_>`)"
                ),
            ));
        }
        if let Some(variadic) = &sig.variadic {
            return Err(error(variadic.span(), format!("`#[{what}]` {noun} cannot be variadic")));
        }
        let mut inputs = sig.inputs.iter();
        check_receiver(inputs.next(), sig, what, noun)?;
        let (context, context_span) = context(inputs.next(), sig, what, noun)?;
        let rest: Vec<&syn::PatType> = inputs
            .map(|arg| match arg {
                FnArg::Typed(typed) => Ok(typed),
                FnArg::Receiver(r) => Err(error(r.span(), "unexpected receiver")),
            })
            .collect::<syn::Result<_>>()?;

        let params = match &role {
            Role::Transaction(_) => {
                rest.iter().enumerate().map(|(i, arg)| param(i, arg)).collect::<syn::Result<_>>()?
            }
            Role::Before | Role::Unknown => {
                if let Some(extra) = rest.first() {
                    return Err(syn::Error::new_spanned(
                        extra,
                        format!("`#[{what}]` hooks take only `&self` and the transaction context"),
                    ));
                }
                Vec::new()
            }
            Role::After => {
                if let Some(extra) = rest.get(1) {
                    return Err(syn::Error::new_spanned(
                        extra,
                        "`#[after_transaction]` hooks take `&self`, the context and at most one more parameter, \
                         the result (`result: &serde_json::Value`)",
                    ));
                }
                rest.iter()
                    .map(|arg| Ok(Param { name: "result".to_string(), ty: (*arg.ty).clone() }))
                    .collect::<syn::Result<_>>()?
            }
        };
        if let ReturnType::Type(_, ty) = &sig.output {
            if let Type::ImplTrait(_) = &**ty {
                return Err(syn::Error::new_spanned(
                    ty,
                    format!(
                        "`#[{what}]` {noun} return a concrete type (e.g. `Result<Asset, String>`), not `impl Trait`"
                    ),
                ));
            }
        }
        let output_span = match &sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => sig.ident.span(),
        };
        Ok(Method {
            role,
            ident: sig.ident.clone(),
            context,
            context_span,
            params,
            returns: returns(&sig.output),
            output_span,
        })
    }
}

fn check_receiver(first: Option<&FnArg>, sig: &syn::Signature, what: &str, noun: &str) -> syn::Result<()> {
    let Some(FnArg::Receiver(receiver)) = first else {
        let message = format!("`#[{what}]` {noun} are methods: the first parameter must be `&self`");
        return Err(match first {
            Some(arg) => syn::Error::new_spanned(arg, message),
            None => error(sig.paren_token.span.join(), message),
        });
    };
    if receiver.reference.is_none() || receiver.colon_token.is_some() {
        return Err(syn::Error::new_spanned(receiver, format!("`#[{what}]` {noun} take `&self`")));
    }
    if receiver.mutability.is_some() {
        return Err(syn::Error::new_spanned(
            receiver,
            format!(
                "`#[{what}]` {noun} take `&self`, not `&mut self`: transactions run concurrently, \
                 so keep state in the ledger (or behind a `Mutex`)"
            ),
        ));
    }
    Ok(())
}

fn context(arg: Option<&FnArg>, sig: &syn::Signature, what: &str, noun: &str) -> syn::Result<(Type, Span)> {
    let missing = || {
        let message = format!(
            "`#[{what}]` {noun} take the transaction context after `&self`: \
             `async fn {}(&self, ctx: &Context<'_>, ...)`",
            sig.ident
        );
        match arg {
            Some(arg) => syn::Error::new_spanned(arg, message),
            None => error(sig.paren_token.span.join(), message),
        }
    };
    let Some(FnArg::Typed(typed)) = arg else {
        return Err(missing());
    };
    let Type::Reference(reference) = &*typed.ty else {
        return Err(missing());
    };
    if let Some(mutability) = reference.mutability {
        return Err(error(mutability.span, "the transaction context is shared: take it as `&Context<'_>`, not `&mut`"));
    }
    check_pattern(&typed.pat)?;
    let context = syn::parse2(infer_lifetimes(reference.elem.to_token_stream()))?;
    Ok((context, typed.ty.span()))
}

fn param(index: usize, arg: &syn::PatType) -> syn::Result<Param> {
    let name = check_pattern(&arg.pat)?.map_or_else(
        || format!("param{index}"),
        |ident| {
            let name = unraw(&ident);
            let trimmed = name.trim_start_matches('_');
            if trimmed.is_empty() {
                format!("param{index}")
            } else {
                trimmed.to_string()
            }
        },
    );
    match &*arg.ty {
        Type::Reference(_) => Err(syn::Error::new_spanned(
            &arg.ty,
            "transaction arguments are owned values converted from the client's strings: \
             use an owned type such as `String` instead of a reference",
        )),
        Type::ImplTrait(_) | Type::Infer(_) => Err(syn::Error::new_spanned(
            &arg.ty,
            "transaction arguments need a concrete type (e.g. `String`, `i64`, `Asset`)",
        )),
        _ => Ok(Param { name, ty: (*arg.ty).clone() }),
    }
}

/// Accepts `name`, `mut name` and `_`; returns the name.
fn check_pattern(pat: &Pat) -> syn::Result<Option<syn::Ident>> {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => Ok(Some(ident.ident.clone())),
        Pat::Wild(_) => Ok(None),
        other => Err(syn::Error::new_spanned(
            other,
            "unsupported argument pattern: give each parameter a plain name (`asset: Asset`) \
             and destructure it in the body",
        )),
    }
}

fn returns(output: &ReturnType) -> Returns {
    let ReturnType::Type(_, ty) = output else {
        return Returns::Unit;
    };
    if is_unit(ty) {
        return Returns::Unit;
    }
    if let Type::Path(path) = &**ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                let ok = match &last.arguments {
                    PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                        GenericArgument::Type(t) => Some(t.clone()),
                        _ => None,
                    }),
                    _ => None,
                };
                return Returns::Result(ok.filter(|t| !is_unit(t)));
            }
        }
    }
    Returns::Value((**ty).clone())
}

fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(tuple) => tuple.elems.is_empty(),
        Type::Paren(inner) => is_unit(&inner.elem),
        _ => false,
    }
}

/// Replaces every lifetime but `'static` with `'_`, so the context type can annotate a `let`.
/// Works on the type's tokens (a lifetime is a joint `'` followed by its name), which spares every
/// chaincode build syn's `visit-mut` feature.
fn infer_lifetimes(tokens: TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Punct(apostrophe) if apostrophe.as_char() == '\'' && apostrophe.spacing() == Spacing::Joint => {
                match tokens.peek() {
                    Some(TokenTree::Ident(name)) if name != "static" => {
                        let span = name.span();
                        tokens.next();
                        syn::Lifetime::new("'_", span).to_tokens(&mut out);
                    }
                    _ => out.extend([TokenTree::Punct(apostrophe)]),
                }
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), infer_lifetimes(group.stream()));
                inner.set_span(group.span());
                out.extend([TokenTree::Group(inner)]);
            }
            other => out.extend([other]),
        }
    }
    out
}
