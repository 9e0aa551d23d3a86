//! The inbox: one row per user task, open or done.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_task")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_key: i64,
    pub element_id: String,
    pub definition_key: String,
    pub name: Option<String>,
    pub assignee: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub state: String,
    pub priority: i64,
    pub due_at: Option<DateTimeUtc>,
    /// `due_at`, or far in the future when there is none (so it sorts last).
    pub due_sort: Option<DateTimeUtc>,
    pub follow_up_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The instance's start time: the instance list reads a user's tasks in
    /// its order (newest instance first).
    pub instance_started_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub completed_by: Option<String>,
    /// Suspended: it waits until it is resumed.
    pub suspended: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
