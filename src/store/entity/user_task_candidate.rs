//! Who may claim a task: candidate users (`kind` = `user`) and groups (`group`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_task_candidate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The task is open and nobody holds it: it is in this candidate's inbox.
    pub claimable: bool,
    // Copies of the task's sort and filter keys, so the inbox reads from indexes.
    pub created_at: Option<DateTimeUtc>,
    pub due_sort: Option<DateTimeUtc>,
    pub priority: i64,
    pub definition_key: String,
    // The instance list's keys: the task's instance, its start time, and
    // whether the task is open (its candidates then see the instance).
    pub instance_id: Uuid,
    pub instance_started_at: DateTimeUtc,
    pub open: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
