//! DMN 1.1–1.5 decisions for business rule tasks: decision tables and literal
//! expressions, with a small FEEL subset.
//!
//! [`parse_dmn`] reads a `.dmn` file once (at deployment), compiles every FEEL
//! text, and either refuses the file with every problem located by
//! line:column and element id, or returns [`DmnDefinitions`]. Evaluating a
//! decision ([`DmnDefinitions::evaluate`]) is then pure: variables in, a
//! [`DecisionResult`] out.
//!
//! # What is read
//!
//! * `decision` with a `decisionTable` (hit policies UNIQUE, FIRST, PRIORITY,
//!   ANY, COLLECT with or without SUM/MIN/MAX/COUNT, RULE ORDER, OUTPUT ORDER;
//!   `outputValues` give the PRIORITY / OUTPUT ORDER order) or a
//!   `literalExpression` (its result is named by the decision's `variable`,
//!   else by the decision id);
//! * `informationRequirement/requiredDecision href="#id"` (and DMN 1.1's bare
//!   `requiredDecision`); `requiredInput`, `inputData`, `itemDefinition`,
//!   authority requirements, knowledge sources, diagram interchange and
//!   uninvoked business knowledge models are ignored;
//! * Camunda's `camunda:inputVariable` on an `input` (default `cellInput`).
//!
//! Refused as *unsupported*: boxed contexts, invocations, relations, lists,
//! function definitions, invoked business knowledge models, imports, default
//! output entries, expression languages other than FEEL. Refused as *errors*:
//! unknown hit policies or aggregations, unparsable FEEL, entry counts that do
//! not match the columns, missing or cyclic required decisions, chains of
//! required decisions deeper than [`MAX_REQUIREMENT_DEPTH`], duplicate ids.
//!
//! # Required decisions
//!
//! Before a decision is evaluated, each decision it requires is evaluated (once
//! per evaluation, with the same variables) and its result is added to the
//! variables under the required decision's **id** and its **name**: one result
//! with one output gives that value, one result with several outputs a
//! context, several results a list (of values or contexts), no result null.
//! For Camunda 7 compatibility, the outputs of a required decision with
//! exactly one result are also added under their own names. These overwrite
//! variables of the same names.
//!
//! # Results
//!
//! A decision table output without a `name` (allowed only for a table with a
//! single output) is keyed by the decision id. An empty output entry gives
//! null. [`DecisionResult`] offers Camunda's `mapDecisionResult` shapes.
//!
//! # FEEL subset (see [`crate::feel`])
//!
//! Literals (integers, decimals, strings, booleans, null), names and paths
//! (`a.b.c`), `+ - * / **`, `= != < <= > >=`, `and`, `or`, `not(x)`,
//! `if c then a else b`, lists, contexts (`{a: 1, "b": a + 1}`), filters
//! (`list[1]`, `list[-1]`, `list[item > 3]`), iteration (`for x in xs, i in
//! 1..n return e`, `some x in xs satisfies c`, `every x in xs satisfies c`:
//! a deciding answer wins, otherwise null), `x in <tests>`,
//! `x between a and b`, and the functions `date`, `time`, `date and time`,
//! `duration`, `string`, `number`, `contains`, `starts with`, `ends with`,
//! `upper case`, `lower case`, `string length`, `substring`, `string join`,
//! `count`, `sum`, `min`, `max`, `mean`, `all`, `any`, `list contains`,
//! `abs`, `floor`, `ceiling`, `decimal`, `modulo`, `is defined`, `get value`,
//! and `now()` and `today()`, which give the time the evaluation is made at
//! ([`DmnDefinitions::evaluate_at`]; the command's time), in UTC.
//! Dates, times, date-times and durations have the properties `year`,
//! `month`, `day`, `weekday`, `hour`, `minute`, `second`, `years`, `months`,
//! `days`, `hours`, `minutes`, `seconds`.
//!
//! Unary tests: `-` or empty (anything), values, `< <= > >= e` (and `= e`,
//! `!= e`), ranges `[a..b]`, `(a..b)`, `]a..b[`, `[a..b)`..., comma lists,
//! `not(...)`, and boolean expressions using `?` (or the input variable,
//! `cellInput` unless `camunda:inputVariable` names another).
//!
//! ## Deviations from FEEL
//!
//! * Numbers are JSON numbers: integers (`i64`) stay integers while the
//!   arithmetic is exact (`1 + 2` is `3`, `10 / 4` is `2.5`), otherwise they
//!   are `f64`, not FEEL's 34-digit decimals (`decimal(1.005, 2)` gives 1).
//! * Dates, times, date-times and durations are values of their own while an
//!   expression is evaluated, and become ISO 8601 strings in results
//!   (`"2024-01-31"`, `"10:30:00"`, `"2024-01-01T10:00:00Z"`, `"P1DT2H"`,
//!   `"P1Y2M"`). Since variables arrive as JSON, a string is compared with a
//!   temporal value (`=`, `<`, ranges...) by reading it as that type, so
//!   `date("2024-01-02") > invoiceDate` works when `invoiceDate` is
//!   `"2024-01-01"`. Time zones by name (`@Europe/Paris`) and times with an
//!   offset are not supported; date-times are local or at a fixed offset.
//! * A name with spaces is read as a run of words that are not keywords
//!   (`Monthly Income * 12`), with single spaces; a name containing a keyword
//!   (`and`, `or`, `in`, `not`...) cannot be written. `function`,
//!   `instance of`, named arguments and user functions are
//!   refused at parse time, as are unknown functions, calls of anything but a
//!   built-in, wrong argument counts and invalid literal dates/durations
//!   (`date("2024-13-01")`).
//! * Comparisons cannot be chained (`1 < ? < 5` is a parse error, not null).
//! * Values of different types are unequal (`1 = "1"` is false, not null);
//!   other invalid operations give null, as in FEEL (`"a" * 2`, `x < null`).
//! * A plain expression used as a unary test is a boolean test when it uses
//!   `?` or the input variable, otherwise a value the input must equal (or a
//!   list the input must be in).
//! * `now()` and `today()` are not provided: evaluation is pure.
//! * `typeRef`s and `inputValues` are kept for display but not enforced; no
//!   input or output value is converted to its declared type.
//! * Nesting deeper than [`feel::MAX_DEPTH`] is refused.
//! * Evaluation has a budget (see [`crate::feel`]): evaluating a decision,
//!   with the decisions it requires, may take [`feel::STEP_BUDGET`] steps,
//!   and no string, list or context it makes may grow beyond the FEEL size
//!   limits. Past them the decision fails with an ordinary FEEL error.

mod eval;

mod parse;

use serde::Serialize;
use serde_json::Value;

use crate::feel;
use crate::model::diagnostic::Diagnostic;

pub use eval::{DecisionResult, DmnError};

/// The longest chain of required decisions accepted (A requires B requires C...).
pub const MAX_REQUIREMENT_DEPTH: usize = 64;
pub use parse::parse_dmn;

/// Whether a file is a DMN model rather than BPMN: its root element is in a
/// DMN namespace. A BPMN file that merely declares the DMN or FEEL namespaces
/// (as the MIWG files C.4.0 to C.8.1 do) is BPMN. When the start of the file
/// cannot be read as XML, a DMN namespace without the BPMN one decides, so
/// that the DMN reader reports the problem.
pub fn is_dmn(bytes: &[u8]) -> bool {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    const DMN: &str = "omg.org/spec/DMN/";
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let mut reader = quick_xml::NsReader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match reader.read_resolved_event_into(&mut buf) {
            Ok((ns, Event::Start(_) | Event::Empty(_))) => {
                return match ns {
                    ResolveResult::Bound(ns) => ns.0.contains(DMN),
                    _ => false,
                };
            }
            Ok((_, Event::Eof)) | Err(_) => break,
            Ok(_) => {}
        }
        buf.clear();
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    text.contains(DMN) && !text.contains("omg.org/spec/BPMN/")
}

/// A parsed DMN file.
#[derive(Debug, Clone, Serialize)]
pub struct DmnDefinitions {
    pub id: Option<String>,
    pub name: Option<String>,
    pub decisions: Vec<Decision>,
    /// Problems that do not prevent evaluation (ignored elements...).
    pub warnings: Vec<Diagnostic>,
}

/// One decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: String,
    pub name: Option<String>,
    /// `camunda:versionTag` (a business rule task may ask for it).
    pub version_tag: Option<String>,
    /// Ids of the decisions this one requires, in document order.
    pub required: Vec<String>,
    pub logic: DecisionLogic,
}

/// How a decision computes its result.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionLogic {
    Table(DecisionTable),
    Literal {
        /// The FEEL source.
        expression: String,
        /// The name of the result.
        variable: String,
        type_ref: Option<String>,
        #[serde(skip)]
        compiled: feel::Expression,
    },
}

/// A decision table.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionTable {
    pub hit_policy: HitPolicy,
    pub aggregation: Option<Aggregation>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub rules: Vec<Rule>,
}

/// A decision table's hit policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HitPolicy {
    #[serde(rename = "UNIQUE")]
    Unique,
    #[serde(rename = "FIRST")]
    First,
    #[serde(rename = "PRIORITY")]
    Priority,
    #[serde(rename = "ANY")]
    Any,
    #[serde(rename = "COLLECT")]
    Collect,
    #[serde(rename = "RULE ORDER")]
    RuleOrder,
    #[serde(rename = "OUTPUT ORDER")]
    OutputOrder,
}

/// The aggregation of a COLLECT table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Aggregation {
    Sum,
    Min,
    Max,
    Count,
}

/// An input column.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub id: Option<String>,
    pub label: Option<String>,
    /// The FEEL source of the input expression.
    pub expression_text: String,
    pub type_ref: Option<String>,
    /// The name the input value has inside input entries (besides `?`).
    pub input_variable: String,
    #[serde(skip)]
    pub(crate) expression: feel::Expression,
}

/// An output column.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub id: Option<String>,
    /// The key of this output in results (the decision id for an unnamed single output).
    pub name: String,
    pub label: Option<String>,
    pub type_ref: Option<String>,
    /// The `outputValues`, highest priority first (empty when not given).
    pub values: Vec<Value>,
}

/// A rule (row) of a decision table.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The rule's id (`rule N`, 1-based, when the file gives none).
    pub id: String,
    pub description: Option<String>,
    pub input_texts: Vec<String>,
    pub output_texts: Vec<String>,
    #[serde(skip)]
    pub(crate) tests: Vec<feel::UnaryTests>,
    /// `None` for an empty output entry (null).
    #[serde(skip)]
    pub(crate) outputs: Vec<Option<feel::Expression>>,
}

impl DmnDefinitions {
    /// The decision with this id, or else with this name.
    pub fn decision(&self, id_or_name: &str) -> Option<&Decision> {
        self.decisions
            .iter()
            .find(|d| d.id == id_or_name)
            .or_else(|| {
                self.decisions
                    .iter()
                    .find(|d| d.name.as_deref() == Some(id_or_name))
            })
    }
}
