//! What expressions and scripts see of the instance they run in: its
//! variables and Camunda's context objects (`execution`, `task`, `now()`),
//! and the changes they ask for (`execution.setVariable`, `task.setAssignee`),
//! which the engine applies. The EL evaluator and the script engines speak to
//! the engine only through this trait, so they stay pure: the time is the
//! command's, handed in like everything else.

use serde_json::{Map, Value};

/// The instance an expression or script runs in.
pub trait Bindings {
    /// A variable visible where it runs (the innermost scope that has it).
    fn variable(&self, name: &str) -> Option<Value>;

    /// Every visible variable, innermost scope winning
    /// (`execution.getVariables()`).
    fn variables(&self) -> Map<String, Value>;

    /// A variable of the current scope only (`execution.getVariableLocal`).
    fn variable_local(&self, name: &str) -> Option<Value> {
        self.variable(name)
    }

    /// `execution.setVariable` (`local`: `setVariableLocal`). Refusing is
    /// allowed (conditions may not change the instance); the message says why.
    fn set_variable(&mut self, name: &str, value: Value, local: bool) -> Result<(), String>;

    /// A property of `execution` — `processInstanceId`, `processBusinessKey`,
    /// `currentActivityId`, `activityId`, `activityName`, `eventName`,
    /// `processDefinitionId` — or `None` when it has no such property here.
    fn execution(&self, property: &str) -> Option<Value>;

    /// Whether a `task` object exists here (in task listeners).
    fn has_task(&self) -> bool {
        false
    }

    /// A property of `task` — `id`, `name`, `assignee`, `priority`,
    /// `dueDate`, `followUpDate`, `description`, `taskDefinitionKey`,
    /// `eventName` — or `None`.
    fn task(&self, _property: &str) -> Option<Value> {
        None
    }

    /// `task.setAssignee(...)`, `task.setPriority(...)`, ...: sets a property
    /// of the task (`assignee`, `priority`, `dueDate`, `name`, ...).
    fn set_task(&mut self, property: &str, _value: Value) -> Result<(), String> {
        Err(format!("there is no task here to set {property} on"))
    }

    /// The time the command runs at (`now()`), as the engine was given it.
    fn now(&self) -> jiff::Timestamp;
}

/// Plain variables with no context objects: for evaluating outside an
/// instance (decisions, tests, `bpmn check`). `setVariable` writes into it.
#[derive(Debug, Clone, Default)]
pub struct PlainBindings {
    pub variables: Map<String, Value>,
    pub now: Option<jiff::Timestamp>,
}

impl Bindings for PlainBindings {
    fn variable(&self, name: &str) -> Option<Value> {
        self.variables.get(name).cloned()
    }

    fn variables(&self) -> Map<String, Value> {
        self.variables.clone()
    }

    fn set_variable(&mut self, name: &str, value: Value, _local: bool) -> Result<(), String> {
        self.variables.insert(name.to_string(), value);
        Ok(())
    }

    fn execution(&self, _property: &str) -> Option<Value> {
        None
    }

    fn now(&self) -> jiff::Timestamp {
        self.now.unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// Variables in `top` hide those of the same name in `base` (a connector's
/// reply over the task's variables, a called instance's over the caller's);
/// everything else — context objects, changes — is `base`'s.
pub struct Overlay<'a> {
    pub top: &'a Map<String, Value>,
    pub base: &'a mut dyn Bindings,
}

impl Bindings for Overlay<'_> {
    fn variable(&self, name: &str) -> Option<Value> {
        self.top
            .get(name)
            .cloned()
            .or_else(|| self.base.variable(name))
    }

    fn variables(&self) -> Map<String, Value> {
        let mut all = self.base.variables();
        for (k, v) in self.top {
            all.insert(k.clone(), v.clone());
        }
        all
    }

    fn variable_local(&self, name: &str) -> Option<Value> {
        self.top
            .get(name)
            .cloned()
            .or_else(|| self.base.variable_local(name))
    }

    fn set_variable(&mut self, name: &str, value: Value, local: bool) -> Result<(), String> {
        self.base.set_variable(name, value, local)
    }

    fn execution(&self, property: &str) -> Option<Value> {
        self.base.execution(property)
    }

    fn has_task(&self) -> bool {
        self.base.has_task()
    }

    fn task(&self, property: &str) -> Option<Value> {
        self.base.task(property)
    }

    fn set_task(&mut self, property: &str, value: Value) -> Result<(), String> {
        self.base.set_task(property, value)
    }

    fn now(&self) -> jiff::Timestamp {
        self.base.now()
    }
}
