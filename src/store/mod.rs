//! Storage: the only module that speaks SQL (through SeaORM).
//!
//! It knows how to connect to SQLite or PostgreSQL, migrate, open a write
//! transaction the right way for each backend, load an instance row for update,
//! save it back only if nobody else did in between (the `version` check), and
//! write an engine transition's history and effects. It decides nothing: the
//! runtime calls these pieces inside one transaction per command.

mod accounts;
mod decisions;
pub mod entity;
mod forms;
mod group;
mod item;
mod jobs;
mod mail;
mod one_row;
mod queries;
mod search;
mod seed;
mod single;
mod sqlite;
mod statistics;
mod writes;

pub use entity::form_definition::Model as FormDefinition;
pub use forms::FormRow;
pub use group::{CommandTxn, GROUP_CAP};
pub use item::Unmet;
pub use jobs::{Acquire, JOB_CHANNEL, Job, NewStartTimer};
pub use mail::{
    MAIL_FAILED, MAIL_PENDING, MAIL_SENDING, MAIL_SENT, MailFinish, MailPerson, NewMail,
};
pub use queries::{
    COUNT_CAP, DefinitionStats, InstanceOrder, InstanceQuery, NAV_COUNT_CAP, TaskOrder, TaskQuery,
    Total, Viewer, variable_search_sql,
};
pub use search::{
    IncidentSearch, IncidentSort, InstanceSearch, InstanceSort, TaskScope, TaskSearch, TaskSort,
};
pub use statistics::{
    BUCKETS_PER_DOUBLING, CommandStatistics, ElementCounts, bucket, bucket_middle, deltas,
};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ColumnType, Expr, ExprTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionOptions,
    TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use crate::engine::{Effect, Event, InstanceState, JobKind, JobType};
use entity::{
    deployment, history_batch, incident, instance_variable, job, message_subscription,
    process_definition, process_instance, start_timer, user_task, user_task_candidate,
    view_only_diagram,
};
use migration::MigratorTrait;
pub(crate) use one_row::OneRow;
pub use writes::{Gather, Writes, combined, guarded};

/// A write transaction (IMMEDIATE on SQLite).
pub type Txn = DatabaseTransaction;

/// Requests sent inside write transactions by this process, between their
/// `BEGIN` and `COMMIT` (which are not counted). Each is a round trip to the
/// database (on SQLite, to the thread of the connection that runs it): one
/// statement, or the statements a command gathered (`writes.rs`), sent
/// together.
static WRITE_STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// How many statements write transactions of this process have run so far.
pub fn write_statements() -> u64 {
    WRITE_STATEMENTS.load(Ordering::Relaxed)
}

/// Counts a request that SeaORM does not see (one run unprepared, or one
/// sent to the group writer).
fn count_statement() {
    WRITE_STATEMENTS.fetch_add(1, Ordering::Relaxed);
}

/// The default database: a SQLite file under `data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/bpmn.sqlite?mode=rwc";

/// How long [`Store::connect`] waits for a database server before it gives
/// up: long enough for a server that is starting too, short enough that a
/// wrong address is reported while someone still watches.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many characters of a variable's value the search index holds
/// (`substr(value, 1, 100)`, made by migration 000022). An equality search
/// compares that prefix through the index, then the whole value.
pub const VALUE_INDEX_CHARS: usize = 100;

/// The indexed expression: it must read exactly as in the index for the
/// database to use it.
fn value_prefix() -> Expr {
    Expr::cust(format!("substr(\"value\", 1, {VALUE_INDEX_CHARS})"))
}

/// The part of `value` that [`value_prefix`] compares.
fn value_prefix_of(value: &str) -> String {
    value.chars().take(VALUE_INDEX_CHARS).collect()
}

/// A history batch's JSON as it is stored: deflated when that makes it
/// smaller (a command's events repeat their field names and element ids, so
/// a straight-through instance's 2.8 kB shrink to about 0.5 kB), else as it
/// is. Returns `(events, packed)`: `events` is empty when `packed` holds them.
fn pack_history(json: String) -> (String, Option<Vec<u8>>) {
    // Below this, deflate's own framing eats most of what it saves.
    const WORTH_PACKING: usize = 200;
    thread_local! {
        // A compressor's state is a few hundred KB: allocated (and zeroed
        // by the kernel) once per thread, not once per command.
        static DEFLATE: std::cell::RefCell<flate2::Compress> = std::cell::RefCell::new(
            flate2::Compress::new(flate2::Compression::fast(), false),
        );
    }
    if json.len() < WORTH_PACKING {
        return (json, None);
    }
    let packed = DEFLATE.with(|deflate| {
        let mut deflate = deflate.borrow_mut();
        deflate.reset();
        // Room for as much as the text itself: what does not fit is not
        // worth packing.
        let mut out = Vec::with_capacity(json.len());
        match deflate.compress_vec(json.as_bytes(), &mut out, flate2::FlushCompress::Finish) {
            Ok(flate2::Status::StreamEnd) => Some(out),
            _ => None,
        }
    });
    match packed {
        Some(packed) if packed.len() < json.len() => (String::new(), Some(packed)),
        _ => (json, None),
    }
}

/// A stored history batch's events: inflated from `packed`, or read from
/// `events` as every row written before packing was.
pub(super) fn unpack_history(b: &history_batch::Model) -> Result<Vec<Value>, String> {
    use std::io::Read;
    match &b.packed {
        Some(packed) => {
            let mut json = Vec::with_capacity(packed.len() * 6);
            flate2::read::DeflateDecoder::new(packed.as_slice())
                .read_to_end(&mut json)
                .map_err(|e| format!("packed events: {e}"))?;
            serde_json::from_slice(&json).map_err(|e| e.to_string())
        }
        None => serde_json::from_str(&b.events).map_err(|e| e.to_string()),
    }
}

/// A database URL fit for messages and logs: the password, whether in the
/// user part or a `password=` parameter, replaced by `***`
/// (`postgres://bpmn:***@db/bpmn`).
pub fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let mut out = match main.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            // The user part ends at the last '@': a password may contain '@'.
            let authority = match authority.rsplit_once('@') {
                Some((user, host)) => match user.split_once(':') {
                    Some((name, _)) => format!("{name}:***@{host}"),
                    None => authority.to_string(),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{tail}")
        }
        None => main.to_string(),
    };
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("cannot prepare the database directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("cannot lock {path} to migrate the database: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    /// No connection to the database server within [`CONNECT_TIMEOUT`]
    /// (callers name the database: see [`redact_url`]).
    #[error(
        "no connection within {seconds} s: is the database server running, and are its address and port right?"
    )]
    Unreachable { seconds: u64 },
    /// The write transaction a command shared with others failed: nothing
    /// of the command was stored.
    #[error("database error: {0}")]
    Group(String),
    /// A read through the store's own SQLite readers failed.
    #[error("database error: {0}")]
    Read(String),
    /// A condition of a command did not hold when it was written (a lost
    /// race, a suspended version, a job or timer taken meanwhile): nothing
    /// of the command was stored. The runtime retries or explains it.
    #[error("the command's {0} no longer holds; nothing of it was stored")]
    Unmet(Unmet),
}

/// Converts engine time to a stored timestamp (millisecond precision, so stored
/// text sorts like time on SQLite).
pub fn to_db_time(t: jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.as_millisecond()).unwrap_or_default()
}

/// Converts a stored timestamp to engine time.
pub fn from_db_time(t: DateTime<Utc>) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(t.timestamp_millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A connection pool to the engine's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Where write transactions begin. On a SQLite file this is a pool of one
    /// connection, so that a process's writers queue in order instead of
    /// sleeping in SQLite's busy handler; elsewhere it is `db`'s pool. Either
    /// way it counts the statements it runs ([`write_statements`]).
    writer: DatabaseConnection,
    /// On a SQLite file: the writer task that commits concurrent commands
    /// together (`group.rs`).
    group: Option<group::GroupWriter>,
    /// On a SQLite file: the connections the hot reads run on, on the
    /// caller's thread (`sqlite.rs`).
    readers: Option<std::sync::Arc<sqlite::Readers>>,
}

/// What the runtime saves after a command.
#[derive(Debug, Clone)]
pub struct InstanceUpdate<'a> {
    pub state: &'a InstanceState,
    pub last_seq: i64,
    pub now: DateTime<Utc>,
}

/// One event of an instance's history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// Its number in the instance, from 1 without gaps.
    pub seq: i64,
    /// The number of the first event of the command that produced it (its
    /// history entry).
    pub command_seq: i64,
    pub at: DateTime<Utc>,
    /// Who ran the command that produced it.
    pub user_name: Option<String>,
    /// The event, when this version of the engine can read it.
    pub event: Option<Event>,
    /// The event as stored.
    pub payload: Value,
}

impl HistoryEntry {
    /// The event's kind (`element_completed`, ...).
    pub fn kind(&self) -> String {
        match &self.event {
            Some(e) => e.kind().to_string(),
            None => self.payload["type"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
        }
    }

    /// The element the event is about, if any.
    pub fn element_id(&self) -> Option<String> {
        self.event.as_ref()?.element().map(str::to_string)
    }

    /// The element instance the event is about, if any.
    pub fn element_key(&self) -> Option<i64> {
        self.event.as_ref()?.key().map(|k| k as i64)
    }
}

/// A new instance row.
#[derive(Debug, Clone)]
pub struct NewInstance<'a> {
    pub id: Uuid,
    pub definition_id: i64,
    pub definition_key: &'a str,
    pub business_key: Option<String>,
    pub parent_id: Option<Uuid>,
    pub parent_key: Option<i64>,
    pub started_by: Option<String>,
    pub state: &'a InstanceState,
    pub last_seq: i64,
    pub now: DateTime<Utc>,
    /// For a start of the latest version of its key: this version's number.
    /// The insert is refused ([`Unmet::Definition`]) when a newer version
    /// is deployed by then (by any process).
    pub latest_version: Option<i32>,
}

/// The context effects are written in.
#[derive(Debug, Clone, Copy)]
pub struct EffectContext<'a> {
    pub instance_id: Uuid,
    /// For a called instance: the calling instance and its call activity's key.
    pub parent: Option<(Uuid, i64)>,
    pub definition_key: &'a str,
    pub business_key: Option<&'a str>,
    pub user: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// When the instance started (copied onto its tasks for the instance list).
    pub instance_started_at: DateTime<Utc>,
}

/// The most rows one multi-row insert writes (far below the bound
/// parameters SQLite and PostgreSQL accept in one statement).
const BATCH_ROWS: usize = 500;

/// Default number of attempts of a job before it becomes an incident.
pub const DEFAULT_JOB_RETRIES: i32 = 3;

impl Store {
    /// Connects (creating a SQLite file and its directory as needed) and migrates.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let mut opt = ConnectOptions::new(url.to_owned());
        opt.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30))
            // A ping before every use costs a round trip per transaction; only
            // connections idle for a while (perhaps dropped by the server) are checked.
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            prepare_sqlite_dir(url)?;
            // sea-orm would use a single connection for SQLite unless told otherwise.
            opt.max_connections(4).min_connections(1);
            opt.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    // 16 MB of page cache per connection (SQLite's default is 2 MB),
                    // so that index pages of a large database stay in memory.
                    .pragma("cache_size", "-16384")
                    // The savepoint journal of a group commit (`group.rs`) in
                    // memory: in a temporary file it cost a file opened,
                    // written and closed by every group.
                    .pragma("temp_store", "memory")
            });
        } else {
            // A pool that connects eagerly keeps trying an unreachable server
            // for its whole acquire timeout; start-up should say so sooner.
            opt.max_connections(16)
                .min_connections(1)
                .connect_lazy(true);
        }
        let db = Database::connect(opt.clone()).await?;
        if !url.starts_with("sqlite:") {
            match tokio::time::timeout(CONNECT_TIMEOUT, db.ping()).await {
                Ok(answer) => answer?,
                Err(_) => {
                    return Err(StoreError::Unreachable {
                        seconds: CONNECT_TIMEOUT.as_secs(),
                    });
                }
            }
        }
        let mut writer = if sqlite_path(url).is_some() {
            opt.max_connections(1).min_connections(1);
            Database::connect(opt).await?
        } else {
            db.clone()
        };
        // Only this handle counts: a clone of a pool keeps its own callback.
        // (The group writer on SQLite has a connection of its own and counts
        // its requests itself.)
        writer.set_metric_callback(|_| count_statement());
        let mut store = Store {
            db,
            writer,
            group: None,
            readers: None,
        };
        // Processes starting at once on one SQLite file take turns migrating.
        let _turn = match sqlite_path(url) {
            Some(path) => Some(lock_file(&format!("{path}.migrate-lock")).await?),
            None => None,
        };
        store.migrate().await?;
        if let Some(path) = sqlite_path(url) {
            store.group = Some(group::GroupWriter::start(path)?);
            store.readers = Some(std::sync::Arc::new(sqlite::Readers::new(path)));
        }
        Ok(store)
    }

    /// Runs pending migrations; on PostgreSQL under an advisory lock so that
    /// several processes can start at the same moment.
    async fn migrate(&self) -> Result<(), StoreError> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            let lock = self.db.begin().await?;
            lock.execute_unprepared("SELECT pg_advisory_xact_lock(7423118852)")
                .await?;
            let result = migration::Migrator::up(&self.db, None).await;
            lock.commit().await?;
            result?;
        } else {
            migration::Migrator::up(&self.db, None).await?;
        }
        Ok(())
    }

    /// The underlying connection (for read queries of other modules of this layer).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// Opens a transaction that will write: `BEGIN IMMEDIATE` on SQLite (a
    /// deferred transaction that upgrades to a writer fails instead of waiting).
    pub async fn begin_write(&self) -> Result<Txn, StoreError> {
        let txn = if self.db.get_database_backend() == DbBackend::Sqlite {
            self.writer
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
        } else {
            self.writer.begin().await?
        };
        Ok(txn)
    }

    /// Commits a transaction.
    pub async fn commit(txn: Txn) -> Result<(), StoreError> {
        txn.commit().await?;
        Ok(())
    }

    // ----- deployments and definitions -----

    /// The newest version of a process key, with its deployment's checksum.
    pub async fn latest_definition(
        &self,
        key: &str,
    ) -> Result<Option<(process_definition::Model, String)>, StoreError> {
        Store::latest_definition_in(&self.db, key).await
    }

    /// The latest definition of a key and its deployment's checksum, read on `db`
    /// (inside a deployment's transaction, after [`Store::lock_deployments`]).
    pub async fn latest_definition_in<C: ConnectionTrait>(
        db: &C,
        key: &str,
    ) -> Result<Option<(process_definition::Model, String)>, StoreError> {
        let Some(def) = process_definition::Entity::find()
            .filter(process_definition::Column::Key.eq(key))
            .order_by_desc(process_definition::Column::Version)
            .one_row(db)
            .await?
        else {
            return Ok(None);
        };
        let checksum = deployment::Entity::find_by_id(def.deployment_id)
            .one_row(db)
            .await?
            .map(|d| d.checksum)
            .unwrap_or_default();
        Ok(Some((def, checksum)))
    }

    /// Serialises deployments until the transaction ends, so that processes
    /// deploying the same file at once make one version, not two. (SQLite's
    /// write transactions are serialised already.)
    pub async fn lock_deployments(txn: &Txn) -> Result<(), StoreError> {
        if txn.get_database_backend() == DbBackend::Postgres {
            count_statement();
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7423118853)")
                .await?;
        }
        Ok(())
    }

    /// Inserts a deployment row and returns its id.
    pub async fn insert_deployment(
        txn: &Txn,
        name: &str,
        source: &str,
        checksum: &str,
        by: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = deployment::ActiveModel {
            name: Set(name.to_string()),
            source: Set(source.to_string()),
            checksum: Set(checksum.to_string()),
            deployed_at: Set(now),
            deployed_by: Set(by.map(str::to_string)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(row.id)
    }

    /// Inserts the next version of a process key (versions are counted inside the
    /// write transaction, so two deployments cannot take the same number).
    pub async fn insert_definition(
        txn: &Txn,
        deployment_id: i64,
        key: &str,
        name: Option<&str>,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<process_definition::Model, StoreError> {
        let latest = process_definition::Entity::find()
            .filter(process_definition::Column::Key.eq(key))
            .order_by_desc(process_definition::Column::Version)
            .one_row(txn)
            .await?
            .map(|d| d.version)
            .unwrap_or(0);
        let row = process_definition::ActiveModel {
            deployment_id: Set(deployment_id),
            key: Set(key.to_string()),
            version: Set(latest + 1),
            name: Set(name.map(str::to_string)),
            is_default: Set(is_default),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(row)
    }

    /// A definition and the source of its deployment.
    pub async fn definition_with_source(
        &self,
        id: i64,
    ) -> Result<Option<(process_definition::Model, deployment::Model)>, StoreError> {
        let Some(def) = process_definition::Entity::find_by_id(id)
            .one_row(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let dep = deployment::Entity::find_by_id(def.deployment_id)
            .one_row(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("definition {id} has no deployment")))?;
        Ok(Some((def, dep)))
    }

    /// A definition by id.
    pub async fn definition(
        &self,
        id: i64,
    ) -> Result<Option<process_definition::Model>, StoreError> {
        Ok(process_definition::Entity::find_by_id(id)
            .one_row(&self.db)
            .await?)
    }

    /// All definitions, newest first.
    pub async fn definitions(&self) -> Result<Vec<process_definition::Model>, StoreError> {
        Ok(process_definition::Entity::find()
            .order_by_asc(process_definition::Column::Key)
            .order_by_desc(process_definition::Column::Version)
            .all(&self.db)
            .await?)
    }

    /// The versions of one process key, newest first.
    pub async fn definitions_of_key(
        &self,
        key: &str,
    ) -> Result<Vec<process_definition::Model>, StoreError> {
        Ok(process_definition::Entity::find()
            .filter(process_definition::Column::Key.eq(key))
            .order_by_desc(process_definition::Column::Version)
            .all(&self.db)
            .await?)
    }

    /// Keeps a file for viewing only; returns its id.
    pub async fn keep_view_only(
        &self,
        file: &str,
        name: &str,
        source: &str,
        now: DateTime<Utc>,
        by: Option<&str>,
    ) -> Result<i64, StoreError> {
        let row = view_only_diagram::ActiveModel {
            file: Set(file.to_string()),
            name: Set(name.to_string()),
            source: Set(source.to_string()),
            kept_at: Set(now),
            kept_by: Set(by.map(str::to_string)),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(row.id)
    }

    /// The view-only diagrams without their source: id, file, name, when,
    /// by whom; by name.
    pub async fn view_only_diagrams(
        &self,
    ) -> Result<Vec<(i64, String, String, DateTime<Utc>, Option<String>)>, StoreError> {
        Ok(view_only_diagram::Entity::find()
            .select_only()
            .column(view_only_diagram::Column::Id)
            .column(view_only_diagram::Column::File)
            .column(view_only_diagram::Column::Name)
            .column(view_only_diagram::Column::KeptAt)
            .column(view_only_diagram::Column::KeptBy)
            .order_by_asc(view_only_diagram::Column::Name)
            .order_by_asc(view_only_diagram::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// One view-only diagram.
    pub async fn view_only_diagram(
        &self,
        id: i64,
    ) -> Result<Option<view_only_diagram::Model>, StoreError> {
        Ok(view_only_diagram::Entity::find_by_id(id)
            .one_row(&self.db)
            .await?)
    }

    /// Every deployment, newest first, without its source: id, file name,
    /// when, by whom.
    pub async fn deployments(
        &self,
    ) -> Result<Vec<(i64, String, DateTime<Utc>, Option<String>)>, StoreError> {
        Ok(deployment::Entity::find()
            .select_only()
            .column(deployment::Column::Id)
            .column(deployment::Column::Name)
            .column(deployment::Column::DeployedAt)
            .column(deployment::Column::DeployedBy)
            .order_by_desc(deployment::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// The definitions created by one deployment.
    pub async fn definitions_of_deployment(
        &self,
        deployment_id: i64,
    ) -> Result<Vec<process_definition::Model>, StoreError> {
        Ok(process_definition::Entity::find()
            .filter(process_definition::Column::DeploymentId.eq(deployment_id))
            .order_by_asc(process_definition::Column::Id)
            .all(&self.db)
            .await?)
    }

    // ----- instances -----

    /// Inserts a new instance (version 1) unless its definition version is
    /// suspended (or gone, or superseded when the start is of the latest
    /// version, [`NewInstance::latest_version`]): [`Unmet::Definition`] then (see
    /// [`CommandTxn::require`]), and nothing is written. The check
    /// reads the definition row as it is now (the parsed definitions are
    /// cached), in the same statement as the insert.
    pub async fn insert_instance(txn: &CommandTxn, new: NewInstance<'_>) -> Result<(), StoreError> {
        use process_instance::Column as C;
        let state =
            serde_json::to_string(new.state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ended = matches!(
            new.state.status,
            crate::engine::Status::Completed | crate::engine::Status::Terminated
        );
        let row: [(C, sea_orm::Value); 16] = [
            (C::Id, new.id.into()),
            (C::DefinitionId, new.definition_id.into()),
            (C::DefinitionKey, new.definition_key.into()),
            (C::Status, new.state.status.as_str().into()),
            (C::HasIncident, new.state.has_incident().into()),
            (C::BusinessKey, new.business_key.into()),
            (C::ParentId, new.parent_id.into()),
            (C::ParentKey, new.parent_key.into()),
            (C::State, state.into()),
            (C::Version, 1i64.into()),
            (C::LastSeq, new.last_seq.into()),
            (C::StartedAt, new.now.into()),
            (C::StartedBy, new.started_by.into()),
            (C::EndedAt, ended.then_some(new.now).into()),
            (C::UpdatedAt, new.now.into()),
            (C::Suspended, new.state.suspended.into()),
        ];
        // INSERT ... SELECT <values> FROM process_definition WHERE id = ? AND NOT suspended
        let mut select = sea_orm::sea_query::Query::select();
        select
            .exprs(row.iter().map(|(_, v)| Expr::val(v.clone())))
            .from(process_definition::Entity)
            .and_where(process_definition::Column::Id.eq(new.definition_id))
            .and_where(process_definition::Column::Suspended.eq(false));
        if let Some(version) = new.latest_version {
            // ... AND NOT EXISTS (SELECT 1 FROM process_definition
            //                     WHERE key = ? AND version > ?)
            let newer = sea_orm::sea_query::Query::select()
                .expr(Expr::val(1))
                .from(process_definition::Entity)
                .and_where(process_definition::Column::Key.eq(new.definition_key))
                .and_where(process_definition::Column::Version.gt(version))
                .to_owned();
            select.and_where(Expr::exists(newer).not());
        }
        let mut insert = sea_orm::sea_query::Query::insert();
        insert
            .into_table(process_instance::Entity)
            .columns(row.iter().map(|(c, _)| *c))
            .select_from(select)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let statement = txn.backend().build(&insert);
        txn.require(statement, Unmet::Definition(new.definition_id))
            .await
    }

    /// Whether an instance row exists (to tell a deleted instance from a
    /// lost race after [`Store::update_instance`] changed nothing).
    pub async fn instance_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(process_instance::Entity::find_by_id(id)
            .select_only()
            .column(process_instance::Column::Id)
            .into_tuple::<Uuid>()
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Reads an instance row.
    pub async fn instance(&self, id: Uuid) -> Result<Option<process_instance::Model>, StoreError> {
        let found = process_instance::Entity::find_by_id(id);
        Ok(self.hot_models(found).await?.into_iter().next())
    }

    /// An instance and whether it called others (its call activities
    /// started instances), in one statement: a view reads the called
    /// instances only when there are some.
    pub async fn instance_calls(
        &self,
        id: Uuid,
    ) -> Result<Option<(process_instance::Model, bool)>, StoreError> {
        /// An instance row with the flag.
        struct Calls(process_instance::Model, bool);
        impl FromQueryResult for Calls {
            fn from_query_result(res: &sea_orm::QueryResult, _: &str) -> Result<Self, DbErr> {
                Ok(Calls(
                    process_instance::Model::from_query_result(res, "")?,
                    res.try_get("", "called")?,
                ))
            }
        }
        use process_instance::{Column as C, Entity as I};
        let children = sea_orm::sea_query::Query::select()
            .expr(Expr::val(1))
            .from_as(I, "child")
            .and_where(Expr::col(("child", C::ParentId)).equals((I, C::Id)))
            .to_owned();
        let query = I::find_by_id(id).expr_as(Expr::exists(children), "called");
        let columns = || {
            sqlite::Columns::of::<process_instance::Entity>().with("called", ColumnType::Boolean)
        };
        let decode = |r: &sqlite::ReadRow| {
            Ok(Calls(
                r.model::<process_instance::Entity>("")?,
                r.get::<bool>("called")?,
            ))
        };
        let rows: Vec<Calls> = self.hot_read(&query, columns, decode).await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|Calls(row, called)| (row, called)))
    }

    /// The rows of a read that requests make all the time (a read by key).
    /// On a SQLite file it runs on the caller's thread through the store's
    /// own readers, which decode each column as `columns` declares it and
    /// each row with `decode`; elsewhere through the pool, each row by its
    /// `FromQueryResult`.
    pub(crate) async fn hot_read<M: FromQueryResult>(
        &self,
        query: &impl QueryTrait,
        columns: impl FnOnce() -> sqlite::Columns,
        decode: impl Fn(&sqlite::ReadRow) -> Result<M, String>,
    ) -> Result<Vec<M>, StoreError> {
        let stmt = query.build(self.db.get_database_backend());
        match &self.readers {
            Some(readers) => readers
                .read(&stmt, &columns())?
                .iter()
                .map(|row| {
                    decode(row).map_err(|e| StoreError::Read(format!("{e} (in `{}`)", stmt.sql)))
                })
                .collect(),
            None => Ok(M::find_by_statement(stmt).all(&self.db).await?),
        }
    }

    /// Whether a hot read finds a row (see [`Store::hot_read`]).
    pub(crate) async fn hot_exists<E: EntityTrait>(
        &self,
        query: sea_orm::Select<E>,
    ) -> Result<bool, StoreError> {
        /// A row, whatever it holds.
        struct Found;
        impl FromQueryResult for Found {
            fn from_query_result(_: &sea_orm::QueryResult, _: &str) -> Result<Self, DbErr> {
                Ok(Found)
            }
        }
        let query = query
            .select_only()
            .expr_as(Expr::cust("1"), "found")
            .limit(1);
        let columns = || sqlite::Columns::default().with("found", ColumnType::Integer);
        let rows: Vec<Found> = self.hot_read(&query, columns, |_| Ok(Found)).await?;
        Ok(!rows.is_empty())
    }

    /// The models a hot read of an entity finds (see [`Store::hot_read`]).
    pub(crate) async fn hot_models<E: EntityTrait>(
        &self,
        query: sea_orm::Select<E>,
    ) -> Result<Vec<E::Model>, StoreError>
    where
        E::ActiveModel: sea_orm::TryIntoModel<E::Model>,
    {
        self.hot_read(&query, sqlite::Columns::of::<E>, |r| r.model::<E>(""))
            .await
    }

    /// Marks an instance and what waits in it (jobs, inbox tasks) suspended
    /// or not: the job executor and external workers skip suspended jobs.
    pub fn set_instance_suspended(
        w: &Writes<'_>,
        id: Uuid,
        suspended: bool,
    ) -> Result<(), StoreError> {
        process_instance::Entity::update_many()
            .col_expr(process_instance::Column::Suspended, Expr::value(suspended))
            .filter(process_instance::Column::Id.eq(id))
            .gather(w)?;
        job::Entity::update_many()
            .col_expr(job::Column::Suspended, Expr::value(suspended))
            .filter(job::Column::InstanceId.eq(id))
            .gather(w)?;
        user_task::Entity::update_many()
            .col_expr(user_task::Column::Suspended, Expr::value(suspended))
            .filter(user_task::Column::InstanceId.eq(id))
            .filter(user_task::Column::State.eq("open"))
            .gather(w)?;
        Ok(())
    }

    /// Moves an instance to another definition (a migration; the instance's
    /// version was checked and bumped by [`Store::update_instance`]).
    pub fn set_instance_definition(
        w: &Writes<'_>,
        id: Uuid,
        definition_id: i64,
    ) -> Result<(), StoreError> {
        process_instance::Entity::update_many()
            .col_expr(
                process_instance::Column::DefinitionId,
                Expr::value(definition_id),
            )
            .filter(process_instance::Column::Id.eq(id))
            .gather(w)
    }

    /// Suspends or resumes a definition version: no instance starts from it
    /// while it is suspended, and its timer start events wait.
    pub async fn set_definition_suspended(
        txn: &Txn,
        id: i64,
        suspended: bool,
    ) -> Result<(), StoreError> {
        process_definition::Entity::update_many()
            .col_expr(
                process_definition::Column::Suspended,
                Expr::value(suspended),
            )
            .filter(process_definition::Column::Id.eq(id))
            .exec(txn)
            .await?;
        start_timer::Entity::update_many()
            .col_expr(start_timer::Column::Suspended, Expr::value(suspended))
            .filter(start_timer::Column::DefinitionId.eq(id))
            .exec(txn)
            .await?;
        Ok(())
    }

    /// The ids of the active instances of a definition version.
    pub async fn active_instances_of(&self, definition_id: i64) -> Result<Vec<Uuid>, StoreError> {
        Ok(process_instance::Entity::find()
            .select_only()
            .column(process_instance::Column::Id)
            .filter(process_instance::Column::DefinitionId.eq(definition_id))
            .filter(process_instance::Column::Status.eq("active"))
            .order_by_asc(process_instance::Column::StartedAt)
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?)
    }

    /// Saves an instance if its version is still `expected`; [`Unmet::Version`]
    /// (see [`CommandTxn::require`]) when another transaction won the race
    /// (the caller retries).
    ///
    /// This is also the command's lock: the update holds the row (`FOR NO KEY
    /// UPDATE` on PostgreSQL, strong enough to serialise commands on it without
    /// blocking the foreign-key checks of jobs other instances insert for it)
    /// until the transaction ends, and a writer that committed first has
    /// moved the version, so the update matches nothing.
    pub async fn update_instance(
        txn: &CommandTxn,
        id: Uuid,
        expected: i64,
        update: InstanceUpdate<'_>,
    ) -> Result<(), StoreError> {
        let state =
            serde_json::to_string(update.state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ended = matches!(
            update.state.status,
            crate::engine::Status::Completed | crate::engine::Status::Terminated
        );
        let mut q = process_instance::Entity::update_many()
            .col_expr(process_instance::Column::State, Expr::value(state))
            .col_expr(
                process_instance::Column::Status,
                Expr::value(update.state.status.as_str()),
            )
            .col_expr(
                process_instance::Column::HasIncident,
                Expr::value(update.state.has_incident()),
            )
            .col_expr(
                process_instance::Column::LastSeq,
                Expr::value(update.last_seq),
            )
            .col_expr(process_instance::Column::UpdatedAt, Expr::value(update.now))
            .col_expr(
                process_instance::Column::Version,
                Expr::col(process_instance::Column::Version).add(1),
            );
        if ended {
            q = q.col_expr(
                process_instance::Column::EndedAt,
                Expr::value(Some(update.now)),
            );
        }
        let statement = q
            .filter(process_instance::Column::Id.eq(id))
            .filter(process_instance::Column::Version.eq(expected))
            .build(txn.backend());
        txn.require(statement, Unmet::Version(id)).await
    }

    /// Appends a command's events to an instance's history, numbered from
    /// `first_seq`, as one row.
    pub fn insert_history(
        w: &Writes<'_>,
        instance_id: Uuid,
        first_seq: i64,
        events: &[Event],
        at: DateTime<Utc>,
        user: Option<&str>,
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let json =
            serde_json::to_string(events).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let (json, packed) = pack_history(json);
        history_batch::Entity::insert(history_batch::ActiveModel {
            instance_id: Set(instance_id),
            first_seq: Set(first_seq),
            last_seq: Set(first_seq + events.len() as i64 - 1),
            at: Set(at),
            user_name: Set(user.map(str::to_string)),
            events: Set(json),
            packed: Set(packed),
        })
        .gather(w)?;
        Ok(())
    }

    /// Mirrors the instance's own variables (scope 0) into searchable rows.
    pub fn sync_variables(
        w: &Writes<'_>,
        instance_id: Uuid,
        events: &[Event],
    ) -> Result<(), StoreError> {
        // The last value of each variable: one row per name (PostgreSQL refuses
        // an upsert that touches a row twice).
        let mut last: std::collections::BTreeMap<&str, Option<&Value>> = Default::default();
        for e in events {
            match e {
                Event::VariablesSet { scope: 0, values } => {
                    for (name, value) in values {
                        last.insert(name, Some(value));
                    }
                }
                Event::VariablesRemoved { scope: 0, names } => {
                    for name in names {
                        last.insert(name, None);
                    }
                }
                _ => {}
            }
        }
        let removed: Vec<String> = last
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| n.to_string())
            .collect();
        if !removed.is_empty() {
            instance_variable::Entity::delete_many()
                .filter(instance_variable::Column::InstanceId.eq(instance_id))
                .filter(instance_variable::Column::Name.is_in(removed))
                .gather(w)?;
        }
        let rows: Vec<_> = last
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .map(|(name, value)| {
                let (text, is_text) = instance_variable::stored_text(value);
                instance_variable::ActiveModel {
                    instance_id: Set(instance_id),
                    name: Set(name.to_string()),
                    value: Set(text),
                    is_text: Set(is_text),
                }
            })
            .collect();
        // A value set again unchanged (a form submitted as it was shown) is
        // not written: the row, its index entries and its WAL stay as they are.
        let changed = Expr::col((instance_variable::Entity, instance_variable::Column::Value))
            .ne(Expr::col((
                sea_orm::sea_query::Alias::new("excluded"),
                instance_variable::Column::Value,
            )))
            .or(
                Expr::col((instance_variable::Entity, instance_variable::Column::IsText)).ne(
                    Expr::col((
                        sea_orm::sea_query::Alias::new("excluded"),
                        instance_variable::Column::IsText,
                    )),
                ),
            );
        for chunk in rows.chunks(200) {
            instance_variable::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        instance_variable::Column::InstanceId,
                        instance_variable::Column::Name,
                    ])
                    .update_columns([
                        instance_variable::Column::Value,
                        instance_variable::Column::IsText,
                    ])
                    .action_and_where(changed.clone())
                    .to_owned(),
                )
                .gather(w)?;
        }
        Ok(())
    }

    /// An instance's history in order, one entry per event.
    pub async fn history(&self, instance_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        let batches = history_batch::Entity::find()
            .filter(history_batch::Column::InstanceId.eq(instance_id))
            .order_by_asc(history_batch::Column::FirstSeq)
            .all(&self.db)
            .await?;
        let mut out = Vec::new();
        for b in batches {
            let events = unpack_history(&b).map_err(|e| {
                StoreError::Corrupt(format!(
                    "history of instance {instance_id} at {}: {e}",
                    b.first_seq
                ))
            })?;
            for (i, payload) in events.into_iter().enumerate() {
                out.push(HistoryEntry {
                    seq: b.first_seq + i as i64,
                    command_seq: b.first_seq,
                    at: b.at,
                    user_name: b.user_name.clone(),
                    event: serde_json::from_value(payload.clone()).ok(),
                    payload,
                });
            }
        }
        Ok(out)
    }

    /// Records incidents raised and resolved by a transition: at most one
    /// update (of the incidents raised before) and one insert (of those it
    /// raised, already resolved if it resolved them too).
    pub fn record_incidents(
        w: &Writes<'_>,
        instance_id: Uuid,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut raised: Vec<(i64, incident::ActiveModel)> = Vec::new();
        let mut resolved_keys: Vec<i64> = Vec::new();
        let mut resolve_all = false;
        for e in events {
            match e {
                Event::IncidentRaised {
                    incident: key,
                    key: element_key,
                    element,
                    message,
                    ..
                } => {
                    raised.push((
                        *key as i64,
                        incident::ActiveModel {
                            id: Set(Uuid::now_v7()),
                            instance_id: Set(instance_id),
                            incident_key: Set(*key as i64),
                            element_key: Set(*element_key as i64),
                            element_id: Set(element.clone()),
                            message: Set(message.clone()),
                            created_at: Set(now),
                            resolved_at: Set(None),
                        },
                    ));
                }
                Event::IncidentResolved { incident: key } => {
                    let key = *key as i64;
                    for (_, r) in raised.iter_mut().filter(|(k, _)| *k == key) {
                        r.resolved_at = Set(Some(now));
                    }
                    resolved_keys.push(key);
                }
                Event::InstanceTerminated { .. } => {
                    for (_, r) in &mut raised {
                        r.resolved_at = Set(Some(now));
                    }
                    resolve_all = true;
                }
                _ => {}
            }
        }
        // The rows raised by earlier commands first: this update must not
        // see the rows inserted below.
        if resolve_all || !resolved_keys.is_empty() {
            let mut q = incident::Entity::update_many()
                .col_expr(incident::Column::ResolvedAt, Expr::value(Some(now)))
                .filter(incident::Column::InstanceId.eq(instance_id))
                .filter(incident::Column::ResolvedAt.is_null());
            if !resolve_all {
                q = q.filter(incident::Column::IncidentKey.is_in(resolved_keys));
            }
            q.gather(w)?;
        }
        let raised: Vec<_> = raised.into_iter().map(|(_, r)| r).collect();
        for chunk in raised.chunks(BATCH_ROWS) {
            incident::Entity::insert_many(chunk.to_vec()).gather(w)?;
        }
        Ok(())
    }

    /// Writes a transition's effects: inbox tasks, jobs, subscriptions.
    ///
    /// New rows are gathered and written with one multi-row insert per table;
    /// the gathered rows are written before any effect that updates or
    /// deletes rows, so the effects still apply in their order.
    pub fn apply_effects(
        w: &Writes<'_>,
        ctx: EffectContext<'_>,
        effects: &[Effect],
    ) -> Result<(), StoreError> {
        let mut new = NewRows::default();
        for effect in effects {
            let inserts = matches!(
                effect,
                Effect::CreateUserTask(_) | Effect::CreateJob { .. } | Effect::Subscribe { .. }
            );
            if !inserts {
                new.write(w)?;
            }
            match effect {
                Effect::CreateUserTask(spec) => {
                    let id = crate::engine::task_id(ctx.instance_id, spec.key);
                    new.tasks.push(user_task::ActiveModel {
                        id: Set(id),
                        instance_id: Set(ctx.instance_id),
                        element_key: Set(spec.key as i64),
                        element_id: Set(spec.element.clone()),
                        definition_key: Set(ctx.definition_key.to_string()),
                        name: Set(spec.name.clone()),
                        assignee: Set(spec.assignee.clone()),
                        state: Set("open".into()),
                        priority: Set(spec.priority),
                        due_at: Set(spec.due.map(to_db_time)),
                        due_sort: Set(Some(due_sort(spec.due))),
                        follow_up_at: Set(spec.follow_up.map(to_db_time)),
                        created_at: Set(ctx.now),
                        instance_started_at: Set(ctx.instance_started_at),
                        completed_at: Set(None),
                        completed_by: Set(None),
                        suspended: Set(false),
                    });
                    for (kind, names) in [
                        ("user", &spec.candidate_users),
                        ("group", &spec.candidate_groups),
                    ] {
                        let mut seen = std::collections::HashSet::new();
                        for name in names.iter().filter(|n| seen.insert(n.as_str())) {
                            new.candidates.push(user_task_candidate::ActiveModel {
                                task_id: Set(id),
                                kind: Set(kind.to_string()),
                                name: Set(name.clone()),
                                claimable: Set(spec.assignee.is_none()),
                                created_at: Set(Some(ctx.now)),
                                due_sort: Set(Some(due_sort(spec.due))),
                                priority: Set(spec.priority),
                                definition_key: Set(ctx.definition_key.to_string()),
                                instance_id: Set(ctx.instance_id),
                                instance_started_at: Set(ctx.instance_started_at),
                                open: Set(true),
                            });
                        }
                    }
                }
                Effect::AssignUserTask { key, assignee } => {
                    // The candidate rows first: they find the task by its
                    // key, which the update leaves alone, and on PostgreSQL
                    // the two then go in one statement (see `writes.rs`).
                    set_claimable(w, ctx.instance_id, *key, assignee.is_none())?;
                    user_task::Entity::update_many()
                        .col_expr(user_task::Column::Assignee, Expr::value(assignee.clone()))
                        .filter(user_task::Column::InstanceId.eq(ctx.instance_id))
                        .filter(user_task::Column::ElementKey.eq(*key as i64))
                        .filter(user_task::Column::State.eq("open"))
                        .gather(w)?;
                }
                Effect::CloseUserTask { key, completed } => {
                    // The candidate rows first, as for an assignment.
                    close_candidates(w, ctx.instance_id, *key)?;
                    user_task::Entity::update_many()
                        .col_expr(
                            user_task::Column::State,
                            Expr::value(if *completed { "completed" } else { "cancelled" }),
                        )
                        .col_expr(user_task::Column::CompletedAt, Expr::value(Some(ctx.now)))
                        .col_expr(
                            user_task::Column::CompletedBy,
                            Expr::value(if *completed {
                                ctx.user.map(str::to_string)
                            } else {
                                None
                            }),
                        )
                        .filter(user_task::Column::InstanceId.eq(ctx.instance_id))
                        .filter(user_task::Column::ElementKey.eq(*key as i64))
                        .filter(user_task::Column::State.eq("open"))
                        .gather(w)?;
                }
                Effect::CreateJob {
                    key,
                    element,
                    kind,
                    due,
                    payload,
                    retries,
                } => {
                    let topic = match kind {
                        JobKind::External { topic } => Some(topic.clone()),
                        _ => None,
                    };
                    let payload = match payload {
                        Value::Null => "{}".to_string(),
                        other => other.to_string(),
                    };
                    new.jobs.push(job::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        instance_id: Set(ctx.instance_id),
                        element_key: Set(*key as i64),
                        element_id: Set(element.clone()),
                        kind: Set(kind.job_type().as_str().to_string()),
                        topic: Set(topic),
                        due_at: Set(due.map(to_db_time).unwrap_or(ctx.now)),
                        lock_owner: Set(None),
                        lock_expires_at: Set(None),
                        retries: Set(retries.map_or(DEFAULT_JOB_RETRIES, |r| r as i32)),
                        payload: Set(payload),
                        last_error: Set(None),
                        created_at: Set(ctx.now),
                        suspended: Set(false),
                        result: Set(None),
                    });
                }
                Effect::CancelJob { key } => {
                    job::Entity::delete_many()
                        .filter(job::Column::InstanceId.eq(ctx.instance_id))
                        .filter(job::Column::ElementKey.eq(*key as i64))
                        .gather(w)?;
                }
                Effect::Subscribe {
                    key,
                    element,
                    message,
                    signal,
                    correlation,
                } => {
                    new.subscriptions.push(message_subscription::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        instance_id: Set(ctx.instance_id),
                        element_key: Set(*key as i64),
                        element_id: Set(element.clone()),
                        name: Set(message.clone()),
                        business_key: Set(ctx.business_key.map(str::to_string)),
                        created_at: Set(ctx.now),
                        kind: Set(if *signal { "signal" } else { "message" }.into()),
                        correlation_key: Set(correlation.clone()),
                    });
                }
                Effect::Unsubscribe { key } => {
                    message_subscription::Entity::delete_many()
                        .filter(message_subscription::Column::InstanceId.eq(ctx.instance_id))
                        .filter(message_subscription::Column::ElementKey.eq(*key as i64))
                        .gather(w)?;
                }
                Effect::MoveWait { key, element } => {
                    let key = *key as i64;
                    user_task::Entity::update_many()
                        .col_expr(user_task::Column::ElementId, Expr::value(element.clone()))
                        .filter(user_task::Column::InstanceId.eq(ctx.instance_id))
                        .filter(user_task::Column::ElementKey.eq(key))
                        .gather(w)?;
                    job::Entity::update_many()
                        .col_expr(job::Column::ElementId, Expr::value(element.clone()))
                        .filter(job::Column::InstanceId.eq(ctx.instance_id))
                        .filter(job::Column::ElementKey.eq(key))
                        .gather(w)?;
                    message_subscription::Entity::update_many()
                        .col_expr(
                            message_subscription::Column::ElementId,
                            Expr::value(element.clone()),
                        )
                        .filter(message_subscription::Column::InstanceId.eq(ctx.instance_id))
                        .filter(message_subscription::Column::ElementKey.eq(key))
                        .gather(w)?;
                }
                Effect::RenameUserTask { key, name } => {
                    user_task::Entity::update_many()
                        .col_expr(user_task::Column::Name, Expr::value(name.clone()))
                        .filter(user_task::Column::InstanceId.eq(ctx.instance_id))
                        .filter(user_task::Column::ElementKey.eq(*key as i64))
                        .gather(w)?;
                }
                Effect::ReturnToCaller { element, outcome } => {
                    let Some((parent, key)) = ctx.parent else {
                        continue;
                    };
                    let kind = outcome.job_type();
                    let payload = serde_json::json!({
                        "from": ctx.instance_id.to_string(),
                        "outcome": outcome,
                    })
                    .to_string();
                    insert_job(w, parent, key, element, kind, payload, ctx.now)?;
                }
                Effect::CancelCalled { instance } => {
                    let Ok(child) = Uuid::parse_str(instance) else {
                        continue;
                    };
                    insert_job(w, child, 0, "", JobType::Cancel, "{}".into(), ctx.now)?;
                }
            }
        }
        new.write(w)
    }

    /// The instances called by an instance's call activities, oldest first.
    pub async fn called_instances(
        &self,
        parent: Uuid,
    ) -> Result<Vec<process_instance::Model>, StoreError> {
        let called = process_instance::Entity::find()
            .filter(process_instance::Column::ParentId.eq(parent))
            .order_by_asc(process_instance::Column::StartedAt)
            .order_by_asc(process_instance::Column::Id);
        self.hot_models(called).await
    }

    /// Whether an instance has a job of this kind for this element instance.
    pub async fn has_job(
        &self,
        instance: Uuid,
        key: i64,
        kind: JobType,
    ) -> Result<bool, StoreError> {
        Ok(job::Entity::find()
            .filter(job::Column::InstanceId.eq(instance))
            .filter(job::Column::ElementKey.eq(key))
            .filter(job::Column::Kind.eq(kind.as_str()))
            .count(&self.db)
            .await?
            > 0)
    }

    /// Drops a job that has nothing left to do (a call's answer that came too late).
    pub async fn discard_job(&self, id: Uuid) -> Result<(), StoreError> {
        job::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    // ----- tasks, jobs, subscriptions -----

    /// A user task by id.
    pub async fn task(&self, id: Uuid) -> Result<Option<user_task::Model>, StoreError> {
        let found = user_task::Entity::find_by_id(id);
        Ok(self.hot_models(found).await?.into_iter().next())
    }

    /// A user task and its instance, in one statement (a command on a task
    /// reads both).
    pub async fn task_with_instance(
        &self,
        id: Uuid,
    ) -> Result<Option<(user_task::Model, process_instance::Model)>, StoreError> {
        /// A task joined with its instance, as `select_also` names them.
        struct Pair(user_task::Model, process_instance::Model);
        impl FromQueryResult for Pair {
            fn from_query_result(res: &sea_orm::QueryResult, _: &str) -> Result<Self, DbErr> {
                Ok(Pair(
                    user_task::Model::from_query_result(res, "A_")?,
                    process_instance::Model::from_query_result(res, "B_")?,
                ))
            }
        }
        let instance = user_task::Entity::belongs_to(process_instance::Entity)
            .from(user_task::Column::InstanceId)
            .to(process_instance::Column::Id)
            .into();
        let query = user_task::Entity::find_by_id(id)
            .select_also(process_instance::Entity)
            .join(sea_orm::JoinType::InnerJoin, instance);
        let columns = || {
            sqlite::Columns::default()
                .and::<user_task::Entity>("A_")
                .and::<process_instance::Entity>("B_")
        };
        let decode = |r: &sqlite::ReadRow| {
            Ok(Pair(
                r.model::<user_task::Entity>("A_")?,
                r.model::<process_instance::Entity>("B_")?,
            ))
        };
        let rows: Vec<Pair> = self.hot_read(&query, columns, decode).await?;
        Ok(rows.into_iter().next().map(|Pair(t, i)| (t, i)))
    }

    /// A user task by id, read inside a transaction.
    pub async fn task_in(txn: &Txn, id: Uuid) -> Result<Option<user_task::Model>, StoreError> {
        Ok(user_task::Entity::find_by_id(id).one_row(txn).await?)
    }

    /// The oldest open task of an element in an instance.
    pub async fn open_task_for(
        &self,
        instance_id: Uuid,
        element: &str,
    ) -> Result<Option<user_task::Model>, StoreError> {
        Ok(user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(instance_id))
            .filter(user_task::Column::ElementId.eq(element))
            .filter(user_task::Column::State.eq("open"))
            .order_by_asc(user_task::Column::ElementKey)
            .one_row(&self.db)
            .await?)
    }

    /// The open tasks of an instance, oldest first.
    pub async fn open_tasks(&self, instance_id: Uuid) -> Result<Vec<user_task::Model>, StoreError> {
        Ok(user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(instance_id))
            .filter(user_task::Column::State.eq("open"))
            .order_by_asc(user_task::Column::ElementKey)
            .all(&self.db)
            .await?)
    }

    /// Every task of an instance (open and closed), oldest first.
    pub async fn tasks_of_instance(
        &self,
        instance_id: Uuid,
    ) -> Result<Vec<user_task::Model>, StoreError> {
        let tasks = user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(instance_id))
            .order_by_asc(user_task::Column::ElementKey);
        self.hot_models(tasks).await
    }

    /// The candidates of a task.
    pub async fn candidates(
        &self,
        task_id: Uuid,
    ) -> Result<Vec<user_task_candidate::Model>, StoreError> {
        Ok(user_task_candidate::Entity::find()
            .filter(user_task_candidate::Column::TaskId.eq(task_id))
            .order_by_asc(user_task_candidate::Column::Kind)
            .order_by_asc(user_task_candidate::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// The jobs of an instance, by due time.
    pub async fn jobs_of_instance(&self, instance_id: Uuid) -> Result<Vec<Job>, StoreError> {
        jobs::typed(
            job::Entity::find()
                .filter(job::Column::InstanceId.eq(instance_id))
                .order_by_asc(job::Column::DueAt)
                .order_by_asc(job::Column::Id)
                .all(&self.db)
                .await?,
        )
    }

    /// Deletes a job that ran, provided it is still there and, when `owner`
    /// is given, leased by that owner until after `now` ([`Unmet::Job`]
    /// otherwise).
    pub async fn consume_job(
        txn: &CommandTxn,
        id: Uuid,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut q = job::Entity::delete_many().filter(job::Column::Id.eq(id));
        if let Some(owner) = owner {
            q = q
                .filter(job::Column::LockOwner.eq(owner))
                .filter(job::Column::LockExpiresAt.gt(now));
        }
        txn.require(q.build(txn.backend()), Unmet::Job(id)).await
    }

    /// The next job of one of these kinds due at or before `until`, for an instance.
    pub async fn next_due_job(
        &self,
        kinds: &[JobType],
        until: DateTime<Utc>,
    ) -> Result<Option<Job>, StoreError> {
        job::Entity::find()
            .filter(job::Column::Kind.is_in(jobs::kind_names(kinds)))
            .filter(job::Column::DueAt.lte(until))
            .filter(job::Column::Suspended.eq(false))
            .order_by_asc(job::Column::DueAt)
            .order_by_asc(job::Column::Id)
            .one_row(&self.db)
            .await?
            .map(Job::try_from)
            .transpose()
    }

    /// Jobs of these kinds that are due and not leased (or whose lease expired).
    pub async fn due_jobs(
        &self,
        kinds: &[JobType],
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Job>, StoreError> {
        jobs::typed(
            job::Entity::find()
                .filter(job::Column::Kind.is_in(jobs::kind_names(kinds)))
                .filter(job::Column::DueAt.lte(now))
                .filter(
                    sea_orm::Condition::any()
                        .add(job::Column::LockOwner.is_null())
                        .add(job::Column::LockExpiresAt.lt(now)),
                )
                .order_by_asc(job::Column::DueAt)
                .limit(limit)
                .all(&self.db)
                .await?,
        )
    }

    /// Takes the lease of a job if it is free; returns whether this owner has it now.
    pub async fn lease_job(
        &self,
        id: Uuid,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = job::Entity::update_many()
            .col_expr(job::Column::LockOwner, Expr::value(owner))
            .col_expr(job::Column::LockExpiresAt, Expr::value(Some(until)))
            .filter(job::Column::Id.eq(id))
            .filter(
                sea_orm::Condition::any()
                    .add(job::Column::LockOwner.is_null())
                    .add(job::Column::LockExpiresAt.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Gives a job's lease back, recording why it failed.
    pub async fn release_job(
        &self,
        id: Uuid,
        owner: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        job::Entity::update_many()
            .col_expr(job::Column::LockOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                job::Column::LastError,
                Expr::value(error.map(str::to_string)),
            )
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::LockOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Keeps what a job's work returned (its instance was suspended as it
    /// ran) and frees its lease, while `owner` (when given) holds it; the
    /// job then waits like the instance's other jobs. Whether it was kept.
    pub async fn keep_job_result(
        &self,
        id: Uuid,
        owner: Option<&str>,
        result: &str,
    ) -> Result<bool, StoreError> {
        let mut update = job::Entity::update_many()
            .col_expr(job::Column::Result, Expr::value(Some(result.to_string())))
            .col_expr(job::Column::LockOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(job::Column::Id.eq(id));
        if let Some(owner) = owner {
            update = update.filter(job::Column::LockOwner.eq(owner));
        }
        Ok(update.exec(&self.db).await?.rows_affected == 1)
    }

    /// A job by id.
    pub async fn job(&self, id: Uuid) -> Result<Option<Job>, StoreError> {
        job::Entity::find_by_id(id)
            .one_row(&self.db)
            .await?
            .map(Job::try_from)
            .transpose()
    }

    /// External jobs of these topics that are due and free (or whose lease expired).
    pub async fn free_external_jobs(
        &self,
        topics: &[String],
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<Job>, StoreError> {
        jobs::typed(
            job::Entity::find()
                .filter(job::Column::Kind.eq(JobType::External.as_str()))
                .filter(job::Column::Topic.is_in(topics.iter().map(String::as_str)))
                .filter(job::Column::DueAt.lte(now))
                .filter(job::Column::Suspended.eq(false))
                .filter(
                    sea_orm::Condition::any()
                        .add(job::Column::LockOwner.is_null())
                        .add(job::Column::LockExpiresAt.lt(now)),
                )
                .order_by_asc(job::Column::DueAt)
                .order_by_asc(job::Column::Id)
                .limit(limit)
                .all(&self.db)
                .await?,
        )
    }

    /// External jobs matching a filter, oldest due first: a page of them
    /// (`offset`, `limit`), and how many match in all.
    pub async fn external_jobs(
        &self,
        filter: &ExternalJobFilter,
        now: DateTime<Utc>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<Job>, u64), StoreError> {
        let mut q = job::Entity::find().filter(job::Column::Kind.eq(JobType::External.as_str()));
        if let Some(t) = &filter.topic {
            q = q.filter(job::Column::Topic.eq(t.as_str()));
        }
        if let Some(w) = &filter.worker {
            q = q
                .filter(job::Column::LockOwner.eq(w.as_str()))
                .filter(job::Column::LockExpiresAt.gt(now));
        }
        if let Some(i) = filter.instance {
            q = q.filter(job::Column::InstanceId.eq(i));
        }
        match filter.locked {
            Some(true) => {
                q = q
                    .filter(job::Column::LockOwner.is_not_null())
                    .filter(job::Column::LockExpiresAt.gt(now));
            }
            Some(false) => {
                q = q.filter(
                    sea_orm::Condition::any()
                        .add(job::Column::LockOwner.is_null())
                        .add(job::Column::LockExpiresAt.lte(now)),
                );
            }
            None => {}
        }
        let total = q.clone().count(&self.db).await?;
        let rows = q
            .order_by_asc(job::Column::DueAt)
            .order_by_asc(job::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((jobs::typed(rows)?, total))
    }

    /// Moves the lease of a job held by `owner` (and not expired) to `until`.
    pub async fn extend_lease(
        &self,
        id: Uuid,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let res = job::Entity::update_many()
            .col_expr(job::Column::LockExpiresAt, Expr::value(Some(until)))
            .filter(job::Column::Id.eq(id))
            .filter(job::Column::LockOwner.eq(owner))
            .filter(job::Column::LockExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Puts a job held by `owner` (or, with `None`, any job) back in the queue
    /// for a later attempt.
    pub async fn reschedule_job(
        &self,
        id: Uuid,
        owner: Option<&str>,
        now: DateTime<Utc>,
        retries: i32,
        due: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        let q = job::Entity::update_many()
            .col_expr(job::Column::Retries, Expr::value(retries))
            .col_expr(job::Column::DueAt, Expr::value(due))
            .col_expr(job::Column::LockOwner, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job::Column::LastError, Expr::value(Some(error.to_string())))
            .filter(job::Column::Id.eq(id));
        let q = match owner {
            Some(owner) => q
                .filter(job::Column::LockOwner.eq(owner))
                .filter(job::Column::LockExpiresAt.gt(now)),
            None => q,
        };
        let res = q.exec(&self.db).await?;
        Ok(res.rows_affected == 1)
    }

    /// Subscriptions to a message, narrowed by business key and by instance
    /// variables that must have given values.
    pub async fn matching_subscriptions(
        &self,
        name: &str,
        business_key: Option<&str>,
        correlation: &[(String, String)],
        correlation_key: Option<&str>,
        limit: u64,
    ) -> Result<Vec<message_subscription::Model>, StoreError> {
        let mut q = message_subscription::Entity::find()
            .filter(message_subscription::Column::Kind.eq("message"))
            .filter(message_subscription::Column::Name.eq(name));
        if let Some(b) = business_key {
            q = q.filter(message_subscription::Column::BusinessKey.eq(b));
        }
        if let Some(k) = correlation_key {
            q = q.filter(message_subscription::Column::CorrelationKey.eq(k));
        }
        for (var, value) in correlation {
            q = q.filter(
                message_subscription::Column::InstanceId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(instance_variable::Column::InstanceId)
                        .from(instance_variable::Entity)
                        .and_where(instance_variable::Column::Name.eq(var.as_str()))
                        .and_where(instance_variable::Column::Value.eq(value.as_str()))
                        .to_owned(),
                ),
            );
        }
        Ok(q.order_by_asc(message_subscription::Column::CreatedAt)
            .order_by_asc(message_subscription::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Every subscription to a signal, oldest first (at most `limit`).
    pub async fn signal_subscriptions(
        &self,
        name: &str,
        limit: u64,
    ) -> Result<Vec<message_subscription::Model>, StoreError> {
        Ok(message_subscription::Entity::find()
            .filter(message_subscription::Column::Kind.eq("signal"))
            .filter(message_subscription::Column::Name.eq(name))
            .order_by_asc(message_subscription::Column::CreatedAt)
            .order_by_asc(message_subscription::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// An incident by id.
    pub async fn incident(&self, id: Uuid) -> Result<Option<incident::Model>, StoreError> {
        Ok(incident::Entity::find_by_id(id).one_row(&self.db).await?)
    }

    /// The subscriptions of an instance to a message name, oldest first.
    pub async fn subscriptions(
        &self,
        instance_id: Uuid,
        name: &str,
    ) -> Result<Vec<message_subscription::Model>, StoreError> {
        Ok(message_subscription::Entity::find()
            .filter(message_subscription::Column::InstanceId.eq(instance_id))
            .filter(message_subscription::Column::Kind.eq("message"))
            .filter(message_subscription::Column::Name.eq(name))
            .order_by_asc(message_subscription::Column::ElementKey)
            .all(&self.db)
            .await?)
    }

    /// Open incidents of an instance.
    pub async fn open_incidents(
        &self,
        instance_id: Uuid,
    ) -> Result<Vec<incident::Model>, StoreError> {
        let open = incident::Entity::find()
            .filter(incident::Column::InstanceId.eq(instance_id))
            .filter(incident::Column::ResolvedAt.is_null())
            .order_by_asc(incident::Column::IncidentKey);
        self.hot_models(open).await
    }

    /// How many instances there are (for tests and listings).
    pub async fn count_instances(&self) -> Result<u64, StoreError> {
        Ok(process_instance::Entity::find().count(&self.db).await?)
    }
}

/// The inbox's due-date sort key: tasks without a due date sort last.
fn due_sort(due: Option<jiff::Timestamp>) -> DateTime<Utc> {
    due.map(to_db_time).unwrap_or_else(far_future)
}

/// 9999-12-31, the due date of tasks that have none.
pub fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or_default()
}

/// Whether a task's candidates see it in their inbox (open and unclaimed).
fn set_claimable(
    w: &Writes<'_>,
    instance: Uuid,
    key: u64,
    claimable: bool,
) -> Result<(), StoreError> {
    user_task_candidate::Entity::update_many()
        .col_expr(
            user_task_candidate::Column::Claimable,
            Expr::value(claimable),
        )
        .filter(
            user_task_candidate::Column::TaskId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_task::Column::Id)
                    .from(user_task::Entity)
                    .and_where(user_task::Column::InstanceId.eq(instance))
                    .and_where(user_task::Column::ElementKey.eq(key as i64))
                    .to_owned(),
            ),
        )
        .gather(w)?;
    Ok(())
}

/// A task closed: its candidates neither claim it nor see its instance
/// through it any more.
fn close_candidates(w: &Writes<'_>, instance: Uuid, key: u64) -> Result<(), StoreError> {
    user_task_candidate::Entity::update_many()
        .col_expr(user_task_candidate::Column::Claimable, Expr::value(false))
        .col_expr(user_task_candidate::Column::Open, Expr::value(false))
        .filter(
            user_task_candidate::Column::TaskId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_task::Column::Id)
                    .from(user_task::Entity)
                    .and_where(user_task::Column::InstanceId.eq(instance))
                    .and_where(user_task::Column::ElementKey.eq(key as i64))
                    .to_owned(),
            ),
        )
        .gather(w)?;
    Ok(())
}

/// Takes an exclusive lock on a file (created if need be), held until the
/// returned handle is dropped.
async fn lock_file(path: &str) -> Result<std::fs::File, StoreError> {
    let path = path.to_string();
    let io = |source: std::io::Error| StoreError::Lock {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    tokio::task::spawn_blocking(move || file.lock().map(|_| file))
        .await
        .map_err(|e| io(std::io::Error::other(e)))?
        .map_err(io)
}

/// The file of a SQLite URL (`None` for an in-memory database).
fn sqlite_path(url: &str) -> Option<&str> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

fn prepare_sqlite_dir(url: &str) -> Result<(), StoreError> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Directory {
            path: parent.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// The rows a transition's effects insert, gathered to be written with one
/// statement per table.
#[derive(Default)]
struct NewRows {
    tasks: Vec<user_task::ActiveModel>,
    candidates: Vec<user_task_candidate::ActiveModel>,
    jobs: Vec<job::ActiveModel>,
    subscriptions: Vec<message_subscription::ActiveModel>,
}

impl NewRows {
    /// Writes the gathered rows (tasks before their candidates) and forgets them.
    fn write(&mut self, w: &Writes<'_>) -> Result<(), StoreError> {
        for chunk in std::mem::take(&mut self.tasks).chunks(BATCH_ROWS) {
            user_task::Entity::insert_many(chunk.to_vec()).gather(w)?;
        }
        for chunk in std::mem::take(&mut self.candidates).chunks(BATCH_ROWS) {
            user_task_candidate::Entity::insert_many(chunk.to_vec()).gather(w)?;
        }
        for chunk in std::mem::take(&mut self.jobs).chunks(BATCH_ROWS) {
            // A job an element already has stays as it is.
            job::Entity::insert_many(chunk.to_vec())
                .on_conflict_do_nothing_on([
                    job::Column::InstanceId,
                    job::Column::ElementKey,
                    job::Column::Kind,
                ])
                .gather(w)?;
        }
        for chunk in std::mem::take(&mut self.subscriptions).chunks(BATCH_ROWS) {
            message_subscription::Entity::insert_many(chunk.to_vec()).gather(w)?;
        }
        Ok(())
    }
}

/// A job for another instance than the one whose command is being written
/// (a called instance's answer to its caller, a cancellation of a callee).
fn insert_job(
    w: &Writes<'_>,
    instance: Uuid,
    key: i64,
    element: &str,
    kind: JobType,
    payload: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use job::Column as C;
    // A suspended instance's answers wait with it: the flag is read from the
    // instance row by the insert itself. (A missing instance fails the
    // foreign key, as a plain insert would.)
    let mut flag = sea_orm::sea_query::Query::select();
    flag.column(process_instance::Column::Suspended)
        .from(process_instance::Entity)
        .and_where(process_instance::Column::Id.eq(instance));
    let suspended = sea_orm::sea_query::Func::coalesce([
        Expr::SubQuery(None, Box::new(flag.into())),
        Expr::val(false),
    ]);
    let row: [(C, Expr); 14] = [
        (C::Id, Expr::val(Uuid::now_v7())),
        (C::InstanceId, Expr::val(instance)),
        (C::ElementKey, Expr::val(key)),
        (C::ElementId, Expr::val(element)),
        (C::Kind, Expr::val(kind.as_str())),
        (C::Topic, Expr::val(Option::<String>::None)),
        (C::DueAt, Expr::val(now)),
        (C::LockOwner, Expr::val(Option::<String>::None)),
        (C::LockExpiresAt, Expr::val(Option::<DateTime<Utc>>::None)),
        (C::Retries, Expr::val(DEFAULT_JOB_RETRIES)),
        (C::Payload, Expr::val(payload)),
        (C::LastError, Expr::val(Option::<String>::None)),
        (C::CreatedAt, Expr::val(now)),
        (C::Suspended, suspended.into()),
    ];
    let mut insert = sea_orm::sea_query::Query::insert();
    insert
        .into_table(job::Entity)
        .columns(row.iter().map(|(c, _)| *c))
        .values(row.into_iter().map(|(_, v)| v))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([C::InstanceId, C::ElementKey, C::Kind])
                .do_nothing()
                .to_owned(),
        );
    w.run_built(&insert)?;
    Ok(())
}

/// Which external jobs a list asks for (every part optional).
#[derive(Debug, Clone, Default)]
pub struct ExternalJobFilter {
    pub topic: Option<String>,
    /// Locked by this worker now.
    pub worker: Option<String>,
    pub instance: Option<Uuid>,
    /// Locked now (`true`) or free (`false`).
    pub locked: Option<bool>,
}
