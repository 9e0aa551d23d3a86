//! FEEL values and the evaluator.

use std::cmp::Ordering;
use std::collections::HashMap;

use jiff::civil;
use jiff::{SignedDuration, Span};
use serde_json::{Map, Value};

use super::budget::{Budget, nesting, weight};
use super::builtins::{self, Builtin};
use super::{Domain, Kind, MAX_ITEMS, MAX_STRING_BYTES, MAX_VALUE_NESTING, Node, Op, Test};

/// A FEEL value: JSON plus the temporal types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    List(Vec<V>),
    Ctx(Vec<(String, V)>),
    Date(civil::Date),
    Time(civil::Time),
    DateTime(DateTime),
    Dur(Dur),
}

/// A date and time, local (no offset) or at a fixed UTC offset (in seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateTime {
    pub dt: civil::DateTime,
    pub offset: Option<i32>,
}

impl DateTime {
    /// The same instant as a UTC civil time (local times stay as they are).
    fn utc(self) -> Option<civil::DateTime> {
        match self.offset {
            None => Some(self.dt),
            Some(o) => self
                .dt
                .checked_sub(SignedDuration::from_secs(i64::from(o)))
                .ok(),
        }
    }
}

/// FEEL's two duration types.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dur {
    DayTime(SignedDuration),
    YearMonth(i64),
}

impl V {
    pub(crate) fn from_json(v: &Value) -> V {
        match v {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => V::Int(i),
                None => n.as_f64().map(V::Num).unwrap_or(V::Null),
            },
            Value::String(s) => V::Str(s.clone()),
            Value::Array(items) => V::List(items.iter().map(V::from_json).collect()),
            Value::Object(map) => V::Ctx(
                map.iter()
                    .map(|(k, v)| (k.clone(), V::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(*b),
            V::Int(i) => Value::from(*i),
            V::Num(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            V::Str(s) => Value::String(s.clone()),
            V::List(items) => Value::Array(items.iter().map(V::to_json).collect()),
            V::Ctx(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            V::Date(_) | V::Time(_) | V::DateTime(_) | V::Dur(_) => {
                Value::String(builtins::to_string(self))
            }
        }
    }

    fn num(&self) -> Option<f64> {
        match self {
            V::Int(i) => Some(*i as f64),
            V::Num(f) => Some(*f),
            _ => None,
        }
    }
}

/// A finite float, or null.
pub(crate) fn float(f: f64) -> V {
    if f.is_finite() { V::Num(f) } else { V::Null }
}

/// Where names are looked up: the entries of the context being built, local
/// bindings (`?`, `item`, the input variable), the enclosing scopes, and
/// last the variables. Scopes chain instead of copying, so that large
/// contexts and filters stay linear.
pub(crate) struct Env<'a> {
    pub vars: &'a Map<String, Value>,
    pub locals: &'a [(&'a str, &'a V)],
    pub scope: &'a [(String, V)],
    pub parent: Option<&'a Env<'a>>,
    pub budget: &'a Budget,
}

impl<'a> Env<'a> {
    pub(crate) fn new(
        vars: &'a Map<String, Value>,
        locals: &'a [(&'a str, &'a V)],
        budget: &'a Budget,
    ) -> Env<'a> {
        Env {
            vars,
            locals,
            scope: &[],
            parent: None,
            budget,
        }
    }
}

type R = Result<V, String>;

/// Refuses a value larger than the size limits (the top level only: what it
/// contains was checked when it was made).
pub(crate) fn sized(v: V) -> R {
    match &v {
        V::Str(s) if s.len() > MAX_STRING_BYTES => Err(string_too_long()),
        V::List(items) if items.len() > MAX_ITEMS => Err(list_too_long()),
        V::Ctx(entries) if entries.len() > MAX_ITEMS => Err(context_too_large()),
        _ => Ok(v),
    }
}

pub(crate) fn string_too_long() -> String {
    format!("a string grew beyond its budget of {MAX_STRING_BYTES} bytes")
}

fn list_too_long() -> String {
    format!("a list grew beyond its budget of {MAX_ITEMS} items")
}

fn context_too_large() -> String {
    format!("a context grew beyond its budget of {MAX_ITEMS} entries")
}

/// Refuses to put `v` inside a list or context when that would nest values
/// too deeply for the recursive code that converts, compares and drops them.
fn nestable(v: &V) -> Result<(), String> {
    if nesting(v, MAX_VALUE_NESTING) >= MAX_VALUE_NESTING {
        return Err(format!(
            "lists and contexts nested beyond their budget of {MAX_VALUE_NESTING} levels"
        ));
    }
    Ok(())
}

impl Env<'_> {
    /// The local binding of `name`, charging one step per name compared, so
    /// that a lookup in a context of many entries is paid for.
    fn local(&self, name: &str) -> Result<Option<&V>, String> {
        let mut env = Some(self);
        let mut compared = 0u64;
        let mut found = None;
        while let Some(e) = env {
            if let Some((_, v)) = e.scope.iter().rev().find(|(n, _)| {
                compared += 1;
                n == name
            }) {
                found = Some(v);
                break;
            }
            if let Some((_, v)) = e.locals.iter().rev().find(|(n, _)| {
                compared += 1;
                *n == name
            }) {
                found = Some(*v);
                break;
            }
            env = e.parent;
        }
        self.budget.charge(compared)?;
        Ok(found)
    }

    /// A name or path that can be read straight from the JSON variables:
    /// `Some(None)` when it is missing there, `None` when it needs evaluating.
    fn json<'v>(&'v self, node: &Node) -> Result<Option<Option<&'v Value>>, String> {
        Ok(match &node.kind {
            Kind::Name(n) if self.local(n)?.is_none() => Some(self.vars.get(n)),
            Kind::Path(base, field) => match self.json(base)? {
                None => None,
                Some(None | Some(Value::Null)) => Some(None),
                Some(Some(Value::Object(map))) => Some(map.get(field)),
                Some(Some(_)) => None,
            },
            _ => None,
        })
    }

    /// Whether `node` reads `name`, charging the walk over its nodes.
    fn mentions(&self, node: &Node, name: &str) -> Result<bool, String> {
        self.budget.charge(node.size as u64)?;
        Ok(node.mentions(name))
    }

    pub(crate) fn eval(&self, node: &Node) -> R {
        self.budget.charge(1)?;
        match &node.kind {
            Kind::Lit(v) => self.budget.copy(v),
            Kind::Name(n) => match self.local(n)? {
                Some(v) => self.budget.copy(v),
                None => self.budget.copy_json(self.vars.get(n)),
            },
            Kind::Path(base, field) => {
                if let Some(found) = self.json(node)? {
                    return self.budget.copy_json(found);
                }
                let v = path(&self.eval(base)?, field);
                self.budget.charge(weight(&v, u64::MAX))?;
                sized(v)
            }
            Kind::Filter(base, filter) => self.filter(base, filter),
            Kind::Neg(a) => Ok(match self.eval(a)? {
                V::Int(i) => i.checked_neg().map(V::Int).unwrap_or(V::Num(-(i as f64))),
                V::Num(f) => V::Num(-f),
                V::Dur(Dur::DayTime(d)) => {
                    d.checked_neg().map_or(V::Null, |d| V::Dur(Dur::DayTime(d)))
                }
                V::Dur(Dur::YearMonth(m)) => V::Dur(Dur::YearMonth(-m)),
                _ => V::Null,
            }),
            Kind::Bin(op, a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                // Checked before concatenating, so that the oversized string is never made.
                if let (Op::Add, V::Str(x), V::Str(y)) = (op, &a, &b)
                    && x.len().saturating_add(y.len()) > MAX_STRING_BYTES
                {
                    return Err(string_too_long());
                }
                sized(binary(*op, &a, &b))
            }
            Kind::And(a, b) => {
                let a = self.eval(a)?;
                if a == V::Bool(false) {
                    return Ok(a);
                }
                Ok(match (a, self.eval(b)?) {
                    (_, V::Bool(false)) => V::Bool(false),
                    (V::Bool(true), V::Bool(true)) => V::Bool(true),
                    _ => V::Null,
                })
            }
            Kind::Or(a, b) => {
                let a = self.eval(a)?;
                if a == V::Bool(true) {
                    return Ok(a);
                }
                Ok(match (a, self.eval(b)?) {
                    (_, V::Bool(true)) => V::Bool(true),
                    (V::Bool(false), V::Bool(false)) => V::Bool(false),
                    _ => V::Null,
                })
            }
            Kind::If(c, a, b) => {
                if self.eval(c)? == V::Bool(true) {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            Kind::List(items) => {
                if items.len() > MAX_ITEMS {
                    return Err(list_too_long());
                }
                let mut list = Vec::with_capacity(items.len());
                for n in items {
                    let v = self.eval(n)?;
                    nestable(&v)?;
                    list.push(v);
                }
                Ok(V::List(list))
            }
            Kind::Ctx(entries) => {
                if entries.len() > MAX_ITEMS {
                    return Err(context_too_large());
                }
                let mut done: Vec<(String, V)> = Vec::with_capacity(entries.len());
                for (key, n) in entries {
                    // Later entries may read earlier ones.
                    let v = Env {
                        vars: self.vars,
                        locals: &[],
                        scope: &done,
                        parent: Some(self),
                        budget: self.budget,
                    }
                    .eval(n)?;
                    nestable(&v)?;
                    done.push((key.clone(), v));
                }
                Ok(V::Ctx(done))
            }
            Kind::Call(Builtin::IsDefined, args) => Ok(V::Bool(match args.first() {
                Some(arg) => match self.json(arg)? {
                    Some(found) => found.is_some(),
                    None => self.eval(arg)? != V::Null,
                },
                None => false,
            })),
            Kind::Call(Builtin::Now, _) => {
                let now = self.budget.now()?;
                Ok(V::DateTime(DateTime {
                    dt: jiff::tz::Offset::UTC.to_datetime(now),
                    offset: Some(0),
                }))
            }
            Kind::Call(Builtin::Today, _) => Ok(V::Date(
                jiff::tz::Offset::UTC.to_datetime(self.budget.now()?).date(),
            )),
            Kind::Call(b, args) => {
                let args: Vec<V> = args
                    .iter()
                    .map(|n| self.eval(n))
                    .collect::<Result<_, _>>()?;
                // A builtin's work grows with the lists it goes through.
                let items: usize = args
                    .iter()
                    .map(|a| match a {
                        V::List(items) => items.len(),
                        _ => 0,
                    })
                    .sum();
                self.budget.charge(1 + items as u64)?;
                sized(builtins::call(*b, args)?)
            }
            Kind::In(a, tests) => {
                let a = self.eval(a)?;
                for t in tests {
                    if self.test(t, &a, None, false)? {
                        return Ok(V::Bool(true));
                    }
                }
                Ok(V::Bool(false))
            }
            Kind::Between(x, lo, hi) => {
                let x = self.eval(x)?;
                let lo = compare(&x, &self.eval(lo)?);
                let hi = compare(&x, &self.eval(hi)?);
                Ok(match (lo, hi) {
                    (Some(l), Some(h)) => V::Bool(l != Ordering::Less && h != Ordering::Greater),
                    _ => V::Null,
                })
            }
            Kind::For(domains, body) => {
                let mut results = Vec::new();
                let complete = self.iterate(domains, &mut Vec::new(), &mut |env| {
                    if results.len() >= MAX_ITEMS {
                        return Err(list_too_long());
                    }
                    let v = env.eval(body)?;
                    nestable(&v)?;
                    results.push(v);
                    Ok(true)
                })?;
                Ok(if complete { V::List(results) } else { V::Null })
            }
            Kind::Quantified {
                every,
                domains,
                body,
            } => {
                // Three-valued, like `and` and `or`: an answer that decides
                // stops the iteration; otherwise null if any answer was not
                // a Boolean.
                let (decisive, other) = (!*every, *every);
                let (mut decided, mut unknown) = (false, false);
                let complete = self.iterate(domains, &mut Vec::new(), &mut |env| {
                    match env.eval(body)? {
                        V::Bool(b) if b == decisive => decided = true,
                        V::Bool(_) => {}
                        _ => unknown = true,
                    }
                    Ok(!decided)
                })?;
                Ok(if decided {
                    V::Bool(decisive)
                } else if unknown || !complete {
                    V::Null
                } else {
                    V::Bool(other)
                })
            }
        }
    }

    /// Calls `visit` with every combination of the domains' items bound to
    /// their names, the first domain outermost, while `visit` answers true.
    /// Later domains may read the names of earlier ones. Answers false when
    /// a domain is not something to iterate over (null, or a range whose
    /// bounds are not integers).
    fn iterate(
        &self,
        domains: &[Domain],
        bound: &mut Vec<(String, V)>,
        visit: &mut dyn FnMut(&Env<'_>) -> Result<bool, String>,
    ) -> Result<bool, String> {
        let env = Env {
            vars: self.vars,
            locals: &[],
            scope: bound,
            parent: Some(self),
            budget: self.budget,
        };
        let Some((first, rest)) = domains.split_first() else {
            return visit(&env);
        };
        let (name, items): (&str, Box<dyn Iterator<Item = V>>) = match first {
            Domain::List(name, over) => match env.eval(over)? {
                V::Null => return Ok(false),
                V::List(items) => (name, Box::new(items.into_iter())),
                single => (name, Box::new(std::iter::once(single))),
            },
            Domain::Range(name, from, to) => match (env.eval(from)?, env.eval(to)?) {
                (V::Int(a), V::Int(b)) if a <= b => (name, Box::new((a..=b).map(V::Int))),
                (V::Int(a), V::Int(b)) => (name, Box::new((b..=a).rev().map(V::Int))),
                _ => return Ok(false),
            },
        };
        for item in items {
            self.budget.charge(1)?;
            bound.push((name.to_string(), item));
            let go_on = self.iterate(rest, bound, visit);
            bound.pop();
            if !go_on? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn filter(&self, base: &Node, filter: &Node) -> R {
        let items = match self.eval(base)? {
            V::List(items) => items,
            V::Null => return Ok(V::Null),
            other => vec![other],
        };
        if !self.mentions(filter, "item")? {
            match self.eval(filter)? {
                V::Int(i) => {
                    let len = items.len() as i64;
                    let at = if i > 0 { i - 1 } else { len + i };
                    return Ok(usize::try_from(at)
                        .ok()
                        .and_then(|at| items.get(at).cloned())
                        .unwrap_or(V::Null));
                }
                V::Num(_) => return Ok(V::Null),
                _ => {}
            }
        }
        let mut kept = Vec::new();
        for item in items {
            let mut locals: Vec<(&str, &V)> = Vec::new();
            if let V::Ctx(entries) = &item {
                locals.extend(entries.iter().map(|(k, v)| (k.as_str(), v)));
            }
            locals.push(("item", &item));
            self.budget.charge(locals.len() as u64)?;
            let keep = Env {
                vars: self.vars,
                locals: &locals,
                scope: &[],
                parent: Some(self),
                budget: self.budget,
            }
            .eval(filter)?
                == V::Bool(true);
            if keep {
                kept.push(item);
            }
        }
        sized(V::List(kept))
    }

    /// Whether `input` passes one positive unary test. Inside `x in ...`,
    /// `value_only` makes a plain expression always a value to compare with.
    pub(crate) fn test(
        &self,
        test: &Test,
        input: &V,
        input_variable: Option<&str>,
        boolean_allowed: bool,
    ) -> Result<bool, String> {
        match test {
            Test::Cmp(op, n) => Ok(binary(*op, input, &self.eval(n)?) == V::Bool(true)),
            Test::Range {
                lo,
                lo_incl,
                hi,
                hi_incl,
            } => {
                let lo = compare(input, &self.eval(lo)?);
                let hi = compare(input, &self.eval(hi)?);
                Ok(match (lo, hi) {
                    (Some(l), Some(h)) => {
                        let above = l == Ordering::Greater || (*lo_incl && l == Ordering::Equal);
                        let below = h == Ordering::Less || (*hi_incl && h == Ordering::Equal);
                        above && below
                    }
                    _ => false,
                })
            }
            Test::Expr(n) => {
                let uses_input = boolean_allowed
                    && (self.mentions(n, super::INPUT)?
                        || match input_variable {
                            Some(v) => self.mentions(n, v)?,
                            None => false,
                        });
                let v = self.eval(n)?;
                if uses_input {
                    return Ok(v == V::Bool(true));
                }
                Ok(match &v {
                    V::List(items) if !matches!(input, V::List(_)) => {
                        self.budget.charge(items.len() as u64)?;
                        items.iter().any(|item| equals(input, item))
                    }
                    _ => equals(input, &v),
                })
            }
        }
    }
}

/// `value.field`: context entries, or properties of dates and times.
fn path(base: &V, field: &str) -> V {
    let int = |i: i64| V::Int(i);
    match (base, field) {
        (V::Ctx(entries), _) => entries
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.clone())
            .unwrap_or(V::Null),
        (V::List(items), _) => V::List(items.iter().map(|i| path(i, field)).collect()),
        (V::Date(d), "year") => int(d.year().into()),
        (V::Date(d), "month") => int(d.month().into()),
        (V::Date(d), "day") => int(d.day().into()),
        (V::Date(d), "weekday") => int(d.weekday().to_monday_one_offset().into()),
        (V::DateTime(d), "year") => int(d.dt.year().into()),
        (V::DateTime(d), "month") => int(d.dt.month().into()),
        (V::DateTime(d), "day") => int(d.dt.day().into()),
        (V::DateTime(d), "weekday") => int(d.dt.weekday().to_monday_one_offset().into()),
        (V::DateTime(d), "hour") => int(d.dt.hour().into()),
        (V::DateTime(d), "minute") => int(d.dt.minute().into()),
        (V::DateTime(d), "second") => int(d.dt.second().into()),
        (V::Time(t), "hour") => int(t.hour().into()),
        (V::Time(t), "minute") => int(t.minute().into()),
        (V::Time(t), "second") => int(t.second().into()),
        (V::Dur(Dur::YearMonth(m)), "years") => int(m / 12),
        (V::Dur(Dur::YearMonth(m)), "months") => int(m % 12),
        (V::Dur(Dur::DayTime(d)), "days") => int(d.as_secs() / 86_400),
        (V::Dur(Dur::DayTime(d)), "hours") => int(d.as_secs() / 3_600 % 24),
        (V::Dur(Dur::DayTime(d)), "minutes") => int(d.as_secs() / 60 % 60),
        (V::Dur(Dur::DayTime(d)), "seconds") => int(d.as_secs() % 60),
        _ => V::Null,
    }
}

/// A string read as the temporal type of `like`, so that ISO strings from
/// JSON variables compare with dates, times and durations.
fn coerce(s: &str, like: &V) -> Option<V> {
    let v = match like {
        V::Date(_) => builtins::parse_date(s).map(V::Date),
        V::Time(_) => builtins::parse_time(s).map(V::Time),
        V::DateTime(_) => builtins::parse_date_time(s).map(V::DateTime),
        V::Dur(_) => builtins::parse_duration(s).map(V::Dur),
        _ => None,
    }?;
    Some(v)
}

/// FEEL `=`: deep equality; values of different types are not equal.
pub(crate) fn equals(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Null, _) | (_, V::Null) => false,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::List(x), V::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equals(p, q))
        }
        (V::Ctx(x), V::Ctx(y)) => {
            if x.len() != y.len() {
                return false;
            }
            let first = |k: &str| y.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v);
            if x.len() <= 8 {
                return x
                    .iter()
                    .all(|(k, v)| first(k).is_some_and(|v2| equals(v, v2)));
            }
            // Indexed, so that comparing large contexts stays linear; the
            // first entry of a repeated key wins, as in a lookup.
            let mut index: HashMap<&str, &V> = HashMap::with_capacity(y.len());
            for (k, v) in y {
                index.entry(k.as_str()).or_insert(v);
            }
            x.iter()
                .all(|(k, v)| index.get(k.as_str()).is_some_and(|v2| equals(v, v2)))
        }
        (V::Dur(Dur::DayTime(_)), V::Dur(Dur::YearMonth(_)))
        | (V::Dur(Dur::YearMonth(_)), V::Dur(Dur::DayTime(_))) => false,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

/// FEEL ordering; `None` when the values cannot be compared.
pub(crate) fn compare(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => a.num()?.partial_cmp(&b.num()?),
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => {
            if x.offset.is_some() != y.offset.is_some() {
                return None;
            }
            Some(x.utc()?.cmp(&y.utc()?))
        }
        (V::Date(x), V::DateTime(_)) => compare(
            &V::DateTime(DateTime {
                dt: x.to_datetime(civil::Time::midnight()),
                offset: None,
            }),
            b,
        ),
        (V::DateTime(_), V::Date(_)) => compare(b, a).map(Ordering::reverse),
        (V::Dur(Dur::DayTime(x)), V::Dur(Dur::DayTime(y))) => Some(x.cmp(y)),
        (V::Dur(Dur::YearMonth(x)), V::Dur(Dur::YearMonth(y))) => Some(x.cmp(y)),
        (V::Str(s), other @ (V::Date(_) | V::Time(_) | V::DateTime(_) | V::Dur(_))) => {
            compare(&coerce(s, other)?, other)
        }
        (V::Date(_) | V::Time(_) | V::DateTime(_) | V::Dur(_), V::Str(_)) => {
            compare(b, a).map(Ordering::reverse)
        }
        _ => None,
    }
}

/// Arithmetic and comparison operators; null when the operands do not fit.
pub(crate) fn binary(op: Op, a: &V, b: &V) -> V {
    let ord = |f: fn(Ordering) -> bool| compare(a, b).map_or(V::Null, |o| V::Bool(f(o)));
    match op {
        Op::Eq => V::Bool(equals(a, b)),
        Op::Ne => V::Bool(!equals(a, b)),
        Op::Lt => ord(|o| o == Ordering::Less),
        Op::Le => ord(|o| o != Ordering::Greater),
        Op::Gt => ord(|o| o == Ordering::Greater),
        Op::Ge => ord(|o| o != Ordering::Less),
        Op::Add => add(a, b),
        Op::Sub => sub(a, b),
        Op::Mul => mul(a, b),
        Op::Div => div(a, b),
        Op::Pow => pow(a, b),
    }
}

fn add(a: &V, b: &V) -> V {
    match (a, b) {
        (V::Int(x), V::Int(y)) => x
            .checked_add(*y)
            .map_or_else(|| float(*x as f64 + *y as f64), V::Int),
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => match (a.num(), b.num()) {
            (Some(x), Some(y)) => float(x + y),
            _ => V::Null,
        },
        (V::Str(x), V::Str(y)) => V::Str(format!("{x}{y}")),
        (V::Dur(x), V::Dur(y)) => match (x, y) {
            (Dur::DayTime(x), Dur::DayTime(y)) => x
                .checked_add(*y)
                .map_or(V::Null, |d| V::Dur(Dur::DayTime(d))),
            (Dur::YearMonth(x), Dur::YearMonth(y)) => x
                .checked_add(*y)
                .map_or(V::Null, |m| V::Dur(Dur::YearMonth(m))),
            _ => V::Null,
        },
        (V::Dur(d), other) | (other, V::Dur(d)) => shift(other, *d).unwrap_or(V::Null),
        _ => V::Null,
    }
}

fn neg(d: Dur) -> Option<Dur> {
    match d {
        Dur::DayTime(d) => d.checked_neg().map(Dur::DayTime),
        Dur::YearMonth(m) => m.checked_neg().map(Dur::YearMonth),
    }
}

/// A date, time or date and time moved by a duration.
fn shift(v: &V, d: Dur) -> Option<V> {
    let months = |m: i64| Span::new().try_months(m).ok();
    Some(match (v, d) {
        (V::Date(x), Dur::DayTime(d)) => V::Date(
            x.to_datetime(civil::Time::midnight())
                .checked_add(d)
                .ok()?
                .date(),
        ),
        (V::Date(x), Dur::YearMonth(m)) => V::Date(x.checked_add(months(m)?).ok()?),
        (V::DateTime(x), Dur::DayTime(d)) => V::DateTime(DateTime {
            dt: x.dt.checked_add(d).ok()?,
            offset: x.offset,
        }),
        (V::DateTime(x), Dur::YearMonth(m)) => V::DateTime(DateTime {
            dt: x.dt.checked_add(months(m)?).ok()?,
            offset: x.offset,
        }),
        (V::Time(t), Dur::DayTime(d)) => V::Time(t.wrapping_add(d)),
        _ => return None,
    })
}

fn sub(a: &V, b: &V) -> V {
    match (a, b) {
        (V::Int(x), V::Int(y)) => x
            .checked_sub(*y)
            .map_or_else(|| float(*x as f64 - *y as f64), V::Int),
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => match (a.num(), b.num()) {
            (Some(x), Some(y)) => float(x - y),
            _ => V::Null,
        },
        (V::Date(x), V::Date(y)) => V::Dur(Dur::DayTime(x.duration_since(*y))),
        (V::Time(x), V::Time(y)) => V::Dur(Dur::DayTime(x.duration_since(*y))),
        (V::DateTime(x), V::DateTime(y)) if x.offset.is_some() == y.offset.is_some() => {
            match (x.utc(), y.utc()) {
                (Some(x), Some(y)) => V::Dur(Dur::DayTime(x.duration_since(y))),
                _ => V::Null,
            }
        }
        (V::Dur(_), V::Dur(y)) => neg(*y).map_or(V::Null, |y| add(a, &V::Dur(y))),
        (_, V::Dur(d)) if !matches!(a, V::Dur(_)) => {
            neg(*d).and_then(|d| shift(a, d)).unwrap_or(V::Null)
        }
        (V::Str(_), other @ (V::Date(_) | V::DateTime(_) | V::Time(_)))
        | (other @ (V::Date(_) | V::DateTime(_) | V::Time(_)), V::Str(_)) => {
            let (x, y) = match (a, b) {
                (V::Str(s), _) => (coerce(s, other), Some(b.clone())),
                (_, V::Str(s)) => (Some(a.clone()), coerce(s, other)),
                _ => (None, None),
            };
            match (x, y) {
                (Some(x), Some(y)) => sub(&x, &y),
                _ => V::Null,
            }
        }
        _ => V::Null,
    }
}

fn mul(a: &V, b: &V) -> V {
    match (a, b) {
        (V::Int(x), V::Int(y)) => x
            .checked_mul(*y)
            .map_or_else(|| float(*x as f64 * *y as f64), V::Int),
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => match (a.num(), b.num()) {
            (Some(x), Some(y)) => float(x * y),
            _ => V::Null,
        },
        (V::Dur(d), n @ (V::Int(_) | V::Num(_))) | (n @ (V::Int(_) | V::Num(_)), V::Dur(d)) => {
            scale(*d, n.num().unwrap_or(f64::NAN))
        }
        _ => V::Null,
    }
}

fn scale(d: Dur, by: f64) -> V {
    match d {
        Dur::DayTime(d) => SignedDuration::try_from_secs_f64(d.as_secs_f64() * by)
            .map_or(V::Null, |d| V::Dur(Dur::DayTime(d))),
        Dur::YearMonth(m) => {
            let months = (m as f64 * by).round();
            if months.is_finite() && months.abs() < 1e12 {
                V::Dur(Dur::YearMonth(months as i64))
            } else {
                V::Null
            }
        }
    }
}

fn div(a: &V, b: &V) -> V {
    match (a, b) {
        (_, V::Int(0)) => V::Null,
        (V::Int(x), V::Int(y)) => match (x.checked_rem(*y), x.checked_div(*y)) {
            (Some(0), Some(q)) => V::Int(q),
            _ => float(*x as f64 / *y as f64),
        },
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => match (a.num(), b.num()) {
            (Some(x), Some(y)) => float(x / y),
            _ => V::Null,
        },
        (V::Dur(d), n @ (V::Int(_) | V::Num(_))) => match n.num() {
            Some(y) if y != 0.0 => scale(*d, 1.0 / y),
            _ => V::Null,
        },
        (V::Dur(Dur::DayTime(x)), V::Dur(Dur::DayTime(y))) if !y.is_zero() => {
            float(x.as_secs_f64() / y.as_secs_f64())
        }
        (V::Dur(Dur::YearMonth(x)), V::Dur(Dur::YearMonth(y))) if *y != 0 => {
            float(*x as f64 / *y as f64)
        }
        _ => V::Null,
    }
}

fn pow(a: &V, b: &V) -> V {
    match (a, b) {
        (V::Int(x), V::Int(y)) if (0..=u32::MAX as i64).contains(y) => x
            .checked_pow(*y as u32)
            .map_or_else(|| float((*x as f64).powf(*y as f64)), V::Int),
        (V::Int(_) | V::Num(_), V::Int(_) | V::Num(_)) => match (a.num(), b.num()) {
            (Some(x), Some(y)) => float(x.powf(y)),
            _ => V::Null,
        },
        _ => V::Null,
    }
}
