//! The job executor: runs the jobs that are due — timers and async
//! continuations — in every server process. A job is taken by a *lease*: the
//! process writes its name and an expiry into the job row, and only the process
//! holding an unexpired lease runs it. Running consumes the job inside the same
//! transaction as the instance's new state, so a job takes effect once even if
//! two processes race for it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use tokio::sync::watch;

use super::{Runtime, RuntimeError, metrics};
use crate::store::to_db_time;

/// The job kinds this executor runs; connector and external jobs wait for their workers.
pub const LOCAL_KINDS: &[&str] = &["timer", "async-before", "async-after"];

/// How long a lease lasts.
const LEASE: Duration = Duration::from_secs(60);
/// How often to look for due jobs when idle.
const POLL: Duration = Duration::from_millis(500);

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

/// Runs due jobs until `stop` changes.
pub async fn run(runtime: Arc<Runtime>, owner: String, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        let ran = match run_due(&runtime, &owner).await {
            Ok(n) => {
                failures = 0;
                n
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "job executor: cannot reach the database; backing off");
                0
            }
        };
        if ran > 0 {
            continue;
        }
        let pause = POLL * 2u32.saturating_pow(failures.min(5));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Leases and runs the jobs due now; returns how many ran.
pub async fn run_due(runtime: &Runtime, owner: &str) -> Result<usize, RuntimeError> {
    let now = runtime.clock().now();
    let due = runtime
        .store()
        .due_jobs(LOCAL_KINDS, to_db_time(now), 20)
        .await?;
    let mut ran = 0;
    for job in due {
        let until = to_db_time(now) + chrono::Duration::from_std(LEASE).unwrap_or_default();
        if !runtime
            .store()
            .lease_job(job.id, owner, to_db_time(now), until)
            .await?
        {
            continue;
        }
        match runtime.run_job(&job, Map::new()).await {
            Ok(_) => {
                ran += 1;
                metrics::JOBS_RUN.inc();
                metrics::JOB_DELAY
                    .observe((to_db_time(now) - job.due_at).num_milliseconds().max(0) as f64 / 1e3);
            }
            // Someone else ran it, or the instance moved on: nothing to do.
            Err(RuntimeError::Conflict(m)) => {
                tracing::debug!(job.id = %job.id, reason = %m, "job skipped")
            }
            Err(e) => {
                metrics::JOBS_FAILED.inc();
                tracing::warn!(job.id = %job.id, error = %e, "job failed");
                runtime
                    .store()
                    .release_job(job.id, owner, Some(&e.to_string()))
                    .await?;
            }
        }
    }
    Ok(ran)
}
