//! A hand parser for the part of GraphQL's executable syntax that a client of the Admin API
//! sends: operations (`query`, `mutation`, or the `{ … }` shorthand) with variable
//! definitions and their defaults, fields with aliases and arguments, named and
//! inline fragments (inlined, their type conditions ignored: every selection here is on a
//! concrete type), and input values of every kind. Variables are replaced by their values from
//! the request while parsing, so the resolvers see plain JSON arguments. Directives are
//! parsed and dropped, except `@include` and `@skip`, which are refused.
//!
//! It does not validate against a schema: [`super::select`] refuses a field the double does not
//! serve when it shapes the answer. A GraphQL server crate (async-graphql, juniper) was not
//! tried: it would want the schema typed out and add its macros to every build of this crate,
//! for a subset this small; its compile cost was not measured.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Query,
    Mutation,
}

/// One field of a selection, its values resolved.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) alias: Option<String>,
    pub(crate) name: String,
    pub(crate) arguments: Map<String, Value>,
    pub(crate) selection: Vec<Field>,
    /// The `key` of an `@idempotent(key:)` directive on this field, resolved.
    pub(crate) idempotency_key: Option<String>,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Field {
    /// The key of this field in the answer.
    pub(crate) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// The operation a request runs.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) kind: Kind,
    pub(crate) fields: Vec<Field>,
}

/// A refusal in the shape of one entry of a GraphQL `errors` list.
#[derive(Debug)]
pub(crate) struct GraphqlError(pub(crate) Value);

impl GraphqlError {
    pub(crate) fn at(message: String, line: usize, column: usize) -> Self {
        Self(json!({"message": message, "locations": [{"line": line, "column": column}]}))
    }

    pub(crate) fn coded(message: String, code: &str) -> Self {
        Self(json!({"message": message, "extensions": {"code": code}}))
    }
}

/// Parses `document` and picks the operation to run (`operation_name`, or the only one).
pub(crate) fn operation(
    document: &str,
    operation_name: Option<&str>,
    variables: &Map<String, Value>,
) -> Result<Operation, GraphqlError> {
    let tokens = lex(document)?;
    let mut parser = Parser { tokens, at: 0 };
    let mut operations = Vec::new();
    let mut fragments = HashMap::new();
    while parser.peek().is_some() {
        if parser.peek_name("fragment") {
            parser.next();
            let name = parser.name()?;
            parser.expect_name("on")?;
            parser.name()?;
            parser.directives()?;
            fragments.insert(name, parser.selection_set()?);
        } else {
            operations.push(parser.operation_definition()?);
        }
    }
    let chosen = match operation_name {
        Some(name) => operations.into_iter().find(|o| o.name.as_deref() == Some(name)),
        None if operations.len() == 1 => operations.pop(),
        None => {
            return Err(GraphqlError::coded(
                "An operation name is required when the document holds several".into(),
                "OPERATION_NAME_REQUIRED",
            ));
        }
    };
    let Some(chosen) = chosen else {
        return Err(GraphqlError::coded("No operation named in the document".into(), "OPERATION_NOT_FOUND"));
    };
    let mut values = variables.clone();
    for (name, default) in &chosen.defaults {
        if !values.contains_key(name) {
            values.insert(name.clone(), default.clone());
        }
    }
    let resolve = Resolve { variables: &values, fragments: &fragments };
    Ok(Operation { kind: chosen.kind, fields: resolve.selection(&chosen.selection, 0)? })
}

#[derive(Debug, Clone)]
enum Token {
    Punct(&'static str),
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone)]
struct Lexed {
    token: Token,
    line: usize,
    column: usize,
}

fn lex(source: &str) -> Result<Vec<Lexed>, GraphqlError> {
    let chars: Vec<char> = source.chars().collect();
    let (mut i, mut line, mut line_start) = (0, 1, 0);
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        let column = i - line_start + 1;
        match c {
            '\n' => {
                i += 1;
                line += 1;
                line_start = i;
            }
            // Commas are insignificant in GraphQL, like white space.
            ' ' | '\t' | '\r' | ',' | '\u{feff}' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '.' if chars[i..].starts_with(&['.', '.', '.']) => {
                out.push(Lexed { token: Token::Punct("..."), line, column });
                i += 3;
            }
            '!' | '$' | '&' | '(' | ')' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}' => {
                let punct = ["!", "$", "&", "(", ")", ":", "=", "@", "[", "]", "{", "|", "}"]
                    .into_iter()
                    .find(|p| p.starts_with(c))
                    .expect("a listed punctuator");
                out.push(Lexed { token: Token::Punct(punct), line, column });
                i += 1;
            }
            '"' => {
                let (text, end, lines) = string(&chars, i, line, column)?;
                out.push(Lexed { token: Token::Str(text), line, column });
                if lines > 0 {
                    line += lines;
                    line_start = chars[..end].iter().rposition(|&c| c == '\n').map_or(line_start, |p| p + 1);
                }
                i = end;
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Lexed { token: Token::Name(chars[start..i].iter().collect()), line, column });
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | '+' | '-')) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let token = if let Ok(int) = text.parse() {
                    Token::Int(int)
                } else if let Ok(float) = text.parse() {
                    Token::Float(float)
                } else {
                    return Err(GraphqlError::at(format!("Parse error on \"{text}\" (number)"), line, column));
                };
                out.push(Lexed { token, line, column });
            }
            other => {
                return Err(GraphqlError::at(
                    format!("Parse error on \"{other}\" (unexpected character)"),
                    line,
                    column,
                ));
            }
        }
    }
    Ok(out)
}

/// A string or block string starting at `start`: its value, the index after it, and the line
/// breaks it spans.
fn string(chars: &[char], start: usize, line: usize, column: usize) -> Result<(String, usize, usize), GraphqlError> {
    let unterminated = || GraphqlError::at("Parse error: unterminated string".into(), line, column);
    if chars[start..].starts_with(&['"', '"', '"']) {
        let mut i = start + 3;
        let mut text = String::new();
        while i < chars.len() {
            if chars[i..].starts_with(&['"', '"', '"']) {
                let lines = text.matches('\n').count();
                return Ok((block_value(&text), i + 3, lines));
            }
            if chars[i..].starts_with(&['\\', '"', '"', '"']) {
                text.push_str("\"\"\"");
                i += 4;
            } else {
                text.push(chars[i]);
                i += 1;
            }
        }
        return Err(unterminated());
    }
    let mut i = start + 1;
    let mut text = String::new();
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((text, i + 1, 0)),
            '\n' => return Err(unterminated()),
            '\\' => {
                let escaped = chars.get(i + 1).ok_or_else(unterminated)?;
                match escaped {
                    'u' => {
                        let hex: String = chars.get(i + 2..i + 6).ok_or_else(unterminated)?.iter().collect();
                        let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        text.push(
                            code.ok_or_else(|| GraphqlError::at(format!("Bad unicode escape \\u{hex}"), line, column))?,
                        );
                        i += 6;
                        continue;
                    }
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    'r' => text.push('\r'),
                    'b' => text.push('\u{8}'),
                    'f' => text.push('\u{c}'),
                    '"' | '\\' | '/' => text.push(*escaped),
                    other => return Err(GraphqlError::at(format!("Bad escape \\{other}"), line, column)),
                }
                i += 2;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(unterminated())
}

/// A block string's value: common indentation and blank first and last lines removed.
fn block_value(raw: &str) -> String {
    let lines: Vec<&str> = raw.split('\n').collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| if n == 0 { (*l).to_owned() } else { l.chars().skip(indent).collect() })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A value as written: variables are replaced when the chosen operation is resolved.
#[derive(Debug, Clone)]
enum Input {
    Variable(String),
    Const(Value),
    List(Vec<Input>),
    Object(Vec<(String, Input)>),
}

#[derive(Debug, Clone)]
enum Selection {
    Field(RawField),
    Spread { name: String, line: usize, column: usize },
    Inline(Vec<Selection>),
}

#[derive(Debug, Clone)]
struct RawField {
    alias: Option<String>,
    name: String,
    arguments: Vec<(String, Input)>,
    selection: Vec<Selection>,
    /// The arguments of an `@idempotent` directive, kept because they change what a mutation does.
    idempotent: Option<Vec<(String, Input)>>,
    line: usize,
    column: usize,
}

struct Definition {
    kind: Kind,
    name: Option<String>,
    defaults: Vec<(String, Value)>,
    selection: Vec<Selection>,
}

struct Parser {
    tokens: Vec<Lexed>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexed> {
        self.tokens.get(self.at)
    }

    fn peek_punct(&self, punct: &str) -> bool {
        self.peek().is_some_and(|t| matches!(&t.token, Token::Punct(p) if *p == punct))
    }

    fn peek_name(&self, name: &str) -> bool {
        self.peek().is_some_and(|t| matches!(&t.token, Token::Name(n) if n == name))
    }

    fn next(&mut self) -> Option<Lexed> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn unexpected(&self) -> GraphqlError {
        match self.peek() {
            Some(t) => GraphqlError::at(format!("Parse error on {}", describe(&t.token)), t.line, t.column),
            None => {
                let (line, column) = self.tokens.last().map_or((1, 1), |t| (t.line, t.column));
                GraphqlError::at("Parse error on end of input".into(), line, column)
            }
        }
    }

    fn expect(&mut self, punct: &str) -> Result<(), GraphqlError> {
        if self.peek_punct(punct) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn name(&mut self) -> Result<String, GraphqlError> {
        match self.peek().map(|t| &t.token) {
            Some(Token::Name(name)) => {
                let name = name.clone();
                self.next();
                Ok(name)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn expect_name(&mut self, expected: &str) -> Result<(), GraphqlError> {
        if self.peek_name(expected) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn operation_definition(&mut self) -> Result<Definition, GraphqlError> {
        if self.peek_punct("{") {
            return Ok(Definition {
                kind: Kind::Query,
                name: None,
                defaults: Vec::new(),
                selection: self.selection_set()?,
            });
        }
        let kind = match self.name()?.as_str() {
            "query" => Kind::Query,
            "mutation" => Kind::Mutation,
            other => {
                let t = &self.tokens[self.at - 1];
                return Err(GraphqlError::at(
                    format!("Parse error on \"{other}\": not an operation served"),
                    t.line,
                    t.column,
                ));
            }
        };
        let name =
            if matches!(self.peek().map(|t| &t.token), Some(Token::Name(_))) { Some(self.name()?) } else { None };
        let mut defaults = Vec::new();
        if self.peek_punct("(") {
            self.next();
            while !self.peek_punct(")") {
                self.expect("$")?;
                let variable = self.name()?;
                self.expect(":")?;
                self.skip_type()?;
                if self.peek_punct("=") {
                    self.next();
                    let value = self.value(true)?;
                    defaults.push((variable, constant(&value)));
                }
                self.directives()?;
            }
            self.next();
        }
        self.directives()?;
        Ok(Definition { kind, name, defaults, selection: self.selection_set()? })
    }

    fn skip_type(&mut self) -> Result<(), GraphqlError> {
        if self.peek_punct("[") {
            self.next();
            self.skip_type()?;
            self.expect("]")?;
        } else {
            self.name()?;
        }
        if self.peek_punct("!") {
            self.next();
        }
        Ok(())
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, GraphqlError> {
        self.expect("{")?;
        let mut selection = Vec::new();
        while !self.peek_punct("}") {
            if self.peek().is_none() {
                return Err(self.unexpected());
            }
            if self.peek_punct("...") {
                let spread = self.next().expect("the spread");
                if self.peek_name("on") || self.peek_punct("{") || self.peek_punct("@") {
                    if self.peek_name("on") {
                        self.next();
                        self.name()?;
                    }
                    self.directives()?;
                    selection.push(Selection::Inline(self.selection_set()?));
                } else {
                    let name = self.name()?;
                    self.directives()?;
                    selection.push(Selection::Spread { name, line: spread.line, column: spread.column });
                }
            } else {
                selection.push(Selection::Field(self.field()?));
            }
        }
        self.next();
        Ok(selection)
    }

    fn field(&mut self) -> Result<RawField, GraphqlError> {
        let start = self.peek().cloned().ok_or_else(|| self.unexpected())?;
        let first = self.name()?;
        let (alias, name) = if self.peek_punct(":") {
            self.next();
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        let arguments = self.arguments(false)?;
        let idempotent = self.directives()?;
        let selection = if self.peek_punct("{") { self.selection_set()? } else { Vec::new() };
        Ok(RawField { alias, name, arguments, selection, idempotent, line: start.line, column: start.column })
    }

    fn arguments(&mut self, constant: bool) -> Result<Vec<(String, Input)>, GraphqlError> {
        let mut arguments = Vec::new();
        if !self.peek_punct("(") {
            return Ok(arguments);
        }
        self.next();
        while !self.peek_punct(")") {
            let name = self.name()?;
            self.expect(":")?;
            arguments.push((name, self.value(constant)?));
        }
        self.next();
        Ok(arguments)
    }

    /// Directives are read and dropped, except `@idempotent`, whose arguments are returned;
    /// `@include` and `@skip`, which would change the answer, are refused.
    fn directives(&mut self) -> Result<Option<Vec<(String, Input)>>, GraphqlError> {
        let mut idempotent = None;
        while self.peek_punct("@") {
            let at = self.next().expect("the @");
            let name = self.name()?;
            if name == "include" || name == "skip" {
                return Err(GraphqlError::at(format!("The Shopify double does not serve @{name}"), at.line, at.column));
            }
            let arguments = self.arguments(false)?;
            if name == "idempotent" {
                idempotent = Some(arguments);
            }
        }
        Ok(idempotent)
    }

    fn value(&mut self, constant: bool) -> Result<Input, GraphqlError> {
        let token = self.peek().cloned().ok_or_else(|| self.unexpected())?;
        let value = match token.token {
            Token::Punct("$") if !constant => {
                self.next();
                return Ok(Input::Variable(self.name()?));
            }
            Token::Punct("[") => {
                self.next();
                let mut items = Vec::new();
                while !self.peek_punct("]") {
                    items.push(self.value(constant)?);
                }
                self.next();
                return Ok(Input::List(items));
            }
            Token::Punct("{") => {
                self.next();
                let mut fields = Vec::new();
                while !self.peek_punct("}") {
                    let name = self.name()?;
                    self.expect(":")?;
                    fields.push((name, self.value(constant)?));
                }
                self.next();
                return Ok(Input::Object(fields));
            }
            Token::Int(int) => json!(int),
            Token::Float(float) => json!(float),
            Token::Str(text) => Value::String(text),
            Token::Name(name) => match name.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                // An enum value travels as its name, as in JSON variables.
                _ => Value::String(name),
            },
            Token::Punct(_) => return Err(self.unexpected()),
        };
        self.next();
        Ok(Input::Const(value))
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Punct(p) => format!("\"{p}\""),
        Token::Name(n) => format!("\"{n}\""),
        Token::Int(i) => format!("\"{i}\""),
        Token::Float(f) => format!("\"{f}\""),
        Token::Str(s) => format!("\"{s}\" (string)"),
    }
}

/// A variable's default, parsed as a constant (no variables in it), as JSON.
fn constant(input: &Input) -> Value {
    let empty = Map::new();
    Resolve { variables: &empty, fragments: &HashMap::new() }.value(input)
}

struct Resolve<'a> {
    variables: &'a Map<String, Value>,
    fragments: &'a HashMap<String, Vec<Selection>>,
}

/// Deeper than any query this project sends; stops a fragment that spreads itself.
const MAX_DEPTH: usize = 32;

impl Resolve<'_> {
    fn selection(&self, selection: &[Selection], depth: usize) -> Result<Vec<Field>, GraphqlError> {
        let mut fields = Vec::new();
        for item in selection {
            match item {
                Selection::Field(raw) => fields.push(Field {
                    alias: raw.alias.clone(),
                    name: raw.name.clone(),
                    arguments: self.arguments(&raw.arguments),
                    selection: self.selection(&raw.selection, depth + 1)?,
                    idempotency_key: raw
                        .idempotent
                        .as_ref()
                        .and_then(|d| self.arguments(d).get("key").and_then(Value::as_str).map(str::to_owned)),
                    line: raw.line,
                    column: raw.column,
                }),
                Selection::Inline(inner) => fields.extend(self.selection(inner, depth + 1)?),
                Selection::Spread { name, line, column } => {
                    let Some(inner) = self.fragments.get(name) else {
                        let message = format!("Fragment {name} was used, but not defined");
                        return Err(GraphqlError::at(message, *line, *column));
                    };
                    if depth >= MAX_DEPTH {
                        return Err(GraphqlError::at(format!("Fragment {name} spreads itself"), *line, *column));
                    }
                    fields.extend(self.selection(inner, depth + 1)?);
                }
            }
        }
        Ok(fields)
    }

    fn arguments(&self, arguments: &[(String, Input)]) -> Map<String, Value> {
        arguments.iter().map(|(name, input)| (name.clone(), self.value(input))).collect()
    }

    fn value(&self, input: &Input) -> Value {
        match input {
            // An undefined variable reads as null, as an omitted nullable one does.
            Input::Variable(name) => self.variables.get(name).cloned().unwrap_or(Value::Null),
            Input::Const(value) => value.clone(),
            Input::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            Input::Object(fields) => Value::Object(fields.iter().map(|(n, i)| (n.clone(), self.value(i))).collect()),
        }
    }
}
