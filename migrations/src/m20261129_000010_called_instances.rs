//! Call activities: a called instance remembers which element instance of its
//! parent called it, and children are found by their parent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    ParentId,
    ParentKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ProcessInstance::Table)
                .add_column(
                    ColumnDef::new(ProcessInstance::ParentKey)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_process_instance_parent")
                .table(ProcessInstance::Table)
                .col(ProcessInstance::ParentId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_process_instance_parent")
                .table(ProcessInstance::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ProcessInstance::Table)
                .drop_column(ProcessInstance::ParentKey)
                .to_owned(),
        )
        .await
    }
}
