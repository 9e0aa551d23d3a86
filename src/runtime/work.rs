//! Work from outside the engine: external task workers (fetch and lock,
//! complete, fail, BPMN error, extend a lock), messages and signals.
//!
//! External task routes are for workers and admins (a worker is a service
//! account). A message from an ordinary user reaches only instances they may
//! see — any other waiting instance is, for them, not waiting at all; workers
//! and admins reach every instance. Signals are broadcast by workers and
//! admins.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::messages::Sender;
use super::policy::{Action, Principal};
use super::{Outcome, Runtime, RuntimeError, require};

pub use super::external::{ExternalTaskQuery, ExternalTaskView, LockedTask, TopicRequest};
pub use super::messages::{Broadcast, Correlation, Delivery};

/// External tasks, messages and signals, as a principal sends them.
pub struct Work<'r> {
    rt: &'r Runtime,
}

impl Runtime {
    /// Work from outside: external task workers, messages and signals.
    pub fn work(&self) -> Work<'_> {
        Work { rt: self }
    }
}

impl Work<'_> {
    /// Locks up to `max` tasks of these topics for `worker`, waiting up to
    /// `wait` for some to arrive when none is available now.
    pub async fn fetch_and_lock(
        &self,
        who: &Principal,
        worker: &str,
        max: usize,
        topics: &[TopicRequest],
        wait: Duration,
    ) -> Result<Vec<LockedTask>, RuntimeError> {
        require(who, Action::FetchExternalTasks)?;
        self.rt.fetch_and_lock(worker, max, topics, wait).await
    }

    /// Completes a task `worker` has locked, with its result variables.
    pub async fn complete(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        require(who, Action::ReportExternalTask)?;
        self.rt.complete_external(who, id, worker, variables).await
    }

    /// `worker` could not do the work: retried after `retry_in` while
    /// `retries` are left, else an incident.
    pub async fn fail(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        message: &str,
        retries: i32,
        retry_in: Duration,
    ) -> Result<(), RuntimeError> {
        require(who, Action::ReportExternalTask)?;
        self.rt
            .fail_external(who, id, worker, message, retries, retry_in)
            .await
    }

    /// `worker` reports a business error, caught by an error boundary event
    /// (else an incident).
    pub async fn bpmn_error(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        code: &str,
        message: &str,
    ) -> Result<Outcome, RuntimeError> {
        self.bpmn_error_with(who, id, worker, code, message, Map::new())
            .await
    }

    /// `worker` reports a business error with variables, set before the
    /// error is thrown (so the path that catches it sees them).
    pub async fn bpmn_error_with(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        code: &str,
        message: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        require(who, Action::ReportExternalTask)?;
        self.rt
            .bpmn_error_external(who, id, worker, code, message, variables)
            .await
    }

    /// Extends `worker`'s lock on a task by `by` from now.
    pub async fn extend_lock(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        by: Duration,
    ) -> Result<DateTime<Utc>, RuntimeError> {
        require(who, Action::ReportExternalTask)?;
        self.rt.extend_lock(id, worker, by).await
    }

    /// Locks one task for `worker` (taking it when free, renewing the
    /// worker's own lock); another worker's lock is a conflict.
    pub async fn lock(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        lock: Duration,
    ) -> Result<DateTime<Utc>, RuntimeError> {
        require(who, Action::FetchExternalTasks)?;
        self.rt.lock_external(id, worker, lock).await
    }

    /// External tasks matching a query (workers and admins), and how many
    /// match in all.
    pub async fn external_tasks(
        &self,
        who: &Principal,
        q: &ExternalTaskQuery,
    ) -> Result<(Vec<ExternalTaskView>, u64), RuntimeError> {
        require(who, Action::FetchExternalTasks)?;
        self.rt.external_tasks(q).await
    }

    /// Gives a task's lock back, whoever holds it (admins and workers).
    pub async fn unlock(&self, who: &Principal, id: Uuid) -> Result<(), RuntimeError> {
        require(who, Action::ReportExternalTask)?;
        self.rt.unlock_external(id).await
    }

    /// Delivers a message to the one waiting subscription that matches (or
    /// to all with `all`); when none waits, starts the processes with a
    /// message start event of that name. Nothing waiting and nothing started
    /// is not found; several waiting without `all` is a conflict.
    pub async fn message(
        &self,
        who: &Principal,
        name: &str,
        to: Correlation<'_>,
        variables: Map<String, Value>,
        all: bool,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        self.rt.deliver_message(who, name, to, variables, all).await
    }

    /// Delivers a message to the oldest element of one instance waiting for
    /// it; `None` when nothing there waits for it.
    pub async fn message_to(
        &self,
        who: &Principal,
        instance: Uuid,
        name: &str,
        variables: Map<String, Value>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        let subs = self.rt.store().subscriptions(instance, name).await?;
        match subs.first() {
            Some(sub) => Ok(Some(
                self.rt
                    .deliver(sub, &variables, Sender::Principal(who))
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// Starts an instance at every conditional start event (of the newest
    /// version of each process, or of process `key`) whose condition holds
    /// with `variables`, as Camunda 7's condition evaluation does.
    pub async fn conditions(
        &self,
        who: &Principal,
        variables: Map<String, Value>,
        business_key: Option<&str>,
        key: Option<&str>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        self.rt
            .start_by_conditions(who, variables, business_key, key)
            .await
    }

    /// Broadcasts a signal to every catch event waiting for it, and starts
    /// every process with a signal start event of that name.
    pub async fn signal(
        &self,
        who: &Principal,
        name: &str,
        variables: Map<String, Value>,
    ) -> Result<Broadcast, RuntimeError> {
        self.rt
            .broadcast_signal(name, variables, Sender::Principal(who))
            .await
    }
}
