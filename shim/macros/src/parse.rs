//! The options of `#[contract(...)]` and `#[transaction(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Token};

use crate::case::Rule;

/// `#[contract(name = "...", rename_all = "...", title = "...", version = "...", description = "...",
/// compat = "go")]`.
#[derive(Default)]
pub(crate) struct ContractArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) rename_all: Option<Rule>,
    pub(crate) title: Option<LitStr>,
    pub(crate) version: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) compat: Option<Compat>,
}

/// `compat = "..."`: whose argument handling to reproduce exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compat {
    /// fabric-contract-api-go's.
    Go,
}

impl Compat {
    fn parse(lit: &LitStr) -> syn::Result<Compat> {
        match lit.value().as_str() {
            "go" => Ok(Compat::Go),
            other => Err(syn::Error::new(
                lit.span(),
                format!("unknown `compat` value `{other}`; expected \"go\" (fabric-contract-api-go)"),
            )),
        }
    }
}

impl ContractArgs {
    pub(crate) fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut args = ContractArgs::default();
        let parser = syn::meta::parser(|meta| {
            let key = key(&meta);
            match key.as_str() {
                "name" => set(&mut args.name, &meta, &key, string(&meta)?),
                "title" => set(&mut args.title, &meta, &key, string(&meta)?),
                "version" => set(&mut args.version, &meta, &key, string(&meta)?),
                "description" => set(&mut args.description, &meta, &key, string(&meta)?),
                "rename_all" => {
                    let rule = Rule::parse(&string(&meta)?)?;
                    set(&mut args.rename_all, &meta, &key, rule)
                }
                "compat" => {
                    let compat = Compat::parse(&string(&meta)?)?;
                    set(&mut args.compat, &meta, &key, compat)
                }
                _ => Err(meta.error(format!(
                    "unknown `#[contract]` option `{key}`; expected `name`, `rename_all`, `title`, `version`, `description` or `compat`"
                ))),
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(args)
    }
}

/// `#[transaction]`, `#[transaction(evaluate)]`, `#[transaction(submit, name = "...")]`.
#[derive(Default)]
pub(crate) struct TransactionArgs {
    pub(crate) evaluate: bool,
    pub(crate) name: Option<LitStr>,
}

impl TransactionArgs {
    pub(crate) fn parse(attr: &syn::Attribute) -> syn::Result<Self> {
        let mut args = TransactionArgs::default();
        if matches!(attr.meta, syn::Meta::Path(_)) {
            return Ok(args);
        }
        let mut kind: Option<&'static str> = None;
        attr.parse_nested_meta(|meta| {
            let key = key(&meta);
            match key.as_str() {
                "submit" | "evaluate" => {
                    let this = if key == "submit" { "submit" } else { "evaluate" };
                    if let Some(previous) = kind {
                        return Err(meta.error(format!(
                            "`{this}` conflicts with `{previous}`: a transaction is either submitted or evaluated"
                        )));
                    }
                    kind = Some(this);
                    args.evaluate = this == "evaluate";
                    Ok(())
                }
                "name" => set(&mut args.name, &meta, &key, string(&meta)?),
                _ => Err(meta.error(format!(
                    "unknown `#[transaction]` option `{key}`; expected `submit`, `evaluate` or `name = \"...\"`"
                ))),
            }
        })?;
        Ok(args)
    }
}

/// Hooks take no options.
pub(crate) fn no_args(attr: &syn::Attribute, what: &str) -> syn::Result<()> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(()),
        other => Err(syn::Error::new_spanned(other, format!("`#[{what}]` takes no options"))),
    }
}

pub(crate) fn key(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| meta.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"))
}

fn string(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let value = meta.value()?;
    value.parse::<LitStr>()
}

fn set<T>(slot: &mut Option<T>, meta: &ParseNestedMeta, key: &str, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{key}` is given twice")));
    }
    *slot = Some(value);
    Ok(())
}

/// Skips the value of an option this macro does not interpret (in `#[serde(...)]`).
pub(crate) fn skip(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}

/// An error at `span`.
pub(crate) fn error(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}
