//! Multi-instance activities.
//!
//! > "The multi-instance characteristic [...] allows for creation of a desired
//! > number of Activity instances. The instances may execute in parallel or may
//! > be sequential." (BPMN 2.0, 10.2.8)
//!
//! A multi-instance activity runs as a *body* element instance that holds the
//! instances of the activity itself (*inner* instances, in the body's scope
//! and with the same element id). The body is armed with the activity's
//! boundary events, counts in its local variables `nrOfInstances`,
//! `nrOfActiveInstances` and `nrOfCompletedInstances`, and completes (taking
//! the activity's outgoing flows) when no inner instance is left. Each inner
//! instance has the local variables `loopCounter` (from 0) and, with
//! `camunda:collection` (or `loopDataInputRef`), the `camunda:elementVariable`
//! (or `inputDataItem`) holding its item; input and output mappings, async
//! continuations and the behaviour of the activity apply to each inner
//! instance.
//!
//! Output (`loopDataOutputRef` / `outputDataItem`, or Camunda 8's
//! `outputCollection` / `outputElement`): each inner instance starts with the
//! `outputDataItem` as an empty local variable, so that what it sets there
//! (a completed task's variables, a script) stays its own; when it completes,
//! the value is put in the body's list at the instance's `loopCounter`, in
//! parallel too, and the whole list is set in the enclosing scope when the
//! body completes.
//!
//! Parallel: every inner instance starts at once. Sequential: the next starts
//! when the previous completes. After each completion the `completionCondition`
//! is evaluated as seen from the completing instance; when true, the inner
//! instances still running are cancelled and the body completes.
//!
//! The collection is read when the body starts (its length fixes
//! `nrOfInstances`) and again for each later sequential instance.

use serde_json::{Map, Value};

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{JobKind, ROOT, Step, Wait};
use crate::model::{MultiInstance, NodeIdx};

fn multi<'p>(run: &Run<'p>, node: NodeIdx) -> Option<&'p MultiInstance> {
    run.process.nodes[node].multi.as_deref()
}

/// The items of the collection, or `None` when the activity counts by cardinality.
fn items(run: &Run<'_>, body: u64, mi: &MultiInstance) -> Result<Option<Vec<Value>>, String> {
    let Some(c) = &mi.collection else {
        return Ok(None);
    };
    match run
        .evaluate_pure(body, |b| c.eval(b))
        .map_err(|e| format!("camunda:collection: {e}"))?
    {
        Value::Array(items) => Ok(Some(items)),
        Value::Null => Ok(Some(Vec::new())),
        other => Err(format!(
            "camunda:collection {} is not a list but {}",
            c.source(),
            crate::model::expr::short(&other)
        )),
    }
}

fn cardinality(run: &Run<'_>, body: u64, mi: &MultiInstance) -> Result<usize, String> {
    let Some(c) = &mi.cardinality else {
        return Ok(0);
    };
    let v = run
        .evaluate_pure(body, |b| c.eval(b))
        .map_err(|e| format!("loopCardinality: {e}"))?;
    let n = match &v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (0..=MAX_INSTANCES as i64).contains(&n) => Ok(n as usize),
        _ => Err(format!(
            "loopCardinality {} gave {}, not a number of instances from 0 to {MAX_INSTANCES}",
            c.source(),
            crate::model::expr::short(&v)
        )),
    }
}

/// Most inner instances one body may have (a runaway collection is an incident).
pub const MAX_INSTANCES: usize = 10_000;

/// The body starts: count the instances and start the first (or all).
pub(crate) fn start_body(run: &mut Run<'_>, body: u64, node: NodeIdx) -> Result<(), String> {
    if let Some(l) = run.process.nodes[node].standard_loop.as_deref() {
        return super::standard_loop::start_body(run, body, node, l);
    }
    let Some(mi) = multi(run, node) else {
        return Ok(());
    };
    let list = items(run, body, mi)?;
    let n = match &list {
        Some(items) => items.len(),
        None => cardinality(run, body, mi)?,
    };
    if n > MAX_INSTANCES {
        return Err(format!(
            "the collection has {n} items; a multi-instance activity runs at most {MAX_INSTANCES}"
        ));
    }
    let first = if mi.sequential { n.min(1) } else { n };
    let mut counts = Map::new();
    counts.insert("nrOfInstances".into(), Value::from(n));
    counts.insert("nrOfActiveInstances".into(), Value::from(first));
    counts.insert("nrOfCompletedInstances".into(), Value::from(0));
    if let Some((collection, _)) = &mi.output {
        counts.insert(collection.clone(), Value::Array(vec![Value::Null; n]));
    }
    run.emit(Event::VariablesSet {
        scope: body,
        values: counts,
    });
    run.emit(Event::WaitStarted {
        key: body,
        wait: Wait::Children,
    });
    for i in 0..first {
        let item = list.as_ref().and_then(|l| l.get(i).cloned());
        start_inner(run, body, node, i, item);
    }
    Ok(())
}

/// Starts instance number `index` of a body, with its locals.
pub(crate) fn start_inner(
    run: &mut Run<'_>,
    body: u64,
    node: NodeIdx,
    index: usize,
    item: Option<Value>,
) {
    let key = run.enter(node, body, None);
    let mut locals = Map::new();
    locals.insert("loopCounter".into(), Value::from(index));
    if let Some(out) = multi(run, node).and_then(|m| m.output_item.clone()) {
        locals.insert(out, Value::Null);
    }
    if let (Some(var), Some(item)) = (
        multi(run, node).and_then(|m| m.element_variable.clone()),
        item,
    ) {
        locals.insert(var, item);
    }
    run.emit(Event::VariablesSet {
        scope: key,
        values: locals,
    });
    if run.process.nodes[node].async_before {
        run.wait_for_job(key, JobKind::AsyncBefore, None, Value::Null);
    } else {
        run.start(key);
    }
}

/// An inner instance is done (its outputs are set): count it, then cancel the
/// rest when the completion condition holds, or start the next in sequence.
/// The body completes by itself once nothing is left inside it. When the
/// condition or the next item cannot be evaluated, the inner instance stays
/// with an incident and a retry tries again.
pub(crate) fn on_inner_done(run: &mut Run<'_>, inner: u64, node: NodeIdx) {
    if let Some(l) = run.process.nodes[node].standard_loop.as_deref() {
        super::standard_loop::on_inner_done(run, inner, node, l);
        return;
    }
    let body = run.scope_of(inner);
    let Some(mi) = multi(run, node) else {
        return;
    };
    let local = |run: &Run<'_>, name: &str| {
        run.state
            .variables
            .get(&body)
            .and_then(|v| v.get(name))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize
    };
    let total = local(run, "nrOfInstances");
    let before = (
        local(run, "nrOfCompletedInstances"),
        local(run, "nrOfActiveInstances"),
    );
    let completed = before.0 + 1;
    if let Err(message) = collect_output(run, body, inner, mi) {
        run.incident(inner, Step::Leave, message);
        return;
    }
    set_counts(run, body, completed, before.1.saturating_sub(1));
    let decided = match &mi.completion {
        None => Ok(false),
        Some(c) => run
            .evaluate(inner, |b| c.eval_bool(b))
            .map_err(|e| format!("completionCondition: {e}")),
    }
    .and_then(|done| {
        if done || !mi.sequential || completed >= total {
            return Ok((done, None));
        }
        let item = items(run, body, mi)?.and_then(|l| l.get(completed).cloned());
        Ok((false, Some(item)))
    });
    match decided {
        Err(message) => {
            set_counts(run, body, before.0, before.1);
            run.incident(inner, Step::Leave, message);
        }
        Ok((done, next)) => {
            run.record_compensable(inner, node);
            run.emit(Event::ElementCompleted {
                key: inner,
                element: run.process.nodes[node].id.clone(),
            });
            if done {
                run.terminate_scope(body, ROOT);
            } else if let Some(item) = next {
                set_counts(run, body, completed, 1);
                start_inner(run, body, node, completed, item);
            }
        }
    }
}

/// Puts what an instance contributes to the output collection at its place.
fn collect_output(
    run: &mut Run<'_>,
    body: u64,
    inner: u64,
    mi: &MultiInstance,
) -> Result<(), String> {
    let Some((collection, element)) = &mi.output else {
        return Ok(());
    };
    let value = run
        .evaluate(inner, |b| element.eval(b))
        .map_err(|e| format!("outputElement: {e}"))?;
    let index = run
        .state
        .variables
        .get(&inner)
        .and_then(|v| v.get("loopCounter"))
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let mut list = match run
        .state
        .variables
        .get(&body)
        .and_then(|v| v.get(collection))
    {
        Some(Value::Array(l)) => l.clone(),
        _ => Vec::new(),
    };
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = value;
    let mut values = Map::new();
    values.insert(collection.clone(), Value::Array(list));
    run.emit(Event::VariablesSet {
        scope: body,
        values,
    });
    Ok(())
}

/// The body completes: its output collection goes to the enclosing scope.
pub(crate) fn on_body_done(run: &mut Run<'_>, body: u64, node: NodeIdx) {
    let Some((collection, _)) = multi(run, node).and_then(|m| m.output.as_ref()) else {
        return;
    };
    let Some(list) = run
        .state
        .variables
        .get(&body)
        .and_then(|v| v.get(collection))
        .cloned()
    else {
        return;
    };
    let mut values = Map::new();
    values.insert(collection.clone(), list);
    let outer = run.scope_of(body);
    run.set_variables(outer, values);
}

fn set_counts(run: &mut Run<'_>, body: u64, completed: usize, active: usize) {
    let mut counts = Map::new();
    counts.insert("nrOfCompletedInstances".into(), Value::from(completed));
    counts.insert("nrOfActiveInstances".into(), Value::from(active));
    run.emit(Event::VariablesSet {
        scope: body,
        values: counts,
    });
}

/// Whether `key` is the body of a multi-instance activity (not one of its instances).
pub(crate) fn is_body(run: &Run<'_>, key: u64) -> bool {
    let Some(node) = run.node_of(key) else {
        return false;
    };
    run.process.nodes[node].loops() && !is_inner(run, key)
}

/// Whether `key` is an instance inside a multi-instance body.
pub(crate) fn is_inner(run: &Run<'_>, key: u64) -> bool {
    let Some(e) = run.state.elements.get(&key) else {
        return false;
    };
    run.process
        .node_index(&e.element)
        .is_some_and(|n| run.process.nodes[n].loops())
        && run
            .state
            .elements
            .get(&e.scope)
            .is_some_and(|s| s.element == e.element)
}
