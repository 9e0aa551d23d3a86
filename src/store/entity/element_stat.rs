//! The folded statistics of one element of one definition version (the sum
//! of the `element_stat_delta` rows the rollup has deleted).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "element_stat")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub definition_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub element_id: String,
    pub active: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub incidents: i64,
    pub timed: i64,
    pub duration_ms: i64,
    #[sea_orm(column_type = "Text")]
    pub histogram: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
