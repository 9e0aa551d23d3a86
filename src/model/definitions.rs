//! The typed, validated model of a BPMN file, ready to execute.
//!
//! A process is a graph stored in two vectors — nodes and sequence flows — that
//! refer to each other by index; embedded subprocesses are nodes whose children
//! name them as their `scope`. Everything the engine needs at run time is
//! resolved here once: flow endpoints, default flows, compiled expressions,
//! forms and lanes.

use std::collections::{BTreeMap, HashMap};

use super::diagnostic::Diagnostic;
use super::diagram::Diagram;
use super::expr::{Expr, Script, Template};
use super::form::FormField;

/// Index of a node in [`Process::nodes`].
pub type NodeIdx = usize;
/// Index of a sequence flow in [`Process::flows`].
pub type FlowIdx = usize;

/// A whole BPMN file.
#[derive(Debug, Clone)]
pub struct Definitions {
    pub id: Option<String>,
    pub name: Option<String>,
    pub processes: Vec<Process>,
    /// The process started when none is named: the pool marked `is_main`, else the
    /// first runnable process.
    pub default_process: Option<usize>,
    pub messages: Vec<Message>,
    pub participants: Vec<Participant>,
    /// Every element with an id, including those the engine does not run, for
    /// drawing and lookups.
    pub elements: BTreeMap<String, ElementInfo>,
    pub diagrams: Vec<Diagram>,
    /// Warnings found while reading (the file is usable).
    pub warnings: Vec<Diagnostic>,
}

impl Definitions {
    /// The process with this id.
    pub fn process(&self, id: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.id == id)
    }

    /// The processes that can be started.
    pub fn runnable(&self) -> impl Iterator<Item = &Process> {
        self.processes.iter().filter(|p| p.runnable)
    }

    /// The default process (see [`Definitions::default_process`]).
    pub fn main_process(&self) -> Option<&Process> {
        self.default_process.map(|i| &self.processes[i])
    }
}

/// What the diagram needs to know about any element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementInfo {
    /// BPMN local name: `userTask`, `exclusiveGateway`, `participant`...
    pub tag: String,
    /// The `name`; for a text annotation its text, for a group its category value.
    pub name: Option<String>,
    /// Local names of the event definitions of an event (`timerEventDefinition`...).
    pub event_definitions: Vec<String>,
    /// For boundary events: the activity they are attached to.
    pub attached_to: Option<String>,
    /// For boundary events and event subprocess starts: `cancelActivity`/`isInterrupting`.
    pub interrupting: bool,
    /// For subprocesses: `triggeredByEvent`.
    pub triggered_by_event: bool,
    /// The id of the process the element belongs to.
    pub process: Option<String>,
    /// For gateways and activities: the id of their `default` sequence flow.
    pub default_flow: Option<String>,
    /// For sequence flows: whether they carry a `conditionExpression`.
    pub conditional: bool,
    /// For flows and associations: the `sourceRef` element.
    pub source: Option<String>,
    /// For activities: their loop or multi-instance marker.
    pub loop_kind: Option<LoopKind>,
    /// For activities: `isForCompensation` (drawn with the compensation marker).
    pub for_compensation: bool,
}

/// The loop characteristics of an activity, as drawn on its marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    /// `standardLoopCharacteristics`.
    Standard,
    /// `multiInstanceLoopCharacteristics`, parallel.
    Parallel,
    /// `multiInstanceLoopCharacteristics isSequential="true"`.
    Sequential,
}

/// A `message` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub name: String,
}

/// A pool of a collaboration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: String,
    pub name: Option<String>,
    pub process: Option<String>,
}

/// One process: the executable graph.
#[derive(Debug, Clone)]
pub struct Process {
    pub id: String,
    pub name: Option<String>,
    /// `isExecutable="true"`.
    pub executable: bool,
    /// Whether this engine will start it: executable, or — when no process in the
    /// file says it is — every process (as the engine we replace did).
    pub runnable: bool,
    /// The extension property `is_main` = `True` (the default pool of a collaboration).
    pub is_main: bool,
    pub documentation: Option<String>,
    pub properties: Vec<(String, String)>,
    pub version_tag: Option<String>,
    /// `zeebe:subscription correlationKey` of the file's messages, by message
    /// name: evaluated when an element starts waiting for that message.
    pub correlations: HashMap<String, Expr>,
    /// `camunda:executionListener`s on the process itself: `start` runs as
    /// the instance starts (before its start event), `end` as it completes.
    pub listeners: Vec<Listener>,
    pub nodes: Vec<Node>,
    pub flows: Vec<Flow>,
    pub lanes: Vec<Lane>,
    /// The top-level none start event.
    pub start: Option<NodeIdx>,
    /// Without any start event: the top-level elements without incoming
    /// sequence flows, all started when the process starts (BPMN 2.0, 10.5.2).
    pub implicit_starts: Vec<NodeIdx>,
    /// Top-level timer start events: the process starts itself on their schedule.
    pub timer_starts: Vec<NodeIdx>,
    node_ids: HashMap<String, NodeIdx>,
    flow_ids: HashMap<String, FlowIdx>,
}

impl Process {
    /// Builds a process and its id indexes.
    pub(crate) fn new(
        head: ProcessHead,
        nodes: Vec<Node>,
        flows: Vec<Flow>,
        lanes: Vec<Lane>,
    ) -> Process {
        let node_ids = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let flow_ids = flows
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let start = nodes.iter().position(|n| {
            n.scope.is_none() && matches!(&n.kind, NodeKind::StartEvent(s) if s.is_none())
        });
        let timer_starts = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.scope.is_none() && matches!(&n.kind, NodeKind::StartEvent(s) if s.timer.is_some())
            })
            .map(|(i, _)| i)
            .collect();
        let implicit_starts = implicit_starts(&nodes, None);
        Process {
            id: head.id,
            name: head.name,
            executable: head.executable,
            runnable: head.runnable,
            is_main: head.is_main,
            documentation: head.documentation,
            properties: head.properties,
            version_tag: head.version_tag,
            correlations: head.correlations,
            listeners: head.listeners,
            nodes,
            flows,
            lanes,
            start,
            implicit_starts,
            timer_starts,
            node_ids,
            flow_ids,
        }
    }

    /// The node with this element id.
    pub fn node_index(&self, id: &str) -> Option<NodeIdx> {
        self.node_ids.get(id).copied()
    }

    /// The node with this element id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.node_index(id).map(|i| &self.nodes[i])
    }

    /// The sequence flow with this id.
    pub fn flow_index(&self, id: &str) -> Option<FlowIdx> {
        self.flow_ids.get(id).copied()
    }

    /// The display name of the process.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// The attributes of a process other than its graph.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProcessHead {
    pub id: String,
    pub name: Option<String>,
    pub executable: bool,
    pub runnable: bool,
    pub is_main: bool,
    pub documentation: Option<String>,
    pub properties: Vec<(String, String)>,
    pub version_tag: Option<String>,
    /// `zeebe:subscription correlationKey` of the file's messages, by message name.
    pub correlations: HashMap<String, Expr>,
    pub listeners: Vec<Listener>,
}

/// A lane of the process's lane set (nested lanes flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub id: String,
    pub name: Option<String>,
    pub nodes: Vec<String>,
}

/// A flow node: event, activity or gateway.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub name: Option<String>,
    /// BPMN local name, e.g. `userTask`.
    pub tag: &'static str,
    pub kind: NodeKind,
    /// The subprocess node this node lives in (`None`: the process itself).
    pub scope: Option<NodeIdx>,
    /// Sequence flows in, in document order.
    pub incoming: Vec<FlowIdx>,
    /// Sequence flows out, in document order.
    pub outgoing: Vec<FlowIdx>,
    /// The `default` flow of a gateway or activity.
    pub default_flow: Option<FlowIdx>,
    pub documentation: Option<String>,
    /// `camunda:inputOutput` of an activity.
    pub io: Io,
    pub async_before: bool,
    pub async_after: bool,
    /// `camunda:failedJobRetryTimeCycle`: attempts of its jobs and the pause between them.
    pub retry: Option<super::time::RetryCycle>,
    /// Boundary events attached to this activity.
    pub boundaries: Vec<NodeIdx>,
    /// The name of the lane the node is drawn in.
    pub lane: Option<String>,
    pub properties: Vec<(String, String)>,
    /// `multiInstanceLoopCharacteristics` of an activity.
    pub multi: Option<Box<MultiInstance>>,
    /// `standardLoopCharacteristics` of an activity.
    pub standard_loop: Option<Box<StandardLoop>>,
    /// `camunda:executionListener` and (on user tasks) `camunda:taskListener`.
    pub listeners: Vec<Listener>,
    /// `camunda:errorEventDefinition`s of a connector or external task: BPMN
    /// errors thrown when their expression holds for the result.
    pub error_mappings: Vec<ErrorMapping>,
    /// The compensation handler of this activity (through its compensation
    /// boundary event and the association from it).
    pub compensation: Option<NodeIdx>,
    /// `isForCompensation`: a compensation handler, started only by compensation.
    pub for_compensation: bool,
}

/// A result that is a BPMN error: when `condition` holds (seen with the
/// connector's `statusCode`, `response`, `headers`, or the worker's variables),
/// `error` is thrown at the task.
#[derive(Debug, Clone)]
pub struct ErrorMapping {
    pub error: ErrorThrow,
    pub condition: Expr,
}

/// An execution or task listener: an expression or a script run when its
/// event happens.
#[derive(Debug, Clone)]
pub struct Listener {
    pub event: ListenerEvent,
    pub action: ListenerAction,
}

/// What a listener runs.
#[derive(Debug, Clone)]
pub enum ListenerAction {
    /// `expression="${...}"`: evaluated for what it does
    /// (`${execution.setVariable('status', 'shipped')}`); its value is dropped.
    Expression(Expr),
    /// A `camunda:script`.
    Script(Script),
}

/// When a listener runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerEvent {
    /// The element starts (after its input mappings).
    Start,
    /// The element ends (before its output mappings).
    End,
    /// A sequence flow is taken.
    Take,
    /// A user task is created.
    Create,
    /// A user task's assignee changes.
    Assignment,
    /// A user task is completed (before the element ends).
    Complete,
    /// A user task is withdrawn.
    Delete,
}

impl ListenerEvent {
    /// The event's name in the file (`start`, `take`, `create`...).
    pub fn name(self) -> &'static str {
        match self {
            ListenerEvent::Start => "start",
            ListenerEvent::End => "end",
            ListenerEvent::Take => "take",
            ListenerEvent::Create => "create",
            ListenerEvent::Assignment => "assignment",
            ListenerEvent::Complete => "complete",
            ListenerEvent::Delete => "delete",
        }
    }
}

/// A standard loop: the activity runs again while its condition holds.
#[derive(Debug, Clone)]
pub struct StandardLoop {
    /// `loopCondition`; none: loop until `loopMaximum`.
    pub condition: Option<super::expr::Expr>,
    /// `testBefore`: check the condition before each run (a while loop)
    /// rather than after (do-while, the default).
    pub test_before: bool,
    /// `loopMaximum`: at most this many runs.
    pub maximum: Option<u64>,
}

/// How a multi-instance activity runs its instances.
#[derive(Debug, Clone)]
pub struct MultiInstance {
    /// `isSequential`: one instance after the other, else all at once.
    pub sequential: bool,
    /// `loopCardinality`: how many instances (when there is no collection).
    pub cardinality: Option<super::expr::Expr>,
    /// `camunda:collection` (or the variable of `loopDataInputRef`): one
    /// instance per item of this list.
    pub collection: Option<super::expr::Expr>,
    /// `camunda:elementVariable` (or `inputDataItem`): the local variable
    /// that holds an instance's item.
    pub element_variable: Option<String>,
    /// `completionCondition`: checked after each instance completes; when true,
    /// the remaining instances are cancelled and the activity completes.
    pub completion: Option<super::expr::Expr>,
    /// Output collected per instance (`zeebe:loopCharacteristics
    /// outputCollection` / `outputElement`): the list variable, and what each
    /// instance contributes at its `loopCounter`.
    pub output: Option<(String, super::expr::Expr)>,
    /// `outputDataItem`: the local variable each instance starts with (empty),
    /// so that what an instance sets there stays its own until collected.
    pub output_item: Option<String>,
}

impl Node {
    /// `Name` if it has one, else the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// The PascalCase kind used in traces: `UserTask`, `ParallelGateway`...
    pub fn kind_name(&self) -> String {
        let mut s = String::with_capacity(self.tag.len());
        let mut chars = self.tag.chars();
        if let Some(c) = chars.next() {
            s.extend(c.to_uppercase());
        }
        s.extend(chars);
        s
    }

    /// Whether the activity repeats (multi-instance or standard loop): it runs
    /// as a body holding its instances.
    pub fn loops(&self) -> bool {
        self.multi.is_some() || self.standard_loop.is_some()
    }

    /// Whether the node is a task, subprocess or other activity.
    pub fn is_activity(&self) -> bool {
        matches!(
            self.kind,
            NodeKind::Task
                | NodeKind::ManualTask
                | NodeKind::UserTask(_)
                | NodeKind::ServiceTask(_)
                | NodeKind::ScriptTask(_)
                | NodeKind::ReceiveTask(_)
                | NodeKind::SubProcess(_)
                | NodeKind::CallActivity(_)
                | NodeKind::BusinessRule(_)
        )
    }

    /// A join needs several incoming flows and a gateway kind that waits.
    pub fn is_join(&self) -> bool {
        self.incoming.len() > 1
            && matches!(
                self.kind,
                NodeKind::ParallelGateway
                    | NodeKind::InclusiveGateway
                    | NodeKind::ComplexGateway(_)
            )
    }
}

/// What a node is and how it behaves.
#[derive(Debug, Clone)]
pub enum NodeKind {
    StartEvent(Box<StartEvent>),
    EndEvent {
        terminate: bool,
    },
    /// An intermediate throw event without an event definition (passes through).
    IntermediateThrow,
    IntermediateCatch(Catch),
    Task,
    ManualTask,
    UserTask(Box<UserTask>),
    /// `serviceTask` and `sendTask`.
    ServiceTask(Box<ServiceTask>),
    ScriptTask(Box<ScriptTask>),
    /// Waits for a message (`receiveTask`); always `Catch::Message`.
    ReceiveTask(Catch),
    ExclusiveGateway,
    ParallelGateway,
    InclusiveGateway,
    /// `eventBasedGateway`: its targets wait at once; the first event wins.
    EventGateway,
    /// `complexGateway`: a join that fires when its activation condition
    /// holds, then absorbs the tokens still expected before it resets; it
    /// forks like an inclusive gateway.
    ComplexGateway(Box<ComplexGateway>),
    SubProcess(SubProcess),
    /// An event attached to an activity's boundary.
    BoundaryEvent(Box<Boundary>),
    /// An end event that throws a BPMN error (`errorEventDefinition`).
    ErrorEnd(ErrorThrow),
    /// An intermediate throw or end event that sends a message or a signal.
    Throw(Box<ThrowEvent>),
    /// A link throw event: the token goes on at the link catch event `target`
    /// of the same name in the same scope.
    LinkThrow {
        name: String,
        target: NodeIdx,
    },
    /// A link catch event: where a link throw event's token goes on.
    LinkCatch {
        name: String,
    },
    /// An intermediate throw or end event that raises an escalation.
    Escalate {
        /// The `escalationCode` (`None`: only a catch-all catches it).
        code: Option<String>,
    },
    /// A call activity: runs an instance of another process and waits for it.
    CallActivity(Box<CallActivity>),
    /// A business rule task that evaluates a deployed decision (`camunda:decisionRef`).
    BusinessRule(Box<BusinessRule>),
    /// A compensation throw or end event (`compensateEventDefinition`):
    /// compensates the completed activities of its scope, or only `activity`.
    Compensate {
        activity: Option<String>,
        end: bool,
    },
    /// A cancel end event inside a transaction: compensates the transaction's
    /// completed activities, then cancels it (its cancel boundary event fires).
    CancelEnd,
    /// An event subprocess (`triggeredByEvent="true"`): no flows lead to it; its
    /// start event's trigger starts it while its enclosing scope runs.
    EventSubProcess(Box<EventSubProcess>),
}

/// A complex gateway's join rule.
#[derive(Debug, Clone)]
pub struct ComplexGateway {
    /// `activationCondition`: evaluated when a token arrives while the
    /// gateway waits for start, with `_activeTokens` (how many incoming
    /// flows hold a token) and `_activationCount` (tokens per incoming flow
    /// id) beside the variables. Required when it joins (several incoming flows).
    pub activation: Option<Expr>,
}

/// A business rule task's decision and where its result goes.
#[derive(Debug, Clone)]
pub struct BusinessRule {
    /// `camunda:decisionRef`: the id of the decision (an expression may compute it).
    pub decision: Template,
    /// `camunda:decisionRefBinding` (+ `decisionRefVersion` / `decisionRefVersionTag`).
    pub binding: CallBinding,
    /// `camunda:resultVariable`: where the mapped result goes (none: not kept).
    pub result_variable: Option<String>,
    /// `camunda:mapDecisionResult`.
    pub map: MapDecisionResult,
}

/// Camunda's `mapDecisionResult`: the shape a decision's result is stored in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MapDecisionResult {
    /// The only output of the only matched rule.
    SingleEntry,
    /// The outputs of the only matched rule, as an object.
    SingleResult,
    /// The only output of every matched rule, as a list.
    CollectEntries,
    /// Every matched rule's outputs, as a list of objects (the default).
    #[default]
    ResultList,
    /// Camunda 8's shape: one rule with one output gives the value, with
    /// several outputs an object; several rules a list of those.
    Natural,
}

/// The elements of a scope that start when it starts although no start event
/// leads to them: none when the scope has any start event; else every element
/// without incoming sequence flows, except boundary events, event subprocesses,
/// compensation handlers and link catch events (BPMN 2.0, 10.5.2).
pub(crate) fn implicit_starts(nodes: &[Node], scope: Option<NodeIdx>) -> Vec<NodeIdx> {
    let inside = || {
        nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.scope == scope)
    };
    if inside().any(|(_, n)| matches!(n.kind, NodeKind::StartEvent(_))) {
        return Vec::new();
    }
    inside()
        .filter(|(_, n)| {
            n.incoming.is_empty()
                && !n.for_compensation
                && !matches!(
                    n.kind,
                    NodeKind::BoundaryEvent(_)
                        | NodeKind::EventSubProcess(_)
                        | NodeKind::LinkCatch { .. }
                )
        })
        .map(|(i, _)| i)
        .collect()
}

/// An event subprocess: what starts it and whether it interrupts its scope.
#[derive(Debug, Clone)]
pub struct EventSubProcess {
    /// Its start event (filled in once the children are read).
    pub start: NodeIdx,
    /// The trigger of its start event.
    pub trigger: Catch,
    /// `isInterrupting` of its start event (the default): the rest of the
    /// enclosing scope is cancelled when it starts.
    pub interrupting: bool,
}

/// What a call activity calls and which variables cross over.
#[derive(Debug, Clone)]
pub struct CallActivity {
    /// `calledElement`: the key of the process to call (an expression may compute it).
    pub called: Template,
    pub binding: CallBinding,
    /// `camunda:in`: variables passed to the called instance.
    pub inputs: Vec<CallMapping>,
    /// `camunda:out`: variables passed back when it completes.
    pub outputs: Vec<CallMapping>,
    /// `camunda:in businessKey="..."`: the called instance's business key.
    pub business_key: Option<Template>,
}

/// `camunda:calledElementBinding`: which version of the called process runs.
#[derive(Debug, Clone)]
pub enum CallBinding {
    /// The newest version (the default).
    Latest,
    /// The version deployed with the calling process (same upload).
    Deployment,
    /// `camunda:calledElementVersion`.
    Version(Template),
    /// The newest version whose `camunda:versionTag` is this.
    VersionTag(Template),
}

/// One `camunda:in` or `camunda:out`.
#[derive(Debug, Clone)]
pub enum CallMapping {
    /// `variables="all"`: every variable (`local`: only the activity's own).
    All { local: bool },
    /// One variable: `source` or `sourceExpression` into `target`.
    One {
        source: CallSource,
        target: String,
        local: bool,
    },
}

/// Where a mapped value comes from.
#[derive(Debug, Clone)]
pub enum CallSource {
    Variable(String),
    Expression(Template),
}

/// The error an error end event throws.
#[derive(Debug, Clone, Default)]
pub struct ErrorThrow {
    /// The `errorCode` of the referenced `error` (`None`: only a catch-all catches it).
    pub code: Option<String>,
    /// `camunda:errorMessage` of the referenced `error`.
    pub message: Option<String>,
}

/// What an error boundary event catches and where it puts what it caught.
#[derive(Debug, Clone, Default)]
pub struct ErrorCatch {
    /// The `errorCode` it catches; `None` catches every error.
    pub code: Option<String>,
    /// `camunda:errorCodeVariable`: receives the caught error's code.
    pub code_variable: Option<String>,
    /// `camunda:errorMessageVariable`: receives the caught error's message.
    pub message_variable: Option<String>,
}

impl ErrorCatch {
    /// Whether this catches an error with `code`: the same code, or any code
    /// when it names none.
    pub fn catches(&self, code: Option<&str>) -> bool {
        self.code.is_none() || self.code.as_deref() == code
    }
}

/// A boundary event.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// The activity it is attached to.
    pub attached_to: NodeIdx,
    /// `cancelActivity`: whether it ends the activity when it fires.
    pub interrupting: bool,
    pub trigger: Catch,
}

/// A start event's extras.
#[derive(Debug, Clone, Default)]
pub struct StartEvent {
    /// A timer start event's schedule (top level only).
    pub timer: Option<Timer>,
    /// A message start event's message name (top level only).
    pub message: Option<String>,
    /// A signal start event's signal name (top level only).
    pub signal: Option<String>,
    /// A conditional start event's condition (top level only): it starts an
    /// instance when asked to evaluate start conditions with variables that
    /// make it hold, as Camunda 7's condition evaluation does.
    pub condition: Option<Expr>,
    pub form: Vec<FormField>,
    /// A Camunda Form (none start events only): the start form.
    pub form_link: Option<FormLink>,
    /// `camunda:initiator`: the variable that receives the starting user's name.
    pub initiator: Option<String>,
}

impl StartEvent {
    /// A none start event (started by a person or a program).
    pub fn is_none(&self) -> bool {
        self.timer.is_none()
            && self.message.is_none()
            && self.signal.is_none()
            && self.condition.is_none()
    }
}

/// A message or signal sent by an intermediate throw event or an end event.
#[derive(Debug, Clone)]
pub struct ThrowEvent {
    /// A signal (broadcast to every catcher) rather than a message (one receiver).
    pub signal: bool,
    /// The message or signal name.
    pub name: String,
}

/// What a catching event or receive task waits for.
#[derive(Debug, Clone)]
pub enum Catch {
    Timer(Timer),
    Message {
        name: String,
    },
    /// A BPMN error (boundary events only).
    Error(ErrorCatch),
    /// A broadcast signal, by name.
    Signal {
        name: String,
    },
    /// A condition on the instance's variables, checked after every step.
    Conditional {
        condition: Expr,
    },
    /// An escalation (boundary events only): `code` (`None`: any), and
    /// `camunda:escalationCodeVariable`.
    Escalation {
        code: Option<String>,
        code_variable: Option<String>,
    },
    /// Compensation (boundary events only): never armed; its activity's
    /// compensation handler runs when compensation is thrown.
    Compensation,
    /// The cancellation of a transaction (boundary events on transactions only).
    Cancel,
    /// An explicit trigger through the API (a receive task without a message,
    /// which Camunda resumes with `trigger`).
    Trigger,
}

/// When a timer fires.
#[derive(Debug, Clone)]
pub enum Timer {
    /// `timeDuration`: after this long.
    Duration(Template),
    /// `timeDate`: at this instant.
    Date(Template),
    /// `timeCycle`: repeatedly on boundary and start events; an intermediate
    /// catch event waits for its first occurrence only, as Camunda 7 does.
    Cycle(Template),
}

/// A Camunda Form (`.form`, form-js) linked from a user task or a none
/// start event.
#[derive(Debug, Clone)]
pub enum FormLink {
    /// `camunda:formRef` or `zeebe:formDefinition formId`: a deployed form by
    /// its `id`.
    Ref { id: String, binding: FormBinding },
    /// `camunda:formKey="camunda-forms:deployment:NAME"` (or `:app:`): the
    /// form file of that name deployed with the diagram.
    Resource(String),
    /// A `zeebe:userTaskForm` inside the diagram (`camunda-forms:bpmn:ID`).
    Embedded(std::sync::Arc<super::camunda_form::FormDoc>),
}

/// Which version of a form a [`FormLink::Ref`] means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormBinding {
    /// The newest version, when the form is shown or submitted.
    Latest,
    /// The version that was newest when the diagram was deployed.
    Deployment,
    Version(i32),
}

/// A user task's assignment and form.
#[derive(Debug, Clone, Default)]
pub struct UserTask {
    pub form: Vec<FormField>,
    pub form_key: Option<String>,
    /// A Camunda Form the task is completed through.
    pub form_link: Option<FormLink>,
    pub assignee: Option<Template>,
    pub candidate_users: Option<Template>,
    pub candidate_groups: Option<Template>,
    pub due_date: Option<Template>,
    pub follow_up_date: Option<Template>,
    pub priority: Option<Template>,
}

/// How a service (or send) task does its work.
#[derive(Debug, Clone)]
pub enum ServiceTask {
    /// No implementation: passes straight through (with a deploy warning).
    None,
    /// `camunda:expression`, evaluated inline.
    Expression {
        expr: Expr,
        result_variable: Option<String>,
    },
    /// `camunda:connector`: a job for the job executor.
    Connector(Connector),
    /// `camunda:type="external"`: a job that external workers fetch by topic.
    External { topic: String },
    /// `camunda:delegateExpression="${name}"` or `camunda:class="name"`: a job
    /// run by the service handler registered under that name.
    Handler { name: String },
}

/// A `camunda:connector`.
#[derive(Debug, Clone)]
pub struct Connector {
    pub id: String,
    pub inputs: Vec<Param>,
    pub outputs: Vec<Param>,
}

/// A script task.
#[derive(Debug, Clone)]
pub struct ScriptTask {
    pub script: Script,
    pub result_variable: Option<String>,
}

/// An embedded subprocess.
#[derive(Debug, Clone)]
pub struct SubProcess {
    /// Its none start event (`usize::MAX`: it has none, see `implicit`).
    pub start: NodeIdx,
    /// Without a start event: its elements without incoming sequence flows,
    /// all started when it starts.
    pub implicit: Vec<NodeIdx>,
    /// A `transaction`: a cancel end event inside it cancels it, compensating
    /// what completed in it.
    pub transaction: bool,
    /// An `adHocSubProcess`: its elements without incoming flows are
    /// enabled (they are `implicit`), started all at once or one at a time.
    pub ad_hoc: Option<Box<AdHoc>>,
}

/// How an ad-hoc subprocess runs its enabled activities.
#[derive(Debug, Clone)]
pub struct AdHoc {
    /// `ordering="Sequential"`: one enabled element at a time, in document
    /// order, each after everything inside has finished; else all at once.
    pub sequential: bool,
    /// `completionCondition`: evaluated (seen from the subprocess) after each
    /// inner activity completes; when it holds, no further element starts.
    pub completion: Option<Expr>,
    /// `cancelRemainingInstances` (default true): when the completion
    /// condition holds, what still runs inside is cancelled.
    pub cancel_remaining: bool,
}

/// `camunda:inputOutput`.
#[derive(Debug, Clone, Default)]
pub struct Io {
    pub inputs: Vec<Param>,
    pub outputs: Vec<Param>,
}

impl Io {
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty() && self.outputs.is_empty()
    }
}

/// One input or output parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub value: ParamValue,
}

/// The value of a parameter: text (possibly with expressions), a list or a map.
#[derive(Debug, Clone)]
pub enum ParamValue {
    Null,
    Text(Template),
    List(Vec<ParamValue>),
    Map(Vec<(String, ParamValue)>),
}

/// A sequence flow.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub name: Option<String>,
    pub source: NodeIdx,
    pub target: NodeIdx,
    pub condition: Option<Expr>,
    /// `camunda:executionListener`s (event `take`).
    pub listeners: Vec<Listener>,
}
