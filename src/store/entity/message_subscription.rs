//! An element instance waiting for a message or a signal by name.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_subscription")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_key: i64,
    pub element_id: String,
    pub name: String,
    pub business_key: Option<String>,
    pub created_at: DateTimeUtc,
    /// `message` or `signal`.
    pub kind: String,
    /// Camunda 8's correlation key, as evaluated when the subscription opened.
    pub correlation_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
