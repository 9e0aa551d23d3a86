//! Evaluating decisions: inputs, rules, hit policies, required decisions.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Aggregation, Decision, DecisionLogic, DecisionTable, DmnDefinitions, HitPolicy};
use crate::feel::{Budget, FeelError, STEP_BUDGET, V};

/// Why a decision could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DmnError {
    #[error("no decision with id or name \"{0}\"")]
    NotFound(String),
    #[error("decision \"{decision}\" requires \"{required}\", which does not exist")]
    MissingRequired { decision: String, required: String },
    #[error("decision \"{decision}\" requires itself (through {})", path.join(" -> "))]
    Cycle { decision: String, path: Vec<String> },
    #[error(
        "decision \"{decision}\": required decisions are chained more than {} deep",
        super::MAX_REQUIREMENT_DEPTH
    )]
    TooDeep { decision: String },
    #[error("decision \"{decision}\", {place}: {source}")]
    Feel {
        decision: String,
        /// Which input, rule or output (`rule "r1", input 2`...).
        place: String,
        source: FeelError,
    },
    #[error(
        "decision \"{decision}\" has hit policy UNIQUE but several rules match: {}",
        rules.join(", ")
    )]
    NotUnique {
        decision: String,
        rules: Vec<String>,
    },
    #[error(
        "decision \"{decision}\" has hit policy ANY but matching rules give different outputs: {}",
        rules.join(", ")
    )]
    AnyConflict {
        decision: String,
        rules: Vec<String>,
    },
    #[error("decision \"{decision}\": cannot aggregate with {aggregation}: {message}")]
    Aggregation {
        decision: String,
        aggregation: &'static str,
        message: String,
    },
    #[error("the result of decision \"{decision}\" {message}")]
    ResultShape { decision: String, message: String },
}

/// The outcome of a decision: the outputs of each matched rule (output name
/// to value), after the hit policy; a literal expression decision gives one
/// result with one entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionResult {
    /// The id of the decision evaluated.
    pub decision: String,
    pub results: Vec<Map<String, Value>>,
}

impl DecisionResult {
    fn shape(&self, message: String) -> DmnError {
        DmnError::ResultShape {
            decision: self.decision.clone(),
            message,
        }
    }

    /// Camunda's `singleEntry`: the only output of the only result (null
    /// without result); an error for several results or outputs.
    pub fn single_entry(&self) -> Result<Value, DmnError> {
        match self.results.as_slice() {
            [] => Ok(Value::Null),
            [one] if one.len() == 1 => Ok(one.values().next().cloned().unwrap_or(Value::Null)),
            [one] => Err(self.shape(format!(
                "has {} outputs ({}); singleEntry needs exactly one",
                one.len(),
                one.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
            many => Err(self.shape(format!(
                "has {} results; singleEntry needs at most one",
                many.len()
            ))),
        }
    }

    /// Camunda's `singleResult`: the only result as an object (null without result).
    pub fn single_result(&self) -> Result<Value, DmnError> {
        match self.results.as_slice() {
            [] => Ok(Value::Null),
            [one] => Ok(Value::Object(one.clone())),
            many => Err(self.shape(format!(
                "has {} results; singleResult needs at most one",
                many.len()
            ))),
        }
    }

    /// Camunda's `collectEntries`: the only output of every result, as a list.
    pub fn collect_entries(&self) -> Result<Value, DmnError> {
        let mut out = Vec::with_capacity(self.results.len());
        for (i, r) in self.results.iter().enumerate() {
            match r.values().next() {
                Some(v) if r.len() == 1 => out.push(v.clone()),
                _ => {
                    return Err(self.shape(format!(
                        "has {} outputs in result {}; collectEntries needs exactly one",
                        r.len(),
                        i + 1
                    )));
                }
            }
        }
        Ok(Value::Array(out))
    }

    /// Camunda's `resultList`: every result as an object.
    pub fn result_list(&self) -> Value {
        Value::Array(self.results.iter().cloned().map(Value::Object).collect())
    }

    /// The value a requiring decision sees: see the module documentation.
    pub fn as_variable(&self) -> Value {
        let one = |m: &Map<String, Value>| match m.len() {
            1 => m.values().next().cloned().unwrap_or(Value::Null),
            _ => Value::Object(m.clone()),
        };
        match self.results.as_slice() {
            [] => Value::Null,
            [r] => one(r),
            many => Value::Array(many.iter().map(one).collect()),
        }
    }
}

impl DmnDefinitions {
    /// Evaluates a decision (found by id, else by name) and the decisions it
    /// requires, all within one FEEL budget of [`STEP_BUDGET`] steps: a table
    /// of many rules cannot multiply what one expression may take.
    pub fn evaluate(
        &self,
        decision_id_or_name: &str,
        vars: &Map<String, Value>,
    ) -> Result<DecisionResult, DmnError> {
        self.evaluate_at(decision_id_or_name, vars, None)
    }

    /// [`Self::evaluate`] at `now`, the time FEEL's `now()` and `today()`
    /// give (in UTC); without it they are an error.
    pub fn evaluate_at(
        &self,
        decision_id_or_name: &str,
        vars: &Map<String, Value>,
        now: Option<jiff::Timestamp>,
    ) -> Result<DecisionResult, DmnError> {
        let decision = self
            .decision(decision_id_or_name)
            .ok_or_else(|| DmnError::NotFound(decision_id_or_name.to_string()))?;
        let mut done = HashMap::new();
        let budget = Budget::at(STEP_BUDGET, now);
        self.eval_decision(decision, vars, &mut Vec::new(), &mut done, &budget)
    }

    fn eval_decision(
        &self,
        decision: &Decision,
        vars: &Map<String, Value>,
        stack: &mut Vec<String>,
        done: &mut HashMap<String, DecisionResult>,
        budget: &Budget,
    ) -> Result<DecisionResult, DmnError> {
        if let Some(result) = done.get(&decision.id) {
            return Ok(result.clone());
        }
        if stack.contains(&decision.id) {
            let mut path = stack.clone();
            path.push(decision.id.clone());
            return Err(DmnError::Cycle {
                decision: decision.id.clone(),
                path,
            });
        }
        if stack.len() >= super::MAX_REQUIREMENT_DEPTH {
            return Err(DmnError::TooDeep {
                decision: decision.id.clone(),
            });
        }
        stack.push(decision.id.clone());
        let mut scope = None;
        if !decision.required.is_empty() {
            let mut map = vars.clone();
            for id in &decision.required {
                let required = self.decisions.iter().find(|d| &d.id == id).ok_or_else(|| {
                    DmnError::MissingRequired {
                        decision: decision.id.clone(),
                        required: id.clone(),
                    }
                })?;
                let result = self.eval_decision(required, vars, stack, done, budget)?;
                if let [single] = result.results.as_slice() {
                    map.extend(single.clone());
                }
                let value = result.as_variable();
                if let Some(name) = &required.name {
                    map.insert(name.clone(), value.clone());
                }
                map.insert(required.id.clone(), value);
            }
            scope = Some(map);
        }
        let vars = scope.as_ref().unwrap_or(vars);
        let results = match &decision.logic {
            DecisionLogic::Literal {
                variable, compiled, ..
            } => {
                let value = compiled
                    .eval_v(vars, &[], budget)
                    .map_err(|source| DmnError::Feel {
                        decision: decision.id.clone(),
                        place: "literal expression".into(),
                        source,
                    })?
                    .to_json();
                let mut map = Map::new();
                map.insert(variable.clone(), value);
                vec![map]
            }
            DecisionLogic::Table(table) => eval_table(&decision.id, table, vars, budget)?,
        };
        stack.pop();
        let result = DecisionResult {
            decision: decision.id.clone(),
            results,
        };
        done.insert(decision.id.clone(), result.clone());
        Ok(result)
    }
}

fn eval_table(
    decision: &str,
    table: &DecisionTable,
    vars: &Map<String, Value>,
    budget: &Budget,
) -> Result<Vec<Map<String, Value>>, DmnError> {
    let feel_error = |place: String, source: FeelError| DmnError::Feel {
        decision: decision.to_string(),
        place,
        source,
    };
    let mut inputs = Vec::with_capacity(table.inputs.len());
    for (i, input) in table.inputs.iter().enumerate() {
        let v = input
            .expression
            .eval_v(vars, &[], budget)
            .map_err(|e| feel_error(format!("input {}", column_name(i, &input.label)), e))?;
        inputs.push(v);
    }
    let mut matched = Vec::new();
    for rule in &table.rules {
        let mut hit = true;
        for ((test, value), input) in rule.tests.iter().zip(&inputs).zip(&table.inputs) {
            let ok = test
                .matches_v(value, Some(&input.input_variable), vars, budget)
                .map_err(|e| feel_error(format!("rule \"{}\"", rule.id), e))?;
            if !ok {
                hit = false;
                break;
            }
        }
        if hit {
            matched.push(rule);
            if table.hit_policy == HitPolicy::First {
                break;
            }
        }
    }
    let mut rows = Vec::with_capacity(matched.len());
    for rule in &matched {
        let mut row = Map::new();
        for (output, entry) in table.outputs.iter().zip(&rule.outputs) {
            let value = match entry {
                None => Value::Null,
                Some(e) => e
                    .eval_v(vars, &[], budget)
                    .map_err(|err| {
                        feel_error(
                            format!("rule \"{}\", output \"{}\"", rule.id, output.name),
                            err,
                        )
                    })?
                    .to_json(),
            };
            row.insert(output.name.clone(), value);
        }
        rows.push(row);
    }
    let ids = |idx: &[usize]| idx.iter().map(|i| matched[*i].id.clone()).collect();
    match table.hit_policy {
        HitPolicy::Unique if rows.len() > 1 => Err(DmnError::NotUnique {
            decision: decision.to_string(),
            rules: ids(&(0..rows.len()).collect::<Vec<_>>()),
        }),
        HitPolicy::Any => {
            let differ: Vec<usize> = (0..rows.len()).filter(|i| rows[*i] != rows[0]).collect();
            if differ.is_empty() {
                rows.truncate(1);
                Ok(rows)
            } else {
                let mut all = vec![0];
                all.extend(differ);
                Err(DmnError::AnyConflict {
                    decision: decision.to_string(),
                    rules: ids(&all),
                })
            }
        }
        HitPolicy::Priority => {
            sort_by_priority(table, &mut rows);
            rows.truncate(1);
            Ok(rows)
        }
        HitPolicy::OutputOrder => {
            sort_by_priority(table, &mut rows);
            Ok(rows)
        }
        HitPolicy::Collect => match table.aggregation {
            None => Ok(rows),
            Some(agg) => aggregate(decision, table, agg, rows),
        },
        HitPolicy::Unique | HitPolicy::First | HitPolicy::RuleOrder => Ok(rows),
    }
}

fn column_name(i: usize, label: &Option<String>) -> String {
    match label {
        Some(l) => format!("{} (\"{l}\")", i + 1),
        None => format!("{}", i + 1),
    }
}

/// Stable sort by the position of each output's value in its `outputValues`
/// (first output first); values not listed come last.
fn sort_by_priority(table: &DecisionTable, rows: &mut [Map<String, Value>]) {
    let rank = |row: &Map<String, Value>| -> Vec<usize> {
        table
            .outputs
            .iter()
            .filter(|o| !o.values.is_empty())
            .map(|o| {
                let v = row.get(&o.name).unwrap_or(&Value::Null);
                o.values
                    .iter()
                    .position(|x| x == v)
                    .unwrap_or(o.values.len())
            })
            .collect()
    };
    rows.sort_by_key(|r| rank(r));
}

fn aggregate(
    decision: &str,
    table: &DecisionTable,
    agg: Aggregation,
    rows: Vec<Map<String, Value>>,
) -> Result<Vec<Map<String, Value>>, DmnError> {
    let Some(output) = table.outputs.first() else {
        return Ok(Vec::new());
    };
    let name = match agg {
        Aggregation::Sum => "SUM",
        Aggregation::Min => "MIN",
        Aggregation::Max => "MAX",
        Aggregation::Count => "COUNT",
    };
    let error = |message: String| DmnError::Aggregation {
        decision: decision.to_string(),
        aggregation: name,
        message,
    };
    let single = |v: Value| {
        let mut m = Map::new();
        m.insert(output.name.clone(), v);
        Ok(vec![m])
    };
    if agg == Aggregation::Count {
        return single(Value::from(rows.len()));
    }
    let values: Vec<V> = rows
        .iter()
        .filter_map(|r| r.get(&output.name))
        .filter(|v| !v.is_null())
        .map(V::from_json)
        .collect();
    let Some(first) = values.first() else {
        return Ok(Vec::new());
    };
    let mut acc = first.clone();
    for v in &values[1..] {
        acc = match agg {
            Aggregation::Sum => {
                if !matches!(v, V::Int(_) | V::Num(_)) || !matches!(acc, V::Int(_) | V::Num(_)) {
                    return Err(error(format!("{} is not a number", v.to_json())));
                }
                crate::feel::add(&acc, v)
            }
            _ => match crate::feel::compare(v, &acc) {
                None => {
                    return Err(error(format!(
                        "{} and {} cannot be compared",
                        v.to_json(),
                        acc.to_json()
                    )));
                }
                Some(o) => {
                    let better = match agg {
                        Aggregation::Min => o == Ordering::Less,
                        _ => o == Ordering::Greater,
                    };
                    if better { v.clone() } else { acc }
                }
            },
        };
    }
    if agg == Aggregation::Sum && !matches!(acc, V::Int(_) | V::Num(_)) {
        return Err(error(format!("{} is not a number", acc.to_json())));
    }
    single(acc.to_json())
}
