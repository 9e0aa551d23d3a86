//! Jobs: timers, async continuations, connector calls and external work, leased
//! by whichever process acquires them.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_key: i64,
    pub element_id: String,
    pub kind: String,
    pub topic: Option<String>,
    pub due_at: DateTimeUtc,
    pub lock_owner: Option<String>,
    pub lock_expires_at: Option<DateTimeUtc>,
    pub retries: i32,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    /// Suspended: it waits until it is resumed.
    pub suspended: bool,
    /// The variables its work returned while its instance was suspended
    /// (JSON): committed on resume instead of doing the work again.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
