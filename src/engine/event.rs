//! What happened in an instance. Events change state (through
//! [`InstanceState::apply`](super::InstanceState::apply)) and are also the
//! instance's history, one row each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::operate::Instruction;
use super::state::{Step, Wait};

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The instance started at `start`.
    InstanceStarted { process: String, start: String },
    /// A token reached an element: it now has a live instance with this key.
    ElementActivated {
        key: u64,
        element: String,
        scope: u64,
        /// For a boundary event: the activity instance it is attached to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attached_to: Option<u64>,
    },
    /// The element waits for a person, a message, a job or its children.
    WaitStarted { key: u64, wait: Wait },
    /// The user task was claimed, handed over or released (`None`).
    TaskAssigned { key: u64, assignee: Option<String> },
    /// A person completed the user task.
    TaskCompleted { key: u64 },
    /// The awaited message arrived.
    MessageReceived { key: u64, name: String },
    /// The element waiting for a trigger was triggered.
    Triggered { key: u64 },
    /// The timer fired.
    TimerFired { key: u64 },
    /// The awaited job finished.
    JobCompleted { key: u64 },
    /// The awaited job failed for good (an incident follows).
    JobFailed { key: u64, message: String },
    /// The element finished normally.
    ElementCompleted { key: u64, element: String },
    /// The element was cancelled (terminate end event, cancellation).
    ElementTerminated { key: u64, element: String },
    /// A sequence flow was taken. `join` names the gateway when the token now
    /// waits there for the other branches.
    FlowTaken {
        flow: String,
        scope: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        join: Option<String>,
        /// Taken because no condition held (the default flow).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        default: bool,
    },
    /// A condition of an outgoing flow was evaluated.
    ConditionEvaluated {
        key: u64,
        flow: String,
        expression: String,
        result: bool,
    },
    /// A join gateway consumed one token from each of these flows and fires.
    JoinFired {
        scope: u64,
        gateway: String,
        flows: Vec<String>,
    },
    /// A complex gateway's activation condition held: it consumed one token
    /// from each of `flows` and fires; it now waits for a token on each of
    /// `awaiting` (none: it is ready for the next activation at once).
    ComplexGatewayFired {
        scope: u64,
        gateway: String,
        flows: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        awaiting: Vec<String>,
    },
    /// A complex gateway waiting for reset absorbed the tokens of `flows`
    /// (those of the awaited flows that came) and waits for start again.
    ComplexGatewayReset {
        scope: u64,
        gateway: String,
        flows: Vec<String>,
    },
    /// An ad-hoc subprocess instance: the enabled elements that have not
    /// started yet (sequential ordering), and whether its completion
    /// condition held (`closing`: nothing more starts).
    AdHocProgressed {
        key: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pending: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        closing: bool,
    },
    /// Variables were set in a scope (0 = the instance).
    VariablesSet {
        scope: u64,
        values: Map<String, Value>,
    },
    /// Variables were removed from a scope (0 = the instance).
    VariablesRemoved { scope: u64, names: Vec<String> },
    /// The condition of a conditional event holds.
    ConditionMet { key: u64 },
    /// An escalation was raised by an element instance.
    EscalationThrown {
        key: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A completed activity instance can be compensated later (`container`:
    /// through what completed inside it).
    CompensationRecorded {
        key: u64,
        element: String,
        scope: u64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        container: bool,
    },
    /// The compensation handler instance `key` started, for the completed
    /// instance `record`, on behalf of the throw event instance `throw`.
    /// `adopts`: the handler is a compensation event subprocess, which takes
    /// over what completed inside the compensated subprocess instance (it is
    /// compensated from within the handler).
    CompensationStarted {
        key: u64,
        throw: u64,
        record: u64,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adopts: bool,
    },
    /// A call activity started the instance `instance` and waits for it.
    CallStarted { key: u64, instance: String },
    /// The instance a call activity called has completed.
    CallEnded {
        key: u64,
        instance: String,
        /// The called instance's variables (kept on the call activity until
        /// its `camunda:out` mappings have run).
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        variables: Map<String, Value>,
    },
    /// An event-based gateway activated these element instances as rivals:
    /// the first whose event arrives wins, the others are cancelled.
    RaceStarted { gateway: u64, keys: Vec<u64> },
    /// A BPMN error was thrown at an element instance (an error end event, or a
    /// task whose worker reported it).
    ErrorThrown {
        key: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// An element cannot go on; an admin must look.
    IncidentRaised {
        incident: u64,
        key: u64,
        element: String,
        message: String,
        step: Step,
    },
    /// The incident was retried (or its element went away).
    IncidentResolved { incident: u64 },
    /// An operator suspended the instance: nothing in it moves (no task is
    /// completed, no message taken, no job or timer run) until it is resumed.
    InstanceSuspended {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The instance was resumed: what waited (a timer due meanwhile) goes on.
    InstanceResumed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// An operator moved the instance's tokens: the events that follow (in the
    /// same command) cancel and start the elements these instructions name.
    InstanceModified {
        instructions: Vec<Instruction>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The instance moved to another version of its process. Its element
    /// instances, waits and variables are kept; the elements of `renamed`
    /// (old id -> new id) carry their new ids from now on.
    InstanceMigrated {
        process: String,
        from_version: i32,
        to_version: i32,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        renamed: BTreeMap<String, String>,
    },
    /// Nothing is left to do.
    InstanceCompleted,
    /// The instance was ended early.
    InstanceTerminated { reason: String },
}

impl Event {
    /// The event's type name (its history `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::InstanceStarted { .. } => "instance_started",
            Event::ElementActivated { .. } => "element_activated",
            Event::WaitStarted { .. } => "wait_started",
            Event::TaskAssigned { .. } => "task_assigned",
            Event::TaskCompleted { .. } => "task_completed",
            Event::MessageReceived { .. } => "message_received",
            Event::Triggered { .. } => "triggered",
            Event::TimerFired { .. } => "timer_fired",
            Event::JobCompleted { .. } => "job_completed",
            Event::JobFailed { .. } => "job_failed",
            Event::ElementCompleted { .. } => "element_completed",
            Event::ElementTerminated { .. } => "element_terminated",
            Event::FlowTaken { .. } => "flow_taken",
            Event::ConditionEvaluated { .. } => "condition_evaluated",
            Event::JoinFired { .. } => "join_fired",
            Event::ComplexGatewayFired { .. } => "complex_gateway_fired",
            Event::ComplexGatewayReset { .. } => "complex_gateway_reset",
            Event::AdHocProgressed { .. } => "ad_hoc_progressed",
            Event::VariablesSet { .. } => "variables_set",
            Event::VariablesRemoved { .. } => "variables_removed",
            Event::ErrorThrown { .. } => "error_thrown",
            Event::RaceStarted { .. } => "race_started",
            Event::EscalationThrown { .. } => "escalation_thrown",
            Event::CallStarted { .. } => "call_started",
            Event::CompensationRecorded { .. } => "compensation_recorded",
            Event::CompensationStarted { .. } => "compensation_started",
            Event::CallEnded { .. } => "call_ended",
            Event::ConditionMet { .. } => "condition_met",
            Event::IncidentRaised { .. } => "incident_raised",
            Event::IncidentResolved { .. } => "incident_resolved",
            Event::InstanceSuspended { .. } => "instance_suspended",
            Event::InstanceResumed { .. } => "instance_resumed",
            Event::InstanceModified { .. } => "instance_modified",
            Event::InstanceMigrated { .. } => "instance_migrated",
            Event::InstanceCompleted => "instance_completed",
            Event::InstanceTerminated { .. } => "instance_terminated",
        }
    }

    /// The element id the event is about, when the event itself names it.
    pub fn element(&self) -> Option<&str> {
        match self {
            Event::ElementActivated { element, .. }
            | Event::ElementCompleted { element, .. }
            | Event::ElementTerminated { element, .. }
            | Event::IncidentRaised { element, .. } => Some(element),
            Event::FlowTaken { flow, .. } | Event::ConditionEvaluated { flow, .. } => Some(flow),
            Event::JoinFired { gateway, .. }
            | Event::ComplexGatewayFired { gateway, .. }
            | Event::ComplexGatewayReset { gateway, .. } => Some(gateway),
            Event::InstanceStarted { start, .. } => Some(start),
            _ => None,
        }
    }

    /// The element instance key the event is about, when there is one.
    pub fn key(&self) -> Option<u64> {
        match self {
            Event::ElementActivated { key, .. }
            | Event::WaitStarted { key, .. }
            | Event::TaskAssigned { key, .. }
            | Event::TaskCompleted { key }
            | Event::MessageReceived { key, .. }
            | Event::Triggered { key }
            | Event::TimerFired { key }
            | Event::JobCompleted { key }
            | Event::JobFailed { key, .. }
            | Event::ElementCompleted { key, .. }
            | Event::ElementTerminated { key, .. }
            | Event::ConditionEvaluated { key, .. }
            | Event::ErrorThrown { key, .. }
            | Event::RaceStarted { gateway: key, .. }
            | Event::EscalationThrown { key, .. }
            | Event::ConditionMet { key }
            | Event::CallStarted { key, .. }
            | Event::CompensationStarted { key, .. }
            | Event::CallEnded { key, .. }
            | Event::AdHocProgressed { key, .. }
            | Event::IncidentRaised { key, .. } => Some(*key),
            _ => None,
        }
    }
}
