//! User task.
//!
//! > "A User Task is a typical 'workflow' Task where a human performer performs
//! > the Task with the assistance of a software application." (BPMN 2.0, 10.3.3)
//!
//! Activation opens an inbox task: `camunda:assignee`, `candidateUsers` and
//! `candidateGroups` are evaluated (they may be expressions); a task that names
//! none of them becomes a candidate task for the group named like its lane.
//! Completion validates the submitted values against the task's form; a bad
//! value is refused with every field's error and changes nothing.

use serde_json::{Map, Value};

use super::super::CommandError;
use super::super::effect::{Effect, UserTaskSpec};
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::Wait;
use super::Outcome;
use jiff::Timestamp;

use super::super::bindings::task_id;
use crate::bindings::Bindings;
use crate::model::expr::{EvalError, Template};
use crate::model::{ListenerEvent, NodeIdx, NodeKind, form, time};

/// Camunda's default task priority.
pub const DEFAULT_PRIORITY: i64 = 50;

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let n = &run.process.nodes[node];
    let NodeKind::UserTask(u) = &n.kind else {
        return Ok(Outcome::Done);
    };
    let text = |b: &mut dyn Bindings,
                t: &Option<Template>,
                what: &str|
     -> Result<Option<String>, EvalError> {
        let Some(t) = t else { return Ok(None) };
        match t.eval(b).map_err(|e| EvalError(format!("{what}: {e}")))? {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_string())),
            other => Ok(Some(other.to_string())),
        }
    };
    let list = |b: &mut dyn Bindings,
                t: &Option<Template>,
                what: &str|
     -> Result<Vec<String>, EvalError> {
        let Some(t) = t else { return Ok(Vec::new()) };
        let items: Vec<String> = match t.eval(b).map_err(|e| EvalError(format!("{what}: {e}")))? {
            Value::Null => Vec::new(),
            Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
            Value::Array(a) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                })
                .collect(),
            other => vec![other.to_string()],
        };
        Ok(items.into_iter().filter(|s| !s.is_empty()).collect())
    };
    let (assignee, candidate_users, mut candidate_groups, due, follow_up, priority) = run
        .evaluate(key, |b| {
            Ok((
                text(b, &u.assignee, "assignee")?,
                list(b, &u.candidate_users, "candidateUsers")?,
                list(b, &u.candidate_groups, "candidateGroups")?,
                text(b, &u.due_date, "dueDate")?,
                text(b, &u.follow_up_date, "followUpDate")?,
                text(b, &u.priority, "priority")?,
            ))
        })
        .map_err(|e| e.0)?;
    if assignee.is_none()
        && candidate_users.is_empty()
        && candidate_groups.is_empty()
        && let Some(lane) = &n.lane
    {
        candidate_groups.push(lane.clone());
    }
    let due = match due {
        Some(s) => Some(time::due(&s, run.now).map_err(|e| format!("dueDate: {e}"))?),
        None => None,
    };
    let follow_up = match follow_up {
        Some(s) => Some(time::due(&s, run.now).map_err(|e| format!("followUpDate: {e}"))?),
        None => None,
    };
    let priority = match priority {
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| format!("priority: \"{s}\" is not a whole number"))?,
        None => DEFAULT_PRIORITY,
    };
    let mut spec = UserTaskSpec {
        key,
        element: n.id.clone(),
        name: n.name.clone(),
        documentation: n.documentation.clone(),
        assignee,
        candidate_users,
        candidate_groups,
        due,
        follow_up,
        priority,
    };
    // Task listeners run where the task is; a failing create listener leaves
    // no task behind (the incident's retry creates it). What they set on the
    // task (`task.setAssignee`) is what the task is created with.
    let task = task_object(run, &spec, ListenerEvent::Create);
    let changes = run.try_task_listeners(key, &n.listeners, ListenerEvent::Create, Some(task))?;
    for (property, value) in changes {
        set_on_spec(&mut spec, &property, value, run.now)
            .map_err(|e| format!("create listener: {e}"))?;
    }
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::UserTask {
            assignee: spec.assignee.clone(),
            priority: Some(spec.priority),
            due: spec.due,
        },
    });
    run.effect(Effect::CreateUserTask(spec));
    Ok(Outcome::Wait)
}

/// The `task` object of a task listener.
fn task_object(run: &Run<'_>, spec: &UserTaskSpec, event: ListenerEvent) -> Map<String, Value> {
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
    let time = |t: &Option<Timestamp>| t.map_or(Value::Null, |t| Value::String(t.to_string()));
    let mut task = Map::new();
    let id = run
        .ctx
        .instance_id
        .map(|i| Value::String(task_id(i, spec.key).to_string()));
    task.insert("id".into(), id.unwrap_or(Value::Null));
    task.insert("name".into(), text(&spec.name));
    task.insert("description".into(), text(&spec.documentation));
    task.insert("assignee".into(), text(&spec.assignee));
    task.insert("owner".into(), Value::Null);
    task.insert("priority".into(), Value::from(spec.priority));
    task.insert("dueDate".into(), time(&spec.due));
    task.insert("followUpDate".into(), time(&spec.follow_up));
    task.insert(
        "taskDefinitionKey".into(),
        Value::String(spec.element.clone()),
    );
    task.insert("eventName".into(), Value::String(event.name().into()));
    task.insert(
        "processInstanceId".into(),
        text(&run.ctx.instance_id.map(|i| i.to_string())),
    );
    task.insert("processDefinitionId".into(), text(&run.ctx.definition_id));
    task
}

/// The `task` object of a listener of a task that exists.
fn existing_task(run: &Run<'_>, key: u64, event: ListenerEvent) -> Option<Map<String, Value>> {
    let e = run.state.elements.get(&key)?;
    let Some(Wait::UserTask {
        assignee,
        priority,
        due,
    }) = &e.wait
    else {
        return None;
    };
    let node = run.process.node(&e.element)?;
    let spec = UserTaskSpec {
        key,
        element: node.id.clone(),
        name: node.name.clone(),
        documentation: node.documentation.clone(),
        assignee: assignee.clone(),
        candidate_users: Vec::new(),
        candidate_groups: Vec::new(),
        due: *due,
        follow_up: None,
        priority: priority.unwrap_or(DEFAULT_PRIORITY),
    };
    Some(task_object(run, &spec, event))
}

/// A create listener's `task.setX(value)`.
fn set_on_spec(
    spec: &mut UserTaskSpec,
    property: &str,
    value: Value,
    now: Timestamp,
) -> Result<(), String> {
    let text = |v: Value| match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    };
    match property {
        "assignee" => spec.assignee = text(value),
        "name" => spec.name = text(value),
        "description" => spec.documentation = text(value),
        "priority" => {
            spec.priority = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("task priority {value} is not a whole number"))?
        }
        "dueDate" | "followUpDate" => {
            let at = match text(value) {
                Some(s) => Some(time::due(&s, now).map_err(|e| format!("{property}: {e}"))?),
                None => None,
            };
            if property == "dueDate" {
                spec.due = at;
            } else {
                spec.follow_up = at;
            }
        }
        other => return Err(format!("the task's {other} cannot be set")),
    }
    Ok(())
}

/// Listeners of a task that exists: `task.setAssignee` hands it over (without
/// running the assignment listeners again); other task properties can only be
/// set when the task is created.
fn task_listeners(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    event: ListenerEvent,
    task: Option<Map<String, Value>>,
) -> Result<(), String> {
    let listeners = &run.process.nodes[node].listeners;
    if !listeners.iter().any(|l| l.event == event) {
        return Ok(());
    }
    let changes = run.try_task_listeners(key, listeners, event, task)?;
    for (property, value) in changes {
        if property != "assignee" {
            return Err(format!(
                "{} listener: the task's {property} can only be set by a create listener",
                event.name()
            ));
        }
        let assignee = match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_string()),
            other => Some(other.to_string()),
        };
        run.emit(Event::TaskAssigned {
            key,
            assignee: assignee.clone(),
        });
        run.effect(Effect::AssignUserTask { key, assignee });
    }
    Ok(())
}

/// A person completes the task with these values.
pub(crate) fn on_complete(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    input: &Map<String, Value>,
) -> Result<(), CommandError> {
    let fields = match &run.process.nodes[node].kind {
        NodeKind::UserTask(u) => u.form.as_slice(),
        _ => &[],
    };
    let values = form::validate(fields, input).map_err(CommandError::InvalidVariables)?;
    let task = existing_task(run, key, ListenerEvent::Complete);
    run.emit(Event::TaskCompleted { key });
    run.effect(Effect::CloseUserTask {
        key,
        completed: true,
    });
    run.set_variables(key, values);
    // A failing complete listener refuses the completion (as a failure
    // inside Camunda's transaction would): nothing changes.
    task_listeners(run, key, node, ListenerEvent::Complete, task)
        .map_err(CommandError::Listener)?;
    run.complete(key);
    Ok(())
}

/// Claims, hands over or releases the task. A claim (`only_if_free`) fails when
/// someone else already holds the task; claiming one's own task again is a no-op.
pub(crate) fn assign(
    run: &mut Run<'_>,
    key: u64,
    current: Option<String>,
    assignee: Option<String>,
    only_if_free: bool,
) -> Result<(), CommandError> {
    if current == assignee {
        return Ok(());
    }
    if only_if_free && let Some(holder) = current {
        return Err(CommandError::AlreadyClaimed(holder));
    }
    run.emit(Event::TaskAssigned {
        key,
        assignee: assignee.clone(),
    });
    run.effect(Effect::AssignUserTask { key, assignee });
    if let Some(node) = run.node_of(key) {
        let task = existing_task(run, key, ListenerEvent::Assignment);
        task_listeners(run, key, node, ListenerEvent::Assignment, task)
            .map_err(CommandError::Listener)?;
    }
    Ok(())
}

/// The task is withdrawn: its delete listeners run (a failure cannot stop a
/// cancellation, so it is ignored), then it leaves the inbox.
pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    if let Some(node) = run.node_of(key) {
        let task = existing_task(run, key, ListenerEvent::Delete);
        let _ = task_listeners(run, key, node, ListenerEvent::Delete, task);
    }
    run.close_wait(key);
}
