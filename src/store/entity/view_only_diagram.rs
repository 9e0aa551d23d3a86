//! A BPMN file kept for viewing only: never deployed, never started.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "view_only_diagram")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The uploaded file's name.
    pub file: String,
    /// The diagram's name (from the file), else the file's.
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub kept_at: DateTimeUtc,
    pub kept_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
