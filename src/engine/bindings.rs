//! What an expression or script running in an element instance sees of its
//! instance — the variables visible there, Camunda's `execution` (and `task`
//! in task listeners) — and the changes it asks for, which the run applies
//! when the evaluation succeeds (none when it fails).

use jiff::Timestamp;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::state::{InstanceState, ROOT};
use crate::bindings::Bindings;
use crate::model::Process;

/// What the engine knows of the instance beyond its state: given by the
/// runtime with each command, read by `execution.processInstanceId` and
/// its kin.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub instance_id: Option<Uuid>,
    pub business_key: Option<String>,
    /// `KEY:VERSION:ID`, as Camunda spells a process definition's id.
    pub definition_id: Option<String>,
    /// Who sent the command (`authenticatedUserId`); none for the engine's
    /// own work.
    pub user: Option<String>,
}

/// The id of the user task of element instance `key` in `instance`: known
/// before the task is stored, so its create listeners can read `task.id`,
/// and the same whenever the task is created again (a retried listener).
pub fn task_id(instance: Uuid, key: u64) -> Uuid {
    let mut h = Sha256::new();
    h.update(instance.as_bytes());
    h.update(key.to_be_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The variable and task changes an evaluation asked for.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// `execution.setVariable`: set where the variable lives, else on the instance.
    pub global: Map<String, Value>,
    /// `execution.setVariableLocal`: set on the element instance itself.
    pub local: Map<String, Value>,
    /// `task.setAssignee(...)` and the other task setters, in order.
    pub task: Vec<(String, Value)>,
}

/// The bindings of one element instance (or of the instance itself, at
/// [`ROOT`]).
pub(crate) struct ElementBindings<'r> {
    pub state: &'r InstanceState,
    pub process: &'r Process,
    pub ctx: &'r Context,
    pub now: Timestamp,
    pub key: u64,
    /// The listener event it runs for (`execution.eventName`).
    pub event: Option<&'static str>,
    /// The task's properties, in task listeners.
    pub task: Option<Map<String, Value>>,
    pub changes: Changes,
}

impl ElementBindings<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        for scope in self.state.scope_chain(self.key) {
            if let Some(v) = self.state.variables.get(&scope).and_then(|m| m.get(name)) {
                return Some(v.clone());
            }
        }
        None
    }

    fn element(&self) -> Option<&crate::model::Node> {
        if self.key == ROOT {
            return None;
        }
        let e = self.state.elements.get(&self.key)?;
        self.process.node(&e.element)
    }
}

impl Bindings for ElementBindings<'_> {
    fn variable(&self, name: &str) -> Option<Value> {
        self.changes
            .local
            .get(name)
            .or_else(|| self.changes.global.get(name))
            .cloned()
            .or_else(|| self.lookup(name))
    }

    fn variables(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for scope in self.state.scope_chain(self.key).iter().rev() {
            if let Some(vars) = self.state.variables.get(scope) {
                for (k, v) in vars {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in self.changes.global.iter().chain(&self.changes.local) {
            out.insert(k.clone(), v.clone());
        }
        out
    }

    fn variable_local(&self, name: &str) -> Option<Value> {
        self.changes.local.get(name).cloned().or_else(|| {
            self.state
                .variables
                .get(&self.key)
                .and_then(|m| m.get(name))
                .cloned()
        })
    }

    fn set_variable(&mut self, name: &str, value: Value, local: bool) -> Result<(), String> {
        if name.trim().is_empty() {
            return Err("a variable needs a name".into());
        }
        if local && self.key != ROOT {
            self.changes.local.insert(name.to_string(), value);
        } else {
            self.changes.local.remove(name);
            self.changes.global.insert(name.to_string(), value);
        }
        Ok(())
    }

    fn execution(&self, property: &str) -> Option<Value> {
        let text = |s: &Option<String>| Some(s.clone().map_or(Value::Null, Value::String));
        match property {
            "id" | "processInstanceId" => text(&self.ctx.instance_id.map(|i| i.to_string())),
            "businessKey" | "processBusinessKey" => text(&self.ctx.business_key),
            "processDefinitionId" => text(&self.ctx.definition_id),
            "authenticatedUserId" => text(&self.ctx.user),
            "activityId" | "currentActivityId" => Some(
                self.element()
                    .map_or(Value::Null, |n| Value::String(n.id.clone())),
            ),
            "activityName" | "currentActivityName" => Some(
                self.element()
                    .and_then(|n| n.name.clone())
                    .map_or(Value::Null, Value::String),
            ),
            "eventName" => Some(self.event.map_or(Value::Null, |e| Value::String(e.into()))),
            "processDefinitionKey" => Some(Value::String(self.process.id.clone())),
            "tenantId" => Some(Value::Null),
            _ => None,
        }
    }

    fn has_task(&self) -> bool {
        self.task.is_some()
    }

    fn task(&self, property: &str) -> Option<Value> {
        let task = self.task.as_ref()?;
        // A change made earlier in the same evaluation is what it reads back.
        if let Some((_, v)) = self.changes.task.iter().rev().find(|(p, _)| p == property) {
            return Some(v.clone());
        }
        task.get(property).cloned()
    }

    fn set_task(&mut self, property: &str, value: Value) -> Result<(), String> {
        let Some(task) = &self.task else {
            return Err(format!("there is no task here to set {property} on"));
        };
        if !task.contains_key(property) {
            return Err(format!("a task has no property \"{property}\" to set"));
        }
        self.changes.task.push((property.to_string(), value));
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.now
    }
}
