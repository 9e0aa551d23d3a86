//! Smaller rows per command: variables written once, history deflated.
//!
//! `instance_variable` kept every value twice: `value` (strings as they are,
//! other values as JSON text, for searching) and `json` (the typed value). The
//! JSON is now derived: `is_text` says whether `value` is a string, so `json`
//! goes. The search index on `(name, value)` becomes one on the first 100
//! characters of the value (`substr(value, 1, 100)`): long values (a document
//! kept in a variable) no longer bloat the index, nor break PostgreSQL's
//! B-tree limit of about 2.7 kB per entry. On SQLite the table is `WITHOUT
//! ROWID`, clustered on its primary key `(instance_id, name)`: one B-tree
//! instead of a rowid table plus a separate primary-key index.
//!
//! `history_batch` gains `packed`: a command's events deflated, when that is
//! smaller (`events` is then empty). Rows written before keep their JSON in
//! `events` and read as they did.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceVariable {
    Table,
    InstanceId,
    Name,
    Value,
    IsText,
    Json,
}

#[derive(DeriveIden)]
enum InstanceVariableNew {
    Table,
}

#[derive(DeriveIden)]
enum HistoryBatch {
    Table,
    Packed,
}

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    Id,
}

const OLD_INDEX: &str = "ix_instance_variable_name_value";
const NEW_INDEX: &str = "ix_instance_variable_name_prefix";
/// Characters of a value that the search index holds (the store's queries
/// compare the same `substr`).
const CREATE_NEW_INDEX: &str = "CREATE INDEX ix_instance_variable_name_prefix \
     ON instance_variable (name, substr(value, 1, 100))";

/// The SQLite table, `WITHOUT ROWID` or not, with or without `json`.
fn sqlite_table(name: DynIden, new_layout: bool) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name)
        .col(uuid(InstanceVariable::InstanceId))
        .col(string(InstanceVariable::Name))
        .col(text(InstanceVariable::Value));
    if new_layout {
        t.col(boolean(InstanceVariable::IsText));
    } else {
        t.col(text(InstanceVariable::Json));
    }
    t.primary_key(
        Index::create()
            .col(InstanceVariable::InstanceId)
            .col(InstanceVariable::Name),
    )
    .foreign_key(
        ForeignKey::create()
            .from_tbl(InstanceVariableNew::Table)
            .from_col(InstanceVariable::InstanceId)
            .to(ProcessInstance::Table, ProcessInstance::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
    if new_layout {
        t.extra("WITHOUT ROWID");
    }
    t.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too: the copy-and-swap must see one schema, on one
    /// connection, and must not stop half-way.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // A table's row layout cannot change in place: copy, then swap.
                m.create_table(sqlite_table(InstanceVariableNew::Table.into_iden(), true))
                    .await?;
                db.execute_unprepared(
                    "INSERT INTO instance_variable_new (instance_id, name, value, is_text) \
                     SELECT instance_id, name, value, substr(json, 1, 1) = '\"' \
                     FROM instance_variable",
                )
                .await?;
                m.drop_table(Table::drop().table(InstanceVariable::Table).to_owned())
                    .await?;
                m.rename_table(
                    Table::rename()
                        .table(InstanceVariableNew::Table, InstanceVariable::Table)
                        .to_owned(),
                )
                .await?;
            }
            _ => {
                m.alter_table(
                    Table::alter()
                        .table(InstanceVariable::Table)
                        .add_column(boolean(InstanceVariable::IsText).default(false))
                        .to_owned(),
                )
                .await?;
                db.execute_unprepared(
                    "UPDATE instance_variable SET is_text = TRUE WHERE json LIKE '\"%'",
                )
                .await?;
                m.drop_index(
                    Index::drop()
                        .name(OLD_INDEX)
                        .table(InstanceVariable::Table)
                        .to_owned(),
                )
                .await?;
                m.alter_table(
                    Table::alter()
                        .table(InstanceVariable::Table)
                        .drop_column(InstanceVariable::Json)
                        .to_owned(),
                )
                .await?;
            }
        }
        db.execute_unprepared(CREATE_NEW_INDEX).await?;
        m.alter_table(
            Table::alter()
                .table(HistoryBatch::Table)
                .add_column(blob_null(HistoryBatch::Packed))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Packed batches cannot be inflated in SQL portably; going down loses them.
        m.get_connection()
            .execute_unprepared("DELETE FROM history_batch WHERE packed IS NOT NULL")
            .await?;
        m.alter_table(
            Table::alter()
                .table(HistoryBatch::Table)
                .drop_column(HistoryBatch::Packed)
                .to_owned(),
        )
        .await?;
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                m.create_table(sqlite_table(InstanceVariableNew::Table.into_iden(), false))
                    .await?;
                db.execute_unprepared(
                    "INSERT INTO instance_variable_new (instance_id, name, value, json) \
                     SELECT instance_id, name, value, \
                     CASE WHEN is_text THEN json_quote(value) ELSE value END \
                     FROM instance_variable",
                )
                .await?;
                m.drop_table(Table::drop().table(InstanceVariable::Table).to_owned())
                    .await?;
                m.rename_table(
                    Table::rename()
                        .table(InstanceVariableNew::Table, InstanceVariable::Table)
                        .to_owned(),
                )
                .await?;
            }
            _ => {
                m.drop_index(
                    Index::drop()
                        .name(NEW_INDEX)
                        .table(InstanceVariable::Table)
                        .to_owned(),
                )
                .await?;
                m.alter_table(
                    Table::alter()
                        .table(InstanceVariable::Table)
                        .add_column(text(InstanceVariable::Json).default(""))
                        .to_owned(),
                )
                .await?;
                db.execute_unprepared(
                    "UPDATE instance_variable SET json = \
                     CASE WHEN is_text THEN to_json(value)::text ELSE value END",
                )
                .await?;
                m.alter_table(
                    Table::alter()
                        .table(InstanceVariable::Table)
                        .drop_column(InstanceVariable::IsText)
                        .to_owned(),
                )
                .await?;
            }
        }
        m.create_index(
            Index::create()
                .name(OLD_INDEX)
                .table(InstanceVariable::Table)
                .col(InstanceVariable::Name)
                .col(InstanceVariable::Value)
                .to_owned(),
        )
        .await
    }
}
