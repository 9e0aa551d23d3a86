//! Decisions (DMN): each decision of an uploaded `.dmn` file is versioned by
//! its id, like processes are by theirs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DecisionDefinition {
    Table,
    Id,
    DeploymentId,
    Key,
    Version,
    Name,
    VersionTag,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DecisionDefinition::Table)
                .if_not_exists()
                .col(big_pk_auto(DecisionDefinition::Id))
                .col(big_integer(DecisionDefinition::DeploymentId))
                .col(string(DecisionDefinition::Key))
                .col(integer(DecisionDefinition::Version))
                .col(string_null(DecisionDefinition::Name))
                .col(string_null(DecisionDefinition::VersionTag))
                .col(timestamp_with_time_zone(DecisionDefinition::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_decision_definition_key_version")
                .table(DecisionDefinition::Table)
                .col(DecisionDefinition::Key)
                .col(DecisionDefinition::Version)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DecisionDefinition::Table).to_owned())
            .await
    }
}
