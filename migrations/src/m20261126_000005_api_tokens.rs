//! API tokens: programs authenticate with `Authorization: Bearer <token>`; only
//! a hash of each token is stored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiToken::Table)
                .if_not_exists()
                .col(pk_uuid(ApiToken::Id))
                .col(big_integer(ApiToken::UserId))
                .col(string(ApiToken::Name))
                .col(string_uniq(ApiToken::TokenHash))
                .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiToken::Table, ApiToken::UserId)
                        .to(AppUser::Table, AppUser::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_api_token_user")
                .table(ApiToken::Table)
                .col(ApiToken::UserId)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiToken::Table).if_exists().to_owned())
            .await
    }
}
