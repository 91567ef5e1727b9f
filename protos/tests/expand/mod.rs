//! Writes out the code that prost-derive's `Message`, `Oneof` and `Enumeration` derives would
//! generate, so that building ccaas-protos runs no proc-macro (issue 17: prost-derive, its
//! dependencies and syn's `extra-traits` were ~5 s of a chaincode's cold build).
//!
//! [`expand`] takes prost-build's output, drops the three derives and the `#[prost(...)]`
//! attributes, and adds the impls: `prost::Message` (through `prost::encoding`'s public
//! functions), `Default`, `Debug` as prost-derive prints it, the enumeration fields' accessors,
//! and the enumerations' `TryFrom<i32>`, `From<_> for i32`, `is_valid` and `Default`.
//! `tests/equivalence.rs` checks on random wire bytes that the result behaves exactly like the
//! derives ([`derived`] writes the derive version it compares against).
//!
//! Field kinds handled (each covered by `tests/equivalence.proto` where Fabric's files lack it):
//! every scalar type (plain, `optional`, repeated, packed), `bytes` as `Bytes` (the generator's
//! setting), enumerations (plain, `optional`, repeated), messages (optional and repeated, boxed or
//! not), maps with scalar or message values (`HashMap` or `BTreeMap`), oneofs of scalars,
//! enumerations and messages. Anything else (proto2 defaults and labels, groups, maps of
//! enumerations) stops the generator with a message saying so.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Fields, Ident, Item, ItemEnum, ItemStruct, Lit, Meta, Path, Token};

/// `code` (prost-build's output) with the prost derives written out, formatted by prettyplease.
pub fn expand(code: &str) -> String {
    let mut file: syn::File = syn::parse_str(code).expect("prost-build's output parses");
    expand_items(&mut file.items);
    prettyplease::unparse(&file)
}

/// `code` (prost-build's output) with the derives kept and the tonic client and server modules
/// removed: the reference that `tests/equivalence.rs` compares the expanded code with.
pub fn derived(code: &str) -> String {
    let mut file: syn::File = syn::parse_str(code).expect("prost-build's output parses");
    file.items.retain(|item| !matches!(item, Item::Mod(m) if m.attrs.iter().any(|a| a.path().is_ident("cfg"))));
    prettyplease::unparse(&file)
}

/// The paths (from the package's module) of `code`'s types that derive `::prost::<derive>`
/// (`Message`, `Enumeration`), in file order.
pub fn type_paths(code: &str, derive: &str) -> Vec<Vec<String>> {
    fn walk(items: &[Item], derive: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for item in items {
            let (attrs, ident) = match item {
                Item::Struct(s) => (&s.attrs, &s.ident),
                Item::Enum(e) => (&e.attrs, &e.ident),
                Item::Mod(m) => {
                    if let Some((_, items)) = &m.content {
                        walk(items, derive, &[prefix, &[m.ident.to_string()]].concat(), out);
                    }
                    continue;
                }
                _ => continue,
            };
            if has_derive(attrs, derive) {
                out.push([prefix, &[ident.to_string()]].concat());
            }
        }
    }
    let file: syn::File = syn::parse_str(code).expect("prost-build's output parses");
    let mut out = Vec::new();
    walk(&file.items, derive, &[], &mut out);
    out
}

fn expand_items(items: &mut Vec<Item>) {
    for item in std::mem::take(items) {
        let mut item = item;
        let added = match &mut item {
            Item::Struct(s) if has_derive(&s.attrs, "Message") => {
                take_derive(&mut s.attrs, "Message");
                message(s)
            }
            Item::Enum(e) if has_derive(&e.attrs, "Oneof") => {
                take_derive(&mut e.attrs, "Oneof");
                oneof(e)
            }
            Item::Enum(e) if has_derive(&e.attrs, "Enumeration") => {
                take_derive(&mut e.attrs, "Enumeration");
                enumeration(e)
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &mut m.content {
                    expand_items(items);
                }
                TokenStream::new()
            }
            _ => TokenStream::new(),
        };
        items.push(item);
        let added: syn::File = syn::parse2(added).expect("the expanded impls parse");
        items.extend(added.items);
    }
}

fn derives(attr: &Attribute) -> Option<Punctuated<Path, Token![,]>> {
    if !attr.path().is_ident("derive") {
        return None;
    }
    Some(attr.parse_args_with(Punctuated::parse_terminated).expect("a derive list"))
}

fn is_prost(path: &Path, name: &str) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments == ["prost", name]
}

fn has_derive(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().filter_map(derives).any(|list| list.iter().any(|p| is_prost(p, name)))
}

/// Removes `::prost::<name>` from the item's derives.
fn take_derive(attrs: &mut [Attribute], name: &str) {
    for attr in attrs.iter_mut() {
        let Some(list) = derives(attr) else { continue };
        if list.iter().any(|p| is_prost(p, name)) {
            let kept = list.iter().filter(|p| !is_prost(p, name));
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
}

/// Removes the `#[prost(...)]` attributes and returns their items.
fn take_prost_attr(attrs: &mut Vec<Attribute>) -> Vec<Meta> {
    let mut metas = Vec::new();
    attrs.retain(|attr| {
        if !attr.path().is_ident("prost") {
            return true;
        }
        let list = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated).expect("a #[prost] list");
        metas.extend(list);
        false
    });
    metas
}

/// A scalar protobuf type: its `prost::encoding` module and, for an enumeration, its Rust type.
#[derive(Clone)]
struct Scalar {
    name: String,
    enumeration: Option<Path>,
}

impl Scalar {
    fn parse(name: &str) -> Option<Scalar> {
        const NAMES: &[&str] = &[
            "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
            "sfixed32", "sfixed64", "bool", "string", "bytes",
        ];
        NAMES.contains(&name).then(|| Scalar { name: name.to_string(), enumeration: None })
    }

    fn module(&self) -> TokenStream {
        let name = format_ident!("{}", if self.enumeration.is_some() { "int32" } else { self.name.as_str() });
        quote!(::prost::encoding::#name)
    }

    fn is_numeric(&self) -> bool {
        self.name != "string" && self.name != "bytes"
    }

    /// True when `value` (an expression of the field's type) differs from proto3's default.
    fn is_set(&self, value: &TokenStream) -> TokenStream {
        if let Some(ty) = &self.enumeration {
            return quote!(#value != #ty::default() as i32);
        }
        match self.name.as_str() {
            "string" | "bytes" => quote!(!#value.is_empty()),
            "bool" => quote!(#value),
            "float" | "double" => quote!(#value != 0.0),
            _ => quote!(#value != 0),
        }
    }

    /// proto3's default value, the value of a plain field in `Default`.
    fn default(&self) -> TokenStream {
        if let Some(ty) = &self.enumeration {
            return quote!(#ty::default() as i32);
        }
        match self.name.as_str() {
            "string" => quote!(::prost::alloc::string::String::new()),
            "bytes" => quote!(::core::default::Default::default()),
            "bool" => quote!(false),
            "float" | "double" => quote!(0.0),
            _ => quote!(0),
        }
    }
}

/// How a field is stored and encoded.
enum Kind {
    /// A proto3 scalar: encoded when not the default.
    Plain(Scalar),
    /// A proto3 `optional` scalar (`Option<T>`).
    Optional(Scalar),
    /// A repeated scalar, one record per element.
    Repeated(Scalar),
    /// A repeated numeric scalar, packed in one record.
    Packed(Scalar),
    /// A oneof variant's scalar: always encoded.
    Required(Scalar),
    /// An optional message (`Option<M>`), or a oneof variant's message if `required`.
    Message {
        required: bool,
    },
    RepeatedMessage,
    /// A map; `value` is `None` for message values.
    Map {
        btree: bool,
        key: Scalar,
        value: Option<Scalar>,
    },
    Oneof {
        ty: Path,
    },
}

struct Field {
    ident: Ident,
    tags: Vec<u32>,
    kind: Kind,
}

fn lit_str(meta: &Meta) -> String {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => s.value(),
                _ => panic!("unsupported #[prost] item {}", quote!(#meta)),
            },
            _ => panic!("unsupported #[prost] item {}", quote!(#meta)),
        },
        _ => panic!("unsupported #[prost] item {}", quote!(#meta)),
    }
}

/// Reads a field's `#[prost(...)]` items; `in_oneof` for a oneof's variant.
fn parse_field(ident: Ident, metas: &[Meta], in_oneof: bool) -> Field {
    let unsupported = |what: &str| -> ! {
        panic!(
            "{ident}: {what} is not handled by protos/tests/expand (it writes out prost-derive's code only for \
             the field kinds listed at its top); extend it to the new kind and cover it in tests/equivalence.proto"
        )
    };
    let (mut scalar, mut label, mut packed, mut tags) = (None, None, None, Vec::new());
    let (mut message, mut map, mut oneof) = (false, None, None);
    for meta in metas {
        let name = meta.path().get_ident().map(Ident::to_string).unwrap_or_default();
        match (name.as_str(), meta) {
            ("tag" | "tags", _) => {
                tags = lit_str(meta).split(',').map(|t| t.trim().parse().expect("a numeric tag")).collect()
            }
            ("optional" | "repeated" | "required", Meta::Path(_)) => label = Some(name),
            ("message", Meta::Path(_)) => message = true,
            // A `Box<M>`: prost implements `Message` for it, so the code is the same.
            ("boxed", Meta::Path(_)) => {}
            ("packed", _) => packed = Some(lit_str(meta) == "true"),
            ("enumeration", _) => {
                let ty = syn::parse_str(&lit_str(meta)).expect("an enumeration path");
                scalar = Some(Scalar { name: "enumeration".into(), enumeration: Some(ty) });
            }
            ("bytes", Meta::NameValue(_)) => scalar = Scalar::parse("bytes"),
            ("map" | "hash_map" | "btree_map", _) => map = Some((name == "btree_map", lit_str(meta))),
            ("oneof", _) => oneof = Some(syn::parse_str::<Path>(&lit_str(meta)).expect("a oneof path")),
            (_, Meta::Path(_)) if Scalar::parse(&name).is_some() => scalar = Scalar::parse(&name),
            _ => unsupported(&format!("#[prost({})]", quote!(#meta))),
        }
    }
    let kind = if let Some(ty) = oneof {
        Kind::Oneof { ty }
    } else if let Some((btree, types)) = map {
        let (key, value) = types.split_once(',').expect("a map's key and value types");
        let key = Scalar::parse(key.trim()).unwrap_or_else(|| unsupported("this map key"));
        let value = match value.trim() {
            "message" => None,
            value => Some(Scalar::parse(value).unwrap_or_else(|| unsupported("a map of enumerations"))),
        };
        Kind::Map { btree, key, value }
    } else if message {
        match label.as_deref() {
            _ if in_oneof => Kind::Message { required: true },
            None | Some("optional") => Kind::Message { required: false },
            Some("repeated") => Kind::RepeatedMessage,
            Some(label) => unsupported(&format!("a {label} message")),
        }
    } else {
        let scalar = scalar.unwrap_or_else(|| unsupported("a field without a type"));
        match label.as_deref() {
            _ if in_oneof => Kind::Required(scalar),
            None => Kind::Plain(scalar),
            Some("optional") => Kind::Optional(scalar),
            Some("repeated") if packed.unwrap_or(scalar.is_numeric()) => Kind::Packed(scalar),
            Some("repeated") => Kind::Repeated(scalar),
            Some(label) => unsupported(&format!("a {label} scalar")),
        }
    };
    assert!(!tags.is_empty(), "{ident} has no tag");
    Field { ident, tags, kind }
}

impl Field {
    /// Statements that write the field (`value`, a place expression) to `buf`.
    fn encode(&self, value: TokenStream) -> TokenStream {
        let tag = Literal::u32_unsuffixed(self.tags[0]);
        match &self.kind {
            Kind::Plain(s) => {
                let (module, is_set) = (s.module(), s.is_set(&value));
                quote!(if #is_set { #module::encode(#tag, &#value, buf); })
            }
            Kind::Optional(s) => {
                let module = s.module();
                quote!(if let ::core::option::Option::Some(value) = &#value { #module::encode(#tag, value, buf); })
            }
            Kind::Required(s) => {
                let module = s.module();
                quote!(#module::encode(#tag, &#value, buf);)
            }
            Kind::Repeated(s) => {
                let module = s.module();
                quote!(#module::encode_repeated(#tag, &#value, buf);)
            }
            Kind::Packed(s) => {
                let module = s.module();
                quote!(#module::encode_packed(#tag, &#value, buf);)
            }
            Kind::Message { required: true } => quote!(::prost::encoding::message::encode(#tag, &#value, buf);),
            Kind::Message { required: false } => quote! {
                if let ::core::option::Option::Some(msg) = &#value {
                    ::prost::encoding::message::encode(#tag, msg, buf);
                }
            },
            Kind::RepeatedMessage => quote! {
                for msg in &#value { ::prost::encoding::message::encode(#tag, msg, buf); }
            },
            Kind::Map { btree, key, value: map_value } => {
                let (map, key) = (map_module(*btree), key.module());
                let value_module = map_value.as_ref().map_or(quote!(::prost::encoding::message), Scalar::module);
                quote! {
                    #map::encode(
                        #key::encode, #key::encoded_len, #value_module::encode, #value_module::encoded_len, #tag, &#value, buf,
                    );
                }
            }
            Kind::Oneof { .. } => quote!(if let ::core::option::Option::Some(oneof) = &#value { oneof.encode(buf); }),
        }
    }

    /// An expression: the field's encoded length, tag and length prefix included.
    fn encoded_len(&self, value: TokenStream) -> TokenStream {
        let tag = Literal::u32_unsuffixed(self.tags[0]);
        match &self.kind {
            Kind::Plain(s) => {
                let (module, is_set) = (s.module(), s.is_set(&value));
                quote!(if #is_set { #module::encoded_len(#tag, &#value) } else { 0 })
            }
            Kind::Optional(s) => {
                let module = s.module();
                quote!(#value.as_ref().map_or(0, |value| #module::encoded_len(#tag, value)))
            }
            Kind::Required(s) => {
                let module = s.module();
                quote!(#module::encoded_len(#tag, &#value))
            }
            Kind::Repeated(s) => {
                let module = s.module();
                quote!(#module::encoded_len_repeated(#tag, &#value))
            }
            Kind::Packed(s) => {
                let module = s.module();
                quote!(#module::encoded_len_packed(#tag, &#value))
            }
            Kind::Message { required: true } => quote!(::prost::encoding::message::encoded_len(#tag, &#value)),
            Kind::Message { required: false } => {
                quote!(#value.as_ref().map_or(0, |msg| ::prost::encoding::message::encoded_len(#tag, msg)))
            }
            Kind::RepeatedMessage => quote!(::prost::encoding::message::encoded_len_repeated(#tag, &#value)),
            Kind::Map { btree, key, value: map_value } => {
                let (map, key) = (map_module(*btree), key.module());
                let value_module = map_value.as_ref().map_or(quote!(::prost::encoding::message), Scalar::module);
                quote!(#map::encoded_len(#key::encoded_len, #value_module::encoded_len, #tag, &#value))
            }
            Kind::Oneof { ty } => quote!(#value.as_ref().map_or(0, #ty::encoded_len)),
        }
    }

    /// An expression that merges one record into the field (`value`, a place expression).
    fn merge(&self, value: TokenStream) -> TokenStream {
        match &self.kind {
            Kind::Plain(s) | Kind::Required(s) => {
                let module = s.module();
                quote!(#module::merge(wire_type, &mut #value, buf, ctx))
            }
            Kind::Optional(s) => {
                let module = s.module();
                let value = quote!(#value.get_or_insert_with(::core::default::Default::default));
                quote!(#module::merge(wire_type, #value, buf, ctx))
            }
            Kind::Repeated(s) | Kind::Packed(s) => {
                let module = s.module();
                quote!(#module::merge_repeated(wire_type, &mut #value, buf, ctx))
            }
            Kind::Message { required: true } => {
                quote!(::prost::encoding::message::merge(wire_type, &mut #value, buf, ctx))
            }
            Kind::Message { required: false } => quote! {
                ::prost::encoding::message::merge(
                    wire_type, #value.get_or_insert_with(::core::default::Default::default), buf, ctx,
                )
            },
            Kind::RepeatedMessage => {
                quote!(::prost::encoding::message::merge_repeated(wire_type, &mut #value, buf, ctx))
            }
            Kind::Map { btree, key, value: map_value } => {
                let (map, key) = (map_module(*btree), key.module());
                let value_module = map_value.as_ref().map_or(quote!(::prost::encoding::message), Scalar::module);
                quote! {
                    ::prost::encoding::check_wire_type(::prost::encoding::WireType::LengthDelimited, wire_type)
                        .and_then(|()| #map::merge(#key::merge, #value_module::merge, &mut #value, buf, ctx))
                }
            }
            Kind::Oneof { ty } => quote!(#ty::merge(&mut #value, tag, wire_type, buf, ctx)),
        }
    }

    /// A statement that resets the field to its default.
    fn clear(&self) -> TokenStream {
        let ident = &self.ident;
        match &self.kind {
            Kind::Plain(s) if s.is_numeric() => {
                let default = s.default();
                quote!(self.#ident = #default;)
            }
            Kind::Optional(_) | Kind::Message { .. } | Kind::Oneof { .. } => {
                quote!(self.#ident = ::core::option::Option::None;)
            }
            _ => quote!(self.#ident.clear();),
        }
    }

    /// The field's initial value in `Default`.
    fn default(&self) -> TokenStream {
        match &self.kind {
            Kind::Plain(s) => s.default(),
            _ => quote!(::core::default::Default::default()),
        }
    }

    /// An expression for `Debug`: a reference to what prints the field (`value`) as prost-derive
    /// does, where enumeration values print as their variant's name when they have one.
    fn debug(&self, value: TokenStream) -> TokenStream {
        match &self.kind {
            Kind::Plain(Scalar { enumeration: Some(ty), .. })
            | Kind::Required(Scalar { enumeration: Some(ty), .. }) => quote!(&EnumValue(#ty::try_from(#value))),
            Kind::Optional(Scalar { enumeration: Some(ty), .. }) => {
                quote!(&#value.map(|value| EnumValue(#ty::try_from(value))))
            }
            Kind::Repeated(Scalar { enumeration: Some(ty), .. })
            | Kind::Packed(Scalar { enumeration: Some(ty), .. }) => {
                let values = quote!(#value.iter().map(|&value| EnumValue(#ty::try_from(value))));
                quote!(&#values.collect::<::prost::alloc::vec::Vec<_>>())
            }
            _ => quote!(&#value),
        }
    }

    fn has_enumeration(&self) -> bool {
        match &self.kind {
            Kind::Plain(s) | Kind::Optional(s) | Kind::Required(s) | Kind::Repeated(s) | Kind::Packed(s) => {
                s.enumeration.is_some()
            }
            _ => false,
        }
    }

    /// prost-derive's accessors: of enumeration fields, and of `optional` scalars.
    fn methods(&self) -> TokenStream {
        let ident = &self.ident;
        let name = ident.to_string().trim_start_matches("r#").to_string();
        let set = format_ident!("set_{name}");
        let push = format_ident!("push_{name}");
        let set_doc = format!("Sets `{name}` to the provided enum value.");
        match &self.kind {
            Kind::Plain(Scalar { enumeration: Some(ty), .. }) => {
                let doc = format!(
                    "Returns the enum value of `{name}`, or the default if the field is set to an invalid enum value."
                );
                quote! {
                    #[doc = #doc]
                    pub fn #ident(&self) -> #ty {
                        #ty::try_from(self.#ident).unwrap_or(#ty::default())
                    }
                    #[doc = #set_doc]
                    pub fn #set(&mut self, value: #ty) {
                        self.#ident = value as i32;
                    }
                }
            }
            Kind::Optional(Scalar { enumeration: Some(ty), .. }) => {
                let doc = format!(
                    "Returns the enum value of `{name}`, \
                     or the default if the field is unset or set to an invalid enum value."
                );
                quote! {
                    #[doc = #doc]
                    pub fn #ident(&self) -> #ty {
                        self.#ident.and_then(|value| #ty::try_from(value).ok()).unwrap_or(#ty::default())
                    }
                    #[doc = #set_doc]
                    pub fn #set(&mut self, value: #ty) {
                        self.#ident = ::core::option::Option::Some(value as i32);
                    }
                }
            }
            Kind::Repeated(Scalar { enumeration: Some(ty), .. })
            | Kind::Packed(Scalar { enumeration: Some(ty), .. }) => {
                let doc = format!("Returns an iterator which yields the valid enum values contained in `{name}`.");
                let push_doc = format!("Appends the provided enum value to `{name}`.");
                quote! {
                    #[doc = #doc]
                    pub fn #ident(&self) -> ::core::iter::FilterMap<
                        ::core::iter::Cloned<::core::slice::Iter<'_, i32>>,
                        fn(i32) -> ::core::option::Option<#ty>,
                    > {
                        self.#ident.iter().cloned().filter_map(|value| #ty::try_from(value).ok())
                    }
                    #[doc = #push_doc]
                    pub fn #push(&mut self, value: #ty) {
                        self.#ident.push(value as i32);
                    }
                }
            }
            Kind::Optional(s) => {
                let doc = format!("Returns the value of `{name}`, or the default value if `{name}` is unset.");
                let (ty, some, default) = match s.name.as_str() {
                    "string" => (quote!(&str), quote!(Some(value) => value), quote!("")),
                    "bytes" => (quote!(&[u8]), quote!(Some(value) => value), quote!(&[])),
                    _ => {
                        let ty = rust_type(&s.name);
                        (quote!(#ty), quote!(Some(value) => *value), quote!(::core::default::Default::default()))
                    }
                };
                quote! {
                    #[doc = #doc]
                    pub fn #ident(&self) -> #ty {
                        match &self.#ident {
                            ::core::option::Option::#some,
                            ::core::option::Option::None => #default,
                        }
                    }
                }
            }
            _ => TokenStream::new(),
        }
    }
}

fn map_module(btree: bool) -> TokenStream {
    if btree {
        quote!(::prost::encoding::btree_map)
    } else {
        quote!(::prost::encoding::hash_map)
    }
}

fn rust_type(name: &str) -> Ident {
    let ty = match name {
        "double" => "f64",
        "float" => "f32",
        "int32" | "sint32" | "sfixed32" => "i32",
        "int64" | "sint64" | "sfixed64" => "i64",
        "uint32" | "fixed32" => "u32",
        "uint64" | "fixed64" => "u64",
        "bool" => "bool",
        other => panic!("no Rust number type for {other}"),
    };
    format_ident!("{ty}")
}

/// The local type that prints an enumeration field's value as prost-derive does: the variant's
/// `Debug` when the number is a variant, else the number.
fn enum_value_debug() -> TokenStream {
    quote! {
        struct EnumValue<T>(::core::result::Result<T, ::prost::UnknownEnumValue>);
        impl<T: ::core::fmt::Debug> ::core::fmt::Debug for EnumValue<T> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match &self.0 {
                    ::core::result::Result::Ok(value) => ::core::fmt::Debug::fmt(value, f),
                    ::core::result::Result::Err(::prost::UnknownEnumValue(number)) => {
                        ::core::fmt::Debug::fmt(number, f)
                    }
                }
            }
        }
    }
}

/// The impls of a `#[derive(::prost::Message)]` struct (whose `#[prost]` attributes it removes).
fn message(item: &mut ItemStruct) -> TokenStream {
    let name = &item.ident;
    let Fields::Named(named) = &mut item.fields else {
        panic!("{name}: prost-build writes messages with named fields")
    };
    let fields: Vec<Field> = named
        .named
        .iter_mut()
        .map(|f| {
            let metas = take_prost_attr(&mut f.attrs);
            parse_field(f.ident.clone().expect("a named field"), &metas, false)
        })
        .collect();
    let mut by_tag: Vec<&Field> = fields.iter().collect();
    by_tag.sort_by_key(|f| f.tags.iter().min().copied());

    let encode = by_tag.iter().map(|f| {
        let ident = &f.ident;
        f.encode(quote!(self.#ident))
    });
    let encoded_len = by_tag.iter().map(|f| {
        let ident = &f.ident;
        f.encoded_len(quote!(self.#ident))
    });
    let merge = by_tag.iter().map(|f| {
        let ident = &f.ident;
        let tags = f.tags.iter().map(|&tag| Literal::u32_unsuffixed(tag));
        let merge = f.merge(quote!(self.#ident));
        let field_name = ident.to_string();
        quote! {
            #(#tags)|* => #merge.map_err(|mut error| {
                error.push(STRUCT_NAME, #field_name);
                error
            }),
        }
    });
    let struct_name = (!fields.is_empty()).then(|| {
        let name = name.to_string();
        quote!(const STRUCT_NAME: &str = #name;)
    });
    let clear = by_tag.iter().map(|f| f.clear());
    let default = fields.iter().map(|f| {
        let (ident, default) = (&f.ident, f.default());
        quote!(#ident: #default,)
    });
    let debug_helper = fields.iter().any(Field::has_enumeration).then(enum_value_debug);
    let debug = fields.iter().map(|f| {
        let ident = &f.ident;
        let (field_name, value) = (ident.to_string(), f.debug(quote!(self.#ident)));
        quote!(.field(#field_name, #value))
    });
    let name_str = name.to_string();
    let methods: Vec<TokenStream> = fields.iter().map(Field::methods).filter(|m| !m.is_empty()).collect();
    let methods = (!methods.is_empty()).then(|| quote!(impl #name { #(#methods)* }));
    // An empty message writes nothing: its `encode_raw` leaves the buffer alone.
    let buf = if fields.is_empty() { quote!(_buf) } else { quote!(buf) };
    quote! {
        impl ::prost::Message for #name {
            fn encode_raw(&self, #buf: &mut impl ::prost::bytes::BufMut) {
                #(#encode)*
            }
            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: ::prost::encoding::WireType,
                buf: &mut impl ::prost::bytes::Buf,
                ctx: ::prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), ::prost::DecodeError> {
                #struct_name
                match tag {
                    #(#merge)*
                    _ => ::prost::encoding::skip_field(wire_type, tag, buf, ctx),
                }
            }
            #[inline]
            fn encoded_len(&self) -> usize {
                0 #(+ #encoded_len)*
            }
            fn clear(&mut self) {
                #(#clear)*
            }
        }
        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self { #(#default)* }
            }
        }
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #debug_helper
                f.debug_struct(#name_str)
                    #(#debug)*
                    .finish()
            }
        }
        #methods
    }
}

/// The impls of a `#[derive(::prost::Oneof)]` enum (whose `#[prost]` attributes it removes).
fn oneof(item: &mut ItemEnum) -> TokenStream {
    let name = item.ident.clone();
    let variants: Vec<(Ident, Field)> = item
        .variants
        .iter_mut()
        .map(|v| {
            let metas = take_prost_attr(&mut v.attrs);
            (v.ident.clone(), parse_field(v.ident.clone(), &metas, true))
        })
        .collect();
    let encode = variants.iter().map(|(variant, f)| {
        let encode = f.encode(quote!(*value));
        quote!(Self::#variant(value) => { #encode })
    });
    let encoded_len = variants.iter().map(|(variant, f)| {
        let len = f.encoded_len(quote!(*value));
        quote!(Self::#variant(value) => #len,)
    });
    let merge = variants.iter().map(|(variant, f)| {
        let tag = Literal::u32_unsuffixed(f.tags[0]);
        let (merge_existing, merge_new) = (f.merge(quote!(*value)), f.merge(quote!(new_value)));
        quote! {
            #tag => {
                if let ::core::option::Option::Some(#name::#variant(value)) = field {
                    #merge_existing
                } else {
                    let mut new_value = ::core::default::Default::default();
                    #merge_new.map(|()| *field = ::core::option::Option::Some(#name::#variant(new_value)))
                }
            }
        }
    });
    let unreachable = format!("invalid {name} tag: {{}}");
    let debug_helper = variants.iter().any(|(_, f)| f.has_enumeration()).then(enum_value_debug);
    let debug = variants.iter().map(|(variant, f)| {
        let (variant_name, value) = (variant.to_string(), f.debug(quote!(*value)));
        quote!(Self::#variant(value) => f.debug_tuple(#variant_name).field(#value).finish(),)
    });
    quote! {
        impl #name {
            /// Encodes the message to a buffer.
            pub fn encode(&self, buf: &mut impl ::prost::bytes::BufMut) {
                match self {
                    #(#encode)*
                }
            }
            /// Decodes an instance of the message from a buffer, and merges it into self.
            pub fn merge(
                field: &mut ::core::option::Option<#name>,
                tag: u32,
                wire_type: ::prost::encoding::WireType,
                buf: &mut impl ::prost::bytes::Buf,
                ctx: ::prost::encoding::DecodeContext,
            ) -> ::core::result::Result<(), ::prost::DecodeError> {
                match tag {
                    #(#merge)*
                    _ => unreachable!(#unreachable, tag),
                }
            }
            /// Returns the encoded length of the message without a length delimiter.
            #[inline]
            pub fn encoded_len(&self) -> usize {
                match self {
                    #(#encoded_len)*
                }
            }
        }
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #debug_helper
                match self {
                    #(#debug)*
                }
            }
        }
    }
}

/// The impls of a `#[derive(::prost::Enumeration)]` enum.
fn enumeration(item: &mut ItemEnum) -> TokenStream {
    let name = &item.ident;
    let variants: Vec<(&Ident, &Expr)> = item
        .variants
        .iter()
        .map(|v| (&v.ident, &v.discriminant.as_ref().expect("an enumeration variant with its number").1))
        .collect();
    let first = variants.first().expect("an enumeration with a variant").0;
    let numbers = variants.iter().map(|(_, number)| number);
    let try_from =
        variants.iter().map(|(variant, number)| quote!(#number => ::core::result::Result::Ok(Self::#variant),));
    let is_valid_doc = format!("Returns `true` if `value` is a variant of `{name}`.");
    quote! {
        impl #name {
            #[doc = #is_valid_doc]
            pub const fn is_valid(value: i32) -> bool {
                matches!(value, #(#numbers)|*)
            }
        }
        impl ::core::default::Default for #name {
            fn default() -> Self {
                Self::#first
            }
        }
        impl ::core::convert::From<#name> for i32 {
            fn from(value: #name) -> i32 {
                value as i32
            }
        }
        impl ::core::convert::TryFrom<i32> for #name {
            type Error = ::prost::UnknownEnumValue;
            fn try_from(value: i32) -> ::core::result::Result<Self, ::prost::UnknownEnumValue> {
                match value {
                    #(#try_from)*
                    _ => ::core::result::Result::Err(::prost::UnknownEnumValue(value)),
                }
            }
        }
    }
}
