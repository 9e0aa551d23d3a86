//! Indexes for the lists: the inbox sorted by due date or priority, instances
//! newest first, and running instances per diagram.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserTask {
    Table,
    State,
    DueAt,
    Priority,
}

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    StartedAt,
    Status,
    DefinitionKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let indexes = [
            Index::create()
                .name("ix_user_task_due")
                .table(UserTask::Table)
                .col(UserTask::State)
                .col(UserTask::DueAt)
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("ix_user_task_priority")
                .table(UserTask::Table)
                .col(UserTask::State)
                .col(UserTask::Priority)
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("ix_process_instance_started")
                .table(ProcessInstance::Table)
                .col(ProcessInstance::StartedAt)
                .if_not_exists()
                .to_owned(),
            Index::create()
                .name("ix_process_instance_status_key")
                .table(ProcessInstance::Table)
                .col(ProcessInstance::Status)
                .col(ProcessInstance::DefinitionKey)
                .if_not_exists()
                .to_owned(),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_user_task_due", "user_task"),
            ("ix_user_task_priority", "user_task"),
            ("ix_process_instance_started", "process_instance"),
            ("ix_process_instance_status_key", "process_instance"),
        ] {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
