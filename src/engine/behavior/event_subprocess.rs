//! Event subprocesses (`triggeredByEvent="true"`).
//!
//! > "An Event Sub-Process is a specialized Sub-Process that is used within a
//! > Process (or Sub-Process). [...] it is not started by a Sequence Flow but by
//! > the trigger of its Start Event" while its parent is active. An
//! > interrupting one cancels the parent's other work; a non-interrupting one
//! > runs beside it, as often as its trigger occurs. (BPMN 2.0, 10.3.5)
//!
//! When a scope starts (the instance, a subprocess instance, a running event
//! subprocess), each of its event subprocesses started by a message, timer,
//! signal or condition is *armed*: an element instance of the event
//! subprocess waits for its trigger, like a boundary event does. Armed ones
//! do not keep their scope alive: a scope with nothing else left completes,
//! and its armed event subprocesses are withdrawn with it. Error and
//! escalation event subprocesses are not armed; the search for a catcher
//! finds them (a scope's event subprocesses come before the boundary events
//! of its activity).
//!
//! When the trigger occurs:
//! - interrupting: everything else in the scope is cancelled (the other armed
//!   event subprocesses too) and the armed instance runs the event
//!   subprocess; when it ends, the scope ends;
//! - non-interrupting: a new instance runs it, and the armed one waits again
//!   (a `timeCycle` for its next repetition; a one-off timer is done).

use serde_json::{Map, Value};

use super::super::effect::Effect;
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{JobKind, Step, Wait};
use super::Outcome;
use super::catch_event;
use crate::model::{Catch, EventSubProcess, NodeIdx, NodeKind};

fn event_sub<'p>(run: &Run<'p>, node: NodeIdx) -> Option<&'p EventSubProcess> {
    match &run.process.nodes[node].kind {
        NodeKind::EventSubProcess(e) => Some(e),
        _ => None,
    }
}

/// Whether the element instance is of an event subprocess (armed or running).
pub(crate) fn is_event_sub(run: &Run<'_>, key: u64) -> bool {
    run.node_of(key)
        .is_some_and(|n| matches!(run.process.nodes[n].kind, NodeKind::EventSubProcess(_)))
}

/// Whether the element instance is an armed event subprocess (waiting for its
/// trigger, not running): it does not keep its scope alive.
pub(crate) fn is_armed(run: &Run<'_>, key: u64) -> bool {
    is_event_sub(run, key)
        && run
            .state
            .elements
            .get(&key)
            .is_some_and(|e| e.wait != Some(Wait::Children))
}

/// Arms the event subprocesses of a scope that starts (`scope_node`: the
/// subprocess node whose instance `scope` is; `None` for the process).
pub(crate) fn arm_all(run: &mut Run<'_>, scope: u64, scope_node: Option<NodeIdx>) {
    let armed: Vec<NodeIdx> = run
        .process
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.scope == scope_node)
        .map(|(i, _)| i)
        .filter(|i| is_armable(run, *i))
        .collect();
    for node in armed {
        arm_one(run, scope, node);
    }
}

/// Whether an event subprocess node is armed when its scope starts (those
/// started by a message, timer, signal or condition).
pub(crate) fn is_armable(run: &Run<'_>, node: NodeIdx) -> bool {
    matches!(&run.process.nodes[node].kind, NodeKind::EventSubProcess(e)
    if !matches!(
        e.trigger,
        Catch::Error(_) | Catch::Escalation { .. } | Catch::Compensation | Catch::Cancel
    ))
}

/// Arms one event subprocess in a scope that runs already (a migration to a
/// version that adds it).
pub(crate) fn arm_one(run: &mut Run<'_>, scope: u64, node: NodeIdx) {
    let key = run.enter(node, scope, None);
    if let Err(message) = arm(run, key, node) {
        run.incident(key, Step::Activate, message);
    }
}

/// Starts waiting for the trigger.
fn arm(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<(), String> {
    let Some(e) = event_sub(run, node) else {
        return Ok(());
    };
    catch_event::wait_for(run, key, node, &e.trigger)?;
    Ok(())
}

/// Activated again (an incident while arming was retried): arm once more.
/// A compensation event subprocess is only ever activated as a handler
/// (see `compensation`): it runs at once.
pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    if event_sub(run, node).is_some_and(|e| matches!(e.trigger, Catch::Compensation)) {
        start_body(run, key, node, Map::new());
        return Ok(Outcome::Wait);
    }
    arm(run, key, node)?;
    Ok(Outcome::Wait)
}

/// The message (or signal) arrived at an armed event subprocess.
pub(crate) fn on_message(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    name: &str,
    variables: Map<String, Value>,
) {
    run.emit(Event::MessageReceived {
        key,
        name: name.to_string(),
    });
    let Some(e) = event_sub(run, node) else {
        return;
    };
    if e.interrupting {
        run.effect(Effect::Unsubscribe { key });
    } else {
        // Keeps its subscription: every further message starts another run.
        let name = name.to_string();
        let wait = if matches!(e.trigger, Catch::Signal { .. }) {
            Wait::Signal { name }
        } else {
            Wait::Message { name }
        };
        run.emit(Event::WaitStarted { key, wait });
    }
    trigger(run, key, node, e.interrupting, variables);
}

/// The timer of an armed event subprocess is due.
pub(crate) fn on_timer(run: &mut Run<'_>, key: u64, node: NodeIdx) {
    let previous_due = match run.state.elements.get(&key).and_then(|e| e.wait.clone()) {
        Some(Wait::Job { due, .. }) => due,
        _ => None,
    };
    run.emit(Event::TimerFired { key });
    let Some(e) = event_sub(run, node) else {
        return;
    };
    // Started while the armed instance still knows its scope.
    trigger(run, key, node, e.interrupting, Map::new());
    if !e.interrupting {
        let fired = run.state.elements.get(&key).map_or(0, |e| e.fired);
        let last = previous_due.unwrap_or(run.now);
        match super::boundary_event::next_cycle(run, key, &e.trigger, fired, last) {
            Ok(Some(due)) => run.wait_for_job(key, JobKind::Timer, Some(due), Value::Null),
            Ok(None) => run.emit(Event::ElementCompleted {
                key,
                element: run.process.nodes[node].id.clone(),
            }),
            Err(message) => run.incident(key, Step::Activate, message),
        }
    }
}

/// The condition of an armed event subprocess holds.
pub(crate) fn on_condition(run: &mut Run<'_>, key: u64, node: NodeIdx) {
    let Some(e) = event_sub(run, node) else {
        return;
    };
    run.emit(Event::ConditionMet { key });
    if !e.interrupting {
        run.emit(Event::WaitStarted {
            key,
            wait: Wait::Condition { latched: true },
        });
    }
    trigger(run, key, node, e.interrupting, Map::new());
}

/// Runs the event subprocess: in the armed instance itself when it interrupts
/// (after cancelling the rest of its scope), else in a new instance.
fn trigger(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    interrupting: bool,
    variables: Map<String, Value>,
) {
    let scope = run.scope_of(key);
    if interrupting {
        run.terminate_scope(scope, key);
        start_body(run, key, node, variables);
    } else {
        start_caught(run, scope, node, variables, false);
    }
}

/// Starts a new instance of the event subprocess `node` in `scope` (an error
/// or escalation caught, or a non-interrupting trigger), cancelling the rest
/// of the scope first when `interrupting`. Returns its key.
pub(crate) fn start_caught(
    run: &mut Run<'_>,
    scope: u64,
    node: NodeIdx,
    variables: Map<String, Value>,
    interrupting: bool,
) -> u64 {
    let key = run.enter(node, scope, None);
    if interrupting {
        run.terminate_scope(scope, key);
    }
    start_body(run, key, node, variables);
    key
}

fn start_body(run: &mut Run<'_>, key: u64, node: NodeIdx, variables: Map<String, Value>) {
    let Some(e) = event_sub(run, node) else {
        return;
    };
    let start = e.start;
    run.set_variables(key, variables);
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::Children,
    });
    arm_all(run, key, Some(node));
    run.activate(start, key);
}

pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    run.close_wait(key);
}
