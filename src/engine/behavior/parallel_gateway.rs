//! Parallel gateway (AND): fork and join.
//!
//! > "A Parallel Gateway creates parallel paths without checking any conditions"
//! > and, converging, "waits for all incoming flows before triggering the flow
//! > through its outgoing Sequence Flows." (BPMN 2.0, 10.5.4)
//!
//! The join counts *taken sequence flows* per scope (never tokens in a counter
//! of its own): it fires when every incoming flow has at least one token, and
//! consumes exactly one from each. A second token on the same flow waits for
//! the next round. Conditions on outgoing flows are ignored (a deploy warning
//! says so).

use super::super::run::Run;
use super::Outcome;
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
    _key: u64,
    node: NodeIdx,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    Ok(run.process.nodes[node]
        .outgoing
        .iter()
        .map(|f| (*f, false))
        .collect())
}

/// A token arrived on one incoming flow of the join.
pub(crate) fn on_token(run: &mut Run<'_>, gateway: NodeIdx, scope: u64) {
    let (incoming, with_tokens) = run.join_tokens(gateway, scope);
    if with_tokens.len() == incoming.len() {
        run.fire_join(gateway, scope, incoming);
    }
}
