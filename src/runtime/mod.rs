//! The runtime: the one door to the engine's state.
//!
//! Pages, the JSON API, the compatibility routes and the command line reach
//! instances, tasks, deployments and accounts only through the typed
//! commands and queries here, grouped by resource ([`Runtime::tasks`],
//! [`Runtime::instances`], [`Runtime::deployments`], [`Runtime::work`],
//! [`Runtime::accounts`], [`Runtime::system`]). Each takes the acting
//! [`Principal`] and asks the one authorization [`policy`]; what it returns
//! are the runtime's own view types, never database rows.
//!
//! One command = one transaction: read the instance (no lock), check the
//! policy, compute the engine's transition off the request threads within a
//! time budget, then lock the instance row and write the new state, history,
//! inbox tasks, jobs and subscriptions — only if the row's `version` is still
//! the one read; a lost race reads, checks and computes again. So any thread
//! of any process can serve any request: no instance lives in a process. A
//! user who loses a race for good (a task someone else completed) gets a
//! [`RuntimeError::Conflict`], never a panic. `command.rs` has the details.

pub mod accounts;
pub mod cache;
mod calls;
pub mod clock;
mod command;
pub mod connector;
pub mod decisions;
mod deployments;
mod external;
mod forms;
pub mod handlers;
mod instances;
pub mod jobs;
pub mod mail;
mod messages;
pub mod metrics;
mod operations;
pub mod policy;
mod running;
mod search;
mod statistics;
pub mod story;
pub mod system;
mod tasks;
pub mod views;
mod work;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::model::{self, Definitions, ParseError, Process};
use crate::store::{Store, StoreError, Viewer};

pub use crate::engine::Instruction;
/// The engine's events and instance state, read-only: what a command did
/// (the history rows) and where an instance stands. `bpmn run` prints them.
pub use crate::engine::{Event, InstanceState, Status, WaitingItem, waiting_items};
pub use accounts::{Accounts, FieldProblem, LoginError, NewUser, PasswordChange, User};
pub use calls::MAX_CALL_DEPTH;
pub use clock::{Clock, SystemClock, VirtualClock};
pub use command::{CommitHook, Limits, Outcome};
pub use connector::ConnectorPolicy;
pub use deployments::{
    DeployResult, DeployedDefinition, DeploymentView, Deployments, StartRequest, ViewOnlyView,
};
pub use forms::pending_forms;
pub use handlers::{FnHandler, HandlerError, ServiceCall, ServiceHandler};
pub use instances::Instances;
pub use mail::{MailSettings, MailView, Mailer};
pub use operations::{
    Migration, MigrationReport, MigrationResult, Modification, VersionSuspension,
};
pub use policy::{Action, Principal, Role};
pub use running::{
    ActivityNode, Compare, ProcessVersion, RunningSearch, RunningSort, VariableCondition, like,
};
pub use search::{
    ActivityRecord, HistoricInstance, HistoricState, IncidentRecord, IncidentSearch, IncidentSort,
    InstanceSearch, InstanceSort, TaskRecord, TaskScope, TaskSearch, TaskSort, VariableRecord,
    activity_type,
};
pub use statistics::{DefinitionStatistics, ElementStatistics, StatisticsVersion};
pub use story::{StoryEntry, StoryPart};
pub use system::System;
pub use tasks::{Completed, Tasks, Values};
pub use views::*;
pub use work::{
    Broadcast, Correlation, Delivery, ExternalTaskQuery, ExternalTaskView, LockedTask,
    TopicRequest, Work,
};

/// The default database: a SQLite file under `data/`.
pub use crate::store::DEFAULT_DATABASE_URL;
/// A database URL with its password masked, for messages and logs.
pub use crate::store::redact_url;

/// The estimated bytes of parsed diagrams (and, apart, decisions) a process
/// keeps at most.
const PARSED_BUDGET: usize = 256 * 1024 * 1024;

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
    /// It does not exist, or the principal may not see it.
    #[error("{0} not found")]
    NotFound(String),
    /// The request lost a race or came too late (a task already completed).
    #[error("{0}")]
    Conflict(String),
    /// Nothing there waits for this (no open task of that element, no
    /// element waiting for that message).
    #[error("{0}")]
    NotWaiting(String),
    /// The values do not fit the form.
    #[error("invalid values: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidVariables(Vec<model::form::FieldError>),
    /// The principal may see this but not do it.
    #[error("{0}")]
    Forbidden(String),
    /// A request the instance cannot accept in its state.
    #[error("{0}")]
    Rejected(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the instance is busy; gave up after {MAX_ATTEMPTS} attempts")]
    Busy,
    /// The command would write more than one command may.
    #[error("{0}")]
    TooLarge(String),
}

impl From<crate::engine::CommandError> for RuntimeError {
    fn from(e: crate::engine::CommandError) -> Self {
        use crate::engine::CommandError;
        match e {
            CommandError::InvalidVariables(errors) => RuntimeError::InvalidVariables(errors),
            CommandError::NotWaiting { .. }
            | CommandError::NotActive(_)
            | CommandError::NoSuchIncident(_)
            | CommandError::AlreadyClaimed(_)
            | CommandError::Suspended(_) => RuntimeError::Conflict(e.to_string()),
            CommandError::Refused(_) => RuntimeError::Rejected(e.to_string()),
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
    pub definition: Definition,
    pub definitions: Definitions,
    process: usize,
}

impl Deployed {
    /// The process this definition runs.
    pub fn process(&self) -> &Process {
        &self.definitions.processes[self.process]
    }
}

/// The engine's entry point for everything that changes instances.
pub struct Runtime {
    store: Store,
    clock: Arc<dyn Clock>,
    options: model::Options,
    cache: cache::ParsedCache<Deployed>,
    decision_cache: decisions::DecisionCache,
    /// The newest version (its id) this process has started from, per
    /// process key; each start from it checks that it still is the newest.
    latest: Mutex<HashMap<String, i64>>,
    /// Woken whenever new external work is committed (long-polling workers wait on it).
    external_work: tokio::sync::Notify,
    /// Woken whenever work for the job executor is committed by this process.
    job_work: tokio::sync::Notify,
    handlers: HashMap<String, Arc<dyn ServiceHandler>>,
    /// The database clock minus ours, in milliseconds (PostgreSQL with the system clock).
    db_offset_ms: AtomicI64,
    before_commit: Mutex<Option<CommitHook>>,
    password_gate: accounts::PasswordGate,
    limits: Limits,
    /// What connector calls may reach.
    connector: connector::ConnectorPolicy,
    /// Sends notification mails (none without an SMTP server).
    mailer: Option<Arc<mail::Mailer>>,
}

impl Runtime {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Runtime {
        Runtime {
            store,
            clock,
            options: model::Options::default(),
            cache: cache::ParsedCache::new(PARSED_BUDGET),
            decision_cache: decisions::DecisionCache::new(PARSED_BUDGET / 4),
            latest: Mutex::new(HashMap::new()),
            external_work: tokio::sync::Notify::new(),
            job_work: tokio::sync::Notify::new(),
            handlers: HashMap::new(),
            db_offset_ms: AtomicI64::new(0),
            before_commit: Mutex::new(None),
            password_gate: accounts::PasswordGate::new(),
            limits: Limits::default(),
            connector: connector::ConnectorPolicy::default(),
            mailer: None,
        }
    }

    /// Opens (and migrates) the database at `url` — `sqlite://...` or
    /// `postgres://...` — and builds a runtime on it.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Runtime, RuntimeError> {
        Ok(Runtime::new(Store::connect(url).await?, clock))
    }

    /// Registers a service handler under `name` (before anything is deployed):
    /// service tasks with `camunda:delegateExpression="${name}"` or
    /// `camunda:class="name"` call it.
    pub fn with_handler(mut self, name: &str, handler: Arc<dyn ServiceHandler>) -> Runtime {
        self.options.service_handlers.push(name.to_string());
        self.handlers.insert(name.to_string(), handler);
        self
    }

    /// Sets what one command may take (time and bytes).
    pub fn with_limits(mut self, limits: Limits) -> Runtime {
        self.limits = limits;
        self
    }

    /// Sets what the `http-connector` may reach and how long its calls may
    /// take (by default: hosts the diagram writes, public addresses, 60 s).
    pub fn with_connector_policy(mut self, policy: connector::ConnectorPolicy) -> Runtime {
        self.connector = policy;
        self
    }

    /// What connector calls may reach.
    pub(crate) fn connector_policy(&self) -> &connector::ConnectorPolicy {
        &self.connector
    }

    /// The handler registered under `name`.
    pub(crate) fn handler(&self, name: &str) -> Option<Arc<dyn ServiceHandler>> {
        self.handlers.get(name).cloned()
    }

    /// Installs (or removes) a hook awaited just before each instance command commits.
    #[doc(hidden)]
    pub fn set_before_commit(&self, hook: Option<CommitHook>) {
        if let Ok(mut h) = self.before_commit.lock() {
            *h = hook;
        }
    }

    /// The clock commands run on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
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

    /// The store (inside the runtime only: everything outside goes through the
    /// typed commands and queries).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Checks a diagram without deploying it.
    pub fn validate(&self, bytes: &[u8]) -> Result<Definitions, ParseError> {
        model::parse_with(bytes, &self.options)
    }

    /// A deployed definition with its parsed model (parsed once per process).
    pub(crate) async fn deployed(&self, definition_id: i64) -> Result<Arc<Deployed>, RuntimeError> {
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
            definition: definition.into(),
            definitions,
            process,
        });
        self.cache.put(
            definition_id,
            deployed.clone(),
            dep.source.len() * cache::PARSED_PER_SOURCE_BYTE,
        );
        Ok(deployed)
    }

    /// An instance's row and state (inside the runtime).
    pub(crate) async fn instance_row(
        &self,
        id: uuid::Uuid,
    ) -> Result<(crate::store::entity::process_instance::Model, InstanceState), RuntimeError> {
        let row = self
            .store
            .instance(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {id}")))?;
        let state = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {id}: {e}")))?;
        Ok((row, state))
    }

    fn cache_get(&self, id: i64) -> Option<Arc<Deployed>> {
        self.cache.get(id)
    }

    /// Today's date (UTC) on the runtime's clock: what forms check dates against.
    pub(crate) fn today(&self) -> jiff::civil::Date {
        self.clock
            .now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()
    }

    /// The newest version of a process key this process has started from.
    fn latest_seen(&self, key: &str) -> Option<i64> {
        self.latest.lock().ok()?.get(key).copied()
    }

    /// Remembers the newest version of a process key (a start from it was
    /// written, so it was the newest then).
    fn saw_latest(&self, key: &str, id: i64) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.insert(key.to_string(), id);
        }
    }
}

/// What the store's queries filter by for a principal.
pub(crate) fn viewer(who: &Principal) -> Viewer {
    Viewer {
        name: who.name.clone(),
        groups: who.groups.clone(),
        admin: who.is_admin(),
    }
}

/// Refuses a principal whose role does not allow an action (rules that
/// depend on nothing but the role; the others are checked against the rows).
pub(crate) fn require(who: &Principal, action: Action) -> Result<(), RuntimeError> {
    if policy::allows(who.kind(), action) {
        Ok(())
    } else {
        Err(RuntimeError::Forbidden(policy::refusal(action, None)))
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
