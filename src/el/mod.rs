//! The Unified Expression Language (EL 2.2, JSR-245) as Camunda 7 evaluates
//! it with JUEL: the `${...}` and `#{...}` expressions of conditions, task
//! assignments, input/output mappings, listeners and timer definitions.
//!
//! An [`Expression`] is compiled once, when a diagram is deployed (syntax
//! errors and unknown functions are found then), and evaluated many times
//! against an instance's [`Bindings`]. Evaluation is pure: it reads the time
//! from the bindings, changes the instance only through them, and stops when
//! its [`Limits`] are spent or the runtime raises the thread's stop flag
//! ([`crate::budget`]).
//!
//! # The language
//!
//! - Literals: integers are Long (`i64`), numbers with a point or exponent
//!   Double (`f64`), strings in `'...'` or `"..."` (a backslash escapes only
//!   itself and the enclosing quote), `true`, `false`, `null`.
//! - Operators, loosest first: `?:`; `||`/`or`; `&&`/`and`; `==`/`eq`,
//!   `!=`/`ne`; `<`/`lt`, `>`/`gt`, `<=`/`le`, `>=`/`ge`; `+`, `-`;
//!   `*`, `/`/`div`, `%`/`mod`; unary `-`, `!`/`not`, `empty`; then `.`,
//!   `[]` and method calls `a.m(x, y)`.
//! - Reserved words: `and eq gt true instanceof or ne le false empty not lt
//!   ge null div mod`. Every other Java identifier is a name, so `default`,
//!   `var`, `new` and `type` are ordinary variables.
//! - A text with literal parts or several sections (`Dear ${name}, you owe
//!   ${amount}`) is a string; a text without `${` is itself. A backslash
//!   before `${` or `#{` makes it literal text. One text uses either `${` or
//!   `#{`, not both (JUEL refuses the mix); `#{}` evaluates like `${}`.
//!
//! # Coercion (JSR-245 section 1.18, as JUEL's `TypeConverterImpl`)
//!
//! - `+ - *`: two nulls give 0; if either side is a Double or a string
//!   containing `.`, `e` or `E`, both become Double; otherwise both become
//!   Long (strings parsed like `Long.valueOf`; null and "" are 0) and the
//!   result wraps on overflow as Java's does. `+` never joins strings:
//!   `'a' + 'b'` fails, `'1' + '2'` is 3.
//! - `/` and `div`: two nulls give 0; otherwise Double division (`7 / 2` is
//!   3.5, `1 / 0` is Infinity). `%` and `mod`: like `+` in choosing Double or
//!   Long; a Long remainder by zero fails with "/ by zero".
//! - `< > <= >=`: false if either side is null; Double if either is Double,
//!   else Long if either is Long (so `'150' > 100` holds, and `'1.5' > 1`
//!   fails), else strings compare by UTF-16 units, else Booleans and dates of
//!   one class compare; anything else fails.
//! - `==`: two nulls are equal, one null is not; then Double, Long, Boolean
//!   (`'true' == true`) and String coercion in that order; otherwise Java's
//!   `equals`. Doubles compare as `Double.equals` (`0.0 == -0.0` is false).
//! - Boolean (for `&& || ! ?:` and [`Expression::eval_bool`]): null and ""
//!   are false, a string is true iff it equals "true" ignoring case; numbers
//!   and other objects fail.
//! - String: null is "", doubles print as Java's `Double.toString`
//!   (`2.0`, `1.0E10`, `1.0E-4`), lists as `[a, b]`, maps as `{k=v}`, dates
//!   in ISO 8601.
//! - `empty x`: null, "", and empty lists and maps.
//!
//! # Names and objects
//!
//! Names resolve as Camunda's `VariableScopeElResolver` does: `execution`
//! is always the execution object (a variable of that name is hidden by
//! it); `task` is the task object where [`Bindings::has_task`] says there is
//! one, and a variable otherwise; `authenticatedUserId` is what
//! `Bindings::execution("authenticatedUserId")` answers (else a variable of
//! that name, else null); any other name is a variable, and a name no
//! variable answers fails with `Cannot resolve identifier 'x'`.
//!
//! `a.b` and `a[b]` read a map's entry (null when absent; a non-string key
//! finds nothing), a list's element (the index narrowed to an int; null when
//! out of range), or an object's bean property (`execution.processInstanceId`
//! is `getProcessInstanceId()`). On a null base they give null. A method
//! call on null fails (`Target unreachable`), as in Camunda's JUEL.
//!
//! Methods: strings have `length trim isEmpty isBlank toUpperCase
//! toLowerCase contains startsWith endsWith indexOf lastIndexOf substring
//! replace concat equals equalsIgnoreCase compareTo split toString`; lists
//! `size isEmpty contains get indexOf lastIndexOf`; maps `get getOrDefault
//! containsKey containsValue size isEmpty keySet values`; numbers `intValue
//! longValue doubleValue compareTo toString` (and Double's `isNaN
//! isInfinite`); booleans `booleanValue`; everything `toString` and
//! `equals`. `execution` and `task` have `getVariable(name)`,
//! `getVariableLocal`, `hasVariable`, `hasVariableLocal`, `getVariables()`,
//! `getVariableNames()`, `setVariable(name, value)`, `setVariableLocal`,
//! and a getter for every property [`Bindings::execution`] or
//! [`Bindings::task`] knows; `task` also has a setter for every property
//! (`task.setAssignee('ann')` calls [`Bindings::set_task`]).
//!
//! `now()` is a `Date` (`getTime`, `before`, `after`); `dateTime()` a Joda
//! `DateTime` (`plusYears/Months/Weeks/Days/Hours/Minutes/Seconds/Millis`,
//! `minus...`, `toDate`, `toString()` and `toString(pattern)`, `getMillis`,
//! `isBefore`, `isAfter`, `isBeforeNow`, `getYear`, `getDayOfMonth`, ...,
//! `withTimeAtStartOfDay`). `S(json)` and `JSON(json)` make a Spin node from
//! a JSON text or a JSON variable: `prop`, `hasProp`, `stringValue`,
//! `numberValue`, `boolValue`, `value`, `elements`, `fieldNames`, `isObject`
//! and the other `is...` tests, `toString`.
//!
//! # Results
//!
//! Values come back as JSON: Long as an integer, Double as a float (2.0
//! stays 2.0), dates as ISO 8601 text in UTC with milliseconds
//! (`2026-03-03T10:00:00.000Z`), Spin nodes as their JSON. A Double that
//! JSON cannot hold (NaN, Infinity) is an error there, not in the middle of
//! a computation.
//!
//! # Deviations from EL 2.2 and Camunda
//!
//! - BigDecimal and BigInteger do not exist: JSON integers are Long, other
//!   numbers Double, and integer literals beyond a Long are refused.
//! - No `instanceof`, no assignment or lambda (EL 3.0), no user functions;
//!   the functions are `now()`, `dateTime()`, `S()` and `JSON()` (no
//!   `XML()`, `currentUser()` or `currentUserGroups()`).
//! - Methods are a fixed set, not Java reflection. Where Java overloads a
//!   method, the `String`/`CharSequence` form is the one called
//!   (`indexOf('b')` searches for the text "b"); `split` takes plain-text
//!   separators only (letters, digits and backslash-escaped operators such
//!   as `\\.` or `\\|`), and `matches`, `replaceAll` and `replaceFirst`,
//!   which take regular expressions, are refused.
//! - `toString()` of a `Date` (and a Date in text) is ISO 8601 in UTC, not
//!   Java's `Tue Mar 03 10:00:00 UTC 2026`; dates have no other time zone
//!   than UTC, and `toString(pattern)` knows the common Joda pattern letters
//!   with English names.
//! - Spin nodes are values: `prop(name, value)` and the other changing
//!   methods are not offered, nor `jsonPath` and `mapTo`; two nodes are
//!   equal when their JSON is (Spin compares the objects).
//! - `execution.getX()` and `task.getX()` fail when the bindings know no
//!   property `x` (a Java object would answer null for some of them).
//! - `Double.toString` prints the shortest digits that read back as the
//!   same number (Java 19 and later; older Javas sometimes print more).
//! - Maps print their keys in sorted order.
//! - The bean properties of strings, numbers and booleans (`'a'.bytes`,
//!   `x.class`) are not offered, except `'a'['empty']`.
//! - Conditions: [`Expression::eval_bool`] coerces as EL does (`'true'` and
//!   null are accepted); [`Expression::eval_condition`] is Camunda's rule,
//!   which accepts only a Boolean result.
//! - `identifiers` and error columns count characters (Unicode scalar
//!   values) from 1, over the whole text including `${`.

mod context;
mod eval;
mod lexer;
mod methods;
mod ops;
mod parser;
mod value;

use serde_json::Value;

use crate::bindings::Bindings;
use eval::Evaluator;
use parser::{Part, Tree};
use value::{Val, to_bool, to_text};

pub use context::{ContextObject, context_member};
pub use parser::{MAX_HEIGHT, MAX_NESTING};

/// The longest expression text accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

/// What one evaluation may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Steps: one per sub-expression evaluated, plus one per KiB (or 1024
    /// items) of the values read and worked through.
    pub max_steps: u64,
    /// The longest string an evaluation may build, in bytes.
    pub max_text_bytes: usize,
    /// The most items a list it builds (`split`, `keySet`) may have.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 100_000,
            max_text_bytes: 1 << 20,
            max_items: 100_000,
        }
    }
}

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {column})")]
pub struct ElError {
    /// What went wrong, in EL's and Camunda's words where they have some.
    pub message: String,
    /// 1-based column, in characters of the whole expression text, where the
    /// failing part starts.
    pub column: usize,
}

impl ElError {
    /// An error at byte `offset` of `src`.
    fn at(src: &str, offset: usize, message: impl Into<String>) -> ElError {
        let column = src
            .get(..offset.min(src.len()))
            .map_or(1, |s| s.chars().count() + 1);
        ElError {
            message: message.into(),
            column,
        }
    }
}

/// A call of a Java bean's method (see [`Expression::bean_calls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeanCall {
    pub bean: String,
    pub method: String,
    /// 1-based column of the call in the expression text.
    pub column: usize,
}

/// A compiled expression text.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    tree: Tree,
    identifiers: Vec<String>,
}

impl Expression {
    /// Compiles `${...}`, `#{...}`, or a text with such sections in it
    /// (`Dear ${name}, you owe ${amount}`: the literal parts and the values
    /// joined as a string). A text without `${` or `#{` is a literal.
    ///
    /// Fails on a syntax error, an unknown function or a wrong number of
    /// arguments to one, nesting deeper than [`MAX_NESTING`] brackets or
    /// [`MAX_HEIGHT`] operators, and texts longer than [`MAX_SOURCE_BYTES`].
    pub fn compile(text: &str) -> Result<Expression, ElError> {
        if text.len() > MAX_SOURCE_BYTES {
            return Err(ElError {
                message: format!("the expression is longer than {MAX_SOURCE_BYTES} bytes"),
                column: 1,
            });
        }
        let tree = parser::parse(text)?;
        let mut identifiers: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !identifiers.iter().any(|n| n == name) {
                identifiers.push(name.to_string());
            }
        };
        match &tree {
            Tree::Text(_) => {}
            Tree::Eval(node) => node.visit_identifiers(&mut add),
            Tree::Composite(parts) => {
                for part in parts {
                    if let Part::Eval(node) = part {
                        node.visit_identifiers(&mut add);
                    }
                }
            }
        }
        Ok(Expression {
            source: text.to_string(),
            tree,
            identifiers,
        })
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the text is exactly one `${...}` (or `#{...}`) with nothing
    /// around it: its value keeps its type.
    pub fn is_single(&self) -> bool {
        matches!(self.tree, Tree::Eval(_))
    }

    /// Whether the text has no `${...}` or `#{...}` in it.
    pub fn is_literal_text(&self) -> bool {
        matches!(self.tree, Tree::Text(_))
    }

    /// The names it reads (variables, and `execution` or `task` when it uses
    /// them), each once, in order of appearance. Property and method names
    /// are not among them: `${order.total}` reads `order`.
    pub fn identifiers(&self) -> Vec<String> {
        self.identifiers.clone()
    }

    /// The calls of Java bean methods in it: `name.method(...)` where
    /// `method` is none of the methods a variable's value has (so `name`
    /// can only be a bean, `${orderService.check(execution)}`), with the
    /// column of each call. `execution` and `task` are not beans.
    pub fn bean_calls(&self) -> Vec<BeanCall> {
        let mut out = Vec::new();
        let mut add = |name: &str, method: &str, at: usize| {
            if !matches!(name, "execution" | "task" | "authenticatedUserId")
                && !methods::VALUE_METHODS.contains(&method)
            {
                out.push(BeanCall {
                    bean: name.to_string(),
                    method: method.to_string(),
                    column: ElError::at(&self.source, at, "").column,
                });
            }
        };
        match &self.tree {
            Tree::Text(_) => {}
            Tree::Eval(node) => node.visit_name_calls(&mut add),
            Tree::Composite(parts) => {
                for part in parts {
                    if let Part::Eval(node) = part {
                        node.visit_name_calls(&mut add);
                    }
                }
            }
        }
        out
    }

    fn run<T>(
        &self,
        b: &mut dyn Bindings,
        limits: &Limits,
        finish: impl FnOnce(&Val, &Evaluator<'_>) -> Result<T, String>,
    ) -> Result<T, ElError> {
        let mut ev = Evaluator::new(b, &self.source, limits);
        let v = ev.tree(&self.tree)?;
        // A result that cannot be used is the whole expression's fault.
        let at = match &self.tree {
            Tree::Eval(node) => node.start,
            _ => 0,
        };
        finish(&v, &ev).map_err(|message| ElError::at(&self.source, at, message))
    }

    /// Its value, as JSON, within the default [`Limits`].
    pub fn eval(&self, b: &mut dyn Bindings) -> Result<Value, ElError> {
        self.eval_with(b, &Limits::default())
    }

    /// Its value, as JSON, within `limits`.
    pub fn eval_with(&self, b: &mut dyn Bindings, limits: &Limits) -> Result<Value, ElError> {
        self.run(b, limits, |v, _| v.to_json())
    }

    /// Its value coerced to Boolean as EL coerces: null and "" are false, a
    /// string is true iff it is "true" in any case, and a number or other
    /// object is an error.
    pub fn eval_bool(&self, b: &mut dyn Bindings) -> Result<bool, ElError> {
        self.run(b, &Limits::default(), |v, _| to_bool(v))
    }

    /// A sequence flow's or conditional event's condition, as Camunda's
    /// `UelExpressionCondition` checks it: the value must be a Boolean; null
    /// and any other value are errors.
    pub fn eval_condition(&self, b: &mut dyn Bindings) -> Result<bool, ElError> {
        self.run(b, &Limits::default(), |v, _| match v {
            Val::Bool(b) => Ok(*b),
            Val::Null => Err("condition expression returns null".into()),
            other => Err(format!(
                "condition expression returns non-Boolean: result has class {} and not Boolean",
                other.type_name()
            )),
        })
    }

    /// Its value coerced to String as EL coerces (null is ""): for names,
    /// assignees, and other text fields.
    pub fn eval_string(&self, b: &mut dyn Bindings) -> Result<String, ElError> {
        self.run(b, &Limits::default(), |v, ev| {
            to_text(v, ev.limits.max_text_bytes).map(|s| s.to_string())
        })
    }
}
