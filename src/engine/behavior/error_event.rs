//! BPMN errors: error end events, errors reported by workers, and the error
//! boundary events that catch them.
//!
//! > "An Error Event is used to handle the occurrence of an error [...] The
//! > Error will be caught by the innermost Boundary Error Event with a matching
//! > errorCode, or by a catch-all (no errorRef)." An error boundary event always
//! > interrupts its activity. (BPMN 2.0, 10.4.2 and Table 10.88)
//!
//! An error is thrown *at* an element instance: a task whose worker reported a
//! business error, or the scope (subprocess) of an error end event. The search
//! starts there and goes outward through the enclosing subprocesses; at each
//! activity a boundary event with the same code wins over a catch-all. The
//! catching boundary event is activated attached to the activity, the activity
//! is cancelled with everything inside it, the boundary event records the code
//! and message in its variables (`camunda:errorCodeVariable`,
//! `errorMessageVariable`) and leaves along its outgoing flows.
//!
//! An error nobody catches becomes an incident on the element that threw it
//! (the specification leaves this open; a silent end would hide a failure) —
//! except in an instance started by a call activity: there it ends the
//! instance and is thrown again at the call activity.

use serde_json::{Map, Value};

use super::super::effect::{CallOutcome, Effect};
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::ROOT;
use super::Outcome;
use crate::model::{Catch, NodeIdx, NodeKind};

/// The boundary event that catches an error thrown at `at`: the activity
/// instance it is attached to and the boundary node.
fn catcher(run: &Run<'_>, at: u64, code: Option<&str>) -> Option<(u64, NodeIdx)> {
    find_catcher(run, at, |trigger| match trigger {
        Catch::Error(c) if c.catches(code) => Some(c.code.is_some()),
        _ => None,
    })
}

/// The innermost boundary event, from the element instance `at` outward
/// through its enclosing activities, whose trigger `matches` (`Some(true)`: by
/// its code, which wins over `Some(false)`: a catch-all on the same activity).
pub(crate) fn find_catcher(
    run: &Run<'_>,
    at: u64,
    matches: impl Fn(&Catch) -> Option<bool>,
) -> Option<(u64, NodeIdx)> {
    let mut current = at;
    while current != ROOT {
        if super::multi_instance::is_inner(run, current) {
            // Boundary events of a multi-instance activity are on its body.
            current = run.scope_of(current);
            continue;
        }
        let node = run.node_of(current)?;
        let candidates: Vec<(NodeIdx, bool)> = run.process.nodes[node]
            .boundaries
            .iter()
            .filter_map(|b| match &run.process.nodes[*b].kind {
                NodeKind::BoundaryEvent(be) => matches(&be.trigger).map(|s| (*b, s)),
                _ => None,
            })
            .collect();
        let specific = candidates.iter().find(|(_, specific)| *specific);
        if let Some((b, _)) = specific.or(candidates.first()) {
            return Some((current, *b));
        }
        current = run.scope_of(current);
    }
    None
}

/// Whether an error thrown at `at` would be caught.
pub(crate) fn is_caught(run: &Run<'_>, at: u64, code: Option<&str>) -> bool {
    catcher(run, at, code).is_some()
}

/// Throws an error at `at`. Returns `false`, changing nothing, when no boundary
/// event catches it.
pub(crate) fn throw(run: &mut Run<'_>, at: u64, code: Option<&str>, message: Option<&str>) -> bool {
    let Some((activity, boundary)) = catcher(run, at, code) else {
        return false;
    };
    let mut vars = Map::new();
    if let NodeKind::BoundaryEvent(b) = &run.process.nodes[boundary].kind
        && let Catch::Error(c) = &b.trigger
    {
        if let Some(v) = &c.code_variable {
            vars.insert(v.clone(), code.map_or(Value::Null, Value::from));
        }
        if let Some(v) = &c.message_variable {
            vars.insert(v.clone(), message.map_or(Value::Null, Value::from));
        }
    }
    catch_at(run, activity, boundary, vars, true);
    true
}

/// A boundary event that is not armed beforehand (error, escalation) catches
/// what was thrown: it is activated on `activity`, the activity is cancelled
/// when `interrupting`, `vars` are set from the boundary event, and it leaves
/// along its outgoing flows. Returns its key.
pub(crate) fn catch_at(
    run: &mut Run<'_>,
    activity: u64,
    boundary: NodeIdx,
    vars: Map<String, Value>,
    interrupting: bool,
) -> u64 {
    let key = run.state.next_key;
    run.emit(Event::ElementActivated {
        key,
        element: run.process.nodes[boundary].id.clone(),
        scope: run.scope_of(activity),
        attached_to: Some(activity),
    });
    if interrupting {
        run.interrupt(activity, Some(key));
    }
    run.set_variables(key, vars);
    run.complete(key);
    key
}

/// An error end event: throws its error at the enclosing subprocess.
pub(crate) fn on_end(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::ErrorEnd(e) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let scope = run.scope_of(key);
    let code = e.code.clone();
    let message = e.message.clone();
    if !is_caught(run, scope, code.as_deref()) {
        if run.state.called_by.is_some() {
            run.emit(Event::ErrorThrown {
                key,
                code: code.clone(),
                message: message.clone(),
            });
            pass_to_caller(run, code, message);
            return Ok(Outcome::Wait);
        }
        return Err(uncaught(code.as_deref()));
    }
    run.emit(Event::ErrorThrown {
        key,
        code: code.clone(),
        message: message.clone(),
    });
    run.emit(Event::ElementCompleted {
        key,
        element: run.process.nodes[node].id.clone(),
    });
    throw(run, scope, code.as_deref(), message.as_deref());
    Ok(Outcome::Wait)
}

/// An error nobody in a called instance catches ends it and goes to the call
/// activity that called it. Returns `false` (changing nothing) when this
/// instance was not called.
pub(crate) fn pass_to_caller(
    run: &mut Run<'_>,
    code: Option<String>,
    message: Option<String>,
) -> bool {
    let Some(element) = run.state.called_by.clone() else {
        return false;
    };
    let reason = match &code {
        Some(c) => format!("BPMN error \"{c}\" went to the calling instance"),
        None => "a BPMN error went to the calling instance".to_string(),
    };
    run.effect(Effect::ReturnToCaller {
        element,
        outcome: CallOutcome::Error { code, message },
    });
    run.end_instance(reason);
    true
}

/// The incident message for an error nobody catches.
pub(crate) fn uncaught(code: Option<&str>) -> String {
    match code {
        Some(c) => format!("BPMN error \"{c}\" was thrown and no error boundary event catches it"),
        None => "a BPMN error was thrown and no error boundary event catches it".into(),
    }
}
