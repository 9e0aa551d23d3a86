//! User tasks: the inbox, a task's page, and claiming, releasing, assigning
//! and completing tasks.
//!
//! Every action is one instance command whose policy check reads the task row
//! *after* the instance row is locked: a claim that commits while a
//! completion waits for the lock is seen, and the completion is refused.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Access, Locked, Target, TaskRead, TaskRef};
use super::policy::{self, Action, Decision, Facts, Principal};
use super::views::{TaskDetail, TaskFilter, TaskView, Total, task_view};
use super::{Outcome, Runtime, RuntimeError, viewer};
use crate::engine::Command;
use crate::model::NodeKind;
use crate::model::camunda_form::{self, FormDoc};
use crate::model::form::{self, FormField};

/// The values submitted with a completion or a start.
#[derive(Debug, Clone)]
pub enum Values {
    /// Typed variables (JSON).
    Json(Map<String, Value>),
    /// A browser form as posted: fields named `f.<field id>`, read against the
    /// task's (or start event's) form.
    Posted(Vec<(String, String)>),
}

impl Values {
    /// The variables, reading posted text against `form`.
    pub(crate) fn resolve(&self, form: &[FormField]) -> Map<String, Value> {
        match self {
            Values::Json(m) => m.clone(),
            Values::Posted(pairs) => form::posted_values(form, pairs),
        }
    }
}

impl Default for Values {
    fn default() -> Values {
        Values::Json(Map::new())
    }
}

/// What a completion did: the instance's outcome and the task's name.
#[derive(Debug, Clone)]
pub struct Completed {
    pub outcome: Outcome,
    pub task: String,
}

/// User tasks, as a principal sees and works on them.
pub struct Tasks<'r> {
    pub(super) rt: &'r Runtime,
}

impl Runtime {
    /// User tasks: the inbox and its actions.
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { rt: self }
    }
}

/// The form of a user task element.
pub(crate) fn task_form(kind: Option<&NodeKind>) -> Vec<FormField> {
    match kind {
        Some(NodeKind::UserTask(u)) => u.form.clone(),
        _ => Vec::new(),
    }
}

impl Tasks<'_> {
    /// The principal's inbox page and the number of matching tasks.
    pub async fn list(
        &self,
        who: &Principal,
        filter: &TaskFilter,
    ) -> Result<(Vec<TaskView>, Total), RuntimeError> {
        let (rows, total) = self.rt.store().inbox(&viewer(who), &filter.query()).await?;
        let names = self.rt.process_names().await?;
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
        Ok((tasks, total.into()))
    }

    /// Open tasks assigned to the principal, and those they can claim.
    pub async fn counts(&self, who: &Principal) -> Result<(Total, Total), RuntimeError> {
        let (mine, claimable) = self.rt.store().inbox_counts(&viewer(who)).await?;
        Ok((mine.into(), claimable.into()))
    }

    /// A task and what the principal may do with it; not found when they may
    /// not see it.
    pub async fn show(&self, who: &Principal, id: Uuid) -> Result<TaskDetail, RuntimeError> {
        let store = self.rt.store();
        let not_found = || RuntimeError::NotFound(format!("task {id}"));
        let t = store.task(id).await?.ok_or_else(not_found)?;
        let candidate = !who.is_admin() && store.is_candidate(&viewer(who), id).await?;
        let facts = Facts::task(who, t.assignee.as_deref(), candidate);
        let may = |action| policy::decide(who.kind(), action, &facts) == Decision::Allowed;
        if !may(Action::ViewTask) {
            return Err(not_found());
        }
        let instance = store
            .instance(t.instance_id)
            .await?
            .ok_or_else(|| RuntimeError::Corrupt(format!("task {id} has no instance")))?;
        let deployed = self.rt.deployed(instance.definition_id).await?;
        let process = deployed.process();
        let node = process.node(&t.element_id);
        let candidates = store.candidates(id).await?;
        let open = t.state == "open";
        let mut submitted = Vec::new();
        if t.state == "completed"
            && self
                .rt
                .decide_instance(who, Action::ViewInstance, t.instance_id)
                .await?
                == Decision::Allowed
        {
            let history = store.history(t.instance_id).await?;
            if let Some(values) = super::story::submitted(&history, t.element_key as u64) {
                submitted = values
                    .iter()
                    .map(|(k, v)| (k.clone(), crate::model::expr::short(v)))
                    .collect();
            }
        }
        let names = |kind: &str| {
            candidates
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| c.name.clone())
                .collect()
        };
        let camunda_form = self.rt.form_of(&deployed, &t.element_id).await?;
        let form_data = match &camunda_form {
            Some(_) => {
                let state: crate::engine::InstanceState = serde_json::from_str(&instance.state)
                    .map_err(|e| RuntimeError::Corrupt(format!("instance state: {e}")))?;
                state.visible_variables(t.element_key as u64)
            }
            None => Map::new(),
        };
        Ok(TaskDetail {
            documentation: node.and_then(|n| n.documentation.clone()),
            form: task_form(node.map(|n| &n.kind)),
            camunda_form,
            form_data,
            candidate_users: names("user"),
            candidate_groups: names("group"),
            business_key: instance.business_key.clone(),
            instance_status: super::views::instance_view(&instance, process.display_name()).status,
            may_complete: open && may(Action::CompleteTask),
            may_claim: open && t.assignee.is_none() && may(Action::ClaimTask),
            may_unclaim: open && t.assignee.is_some() && may(Action::UnclaimTask),
            submitted,
            task: task_view(t, process.display_name()),
        })
    }

    /// The open tasks of an instance the principal may see, oldest first.
    pub async fn open_in(
        &self,
        who: &Principal,
        instance: Uuid,
    ) -> Result<Vec<TaskView>, RuntimeError> {
        let row = self.rt.visible_row(who, instance).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        let name = deployed.process().display_name();
        Ok(self
            .rt
            .store()
            .open_tasks(instance)
            .await?
            .into_iter()
            .map(|t| task_view(t, name))
            .collect())
    }

    /// Completes a task with the submitted values (validated against its form).
    pub async fn complete(
        &self,
        who: &Principal,
        id: Uuid,
        values: Values,
    ) -> Result<Completed, RuntimeError> {
        self.complete_ref(who, Target::TaskOf(id), TaskRef::Id(id), values)
            .await
    }

    /// Completes the oldest open task of `element` in an instance.
    pub async fn complete_element(
        &self,
        who: &Principal,
        instance: Uuid,
        element: &str,
        values: Values,
    ) -> Result<Completed, RuntimeError> {
        self.complete_ref(
            who,
            Target::Instance(instance),
            TaskRef::Element(element),
            values,
        )
        .await
    }

    /// The Camunda Form of the task a completion names, read before the
    /// command (a form version never changes once deployed), and the task
    /// with its instance when that is what it read (the command's first
    /// attempt starts from them).
    async fn form_for(
        &self,
        target: &Target,
        task: &TaskRef<'_>,
    ) -> Result<(Option<Arc<FormDoc>>, Option<TaskRead>), RuntimeError> {
        let store = self.rt.store();
        let (definition, element, read) = match (target, task) {
            (_, TaskRef::Id(id)) => match store.task_with_instance(*id).await? {
                Some((t, row)) => (row.definition_id, t.element_id.clone(), Some((t, row))),
                None => return Ok((None, None)),
            },
            (Target::Instance(i), TaskRef::Element(e)) => match store.instance(*i).await? {
                Some(row) => (row.definition_id, e.to_string(), None),
                None => return Ok((None, None)),
            },
            _ => return Ok((None, None)),
        };
        let deployed = self.rt.deployed(definition).await?;
        Ok((self.rt.form_of(&deployed, &element).await?, read))
    }

    /// Which components of a task's Camunda Form the values (as the page
    /// holds them while someone fills it in) hide: the ids, for the page's
    /// script. Nothing is stored.
    pub async fn form_hidden(
        &self,
        who: &Principal,
        id: Uuid,
        values: &[(String, String)],
    ) -> Result<Vec<String>, RuntimeError> {
        let detail = self.show(who, id).await?;
        let Some(doc) = &detail.camunda_form else {
            return Ok(Vec::new());
        };
        let sub = camunda_form::Submitted::posted(doc, values);
        let data = camunda_form::data(doc, &detail.form_data, Some(&sub));
        let doc = doc.clone();
        let mut ids: Vec<String> = self
            .rt
            .budgeted(move || camunda_form::hidden(&doc, &data))
            .await?
            .into_iter()
            .collect();
        ids.sort();
        Ok(ids)
    }

    async fn complete_ref(
        &self,
        who: &Principal,
        target: Target,
        task: TaskRef<'_>,
        values: Values,
    ) -> Result<Completed, RuntimeError> {
        let (doc, read) = self.form_for(&target, &task).await?;
        let today = self.rt.today();
        let name = std::sync::Mutex::new(String::new());
        let outcome = self
            .rt
            .command_from(
                target,
                read,
                Access::Task(who, Action::CompleteTask, task),
                None,
                |l: &Locked<'_>| {
                    let key = l.task_key()?;
                    let t = l
                        .task
                        .ok_or_else(|| RuntimeError::Corrupt("no task".into()))?;
                    if let Ok(mut n) = name.lock() {
                        *n = t.name.clone().unwrap_or_else(|| t.element_id.clone());
                    }
                    let variables = match (&doc, &values) {
                        (Some(doc), values) => {
                            let sub = match values {
                                Values::Json(m) => camunda_form::Submitted::json(doc, m),
                                Values::Posted(p) => camunda_form::Submitted::posted(doc, p),
                            };
                            let vars = l.state.visible_variables(key);
                            camunda_form::submit(doc, &vars, &sub, Some(today))
                                .map_err(RuntimeError::InvalidVariables)?
                        }
                        (None, Values::Json(m)) => m.clone(),
                        (None, Values::Posted(_)) => values.resolve(&task_form(
                            l.deployed.process().node(&t.element_id).map(|n| &n.kind),
                        )),
                    };
                    Ok(Command::CompleteUserTask { key, variables })
                },
            )
            .await?;
        Ok(Completed {
            outcome,
            task: name.into_inner().unwrap_or_default(),
        })
    }

    /// Claims a task for the principal.
    pub async fn claim(&self, who: &Principal, id: Uuid) -> Result<Outcome, RuntimeError> {
        let user = who.name.clone();
        self.rt
            .command(
                Target::TaskOf(id),
                Access::Task(who, Action::ClaimTask, TaskRef::Id(id)),
                None,
                |l: &Locked<'_>| {
                    match l.task.and_then(|t| t.assignee.as_deref()) {
                        Some(a) if a == user => {
                            return Err(RuntimeError::Conflict(
                                "you already hold this task".into(),
                            ));
                        }
                        Some(a) => {
                            return Err(RuntimeError::Conflict(format!(
                                "the task is already claimed by {a}"
                            )));
                        }
                        None => {}
                    }
                    Ok(Command::ClaimTask {
                        key: l.task_key()?,
                        user: user.clone(),
                    })
                },
            )
            .await
    }

    /// Gives a task back to its candidates.
    pub async fn unclaim(&self, who: &Principal, id: Uuid) -> Result<Outcome, RuntimeError> {
        self.rt
            .command(
                Target::TaskOf(id),
                Access::Task(who, Action::UnclaimTask, TaskRef::Id(id)),
                None,
                |l: &Locked<'_>| {
                    if l.task.is_some_and(|t| t.assignee.is_none()) {
                        return Err(RuntimeError::Conflict("nobody holds this task".into()));
                    }
                    Ok(Command::UnclaimTask { key: l.task_key()? })
                },
            )
            .await
    }

    /// Hands a task to someone, or to nobody.
    pub async fn assign(
        &self,
        who: &Principal,
        id: Uuid,
        assignee: Option<String>,
    ) -> Result<Outcome, RuntimeError> {
        self.rt
            .command(
                Target::TaskOf(id),
                Access::Task(who, Action::AssignTask, TaskRef::Id(id)),
                None,
                |l: &Locked<'_>| {
                    Ok(Command::AssignTask {
                        key: l.task_key()?,
                        assignee: assignee.clone(),
                    })
                },
            )
            .await
    }
}
