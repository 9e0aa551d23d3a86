//! The initial schema: deployments and definitions, instances, the inbox, jobs,
//! history, message subscriptions, incidents, users and groups, settings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployment {
    Table,
    Id,
    Name,
    Source,
    Checksum,
    DeployedAt,
    DeployedBy,
}

#[derive(DeriveIden)]
enum ProcessDefinition {
    Table,
    Id,
    DeploymentId,
    Key,
    Version,
    Name,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    Id,
    DefinitionId,
    DefinitionKey,
    Status,
    HasIncident,
    BusinessKey,
    ParentId,
    State,
    Version,
    LastSeq,
    StartedAt,
    StartedBy,
    EndedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserTask {
    Table,
    Id,
    InstanceId,
    ElementKey,
    ElementId,
    DefinitionKey,
    Name,
    Assignee,
    State,
    Priority,
    DueAt,
    FollowUpAt,
    CreatedAt,
    CompletedAt,
    CompletedBy,
}

#[derive(DeriveIden)]
enum UserTaskCandidate {
    Table,
    TaskId,
    Kind,
    Name,
}

#[derive(DeriveIden)]
enum Job {
    Table,
    Id,
    InstanceId,
    ElementKey,
    ElementId,
    Kind,
    Topic,
    DueAt,
    LockOwner,
    LockExpiresAt,
    Retries,
    Payload,
    LastError,
    CreatedAt,
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

#[derive(DeriveIden)]
enum MessageSubscription {
    Table,
    Id,
    InstanceId,
    ElementKey,
    ElementId,
    Name,
    BusinessKey,
    CreatedAt,
}

// Column names are fixed by the schema, whatever the lint thinks of them.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Incident {
    Table,
    Id,
    InstanceId,
    IncidentKey,
    ElementKey,
    ElementId,
    Message,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    Name,
    DisplayName,
    PasswordHash,
    IsAdmin,
    Disabled,
    SessionEpoch,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppGroup {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum GroupMember {
    Table,
    UserId,
    GroupId,
}

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Deployment::Table)
                .if_not_exists()
                .col(big_pk_auto(Deployment::Id))
                .col(string(Deployment::Name))
                .col(text(Deployment::Source))
                .col(string(Deployment::Checksum))
                .col(timestamp_with_time_zone(Deployment::DeployedAt))
                .col(string_null(Deployment::DeployedBy))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProcessDefinition::Table)
                .if_not_exists()
                .col(big_pk_auto(ProcessDefinition::Id))
                .col(big_integer(ProcessDefinition::DeploymentId))
                .col(string(ProcessDefinition::Key))
                .col(integer(ProcessDefinition::Version))
                .col(string_null(ProcessDefinition::Name))
                .col(boolean(ProcessDefinition::IsDefault))
                .col(timestamp_with_time_zone(ProcessDefinition::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ProcessDefinition::Table, ProcessDefinition::DeploymentId)
                        .to(Deployment::Table, Deployment::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_process_definition_key_version")
                .table(ProcessDefinition::Table)
                .col(ProcessDefinition::Key)
                .col(ProcessDefinition::Version)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProcessInstance::Table)
                .if_not_exists()
                .col(pk_uuid(ProcessInstance::Id))
                .col(big_integer(ProcessInstance::DefinitionId))
                .col(string(ProcessInstance::DefinitionKey))
                .col(string(ProcessInstance::Status))
                .col(boolean(ProcessInstance::HasIncident))
                .col(string_null(ProcessInstance::BusinessKey))
                .col(uuid_null(ProcessInstance::ParentId))
                .col(text(ProcessInstance::State))
                .col(big_integer(ProcessInstance::Version))
                .col(big_integer(ProcessInstance::LastSeq))
                .col(timestamp_with_time_zone(ProcessInstance::StartedAt))
                .col(string_null(ProcessInstance::StartedBy))
                .col(timestamp_with_time_zone_null(ProcessInstance::EndedAt))
                .col(timestamp_with_time_zone(ProcessInstance::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ProcessInstance::Table, ProcessInstance::DefinitionId)
                        .to(ProcessDefinition::Table, ProcessDefinition::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_process_instance_status",
                vec![ProcessInstance::Status, ProcessInstance::StartedAt],
            ),
            (
                "ix_process_instance_definition",
                vec![ProcessInstance::DefinitionId],
            ),
            (
                "ix_process_instance_key",
                vec![ProcessInstance::DefinitionKey, ProcessInstance::StartedAt],
            ),
            (
                "ix_process_instance_business_key",
                vec![ProcessInstance::BusinessKey],
            ),
            (
                "ix_process_instance_started_by",
                vec![ProcessInstance::StartedBy],
            ),
            (
                "ix_process_instance_parent",
                vec![ProcessInstance::ParentId],
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(ProcessInstance::Table).if_not_exists();
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(UserTask::Table)
                .if_not_exists()
                .col(pk_uuid(UserTask::Id))
                .col(uuid(UserTask::InstanceId))
                .col(big_integer(UserTask::ElementKey))
                .col(string(UserTask::ElementId))
                .col(string(UserTask::DefinitionKey))
                .col(string_null(UserTask::Name))
                .col(string_null(UserTask::Assignee))
                .col(string(UserTask::State))
                .col(big_integer(UserTask::Priority))
                .col(timestamp_with_time_zone_null(UserTask::DueAt))
                .col(timestamp_with_time_zone_null(UserTask::FollowUpAt))
                .col(timestamp_with_time_zone(UserTask::CreatedAt))
                .col(timestamp_with_time_zone_null(UserTask::CompletedAt))
                .col(string_null(UserTask::CompletedBy))
                .foreign_key(
                    ForeignKey::create()
                        .from(UserTask::Table, UserTask::InstanceId)
                        .to(ProcessInstance::Table, ProcessInstance::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_user_task_element")
                .table(UserTask::Table)
                .col(UserTask::InstanceId)
                .col(UserTask::ElementKey)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_user_task_assignee")
                .table(UserTask::Table)
                .col(UserTask::Assignee)
                .col(UserTask::State)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_user_task_state")
                .table(UserTask::Table)
                .col(UserTask::State)
                .col(UserTask::CreatedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserTaskCandidate::Table)
                .if_not_exists()
                .col(uuid(UserTaskCandidate::TaskId))
                .col(string(UserTaskCandidate::Kind))
                .col(string(UserTaskCandidate::Name))
                .primary_key(
                    Index::create()
                        .col(UserTaskCandidate::TaskId)
                        .col(UserTaskCandidate::Kind)
                        .col(UserTaskCandidate::Name),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserTaskCandidate::Table, UserTaskCandidate::TaskId)
                        .to(UserTask::Table, UserTask::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_user_task_candidate_name")
                .table(UserTaskCandidate::Table)
                .col(UserTaskCandidate::Kind)
                .col(UserTaskCandidate::Name)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Job::Table)
                .if_not_exists()
                .col(pk_uuid(Job::Id))
                .col(uuid(Job::InstanceId))
                .col(big_integer(Job::ElementKey))
                .col(string(Job::ElementId))
                .col(string(Job::Kind))
                .col(string_null(Job::Topic))
                .col(timestamp_with_time_zone(Job::DueAt))
                .col(string_null(Job::LockOwner))
                .col(timestamp_with_time_zone_null(Job::LockExpiresAt))
                .col(integer(Job::Retries))
                .col(text(Job::Payload))
                .col(text_null(Job::LastError))
                .col(timestamp_with_time_zone(Job::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Job::Table, Job::InstanceId)
                        .to(ProcessInstance::Table, ProcessInstance::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_job_element")
                .table(Job::Table)
                .col(Job::InstanceId)
                .col(Job::ElementKey)
                .col(Job::Kind)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_due")
                .table(Job::Table)
                .col(Job::DueAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_topic")
                .table(Job::Table)
                .col(Job::Kind)
                .col(Job::Topic)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

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

        m.create_table(
            Table::create()
                .table(MessageSubscription::Table)
                .if_not_exists()
                .col(pk_uuid(MessageSubscription::Id))
                .col(uuid(MessageSubscription::InstanceId))
                .col(big_integer(MessageSubscription::ElementKey))
                .col(string(MessageSubscription::ElementId))
                .col(string(MessageSubscription::Name))
                .col(string_null(MessageSubscription::BusinessKey))
                .col(timestamp_with_time_zone(MessageSubscription::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MessageSubscription::Table, MessageSubscription::InstanceId)
                        .to(ProcessInstance::Table, ProcessInstance::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_message_subscription_element")
                .table(MessageSubscription::Table)
                .col(MessageSubscription::InstanceId)
                .col(MessageSubscription::ElementKey)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_message_subscription_name")
                .table(MessageSubscription::Table)
                .col(MessageSubscription::Name)
                .col(MessageSubscription::BusinessKey)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Incident::Table)
                .if_not_exists()
                .col(pk_uuid(Incident::Id))
                .col(uuid(Incident::InstanceId))
                .col(big_integer(Incident::IncidentKey))
                .col(big_integer(Incident::ElementKey))
                .col(string(Incident::ElementId))
                .col(text(Incident::Message))
                .col(timestamp_with_time_zone(Incident::CreatedAt))
                .col(timestamp_with_time_zone_null(Incident::ResolvedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Incident::Table, Incident::InstanceId)
                        .to(ProcessInstance::Table, ProcessInstance::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_incident_key")
                .table(Incident::Table)
                .col(Incident::InstanceId)
                .col(Incident::IncidentKey)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_incident_open")
                .table(Incident::Table)
                .col(Incident::ResolvedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AppUser::Table)
                .if_not_exists()
                .col(big_pk_auto(AppUser::Id))
                .col(string_uniq(AppUser::Name))
                .col(string_null(AppUser::DisplayName))
                .col(string(AppUser::PasswordHash))
                .col(boolean(AppUser::IsAdmin))
                .col(boolean(AppUser::Disabled))
                .col(big_integer(AppUser::SessionEpoch))
                .col(timestamp_with_time_zone(AppUser::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AppGroup::Table)
                .if_not_exists()
                .col(big_pk_auto(AppGroup::Id))
                .col(string_uniq(AppGroup::Name))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GroupMember::Table)
                .if_not_exists()
                .col(big_integer(GroupMember::UserId))
                .col(big_integer(GroupMember::GroupId))
                .primary_key(
                    Index::create()
                        .col(GroupMember::UserId)
                        .col(GroupMember::GroupId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMember::Table, GroupMember::UserId)
                        .to(AppUser::Table, AppUser::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GroupMember::Table, GroupMember::GroupId)
                        .to(AppGroup::Table, AppGroup::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Setting::Table)
                .if_not_exists()
                .col(string(Setting::Key).primary_key())
                .col(text(Setting::Value))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Setting::Table.into_iden(),
            GroupMember::Table.into_iden(),
            AppGroup::Table.into_iden(),
            AppUser::Table.into_iden(),
            Incident::Table.into_iden(),
            MessageSubscription::Table.into_iden(),
            HistoryEvent::Table.into_iden(),
            Job::Table.into_iden(),
            UserTaskCandidate::Table.into_iden(),
            UserTask::Table.into_iden(),
            ProcessInstance::Table.into_iden(),
            ProcessDefinition::Table.into_iden(),
            Deployment::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
