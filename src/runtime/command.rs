//! One command = one transaction: read, check, compute; then lock, verify,
//! write.
//!
//! [`Runtime::command`] reads the instance row (and, for a task command, the
//! task row), checks who acts against those rows ([`Access`]), lets the caller
//! turn what it found into an engine [`Command`] and computes the transition —
//! on a thread of its own, never an HTTP worker, within the command's time
//! budget ([`Limits`]), and without holding any lock. Only then does it begin
//! the write transaction, lock the instance row and write, provided the row's
//! version is still the one it read. Every change to the rows the policy
//! looks at (a task's holder and candidates, who completed what) is itself a
//! command on the instance and moves its version, so the check holds for the
//! rows that are locked and written; a changed version means read, check and
//! compute again. Starting an instance is the same without a row to lock.
//!
//! The write transaction is the store's [`CommandTxn`]: on SQLite a turn
//! under a savepoint in a transaction shared with the commands that are
//! ready at the same moment (group commit); a command that loses its race
//! or fails there undoes only its own writes, and returns only once the
//! group has committed. There the version check runs with the rest of the
//! command's statements when it commits, so a lost race comes back from
//! the commit: [`Runtime::lost_race`] tells a retry from a refusal,
//! whichever way the race was lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use uuid::Uuid;

use super::policy::{self, Action, Decision, Facts, Principal};
use super::{Deployed, MAX_ATTEMPTS, Runtime, RuntimeError, backoff, metrics, statistics, viewer};
use crate::engine::{self, Command, Event, InstanceState};
use crate::store::entity::{process_instance, user_task};
use crate::store::{
    CommandStatistics, CommandTxn, EffectContext, InstanceUpdate, Job, NewInstance, Store,
    StoreError, Unmet, Writes, to_db_time,
};

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

/// What one command may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The engine's time for one transition: scripts and expressions still
    /// running then stop with an error (an incident).
    pub command_time: Duration,
    /// The most one command may write (its state and history, serialized): a
    /// person's command that would write more is refused, a job's becomes an
    /// incident; nothing of it is stored.
    pub command_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            command_time: Duration::from_secs(2),
            command_bytes: 16 * 1024 * 1024,
        }
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
    pub(crate) fn user(&self) -> Option<&str> {
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
    /// The instance of this user task (read with it).
    TaskOf(Uuid),
}

/// A user task and its instance as read together (one moment).
pub(crate) type TaskRead = (user_task::Model, process_instance::Model);

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

/// What a command found: the instance's model and state, and its task.
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

/// A command computed before taking any lock: the instance row as read
/// (its version is checked under the lock) and the transition.
pub(crate) struct Prepared {
    pub row: process_instance::Model,
    pub transition: engine::Transition,
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
    /// A start of the latest version of its key: refused
    /// ([`Unmet::Definition`]) should a newer one be deployed by then.
    pub latest: bool,
}

/// What the engine is told of an instance with each command: its id,
/// business key and definition, and who sends the command.
pub(crate) fn context(
    deployed: &Deployed,
    id: Uuid,
    business_key: Option<&str>,
    user: Option<&str>,
) -> engine::Context {
    let d = &deployed.definition;
    engine::Context {
        instance_id: Some(id),
        business_key: business_key.map(str::to_string),
        definition_id: Some(format!("{}:{}:{}", d.key, d.version, d.id)),
        user: user.map(str::to_string),
    }
}

impl Runtime {
    /// Starts an instance of a deployed definition with `command` (a start),
    /// in one transaction. `latest`: the start is of the latest version of
    /// its key, and is refused with [`Unmet::Definition`] (for the caller to
    /// look again) should a newer version be deployed by the time it is
    /// written; otherwise a suspended version is refused with a conflict.
    pub(crate) async fn start_with(
        &self,
        deployed: Arc<Deployed>,
        command: Command,
        business_key: Option<&str>,
        user: Option<&str>,
        latest: bool,
    ) -> Result<Outcome, RuntimeError> {
        let id = Uuid::now_v7();
        let fresh = InstanceState::new(&deployed.process().id);
        let ctx = context(&deployed, id, business_key, user);
        let tr = self.compute(deployed.clone(), ctx, fresh, command).await?;
        self.within_limit(&tr)?;
        let txn = self.store.begin_command().await?;
        let started = Started {
            deployed: &deployed,
            id,
            business_key,
            user,
            parent: None,
            latest,
        };
        let written = async {
            self.insert_started(&txn, started, &tr).await?;
            self.commit(txn, id, &tr).await
        };
        match written.await {
            Ok(()) => {}
            Err(e) if latest => return Err(e),
            Err(e) => return Err(suspended(e, &deployed)),
        }
        Ok(Outcome {
            instance_id: id,
            events: tr.events,
            state: tr.state,
        })
    }

    /// Inserts a new instance with its first transition; its definition
    /// version must not be suspended ([`Unmet::Definition`], see
    /// [`suspended`]).
    pub(crate) async fn insert_started(
        &self,
        txn: &CommandTxn,
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
                latest_version: s.latest.then_some(s.deployed.definition.version),
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
                instance_started_at: db_now,
            },
            (s.deployed.definition.id, None),
            1,
            tr,
        )
        .await
    }

    /// Writes what a transition changes besides the instance row: history,
    /// statistics, variables, incidents, and its effects (inbox, jobs,
    /// subscriptions). `(definition_id, before)`: the version the instance
    /// ran and its state JSON before the command (none for a new instance).
    async fn write_transition(
        &self,
        txn: &CommandTxn,
        ctx: EffectContext<'_>,
        (definition_id, before): (i64, Option<&str>),
        first_seq: i64,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        // Gathered and sent in as few requests as keep their order
        // (`store/writes.rs`).
        let w = Writes::new(txn);
        Store::insert_history(
            &w,
            ctx.instance_id,
            first_seq,
            &tr.events,
            ctx.now,
            ctx.user,
        )?;
        Store::record_statistics(
            &w,
            CommandStatistics {
                definition_id,
                definition_key: ctx.definition_key,
                events: &tr.events,
                state: &tr.state,
                before,
                now: ctx.now,
            },
        )?;
        Store::sync_variables(&w, ctx.instance_id, &tr.events)?;
        Store::record_incidents(&w, ctx.instance_id, &tr.events, ctx.now)?;
        Store::apply_effects(&w, ctx, &tr.effects)?;
        self.queue_mails(&w, &ctx, first_seq, tr).await?;
        let resumed = tr
            .events
            .iter()
            .any(|e| matches!(e, Event::InstanceResumed { .. }));
        if tr.state.suspended || resumed {
            // Also what this command created while it stays suspended.
            Store::set_instance_suspended(&w, ctx.instance_id, tr.state.suspended)?;
        }
        // A resumed instance's jobs (a timer due meanwhile) are work again,
        // for every process; one announcement says both.
        if resumed || tr.effects.iter().any(engine::Effect::is_local_work) {
            Store::announce_jobs(&w)?;
        }
        w.flush().await?;
        Ok(())
    }

    /// Commits a command's transaction (on SQLite together with the other
    /// commands of its group) and wakes whoever waits for its work. Its
    /// conditions that did not hold come back as [`StoreError::Unmet`]
    /// (see [`Runtime::lost_race`]).
    pub(crate) async fn commit(
        &self,
        txn: CommandTxn,
        instance_id: Uuid,
        tr: &engine::Transition,
    ) -> Result<(), RuntimeError> {
        let hook = self.before_commit.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            // Held at the brink of its commit, the command holds what a
            // command holds then: its turn in the group, its row locks.
            txn.send().await?;
            hook(instance_id).await;
        }
        Store::commit_command(txn).await?;
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
        let resumed = tr
            .events
            .iter()
            .any(|e| matches!(e, Event::InstanceResumed { .. }));
        if resumed || tr.effects.iter().any(engine::Effect::is_local_work) {
            self.job_work.notify_waiters();
        }
    }

    /// Runs pure work (the engine, a decision) on a blocking thread — never
    /// an HTTP worker or the executor's loop — within the time budget: when
    /// it is spent, the thread's stop flag is raised and the scripts and
    /// expressions still running stop with an error, so the work always
    /// comes back.
    pub(crate) async fn budgeted<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RuntimeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let work = tokio::task::spawn_blocking(move || crate::budget::with_stop_flag(flag, work));
        tokio::pin!(work);
        let done = tokio::select! {
            done = &mut work => done,
            _ = tokio::time::sleep(self.limits.command_time) => {
                stop.store(true, Ordering::Relaxed);
                metrics::COMMANDS_STOPPED.inc();
                work.await
            }
        };
        done.map_err(|e| RuntimeError::Corrupt(format!("the engine failed: {e}")))
    }

    /// Computes a transition, budgeted.
    pub(crate) async fn compute(
        &self,
        deployed: Arc<Deployed>,
        ctx: engine::Context,
        state: InstanceState,
        command: Command,
    ) -> Result<engine::Transition, RuntimeError> {
        let now = self.clock.now();
        let mut state = state;
        statistics::forget_ended(&mut state);
        let mut transition = self
            .budgeted(move || engine::execute(deployed.process(), &ctx, &state, command, now))
            .await??;
        statistics::stamp(&mut transition.state, now);
        Ok(transition)
    }

    /// Refuses a transition that would write more than one command may.
    pub(crate) fn within_limit(&self, tr: &engine::Transition) -> Result<(), RuntimeError> {
        let cap = self.limits.command_bytes;
        let mut size = serde_json::to_vec(&tr.state).map(|v| v.len()).unwrap_or(0);
        for e in &tr.events {
            if size > cap {
                break;
            }
            size += serde_json::to_vec(e).map(|v| v.len()).unwrap_or(0);
        }
        if size > cap {
            let mb = |n: usize| n.div_ceil(1024 * 1024);
            return Err(RuntimeError::TooLarge(format!(
                "this would write more than {} MB at once (at most {} MB); nothing of it was stored",
                mb(size),
                mb(cap)
            )));
        }
        Ok(())
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
        self.command_from(target, None, access, job, make).await
    }

    /// [`Runtime::command`] whose first attempt starts from the task and
    /// instance its caller already read (`first`, for the task `target`
    /// names); a retry after a lost race reads them again.
    pub(crate) async fn command_from(
        &self,
        target: Target,
        mut first: Option<TaskRead>,
        access: Access<'_>,
        job: Option<&JobGuard>,
        make: impl Fn(&Locked<'_>) -> Result<Command, RuntimeError>,
    ) -> Result<Outcome, RuntimeError> {
        for attempt in 0..MAX_ATTEMPTS {
            let prepared = self.prepare(target, first.take(), access, &make).await?;
            let txn = self.store.begin_command().await?;
            let written = async {
                self.write_prepared(&txn, &prepared, access, job).await?;
                self.commit(txn, prepared.row.id, &prepared.transition)
                    .await
            };
            if let Err(e) = written.await {
                self.lost_race(e, prepared.row.id, job).await?;
                backoff(attempt).await;
                continue;
            }
            let Prepared {
                row, transition, ..
            } = prepared;
            return Ok(Outcome {
                instance_id: row.id,
                events: transition.events,
                state: transition.state,
            });
        }
        Err(RuntimeError::Busy)
    }

    /// Runs the engine's own `command` on a job's instance and consumes the
    /// job — only while `owner` (when given) holds its lease. Work that would
    /// write more than a command may becomes an incident on the job's element.
    pub(crate) async fn consume_job(
        &self,
        job: &Job,
        owner: Option<&str>,
        command: Command,
    ) -> Result<Outcome, RuntimeError> {
        let guard = JobGuard::of(job, owner);
        let run = |command: Command| {
            self.command(
                Target::Instance(job.instance_id),
                Access::Engine,
                Some(&guard),
                move |_: &Locked<'_>| Ok(command.clone()),
            )
        };
        match run(command).await {
            Err(RuntimeError::TooLarge(message)) => {
                tracing::warn!(job.id = %job.id, element.id = %job.element_id, "{message}");
                run(Command::FailJob {
                    key: job.element_key as u64,
                    message: format!("its work {message}"),
                })
                .await
            }
            other => other,
        }
    }

    /// Reads the instance (no lock; for a task, unless `first` holds it as
    /// read), checks the policy, and computes the command's transition.
    pub(crate) async fn prepare(
        &self,
        target: Target,
        first: Option<TaskRead>,
        access: Access<'_>,
        make: &impl Fn(&Locked<'_>) -> Result<Command, RuntimeError>,
    ) -> Result<Prepared, RuntimeError> {
        let (row, read_task) = match target {
            Target::Instance(id) => (
                self.store
                    .instance(id)
                    .await?
                    .ok_or_else(|| RuntimeError::NotFound(format!("instance {id}")))?,
                None,
            ),
            Target::TaskOf(task) => {
                let read = match first.filter(|(t, _)| t.id == task) {
                    Some(read) => Some(read),
                    None => self.store.task_with_instance(task).await?,
                };
                let (task, row) =
                    read.ok_or_else(|| RuntimeError::NotFound(format!("task {task}")))?;
                (row, Some(task))
            }
        };
        let task = self.authorize_with(&row, access, read_task).await?;
        let deployed = self.deployed(row.definition_id).await?;
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {}: {e}", row.id)))?;
        let command = make(&Locked {
            deployed: &deployed,
            state: &state,
            task: task.as_ref(),
        })?;
        let ctx = context(
            &deployed,
            row.id,
            row.business_key.as_deref(),
            access.user(),
        );
        let transition = self.compute(deployed, ctx, state, command).await?;
        self.within_limit(&transition)?;
        Ok(Prepared { row, transition })
    }

    /// Writes a prepared command inside `txn`: locks the instance row, and
    /// writes only if its version is still the one the command read
    /// ([`Unmet::Version`] when another command changed the instance first,
    /// here or from the commit: the caller computes again). A consumed job
    /// must still be there (and leased by its owner, [`Unmet::Job`]).
    pub(crate) async fn write_prepared(
        &self,
        txn: &CommandTxn,
        p: &Prepared,
        access: Access<'_>,
        job: Option<&JobGuard>,
    ) -> Result<(), RuntimeError> {
        let row = &p.row;
        let tr = &p.transition;
        let db_now = to_db_time(self.clock.now());
        // The update is the lock and the version check in one statement.
        Store::update_instance(
            txn,
            row.id,
            row.version,
            InstanceUpdate {
                state: &tr.state,
                last_seq: row.last_seq + tr.events.len() as i64,
                now: db_now,
            },
        )
        .await?;
        if let Some(guard) = job {
            // Consumed before the effects are written: a repeating timer
            // schedules its next job for the same element.
            let now = to_db_time(self.lease_now());
            Store::consume_job(txn, guard.id, guard.owner.as_deref(), now).await?;
        }
        self.write_transition(
            txn,
            EffectContext {
                instance_id: row.id,
                parent: row.parent_id.zip(row.parent_key),
                definition_key: &row.definition_key,
                business_key: row.business_key.as_deref(),
                user: access.user(),
                now: db_now,
                instance_started_at: row.started_at,
            },
            (row.definition_id, Some(&row.state)),
            row.last_seq + 1,
            tr,
        )
        .await
    }

    /// What a command's failed write means: `Ok` for a lost race on the
    /// instance's version (the caller computes again), the error to report
    /// otherwise (the instance is gone, the job was taken meanwhile, or
    /// another failure).
    pub(crate) async fn lost_race(
        &self,
        e: RuntimeError,
        instance: Uuid,
        job: Option<&JobGuard>,
    ) -> Result<(), RuntimeError> {
        match (e, job) {
            (RuntimeError::Store(StoreError::Unmet(Unmet::Version(_))), _) => {
                if !self.store.instance_exists(instance).await? {
                    return Err(RuntimeError::NotFound(format!("instance {instance}")));
                }
                metrics::CONFLICTS.inc();
                tracing::debug!(instance.id = %instance, "version conflict, computing again");
                Ok(())
            }
            (RuntimeError::Store(StoreError::Unmet(Unmet::Job(_))), Some(guard)) => {
                // Why not (the job as committed).
                guard.check(self.store.job(guard.id).await?, self.lease_now())?;
                Err(RuntimeError::Conflict(format!(
                    "job {} has already run",
                    guard.id
                )))
            }
            (e, _) => Err(e),
        }
    }

    /// Checks the policy against the instance row as read (and, for a task
    /// command, its task row). Returns the task.
    pub(crate) async fn authorize(
        &self,
        row: &process_instance::Model,
        access: Access<'_>,
    ) -> Result<Option<user_task::Model>, RuntimeError> {
        self.authorize_with(row, access, None).await
    }

    /// [`Runtime::authorize`] with the task the access names when it was
    /// already read (with its instance, as of the same moment).
    async fn authorize_with(
        &self,
        row: &process_instance::Model,
        access: Access<'_>,
        read_task: Option<user_task::Model>,
    ) -> Result<Option<user_task::Model>, RuntimeError> {
        match access {
            Access::Engine | Access::Role(_) => Ok(None),
            Access::Instance(who, action) => {
                match self.decide_instance(who, action, row.id).await? {
                    Decision::Allowed => Ok(None),
                    Decision::Hidden => Err(RuntimeError::NotFound(format!("instance {}", row.id))),
                    Decision::Forbidden => {
                        Err(RuntimeError::Forbidden(policy::refusal(action, None)))
                    }
                }
            }
            Access::Task(who, action, task) => {
                let found = match task {
                    TaskRef::Id(id) => match read_task.filter(|t| t.id == id) {
                        Some(t) => Some(t),
                        None => self.store.task(id).await?,
                    }
                    .filter(|t| t.instance_id == row.id),
                    TaskRef::Element(element) => self.store.open_task_for(row.id, element).await?,
                };
                let Some(task) = found else {
                    return Err(match task {
                        TaskRef::Id(id) => RuntimeError::NotFound(format!("task {id}")),
                        TaskRef::Element(element) => {
                            // Whether the instance exists is not for everyone to learn.
                            match self
                                .decide_instance(who, Action::ViewInstance, row.id)
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
                    !who.is_admin() && self.store.is_candidate(&viewer(who), task.id).await?;
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

/// A refused start explained: the definition version it starts from is
/// suspended (deployed definitions are never deleted).
pub(crate) fn suspended(e: RuntimeError, deployed: &Deployed) -> RuntimeError {
    match e {
        RuntimeError::Store(StoreError::Unmet(Unmet::Definition(_))) => {
            let d = &deployed.definition;
            RuntimeError::Conflict(format!(
                "version {} of process \"{}\" is suspended: no instance starts from it until it is resumed",
                d.version, d.key
            ))
        }
        e => e,
    }
}
