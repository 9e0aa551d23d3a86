//! Ad-hoc subprocesses (`adHocSubProcess`).
//!
//! > "A specialized type of Sub-Process that is a group of Activities that
//! > have no REQUIRED sequence relationships. [...] The Activities within the
//! > Ad-Hoc Sub-Process are not controlled or sequenced in any particular
//! > order; their performance is determined by the performers". With
//! > `ordering` Parallel they "can be performed concurrently", Sequential
//! > "one at a time". The `completionCondition` is evaluated "upon the
//! > completion of each activity"; when it holds and
//! > `cancelRemainingInstances` is true (the default) the activities still
//! > running are cancelled, otherwise they complete first. (BPMN 2.0, 10.3.5)
//!
//! Which enabled elements start is ours to choose, as the specification
//! leaves it to the performers: every element without incoming sequence
//! flows inside the subprocess is started, as Flowable and Camunda 8 run an
//! ad-hoc subprocess whose activities are not picked one by one — all at
//! once (Parallel), or one after the other in document order, the next when
//! nothing is left running inside (Sequential). What follows an element
//! through its outgoing flows runs as in any subprocess.
//!
//! After each activity directly inside completes (its outputs set), the
//! completion condition is evaluated as seen from it; one that cannot be
//! evaluated is an incident on that activity, and retrying evaluates it
//! again. Once it holds, nothing more starts, and with
//! `cancelRemainingInstances` everything still running inside is cancelled.
//! The subprocess completes when nothing is running inside and either the
//! condition held or nothing is left to start.

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::AdHocProgress;
use crate::model::{AdHoc, NodeIdx, NodeKind};

fn ad_hoc<'p>(run: &Run<'p>, node: NodeIdx) -> Option<&'p AdHoc> {
    match &run.process.nodes[node].kind {
        NodeKind::SubProcess(sp) => sp.ad_hoc.as_deref(),
        _ => None,
    }
}

/// The elements to start when the ad-hoc subprocess instance `key` starts,
/// out of its `enabled` ones (those without incoming flows).
pub(crate) fn starts(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    enabled: Vec<NodeIdx>,
) -> Vec<NodeIdx> {
    let Some(ah) = ad_hoc(run, node) else {
        return enabled;
    };
    if !ah.sequential || enabled.is_empty() {
        return enabled;
    }
    let pending = enabled[1..]
        .iter()
        .map(|n| run.process.nodes[*n].id.clone())
        .collect();
    run.emit(Event::AdHocProgressed {
        key,
        pending,
        closing: false,
    });
    vec![enabled[0]]
}

/// An activity instance `key` directly inside an ad-hoc subprocess is about
/// to complete: whether the subprocess's completion condition now holds.
pub(crate) fn condition_holds(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<bool, String> {
    if !run.process.nodes[node].is_activity() {
        return Ok(false);
    }
    let scope = run.scope_of(key);
    let Some(sub) = run.node_of(scope) else {
        return Ok(false);
    };
    let Some(condition) = ad_hoc(run, sub).and_then(|a| a.completion.as_ref()) else {
        return Ok(false);
    };
    if closing(run, scope) {
        return Ok(false);
    }
    run.evaluate(key, |b| condition.eval_bool(b))
        .map_err(|e| format!("the completionCondition of the ad-hoc subprocess failed: {e}"))
}

fn progress(run: &Run<'_>, key: u64) -> Option<AdHocProgress> {
    run.state.elements.get(&key).and_then(|e| e.ad_hoc.clone())
}

fn closing(run: &Run<'_>, key: u64) -> bool {
    progress(run, key).is_some_and(|p| p.closing)
}

/// The completion condition of the ad-hoc subprocess instance `key` held:
/// nothing more starts, and what runs inside is cancelled unless
/// `cancelRemainingInstances="false"`.
pub(crate) fn close(run: &mut Run<'_>, key: u64) {
    let Some(node) = run.node_of(key) else {
        return;
    };
    let Some(ah) = ad_hoc(run, node) else {
        return;
    };
    run.emit(Event::AdHocProgressed {
        key,
        pending: Vec::new(),
        closing: true,
    });
    if ah.cancel_remaining {
        run.terminate_scope(key, key);
    }
}

/// Nothing runs inside the ad-hoc subprocess instance `key` any more:
/// starts its next pending element (sequential ordering) and returns
/// `true`, or returns `false` when it may complete.
pub(crate) fn start_next(run: &mut Run<'_>, key: u64) -> bool {
    let Some(mut p) = progress(run, key) else {
        return false;
    };
    if p.closing || p.pending.is_empty() {
        return false;
    }
    let next = p.pending.remove(0);
    let Some(node) = run.process.node_index(&next) else {
        return false;
    };
    run.emit(Event::AdHocProgressed {
        key,
        pending: p.pending,
        closing: false,
    });
    run.activate(node, key);
    true
}
