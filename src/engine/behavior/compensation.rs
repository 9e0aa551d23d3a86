//! Compensation and transactions.
//!
//! > "Compensation is concerned with undoing steps that were already
//! > successfully completed [...] Compensation is performed by a Compensation
//! > Handler" associated with the activity's compensation boundary event.
//! > "Compensation is triggered by a throw compensation event" and the
//! > handlers of completed activities run "in reverse order of their
//! > completion". A Cancel End Event inside a Transaction "causes the
//! > Transaction to be cancelled [...] and compensation to be performed".
//! > (BPMN 2.0, 10.7 and 10.3.5)
//!
//! When an activity with a compensation handler completes, it is recorded
//! (`CompensationRecorded`) in its scope; a subprocess or multi-instance body
//! in which something was recorded is recorded too, as a *container*. A
//! compensation throw or end event compensates the records of its scope (or
//! only those of its `activityRef`), newest first; a container's records are
//! compensated in its place, newest first. The handlers run one after the
//! other in the thrower's scope, each seeing the variables as they are now;
//! the thrower waits for all of them (Camunda's `waitForCompletion`, the only
//! mode it runs) and then goes on. Each record is compensated once.
//!
//! A subprocess with a compensation event subprocess (an event subprocess
//! whose start event has a `compensateEventDefinition`) is compensated by
//! running that event subprocess instead of the handlers of what completed
//! inside it: it runs in the thrower's scope and takes over the subprocess
//! instance's records, so that compensation events thrown inside it
//! (`activityRef` or not) compensate what completed in the subprocess
//! (BPMN 2.0, 10.7.2; Camunda's behaviour). It sees the variables as they
//! are now, not the subprocess's local variables of the time it ran.
//!
//! A cancel end event inside a transaction compensates what completed in the
//! transaction, then the transaction's cancel boundary event fires: the
//! transaction is cancelled and the boundary event's path is taken.
//! Records of a scope that is cancelled are dropped with it.

use serde_json::Map;

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{PendingHandler, Wait};
use super::Outcome;
use crate::model::{Catch, NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let (activity, cancel) = match &run.process.nodes[node].kind {
        NodeKind::Compensate { activity, .. } => (activity.clone(), false),
        NodeKind::CancelEnd => (None, true),
        _ => return Ok(Outcome::Done),
    };
    let scope = run.scope_of(key);
    let pending = collect(run, scope, activity.as_deref());
    if pending.is_empty() {
        if cancel {
            cancel_transaction(run, key);
            return Ok(Outcome::Wait);
        }
        return Ok(Outcome::Done);
    }
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::Compensating { pending, cancel },
    });
    start_next(run, key);
    Ok(Outcome::Wait)
}

/// The handlers for the records of `scope` (only `activity`'s, when given),
/// newest first; containers contribute their own records in their place.
fn collect(run: &Run<'_>, scope: u64, activity: Option<&str>) -> Vec<PendingHandler> {
    let mut out = Vec::new();
    let records: Vec<_> = run
        .state
        .compensable
        .iter()
        .filter(|c| c.scope == scope && activity.is_none_or(|a| a == c.element))
        .rev()
        .cloned()
        .collect();
    for r in records {
        if r.container {
            out.extend(collect(run, r.key, None));
            continue;
        }
        let handler = run
            .process
            .node(&r.element)
            .and_then(|n| n.compensation)
            .map(|h| run.process.nodes[h].id.clone());
        if let Some(handler) = handler {
            out.push(PendingHandler {
                record: r.key,
                handler,
            });
        }
    }
    out
}

/// Starts the next pending handler of the thrower `throw`, or — when none is
/// left — lets the thrower go on (or cancels its transaction).
fn start_next(run: &mut Run<'_>, throw: u64) {
    let Some(Wait::Compensating {
        mut pending,
        cancel,
    }) = run.state.elements.get(&throw).and_then(|e| e.wait.clone())
    else {
        return;
    };
    if pending.is_empty() {
        if cancel {
            cancel_transaction(run, throw);
        } else {
            run.complete(throw);
        }
        return;
    }
    let next = pending.remove(0);
    run.emit(Event::WaitStarted {
        key: throw,
        wait: Wait::Compensating { pending, cancel },
    });
    let Some(handler) = run.process.node_index(&next.handler) else {
        return;
    };
    let key = run.enter(handler, run.scope_of(throw), None);
    let adopts = matches!(
        run.process.nodes[handler].kind,
        NodeKind::EventSubProcess(_)
    );
    run.emit(Event::CompensationStarted {
        key,
        throw,
        record: next.record,
        adopts,
    });
    run.start(key);
}

/// A compensation handler instance completed: on to the next one.
pub(crate) fn on_handler_done(run: &mut Run<'_>, throw: u64) {
    start_next(run, throw);
}

/// The cancel end event `end` finished compensating: its transaction is
/// cancelled through its cancel boundary event.
fn cancel_transaction(run: &mut Run<'_>, end: u64) {
    let mut tx = run.scope_of(end);
    if super::multi_instance::is_inner(run, tx) {
        // The cancel boundary event is on the multi-instance activity's body.
        tx = run.scope_of(tx);
    }
    let Some(tx_node) = run.node_of(tx) else {
        return;
    };
    let boundary = run.process.nodes[tx_node]
        .boundaries
        .iter()
        .copied()
        .find(|b| matches!(&run.process.nodes[*b].kind, NodeKind::BoundaryEvent(be) if matches!(be.trigger, Catch::Cancel)));
    match boundary {
        Some(b) => {
            // The cancel end event itself completes (as an error end event
            // does) before the transaction it is in is cancelled.
            if let Some(node) = run.node_of(end) {
                run.emit(Event::ElementCompleted {
                    key: end,
                    element: run.process.nodes[node].id.clone(),
                });
            }
            super::error_event::catch_at(run, tx, b, Map::new(), true);
        }
        None => run.incident(
            end,
            super::super::state::Step::Activate,
            "the transaction has no cancel boundary event".into(),
        ),
    }
}
