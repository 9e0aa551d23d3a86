//! An index for "instances a user worked on": the tasks a user completed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserTask {
    Table,
    CompletedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_user_task_completed_by")
                .table(UserTask::Table)
                .col(UserTask::CompletedBy)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_user_task_completed_by")
                .table(UserTask::Table)
                .to_owned(),
        )
        .await
    }
}
