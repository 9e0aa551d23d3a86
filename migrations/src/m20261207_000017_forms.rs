//! Camunda Forms (`.form` files): each is versioned by its `id`, like
//! processes and decisions by theirs; its JSON is its deployment's source.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FormDefinition {
    Table,
    Id,
    DeploymentId,
    Key,
    Version,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FormDefinition::Table)
                .if_not_exists()
                .col(big_pk_auto(FormDefinition::Id))
                .col(big_integer(FormDefinition::DeploymentId))
                .col(string(FormDefinition::Key))
                .col(integer(FormDefinition::Version))
                .col(timestamp_with_time_zone(FormDefinition::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_form_definition_key_version")
                .table(FormDefinition::Table)
                .col(FormDefinition::Key)
                .col(FormDefinition::Version)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FormDefinition::Table).to_owned())
            .await
    }
}
