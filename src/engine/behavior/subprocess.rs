//! Embedded subprocess.
//!
//! > "A Sub-Process is an Activity whose internal details have been modeled using
//! > Activities, Gateways, Events, and Sequence Flows." Its none start event is
//! > triggered when it is activated; it completes when no token is left inside.
//!
//! An ad-hoc subprocess runs here too; which of its enabled elements start,
//! and when it may complete, is decided in `ad_hoc`.
//!
//! Variables: the subprocess is a scope of its own only for the variables its
//! input mappings create; every other write goes up to the instance (Camunda's
//! rule), so what children set is visible after the subprocess completes.

use super::super::event::Event;
use super::super::run::Run;
use super::super::state::Wait;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::SubProcess(sp) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let starts = if sp.start == usize::MAX {
        sp.implicit.clone()
    } else {
        vec![sp.start]
    };
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::Children,
    });
    let starts = super::ad_hoc::starts(run, key, node, starts);
    super::event_subprocess::arm_all(run, key, Some(node));
    // Without a start event, its elements without incoming flows all start.
    for start in starts {
        run.activate(start, key);
    }
    Ok(Outcome::Wait)
}

pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    // The children were terminated first; only an async job can be left.
    run.close_wait(key);
}
