//! Complex gateway: a join with a rule of its own, and an inclusive fork.
//!
//! > "The Complex Gateway has two states: waiting for start and waiting for
//! > reset. [...] In the waiting for start state, the Gateway waits for the
//! > activationCondition to become true. [...] the Gateway consumes a token
//! > from each incoming Sequence Flow that has a token [...] and then enters
//! > the waiting for reset state. [...] the Gateway waits for a token on each
//! > of those incoming Sequence Flows that have not yet received a token in
//! > the first phase unless such a token is not expected according to the
//! > join behavior of an Inclusive Gateway." Its outgoing flows are chosen
//! > "as in the split behavior of an Inclusive Gateway". (BPMN 2.0, 13.4.5
//! > and 10.5.5)
//!
//! Tokens wait at the gateway as at any join (taken sequence flows per
//! scope). Waiting for start, the `activationCondition` is evaluated each
//! time a token arrives, with two variables beside the scope's:
//! `_activeTokens`, the number of incoming flows that hold a token, and
//! `_activationCount`, the number of tokens on each incoming flow by flow id
//! (the specification's `activationCount`). When it holds, one token of
//! each flow that has one is consumed and the gateway fires (an element
//! instance runs, whose outgoing flows are chosen as an inclusive gateway's).
//! The flows that had no token are then *awaited*: tokens arriving on them
//! are absorbed without firing; once each has come — or can no longer come
//! because nothing in the scope can reach it, checked when the command has
//! nothing else to do — the gateway resets and waits for start again (and
//! evaluates its condition at once when tokens of the next round are
//! already there). Deviation: the specification lets the gateway take
//! outgoing flows again when it resets; here the reset produces no tokens.
//!
//! An activation condition that cannot be evaluated is an incident on an
//! instance of the gateway; retrying evaluates it again.

use serde_json::{Map, Value, json};

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::Step;
use super::Outcome;
use super::flows;
use crate::bindings::Overlay;
use crate::model::{FlowIdx, NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    if !run.process.nodes[node].is_join() || run.complex_fired.remove(&key) {
        return Ok(Outcome::Done);
    }
    // Retried after its activation condition could not be evaluated.
    let scope = run.scope_of(key);
    let (incoming, with) = run.join_tokens(node, scope);
    if !resetting(run, node, scope) && !with.is_empty() && activation(run, node, scope)? {
        fire(run, node, scope, &incoming, with);
        return Ok(Outcome::Done);
    }
    // The condition does not hold (any more): the tokens go on waiting.
    run.emit(Event::ElementTerminated {
        key,
        element: run.process.nodes[node].id.clone(),
    });
    Ok(Outcome::Wait)
}

pub(crate) fn outgoing(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    flows::choose(run, key, node, false)
}

/// A token arrived on an incoming flow.
pub(crate) fn on_token(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) {
    advance(run, gateway, scope, false);
}

/// When the command has nothing else to do: complex gateways waiting for
/// reset whose awaited flows can no longer get a token reset. Returns
/// whether any did.
pub(crate) fn reset_idle(run: &mut Run<'_>) -> bool {
    let waiting: Vec<(u64, String)> = run
        .state
        .resetting
        .iter()
        .map(|r| (r.scope, r.gateway.clone()))
        .collect();
    let mut moved = false;
    for (scope, gateway) in waiting {
        if let Some(g) = run.process.node_index(&gateway) {
            moved |= advance(run, g, scope, true);
        }
    }
    moved
}

fn resetting(run: &Run<'_>, gateway: NodeIdx, scope: u64) -> bool {
    let id = &run.process.nodes[gateway].id;
    run.state
        .resetting
        .iter()
        .any(|r| r.scope == scope && r.gateway == *id)
}

/// Moves the gateway on as far as its tokens allow: resets it when its
/// awaited tokens came (or, `idle`, cannot come any more), fires it when its
/// activation condition holds. Returns whether anything happened.
fn advance(run: &mut Run<'_>, gateway: NodeIdx, scope: u64, idle: bool) -> bool {
    let mut moved = false;
    loop {
        let (incoming, with) = run.join_tokens(gateway, scope);
        let id = run.process.nodes[gateway].id.clone();
        let awaiting = run
            .state
            .resetting
            .iter()
            .find(|r| r.scope == scope && r.gateway == id)
            .map(|r| r.awaiting.clone());
        if let Some(awaiting) = awaiting {
            let (arrived, missing): (Vec<String>, Vec<String>) =
                awaiting.into_iter().partition(|f| with.contains(f));
            let expected = |f: &String| {
                run.process
                    .flow_index(f)
                    .is_some_and(|i| run.can_reach(scope, run.process.flows[i].source))
            };
            if !missing.is_empty() && (!idle || missing.iter().any(expected)) {
                return moved;
            }
            run.emit(Event::ComplexGatewayReset {
                scope,
                gateway: id,
                flows: arrived,
            });
            moved = true;
            continue;
        }
        if with.is_empty() || blocked(run, gateway, scope) {
            return moved;
        }
        match activation(run, gateway, scope) {
            Ok(true) => {
                fire(run, gateway, scope, &incoming, with);
                let key = run.enter(gateway, scope, None);
                run.complex_fired.insert(key);
                run.start(key);
                moved = true;
            }
            Ok(false) => return moved,
            Err(message) => {
                let key = run.enter(gateway, scope, None);
                run.incident(key, Step::Activate, message);
                return true;
            }
        }
    }
}

/// Whether an instance of the gateway in `scope` has an incident (its
/// activation condition failed): its retry decides.
fn blocked(run: &Run<'_>, gateway: NodeIdx, scope: u64) -> bool {
    let id = &run.process.nodes[gateway].id;
    run.state
        .children_of(scope)
        .any(|(_, e)| e.element == *id && e.incident.is_some())
}

/// Evaluates the activation condition against the tokens now waiting.
fn activation(run: &Run<'_>, gateway: NodeIdx, scope: u64) -> Result<bool, String> {
    let NodeKind::ComplexGateway(cg) = &run.process.nodes[gateway].kind else {
        return Ok(true);
    };
    let Some(condition) = &cg.activation else {
        return Ok(true);
    };
    let id = &run.process.nodes[gateway].id;
    let tokens = run
        .state
        .joins
        .iter()
        .find(|j| j.scope == scope && j.gateway == *id);
    let mut counts = Map::new();
    let mut active = 0;
    for f in &run.process.nodes[gateway].incoming {
        let flow = &run.process.flows[*f].id;
        let n = tokens.and_then(|t| t.flows.get(flow)).copied().unwrap_or(0);
        if n > 0 {
            active += 1;
        }
        counts.insert(flow.clone(), json!(n));
    }
    let mut top = Map::new();
    top.insert("_activeTokens".into(), json!(active));
    top.insert("_activationCount".into(), Value::Object(counts));
    run.evaluate_pure(scope, |b| {
        let mut o = Overlay { top: &top, base: b };
        condition.eval_bool(&mut o)
    })
    .map_err(|e| format!("the activationCondition failed: {e}"))
}

/// Consumes one token of each flow in `with` and starts waiting for the
/// others.
fn fire(run: &mut Run<'_>, gateway: NodeIdx, scope: u64, incoming: &[String], with: Vec<String>) {
    let awaiting = incoming
        .iter()
        .filter(|f| !with.contains(f))
        .cloned()
        .collect();
    run.emit(Event::ComplexGatewayFired {
        scope,
        gateway: run.process.nodes[gateway].id.clone(),
        flows: with,
        awaiting,
    });
}
