//! The instance's own variables as rows, kept in step with its state, so that
//! instances can be searched by a variable. The state holds the values; a row
//! holds what the searches compare: the value as text and whether it is a
//! string. The search index holds only the first
//! [`VALUE_INDEX_CHARS`](crate::store::VALUE_INDEX_CHARS) characters of it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_variable")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Strings as they are; other values as JSON text (`2`, `true`).
    #[sea_orm(column_type = "Text")]
    pub value: String,
    /// Whether the value is a string (`value` is then the string itself).
    pub is_text: bool,
}

impl Model {
    /// The typed value.
    pub fn json(&self) -> serde_json::Value {
        stored_json(&self.value, self.is_text)
    }
}

/// A stored `(value, is_text)` as the JSON value it came from.
pub fn stored_json(value: &str, is_text: bool) -> serde_json::Value {
    if is_text {
        serde_json::Value::String(value.to_string())
    } else {
        serde_json::from_str(value).unwrap_or(serde_json::Value::Null)
    }
}

/// A JSON value as it is stored: `(value, is_text)`.
pub fn stored_text(value: &serde_json::Value) -> (String, bool) {
    match value {
        serde_json::Value::String(s) => (s.clone(), true),
        other => (other.to_string(), false),
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
