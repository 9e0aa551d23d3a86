//! None and terminate end events.
//!
//! > "The End Event indicates where a path in the process will end." A none end
//! > event consumes the token; the scope completes when nothing else is active.
//! >
//! > Terminate: "all activities in the Process [scope] should be immediately
//! > ended", including multiple instances and subprocesses. (BPMN 2.0, 10.4.3)
//!
//! Inside an embedded subprocess a terminate end event ends that subprocess
//! only, which then completes normally and the flow continues after it (as in
//! Camunda and Zeebe). At the top level it ends the instance as terminated —
//! and an instance a call activity started reports back as completed.

use super::super::effect::{CallOutcome, Effect};
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::ROOT;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::EndEvent { terminate } = run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    if !terminate {
        return Ok(Outcome::Done);
    }
    let scope = run.scope_of(key);
    run.terminate_scope(scope, key);
    if scope == ROOT {
        run.emit(Event::ElementCompleted {
            key,
            element: run.process.nodes[node].id.clone(),
        });
        if !run.process_ends() {
            return Ok(Outcome::Wait);
        }
        // A called instance ended this way has still done its work: the call
        // activity completes (as in Camunda and Zeebe).
        if let Some(element) = run.state.called_by.clone() {
            let variables = run.state.root_variables();
            run.effect(Effect::ReturnToCaller {
                element,
                outcome: CallOutcome::Completed { variables },
            });
        }
        run.emit(Event::InstanceTerminated {
            reason: format!("terminate end event \"{}\"", run.process.nodes[node].id),
        });
        return Ok(Outcome::Wait);
    }
    // The subprocess completes once this end event is gone (nothing else is left).
    Ok(Outcome::Done)
}
