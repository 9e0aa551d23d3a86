//! Suspension: an instance, a definition version, and the rows that wait for
//! them (jobs, timer start events, inbox tasks) carry whether they are
//! suspended, so that the job executor skips them and the inbox shows it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    Suspended,
}

#[derive(DeriveIden)]
enum ProcessDefinition {
    Table,
    Suspended,
}

#[derive(DeriveIden)]
enum Job {
    Table,
    Suspended,
}

#[derive(DeriveIden)]
enum StartTimer {
    Table,
    Suspended,
}

#[derive(DeriveIden)]
enum UserTask {
    Table,
    Suspended,
}

/// Each table and its new column (SQLite adds one column per statement).
fn columns() -> Vec<(DynIden, DynIden)> {
    vec![
        (
            ProcessInstance::Table.into_iden(),
            ProcessInstance::Suspended.into_iden(),
        ),
        (
            ProcessDefinition::Table.into_iden(),
            ProcessDefinition::Suspended.into_iden(),
        ),
        (Job::Table.into_iden(), Job::Suspended.into_iden()),
        (
            StartTimer::Table.into_iden(),
            StartTimer::Suspended.into_iden(),
        ),
        (UserTask::Table.into_iden(), UserTask::Suspended.into_iden()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns() {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(ColumnDef::new(column).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns() {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
