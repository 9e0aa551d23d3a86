//! The inbox served from indexes: each candidate row carries what the inbox
//! sorts and filters by (whether the task can be claimed now, its creation
//! time, due date and priority, its process), and tasks carry a due date that
//! sorts "no due date" last. With these, a page of any inbox is read from a few
//! index ranges, however many tasks there are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserTask {
    Table,
    Assignee,
    State,
    CreatedAt,
    DueSort,
    Priority,
}

#[derive(DeriveIden)]
enum UserTaskCandidate {
    Table,
    Kind,
    Name,
    Claimable,
    CreatedAt,
    DueSort,
    Priority,
    DefinitionKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(UserTask::Table)
                .add_column(timestamp_with_time_zone_null(UserTask::DueSort))
                .to_owned(),
        )
        .await?;
        for col in [
            boolean(UserTaskCandidate::Claimable)
                .default(false)
                .to_owned(),
            timestamp_with_time_zone_null(UserTaskCandidate::CreatedAt),
            timestamp_with_time_zone_null(UserTaskCandidate::DueSort),
            big_integer(UserTaskCandidate::Priority)
                .default(50)
                .to_owned(),
            string(UserTaskCandidate::DefinitionKey)
                .default("")
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(UserTaskCandidate::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for (name, sort) in [
            ("ix_user_task_mine_created", UserTask::CreatedAt),
            ("ix_user_task_mine_due", UserTask::DueSort),
            ("ix_user_task_mine_priority", UserTask::Priority),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(UserTask::Table)
                    .col(UserTask::Assignee)
                    .col(UserTask::State)
                    .col(sort)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        for (name, sort) in [
            ("ix_candidate_created", UserTaskCandidate::CreatedAt),
            ("ix_candidate_due", UserTaskCandidate::DueSort),
            ("ix_candidate_priority", UserTaskCandidate::Priority),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(UserTaskCandidate::Table)
                    .col(UserTaskCandidate::Kind)
                    .col(UserTaskCandidate::Name)
                    .col(UserTaskCandidate::Claimable)
                    .col(sort)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_user_task_mine_created", "user_task"),
            ("ix_user_task_mine_due", "user_task"),
            ("ix_user_task_mine_priority", "user_task"),
            ("ix_candidate_created", "user_task_candidate"),
            ("ix_candidate_due", "user_task_candidate"),
            ("ix_candidate_priority", "user_task_candidate"),
        ] {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
