//! The budget of one FEEL evaluation: steps counted as the evaluator works,
//! and the sizes of the values it produces.
//!
//! Steps, not time, so that an evaluation that fails once fails every time,
//! on any machine. A step is a small, bounded amount of work: evaluating one
//! node, iterating one list item, comparing one name while looking a name up,
//! or copying a piece of a value (a list item, a context entry, 64 bytes of a
//! string). Copies are charged because names are read by copying: without that
//! a filter reading a large list for each of its items would do quadratic work
//! in a linear number of steps.

use std::cell::Cell;

use serde_json::Value;

use super::V;

/// How many string bytes one step may copy.
const BYTES_PER_STEP: usize = 64;

/// The steps an evaluation may still take (shared by the nested scopes of
/// one evaluation; a decision shares one between all its expressions).
pub(crate) struct Budget {
    used: Cell<u64>,
    limit: u64,
    /// The time `now()` and `today()` give: the evaluation's own (the
    /// command's time), so that evaluating again gives the same answer.
    now: Option<jiff::Timestamp>,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Budget {
        Budget {
            used: Cell::new(0),
            limit,
            now: None,
        }
    }

    /// The budget of an evaluation that happens at `now`.
    pub(crate) fn at(limit: u64, now: Option<jiff::Timestamp>) -> Budget {
        Budget {
            now,
            ..Budget::new(limit)
        }
    }

    /// The evaluation's time, or why there is none.
    pub(crate) fn now(&self) -> Result<jiff::Timestamp, String> {
        self.now
            .ok_or_else(|| "now() and today() have no time to give here".to_string())
    }

    /// Takes `steps` from the budget, or says that it is spent.
    pub(crate) fn charge(&self, steps: u64) -> Result<(), String> {
        let before = self.used.get();
        let used = before.saturating_add(steps);
        self.used.set(used);
        // Every 4,096 steps, whether the command's time is up.
        if before >> 12 != used >> 12 && crate::budget::stopped() {
            return Err(crate::budget::STOPPED.to_string());
        }
        if used > self.limit {
            Err(format!(
                "the evaluation exceeded its budget of {} steps",
                self.limit
            ))
        } else {
            Ok(())
        }
    }

    /// Charges the copy of `v`. The weight is measured before the copy is
    /// made, and only up to what is left, so that an oversized copy is
    /// refused without being made.
    pub(crate) fn copy(&self, v: &V) -> Result<V, String> {
        self.charge(weight(v, self.left()))?;
        Ok(v.clone())
    }

    /// Charges the reading of a JSON variable into a value.
    pub(crate) fn copy_json(&self, v: Option<&Value>) -> Result<V, String> {
        match v {
            None => Ok(V::Null),
            Some(v) => {
                self.charge(json_weight(v, self.left()))?;
                Ok(V::from_json(v))
            }
        }
    }

    /// One more than the steps left, so that a weight measured up to it
    /// is enough to spend the budget.
    fn left(&self) -> u64 {
        self.limit.saturating_sub(self.used.get()).saturating_add(1)
    }
}

fn str_weight(s: &str) -> u64 {
    1 + (s.len() / BYTES_PER_STEP) as u64
}

/// The cost of copying `v`, counted up to `cap` (the walk stops there).
pub(crate) fn weight(v: &V, cap: u64) -> u64 {
    match v {
        V::Str(s) => str_weight(s),
        V::List(items) => {
            let mut total = 1u64;
            for item in items {
                if total >= cap {
                    break;
                }
                total = total.saturating_add(weight(item, cap - total));
            }
            total
        }
        V::Ctx(entries) => {
            let mut total = 1u64;
            for (_, item) in entries {
                if total >= cap {
                    break;
                }
                total = total.saturating_add(weight(item, cap - total));
            }
            total
        }
        _ => 1,
    }
}

fn json_weight(v: &Value, cap: u64) -> u64 {
    match v {
        Value::String(s) => str_weight(s),
        Value::Array(items) => {
            let mut total = 1u64;
            for item in items {
                if total >= cap {
                    break;
                }
                total = total.saturating_add(json_weight(item, cap - total));
            }
            total
        }
        Value::Object(map) => {
            let mut total = 1u64;
            for item in map.values() {
                if total >= cap {
                    break;
                }
                total = total.saturating_add(json_weight(item, cap - total));
            }
            total
        }
        _ => 1,
    }
}

/// How deeply lists and contexts nest in `v`, counted up to `cap`.
pub(crate) fn nesting(v: &V, cap: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    let inner = match v {
        V::List(items) => items.iter().map(|i| nesting(i, cap - 1)).max(),
        V::Ctx(entries) => entries.iter().map(|(_, i)| nesting(i, cap - 1)).max(),
        _ => return 0,
    };
    1 + inner.unwrap_or(0)
}
