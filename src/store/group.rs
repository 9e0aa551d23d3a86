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
//! data. Its statements are held in the [`CommandTxn`] as it writes them:
//! its conditions ([`CommandTxn::require`]: the version check, a job's or a
//! timer's guarded delete, each expected to change one row) and its
//! gathered writes ([`super::Writes`]). [`Store::commit_command`] sends them
//! with the request to keep them, in one message; the command's turn
//! begins when the writer takes that message, and the answer comes once the
//! group's commit ended: one hand-off to the writer and one back per
//! command. A condition that changes no row undoes the command (to its
//! savepoint) and comes back as [`StoreError::Unmet`], for the caller to
//! retry or explain. The writer runs the statements itself, through its
//! connection's prepared-statement cache (`rusqlite`), where sqlx would
//! send each statement to a thread of its own. A command that must hold its
//! turn before it commits (a test that holds a command at the brink of its
//! commit) sends what it wrote first ([`CommandTxn::send`]); a caller that
//! goes away after that ends its turn by being dropped, and what it wrote
//! is rolled back.
//!
//! The writer's connection is a second one to the same file, next to the
//! store's sqlx pools: the other writes (deployments, job leases, accounts)
//! keep their transactions there, and SQLite's write lock (with its busy
//! timeout) orders them with the groups. Values are bound exactly as sqlx
//! binds them, so what either connection writes the other reads alike.
//!
//! On PostgreSQL each command is written on its own: grouping there would
//! hold the row locks of unrelated instances until the group commits, and
//! processes grouping different instances in different orders could
//! deadlock. Its statements are held in its [`CommandTxn`] as well and sent
//! with its commit, as one statement without a transaction where they can
//! be, in a transaction of their own where not (`single.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tokio::sync::oneshot;

use super::item::{Item, Unmet};
use super::sqlite::{bind, open};
use super::{Store, StoreError, Txn};

/// The most commands one group takes before it commits.
pub const GROUP_CAP: usize = 64;

/// Why a command's statements did not land.
#[derive(Debug, Clone)]
enum Refusal {
    Unmet(Unmet),
    Failed(String),
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> StoreError {
        match r {
            Refusal::Unmet(u) => StoreError::Unmet(u),
            Refusal::Failed(message) => StoreError::Group(message),
        }
    }
}

/// What a command asks of the writer during its turn.
enum Request {
    /// Runs statements in order; answers (when asked) with how many rows
    /// the last one changed (or returned, for one with `RETURNING`). A
    /// condition that fails, or a statement that fails, fails the turn: its
    /// later requests and its [`Request::Keep`] get the refusal, and what
    /// it wrote is rolled back.
    Run {
        items: Vec<Item>,
        reply: Option<oneshot::Sender<Result<u64, Refusal>>>,
    },
    /// Keeps the command's writes; answers once the group's commit ended.
    Keep {
        landed: oneshot::Sender<Result<(), Refusal>>,
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
        let conn = open(path, false)
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

    /// Queues a command for its turn in a group: where its requests go.
    fn enqueue(&self) -> Result<std_mpsc::Sender<Request>, StoreError> {
        let (requests, rx) = std_mpsc::channel();
        self.waiting.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Waiting { requests: rx }).is_err() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Group("the writer stopped".into()));
        }
        Ok(requests)
    }
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
    Kept(oneshot::Sender<Result<(), Refusal>>),
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
        match turn(conn, &command) {
            Ended::Kept(answer) => landed.push(answer),
            Ended::Undone => {}
            Ended::Broken(e) => {
                // This command hears why too (its commit is on its way or
                // still to come).
                refuse(command, &format!("the group's transaction failed: {e}"));
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
        None => exec(conn, "COMMIT").map_err(|e| Refusal::Failed(e.to_string())),
        Some(e) => Err(Refusal::Failed(format!(
            "the group's transaction failed: {e}"
        ))),
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
    let refusal = Refusal::Failed(message.to_string());
    while let Ok(request) = command.requests.recv() {
        match request {
            Request::Run { reply, .. } => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(refusal.clone()));
                }
            }
            Request::Keep { landed } => {
                let _ = landed.send(Err(refusal));
                return;
            }
        }
    }
}

/// Runs one command's turn: its requests, under its savepoint (opened with
/// its first request), until it keeps its writes or goes away.
fn turn(conn: &rusqlite::Connection, command: &Waiting) -> Ended {
    let mut opened = false;
    // Why the turn failed: its writes go, and it is told so.
    let mut failed: Option<Refusal> = None;
    loop {
        match command.requests.recv() {
            Ok(Request::Run { items, reply }) => {
                // A request is counted as sqlx counts a statement on the
                // store's writer pool.
                super::count_statement();
                let result = match &failed {
                    Some(refusal) => Err(refusal.clone()),
                    None if !opened => match exec(conn, "SAVEPOINT command") {
                        Ok(()) => {
                            opened = true;
                            run_items(conn, &items)
                        }
                        Err(e) => return broken(e.to_string(), reply),
                    },
                    None => run_items(conn, &items),
                };
                if let Err(refusal) = &result {
                    if let Refusal::Failed(e) = refusal
                        && conn.is_autocommit()
                    {
                        return broken(e.clone(), reply);
                    }
                    failed = Some(refusal.clone());
                }
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Ok(Request::Keep { landed }) => {
                if let Some(refusal) = failed {
                    let _ = landed.send(Err(refusal));
                    return undo(conn);
                }
                if opened && let Err(e) = exec(conn, "RELEASE command") {
                    let _ = landed.send(Err(Refusal::Failed(e.to_string())));
                    return Ended::Broken(e.to_string());
                }
                return Ended::Kept(landed);
            }
            // The command went away (or dropped its transaction).
            Err(_) if !opened => return Ended::Undone,
            Err(_) => return undo(conn),
        }
    }
}

/// Ends a turn whose transaction is gone, telling the command why.
fn broken(e: String, reply: Option<oneshot::Sender<Result<u64, Refusal>>>) -> Ended {
    if let Some(reply) = reply {
        let _ = reply.send(Err(Refusal::Failed(e.clone())));
    }
    Ended::Broken(e)
}

/// Rolls back what the current turn wrote.
fn undo(conn: &rusqlite::Connection) -> Ended {
    match exec(conn, "ROLLBACK TO command").and_then(|()| exec(conn, "RELEASE command")) {
        Ok(()) => Ended::Undone,
        Err(e) => Ended::Broken(e.to_string()),
    }
}

/// Runs a statement without parameters through the statement cache.
fn exec(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// Runs a command's statements in order, up to the first that fails or
/// whose condition does not hold: the rows the last one changed or
/// returned.
fn run_items(conn: &rusqlite::Connection, items: &[Item]) -> Result<u64, Refusal> {
    let mut count = 0;
    for item in items {
        let (Item::Require(s, _) | Item::Write(s)) = item;
        count = run_one(conn, s).map_err(|e| Refusal::Failed(e.to_string()))?;
        if let Item::Require(_, unmet) = item
            && count != 1
        {
            return Err(Refusal::Unmet(unmet.clone()));
        }
    }
    Ok(count)
}

/// Runs one statement with its values bound as sqlx binds them.
fn run_one(conn: &rusqlite::Connection, s: &Statement) -> rusqlite::Result<u64> {
    let mut st = conn.prepare_cached(&s.sql)?;
    bind(&mut st, s)?;
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

/// A command's write transaction: its place in a group (SQLite), or a
/// transaction of its own (PostgreSQL, or an in-memory SQLite database).
/// Dropping it without [`Store::commit_command`] undoes what the command
/// wrote.
pub struct CommandTxn(Inner);

enum Inner {
    Own(Txn),
    Grouped(Grouped),
    /// PostgreSQL: the command's statements, held and sent with its
    /// commit (`single.rs`).
    Held(Held),
}

/// A command's statements on PostgreSQL, held until its commit.
struct Held {
    writer: sea_orm::DatabaseConnection,
    pending: Mutex<Vec<Item>>,
    /// The transaction [`CommandTxn::send`] or [`CommandTxn::check`]
    /// began (and ran what was pending in), holding the command's locks
    /// until its commit.
    begun: tokio::sync::Mutex<Option<Txn>>,
    /// Why the begun transaction was rolled back: the command's commit
    /// fails with it.
    refused: Mutex<Option<Refusal>>,
}

impl Held {
    /// The command's transaction, begun now if it is not yet, with what
    /// was pending run in it. Should that fail, the transaction is rolled
    /// back and the command refused.
    async fn begin<'t>(&self, begun: &'t mut Option<Txn>) -> Result<&'t Txn, StoreError> {
        if let Some(refusal) = self
            .refused
            .lock()
            .map_err(|_| Grouped::poisoned())?
            .clone()
        {
            return Err(refusal.into());
        }
        let txn = match begun.take() {
            Some(txn) => txn,
            None => self.writer.begin().await?,
        };
        let items = std::mem::take(&mut *self.pending.lock().map_err(|_| Grouped::poisoned())?);
        match super::single::run(&txn, items).await {
            Ok(()) => Ok(&*begun.insert(txn)),
            Err(e) => {
                drop(txn);
                Err(self.refuse(e))
            }
        }
    }

    /// Remembers why the command cannot commit (its transaction is rolled
    /// back); answers with `e` itself.
    fn refuse(&self, e: StoreError) -> StoreError {
        let refusal = match &e {
            StoreError::Unmet(unmet) => Refusal::Unmet(unmet.clone()),
            e => Refusal::Failed(e.to_string()),
        };
        if let Ok(mut refused) = self.refused.lock() {
            *refused = Some(refusal);
        }
        e
    }

    fn hold(&self, items: impl IntoIterator<Item = Item>) -> Result<(), StoreError> {
        hold(&self.pending, items)
    }
}

/// A command of a group: what it wrote and not yet sent, and where its
/// requests go once it is queued.
struct Grouped {
    writer: GroupWriter,
    pending: Mutex<Vec<Item>>,
    requests: Mutex<Option<std_mpsc::Sender<Request>>>,
}

impl Grouped {
    fn poisoned() -> StoreError {
        StoreError::Corrupt("a command's writes are poisoned".into())
    }

    fn hold(&self, items: impl IntoIterator<Item = Item>) -> Result<(), StoreError> {
        hold(&self.pending, items)
    }

    /// Sends what is pending (queueing the command first, if it is not).
    fn send(
        &self,
        last: Option<Item>,
        reply: Option<oneshot::Sender<Result<u64, Refusal>>>,
    ) -> Result<std_mpsc::Sender<Request>, StoreError> {
        let mut items = std::mem::take(&mut *self.pending.lock().map_err(|_| Grouped::poisoned())?);
        items.extend(last);
        let mut requests = self.requests.lock().map_err(|_| Grouped::poisoned())?;
        let to = match requests.as_ref() {
            Some(to) => to.clone(),
            None => requests.insert(self.writer.enqueue()?).clone(),
        };
        if !items.is_empty() || reply.is_some() {
            to.send(Request::Run { items, reply })
                .map_err(|_| StoreError::Group("the writer stopped".into()))?;
        }
        Ok(to)
    }
}

/// Adds statements to those a command holds.
fn hold(
    pending: &Mutex<Vec<Item>>,
    items: impl IntoIterator<Item = Item>,
) -> Result<(), StoreError> {
    pending
        .lock()
        .map_err(|_| Grouped::poisoned())?
        .extend(items);
    Ok(())
}

/// Runs a statement in `txn`: the rows it changed (or returned, when it
/// has a `RETURNING` clause).
async fn counted(txn: &Txn, statement: Statement) -> Result<u64, sea_orm::DbErr> {
    if statement.sql.contains(" RETURNING ") {
        Ok(txn.query_all_raw(statement).await?.len() as u64)
    } else {
        Ok(txn.execute_raw(statement).await?.rows_affected())
    }
}

impl CommandTxn {
    /// The database the command writes to.
    pub fn backend(&self) -> DbBackend {
        match &self.0 {
            Inner::Own(txn) => txn.get_database_backend(),
            Inner::Grouped(_) => DbBackend::Sqlite,
            Inner::Held(_) => DbBackend::Postgres,
        }
    }

    /// A condition of the command: `statement` must change exactly one
    /// row, or the command writes nothing and fails with
    /// [`StoreError::Unmet`] — here (a transaction of its own) or from
    /// [`Store::commit_command`] (in a group).
    pub async fn require(&self, statement: Statement, unmet: Unmet) -> Result<(), StoreError> {
        match &self.0 {
            Inner::Grouped(g) => g.hold([Item::Require(statement, unmet)]),
            Inner::Held(h) => h.hold([Item::Require(statement, unmet)]),
            Inner::Own(_) => match self.check(statement).await? {
                1 => Ok(()),
                _ => Err(StoreError::Unmet(unmet)),
            },
        }
    }

    /// Runs a statement now and tells how many rows it changed (or
    /// returned, when it has a `RETURNING` clause); in a group, what the
    /// command wrote before it is sent with it, and the command holds its
    /// turn from then on.
    pub async fn check(&self, statement: Statement) -> Result<u64, StoreError> {
        match &self.0 {
            Inner::Grouped(g) => {
                let (reply, answer) = oneshot::channel();
                g.send(Some(Item::Write(statement)), Some(reply))?;
                match answer.await {
                    Ok(result) => Ok(result?),
                    Err(_) => Err(StoreError::Group("the writer stopped".into())),
                }
            }
            Inner::Held(h) => {
                let mut begun = h.begun.lock().await;
                let txn = h.begin(&mut begun).await?;
                match counted(txn, statement).await {
                    Ok(n) => Ok(n),
                    Err(e) => {
                        // The failed statement aborted the transaction.
                        begun.take();
                        Err(h.refuse(e.into()))
                    }
                }
            }
            Inner::Own(txn) => Ok(counted(txn, statement).await?),
        }
    }

    /// Writes statements whose results are not read, in order, in as few
    /// requests as keep their order (see `writes.rs`). In a group they are
    /// held and sent with the commit; should one fail, the commit gets the
    /// error and nothing of the command lands.
    pub(crate) async fn write(&self, statements: Vec<Statement>) -> Result<(), StoreError> {
        match &self.0 {
            Inner::Grouped(g) => g.hold(statements.into_iter().map(Item::Write)),
            Inner::Held(h) => h.hold(statements.into_iter().map(Item::Write)),
            Inner::Own(txn) => {
                for s in super::writes::combined(self.backend(), statements) {
                    txn.execute_raw(s).await?;
                }
                Ok(())
            }
        }
    }

    /// Sends what the command wrote so far without committing it: in a
    /// group the command takes (and holds) its turn; on PostgreSQL it
    /// begins its transaction and holds its locks. (Nothing to do for a
    /// transaction of its own.) A condition that does not hold comes back
    /// as [`StoreError::Unmet`] here or from [`Store::commit_command`].
    pub async fn send(&self) -> Result<(), StoreError> {
        match &self.0 {
            Inner::Grouped(g) => g.send(None, None).map(|_| ()),
            Inner::Own(_) => Ok(()),
            Inner::Held(h) => {
                let mut begun = h.begun.lock().await;
                h.begin(&mut begun).await.map(|_| ())
            }
        }
    }
}

impl Store {
    /// Opens a command's write transaction: on a SQLite file, a place in a
    /// group (see the module's documentation); on PostgreSQL its statements
    /// are held and sent with its commit, as one statement where they can
    /// be (`single.rs`); elsewhere a transaction of its own.
    pub async fn begin_command(&self) -> Result<CommandTxn, StoreError> {
        if self.group.is_none() && self.db.get_database_backend() == DbBackend::Postgres {
            return Ok(CommandTxn(Inner::Held(Held {
                writer: self.writer.clone(),
                pending: Mutex::new(Vec::new()),
                begun: tokio::sync::Mutex::new(None),
                refused: Mutex::new(None),
            })));
        }
        match &self.group {
            Some(writer) => Ok(CommandTxn(Inner::Grouped(Grouped {
                writer: writer.clone(),
                pending: Mutex::new(Vec::new()),
                requests: Mutex::new(None),
            }))),
            None => Ok(CommandTxn(Inner::Own(self.begin_write().await?))),
        }
    }

    /// Keeps what a command wrote and returns once it is committed (with its
    /// group on SQLite). [`StoreError::Unmet`] when one of its conditions
    /// did not hold (nothing of it was stored).
    pub async fn commit_command(txn: CommandTxn) -> Result<(), StoreError> {
        match txn.0 {
            Inner::Own(txn) => Store::commit(txn).await,
            Inner::Held(h) => {
                if let Some(refusal) = h.refused.lock().map_err(|_| Grouped::poisoned())?.take() {
                    return Err(refusal.into());
                }
                let items = h.pending.into_inner().map_err(|_| Grouped::poisoned())?;
                match h.begun.into_inner() {
                    Some(txn) => {
                        super::single::run(&txn, items).await?;
                        Store::commit(txn).await
                    }
                    None => super::single::commit(&h.writer, items).await,
                }
            }
            Inner::Grouped(g) => {
                let to = g.send(None, None)?;
                let (landed, answer) = oneshot::channel();
                to.send(Request::Keep { landed })
                    .map_err(|_| StoreError::Group("the writer stopped".into()))?;
                match answer.await {
                    Ok(result) => Ok(result?),
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
