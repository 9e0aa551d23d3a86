//! The mail outbox and who receives notifications.
//!
//! A command writes its mails into `mail_outbox` in its own transaction
//! ([`Store::queue_mails`]; the unique `dedup_key` — event and recipient —
//! makes a second row for the same mail a no-op). The job executor leases due
//! rows in one statement that also marks them `sending` and counts the
//! attempt ([`Store::acquire_mails`]), sends them with no transaction open,
//! and records the outcome ([`Store::finish_mail`]). A row left `sending`
//! after its lease ran out was handed to the SMTP server by a process that
//! could not record what happened: it is never sent again, but marked
//! failed ([`Store::sweep_mails`]) for admins to see.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, Value,
};
use uuid::Uuid;

use super::OneRow;
use super::entity::{app_group, app_user, group_member, mail_outbox, user_task};
use super::{Gather, Store, StoreError, Writes};

/// A mail waiting to be sent.
pub const MAIL_PENDING: &str = "pending";
/// A mail leased by an executor, its outcome not yet recorded.
pub const MAIL_SENDING: &str = "sending";
/// A mail the SMTP server accepted.
pub const MAIL_SENT: &str = "sent";
/// A mail that will not be sent (refused for good, attempts spent, or its
/// delivery unknown).
pub const MAIL_FAILED: &str = "failed";

/// Someone who receives notification mails: an enabled account with an
/// address that did not opt out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPerson {
    pub name: String,
    pub address: String,
}

/// A new outbox row.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub dedup_key: String,
    pub kind: &'static str,
    pub recipient: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub instance_id: Option<Uuid>,
}

/// How an attempt to send a mail ended.
#[derive(Debug, Clone)]
pub enum MailFinish {
    Sent,
    /// Refused for now: pending again, due at this time.
    Retry {
        due: DateTime<Utc>,
        error: String,
    },
    /// It will not be sent.
    Failed {
        error: String,
    },
}

fn mail_people(rows: Vec<app_user::Model>) -> Vec<MailPerson> {
    rows.into_iter()
        .filter_map(|u| {
            let address = u.email.filter(|a| !a.is_empty())?;
            Some(MailPerson {
                name: u.name,
                address,
            })
        })
        .collect()
}

/// Accounts that receive mail.
fn receivers() -> sea_orm::Select<app_user::Entity> {
    app_user::Entity::find()
        .filter(app_user::Column::Email.is_not_null())
        .filter(app_user::Column::MailOptOut.eq(false))
        .filter(app_user::Column::Disabled.eq(false))
        .order_by_asc(app_user::Column::Name)
}

impl Store {
    /// Those who receive mail among the named users and the members of
    /// these groups (one statement).
    pub async fn mail_people(
        db: &impl ConnectionTrait,
        names: &[String],
        groups: &[String],
    ) -> Result<Vec<MailPerson>, StoreError> {
        if names.is_empty() && groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut who = Condition::any();
        if !names.is_empty() {
            who = who.add(app_user::Column::Name.is_in(names.iter().map(String::as_str)));
        }
        if !groups.is_empty() {
            let members = Query::select()
                .column((group_member::Entity, group_member::Column::UserId))
                .from(group_member::Entity)
                .inner_join(
                    app_group::Entity,
                    Expr::col((app_group::Entity, app_group::Column::Id))
                        .equals((group_member::Entity, group_member::Column::GroupId)),
                )
                .and_where(
                    Expr::col((app_group::Entity, app_group::Column::Name))
                        .is_in(groups.iter().map(String::as_str)),
                )
                .to_owned();
            who = who.add(app_user::Column::Id.in_subquery(members));
        }
        let rows = receivers().filter(who).all(db).await?;
        Ok(mail_people(rows))
    }

    /// The admins who receive mail.
    pub async fn mail_admins(db: &impl ConnectionTrait) -> Result<Vec<MailPerson>, StoreError> {
        let rows = receivers()
            .filter(app_user::Column::IsAdmin.eq(true))
            .all(db)
            .await?;
        Ok(mail_people(rows))
    }

    /// The name and element of an instance's task.
    pub async fn task_name_in(
        db: &impl ConnectionTrait,
        instance: Uuid,
        key: i64,
    ) -> Result<Option<(Option<String>, String)>, StoreError> {
        Ok(user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(instance))
            .filter(user_task::Column::ElementKey.eq(key))
            .one_row(db)
            .await?
            .map(|t| (t.name, t.element_id)))
    }

    /// Writes mails to the outbox (gathered with the command's writes), due
    /// at `now`; a mail whose key is there already is left alone.
    pub fn queue_mails(
        w: &Writes<'_>,
        mails: Vec<NewMail>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if mails.is_empty() {
            return Ok(());
        }
        let rows: Vec<mail_outbox::ActiveModel> = mails
            .into_iter()
            .map(|m| mail_outbox::ActiveModel {
                id: Set(Uuid::now_v7()),
                dedup_key: Set(m.dedup_key),
                kind: Set(m.kind.to_string()),
                recipient: Set(m.recipient),
                address: Set(m.address),
                subject: Set(m.subject),
                body: Set(m.body),
                instance_id: Set(m.instance_id),
                state: Set(MAIL_PENDING.into()),
                attempts: Set(0),
                due_at: Set(now),
                lock_owner: Set(None),
                lock_expires_at: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                sent_at: Set(None),
            })
            .collect();
        // Few statements for all of a command's mails (within SQLite's
        // limit of bound values per statement).
        for chunk in rows.chunks(500) {
            mail_outbox::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(mail_outbox::Column::DedupKey)
                        .do_nothing()
                        .to_owned(),
                )
                .gather(w)?;
        }
        Ok(())
    }

    /// Leases up to `limit` due pending mails under `owner` until `until`:
    /// in the same statement they become `sending` and their attempt is
    /// counted, so that a mail is never handed to the SMTP server twice.
    pub async fn acquire_mails(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<mail_outbox::Model>, StoreError> {
        let backend = self.db.get_database_backend();
        let mut values: Vec<Value> = Vec::new();
        let mut p = |v: Value| {
            values.push(v);
            match backend {
                DbBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_string(),
            }
        };
        // Placeholders in the order they appear in the text (SQLite's `?`).
        let sending = p(MAIL_SENDING.into());
        let owner = p(owner.into());
        let until = p(until.into());
        let pending = p(MAIL_PENDING.into());
        let due = p(now.into());
        let limit = p((limit as i64).into());
        let set = format!(
            "SET state = {sending}, lock_owner = {owner}, lock_expires_at = {until}, \
             attempts = attempts + 1"
        );
        let pick = format!(
            "SELECT id FROM mail_outbox WHERE state = {pending} AND due_at <= {due} \
             ORDER BY due_at LIMIT {limit}"
        );
        let sql = match backend {
            DbBackend::Postgres => format!(
                "WITH picked AS ({pick} FOR UPDATE SKIP LOCKED) \
                 UPDATE mail_outbox {set} FROM picked \
                 WHERE mail_outbox.id = picked.id RETURNING mail_outbox.*"
            ),
            _ => format!("UPDATE mail_outbox {set} WHERE id IN ({pick}) RETURNING *"),
        };
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        if backend == DbBackend::Postgres {
            Ok(mail_outbox::Entity::find()
                .from_raw_sql(stmt)
                .all(&self.db)
                .await?)
        } else {
            let txn = self.begin_write().await?;
            let rows = mail_outbox::Entity::find()
                .from_raw_sql(stmt)
                .all(&txn)
                .await?;
            Store::commit(txn).await?;
            Ok(rows)
        }
    }

    /// Records how an attempt ended — only while `owner` still holds the
    /// mail (it is `sending` under that owner). Returns whether it did.
    pub async fn finish_mail(
        &self,
        id: Uuid,
        owner: &str,
        finish: &MailFinish,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let none: Option<String> = None;
        let never: Option<DateTime<Utc>> = None;
        let mut q = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::LockOwner, Expr::value(none))
            .col_expr(mail_outbox::Column::LockExpiresAt, Expr::value(never));
        q = match finish {
            MailFinish::Sent => q
                .col_expr(mail_outbox::Column::State, Expr::value(MAIL_SENT))
                .col_expr(mail_outbox::Column::SentAt, Expr::value(Some(now)))
                .col_expr(
                    mail_outbox::Column::LastError,
                    Expr::value(Option::<String>::None),
                ),
            MailFinish::Retry { due, error } => q
                .col_expr(mail_outbox::Column::State, Expr::value(MAIL_PENDING))
                .col_expr(mail_outbox::Column::DueAt, Expr::value(*due))
                .col_expr(
                    mail_outbox::Column::LastError,
                    Expr::value(Some(error.clone())),
                ),
            MailFinish::Failed { error } => q
                .col_expr(mail_outbox::Column::State, Expr::value(MAIL_FAILED))
                .col_expr(
                    mail_outbox::Column::LastError,
                    Expr::value(Some(error.clone())),
                ),
        };
        let res = q
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::State.eq(MAIL_SENDING))
            .filter(mail_outbox::Column::LockOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Marks failed the mails still `sending` whose lease ran out before
    /// `now`: their process stopped (or lost the database) after handing
    /// them to the SMTP server, so whether they arrived is unknown, and they
    /// are not sent again. Returns them.
    pub async fn sweep_mails(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<mail_outbox::Model>, StoreError> {
        let stale = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::State.eq(MAIL_SENDING))
            .filter(mail_outbox::Column::LockExpiresAt.lt(now))
            .all(&self.db)
            .await?;
        let mut swept = Vec::new();
        for m in stale {
            let res = mail_outbox::Entity::update_many()
                .col_expr(mail_outbox::Column::State, Expr::value(MAIL_FAILED))
                .col_expr(
                    mail_outbox::Column::LastError,
                    Expr::value(Some(
                        "delivery unknown: the process sending it stopped (or lost the \
                         database) before it recorded the SMTP server's answer; it is not \
                         sent again"
                            .to_string(),
                    )),
                )
                .col_expr(
                    mail_outbox::Column::LockOwner,
                    Expr::value(Option::<String>::None),
                )
                .filter(mail_outbox::Column::Id.eq(m.id))
                .filter(mail_outbox::Column::State.eq(MAIL_SENDING))
                .filter(mail_outbox::Column::LockExpiresAt.lt(now))
                .exec(&self.db)
                .await?;
            if res.rows_affected == 1 {
                swept.push(m);
            }
        }
        Ok(swept)
    }

    /// Gives up the mails still pending that were written before `before`;
    /// returns how many.
    pub async fn expire_mails(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let res = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::State, Expr::value(MAIL_FAILED))
            .col_expr(
                mail_outbox::Column::LastError,
                Expr::value(Some(
                    "not sent within a day (no process with an SMTP server took it)".to_string(),
                )),
            )
            .filter(mail_outbox::Column::State.eq(MAIL_PENDING))
            .filter(mail_outbox::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// When the next pending mail is due.
    pub async fn next_mail_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let due: Option<Option<DateTime<Utc>>> = mail_outbox::Entity::find()
            .select_only()
            .column_as(mail_outbox::Column::DueAt.min(), "due")
            .filter(mail_outbox::Column::State.eq(MAIL_PENDING))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(due.flatten())
    }

    /// Outbox rows, newest first: all, or those in one state.
    pub async fn mails(
        &self,
        state: Option<&str>,
        limit: u64,
    ) -> Result<Vec<mail_outbox::Model>, StoreError> {
        let mut q = mail_outbox::Entity::find();
        if let Some(s) = state {
            q = q.filter(mail_outbox::Column::State.eq(s));
        }
        Ok(q.order_by_desc(mail_outbox::Column::CreatedAt)
            .order_by_desc(mail_outbox::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Sets a user's address (`None`: none) and whether they opted out.
    pub async fn set_user_mail(
        &self,
        id: i64,
        email: Option<&str>,
        opt_out: bool,
    ) -> Result<bool, StoreError> {
        let res = app_user::Entity::update_many()
            .col_expr(
                app_user::Column::Email,
                Expr::value(email.map(str::to_string)),
            )
            .col_expr(app_user::Column::MailOptOut, Expr::value(opt_out))
            .filter(app_user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }
}
