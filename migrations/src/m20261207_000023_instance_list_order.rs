//! The instance list served from indexes. A user sees an instance they
//! started, or one with a task they completed, hold, or could claim while it
//! is open. Each of those ways is read as its own index range in the list's
//! order (newest instance first): so tasks and candidate rows carry their
//! instance's start time (and candidate rows their instance and whether the
//! task is open), and instances are indexed by starter and start time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    Id,
    StartedAt,
    StartedBy,
}

#[derive(DeriveIden)]
enum UserTask {
    Table,
    Id,
    InstanceId,
    InstanceStartedAt,
    Assignee,
    CompletedBy,
    State,
}

#[derive(DeriveIden)]
enum UserTaskCandidate {
    Table,
    TaskId,
    Kind,
    Name,
    InstanceId,
    InstanceStartedAt,
    Open,
}

/// Indexes this migration creates, with their tables.
const INDEXES: [(&str, &str); 5] = [
    ("ix_process_instance_started_id", "process_instance"),
    ("ix_process_instance_starter_order", "process_instance"),
    ("ix_user_task_completed_by_order", "user_task"),
    ("ix_user_task_assignee_order", "user_task"),
    ("ix_candidate_instance_order", "user_task_candidate"),
];

/// Older indexes the new ones make redundant, with their tables.
const REPLACED: [(&str, &str); 4] = [
    ("ix_process_instance_started", "process_instance"),
    ("ix_process_instance_started_by", "process_instance"),
    ("ix_user_task_completed_by", "user_task"),
    ("ix_user_task_assignee", "user_task"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE. The columns stay nullable in
        // the schema (SQLite cannot add a NOT NULL column without a constant
        // default); they are filled below and by every writer.
        m.alter_table(
            Table::alter()
                .table(UserTask::Table)
                .add_column(timestamp_with_time_zone_null(UserTask::InstanceStartedAt))
                .to_owned(),
        )
        .await?;
        for col in [
            uuid_null(UserTaskCandidate::InstanceId),
            timestamp_with_time_zone_null(UserTaskCandidate::InstanceStartedAt),
            boolean(UserTaskCandidate::Open).default(false).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(UserTaskCandidate::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // Existing rows: copy from the instance, and from the task.
        let pi_started = Query::select()
            .column((ProcessInstance::Table, ProcessInstance::StartedAt))
            .from(ProcessInstance::Table)
            .and_where(
                Expr::col((ProcessInstance::Table, ProcessInstance::Id))
                    .equals((UserTask::Table, UserTask::InstanceId)),
            )
            .to_owned();
        m.exec_stmt(
            Query::update()
                .table(UserTask::Table)
                .value(UserTask::InstanceStartedAt, Expr::from(pi_started))
                .to_owned(),
        )
        .await?;
        let from_task = |col: UserTask| {
            Expr::from(
                Query::select()
                    .column((UserTask::Table, col))
                    .from(UserTask::Table)
                    .and_where(
                        Expr::col((UserTask::Table, UserTask::Id))
                            .equals((UserTaskCandidate::Table, UserTaskCandidate::TaskId)),
                    )
                    .to_owned(),
            )
        };
        m.exec_stmt(
            Query::update()
                .table(UserTaskCandidate::Table)
                .value(
                    UserTaskCandidate::InstanceId,
                    from_task(UserTask::InstanceId),
                )
                .value(
                    UserTaskCandidate::InstanceStartedAt,
                    from_task(UserTask::InstanceStartedAt),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(UserTaskCandidate::Table)
                .value(UserTaskCandidate::Open, true)
                .and_where(
                    Expr::col((UserTaskCandidate::Table, UserTaskCandidate::TaskId)).in_subquery(
                        Query::select()
                            .column((UserTask::Table, UserTask::Id))
                            .from(UserTask::Table)
                            .and_where(Expr::col((UserTask::Table, UserTask::State)).eq("open"))
                            .to_owned(),
                    ),
                )
                .to_owned(),
        )
        .await?;
        let indexes = [
            Index::create()
                .name(INDEXES[0].0)
                .table(ProcessInstance::Table)
                .col(ProcessInstance::StartedAt)
                .col(ProcessInstance::Id)
                .to_owned(),
            Index::create()
                .name(INDEXES[1].0)
                .table(ProcessInstance::Table)
                .col(ProcessInstance::StartedBy)
                .col(ProcessInstance::StartedAt)
                .col(ProcessInstance::Id)
                .to_owned(),
            Index::create()
                .name(INDEXES[2].0)
                .table(UserTask::Table)
                .col(UserTask::CompletedBy)
                .col(UserTask::InstanceStartedAt)
                .col(UserTask::InstanceId)
                .to_owned(),
            Index::create()
                .name(INDEXES[3].0)
                .table(UserTask::Table)
                .col(UserTask::Assignee)
                .col(UserTask::InstanceStartedAt)
                .col(UserTask::InstanceId)
                .to_owned(),
            Index::create()
                .name(INDEXES[4].0)
                .table(UserTaskCandidate::Table)
                .col(UserTaskCandidate::Kind)
                .col(UserTaskCandidate::Name)
                .col(UserTaskCandidate::Open)
                .col(UserTaskCandidate::InstanceStartedAt)
                .col(UserTaskCandidate::InstanceId)
                .to_owned(),
        ];
        for mut i in indexes {
            m.create_index(i.if_not_exists().to_owned()).await?;
        }
        // Served by the indexes above (or, for `ix_user_task_assignee`, by
        // `ix_user_task_mine_created`): dropped, so that writes do not keep two.
        for (name, table) in REPLACED {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let replaced = [
            Index::create()
                .name(REPLACED[0].0)
                .table(ProcessInstance::Table)
                .col(ProcessInstance::StartedAt)
                .to_owned(),
            Index::create()
                .name(REPLACED[1].0)
                .table(ProcessInstance::Table)
                .col(ProcessInstance::StartedBy)
                .to_owned(),
            Index::create()
                .name(REPLACED[2].0)
                .table(UserTask::Table)
                .col(UserTask::CompletedBy)
                .to_owned(),
            Index::create()
                .name(REPLACED[3].0)
                .table(UserTask::Table)
                .col(UserTask::Assignee)
                .col(UserTask::State)
                .to_owned(),
        ];
        for mut i in replaced {
            m.create_index(i.if_not_exists().to_owned()).await?;
        }
        for (name, table) in INDEXES {
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        for col in [
            UserTaskCandidate::InstanceId,
            UserTaskCandidate::InstanceStartedAt,
            UserTaskCandidate::Open,
        ] {
            m.alter_table(
                Table::alter()
                    .table(UserTaskCandidate::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(UserTask::Table)
                .drop_column(UserTask::InstanceStartedAt)
                .to_owned(),
        )
        .await
    }
}
