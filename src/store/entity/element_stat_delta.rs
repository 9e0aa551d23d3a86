//! What one command changed for one element of one definition version:
//! appended in the command's transaction, folded into `element_stat` by the
//! rollup and then deleted.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "element_stat_delta")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub definition_id: i64,
    pub element_id: String,
    /// Element instances started minus those ended.
    pub active: i64,
    pub completed: i64,
    /// Ended without completing (cancelled, interrupted, terminated).
    pub cancelled: i64,
    /// Incidents raised minus those resolved.
    pub incidents: i64,
    /// Completions whose time spent is known.
    pub timed: i64,
    /// Their time spent, summed, in milliseconds.
    pub duration_ms: i64,
    /// Their times as a sparse log-scale histogram: a JSON object from
    /// bucket number to count.
    #[sea_orm(column_type = "Text")]
    pub histogram: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
