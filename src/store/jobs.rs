//! Job acquisition and leases, and the schedule of timer start events.
//!
//! A job (or a start timer) is *acquired* by writing an owner and an expiry
//! into its row, in one statement, for a batch of rows that are due and free:
//! on PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED` in a CTE,
//! so concurrent executors take disjoint batches without waiting for each
//! other; on SQLite the whole `UPDATE ... RETURNING` runs in a `BEGIN
//! IMMEDIATE` transaction, which serialises acquisitions. A lease that expires
//! (its process died) makes the row free again; the sweeper clears such leases
//! so that what is held is always visible.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement, Value,
};
use uuid::Uuid;

use super::OneRow;
use super::entity::{job, start_timer};
use super::{CommandTxn, Gather, Store, StoreError, Txn, Writes};
use crate::engine::JobType;

/// The PostgreSQL channel on which new work is announced.
pub const JOB_CHANNEL: &str = "bpmn_jobs";

/// A job row, its kind typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub element_key: i64,
    pub element_id: String,
    pub kind: JobType,
    pub topic: Option<String>,
    pub due_at: DateTime<Utc>,
    pub lock_owner: Option<String>,
    pub lock_expires_at: Option<DateTime<Utc>>,
    pub retries: i32,
    pub payload: String,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// What its work returned while its instance was suspended (a JSON
    /// object): committed instead of doing the work again.
    pub result: Option<String>,
}

impl TryFrom<job::Model> for Job {
    type Error = StoreError;

    fn try_from(m: job::Model) -> Result<Job, StoreError> {
        let kind = JobType::parse(&m.kind).ok_or_else(|| {
            StoreError::Corrupt(format!("job {} has an unknown kind \"{}\"", m.id, m.kind))
        })?;
        Ok(Job {
            id: m.id,
            instance_id: m.instance_id,
            element_key: m.element_key,
            element_id: m.element_id,
            kind,
            topic: m.topic,
            due_at: m.due_at,
            lock_owner: m.lock_owner,
            lock_expires_at: m.lock_expires_at,
            retries: m.retries,
            payload: m.payload,
            last_error: m.last_error,
            created_at: m.created_at,
            result: m.result,
        })
    }
}

/// Typed jobs from rows (a row of unknown kind is damaged data).
pub(super) fn typed(rows: Vec<job::Model>) -> Result<Vec<Job>, StoreError> {
    rows.into_iter().map(Job::try_from).collect()
}

/// The stored names of job types.
pub(super) fn kind_names(kinds: &[JobType]) -> impl Iterator<Item = &'static str> + '_ {
    kinds.iter().map(|k| k.as_str())
}

/// What an acquisition may take.
#[derive(Debug, Clone, Copy)]
pub struct Acquire<'a> {
    /// Job kinds (ignored for start timers).
    pub kinds: &'a [JobType],
    pub owner: &'a str,
    /// Lease time now (rows due at or before it, leases expired before it).
    pub now: DateTime<Utc>,
    /// The lease's expiry.
    pub until: DateTime<Utc>,
    pub limit: u64,
}

/// A new timer start event schedule entry.
#[derive(Debug, Clone)]
pub struct NewStartTimer {
    pub definition_id: i64,
    pub definition_key: String,
    pub element_id: String,
    pub due: DateTime<Utc>,
    pub fired: i32,
    /// Its definition version is suspended: it waits.
    pub suspended: bool,
}

impl Store {
    /// Leases up to `limit` due, free jobs of the given kinds.
    pub async fn acquire_jobs(&self, a: Acquire<'_>) -> Result<Vec<Job>, StoreError> {
        if a.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.db.get_database_backend();
        let (sql, values) = acquire_sql(backend, "job", Some(a.kinds), &a);
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        let rows = if backend == DbBackend::Postgres {
            job::Entity::find().from_raw_sql(stmt).all(&self.db).await?
        } else {
            let txn = self.begin_write().await?;
            let rows = job::Entity::find().from_raw_sql(stmt).all(&txn).await?;
            Store::commit(txn).await?;
            rows
        };
        typed(rows)
    }

    /// When the next timer start event is due, if at or before `until`.
    pub async fn next_due_start_timer(
        &self,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(start_timer::Entity::find()
            .filter(start_timer::Column::DueAt.lte(until))
            .filter(start_timer::Column::Suspended.eq(false))
            .order_by_asc(start_timer::Column::DueAt)
            .one_row(&self.db)
            .await?
            .map(|t| t.due_at))
    }

    /// Leases up to `limit` due, free timer start events.
    pub async fn acquire_start_timers(
        &self,
        a: Acquire<'_>,
    ) -> Result<Vec<start_timer::Model>, StoreError> {
        let backend = self.db.get_database_backend();
        let (sql, values) = acquire_sql(backend, "start_timer", None, &a);
        let stmt = Statement::from_sql_and_values(backend, sql, values);
        if backend == DbBackend::Postgres {
            Ok(start_timer::Entity::find()
                .from_raw_sql(stmt)
                .all(&self.db)
                .await?)
        } else {
            let txn = self.begin_write().await?;
            let rows = start_timer::Entity::find()
                .from_raw_sql(stmt)
                .all(&txn)
                .await?;
            Store::commit(txn).await?;
            Ok(rows)
        }
    }

    /// Clears expired leases of jobs and start timers; returns how many.
    pub async fn sweep_leases(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let none: Option<String> = None;
        let never: Option<DateTime<Utc>> = None;
        let jobs = job::Entity::update_many()
            .col_expr(job::Column::LockOwner, Expr::value(none.clone()))
            .col_expr(job::Column::LockExpiresAt, Expr::value(never))
            .filter(job::Column::LockExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        let timers = start_timer::Entity::update_many()
            .col_expr(start_timer::Column::LockOwner, Expr::value(none))
            .col_expr(start_timer::Column::LockExpiresAt, Expr::value(never))
            .filter(start_timer::Column::LockExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        Ok(jobs.rows_affected + timers.rows_affected)
    }

    /// How many job and start-timer leases are held and unexpired at `now`.
    pub async fn held_leases(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        let jobs = job::Entity::find()
            .filter(job::Column::LockExpiresAt.gte(now))
            .count(&self.db)
            .await?;
        let timers = start_timer::Entity::find()
            .filter(start_timer::Column::LockExpiresAt.gte(now))
            .count(&self.db)
            .await?;
        Ok(jobs + timers)
    }

    /// The earliest due time of a free job of these kinds or of a start timer.
    pub async fn next_due(&self, kinds: &[JobType]) -> Result<Option<DateTime<Utc>>, StoreError> {
        let job: Option<Option<DateTime<Utc>>> = job::Entity::find()
            .select_only()
            .column_as(job::Column::DueAt.min(), "due")
            .filter(job::Column::Kind.is_in(kind_names(kinds)))
            .filter(job::Column::LockOwner.is_null())
            // Suspended work waits for its resume, which wakes the executor.
            .filter(job::Column::Suspended.eq(false))
            .into_tuple()
            .one(&self.db)
            .await?;
        let timer: Option<Option<DateTime<Utc>>> = start_timer::Entity::find()
            .select_only()
            .column_as(start_timer::Column::DueAt.min(), "due")
            .filter(start_timer::Column::LockOwner.is_null())
            .filter(start_timer::Column::Suspended.eq(false))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok([job.flatten(), timer.flatten()].into_iter().flatten().min())
    }

    /// One write transaction for measuring the database's own commit rate:
    /// empty, or updating one row of `setting`.
    pub async fn commit_probe(&self, write_one_row: bool) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        if write_one_row {
            // The same statement on both databases.
            super::count_statement();
            txn.execute_unprepared(
                "INSERT INTO setting (key, value) VALUES ('commit_probe', '0') \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value || ''",
            )
            .await?;
        }
        Store::commit(txn).await
    }

    /// Whether other processes can announce work (PostgreSQL `NOTIFY`).
    pub fn announces_jobs(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// Listens for work announced by other processes and calls `wake` for
    /// each announcement, until the connection fails (PostgreSQL `LISTEN`;
    /// returns at once on SQLite, where every writer is in this process).
    pub async fn listen_for_jobs(&self, wake: &(dyn Fn() + Send + Sync)) -> Result<(), StoreError> {
        if !self.announces_jobs() {
            return Ok(());
        }
        let pool = self.db.get_postgres_connection_pool().clone();
        let listen = async {
            let mut l = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
            l.listen(JOB_CHANNEL).await?;
            loop {
                l.recv().await?;
                wake();
            }
            #[allow(unreachable_code)]
            Ok::<(), sea_orm::sqlx::Error>(())
        };
        listen
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))
    }

    /// The database's own clock (PostgreSQL), to keep leases in one time across machines.
    pub async fn database_time(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms",
            ))
            .await?;
        let ms: Option<i64> = match row {
            Some(r) => r.try_get("", "ms").ok(),
            None => None,
        };
        Ok(ms.and_then(DateTime::from_timestamp_millis))
    }

    /// Announces new work to the executors of every process (PostgreSQL
    /// `NOTIFY`, delivered when the transaction commits). A no-op on SQLite.
    pub fn announce_jobs(w: &Writes<'_>) -> Result<(), StoreError> {
        if w.backend() == DbBackend::Postgres {
            w.run_statement(Statement::from_string(
                DbBackend::Postgres,
                format!("NOTIFY {JOB_CHANNEL}"),
            ))?;
        }
        Ok(())
    }

    /// Replaces the timer start schedule of a definition key (a new version was deployed).
    pub async fn replace_start_timers(
        txn: &Txn,
        definition_key: &str,
        timers: &[NewStartTimer],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        start_timer::Entity::delete_many()
            .filter(start_timer::Column::DefinitionKey.eq(definition_key))
            .exec(txn)
            .await?;
        for t in timers {
            Store::insert_start_timer(txn, t, now).await?;
        }
        Ok(())
    }

    /// Schedules one timer start.
    pub async fn insert_start_timer(
        txn: &Txn,
        t: &NewStartTimer,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        start_timer_row(t, now).exec(txn).await?;
        Ok(())
    }

    /// Schedules one timer start, in a command.
    pub fn schedule_start_timer(
        w: &Writes<'_>,
        t: &NewStartTimer,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        start_timer_row(t, now).gather(w)
    }

    /// Removes a start timer that fires, provided it is still there and,
    /// when `owner` is given, leased by that owner until after `now`
    /// ([`super::Unmet::StartTimer`] otherwise).
    pub async fn consume_start_timer(
        txn: &CommandTxn,
        id: Uuid,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut q = start_timer::Entity::delete_many().filter(start_timer::Column::Id.eq(id));
        if let Some(owner) = owner {
            q = q
                .filter(start_timer::Column::LockOwner.eq(owner))
                .filter(start_timer::Column::LockExpiresAt.gt(now));
        }
        txn.require(q.build(txn.backend()), super::Unmet::StartTimer(id))
            .await
    }

    /// The start timers of a definition key.
    pub async fn start_timers(
        &self,
        definition_key: &str,
    ) -> Result<Vec<start_timer::Model>, StoreError> {
        Ok(start_timer::Entity::find()
            .filter(start_timer::Column::DefinitionKey.eq(definition_key))
            .all(&self.db)
            .await?)
    }

    /// Gives a start timer's lease back, recording why it could not fire.
    pub async fn release_start_timer(
        &self,
        id: Uuid,
        owner: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        start_timer::Entity::update_many()
            .col_expr(
                start_timer::Column::LockOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                start_timer::Column::LockExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                start_timer::Column::LastError,
                Expr::value(Some(error.to_string())),
            )
            .col_expr(start_timer::Column::DueAt, Expr::value(retry_at))
            .filter(start_timer::Column::Id.eq(id))
            .filter(start_timer::Column::LockOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The acquisition statement for `table`, with its parameters.
fn acquire_sql(
    backend: DbBackend,
    table: &str,
    kinds: Option<&[JobType]>,
    a: &Acquire<'_>,
) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = Vec::new();
    let mut p = |v: Value| {
        values.push(v);
        match backend {
            DbBackend::Postgres => format!("${}", values.len()),
            _ => "?".to_string(),
        }
    };
    // Placeholders are numbered in the order they are created, which must be
    // the order they appear in the text for SQLite's `?`.
    let owner = p(a.owner.into());
    let until = p(a.until.into());
    let kind_filter = match kinds {
        Some(kinds) => {
            let list: Vec<String> = kinds.iter().map(|k| p(k.as_str().into())).collect();
            format!("kind IN ({}) AND ", list.join(", "))
        }
        None => String::new(),
    };
    let due = p(a.now.into());
    let expired = p(a.now.into());
    let awake = p(false.into());
    let limit = p((a.limit as i64).into());
    let pick = format!(
        "SELECT id FROM {table} WHERE {kind_filter}due_at <= {due} \
         AND (lock_owner IS NULL OR lock_expires_at < {expired}) \
         AND suspended = {awake} \
         ORDER BY due_at LIMIT {limit}"
    );
    let sql = match backend {
        DbBackend::Postgres => format!(
            "WITH picked AS ({pick} FOR UPDATE SKIP LOCKED) \
             UPDATE {table} SET lock_owner = {owner}, lock_expires_at = {until} \
             FROM picked WHERE {table}.id = picked.id RETURNING {table}.*"
        ),
        _ => format!(
            "UPDATE {table} SET lock_owner = {owner}, lock_expires_at = {until} \
             WHERE id IN ({pick}) RETURNING *"
        ),
    };
    (sql, values)
}

/// The row of a new timer start.
fn start_timer_row(
    t: &NewStartTimer,
    now: DateTime<Utc>,
) -> sea_orm::Insert<start_timer::ActiveModel> {
    start_timer::Entity::insert(start_timer::ActiveModel {
        id: Set(Uuid::now_v7()),
        definition_id: Set(t.definition_id),
        definition_key: Set(t.definition_key.clone()),
        element_id: Set(t.element_id.clone()),
        due_at: Set(t.due),
        fired: Set(t.fired),
        lock_owner: Set(None),
        lock_expires_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        suspended: Set(t.suspended),
    })
}
