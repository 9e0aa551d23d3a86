//! The job executor: runs timers, async continuations, connector calls,
//! service handlers and timer start events in every server process.
//!
//! - **Acquisition by lease.** A batch of due, free jobs is leased in one
//!   statement (see the store's `acquire_jobs`): the row gets this process's
//!   name (`host:pid:boot-id`) and an expiry. Only the holder of an unexpired
//!   lease may commit a job's result.
//! - **Side effects outside transactions.** A connector call or handler runs
//!   with no transaction open, its lease renewed by a heartbeat; its result is
//!   then committed as an ordinary instance command that checks, in the same
//!   transaction, that the lease is still ours and consumes the job. A result
//!   that arrives after the lease was lost is refused; the job runs again
//!   elsewhere (at-least-once delivery, with the job id as idempotency key;
//!   exactly-once state transitions).
//! - **Suspension while the work runs.** When the instance is suspended while
//!   a job's work runs, its result cannot be committed (the instance refuses
//!   every command but resume, cancel and setting variables). The result is
//!   then kept on the job row (`job.result`) and the lease freed; the job
//!   waits with the instance, and on resume its next turn commits the kept
//!   result without doing the work again (the HTTP call, the handler, the
//!   thrown message happen once). A failure that would end the attempts is
//!   not kept: that job is tried again after resume.
//! - **Retries.** A failed attempt comes back after a pause (2 s, then 8 s by
//!   default; `camunda:failedJobRetryTimeCycle` sets attempts and pause); the
//!   last failure becomes an incident an admin can retry.
//! - **Wake-up.** Commits of this process wake the executor at once; on
//!   PostgreSQL a `LISTEN` connection hears the other processes' commits; a
//!   poll (at most one second, sooner when a timer is due) is the fallback.
//! - **Mails.** With an SMTP server configured it also leases notification
//!   mails from their outbox (`JobType::Mail`) and sends them (see `mail.rs`):
//!   a mail that cannot be sent is retried, and finally marked failed for
//!   admins, never an incident.
//! - **Housekeeping.** A sweeper frees expired leases; on PostgreSQL lease times
//!   follow the database's clock. When the database is away the loop backs off
//!   and resumes when it returns.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Outcome, Runtime, RuntimeError, connector, handlers::ServiceCall, metrics};
use crate::engine::{self, Command, InstanceState, JobType};
use crate::store::entity::{mail_outbox, start_timer};
use crate::store::{Acquire, DEFAULT_JOB_RETRIES, Job, Store, to_db_time};

/// How often expired leases are cleared and the database clock is compared.
const HOUSEKEEPING: Duration = Duration::from_secs(5);
/// The longest pause after the database failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// The name leases are taken under: `host:pid:boot-id`.
    pub owner: String,
    /// How long a lease lasts before another process may take the job; a
    /// running call renews it every third of this.
    pub lease: Duration,
    /// Jobs run at the same time by this process.
    pub concurrency: usize,
    /// The longest pause between looks for due work.
    pub poll: Duration,
    /// Whether it fires timer start events too (servers do; `bpmn run`,
    /// which follows one instance, does not).
    pub start_timers: bool,
}

impl ExecutorConfig {
    pub fn new(owner: String) -> ExecutorConfig {
        ExecutorConfig {
            owner,
            lease: Duration::from_secs(30),
            concurrency: 8,
            poll: Duration::from_secs(1),
            start_timers: true,
        }
    }
}

/// What running one leased item did.
#[derive(Debug, Default)]
pub struct Executed {
    /// The job's type and element (none for a timer start event).
    pub job: Option<(JobType, String)>,
    /// The commands it committed, in order (on this and other instances).
    pub outcomes: Vec<Outcome>,
    /// The attempt failed and the job comes back later, with this message.
    pub retry: Option<String>,
    /// Its result could not be committed (it was given back for another attempt).
    pub error: Option<String>,
}

/// A name for this process's leases: `host:pid:boot`.
pub fn owner_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "host".into());
    let boot: u32 = rand::random();
    format!("{host}:{}:{boot:08x}", std::process::id())
}

/// Something the executor leased.
enum Leased {
    Job(Job),
    StartTimer(start_timer::Model),
    Mail(mail_outbox::Model),
}

fn chrono_span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// Runs jobs until `stop` changes; running jobs are given a moment to finish.
pub async fn run(runtime: Arc<Runtime>, cfg: ExecutorConfig, mut stop: watch::Receiver<bool>) {
    let listener = listen(runtime.clone());
    let mut running: JoinSet<()> = JoinSet::new();
    let mut failures = 0u32;
    let mut housekeeping_at = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        // Registered before looking, so a commit in between is not missed.
        let notified = runtime.job_work.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if tokio::time::Instant::now() >= housekeeping_at {
            housekeeping_at = tokio::time::Instant::now() + HOUSEKEEPING;
            if let Err(e) = housekeeping(&runtime).await {
                tracing::warn!(error = %e, "job executor: housekeeping failed");
            }
        }
        let free = cfg.concurrency.saturating_sub(running.len());
        let mut full = false;
        let mut pause = cfg.poll;
        if free > 0 {
            match acquire(&runtime, &cfg, free).await {
                Ok(leased) => {
                    failures = 0;
                    full = leased.len() == free;
                    for item in leased {
                        let (runtime, cfg) = (runtime.clone(), cfg.clone());
                        running.spawn(async move {
                            execute(&runtime, &cfg, item).await;
                        });
                    }
                    if !full {
                        pause = until_next_due(&runtime, cfg.poll).await;
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    pause = (cfg.poll * 2u32.saturating_pow(failures.min(6))).min(MAX_BACKOFF);
                    tracing::warn!(error = %e, retry_in = ?pause, "job executor: cannot reach the database; backing off");
                }
            }
        }
        if full && running.len() < cfg.concurrency {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause), if !full => {}
            _ = &mut notified, if !full => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Err(e) = done && e.is_panic() {
                    tracing::error!("a job panicked: {e}");
                }
            }
            _ = stop.changed() => break,
        }
    }
    listener.abort();
    let drain = async { while running.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        tracing::info!("job executor stopped with jobs still running; their leases will expire");
    }
}

/// Leases what is due now under `cfg.owner` and runs it to its commit, one
/// item after the other; returns how many items were leased. (For tools and
/// tests that step through time; servers use [`run`].)
pub async fn run_due(runtime: &Arc<Runtime>, cfg: &ExecutorConfig) -> Result<usize, RuntimeError> {
    let leased = acquire(runtime, cfg, cfg.concurrency.max(1)).await?;
    let n = leased.len();
    for item in leased {
        execute(runtime, cfg, item).await;
    }
    Ok(n)
}

/// Runs the executor one item at a time, for tools that step through time
/// on a virtual clock (`bpmn run`): the same leases, the same work and the
/// same commits as a server's executor, and what each item did.
pub struct Stepper {
    cfg: ExecutorConfig,
}

impl Stepper {
    /// A stepper leasing under `owner`; it leaves timer start events alone.
    pub fn new(owner: &str) -> Stepper {
        let mut cfg = ExecutorConfig::new(owner.to_string());
        cfg.concurrency = 1;
        cfg.start_timers = false;
        Stepper { cfg }
    }

    /// The same stepper, also firing timer start events (which start new
    /// instances, as a server's executor would).
    pub fn with_start_timers(mut self) -> Stepper {
        self.cfg.start_timers = true;
        self
    }

    /// When the next job (or timer start event, when it fires them) is due,
    /// if at or before `until`.
    pub async fn next_due(
        &self,
        runtime: &Runtime,
        until: jiff::Timestamp,
    ) -> Result<Option<jiff::Timestamp>, RuntimeError> {
        let until = to_db_time(until);
        let job = runtime
            .store()
            .next_due_job(&JobType::LOCAL, until)
            .await?
            .map(|j| j.due_at);
        let start = if self.cfg.start_timers {
            runtime.store().next_due_start_timer(until).await?
        } else {
            None
        };
        Ok(match (job, start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(crate::store::from_db_time))
    }

    /// Leases one item that is due now and runs it to its commit; `None`
    /// when nothing is due.
    pub async fn step(&self, runtime: &Runtime) -> Result<Option<Executed>, RuntimeError> {
        let Some(item) = acquire(runtime, &self.cfg, 1).await?.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(execute(runtime, &self.cfg, item).await))
    }
}

/// Frees expired leases and measures the database clock.
async fn housekeeping(runtime: &Runtime) -> Result<(), RuntimeError> {
    runtime.sync_database_time().await?;
    let freed = runtime
        .store()
        .sweep_leases(to_db_time(runtime.lease_now()))
        .await?;
    if freed > 0 {
        tracing::info!(freed, "freed expired job leases");
    }
    runtime.sweep_mails().await?;
    runtime.fold_statistics().await?;
    Ok(())
}

/// How long to sleep: until the next due job, at most `poll`.
async fn until_next_due(runtime: &Runtime, poll: Duration) -> Duration {
    let job = runtime
        .store()
        .next_due(&JobType::LOCAL)
        .await
        .ok()
        .flatten();
    let mail = match runtime.mailer() {
        Some(_) => runtime.store().next_mail_due().await.ok().flatten(),
        None => None,
    };
    let Some(due) = [job, mail].into_iter().flatten().min() else {
        return poll;
    };
    let now = to_db_time(runtime.lease_now());
    let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
    wait.clamp(Duration::from_millis(5), poll)
}

/// Leases up to `max` due start timers and jobs.
async fn acquire(
    runtime: &Runtime,
    cfg: &ExecutorConfig,
    max: usize,
) -> Result<Vec<Leased>, RuntimeError> {
    let now = to_db_time(runtime.lease_now());
    let a = Acquire {
        kinds: &JobType::LOCAL,
        owner: &cfg.owner,
        now,
        until: now + chrono_span(cfg.lease),
        limit: max as u64,
    };
    let mut out: Vec<Leased> = Vec::new();
    if cfg.start_timers {
        out.extend(
            runtime
                .store()
                .acquire_start_timers(a)
                .await?
                .into_iter()
                .map(Leased::StartTimer),
        );
    }
    let left = max.saturating_sub(out.len());
    if left > 0 {
        let jobs = runtime
            .store()
            .acquire_jobs(Acquire {
                limit: left as u64,
                ..a
            })
            .await?;
        out.extend(jobs.into_iter().map(Leased::Job));
    }
    let left = max.saturating_sub(out.len());
    if left > 0 && runtime.mailer().is_some() {
        let until = now + chrono_span(cfg.lease.max(super::mail::MAIL_LEASE));
        let mails = runtime
            .store()
            .acquire_mails(&cfg.owner, now, until, left as u64)
            .await?;
        out.extend(mails.into_iter().map(Leased::Mail));
    }
    Ok(out)
}

/// Runs one leased item to its commit, and says what it did.
async fn execute(runtime: &Runtime, cfg: &ExecutorConfig, item: Leased) -> Executed {
    let mut done = Executed::default();
    match item {
        Leased::Mail(m) => {
            done.job = Some((JobType::Mail, m.recipient.clone()));
            match super::mail::deliver(runtime, &cfg.owner, m).await {
                super::mail::Delivered::Sent => {}
                super::mail::Delivered::Retry(e) => done.retry = Some(e),
                super::mail::Delivered::Failed(e) => done.error = Some(e),
            }
        }
        Leased::StartTimer(t) => match runtime.fire_start_timer(&t, Some(&cfg.owner)).await {
            Ok(o) => done.outcomes.push(o),
            Err(e) => {
                log_failure(&e, "start timer", t.id);
                if !matches!(e, RuntimeError::Conflict(_)) {
                    let retry = to_db_time(runtime.clock().now()) + chrono::Duration::seconds(10);
                    let _ = runtime
                        .store()
                        .release_start_timer(t.id, &cfg.owner, &e.to_string(), retry)
                        .await;
                    done.error = Some(e.to_string());
                }
            }
        },
        Leased::Job(job) => {
            done.job = Some((job.kind, job.element_id.clone()));
            let delay = (to_db_time(runtime.lease_now()) - job.due_at).num_milliseconds();
            metrics::JOB_DELAY.observe(delay.max(0) as f64 / 1e3);
            let owner = Some(cfg.owner.as_str());
            let committed = if job.kind.is_call() {
                run_call_job(runtime, &job, owner)
                    .await
                    .map(|o| done.outcomes.extend(o))
            } else {
                let work = perform(runtime, &job);
                let result = if job.kind.calls_out() {
                    with_heartbeat(runtime, cfg, &job, work).await
                } else {
                    work.await
                };
                match result {
                    Ok((vars, delivered)) => {
                        done.outcomes.extend(delivered);
                        match runtime.run_job_as(&job, owner, vars.clone()).await {
                            Ok(o) => {
                                done.outcomes.push(o);
                                Ok(())
                            }
                            Err(e) => keep_while_suspended(runtime, &job, owner, &vars, e).await,
                        }
                    }
                    Err(message) => {
                        runtime
                            .job_failed(&job, owner, &message)
                            .await
                            .map(|o| match o {
                                Some(o) => done.outcomes.push(o),
                                None => done.retry = Some(message),
                            })
                    }
                }
            };
            if let Err(e) = committed {
                if !matches!(e, RuntimeError::Conflict(_)) {
                    done.error = Some(e.to_string());
                }
                not_committed(runtime, cfg, &job, &e).await;
            }
        }
    }
    done
}

/// A job's work finished but its result was refused: when that is because
/// the instance was suspended while the work ran, the result is kept on the
/// job (and its lease freed) so that it is committed on resume without doing
/// the work again (a connector's HTTP call, a service handler, a thrown
/// message are not repeated). Any other refusal is handed back.
async fn keep_while_suspended(
    runtime: &Runtime,
    job: &Job,
    owner: Option<&str>,
    vars: &Map<String, Value>,
    e: RuntimeError,
) -> Result<(), RuntimeError> {
    if !matches!(e, RuntimeError::Conflict(_)) {
        return Err(e);
    }
    let suspended = runtime
        .store()
        .instance(job.instance_id)
        .await?
        .is_some_and(|i| i.suspended);
    if !suspended {
        return Err(e);
    }
    let result = Value::Object(vars.clone()).to_string();
    if runtime
        .store()
        .keep_job_result(job.id, owner, &result)
        .await?
    {
        tracing::info!(job.id = %job.id, element.id = %job.element_id, "the instance was suspended while the job ran; its result waits for the resume");
        return Ok(());
    }
    Err(e)
}

/// A job's result could not be committed: logged, and the job released for
/// another attempt (unless it lost a race, which the winner settles).
async fn not_committed(runtime: &Runtime, cfg: &ExecutorConfig, job: &Job, e: &RuntimeError) {
    log_failure(e, job.kind.as_str(), job.id);
    if matches!(e, RuntimeError::Conflict(_)) {
        return;
    }
    if job.kind.is_call() {
        // Commands on instances that failed for a reason of their own (a
        // damaged row, the database away): again after a pause, not at once,
        // and an incident on the call activity once the attempts are spent.
        if job.retries > 1 {
            let due = to_db_time(runtime.clock().now()) + chrono::Duration::seconds(10);
            let now = to_db_time(runtime.lease_now());
            let _ = runtime
                .store()
                .reschedule_job(
                    job.id,
                    Some(&cfg.owner),
                    now,
                    job.retries - 1,
                    due,
                    &e.to_string(),
                )
                .await;
        } else if let Err(e) = runtime
            .give_up_call_job(job, Some(&cfg.owner), &e.to_string())
            .await
        {
            tracing::warn!(job.id = %job.id, kind = %job.kind, error = %e, "a call job could not be given up");
        }
        return;
    }
    let _ = runtime
        .store()
        .release_job(job.id, &cfg.owner, Some(&e.to_string()))
        .await;
}

fn log_failure(e: &RuntimeError, what: &str, id: uuid::Uuid) {
    match e {
        RuntimeError::Conflict(m) => {
            metrics::JOBS_REFUSED.inc();
            tracing::info!(job.id = %id, kind = what, reason = %m, "job result not committed")
        }
        other => {
            tracing::warn!(job.id = %id, kind = what, error = %other, "job could not be committed")
        }
    }
}

/// Runs `work` while renewing the job's lease every third of its length.
async fn with_heartbeat<F>(runtime: &Runtime, cfg: &ExecutorConfig, job: &Job, work: F) -> F::Output
where
    F: std::future::Future,
{
    tokio::pin!(work);
    let every = (cfg.lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            result = &mut work => return result,
            _ = tokio::time::sleep(every) => {
                let now = to_db_time(runtime.lease_now());
                match runtime.store().extend_lease(job.id, &cfg.owner, now, now + chrono_span(cfg.lease)).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job.id = %job.id, "lost the lease while the call runs; its result will be refused"),
                    Err(e) => tracing::warn!(job.id = %job.id, error = %e, "cannot renew the lease"),
                }
            }
        }
    }
}

/// Commits the result of a job's work — only while `owner` (when given)
/// holds the job's lease — as the executor does after a connector call.
pub async fn commit_result(
    runtime: &Runtime,
    job: &Job,
    owner: Option<&str>,
    variables: Map<String, Value>,
) -> Result<Outcome, RuntimeError> {
    runtime.run_job_as(job, owner, variables).await
}

/// Runs a job of a call activity (`call`, `return`, `escalation`, `cancel`):
/// its work is commands on instances, committed together.
async fn run_call_job(
    runtime: &Runtime,
    job: &Job,
    owner: Option<&str>,
) -> Result<Option<Outcome>, RuntimeError> {
    match job.kind {
        JobType::Call => runtime.run_call(job, owner).await.map(Some),
        _ => runtime.run_call_answer(job, owner).await,
    }
}

/// The job's side effect, outside any transaction: its result variables and
/// what it delivered (a thrown message or signal), or why it failed.
pub async fn perform(
    runtime: &Runtime,
    job: &Job,
) -> Result<(Map<String, Value>, Vec<Outcome>), String> {
    if let Some(kept) = &job.result {
        // Done already, while the instance was suspended: commit what it returned.
        let vars = match serde_json::from_str(kept) {
            Ok(Value::Object(vars)) => vars,
            _ => return Err(format!("the kept result of job {} is damaged", job.id)),
        };
        return Ok((vars, Vec::new()));
    }
    let payload: Value = serde_json::from_str(&job.payload).unwrap_or(Value::Null);
    let vars = match job.kind {
        JobType::Connector => connector::call_for_job(runtime, job, &payload).await?,
        JobType::Service => {
            let name = payload
                .get("handler")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let handler = runtime.handler(name).ok_or_else(|| {
                format!("no service handler named \"{name}\" is registered in this process")
            })?;
            let call = ServiceCall {
                job_id: job.id,
                instance_id: job.instance_id,
                element_id: job.element_id.clone(),
                variables: payload
                    .get("variables")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            };
            handler.call(&call).await.map_err(|e| e.0)?
        }
        JobType::Decide => runtime.decide_for_job(job).await?,
        JobType::Throw => {
            let delivered = runtime
                .deliver_thrown(job.instance_id, &payload)
                .await
                .map_err(|e| e.to_string())?;
            return Ok((Map::new(), delivered));
        }
        JobType::Timer
        | JobType::AsyncBefore
        | JobType::AsyncAfter
        | JobType::External
        | JobType::Call
        | JobType::Return
        | JobType::Escalation
        | JobType::Cancel
        | JobType::Mail => Map::new(),
    };
    Ok((vars, Vec::new()))
}

impl Runtime {
    /// Commits a job's result: only while `owner` (when given) holds its lease.
    pub(crate) async fn run_job_as(
        &self,
        job: &Job,
        owner: Option<&str>,
        variables: Map<String, Value>,
    ) -> Result<Outcome, RuntimeError> {
        let command = Command::CompleteJob {
            key: job.element_key as u64,
            variables,
        };
        let outcome = self.consume_job(job, owner, command).await?;
        metrics::JOBS_RUN.inc();
        Ok(outcome)
    }

    /// An attempt of a job failed: it comes back later while attempts are
    /// left (`None`), otherwise the element gets an incident (its command's outcome).
    pub(crate) async fn job_failed(
        &self,
        job: &Job,
        owner: Option<&str>,
        message: &str,
    ) -> Result<Option<Outcome>, RuntimeError> {
        metrics::JOBS_FAILED.inc();
        let left = job.retries - 1;
        tracing::info!(job.id = %job.id, element.id = %job.element_id, attempts_left = left, error = %message, "job attempt failed");
        if left > 0 {
            let pause = self.retry_pause(job, left).await;
            let now = self.lease_now();
            let due = to_db_time(self.clock().now()) + chrono_span(pause);
            if self
                .store()
                .reschedule_job(job.id, owner, to_db_time(now), left, due, message)
                .await?
            {
                return Ok(None);
            }
            return Err(RuntimeError::Conflict(format!(
                "the lease on job {} was lost before its failure was recorded",
                job.id
            )));
        }
        let command = Command::FailJob {
            key: job.element_key as u64,
            message: format!("{message} (no attempts left)"),
        };
        Ok(Some(self.consume_job(job, owner, command).await?))
    }

    /// The pause before the next attempt: the element's
    /// `failedJobRetryTimeCycle`, or 2 s growing four times per attempt.
    async fn retry_pause(&self, job: &Job, left: i32) -> Duration {
        let configured = async {
            let row = self.store().instance(job.instance_id).await.ok()??;
            let deployed = self.deployed(row.definition_id).await.ok()?;
            let retry = deployed.process().node(&job.element_id)?.retry?;
            let ms = retry.interval.total(jiff::Unit::Millisecond).ok()?;
            Some(Duration::from_millis(ms.max(0.0) as u64))
        }
        .await;
        configured.unwrap_or_else(|| {
            let attempt = (DEFAULT_JOB_RETRIES - left).clamp(1, 6) as u32;
            Duration::from_secs(2) * 4u32.pow(attempt - 1)
        })
    }

    /// Fires a timer start event: starts an instance (whose id is the timer's)
    /// and schedules the next firing, in one transaction, only while `owner`
    /// (when given) holds the timer's lease.
    pub(crate) async fn fire_start_timer(
        &self,
        timer: &start_timer::Model,
        owner: Option<&str>,
    ) -> Result<Outcome, RuntimeError> {
        let deployed = self.deployed(timer.definition_id).await?;
        let now = self.clock().now();
        let tr = self
            .compute(
                deployed.clone(),
                super::command::context(&deployed, timer.id, None, None),
                InstanceState::new(&deployed.process().id),
                Command::StartAt {
                    element: timer.element_id.clone(),
                    variables: Map::new(),
                },
            )
            .await?;
        self.within_limit(&tr)?;
        let process = deployed.process();
        let next = engine::start_timer_due(
            process,
            &timer.element_id,
            timer.fired as u32 + 1,
            Some(crate::store::from_db_time(timer.due_at)),
            now,
        )
        .map_err(RuntimeError::Rejected)?;
        let db_now = to_db_time(now);
        let lease_now = to_db_time(self.lease_now());
        let next = next.map(|due| crate::store::NewStartTimer {
            definition_id: timer.definition_id,
            definition_key: timer.definition_key.clone(),
            element_id: timer.element_id.clone(),
            due: to_db_time(due),
            fired: timer.fired + 1,
            suspended: false,
        });
        let id = timer.id;
        let txn = self.store().begin_command().await?;
        let written = async {
            Store::consume_start_timer(&txn, timer.id, owner, lease_now).await?;
            self.insert_started(
                &txn,
                super::command::Started {
                    deployed: &deployed,
                    id,
                    business_key: None,
                    user: None,
                    parent: None,
                    latest: false,
                },
                &tr,
            )
            .await?;
            if let Some(next) = &next {
                let w = crate::store::Writes::new(&txn);
                Store::schedule_start_timer(&w, next, db_now)?;
                w.flush().await?;
            }
            self.commit(txn, id, &tr).await
        };
        written.await.map_err(|e| match e {
            RuntimeError::Store(crate::store::StoreError::Unmet(
                crate::store::Unmet::StartTimer(_),
            )) => RuntimeError::Conflict(format!(
                "start timer {} has fired already or is held by another process",
                timer.id
            )),
            e => super::command::suspended(e, &deployed),
        })?;
        metrics::JOBS_RUN.inc();
        tracing::info!(instance.id = %id, definition = %deployed.definition.key, element.id = %timer.element_id, "timer start event fired");
        Ok(Outcome {
            instance_id: id,
            events: tr.events,
            state: tr.state,
        })
    }
}

/// Wakes this process's executor when another process announces work
/// (PostgreSQL `LISTEN`); does nothing on SQLite.
fn listen(runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !runtime.store().announces_jobs() {
            return;
        }
        let mut failures = 0u32;
        loop {
            let wake = || runtime.job_work.notify_waiters();
            if let Err(e) = runtime.store().listen_for_jobs(&wake).await {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "job executor: lost the notification connection; polling until it is back");
                tokio::time::sleep(Duration::from_secs(1) * 2u32.pow(failures.min(5))).await;
            }
        }
    })
}
