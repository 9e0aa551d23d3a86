//! Indexes for the lookups a command makes by instance: its open user tasks
//! (closing a completed or cancelled task) and its message subscriptions. With
//! a million instances a missing index turns each into a full scan.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserTask {
    Table,
    InstanceId,
    ElementKey,
}

#[derive(DeriveIden)]
enum MessageSubscription {
    Table,
    InstanceId,
    ElementKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_user_task_instance")
                .table(UserTask::Table)
                .col(UserTask::InstanceId)
                .col(UserTask::ElementKey)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_message_subscription_instance")
                .table(MessageSubscription::Table)
                .col(MessageSubscription::InstanceId)
                .col(MessageSubscription::ElementKey)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_message_subscription_instance")
                .table(MessageSubscription::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_user_task_instance")
                .table(UserTask::Table)
                .to_owned(),
        )
        .await
    }
}
