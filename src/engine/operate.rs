//! What an operator does to a running instance besides cancelling it:
//! suspending and resuming it, moving its tokens (instance modification) and
//! moving it to another version of its process (migration).
//!
//! Each is a command of the pure engine like any other: it returns events
//! (recorded in the history and replayable) and effects, and refuses with a
//! [`CommandError`] naming the element when it would leave the instance
//! broken. Modification follows Camunda 7's instructions (`cancel`,
//! `startBeforeActivity`, `startAfterActivity`), with these limits: an
//! element inside a subprocess starts only in an instance of that subprocess
//! that is active already (exactly one), never inside a multi-instance body;
//! a subprocess whose last element is cancelled completes as if its inside
//! had ended.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::effect::Effect;
use super::event::Event;
use super::run::Run;
use super::state::{InstanceState, ROOT, Status, Wait};
use super::{CommandError, Context, Transition};
use crate::model::{Catch, NodeIdx, NodeKind, Process};

/// One step of an instance modification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Instruction {
    /// Cancel every active instance of the element (and what runs inside it).
    Cancel(String),
    /// Start the element as if a token had just arrived at it.
    StartBefore(String),
    /// Start at the element's (only) outgoing sequence flow, as if it had
    /// just completed.
    StartAfter(String),
}

impl Instruction {
    /// The element it names.
    pub fn element(&self) -> &str {
        match self {
            Instruction::Cancel(e) | Instruction::StartBefore(e) | Instruction::StartAfter(e) => e,
        }
    }
}

impl std::fmt::Display for Instruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Instruction::Cancel(e) => write!(f, "cancel \"{e}\""),
            Instruction::StartBefore(e) => write!(f, "start before \"{e}\""),
            Instruction::StartAfter(e) => write!(f, "start after \"{e}\""),
        }
    }
}

fn refuse(message: String) -> CommandError {
    CommandError::Refused(message)
}

/// Suspends the instance (the engine refuses the command when it is
/// suspended already, as any other but resume).
pub(crate) fn suspend(run: &mut Run<'_>, reason: Option<String>) -> Result<(), CommandError> {
    run.emit(Event::InstanceSuspended { reason });
    Ok(())
}

/// Resumes the instance.
pub(crate) fn resume(run: &mut Run<'_>, reason: Option<String>) -> Result<(), CommandError> {
    if !run.state.suspended {
        return Err(refuse("the instance is not suspended".into()));
    }
    run.emit(Event::InstanceResumed { reason });
    Ok(())
}

/// Applies a modification: its event, the variables, then each instruction
/// in order; the caller runs the instance to its next waits.
pub(crate) fn modify(
    run: &mut Run<'_>,
    instructions: Vec<Instruction>,
    variables: Map<String, Value>,
    reason: Option<String>,
) -> Result<(), CommandError> {
    if instructions.is_empty() {
        return Err(refuse("instructions: give at least one".into()));
    }
    let process = run.process;
    // Everything is checked against the instance as it is before anything moves.
    let mut plan = Vec::new();
    for (i, ins) in instructions.iter().enumerate() {
        let id = ins.element();
        let at = |m: String| refuse(format!("instructions[{i}] ({ins}): {m}"));
        let Some(node) = process.node_index(id) else {
            return Err(at(format!(
                "the process \"{}\" has no element \"{id}\"",
                process.id
            )));
        };
        let step = match ins {
            Instruction::Cancel(_) => {
                let keys = outermost_instances(&run.state, id);
                if keys.is_empty() {
                    return Err(at(format!(
                        "nothing to cancel: \"{id}\" is not active in this instance"
                    )));
                }
                Step::Cancel(keys)
            }
            Instruction::StartBefore(_) => Step::Before(node, start_scope(run, node).map_err(at)?),
            Instruction::StartAfter(_) => {
                let n = &process.nodes[node];
                let [flow] = n.outgoing[..] else {
                    return Err(at(format!(
                        "\"{id}\" has {} outgoing sequence flows; start after an element with exactly one, or start before its target",
                        n.outgoing.len()
                    )));
                };
                Step::After(flow, start_scope(run, node).map_err(at)?)
            }
        };
        plan.push(step);
    }
    let starts = plan.iter().any(|s| !matches!(s, Step::Cancel(_)));
    run.emit(Event::InstanceModified {
        instructions,
        reason,
    });
    if !variables.is_empty() {
        run.emit(Event::VariablesSet {
            scope: ROOT,
            values: variables,
        });
    }
    for step in plan {
        match step {
            Step::Cancel(keys) => {
                for k in keys {
                    // Gone already when an earlier instruction cancelled its scope.
                    if run.state.elements.contains_key(&k) {
                        run.terminate(k);
                    }
                }
            }
            Step::Before(node, scope) => run.activate(node, scope),
            Step::After(flow, scope) => run.take(flow, scope, false),
        }
    }
    run.drain();
    if !starts && run.state.status != Status::Active {
        return Err(refuse(
            "this leaves nothing active, so the instance would end; cancel the instance instead, or start an element"
                .into(),
        ));
    }
    Ok(())
}

enum Step {
    Cancel(Vec<u64>),
    Before(NodeIdx, u64),
    After(crate::model::FlowIdx, u64),
}

/// The live instances of `element` that are not inside another of its
/// instances (a multi-instance body, not its inner instances).
fn outermost_instances(state: &InstanceState, element: &str) -> Vec<u64> {
    state
        .elements
        .iter()
        .filter(|(_, e)| e.element == element)
        .filter(|(_, e)| {
            state
                .elements
                .get(&e.scope)
                .is_none_or(|s| s.element != element)
        })
        .map(|(k, _)| *k)
        .collect()
}

/// The scope instance an element would start in, or why it cannot start.
fn start_scope(run: &Run<'_>, node: NodeIdx) -> Result<u64, String> {
    let process = run.process;
    let n = &process.nodes[node];
    match &n.kind {
        NodeKind::BoundaryEvent(_) => {
            return Err(format!(
                "\"{}\" is a boundary event, which only its activity arms; start the activity",
                n.id
            ));
        }
        NodeKind::EventSubProcess(_) => {
            return Err(format!(
                "\"{}\" is an event subprocess, which only its event starts",
                n.id
            ));
        }
        _ => {}
    }
    if n.for_compensation {
        return Err(format!(
            "\"{}\" is a compensation handler, which only compensation starts",
            n.id
        ));
    }
    let Some(scope) = n.scope else {
        return Ok(ROOT);
    };
    let s = &process.nodes[scope];
    if s.loops() {
        return Err(format!(
            "\"{}\" is inside the multi-instance \"{}\", whose instances it cannot tell apart; start \"{}\" itself",
            n.id, s.id, s.id
        ));
    }
    let live: Vec<u64> = run
        .state
        .elements
        .iter()
        .filter(|(_, e)| e.element == s.id)
        .map(|(k, _)| *k)
        .collect();
    match live[..] {
        [key] => Ok(key),
        [] => Err(format!(
            "\"{}\" is inside the subprocess \"{}\", which is not active; start the subprocess instead",
            n.id, s.id
        )),
        _ => Err(format!(
            "\"{}\" is inside the subprocess \"{}\", which is active {} times; it is not clear in which to start",
            n.id,
            s.id,
            live.len()
        )),
    }
}

/// A migration to another version of the process: the versions and which
/// element of the old one becomes which of the new (same ids map by default).
#[derive(Debug, Clone, Copy)]
pub struct MigrationPlan<'a> {
    pub from: &'a Process,
    pub to: &'a Process,
    pub from_version: i32,
    pub to_version: i32,
    pub mapping: &'a BTreeMap<String, String>,
}

impl MigrationPlan<'_> {
    fn target(&self, old: &str) -> String {
        self.mapping
            .get(old)
            .cloned()
            .unwrap_or_else(|| old.to_string())
    }

    /// What is wrong with the plan itself, whatever the instance.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (old, new) in self.mapping {
            if self.from.node(old).is_none() {
                out.push(format!(
                    "mapping: version {} has no element \"{old}\"",
                    self.from_version
                ));
            }
            if self.to.node(new).is_none() {
                out.push(format!(
                    "mapping: version {} has no element \"{new}\" (for \"{old}\")",
                    self.to_version
                ));
            }
        }
        out
    }

    /// Why this instance cannot move (nothing when it can).
    pub fn instance_problems(&self, state: &InstanceState) -> Vec<String> {
        let mut out = Vec::new();
        if state.status != Status::Active {
            out.push(format!(
                "the instance is {}; only running instances move",
                state.status.as_str()
            ));
            return out;
        }
        let v = self.to_version;
        for (key, e) in &state.elements {
            let Some(old) = self.from.node(&e.element) else {
                out.push(format!(
                    "active element \"{}\" is not in version {}",
                    e.element, self.from_version
                ));
                continue;
            };
            let new_id = self.target(&e.element);
            let Some(ni) = self.to.node_index(&new_id) else {
                out.push(format!(
                    "active element \"{}\" ({}) has no element \"{new_id}\" in version {v} to go to; map it",
                    e.element,
                    old.display_name()
                ));
                continue;
            };
            let new = &self.to.nodes[ni];
            if old.kind_name() != new.kind_name() || old.loops() != new.loops() {
                let kind = |n: &crate::model::Node| {
                    let loops = if n.loops() { ", looping" } else { "" };
                    format!("{}{loops}", words(&n.kind_name()))
                };
                out.push(format!(
                    "active element \"{}\" ({}) cannot become \"{new_id}\" ({}) in version {v}: not the same kind",
                    e.element,
                    kind(old),
                    kind(new),
                ));
                continue;
            }
            let inner = state
                .elements
                .get(&e.scope)
                .is_some_and(|s| s.element == e.element);
            let want_scope = if e.scope == ROOT || inner {
                None
            } else {
                state
                    .elements
                    .get(&e.scope)
                    .map(|s| self.target(&s.element))
            };
            let want_scope = if inner {
                Some(new_id.clone())
            } else {
                want_scope
            };
            let has_scope = new.scope.map(|s| self.to.nodes[s].id.clone());
            let has_scope = if inner {
                Some(new_id.clone())
            } else {
                has_scope
            };
            if want_scope != has_scope {
                out.push(format!(
                    "active element \"{}\" would move from {} to {} in version {v}",
                    e.element,
                    scope_text(want_scope.as_deref()),
                    scope_text(has_scope.as_deref()),
                ));
            }
            if let Some(activity) = e.attached_to.and_then(|a| state.elements.get(&a)) {
                let host = self.target(&activity.element);
                let attached = match &new.kind {
                    NodeKind::BoundaryEvent(b) => self.to.nodes[b.attached_to].id == host,
                    _ => false,
                };
                if !attached {
                    out.push(format!(
                        "boundary event \"{}\" would not be attached to \"{host}\" in version {v}",
                        e.element
                    ));
                }
            }
            if let (Some(Wait::Message { name } | Wait::Signal { name }), Some(target)) =
                (&e.wait, message_of(new))
                && !target.contains("${")
                && target != name
            {
                out.push(format!(
                    "\"{}\" waits for \"{name}\", but \"{new_id}\" in version {v} waits for \"{target}\"",
                    e.element
                ));
            }
            // Boundary events the target adds would never be armed.
            if !inner && e.attached_to.is_none() {
                for &b in &new.boundaries {
                    let bn = &self.to.nodes[b];
                    let armed = matches!(&bn.kind, NodeKind::BoundaryEvent(be) if matches!(
                        be.trigger,
                        Catch::Timer(_) | Catch::Message { .. } | Catch::Signal { .. } | Catch::Conditional { .. }
                    ));
                    let has = state
                        .attached_to(*key)
                        .iter()
                        .filter_map(|k| state.elements.get(k))
                        .any(|x| self.target(&x.element) == bn.id);
                    if armed && !has {
                        out.push(format!(
                            "version {v} adds the boundary event \"{}\" to \"{new_id}\", which the waiting instance would not have armed",
                            bn.id
                        ));
                    }
                }
            }
        }
        for j in &state.joins {
            let new_id = self.target(&j.gateway);
            let Some(g) = self.to.node(&new_id) else {
                out.push(format!(
                    "tokens wait at the join \"{}\", which has no \"{new_id}\" in version {v}",
                    j.gateway
                ));
                continue;
            };
            for flow in j.flows.keys() {
                if !g.incoming.iter().any(|f| self.to.flows[*f].id == *flow) {
                    out.push(format!(
                        "a token waits at the join \"{}\" on the flow \"{flow}\", which does not lead into \"{new_id}\" in version {v}",
                        j.gateway
                    ));
                }
            }
        }
        out
    }
}

/// `UserTask` as `user task`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn scope_text(scope: Option<&str>) -> String {
    match scope {
        None => "the process".into(),
        Some(s) => format!("\"{s}\""),
    }
}

/// The message or signal name a catching node waits for, as written.
fn message_of(n: &crate::model::Node) -> Option<&str> {
    let catch = match &n.kind {
        NodeKind::IntermediateCatch(c) | NodeKind::ReceiveTask(c) => c,
        NodeKind::BoundaryEvent(b) => &b.trigger,
        NodeKind::EventSubProcess(e) => &e.trigger,
        _ => return None,
    };
    match catch {
        Catch::Message { name } | Catch::Signal { name } => Some(name),
        _ => None,
    }
}

/// Moves an instance to another version of its process: one event, and the
/// waits (inbox tasks, jobs, subscriptions) of renamed elements follow them.
/// Refused with every problem found when anything would not fit.
pub fn migrate(
    plan: &MigrationPlan<'_>,
    state: &InstanceState,
    now: Timestamp,
) -> Result<Transition, Vec<String>> {
    let mut problems = plan.problems();
    problems.extend(plan.instance_problems(state));
    if !problems.is_empty() {
        return Err(problems);
    }
    let ctx = Context::default();
    let mut run = Run::new(plan.to, &ctx, state, now);
    let mut renamed = BTreeMap::new();
    let mut moved = Vec::new();
    for (key, e) in &state.elements {
        let new = plan.target(&e.element);
        if new != e.element {
            renamed.insert(e.element.clone(), new.clone());
            if matches!(
                e.wait,
                Some(
                    Wait::UserTask { .. }
                        | Wait::Job { .. }
                        | Wait::Message { .. }
                        | Wait::Signal { .. }
                )
            ) {
                moved.push((*key, new));
            }
        }
    }
    for name in state
        .joins
        .iter()
        .map(|j| &j.gateway)
        .chain(state.incidents.values().map(|i| &i.element))
        .chain(state.compensable.iter().map(|c| &c.element))
    {
        let new = plan.target(name);
        if new != *name {
            renamed.insert(name.clone(), new);
        }
    }
    run.emit(Event::InstanceMigrated {
        process: plan.to.id.clone(),
        from_version: plan.from_version,
        to_version: plan.to_version,
        renamed,
    });
    for (key, element) in moved {
        run.effect(Effect::MoveWait { key, element });
    }
    Ok(Transition {
        events: run.events,
        effects: run.effects,
        state: run.state,
    })
}
