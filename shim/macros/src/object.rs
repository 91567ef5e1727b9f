//! `#[derive(Object)]`: JSON schemas of structs and unit enums, honoring serde's attributes.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Type};

use crate::case::{unraw, Rule};
use crate::metadata::schema_of;
use crate::parse::{error, key, skip};
use crate::runtime;

/// What serde's container attributes say.
#[derive(Default)]
struct Container {
    rename: Option<String>,
    rename_all: Option<Rule>,
    transparent: bool,
}

/// What serde's (and `#[object]`'s) field or variant attributes say.
#[derive(Default)]
struct Member {
    rename: Option<String>,
    skip: bool,
    optional: bool,
    flatten: bool,
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(error(
            input.generics.span(),
            "`#[derive(Object)]` does not support generic types: each object needs one name in the metadata; \
             derive it for a concrete type (`struct AssetPage { assets: Vec<Asset>, .. }`)",
        ));
    }
    let container = container(&input.attrs)?;
    let ident = &input.ident;
    let id = container.rename.clone().unwrap_or_else(|| unraw(ident));
    let rt = runtime();
    let body = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => newtype(&fields.unnamed[0].ty),
            Fields::Named(fields) if container.transparent => {
                let field = fields.named.iter().find(|f| member(&f.attrs).map(|m| !m.skip).unwrap_or(true));
                match field {
                    Some(field) => newtype(&field.ty),
                    None => return Err(error(ident.span(), "a transparent struct needs a field")),
                }
            }
            Fields::Named(fields) => object(&id, &container, fields)?,
            _ => {
                return Err(error(
                    ident.span(),
                    "`#[derive(Object)]` supports structs with named fields and newtypes (`struct Id(String);`)",
                ))
            }
        },
        Data::Enum(data) => {
            let mut names = Vec::new();
            for variant in &data.variants {
                if !matches!(variant.fields, Fields::Unit) {
                    return Err(error(
                        variant.span(),
                        "`#[derive(Object)]` supports enums whose variants are all unit variants (strings in JSON): \
                         fabric-contract-api's metadata schema has no `oneOf`, so an enum with data cannot be \
                         described; use a struct with optional fields, or implement `Schema` by hand",
                    ));
                }
                let m = member(&variant.attrs)?;
                if m.skip {
                    continue;
                }
                let name = unraw(&variant.ident);
                names.push(
                    m.rename
                        .unwrap_or_else(|| container.rename_all.map_or(name.clone(), |r| r.apply_to_variant(&name))),
                );
            }
            quote!(#rt::json!({ "type": "string", "enum": [#(#names),*] }))
        }
        Data::Union(data) => return Err(error(data.union_token.span, "`#[derive(Object)]` does not support unions")),
    };
    Ok(quote! {
        impl #rt::Schema for #ident {
            fn schema(__components: &mut #rt::Components) -> #rt::Value {
                #body
            }
        }
    })
}

fn newtype(ty: &Type) -> TokenStream {
    schema_of(ty, &quote!(__components))
}

fn object(id: &str, container: &Container, fields: &syn::FieldsNamed) -> syn::Result<TokenStream> {
    let rt = runtime();
    let mut properties = Vec::new();
    for field in &fields.named {
        let m = member(&field.attrs)?;
        if m.skip {
            continue;
        }
        let ty = &field.ty;
        let schema = schema_of(ty, &quote!(__components));
        if m.flatten {
            properties.push(quote! {
                let __flat = #schema;
                __object.flatten(__components, &__flat);
            });
            continue;
        }
        let ident = unraw(field.ident.as_ref().expect("named field"));
        let name = m.rename.unwrap_or_else(|| container.rename_all.map_or(ident.clone(), |r| r.apply_to_field(&ident)));
        let required = !(m.optional || is_option(ty));
        properties.push(quote! {
            let __schema = #schema;
            __object.property(#name, __schema, #required);
        });
    }
    Ok(quote! {
        __components.object(#id, |__components| {
            let mut __object = #rt::ObjectSchema::new(#id);
            #(#properties)*
            __object
        })
    })
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Paren(inner) => is_option(&inner.elem),
        Type::Group(inner) => is_option(&inner.elem),
        _ => false,
    }
}

fn container(attrs: &[syn::Attribute]) -> syn::Result<Container> {
    let mut c = Container::default();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| match key(&meta).as_str() {
                "rename" => {
                    c.rename = serialize_name(&meta)?;
                    Ok(())
                }
                "rename_all" => {
                    if let Some(rule) = serialize_name_lit(&meta)? {
                        c.rename_all = Some(Rule::parse(&rule)?);
                    }
                    Ok(())
                }
                "transparent" => {
                    c.transparent = true;
                    Ok(())
                }
                _ => skip(&meta),
            })?;
        } else if attr.path().is_ident("object") {
            return Err(error(attr.span(), "`#[object(...)]` goes on fields (`#[object(optional)]`)"));
        }
    }
    Ok(c)
}

fn member(attrs: &[syn::Attribute]) -> syn::Result<Member> {
    let mut m = Member::default();
    for attr in attrs {
        if attr.path().is_ident("serde") {
            attr.parse_nested_meta(|meta| {
                match key(&meta).as_str() {
                    "rename" => m.rename = serialize_name(&meta)?,
                    "skip" | "skip_serializing" => m.skip = true,
                    "skip_deserializing" | "default" => {
                        m.optional = true;
                        skip(&meta)?;
                    }
                    "skip_serializing_if" => {
                        m.optional = true;
                        skip(&meta)?;
                    }
                    "flatten" => m.flatten = true,
                    _ => skip(&meta)?,
                }
                Ok(())
            })?;
        } else if attr.path().is_ident("object") {
            attr.parse_nested_meta(|meta| match key(&meta).as_str() {
                "optional" => {
                    m.optional = true;
                    Ok(())
                }
                other => Err(meta.error(format!("unknown `#[object]` option `{other}`; expected `optional`"))),
            })?;
        }
    }
    Ok(m)
}

/// `rename = "x"` or `rename(serialize = "x", ...)`: the serialized name.
fn serialize_name(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<String>> {
    Ok(serialize_name_lit(meta)?.map(|lit| lit.value()))
}

fn serialize_name_lit(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            name = Some(inner.value()?.parse()?);
        } else {
            skip(&inner)?;
        }
        Ok(())
    })?;
    Ok(name)
}
