//! History in batches: one row per command holding the events it produced,
//! instead of one row per event. A command that runs ten tasks straight
//! through writes one row, not fifty; readers expand batches back into
//! numbered events. Existing rows become one-event batches.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HistoryBatch {
    Table,
    InstanceId,
    FirstSeq,
    LastSeq,
    At,
    UserName,
    Events,
}

#[derive(DeriveIden)]
enum HistoryEvent {
    Table,
    InstanceId,
    Seq,
    At,
    Kind,
    ElementId,
    ElementKey,
    UserName,
    Payload,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(HistoryBatch::Table)
                .if_not_exists()
                .col(uuid(HistoryBatch::InstanceId))
                .col(big_integer(HistoryBatch::FirstSeq))
                .col(big_integer(HistoryBatch::LastSeq))
                .col(timestamp_with_time_zone(HistoryBatch::At))
                .col(string_null(HistoryBatch::UserName))
                .col(text(HistoryBatch::Events))
                .primary_key(
                    Index::create()
                        .col(HistoryBatch::InstanceId)
                        .col(HistoryBatch::FirstSeq),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO history_batch (instance_id, first_seq, last_seq, at, user_name, events) \
                 SELECT instance_id, seq, seq, at, user_name, '[' || payload || ']' FROM history_event",
            )
            .await?;
        m.drop_table(Table::drop().table(HistoryEvent::Table).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(HistoryEvent::Table)
                .if_not_exists()
                .col(uuid(HistoryEvent::InstanceId))
                .col(big_integer(HistoryEvent::Seq))
                .col(timestamp_with_time_zone(HistoryEvent::At))
                .col(string(HistoryEvent::Kind))
                .col(string_null(HistoryEvent::ElementId))
                .col(big_integer_null(HistoryEvent::ElementKey))
                .col(string_null(HistoryEvent::UserName))
                .col(text(HistoryEvent::Payload))
                .primary_key(
                    Index::create()
                        .col(HistoryEvent::InstanceId)
                        .col(HistoryEvent::Seq),
                )
                .to_owned(),
        )
        .await?;
        // Batches cannot be split in SQL portably; going down loses history.
        m.drop_table(Table::drop().table(HistoryBatch::Table).to_owned())
            .await
    }
}
