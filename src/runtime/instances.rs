//! Instances: lists, an instance with its tasks, waits, incidents and
//! history, and the actions on a whole instance — cancel, set variables,
//! trigger a waiting element, retry an incident, deliver the message an
//! element waits for.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Access, Locked, Target};
use super::policy::{self, Action, Decision, Facts, Principal};
use super::views::{
    HistoryView, InstanceDetail, InstanceFilter, InstancePermissions, InstanceSummary,
    InstanceView, PastView, Total, WaitView, active_elements, element_name, history_view,
    incident_view, instance_view, task_view,
};
use super::{Event, InstanceState, Outcome, Runtime, RuntimeError, viewer};
use crate::engine::{self, Command, Wait};
use crate::store::entity::process_instance;

/// Instances, as a principal sees and acts on them.
pub struct Instances<'r> {
    pub(super) rt: &'r Runtime,
}

impl Runtime {
    /// Instances: lists, details and the actions on a whole instance.
    pub fn instances(&self) -> Instances<'_> {
        Instances { rt: self }
    }

    /// The display name of each process key (from its latest version).
    pub(crate) async fn process_names(&self) -> Result<HashMap<String, String>, RuntimeError> {
        let mut names = HashMap::new();
        for d in self.store().definitions().await? {
            names
                .entry(d.key.clone())
                .or_insert_with(|| d.name.clone().unwrap_or_else(|| d.key.clone()));
        }
        Ok(names)
    }

    /// An instance row the principal may see, or not found.
    pub(crate) async fn visible_row(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<process_instance::Model, RuntimeError> {
        let row = self.store().instance(id).await?;
        self.visible(who, id, row).await
    }

    /// [`Runtime::visible_row`] of an instance as read (`None`: not found),
    /// with whether it called others.
    pub(crate) async fn visible_calls(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(process_instance::Model, bool), RuntimeError> {
        let (row, called) = self.store().instance_calls(id).await?.unzip();
        Ok((self.visible(who, id, row).await?, called.unwrap_or(false)))
    }

    /// The instance `id` as read, if there is one and the principal may see
    /// it (a hidden instance is not found).
    async fn visible<T>(
        &self,
        who: &Principal,
        id: Uuid,
        read: Option<T>,
    ) -> Result<T, RuntimeError> {
        let not_found = || RuntimeError::NotFound(format!("instance {id}"));
        let read = read.ok_or_else(not_found)?;
        if self.decide_instance(who, Action::ViewInstance, id).await? != Decision::Allowed {
            return Err(not_found());
        }
        Ok(read)
    }

    /// The policy's answer for an instance action, outside a transaction (for
    /// reads and for showing buttons; commands decide again under their lock).
    pub(crate) async fn decide_instance(
        &self,
        who: &Principal,
        action: Action,
        id: Uuid,
    ) -> Result<Decision, RuntimeError> {
        let v = viewer(who);
        super::command::decide_instance(who, action, || self.store().involved(&v, id)).await
    }
}

/// The element instance of `element` that waits for what `wants` accepts.
fn waiting(state: &InstanceState, element: &str, wants: impl Fn(&Wait) -> bool) -> Option<u64> {
    state
        .elements
        .iter()
        .find(|(_, e)| e.element == element && e.wait.as_ref().is_some_and(&wants))
        .map(|(k, _)| *k)
}

/// Whether the principal may do `action` to an instance they can see.
fn may(who: &Principal, action: Action) -> bool {
    // They see it, so whatever depends on involvement holds.
    let facts = Facts {
        involved: true,
        ..Facts::default()
    };
    policy::decide(who.kind(), action, &facts) == Decision::Allowed
}

impl Instances<'_> {
    /// Instances the principal may see, newest first, and how many match.
    pub async fn list(
        &self,
        who: &Principal,
        filter: &InstanceFilter,
    ) -> Result<(Vec<InstanceView>, Total), RuntimeError> {
        let (rows, total) = self
            .rt
            .store()
            .instances(&viewer(who), &filter.query())
            .await?;
        let names = self.rt.process_names().await?;
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
        Ok((list, total.into()))
    }

    /// An instance and the deployed definition it runs (cheaper than [`Instances::show`]).
    pub async fn get(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(InstanceView, std::sync::Arc<super::Deployed>), RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        Ok((
            instance_view(&row, deployed.process().display_name()),
            deployed,
        ))
    }

    /// An instance with its tasks, incidents, waits and history.
    pub async fn show(&self, who: &Principal, id: Uuid) -> Result<InstanceDetail, RuntimeError> {
        let rt = self.rt;
        let (row, called) = rt.visible_calls(who, id).await?;
        let (summary, state) = self.summary_of(row, called).await?;
        let process = summary.deployed.process();
        // The tasks whose page this principal may open (the instance page
        // links only those, so that no link answers 404).
        let mut openable_tasks = HashSet::new();
        for t in &summary.tasks {
            let candidate = !who.is_admin() && rt.store().is_candidate(&viewer(who), t.id).await?;
            let facts = Facts::task(who, t.assignee.as_deref(), candidate);
            if policy::decide(who.kind(), Action::ViewTask, &facts) == Decision::Allowed {
                openable_tasks.insert(t.id);
            }
        }
        let entries = rt.store().history(id).await?;
        // How many times each element completed (the diagram shows it).
        let mut completions: HashMap<String, i64> = HashMap::new();
        for e in &entries {
            if let Some(Event::ElementCompleted { element, .. }) = &e.event {
                *completions.entry(element.clone()).or_default() += 1;
            }
        }
        let history: Vec<HistoryView> = entries
            .into_iter()
            .map(|h| history_view(h, Some(process)))
            .collect();
        let story = super::story::story(&history, Some(process));
        let (active, joining) = active_elements(&state);
        let InstanceSummary {
            instance,
            version,
            deployed,
            variables,
            tasks,
            incidents,
            waiting,
            called,
        } = summary;
        Ok(InstanceDetail {
            instance,
            version,
            called_by: state.called_by.clone(),
            variables,
            active,
            joining,
            deployed,
            tasks,
            openable_tasks,
            incidents,
            waiting,
            history,
            story,
            completions,
            called,
            may: InstancePermissions {
                cancel: may(who, Action::CancelInstance),
                retry: may(who, Action::RetryIncident),
                trigger: may(who, Action::TriggerElement),
                set_variables: may(who, Action::SetVariables),
                suspend: may(who, Action::SuspendInstance),
                modify: may(who, Action::ModifyInstance),
                migrate: may(who, Action::MigrateInstance),
            },
        })
    }

    /// An instance as it is now, without its history (which grows with every
    /// command and is read only where it is shown).
    pub async fn summary(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<InstanceSummary, RuntimeError> {
        let (row, called) = self.rt.visible_calls(who, id).await?;
        Ok(self.summary_of(row, called).await?.0)
    }

    /// [`Instances::summary`] of an instance row the principal may see
    /// (`called`: whether it called other instances), and its state.
    async fn summary_of(
        &self,
        row: process_instance::Model,
        called: bool,
    ) -> Result<(InstanceSummary, InstanceState), RuntimeError> {
        let rt = self.rt;
        let id = row.id;
        let deployed = rt.deployed(row.definition_id).await?;
        let process = deployed.process();
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        let tasks = rt
            .store()
            .tasks_of_instance(id)
            .await?
            .into_iter()
            .map(|t| task_view(t, process.display_name()))
            .collect();
        // The state holds the open incidents (each raised and resolved with
        // its row, all resolved when the instance is terminated): their rows
        // are read only when there are some.
        let incidents = if state.has_incident() {
            rt.store()
                .open_incidents(id)
                .await?
                .into_iter()
                .map(|i| incident_view(i, Some(process)))
                .collect()
        } else {
            Vec::new()
        };
        let waiting = engine::waiting_items(process, &state)
            .into_iter()
            .map(|w| WaitView {
                name: element_name(Some(process), &w.element),
                element: w.element,
                kind: w.kind.to_string(),
                detail: w.detail,
            })
            .collect();
        let called = if called {
            self.called_of(id).await?
        } else {
            Vec::new()
        };
        let summary = InstanceSummary {
            instance: instance_view(&row, process.display_name()),
            version: deployed.definition.version,
            variables: state.root_variables(),
            deployed,
            tasks,
            incidents,
            waiting,
            called,
        };
        Ok((summary, state))
    }

    /// An instance's history, in order.
    pub async fn history(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<HistoryView>, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await.ok();
        let process = deployed.as_ref().map(|d| d.process());
        Ok(self
            .rt
            .store()
            .history(id)
            .await?
            .into_iter()
            .map(|h| history_view(h, process))
            .collect())
    }

    /// An instance's history, one entry per command, oldest first.
    pub async fn story(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<super::StoryEntry>, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await.ok();
        let process = deployed.as_ref().map(|d| d.process());
        let history: Vec<HistoryView> = self
            .rt
            .store()
            .history(id)
            .await?
            .into_iter()
            .map(|h| history_view(h, process))
            .collect();
        Ok(super::story::story(&history, process))
    }

    /// The instance as it stood right after the command whose history entry
    /// holds event `seq`: its stored events up to the end of that command,
    /// replayed through the engine's own state fold.
    pub async fn past(
        &self,
        who: &Principal,
        id: Uuid,
        seq: i64,
    ) -> Result<PastView, RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        let process = deployed.process();
        let entries = self.rt.store().history(id).await?;
        let last = entries.last().map_or(0, |h| h.seq);
        if seq < 1 || seq > last {
            return Err(RuntimeError::NotFound(format!(
                "history entry {seq} (this instance's history runs from 1 to {last})"
            )));
        }
        let mut events = Vec::with_capacity(entries.len());
        for h in &entries {
            match &h.event {
                Some(e) => events.push((h.seq, e.clone())),
                // An event this version cannot read would make the replay a guess.
                None if h.seq <= seq => {
                    return Err(RuntimeError::Corrupt(format!(
                        "event {} of instance {id} cannot be read by this version",
                        h.seq
                    )));
                }
                None => {}
            }
        }
        let history: Vec<HistoryView> = entries
            .into_iter()
            .map(|h| history_view(h, Some(process)))
            .collect();
        let story = super::story::story(&history, Some(process));
        let position = story
            .iter()
            .position(|e| e.seq <= seq && seq <= e.last_seq)
            .ok_or_else(|| RuntimeError::NotFound(format!("history entry {seq}")))?;
        let entry = story[position].clone();
        let state = super::story::replay(&process.id, &events, entry.last_seq);
        let mut completions: HashMap<String, i64> = HashMap::new();
        let mut taken = Vec::new();
        for (_, e) in events.iter().filter(|(s, _)| *s <= entry.last_seq) {
            match e {
                Event::ElementCompleted { element, .. } => {
                    *completions.entry(element.clone()).or_default() += 1
                }
                Event::FlowTaken { flow, .. } if !taken.contains(flow) => taken.push(flow.clone()),
                _ => {}
            }
        }
        let (active, joining) = active_elements(&state);
        Ok(PastView {
            previous: position.checked_sub(1).map(|p| story[p].seq),
            next: story.get(position + 1).map(|e| e.seq),
            entries: story.iter().map(|e| e.seq).collect(),
            position,
            status: state.display_status().to_string(),
            variables: state.root_variables(),
            entry,
            active,
            joining,
            completions,
            taken,
        })
    }

    /// An instance's state and the events that led to it, oldest first (for
    /// following an instance, as `bpmn run` does).
    pub async fn trace(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(std::sync::Arc<super::Deployed>, Vec<Event>), RuntimeError> {
        let row = self.rt.visible_row(who, id).await?;
        let deployed = self.rt.deployed(row.definition_id).await?;
        let events = self
            .rt
            .store()
            .history(id)
            .await?
            .into_iter()
            .filter_map(|h| h.event)
            .collect();
        Ok((deployed, events))
    }

    /// The instances a call activity of this instance called, oldest first.
    pub async fn called(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<InstanceView>, RuntimeError> {
        self.rt.visible_row(who, id).await?;
        self.called_of(id).await
    }

    /// The instances an instance's call activities started, oldest first.
    async fn called_of(&self, id: Uuid) -> Result<Vec<InstanceView>, RuntimeError> {
        let mut out = Vec::new();
        for c in self.rt.store().called_instances(id).await? {
            let name = self
                .rt
                .deployed(c.definition_id)
                .await
                .map(|d| d.process().display_name().to_string())
                .unwrap_or_else(|_| c.definition_key.clone());
            out.push(instance_view(&c, &name));
        }
        Ok(out)
    }

    /// Runs `command` on an instance as `who`, if the policy allows `action`.
    pub(super) async fn run(
        &self,
        who: &Principal,
        id: Uuid,
        action: Action,
        command: Command,
    ) -> Result<Outcome, RuntimeError> {
        self.rt
            .command(
                Target::Instance(id),
                Access::Instance(who, action),
                None,
                |_: &Locked<'_>| Ok(command.clone()),
            )
            .await
    }

    /// Cancels an instance.
    pub async fn cancel(&self, who: &Principal, id: Uuid) -> Result<Outcome, RuntimeError> {
        let reason = format!("cancelled by {}", who.name);
        self.run(who, id, Action::CancelInstance, Command::Cancel { reason })
            .await
    }

    /// Sets instance variables.
    pub async fn set_variables(
        &self,
        who: &Principal,
        id: Uuid,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::SetVariables { variables };
        self.run(who, id, Action::SetVariables, command).await
    }

    /// Sets some instance variables and removes others, in one command.
    pub async fn modify_variables(
        &self,
        who: &Principal,
        id: Uuid,
        variables: Map<String, Value>,
        remove: Vec<String>,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::ModifyVariables { variables, remove };
        self.run(who, id, Action::SetVariables, command).await
    }

    /// Triggers the oldest instance of `element` that waits for a trigger (a
    /// receive task without a message), with these variables.
    pub async fn trigger(
        &self,
        who: &Principal,
        id: Uuid,
        element: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        self.rt
            .command(
                Target::Instance(id),
                Access::Instance(who, Action::TriggerElement),
                None,
                |l: &Locked<'_>| {
                    let key =
                        waiting(l.state, element, |w| *w == Wait::Trigger).ok_or_else(|| {
                            RuntimeError::NotFound(format!(
                                "an element \"{element}\" waiting to be triggered"
                            ))
                        })?;
                    Ok(Command::Trigger {
                        key,
                        variables: variables.clone(),
                    })
                },
            )
            .await
    }

    /// Delivers the message (or signal) that `element` waits for, as if it
    /// had been sent to this instance.
    pub async fn receive(
        &self,
        who: &Principal,
        id: Uuid,
        element: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        self.rt
            .command(
                Target::Instance(id),
                Access::Instance(who, Action::CorrelateMessage),
                None,
                |l: &Locked<'_>| {
                    let key = l
                        .state
                        .elements
                        .iter()
                        .find(|(_, e)| {
                            e.element == element
                                && matches!(
                                    e.wait,
                                    Some(Wait::Message { .. } | Wait::Signal { .. })
                                )
                        })
                        .map(|(k, _)| *k)
                        .ok_or_else(|| {
                            RuntimeError::NotWaiting(format!(
                                "{element} is not waiting for a message"
                            ))
                        })?;
                    Ok(Command::CorrelateMessage {
                        key,
                        variables: variables.clone(),
                    })
                },
            )
            .await
    }

    /// Retries the step an incident stopped (by its key within the instance).
    pub async fn retry_incident(
        &self,
        who: &Principal,
        id: Uuid,
        incident: u64,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::RetryIncident { incident };
        self.run(who, id, Action::RetryIncident, command).await
    }

    /// Retries an incident by its id.
    pub async fn retry(&self, who: &Principal, incident: Uuid) -> Result<Outcome, RuntimeError> {
        let row = self
            .rt
            .store()
            .incident(incident)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("incident {incident}")))?;
        if self
            .rt
            .decide_instance(who, Action::ViewInstance, row.instance_id)
            .await?
            != Decision::Allowed
        {
            return Err(RuntimeError::NotFound(format!("incident {incident}")));
        }
        if row.resolved_at.is_some() {
            return Err(RuntimeError::Conflict(
                "the incident is already resolved".into(),
            ));
        }
        self.retry_incident(who, row.instance_id, row.incident_key as u64)
            .await
    }

    /// Instances the principal may see with string variables matching every
    /// `(name part, value part)` term, ignoring case (the old engine's search;
    /// it scans variables, so it stops at `limit` matches).
    pub async fn search_text(
        &self,
        who: &Principal,
        terms: &[(String, String)],
        limit: u64,
    ) -> Result<Vec<InstanceSummary>, RuntimeError> {
        let ids = self
            .rt
            .store()
            .search_string_variables(terms, limit)
            .await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for id in ids.into_iter().filter(|id| seen.insert(*id)) {
            match self.summary(who, id).await {
                Ok(d) => out.push(d),
                Err(RuntimeError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
