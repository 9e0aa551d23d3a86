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
use crate::model::expr::Template;
use crate::model::{ListenerEvent, NodeIdx, NodeKind, form, time};

/// Camunda's default task priority.
pub const DEFAULT_PRIORITY: i64 = 50;

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let n = &run.process.nodes[node];
    let NodeKind::UserTask(u) = &n.kind else {
        return Ok(Outcome::Done);
    };
    let vars = run.visible(key);
    let text = |t: &Option<Template>, what: &str| -> Result<Option<String>, String> {
        let Some(t) = t else { return Ok(None) };
        match t.eval(&vars).map_err(|e| format!("{what}: {e}"))? {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_string())),
            other => Ok(Some(other.to_string())),
        }
    };
    let list = |t: &Option<Template>, what: &str| -> Result<Vec<String>, String> {
        let Some(t) = t else { return Ok(Vec::new()) };
        let items: Vec<String> = match t.eval(&vars).map_err(|e| format!("{what}: {e}"))? {
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
    let assignee = text(&u.assignee, "assignee")?;
    let candidate_users = list(&u.candidate_users, "candidateUsers")?;
    let mut candidate_groups = list(&u.candidate_groups, "candidateGroups")?;
    if assignee.is_none()
        && candidate_users.is_empty()
        && candidate_groups.is_empty()
        && let Some(lane) = &n.lane
    {
        candidate_groups.push(lane.clone());
    }
    let due = match text(&u.due_date, "dueDate")? {
        Some(s) => Some(time::due(&s, run.now).map_err(|e| format!("dueDate: {e}"))?),
        None => None,
    };
    let follow_up = match text(&u.follow_up_date, "followUpDate")? {
        Some(s) => Some(time::due(&s, run.now).map_err(|e| format!("followUpDate: {e}"))?),
        None => None,
    };
    let priority = match text(&u.priority, "priority")? {
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| format!("priority: \"{s}\" is not a whole number"))?,
        None => DEFAULT_PRIORITY,
    };
    let spec = UserTaskSpec {
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
    // no task behind (the incident's retry creates it).
    run.try_listeners(key, &n.listeners, ListenerEvent::Create)?;
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::UserTask {
            assignee: spec.assignee.clone(),
        },
    });
    run.effect(Effect::CreateUserTask(spec));
    Ok(Outcome::Wait)
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
    run.emit(Event::TaskCompleted { key });
    run.effect(Effect::CloseUserTask {
        key,
        completed: true,
    });
    run.set_variables(key, values);
    // A failing complete listener refuses the completion (as a failure
    // inside Camunda's transaction would): nothing changes.
    let listeners = &run.process.nodes[node].listeners;
    run.try_listeners(key, listeners, ListenerEvent::Complete)
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
        let listeners = &run.process.nodes[node].listeners;
        run.try_listeners(key, listeners, ListenerEvent::Assignment)
            .map_err(CommandError::Listener)?;
    }
    Ok(())
}

/// The task is withdrawn: its delete listeners run (a failure cannot stop a
/// cancellation, so it is ignored), then it leaves the inbox.
pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    if let Some(node) = run.node_of(key) {
        let listeners = &run.process.nodes[node].listeners;
        let _ = run.try_listeners(key, listeners, ListenerEvent::Delete);
    }
    run.close_wait(key);
}
