//! Where a command's writes go: on SQLite, gathered and sent to the
//! database together.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every
//! statement is a round trip to that thread: two thread switches, whatever
//! the statement costs. Most statements of a command (its history row,
//! statistics, variables, incidents, inbox rows, jobs, subscriptions) are
//! written without looking at their result. [`Writes`] gathers those and
//! sends them as one multi-statement string — one round trip, run in the
//! order they were written, in the command's transaction. A statement whose
//! result the command reads (a version check, a guarded delete, a read)
//! goes through [`Writes::txn`], which sends what was gathered first, so the
//! order of the writes never changes.
//!
//! PostgreSQL does not accept several statements with parameters in one
//! request, so there every statement is sent when it is written.
//!
//! A gathered statement that fails fails the batch: SQLite has run the ones
//! before it, and the caller rolls the command back (to its savepoint) as
//! for any failed write.

use std::sync::Mutex;

use sea_orm::sea_query::Values;
use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement, StatementBuilder};

use super::{StoreError, Txn};

/// The writes of one command inside its transaction.
pub struct Writes<'a> {
    txn: &'a Txn,
    /// Statements written and not yet sent (SQLite only).
    gathered: Option<Mutex<Vec<Statement>>>,
}

impl<'a> Writes<'a> {
    /// Writes into `txn`, gathering on SQLite.
    pub fn new(txn: &'a Txn) -> Writes<'a> {
        let gather = txn.get_database_backend() == DbBackend::Sqlite;
        Writes {
            txn,
            gathered: gather.then(|| Mutex::new(Vec::new())),
        }
    }

    /// The database the statements are for.
    pub fn backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    /// Writes a SeaQuery statement whose result is not read.
    pub async fn run_built(&self, statement: &impl StatementBuilder) -> Result<(), StoreError> {
        self.run_statement(self.backend().build(statement)).await
    }

    /// Writes a statement whose result is not read.
    pub async fn run_statement(&self, statement: Statement) -> Result<(), StoreError> {
        match &self.gathered {
            Some(gathered) => {
                gathered
                    .lock()
                    .map_err(|_| StoreError::Corrupt("a command's writes are poisoned".into()))?
                    .push(statement);
                Ok(())
            }
            None => {
                self.txn.execute_raw(statement).await?;
                Ok(())
            }
        }
    }

    /// The transaction, for a statement whose result is read: what was
    /// gathered is sent first.
    pub async fn txn(&self) -> Result<&'a Txn, StoreError> {
        self.flush().await?;
        Ok(self.txn)
    }

    /// Sends what was gathered, as one request.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let Some(gathered) = &self.gathered else {
            return Ok(());
        };
        let statements = std::mem::take(
            &mut *gathered
                .lock()
                .map_err(|_| StoreError::Corrupt("a command's writes are poisoned".into()))?,
        );
        if let Some(one) = join(statements) {
            self.txn.execute_raw(one).await?;
        }
        Ok(())
    }
}

/// Writes a SeaORM query through a command's [`Writes`] (gathered on
/// SQLite): `query.gather(w).await?` where a transaction's `exec(txn)` was.
pub trait Gather {
    /// Writes this query; its result is not read.
    fn gather<'w>(
        &self,
        w: &'w Writes<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'w;
}

impl<Q: QueryTrait> Gather for Q {
    fn gather<'w>(
        &self,
        w: &'w Writes<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'w {
        let statement = self.build(w.backend());
        w.run_statement(statement)
    }
}

/// Joins statements into one multi-statement string, their parameters in
/// order (SQLite's `?` parameters are numbered across the statements).
fn join(statements: Vec<Statement>) -> Option<Statement> {
    if statements.len() <= 1 {
        return statements.into_iter().next();
    }
    let backend = statements[0].db_backend;
    let mut sql = String::new();
    let mut values = Vec::new();
    for s in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&s.sql);
        if let Some(v) = s.values {
            values.extend(v.0);
        }
    }
    Some(Statement {
        sql,
        values: Some(Values(values)),
        db_backend: backend,
    })
}
