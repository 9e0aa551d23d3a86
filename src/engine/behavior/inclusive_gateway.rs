//! Inclusive gateway (OR): fork and join.
//!
//! > Diverging: "all Sequence Flows with a true condition are taken [...] If none
//! > evaluates to true, the default flow is taken." Converging: the gateway fires
//! > when "at least one incoming Sequence Flow has a token and for each empty
//! > incoming Sequence Flow, there is no token in the graph anywhere upstream of
//! > this Sequence Flow". (BPMN 2.0, 10.5.3 and table 13.3)
//!
//! The join therefore waits for the branches that were actually taken: it fires
//! at once when every incoming flow has a token, and otherwise as soon as no
//! live element (or token at another join) in its scope can still reach it —
//! checked when the command has nothing else to do.

use super::super::run::Run;
use super::Outcome;
use super::flows::check;
use crate::model::{FlowIdx, NodeIdx};

pub(crate) fn on_activate(
    _run: &mut Run<'_>,
    _key: u64,
    _node: NodeIdx,
) -> Result<Outcome, String> {
    Ok(Outcome::Done)
}

pub(crate) fn outgoing(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    let n = &run.process.nodes[node];
    let default = n.default_flow;
    let candidates: Vec<FlowIdx> = n
        .outgoing
        .iter()
        .copied()
        .filter(|f| Some(*f) != default)
        .collect();
    let mut taken = Vec::new();
    for f in candidates {
        if check(run, key, f)? {
            taken.push((f, false));
        }
    }
    if taken.is_empty() {
        match default {
            Some(d) => taken.push((d, true)),
            None => {
                return Err(
                    "no condition of an outgoing sequence flow is true and the gateway has no default flow".into(),
                );
            }
        }
    }
    Ok(taken)
}

/// The flows of the join that hold a token right now.
fn flows_with_tokens(run: &Run<'_>, gateway: NodeIdx, scope: u64) -> (Vec<String>, bool) {
    let g = &run.process.nodes[gateway];
    let Some(tokens) = run
        .state
        .joins
        .iter()
        .find(|j| j.scope == scope && j.gateway == g.id)
    else {
        return (Vec::new(), false);
    };
    let incoming: Vec<String> = g
        .incoming
        .iter()
        .map(|f| run.process.flows[*f].id.clone())
        .collect();
    let with: Vec<String> = incoming
        .iter()
        .filter(|f| tokens.flows.get(*f).is_some_and(|n| *n > 0))
        .cloned()
        .collect();
    let all = with.len() == incoming.len();
    (with, all)
}

/// A token arrived: fire at once if every incoming flow has one.
pub(crate) fn on_token(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) {
    let (flows, all) = flows_with_tokens(run, gateway, scope);
    if all {
        run.fire_join(gateway, scope, flows);
    }
}

/// Fires the join if nothing in its scope can bring another token. Returns whether it fired.
pub(crate) fn try_fire(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) -> bool {
    let (flows, _) = flows_with_tokens(run, gateway, scope);
    if flows.is_empty() || run.can_reach(scope, gateway) {
        return false;
    }
    run.fire_join(gateway, scope, flows);
    true
}
