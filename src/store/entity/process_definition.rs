//! One version of one process (a file may deploy several processes).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "process_definition")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deployment_id: i64,
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    /// Suspended: it waits until it is resumed.
    pub suspended: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
