//! Receive task.
//!
//! > "A Receive Task is a simple Task that is designed to wait for a Message to
//! > arrive from an external Participant. Once the Message has been received,
//! > the Task is completed." (BPMN 2.0, 10.3.3) It waits exactly as a message
//! > catch event does, so it shares [`super::catch_event`]'s code.

use super::super::run::Run;
use super::{Outcome, catch_event};
use crate::model::NodeIdx;

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    catch_event::on_activate(run, key, node)
}
