//! A process instance: its state JSON and the version that guards it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "process_instance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub definition_id: i64,
    pub definition_key: String,
    pub status: String,
    pub has_incident: bool,
    pub business_key: Option<String>,
    pub parent_id: Option<Uuid>,
    /// The element instance (call activity) of the parent that called it.
    pub parent_key: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub state: String,
    pub version: i64,
    pub last_seq: i64,
    pub started_at: DateTimeUtc,
    pub started_by: Option<String>,
    pub ended_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// Suspended: it waits until it is resumed.
    pub suspended: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
