//! An instance's history: the events of each command, in one row per command,
//! numbered `first_seq..=last_seq` without gaps across rows.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "history_batch")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub first_seq: i64,
    pub last_seq: i64,
    pub at: DateTimeUtc,
    pub user_name: Option<String>,
    /// A JSON array of engine events; empty when `packed` holds them.
    #[sea_orm(column_type = "Text")]
    pub events: String,
    /// The same JSON array, deflated (raw DEFLATE, RFC 1951), when that is
    /// smaller. Rows written before migration 000022 have none.
    pub packed: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
