//! Group commit: the commands of one process that are ready to write at the
//! same moment share one write transaction and its commit.
//!
//! On SQLite a process writes through one connection, and a commit costs
//! more than the handful of statements of a command. So a writer task takes
//! the commands waiting for their turn (up to [`GROUP_CAP`], also those that
//! arrive while the group is being written), begins one `BEGIN IMMEDIATE`
//! transaction and gives each command a turn under a `SAVEPOINT` of its own.
//! The command writes, with its own version check, through its
//! [`CommandTxn`] and then either keeps its writes ([`Store::commit_command`])
//! or drops the transaction, which rolls back to its savepoint: a conflict
//! or a failure of one command never touches the others. After the last turn
//! the writer commits once, and only then tells each command that kept its
//! writes that they landed. If that commit fails, every command of the group
//! gets the error, and none of them landed.
//!
//! A command's code runs in its caller's task, not in the writer: the writer
//! lends the transaction out for the turn and waits until it comes back. A
//! caller that goes away during its turn (or before it) gives it back by
//! being dropped, and its savepoint is rolled back.
//!
//! A command whose first statement is its version check (an instance row's
//! update or insert) takes its turn lazily ([`Store::begin_command_lazily`]):
//! the writer does not open its savepoint, the check opens it in the same
//! request (`SAVEPOINT command_7; UPDATE ... RETURNING id`), one round trip
//! less per command. Savepoint names are unique in a group, so a lazy
//! command whose first request never ran (its caller went away) finds no
//! savepoint of its name to roll back to and is known to have written
//! nothing, instead of rolling back to another command's savepoint.
//!
//! On PostgreSQL each command keeps a transaction of its own
//! ([`CommandTxn`] wraps it): grouping there would hold the row locks of
//! unrelated instances until the group commits, and processes grouping
//! different instances in different orders could deadlock.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, TransactionOptions, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError, Txn};

/// The most commands one group takes before it commits.
pub const GROUP_CAP: usize = 64;

/// A command waiting for its turn: where to send its transaction, and
/// whether it opens its savepoint itself, with its first statement
/// ([`Store::begin_command_lazily`]).
struct Waiting {
    reply: oneshot::Sender<Result<Turn, String>>,
    lazy: bool,
}

/// The writer's answer to a command that kept its writes: whether the
/// group's commit succeeded.
type Landed = oneshot::Sender<Result<(), String>>;

/// Feeds the writer task of one database (SQLite), starting it when needed.
#[derive(Clone)]
pub(crate) struct GroupWriter {
    writer: DatabaseConnection,
    queue: Arc<Mutex<Option<mpsc::UnboundedSender<Waiting>>>>,
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
    pub(crate) fn new(writer: DatabaseConnection) -> GroupWriter {
        GroupWriter {
            writer,
            queue: Arc::new(Mutex::new(None)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many commands wait for a group to take them.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Waits for this command's turn in a group.
    async fn turn(&self, lazy: bool) -> Result<Turn, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.enqueue(Waiting { reply, lazy })?;
        match rx.await {
            Ok(Ok(turn)) => Ok(turn),
            Ok(Err(message)) => Err(StoreError::Group(message)),
            Err(_) => Err(StoreError::Group("the writer stopped".into())),
        }
    }

    fn enqueue(&self, waiting: Waiting) -> Result<(), StoreError> {
        let mut queue = self
            .queue
            .lock()
            .map_err(|_| StoreError::Group("the writer's queue is poisoned".into()))?;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let waiting = match queue.as_ref() {
            Some(q) => match q.send(waiting) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(w)) => w,
            },
            None => waiting,
        };
        // No writer yet, or it ended with the async runtime that started it:
        // start one on this runtime.
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(self.writer.clone(), self.waiting.clone(), rx));
        // The receiver lives in the task just spawned.
        let _ = tx.send(waiting);
        *queue = Some(tx);
        Ok(())
    }
}

/// The writer task: one group after another while anyone can send to it.
async fn run(
    writer: DatabaseConnection,
    waiting: Arc<AtomicUsize>,
    mut queue: mpsc::UnboundedReceiver<Waiting>,
) {
    while let Some(first) = queue.recv().await {
        waiting.fetch_sub(1, Ordering::Relaxed);
        group(&writer, &waiting, &mut queue, first).await;
    }
}

/// How one command's turn ended.
enum Ended {
    /// It kept its writes; told the outcome of the commit later.
    Kept(Landed),
    /// It rolled back to its savepoint (or went away).
    Undone,
    /// The transaction itself is gone (SQLite rolls back the whole
    /// transaction on some errors, such as a full disk).
    Broken(String),
}

/// Writes one group: begin, each command's turn, commit, answers.
async fn group(
    writer: &DatabaseConnection,
    waiting: &AtomicUsize,
    queue: &mut mpsc::UnboundedReceiver<Waiting>,
    first: Waiting,
) {
    let outer = match begin(writer).await {
        Ok(txn) => Arc::new(txn),
        Err(e) => {
            // Those still queued try again with the next group.
            let _ = first.reply.send(Err(e.to_string()));
            return;
        }
    };
    let mut landed = Vec::new();
    let mut broken = None;
    let mut next = Some(first);
    let mut taken = 0;
    while let Some(command) = next.take() {
        taken += 1;
        match turn(&outer, command, taken).await {
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
    let result = match (broken, Arc::try_unwrap(outer)) {
        (None, Ok(txn)) => txn.commit().await.map_err(|e| e.to_string()),
        (Some(e), Ok(txn)) => {
            // The database may have ended the transaction already while the
            // connection still counts it open: a `BEGIN` makes sure there is
            // one for the `ROLLBACK` to end (it fails harmlessly otherwise),
            // so the connection goes back to its pool clean.
            let _ = txn.execute_unprepared("BEGIN").await;
            let _ = txn.rollback().await;
            Err(format!("the group's transaction failed: {e}"))
        }
        // Every turn gives the transaction back before it ends; should one
        // not have, the transaction rolls back when its last holder drops it.
        (_, Err(_)) => Err("a command kept the group's transaction".into()),
    };
    for answer in landed {
        let _ = answer.send(result.clone());
    }
}

/// Begins a group's transaction.
async fn begin(writer: &DatabaseConnection) -> Result<Txn, sea_orm::DbErr> {
    if writer.get_database_backend() == DbBackend::Sqlite {
        writer
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    } else {
        writer.begin().await
    }
}

/// Gives one command its turn under a savepoint and waits until it ends.
/// `n` numbers the turn in its group (savepoint names are unique in a
/// transaction, so a `ROLLBACK TO` never reaches another command's).
async fn turn(outer: &Arc<Txn>, command: Waiting, n: usize) -> Ended {
    let savepoint = Arc::new(Savepoint {
        name: format!("command_{n}"),
        opened: AtomicBool::new(false),
    });
    // Kept turns are not released: the commit releases them all.
    if !command.lazy {
        if let Err(e) = outer
            .execute_unprepared(&format!("SAVEPOINT {}", savepoint.name))
            .await
        {
            let message = e.to_string();
            let _ = command.reply.send(Err(message.clone()));
            return Ended::Broken(message);
        }
        savepoint.opened.store(true, Ordering::Relaxed);
    }
    let (done_tx, done) = oneshot::channel();
    let (answer, landed) = oneshot::channel();
    let turn = Turn {
        txn: outer.clone(),
        savepoint: savepoint.clone(),
        end: End(Some(done_tx)),
        landed,
    };
    // A caller that went away sends the turn back, dropped here: undone.
    let _ = command.reply.send(Ok(turn));
    match done.await {
        Ok(true) => Ended::Kept(answer),
        // A lazy turn that never sent its first statement wrote nothing.
        _ if !savepoint.opened.load(Ordering::Relaxed) => Ended::Undone,
        _ => match outer
            .execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {}", savepoint.name))
            .await
        {
            Ok(_) => Ended::Undone,
            // Sent, but it never ran (the caller went away first): the
            // savepoint opens the command's first request, so nothing of
            // the command ran either.
            Err(e) if e.to_string().contains("no such savepoint") => Ended::Undone,
            Err(e) => Ended::Broken(e.to_string()),
        },
    }
}

/// A turn's savepoint, and whether it was opened (by the writer, or by
/// the command's first statement).
struct Savepoint {
    name: String,
    opened: AtomicBool,
}

/// One command's turn in a group: the group's transaction, lent out.
pub struct Turn {
    // Declared before `end`: dropped first, so the transaction is back with
    // the writer before it hears that the turn ended.
    txn: Arc<Txn>,
    savepoint: Arc<Savepoint>,
    end: End,
    landed: oneshot::Receiver<Result<(), String>>,
}

/// Tells the writer that a turn ended: kept, or (when dropped) undone.
struct End(Option<oneshot::Sender<bool>>);

impl Drop for End {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            let _ = done.send(false);
        }
    }
}

/// A command's write transaction: its turn in a group (SQLite), or a
/// transaction of its own (PostgreSQL). It derefs to the transaction the
/// store's write functions take; dropping it without
/// [`Store::commit_command`] undoes what the command wrote.
pub struct CommandTxn(Inner);

enum Inner {
    Own(Txn),
    Grouped(Turn),
}

impl Deref for CommandTxn {
    type Target = Txn;

    fn deref(&self) -> &Txn {
        match &self.0 {
            Inner::Own(txn) => txn,
            Inner::Grouped(turn) => &turn.txn,
        }
    }
}

impl CommandTxn {
    /// The statement that opens this command's savepoint, once: for a turn
    /// begun by [`Store::begin_command_lazily`] whose savepoint is not open
    /// yet. It must be sent together with (before) the command's first
    /// statement.
    pub(crate) fn savepoint_to_open(&self) -> Option<String> {
        match &self.0 {
            Inner::Grouped(turn) if !turn.savepoint.opened.swap(true, Ordering::Relaxed) => {
                Some(format!("SAVEPOINT {}", turn.savepoint.name))
            }
            _ => None,
        }
    }
}

impl Store {
    /// Opens a command's write transaction: on SQLite, its turn in the next
    /// group (see the module's documentation), elsewhere a transaction of
    /// its own.
    pub async fn begin_command(&self) -> Result<CommandTxn, StoreError> {
        self.begin_command_with(false).await
    }

    /// As [`Store::begin_command`], for a command whose first statement is
    /// [`Store::update_instance`] or [`Store::insert_instance`]: in a group,
    /// that statement opens the command's savepoint in the same request
    /// instead of the writer opening it in one of its own.
    pub async fn begin_command_lazily(&self) -> Result<CommandTxn, StoreError> {
        self.begin_command_with(true).await
    }

    async fn begin_command_with(&self, lazy: bool) -> Result<CommandTxn, StoreError> {
        match &self.group {
            Some(group) => Ok(CommandTxn(Inner::Grouped(group.turn(lazy).await?))),
            None => Ok(CommandTxn(Inner::Own(self.begin_write().await?))),
        }
    }

    /// Keeps what a command wrote and returns once it is committed (with its
    /// group on SQLite).
    pub async fn commit_command(txn: CommandTxn) -> Result<(), StoreError> {
        match txn.0 {
            Inner::Own(txn) => Store::commit(txn).await,
            Inner::Grouped(Turn {
                txn,
                mut end,
                landed,
                ..
            }) => {
                drop(txn);
                if let Some(done) = end.0.take() {
                    let _ = done.send(true);
                }
                match landed.await {
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
