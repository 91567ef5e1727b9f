//! Recursive-descent checker following Go's `text/template/parse/parse.go`. It builds no
//! tree: it only decides whether Go would accept the template, and with which error.

use std::collections::HashMap;

use super::lex::{go_quote, Item, Kind, Kw};
use super::literal;
use super::TemplateError;

/// The functions `text/template` predefines; the ccaas builder adds none.
const BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq",
    "ge", "gt", "le", "lt", "ne",
];

type Res<T> = Result<T, TemplateError>;

/// What a list element turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// `{{end}}`
    End,
    /// `{{else}}` (possibly with a pending `if`/`with`)
    Else,
    /// Anything else; `true` unless Go's `IsEmptyTree` would call it empty.
    Content(bool),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::End => f.write_str("{{end}}"),
            Node::Else => f.write_str("{{else}}"),
            Node::Content(_) => f.write_str("node"),
        }
    }
}

/// The kind of a command's first operand, for Go's `checkPipeline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Literal, // bool, dot, nil, number, string: not executable after a `|`
    Field,
    Variable,
    Other,
}

pub(crate) struct Parser<'a> {
    items: &'a [Item],
    pos: usize,
    vars: Vec<String>,
    range_depth: usize,
    trees: HashMap<String, bool>,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(items: &'a [Item]) -> Self {
        Parser { items, pos: 0, vars: vec!["$".to_string()], range_depth: 0, trees: HashMap::new() }
    }

    // ----- token access -------------------------------------------------------------

    /// The item at `i`; past the end, the final `Eof`/`Error` item repeats.
    fn at(&self, i: usize) -> &Item {
        &self.items[i.min(self.items.len() - 1)]
    }

    fn next(&mut self) -> Item {
        let item = self.at(self.pos).clone();
        self.pos += 1;
        item
    }

    fn backup(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn peek(&self) -> &Item {
        self.at(self.pos)
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let item = self.next();
            if item.kind != Kind::Space {
                return item;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let item = self.next_non_space();
        self.backup();
        item
    }

    fn error(&self, message: impl Into<String>) -> TemplateError {
        let idx = self.pos.saturating_sub(1);
        TemplateError { line: self.at(idx).line, message: message.into() }
    }

    fn unexpected(&self, item: &Item, context: &str) -> TemplateError {
        if item.kind == Kind::Error {
            return TemplateError { line: item.line, message: item.val.clone() };
        }
        TemplateError { line: item.line, message: format!("unexpected {item} in {context}") }
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Res<Item> {
        let item = self.next_non_space();
        if item.kind != kind {
            return Err(self.unexpected(&item, context));
        }
        Ok(item)
    }

    // ----- structure ----------------------------------------------------------------

    pub(crate) fn parse(mut self) -> Res<()> {
        let mut non_empty = false;
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.pos;
                self.next();
                if self.next_non_space().kind == Kind::Keyword(Kw::Define) {
                    self.parse_definition()?;
                    continue;
                }
                self.pos = save;
            }
            match self.text_or_action()? {
                n @ (Node::End | Node::Else) => return Err(self.error(format!("unexpected {n}"))),
                Node::Content(ne) => non_empty |= ne,
            }
        }
        self.add_tree("", non_empty)
    }

    fn add_tree(&mut self, name: &str, non_empty: bool) -> Res<()> {
        match self.trees.get(name) {
            Some(true) if non_empty => {
                Err(self.error(format!("template: multiple definition of template {}", go_quote(name))))
            }
            Some(true) => Ok(()),
            _ => {
                self.trees.insert(name.to_string(), non_empty);
                Ok(())
            }
        }
    }

    /// Runs `f` in a fresh template scope (as `define` and `block` bodies are).
    fn in_new_tree<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let result = f(self);
        self.vars = vars;
        self.range_depth = depth;
        result
    }

    fn parse_definition(&mut self) -> Res<()> {
        const CONTEXT: &str = "define clause";
        self.in_new_tree(|p| {
            let name = p.next_non_space();
            if !matches!(name.kind, Kind::String | Kind::RawString) {
                return Err(p.unexpected(&name, CONTEXT));
            }
            let name = literal::unquote(&name.val).map_err(|m| p.error(m))?;
            p.expect(Kind::RightDelim, CONTEXT)?;
            let (non_empty, end) = p.item_list()?;
            if end != Node::End {
                return Err(p.error(format!("unexpected {end} in {CONTEXT}")));
            }
            p.add_tree(&name, non_empty)
        })
    }

    fn item_list(&mut self) -> Res<(bool, Node)> {
        let mut non_empty = false;
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                n @ (Node::End | Node::Else) => return Ok((non_empty, n)),
                Node::Content(ne) => non_empty |= ne,
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Res<Node> {
        let item = self.next_non_space();
        match item.kind {
            Kind::Text => Ok(Node::Content(!item.val.trim().is_empty())),
            Kind::LeftDelim => self.action(),
            Kind::Comment => Ok(Node::Content(false)),
            _ => Err(self.unexpected(&item, "input")),
        }
    }

    fn action(&mut self) -> Res<Node> {
        let item = self.next_non_space();
        match item.kind {
            Kind::Keyword(Kw::Block) => self.block_control(),
            Kind::Keyword(Kw::Break) => self.loop_control("{{break}}"),
            Kind::Keyword(Kw::Continue) => self.loop_control("{{continue}}"),
            Kind::Keyword(Kw::Else) => self.else_control(),
            Kind::Keyword(Kw::End) => {
                self.expect(Kind::RightDelim, "end")?;
                Ok(Node::End)
            }
            Kind::Keyword(Kw::If) => self.parse_control("if"),
            Kind::Keyword(Kw::Range) => self.parse_control("range"),
            Kind::Keyword(Kw::Template) => self.template_control(),
            Kind::Keyword(Kw::With) => self.parse_control("with"),
            _ => {
                self.backup();
                self.pipeline("command", Kind::RightDelim)?;
                Ok(Node::Content(true))
            }
        }
    }

    fn loop_control(&mut self, name: &str) -> Res<Node> {
        let item = self.next_non_space();
        if item.kind != Kind::RightDelim {
            return Err(self.unexpected(&item, name));
        }
        if self.range_depth == 0 {
            return Err(self.error(format!("{name} outside {{{{range}}}}")));
        }
        Ok(Node::Content(true))
    }

    fn else_control(&mut self) -> Res<Node> {
        let peek = self.peek_non_space();
        if matches!(peek.kind, Kind::Keyword(Kw::If) | Kind::Keyword(Kw::With)) {
            // `{{else if ...}}` / `{{else with ...}}`: leave the keyword pending.
            return Ok(Node::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Node::Else)
    }

    fn parse_control(&mut self, context: &'static str) -> Res<Node> {
        let saved_vars = self.vars.len();
        let result = self.parse_control_inner(context);
        self.vars.truncate(saved_vars);
        result.map(|()| Node::Content(true))
    }

    fn parse_control_inner(&mut self, context: &'static str) -> Res<()> {
        self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (_, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        if next == Node::Else {
            let pending = self.peek().kind;
            if context == "if" && pending == Kind::Keyword(Kw::If) {
                self.next();
                self.parse_control("if")?;
            } else if context == "with" && pending == Kind::Keyword(Kw::With) {
                self.next();
                self.parse_control("with")?;
            } else {
                let (_, next) = self.item_list()?;
                if next != Node::End {
                    return Err(self.error(format!("expected end; found {next}")));
                }
            }
        }
        Ok(())
    }

    fn template_name(&mut self, item: &Item, context: &str) -> Res<String> {
        match item.kind {
            Kind::String | Kind::RawString => literal::unquote(&item.val).map_err(|m| self.error(m)),
            _ => Err(self.unexpected(item, context)),
        }
    }

    fn template_control(&mut self) -> Res<Node> {
        const CONTEXT: &str = "template clause";
        let item = self.next_non_space();
        self.template_name(&item, CONTEXT)?;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            self.pipeline(CONTEXT, Kind::RightDelim)?;
        }
        Ok(Node::Content(true))
    }

    fn block_control(&mut self) -> Res<Node> {
        const CONTEXT: &str = "block clause";
        let item = self.next_non_space();
        let name = self.template_name(&item, CONTEXT)?;
        self.pipeline(CONTEXT, Kind::RightDelim)?;
        self.in_new_tree(|p| {
            let (non_empty, end) = p.item_list()?;
            if end != Node::End {
                return Err(p.error(format!("unexpected {end} in {CONTEXT}")));
            }
            p.add_tree(&name, non_empty)
        })?;
        Ok(Node::Content(true))
    }

    // ----- pipelines ----------------------------------------------------------------

    fn pipeline(&mut self, context: &str, end: Kind) -> Res<()> {
        let mut decls = 0;
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let var_at = self.pos;
            self.next();
            let mut j = self.pos;
            while self.at(j).kind == Kind::Space {
                j += 1;
            }
            let next = self.at(j);
            if matches!(next.kind, Kind::Assign | Kind::Declare) {
                self.pos = j + 1;
                self.vars.push(v.val.clone());
                break;
            }
            if next.kind == Kind::Char && next.val == "," {
                self.pos = j + 1;
                decls += 1;
                self.vars.push(v.val.clone());
                if context == "range" && decls < 2 {
                    match self.peek_non_space().kind {
                        Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                        _ => return Err(self.error("range can only initialize variables")),
                    }
                }
                return Err(self.error(format!("too many declarations in {context}")));
            }
            self.pos = var_at;
            break;
        }
        let mut firsts = Vec::new();
        loop {
            let item = self.next_non_space();
            if item.kind == end {
                if firsts.is_empty() {
                    return Err(self.error(format!("missing value for {context}")));
                }
                for (i, first) in firsts.iter().enumerate().skip(1) {
                    if *first == Term::Literal {
                        return Err(self.error(format!("non executable command in pipeline stage {}", i + 1)));
                    }
                }
                return Ok(());
            }
            match item.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Keyword(Kw::Dot)
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Keyword(Kw::Nil)
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    firsts.push(self.command()?);
                }
                _ => return Err(self.unexpected(&item, context)),
            }
        }
    }

    fn command(&mut self) -> Res<Term> {
        let mut first = None;
        loop {
            self.peek_non_space();
            if let Some(term) = self.operand()? {
                first.get_or_insert(term);
            }
            let item = self.next();
            match item.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&item, "operand")),
            }
            break;
        }
        first.ok_or_else(|| self.error("empty command"))
    }

    fn operand(&mut self) -> Res<Option<Term>> {
        let Some((term, text)) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind == Kind::Field {
            while self.peek().kind == Kind::Field {
                self.next();
            }
            return match term {
                Term::Field | Term::Variable => Ok(Some(term)),
                Term::Literal => Err(self.error(format!("unexpected . after term {}", go_quote(&text)))),
                Term::Other => Ok(Some(Term::Other)),
            };
        }
        Ok(Some(term))
    }

    fn term(&mut self) -> Res<Option<(Term, String)>> {
        let item = self.next_non_space();
        let term = match item.kind {
            Kind::Identifier => {
                if !BUILTINS.contains(&item.val.as_str()) {
                    return Err(self.error(format!("function {} not defined", go_quote(&item.val))));
                }
                Term::Other
            }
            Kind::Keyword(Kw::Dot) | Kind::Keyword(Kw::Nil) | Kind::Bool => Term::Literal,
            Kind::Variable => {
                if !self.vars.contains(&item.val) {
                    return Err(self.error(format!("undefined variable {}", go_quote(&item.val))));
                }
                Term::Variable
            }
            Kind::Field => Term::Field,
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                literal::check_number(&item.val, item.kind).map_err(|m| self.error(m))?;
                Term::Literal
            }
            Kind::LeftParen => {
                self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                Term::Other
            }
            Kind::String | Kind::RawString => {
                literal::unquote(&item.val).map_err(|m| self.error(m))?;
                Term::Literal
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some((term, item.val)))
    }
}
