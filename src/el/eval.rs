//! Evaluation of a parsed expression against an instance's [`Bindings`],
//! under a budget: every node evaluated is a step, work on large strings and
//! lists costs steps in proportion, and the runtime's stop flag is looked at
//! every few hundred steps.
//!
//! Names resolve as in Camunda's `VariableScopeElResolver`: `execution`
//! first, then `task` where there is one, `authenticatedUserId`, then
//! variables.

use super::ops::{self, OpError, Side};
use super::parser::{Binary, Kind, MethodName, Node, Part, Tree, Unary};
use super::value::{Val, to_bool, to_int, to_text};
use super::{ElError, Limits, context, methods};
use crate::bindings::Bindings;

/// How often (in steps) the stop flag is read.
const STOP_CHECK_EVERY: u64 = 256;

pub(super) struct Evaluator<'a> {
    pub bindings: &'a mut dyn Bindings,
    pub limits: &'a Limits,
    src: &'a str,
    steps: u64,
}

impl<'a> Evaluator<'a> {
    pub fn new(bindings: &'a mut dyn Bindings, src: &'a str, limits: &'a Limits) -> Self {
        Evaluator {
            bindings,
            limits,
            src,
            steps: 0,
        }
    }

    pub fn err(&self, at: usize, message: impl Into<String>) -> ElError {
        ElError::at(self.src, at, message)
    }

    /// Counts `units` steps of work done for the text at `at`.
    pub fn charge(&mut self, units: u64, at: usize) -> Result<(), ElError> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(units);
        if self.steps > self.limits.max_steps {
            return Err(self.err(
                at,
                format!(
                    "the expression was stopped after {} steps (its budget)",
                    self.limits.max_steps
                ),
            ));
        }
        if (before == 0 || before / STOP_CHECK_EVERY != self.steps / STOP_CHECK_EVERY)
            && crate::budget::stopped()
        {
            return Err(self.err(at, crate::budget::STOPPED));
        }
        Ok(())
    }

    /// Steps for handling `size` bytes or items at once.
    pub fn charge_size(&mut self, size: usize, at: usize) -> Result<(), ElError> {
        self.charge((size / 1024) as u64, at)
    }

    /// Steps for a value read from the instance: reading a large variable
    /// costs in proportion, so many reads of it cannot add up to unbounded
    /// work.
    fn charge_value(&mut self, v: &Val, at: usize) -> Result<(), ElError> {
        let size = match v {
            Val::Str(s) => s.len(),
            Val::List(items) => items.len(),
            Val::Map(map) => map.len(),
            _ => 0,
        };
        self.charge_size(size, at)
    }

    fn op_err(&self, e: OpError, whole: &Node, left: &Node, right: &Node) -> ElError {
        let at = match e.side {
            Side::Left => left.start,
            Side::Right => right.start,
            Side::Both => whole.start,
        };
        self.err(at, e.message)
    }

    pub fn tree(&mut self, tree: &Tree) -> Result<Val, ElError> {
        match tree {
            Tree::Text(text) => Ok(Val::str(text.as_str())),
            Tree::Eval(node) => self.node(node),
            Tree::Composite(parts) => {
                let limit = self.limits.max_text_bytes;
                let mut out = String::new();
                for part in parts {
                    let (piece, at) = match part {
                        Part::Text(text) => (Val::str(text.as_str()), 0),
                        Part::Eval(node) => (self.node(node)?, node.start),
                    };
                    let text = to_text(&piece, limit).map_err(|m| self.err(at, m))?;
                    if out.len() + text.len() > limit {
                        return Err(
                            self.err(at, format!("the text would be longer than {limit} bytes"))
                        );
                    }
                    self.charge_size(text.len(), at)?;
                    out.push_str(&text);
                }
                Ok(Val::str(out))
            }
        }
    }

    pub fn node(&mut self, n: &Node) -> Result<Val, ElError> {
        self.charge(1, n.start)?;
        match &n.kind {
            Kind::Null => Ok(Val::Null),
            Kind::Bool(b) => Ok(Val::Bool(*b)),
            Kind::Long(x) => Ok(Val::Long(*x)),
            Kind::Double(d) => Ok(Val::Double(*d)),
            Kind::Str(s) => Ok(Val::str(s.as_str())),
            Kind::Ident(name) => self.identifier(name, n.start),
            Kind::Dot {
                base,
                name,
                name_at,
            } => {
                let b = self.node(base)?;
                if b.is_null() {
                    return Ok(Val::Null);
                }
                self.property(b, &Val::str(name.as_str()), *name_at)
            }
            Kind::Bracket { base, index } => {
                let b = self.node(base)?;
                if b.is_null() {
                    return Ok(Val::Null);
                }
                let key = self.node(index)?;
                if key.is_null() {
                    return Ok(Val::Null);
                }
                self.property(b, &key, index.start)
            }
            Kind::Method {
                base,
                name,
                name_at,
                args,
            } => self.method(base, name, *name_at, args),
            Kind::Function { func, args } => {
                let args = args
                    .iter()
                    .map(|a| self.node(a))
                    .collect::<Result<Vec<_>, _>>()?;
                context::function(self, *func, args).map_err(|m| self.err(n.start, m))
            }
            Kind::Unary { op, operand } => {
                let v = self.node(operand)?;
                match op {
                    Unary::Neg => ops::negate(&v),
                    Unary::Not => to_bool(&v).map(|b| Val::Bool(!b)),
                    Unary::Empty => Ok(Val::Bool(ops::is_empty(&v))),
                }
                .map_err(|m| self.err(operand.start, m))
            }
            Kind::Binary { op, left, right } => {
                let a = self.node(left)?;
                let b = self.node(right)?;
                let limit = self.limits.max_text_bytes;
                let result = match op {
                    Binary::Add | Binary::Sub | Binary::Mul | Binary::Div | Binary::Mod => {
                        ops::arithmetic(*op, &a, &b)
                    }
                    Binary::Lt | Binary::Gt | Binary::Le | Binary::Ge => {
                        ops::relational(*op, &a, &b, limit).map(Val::Bool)
                    }
                    Binary::Eq => ops::equality(&a, &b, limit).map(Val::Bool),
                    Binary::Ne => ops::equality(&a, &b, limit).map(|e| Val::Bool(!e)),
                };
                result.map_err(|e| self.op_err(e, n, left, right))
            }
            Kind::And(left, right) => {
                if !self.truth(left)? {
                    return Ok(Val::Bool(false));
                }
                self.truth(right).map(Val::Bool)
            }
            Kind::Or(left, right) => {
                if self.truth(left)? {
                    return Ok(Val::Bool(true));
                }
                self.truth(right).map(Val::Bool)
            }
            Kind::Choice { cond, yes, no } => {
                if self.truth(cond)? {
                    self.node(yes)
                } else {
                    self.node(no)
                }
            }
        }
    }

    /// A node's value coerced to Boolean.
    fn truth(&mut self, n: &Node) -> Result<bool, ElError> {
        let v = self.node(n)?;
        to_bool(&v).map_err(|m| self.err(n.start, m))
    }

    fn identifier(&mut self, name: &str, at: usize) -> Result<Val, ElError> {
        if name == "execution" {
            return Ok(Val::Execution);
        }
        if name == "task" && self.bindings.has_task() {
            return Ok(Val::Task);
        }
        // Camunda always answers this name: the user the command runs as,
        // or null.
        if name == "authenticatedUserId" {
            let user = self
                .bindings
                .execution(name)
                .or_else(|| self.bindings.variable(name));
            return Ok(user.map_or(Val::Null, Val::from_json));
        }
        match self.bindings.variable(name) {
            Some(v) => {
                let v = Val::from_json(v);
                self.charge_value(&v, at)?;
                Ok(v)
            }
            None => Err(self.err(at, format!("Cannot resolve identifier '{name}'"))),
        }
    }

    /// `base.key` and `base[key]` on a non-null base and key.
    fn property(&mut self, base: Val, key: &Val, at: usize) -> Result<Val, ElError> {
        match &base {
            // A map answers any key, with null when absent. Its keys are
            // strings, so a key of another type finds nothing (Java's
            // `Map.get` does not coerce).
            Val::Map(map) => {
                let v = match key {
                    Val::Str(k) => map
                        .get(k.as_ref())
                        .cloned()
                        .map_or(Val::Null, Val::from_json),
                    _ => Val::Null,
                };
                self.charge_value(&v, at)?;
                Ok(v)
            }
            Val::List(items) => {
                let index = list_index(key).map_err(|m| self.err(at, m))?;
                Ok(usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .unwrap_or(Val::Null))
            }
            _ => {
                let name = to_text(key, self.limits.max_text_bytes).map_err(|m| self.err(at, m))?;
                context::property(self, base, &name).map_err(|m| self.err(at, m))
            }
        }
    }

    fn method(
        &mut self,
        base: &Node,
        name: &MethodName,
        name_at: usize,
        args: &[Node],
    ) -> Result<Val, ElError> {
        let b = self.node(base)?;
        if b.is_null() {
            let text = self.src.get(base.start..base.end).unwrap_or("?");
            return Err(self.err(
                base.start,
                format!("Target unreachable, base expression '{text}' resolved to null"),
            ));
        }
        let name = match name {
            MethodName::Fixed(name) => name.clone(),
            MethodName::Computed(node) => {
                let v = self.node(node)?;
                if v.is_null() {
                    return Err(self.err(
                        node.start,
                        format!("Cannot find method 'null' in {}", b.type_name()),
                    ));
                }
                to_text(&v, self.limits.max_text_bytes)
                    .map_err(|m| self.err(node.start, m))?
                    .to_string()
            }
        };
        let args = args
            .iter()
            .map(|a| self.node(a))
            .collect::<Result<Vec<_>, _>>()?;
        methods::call(self, b, &name, args, name_at)
    }
}

/// A list index as EL's `ListELResolver` reads it: numbers narrowed to an
/// int, booleans as 1 and 0, strings parsed as an Integer.
fn list_index(key: &Val) -> Result<i32, String> {
    match key {
        Val::Bool(b) => Ok(i32::from(*b)),
        Val::Long(_) | Val::Double(_) => to_int(key),
        Val::Str(s) => s
            .parse::<i32>()
            .map_err(|_| format!("Cannot parse list index: {s}")),
        other => Err(format!(
            "Cannot use {} of class {} as a list index",
            other.describe(),
            other.type_name()
        )),
    }
}
