//! What an operator does to a running instance besides cancelling it:
//! suspending and resuming it, moving its tokens (instance modification) and
//! moving it to another version of its process (migration).
//!
//! Each is a command of the pure engine like any other: it returns events
//! (recorded in the history and replayable) and effects, and refuses with a
//! [`CommandError`] naming the element when it would leave the instance
//! broken. Modification follows Camunda 7's instructions (`cancel`,
//! `startBeforeActivity`, `startAfterActivity`): an element inside an
//! embedded subprocess starts in its one running instance, or in one the
//! modification creates when none runs (and so on outwards, as Camunda
//! instantiates missing parent scopes); never inside a multi-instance body
//! or an event subprocess that is not running, nor where the subprocess runs
//! several times; a subprocess whose last element is cancelled completes as
//! if its inside had ended.
//!
//! A migration keeps what waits, renames what the mapping renames, arms the
//! boundary events and event subprocesses the target version adds to what
//! runs, and withdraws the armed ones it no longer has.

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
            Instruction::StartBefore(_) => {
                startable(process, node).map_err(at)?;
                Step::Before(i, node)
            }
            Instruction::StartAfter(_) => {
                let n = &process.nodes[node];
                let [flow] = n.outgoing[..] else {
                    return Err(at(format!(
                        "\"{id}\" has {} outgoing sequence flows; start after an element with exactly one, or start before its target",
                        n.outgoing.len()
                    )));
                };
                startable(process, node).map_err(at)?;
                Step::After(i, flow, node)
            }
        };
        plan.push(step);
    }
    let starts = plan.iter().any(|s| !matches!(s, Step::Cancel(_)));
    run.emit(Event::InstanceModified {
        instructions: instructions.clone(),
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
            Step::Before(i, node) => {
                let scope = start_scope(run, node).map_err(|m| at_step(&instructions, i, m))?;
                run.activate(node, scope);
            }
            Step::After(i, flow, node) => {
                let scope = start_scope(run, node).map_err(|m| at_step(&instructions, i, m))?;
                run.take(flow, scope, false);
            }
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
    /// Instruction `.0` starts the node (its scope is found as it runs).
    Before(usize, NodeIdx),
    After(usize, crate::model::FlowIdx, NodeIdx),
}

fn at_step(instructions: &[Instruction], i: usize, m: String) -> CommandError {
    refuse(format!("instructions[{i}] ({}): {m}", instructions[i]))
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

/// Why an element can never be started by a modification (nothing when it can).
fn startable(process: &Process, node: NodeIdx) -> Result<(), String> {
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
    if let Some(scope) = n.scope
        && process.nodes[scope].loops()
    {
        let s = &process.nodes[scope];
        return Err(format!(
            "\"{}\" is inside the multi-instance \"{}\", whose instances it cannot tell apart; start \"{}\" itself",
            n.id, s.id, s.id
        ));
    }
    Ok(())
}

/// The scope instance an element starts in, or why it cannot start there.
/// An element inside an embedded subprocess starts in its one running
/// instance; when none runs, one is created (and so on outwards, as Camunda
/// instantiates the missing parent scopes): its input mappings and start
/// listeners run and its boundary events and event subprocesses are armed,
/// but its start event does not run.
fn start_scope(run: &mut Run<'_>, node: NodeIdx) -> Result<u64, String> {
    match run.process.nodes[node].scope {
        None => Ok(ROOT),
        Some(scope) => scope_instance(run, node, scope),
    }
}

/// The running instance of the scope `scope` (of `inner`), created when none runs.
fn scope_instance(run: &mut Run<'_>, inner: NodeIdx, scope: NodeIdx) -> Result<u64, String> {
    let process = run.process;
    let n = &process.nodes[inner];
    let s = &process.nodes[scope];
    if s.loops() {
        return Err(format!(
            "\"{}\" is inside the multi-instance \"{}\", whose instances it cannot tell apart; start \"{}\" itself",
            n.id, s.id, s.id
        ));
    }
    let running: Vec<u64> = run
        .state
        .elements
        .iter()
        .filter(|(_, e)| e.element == s.id && e.wait == Some(Wait::Children))
        .map(|(k, _)| *k)
        .collect();
    match running[..] {
        [key] => return Ok(key),
        [] => {}
        _ => {
            return Err(format!(
                "\"{}\" is inside the subprocess \"{}\", which is active {} times; it is not clear in which to start",
                n.id,
                s.id,
                running.len()
            ));
        }
    }
    if run.state.elements.values().any(|e| e.element == s.id) {
        return Err(format!(
            "\"{}\" is inside the subprocess \"{}\", which has not started yet (it waits to start or has an incident); start \"{}\" itself",
            n.id, s.id, s.id
        ));
    }
    match &s.kind {
        NodeKind::SubProcess(sp) if sp.ad_hoc.is_none() => {}
        NodeKind::EventSubProcess(_) => {
            return Err(format!(
                "\"{}\" is inside the event subprocess \"{}\", which is not running; only its event starts it",
                n.id, s.id
            ));
        }
        _ => {
            return Err(format!(
                "\"{}\" is inside the subprocess \"{}\", which is not active; start the subprocess instead",
                n.id, s.id
            ));
        }
    }
    let parent = match s.scope {
        None => ROOT,
        Some(p) => scope_instance(run, scope, p)?,
    };
    run.open_scope(scope, parent)
        .map_err(|m| format!("creating the subprocess \"{}\" for \"{}\": {m}", s.id, n.id))
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

    /// Whether an element of the target version is new in it: no element of
    /// the old version maps to it.
    fn is_new(&self, new: &str) -> bool {
        !self.from.nodes.iter().any(|n| self.target(&n.id) == new)
    }

    /// The armed waits of the instance (boundary events, and event
    /// subprocesses waiting for their trigger) whose element the target
    /// version no longer has: the migration withdraws them.
    fn withdrawn(&self, state: &InstanceState) -> Vec<u64> {
        state
            .elements
            .iter()
            .filter(|(_, e)| {
                let armable = e.attached_to.is_some()
                    || self
                        .from
                        .node(&e.element)
                        .is_some_and(|n| matches!(n.kind, NodeKind::EventSubProcess(_)));
                armable
                    && e.incident.is_none()
                    && matches!(
                        e.wait,
                        Some(
                            Wait::Job { .. }
                                | Wait::Message { .. }
                                | Wait::Signal { .. }
                                | Wait::Condition { .. }
                        )
                    )
                    && self.to.node(&self.target(&e.element)).is_none()
            })
            .map(|(k, _)| *k)
            .collect()
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
        let withdrawn = self.withdrawn(state);
        for (key, e) in &state.elements {
            if withdrawn.contains(key) {
                continue;
            }
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

/// Moves an instance to another version of its process (see [`migrate_in`]),
/// telling the engine nothing of the instance.
pub fn migrate(
    plan: &MigrationPlan<'_>,
    state: &InstanceState,
    now: Timestamp,
) -> Result<Transition, Vec<String>> {
    migrate_in(plan, &Context::default(), state, now)
}

/// Moves an instance to another version of its process: one event, and the
/// waits (inbox tasks, jobs, subscriptions) of renamed elements follow them.
/// What the target version adds to what runs is armed as if it had been
/// there from the start, with timers counted from now: the boundary events
/// of active activities and the event subprocesses of active scopes (the
/// process, a subprocess). Armed boundary events and event subprocesses the
/// target no longer has are withdrawn first (their timers and subscriptions
/// dropped). A user task whose element's name changed takes the new name.
/// Refused with every problem found when anything would not fit.
pub fn migrate_in(
    plan: &MigrationPlan<'_>,
    ctx: &Context,
    state: &InstanceState,
    now: Timestamp,
) -> Result<Transition, Vec<String>> {
    let mut problems = plan.problems();
    problems.extend(plan.instance_problems(state));
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut renamed = BTreeMap::new();
    let mut moved = Vec::new();
    let mut titles = Vec::new();
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
                moved.push((*key, new.clone()));
            }
        }
        // Only when the element's name changed: a name a task listener set
        // stays.
        if let (Some(Wait::UserTask { .. }), Some(was), Some(is)) =
            (&e.wait, plan.from.node(&e.element), plan.to.node(&new))
            && was.name != is.name
        {
            titles.push((*key, is.name.clone()));
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
    // The migration comes first in the history; then what it withdraws (as
    // the old version knows it: a withdrawn element keeps its id, since it
    // has no element to go to) and what it arms.
    let mut old = Run::new(plan.from, ctx, state, now);
    old.emit(Event::InstanceMigrated {
        process: plan.to.id.clone(),
        from_version: plan.from_version,
        to_version: plan.to_version,
        renamed,
    });
    for key in plan.withdrawn(state) {
        if old.state.elements.contains_key(&key) {
            old.terminate(key);
        }
    }
    let mut run = Run::new(plan.to, ctx, &old.state, now);
    run.events = std::mem::take(&mut old.events);
    run.effects = std::mem::take(&mut old.effects);
    for (key, element) in moved {
        run.effect(Effect::MoveWait { key, element });
    }
    for (key, name) in titles {
        run.effect(Effect::RenameUserTask { key, name });
    }
    arm_added(&mut run, plan);
    // An added condition that holds already fires now.
    run.drain();
    Ok(Transition {
        events: run.events,
        effects: run.effects,
        state: run.state,
    })
}

/// Arms what the target version adds to the scopes and activities that run:
/// its new event subprocesses (in the process and in every active subprocess
/// or running event subprocess, unless an interrupting one runs there) and
/// the new boundary events of active activities (not of an activity still
/// waiting to start or to leave asynchronously, which arms or disarms its
/// boundaries itself).
fn arm_added(run: &mut Run<'_>, plan: &MigrationPlan<'_>) {
    use super::behavior::{event_subprocess, multi_instance};
    let to = plan.to;
    let mut scopes: Vec<(u64, Option<NodeIdx>)> = vec![(ROOT, None)];
    let mut activities: Vec<(u64, NodeIdx)> = Vec::new();
    for (key, e) in &run.state.elements {
        let Some(n) = to.node_index(&e.element) else {
            continue;
        };
        let body = multi_instance::is_body(run, *key);
        match &to.nodes[n].kind {
            NodeKind::SubProcess(_) | NodeKind::EventSubProcess(_)
                if e.wait == Some(Wait::Children) && !body =>
            {
                scopes.push((*key, Some(n)));
            }
            _ => {}
        }
        let waits_async = matches!(
            &e.wait,
            Some(Wait::Job {
                job: super::state::JobKind::AsyncBefore | super::state::JobKind::AsyncAfter,
                ..
            })
        );
        if e.attached_to.is_none()
            && !waits_async
            && !multi_instance::is_inner(run, *key)
            && !event_subprocess::is_event_sub(run, *key)
        {
            activities.push((*key, n));
        }
    }
    for (scope, scope_node) in scopes {
        let interrupted = run.state.children_of(scope).any(|(_, c)| {
            c.wait == Some(Wait::Children)
                && matches!(to.node(&c.element).map(|n| &n.kind),
                    Some(NodeKind::EventSubProcess(es)) if es.interrupting)
        });
        if interrupted {
            continue;
        }
        let added: Vec<NodeIdx> = (0..to.nodes.len())
            .filter(|i| to.nodes[*i].scope == scope_node)
            .filter(|i| event_subprocess::is_armable(run, *i))
            .filter(|i| plan.is_new(&to.nodes[*i].id))
            .filter(|i| {
                !run.state
                    .children_of(scope)
                    .any(|(_, c)| c.element == to.nodes[*i].id)
            })
            .collect();
        for node in added {
            event_subprocess::arm_one(run, scope, node);
        }
    }
    for (activity, node) in activities {
        if !run.state.elements.contains_key(&activity) {
            continue;
        }
        for &b in &to.nodes[node].boundaries {
            let armed = run
                .state
                .attached_to(activity)
                .iter()
                .filter_map(|k| run.state.elements.get(k))
                .any(|x| x.element == to.nodes[b].id);
            if plan.is_new(&to.nodes[b].id) && !armed {
                run.arm_boundary(activity, b);
            }
        }
    }
}
