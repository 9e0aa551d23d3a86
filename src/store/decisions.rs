//! Deployed decisions (DMN): versions by decision id, and the source of the
//! `.dmn` file each version came from.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::OneRow;
use super::entity::{decision_definition, deployment};
use super::{Store, StoreError, Txn};

impl Store {
    /// The newest version of a decision and its deployment's checksum, read
    /// inside a deployment's transaction.
    pub async fn latest_decision_in(
        txn: &Txn,
        key: &str,
    ) -> Result<Option<(decision_definition::Model, String)>, StoreError> {
        let Some(def) = decision_definition::Entity::find()
            .filter(decision_definition::Column::Key.eq(key))
            .order_by_desc(decision_definition::Column::Version)
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

    /// Inserts the next version of a decision.
    pub async fn insert_decision(
        txn: &Txn,
        deployment_id: i64,
        key: &str,
        name: Option<&str>,
        version_tag: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<decision_definition::Model, StoreError> {
        let latest = decision_definition::Entity::find()
            .filter(decision_definition::Column::Key.eq(key))
            .order_by_desc(decision_definition::Column::Version)
            .one_row(txn)
            .await?
            .map(|d| d.version)
            .unwrap_or(0);
        Ok(decision_definition::ActiveModel {
            deployment_id: Set(deployment_id),
            key: Set(key.to_string()),
            version: Set(latest + 1),
            name: Set(name.map(str::to_string)),
            version_tag: Set(version_tag.map(str::to_string)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    }

    /// The versions of one decision, newest first.
    pub async fn decisions_of_key(
        &self,
        key: &str,
    ) -> Result<Vec<decision_definition::Model>, StoreError> {
        Ok(decision_definition::Entity::find()
            .filter(decision_definition::Column::Key.eq(key))
            .order_by_desc(decision_definition::Column::Version)
            .all(&self.db)
            .await?)
    }

    /// Every decision version: by key, newest first.
    pub async fn decisions(&self) -> Result<Vec<decision_definition::Model>, StoreError> {
        Ok(decision_definition::Entity::find()
            .order_by_asc(decision_definition::Column::Key)
            .order_by_desc(decision_definition::Column::Version)
            .all(&self.db)
            .await?)
    }

    /// A decision version and the source of its deployment.
    pub async fn decision_with_source(
        &self,
        id: i64,
    ) -> Result<Option<(decision_definition::Model, deployment::Model)>, StoreError> {
        let Some(def) = decision_definition::Entity::find_by_id(id)
            .one_row(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let dep = deployment::Entity::find_by_id(def.deployment_id)
            .one_row(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("decision {id} has no deployment")))?;
        Ok(Some((def, dep)))
    }
}
