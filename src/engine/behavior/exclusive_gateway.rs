//! Exclusive gateway (XOR).
//!
//! > "A diverging Exclusive Gateway is used to create alternative paths. [...]
//! > The conditions are evaluated in order; the first condition that evaluates
//! > to true selects the Sequence Flow. If none is true, the default Sequence
//! > Flow is taken." (BPMN 2.0, 10.5.2) A converging exclusive gateway passes
//! > every arriving token on: it does not wait.
//!
//! Order is the document order of the sequence flows. A flow without a
//! condition counts as true. No true condition and no default flow is an
//! incident: the spec says an exception is thrown.

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
    flows::choose(run, key, node, true)
}
