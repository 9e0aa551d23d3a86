//! E-mail notifications: each account's address and opt-out, and the mail
//! outbox — one row per mail to one person about one event, written in the
//! transaction of the command that caused it and sent later by the job
//! executor (`dedup_key` is unique: one mail per event and recipient).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Email,
    MailOptOut,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    DedupKey,
    Kind,
    Recipient,
    Address,
    Subject,
    Body,
    InstanceId,
    State,
    Attempts,
    DueAt,
    LockOwner,
    LockExpiresAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        m.alter_table(
            Table::alter()
                .table(AppUser::Table)
                .add_column(ColumnDef::new(AppUser::Email).string().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AppUser::Table)
                .add_column(
                    ColumnDef::new(AppUser::MailOptOut)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .if_not_exists()
                .col(pk_uuid(MailOutbox::Id))
                .col(string(MailOutbox::DedupKey))
                .col(string(MailOutbox::Kind))
                .col(string(MailOutbox::Recipient))
                .col(string(MailOutbox::Address))
                .col(text(MailOutbox::Subject))
                .col(text(MailOutbox::Body))
                .col(uuid_null(MailOutbox::InstanceId))
                .col(string(MailOutbox::State))
                .col(integer(MailOutbox::Attempts))
                .col(timestamp_with_time_zone(MailOutbox::DueAt))
                .col(string_null(MailOutbox::LockOwner))
                .col(timestamp_with_time_zone_null(MailOutbox::LockExpiresAt))
                .col(text_null(MailOutbox::LastError))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_mail_outbox_dedup")
                .table(MailOutbox::Table)
                .col(MailOutbox::DedupKey)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mail_outbox_due")
                .table(MailOutbox::Table)
                .col(MailOutbox::State)
                .col(MailOutbox::DueAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await?;
        for column in [AppUser::Email, AppUser::MailOptOut] {
            m.alter_table(
                Table::alter()
                    .table(AppUser::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
