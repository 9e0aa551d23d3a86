//! Abstract task and manual task.
//!
//! > A task without a type "is a Task that has no specific behavior"; a manual
//! > task "is expected to be performed without the aid of any business process
//! > execution engine." Neither has anything for the engine to do: the token
//! > passes through (as in the engine we replace).

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
