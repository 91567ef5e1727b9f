//! A validator for Go `text/template` syntax, as the ccaas builder applies it.
//!
//! The ccaas builder (`ccaas_builder/cmd/build`) parses every string value of
//! `connection.json` (address, dial_timeout, and the three TLS fields when TLS is on)
//! with `template.New("").Option("missingkey=error").Parse(value)` and executes it with the
//! JSON object in the peer's `CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG` environment variable
//! as data. A value such as `{{.peername}}_basic:9999` therefore resolves to a different
//! address on every peer while all peers install the same package ID.
//!
//! This module checks the *syntax* only, following Go's `text/template/parse` rules:
//! delimiters and trim markers (`{{- ` / ` -}}`), comments, strings, numbers, fields,
//! variables (which must be declared before use), the builtin functions (the builder
//! registers no others), `if`/`else if`/`range`/`with`/`else with`/`end`, `break` and
//! `continue` inside `range`, `define`/`block`/`template`, parenthesised pipelines.
//!
//! What it cannot check: `missingkey=error` makes execution fail when the builder config
//! lacks a key (`{{.peername}}` with no `peername`), but the config lives on each peer and
//! is unknown at package time. The same goes for type errors that only appear on
//! execution (calling `len` on a number, say).
//!
//! One deliberate difference from Go: a `}}` outside any action is rejected. Go would copy
//! it to the output literally, but in a `connection.json` value it is always a typo for an
//! unbalanced action (`{.peername}}`), and no valid address, duration or PEM contains it.
//!
//! ```
//! use ccaas_package::template;
//! let t = template::parse("{{.peername}}_basic_ccaas:9999").unwrap();
//! assert!(t.has_actions());
//! assert!(template::parse("{{if .tls}}x{{end}}").is_ok());
//! let err = template::parse("{{end}}").unwrap_err();
//! assert_eq!(err.to_string(), "template: :1: unexpected {{end}}");
//! assert!(template::parse("{{.peername}").is_err());
//! assert!(template::parse("{{nosuchfunc .x}}").is_err());
//! ```

mod lex;
mod literal;
mod parse;

use std::fmt;

/// A syntax error, displayed the way Go's `text/template` reports it for the builder's
/// unnamed template: `template: :LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// Go's message, for example `unexpected {{end}}` or `function "foo" not defined`.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: :{}: {}", self.line, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// One piece of a parsed value: literal text, or an action whose output is unknown until
/// the builder executes it on a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (after Go's trim markers have been applied).
    Text(String),
    /// An action (`{{...}}`); its output depends on the peer's builder config.
    Action,
}

/// A successfully parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// `true` if the value contains at least one action, so its final text is only known
    /// on the peer.
    pub fn has_actions(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Action))
    }

    /// The top-level text and action pieces, in order. Text inside `if`/`range` bodies is
    /// reported as separate text segments between action markers.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

/// Parses `value` as a Go `text/template` with the ccaas builder's settings (no custom
/// functions, unnamed template). Plain strings without `{{` always parse.
pub fn parse(value: &str) -> Result<Template, TemplateError> {
    let items = lex::lex(value);
    parse::Parser::new(&items).parse()?;
    let mut segments = Vec::new();
    for item in &items {
        match item.kind {
            lex::Kind::Text => segments.push(Segment::Text(item.val.clone())),
            lex::Kind::LeftDelim => segments.push(Segment::Action),
            _ => {}
        }
    }
    Ok(Template { segments })
}

/// `true` if `value` contains an action opener, i.e. the builder will substitute part of it.
pub fn is_templated(value: &str) -> bool {
    value.contains("{{")
}

#[cfg(test)]
mod tests;
