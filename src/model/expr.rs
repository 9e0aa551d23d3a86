//! The expression language of conditions, parameters and scripts.
//!
//! Users write expressions the way Camunda Modeler documents them — JUEL inside
//! `${...}` — or bare, as the diagrams of the engine we replace do (`option==1`).
//! Both are translated into [rhai](https://rhai.rs) and compiled **once, at deploy
//! time**; evaluation then only binds variables and runs the compiled tree.
//!
//! In a file for Camunda 8 (it declares the `zeebe` namespace), a text that
//! starts with `=` is FEEL instead (Camunda 8's convention), run by the same
//! FEEL code as decision tables ([`crate::feel`]).
//!
//! rhai is sandboxed here: no IO, no modules, no `eval`, no clock; every evaluation
//! runs under an operation budget and size limits, so a runaway script stops with an
//! error (which the engine turns into an incident) instead of hanging a thread.
//!
//! The JUEL spellings translated before compiling: `and or not eq ne lt gt le ge div
//! mod`, `null`, `empty x`, and string literals in single quotes. Everything else is
//! rhai syntax, which covers JUEL's symbolic operators (`&& || ! == != < > <= >= + -
//! * / %`), `a.b` into objects and `a[0]` into lists. Deviations from JUEL: integer
//! division stays integral (`7 / 2 == 3`), and the `?:` operator is not available.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rhai::{AST, Dynamic, Engine, Scope};
use serde_json::{Map, Value};

/// Budget of one condition or parameter evaluation, in rhai operations.
pub const EXPRESSION_BUDGET: u64 = 50_000;
/// Budget of one script task run, in rhai operations.
pub const SCRIPT_BUDGET: u64 = 1_000_000;

thread_local! {
    static FEEL_PREFIX: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a leading `=` marks FEEL while a file is read: only in files for
/// Camunda 8, where every expression is written so; in Camunda 7 files a
/// value such as `==` or `=A1+B1` stays text. Set for the reading of one file
/// (on its thread), restored when dropped.
pub(crate) struct FeelPrefix(bool);

impl FeelPrefix {
    pub(crate) fn set(on: bool) -> FeelPrefix {
        FeelPrefix(FEEL_PREFIX.with(|f| f.replace(on)))
    }

    fn on() -> bool {
        FEEL_PREFIX.with(|f| f.get())
    }
}

impl Drop for FeelPrefix {
    fn drop(&mut self) {
        FEEL_PREFIX.with(|f| f.set(self.0));
    }
}

/// A compiled expression, with its source text kept for messages and history.
#[derive(Clone)]
pub struct Expr {
    source: String,
    compiled: Compiled,
}

/// What an expression compiled to: rhai (JUEL-style or bare), or FEEL for a
/// text starting with `=` (the way Camunda 8 marks expressions).
#[derive(Clone)]
enum Compiled {
    Rhai(Arc<AST>),
    Feel(Arc<crate::feel::Expression>),
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// A compiled script (a script task's body).
#[derive(Clone)]
pub struct Script {
    source: String,
    ast: Arc<AST>,
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Script({} bytes)", self.source.len())
    }
}

/// A failed evaluation: a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvalError {}

fn configure(engine: &mut Engine, budget: u64) {
    engine
        .set_max_operations(budget)
        .set_max_expr_depths(64, 32)
        .set_max_call_levels(32)
        .set_max_string_size(1024 * 1024)
        .set_max_array_size(100_000)
        .set_max_map_size(100_000)
        .set_max_variables(10_000)
        .set_max_functions(256);
    engine.disable_symbol("eval");
    // The runtime's time budget: checked between operations.
    engine.on_progress(|_| crate::budget::stopped().then(|| Dynamic::from(crate::budget::STOPPED)));
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.register_fn("is_empty_value", is_empty_value);
}

fn is_empty_value(v: Dynamic) -> bool {
    if v.is_unit() {
        return true;
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return s.is_empty();
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return a.is_empty();
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        return m.is_empty();
    }
    false
}

fn expression_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        configure(&mut e, EXPRESSION_BUDGET);
        e
    })
}

fn script_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        configure(&mut e, SCRIPT_BUDGET);
        e
    })
}

/// Where variables for an evaluation come from.
pub trait Variables {
    /// Every visible variable, innermost scope winning.
    fn visit(&self, f: &mut dyn FnMut(&str, &Value));
}

impl Variables for Map<String, Value> {
    fn visit(&self, f: &mut dyn FnMut(&str, &Value)) {
        for (k, v) in self {
            f(k, v);
        }
    }
}

/// Variables in `top` hide those of the same name in `base` (a connector's
/// reply over the task's variables, a called instance's over the caller's).
pub struct Overlay<'a> {
    pub top: &'a Map<String, Value>,
    pub base: &'a dyn Variables,
}

impl Variables for Overlay<'_> {
    fn visit(&self, f: &mut dyn FnMut(&str, &Value)) {
        for (k, v) in self.top {
            f(k, v);
        }
        self.base.visit(&mut |k, v| {
            if !self.top.contains_key(k) {
                f(k, v)
            }
        });
    }
}

fn scope_of(vars: &dyn Variables) -> Result<Scope<'static>, EvalError> {
    let mut scope = Scope::new();
    let mut failed = None;
    vars.visit(&mut |name, value| {
        if failed.is_some() {
            return;
        }
        match rhai::serde::to_dynamic(value) {
            Ok(d) => {
                scope.push_dynamic(name.to_string(), d);
            }
            Err(e) => failed = Some(EvalError(format!("variable {name}: {e}"))),
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(scope),
    }
}

fn to_json(d: Dynamic) -> Result<Value, EvalError> {
    if d.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(f) = d.as_float() {
        if !f.is_finite() {
            return Err(EvalError(format!("the result {f} is not a finite number")));
        }
        // Keep whole floats as floats; JSON cannot tell them apart anyway.
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| EvalError(format!("the result {f} is not a number JSON can hold")));
    }
    let type_name = d.type_name();
    rhai::serde::from_dynamic::<Value>(&d)
        .map_err(|e| EvalError(format!("the result (a {type_name}) cannot be stored: {e}")))
}

fn describe(err: &rhai::EvalAltResult) -> String {
    use rhai::EvalAltResult as E;
    match err {
        E::ErrorVariableNotFound(name, _) => format!("variable '{name}' is not defined"),
        E::ErrorTooManyOperations(_) => {
            "stopped: it ran longer than its step budget (an endless loop?)".to_string()
        }
        E::ErrorDataTooLarge(what, _) => format!("stopped: {what} grew beyond its size limit"),
        E::ErrorStackOverflow(_) => "stopped: calls nested too deeply".to_string(),
        E::ErrorTerminated(..) => crate::budget::STOPPED.to_string(),
        other => {
            // rhai appends " (line 1, position 9)"; inside one expression that is noise.
            let text = other.to_string();
            match text.rfind(" (line ") {
                Some(i) if text.ends_with(')') => text[..i].to_string(),
                _ => text,
            }
        }
    }
}

impl Expr {
    /// Compiles an expression written as `${...}`, `#{...}` or bare.
    pub fn compile(text: &str) -> Result<Expr, String> {
        if let Some(feel) = text.trim().strip_prefix('=').filter(|_| FeelPrefix::on()) {
            let e = crate::feel::Expression::parse(feel)
                .map_err(|e| format!("cannot compile \"{}\": {e}", text.trim()))?;
            return Ok(Expr {
                source: text.trim().to_string(),
                compiled: Compiled::Feel(Arc::new(e)),
            });
        }
        let body = unwrap_juel(text.trim());
        if body.trim().is_empty() {
            return Err("the expression is empty".into());
        }
        let translated = translate(body)?;
        let ast = expression_engine()
            .compile_expression(&translated)
            .map_err(|e| format!("cannot compile \"{}\": {}", text.trim(), e.err_type()))?;
        Ok(Expr {
            source: text.trim().to_string(),
            compiled: Compiled::Rhai(Arc::new(ast)),
        })
    }

    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates to any JSON value.
    pub fn eval(&self, vars: &dyn Variables) -> Result<Value, EvalError> {
        match &self.compiled {
            Compiled::Rhai(ast) => {
                let mut scope = scope_of(vars)?;
                let d = expression_engine()
                    .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
                    .map_err(|e| EvalError(describe(&e)))?;
                to_json(d)
            }
            Compiled::Feel(e) => {
                let mut map = Map::new();
                vars.visit(&mut |k, v| {
                    map.insert(k.to_string(), v.clone());
                });
                e.eval(&map).map_err(|e| EvalError(e.message))
            }
        }
    }

    /// Evaluates a condition; anything but a boolean is an error.
    pub fn eval_bool(&self, vars: &dyn Variables) -> Result<bool, EvalError> {
        match self.eval(vars)? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError(format!(
                "the condition {} gave {} instead of true or false",
                self.source,
                short(&other)
            ))),
        }
    }
}

/// The outcome of running a script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptOutcome {
    /// The value of the script's last expression.
    pub result: Value,
    /// Variables the script created or changed.
    pub changed: Map<String, Value>,
}

impl Script {
    /// Compiles a script written in rhai.
    pub fn compile(text: &str) -> Result<Script, String> {
        let ast = script_engine().compile(text).map_err(|e| {
            let pos = e.position();
            match (pos.line(), pos.position()) {
                (Some(l), Some(c)) => format!(
                    "cannot compile the script (script line {l}, column {c}): {}",
                    e.err_type()
                ),
                _ => format!("cannot compile the script: {}", e.err_type()),
            }
        })?;
        Ok(Script {
            source: text.to_string(),
            ast: Arc::new(ast),
        })
    }

    /// Runs the script with the visible variables in scope.
    pub fn run(&self, vars: &dyn Variables) -> Result<ScriptOutcome, EvalError> {
        let mut before = Map::new();
        vars.visit(&mut |k, v| {
            before.insert(k.to_string(), v.clone());
        });
        let mut scope = scope_of(&before)?;
        let d = script_engine()
            .eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast)
            .map_err(|e| EvalError(format!("script failed: {}", describe(&e))))?;
        let result = to_json(d)?;
        let mut changed = Map::new();
        for (name, _constant, value) in scope.iter() {
            let value = to_json(value)?;
            if before.get(name) != Some(&value) {
                changed.insert(name.to_string(), value);
            }
        }
        Ok(ScriptOutcome { result, changed })
    }
}

/// A short rendering of a value for messages.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// Strips `${...}` / `#{...}` when the whole text is one such expression.
fn unwrap_juel(text: &str) -> &str {
    for open in ["${", "#{"] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix('}'))
            && matching_close(text, open.len()) == Some(text.len() - 1)
        {
            return inner;
        }
    }
    text
}

/// Given the index just after an opening `{`, the index of its closing `}`,
/// skipping string literals and nested braces.
fn matching_close(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Space(String),
    Str(String),
    Ident(String),
    Other(String),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[start..i].iter().collect()));
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated string literal in \"{src}\"")),
                    Some('\\') => {
                        if let Some(n) = chars.get(i + 1) {
                            s.push(*n);
                        }
                        i += 2;
                    }
                    Some(ch) if *ch == c => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                // `1.5` is one number, but `list.0`-style member access is not JUEL.
                if chars[i] == '.' && !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Other(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["&&", "||", "==", "!=", "<=", ">="].contains(&two.as_str()) {
                out.push(Tok::Other(two));
                i += 2;
            } else {
                out.push(Tok::Other(c.to_string()));
                i += 1;
            }
        }
    }
    Ok(out)
}

fn rhai_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// Translates JUEL spellings into rhai.
fn translate(src: &str) -> Result<String, String> {
    let toks = tokenize(src)?;
    let mut out = String::with_capacity(src.len() + 8);
    emit(&toks, &mut out, 0)?;
    Ok(out)
}

/// The deepest nesting of `empty` accepted: each level is a recursive call
/// here, and rhai refuses expressions nested deeper anyway.
const MAX_EMPTY_NESTING: usize = 64;

fn emit(toks: &[Tok], out: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_EMPTY_NESTING {
        return Err(format!(
            "`empty` is nested more than {MAX_EMPTY_NESTING} deep"
        ));
    }
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Space(s) => out.push_str(s),
            Tok::Str(s) => out.push_str(&rhai_string(s)),
            Tok::Other(s) if s == "?" => {
                return Err("the ?: operator is not supported; use two conditional flows".into());
            }
            Tok::Other(s) => out.push_str(s),
            Tok::Ident(id) => {
                // After a `.`, an identifier is a property name and must stay as it is.
                let after_dot =
                    prev_significant(toks, i).is_some_and(|t| *t == Tok::Other(".".into()));
                if after_dot {
                    out.push_str(id);
                } else {
                    match id.as_str() {
                        "and" => out.push_str("&&"),
                        "or" => out.push_str("||"),
                        "not" => out.push('!'),
                        "eq" => out.push_str("=="),
                        "ne" => out.push_str("!="),
                        "lt" => out.push('<'),
                        "gt" => out.push('>'),
                        "le" => out.push_str("<="),
                        "ge" => out.push_str(">="),
                        "div" => out.push('/'),
                        "mod" => out.push('%'),
                        "null" => out.push_str("()"),
                        "instanceof" => return Err("instanceof is not supported".into()),
                        "empty" => {
                            let end = operand_end(toks, i + 1)
                                .ok_or("`empty` must be followed by a value, e.g. empty name")?;
                            out.push_str("is_empty_value(");
                            emit(&toks[i + 1..end], out, depth + 1)?;
                            out.push(')');
                            i = end;
                            continue;
                        }
                        _ => out.push_str(id),
                    }
                }
            }
        }
        i += 1;
    }
    Ok(())
}

fn prev_significant(toks: &[Tok], i: usize) -> Option<&Tok> {
    toks[..i].iter().rev().find(|t| !matches!(t, Tok::Space(_)))
}

/// The end (exclusive) of the operand starting at `start`: an optional run of
/// prefix `!`/`not`/`-`, then a primary (identifier, literal or parenthesised
/// group) followed by `.name`, `[...]` and `(...)` suffixes.
fn operand_end(toks: &[Tok], start: usize) -> Option<usize> {
    let mut i = start;
    let skip_space = |mut i: usize| {
        while matches!(toks.get(i), Some(Tok::Space(_))) {
            i += 1;
        }
        i
    };
    i = skip_space(i);
    while let Some(t) = toks.get(i) {
        match t {
            Tok::Other(s) if s == "!" || s == "-" => i = skip_space(i + 1),
            Tok::Ident(s) if s == "not" || s == "empty" => i = skip_space(i + 1),
            _ => break,
        }
    }
    match toks.get(i)? {
        Tok::Ident(_) | Tok::Str(_) => i += 1,
        Tok::Other(s) if s == "(" => i = group_end(toks, i)?,
        Tok::Other(s) if s.starts_with(|c: char| c.is_ascii_digit()) => i += 1,
        _ => return None,
    }
    loop {
        let j = skip_space(i);
        match toks.get(j) {
            Some(Tok::Other(s)) if s == "." => {
                let k = skip_space(j + 1);
                match toks.get(k) {
                    Some(Tok::Ident(_)) => i = k + 1,
                    _ => return None,
                }
            }
            Some(Tok::Other(s)) if s == "[" || s == "(" => i = group_end(toks, j)?,
            _ => return Some(i),
        }
    }
}

/// Given the index of an opening bracket, the index just after its closing one.
fn group_end(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if let Tok::Other(s) = t {
            match s.as_str() {
                "(" | "[" => depth += 1,
                ")" | "]" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// A text value that may contain `${...}` expressions: a literal, one whole
/// expression (whose value keeps its type), or a mix that evaluates to a string.
#[derive(Debug, Clone)]
pub enum Template {
    Literal(String),
    Expr(Expr),
    Mixed(Vec<Part>),
}

/// A piece of a mixed template.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Expr(Expr),
}

impl Template {
    /// Parses a text value as Camunda does: `${...}` parts are expressions.
    pub fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim();
        if (trimmed.starts_with('=') && FeelPrefix::on())
            || (trimmed.starts_with("${") || trimmed.starts_with("#{"))
                && matching_close(trimmed, 2) == Some(trimmed.len() - 1)
        {
            return Ok(Template::Expr(Expr::compile(trimmed)?));
        }
        if !text.contains("${") && !text.contains("#{") {
            return Ok(Template::Literal(text.to_string()));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("${").into_iter().chain(rest.find("#{")).min() {
            if at > 0 {
                parts.push(Part::Text(rest[..at].to_string()));
            }
            let close = matching_close(rest, at + 2)
                .ok_or_else(|| format!("unclosed ${{ in \"{text}\""))?;
            parts.push(Part::Expr(Expr::compile(&rest[at..=close])?));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template::Mixed(parts))
    }

    /// Evaluates the template.
    pub fn eval(&self, vars: &dyn Variables) -> Result<Value, EvalError> {
        match self {
            Template::Literal(s) => Ok(Value::String(s.clone())),
            Template::Expr(e) => e.eval(vars),
            Template::Mixed(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => s.push_str(t),
                        Part::Expr(e) => match e.eval(vars)? {
                            Value::String(v) => s.push_str(&v),
                            Value::Null => {}
                            other => s.push_str(&other.to_string()),
                        },
                    }
                }
                Ok(Value::String(s))
            }
        }
    }

    /// Whether the template needs no variables.
    pub fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }

    /// The text as written.
    pub fn source(&self) -> String {
        match self {
            Template::Literal(s) => s.clone(),
            Template::Expr(e) => e.source().to_string(),
            Template::Mixed(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Expr(e) => e.source().to_string(),
                })
                .collect(),
        }
    }
}

/// The translation to rhai, exposed for tests and documentation.
pub fn to_rhai(text: &str) -> Result<String, String> {
    translate(unwrap_juel(text.trim()))
}
