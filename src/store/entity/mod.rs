//! SeaORM entities, one module per table (classic `DeriveEntityModel` format).

pub mod api_token;
pub mod app_group;
pub mod app_user;
pub mod decision_definition;
pub mod deployment;
pub mod element_stat;
pub mod element_stat_delta;
pub mod form_definition;
pub mod group_member;
pub mod history_batch;
pub mod incident;
pub mod instance_variable;
pub mod job;
pub mod login_attempt;
pub mod mail_outbox;
pub mod message_subscription;
pub mod process_definition;
pub mod process_instance;
pub mod setting;
pub mod start_timer;
pub mod user_task;
pub mod user_task_candidate;
pub mod view_only_diagram;

/// Every table of the engine.
pub const TABLES: &[&str] = &[
    "api_token",
    "app_group",
    "app_user",
    "decision_definition",
    "deployment",
    "element_stat",
    "element_stat_delta",
    "form_definition",
    "group_member",
    "history_batch",
    "incident",
    "instance_variable",
    "job",
    "login_attempt",
    "mail_outbox",
    "message_subscription",
    "process_definition",
    "process_instance",
    "setting",
    "start_timer",
    "user_task",
    "user_task_candidate",
    "view_only_diagram",
];
