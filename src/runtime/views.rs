//! What the pages and the API read: tasks, instances, definitions and history,
//! already filtered by what the viewer may see, with names resolved from the
//! model and history written as sentences. Operations on tasks check here who
//! may do what: a task one may not see is "not found", one one may see but not
//! work on is "forbidden".

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Deployed, Outcome, Runtime, RuntimeError};
use crate::engine::{Command, Event, InstanceState, JobKind, Wait, waiting_items};
use crate::model::expr::short;
use crate::model::form::FormField;
use crate::model::{NodeKind, Process};
use crate::store::entity::{incident, process_definition, process_instance, user_task};
use crate::store::{HistoryEntry, InstanceQuery, TaskQuery, Total, Viewer};

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
}

/// A task with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDetail {
    pub task: TaskView,
    pub documentation: Option<String>,
    pub form: Vec<FormField>,
    pub candidate_users: Vec<String>,
    pub candidate_groups: Vec<String>,
    pub business_key: Option<String>,
    pub instance_status: String,
    /// Whether the viewer may complete it now.
    pub may_complete: bool,
    pub may_claim: bool,
    pub may_unclaim: bool,
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
}

/// One history row, as a sentence.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub seq: i64,
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

/// An instance with everything its page shows.
#[derive(Debug, Clone)]
pub struct InstanceDetail {
    pub instance: InstanceView,
    pub version: i32,
    pub deployed: Arc<Deployed>,
    pub state: InstanceState,
    pub variables: Map<String, Value>,
    pub tasks: Vec<TaskView>,
    pub incidents: Vec<IncidentView>,
    pub waiting: Vec<WaitView>,
    pub history: Vec<HistoryView>,
    /// Times each element completed.
    pub completions: HashMap<String, i64>,
    /// The instances its call activities started, oldest first.
    pub called: Vec<InstanceView>,
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
}

fn element_name(process: Option<&Process>, id: &str) -> String {
    process
        .and_then(|p| p.node(id))
        .map(|n| n.display_name().to_string())
        .unwrap_or_else(|| id.to_string())
}

fn task_view(t: user_task::Model, process_name: &str) -> TaskView {
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
    }
}

fn instance_view(i: &process_instance::Model, process_name: &str) -> InstanceView {
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
    }
}

fn describe_wait(w: &Wait) -> String {
    match w {
        Wait::UserTask { assignee: Some(a) } => format!("Waiting for {a} to complete the task"),
        Wait::UserTask { assignee: None } => "Waiting for someone to complete the task".into(),
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

/// The history row as a sentence.
fn describe(event: &Event, process: Option<&Process>) -> String {
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
        Event::VariablesSet { scope, values } => {
            let local = if *scope == 0 { "" } else { " (local)" };
            format!("Set {}{local}", describe_values(values))
        }
        Event::IncidentRaised { message, .. } => format!("Incident: {message}"),
        Event::IncidentResolved { .. } => "Incident resolved".into(),
        Event::InstanceCompleted => "Instance completed".into(),
        Event::InstanceTerminated { reason } => format!("Instance terminated: {reason}"),
    }
}

fn history_view(h: HistoryEntry, process: Option<&Process>) -> HistoryView {
    let kind = h.kind();
    let text = match &h.event {
        Some(e) => describe(e, process),
        None => kind.replace('_', " "),
    };
    HistoryView {
        seq: h.seq,
        at: h.at,
        element: h.element_id(),
        element_key: h.element_key(),
        kind,
        user: h.user_name,
        text,
        data: h.payload,
    }
}

fn incident_view(i: incident::Model, process: Option<&Process>) -> IncidentView {
    IncidentView {
        id: i.id,
        key: i.incident_key,
        element_name: element_name(process, &i.element_id),
        element: i.element_id,
        message: i.message,
        created_at: i.created_at,
    }
}

impl Runtime {
    /// The display name of each process key (from its latest version).
    async fn process_names(&self) -> Result<HashMap<String, String>, RuntimeError> {
        let mut names = HashMap::new();
        for d in self.store().definitions().await? {
            names
                .entry(d.key.clone())
                .or_insert_with(|| d.name.clone().unwrap_or_else(|| d.key.clone()));
        }
        Ok(names)
    }

    /// The viewer's inbox page and the number of matching tasks.
    pub async fn inbox(
        &self,
        viewer: &Viewer,
        q: &TaskQuery,
    ) -> Result<(Vec<TaskView>, Total), RuntimeError> {
        let (rows, total) = self.store().inbox(viewer, q).await?;
        let names = self.process_names().await?;
        let tasks = rows
            .into_iter()
            .map(|t| {
                let name = names
                    .get(&t.definition_key)
                    .cloned()
                    .unwrap_or_else(|| t.definition_key.clone());
                task_view(t, &name)
            })
            .collect();
        Ok((tasks, total))
    }

    /// Open tasks assigned to the viewer and claimable by them.
    pub async fn inbox_counts(&self, viewer: &Viewer) -> Result<(Total, Total), RuntimeError> {
        Ok(self.store().inbox_counts(viewer).await?)
    }

    /// A task and what the viewer may do with it; `None` when they may not see it.
    pub async fn task_detail(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<Option<TaskDetail>, RuntimeError> {
        let Some(t) = self.store().visible_task(viewer, id).await? else {
            return Ok(None);
        };
        let instance = self
            .store()
            .instance(t.instance_id)
            .await?
            .ok_or_else(|| RuntimeError::Corrupt(format!("task {id} has no instance")))?;
        let deployed = self.deployed(instance.definition_id).await?;
        let process = deployed.process();
        let node = process.node(&t.element_id);
        let form = match node.map(|n| &n.kind) {
            Some(NodeKind::UserTask(u)) => u.form.clone(),
            _ => Vec::new(),
        };
        let candidates = self.store().candidates(id).await?;
        let open = t.state == "open";
        let candidate = self.store().is_candidate(viewer, id).await?;
        let mine = t.assignee.as_deref() == Some(viewer.name.as_str());
        let free = t.assignee.is_none();
        Ok(Some(TaskDetail {
            documentation: node.and_then(|n| n.documentation.clone()),
            form,
            candidate_users: candidates
                .iter()
                .filter(|c| c.kind == "user")
                .map(|c| c.name.clone())
                .collect(),
            candidate_groups: candidates
                .iter()
                .filter(|c| c.kind == "group")
                .map(|c| c.name.clone())
                .collect(),
            business_key: instance.business_key.clone(),
            instance_status: instance_view(&instance, process.display_name()).status,
            may_complete: open && (viewer.admin || mine || (free && candidate)),
            may_claim: open && free && (candidate || viewer.admin),
            may_unclaim: open && !free && (mine || viewer.admin),
            task: task_view(t, process.display_name()),
        }))
    }

    async fn task_for_action(&self, viewer: &Viewer, id: Uuid) -> Result<TaskDetail, RuntimeError> {
        let detail = self
            .task_detail(viewer, id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("task {id}")))?;
        if detail.task.state != "open" {
            return Err(RuntimeError::Conflict(format!(
                "the task \"{}\" was already {}{}",
                detail.task.name,
                detail.task.state,
                detail
                    .task
                    .completed_by
                    .as_ref()
                    .map(|u| format!(" by {u}"))
                    .unwrap_or_default()
            )));
        }
        Ok(detail)
    }

    /// Completes a task as the viewer.
    pub async fn complete_task_as(
        &self,
        viewer: &Viewer,
        id: Uuid,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let d = self.task_for_action(viewer, id).await?;
        if !d.may_complete {
            return Err(RuntimeError::Forbidden(match &d.task.assignee {
                Some(a) => format!("the task is claimed by {a}"),
                None => "you are not a candidate for this task".into(),
            }));
        }
        self.complete_task(id, variables, Some(&viewer.name)).await
    }

    /// Claims a task for the viewer.
    pub async fn claim_task(&self, viewer: &Viewer, id: Uuid) -> Result<Outcome, RuntimeError> {
        let d = self.task_for_action(viewer, id).await?;
        if !d.may_claim {
            return Err(match &d.task.assignee {
                Some(a) if *a == viewer.name => {
                    RuntimeError::Conflict("you already hold this task".into())
                }
                Some(a) => RuntimeError::Conflict(format!("the task is already claimed by {a}")),
                None => RuntimeError::Forbidden("you are not a candidate for this task".into()),
            });
        }
        let key = self.task_key(id).await?;
        let user = viewer.name.clone();
        self.task_command(&d, Some(&viewer.name), move || Command::ClaimTask {
            key,
            user: user.clone(),
        })
        .await
    }

    /// Gives a task back to its candidates.
    pub async fn unclaim_task(&self, viewer: &Viewer, id: Uuid) -> Result<Outcome, RuntimeError> {
        let d = self.task_for_action(viewer, id).await?;
        if !d.may_unclaim {
            return Err(RuntimeError::Forbidden(
                "only the holder or an admin can release this task".into(),
            ));
        }
        let key = self.task_key(id).await?;
        self.task_command(&d, Some(&viewer.name), move || Command::UnclaimTask { key })
            .await
    }

    /// Hands a task to someone (admins only).
    pub async fn assign_task(
        &self,
        viewer: &Viewer,
        id: Uuid,
        assignee: Option<String>,
    ) -> Result<Outcome, RuntimeError> {
        let d = self.task_for_action(viewer, id).await?;
        if !viewer.admin {
            return Err(RuntimeError::Forbidden(
                "only admins can assign tasks".into(),
            ));
        }
        let key = self.task_key(id).await?;
        self.task_command(&d, Some(&viewer.name), move || Command::AssignTask {
            key,
            assignee: assignee.clone(),
        })
        .await
    }

    async fn task_key(&self, id: Uuid) -> Result<u64, RuntimeError> {
        Ok(self
            .store()
            .task(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("task {id}")))?
            .element_key as u64)
    }

    async fn task_command(
        &self,
        d: &TaskDetail,
        user: Option<&str>,
        make: impl Fn() -> Command,
    ) -> Result<Outcome, RuntimeError> {
        self.command(d.task.instance_id, user, None, |_, _| Ok(make()))
            .await
    }

    /// Instances the viewer may see.
    pub async fn instances(
        &self,
        viewer: &Viewer,
        q: &InstanceQuery,
    ) -> Result<(Vec<InstanceView>, Total), RuntimeError> {
        let (rows, total) = self.store().instances(viewer, q).await?;
        let names = self.process_names().await?;
        let list = rows
            .iter()
            .map(|i| {
                let name = names
                    .get(&i.definition_key)
                    .cloned()
                    .unwrap_or_else(|| i.definition_key.clone());
                instance_view(i, &name)
            })
            .collect();
        Ok((list, total))
    }

    /// An instance with its tasks, incidents, waits and history; `None` when
    /// the viewer may not see it.
    pub async fn instance_detail(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<Option<InstanceDetail>, RuntimeError> {
        let Some(row) = self.store().visible_instance(viewer, id).await? else {
            return Ok(None);
        };
        let deployed = self.deployed(row.definition_id).await?;
        let process = deployed.process();
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        let tasks = self
            .store()
            .tasks_of_instance(id)
            .await?
            .into_iter()
            .map(|t| task_view(t, process.display_name()))
            .collect();
        let incidents = self
            .store()
            .open_incidents(id)
            .await?
            .into_iter()
            .map(|i| incident_view(i, Some(process)))
            .collect();
        let waiting = waiting_items(process, &state)
            .into_iter()
            .map(|w| WaitView {
                name: element_name(Some(process), &w.element),
                element: w.element,
                kind: w.kind.to_string(),
                detail: w.detail,
            })
            .collect();
        let entries = self.store().history(id).await?;
        // How many times each element completed (the diagram shows it).
        let mut completions: HashMap<String, i64> = HashMap::new();
        for e in &entries {
            if let Some(Event::ElementCompleted { element, .. }) = &e.event {
                *completions.entry(element.clone()).or_default() += 1;
            }
        }
        let history = entries
            .into_iter()
            .map(|h| history_view(h, Some(process)))
            .collect();
        let mut called = Vec::new();
        for c in self.store().called_instances(id).await? {
            let name = self
                .deployed(c.definition_id)
                .await
                .map(|d| d.process().display_name().to_string())
                .unwrap_or_else(|_| c.definition_key.clone());
            called.push(instance_view(&c, &name));
        }
        Ok(Some(InstanceDetail {
            instance: instance_view(&row, process.display_name()),
            version: deployed.definition.version,
            variables: state.root_variables(),
            deployed,
            state,
            tasks,
            incidents,
            waiting,
            history,
            completions,
            called,
        }))
    }

    /// The definitions overview.
    pub async fn definition_rows(&self) -> Result<Vec<DefinitionRow>, RuntimeError> {
        let stats = self.store().definition_stats().await?;
        let running: HashMap<String, i64> =
            self.store().running_per_key().await?.into_iter().collect();
        let latest: HashMap<String, process_definition::Model> = {
            let mut m = HashMap::new();
            for d in self.store().definitions().await? {
                m.entry(d.key.clone()).or_insert(d);
            }
            m
        };
        Ok(stats
            .into_iter()
            .filter_map(|s| {
                let l = latest.get(&s.key)?;
                Some(DefinitionRow {
                    name: l.name.clone().unwrap_or_else(|| s.key.clone()),
                    latest_id: l.id,
                    latest_version: s.latest_version,
                    versions: s.versions,
                    running: running.get(&s.key).copied().unwrap_or(0),
                    key: s.key,
                })
            })
            .collect())
    }

    /// Every version of a process key, newest first.
    pub async fn versions(&self, key: &str) -> Result<Vec<VersionView>, RuntimeError> {
        Ok(self
            .store()
            .versions(key)
            .await?
            .into_iter()
            .map(|(d, dep)| VersionView {
                id: d.id,
                version: d.version,
                deployed_at: dep.as_ref().map(|x| x.deployed_at).unwrap_or(d.created_at),
                deployed_by: dep.as_ref().and_then(|x| x.deployed_by.clone()),
                file: dep.map(|x| x.name).unwrap_or_default(),
            })
            .collect())
    }

    /// Cancels an instance (admins only).
    pub async fn cancel_as(&self, viewer: &Viewer, id: Uuid) -> Result<Outcome, RuntimeError> {
        self.admin_only(viewer, id).await?;
        self.cancel(
            id,
            &format!("cancelled by {}", viewer.name),
            Some(&viewer.name),
        )
        .await
    }

    /// Triggers an element waiting for a trigger (admins on the pages; through
    /// the API, whoever may see the instance, as with messages).
    pub async fn trigger_as(
        &self,
        viewer: &Viewer,
        id: Uuid,
        element: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        if self.store().visible_instance(viewer, id).await?.is_none() {
            return Err(RuntimeError::NotFound(format!("instance {id}")));
        }
        self.trigger(id, element, variables, Some(&viewer.name))
            .await
    }

    /// Retries an incident (admins only).
    pub async fn retry_as(
        &self,
        viewer: &Viewer,
        id: Uuid,
        incident: u64,
    ) -> Result<Outcome, RuntimeError> {
        self.admin_only(viewer, id).await?;
        self.retry_incident(id, incident, Some(&viewer.name)).await
    }

    async fn admin_only(&self, viewer: &Viewer, id: Uuid) -> Result<(), RuntimeError> {
        if self.store().visible_instance(viewer, id).await?.is_none() {
            return Err(RuntimeError::NotFound(format!("instance {id}")));
        }
        if !viewer.admin {
            return Err(RuntimeError::Forbidden("only admins can do this".into()));
        }
        Ok(())
    }
}
