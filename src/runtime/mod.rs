//! The runtime: one command = one transaction.
//!
//! Every operation on an instance loads its row (locked for update), runs the
//! pure engine, and saves the new state, history, inbox tasks, jobs and
//! subscriptions in the same transaction — but only if the row's `version` is
//! still the one it read. A lost race rolls back and retries the whole command,
//! so any thread of any process can serve any request: no instance lives in a
//! process. A user who loses a race for good (a task someone else completed)
//! gets a [`RuntimeError::Conflict`], never a panic.
//!
//! Deployment lives here too: parse and validate a file, and store a new
//! version per process unless the same content is already the latest.

pub mod accounts;
mod calls;
pub mod clock;
pub mod connector;
pub mod decisions;
pub mod external;
pub mod handlers;
pub mod jobs;
pub mod messages;
pub mod metrics;
pub mod views;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::engine::{self, Command, CommandError, Event, InstanceState};
use crate::model::{self, Definitions, ParseError, Process};
use crate::store::entity::{job, process_definition, process_instance, user_task};
use crate::store::{
    EffectContext, InstanceUpdate, NewInstance, Store, StoreError, Txn, to_db_time,
};
pub use crate::store::{InstanceQuery, TaskOrder, TaskQuery, Total, Viewer};
pub use accounts::{LoginError, User};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use handlers::{FnHandler, HandlerError, ServiceCall, ServiceHandler};
pub use views::{
    DefinitionRow, HistoryView, IncidentView, InstanceDetail, InstanceView, TaskDetail, TaskView,
    VersionView, WaitView,
};

/// How many times a command is retried after losing a race.
const MAX_ATTEMPTS: u32 = 8;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The diagram was refused.
    #[error("the diagram is invalid:\n{0}")]
    Invalid(ParseError),
    #[error("{0} not found")]
    NotFound(String),
    /// The request lost a race or came too late (a task already completed).
    #[error("{0}")]
    Conflict(String),
    /// The values do not fit the form.
    #[error("invalid values: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidVariables(Vec<model::form::FieldError>),
    /// The viewer may see this but not do it.
    #[error("{0}")]
    Forbidden(String),
    /// A request the instance cannot accept in its state.
    #[error("{0}")]
    Rejected(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the instance is busy; gave up after {MAX_ATTEMPTS} attempts")]
    Busy,
}

impl From<CommandError> for RuntimeError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::InvalidVariables(errors) => RuntimeError::InvalidVariables(errors),
            CommandError::NotWaiting { .. }
            | CommandError::NotActive(_)
            | CommandError::NoSuchIncident(_)
            | CommandError::AlreadyClaimed(_) => RuntimeError::Conflict(e.to_string()),
            CommandError::AlreadyStarted
            | CommandError::Listener(_)
            | CommandError::NoStartEvent
            | CommandError::NoSuchStartEvent(_) => RuntimeError::Rejected(e.to_string()),
        }
    }
}

/// A deployed process definition with its parsed model.
#[derive(Debug)]
pub struct Deployed {
    pub definition: process_definition::Model,
    pub definitions: Definitions,
    process: usize,
}

impl Deployed {
    /// The process this definition runs.
    pub fn process(&self) -> &Process {
        &self.definitions.processes[self.process]
    }
}

/// The result of deploying a file.
#[derive(Debug, Clone)]
pub struct DeployResult {
    /// The definitions of the file's runnable processes (new or existing).
    pub definitions: Vec<DeployedDefinition>,
    /// The decisions of a DMN file (new or existing versions).
    pub decisions: Vec<DeployedDefinition>,
    pub warnings: Vec<model::Diagnostic>,
}

/// One process of a deployment.
#[derive(Debug, Clone)]
pub struct DeployedDefinition {
    pub id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    /// Whether this deployment created it (false: identical to the latest version).
    pub created: bool,
    pub is_default: bool,
}

/// A job a command consumes: it must still exist, and — when `owner` is set —
/// be leased by that owner, unexpired.
#[derive(Debug, Clone)]
pub struct JobGuard {
    pub id: Uuid,
    pub owner: Option<String>,
}

impl JobGuard {
    fn check(&self, job: Option<job::Model>, now: jiff::Timestamp) -> Result<(), RuntimeError> {
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

/// A new instance about to be inserted.
#[derive(Clone, Copy)]
struct Started<'a> {
    deployed: &'a Deployed,
    id: Uuid,
    business_key: Option<&'a str>,
    user: Option<&'a str>,
    /// For a called instance: the calling instance and its call activity's key.
    parent: Option<(Uuid, i64)>,
}

/// The outcome of a command on an instance.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub instance_id: Uuid,
    pub events: Vec<Event>,
    pub state: InstanceState,
}

/// Something to await just before a command commits (tests use it to hold
/// two transactions at the brink and let them go in a chosen order).
pub type CommitHook = Arc<dyn Fn(Uuid) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The engine's entry point for everything that changes instances.
pub struct Runtime {
    store: Store,
    clock: Arc<dyn Clock>,
    options: model::Options,
    cache: Mutex<HashMap<i64, Arc<Deployed>>>,
    decision_cache: decisions::DecisionCache,
    /// Woken whenever new external work is committed (long-polling workers wait on it).
    external_work: tokio::sync::Notify,
    /// Woken whenever work for the job executor is committed by this process.
    job_work: tokio::sync::Notify,
    handlers: HashMap<String, Arc<dyn ServiceHandler>>,
    /// The database clock minus ours, in milliseconds (PostgreSQL with the system clock).
    db_offset_ms: AtomicI64,
    before_commit: Mutex<Option<CommitHook>>,
}

impl Runtime {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Runtime {
        Runtime {
            store,
            clock,
            options: model::Options::default(),
            cache: Mutex::new(HashMap::new()),
            decision_cache: Default::default(),
            external_work: tokio::sync::Notify::new(),
            job_work: tokio::sync::Notify::new(),
            handlers: HashMap::new(),
            db_offset_ms: AtomicI64::new(0),
            before_commit: Mutex::new(None),
        }
    }

    /// Registers a service handler under `name` (before anything is deployed):
    /// service tasks with `camunda:delegateExpression="${name}"` or
    /// `camunda:class="name"` call it.
    pub fn with_handler(mut self, name: &str, handler: Arc<dyn ServiceHandler>) -> Runtime {
        self.options.service_handlers.push(name.to_string());
        self.handlers.insert(name.to_string(), handler);
        self
    }

    /// The handler registered under `name`.
    pub fn handler(&self, name: &str) -> Option<Arc<dyn ServiceHandler>> {
        self.handlers.get(name).cloned()
    }

    /// Installs (or removes) a hook awaited just before each instance command commits.
    #[doc(hidden)]
    pub fn set_before_commit(&self, hook: Option<CommitHook>) {
        if let Ok(mut h) = self.before_commit.lock() {
            *h = hook;
        }
    }

    async fn before_commit(&self, instance_id: Uuid) {
        let hook = self.before_commit.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(instance_id).await;
        }
    }

    /// The time leases are measured in: the database's clock on PostgreSQL (so
    /// that processes on several machines agree), ours otherwise.
    pub fn lease_now(&self) -> jiff::Timestamp {
        let now = self.clock.now();
        let offset = self.db_offset_ms.load(Ordering::Relaxed);
        if offset == 0 {
            return now;
        }
        now.checked_add(jiff::SignedDuration::from_millis(offset))
            .unwrap_or(now)
    }

    /// Measures how far the database's clock is from ours (PostgreSQL, real time only).
    pub async fn sync_database_time(&self) -> Result<(), RuntimeError> {
        if !self.clock.is_real() {
            return Ok(());
        }
        let before = self.clock.now();
        if let Some(db) = self.store.database_time().await? {
            let after = self.clock.now();
            let mid =
                before.as_millisecond() + (after.as_millisecond() - before.as_millisecond()) / 2;
            let offset = db.timestamp_millis() - mid;
            // Within a few milliseconds it is the round trip, not a clock difference.
            let offset = if offset.abs() < 50 { 0 } else { offset };
            self.db_offset_ms.store(offset, Ordering::Relaxed);
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Checks a diagram without deploying it.
    pub fn validate(&self, bytes: &[u8]) -> Result<Definitions, ParseError> {
        model::parse_with(bytes, &self.options)
    }

    /// Deploys a BPMN file: each runnable process becomes a new version of its
    /// key, unless the latest version has exactly this content. A DMN file
    /// deploys its decisions the same way.
    pub async fn deploy(
        &self,
        name: &str,
        bytes: &[u8],
        by: Option<&str>,
    ) -> Result<DeployResult, RuntimeError> {
        if crate::dmn::is_dmn(bytes) {
            return self.deploy_dmn(name, bytes, by).await;
        }
        let defs = self.validate(bytes).map_err(RuntimeError::Invalid)?;
        let source = utf8_source(bytes)?;
        let checksum = hex(&Sha256::digest(source.as_bytes()));
        let runnable: Vec<&Process> = defs.runnable().collect();
        let txn = self.store.begin_write().await?;
        Store::lock_deployments(&txn).await?;
        let mut existing = Vec::new();
        for p in &runnable {
            match Store::latest_definition_in(&txn, &p.id).await? {
                Some((d, sum)) if sum == checksum => existing.push(Some(d)),
                _ => existing.push(None),
            }
        }
        let now = to_db_time(self.clock.now());
        let default_id = defs.main_process().map(|p| p.id.clone());
        let mut out = Vec::new();
        if existing.iter().all(Option::is_some) {
            drop(txn);
            for d in existing.into_iter().flatten() {
                out.push(summary(&d, false));
            }
        } else {
            let dep = Store::insert_deployment(&txn, name, &source, &checksum, by, now).await?;
            for (p, old) in runnable.iter().zip(existing) {
                let d = match old {
                    Some(d) => {
                        out.push(summary(&d, false));
                        continue;
                    }
                    None => {
                        let is_default = default_id.as_deref() == Some(p.id.as_str());
                        let d = Store::insert_definition(
                            &txn,
                            dep,
                            &p.id,
                            p.name.as_deref(),
                            is_default,
                            now,
                        )
                        .await?;
                        // The new version's schedule replaces the old one's.
                        let timers = start_timers(p, d.id, self.clock.now())?;
                        Store::replace_start_timers(&txn, &p.id, &timers, now).await?;
                        d
                    }
                };
                out.push(summary(&d, true));
            }
            Store::commit(txn).await?;
        }
        Ok(DeployResult {
            definitions: out,
            decisions: Vec::new(),
            warnings: defs.warnings,
        })
    }

    /// A deployed definition with its parsed model (parsed once per process).
    pub async fn deployed(&self, definition_id: i64) -> Result<Arc<Deployed>, RuntimeError> {
        if let Some(d) = self.cache_get(definition_id) {
            return Ok(d);
        }
        let (definition, dep) = self
            .store
            .definition_with_source(definition_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("definition {definition_id}")))?;
        let definitions = model::parse_with(dep.source.as_bytes(), &self.options).map_err(|e| {
            RuntimeError::Corrupt(format!("deployment {} no longer parses: {e}", dep.id))
        })?;
        let process = definitions
            .processes
            .iter()
            .position(|p| p.id == definition.key)
            .ok_or_else(|| {
                RuntimeError::Corrupt(format!(
                    "deployment {} has no process {}",
                    dep.id, definition.key
                ))
            })?;
        let deployed = Arc::new(Deployed {
            definition,
            definitions,
            process,
        });
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(definition_id, deployed.clone());
        }
        Ok(deployed)
    }

    fn cache_get(&self, id: i64) -> Option<Arc<Deployed>> {
        self.cache.lock().ok().and_then(|c| c.get(&id).cloned())
    }

    /// Starts an instance of a definition.
    pub async fn start(
        &self,
        definition_id: i64,
        variables: Map<String, Value>,
        business_key: Option<String>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::Start {
            variables,
            initiator: user.map(str::to_string),
        };
        self.start_with(definition_id, command, business_key, user)
            .await
    }

    /// Starts an instance at a given start event (a message or signal start).
    pub async fn start_at(
        &self,
        definition_id: i64,
        element: &str,
        variables: Map<String, Value>,
        business_key: Option<String>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::StartAt {
            element: element.to_string(),
            variables,
        };
        self.start_with(definition_id, command, business_key, user)
            .await
    }

    async fn start_with(
        &self,
        definition_id: i64,
        command: Command,
        business_key: Option<String>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let deployed = self.deployed(definition_id).await?;
        let process = deployed.process();
        let id = Uuid::now_v7();
        let fresh = InstanceState::new(&process.id);
        let tr = engine::execute(process, &fresh, command, self.clock.now())?;
        let txn = self.store.begin_write().await?;
        self.insert_started(
            &txn,
            Started {
                deployed: &deployed,
                id,
                business_key: business_key.as_deref(),
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
    async fn insert_started(
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
                definition: &s.deployed.definition,
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
        if jobs::creates_local_work(&tr.effects) {
            Store::announce_jobs(txn).await?;
        }
        Ok(())
    }

    /// Commits a command's transaction and wakes whoever waits for its work.
    async fn commit(
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
    fn committed(&self, tr: &engine::Transition) {
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
        if jobs::creates_local_work(&tr.effects) {
            self.job_work.notify_waiters();
        }
    }

    /// Runs a command on an instance in one transaction, retrying lost races.
    /// `job` names a job row that is consumed by the command (deleted with it).
    async fn command(
        &self,
        instance_id: Uuid,
        user: Option<&str>,
        job: Option<&JobGuard>,
        make: impl Fn(&process_instance::Model, &InstanceState) -> Result<Command, RuntimeError>,
    ) -> Result<Outcome, RuntimeError> {
        for attempt in 0..MAX_ATTEMPTS {
            let txn = self.store.begin_write().await?;
            let Some(tr) = self.command_in(&txn, instance_id, user, job, &make).await? else {
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

    /// A command's work inside `txn`, not yet committed; `None` when another
    /// command changed the instance first (the caller retries).
    async fn command_in(
        &self,
        txn: &Txn,
        instance_id: Uuid,
        user: Option<&str>,
        job: Option<&JobGuard>,
        make: &impl Fn(&process_instance::Model, &InstanceState) -> Result<Command, RuntimeError>,
    ) -> Result<Option<engine::Transition>, RuntimeError> {
        let row = Store::lock_instance(txn, instance_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {instance_id}")))?;
        if let Some(guard) = job {
            guard.check(Store::job_in(txn, guard.id).await?, self.lease_now())?;
        }
        let deployed = self.deployed(row.definition_id).await?;
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {instance_id}: {e}")))?;
        let command = make(&row, &state)?;
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
                user,
                now: db_now,
            },
            row.last_seq + 1,
            &tr,
        )
        .await?;
        Ok(Some(tr))
    }

    /// Completes a user task with the submitted values (validated against its form).
    pub async fn complete_task(
        &self,
        task_id: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let task = self
            .store
            .task(task_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("task {task_id}")))?;
        if task.state != "open" {
            return Err(RuntimeError::Conflict(format!(
                "the task \"{}\" was already {}",
                task.name.as_deref().unwrap_or(&task.element_id),
                task.state
            )));
        }
        let key = task.element_key as u64;
        let name = task.name.clone().unwrap_or_else(|| task.element_id.clone());
        self.command(task.instance_id, user, None, |_, state| {
            if !state.elements.contains_key(&key) {
                return Err(RuntimeError::Conflict(format!(
                    "the task \"{name}\" was already completed"
                )));
            }
            Ok(Command::CompleteUserTask {
                key,
                variables: variables.clone(),
            })
        })
        .await
    }

    /// Delivers a message to the oldest element of an instance waiting for it.
    /// `None` when nothing in the instance waits for that message.
    pub async fn correlate(
        &self,
        instance_id: Uuid,
        name: &str,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        let subs = self.store.subscriptions(instance_id, name).await?;
        match subs.first() {
            Some(sub) => Ok(Some(self.deliver(sub, &variables, user).await?)),
            None => Ok(None),
        }
    }

    /// Runs a job whose work is done (a due timer, an async continuation, or a
    /// connector/external job with its result variables). The job row is consumed.
    pub async fn run_job(
        &self,
        job: &job::Model,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let key = job.element_key as u64;
        let guard = JobGuard {
            id: job.id,
            owner: None,
        };
        self.command(job.instance_id, None, Some(&guard), |_, _| {
            Ok(Command::CompleteJob {
                key,
                variables: variables.clone(),
            })
        })
        .await
    }

    /// Triggers the oldest instance of `element` that waits for a trigger (a
    /// receive task without a message), with these variables.
    pub async fn trigger(
        &self,
        instance_id: Uuid,
        element: &str,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.command(instance_id, user, None, |_, state| {
            let key = state
                .elements
                .iter()
                .find(|(_, e)| e.element == element && e.wait == Some(engine::Wait::Trigger))
                .map(|(k, _)| *k)
                .ok_or_else(|| {
                    RuntimeError::NotFound(format!(
                        "an element \"{element}\" waiting to be triggered"
                    ))
                })?;
            Ok(Command::Trigger {
                key,
                variables: variables.clone(),
            })
        })
        .await
    }

    /// Retries the step an incident stopped.
    pub async fn retry_incident(
        &self,
        instance_id: Uuid,
        incident: u64,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.command(instance_id, user, None, |_, _| {
            Ok(Command::RetryIncident { incident })
        })
        .await
    }

    /// Cancels an instance.
    pub async fn cancel(
        &self,
        instance_id: Uuid,
        reason: &str,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.command(instance_id, user, None, |_, _| {
            Ok(Command::Cancel {
                reason: reason.to_string(),
            })
        })
        .await
    }

    /// Sets instance variables.
    pub async fn set_variables(
        &self,
        instance_id: Uuid,
        variables: Map<String, Value>,
        user: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        self.command(instance_id, user, None, |_, _| {
            Ok(Command::SetVariables {
                variables: variables.clone(),
            })
        })
        .await
    }

    /// The BPMN source of a definition's deployment.
    pub async fn source(&self, definition_id: i64) -> Result<String, RuntimeError> {
        let (_, dep) = self
            .store
            .definition_with_source(definition_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("definition {definition_id}")))?;
        Ok(dep.source)
    }

    /// An instance's row and state.
    pub async fn instance(
        &self,
        id: Uuid,
    ) -> Result<(process_instance::Model, InstanceState), RuntimeError> {
        let row = self
            .store
            .instance(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {id}")))?;
        let state = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        Ok((row, state))
    }

    /// The oldest open task of an instance for an element.
    pub async fn open_task_for(
        &self,
        instance_id: Uuid,
        element: &str,
    ) -> Result<Option<user_task::Model>, RuntimeError> {
        Ok(self
            .store
            .open_tasks(instance_id)
            .await?
            .into_iter()
            .find(|t| t.element_id == element))
    }
}

/// The first firings of a process's timer start events.
fn start_timers(
    p: &Process,
    definition_id: i64,
    now: jiff::Timestamp,
) -> Result<Vec<crate::store::NewStartTimer>, RuntimeError> {
    let mut out = Vec::new();
    for n in &p.timer_starts {
        let element = &p.nodes[*n].id;
        let due = engine::start_timer_due(p, element, 0, None, now).map_err(|e| {
            RuntimeError::Invalid(ParseError {
                diagnostics: vec![model::Diagnostic {
                    severity: model::Severity::Error,
                    line: 0,
                    column: 0,
                    element: Some(element.clone()),
                    kind: Some("startEvent".into()),
                    message: e,
                }],
            })
        })?;
        if let Some(due) = due {
            out.push(crate::store::NewStartTimer {
                definition_id,
                definition_key: p.id.clone(),
                element_id: element.clone(),
                due: to_db_time(due),
                fired: 0,
            });
        }
    }
    Ok(out)
}

fn summary(d: &process_definition::Model, created: bool) -> DeployedDefinition {
    DeployedDefinition {
        id: d.id,
        key: d.key.clone(),
        version: d.version,
        name: d.name.clone(),
        created,
        is_default: d.is_default,
    }
}

/// A deployed file's text as stored (UTF-8), or why it cannot be read.
fn utf8_source(bytes: &[u8]) -> Result<String, RuntimeError> {
    model::xml::to_utf8_source(bytes).map_err(|e| {
        RuntimeError::Invalid(ParseError {
            diagnostics: vec![model::Diagnostic {
                severity: model::Severity::Error,
                line: 0,
                column: 0,
                element: None,
                kind: None,
                message: e.message,
            }],
        })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits a little before retrying, longer each time, with jitter so that two
/// racing commands do not collide again in lock step.
async fn backoff(attempt: u32) {
    let base = 2u64.saturating_pow(attempt.min(6));
    let jitter = rand::random::<u64>() % (base + 1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}
