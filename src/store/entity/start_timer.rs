//! Timer start events: the next scheduled start of a process definition,
//! leased by whichever process fires it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "start_timer")]
pub struct Model {
    /// Also the id of the instance this firing starts.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub definition_id: i64,
    pub definition_key: String,
    pub element_id: String,
    pub due_at: DateTimeUtc,
    /// How often it has fired before (for `R3/...` cycles).
    pub fired: i32,
    pub lock_owner: Option<String>,
    pub lock_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    /// Suspended: it waits until it is resumed.
    pub suspended: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
