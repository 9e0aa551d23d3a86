//! View-only diagrams: BPMN files the engine will not run, kept so that
//! people can look at them. They have no process definition and can never
//! be started.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ViewOnlyDiagram {
    Table,
    Id,
    File,
    Name,
    Source,
    KeptAt,
    KeptBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ViewOnlyDiagram::Table)
                .if_not_exists()
                .col(big_pk_auto(ViewOnlyDiagram::Id))
                .col(string(ViewOnlyDiagram::File))
                .col(string(ViewOnlyDiagram::Name))
                .col(text(ViewOnlyDiagram::Source))
                .col(timestamp_with_time_zone(ViewOnlyDiagram::KeptAt))
                .col(string_null(ViewOnlyDiagram::KeptBy))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ViewOnlyDiagram::Table).to_owned())
            .await
    }
}
