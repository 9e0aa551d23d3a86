//! Intermediate throw event without an event definition.
//!
//! > A none intermediate event "indicates some change of state in the Process";
//! > it throws nothing, so the token passes straight through.

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
