//! The engine as an operator sees it: whether the database answers, the
//! numbers for monitoring, and the load tool's helpers (the database's own
//! commit rate, seeding many instances at once, its size on disk).

use std::fmt::Write as _;

use uuid::Uuid;

use super::{Runtime, RuntimeError, metrics};
use crate::store::{Store, to_db_time};

/// Health, metrics and measurement.
pub struct System<'r> {
    rt: &'r Runtime,
}

impl Runtime {
    /// Health, metrics and the load tool's helpers.
    pub fn system(&self) -> System<'_> {
        System { rt: self }
    }
}

/// Creates a schema on the PostgreSQL server at `base` and returns the URL
/// that works in it (the load tool measures in fresh schemas).
pub async fn create_schema(base: &str, schema: &str) -> Result<String, RuntimeError> {
    Ok(Store::create_schema(base, schema).await?)
}

/// Drops a schema made by [`create_schema`] with everything in it.
pub async fn drop_schema(base: &str, schema: &str) -> Result<(), RuntimeError> {
    Ok(Store::drop_schema(base, schema).await?)
}

impl System<'_> {
    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.rt.store().backend_name()
    }

    /// How many passwords this runtime has checked or hashed (argon2).
    pub fn password_checks(&self) -> u64 {
        self.rt.password_gate.done()
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<(), RuntimeError> {
        Ok(self.rt.store().ping().await?)
    }

    /// Every metric in Prometheus' text format: the counters of this process
    /// and the gauges of the database (`bpmn_up 0` when it does not answer).
    pub async fn metrics_text(&self) -> String {
        let mut out = String::new();
        metrics::write_counters(&mut out);
        let now = to_db_time(self.rt.clock().now());
        let up = match self.rt.store().gauges(now).await {
            Ok(g) => {
                out.push_str(
                    "# HELP bpmn_instances Instances by state\n# TYPE bpmn_instances gauge\n",
                );
                for (s, n) in &g.instances {
                    let _ = writeln!(out, "bpmn_instances{{state=\"{s}\"}} {n}");
                }
                for (name, help, v) in [
                    ("bpmn_tasks_open", "Open user tasks", g.open_tasks),
                    (
                        "bpmn_jobs_due",
                        "Jobs due now (the queue depth)",
                        g.jobs_due,
                    ),
                    ("bpmn_jobs", "Jobs scheduled, due or not", g.jobs_total),
                    ("bpmn_incidents_open", "Open incidents", g.open_incidents),
                ] {
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
                }
                1
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: database");
                0
            }
        };
        let _ = writeln!(
            out,
            "# HELP bpmn_up Whether the database answers\n# TYPE bpmn_up gauge\nbpmn_up {up}"
        );
        out
    }

    /// One write transaction for measuring the database's own commit rate:
    /// empty, or updating one row.
    pub async fn commit_probe(&self, write_one_row: bool) -> Result<(), RuntimeError> {
        Ok(self.rt.store().commit_probe(write_one_row).await?)
    }

    /// Copies instance `template` `count` times (for measuring at scale); copy
    /// `i` offers its task to the group `group(i)`.
    pub async fn clone_instances(
        &self,
        template: Uuid,
        count: usize,
        group: &dyn Fn(usize) -> String,
    ) -> Result<(), RuntimeError> {
        let now = to_db_time(self.rt.clock().now());
        self.rt
            .store()
            .clone_instances(template, count, group, now)
            .await?;
        Ok(self.rt.store().settle().await?)
    }

    /// The database's size on disk, in bytes.
    pub async fn database_size(&self) -> Result<u64, RuntimeError> {
        Ok(self.rt.store().database_size().await?)
    }
}
