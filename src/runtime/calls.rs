//! Call activities across instances: starting the called instance, its
//! answers to the caller, and cancelling it with its caller.
//!
//! A call activity waits for a `call` job. Running that job resolves which
//! definition is called (`camunda:calledElementBinding`), runs the called
//! instance's first command, and commits — in one transaction — the new
//! instance and the caller's `CallStarted`. The new instance's id is the
//! job's id, so a job that runs twice (a lost lease) cannot start two.
//!
//! A called instance reports back with a `return` job on its caller (an
//! `escalation` job for an escalation, which does not end it); a cancelled
//! call activity cancels its callee with a `cancel` job. An answer that comes
//! too late (the caller moved on, or ended) is dropped.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::command::{Access, JobGuard, Locked, Started, Target};
use super::{Deployed, MAX_ATTEMPTS, Outcome, Runtime, RuntimeError, backoff};
use crate::engine::{self, CallOutcome, Command, InstanceState, JobType};
use crate::store::entity::process_instance;
use crate::store::{Job, to_db_time};

/// How many instances may be nested in calls: the top instance and the
/// called ones below it. Camunda has no limit and ends in a stack overflow.
pub const MAX_CALL_DEPTH: usize = 32;

/// A chain of process keys, outermost first. A run of one repeating cycle
/// (a process calling itself, or two calling each other) is shown as its
/// first turn and the count of the rest.
fn describe_chain(chain: &[String]) -> String {
    for start in 0..chain.len() {
        let rest = &chain[start..];
        // The shortest period that repeats through the rest, at least twice.
        let period =
            (1..=rest.len() / 2).find(|p| rest.iter().skip(*p).zip(rest).all(|(a, b)| a == b));
        if let Some(period) = period {
            let shown = &chain[..=start + period];
            let more = chain.len() - shown.len();
            return format!(
                "{} → … ({more} more calls round the same cycle)",
                shown.join(" → ")
            );
        }
    }
    chain.join(" → ")
}

/// Why a call cannot start now: try again later, or an incident.
enum CallFailure {
    Retry(RuntimeError),
    Fail(String),
}
use CallFailure::{Fail, Retry};

/// The payload of a `return` or `escalation` job: who answers, and what.
#[derive(Debug, Deserialize)]
struct Answer {
    from: String,
    outcome: CallOutcome,
}

/// The payload of a `call` job (see the call activity behaviour).
#[derive(Debug, Deserialize)]
struct CallRequest {
    process: String,
    binding: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    version_tag: Option<String>,
    #[serde(default)]
    business_key: Option<String>,
    #[serde(default)]
    variables: Map<String, Value>,
}

impl Runtime {
    /// Runs a `call` job: starts the called instance and lets the caller wait
    /// for it. A called process that cannot be found or started is an
    /// incident on the call activity.
    pub(crate) async fn run_call(
        &self,
        job: &Job,
        owner: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let key = job.element_key as u64;
        let guard = JobGuard::of(job, owner);
        let parent = self
            .store()
            .instance(job.instance_id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(format!("instance {}", job.instance_id)))?;
        let prepared = match serde_json::from_str::<CallRequest>(&job.payload) {
            Ok(req) => {
                self.prepare_call(&parent, &job.element_id, job.id, req)
                    .await
            }
            Err(e) => Err(Fail(format!("the call job's payload is damaged: {e}"))),
        };
        let (deployed, business_key, tr) = match prepared {
            Ok(p) => p,
            Err(Retry(e)) => return Err(e),
            Err(Fail(message)) => {
                return self
                    .consume_job(job, owner, Command::FailJob { key, message })
                    .await;
            }
        };
        let child = job.id;
        let started = |_: &Locked<'_>| {
            Ok(Command::CallStarted {
                key,
                instance: child.to_string(),
            })
        };
        for attempt in 0..MAX_ATTEMPTS {
            let prepared = self
                .prepare(
                    Target::Instance(job.instance_id),
                    None,
                    Access::Engine,
                    &started,
                )
                .await?;
            let txn = self.store().begin_command().await?;
            let written = async {
                self.write_prepared(&txn, &prepared, Access::Engine, Some(&guard))
                    .await?;
                self.insert_started(
                    &txn,
                    Started {
                        deployed: &deployed,
                        id: child,
                        business_key: business_key.as_deref(),
                        user: None,
                        parent: Some((job.instance_id, job.element_key)),
                        latest: false,
                    },
                    &tr,
                )
                .await?;
                self.commit(txn, job.instance_id, &prepared.transition)
                    .await
            };
            if let Err(e) = written.await {
                let e = super::command::suspended(e, &deployed);
                self.lost_race(e, job.instance_id, Some(&guard)).await?;
                backoff(attempt).await;
                continue;
            }
            let parent_tr = prepared.transition;
            self.committed(&tr);
            tracing::info!(instance.id = %job.instance_id, called = %child, definition = %deployed.definition.key, "call activity started an instance");
            return Ok(Outcome {
                instance_id: job.instance_id,
                events: parent_tr.events,
                state: parent_tr.state,
            });
        }
        Err(RuntimeError::Busy)
    }

    /// The called definition and the called instance's first transition.
    async fn prepare_call(
        &self,
        parent: &process_instance::Model,
        element: &str,
        child: uuid::Uuid,
        req: CallRequest,
    ) -> Result<(std::sync::Arc<Deployed>, Option<String>, engine::Transition), CallFailure> {
        self.check_call_depth(parent, &req.process).await?;
        let deployed = match self.called_definition(parent, &req).await {
            Ok(d) => d,
            // A database that is briefly away is worth another attempt.
            Err(e @ (RuntimeError::Store(_) | RuntimeError::Busy)) => return Err(Retry(e)),
            Err(e) => return Err(Fail(e.to_string())),
        };
        let mut fresh = InstanceState::new(&deployed.process().id);
        fresh.called_by = Some(element.to_string());
        let command = Command::Start {
            variables: req.variables,
            initiator: None,
        };
        // Without `camunda:in businessKey`, the caller's business key goes along.
        let business_key = req.business_key.or_else(|| parent.business_key.clone());
        let ctx = super::command::context(&deployed, child, business_key.as_deref(), None);
        let tr = match self.compute(deployed.clone(), ctx, fresh, command).await {
            Ok(tr) => tr,
            Err(e @ (RuntimeError::Store(_) | RuntimeError::Busy)) => return Err(Retry(e)),
            Err(e) => {
                return Err(Fail(format!(
                    "the called process \"{}\" cannot start: {e}",
                    req.process
                )));
            }
        };
        if let Err(e) = self.within_limit(&tr) {
            return Err(Fail(format!(
                "the called process \"{}\" cannot start: {e}",
                req.process
            )));
        }
        Ok((deployed, business_key, tr))
    }

    /// Refuses a call that would nest deeper than [`MAX_CALL_DEPTH`]: a
    /// process that calls itself, directly or through others, becomes an
    /// incident naming the chain instead of starting instances for ever.
    async fn check_call_depth(
        &self,
        parent: &process_instance::Model,
        called: &str,
    ) -> Result<(), CallFailure> {
        let mut chain = vec![parent.definition_key.clone()];
        let mut up = parent.parent_id;
        while let Some(id) = up.filter(|_| chain.len() < MAX_CALL_DEPTH) {
            match self.store().instance(id).await {
                Ok(Some(caller)) => {
                    chain.push(caller.definition_key);
                    up = caller.parent_id;
                }
                Ok(None) => break,
                Err(e) => return Err(Retry(e.into())),
            }
        }
        if chain.len() < MAX_CALL_DEPTH {
            return Ok(());
        }
        chain.reverse();
        chain.push(called.to_string());
        Err(Fail(format!(
            "calls nest more than {MAX_CALL_DEPTH} deep (does a process call itself?): {}",
            describe_chain(&chain)
        )))
    }

    /// Which definition a call runs, by its binding.
    async fn called_definition(
        &self,
        parent: &process_instance::Model,
        req: &CallRequest,
    ) -> Result<std::sync::Arc<Deployed>, RuntimeError> {
        let key = req.process.as_str();
        let missing = |what: String| RuntimeError::NotFound(what);
        let id = match req.binding.as_str() {
            "deployment" => {
                let caller = self.deployed(parent.definition_id).await?;
                self.store()
                    .definitions_of_deployment(caller.definition.deployment_id)
                    .await?
                    .into_iter()
                    .find(|d| d.key == key)
                    .map(|d| d.id)
                    .ok_or_else(|| {
                        missing(format!(
                            "process \"{key}\" in the deployment of the calling process"
                        ))
                    })?
            }
            "version" => {
                let version = req.version.unwrap_or_default();
                self.store()
                    .definitions_of_key(key)
                    .await?
                    .into_iter()
                    .find(|d| d.version == version)
                    .map(|d| d.id)
                    .ok_or_else(|| missing(format!("version {version} of process \"{key}\"")))?
            }
            "versionTag" => {
                let tag = req.version_tag.clone().unwrap_or_default();
                let mut found = None;
                for d in self.store().definitions_of_key(key).await? {
                    if self.deployed(d.id).await?.process().version_tag.as_deref()
                        == Some(tag.as_str())
                    {
                        found = Some(d.id);
                        break;
                    }
                }
                found.ok_or_else(|| {
                    missing(format!("process \"{key}\" with version tag \"{tag}\""))
                })?
            }
            _ => {
                self.store()
                    .latest_definition(key)
                    .await?
                    .ok_or_else(|| missing(format!("process \"{key}\"")))?
                    .0
                    .id
            }
        };
        self.deployed(id).await
    }

    /// Runs a called instance's answer (`return`, `escalation`) on its caller,
    /// or a `cancel` job on a callee. An answer the caller no longer waits for
    /// is dropped.
    pub(crate) async fn run_call_answer(
        &self,
        job: &Job,
        owner: Option<&str>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        let key = job.element_key as u64;
        let (command, from) = if job.kind == JobType::Cancel {
            let command = Command::Cancel {
                reason: "its call activity was cancelled".into(),
            };
            (command, None)
        } else {
            let answer: Answer = serde_json::from_str(&job.payload).map_err(|e| {
                RuntimeError::Corrupt(format!("the answer of a called instance: {e}"))
            })?;
            let command = Command::CallReturned {
                key,
                instance: answer.from.clone(),
                outcome: answer.outcome,
            };
            (command, Some(answer.from))
        };
        // An escalation the called instance raised before it ended goes first.
        if job.kind == JobType::Return
            && self
                .store()
                .has_job(job.instance_id, job.element_key, JobType::Escalation)
                .await?
        {
            let due = to_db_time(self.clock().now()) + chrono::Duration::milliseconds(250);
            let now = to_db_time(self.lease_now());
            self.store()
                .reschedule_job(
                    job.id,
                    owner,
                    now,
                    job.retries,
                    due,
                    "after the escalation before it",
                )
                .await?;
            return Ok(None);
        }
        if self.is_stale(job, key, from.as_deref()).await? {
            tracing::debug!(job.id = %job.id, kind = %job.kind, "a call's answer came too late");
            self.store().discard_job(job.id).await?;
            return Ok(None);
        }
        self.consume_job(job, owner, command).await.map(Some)
    }

    /// A call job failed for good: an incident on the call activity (a
    /// `cancel` job, which has no activity to hold it, is dropped and logged).
    pub(crate) async fn give_up_call_job(
        &self,
        job: &Job,
        owner: Option<&str>,
        message: &str,
    ) -> Result<(), RuntimeError> {
        if job.kind == JobType::Cancel {
            tracing::warn!(instance.id = %job.instance_id, error = %message, "a called instance could not be cancelled");
            self.store().discard_job(job.id).await?;
            return Ok(());
        }
        let command = Command::FailJob {
            key: job.element_key as u64,
            message: format!("{} job: {message} (no attempts left)", job.kind),
        };
        match self.consume_job(job, owner, command).await {
            Ok(_) => Ok(()),
            // The activity moved on (or the instance ended): nothing waits for it.
            Err(RuntimeError::Conflict(_)) => Ok(self.store().discard_job(job.id).await?),
            Err(e) => Err(e),
        }
    }

    /// Whether the instance of an answer job no longer waits for it: it ended,
    /// or (for an answer to a caller) its call activity moved on.
    async fn is_stale(
        &self,
        job: &Job,
        key: u64,
        from: Option<&str>,
    ) -> Result<bool, RuntimeError> {
        let Some(row) = self.store().instance(job.instance_id).await? else {
            return Ok(true);
        };
        let state: InstanceState = serde_json::from_str(&row.state)
            .map_err(|e| RuntimeError::Corrupt(format!("state of instance {}: {e}", row.id)))?;
        if state.status != engine::Status::Active {
            return Ok(true);
        }
        // An answer counts only from the instance the call activity waits for.
        Ok(match from {
            None => false,
            Some(from) => !matches!(
                state.elements.get(&key).and_then(|e| e.wait.as_ref()),
                Some(engine::Wait::Called { instance }) if instance == from
            ),
        })
    }
}
