//! Timer start events: one row per scheduled start of a process definition,
//! leased like a job; and an index for the sweeper that frees expired leases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StartTimer {
    Table,
    Id,
    DefinitionId,
    DefinitionKey,
    ElementId,
    DueAt,
    Fired,
    LockOwner,
    LockExpiresAt,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProcessDefinition {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Job {
    Table,
    LockExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StartTimer::Table)
                .if_not_exists()
                .col(pk_uuid(StartTimer::Id))
                .col(big_integer(StartTimer::DefinitionId))
                .col(string(StartTimer::DefinitionKey))
                .col(string(StartTimer::ElementId))
                .col(timestamp_with_time_zone(StartTimer::DueAt))
                .col(integer(StartTimer::Fired))
                .col(string_null(StartTimer::LockOwner))
                .col(timestamp_with_time_zone_null(StartTimer::LockExpiresAt))
                .col(text_null(StartTimer::LastError))
                .col(timestamp_with_time_zone(StartTimer::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(StartTimer::Table, StartTimer::DefinitionId)
                        .to(ProcessDefinition::Table, ProcessDefinition::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_start_timer_element")
                .table(StartTimer::Table)
                .col(StartTimer::DefinitionId)
                .col(StartTimer::ElementId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_start_timer_due")
                .table(StartTimer::Table)
                .col(StartTimer::DueAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_start_timer_key")
                .table(StartTimer::Table)
                .col(StartTimer::DefinitionKey)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_lock_expires")
                .table(Job::Table)
                .col(Job::LockExpiresAt)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_job_lock_expires")
                .table(Job::Table)
                .to_owned(),
        )
        .await?;
        m.drop_table(
            Table::drop()
                .table(StartTimer::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
