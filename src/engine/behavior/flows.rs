//! Leaving an activity or event: BPMN's uncontrolled flow.
//!
//! > "If the Activity has more than one outgoing Sequence Flow without conditions,
//! > then all of them are taken in parallel (uncontrolled flow). Conditional
//! > Sequence Flows are taken when their condition is true. A default Sequence
//! > Flow is taken only if no other conditional flow is taken." (BPMN 2.0, 10.2.1)
//!
//! A node whose conditional flows are all false, with no default and no
//! unconditional flow, raises an incident (as Camunda does) instead of silently
//! swallowing the token.

use super::super::event::Event;
use super::super::run::Run;
use crate::model::{FlowIdx, NodeIdx};

/// Evaluates the condition of one flow, recording the result.
pub(crate) fn check(run: &mut Run<'_>, key: u64, flow: FlowIdx) -> Result<bool, String> {
    let f = &run.process.flows[flow];
    let Some(cond) = &f.condition else {
        return Ok(true);
    };
    let result = run
        .evaluate(key, |b| cond.eval_bool(b))
        .map_err(|e| format!("the condition of sequence flow \"{}\" failed: {e}", f.id))?;
    run.emit(Event::ConditionEvaluated {
        key,
        flow: f.id.clone(),
        expression: cond.source().to_string(),
        result,
    });
    Ok(result)
}

/// The uncontrolled-flow rule.
pub(crate) fn uncontrolled(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    let n = &run.process.nodes[node];
    let default = n.default_flow;
    let outgoing = n.outgoing.clone();
    let mut taken = Vec::new();
    let mut any_conditional = false;
    let mut any_conditional_true = false;
    for f in outgoing.iter().copied().filter(|f| Some(*f) != default) {
        if run.process.flows[f].condition.is_some() {
            any_conditional = true;
            if check(run, key, f)? {
                any_conditional_true = true;
                taken.push((f, false));
            }
        } else {
            taken.push((f, false));
        }
    }
    if !any_conditional_true && let Some(d) = default {
        taken.push((d, true));
    }
    if taken.is_empty() && any_conditional {
        return Err(
            "no condition of an outgoing sequence flow is true and there is no default flow".into(),
        );
    }
    Ok(taken)
}

/// A gateway's choice: the non-default flows are checked in document order —
/// all of them, or (`first_only`) until one holds; when none holds, the default
/// flow; with no default either, an error (an incident).
pub(crate) fn choose(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    first_only: bool,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    let n = &run.process.nodes[node];
    let default = n.default_flow;
    let candidates: Vec<FlowIdx> = n
        .outgoing
        .iter()
        .copied()
        .filter(|f| Some(*f) != default)
        .collect();
    let mut taken = Vec::new();
    for f in candidates {
        if check(run, key, f)? {
            taken.push((f, false));
            if first_only {
                break;
            }
        }
    }
    if taken.is_empty() {
        match default {
            Some(d) => taken.push((d, true)),
            None => {
                return Err(
                    "no condition of an outgoing sequence flow is true and the gateway has no default flow".into(),
                );
            }
        }
    }
    Ok(taken)
}
