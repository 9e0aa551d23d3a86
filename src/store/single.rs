//! PostgreSQL: a command is one statement where it can be, without
//! `BEGIN` and `COMMIT`.
//!
//! A command's statements are its conditions (statements that must change
//! one row: the version check of its instance, a start's insert of its
//! instance under the definition's condition, a job's guarded delete) and
//! its gathered writes (`writes.rs`); it reads nothing in between. In a
//! transaction of its own that is a round trip each for `BEGIN`, every
//! condition, every request of its writes and `COMMIT`. A single statement
//! is atomic by itself, so when the conditions come first and everything
//! joins in one statement of common table expressions (`writes.rs` says
//! when it can), the command is sent as that statement
//! ([`super::writes::guarded`]): the conditions return their rows and are
//! read first by the statement's result, which divides by whether each
//! changed exactly one row. A condition that does not hold fails the
//! statement before anything else of it runs, and a failed statement
//! changed nothing. The conditions are read first, so the instance's row
//! is locked first, as in the transaction.
//!
//! The statement reads with the snapshot of its start, taken before it
//! waits for the instance's row lock, where the transaction's statements
//! after its version check see what was committed while it waited. That
//! comes to the same because every write of an instance's rows is a
//! command that bumps the instance's version under that lock: a statement
//! that waited for another command fails its version check. (Rows changed
//! meanwhile are re-read by PostgreSQL for an update or delete anyway; only
//! rows inserted meanwhile stay unseen.) A write of an instance's rows that
//! does not bump its version would break this.
//!
//! After a failed statement (a condition, or anything else: a lost race
//! also fails on the winner's history key) the command is written again in
//! a transaction of its own, statement by statement, where a condition that
//! does not hold is told as [`Unmet`](super::Unmet) and any other failure
//! as itself. A command that cannot be one statement goes that way straight
//! away, and so does one that was sent before its commit
//! ([`super::CommandTxn::send`]: a test holding a command at the brink of
//! its commit, with its locks). A statement that landed although its
//! answer was lost cannot land twice: the second attempt finds its
//! condition changed (a new version, an instance id taken).

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement, TransactionTrait,
};

use super::StoreError;
use super::item::Item;

/// Writes a command's statements and returns once they are committed.
pub(super) async fn commit(
    writer: &DatabaseConnection,
    items: Vec<Item>,
) -> Result<(), StoreError> {
    if let Some(one) = one_statement(&items) {
        match writer.execute_raw(one).await {
            Ok(_) => return Ok(()),
            // Said again, as itself, by the transaction below.
            Err(e) => {
                tracing::debug!(error = %e, "a command's statement failed; written again in a transaction")
            }
        }
    }
    let txn = writer.begin().await?;
    run(&txn, items).await?;
    txn.commit().await?;
    Ok(())
}

/// The command as one statement, if it can be one: its conditions first,
/// then writes that join them in one statement.
fn one_statement(items: &[Item]) -> Option<Statement> {
    let mut conditions = Vec::new();
    let mut writes = Vec::new();
    for item in items {
        match item {
            Item::Require(s, _) if writes.is_empty() => conditions.push(s.clone()),
            Item::Require(..) => return None,
            Item::Write(s) => writes.push(s.clone()),
        }
    }
    super::writes::guarded(conditions, writes)
}

/// Runs a command's statements in `txn`, in order: [`StoreError::Unmet`]
/// for the first condition that does not hold (the caller drops the
/// transaction, which rolls it back).
pub(super) async fn run(txn: &DatabaseTransaction, items: Vec<Item>) -> Result<(), StoreError> {
    let backend = txn.get_database_backend();
    let mut writes: Vec<Statement> = Vec::new();
    for item in items {
        match item {
            Item::Write(s) => writes.push(s),
            Item::Require(s, unmet) => {
                for w in super::writes::combined(backend, std::mem::take(&mut writes)) {
                    txn.execute_raw(w).await?;
                }
                if txn.execute_raw(s).await?.rows_affected() != 1 {
                    return Err(StoreError::Unmet(unmet));
                }
            }
        }
    }
    for w in super::writes::combined(backend, writes) {
        txn.execute_raw(w).await?;
    }
    Ok(())
}
