//! One command = one transaction, and the policy checked inside it.
//!
//! [`Runtime::command`] begins a write transaction, locks the instance row,
//! checks who acts against the locked rows ([`Access`]), lets the caller turn
//! what it found into an engine [`Command`], runs the pure engine, and writes
//! the new state only if the row's version is still the one it read — else it
//! rolls back and runs the whole command again. Starting an instance is the
//! same without a row to lock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::policy::{self, Action, Decision, Facts, Principal};
use super::{Deployed, MAX_ATTEMPTS, Runtime, RuntimeError, backoff, metrics, viewer};
use crate::engine::{self, Command, Event, InstanceState};
use crate::store::entity::{process_instance, user_task};
use crate::store::{EffectContext, InstanceUpdate, Job, NewInstance, Store, Txn, to_db_time};

/// The outcome of a command on an instance.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub instance_id: Uuid,
    pub events: Vec<Event>,
    pub state: InstanceState,
}

impl Outcome {
    /// `active`, `completed`, `terminated` or `incident`.
    pub fn status(&self) -> &'static str {
        self.state.display_status()
    }
}

/// Something to await just before a command commits (tests use it to hold
/// two transactions at the brink and let them go in a chosen order).
pub type CommitHook = Arc<dyn Fn(Uuid) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Who acts in a command, and what the policy must allow.
#[derive(Clone, Copy)]
pub(crate) enum Access<'a> {
    /// The engine's own work (jobs, timers, calls): nothing to authorize.
    Engine,
    /// A principal acting on the instance.
    Instance(&'a Principal, Action),
    /// A principal acting on one of the instance's user tasks.
    Task(&'a Principal, Action, TaskRef<'a>),
    /// A principal whose right does not depend on the instance (a worker's report).
    Role(&'a Principal),
}

impl Access<'_> {
    /// The name history records for the command.
    fn user(&self) -> Option<&str> {
        match self {
            Access::Engine => None,
            Access::Instance(p, _) | Access::Task(p, _, _) | Access::Role(p) => {
                Some(p.name.as_str())
            }
        }
    }
}

/// Which user task a command is about.
#[derive(Clone, Copy)]
pub(crate) enum TaskRef<'a> {
    Id(Uuid),
    /// The oldest open task of this element in the instance.
    Element(&'a str),
}

/// What a command is addressed to.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Instance(Uuid),
    /// The instance of this user task (looked up inside the transaction).
    TaskOf(Uuid),
}

/// A job a command consumes: it must still exist, and — when `owner` is set —
/// be leased by that owner, unexpired.
#[derive(Debug, Clone)]
pub(crate) struct JobGuard {
    pub id: Uuid,
    pub owner: Option<String>,
}

impl JobGuard {
    /// The guard of a job held by `owner` (any holder when `None`).
    pub(crate) fn of(job: &Job, owner: Option<&str>) -> JobGuard {
        JobGuard {
            id: job.id,
            owner: owner.map(str::to_string),
        }
    }

    pub(crate) fn check(&self, job: Option<Job>, now: jiff::Timestamp) -> Result<(), RuntimeError> {
        let Some(job) = job else {
            return Err(RuntimeError::Conflict(format!(
                "job {} has already run",
                self.id
            )));
        };
        if let Some(owner) = &self.owner {
            let held = job.lock_owner.as_deref() == Some(owner.as_str())
                && job.lock_expires_at.is_some_and(|t| t > to_db_time(now));
            if !held {
                return Err(RuntimeError::Conflict(format!(
                    "the lock of {owner} on task {} has expired or was never taken; another worker may have it now",
                    self.id
                )));
            }
        }
        Ok(())
    }
}

/// What a command found under its lock.
pub(crate) struct Locked<'a> {
    pub deployed: &'a Deployed,
    pub state: &'a InstanceState,
    /// The task of an [`Access::Task`], checked against the policy.
    pub task: Option<&'a user_task::Model>,
}

impl Locked<'_> {
    /// The element instance key of the locked task.
    pub fn task_key(&self) -> Result<u64, RuntimeError> {
        self.task
            .map(|t| t.element_key as u64)
            .ok_or_else(|| RuntimeError::Corrupt("a task command without its task".into()))
    }
}

/// A new instance about to be inserted.
#[derive(Clone, Copy)]
pub(crate) struct Started<'a> {
    pub deployed: &'a Deployed,
    pub id: Uuid,
    pub business_key: Option<&'a str>,
    pub user: Option<&'a str>,
    /// For a called instance: the calling instance and its call activity's key.
    pub parent: Option<(Uuid, i64)>,
}

impl Runtime {
    async fn before_commit(&self, instance_id: Uuid) {
        let hook = self.before_commit.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(instance_id).await;
        }
    }

    /// Starts an instance of a deployed definition with `command` (a start),
    /// in one transaction.
    pub(crate) async fn start_with(
        &self,
        deployed: &Deployed,
        command: Command,
        business_key: Option<&str>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let process = deployed.process();
        let id = Uuid::now_v7();
        let fresh = InstanceState::new(&process.id);
        let tr = engine::execute(process, &fresh, command, self.clock.now())?;
        let txn = self.store.begin_write().await?;
        self.insert_started(
            &txn,
            Started {
                deployed,
                id,
                business_key,
                user,
                parent: None,
            },
            &tr,
        )
        .await?;
        self.commit(txn, id, &tr).await?;
        Ok(Outcome {
            instance_id: id,
            events: tr.events,
            state: tr.state,
        })
    }

    /// Inserts a new instance with its first transition.
    pub(crate) async fn insert_started(
        &self,
        txn: &Txn,
        s: Started<'_>,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        let db_now = to_db_time(self.clock.now());
        Store::insert_instance(
            txn,
            NewInstance {
                id: s.id,
                definition_id: s.deployed.definition.id,
                definition_key: &s.deployed.definition.key,
                business_key: s.business_key.map(str::to_string),
                parent_id: s.parent.map(|p| p.0),
                parent_key: s.parent.map(|p| p.1),
                started_by: s.user.map(str::to_string),
                state: &tr.state,
                last_seq: tr.events.len() as i64,
                now: db_now,
            },
        )
        .await?;
        self.write_transition(
            txn,
            EffectContext {
                instance_id: s.id,
                parent: s.parent,
                definition_key: &s.deployed.definition.key,
                business_key: s.business_key,
                user: s.user,
                now: db_now,
            },
            1,
            tr,
        )
        .await
    }

    /// Writes what a transition changes besides the instance row: history,
    /// variables, incidents, and its effects (inbox, jobs, subscriptions).
    async fn write_transition(
        &self,
        txn: &Txn,
        ctx: EffectContext<'_>,
        first_seq: i64,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        Store::insert_history(
            txn,
            ctx.instance_id,
            first_seq,
            &tr.events,
            ctx.now,
            ctx.user,
        )
        .await?;
        Store::sync_variables(txn, ctx.instance_id, &tr.events).await?;
        Store::record_incidents(txn, ctx.instance_id, &tr.events, ctx.now).await?;
        Store::apply_effects(txn, ctx, &tr.effects).await?;
        if tr.effects.iter().any(engine::Effect::is_local_work) {
            Store::announce_jobs(txn).await?;
        }
        Ok(())
    }

    /// Commits a command's transaction and wakes whoever waits for its work.
    pub(crate) async fn commit(
        &self,
        txn: Txn,
        instance_id: Uuid,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        self.before_commit(instance_id).await;
        Store::commit(txn).await?;
        self.committed(tr);
        Ok(())
    }

    /// Counts a committed transition and wakes whoever waits for its work.
    pub(crate) fn committed(&self, tr: &engine::Transition) {
        metrics::COMMANDS.inc();
        metrics::observe_events(&tr.events);
        let external = tr.effects.iter().any(|e| {
            matches!(
                e,
                engine::Effect::CreateJob {
                    kind: engine::JobKind::External { .. },
                    ..
                }
            )
        });
        if external {
            self.external_work.notify_waiters();
        }
        if tr.effects.iter().any(engine::Effect::is_local_work) {
            self.job_work.notify_waiters();
        }
    }

    /// Runs a command in one transaction, retrying lost races. `job` names a
    /// job row the command consumes (deleted with it).
    pub(crate) async fn command(
        &self,
        target: Target,
        access: Access<'_>,
        job: Option<&JobGuard>,
        make: impl Fn(&Locked<'_>) -> Result<Command, RuntimeError>,
    ) -> Result<Outcome, RuntimeError> {
        for attempt in 0..MAX_ATTEMPTS {
            let txn = self.store.begin_write().await?;
            let instance_id = match target {
                Target::Instance(id) => id,
                Target::TaskOf(task) => {
                    Store::task_in(&txn, task)
                        .await?
                        .ok_or_else(|| RuntimeError::NotFound(format!("task {task}")))?
                        .instance_id
                }
            };
            let Some(tr) = self
                .command_in(&txn, instance_id, access, job, &make)
                .await?
            else {
                drop(txn);
                backoff(attempt).await;
                continue;
            };
            self.commit(txn, instance_id, &tr).await?;
            return Ok(Outcome {
                instance_id,
                events: tr.events,
                state: tr.state,
            });
        }
        Err(RuntimeError::Busy)
    }

    /// Runs the engine's own `command` on a job's instance and consumes the
    /// job — only while `owner` (when given) holds its lease.
    pub(crate) async fn consume_job(
        &self,
        job: &Job,
        owner: Option<&str>,
        command: Command,
    ) -> Result<Outcome, RuntimeError> {
        self.command(
            Target::Instance(job.instance_id),
            Access::Engine,
            Some(&JobGuard::of(job, owner)),
            |_: &Locked<'_>| Ok(command.clone()),
        )
        .await
    }

    /// A command's work inside `txn`, not yet committed; `None` when another
    /// command changed the instance first (the caller retries).
    pub(crate) async fn command_in(
        &self,
        txn: &Txn,
        instance_id: Uuid,
        access: Access<'_>,
        job: Option<&JobGuard>,
        make: &impl Fn(&Locked<'_>) -> Result<Command, RuntimeError>,
    ) -> Result<Option<engine::Transition>, RuntimeError> {
        let row = Store::lock_instance(txn, instance_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {instance_id}")))?;
        let task = self.authorize(txn, &row, access).await?;
        if let Some(guard) = job {
            guard.check(Store::job_in(txn, guard.id).await?, self.lease_now())?;
        }
        let deployed = self.deployed(row.definition_id).await?;
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {instance_id}: {e}")))?;
        let command = make(&Locked {
            deployed: &deployed,
            state: &state,
            task: task.as_ref(),
        })?;
        let now = self.clock.now();
        let tr = engine::execute(deployed.process(), &state, command, now)?;
        let db_now = to_db_time(now);
        let saved = Store::update_instance(
            txn,
            instance_id,
            row.version,
            InstanceUpdate {
                state: &tr.state,
                last_seq: row.last_seq + tr.events.len() as i64,
                now: db_now,
            },
        )
        .await?;
        if !saved {
            metrics::CONFLICTS.inc();
            tracing::debug!(instance.id = %instance_id, "version conflict, retrying");
            return Ok(None);
        }
        if let Some(guard) = job {
            // Consumed before the effects are written: a repeating timer
            // schedules its next job for the same element.
            Store::delete_job(txn, guard.id).await?;
        }
        self.write_transition(
            txn,
            EffectContext {
                instance_id,
                parent: row.parent_id.zip(row.parent_key),
                definition_key: &row.definition_key,
                business_key: row.business_key.as_deref(),
                user: access.user(),
                now: db_now,
            },
            row.last_seq + 1,
            &tr,
        )
        .await?;
        Ok(Some(tr))
    }

    /// Checks the policy against the locked instance row (and, for a task
    /// command, the task row read after the lock). Returns the task.
    async fn authorize(
        &self,
        txn: &Txn,
        row: &process_instance::Model,
        access: Access<'_>,
    ) -> Result<Option<user_task::Model>, RuntimeError> {
        match access {
            Access::Engine | Access::Role(_) => Ok(None),
            Access::Instance(who, action) => {
                match self.decide_on_instance(txn, who, action, row.id).await? {
                    Decision::Allowed => Ok(None),
                    Decision::Hidden => Err(RuntimeError::NotFound(format!("instance {}", row.id))),
                    Decision::Forbidden => {
                        Err(RuntimeError::Forbidden(policy::refusal(action, None)))
                    }
                }
            }
            Access::Task(who, action, task) => {
                let found = match task {
                    TaskRef::Id(id) => Store::task_in(txn, id)
                        .await?
                        .filter(|t| t.instance_id == row.id),
                    TaskRef::Element(element) => {
                        Store::open_task_for_in(txn, row.id, element).await?
                    }
                };
                let Some(task) = found else {
                    return Err(match task {
                        TaskRef::Id(id) => RuntimeError::NotFound(format!("task {id}")),
                        TaskRef::Element(element) => {
                            // Whether the instance exists is not for everyone to learn.
                            match self
                                .decide_on_instance(txn, who, Action::ViewInstance, row.id)
                                .await?
                            {
                                Decision::Allowed => RuntimeError::NotWaiting(format!(
                                    "no open task {element} in this instance"
                                )),
                                _ => RuntimeError::NotFound(format!("instance {}", row.id)),
                            }
                        }
                    });
                };
                let candidate =
                    !who.is_admin() && Store::is_candidate_in(txn, &viewer(who), task.id).await?;
                let facts = Facts::task(who, task.assignee.as_deref(), candidate);
                let decision = policy::decide(who.kind(), action, &facts);
                if decision == Decision::Hidden {
                    return Err(RuntimeError::NotFound(format!("task {}", task.id)));
                }
                if task.state != "open" {
                    return Err(RuntimeError::Conflict(format!(
                        "the task \"{}\" was already {}{}",
                        task.name.as_deref().unwrap_or(&task.element_id),
                        task.state,
                        task.completed_by
                            .as_ref()
                            .map(|u| format!(" by {u}"))
                            .unwrap_or_default()
                    )));
                }
                if decision == Decision::Forbidden {
                    return Err(RuntimeError::Forbidden(policy::refusal(
                        action,
                        task.assignee.as_deref(),
                    )));
                }
                Ok(Some(task))
            }
        }
    }

    /// The policy's answer for an instance action, reading under the lock
    /// whether the principal is involved (only when the answer depends on it).
    async fn decide_on_instance(
        &self,
        txn: &Txn,
        who: &Principal,
        action: Action,
        id: Uuid,
    ) -> Result<Decision, RuntimeError> {
        let v = viewer(who);
        decide_instance(who, action, || Store::involved_in(txn, &v, id)).await
    }
}

/// The policy's answer for an instance action; `involved` is asked only when
/// the answer depends on it.
pub(crate) async fn decide_instance<F>(
    who: &Principal,
    action: Action,
    involved: impl FnOnce() -> F,
) -> Result<Decision, RuntimeError>
where
    F: std::future::Future<Output = Result<bool, crate::store::StoreError>>,
{
    let without = policy::decide(who.kind(), action, &Facts::default());
    if without == Decision::Allowed {
        return Ok(without);
    }
    let facts = Facts {
        involved: involved().await?,
        ..Facts::default()
    };
    Ok(policy::decide(who.kind(), action, &facts))
}
