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
use super::flows;
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
    flows::choose(run, key, node, false)
}

/// A token arrived: fire at once if every incoming flow has one.
pub(crate) fn on_token(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) {
    let (incoming, with_tokens) = run.join_tokens(gateway, scope);
    if with_tokens.len() == incoming.len() {
        run.fire_join(gateway, scope, with_tokens);
    }
}

/// Fires the join if nothing in its scope can bring another token. Returns whether it fired.
pub(crate) fn try_fire(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) -> bool {
    let (_, flows) = run.join_tokens(gateway, scope);
    if flows.is_empty() || run.can_reach(scope, gateway) {
        return false;
    }
    run.fire_join(gateway, scope, flows);
    true
}
