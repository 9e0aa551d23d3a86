//! Accounts.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub is_admin: bool,
    /// A service account for external workers and systems that send messages.
    pub is_worker: bool,
    pub disabled: bool,
    /// Bumped to invalidate every session of the user.
    pub session_epoch: i64,
    /// The password is a one-time password: it must be changed at the next login.
    pub must_change_password: bool,
    pub created_at: DateTimeUtc,
    /// Where notifications go (none: no mail).
    pub email: Option<String>,
    /// The user asked for no notification mails.
    pub mail_opt_out: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
