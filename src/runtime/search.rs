//! Searches with many filters and exact counts, for Camunda's REST surface:
//! tasks (open ones, and all of them as history), incidents, instances as
//! history, an instance's activity instances, and a task's variables and form.
//!
//! Each search filters by the policy: open tasks as the inbox does (held by
//! the principal or with them as a candidate; admins see all), everything
//! historic as instances are seen (instances they started or worked on).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::policy::{Action, Principal};
use super::tasks::{Tasks, task_form};
use super::views::InstanceView;
use super::{Deployed, Instances, Runtime, RuntimeError, require, viewer};
use crate::engine::Event;
use crate::model::NodeKind;
use crate::model::form::FormField;
use crate::store::entity::{incident, process_instance, user_task};

pub use crate::store::{
    IncidentSearch, IncidentSort, InstanceSearch, InstanceSort, TaskScope, TaskSearch, TaskSort,
};

/// A task with what Camunda's task shape needs besides the task itself.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_id: String,
    /// The element instance (Camunda's execution and activity instance).
    pub element_key: i64,
    pub name: Option<String>,
    pub assignee: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub state: String,
    pub priority: i64,
    pub due: Option<DateTime<Utc>>,
    pub follow_up: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub definition_id: i64,
    pub definition_key: String,
    pub business_key: Option<String>,
    pub description: Option<String>,
    pub form_key: Option<String>,
    /// Whether its instance is suspended.
    pub suspended: bool,
}

/// An incident with its process and what kind of work failed.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub definition_id: i64,
    pub definition_key: String,
    pub element_id: String,
    pub element_key: i64,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The failed work was an external task (`camunda:type="external"`).
    pub external: bool,
}

/// How an instance ended, in Camunda's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoricState {
    Active,
    Completed,
    /// Cancelled by someone.
    ExternallyTerminated,
    /// Ended by the engine (a BPMN error that went to a caller).
    InternallyTerminated,
}

/// An instance as history.
#[derive(Debug, Clone)]
pub struct HistoricInstance {
    pub instance: InstanceView,
    pub definition_version: i32,
    pub definition_name: Option<String>,
    pub state: HistoricState,
    /// Why it was terminated, when it was.
    pub reason: Option<String>,
}

/// One run of one element of an instance.
#[derive(Debug, Clone)]
pub struct ActivityRecord {
    pub key: i64,
    pub element_id: String,
    pub element_name: Option<String>,
    /// Camunda's activity type (`userTask`, `startEvent`, `noneEndEvent`...).
    pub activity_type: String,
    /// The element instance it runs in (0 is the instance itself).
    pub scope_key: i64,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub canceled: bool,
    pub assignee: Option<String>,
    pub task_id: Option<Uuid>,
    pub called_instance: Option<Uuid>,
}

/// Camunda's name for the kind of an element.
pub fn activity_type(node: &crate::model::Node) -> String {
    match &node.kind {
        NodeKind::EndEvent { terminate: true } => "terminateEndEvent".into(),
        NodeKind::EndEvent { terminate: false } => "noneEndEvent".into(),
        NodeKind::ErrorEnd(_) if node.tag == "endEvent" => "errorEndEvent".into(),
        NodeKind::BusinessRule(_) => "businessRuleTask".into(),
        NodeKind::IntermediateThrow => "intermediateNoneThrowEvent".into(),
        NodeKind::EventGateway => "eventBasedGateway".into(),
        _ => node.tag.to_string(),
    }
}

impl Runtime {
    async fn instance_rows(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, process_instance::Model>, RuntimeError> {
        let mut out = HashMap::new();
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(row) = self.store().instance(id).await? {
                out.insert(id, row);
            }
        }
        Ok(out)
    }

    fn task_record(
        &self,
        t: user_task::Model,
        instance: Option<&process_instance::Model>,
        deployed: Option<&Deployed>,
    ) -> TaskRecord {
        let node = deployed.and_then(|d| d.process().node(&t.element_id));
        let form_key = match node.map(|n| &n.kind) {
            Some(NodeKind::UserTask(u)) => u.form_key.clone(),
            _ => None,
        };
        TaskRecord {
            id: t.id,
            instance_id: t.instance_id,
            element_key: t.element_key,
            name: t.name,
            assignee: t.assignee,
            state: t.state,
            priority: t.priority,
            due: t.due_at,
            follow_up: t.follow_up_at,
            created: t.created_at,
            completed_at: t.completed_at,
            completed_by: t.completed_by,
            definition_id: instance.map(|i| i.definition_id).unwrap_or_default(),
            definition_key: t.definition_key,
            business_key: instance.and_then(|i| i.business_key.clone()),
            description: node.and_then(|n| n.documentation.clone()),
            form_key,
            suspended: t.suspended,
            element_id: t.element_id,
        }
    }

    async fn task_records(
        &self,
        rows: Vec<user_task::Model>,
    ) -> Result<Vec<TaskRecord>, RuntimeError> {
        let instances = self
            .instance_rows(rows.iter().map(|t| t.instance_id))
            .await?;
        let mut deployed: HashMap<i64, Arc<Deployed>> = HashMap::new();
        for i in instances.values() {
            if let std::collections::hash_map::Entry::Vacant(e) = deployed.entry(i.definition_id) {
                e.insert(self.deployed(i.definition_id).await?);
            }
        }
        Ok(rows
            .into_iter()
            .map(|t| {
                let i = instances.get(&t.instance_id);
                let d = i.and_then(|i| deployed.get(&i.definition_id));
                self.task_record(t, i, d.map(|d| d.as_ref()))
            })
            .collect())
    }

    /// How a terminated instance ended, from its last history event.
    async fn historic_state(
        &self,
        row: &process_instance::Model,
    ) -> Result<(HistoricState, Option<String>), RuntimeError> {
        Ok(match row.status.as_str() {
            "active" => (HistoricState::Active, None),
            "completed" => (HistoricState::Completed, None),
            _ => {
                let reason = self
                    .store()
                    .history(row.id)
                    .await?
                    .into_iter()
                    .rev()
                    .find_map(|h| match h.event {
                        Some(Event::InstanceTerminated { reason }) => Some(reason),
                        _ => None,
                    });
                // A terminate end event ends the instance as Camunda
                // completes it; a BPMN error handed to the caller ends it
                // from inside; anything else is a cancellation.
                let state = match reason.as_deref() {
                    Some(r) if r.starts_with("terminate end event") => HistoricState::Completed,
                    Some(r) if r.contains("BPMN error") => HistoricState::InternallyTerminated,
                    _ => HistoricState::ExternallyTerminated,
                };
                (state, reason)
            }
        })
    }

    async fn historic(
        &self,
        row: process_instance::Model,
    ) -> Result<HistoricInstance, RuntimeError> {
        let deployed = self.deployed(row.definition_id).await?;
        let (state, reason) = self.historic_state(&row).await?;
        Ok(HistoricInstance {
            instance: super::views::instance_view(&row, deployed.process().display_name()),
            definition_version: deployed.definition.version,
            definition_name: deployed.process().name.clone(),
            state,
            reason,
        })
    }
}

impl Tasks<'_> {
    /// Tasks matching a search, and how many match, as the principal may see them.
    pub async fn search(
        &self,
        who: &Principal,
        q: &TaskSearch,
    ) -> Result<(Vec<TaskRecord>, u64), RuntimeError> {
        let action = match q.scope {
            TaskScope::Inbox => Action::ViewTask,
            TaskScope::History => Action::ViewInstance,
        };
        require_some(who, action)?;
        let (rows, total) = self.rt.store().search_tasks(&viewer(who), q).await?;
        Ok((self.rt.task_records(rows).await?, total))
    }

    /// One task as [`Tasks::search`] shows it; not found when the principal may not see it.
    pub async fn record(&self, who: &Principal, id: Uuid) -> Result<TaskRecord, RuntimeError> {
        let detail = self.show(who, id).await?;
        let row = self
            .rt
            .store()
            .task(detail.task.id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("task {id}")))?;
        let mut records = self.rt.task_records(vec![row]).await?;
        records
            .pop()
            .ok_or_else(|| RuntimeError::NotFound(format!("task {id}")))
    }

    /// The variables an open task sees (its instance's), if the principal may see the task.
    pub async fn variables(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Map<String, Value>, RuntimeError> {
        let detail = self.show(who, id).await?;
        if detail.task.state != "open" {
            return Err(RuntimeError::NotFound(format!("task {id}")));
        }
        let (_, state) = self.rt.instance_row(detail.task.instance_id).await?;
        Ok(state.root_variables())
    }

    /// An open task's form fields (`camunda:formData`) and the variables they show.
    pub async fn form(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(Vec<FormField>, Map<String, Value>), RuntimeError> {
        let detail = self.show(who, id).await?;
        if detail.task.state != "open" {
            return Err(RuntimeError::NotFound(format!("task {id}")));
        }
        let (row, state) = self.rt.instance_row(detail.task.instance_id).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        let form = task_form(
            deployed
                .process()
                .node(&detail.task.element_id)
                .map(|n| &n.kind),
        );
        Ok((form, state.root_variables()))
    }
}

/// Refuses a principal who may never do `action` (e.g. anonymous).
fn require_some(who: &Principal, action: Action) -> Result<(), RuntimeError> {
    if super::policy::may_ever(who.kind(), action) {
        Ok(())
    } else {
        require(who, action)
    }
}

impl Instances<'_> {
    /// Incidents, open or resolved, of instances the principal may see.
    pub async fn incidents(
        &self,
        who: &Principal,
        q: &IncidentSearch,
    ) -> Result<(Vec<IncidentRecord>, u64), RuntimeError> {
        require_some(who, Action::ViewInstance)?;
        let (rows, total) = self.rt.store().search_incidents(&viewer(who), q).await?;
        let instances = self
            .rt
            .instance_rows(rows.iter().map(|i| i.instance_id))
            .await?;
        let mut out = Vec::new();
        for i in rows {
            let Some(row) = instances.get(&i.instance_id) else {
                continue;
            };
            let deployed = self.rt.deployed(row.definition_id).await?;
            out.push(incident_record(i, row, &deployed));
        }
        Ok((out, total))
    }

    /// Instances as history, and how many match.
    pub async fn historic(
        &self,
        who: &Principal,
        q: &InstanceSearch,
    ) -> Result<(Vec<HistoricInstance>, u64), RuntimeError> {
        require_some(who, Action::ViewInstance)?;
        let (rows, total) = self.rt.store().search_instances(&viewer(who), q).await?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.rt.historic(row).await?);
        }
        Ok((out, total))
    }

    /// One instance as history; not found when the principal may not see it.
    pub async fn historic_one(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<HistoricInstance, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        self.rt.historic(row).await
    }

    /// Every run of every element of an instance, in the order they started.
    pub async fn activities(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<ActivityRecord>, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        let process = deployed.process();
        let tasks = self.rt.store().tasks_of_instance(id).await?;
        let mut out: Vec<ActivityRecord> = Vec::new();
        let mut open: HashMap<i64, usize> = HashMap::new();
        for h in self.rt.store().history(id).await? {
            let Some(event) = h.event else { continue };
            match event {
                Event::ElementActivated {
                    key,
                    element,
                    scope,
                    ..
                } => {
                    let node = process.node(&element);
                    let task = tasks.iter().find(|t| t.element_key == key as i64);
                    open.insert(key as i64, out.len());
                    out.push(ActivityRecord {
                        key: key as i64,
                        element_name: node.and_then(|n| n.name.clone()),
                        activity_type: node.map(activity_type).unwrap_or_default(),
                        element_id: element,
                        scope_key: scope as i64,
                        started: h.at,
                        ended: None,
                        canceled: false,
                        assignee: task.and_then(|t| t.assignee.clone().or(t.completed_by.clone())),
                        task_id: task.map(|t| t.id),
                        called_instance: None,
                    });
                }
                Event::CallStarted { key, instance } => {
                    if let Some(i) = open.get(&(key as i64)) {
                        out[*i].called_instance = Uuid::parse_str(&instance).ok();
                    }
                }
                Event::ElementCompleted { key, .. } => {
                    if let Some(i) = open.remove(&(key as i64)) {
                        out[i].ended = Some(h.at);
                    }
                }
                Event::ElementTerminated { key, .. } => {
                    if let Some(i) = open.remove(&(key as i64)) {
                        out[i].ended = Some(h.at);
                        out[i].canceled = true;
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

fn incident_record(
    i: incident::Model,
    row: &process_instance::Model,
    deployed: &Deployed,
) -> IncidentRecord {
    let external = matches!(
        deployed.process().node(&i.element_id).map(|n| &n.kind),
        Some(NodeKind::ServiceTask(s)) if matches!(**s, crate::model::ServiceTask::External { .. })
    );
    IncidentRecord {
        id: i.id,
        instance_id: i.instance_id,
        definition_id: row.definition_id,
        definition_key: row.definition_key.clone(),
        element_id: i.element_id,
        element_key: i.element_key,
        message: i.message,
        created_at: i.created_at,
        resolved_at: i.resolved_at,
        external,
    }
}

impl super::Deployments<'_> {
    /// A decision version by its id.
    pub async fn decision_by_id(
        &self,
        who: &Principal,
        id: i64,
    ) -> Result<Arc<super::DeployedDecision>, RuntimeError> {
        require(who, Action::ViewDecisions)?;
        self.rt.decision(id).await
    }

    /// Evaluates one version of a decision, chosen by its id.
    pub async fn evaluate_id(
        &self,
        who: &Principal,
        id: i64,
        variables: &Map<String, Value>,
    ) -> Result<(Arc<super::DeployedDecision>, crate::dmn::DecisionResult), RuntimeError> {
        require(who, Action::EvaluateDecision)?;
        let d = self.rt.decision(id).await?;
        let (decision, key, variables) = (d.clone(), d.definition.key.clone(), variables.clone());
        let now = self.rt.clock().now();
        let result = self
            .rt
            .budgeted(move || decision.dmn.evaluate_at(&key, &variables, Some(now)))
            .await?
            .map_err(|e| RuntimeError::Rejected(e.to_string()))?;
        Ok((d, result))
    }
}

/// A variable of an instance as history: its value now, and when it was
/// first set.
#[derive(Debug, Clone)]
pub struct VariableRecord {
    pub name: String,
    pub value: Value,
    pub created: DateTime<Utc>,
    pub definition_id: i64,
    pub definition_key: String,
}

impl Instances<'_> {
    /// An instance's variables (its own scope), each with when the history
    /// first shows it set (the instance's start when it came with the start).
    pub async fn variable_history(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<VariableRecord>, RuntimeError> {
        self.rt.visible_row(who, id).await?;
        let (row, state) = self.rt.instance_row(id).await?;
        let mut first: HashMap<String, DateTime<Utc>> = HashMap::new();
        for h in self.rt.store().history(id).await? {
            if let Some(Event::VariablesSet { scope: 0, values }) = &h.event {
                for name in values.keys() {
                    first.entry(name.clone()).or_insert(h.at);
                }
            }
        }
        Ok(state
            .root_variables()
            .into_iter()
            .map(|(name, value)| VariableRecord {
                created: first.get(&name).copied().unwrap_or(row.started_at),
                name,
                value,
                definition_id: row.definition_id,
                definition_key: row.definition_key.clone(),
            })
            .collect())
    }
}
