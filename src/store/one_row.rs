//! Reading the first row of a query without a bound `LIMIT`.
//!
//! SeaORM's `.one()` adds `LIMIT ?` with `1` bound as a parameter. Since
//! SQLite 3.47 the query planner looks at a bound `LIMIT` value, and a
//! statement whose plan looked at a parameter is prepared again every time
//! that parameter is bound: each `.one()` re-parsed and re-planned its SQL
//! on every call, about a tenth of the CPU time of the W2 benchmark. On
//! SQLite [`OneRow::one_row`] writes `LIMIT 1` into the SQL instead, so the
//! prepared statement is reused; elsewhere it is `.one()`.

use sea_orm::sea_query::Value;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, QuerySelect, QueryTrait, Select, Statement,
};

/// The first row of a query, read with a literal `LIMIT 1` on SQLite.
pub trait OneRow<E: EntityTrait> {
    /// As `.one(db)`.
    fn one_row<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> impl Future<Output = Result<Option<E::Model>, DbErr>> + Send;
}

impl<E: EntityTrait> OneRow<E> for Select<E>
where
    E::Model: Send,
{
    fn one_row<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> impl Future<Output = Result<Option<E::Model>, DbErr>> + Send {
        let backend = db.get_database_backend();
        let statement = (backend == DbBackend::Sqlite)
            .then(|| literal_limit(self.clone().limit(1).build(backend)))
            .flatten();
        async move {
            match statement {
                Some(statement) => E::find().from_raw_sql(statement).one(db).await,
                None => self.one(db).await,
            }
        }
    }
}

/// The statement with its trailing bound `LIMIT ?` (of 1) written as
/// `LIMIT 1`; `None` when it does not end so.
fn literal_limit(mut statement: Statement) -> Option<Statement> {
    let sql = statement.sql.strip_suffix(" LIMIT ?")?.to_string();
    let values = statement.values.as_mut()?;
    if !matches!(
        values.0.last(),
        Some(Value::BigUnsigned(Some(1)) | Value::BigInt(Some(1)) | Value::Unsigned(Some(1)))
    ) {
        return None;
    }
    values.0.pop();
    statement.sql = format!("{sql} LIMIT 1");
    Some(statement)
}
