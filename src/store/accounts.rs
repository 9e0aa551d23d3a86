//! Users, groups, shared settings and failed-login counters.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ColumnType, Expr, ExprTrait, OnConflict, StringLen};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Select,
};

use super::OneRow;
use super::entity::{api_token, app_group, app_user, group_member, login_attempt, setting};
use super::sqlite::{Columns, ReadRow};
use super::{Store, StoreError};

/// A user with the names of their groups, sorted.
pub type UserWithGroups = (app_user::Model, Vec<String>);

/// The token a request presented: its id and when it was last used.
#[derive(Debug, Clone, Copy)]
pub struct TokenUse {
    pub id: uuid::Uuid,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// One row of [`with_groups`]: the user and one of their groups (none for a
/// user in no group).
struct UserRow {
    user: app_user::Model,
    group: Option<String>,
}

impl FromQueryResult for UserRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            user: app_user::Model::from_query_result(res, pre)?,
            group: res.try_get(pre, "group_name")?,
        })
    }
}

impl UserRow {
    /// A row of the store's SQLite readers.
    fn read(r: &ReadRow) -> Result<Self, String> {
        Ok(Self {
            user: r.model::<app_user::Entity>("")?,
            group: r.get("group_name")?,
        })
    }
}

/// A [`UserRow`] reached from a token.
struct TokenRow {
    row: UserRow,
    token: TokenUse,
}

impl FromQueryResult for TokenRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            row: UserRow::from_query_result(res, pre)?,
            token: TokenUse {
                id: res.try_get(pre, "token_id")?,
                last_used_at: res.try_get(pre, "token_used_at")?,
            },
        })
    }
}

/// Users, each joined with their memberships: one row per group (the
/// requests of a user read the user and the groups in one statement).
fn with_groups() -> Select<app_user::Entity> {
    let member = group_member::Entity::belongs_to(app_user::Entity)
        .from(group_member::Column::UserId)
        .to(app_user::Column::Id)
        .into();
    let group = group_member::Entity::belongs_to(app_group::Entity)
        .from(group_member::Column::GroupId)
        .to(app_group::Column::Id)
        .into();
    app_user::Entity::find()
        .column_as(app_group::Column::Name, "group_name")
        .join_rev(JoinType::LeftJoin, member)
        .join(JoinType::LeftJoin, group)
        .order_by_asc(app_group::Column::Name)
}

/// The columns of [`with_groups`].
fn user_columns() -> Columns {
    Columns::of::<app_user::Entity>().with("group_name", ColumnType::String(StringLen::None))
}

/// Folds [`with_groups`] rows into the one user they are about.
fn fold_groups(rows: impl IntoIterator<Item = UserRow>) -> Option<UserWithGroups> {
    let mut rows = rows.into_iter();
    let first = rows.next()?;
    let groups = first.group.into_iter().chain(rows.filter_map(|r| r.group));
    Some((first.user, groups.collect()))
}

impl Store {
    /// A user and their groups, in one statement.
    pub async fn user_with_groups(&self, id: i64) -> Result<Option<UserWithGroups>, StoreError> {
        let query = with_groups().filter(app_user::Column::Id.eq(id));
        let rows: Vec<UserRow> = self.hot_read(&query, user_columns, UserRow::read).await?;
        Ok(fold_groups(rows))
    }

    /// The user of the live token with this hash, their groups, and the
    /// token's use, in one statement.
    pub async fn token_user(
        &self,
        hash: &str,
    ) -> Result<Option<(UserWithGroups, TokenUse)>, StoreError> {
        let token = api_token::Entity::belongs_to(app_user::Entity)
            .from(api_token::Column::UserId)
            .to(app_user::Column::Id)
            .into();
        let query = with_groups()
            .column_as(api_token::Column::Id, "token_id")
            .column_as(api_token::Column::LastUsedAt, "token_used_at")
            .join_rev(JoinType::InnerJoin, token)
            .filter(api_token::Column::TokenHash.eq(hash))
            .filter(api_token::Column::RevokedAt.is_null());
        let columns = || {
            user_columns()
                .with("token_id", ColumnType::Uuid)
                .with("token_used_at", ColumnType::TimestampWithTimeZone)
        };
        let decode = |r: &ReadRow| {
            Ok(TokenRow {
                row: UserRow::read(r)?,
                token: TokenUse {
                    id: r.get("token_id")?,
                    last_used_at: r.get("token_used_at")?,
                },
            })
        };
        let rows: Vec<TokenRow> = self.hot_read(&query, columns, decode).await?;
        let token = rows.first().map(|r| r.token);
        Ok(fold_groups(rows.into_iter().map(|r| r.row)).zip(token))
    }

    pub async fn user_count(&self) -> Result<u64, StoreError> {
        Ok(app_user::Entity::find().count(&self.db).await?)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<app_user::Model>, StoreError> {
        Ok(app_user::Entity::find()
            .filter(app_user::Column::Name.eq(name))
            .one_row(&self.db)
            .await?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<app_user::Model>, StoreError> {
        Ok(app_user::Entity::find_by_id(id).one_row(&self.db).await?)
    }

    pub async fn users(&self) -> Result<Vec<app_user::Model>, StoreError> {
        Ok(app_user::Entity::find()
            .order_by_asc(app_user::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// Inserts a user; `None` when the name is taken.
    pub async fn insert_user(
        &self,
        name: &str,
        password_hash: &str,
        admin: bool,
        worker: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<app_user::Model>, StoreError> {
        if self.user_by_name(name).await?.is_some() {
            return Ok(None);
        }
        let row = app_user::ActiveModel {
            name: Set(name.to_string()),
            display_name: Set(None),
            password_hash: Set(password_hash.to_string()),
            is_admin: Set(admin),
            is_worker: Set(worker),
            disabled: Set(false),
            session_epoch: Set(0),
            must_change_password: Set(false),
            created_at: Set(now),
            email: Set(None),
            mail_opt_out: Set(false),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        match row {
            Ok(r) => Ok(Some(r)),
            // Another process created the same name in between.
            Err(e) if self.user_by_name(name).await?.is_some() => {
                tracing::debug!(error = %e, "user name taken concurrently");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Changes a user's flags; bumps the session epoch when asked (which ends every session).
    pub async fn update_user(
        &self,
        id: i64,
        admin: bool,
        worker: bool,
        disabled: bool,
        end_sessions: bool,
    ) -> Result<(), StoreError> {
        let mut q = app_user::Entity::update_many()
            .col_expr(app_user::Column::IsAdmin, Expr::value(admin))
            .col_expr(app_user::Column::IsWorker, Expr::value(worker))
            .col_expr(app_user::Column::Disabled, Expr::value(disabled));
        if end_sessions {
            q = q.col_expr(
                app_user::Column::SessionEpoch,
                Expr::col(app_user::Column::SessionEpoch).add(1),
            );
        }
        q.filter(app_user::Column::Id.eq(id)).exec(&self.db).await?;
        Ok(())
    }

    /// Sets a user's password hash and ends the user's sessions (the epoch
    /// moves on); `one_time`: it must be changed at the next login. Returns the
    /// new session epoch, or `None` when there is no such user.
    pub async fn set_password(
        &self,
        id: i64,
        hash: &str,
        one_time: bool,
    ) -> Result<Option<i64>, StoreError> {
        let done = app_user::Entity::update_many()
            .col_expr(app_user::Column::PasswordHash, Expr::value(hash))
            .col_expr(app_user::Column::MustChangePassword, Expr::value(one_time))
            .col_expr(
                app_user::Column::SessionEpoch,
                Expr::col(app_user::Column::SessionEpoch).add(1),
            )
            .filter(app_user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if done.rows_affected == 0 {
            return Ok(None);
        }
        Ok(self.user_by_id(id).await?.map(|u| u.session_epoch))
    }

    /// Ends every session of a user.
    pub async fn end_sessions(&self, id: i64) -> Result<(), StoreError> {
        app_user::Entity::update_many()
            .col_expr(
                app_user::Column::SessionEpoch,
                Expr::col(app_user::Column::SessionEpoch).add(1),
            )
            .filter(app_user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The names of a user's groups, sorted (one statement: it is read for
    /// every request a user sends).
    pub async fn groups_of(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let memberships = sea_orm::sea_query::Query::select()
            .column(group_member::Column::GroupId)
            .from(group_member::Entity)
            .and_where(group_member::Column::UserId.eq(user_id))
            .to_owned();
        Ok(app_group::Entity::find()
            .select_only()
            .column(app_group::Column::Name)
            .filter(app_group::Column::Id.in_subquery(memberships))
            .order_by_asc(app_group::Column::Name)
            .into_tuple::<String>()
            .all(&self.db)
            .await?)
    }

    /// Every membership as `(user id, group name)`.
    pub async fn memberships(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let groups = app_group::Entity::find().all(&self.db).await?;
        let members = group_member::Entity::find().all(&self.db).await?;
        Ok(members
            .into_iter()
            .filter_map(|m| {
                let g = groups.iter().find(|g| g.id == m.group_id)?;
                Some((m.user_id, g.name.clone()))
            })
            .collect())
    }

    /// Replaces a user's groups (creating groups that do not exist yet).
    pub async fn set_groups(&self, user_id: i64, names: &[String]) -> Result<(), StoreError> {
        // A write transaction from the start (`BEGIN IMMEDIATE` on SQLite, on
        // the store's writer pool): a deferred one that upgrades to a writer fails
        // with "database is locked" when another writer went first.
        let txn = self.begin_write().await?;
        group_member::Entity::delete_many()
            .filter(group_member::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        for name in names {
            app_group::Entity::insert(app_group::ActiveModel {
                name: Set(name.clone()),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::column(app_group::Column::Name)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            let Some(group) = app_group::Entity::find()
                .filter(app_group::Column::Name.eq(name.as_str()))
                .one_row(&txn)
                .await?
            else {
                continue;
            };
            group_member::Entity::insert(group_member::ActiveModel {
                user_id: Set(user_id),
                group_id: Set(group.id),
            })
            .on_conflict(
                OnConflict::columns([group_member::Column::UserId, group_member::Column::GroupId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
        Store::commit(txn).await
    }

    /// A shared setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(setting::Entity::find_by_id(key.to_string())
            .one_row(&self.db)
            .await?
            .map(|s| s.value))
    }

    /// Stores a setting unless it exists; returns the value that is stored now
    /// (so that processes starting together agree on one value).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        setting::Entity::insert(setting::ActiveModel {
            key: Set(key.to_string()),
            value: Set(value.to_string()),
        })
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(self
            .setting(key)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }

    /// Failed logins recorded for a subject.
    pub async fn login_failures(
        &self,
        subject: &str,
    ) -> Result<Option<login_attempt::Model>, StoreError> {
        Ok(login_attempt::Entity::find_by_id(subject.to_string())
            .one_row(&self.db)
            .await?)
    }

    /// Counts one more failed login (starting again after `reset_after` of quiet).
    pub async fn record_login_failure(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        reset_after: chrono::Duration,
    ) -> Result<(), StoreError> {
        let previous = self.login_failures(subject).await?;
        let failures = match previous {
            Some(p) if now - p.last_failure_at < reset_after => p.failures + 1,
            _ => 1,
        };
        login_attempt::Entity::insert(login_attempt::ActiveModel {
            subject: Set(subject.to_string()),
            failures: Set(failures),
            last_failure_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(login_attempt::Column::Subject)
                .update_columns([
                    login_attempt::Column::Failures,
                    login_attempt::Column::LastFailureAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Counts a login attempt *before* its password is checked, if the row is
    /// still as the caller read it (`seen`: `None` when there was none):
    /// concurrent attempts each take one number, so no more passwords are
    /// checked than the throttle allows, in however many processes. Returns
    /// whether this attempt got the count.
    pub async fn claim_login_attempt(
        &self,
        subject: &str,
        seen: Option<&login_attempt::Model>,
        failures: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = match seen {
            None => {
                login_attempt::Entity::insert(login_attempt::ActiveModel {
                    subject: Set(subject.to_string()),
                    failures: Set(failures),
                    last_failure_at: Set(now),
                })
                .on_conflict(
                    OnConflict::column(login_attempt::Column::Subject)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await?
            }
            Some(old) => {
                login_attempt::Entity::update_many()
                    .col_expr(login_attempt::Column::Failures, Expr::value(failures))
                    .col_expr(login_attempt::Column::LastFailureAt, Expr::value(now))
                    .filter(login_attempt::Column::Subject.eq(subject))
                    .filter(login_attempt::Column::Failures.eq(old.failures))
                    .filter(login_attempt::Column::LastFailureAt.eq(old.last_failure_at))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
        };
        Ok(res == 1)
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        login_attempt::Entity::delete_by_id(subject.to_string())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Stores a new API token (by its hash).
    pub async fn insert_token(
        &self,
        user_id: i64,
        name: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<api_token::Model, StoreError> {
        Ok(api_token::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            user_id: Set(user_id),
            name: Set(name.to_string()),
            token_hash: Set(hash.to_string()),
            created_at: Set(now),
            last_used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(&self.db)
        .await?)
    }

    /// Records that a token was used (at most once a minute, to spare the writes).
    pub async fn touch_token(&self, id: uuid::Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(api_token::Column::Id.eq(id))
            .filter(
                sea_orm::Condition::any()
                    .add(api_token::Column::LastUsedAt.is_null())
                    .add(api_token::Column::LastUsedAt.lt(now - chrono::Duration::minutes(1))),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A user's tokens, newest first.
    pub async fn tokens_of(&self, user_id: i64) -> Result<Vec<api_token::Model>, StoreError> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(user_id))
            .order_by_desc(api_token::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Revokes one of a user's tokens; returns whether it was theirs and live.
    pub async fn revoke_token(
        &self,
        user_id: i64,
        id: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now)))
            .filter(api_token::Column::Id.eq(id))
            .filter(api_token::Column::UserId.eq(user_id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }
}
