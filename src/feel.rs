//! A small FEEL subset: expressions and unary tests, parsed once and evaluated
//! many times against a `serde_json` variable map. Decision tables use it
//! (see [`crate::dmn`] for what is supported and how it deviates from FEEL),
//! and so do expressions written with a leading `=` in diagrams (Camunda 8).
//!
//! Parsing never panics and bounds its recursion: nesting deeper than
//! [`MAX_DEPTH`] is refused with an error instead of overflowing the stack.
//!
//! Evaluation runs under a budget, like the engine's scripts: it counts steps
//! (every node evaluated, every list item a filter, test or built-in goes
//! through, every piece of a value copied) and stops with an error after
//! [`STEP_BUDGET`]; strings may not grow beyond [`MAX_STRING_BYTES`], lists and
//! contexts beyond [`MAX_ITEMS`], and lists and contexts may not nest deeper
//! than [`MAX_VALUE_NESTING`]. Steps rather than time, so that an evaluation
//! that is refused is refused every time. A budget error is an ordinary
//! evaluation error.

mod budget;
mod builtins;
mod lexer;
mod parser;
mod value;

use std::fmt;

use serde_json::{Map, Value};

pub(crate) use budget::Budget;
use builtins::Builtin;
use lexer::Tok;
use parser::Parser;
pub(crate) use value::{V, compare};

/// FEEL `+` (used by SUM aggregation).
pub(crate) fn add(a: &V, b: &V) -> V {
    value::binary(Op::Add, a, b)
}

/// The deepest nesting an expression may have (brackets, operators, calls...).
pub const MAX_DEPTH: usize = 64;

/// The steps one evaluation may take (one decision, with the decisions it
/// requires, shares one budget). A decision table of a thousand rules takes
/// some ten thousand steps and a filter over a list of twenty thousand
/// contexts some two hundred thousand; a million steps take about fifteen
/// milliseconds in a release build, so what would run for minutes (filters
/// nested inside filters) is refused quickly.
pub const STEP_BUDGET: u64 = 1_000_000;

/// The longest string an evaluation may make, in bytes (1 MiB, as for scripts).
pub const MAX_STRING_BYTES: usize = 1024 * 1024;

/// The most items a list, or entries a context, an evaluation may make.
pub const MAX_ITEMS: usize = 100_000;

/// How deeply an evaluation may nest lists and contexts in one another:
/// values are converted, compared and dropped recursively.
pub const MAX_VALUE_NESTING: usize = 256;

/// Camunda's default name for the input value inside input entries.
pub const DEFAULT_INPUT_VARIABLE: &str = "cellInput";

/// The name that a unary test's `?` stands for.
const INPUT: &str = "?";

/// What went wrong parsing or evaluating a FEEL text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("FEEL {} `{text}`{}: {message}", if *.parse { "syntax error in" } else { "error evaluating" }, column.map(|c| format!(" at column {c}")).unwrap_or_default())]
pub struct FeelError {
    /// The FEEL text concerned (shortened when very long).
    pub text: String,
    /// 1-based column (in characters) of the problem, when known.
    pub column: Option<usize>,
    pub message: String,
    /// Whether the text could not be parsed (otherwise evaluating it failed).
    pub parse: bool,
}

impl FeelError {
    fn parse_error(text: &str, offset: usize, message: impl Into<String>) -> FeelError {
        let column = text.get(..offset).map(|s| s.chars().count() + 1);
        FeelError {
            text: shorten(text),
            column,
            message: message.into(),
            parse: true,
        }
    }

    pub(crate) fn eval_error(text: &str, message: impl Into<String>) -> FeelError {
        FeelError {
            text: shorten(text),
            column: None,
            message: message.into(),
            parse: false,
        }
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// A parsed FEEL expression (an output entry, an input expression, a literal decision).
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    node: Node,
}

impl Expression {
    /// Parses a FEEL expression.
    pub fn parse(text: &str) -> Result<Expression, FeelError> {
        let mut p = Parser::new(text)?;
        if p.peek() == &Tok::Eof {
            return Err(p.error_here("the expression is empty"));
        }
        let node = p.expr()?;
        p.expect_eof()?;
        Ok(Expression {
            text: text.to_string(),
            node,
        })
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression, within [`STEP_BUDGET`] steps; missing
    /// variables are null.
    pub fn eval(&self, vars: &Map<String, Value>) -> Result<Value, FeelError> {
        self.eval_at(vars, None)
    }

    /// Evaluates the expression at `now`, the time `now()` and `today()`
    /// give (in UTC); without it they are an error.
    pub fn eval_at(
        &self,
        vars: &Map<String, Value>,
        now: Option<jiff::Timestamp>,
    ) -> Result<Value, FeelError> {
        let budget = Budget::at(STEP_BUDGET, now);
        Ok(self.eval_v(vars, &[], &budget)?.to_json())
    }

    pub(crate) fn eval_v(
        &self,
        vars: &Map<String, Value>,
        locals: &[(&str, &V)],
        budget: &Budget,
    ) -> Result<V, FeelError> {
        let env = value::Env::new(vars, locals, budget);
        env.eval(&self.node)
            .map_err(|m| FeelError::eval_error(&self.text, m))
    }
}

/// Parsed unary tests (a decision table input entry).
#[derive(Debug, Clone)]
pub struct UnaryTests {
    text: String,
    /// `None` for `-` or an empty cell (matches anything).
    tests: Option<Tests>,
}

#[derive(Debug, Clone)]
struct Tests {
    negated: bool,
    list: Vec<Test>,
}

/// One positive unary test.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `< 10`, `>= x`, and (extension) `= x`, `!= x`.
    Cmp(Op, Node),
    /// `[a..b]` and its open variants.
    Range {
        lo: Node,
        lo_incl: bool,
        hi: Node,
        hi_incl: bool,
    },
    /// A plain expression: a boolean test when it uses `?` (or the input
    /// variable), otherwise a value the input must equal (or a list it must be in).
    Expr(Node),
}

impl UnaryTests {
    /// Parses unary tests: `-`, empty, values, comparisons, ranges, lists,
    /// `not(...)` and boolean expressions over `?`.
    pub fn parse(text: &str) -> Result<UnaryTests, FeelError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "-" {
            return Ok(UnaryTests {
                text: text.to_string(),
                tests: None,
            });
        }
        let mut p = Parser::new(text)?;
        // `not(t1, t2)` negates the whole list; `not(x) and y` is an expression.
        if p.peek_name("not") && p.peek_at(1) == &Tok::LParen {
            let save = p.pos;
            p.pos += 2;
            let attempt = p.tests(Tok::RParen).and_then(|list| {
                p.expect(&Tok::RParen)?;
                p.expect_eof()?;
                Ok(list)
            });
            match attempt {
                Ok(list) => {
                    return Ok(UnaryTests {
                        text: text.to_string(),
                        tests: Some(Tests {
                            negated: true,
                            list,
                        }),
                    });
                }
                Err(_) => {
                    p.pos = save;
                    p.depth = 0;
                }
            }
        }
        let list = p.tests(Tok::Eof)?;
        p.expect_eof()?;
        Ok(UnaryTests {
            text: text.to_string(),
            tests: Some(Tests {
                negated: false,
                list,
            }),
        })
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the tests match anything (`-` or empty).
    pub fn is_any(&self) -> bool {
        self.tests.is_none()
    }

    /// Whether `input` satisfies the tests, within [`STEP_BUDGET`] steps;
    /// `?` stands for the input. The input is also bound to `cellInput`,
    /// Camunda's default input variable.
    pub fn matches(&self, input: &Value, vars: &Map<String, Value>) -> Result<bool, FeelError> {
        let budget = Budget::new(STEP_BUDGET);
        self.matches_v(
            &V::from_json(input),
            Some(DEFAULT_INPUT_VARIABLE),
            vars,
            &budget,
        )
    }

    /// Like [`matches`](Self::matches), with the input also bound to
    /// `input_variable` (Camunda's `cellInput`).
    pub(crate) fn matches_v(
        &self,
        input: &V,
        input_variable: Option<&str>,
        vars: &Map<String, Value>,
        budget: &Budget,
    ) -> Result<bool, FeelError> {
        let Some(tests) = &self.tests else {
            return Ok(true);
        };
        let mut locals: Vec<(&str, &V)> = vec![(INPUT, input)];
        if let Some(name) = input_variable {
            locals.push((name, input));
        }
        let env = value::Env::new(vars, &locals, budget);
        let mut any = false;
        for test in &tests.list {
            let hit = env
                .test(test, input, input_variable, true)
                .map_err(|m| FeelError::eval_error(&self.text, m))?;
            if hit {
                any = true;
                break;
            }
        }
        Ok(any != tests.negated)
    }
}

// ---------------------------------------------------------------- syntax tree

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression node; `depth` bounds evaluation recursion, `size` (the
/// nodes in this subtree) is what walking it costs.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    depth: usize,
    size: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Lit(V),
    Name(String),
    Path(Box<Node>, String),
    Filter(Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Bin(Op, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>),
    List(Vec<Node>),
    Ctx(Vec<(String, Node)>),
    Call(Builtin, Vec<Node>),
    In(Box<Node>, Vec<Test>),
    Between(Box<Node>, Box<Node>, Box<Node>),
    /// `for x in xs, y in ys return body`: one result per combination.
    For(Vec<Domain>, Box<Node>),
    /// `some x in xs satisfies body` (`every` when `every`).
    Quantified {
        every: bool,
        domains: Vec<Domain>,
        body: Box<Node>,
    },
}

/// What a name iterates over in `for`, `some` and `every`.
#[derive(Debug, Clone)]
pub(crate) enum Domain {
    /// The items of a list (a single value counts as a list of one).
    List(String, Node),
    /// The integers from one bound to the other, counting down when the
    /// second is smaller.
    Range(String, Node, Node),
}

impl Domain {
    fn children(&self, f: &mut dyn FnMut(&Node)) {
        match self {
            Domain::List(_, n) => f(n),
            Domain::Range(_, a, b) => {
                f(a);
                f(b)
            }
        }
    }
}

impl Node {
    /// Visits the direct child nodes.
    fn children(&self, f: &mut dyn FnMut(&Node)) {
        match &self.kind {
            Kind::Lit(_) | Kind::Name(_) => {}
            Kind::Path(a, _) | Kind::Neg(a) => f(a),
            Kind::Filter(a, b) | Kind::Bin(_, a, b) | Kind::And(a, b) | Kind::Or(a, b) => {
                f(a);
                f(b)
            }
            Kind::If(a, b, c) | Kind::Between(a, b, c) => {
                f(a);
                f(b);
                f(c)
            }
            Kind::List(items) | Kind::Call(_, items) => items.iter().for_each(f),
            Kind::Ctx(entries) => entries.iter().for_each(|(_, n)| f(n)),
            Kind::In(a, tests) => {
                f(a);
                for t in tests {
                    t.children(f);
                }
            }
            Kind::For(domains, body) | Kind::Quantified { domains, body, .. } => {
                for d in domains {
                    d.children(f);
                }
                f(body)
            }
        }
    }

    /// Whether the expression reads the variable `name` (`?` for the input).
    pub(crate) fn mentions(&self, name: &str) -> bool {
        if let Kind::Name(n) = &self.kind
            && n == name
        {
            return true;
        }
        let mut found = false;
        self.children(&mut |c| found = found || c.mentions(name));
        found
    }
}

impl Test {
    fn children(&self, f: &mut dyn FnMut(&Node)) {
        match self {
            Test::Cmp(_, n) | Test::Expr(n) => f(n),
            Test::Range { lo, hi, .. } => {
                f(lo);
                f(hi)
            }
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for UnaryTests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
