//! Standard loops.
//!
//! > "The Standard Loop [...] the Activity will loop as long as the
//! > loopCondition is true. The loop condition may be evaluated before or
//! > after the Activity is executed (testBefore)" and `loopMaximum` caps the
//! > iterations. (BPMN 2.0, 10.2.8)
//!
//! A looping activity runs like a sequential multi-instance activity (see
//! [`super::multi_instance`]): a body holds one run at a time, each with the
//! local `loopCounter` (from 0). The condition is evaluated as seen from the
//! run that just finished (after, the default) or from the body before each
//! run (`testBefore`). The body's own `loopCounter` counts the finished runs.

use serde_json::{Map, Value};

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{Step, Wait};
use super::multi_instance::start_inner;
use crate::model::{NodeIdx, StandardLoop};

fn counted(run: &mut Run<'_>, body: u64, done: usize) {
    let mut v = Map::new();
    v.insert("loopCounter".into(), Value::from(done));
    run.emit(Event::VariablesSet {
        scope: body,
        values: v,
    });
}

fn holds(run: &Run<'_>, at: u64, l: &StandardLoop) -> Result<bool, String> {
    match &l.condition {
        None => Ok(true),
        Some(c) => run
            .evaluate_pure(at, |b| c.eval_bool(b))
            .map_err(|e| format!("loopCondition: {e}")),
    }
}

/// The body starts: the first run, unless a `testBefore` condition says no.
pub(crate) fn start_body(
    run: &mut Run<'_>,
    body: u64,
    node: NodeIdx,
    l: &StandardLoop,
) -> Result<(), String> {
    let go = l.maximum != Some(0) && (!l.test_before || holds(run, body, l)?);
    counted(run, body, 0);
    run.emit(Event::WaitStarted {
        key: body,
        wait: Wait::Children,
    });
    if go {
        start_inner(run, body, node, 0, None);
    }
    Ok(())
}

/// A run finished: run again while the condition holds and the maximum allows.
pub(crate) fn on_inner_done(run: &mut Run<'_>, inner: u64, node: NodeIdx, l: &StandardLoop) {
    let body = run.scope_of(inner);
    let done = run
        .state
        .variables
        .get(&body)
        .and_then(|v| v.get("loopCounter"))
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize
        + 1;
    let below_max = l.maximum.is_none_or(|m| (done as u64) < m);
    // After the run: seen from it; before the next: seen from the body, once
    // this run's locals are gone.
    let again = if !below_max {
        Ok(false)
    } else if l.test_before {
        Ok(true)
    } else {
        holds(run, inner, l)
    };
    let again = match again {
        Ok(a) => a,
        Err(message) => {
            run.incident(inner, Step::Leave, message);
            return;
        }
    };
    run.emit(Event::ElementCompleted {
        key: inner,
        element: run.process.nodes[node].id.clone(),
    });
    counted(run, body, done);
    if !again {
        return;
    }
    if l.test_before {
        match holds(run, body, l) {
            Ok(true) => {}
            Ok(false) => return,
            Err(message) => {
                run.incident(body, Step::Activate, message);
                return;
            }
        }
    }
    start_inner(run, body, node, done, None);
}
