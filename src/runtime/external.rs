//! External tasks: service tasks whose work is done by workers outside the
//! engine, in any language. A worker fetches tasks of its topics and locks them
//! (the same lease as the job executor's, so two workers never hold the same
//! task), then completes them, reports a failure (retried later, or an incident
//! when no retries are left) or a BPMN error, or extends its lock. A worker whose
//! lock has expired can no longer complete: someone else may have the task.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Access, JobGuard, Locked, Target};
use super::policy::Principal;
use super::{Outcome, Runtime, RuntimeError, metrics};
use crate::engine::{Command, JobType};
use crate::store::{ExternalJobFilter, to_db_time};

/// The longest a fetch may wait for work.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The longest lock a worker may take at once.
pub const MAX_LOCK: Duration = Duration::from_secs(24 * 3600);

/// A topic a worker asks for.
#[derive(Debug, Clone)]
pub struct TopicRequest {
    pub name: String,
    pub lock: Duration,
    /// Only tasks of instances with this business key.
    pub business_key: Option<String>,
    /// Only tasks of instances of this process (by key).
    pub definition_key: Option<String>,
}

impl TopicRequest {
    /// A request for every task of a topic.
    pub fn new(name: impl Into<String>, lock: Duration) -> TopicRequest {
        TopicRequest {
            name: name.into(),
            lock,
            business_key: None,
            definition_key: None,
        }
    }

    fn admits(&self, topic: &str, definition_key: &str, business_key: Option<&str>) -> bool {
        self.name == topic
            && self
                .definition_key
                .as_deref()
                .is_none_or(|k| k == definition_key)
            && self
                .business_key
                .as_deref()
                .is_none_or(|k| Some(k) == business_key)
    }
}

/// A task locked for a worker.
#[derive(Debug, Clone, Serialize)]
pub struct LockedTask {
    pub id: Uuid,
    pub topic: String,
    pub worker_id: String,
    pub lock_expires_at: DateTime<Utc>,
    pub instance_id: Uuid,
    pub element_id: String,
    pub element_name: String,
    pub definition_key: String,
    pub business_key: Option<String>,
    /// The deployed definition (its numeric id).
    pub definition_id: i64,
    /// The element instance of the service task within its instance.
    pub element_key: u64,
    /// The variables the service task sees.
    pub variables: Map<String, Value>,
    /// The variables of the service task's own scope.
    pub local_variables: Map<String, Value>,
    pub retries: i32,
    pub error_message: Option<String>,
}

/// Which external tasks a list asks for (every part optional).
#[derive(Debug, Clone, Default)]
pub struct ExternalTaskQuery {
    pub topic: Option<String>,
    /// Locked by this worker now.
    pub worker: Option<String>,
    pub instance: Option<Uuid>,
    /// Locked now (`true`) or free (`false`).
    pub locked: Option<bool>,
    /// How many to skip, and the most to return.
    pub first: u64,
    pub max: u64,
}

/// An external task as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalTaskView {
    pub id: Uuid,
    pub topic: String,
    /// The worker holding it now, and until when.
    pub worker_id: Option<String>,
    pub lock_expires_at: Option<DateTime<Utc>>,
    pub instance_id: Uuid,
    pub element_id: String,
    pub element_key: u64,
    pub definition_id: i64,
    pub definition_key: String,
    pub business_key: Option<String>,
    pub retries: i32,
    pub error_message: Option<String>,
    /// Whether its instance is suspended (it is then never fetched).
    pub suspended: bool,
}

fn guard(id: Uuid, worker: &str) -> JobGuard {
    JobGuard {
        id,
        owner: Some(worker.to_string()),
    }
}

impl Runtime {
    /// Locks up to `max` tasks of these topics for `worker`, waiting up to `wait`
    /// for some to arrive when none is available now.
    pub(crate) async fn fetch_and_lock(
        &self,
        worker: &str,
        max: usize,
        topics: &[TopicRequest],
        wait: Duration,
    ) -> Result<Vec<LockedTask>, RuntimeError> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        loop {
            // Register interest before looking, so that work committed in between wakes us.
            let notified = self.external_work.notified();
            let locked = self.lock_available(worker, max, topics).await?;
            if !locked.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(locked);
            }
            // Other processes do not notify this one: look again now and then.
            let poll = tokio::time::Instant::now() + Duration::from_millis(250);
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(poll.min(deadline)) => {}
            }
        }
    }

    async fn lock_available(
        &self,
        worker: &str,
        max: usize,
        topics: &[TopicRequest],
    ) -> Result<Vec<LockedTask>, RuntimeError> {
        let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
        let now = self.lease_now();
        let db_now = to_db_time(now);
        let candidates = self
            .store()
            .free_external_jobs(&names, db_now, (max as u64).saturating_mul(2).max(1))
            .await?;
        let mut out = Vec::new();
        for job in candidates {
            if out.len() >= max {
                break;
            }
            let topic = job.topic.clone().unwrap_or_default();
            let (row, state) = self.instance_row(job.instance_id).await?;
            let Some(request) = topics
                .iter()
                .find(|t| t.admits(&topic, &row.definition_key, row.business_key.as_deref()))
            else {
                continue;
            };
            let lock = request.lock.min(MAX_LOCK);
            let until = db_now + chrono::Duration::from_std(lock).unwrap_or_default();
            if !self
                .store()
                .lease_job(job.id, worker, db_now, until)
                .await?
            {
                continue;
            }
            let deployed = self.deployed(row.definition_id).await?;
            let element_name = deployed
                .process()
                .node(&job.element_id)
                .map(|n| n.display_name().to_string())
                .unwrap_or_else(|| job.element_id.clone());
            metrics::JOB_DELAY
                .observe((db_now - job.due_at).num_milliseconds().max(0) as f64 / 1e3);
            out.push(LockedTask {
                id: job.id,
                topic,
                worker_id: worker.to_string(),
                lock_expires_at: until,
                instance_id: job.instance_id,
                element_name,
                element_id: job.element_id.clone(),
                definition_key: row.definition_key.clone(),
                business_key: row.business_key.clone(),
                definition_id: row.definition_id,
                element_key: job.element_key as u64,
                variables: state.visible_variables(job.element_key as u64),
                local_variables: state
                    .variables
                    .get(&(job.element_key as u64))
                    .cloned()
                    .unwrap_or_default(),
                retries: job.retries,
                error_message: job.last_error.clone(),
            });
        }
        Ok(out)
    }

    /// External tasks matching a query, and how many match in all.
    pub(crate) async fn external_tasks(
        &self,
        q: &ExternalTaskQuery,
    ) -> Result<(Vec<ExternalTaskView>, u64), RuntimeError> {
        let now = to_db_time(self.lease_now());
        let filter = ExternalJobFilter {
            topic: q.topic.clone(),
            worker: q.worker.clone(),
            instance: q.instance,
            locked: q.locked,
        };
        let (jobs, total) = self
            .store()
            .external_jobs(&filter, now, q.first, q.max)
            .await?;
        let mut rows: std::collections::HashMap<Uuid, (i64, String, Option<String>, bool)> =
            Default::default();
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            if let std::collections::hash_map::Entry::Vacant(e) = rows.entry(job.instance_id) {
                let (row, _) = self.instance_row(job.instance_id).await?;
                e.insert((
                    row.definition_id,
                    row.definition_key,
                    row.business_key,
                    row.suspended,
                ));
            }
            let Some((definition_id, definition_key, business_key, suspended)) =
                rows.get(&job.instance_id).cloned()
            else {
                continue;
            };
            let held = job.lock_expires_at.filter(|t| *t > now).is_some();
            out.push(ExternalTaskView {
                id: job.id,
                topic: job.topic.clone().unwrap_or_default(),
                worker_id: job.lock_owner.clone().filter(|_| held),
                lock_expires_at: job.lock_expires_at.filter(|_| held),
                instance_id: job.instance_id,
                element_id: job.element_id.clone(),
                element_key: job.element_key as u64,
                definition_id,
                definition_key,
                business_key,
                retries: job.retries,
                error_message: job.last_error.clone(),
                suspended,
            });
        }
        Ok((out, total))
    }

    /// The instance a job belongs to (for messages), or not found.
    async fn job_instance(&self, id: Uuid) -> Result<(Uuid, u64), RuntimeError> {
        let job = self
            .store()
            .job(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("external task {id}")))?;
        if job.kind != JobType::External {
            return Err(RuntimeError::NotFound(format!("external task {id}")));
        }
        Ok((job.instance_id, job.element_key as u64))
    }

    /// Completes a locked task with the worker's result variables.
    pub(crate) async fn complete_external(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let (instance, key) = self.job_instance(id).await?;
        let g = guard(id, worker);
        let outcome = self
            .command(
                Target::Instance(instance),
                Access::Role(who),
                Some(&g),
                |_: &Locked<'_>| {
                    Ok(Command::CompleteJob {
                        key,
                        variables: variables.clone(),
                    })
                },
            )
            .await?;
        metrics::JOBS_RUN.inc();
        Ok(outcome)
    }

    /// A worker could not do the work. With retries left, the task comes back
    /// after `retry_in`; with none, it becomes an incident.
    pub(crate) async fn fail_external(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        message: &str,
        retries: i32,
        retry_in: Duration,
    ) -> Result<(), RuntimeError> {
        let (instance, key) = self.job_instance(id).await?;
        metrics::JOBS_FAILED.inc();
        if retries > 0 {
            let now = to_db_time(self.lease_now());
            let due = now + chrono::Duration::from_std(retry_in).unwrap_or_default();
            if !self
                .store()
                .reschedule_job(id, Some(worker), now, retries, due, message)
                .await?
            {
                guard(id, worker).check(self.store().job(id).await?, self.lease_now())?;
                return Err(RuntimeError::Conflict(format!(
                    "the lock of {worker} on task {id} has expired"
                )));
            }
            return Ok(());
        }
        let g = guard(id, worker);
        let message = format!("the worker {worker} failed and no retries are left: {message}");
        self.command(
            Target::Instance(instance),
            Access::Role(who),
            Some(&g),
            |_: &Locked<'_>| {
                Ok(Command::FailJob {
                    key,
                    message: message.clone(),
                })
            },
        )
        .await?;
        Ok(())
    }

    /// A worker reports a business error: the task's (or an enclosing
    /// subprocess's) error boundary event for `code` takes over; when none
    /// catches it, the task gets an incident.
    pub(crate) async fn bpmn_error_external(
        &self,
        who: &Principal,
        id: Uuid,
        worker: &str,
        code: &str,
        message: &str,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let (instance, key) = self.job_instance(id).await?;
        let g = guard(id, worker);
        let message = (!message.trim().is_empty()).then(|| message.to_string());
        self.command(
            Target::Instance(instance),
            Access::Role(who),
            Some(&g),
            |_: &Locked<'_>| {
                Ok(Command::ThrowError {
                    key,
                    code: code.to_string(),
                    message: message.clone(),
                    variables: variables.clone(),
                })
            },
        )
        .await
    }

    /// Gives a task's lock back, whoever holds it: the task may be fetched
    /// again at once.
    pub(crate) async fn unlock_external(&self, id: Uuid) -> Result<(), RuntimeError> {
        self.job_instance(id).await?;
        let job = self
            .store()
            .job(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("external task {id}")))?;
        if let Some(owner) = &job.lock_owner {
            self.store()
                .release_job(id, owner, job.last_error.as_deref())
                .await?;
        }
        Ok(())
    }

    /// Locks one task for `worker` for `lock` from now: a free task (or one
    /// whose lock expired) is taken, the worker's own lock is renewed, and
    /// another worker's lock is a conflict.
    pub(crate) async fn lock_external(
        &self,
        id: Uuid,
        worker: &str,
        lock: Duration,
    ) -> Result<DateTime<Utc>, RuntimeError> {
        self.job_instance(id).await?;
        let now = to_db_time(self.lease_now());
        let until = now + chrono::Duration::from_std(lock.min(MAX_LOCK)).unwrap_or_default();
        if self.store().extend_lease(id, worker, now, until).await?
            || self.store().lease_job(id, worker, now, until).await?
        {
            Ok(until)
        } else {
            Err(RuntimeError::Conflict(format!(
                "task {id} is locked by another worker"
            )))
        }
    }

    /// Extends a worker's lock on a task by `by` from now.
    pub(crate) async fn extend_lock(
        &self,
        id: Uuid,
        worker: &str,
        by: Duration,
    ) -> Result<DateTime<Utc>, RuntimeError> {
        self.job_instance(id).await?;
        let now = to_db_time(self.lease_now());
        let until = now + chrono::Duration::from_std(by.min(MAX_LOCK)).unwrap_or_default();
        if self.store().extend_lease(id, worker, now, until).await? {
            Ok(until)
        } else {
            Err(RuntimeError::Conflict(format!(
                "the lock of {worker} on task {id} has expired or was never taken; another worker may have it now"
            )))
        }
    }
}
