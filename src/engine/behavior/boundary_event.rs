//! Boundary events: timers and messages attached to an activity (errors are in
//! [`super::error_event`]).
//!
//! > "An Intermediate Event that is attached to the boundary of an Activity [...]
//! > is used to signify that the Activity should be interrupted or a new path
//! > started" when its trigger occurs while the Activity is running; with
//! > `cancelActivity="false"` the Activity goes on. (BPMN 2.0, 10.4.4)
//!
//! A boundary event is an element instance of its own, attached to the activity
//! instance (`attached_to`) in the activity's scope. It is armed when the
//! activity starts (its timer becomes a job, its message a subscription) and
//! cancelled when the activity ends. When it fires:
//! - interrupting: the activity (and anything inside it) is cancelled, then the
//!   boundary event completes and its outgoing flows are taken;
//! - non-interrupting: its outgoing flows are taken while the activity goes on;
//!   a `timeCycle` timer arms again for its next repetition, a message waits for
//!   the next message, a one-off timer completes.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::super::effect::Effect;
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{JobKind, Wait};
use super::Outcome;
use super::catch_event;
use crate::model::{Catch, NodeIdx, NodeKind, Timer, time};

fn boundary<'p>(run: &Run<'p>, node: NodeIdx) -> Option<&'p crate::model::Boundary> {
    match &run.process.nodes[node].kind {
        NodeKind::BoundaryEvent(b) => Some(b),
        _ => None,
    }
}

/// Subscribes the boundary event to its trigger.
pub(crate) fn arm(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<(), String> {
    let Some(b) = boundary(run, node) else {
        return Ok(());
    };
    // Errors, escalations, compensation and cancellation are not armed:
    // they activate the boundary event when thrown.
    catch_event::wait_for(run, key, node, &b.trigger)?;
    Ok(())
}

/// Activated again after an incident while arming: arm once more.
pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    arm(run, key, node)?;
    Ok(Outcome::Wait)
}

/// The boundary timer is due.
pub(crate) fn on_timer(run: &mut Run<'_>, key: u64, node: NodeIdx) {
    let previous_due = match run.state.elements.get(&key).and_then(|e| e.wait.clone()) {
        Some(Wait::Job { due, .. }) => due,
        _ => None,
    };
    run.emit(Event::TimerFired { key });
    fire(run, key, node, Map::new());
    let interrupting = boundary(run, node).is_none_or(|b| b.interrupting);
    if !interrupting {
        // The activity goes on: a cycle arms its next repetition.
        let fired = run.state.elements.get(&key).map_or(0, |e| e.fired);
        let last = previous_due.unwrap_or(run.now);
        let next = match boundary(run, node) {
            Some(b) => next_cycle(run, key, &b.trigger, fired, last),
            None => Ok(None),
        };
        match next {
            Ok(Some(due)) => run.wait_for_job(key, JobKind::Timer, Some(due), Value::Null),
            Ok(None) => run.emit(Event::ElementCompleted {
                key,
                element: run.process.nodes[node].id.clone(),
            }),
            Err(message) => run.incident(key, super::super::state::Step::Activate, message),
        }
    }
}

/// The boundary event's condition holds: fire like a message would, and a
/// non-interrupting one waits for the condition to stop holding before it can
/// fire again.
pub(crate) fn on_condition(run: &mut Run<'_>, key: u64, node: NodeIdx) {
    let interrupting = boundary(run, node).is_none_or(|b| b.interrupting);
    run.emit(Event::ConditionMet { key });
    fire(run, key, node, Map::new());
    if !interrupting {
        run.emit(Event::WaitStarted {
            key,
            wait: Wait::Condition { latched: true },
        });
    }
}

/// The boundary message arrived.
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
    let interrupting = boundary(run, node).is_none_or(|b| b.interrupting);
    if interrupting {
        run.effect(Effect::Unsubscribe { key });
        fire(run, key, node, variables);
    } else {
        // Keeps its subscription: every further message starts another path.
        let signal = matches!(
            boundary(run, node).map(|b| &b.trigger),
            Some(Catch::Signal { .. })
        );
        fire(run, key, node, variables);
        let name = name.to_string();
        let wait = if signal {
            Wait::Signal { name }
        } else {
            Wait::Message { name }
        };
        run.emit(Event::WaitStarted { key, wait });
    }
}

/// Interrupts the activity (or not) and starts the boundary event's path.
fn fire(run: &mut Run<'_>, key: u64, node: NodeIdx, variables: Map<String, Value>) {
    let interrupting = boundary(run, node).is_none_or(|b| b.interrupting);
    let activity = run.state.elements.get(&key).and_then(|e| e.attached_to);
    run.set_variables(key, variables);
    if interrupting {
        if let Some(activity) = activity {
            run.interrupt(activity, Some(key));
        }
        run.complete(key);
    } else {
        run.fork(key);
    }
}

/// When a non-interrupting timer fires next, having fired `fired` times, the
/// last time at `last` (`None`: it is done).
pub(crate) fn next_cycle(
    run: &Run<'_>,
    key: u64,
    trigger: &Catch,
    fired: u32,
    last: Timestamp,
) -> Result<Option<Timestamp>, String> {
    let Catch::Timer(Timer::Cycle(template)) = trigger else {
        return Ok(None);
    };
    let cycle = time::parse_cycle(&catch_event::timer_text(run, key, template)?)
        .map_err(|e| format!("timer: {e}"))?;
    // After an outage, the next repetition is counted from now, not replayed.
    Ok(cycle.next(fired, last.max(run.now)))
}
