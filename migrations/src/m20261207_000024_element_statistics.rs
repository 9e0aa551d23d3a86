//! Statistics per diagram element: an append-only table of per-command
//! deltas (one row per element a command touched) and the summary rows the
//! rollup folds them into, one per (definition, element).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ElementStatDelta {
    Table,
    Id,
    DefinitionId,
    ElementId,
    Active,
    Completed,
    Cancelled,
    Incidents,
    Timed,
    DurationMs,
    Histogram,
}

#[derive(DeriveIden)]
enum ElementStat {
    Table,
    DefinitionId,
    ElementId,
    Active,
    Completed,
    Cancelled,
    Incidents,
    Timed,
    DurationMs,
    Histogram,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ElementStatDelta::Table)
                .if_not_exists()
                .col(big_pk_auto(ElementStatDelta::Id))
                .col(big_integer(ElementStatDelta::DefinitionId))
                .col(string(ElementStatDelta::ElementId))
                .col(big_integer(ElementStatDelta::Active))
                .col(big_integer(ElementStatDelta::Completed))
                .col(big_integer(ElementStatDelta::Cancelled))
                .col(big_integer(ElementStatDelta::Incidents))
                .col(big_integer(ElementStatDelta::Timed))
                .col(big_integer(ElementStatDelta::DurationMs))
                .col(text(ElementStatDelta::Histogram))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_element_stat_delta_definition")
                .table(ElementStatDelta::Table)
                .col(ElementStatDelta::DefinitionId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ElementStat::Table)
                .if_not_exists()
                .col(big_integer(ElementStat::DefinitionId))
                .col(string(ElementStat::ElementId))
                .col(big_integer(ElementStat::Active))
                .col(big_integer(ElementStat::Completed))
                .col(big_integer(ElementStat::Cancelled))
                .col(big_integer(ElementStat::Incidents))
                .col(big_integer(ElementStat::Timed))
                .col(big_integer(ElementStat::DurationMs))
                .col(text(ElementStat::Histogram))
                .primary_key(
                    Index::create()
                        .col(ElementStat::DefinitionId)
                        .col(ElementStat::ElementId),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ElementStat::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ElementStatDelta::Table).to_owned())
            .await
    }
}
