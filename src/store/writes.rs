//! Where a command's writes go: gathered and sent to the database in as
//! few requests as keep their order.
//!
//! Every request a command sends is a round trip to the server
//! (PostgreSQL) or a hand-off to another thread and back (SQLite, where a
//! command's statements are held and go to the group writer with its
//! commit, `group.rs`), whatever the statement costs. Most statements of a command
//! (its history row, statistics, variables, incidents, inbox rows, jobs,
//! subscriptions, mails) are written without looking at their result.
//! [`Writes`] gathers those, and [`Writes::flush`] sends them as one
//! request, run in the order they were written, in the command's
//! transaction. A command reads nothing inside its transaction: its
//! conditions (a version check, a guarded delete) are statements that must
//! change one row ([`CommandTxn::require`]).
//!
//! On SQLite the writer runs the gathered statements one after another. On
//! PostgreSQL, which does not accept several statements with parameters in
//! one request, they are sent as data-modifying common table expressions of
//! one statement (`WITH s1 AS (INSERT ...), s2 AS (UPDATE ...) SELECT 1`).
//! Those all see the database as it was before the statement, so a
//! statement joins a run only if it names no table that a statement of the
//! run writes (inserts into, updates, deletes from); otherwise it starts a
//! new statement, and it sees what the run wrote, as in order. A statement
//! that only reads a table a later one of the run writes sees it as it was
//! before, as it would in order. (A SQLite database in memory, with no
//! writer thread, gets them as one multi-statement string.)
//!
//! A command whose conditions and writes join in one statement is sent as
//! that statement on PostgreSQL, without a transaction ([`guarded`],
//! `single.rs`); should it fail, the command is written again statement by
//! statement. For that attempt an insert of values, which reads no table,
//! joins the statement even after a write of its own table.
//!
//! A gathered statement that fails fails its request (the statements
//! before it may have run), and the caller rolls the command back (to its
//! savepoint on SQLite) as for any failed write.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use sea_orm::sea_query::Values;
use sea_orm::{DbBackend, QueryTrait, Statement, StatementBuilder};

use super::{CommandTxn, StoreError};

/// The writes of one command inside its transaction.
pub struct Writes<'a> {
    txn: &'a CommandTxn,
    /// Statements written and not yet sent.
    gathered: Mutex<Vec<Statement>>,
}

impl<'a> Writes<'a> {
    /// Writes into `txn`, gathering.
    pub fn new(txn: &'a CommandTxn) -> Writes<'a> {
        Writes {
            txn,
            gathered: Mutex::new(Vec::new()),
        }
    }

    /// The database the statements are for.
    pub fn backend(&self) -> DbBackend {
        self.txn.backend()
    }

    /// Writes a SeaQuery statement whose result is not read.
    pub fn run_built(&self, statement: &impl StatementBuilder) -> Result<(), StoreError> {
        self.run_statement(self.backend().build(statement))
    }

    /// Writes a statement whose result is not read (it is sent by
    /// [`Writes::flush`]).
    pub fn run_statement(&self, statement: Statement) -> Result<(), StoreError> {
        self.gathered
            .lock()
            .map_err(|_| StoreError::Corrupt("a command's writes are poisoned".into()))?
            .push(statement);
        Ok(())
    }

    /// Sends what was gathered, in as few requests as keep its order.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let statements = std::mem::take(
            &mut *self
                .gathered
                .lock()
                .map_err(|_| StoreError::Corrupt("a command's writes are poisoned".into()))?,
        );
        self.txn.write(statements).await
    }
}

/// Statements combined into as few requests as keep their order, for a
/// transaction of its own: CTEs on PostgreSQL, one multi-statement string
/// on SQLite.
pub fn combined(backend: DbBackend, statements: Vec<Statement>) -> Vec<Statement> {
    if backend == DbBackend::Postgres {
        runs(statements, false)
    } else {
        join(statements).into_iter().collect()
    }
}

/// PostgreSQL: conditions (statements that must each change one row) and
/// the writes after them as one statement, if they join in one (see the
/// module's documentation): the conditions return their rows, and the
/// statement's result divides by whether each changed exactly one, so
/// that the whole statement fails (and writes nothing) when one did not.
/// The result reads the conditions first, in order, so they run before the
/// writes. A notification among the writes (`NOTIFY channel`) is sent by
/// the result (`pg_notify`), delivered when the statement commits. `None`
/// when they need several statements, or there is no condition.
pub fn guarded(conditions: Vec<Statement>, writes: Vec<Statement>) -> Option<Statement> {
    let mut channels: Vec<&str> = Vec::new();
    let mut rest = Vec::with_capacity(writes.len());
    for s in &writes {
        match notified_channel(s) {
            Some(channel) if !channels.contains(&channel) => channels.push(channel),
            Some(_) => {}
            None => rest.push(s.clone()),
        }
    }
    let mut notify = String::new();
    for channel in channels {
        notify.push_str(&format!(", pg_notify('{channel}', '')"));
    }
    if conditions.is_empty() || conditions.iter().any(|s| s.sql.contains(" RETURNING ")) {
        return None;
    }
    let guards = conditions.len();
    let run: Vec<Statement> = conditions
        .into_iter()
        .map(|s| Statement {
            sql: format!("{} RETURNING 1", s.sql),
            ..s
        })
        .chain(rest)
        .collect();
    let one_run = run
        .iter()
        .all(|s| s.db_backend == DbBackend::Postgres && combinable(s))
        && !cuts(&run, true).into_iter().skip(1).any(|cut| cut);
    if !one_run {
        return None;
    }
    let mut one = cte(run, guards)?;
    one.sql.push_str(&notify);
    Some(one)
}

/// The channel of a `NOTIFY channel` statement (a plain lower-case name,
/// which `LISTEN channel` and `pg_notify('channel', ...)` name alike).
fn notified_channel(s: &Statement) -> Option<&str> {
    if s.values.is_some() {
        return None;
    }
    let channel = s.sql.trim().strip_prefix("NOTIFY ")?.trim();
    let plain = !channel.is_empty()
        && channel
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    plain.then_some(channel)
}

/// Writes a SeaORM query through a command's [`Writes`] (gathered, sent
/// later): `query.gather(w)?` where a transaction's `exec(txn).await?` would be.
pub trait Gather {
    /// Writes this query; its result is not read.
    fn gather(&self, w: &Writes<'_>) -> Result<(), StoreError>;
}

impl<Q: QueryTrait> Gather for Q {
    fn gather(&self, w: &Writes<'_>) -> Result<(), StoreError> {
        w.run_statement(self.build(w.backend()))
    }
}

/// PostgreSQL: the statements combined into as few statements as keep their
/// order (see the module's documentation). `lenient`: an insert of values
/// that reads nothing (no `SELECT`, `ON CONFLICT` or `RETURNING`) joins a
/// run that wrote its table too — for a statement that is tried and, should
/// it fail, written again statement by statement ([`guarded`]): its result
/// is the same in either order, or a failure (a key the run deletes, in an
/// order PostgreSQL does not promise).
fn runs(statements: Vec<Statement>, lenient: bool) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut run: Vec<Statement> = Vec::new();
    let cuts = cuts(&statements, lenient);
    for (s, cut) in statements.into_iter().zip(cuts) {
        if cut {
            out.extend(cte(std::mem::take(&mut run), 0));
        }
        if combinable(&s) {
            run.push(s);
        } else {
            out.push(s);
        }
    }
    out.extend(cte(run, 0));
    out
}

/// For each statement, whether the run before it ends there: it cannot be
/// a CTE, or it names a table the run writes (see [`runs`] for
/// `lenient`).
fn cuts(statements: &[Statement], lenient: bool) -> Vec<bool> {
    // The tables the statements of the run write.
    let mut written: HashSet<&'static str> = HashSet::new();
    statements
        .iter()
        .map(|s| {
            let tables = tables_in(&s.sql);
            let joins_anyway = lenient && reads_nothing(&s.sql);
            let cut =
                !combinable(s) || (!joins_anyway && tables.iter().any(|t| written.contains(t)));
            if cut {
                written.clear();
            }
            if combinable(s) {
                match written_table(&s.sql) {
                    Some(t) => {
                        written.insert(t);
                    }
                    // Not known which it writes: as if it wrote all it names.
                    None => written.extend(tables),
                }
            }
            cut
        })
        .collect()
}

/// Whether a statement can be a CTE: an insert, update or delete with its
/// values as parameters.
fn combinable(s: &Statement) -> bool {
    s.values.is_some() && is_write(&s.sql)
}

/// The engine's table an insert, update or delete writes, as SeaQuery
/// writes the statement (`INSERT INTO "t"`, `UPDATE "t"`, `DELETE FROM "t"`).
fn written_table(sql: &str) -> Option<&'static str> {
    let head = sql.trim_start();
    let rest = ["INSERT INTO ", "UPDATE ", "DELETE FROM "]
        .iter()
        .find_map(|verb| {
            let prefix = head.get(..verb.len())?;
            prefix
                .eq_ignore_ascii_case(verb)
                .then(|| &head[verb.len()..])
        })?
        .trim_start()
        .strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    super::entity::TABLES.iter().copied().find(|t| *t == name)
}

/// Whether a statement inserts values and reads no table: `INSERT INTO "t"
/// (...) VALUES (...)` as SeaQuery writes it, without `ON CONFLICT` or
/// `RETURNING`.
fn reads_nothing(sql: &str) -> bool {
    written_table(sql).is_some()
        && sql
            .trim_start()
            .get(..7)
            .is_some_and(|h| h.eq_ignore_ascii_case("INSERT "))
        && sql.contains(") VALUES (")
        && ![" SELECT ", " ON CONFLICT ", " RETURNING "]
            .iter()
            .any(|w| sql.contains(w))
}

/// Whether a statement is an insert, update or delete (allowed in `WITH`).
fn is_write(sql: &str) -> bool {
    let head = sql.trim_start();
    ["INSERT", "UPDATE", "DELETE"].iter().any(|w| {
        head.len() >= w.len() && head.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes())
    })
}

/// The engine's tables a statement names (as quoted identifiers).
fn tables_in(sql: &str) -> Vec<&'static str> {
    static TABLES: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
        super::entity::TABLES
            .iter()
            .map(|t| (*t, format!("\"{t}\"")))
            .collect()
    });
    TABLES
        .iter()
        .filter(|(_, quoted)| sql.contains(quoted.as_str()))
        .map(|(t, _)| *t)
        .collect()
}

/// One PostgreSQL statement doing what `run` does: its statements as
/// common table expressions, their `$n` parameters renumbered. The first
/// `guards` of them are conditions (they return their rows): the statement
/// fails unless each changed exactly one row.
fn cte(run: Vec<Statement>, guards: usize) -> Option<Statement> {
    if run.len() <= 1 && guards == 0 {
        return run.into_iter().next();
    }
    let backend = run.first()?.db_backend;
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    for (i, s) in run.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("s{i} AS ("));
        renumber(&s.sql, values.len(), &mut sql);
        sql.push(')');
        if let Some(v) = s.values {
            values.extend(v.0);
        }
    }
    if guards == 0 {
        sql.push_str(" SELECT 1");
    } else {
        // Not foldable into a constant: divides by zero only when run.
        let held: Vec<String> = (0..guards)
            .map(|i| format!("(SELECT count(*) FROM s{i}) = 1"))
            .collect();
        sql.push_str(&format!(" SELECT 1 / ({})::int", held.join(" AND ")));
    }
    Some(Statement {
        sql,
        values: Some(Values(values)),
        db_backend: backend,
    })
}

/// Copies `sql` with every parameter `$n` moved up by `offset`. (SeaQuery
/// writes every value as a parameter, so `$` followed by digits is one.)
fn renumber(sql: &str, offset: usize, out: &mut String) {
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = 0usize;
        let mut digits = false;
        while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
            n = n * 10 + (d as usize - '0' as usize);
            digits = true;
            chars.next();
        }
        if digits {
            out.push_str(&(n + offset).to_string());
        }
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
