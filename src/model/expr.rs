//! The expressions of conditions, parameters and listeners, and scripts
//! (rhai and JavaScript).
//!
//! `${...}` and `#{...}` are EL 2.2 as Camunda 7 evaluates it ([`crate::el`]):
//! compiled **once, at deploy time**, evaluated against an instance through
//! [`Bindings`] — its variables and Camunda's `execution` and `task` objects.
//! A text in an expression-only place (a condition, a collection) written
//! without `${...}`, as the diagrams of the engine we replace do
//! (`option==1`), is read as if it were inside `${...}`.
//!
//! In a file for Camunda 8 (it declares the `zeebe` namespace), a text that
//! starts with `=` is FEEL instead (Camunda 8's convention), run by the same
//! FEEL code as decision tables ([`crate::feel`]).
//!
//! Script tasks and listeners written in rhai (`scriptFormat="rhai"`) run in
//! a sandboxed rhai: no IO, no modules, no `eval`, no clock; every run has an
//! operation budget and size limits, so a runaway script stops with an error
//! (which the engine turns into an incident) instead of hanging a thread.
//! JavaScript (`scriptFormat="javascript"`, `language="javascript"` on a
//! condition) runs in QuickJS as Camunda runs it ([`crate::js`]). A
//! [`Script`] is either; a script in an expression's place (a condition, a
//! `camunda:script` parameter) is an [`Expr`] too, so the engine evaluates
//! both alike.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rhai::{AST, Dynamic, Engine, Scope};
use serde_json::{Map, Value};

use crate::bindings::Bindings;
use crate::el;

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

/// What an expression compiled to: EL, or FEEL for a text starting with `=`
/// in a Camunda 8 file.
#[derive(Clone)]
enum Compiled {
    El {
        expr: Arc<el::Expression>,
        /// Characters added in front of the text before compiling (a bare
        /// expression is compiled inside `${...}`), taken off error columns.
        shift: usize,
    },
    Feel(Arc<crate::feel::Expression>),
    /// A script in an expression's place: a condition with a script
    /// `language`, a `camunda:script` parameter.
    Script(Arc<Script>),
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
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

/// The expression text as messages quote it (long ones cut).
fn quoted(source: &str) -> String {
    if source.chars().count() > 80 {
        let cut: String = source.chars().take(77).collect();
        format!("{cut}...")
    } else {
        source.to_string()
    }
}

impl Expr {
    /// Compiles an expression written as `${...}`, `#{...}` or bare (then
    /// read as if inside `${...}`). A call of a Java bean's method is refused:
    /// there are no beans here (see [`Expr::compile_with_beans`]).
    pub fn compile(text: &str) -> Result<Expr, String> {
        let (expr, beans) = Expr::compile_with_beans(text)?;
        match beans.first() {
            None => Ok(expr),
            Some(b) => Err(bean_refusal(expr.source(), b)),
        }
    }

    /// Compiles an expression and lists the Java bean methods it calls
    /// (`${orderService.check(execution)}`), for the places where a bean may
    /// name a registered service handler.
    pub fn compile_with_beans(text: &str) -> Result<(Expr, Vec<el::BeanCall>), String> {
        let source = text.trim().to_string();
        if let Some(feel) = source.strip_prefix('=').filter(|_| FeelPrefix::on()) {
            let e = crate::feel::Expression::parse(feel)
                .map_err(|e| format!("cannot compile \"{}\": {e}", quoted(&source)))?;
            return Ok((
                Expr {
                    source,
                    compiled: Compiled::Feel(Arc::new(e)),
                },
                Vec::new(),
            ));
        }
        if source.is_empty() {
            return Err("the expression is empty".into());
        }
        let bare = !source.contains("${") && !source.contains("#{");
        let (text, shift) = if bare {
            (format!("${{{source}}}"), 2)
        } else {
            (source.clone(), 0)
        };
        let compiled = el::Expression::compile(&text).map_err(|e| {
            format!(
                "cannot compile \"{}\": {} (at column {})",
                quoted(&source),
                e.message,
                e.column.saturating_sub(shift).max(1)
            )
        })?;
        let beans = compiled
            .bean_calls()
            .into_iter()
            .map(|mut b| {
                b.column = b.column.saturating_sub(shift).max(1);
                b
            })
            .collect();
        Ok((
            Expr {
                source,
                compiled: Compiled::El {
                    expr: Arc::new(compiled),
                    shift,
                },
            },
            beans,
        ))
    }

    /// A script used as an expression: its value is the value of its last
    /// expression.
    pub fn script(script: Script) -> Expr {
        Expr {
            source: script.source().trim().to_string(),
            compiled: Compiled::Script(Arc::new(script)),
        }
    }

    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variable names it reads (with `execution` and `task` when it
    /// uses them), each once, in order.
    pub fn identifiers(&self) -> Vec<String> {
        match &self.compiled {
            Compiled::El { expr, .. } => expr.identifiers(),
            Compiled::Feel(_) | Compiled::Script(_) => Vec::new(),
        }
    }

    fn el_error(&self, e: el::ElError, shift: usize) -> EvalError {
        EvalError(format!(
            "{} (at column {} of {})",
            e.message,
            e.column.saturating_sub(shift).max(1),
            quoted(&self.source)
        ))
    }

    fn feel_vars(b: &dyn Bindings) -> Map<String, Value> {
        b.variables()
    }

    /// Evaluates to any JSON value.
    pub fn eval(&self, b: &mut dyn Bindings) -> Result<Value, EvalError> {
        match &self.compiled {
            Compiled::El { expr, shift } => expr.eval(b).map_err(|e| self.el_error(e, *shift)),
            Compiled::Feel(e) => e
                .eval_at(&Expr::feel_vars(b), Some(b.now()))
                .map_err(|e| EvalError(e.message)),
            Compiled::Script(s) => s.run(b),
        }
    }

    /// Evaluates a condition as Camunda does: the value must be a Boolean
    /// (null or any other value is an error, not false).
    pub fn eval_bool(&self, b: &mut dyn Bindings) -> Result<bool, EvalError> {
        match &self.compiled {
            Compiled::El { expr, shift } => {
                expr.eval_condition(b).map_err(|e| self.el_error(e, *shift))
            }
            Compiled::Feel(_) | Compiled::Script(_) => match self.eval(b)? {
                Value::Bool(v) => Ok(v),
                other => Err(EvalError(format!(
                    "the condition {} gave {} instead of a Boolean (true or false)",
                    quoted(&self.source),
                    short(&other)
                ))),
            },
        }
    }

    /// Evaluates to text as EL converts values to text (null is "").
    pub fn eval_string(&self, b: &mut dyn Bindings) -> Result<String, EvalError> {
        match &self.compiled {
            Compiled::El { expr, shift } => {
                expr.eval_string(b).map_err(|e| self.el_error(e, *shift))
            }
            Compiled::Feel(_) | Compiled::Script(_) => Ok(match self.eval(b)? {
                Value::Null => String::new(),
                Value::String(s) => s,
                other => other.to_string(),
            }),
        }
    }
}

/// The `language` of a condition (`tFormalExpression`): `None` for an
/// expression (no language, `juel`, `rhai` or BPMN's own URI, all read as
/// EL), a script language (JavaScript), or why it cannot run here.
pub fn condition_language(language: Option<&str>) -> Result<Option<Language>, String> {
    let Some(lang) = language.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let expression = [
        "juel",
        "rhai",
        "http://www.omg.org/spec/BPMN/20100524/MODEL",
    ];
    if expression.iter().any(|k| lang.eq_ignore_ascii_case(k)) {
        return Ok(None);
    }
    match Language::of(Some(lang)) {
        Ok(Language::JavaScript) => Ok(Some(Language::JavaScript)),
        Ok(Language::Rhai) | Err(_) => Err(format!(
            "condition language \"{lang}\" is not supported; write the condition as an expression without a language, or in JavaScript (language=\"javascript\")"
        )),
    }
}

/// Why a call of a Java bean cannot run here.
pub fn bean_refusal(source: &str, b: &el::BeanCall) -> String {
    format!(
        "\"{}\" calls {}() on \"{}\" (at column {}), a Java bean; this engine runs no Java: register a service handler named \"{}\", or use an external task or a script",
        quoted(source),
        b.method,
        b.bean,
        b.column,
        b.bean
    )
}

/// The languages scripts are written in here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `scriptFormat="rhai"` (or none).
    Rhai,
    /// `scriptFormat="javascript"` and its other names.
    JavaScript,
}

/// The names Camunda's script formats go by for JavaScript (any case).
const JAVASCRIPT_NAMES: [&str; 6] = [
    "javascript",
    "js",
    "ecmascript",
    "application/javascript",
    "text/javascript",
    "application/ecmascript",
];

impl Language {
    /// The language of a `scriptFormat` or condition `language` (none is
    /// rhai), or why it cannot run here, naming it.
    pub fn of(format: Option<&str>) -> Result<Language, String> {
        let Some(format) = format.map(str::trim).filter(|f| !f.is_empty()) else {
            return Ok(Language::Rhai);
        };
        let lower = format.to_ascii_lowercase();
        if lower == "rhai" {
            return Ok(Language::Rhai);
        }
        if JAVASCRIPT_NAMES.contains(&lower.as_str()) {
            return Ok(Language::JavaScript);
        }
        let name = match lower.as_str() {
            "groovy" => "Groovy",
            "python" | "jython" | "py" => "Python",
            "java" | "http://www.java.com/java" => "Java",
            "juel" => "JUEL (an expression, not a script: write it as ${...})",
            "ruby" | "jruby" => "Ruby",
            "kotlin" | "kts" => "Kotlin",
            "feel" => "FEEL",
            "mvel" => "MVEL",
            "drools" => "Drools",
            _ => "a language this engine does not run",
        };
        Err(format!(
            "scriptFormat \"{format}\" is {name}; scripts here are JavaScript (scriptFormat \"javascript\") or rhai (see the README)"
        ))
    }
}

/// A compiled script: a script task's or listener's body, a `camunda:script`
/// parameter or a condition written in a script language.
#[derive(Clone)]
pub enum Script {
    /// rhai, compiled.
    Rhai { source: String, ast: Arc<AST> },
    /// JavaScript, syntax-checked; QuickJS compiles it again for each run,
    /// in a fresh sandbox.
    JavaScript { source: String },
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Script::Rhai { source, .. } => write!(f, "Script(rhai, {} bytes)", source.len()),
            Script::JavaScript { source } => {
                write!(f, "Script(javascript, {} bytes)", source.len())
            }
        }
    }
}

fn script_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut engine = Engine::new();
        engine
            .set_max_operations(SCRIPT_BUDGET)
            .set_max_expr_depths(64, 32)
            .set_max_call_levels(32)
            .set_max_string_size(1024 * 1024)
            .set_max_array_size(100_000)
            .set_max_map_size(100_000)
            .set_max_variables(10_000)
            .set_max_functions(256);
        engine.disable_symbol("eval");
        // The runtime's time budget: checked between operations.
        engine.on_progress(|_| {
            crate::budget::stopped().then(|| Dynamic::from(crate::budget::STOPPED))
        });
        engine.on_print(|_| {});
        engine.on_debug(|_, _, _| {});
        engine
    })
}

fn scope_of(vars: &Map<String, Value>) -> Result<Scope<'static>, EvalError> {
    let mut scope = Scope::new();
    for (name, value) in vars {
        let d = rhai::serde::to_dynamic(value)
            .map_err(|e| EvalError(format!("variable {name}: {e}")))?;
        scope.push_dynamic(name.to_string(), d);
    }
    Ok(scope)
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
        other => other.to_string(),
    }
}

impl Script {
    /// Compiles a script written in rhai.
    pub fn compile(text: &str) -> Result<Script, String> {
        Script::compile_as(Language::Rhai, text)
    }

    /// Compiles a script in `language`: a syntax error names the script's
    /// line and column.
    pub fn compile_as(language: Language, text: &str) -> Result<Script, String> {
        if language == Language::JavaScript {
            return match crate::js::check(text) {
                Ok(()) => Ok(Script::JavaScript {
                    source: text.to_string(),
                }),
                Err(e) => Err(format!(
                    "cannot compile the script (script line {}, column {}): {}",
                    e.line, e.column, e.message
                )),
            };
        }
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
        Ok(Script::Rhai {
            source: text.to_string(),
            ast: Arc::new(ast),
        })
    }

    /// The script as written.
    pub fn source(&self) -> &str {
        match self {
            Script::Rhai { source, .. } | Script::JavaScript { source } => source,
        }
    }

    /// Its language.
    pub fn language(&self) -> Language {
        match self {
            Script::Rhai { .. } => Language::Rhai,
            Script::JavaScript { .. } => Language::JavaScript,
        }
    }

    /// Runs the script against an instance and returns the value of its
    /// last expression. rhai: the visible variables are in scope, and the
    /// variables it creates or changes (but those named `_...`, its scratch)
    /// are set through `b` as `execution.setVariable` would. JavaScript: as
    /// Camunda runs it ([`crate::js`]); only `execution.setVariable` sets
    /// variables.
    pub fn run(&self, b: &mut dyn Bindings) -> Result<Value, EvalError> {
        let ast = match self {
            Script::Rhai { ast, .. } => ast,
            Script::JavaScript { source } => {
                return crate::js::run(source, b)
                    .map_err(|e| EvalError(format!("script failed: {e}")));
            }
        };
        let before = b.variables();
        let mut scope = scope_of(&before)?;
        let d = script_engine()
            .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
            .map_err(|e| EvalError(format!("script failed: {}", describe(&e))))?;
        let result = to_json(d)?;
        for (name, _constant, value) in scope.iter() {
            if name.starts_with('_') {
                continue;
            }
            let value = to_json(value)?;
            if before.get(name) != Some(&value) {
                b.set_variable(name, value, false)
                    .map_err(|e| EvalError(format!("script failed: {e}")))?;
            }
        }
        Ok(result)
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

/// A text value that may contain `${...}` expressions, as Camunda reads
/// parameters, assignees and names: a literal, one whole expression (whose
/// value keeps its type), or text with expressions in it (a string).
#[derive(Debug, Clone)]
pub enum Template {
    Literal(String),
    Expr(Expr),
    Mixed {
        /// The whole text, compiled as EL compiles a composite text.
        expr: Expr,
        /// The literal text before its first expression.
        prefix: String,
    },
}

/// Where the first unescaped `${` or `#{` starts, if any.
fn first_section(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(1)).find(|&i| {
        (bytes[i] == b'$' || bytes[i] == b'#')
            && bytes[i + 1] == b'{'
            && (i == 0 || bytes[i - 1] != b'\\')
    })
}

impl Template {
    /// Parses a text value as Camunda does: `${...}` parts are expressions.
    pub fn parse(text: &str) -> Result<Template, String> {
        let trimmed = text.trim();
        if trimmed.starts_with('=') && FeelPrefix::on() {
            return Ok(Template::Expr(Expr::compile(trimmed)?));
        }
        let Some(at) = first_section(text) else {
            // `\${` is the literal text `${`.
            return Ok(Template::Literal(
                text.replace("\\${", "${").replace("\\#{", "#{"),
            ));
        };
        // A text that is exactly one expression keeps its value's type.
        if let Ok(e) = el::Expression::compile(trimmed)
            && e.is_single()
        {
            return Ok(Template::Expr(Expr::compile(trimmed)?));
        }
        let (expr, beans) = Expr::compile_with_beans(text)?;
        if let Some(b) = beans.first() {
            return Err(bean_refusal(text, b));
        }
        Ok(Template::Mixed {
            expr,
            prefix: text[..at].to_string(),
        })
    }

    /// Evaluates the template.
    pub fn eval(&self, b: &mut dyn Bindings) -> Result<Value, EvalError> {
        match self {
            Template::Literal(s) => Ok(Value::String(s.clone())),
            Template::Expr(e) => e.eval(b),
            Template::Mixed { expr, .. } => expr.eval_string(b).map(Value::String),
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
            Template::Expr(e) | Template::Mixed { expr: e, .. } => e.source().to_string(),
        }
    }
}
