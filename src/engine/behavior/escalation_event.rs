//! Escalations: intermediate throw and end events that escalate to the
//! enclosing activities, and the escalation boundary events that catch them.
//!
//! > "An Escalation identifies a business situation that a Process might need
//! > to react to [...] Unlike an Error, an Escalation [...] does not
//! > necessarily stop the flow." (BPMN 2.0, 10.4.2)
//!
//! Found like an error: the innermost enclosing activity (going outward from
//! the thrower's scope) with an escalation boundary event for the code, or a
//! catch-all one. The boundary event's `cancelActivity` decides: interrupting
//! cancels the activity — the thrower with it — and takes the boundary path;
//! non-interrupting takes the boundary path while everything goes on, the
//! throwing event included. An escalation nobody catches is recorded and the
//! thrower goes on: the specification does not make it a failure. In a called
//! instance it goes on to the call activity that called it.

use serde_json::{Map, Value};

use super::super::effect::{CallOutcome, Effect};
use super::super::event::Event;
use super::super::run::Run;
use super::Outcome;
use super::error_event::{Catcher, Origin};
use crate::model::{Catch, NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::Escalate { code } = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let code = code.clone();
    let scope = run.scope_of(key);
    // Interrupting: the thrower is inside the activity and ended with it.
    Ok(if raise(run, key, Origin::Inside(scope), code) {
        Outcome::Wait
    } else {
        Outcome::Done
    })
}

/// Raises an escalation thrown by `key` (its own event, or a called instance's
/// at a call activity), searching for a catcher from `from` outward. An
/// escalation nobody here catches goes to the calling instance, if any.
/// Returns whether the catcher interrupted (`key` is then gone).
pub(crate) fn raise(run: &mut Run<'_>, key: u64, from: Origin, code: Option<String>) -> bool {
    run.emit(Event::EscalationThrown {
        key,
        code: code.clone(),
    });
    let found = super::error_event::find_catcher(run, from, |trigger| match trigger {
        Catch::Escalation { code: c, .. } if c.is_none() || *c == code => Some(c.is_some()),
        _ => None,
    });
    let Some(found) = found else {
        if let Some(element) = run.state.called_by.clone() {
            run.effect(Effect::ReturnToCaller {
                element,
                outcome: CallOutcome::Escalation { code },
            });
        }
        return false;
    };
    let node = match found {
        Catcher::Boundary { node, .. } | Catcher::EventSub { node, .. } => node,
    };
    let (interrupting, variable) = match &run.process.nodes[node].kind {
        NodeKind::BoundaryEvent(b) => match &b.trigger {
            Catch::Escalation { code_variable, .. } => (b.interrupting, code_variable.clone()),
            _ => (b.interrupting, None),
        },
        NodeKind::EventSubProcess(e) => match &e.trigger {
            Catch::Escalation { code_variable, .. } => (e.interrupting, code_variable.clone()),
            _ => (e.interrupting, None),
        },
        _ => (true, None),
    };
    let mut vars = Map::new();
    if let Some(v) = variable {
        vars.insert(v, code.map_or(Value::Null, Value::from));
    }
    match found {
        Catcher::Boundary { activity, node } => {
            super::error_event::catch_at(run, activity, node, vars, interrupting);
        }
        Catcher::EventSub { scope, node } => {
            super::event_subprocess::start_caught(run, scope, node, vars, interrupting);
        }
    }
    interrupting
}
