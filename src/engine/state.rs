//! The state of one process instance, and the only code that changes it.
//!
//! State is a set of live *element instances* (each with its element id, the
//! scope it runs in and what it waits for), the sequence flows taken into joins
//! that have not fired yet, variables per scope and open incidents. There are no
//! token counters. [`InstanceState::apply`] is the single place that mutates
//! state; the engine decides, events record, `apply` follows.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::event::Event;

/// The version of this JSON layout; bumped (with a migration in `apply`'s
/// caller) whenever the layout changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// Key of the process instance's own variable scope.
pub const ROOT: u64 = 0;

/// Where an instance stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, not started yet.
    Created,
    Active,
    Completed,
    Terminated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Active => "active",
            Status::Completed => "completed",
            Status::Terminated => "terminated",
        }
    }
}

/// Jobs the engine asks the job executor (or an external worker) to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// A timer; due at the job's due time.
    Timer,
    /// `camunda:asyncBefore`: start the element in a new transaction.
    AsyncBefore,
    /// `camunda:asyncAfter`: leave the element in a new transaction.
    AsyncAfter,
    /// A connector call (`camunda:connector`).
    Connector,
    /// Work for external workers on a topic.
    External { topic: String },
    /// A call of the service handler registered under this name.
    Handler { name: String },
    /// Delivering a thrown message or signal to other instances.
    Throw,
    /// Starting the instance a call activity calls.
    Call,
    /// Evaluating the decision of a business rule task.
    Decide,
}

impl JobKind {
    /// The type of the job row that carries this work.
    pub fn job_type(&self) -> JobType {
        match self {
            JobKind::Timer => JobType::Timer,
            JobKind::AsyncBefore => JobType::AsyncBefore,
            JobKind::AsyncAfter => JobType::AsyncAfter,
            JobKind::Connector => JobType::Connector,
            JobKind::External { .. } => JobType::External,
            JobKind::Handler { .. } => JobType::Service,
            JobKind::Throw => JobType::Throw,
            JobKind::Call => JobType::Call,
            JobKind::Decide => JobType::Decide,
        }
    }

    pub fn name(&self) -> &'static str {
        self.job_type().as_str()
    }
}

/// What kind of work a stored job is: the one vocabulary shared by the
/// engine's effects, the `kind` column of the job table and the job executor.
///
/// [`JobKind`] is what an element waits for (with its topic or handler name);
/// a `JobType` is the kind of the row that carries it. Three types have no
/// `JobKind`: they are written for *other* instances by the effects
/// [`ReturnToCaller`](super::Effect::ReturnToCaller) and
/// [`CancelCalled`](super::Effect::CancelCalled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobType {
    Timer,
    AsyncBefore,
    AsyncAfter,
    Connector,
    /// Done by an external worker, never by the job executor.
    External,
    /// A registered service handler.
    Service,
    Throw,
    Call,
    Decide,
    /// A called instance's final answer to its call activity.
    Return,
    /// An escalation a called instance raised (its call goes on).
    Escalation,
    /// Cancelling a called instance whose call activity is gone.
    Cancel,
    /// A notification e-mail. It is a row of the mail outbox, not of the job
    /// table: the executor leases and sends it like a job, but it belongs to
    /// no element and never raises an incident.
    Mail,
}

impl JobType {
    /// Every type, in the order of the enum.
    pub const ALL: [JobType; 13] = [
        JobType::Timer,
        JobType::AsyncBefore,
        JobType::AsyncAfter,
        JobType::Connector,
        JobType::External,
        JobType::Service,
        JobType::Throw,
        JobType::Call,
        JobType::Decide,
        JobType::Return,
        JobType::Escalation,
        JobType::Cancel,
        JobType::Mail,
    ];

    /// The types of the job table the executor runs (all but external work,
    /// which waits for its workers; mails come from their own outbox).
    pub const LOCAL: [JobType; 11] = [
        JobType::Timer,
        JobType::AsyncBefore,
        JobType::AsyncAfter,
        JobType::Connector,
        JobType::Service,
        JobType::Throw,
        JobType::Call,
        JobType::Decide,
        JobType::Return,
        JobType::Escalation,
        JobType::Cancel,
    ];

    /// The name stored in the job table (and shown to people).
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Timer => "timer",
            JobType::AsyncBefore => "async-before",
            JobType::AsyncAfter => "async-after",
            JobType::Connector => "connector",
            JobType::External => "external",
            JobType::Service => "service",
            JobType::Throw => "throw",
            JobType::Call => "call",
            JobType::Decide => "decide",
            JobType::Return => "return",
            JobType::Escalation => "escalation",
            JobType::Cancel => "cancel",
            JobType::Mail => "mail",
        }
    }

    /// The type stored under `name`, if any.
    pub fn parse(name: &str) -> Option<JobType> {
        JobType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the job executor runs it.
    pub fn is_local(self) -> bool {
        self != JobType::External
    }

    /// The jobs of a call activity's life across instances: starting the
    /// callee, its answers, and cancelling it. Their work is commands on
    /// instances, not a side effect.
    pub fn is_call(self) -> bool {
        matches!(
            self,
            JobType::Call | JobType::Return | JobType::Escalation | JobType::Cancel
        )
    }

    /// Whether its work is a call outside that may take long (its lease is
    /// renewed while it runs).
    pub fn calls_out(self) -> bool {
        matches!(self, JobType::Connector | JobType::Service)
    }
}

impl std::fmt::Display for JobType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a live element instance is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Wait {
    /// A person completing its user task (claimed by `assignee`, if anyone).
    UserTask {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<String>,
        /// The task's priority and due date when it was created (for the
        /// `task` object of its listeners).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Timestamp>,
    },
    /// A message with this name.
    Message { name: String },
    /// A signal with this name.
    Signal { name: String },
    /// Its condition to hold (`latched`: it held when last checked, so a
    /// non-interrupting boundary event fires again only after it stops holding).
    Condition {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        latched: bool,
    },
    /// A job (timer, async continuation, connector or external work).
    Job {
        job: JobKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Timestamp>,
    },
    /// A subprocess: its children to finish.
    Children,
    /// A call activity: the instance it called (by id) to finish.
    Called { instance: String },
    /// A receive task without a message: an explicit trigger.
    Trigger,
    /// A compensation throw or cancel end event: the compensation handlers
    /// still to run, one after the other (`cancel`: then cancel the transaction).
    Compensating {
        pending: Vec<PendingHandler>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cancel: bool,
    },
}

/// A compensation handler to run for a completed activity instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHandler {
    /// The key the completed activity instance had.
    pub record: u64,
    /// The handler's element id.
    pub handler: String,
}

/// A completed activity instance that compensation may undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensable {
    /// The key it had.
    pub key: u64,
    pub element: String,
    /// The scope it completed in.
    pub scope: u64,
    /// A subprocess or multi-instance body without a handler of its own:
    /// compensating it compensates what completed inside it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub container: bool,
}

/// One live element instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementInstance {
    /// The BPMN element id.
    pub element: String,
    /// The key of the subprocess instance it runs in ([`ROOT`] for the process).
    pub scope: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// For a boundary event: the activity instance it is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<u64>,
    /// How often its timer has fired (a repeating boundary timer counts its cycles).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fired: u32,
    /// For a target of an event-based gateway: the gateway instance whose race
    /// it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race: Option<u64>,
    /// For a compensation handler: the throw event instance waiting for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensates: Option<u64>,
    /// For a call activity whose called instance completed: its variables,
    /// until the `camunda:out` mappings have run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<Map<String, Value>>,
    /// For an ad-hoc subprocess: what is left to start, and whether its
    /// completion condition held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_hoc: Option<AdHocProgress>,
}

/// The progress of an ad-hoc subprocess instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdHocProgress {
    /// Enabled elements not started yet (sequential ordering), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    /// The completion condition held: nothing more starts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closing: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Sequence flows taken into a join gateway that has not fired yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinTokens {
    pub scope: u64,
    pub gateway: String,
    /// flow id -> number of tokens that arrived on it.
    pub flows: BTreeMap<String, u32>,
}

/// A complex gateway that fired and waits for reset: the incoming flows it
/// still expects a token on (BPMN 2.0, 13.4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resetting {
    pub scope: u64,
    pub gateway: String,
    pub awaiting: Vec<String>,
}

/// Which step failed, so that a retry resumes there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Starting the element (input mappings, its behaviour).
    Activate,
    /// Completing it (output mappings).
    Complete,
    /// Choosing and taking its outgoing flows.
    Leave,
}

/// An open incident: an element that cannot go on until an admin retries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The element instance it blocks.
    pub key: u64,
    pub element: String,
    pub message: String,
    pub step: Step,
}

/// The whole state of a process instance (stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    pub schema_version: u32,
    /// The id of the BPMN process being run.
    pub process: String,
    pub status: Status,
    /// The next free key for element instances and incidents.
    pub next_key: u64,
    /// Live element instances by key.
    pub elements: BTreeMap<u64, ElementInstance>,
    /// Tokens waiting at joins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<JoinTokens>,
    /// Complex gateways waiting for reset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resetting: Vec<Resetting>,
    /// Variables by scope: [`ROOT`] is the instance, other keys are element instances
    /// with local variables (input mappings, subprocesses).
    pub variables: BTreeMap<u64, Map<String, Value>>,
    /// Open incidents by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub incidents: BTreeMap<u64, Incident>,
    /// For an instance started by a call activity: that activity's element id
    /// in the calling instance (its end, errors and escalations go back there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_by: Option<String>,
    /// Completed activity instances that compensation may undo, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compensable: Vec<Compensable>,
    /// Suspended by an operator: it accepts no commands but resume, cancel
    /// and setting variables, and its jobs wait.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// When each live element instance started, by key: stamped by the
    /// runtime after each command for the statistics per element (the engine
    /// neither reads nor changes it). The entries of element instances that
    /// ended in a command stay until the next one, which measures them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub since: BTreeMap<u64, Timestamp>,
}

impl InstanceState {
    /// A fresh, not yet started instance of `process`.
    pub fn new(process: &str) -> InstanceState {
        InstanceState {
            schema_version: SCHEMA_VERSION,
            process: process.to_string(),
            status: Status::Created,
            next_key: 1,
            elements: BTreeMap::new(),
            joins: Vec::new(),
            resetting: Vec::new(),
            variables: BTreeMap::new(),
            incidents: BTreeMap::new(),
            called_by: None,
            compensable: Vec::new(),
            suspended: false,
            since: BTreeMap::new(),
        }
    }

    /// The instance's own variables.
    pub fn root_variables(&self) -> Map<String, Value> {
        self.variables.get(&ROOT).cloned().unwrap_or_default()
    }

    /// Whether an admin must act (an incident is open).
    pub fn has_incident(&self) -> bool {
        !self.incidents.is_empty()
    }

    /// The status shown to users: `active`, `completed`, `terminated` or `incident`.
    pub fn display_status(&self) -> &'static str {
        if self.status == Status::Active && self.has_incident() {
            "incident"
        } else {
            self.status.as_str()
        }
    }

    /// Scopes from `key` outwards: `[key, its scope, ..., ROOT]`.
    pub fn scope_chain(&self, key: u64) -> Vec<u64> {
        let mut chain = Vec::new();
        let mut k = key;
        while k != ROOT {
            chain.push(k);
            match self.elements.get(&k) {
                Some(e) => k = e.scope,
                None => break,
            }
        }
        chain.push(ROOT);
        chain
    }

    /// The variables visible from an element instance (innermost scope wins).
    pub fn visible_variables(&self, key: u64) -> Map<String, Value> {
        let mut out = Map::new();
        for scope in self.scope_chain(key).iter().rev() {
            if let Some(vars) = self.variables.get(scope) {
                for (k, v) in vars {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// The boundary events attached to an activity instance.
    pub fn attached_to(&self, activity: u64) -> Vec<u64> {
        self.elements
            .iter()
            .filter(|(_, e)| e.attached_to == Some(activity))
            .map(|(k, _)| *k)
            .collect()
    }

    /// The element instances living directly in `scope`.
    pub fn children_of(&self, scope: u64) -> impl Iterator<Item = (u64, &ElementInstance)> {
        self.elements
            .iter()
            .filter(move |(_, e)| e.scope == scope)
            .map(|(k, e)| (*k, e))
    }

    /// Applies one event. Events that only inform (conditions evaluated, flows
    /// taken into no join) change nothing.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::InstanceStarted { .. } => self.status = Status::Active,
            Event::ElementActivated {
                key,
                element,
                scope,
                attached_to,
            } => {
                self.elements.insert(
                    *key,
                    ElementInstance {
                        element: element.clone(),
                        scope: *scope,
                        wait: None,
                        incident: None,
                        attached_to: *attached_to,
                        fired: 0,
                        race: None,
                        compensates: None,
                        returned: None,
                        ad_hoc: None,
                    },
                );
                self.bump(*key);
            }
            Event::WaitStarted { key, wait } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.wait = Some(wait.clone());
                }
            }
            Event::TaskAssigned { key, assignee } => {
                if let Some(e) = self.elements.get_mut(key)
                    && let Some(Wait::UserTask { assignee: a, .. }) = &mut e.wait
                {
                    *a = assignee.clone();
                }
            }
            Event::TimerFired { key } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.wait = None;
                    e.fired += 1;
                }
            }
            Event::TaskCompleted { key }
            | Event::MessageReceived { key, .. }
            | Event::Triggered { key }
            | Event::JobCompleted { key }
            | Event::JobFailed { key, .. }
            | Event::ConditionMet { key }
            | Event::ErrorThrown { key, .. } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.wait = None;
                }
            }
            Event::ElementCompleted { key, .. } => {
                self.elements.remove(key);
                self.variables.remove(key);
                self.joins.retain(|j| j.scope != *key);
                self.resetting.retain(|r| r.scope != *key);
                // What completed inside stays compensable only through a
                // record of the scope itself (a subprocess or multi-instance
                // body remembered); a compensation event subprocess that
                // ends drops what it took over and did not compensate.
                if !self.compensable.iter().any(|c| c.key == *key) {
                    self.compensable.retain(|c| c.scope != *key);
                }
            }
            Event::ElementTerminated { key, .. } => {
                self.elements.remove(key);
                self.variables.remove(key);
                self.joins.retain(|j| j.scope != *key);
                self.resetting.retain(|r| r.scope != *key);
                // What completed inside a cancelled scope can no longer be compensated.
                self.compensable.retain(|c| c.scope != *key);
            }
            Event::CompensationRecorded {
                key,
                element,
                scope,
                container,
            } => self.compensable.push(Compensable {
                key: *key,
                element: element.clone(),
                scope: *scope,
                container: *container,
            }),
            Event::CompensationStarted {
                key,
                throw,
                record,
                adopts,
            } => {
                self.compensable.retain(|c| c.key != *record);
                if *adopts {
                    for c in self.compensable.iter_mut().filter(|c| c.scope == *record) {
                        c.scope = *key;
                    }
                }
                if let Some(e) = self.elements.get_mut(key) {
                    e.compensates = Some(*throw);
                }
            }
            Event::FlowTaken {
                flow,
                scope,
                join: Some(gateway),
                ..
            } => {
                let pos = self
                    .joins
                    .iter()
                    .position(|j| j.scope == *scope && j.gateway == *gateway);
                let tokens = match pos {
                    Some(i) => &mut self.joins[i],
                    None => {
                        self.joins.push(JoinTokens {
                            scope: *scope,
                            gateway: gateway.clone(),
                            flows: BTreeMap::new(),
                        });
                        let last = self.joins.len() - 1;
                        &mut self.joins[last]
                    }
                };
                *tokens.flows.entry(flow.clone()).or_insert(0) += 1;
            }
            Event::FlowTaken { join: None, .. } | Event::ConditionEvaluated { .. } => {}
            Event::JoinFired {
                scope,
                gateway,
                flows,
            } => self.consume(*scope, gateway, flows),
            Event::ComplexGatewayFired {
                scope,
                gateway,
                flows,
                awaiting,
            } => {
                self.consume(*scope, gateway, flows);
                self.resetting
                    .retain(|r| !(r.scope == *scope && r.gateway == *gateway));
                if !awaiting.is_empty() {
                    self.resetting.push(Resetting {
                        scope: *scope,
                        gateway: gateway.clone(),
                        awaiting: awaiting.clone(),
                    });
                }
            }
            Event::ComplexGatewayReset {
                scope,
                gateway,
                flows,
            } => {
                self.consume(*scope, gateway, flows);
                self.resetting
                    .retain(|r| !(r.scope == *scope && r.gateway == *gateway));
            }
            Event::VariablesSet { scope, values } => {
                let vars = self.variables.entry(*scope).or_default();
                for (k, v) in values {
                    vars.insert(k.clone(), v.clone());
                }
            }
            Event::VariablesRemoved { scope, names } => {
                if let Some(vars) = self.variables.get_mut(scope) {
                    for n in names {
                        vars.remove(n);
                    }
                }
            }
            Event::IncidentRaised {
                incident,
                key,
                element,
                message,
                step,
            } => {
                self.incidents.insert(
                    *incident,
                    Incident {
                        key: *key,
                        element: element.clone(),
                        message: message.clone(),
                        step: *step,
                    },
                );
                if let Some(e) = self.elements.get_mut(key) {
                    e.incident = Some(*incident);
                }
                self.bump(*incident);
            }
            Event::IncidentResolved { incident } => {
                if let Some(i) = self.incidents.remove(incident)
                    && let Some(e) = self.elements.get_mut(&i.key)
                {
                    e.incident = None;
                }
            }
            Event::AdHocProgressed {
                key,
                pending,
                closing,
            } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.ad_hoc = Some(AdHocProgress {
                        pending: pending.clone(),
                        closing: *closing,
                    });
                }
            }
            Event::EscalationThrown { .. } => {}
            Event::CallEnded { key, variables, .. } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.wait = None;
                    e.returned = Some(variables.clone());
                }
            }
            Event::CallStarted { key, instance } => {
                if let Some(e) = self.elements.get_mut(key) {
                    e.wait = Some(Wait::Called {
                        instance: instance.clone(),
                    });
                }
            }
            Event::RaceStarted { gateway, keys } => {
                for k in keys {
                    if let Some(e) = self.elements.get_mut(k) {
                        e.race = Some(*gateway);
                    }
                }
            }
            Event::InstanceSuspended { .. } => self.suspended = true,
            Event::InstanceResumed { .. } => self.suspended = false,
            Event::InstanceModified { .. } => {}
            Event::InstanceMigrated { renamed, .. } => self.rename(renamed),
            Event::InstanceCompleted => self.status = Status::Completed,
            Event::InstanceTerminated { .. } => {
                self.status = Status::Terminated;
                self.elements.clear();
                self.joins.clear();
                self.resetting.clear();
                self.incidents.clear();
                self.compensable.clear();
            }
        }
    }

    /// Takes one token from each of `flows` at the join `gateway` in `scope`.
    fn consume(&mut self, scope: u64, gateway: &str, flows: &[String]) {
        if let Some(i) = self
            .joins
            .iter()
            .position(|j| j.scope == scope && j.gateway == gateway)
        {
            let tokens = &mut self.joins[i];
            for f in flows {
                if let Some(n) = tokens.flows.get_mut(f) {
                    *n -= 1;
                    if *n == 0 {
                        tokens.flows.remove(f);
                    }
                }
            }
            if tokens.flows.is_empty() {
                self.joins.remove(i);
            }
        }
    }

    /// Gives elements new ids (a migration to another version).
    fn rename(&mut self, renamed: &BTreeMap<String, String>) {
        let new = |id: &mut String| {
            if let Some(n) = renamed.get(id.as_str()) {
                *id = n.clone();
            }
        };
        for e in self.elements.values_mut() {
            new(&mut e.element);
        }
        for j in &mut self.joins {
            new(&mut j.gateway);
        }
        for r in &mut self.resetting {
            new(&mut r.gateway);
        }
        for i in self.incidents.values_mut() {
            new(&mut i.element);
        }
        for c in &mut self.compensable {
            new(&mut c.element);
        }
    }

    fn bump(&mut self, key: u64) {
        if key >= self.next_key {
            self.next_key = key + 1;
        }
    }
}
