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
