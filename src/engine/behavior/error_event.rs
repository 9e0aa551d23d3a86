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

/// Where a search for a catcher starts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin {
    /// At an element instance: its own boundary events come first (a task
    /// whose worker reported an error, a call activity).
    At(u64),
    /// Inside a scope: its event subprocesses come first (an end or throw
    /// event in that scope).
    Inside(u64),
}

/// What catches an error or escalation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Catcher {
    /// A boundary event `node` on the activity instance `activity`.
    Boundary { activity: u64, node: NodeIdx },
    /// The event subprocess `node` of the scope `scope`.
    EventSub { scope: u64, node: NodeIdx },
}

/// What catches an error with this code thrown from `origin`.
fn catcher(run: &Run<'_>, origin: Origin, code: Option<&str>) -> Option<Catcher> {
    find_catcher(run, origin, |trigger| match trigger {
        Catch::Error(c) if c.catches(code) => Some(c.code.is_some()),
        _ => None,
    })
}

/// The innermost catcher from `origin` outward whose trigger `matches`
/// (`Some(true)`: by its code, which wins over `Some(false)`: a catch-all at
/// the same place). Going outward, a scope's event subprocesses come before
/// the boundary events of the scope's activity; the event subprocesses beside
/// a running event subprocess never catch what it throws.
pub(crate) fn find_catcher(
    run: &Run<'_>,
    origin: Origin,
    matches: impl Fn(&Catch) -> Option<bool>,
) -> Option<Catcher> {
    let pick = |candidates: Vec<(NodeIdx, bool)>| {
        let specific = candidates.iter().find(|(_, specific)| *specific);
        specific.or(candidates.first()).map(|(n, _)| *n)
    };
    let boundary_of = |activity: u64| -> Option<Catcher> {
        if activity == ROOT || super::multi_instance::is_inner(run, activity) {
            // Boundary events of a multi-instance activity are on its body.
            return None;
        }
        let node = run.node_of(activity)?;
        let candidates = run.process.nodes[node]
            .boundaries
            .iter()
            .filter_map(|b| match &run.process.nodes[*b].kind {
                NodeKind::BoundaryEvent(be) => matches(&be.trigger).map(|s| (*b, s)),
                _ => None,
            })
            .collect();
        pick(candidates).map(|node| Catcher::Boundary { activity, node })
    };
    let sub_of = |scope: u64| -> Option<Catcher> {
        // A multi-instance body's event subprocesses belong to its instances.
        if scope != ROOT && super::multi_instance::is_body(run, scope) {
            return None;
        }
        let scope_node = if scope == ROOT {
            None
        } else {
            Some(run.node_of(scope)?)
        };
        let candidates = run
            .process
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.scope == scope_node)
            .filter_map(|(i, n)| match &n.kind {
                NodeKind::EventSubProcess(e) => matches(&e.trigger).map(|s| (i, s)),
                _ => None,
            })
            .collect();
        pick(candidates).map(|node| Catcher::EventSub { scope, node })
    };
    let (mut scope, mut skip_subs) = match origin {
        Origin::Inside(scope) => (scope, false),
        Origin::At(element) => {
            if let Some(c) = boundary_of(element) {
                return Some(c);
            }
            if element == ROOT {
                return None;
            }
            (
                run.scope_of(element),
                super::event_subprocess::is_event_sub(run, element),
            )
        }
    };
    loop {
        if !skip_subs && let Some(c) = sub_of(scope) {
            return Some(c);
        }
        if scope == ROOT {
            return None;
        }
        if let Some(c) = boundary_of(scope) {
            return Some(c);
        }
        skip_subs = super::event_subprocess::is_event_sub(run, scope);
        scope = run.scope_of(scope);
    }
}

/// Whether an error thrown from `origin` would be caught.
pub(crate) fn is_caught(run: &Run<'_>, origin: Origin, code: Option<&str>) -> bool {
    catcher(run, origin, code).is_some()
}

/// Throws an error from `origin`. Returns `false`, changing nothing, when
/// nothing catches it.
pub(crate) fn throw(
    run: &mut Run<'_>,
    origin: Origin,
    code: Option<&str>,
    message: Option<&str>,
) -> bool {
    let Some(found) = catcher(run, origin, code) else {
        return false;
    };
    let node = match found {
        Catcher::Boundary { node, .. } | Catcher::EventSub { node, .. } => node,
    };
    let trigger = match &run.process.nodes[node].kind {
        NodeKind::BoundaryEvent(b) => Some(&b.trigger),
        NodeKind::EventSubProcess(e) => Some(&e.trigger),
        _ => None,
    };
    let mut vars = Map::new();
    if let Some(Catch::Error(c)) = trigger {
        if let Some(v) = &c.code_variable {
            vars.insert(v.clone(), code.map_or(Value::Null, Value::from));
        }
        if let Some(v) = &c.message_variable {
            vars.insert(v.clone(), message.map_or(Value::Null, Value::from));
        }
    }
    match found {
        Catcher::Boundary { activity, node } => {
            catch_at(run, activity, node, vars, true);
        }
        Catcher::EventSub { scope, node } => {
            super::event_subprocess::start_caught(run, scope, node, vars, true);
        }
    }
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
    let key = run.enter(boundary, run.scope_of(activity), Some(activity));
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
    if !is_caught(run, Origin::Inside(scope), code.as_deref()) {
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
    throw(
        run,
        Origin::Inside(scope),
        code.as_deref(),
        message.as_deref(),
    );
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
