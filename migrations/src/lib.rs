//! Database migrations, run at start-up by every process (idempotent).
//!
//! Migrations refer to frozen `Iden` enums of their own, never to the
//! application's entity structs, so that old migrations keep compiling and
//! keep meaning what they meant when they were written.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_init;
mod m20261126_000002_variables_and_logins;
mod m20261126_000003_list_indexes;
mod m20261126_000004_inbox_order;
mod m20261126_000005_api_tokens;
mod m20261127_000006_start_timers;
mod m20261128_000007_history_batches;
mod m20261128_000008_signal_subscriptions;
mod m20261128_000009_task_completed_by;
mod m20261129_000010_called_instances;
mod m20261129_000011_decisions;
mod m20261129_000012_correlation_keys;
mod m20261206_000013_worker_role;
mod m20261207_000014_password_change;
mod m20261207_000017_forms;
mod m20261207_000018_view_only_diagrams;
mod m20261207_000019_suspension;
mod m20261207_000022_smaller_rows;
mod m20261207_000023_instance_list_order;
mod m20261207_000024_element_statistics;
mod m20261207_000025_mail;
mod m20261207_000026_job_result;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_init::Migration),
            Box::new(m20261126_000002_variables_and_logins::Migration),
            Box::new(m20261126_000003_list_indexes::Migration),
            Box::new(m20261126_000004_inbox_order::Migration),
            Box::new(m20261126_000005_api_tokens::Migration),
            Box::new(m20261127_000006_start_timers::Migration),
            Box::new(m20261128_000007_history_batches::Migration),
            Box::new(m20261128_000008_signal_subscriptions::Migration),
            Box::new(m20261128_000009_task_completed_by::Migration),
            Box::new(m20261129_000010_called_instances::Migration),
            Box::new(m20261129_000011_decisions::Migration),
            Box::new(m20261129_000012_correlation_keys::Migration),
            Box::new(m20261206_000013_worker_role::Migration),
            Box::new(m20261207_000014_password_change::Migration),
            Box::new(m20261207_000017_forms::Migration),
            Box::new(m20261207_000018_view_only_diagrams::Migration),
            Box::new(m20261207_000019_suspension::Migration),
            Box::new(m20261207_000022_smaller_rows::Migration),
            Box::new(m20261207_000023_instance_list_order::Migration),
            Box::new(m20261207_000024_element_statistics::Migration),
            Box::new(m20261207_000025_mail::Migration),
            Box::new(m20261207_000026_job_result::Migration),
        ]
    }
}
