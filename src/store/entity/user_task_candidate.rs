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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
