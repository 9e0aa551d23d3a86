//! Instance variables as rows (to search instances by a variable), and failed
//! login counters (to slow down password guessing across every process).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceVariable {
    Table,
    InstanceId,
    Name,
    Value,
    Json,
}

#[derive(DeriveIden)]
enum ProcessInstance {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LoginAttempt {
    Table,
    Subject,
    Failures,
    LastFailureAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InstanceVariable::Table)
                .if_not_exists()
                .col(uuid(InstanceVariable::InstanceId))
                .col(string(InstanceVariable::Name))
                // The value as text for searching: strings as they are, other JSON as JSON.
                .col(text(InstanceVariable::Value))
                .col(text(InstanceVariable::Json))
                .primary_key(
                    Index::create()
                        .col(InstanceVariable::InstanceId)
                        .col(InstanceVariable::Name),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(InstanceVariable::Table, InstanceVariable::InstanceId)
                        .to(ProcessInstance::Table, ProcessInstance::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_instance_variable_name_value")
                .table(InstanceVariable::Table)
                .col(InstanceVariable::Name)
                .col(InstanceVariable::Value)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LoginAttempt::Table)
                .if_not_exists()
                .col(string(LoginAttempt::Subject).primary_key())
                .col(integer(LoginAttempt::Failures))
                .col(timestamp_with_time_zone(LoginAttempt::LastFailureAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(LoginAttempt::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(
            Table::drop()
                .table(InstanceVariable::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
