//! Deployed Camunda Forms: versions by form id, the source of the `.form`
//! file each came from, and the lookups a form link makes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::OneRow;
use super::entity::{deployment, form_definition};
use super::{Store, StoreError, Txn};

/// A form version with the JSON of its file.
pub type FormRow = (form_definition::Model, String);

async fn with_source(
    db: &impl ConnectionTrait,
    row: Option<form_definition::Model>,
) -> Result<Option<FormRow>, StoreError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let dep = deployment::Entity::find_by_id(row.deployment_id)
        .one_row(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("form {} has no deployment", row.id)))?;
    Ok(Some((row, dep.source)))
}

/// The newest version of a form, among those deployed up to a deployment.
async fn newest(
    db: &impl ConnectionTrait,
    key: &str,
    up_to: Option<i64>,
) -> Result<Option<FormRow>, StoreError> {
    let mut q = form_definition::Entity::find().filter(form_definition::Column::Key.eq(key));
    if let Some(d) = up_to {
        q = q.filter(form_definition::Column::DeploymentId.lte(d));
    }
    let row = q
        .order_by_desc(form_definition::Column::Version)
        .one_row(db)
        .await?;
    with_source(db, row).await
}

/// The newest form deployed from a file of this name (or ending in `/name`)
/// up to a deployment.
async fn by_file(
    db: &impl ConnectionTrait,
    name: &str,
    up_to: Option<i64>,
) -> Result<Option<FormRow>, StoreError> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let mut q = deployment::Entity::find().filter(
        deployment::Column::Name
            .eq(name)
            .or(deployment::Column::Name.eq(base)),
    );
    if let Some(d) = up_to {
        q = q.filter(deployment::Column::Id.lte(d));
    }
    for dep in q.order_by_desc(deployment::Column::Id).all(db).await? {
        let row = form_definition::Entity::find()
            .filter(form_definition::Column::DeploymentId.eq(dep.id))
            .one_row(db)
            .await?;
        if let Some(row) = row {
            return Ok(Some((row, dep.source)));
        }
    }
    Ok(None)
}

impl Store {
    /// The newest version of a form and its deployment's checksum, read
    /// inside a deployment's transaction.
    pub async fn latest_form_in(
        txn: &Txn,
        key: &str,
    ) -> Result<Option<(form_definition::Model, String)>, StoreError> {
        let Some(def) = form_definition::Entity::find()
            .filter(form_definition::Column::Key.eq(key))
            .order_by_desc(form_definition::Column::Version)
            .one_row(txn)
            .await?
        else {
            return Ok(None);
        };
        let checksum = deployment::Entity::find_by_id(def.deployment_id)
            .one_row(txn)
            .await?
            .map(|d| d.checksum)
            .unwrap_or_default();
        Ok(Some((def, checksum)))
    }

    /// Inserts the next version of a form.
    pub async fn insert_form(
        txn: &Txn,
        deployment_id: i64,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<form_definition::Model, StoreError> {
        let latest = form_definition::Entity::find()
            .filter(form_definition::Column::Key.eq(key))
            .order_by_desc(form_definition::Column::Version)
            .one_row(txn)
            .await?
            .map(|d| d.version)
            .unwrap_or(0);
        Ok(form_definition::ActiveModel {
            deployment_id: Set(deployment_id),
            key: Set(key.to_string()),
            version: Set(latest + 1),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    }

    /// The newest version of a form deployed up to a deployment (any, when
    /// `up_to` is `None`).
    pub async fn form_newest(
        &self,
        key: &str,
        up_to: Option<i64>,
    ) -> Result<Option<FormRow>, StoreError> {
        newest(&self.db, key, up_to).await
    }

    /// [`Store::form_newest`] inside a deployment's transaction.
    pub async fn form_newest_in(
        txn: &Txn,
        key: &str,
        up_to: Option<i64>,
    ) -> Result<Option<FormRow>, StoreError> {
        newest(txn, key, up_to).await
    }

    /// One version of a form.
    pub async fn form_version(
        &self,
        key: &str,
        version: i32,
    ) -> Result<Option<FormRow>, StoreError> {
        version_of(&self.db, key, version).await
    }

    /// [`Store::form_version`] inside a deployment's transaction.
    pub async fn form_version_in(
        txn: &Txn,
        key: &str,
        version: i32,
    ) -> Result<Option<FormRow>, StoreError> {
        version_of(txn, key, version).await
    }

    /// The newest form deployed from a file of this name up to a deployment.
    pub async fn form_file(
        &self,
        name: &str,
        up_to: Option<i64>,
    ) -> Result<Option<FormRow>, StoreError> {
        by_file(&self.db, name, up_to).await
    }

    /// [`Store::form_file`] inside a deployment's transaction.
    pub async fn form_file_in(
        txn: &Txn,
        name: &str,
        up_to: Option<i64>,
    ) -> Result<Option<FormRow>, StoreError> {
        by_file(txn, name, up_to).await
    }

    /// Every form version: by key, newest first.
    pub async fn forms(&self) -> Result<Vec<form_definition::Model>, StoreError> {
        Ok(form_definition::Entity::find()
            .order_by_asc(form_definition::Column::Key)
            .order_by_desc(form_definition::Column::Version)
            .all(&self.db)
            .await?)
    }
}

async fn version_of(
    db: &impl ConnectionTrait,
    key: &str,
    version: i32,
) -> Result<Option<FormRow>, StoreError> {
    let row = form_definition::Entity::find()
        .filter(form_definition::Column::Key.eq(key))
        .filter(form_definition::Column::Version.eq(version))
        .one_row(db)
        .await?;
    with_source(db, row).await
}
