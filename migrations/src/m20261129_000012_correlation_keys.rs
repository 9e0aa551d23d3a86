//! A message subscription may carry a correlation key (Camunda 8's
//! `zeebe:subscription correlationKey`, evaluated when it opened).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageSubscription {
    Table,
    Name,
    CorrelationKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MessageSubscription::Table)
                .add_column(
                    ColumnDef::new(MessageSubscription::CorrelationKey)
                        .string()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_message_subscription_correlation")
                .table(MessageSubscription::Table)
                .col(MessageSubscription::Name)
                .col(MessageSubscription::CorrelationKey)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_message_subscription_correlation")
                .table(MessageSubscription::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MessageSubscription::Table)
                .drop_column(MessageSubscription::CorrelationKey)
                .to_owned(),
        )
        .await
    }
}
