//! Element behaviours, one module per element kind, dispatched by exhaustive
//! `match` on the node kind.
//!
//! Every kind has the same small lifecycle: `on_activate` (the token arrived —
//! wait, or be done at once), its outgoing-flow choice (`outgoing`: gateways
//! decide, everything else uses the uncontrolled-flow rule in [`flows`]), and
//! `on_terminate` (cancelled — release what it waits for). Triggers that end a
//! wait (a task completed, a message, a job) live in the module of the kind
//! that waits for them.

pub(crate) mod ad_hoc;
pub(crate) mod boundary_event;
pub(crate) mod business_rule;
pub(crate) mod call_activity;
pub(crate) mod catch_event;
pub(crate) mod compensation;
pub(crate) mod complex_gateway;
pub(crate) mod end_event;
pub(crate) mod error_event;
pub(crate) mod escalation_event;
pub(crate) mod event_gateway;
pub(crate) mod event_subprocess;
pub(crate) mod exclusive_gateway;
pub(crate) mod flows;
pub(crate) mod inclusive_gateway;
pub(crate) mod link_event;
pub(crate) mod multi_instance;
pub(crate) mod parallel_gateway;
pub(crate) mod receive_task;
pub(crate) mod script_task;
pub(crate) mod service_task;
pub(crate) mod standard_loop;
pub(crate) mod start_event;
pub(crate) mod subprocess;
pub(crate) mod task;
pub(crate) mod throw_event;
pub(crate) mod throw_signal;
pub(crate) mod user_task;

use super::run::Run;
use crate::model::{FlowIdx, NodeIdx, NodeKind};

/// What an element does once activated.
pub(crate) enum Outcome {
    /// It waits (for a person, a message, a job, its children).
    Wait,
    /// It is done and can be completed right away.
    Done,
}

/// The token arrived at the element.
pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    match &run.process.nodes[node].kind {
        NodeKind::StartEvent(_) => start_event::on_activate(run, key, node),
        NodeKind::EndEvent { .. } => end_event::on_activate(run, key, node),
        NodeKind::IntermediateThrow => throw_event::on_activate(run, key, node),
        NodeKind::IntermediateCatch(_) => catch_event::on_activate(run, key, node),
        NodeKind::Task | NodeKind::ManualTask => task::on_activate(run, key, node),
        NodeKind::UserTask(_) => user_task::on_activate(run, key, node),
        NodeKind::ServiceTask(_) => service_task::on_activate(run, key, node),
        NodeKind::ScriptTask(_) => script_task::on_activate(run, key, node),
        NodeKind::ReceiveTask(_) => receive_task::on_activate(run, key, node),
        NodeKind::ExclusiveGateway => exclusive_gateway::on_activate(run, key, node),
        NodeKind::ParallelGateway => parallel_gateway::on_activate(run, key, node),
        NodeKind::InclusiveGateway => inclusive_gateway::on_activate(run, key, node),
        NodeKind::EventGateway => event_gateway::on_activate(run, key, node),
        NodeKind::ComplexGateway(_) => complex_gateway::on_activate(run, key, node),
        NodeKind::SubProcess(_) => subprocess::on_activate(run, key, node),
        NodeKind::BoundaryEvent(_) => boundary_event::on_activate(run, key, node),
        NodeKind::ErrorEnd(_) => error_event::on_end(run, key, node),
        NodeKind::Throw(_) => throw_signal::on_activate(run, key, node),
        NodeKind::Escalate { .. } => escalation_event::on_activate(run, key, node),
        NodeKind::LinkThrow { .. } | NodeKind::LinkCatch { .. } => {
            link_event::on_activate(run, key, node)
        }
        NodeKind::CallActivity(_) => call_activity::on_activate(run, key, node),
        NodeKind::EventSubProcess(_) => event_subprocess::on_activate(run, key, node),
        NodeKind::BusinessRule(_) => business_rule::on_activate(run, key, node),
        NodeKind::Compensate { .. } | NodeKind::CancelEnd => {
            compensation::on_activate(run, key, node)
        }
    }
}

/// The flows to take when the element completes (`true`: taken as the default).
pub(crate) fn outgoing(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
) -> Result<Vec<(FlowIdx, bool)>, String> {
    match &run.process.nodes[node].kind {
        NodeKind::ExclusiveGateway => exclusive_gateway::outgoing(run, key, node),
        NodeKind::ParallelGateway => parallel_gateway::outgoing(run, key, node),
        NodeKind::InclusiveGateway => inclusive_gateway::outgoing(run, key, node),
        NodeKind::ComplexGateway(_) => complex_gateway::outgoing(run, key, node),
        // Its flows were taken when it activated its targets.
        NodeKind::EventGateway => Ok(Vec::new()),
        // The token went on at its link catch event.
        NodeKind::LinkThrow { .. } => Ok(Vec::new()),
        NodeKind::StartEvent(_)
        | NodeKind::EndEvent { .. }
        | NodeKind::IntermediateThrow
        | NodeKind::IntermediateCatch(_)
        | NodeKind::Task
        | NodeKind::ManualTask
        | NodeKind::UserTask(_)
        | NodeKind::ServiceTask(_)
        | NodeKind::ScriptTask(_)
        | NodeKind::ReceiveTask(_)
        | NodeKind::SubProcess(_)
        | NodeKind::BoundaryEvent(_)
        | NodeKind::ErrorEnd(_)
        | NodeKind::Throw(_)
        | NodeKind::Escalate { .. }
        | NodeKind::CallActivity(_)
        | NodeKind::BusinessRule(_)
        | NodeKind::Compensate { .. }
        | NodeKind::LinkCatch { .. } => flows::uncontrolled(run, key, node),
        // Its transaction was cancelled through the cancel boundary event.
        NodeKind::CancelEnd => Ok(Vec::new()),
        // No flows leave an event subprocess: its scope goes on (or ends).
        NodeKind::EventSubProcess(_) => Ok(Vec::new()),
    }
}

/// The element is being cancelled.
pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64, node: NodeIdx) {
    match &run.process.nodes[node].kind {
        NodeKind::UserTask(_) => user_task::on_terminate(run, key),
        NodeKind::IntermediateCatch(_) | NodeKind::ReceiveTask(_) | NodeKind::BoundaryEvent(_) => {
            catch_event::on_terminate(run, key)
        }
        NodeKind::ServiceTask(_) | NodeKind::BusinessRule(_) => {
            service_task::on_terminate(run, key)
        }
        NodeKind::SubProcess(_) => subprocess::on_terminate(run, key),
        NodeKind::CallActivity(_) => call_activity::on_terminate(run, key),
        NodeKind::EventSubProcess(_) => event_subprocess::on_terminate(run, key),
        // Nothing of their own to release beyond an async job; compensation
        // handlers already started are cancelled with the scope.
        NodeKind::StartEvent(_)
        | NodeKind::EndEvent { .. }
        | NodeKind::ErrorEnd(_)
        | NodeKind::Compensate { .. }
        | NodeKind::CancelEnd
        | NodeKind::Throw(_)
        | NodeKind::LinkThrow { .. }
        | NodeKind::LinkCatch { .. }
        | NodeKind::Escalate { .. }
        | NodeKind::IntermediateThrow
        | NodeKind::Task
        | NodeKind::ManualTask
        | NodeKind::ScriptTask(_)
        | NodeKind::ExclusiveGateway
        | NodeKind::ParallelGateway
        | NodeKind::InclusiveGateway
        | NodeKind::ComplexGateway(_)
        | NodeKind::EventGateway => run.close_wait(key),
    }
}
