//! Delivering messages from outside: by name, narrowed by business key and by
//! correlation keys (instance variables that must have given values). Exactly
//! one waiting subscription must match, unless the sender asks for all.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Runtime, RuntimeError};
use crate::engine::Command;

/// Where a message went.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub instance_id: Uuid,
    pub element_id: String,
}

/// The most subscriptions one message can reach at once.
pub const MAX_DELIVERIES: u64 = 1000;

impl Runtime {
    /// Delivers a message. Nothing waiting is not found; several waiting is a
    /// conflict unless `all` is set.
    pub async fn deliver_message(
        &self,
        name: &str,
        business_key: Option<&str>,
        correlation: &[(String, String)],
        variables: Map<String, Value>,
        all: bool,
        user: Option<&str>,
    ) -> Result<Vec<Delivery>, RuntimeError> {
        let subs = self
            .store()
            .matching_subscriptions(name, business_key, correlation, MAX_DELIVERIES)
            .await?;
        if subs.is_empty() {
            return Err(RuntimeError::NotFound(format!(
                "a subscription to message \"{name}\""
            )));
        }
        if subs.len() > 1 && !all {
            return Err(RuntimeError::Conflict(format!(
                "{} instances wait for message \"{name}\"; narrow it down with a business key or correlation keys, or send \"all\": true",
                subs.len()
            )));
        }
        let mut out = Vec::new();
        for s in subs {
            let key = s.element_key as u64;
            let vars = variables.clone();
            match self
                .command(s.instance_id, user, None, |_, _| {
                    Ok(Command::CorrelateMessage {
                        key,
                        variables: vars.clone(),
                    })
                })
                .await
            {
                Ok(_) => out.push(Delivery {
                    instance_id: s.instance_id,
                    element_id: s.element_id,
                }),
                // Someone else delivered to it meanwhile; with several, go on.
                Err(RuntimeError::Conflict(m)) if all => {
                    tracing::debug!(reason = %m, "subscription gone")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
