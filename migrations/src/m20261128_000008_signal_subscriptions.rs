//! Signals: a subscription is to a message or to a signal (`kind`), so that a
//! signal and a message of the same name never reach each other's catchers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageSubscription {
    Table,
    Kind,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MessageSubscription::Table)
                .add_column(
                    ColumnDef::new(MessageSubscription::Kind)
                        .string()
                        .not_null()
                        .default("message"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subscription_kind_name")
                .table(MessageSubscription::Table)
                .col(MessageSubscription::Kind)
                .col(MessageSubscription::Name)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_subscription_kind_name")
                .table(MessageSubscription::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MessageSubscription::Table)
                .drop_column(MessageSubscription::Kind)
                .to_owned(),
        )
        .await
    }
}
