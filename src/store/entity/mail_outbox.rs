//! The mail outbox: one notification mail to one person about one event,
//! written with the command that caused it and sent by the job executor.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The event and the recipient (unique: one mail per event and person).
    pub dedup_key: String,
    /// `task-assigned`, `task-offered` or `incident`.
    pub kind: String,
    /// The user name of the recipient.
    pub recipient: String,
    pub address: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub instance_id: Option<Uuid>,
    /// `pending`, `sending` (handed to the SMTP server, its outcome not yet
    /// recorded), `sent` or `failed`.
    pub state: String,
    /// Attempts begun so far.
    pub attempts: i32,
    pub due_at: DateTimeUtc,
    pub lock_owner: Option<String>,
    pub lock_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
