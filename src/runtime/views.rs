//! The runtime's own view types: what pages, the API and the command line
//! read — tasks, instances, definitions and history, with names resolved
//! from the model and history written as sentences — and the filters they
//! ask with. Database rows never leave the runtime; they are turned into
//! these here.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Deployed;
use crate::engine::{Event, InstanceState, JobKind, Wait};
use crate::model::Process;
use crate::model::expr::short;
use crate::model::form::FormField;
use crate::store::entity::{incident, process_definition, process_instance, user_task};
use crate::store::{self, HistoryEntry};

pub use super::accounts::TokenInfo;
pub use super::decisions::{DecisionRow, DecisionVersion, DeployedDecision};

/// How many rows a list has, counted up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    /// There are more than `count`.
    pub more: bool,
}

impl From<store::Total> for Total {
    fn from(t: store::Total) -> Total {
        Total {
            count: t.count,
            more: t.more,
        }
    }
}

/// How to sort the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskOrder {
    /// Newest first.
    #[default]
    Created,
    /// Soonest due first (tasks without a due date last).
    Due,
    /// Highest priority first.
    Priority,
}

/// Which tasks of the inbox.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks of this process key.
    pub process: Option<String>,
    /// Only tasks of this instance.
    pub instance: Option<Uuid>,
    /// Assigned to the principal (`Some(true)`), claimable by them (`Some(false)`), or both.
    pub assigned: Option<bool>,
    pub order: TaskOrder,
    pub offset: u64,
    pub limit: u64,
}

impl TaskFilter {
    pub(crate) fn query(&self) -> store::TaskQuery {
        store::TaskQuery {
            process: self.process.clone(),
            instance: self.instance,
            assigned: self.assigned,
            order: match self.order {
                TaskOrder::Created => store::TaskOrder::Created,
                TaskOrder::Due => store::TaskOrder::Due,
                TaskOrder::Priority => store::TaskOrder::Priority,
            },
            offset: self.offset,
            limit: self.limit,
        }
    }
}

/// Which instances.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    pub definition: Option<String>,
    /// `active`, `completed`, `terminated` or `incident`.
    pub state: Option<String>,
    pub started_by: Option<String>,
    pub business_key: Option<String>,
    pub started_from: Option<DateTime<Utc>>,
    pub started_to: Option<DateTime<Utc>>,
    /// Every `(name, value)` must match a variable of the instance.
    pub variables: Vec<(String, String)>,
    pub offset: u64,
    pub limit: u64,
}

impl InstanceFilter {
    pub(crate) fn query(&self) -> store::InstanceQuery {
        store::InstanceQuery {
            definition: self.definition.clone(),
            state: self.state.clone(),
            started_by: self.started_by.clone(),
            business_key: self.business_key.clone(),
            started_from: self.started_from,
            started_to: self.started_to,
            variables: self.variables.clone(),
            offset: self.offset,
            limit: self.limit,
            ..Default::default()
        }
    }
}

/// One version of one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub id: i64,
    pub deployment_id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    /// The main process of its file.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<process_definition::Model> for Definition {
    fn from(d: process_definition::Model) -> Definition {
        Definition {
            id: d.id,
            deployment_id: d.deployment_id,
            key: d.key,
            version: d.version,
            name: d.name,
            is_default: d.is_default,
            created_at: d.created_at,
        }
    }
}

/// A task in a list.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_id: String,
    pub name: String,
    pub definition_key: String,
    pub process_name: String,
    pub assignee: Option<String>,
    pub priority: i64,
    pub due: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    /// `open`, `completed` or `cancelled`.
    pub state: String,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Its instance is suspended: it cannot be completed until resumed.
    pub suspended: bool,
}

/// A task with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDetail {
    pub task: TaskView,
    pub documentation: Option<String>,
    pub form: Vec<FormField>,
    /// The Camunda Form the task is completed through, if it links one.
    #[serde(skip)]
    pub camunda_form: Option<std::sync::Arc<crate::model::camunda_form::FormDoc>>,
    /// What that form shows and its conditions see: the variables visible
    /// from the task (empty without a Camunda Form).
    #[serde(skip)]
    pub form_data: serde_json::Map<String, serde_json::Value>,
    pub candidate_users: Vec<String>,
    pub candidate_groups: Vec<String>,
    pub business_key: Option<String>,
    pub instance_status: String,
    /// Whether the viewer may complete it now.
    pub may_complete: bool,
    pub may_claim: bool,
    pub may_unclaim: bool,
    /// For a completed task whose instance the viewer may see: what was
    /// submitted (name, value as shown).
    pub submitted: Vec<(String, String)>,
}

/// An instance in a list.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceView {
    pub id: Uuid,
    pub definition_id: i64,
    pub definition_key: String,
    pub process_name: String,
    /// `active`, `completed`, `terminated` or `incident`.
    pub status: String,
    pub business_key: Option<String>,
    pub started_by: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The instance whose call activity started this one.
    pub parent_id: Option<Uuid>,
    /// Suspended by an operator: nothing in it moves until it is resumed.
    pub suspended: bool,
}

/// One history row, as a sentence.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub seq: i64,
    /// The number of the first event of the command it came from.
    pub command_seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub element: Option<String>,
    pub element_key: Option<i64>,
    pub user: Option<String>,
    pub text: String,
    /// The event as stored (the API shows it).
    #[serde(skip)]
    pub data: Value,
}

/// An open incident.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: Uuid,
    pub key: i64,
    pub element: String,
    pub element_name: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Something the instance waits for.
#[derive(Debug, Clone, Serialize)]
pub struct WaitView {
    pub element: String,
    pub name: String,
    pub kind: String,
    pub detail: Option<String>,
}

/// An element instance that is active now.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveElement {
    pub element: String,
    /// It is stopped by an incident.
    pub incident: bool,
}

/// What the principal may do with an instance (the pages show these buttons).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct InstancePermissions {
    pub cancel: bool,
    pub retry: bool,
    pub trigger: bool,
    pub set_variables: bool,
    pub suspend: bool,
    pub modify: bool,
    pub migrate: bool,
}

/// An instance as it is now, without its history: what the API's instance
/// resource shows.
#[derive(Debug, Clone)]
pub struct InstanceSummary {
    pub instance: InstanceView,
    pub version: i32,
    pub deployed: Arc<Deployed>,
    pub variables: Map<String, Value>,
    pub tasks: Vec<TaskView>,
    pub incidents: Vec<IncidentView>,
    pub waiting: Vec<WaitView>,
    /// The instances its call activities started, oldest first.
    pub called: Vec<InstanceView>,
}

/// An instance with everything its page shows.
#[derive(Debug, Clone)]
pub struct InstanceDetail {
    pub instance: InstanceView,
    pub version: i32,
    pub deployed: Arc<Deployed>,
    /// The call activity of the calling instance that started this one.
    pub called_by: Option<String>,
    /// The element instances active now.
    pub active: Vec<ActiveElement>,
    /// Gateways waiting for more branches to join.
    pub joining: Vec<String>,
    pub variables: Map<String, Value>,
    pub tasks: Vec<TaskView>,
    /// The tasks among `tasks` whose page the viewer may open.
    pub openable_tasks: HashSet<Uuid>,
    pub incidents: Vec<IncidentView>,
    pub waiting: Vec<WaitView>,
    pub history: Vec<HistoryView>,
    /// The history, one entry per command, oldest first.
    pub story: Vec<super::story::StoryEntry>,
    /// Times each element completed.
    pub completions: HashMap<String, i64>,
    /// The instances its call activities started, oldest first.
    pub called: Vec<InstanceView>,
    pub may: InstancePermissions,
}

/// An instance as it stood right after one history entry (replayed from
/// its stored events).
#[derive(Debug, Clone)]
pub struct PastView {
    /// The entry shown.
    pub entry: super::story::StoryEntry,
    /// The entries before and after it (their first sequence numbers).
    pub previous: Option<i64>,
    pub next: Option<i64>,
    /// Every entry's first sequence number, oldest first (for a slider).
    pub entries: Vec<i64>,
    /// The position of the shown entry in `entries`.
    pub position: usize,
    /// `active`, `completed`, `terminated` or `incident` at that point.
    pub status: String,
    pub active: Vec<ActiveElement>,
    pub joining: Vec<String>,
    pub variables: Map<String, Value>,
    /// Times each element had completed.
    pub completions: HashMap<String, i64>,
    /// The sequence flows taken so far.
    pub taken: Vec<String>,
}

impl InstanceDetail {
    /// Whether the viewer may open this task's page.
    pub fn may_open(&self, task: &TaskView) -> bool {
        self.openable_tasks.contains(&task.id)
    }
}

/// A process key in the definitions overview.
#[derive(Debug, Clone, Serialize)]
pub struct DefinitionRow {
    pub key: String,
    pub name: String,
    pub latest_id: i64,
    pub latest_version: i32,
    pub versions: i64,
    pub running: i64,
}

/// One version of a process.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub id: i64,
    pub version: i32,
    pub deployed_at: DateTime<Utc>,
    pub deployed_by: Option<String>,
    pub file: String,
    /// No instance starts from it until it is resumed.
    pub suspended: bool,
}

pub(crate) fn element_name(process: Option<&Process>, id: &str) -> String {
    process
        .and_then(|p| p.node(id))
        .map(|n| n.display_name().to_string())
        .unwrap_or_else(|| id.to_string())
}

pub(crate) fn task_view(t: user_task::Model, process_name: &str) -> TaskView {
    TaskView {
        id: t.id,
        instance_id: t.instance_id,
        name: t.name.unwrap_or_else(|| t.element_id.clone()),
        element_id: t.element_id,
        definition_key: t.definition_key,
        process_name: process_name.to_string(),
        assignee: t.assignee,
        priority: t.priority,
        due: t.due_at,
        created: t.created_at,
        state: t.state,
        completed_by: t.completed_by,
        completed_at: t.completed_at,
        suspended: t.suspended,
    }
}

pub(crate) fn instance_view(i: &process_instance::Model, process_name: &str) -> InstanceView {
    InstanceView {
        id: i.id,
        definition_id: i.definition_id,
        definition_key: i.definition_key.clone(),
        process_name: process_name.to_string(),
        status: if i.status == "active" && i.has_incident {
            "incident".into()
        } else {
            i.status.clone()
        },
        business_key: i.business_key.clone(),
        started_by: i.started_by.clone(),
        started_at: i.started_at,
        ended_at: i.ended_at,
        parent_id: i.parent_id,
        suspended: i.suspended,
    }
}

fn describe_wait(w: &Wait) -> String {
    match w {
        Wait::UserTask {
            assignee: Some(a), ..
        } => format!("Waiting for {a} to complete the task"),
        Wait::UserTask { assignee: None, .. } => "Waiting for someone to complete the task".into(),
        Wait::Message { name } => format!("Waiting for message \"{name}\""),
        Wait::Signal { name } => format!("Waiting for signal \"{name}\""),
        Wait::Condition { .. } => "Waiting for its condition to hold".into(),
        Wait::Job {
            job: JobKind::Timer,
            due: Some(d),
        } => format!("Waiting until {d}"),
        Wait::Job {
            job: JobKind::External { topic },
            ..
        } => format!("Waiting for a worker on topic \"{topic}\""),
        Wait::Job { job, .. } => format!("Waiting for the {} job", job.name()),
        Wait::Children => "Running its inner steps".into(),
        Wait::Called { instance } => format!("Waiting for the called instance {instance}"),
        Wait::Compensating { .. } => "Waiting for compensation handlers".into(),
        Wait::Trigger => "Waiting to be triggered".into(),
    }
}

fn describe_values(values: &Map<String, Value>) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k} = {}", short(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_reason(text: &str, reason: &Option<String>) -> String {
    match reason {
        Some(r) => format!("{text} ({r})"),
        None => text.to_string(),
    }
}

/// The history row as a sentence.
pub(crate) fn describe(event: &Event, process: Option<&Process>) -> String {
    let named = |id: &str| {
        let kind = process
            .and_then(|p| p.node(id))
            .map(|n| n.kind_name())
            .unwrap_or_default();
        format!("{kind} \"{}\"", element_name(process, id))
            .trim()
            .to_string()
    };
    match event {
        Event::InstanceStarted { .. } => "Instance started".into(),
        Event::ElementActivated { element, .. } => format!("Entered {}", named(element)),
        Event::WaitStarted { wait, .. } => describe_wait(wait),
        Event::TaskAssigned {
            assignee: Some(a), ..
        } => format!("Task assigned to {a}"),
        Event::TaskAssigned { assignee: None, .. } => "Task released".into(),
        Event::TaskCompleted { .. } => "Task completed".into(),
        Event::MessageReceived { name, .. } => format!("Message \"{name}\" received"),
        Event::Triggered { .. } => "Triggered".into(),
        Event::TimerFired { .. } => "Timer fired".into(),
        Event::ConditionMet { .. } => "Condition met".into(),
        Event::EscalationThrown { code, .. } => match code {
            Some(c) => format!("Escalation \"{c}\" raised"),
            None => "Escalation raised".into(),
        },
        Event::RaceStarted { keys, .. } => {
            format!("Waiting for the first of {} events", keys.len())
        }
        Event::ErrorThrown { code, message, .. } => {
            let mut text = match code {
                Some(c) => format!("Error \"{c}\" thrown"),
                None => "Error thrown".into(),
            };
            if let Some(m) = message {
                text.push_str(&format!(": {m}"));
            }
            text
        }
        Event::JobCompleted { .. } => "Job done".into(),
        Event::CallStarted { instance, .. } => format!("Called instance {instance} started"),
        Event::CallEnded { instance, .. } => format!("Called instance {instance} ended"),
        Event::CompensationRecorded { element, .. } => {
            format!("{} can be compensated", named(element))
        }
        Event::CompensationStarted { .. } => "Compensating".into(),
        Event::JobFailed { message, .. } => format!("Job failed: {message}"),
        Event::ElementCompleted { element, .. } => format!("Completed {}", named(element)),
        Event::ElementTerminated { element, .. } => format!("Cancelled {}", named(element)),
        Event::FlowTaken { flow, default, .. } => {
            let name = process
                .and_then(|p| p.flow_index(flow).map(|i| &p.flows[i]))
                .and_then(|f| f.name.clone())
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default();
            format!(
                "Took flow {flow}{name}{}",
                if *default { " (default)" } else { "" }
            )
        }
        Event::ConditionEvaluated {
            expression, result, ..
        } => format!("Condition {expression} is {result}"),
        Event::JoinFired { gateway, flows, .. } => {
            format!("Joined {} branches at {}", flows.len(), named(gateway))
        }
        Event::ComplexGatewayFired { gateway, flows, .. } => {
            format!("Activated {} on {} branch(es)", named(gateway), flows.len())
        }
        Event::ComplexGatewayReset { gateway, flows, .. } => format!(
            "Reset {} after {} more branch(es)",
            named(gateway),
            flows.len()
        ),
        Event::AdHocProgressed {
            pending, closing, ..
        } => {
            if *closing {
                "Completion condition holds: nothing more starts".into()
            } else {
                format!("{} enabled element(s) still to start", pending.len())
            }
        }
        Event::VariablesSet { scope, values } => {
            let local = if *scope == 0 { "" } else { " (local)" };
            format!("Set {}{local}", describe_values(values))
        }
        Event::VariablesRemoved { names, .. } => format!("Removed {}", names.join(", ")),
        Event::IncidentRaised { message, .. } => format!("Incident: {message}"),
        Event::IncidentResolved { .. } => "Incident resolved".into(),
        Event::InstanceCompleted => "Instance completed".into(),
        Event::InstanceTerminated { reason } => format!("Instance terminated: {reason}"),
        Event::InstanceSuspended { reason } => with_reason("Instance suspended", reason),
        Event::InstanceResumed { reason } => with_reason("Instance resumed", reason),
        Event::InstanceModified {
            instructions,
            reason,
        } => {
            let steps: Vec<String> = instructions
                .iter()
                .map(|i| match i {
                    crate::engine::Instruction::Cancel(e) => format!("cancel {}", named(e)),
                    crate::engine::Instruction::StartBefore(e) => {
                        format!("start before {}", named(e))
                    }
                    crate::engine::Instruction::StartAfter(e) => {
                        format!("start after {}", named(e))
                    }
                })
                .collect();
            with_reason(&format!("Instance modified: {}", steps.join(", ")), reason)
        }
        Event::InstanceMigrated {
            process,
            from_version,
            to_version,
            renamed,
        } => {
            let mut text = format!(
                "Instance migrated from version {from_version} to {to_version} of \"{process}\""
            );
            if !renamed.is_empty() {
                let moves: Vec<String> = renamed
                    .iter()
                    .map(|(a, b)| format!("\"{a}\" became \"{b}\""))
                    .collect();
                text.push_str(&format!(" ({})", moves.join(", ")));
            }
            text
        }
    }
}

pub(crate) fn history_view(h: HistoryEntry, process: Option<&Process>) -> HistoryView {
    let kind = h.kind();
    let text = match &h.event {
        Some(e) => describe(e, process),
        None => kind.replace('_', " "),
    };
    HistoryView {
        seq: h.seq,
        command_seq: h.command_seq,
        at: h.at,
        element: h.element_id(),
        element_key: h.element_key(),
        kind,
        user: h.user_name,
        text,
        data: h.payload,
    }
}

pub(crate) fn incident_view(i: incident::Model, process: Option<&Process>) -> IncidentView {
    IncidentView {
        id: i.id,
        key: i.incident_key,
        element_name: element_name(process, &i.element_id),
        element: i.element_id,
        message: i.message,
        created_at: i.created_at,
    }
}

/// Where an instance stands, for its page's diagram.
pub(crate) fn active_elements(state: &InstanceState) -> (Vec<ActiveElement>, Vec<String>) {
    let active = state
        .elements
        .values()
        .map(|e| ActiveElement {
            element: e.element.clone(),
            incident: e.incident.is_some(),
        })
        .collect();
    let joining = state.joins.iter().map(|j| j.gateway.clone()).collect();
    (active, joining)
}
