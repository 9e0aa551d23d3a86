//! The store's own SQLite connections, beside sqlx's pools: the writer
//! thread's (`group.rs`) and the readers, which answer the reads every
//! request makes on the caller's thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every
//! statement to it and every row back, two thread switches per statement;
//! for a point read by key that costs more than the read. The readers are
//! plain connections to the same file, opened read-only, kept in a pool
//! that grows to as many as there are threads reading at once (a reader is
//! taken for one statement and never held across an `.await`). In WAL mode a
//! reader never waits for the writer; each statement reads the last commit,
//! as a read through sqlx's pool does.
//!
//! Statements are built by SeaORM as for any other read; values are bound
//! exactly as sqlx binds them ([`bound`]), and columns are decoded by the
//! types the entities declare ([`Columns`]) into values a model is built
//! from through its `ActiveModel` ([`ReadRow::model`]), so a model read
//! here is the model sqlx would have read. A column the caller did not
//! declare is an error, not a guess.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::sea_query::{ColumnType, Value, ValueType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IdenStatic, Iterable, Statement, TryIntoModel,
};

use super::StoreError;

/// How long a connection waits for a lock before it fails: the writer for
/// SQLite's write lock (held by another connection or process), a reader
/// only while another connection recovers the log after a crash.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a connection to the SQLite file at `path` with the settings of the
/// store's pools; `read_only` for the readers.
pub(super) fn open(path: &str, read_only: bool) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags as F;
    let conn = if read_only {
        let flags = F::SQLITE_OPEN_READ_ONLY | F::SQLITE_OPEN_NO_MUTEX | F::SQLITE_OPEN_URI;
        rusqlite::Connection::open_with_flags(path, flags)?
    } else {
        rusqlite::Connection::open(path)?
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The readers answer reads by key: a small page cache each (they are
    // as many as the threads reading at once).
    conn.execute_batch(if read_only {
        "PRAGMA cache_size = -2048; PRAGMA temp_store = memory;"
    } else {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -16384; PRAGMA temp_store = memory;"
    })?;
    // Room for every statement shape of the commands, or of the hot reads.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
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
            <i64 as TryFrom<u64>>::try_from(*i)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
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

/// Binds a statement's values in order.
pub(super) fn bind(st: &mut rusqlite::CachedStatement<'_>, s: &Statement) -> rusqlite::Result<()> {
    if let Some(values) = &s.values {
        for (i, v) in values.0.iter().enumerate() {
            st.raw_bind_parameter(i + 1, bound(v)?)?;
        }
    }
    Ok(())
}

/// The columns a read returns, by name, each with the type it is decoded
/// as: an entity's columns (under a prefix, as SeaORM names those of a
/// second entity) and named extras.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns(BTreeMap<String, ColumnType>);

impl Columns {
    /// The columns of entity `E`, as `E::find()` selects them.
    pub(crate) fn of<E: EntityTrait>() -> Columns {
        Columns::default().and::<E>("")
    }

    /// Adds the columns of entity `E`, each name after `prefix`.
    pub(crate) fn and<E: EntityTrait>(mut self, prefix: &str) -> Columns {
        for c in E::Column::iter() {
            let name = format!("{prefix}{}", c.as_str());
            self.0.insert(name, c.def().get_column_type().clone());
        }
        self
    }

    /// Adds one named column.
    pub(crate) fn with(mut self, name: &str, ty: ColumnType) -> Columns {
        self.0.insert(name.to_string(), ty);
        self
    }
}

/// A stored value read back as the value of `ty` that sqlx would decode it
/// to (`NULL` as that type's null).
fn decoded(v: rusqlite::types::ValueRef<'_>, ty: &ColumnType) -> Result<Value, String> {
    use rusqlite::types::ValueRef as R;
    let null = matches!(v, R::Null);
    let text = || match v {
        R::Text(t) => std::str::from_utf8(t).map_err(|e| e.to_string()),
        other => Err(format!("text expected, found {:?}", other.data_type())),
    };
    let int = || match v {
        R::Integer(i) => Ok(i),
        other => Err(format!(
            "an integer expected, found {:?}",
            other.data_type()
        )),
    };
    Ok(match ty {
        ColumnType::BigInteger => Value::BigInt(if null { None } else { Some(int()?) }),
        ColumnType::Integer => Value::Int(match null {
            true => None,
            false => Some(<i32 as TryFrom<i64>>::try_from(int()?).map_err(|e| e.to_string())?),
        }),
        ColumnType::Boolean => Value::Bool(if null { None } else { Some(int()? != 0) }),
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Value::String(if null {
            None
        } else {
            Some(text()?.to_string())
        }),
        ColumnType::Uuid => Value::Uuid(match v {
            R::Null => None,
            R::Blob(b) => Some(uuid::Uuid::from_slice(b).map_err(|e| e.to_string())?),
            _ => Some(uuid::Uuid::parse_str(text()?).map_err(|e| e.to_string())?),
        }),
        ColumnType::TimestampWithTimeZone => Value::ChronoDateTimeUtc(match v {
            R::Null => None,
            R::Integer(secs) => {
                Some(DateTime::from_timestamp(secs, 0).ok_or_else(|| format!("no time {secs}"))?)
            }
            _ => Some(timestamp(text()?)?),
        }),
        ColumnType::Double => Value::Double(match v {
            R::Null => None,
            R::Real(f) => Some(f),
            R::Integer(i) => Some(i as f64),
            other => return Err(format!("a number expected, found {:?}", other.data_type())),
        }),
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => {
            Value::Bytes(match v {
                R::Null => None,
                R::Blob(b) | R::Text(b) => Some(b.to_vec()),
                other => return Err(format!("bytes expected, found {:?}", other.data_type())),
            })
        }
        other => return Err(format!("no reader for columns of type {other:?}")),
    })
}

/// A timestamp as sqlx's SQLite driver reads it: RFC 3339, or SQLite's own
/// `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC.
fn timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc());
        }
    }
    Err(format!("\"{s}\" is not a timestamp"))
}

/// The readers: read-only connections to one SQLite file, each used by one
/// thread at a time for one statement.
#[derive(Debug)]
pub(crate) struct Readers {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl Readers {
    pub(super) fn new(path: &str) -> Readers {
        Readers {
            path: path.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs a read on the caller's thread: its rows, each column decoded as
    /// `columns` declares it.
    pub(super) fn read(
        &self,
        stmt: &Statement,
        columns: &Columns,
    ) -> Result<Vec<ReadRow>, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, true).map_err(|e| {
                StoreError::Read(format!("cannot open {} for reading: {e}", self.path))
            })?,
        };
        let rows = rows(&conn, stmt, columns);
        // A connection that failed stays usable (a statement's error ends
        // with the statement); it goes back for the next read.
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        rows.map_err(|e| StoreError::Read(format!("{e} (in `{}`)", stmt.sql)))
    }
}

/// The rows of one statement on `conn`.
fn rows(
    conn: &rusqlite::Connection,
    stmt: &Statement,
    columns: &Columns,
) -> Result<Vec<ReadRow>, String> {
    let mut st = conn.prepare_cached(&stmt.sql).map_err(|e| e.to_string())?;
    bind(&mut st, stmt).map_err(|e| e.to_string())?;
    let types = st
        .column_names()
        .into_iter()
        .map(|name| match columns.0.get(name) {
            Some(ty) => Ok((name.to_string(), ty.clone())),
            None => Err(format!("the column {name} has no declared type")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut out = Vec::new();
    let mut rows = st.raw_query();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut values = BTreeMap::new();
        for (i, (name, ty)) in types.iter().enumerate() {
            let v = row.get_ref(i).map_err(|e| e.to_string())?;
            let value = decoded(v, ty).map_err(|e| format!("column {name}: {e}"))?;
            values.insert(name.clone(), value);
        }
        out.push(ReadRow(values));
    }
    Ok(out)
}

/// One row a reader read: each column's value, decoded.
#[derive(Debug)]
pub(crate) struct ReadRow(BTreeMap<String, Value>);

impl ReadRow {
    /// The model of entity `E` whose columns are named after `prefix`.
    pub(crate) fn model<E: EntityTrait>(&self, prefix: &str) -> Result<E::Model, String>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let mut model = <E::ActiveModel as ActiveModelTrait>::default();
        for c in E::Column::iter() {
            let name = format!("{prefix}{}", c.as_str());
            let value = self
                .0
                .get(&name)
                .ok_or_else(|| format!("the read has no column {name}"))?;
            model
                .try_set(c, value.clone())
                .map_err(|e| format!("column {name}: {e}"))?;
        }
        model.try_into_model().map_err(|e| e.to_string())
    }

    /// The value of one column.
    pub(crate) fn get<T: ValueType>(&self, name: &str) -> Result<T, String> {
        let value = self
            .0
            .get(name)
            .ok_or_else(|| format!("the read has no column {name}"))?;
        <T as ValueType>::try_from(value.clone()).map_err(|e| format!("column {name}: {e}"))
    }
}
