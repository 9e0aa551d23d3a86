//! None start event.
//!
//! > "The Start Event indicates where a particular Process will start." A none
//! > start event is triggered by the instance being started; its form (if any)
//! > was validated by the start command, so the event completes at once.

use super::super::run::Run;
use super::Outcome;
use crate::model::NodeIdx;

pub(crate) fn on_activate(
    _run: &mut Run<'_>,
    _key: u64,
    _node: NodeIdx,
) -> Result<Outcome, String> {
    Ok(Outcome::Done)
}
