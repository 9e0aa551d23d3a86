//! Group commit: the commands of one process that are ready to write at the
//! same moment share one write transaction and its commit.
//!
//! On SQLite a process writes commands through one connection, owned by a
//! thread of its own (the writer), and a commit costs more than the
//! handful of statements of a command. So the writer takes the commands
//! waiting for their turn (up to [`GROUP_CAP`], also those that arrive
//! while the group is being written), begins one `BEGIN IMMEDIATE`
//! transaction and gives each command a turn under the savepoint
//! `command`. The command writes, with its own version check, through its
//! [`CommandTxn`] and then either keeps its writes
//! ([`Store::commit_command`]: the savepoint is released into the
//! transaction) or drops the transaction, which rolls back to its
//! savepoint: a conflict or a failure of one command never touches the
//! others. After the last turn the writer commits once, and only then tells
//! each command that kept its writes that they landed. If that commit
//! fails, every command of the group gets the error, and none of them
//! landed.
//!
//! A command's code runs in its caller's task; what it sends the writer is
//! data: requests of statements to run in its turn ([`CommandTxn::check`]
//! for one whose count of changed rows the command reads, the gathered
//! writes of [`super::Writes`]), each answered once it ran. A command sends
//! its requests as soon as it has them, also before its turn came: the
//! writer runs them when it does. Every request is one hand-off between
//! threads and back, and nothing else is: the writer runs the statements
//! itself, through SQLite's own prepared-statement cache of its connection
//! (`rusqlite`), where sqlx would send each statement to a thread of its
//! own. A caller that goes away during its turn (or before it) ends it by
//! being dropped, and what it wrote is rolled back.
//!
//! The writer's connection is a second one to the same file, next to the
//! store's sqlx pools: the other writes (deployments, job leases, accounts)
//! keep their transactions there, and SQLite's write lock (with its busy
//! timeout) orders them with the groups. Values are bound exactly as sqlx
//! binds them, so what either connection writes the other reads alike.
//!
//! On PostgreSQL each command keeps a transaction of its own
//! ([`CommandTxn`] wraps it): grouping there would hold the row locks of
//! unrelated instances until the group commits, and processes grouping
//! different instances in different orders could deadlock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::oneshot;

use super::{Store, StoreError, Txn};

/// The most commands one group takes before it commits.
pub const GROUP_CAP: usize = 64;

/// How long the writer waits for SQLite's write lock (held by another
/// connection or process) before a group fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a command asks of the writer during its turn.
enum Request {
    /// Runs statements in order; answers with how many rows the last one
    /// changed (or returned, for one with `RETURNING`).
    Run {
        statements: Vec<Statement>,
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// Keeps the command's writes; answers once the group's commit ended.
    Keep {
        landed: oneshot::Sender<Result<(), String>>,
    },
}

/// A command waiting for its turn: where its requests arrive.
struct Waiting {
    requests: std_mpsc::Receiver<Request>,
}

/// Feeds the writer thread of one SQLite database file.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    queue: std_mpsc::Sender<Waiting>,
    /// Commands queued and not yet taken into a group.
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish()
    }
}

impl GroupWriter {
    /// Opens the writer's connection to the SQLite file at `path` and
    /// starts its thread; the thread ends when the last clone of this
    /// writer is dropped.
    pub(crate) fn start(path: &str) -> Result<GroupWriter, StoreError> {
        let conn = open(path)
            .map_err(|e| StoreError::Group(format!("cannot open {path} for the writer: {e}")))?;
        let (queue, rx) = std_mpsc::channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        let counter = waiting.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, counter, rx))
            .map_err(|e| StoreError::Group(format!("cannot start the writer: {e}")))?;
        Ok(GroupWriter { queue, waiting })
    }

    /// How many commands wait for a group to take them.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Queues a command for its turn in a group.
    fn turn(&self) -> Result<Turn, StoreError> {
        let (requests, rx) = std_mpsc::channel();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Waiting { requests: rx }).is_err() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Group("the writer stopped".into()));
        }
        Ok(Turn { requests })
    }
}

/// Opens the writer's connection with the settings of the store's pools.
fn open(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -16384; PRAGMA temp_store = memory;",
    )?;
    // Room for every statement shape of the commands.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// The writer thread: one group after another while anyone can send to it.
fn run(conn: rusqlite::Connection, waiting: Arc<AtomicUsize>, queue: std_mpsc::Receiver<Waiting>) {
    while let Ok(first) = queue.recv() {
        waiting.fetch_sub(1, Ordering::Relaxed);
        group(&conn, &waiting, &queue, first);
    }
}

/// How one command's turn ended.
enum Ended {
    /// It kept its writes; told the outcome of the commit later.
    Kept(oneshot::Sender<Result<(), String>>),
    /// It rolled back to its savepoint (or went away).
    Undone,
    /// The transaction itself is gone (SQLite rolls back the whole
    /// transaction on some errors, such as a full disk).
    Broken(String),
}

/// Writes one group: begin, each command's turn, commit, answers.
fn group(
    conn: &rusqlite::Connection,
    waiting: &AtomicUsize,
    queue: &std_mpsc::Receiver<Waiting>,
    first: Waiting,
) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        // This command hears why; those still queued try again with the
        // next group.
        refuse(first, &format!("cannot begin a write transaction: {e}"));
        return;
    }
    let mut landed = Vec::new();
    let mut broken = None;
    let mut next = Some(first);
    let mut taken = 0;
    while let Some(command) = next.take() {
        taken += 1;
        match turn(conn, command) {
            Ended::Kept(answer) => landed.push(answer),
            Ended::Undone => {}
            Ended::Broken(e) => {
                broken = Some(e);
                break;
            }
        }
        if taken < GROUP_CAP
            && let Ok(command) = queue.try_recv()
        {
            waiting.fetch_sub(1, Ordering::Relaxed);
            next = Some(command);
        }
    }
    let result = match broken {
        None => exec(conn, "COMMIT").map_err(|e| e.to_string()),
        Some(e) => Err(format!("the group's transaction failed: {e}")),
    };
    if result.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    for answer in landed {
        let _ = answer.send(result.clone());
    }
}

/// Answers every request of a command that gets no turn with `message`.
fn refuse(command: Waiting, message: &str) {
    while let Ok(request) = command.requests.recv() {
        match request {
            Request::Run { reply, .. } => {
                let _ = reply.send(Err(message.to_string()));
            }
            Request::Keep { landed } => {
                let _ = landed.send(Err(message.to_string()));
                return;
            }
        }
    }
}

/// Runs one command's turn: its requests, under its savepoint (opened with
/// its first request), until it keeps its writes or goes away.
fn turn(conn: &rusqlite::Connection, command: Waiting) -> Ended {
    let mut opened = false;
    loop {
        match command.requests.recv() {
            Ok(Request::Run { statements, reply }) => {
                // A request is counted as sqlx counts a statement on the
                // store's writer pool.
                super::count_statement();
                if !opened {
                    if let Err(e) = exec(conn, "SAVEPOINT command") {
                        let message = e.to_string();
                        let _ = reply.send(Err(message.clone()));
                        return Ended::Broken(message);
                    }
                    opened = true;
                }
                match run_all(conn, &statements) {
                    Ok(n) => {
                        let _ = reply.send(Ok(n));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.clone()));
                        if conn.is_autocommit() {
                            return Ended::Broken(e);
                        }
                    }
                }
            }
            Ok(Request::Keep { landed }) => {
                if opened && let Err(e) = exec(conn, "RELEASE command") {
                    let _ = landed.send(Err(e.to_string()));
                    return Ended::Broken(e.to_string());
                }
                return Ended::Kept(landed);
            }
            // The command went away (or dropped its transaction).
            Err(_) if !opened => return Ended::Undone,
            Err(_) => {
                return match exec(conn, "ROLLBACK TO command")
                    .and_then(|()| exec(conn, "RELEASE command"))
                {
                    Ok(()) => Ended::Undone,
                    Err(e) => Ended::Broken(e.to_string()),
                };
            }
        }
    }
}

/// Runs a statement without parameters through the statement cache.
fn exec(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// Runs statements in order: the rows the last one changed or returned.
fn run_all(conn: &rusqlite::Connection, statements: &[Statement]) -> Result<u64, String> {
    let mut count = 0;
    for s in statements {
        count = run_one(conn, s).map_err(|e| e.to_string())?;
    }
    Ok(count)
}

/// Runs one statement with its values bound as sqlx binds them.
fn run_one(conn: &rusqlite::Connection, s: &Statement) -> rusqlite::Result<u64> {
    let mut st = conn.prepare_cached(&s.sql)?;
    if let Some(values) = &s.values {
        for (i, v) in values.0.iter().enumerate() {
            st.raw_bind_parameter(i + 1, bound(v)?)?;
        }
    }
    if st.column_count() == 0 {
        return Ok(st.raw_execute()? as u64);
    }
    let mut rows = st.raw_query();
    let mut n = 0;
    while rows.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// A value as sqlx's SQLite driver binds it (so that sqlx reads it back
/// alike): booleans as integers, UUIDs as 16-byte blobs, timestamps as
/// RFC 3339 text with `+00:00`, JSON as text.
fn bound(v: &Value) -> rusqlite::Result<rusqlite::types::Value> {
    use chrono::SecondsFormat::AutoSi;
    use rusqlite::types::Value as V;
    fn or_null<T>(v: &Option<T>, f: impl FnOnce(&T) -> V) -> V {
        v.as_ref().map_or(V::Null, f)
    }
    Ok(match v {
        Value::Bool(b) => or_null(b, |b| V::Integer(i64::from(*b))),
        Value::TinyInt(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::SmallInt(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::Int(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::BigInt(i) => or_null(i, |i| V::Integer(*i)),
        Value::TinyUnsigned(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::SmallUnsigned(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::Unsigned(i) => or_null(i, |i| V::Integer(i64::from(*i))),
        Value::BigUnsigned(Some(i)) => V::Integer(
            i64::try_from(*i).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        ),
        Value::BigUnsigned(None) => V::Null,
        Value::Float(f) => or_null(f, |f| V::Real(f64::from(*f))),
        Value::Double(f) => or_null(f, |f| V::Real(*f)),
        Value::String(s) => or_null(s, |s| V::Text(s.clone())),
        Value::Char(c) => or_null(c, |c| V::Text(c.to_string())),
        Value::Bytes(b) => or_null(b, |b| V::Blob(b.clone())),
        Value::Json(j) => or_null(j, |j| V::Text(j.to_string())),
        Value::ChronoDate(d) => or_null(d, |d| V::Text(d.format("%F").to_string())),
        Value::ChronoTime(t) => or_null(t, |t| V::Text(t.format("%T%.f").to_string())),
        Value::ChronoDateTime(t) => or_null(t, |t| V::Text(t.format("%F %T%.f").to_string())),
        Value::ChronoDateTimeUtc(t) => or_null(t, |t| V::Text(t.to_rfc3339_opts(AutoSi, false))),
        Value::ChronoDateTimeLocal(t) => or_null(t, |t| V::Text(t.to_rfc3339_opts(AutoSi, false))),
        Value::ChronoDateTimeWithTimeZone(t) => {
            or_null(t, |t| V::Text(t.to_rfc3339_opts(AutoSi, false)))
        }
        Value::Uuid(u) => or_null(u, |u| V::Blob(u.as_bytes().to_vec())),
        #[allow(unreachable_patterns)]
        other => {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                format!("a value SQLite does not store: {other:?}").into(),
            ));
        }
    })
}

/// A command's place in a group: where its requests go. Dropping it ends
/// the turn, undoing what it wrote.
struct Turn {
    requests: std_mpsc::Sender<Request>,
}

impl Turn {
    async fn run(&self, statements: Vec<Statement>) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Run { statements, reply })
            .map_err(|_| StoreError::Group("the writer stopped".into()))?;
        match answer.await {
            Ok(Ok(n)) => Ok(n),
            Ok(Err(message)) => Err(StoreError::Group(message)),
            Err(_) => Err(StoreError::Group("the writer stopped".into())),
        }
    }
}

/// A command's write transaction: its turn in a group (SQLite), or a
/// transaction of its own (PostgreSQL, or an in-memory SQLite database).
/// Dropping it without [`Store::commit_command`] undoes what the command
/// wrote.
pub struct CommandTxn(Inner);

enum Inner {
    Own(Txn),
    Grouped(Turn),
}

impl CommandTxn {
    /// The database the command writes to.
    pub fn backend(&self) -> DbBackend {
        match &self.0 {
            Inner::Own(txn) => txn.get_database_backend(),
            Inner::Grouped(_) => DbBackend::Sqlite,
        }
    }

    /// Runs a statement whose count of changed rows the command reads (a
    /// version check, a guarded delete): the rows it changed, or returned
    /// when it has a `RETURNING` clause.
    pub async fn check(&self, statement: Statement) -> Result<u64, StoreError> {
        match &self.0 {
            Inner::Grouped(turn) => turn.run(vec![statement]).await,
            Inner::Own(txn) => {
                if statement.sql.contains(" RETURNING ") {
                    Ok(txn.query_all_raw(statement).await?.len() as u64)
                } else {
                    Ok(txn.execute_raw(statement).await?.rows_affected())
                }
            }
        }
    }

    /// Runs statements whose results are not read, in order, in as few
    /// requests as keep their order (see `writes.rs`).
    pub(crate) async fn write(&self, statements: Vec<Statement>) -> Result<(), StoreError> {
        if statements.is_empty() {
            return Ok(());
        }
        match &self.0 {
            Inner::Grouped(turn) => turn.run(statements).await.map(|_| ()),
            Inner::Own(txn) => {
                for s in super::writes::combined(self.backend(), statements) {
                    txn.execute_raw(s).await?;
                }
                Ok(())
            }
        }
    }
}

impl Store {
    /// Opens a command's write transaction: on a SQLite file, its turn in
    /// a group (see the module's documentation), elsewhere a transaction
    /// of its own.
    pub async fn begin_command(&self) -> Result<CommandTxn, StoreError> {
        match &self.group {
            Some(group) => Ok(CommandTxn(Inner::Grouped(group.turn()?))),
            None => Ok(CommandTxn(Inner::Own(self.begin_write().await?))),
        }
    }

    /// Keeps what a command wrote and returns once it is committed (with its
    /// group on SQLite).
    pub async fn commit_command(txn: CommandTxn) -> Result<(), StoreError> {
        match txn.0 {
            Inner::Own(txn) => Store::commit(txn).await,
            Inner::Grouped(turn) => {
                let (landed, answer) = oneshot::channel();
                turn.requests
                    .send(Request::Keep { landed })
                    .map_err(|_| StoreError::Group("the writer stopped".into()))?;
                match answer.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(message)) => Err(StoreError::Group(message)),
                    Err(_) => Err(StoreError::Group(
                        "the writer stopped before the commit".into(),
                    )),
                }
            }
        }
    }

    /// How many commands wait for a group to take them (none on PostgreSQL).
    pub fn waiting_commands(&self) -> usize {
        self.group.as_ref().map_or(0, GroupWriter::waiting)
    }
}
