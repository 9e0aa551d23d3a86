//! Running one command to the next wait state.
//!
//! A [`Run`] holds a working copy of the state. Behaviours read it and emit
//! events; each event is applied at once, so the next step sees its effect.
//! Work (activating an element, completing one) goes through a FIFO queue, which
//! keeps the order of events deterministic. When the queue is empty the run
//! checks what can only be decided then — an inclusive join that no token can
//! reach any more, a scope with nothing left in it — and stops when nothing moves.

use std::collections::{BTreeMap, HashSet, VecDeque};

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::behavior::{self, Outcome};
use super::bindings::{Changes, Context, ElementBindings};
use super::effect::{CallOutcome, Effect};
use super::event::Event;
use super::state::{InstanceState, JobKind, ROOT, Status, Step, Wait};
use crate::bindings::Bindings;
use crate::model::expr::EvalError;
use crate::model::{
    Catch, FlowIdx, Listener, ListenerAction, ListenerEvent, NodeIdx, NodeKind, Param, ParamValue,
    Process,
};

/// Most work items one command may process before the rest becomes incidents
/// (a loop of pass-through elements would otherwise never stop).
pub const STEP_LIMIT: usize = 10_000;

/// What a conditional wait belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ConditionKind {
    Catch,
    Boundary,
    EventSub,
}

#[derive(Debug, Clone, Copy)]
enum Work {
    Activate { node: NodeIdx, scope: u64 },
    Complete { key: u64 },
}

/// The working state of one command.
pub(crate) struct Run<'p> {
    pub process: &'p Process,
    /// What the runtime told of the instance (its id, business key, the user).
    pub ctx: &'p Context,
    pub state: InstanceState,
    pub events: Vec<Event>,
    pub effects: Vec<Effect>,
    pub now: Timestamp,
    queue: VecDeque<Work>,
    steps: usize,
    /// Complex gateway instances entered because their activation condition
    /// held in this command (their tokens are consumed already).
    pub complex_fired: HashSet<u64>,
    /// Why the command must be refused though nothing else went wrong: the
    /// process's own `end` listener failed as the instance was ending.
    pub failed: Option<String>,
}

impl<'p> Run<'p> {
    pub fn new(
        process: &'p Process,
        ctx: &'p Context,
        state: &InstanceState,
        now: Timestamp,
    ) -> Run<'p> {
        Run {
            process,
            ctx,
            state: state.clone(),
            events: Vec::new(),
            effects: Vec::new(),
            now,
            queue: VecDeque::new(),
            steps: 0,
            complex_fired: HashSet::new(),
            failed: None,
        }
    }

    /// Records an event and applies it to the working state.
    pub fn emit(&mut self, event: Event) {
        self.state.apply(&event);
        self.events.push(event);
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// The model node of a live element instance.
    pub fn node_of(&self, key: u64) -> Option<NodeIdx> {
        let e = self.state.elements.get(&key)?;
        self.process.node_index(&e.element)
    }

    /// The scope an element instance runs in.
    pub fn scope_of(&self, key: u64) -> u64 {
        self.state
            .elements
            .get(&key)
            .map(|e| e.scope)
            .unwrap_or(ROOT)
    }

    fn chain(&self, key: u64) -> Vec<u64> {
        self.state.scope_chain(key)
    }

    /// What expressions see at an element instance (or at [`ROOT`]): the
    /// variables visible there, `execution`.
    pub fn bindings(&self, key: u64) -> ElementBindings<'_> {
        ElementBindings {
            state: &self.state,
            process: self.process,
            ctx: self.ctx,
            now: self.now,
            key,
            event: None,
            task: None,
            changes: Changes::default(),
        }
    }

    /// Evaluates with the bindings of `key`; when it succeeds, the variables
    /// it set (`execution.setVariable`, a script's assignments) are set.
    pub fn evaluate<T>(
        &mut self,
        key: u64,
        f: impl FnOnce(&mut dyn Bindings) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        self.evaluate_in(key, None, None, f).map(|(v, _)| v)
    }

    /// Evaluates with the bindings of `key` where nothing may change (a
    /// timer, a collection): an expression that sets variables is refused.
    pub fn evaluate_pure<T>(
        &self,
        key: u64,
        f: impl FnOnce(&mut dyn Bindings) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        let mut b = self.bindings(key);
        let value = f(&mut b)?;
        let changed: Vec<&String> = b
            .changes
            .global
            .keys()
            .chain(b.changes.local.keys())
            .collect();
        if let Some(name) = changed.first() {
            return Err(EvalError(format!(
                "it sets the variable \"{name}\", which cannot be done here (set variables in a listener, a mapping or a script)"
            )));
        }
        Ok(value)
    }

    /// [`Run::evaluate`] for a listener of `event`, with the task's
    /// properties in task listeners; also returns the task changes asked for.
    pub fn evaluate_in<T>(
        &mut self,
        key: u64,
        event: Option<&'static str>,
        task: Option<Map<String, Value>>,
        f: impl FnOnce(&mut dyn Bindings) -> Result<T, EvalError>,
    ) -> Result<(T, Vec<(String, Value)>), EvalError> {
        let mut b = self.bindings(key);
        b.event = event;
        b.task = task;
        let result = f(&mut b);
        let changes = b.changes;
        let value = result?;
        self.set_variables(key, changes.global);
        if !changes.local.is_empty() && key != ROOT {
            self.emit(Event::VariablesSet {
                scope: key,
                values: changes.local,
            });
        }
        Ok((value, changes.task))
    }

    /// Sets variables as seen from `from`: each goes to the innermost scope that
    /// already has it, otherwise to the instance.
    pub fn set_variables(&mut self, from: u64, values: Map<String, Value>) {
        if values.is_empty() {
            return;
        }
        let chain = self.chain(from);
        let mut by_scope: BTreeMap<u64, Map<String, Value>> = BTreeMap::new();
        for (name, value) in values {
            let scope = chain
                .iter()
                .copied()
                .find(|s| {
                    self.state
                        .variables
                        .get(s)
                        .is_some_and(|v| v.contains_key(&name))
                })
                .unwrap_or(ROOT);
            by_scope.entry(scope).or_default().insert(name, value);
        }
        for (scope, values) in by_scope {
            self.emit(Event::VariablesSet { scope, values });
        }
    }

    /// Creates a live element instance of `node` in `scope` (attached to an
    /// activity instance, for a boundary event) and returns its key.
    pub fn enter(&mut self, node: NodeIdx, scope: u64, attached_to: Option<u64>) -> u64 {
        let key = self.state.next_key;
        self.emit(Event::ElementActivated {
            key,
            element: self.process.nodes[node].id.clone(),
            scope,
            attached_to,
        });
        key
    }

    /// Queues a node for activation in a scope.
    pub fn activate(&mut self, node: NodeIdx, scope: u64) {
        self.queue.push_back(Work::Activate { node, scope });
    }

    /// Queues an element instance for completion.
    pub fn complete(&mut self, key: u64) {
        self.queue.push_back(Work::Complete { key });
    }

    /// Raises an incident on an element instance; it stays where it is.
    pub fn incident(&mut self, key: u64, step: Step, message: String) {
        let element = self
            .state
            .elements
            .get(&key)
            .map(|e| e.element.clone())
            .unwrap_or_default();
        let incident = self.state.next_key;
        self.emit(Event::IncidentRaised {
            incident,
            key,
            element,
            message,
            step,
        });
    }

    /// Starts waiting for a job, and asks for the job.
    pub fn wait_for_job(&mut self, key: u64, job: JobKind, due: Option<Timestamp>, payload: Value) {
        let element = self
            .state
            .elements
            .get(&key)
            .map(|e| e.element.clone())
            .unwrap_or_default();
        self.emit(Event::WaitStarted {
            key,
            wait: Wait::Job {
                job: job.clone(),
                due,
            },
        });
        let retries = self
            .node_of(key)
            .and_then(|n| self.process.nodes[n].retry)
            .map(|r| r.retries);
        self.effect(Effect::CreateJob {
            key,
            element,
            kind: job,
            due,
            payload,
            retries,
        });
    }

    /// Like [`Run::wait_for_job`], for work that gives the same answer when
    /// tried again: a failure is an incident at once.
    pub fn wait_for_job_once(&mut self, key: u64, job: JobKind, payload: Value) {
        self.wait_for_job(key, job.clone(), None, payload);
        if let Some(Effect::CreateJob { retries, .. }) = self.effects.last_mut() {
            *retries = Some(1);
        }
    }

    /// Works until nothing can move.
    pub fn drain(&mut self) {
        loop {
            while let Some(work) = self.queue.pop_front() {
                if self.state.status != Status::Active {
                    self.queue.clear();
                    break;
                }
                self.steps += 1;
                if self.steps > STEP_LIMIT {
                    self.queue.push_front(work);
                    self.stop_runaway();
                    return;
                }
                match work {
                    Work::Activate { node, scope } => self.do_activate(node, scope),
                    Work::Complete { key } => self.do_complete(key),
                }
            }
            if self.state.status != Status::Active {
                return;
            }
            if self.fire_inclusive_joins()
                || behavior::complex_gateway::reset_idle(self)
                || self.check_conditions()
                || self.finish_scopes()
            {
                continue;
            }
            return;
        }
    }

    /// Turns every piece of queued work into an incident that a retry resumes.
    fn stop_runaway(&mut self) {
        let message = format!(
            "stopped after {STEP_LIMIT} steps in one command: a loop of elements that never wait?"
        );
        while let Some(work) = self.queue.pop_front() {
            match work {
                Work::Activate { node, scope } => {
                    if scope != ROOT && !self.state.elements.contains_key(&scope) {
                        continue;
                    }
                    let key = self.enter(node, scope, None);
                    self.incident(key, Step::Activate, message.clone());
                }
                Work::Complete { key } => {
                    if self.state.elements.contains_key(&key) {
                        self.incident(key, Step::Complete, message.clone());
                    }
                }
            }
        }
    }

    fn do_activate(&mut self, node: NodeIdx, scope: u64) {
        // The scope may have been terminated since the work was queued.
        if scope != ROOT && !self.state.elements.contains_key(&scope) {
            return;
        }
        let key = self.enter(node, scope, None);
        // A multi-instance body never waits: its instances do.
        if self.process.nodes[node].async_before && !behavior::multi_instance::is_body(self, key) {
            self.wait_for_job(key, JobKind::AsyncBefore, None, Value::Null);
        } else {
            self.start(key);
        }
    }

    /// Runs an element's input mappings and behaviour (after any async-before job).
    pub fn start(&mut self, key: u64) {
        let Some(node) = self.node_of(key) else {
            return;
        };
        if behavior::multi_instance::is_body(self, key) {
            self.arm_boundaries(key, node);
            if let Err(message) = behavior::multi_instance::start_body(self, key, node) {
                self.incident(key, Step::Activate, message);
            }
            return;
        }
        let process = self.process;
        let inputs = &process.nodes[node].io.inputs;
        if !inputs.is_empty() {
            // Inputs are evaluated in the enclosing scope and become locals of the element.
            match self.evaluate(key, |b| eval_params(inputs, b)) {
                Ok(values) => self.emit(Event::VariablesSet { scope: key, values }),
                Err(e) => {
                    self.incident(key, Step::Activate, format!("input mapping failed: {e}"));
                    return;
                }
            }
        }
        if !self.listen(key, node, ListenerEvent::Start, Step::Activate) {
            return;
        }
        self.arm_boundaries(key, node);
        match behavior::on_activate(self, key, node) {
            Ok(Outcome::Done) => self.complete(key),
            Ok(Outcome::Wait) => {}
            Err(message) => self.incident(key, Step::Activate, message),
        }
    }

    /// Creates a running instance of the embedded subprocess `node` in
    /// `parent` without starting anything inside it (an instance
    /// modification starts an element in it): its input mappings and start
    /// listeners run, its boundary events and event subprocesses are armed.
    pub fn open_scope(&mut self, node: NodeIdx, parent: u64) -> Result<u64, String> {
        let key = self.enter(node, parent, None);
        let process = self.process;
        let inputs = &process.nodes[node].io.inputs;
        if !inputs.is_empty() {
            let values = self
                .evaluate(key, |b| eval_params(inputs, b))
                .map_err(|e| format!("input mapping failed: {e}"))?;
            self.emit(Event::VariablesSet { scope: key, values });
        }
        self.try_listeners(key, &process.nodes[node].listeners, ListenerEvent::Start)?;
        self.arm_boundaries(key, node);
        self.emit(Event::WaitStarted {
            key,
            wait: Wait::Children,
        });
        behavior::event_subprocess::arm_all(self, key, Some(node));
        Ok(key)
    }

    /// Runs the listeners of `node` for `event` as seen from `key`: the
    /// variables their scripts change are set. A failing one raises an
    /// incident at `step` (and the rest do not run); returns whether all ran.
    pub fn listen(&mut self, key: u64, node: NodeIdx, event: ListenerEvent, step: Step) -> bool {
        if behavior::multi_instance::is_body(self, key) {
            // Listeners belong to the instances of a multi-instance activity.
            return true;
        }
        let listeners = &self.process.nodes[node].listeners;
        self.run_listeners(key, listeners, event, step)
    }

    fn run_listeners(
        &mut self,
        key: u64,
        listeners: &'p [Listener],
        event: ListenerEvent,
        step: Step,
    ) -> bool {
        match self.try_listeners(key, listeners, event) {
            Ok(()) => true,
            Err(message) => {
                self.incident(key, step, message);
                false
            }
        }
    }

    /// Runs listeners; the first failure is returned (and the rest do not run).
    pub fn try_listeners(
        &mut self,
        key: u64,
        listeners: &'p [Listener],
        event: ListenerEvent,
    ) -> Result<(), String> {
        self.try_task_listeners(key, listeners, event, None)
            .map(|_| ())
    }

    /// Runs listeners, with the task's properties in task listeners
    /// (`task.assignee`); returns the task changes they asked for
    /// (`task.setAssignee(...)`), in order.
    pub fn try_task_listeners(
        &mut self,
        key: u64,
        listeners: &'p [Listener],
        event: ListenerEvent,
        task: Option<Map<String, Value>>,
    ) -> Result<Vec<(String, Value)>, String> {
        let mut task_changes = Vec::new();
        for l in listeners.iter().filter(|l| l.event == event) {
            // Later listeners see what earlier ones set on the task.
            let mut seen = task.clone();
            if let Some(t) = &mut seen {
                for (k, v) in &task_changes {
                    t.insert(String::clone(k), Value::clone(v));
                }
            }
            let ((), changes) = self
                .evaluate_in(key, Some(event.name()), seen, |b| match &l.action {
                    ListenerAction::Expression(e) => e.eval(b).map(|_| ()),
                    ListenerAction::Script(s) => s.run(b).map(|_| ()),
                })
                .map_err(|e| format!("{} listener: {e}", event.name()))?;
            task_changes.extend(changes);
        }
        Ok(task_changes)
    }

    /// Activates the boundary events of an activity instance that is starting.
    fn arm_boundaries(&mut self, activity: u64, node: NodeIdx) {
        let boundaries = &self.process.nodes[node].boundaries;
        if boundaries.is_empty()
            || !self.state.attached_to(activity).is_empty()
            || behavior::multi_instance::is_inner(self, activity)
        {
            // None, armed already (a retried activity keeps its boundaries), or
            // an instance of a multi-instance activity (they are on its body).
            return;
        }
        let scope = self.scope_of(activity);
        for b in boundaries.clone() {
            if let NodeKind::BoundaryEvent(be) = &self.process.nodes[b].kind
                && matches!(
                    be.trigger,
                    Catch::Error(_)
                        | Catch::Escalation { .. }
                        | Catch::Compensation
                        | Catch::Cancel
                )
            {
                // Activated only when an error, escalation or cancellation is
                // thrown; compensation runs the activity's handler instead.
                continue;
            }
            let key = self.enter(b, scope, Some(activity));
            if let Err(message) = behavior::boundary_event::arm(self, key, b) {
                self.incident(key, Step::Activate, message);
            }
        }
    }

    /// Arms one boundary event of an activity instance that runs already (a
    /// migration to a version that adds it); errors, escalations,
    /// compensation and cancellation are never armed.
    pub fn arm_boundary(&mut self, activity: u64, boundary: NodeIdx) {
        let NodeKind::BoundaryEvent(be) = &self.process.nodes[boundary].kind else {
            return;
        };
        if !matches!(
            be.trigger,
            Catch::Timer(_)
                | Catch::Message { .. }
                | Catch::Signal { .. }
                | Catch::Conditional { .. }
        ) {
            return;
        }
        let scope = self.scope_of(activity);
        let key = self.enter(boundary, scope, Some(activity));
        if let Err(message) = behavior::boundary_event::arm(self, key, boundary) {
            self.incident(key, Step::Activate, message);
        }
    }

    /// Cancels the boundary events attached to an activity instance (but `except`).
    pub fn disarm_boundaries(&mut self, activity: u64, except: Option<u64>) {
        for b in self.state.attached_to(activity) {
            if Some(b) != except {
                self.terminate(b);
            }
        }
    }

    fn do_complete(&mut self, key: u64) {
        let Some(node) = self.node_of(key) else {
            return;
        };
        if behavior::multi_instance::is_body(self, key) {
            // Mappings and continuations belong to its instances.
            behavior::multi_instance::on_body_done(self, key, node);
            self.leave(key);
            return;
        }
        // A call activity's `camunda:out` first: its end listeners see the result.
        if let Err(message) = behavior::call_activity::map_outputs(self, key, node) {
            self.incident(key, Step::Complete, message);
            return;
        }
        if !self.listen(key, node, ListenerEvent::End, Step::Complete) {
            return;
        }
        let process = self.process;
        let outputs = &process.nodes[node].io.outputs;
        if !outputs.is_empty() {
            let values = match self.evaluate(key, |b| eval_params(outputs, b)) {
                Ok(v) => v,
                Err(e) => {
                    self.incident(key, Step::Complete, format!("output mapping failed: {e}"));
                    return;
                }
            };
            let scope = self.scope_of(key);
            self.set_variables(scope, values);
        }
        if self.process.nodes[node].async_after {
            self.wait_for_job(key, JobKind::AsyncAfter, None, Value::Null);
            return;
        }
        self.leave(key);
    }

    /// Chooses the outgoing flows, completes the element and takes them.
    pub fn leave(&mut self, key: u64) {
        let Some(node) = self.node_of(key) else {
            return;
        };
        if behavior::multi_instance::is_inner(self, key) {
            behavior::multi_instance::on_inner_done(self, key, node);
            return;
        }
        let flows = match behavior::outgoing(self, key, node) {
            Ok(f) => f,
            Err(message) => {
                self.incident(key, Step::Leave, message);
                return;
            }
        };
        for (flow, _) in &flows {
            let listeners = &self.process.flows[*flow].listeners;
            if !self.run_listeners(key, listeners, ListenerEvent::Take, Step::Leave) {
                return;
            }
        }
        let scope = self.scope_of(key);
        // Inside an ad-hoc subprocess: its completion condition, seen from
        // the activity that completes.
        let closes = match behavior::ad_hoc::condition_holds(self, key, node) {
            Ok(holds) => holds,
            Err(message) => {
                self.incident(key, Step::Leave, message);
                return;
            }
        };
        self.disarm_boundaries(key, None);
        self.record_compensable(key, node);
        let compensates = self.state.elements.get(&key).and_then(|e| e.compensates);
        self.emit(Event::ElementCompleted {
            key,
            element: self.process.nodes[node].id.clone(),
        });
        for (flow, default) in flows {
            self.take(flow, scope, default);
        }
        if closes {
            behavior::ad_hoc::close(self, scope);
        }
        if let Some(throw) = compensates {
            behavior::compensation::on_handler_done(self, throw);
        }
    }

    /// An activity instance completes: remember it when compensation may
    /// undo it — it has a handler, or (a subprocess or multi-instance body)
    /// something that completed inside it has.
    pub fn record_compensable(&mut self, key: u64, node: NodeIdx) {
        let n = &self.process.nodes[node];
        let body = behavior::multi_instance::is_body(self, key);
        let inside = self.state.compensable.iter().any(|c| c.scope == key);
        let own = n.compensation.is_some() && !body;
        let container = !own && inside && (body || matches!(n.kind, NodeKind::SubProcess(_)));
        if own || container {
            self.emit(Event::CompensationRecorded {
                key,
                element: n.id.clone(),
                scope: self.scope_of(key),
                container,
            });
        }
    }

    /// Takes an element's outgoing flows while it stays live (a non-interrupting
    /// boundary event that fires again later).
    pub fn fork(&mut self, key: u64) {
        let Some(node) = self.node_of(key) else {
            return;
        };
        match behavior::outgoing(self, key, node) {
            Ok(flows) => {
                let scope = self.scope_of(key);
                for (flow, default) in flows {
                    self.take(flow, scope, default);
                }
            }
            Err(message) => self.incident(key, Step::Leave, message),
        }
    }

    /// Takes a sequence flow: the target is activated, or the token waits at its join.
    pub fn take(&mut self, flow: FlowIdx, scope: u64, default: bool) {
        let f = &self.process.flows[flow];
        let target = &self.process.nodes[f.target];
        if target.is_join() {
            self.emit(Event::FlowTaken {
                flow: f.id.clone(),
                scope,
                join: Some(target.id.clone()),
                default,
            });
            if matches!(target.kind, NodeKind::ParallelGateway) {
                behavior::parallel_gateway::on_token(self, f.target, scope);
            } else if matches!(target.kind, NodeKind::ComplexGateway(_)) {
                behavior::complex_gateway::on_token(self, f.target, scope);
            } else {
                behavior::inclusive_gateway::on_token(self, f.target, scope);
            }
        } else {
            self.emit(Event::FlowTaken {
                flow: f.id.clone(),
                scope,
                join: None,
                default,
            });
            self.activate(f.target, scope);
        }
    }

    /// A join's incoming flow ids, and those of them that hold a token in `scope`.
    pub fn join_tokens(&self, gateway: NodeIdx, scope: u64) -> (Vec<String>, Vec<String>) {
        let g = &self.process.nodes[gateway];
        let incoming: Vec<String> = g
            .incoming
            .iter()
            .map(|f| self.process.flows[*f].id.clone())
            .collect();
        let tokens = self
            .state
            .joins
            .iter()
            .find(|j| j.scope == scope && j.gateway == g.id);
        let with = incoming
            .iter()
            .filter(|f| tokens.is_some_and(|t| t.flows.get(*f).is_some_and(|n| *n > 0)))
            .cloned()
            .collect();
        (incoming, with)
    }

    /// Fires a join: consumes one token per flow and activates the gateway.
    pub fn fire_join(&mut self, gateway: NodeIdx, scope: u64, flows: Vec<String>) {
        self.emit(Event::JoinFired {
            scope,
            gateway: self.process.nodes[gateway].id.clone(),
            flows,
        });
        self.activate(gateway, scope);
    }

    /// Inclusive joins whose tokens can no longer be joined by any other fire now.
    fn fire_inclusive_joins(&mut self) -> bool {
        let mut fired = false;
        let waiting: Vec<(u64, String)> = self
            .state
            .joins
            .iter()
            .map(|j| (j.scope, j.gateway.clone()))
            .collect();
        for (scope, gateway) in waiting {
            let Some(g) = self.process.node_index(&gateway) else {
                continue;
            };
            if !matches!(self.process.nodes[g].kind, NodeKind::InclusiveGateway) {
                continue;
            }
            if behavior::inclusive_gateway::try_fire(self, g, scope) {
                fired = true;
            }
        }
        fired
    }

    /// Conditional events whose condition now holds fire (and a latched
    /// non-interrupting one whose condition stopped holding can fire again).
    /// A condition that cannot be evaluated yet (a variable not set) does not hold.
    fn check_conditions(&mut self) -> bool {
        let waiting: Vec<(u64, bool)> = self
            .state
            .elements
            .iter()
            .filter(|(_, e)| e.incident.is_none())
            .filter_map(|(k, e)| match e.wait {
                Some(Wait::Condition { latched }) => Some((*k, latched)),
                _ => None,
            })
            .collect();
        let mut fired = false;
        for (key, latched) in waiting {
            let Some(node) = self.node_of(key) else {
                continue;
            };
            let process = self.process;
            let (condition, kind) = match &process.nodes[node].kind {
                NodeKind::IntermediateCatch(Catch::Conditional { condition }) => {
                    (condition, ConditionKind::Catch)
                }
                NodeKind::BoundaryEvent(b) => match &b.trigger {
                    Catch::Conditional { condition } => (condition, ConditionKind::Boundary),
                    _ => continue,
                },
                NodeKind::EventSubProcess(e) => match &e.trigger {
                    Catch::Conditional { condition } => (condition, ConditionKind::EventSub),
                    _ => continue,
                },
                _ => continue,
            };
            let holds = self
                .evaluate(key, |b| condition.eval_bool(b))
                .unwrap_or(false);
            match (holds, latched) {
                (true, false) if kind == ConditionKind::Boundary => {
                    behavior::boundary_event::on_condition(self, key, node);
                    fired = true;
                }
                (true, false) if kind == ConditionKind::EventSub => {
                    behavior::event_subprocess::on_condition(self, key, node);
                    fired = true;
                }
                (true, false) => {
                    self.emit(Event::ConditionMet { key });
                    self.win_race(key);
                    self.complete(key);
                    fired = true;
                }
                (false, true) => self.emit(Event::WaitStarted {
                    key,
                    wait: Wait::Condition { latched: false },
                }),
                _ => {}
            }
        }
        fired
    }

    /// Completes subprocesses with nothing left inside, and the instance itself.
    /// Armed event subprocesses do not count: they are withdrawn with their scope.
    fn finish_scopes(&mut self) -> bool {
        let busy: HashSet<u64> = self
            .state
            .elements
            .iter()
            .filter(|(k, _)| !behavior::event_subprocess::is_armed(self, **k))
            .map(|(_, e)| e.scope)
            .chain(self.state.joins.iter().map(|j| j.scope))
            .collect();
        let done: Vec<u64> = self
            .state
            .elements
            .iter()
            .filter(|(k, e)| {
                e.wait == Some(Wait::Children) && e.incident.is_none() && !busy.contains(k)
            })
            .map(|(k, _)| *k)
            .collect();
        if !done.is_empty() {
            for key in done {
                // An ad-hoc subprocess may have more to start first.
                if behavior::ad_hoc::start_next(self, key) {
                    continue;
                }
                self.withdraw_armed(key);
                self.complete(key);
            }
            return true;
        }
        if !busy.contains(&ROOT)
            && self.state.joins.is_empty()
            && self.top_level_done()
            && self.process_ends()
        {
            self.withdraw_armed(ROOT);
            if let Some(element) = self.state.called_by.clone() {
                let variables = self.state.root_variables();
                self.effect(Effect::ReturnToCaller {
                    element,
                    outcome: CallOutcome::Completed { variables },
                });
            }
            self.emit(Event::InstanceCompleted);
        }
        false
    }

    /// Runs the process's own `end` listeners as the instance ends. A failing
    /// one refuses the whole command, as Camunda's rollback does: answers
    /// whether the instance may end.
    pub fn process_ends(&mut self) -> bool {
        if self.failed.is_some() {
            return false;
        }
        let process = self.process;
        match self.try_listeners(ROOT, &process.listeners, ListenerEvent::End) {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(format!("process \"{}\": {e}", process.id));
                false
            }
        }
    }

    /// Whether only armed event subprocesses are left at the top level (none
    /// of which has an incident).
    fn top_level_done(&self) -> bool {
        self.state.elements.iter().all(|(k, e)| {
            e.scope == ROOT
                && e.incident.is_none()
                && behavior::event_subprocess::is_armed(self, *k)
        })
    }

    /// Cancels the armed event subprocesses of a scope that is done.
    fn withdraw_armed(&mut self, scope: u64) {
        let armed: Vec<u64> = self
            .state
            .children_of(scope)
            .map(|(k, _)| k)
            .filter(|k| behavior::event_subprocess::is_armed(self, *k))
            .collect();
        for k in armed {
            self.terminate(k);
        }
    }

    /// Ends whatever a live element instance waits for (task, job, subscription).
    pub fn close_wait(&mut self, key: u64) {
        let wait = self.state.elements.get(&key).and_then(|e| e.wait.clone());
        match wait {
            Some(Wait::UserTask { .. }) => self.effect(Effect::CloseUserTask {
                key,
                completed: false,
            }),
            Some(Wait::Message { .. } | Wait::Signal { .. }) => {
                self.effect(Effect::Unsubscribe { key })
            }
            Some(Wait::Job { .. }) => self.effect(Effect::CancelJob { key }),
            Some(
                Wait::Children
                | Wait::Condition { .. }
                | Wait::Called { .. }
                | Wait::Compensating { .. }
                | Wait::Trigger,
            )
            | None => {}
        }
    }

    /// An element instance of an event-based gateway's race got its event:
    /// its rivals are cancelled and the gateway completes (it takes no flows:
    /// it took them all when the race started).
    pub fn win_race(&mut self, key: u64) {
        let Some(race) = self.state.elements.get(&key).and_then(|e| e.race) else {
            return;
        };
        let rivals: Vec<u64> = self
            .state
            .elements
            .iter()
            .filter(|(k, e)| **k != key && e.race == Some(race))
            .map(|(k, _)| *k)
            .collect();
        for r in rivals {
            self.terminate(r);
        }
        // Instances from before the gateway waited had it completed already.
        if self.state.elements.contains_key(&race) {
            self.do_complete(race);
        }
    }

    /// Cancels an element instance and everything inside it.
    /// Ends the whole instance early: everything in it is cancelled.
    pub fn end_instance(&mut self, reason: String) {
        let keys: Vec<u64> = self.state.children_of(ROOT).map(|(k, _)| k).collect();
        for k in keys {
            self.terminate(k);
        }
        self.queue.clear();
        self.emit(Event::InstanceTerminated { reason });
    }

    pub fn terminate(&mut self, key: u64) {
        self.interrupt(key, None);
    }

    /// Cancels an element instance, everything inside it and its boundary events
    /// but `by` (the interrupting boundary event that fires).
    pub fn interrupt(&mut self, key: u64, by: Option<u64>) {
        let children: Vec<u64> = self.state.children_of(key).map(|(k, _)| k).collect();
        for child in children {
            self.terminate(child);
        }
        let Some(node) = self.node_of(key) else {
            return;
        };
        self.disarm_boundaries(key, by);
        behavior::on_terminate(self, key, node);
        if let Some(incident) = self.state.elements.get(&key).and_then(|e| e.incident) {
            self.emit(Event::IncidentResolved { incident });
        }
        self.emit(Event::ElementTerminated {
            key,
            element: self.process.nodes[node].id.clone(),
        });
    }

    /// Cancels everything in a scope except one element instance.
    pub fn terminate_scope(&mut self, scope: u64, except: u64) {
        let keys: Vec<u64> = self
            .state
            .children_of(scope)
            .map(|(k, _)| k)
            .filter(|k| *k != except)
            .collect();
        for k in keys {
            self.terminate(k);
        }
        // Work queued for the scope must not resurrect what was cancelled.
        let state = &self.state;
        self.queue.retain(|w| match w {
            Work::Activate { scope: s, .. } => *s != scope,
            Work::Complete { key } => state.elements.contains_key(key),
        });
    }

    /// Whether an element in `scope` (or a token at another join there) can still
    /// reach `target` through sequence flows.
    pub fn can_reach(&self, scope: u64, target: NodeIdx) -> bool {
        let mut starts: Vec<NodeIdx> = self
            .state
            .children_of(scope)
            .filter_map(|(_, e)| self.process.node_index(&e.element))
            .collect();
        starts.extend(
            self.state
                .joins
                .iter()
                .filter(|j| j.scope == scope)
                .filter_map(|j| self.process.node_index(&j.gateway))
                .filter(|g| *g != target),
        );
        let mut seen = vec![false; self.process.nodes.len()];
        let mut stack = starts;
        while let Some(n) = stack.pop() {
            if n == target {
                return true;
            }
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            for &f in &self.process.nodes[n].outgoing {
                stack.push(self.process.flows[f].target);
            }
        }
        false
    }
}

/// Evaluates input or output parameters into variable values.
pub(crate) fn eval_params(
    params: &[Param],
    vars: &mut dyn Bindings,
) -> Result<Map<String, Value>, EvalError> {
    let mut out = Map::new();
    for p in params {
        let v = eval_param(&p.value, vars).map_err(|e| EvalError(format!("{}: {e}", p.name)))?;
        out.insert(p.name.clone(), v);
    }
    Ok(out)
}

fn eval_param(value: &ParamValue, vars: &mut dyn Bindings) -> Result<Value, EvalError> {
    Ok(match value {
        ParamValue::Null => Value::Null,
        ParamValue::Text(t) => t.eval(vars)?,
        ParamValue::List(items) => Value::Array(
            items
                .iter()
                .map(|i| eval_param(i, vars))
                .collect::<Result<_, _>>()?,
        ),
        ParamValue::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(k.clone(), eval_param(v, vars)?);
            }
            Value::Object(m)
        }
    })
}
