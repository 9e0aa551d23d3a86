//! A job's result kept while its instance is suspended: work that finished
//! while the instance was suspended (a connector call, a service handler)
//! is committed on resume from this column instead of being done again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Job {
    Table,
    Result,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Job::Table)
                .add_column(ColumnDef::new(Job::Result).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Job::Table)
                .drop_column(Job::Result)
                .to_owned(),
        )
        .await
    }
}
