//! From the XML tree to validated [`Definitions`].
//!
//! Reading never stops at the first problem: every error, every unsupported
//! element and every warning is collected with its line:column and element id,
//! so that a user fixes a diagram in one round. A file with any error or
//! unsupported element is refused as a whole — the engine never runs a diagram
//! it cannot run faithfully.
//!
//! This module holds the entry points, the walk through definitions,
//! processes and subprocesses, and what every flow node has in common (id,
//! loops, listeners, mappings, documentation). What is particular to a kind of
//! element is read in the module of its family — tasks, events, gateways,
//! subprocesses, call activities — dispatched by an exhaustive `match` on the
//! node's tag (`Reader::kind`), like the engine's behaviours; what needs a
//! whole process (flows, boundaries, links, compensation, lanes, the final
//! checks) is resolved once every node is read.

mod boundary_event;
mod call_activity;
mod catch_event;
mod compensation;
mod data;
mod elements;
mod flows;
mod forms;
mod gateways;
mod lanes;
mod link_event;
mod loops;
mod start_event;
mod subprocess;
mod tasks;
mod throw_event;
mod triggers;
mod validate;

use std::collections::{BTreeMap, HashMap};

use super::camunda::{self, Report};
use super::definitions::*;
use super::diagnostic::{Diagnostic, ParseError, Severity};
use super::diagram;
use super::expr::{self, Expr, Template};
use super::time;
use super::xml::{self, Element, Limits, LineIndex, Ns};
use super::zeebe;
use throw_event::is_throw_definition;

/// Options for reading a file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limits: Limits,
    /// Names that `camunda:class` / `camunda:delegateExpression="${name}"` may use.
    pub service_handlers: Vec<String>,
}

/// Reads and validates a BPMN file.
pub fn parse(bytes: &[u8]) -> Result<Definitions, ParseError> {
    parse_with(bytes, &Options::default())
}

/// Reads and validates a BPMN file with explicit options.
pub fn parse_with(bytes: &[u8], options: &Options) -> Result<Definitions, ParseError> {
    let (defs, diags) = read(bytes, options)?;
    if diags.iter().any(|d| d.severity != Severity::Warning) {
        return Err(ParseError { diagnostics: diags });
    }
    match defs {
        Some(mut d) => {
            d.warnings = diags;
            Ok(d)
        }
        None => Err(ParseError { diagnostics: diags }),
    }
}

/// Reads a BPMN file for drawing only: unlike [`parse`], a file with unsupported
/// elements or errors in its processes is still returned (its `warnings` then
/// hold every problem found, errors included). Fails only when the file is not
/// readable XML or not BPMN `<definitions>`. Never run what this returns.
pub fn parse_for_drawing(bytes: &[u8]) -> Result<Definitions, ParseError> {
    let (defs, diags) = read(bytes, &Options::default())?;
    match defs {
        Some(mut d) => {
            d.warnings = diags;
            Ok(d)
        }
        None => Err(ParseError { diagnostics: diags }),
    }
}

/// Reads the definitions and collects every problem, sorted by position. Fails
/// only on XML-level errors.
fn read(
    bytes: &[u8],
    options: &Options,
) -> Result<(Option<Definitions>, Vec<Diagnostic>), ParseError> {
    let text = match xml::decode_within(bytes, &options.limits) {
        Ok(text) => text,
        // An undecodable file is shown as far as it is valid, which is where the problem is.
        Err(e) => return Err(ParseError::xml(e, &String::from_utf8_lossy(bytes))),
    };
    let root = xml::read(&text, &options.limits).map_err(|e| ParseError::xml(e, &text))?;
    // `=expression` is FEEL in files for Camunda 8 only; elsewhere it stays text.
    let _feel = expr::FeelPrefix::set(
        text.contains("http://camunda.org/schema/zeebe/1.0")
            || text.contains("executionPlatform=\"Camunda Cloud\""),
    );
    let mut reader = Reader {
        text: &text,
        lines: LineIndex::new(&text),
        diags: Vec::new(),
        options,
        messages: HashMap::new(),
        correlations: HashMap::new(),
        errors: HashMap::new(),
        escalations: HashMap::new(),
        signals: HashMap::new(),
        elements: BTreeMap::new(),
        data_object_refs: HashMap::new(),
        user_task_forms: HashMap::new(),
    };
    let defs = reader.definitions(&root);
    let mut diags = reader.diags;
    diags.sort_by_key(|d| (d.line, d.column));
    Ok((defs, diags))
}

struct Reader<'a> {
    text: &'a str,
    lines: LineIndex,
    diags: Vec<Diagnostic>,
    options: &'a Options,
    /// message id -> name
    messages: HashMap<String, Option<String>>,
    /// error id -> what it throws
    errors: HashMap<String, ErrorThrow>,
    /// signal id -> name
    signals: HashMap<String, Option<String>>,
    /// escalation id -> escalationCode
    escalations: HashMap<String, Option<String>>,
    elements: BTreeMap<String, ElementInfo>,
    /// `dataObjectReference` id -> the `dataObject` it refers to.
    data_object_refs: HashMap<String, String>,
    /// `zeebe:subscription correlationKey` by message name.
    correlations: HashMap<String, Expr>,
    /// The `zeebe:userTaskForm`s of the process being read: id -> JSON.
    user_task_forms: HashMap<String, String>,
}

impl Report for Reader<'_> {
    fn error(&mut self, at: &Element, owner: &Element, message: String) {
        self.push_for(Severity::Error, at, owner, message);
    }
    fn unsupported(&mut self, at: &Element, owner: &Element, message: String) {
        self.push_for(Severity::Unsupported, at, owner, message);
    }
}

impl Reader<'_> {
    fn error(&mut self, at: &Element, message: String) {
        self.push(Severity::Error, at, message);
    }
    fn unsupported(&mut self, at: &Element, message: String) {
        self.push(Severity::Unsupported, at, message);
    }
}

/// The BPMN elements that can stand in a process or subprocess and that this
/// engine does not run yet.
const UNSUPPORTED_NODES: &[&str] = &[
    "implicitThrowEvent",
    "choreographyTask",
    "subChoreography",
    "callChoreography",
];

/// Flowable's and Activiti's extension elements (inside `extensionElements`)
/// whose meaning would be lost if they were passed over: listeners, injected
/// fields, variables passed in and out (except a call activity's, read as
/// Camunda's), form properties, exception mappings, multi-instance
/// aggregation.
const VENDOR_ELEMENTS_REFUSED: &[&str] = &[
    "executionListener",
    "taskListener",
    "eventListener",
    "field",
    "in",
    "out",
    "formProperty",
    "mapException",
    "variableAggregation",
];

/// Flowable's and Activiti's attributes that change what runs and that this
/// engine does not run: refused by name rather than passed over. (Those that
/// only tune a job executor, such as `exclusive`, change nothing here.)
const VENDOR_ATTRIBUTES_REFUSED: &[&str] = &[
    "skipExpression",
    "triggerable",
    "useLocalScopeForResultVariable",
    "storeResultVariableAsTransient",
];

/// Why BPMN's content-based correlation is refused (`{}`: the element).
const CORRELATION_REFUSED: &str = "{} (correlating messages by their content) is not supported; a message reaches the instances waiting for its name, narrowed by the business key or correlation key sent with it";

/// Elements inside a process that carry no execution semantics here.
const INERT: &[&str] = &[
    "incoming",
    "outgoing",
    // Reported on their activity by `node`.
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "dataInputAssociation",
    "dataOutputAssociation",
    "documentation",
    "extensionElements",
    "laneSet",
    "ioSpecification",
    "property",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "dataInput",
    "dataOutput",
    "textAnnotation",
    "association",
    "group",
    "category",
    "categoryValueRef",
    "auditing",
    // Read with its ad-hoc subprocess.
    "completionCondition",
    "monitoring",
    "supports",
    "resourceRole",
    "performer",
    "humanPerformer",
    "potentialOwner",
    "ioBinding",
];

impl<'a> Reader<'a> {
    fn push(&mut self, severity: Severity, at: &Element, message: String) {
        self.push_for(severity, at, at, message);
    }

    /// Like `push`, but names `owner` (an element with an id) as the element concerned.
    fn push_for(&mut self, severity: Severity, at: &Element, owner: &Element, message: String) {
        let position = self.lines.position(self.text, at.offset);
        self.diags
            .push(Diagnostic::about(severity, position, owner, message));
    }

    fn warning(&mut self, at: &Element, message: String) {
        self.push(Severity::Warning, at, message);
    }

    fn definitions(&mut self, root: &Element) -> Option<Definitions> {
        if !root.is(Ns::Bpmn, "definitions") {
            let message = if root.name == "definitions" {
                "the root element is not in the BPMN 2.0 namespace http://www.omg.org/spec/BPMN/20100524/MODEL".to_string()
            } else {
                format!(
                    "the root element is <{}>, not a BPMN <definitions>",
                    root.name
                )
            };
            self.error(root, message);
            return None;
        }
        self.collect_elements(root, None);
        self.name_groups(root);
        let mut messages = Vec::new();
        for m in root.children_named(Ns::Bpmn, "message") {
            let Some(id) = m.id() else { continue };
            let name = m.attr("name").map(str::to_string);
            self.messages.insert(id.to_string(), name.clone());
            if let (Some(name), Some(key)) = (
                &name,
                zeebe::extension(m, "subscription").and_then(|s| s.attr("correlationKey")),
            ) {
                let text = key.trim();
                let text = if text.starts_with('=') {
                    text.to_string()
                } else {
                    format!("={text}")
                };
                match Expr::compile(&text) {
                    Ok(e) => {
                        self.correlations.insert(name.clone(), e);
                    }
                    Err(e) => self.error(m, format!("zeebe:subscription correlationKey: {e}")),
                }
            }
            if let Some(name) = name {
                messages.push(Message {
                    id: id.to_string(),
                    name,
                });
            }
        }
        for e in root.children_named(Ns::Bpmn, "escalation") {
            if let Some(id) = e.id() {
                let code = e
                    .attr("escalationCode")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string);
                self.escalations.insert(id.to_string(), code);
            }
        }
        for s in root.children_named(Ns::Bpmn, "signal") {
            if let Some(id) = s.id() {
                self.signals
                    .insert(id.to_string(), s.attr("name").map(str::to_string));
            }
        }
        for e in root.children_named(Ns::Bpmn, "error") {
            let Some(id) = e.id() else { continue };
            let text = |v: Option<&str>| {
                v.map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
            };
            self.errors.insert(
                id.to_string(),
                ErrorThrow {
                    code: text(e.attr("errorCode")),
                    message: text(e.attr_ns(Ns::Camunda, "errorMessage")),
                },
            );
        }
        self.correlations_refused(root);
        let process_els: Vec<&Element> = root.children_named(Ns::Bpmn, "process").collect();
        let any_executable = process_els
            .iter()
            .any(|p| p.attr("isExecutable").map(str::trim) == Some("true"));
        if !any_executable && !process_els.is_empty() {
            self.warning(
                process_els[0],
                "no process is marked isExecutable=\"true\"; every process is treated as executable".into(),
            );
        }
        let mut processes = Vec::new();
        for p in &process_els {
            let executable = p.attr("isExecutable").map(str::trim) == Some("true");
            processes.push(self.process(p, executable, executable || !any_executable));
        }
        let mut participants = Vec::new();
        for c in root.children_named(Ns::Bpmn, "collaboration") {
            for part in c.children_named(Ns::Bpmn, "participant") {
                let Some(id) = part.id() else { continue };
                let process = part.attr("processRef").map(str::to_string);
                if let Some(pref) = &process
                    && !processes.iter().any(|p: &Process| p.id == *pref)
                {
                    self.error(
                        part,
                        format!("processRef \"{pref}\" is not a process of this file"),
                    );
                }
                participants.push(Participant {
                    id: id.to_string(),
                    name: part.attr("name").map(str::to_string),
                    process,
                });
            }
        }
        let diagrams = root
            .children_named(Ns::BpmnDi, "BPMNDiagram")
            .map(diagram::read)
            .collect();
        let default_process = processes
            .iter()
            .position(|p| p.runnable && p.is_main)
            .or_else(|| processes.iter().position(|p| p.runnable));
        if processes.is_empty() {
            self.error(root, "the file contains no process".into());
        }
        Some(Definitions {
            id: root.id().map(str::to_string),
            name: root.attr("name").map(str::to_string),
            processes,
            default_process,
            messages,
            participants,
            elements: std::mem::take(&mut self.elements),
            diagrams,
            warnings: Vec::new(),
        })
    }

    /// Refuses BPMN's correlation of messages by content, by name: the
    /// `correlationProperty` elements of the file and the `correlationKey`s
    /// of its collaborations (a process's `correlationSubscription` is
    /// refused with its flow elements).
    fn correlations_refused(&mut self, root: &Element) {
        for c in root.children_named(Ns::Bpmn, "correlationProperty") {
            self.unsupported(c, CORRELATION_REFUSED.replace("{}", c.name));
        }
        for collab in root
            .children
            .iter()
            .filter(|c| c.is(Ns::Bpmn, "collaboration") || c.is(Ns::Bpmn, "choreography"))
        {
            for k in collab.children_named(Ns::Bpmn, "correlationKey") {
                self.unsupported(k, CORRELATION_REFUSED.replace("{}", k.name));
            }
        }
    }

    fn process(&mut self, el: &Element, executable: bool, runnable: bool) -> Process {
        let properties = camunda::properties(el);
        let is_main = properties
            .iter()
            .any(|(k, v)| k == "is_main" && v.trim().eq_ignore_ascii_case("true"));
        let head = ProcessHead {
            id: el.id().unwrap_or_default().to_string(),
            name: el.attr("name").map(str::to_string),
            executable,
            runnable,
            is_main,
            documentation: documentation(el),
            properties,
            version_tag: el.attr_ns(Ns::Camunda, "versionTag").map(str::to_string),
            correlations: self.correlations.clone(),
            // A refused listener is reported; the process is then refused.
            listeners: camunda::listeners(
                self,
                el,
                &[("start", ListenerEvent::Start), ("end", ListenerEvent::End)],
            )
            .unwrap_or_default(),
        };
        if head.id.is_empty() {
            self.error(el, "a process needs an id".into());
        }
        if !runnable {
            // Not ours to run (e.g. a partner pool): kept for drawing only.
            return Process::new(head, Vec::new(), Vec::new(), Vec::new());
        }
        let mut b = Builder {
            boundary_refs: Vec::new(),
            associations: Vec::new(),
            nodes: Vec::new(),
            node_els: Vec::new(),
            flows: Vec::new(),
            beside_refused: std::collections::HashSet::new(),
        };
        self.embedded_forms(el);
        self.container(&mut b, el, None);
        self.resolve_boundaries(&mut b);
        self.resolve_compensation(&mut b);
        self.resolve_links(&mut b);
        let flows = self.resolve_flows(&mut b);
        subprocess::implicit_subprocess_starts(&mut b.nodes);
        let lanes = self.lanes(el, &mut b.nodes);
        self.validate(el, &b, &flows);
        self.check_complex_gateways(&b);
        self.instantiating_gateways(&mut b, &flows);
        Process::new(head, b.nodes, flows, lanes)
    }

    /// Reads the flow elements of a process or subprocess.
    fn container<'e>(
        &mut self,
        b: &mut Builder<'e>,
        container: &'e Element,
        scope: Option<NodeIdx>,
    ) {
        for child in &container.children {
            if child.ns != Ns::Bpmn {
                continue;
            }
            let name = child.name;
            if name == "sequenceFlow" {
                b.flows.push((child, scope));
            } else if name == "correlationSubscription" {
                self.unsupported(child, CORRELATION_REFUSED.replace("{}", name));
            } else if UNSUPPORTED_NODES.contains(&name) {
                let detail = event_definitions(child)
                    .map(|d| format!(" ({})", d.name))
                    .next()
                    .unwrap_or_default();
                self.unsupported(
                    child,
                    format!("{name}{detail} is not supported by this engine yet"),
                );
            } else if INERT.contains(&name) {
                // No execution semantics, except what links a compensation
                // boundary event to its handler.
                if name == "association"
                    && let (Some(s), Some(t)) = (child.attr("sourceRef"), child.attr("targetRef"))
                {
                    b.associations
                        .push((s.trim().to_string(), t.trim().to_string()));
                }
            } else if let Some(idx) = self.node(b, child, scope) {
                if matches!(
                    b.nodes[idx].kind,
                    NodeKind::SubProcess(_) | NodeKind::EventSubProcess(_)
                ) {
                    self.container(b, child, Some(idx));
                    self.subprocess_start(b, child, idx);
                }
            } else if NodeTag::of(name).is_none() {
                self.unsupported(child, format!("<{name}> is not supported inside a process"));
            }
        }
    }

    /// Reads one flow node: here what every kind has (id, loops, listeners,
    /// mappings, documentation...), the rest in its family's reader (see
    /// `kind`). Returns its index, or `None` when it was refused.
    fn node<'e>(
        &mut self,
        b: &mut Builder<'e>,
        el: &'e Element,
        scope: Option<NodeIdx>,
    ) -> Option<NodeIdx> {
        let tag = NodeTag::of(el.name)?;
        let Some(id) = el.id() else {
            self.error(el, format!("a {} needs an id", el.name));
            return None;
        };
        let loops = self.loop_characteristics(el);
        let for_compensation = flag(el.attr("isForCompensation"));
        let mut events = vec![("start", ListenerEvent::Start), ("end", ListenerEvent::End)];
        if tag == NodeTag::UserTask {
            events.extend(tasks::USER_TASK_EVENTS);
        }
        let listeners = camunda::listeners(self, el, &events);
        let extensions_ok = self.node_extensions(el, tag);
        let defs: Vec<&Element> = event_definitions(el).collect();
        let mut attached_ref: Option<String> = None;
        let scope_kind = scope.map(|s| &b.nodes[s].kind);
        let kind = self.kind(tag, el, &defs, scope_kind, &mut attached_ref);
        let mut io = match zeebe::io(self, el) {
            Some(io) => io,
            None => camunda::io(self, el),
        };
        let data_ok = self.data_associations(el, takes_mappings(tag, el), &mut io);
        let error_mappings = self.error_mappings(el, kind.as_ref());
        // Refused only now, so that every part reports its problems in one round.
        let kind = kind?;
        let error_mappings = error_mappings?;
        let (standard_loop, multi) = loops?;
        let listeners = listeners?;
        if !extensions_ok || !data_ok {
            return None;
        }
        // Flowable's and Activiti's `async` is Camunda's `asyncBefore`: a job
        // before the activity starts.
        let async_before = flag(el.attr_ns(Ns::Camunda, "asyncBefore"))
            || flag(camunda::vendor_value(el, "async"));
        let retry = self.retry(el).ok()?;
        let node = Node {
            id: id.to_string(),
            name: el.attr("name").map(str::to_string),
            tag: tag.name(),
            kind,
            scope,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            default_flow: None,
            documentation: documentation(el),
            io,
            async_before,
            async_after: flag(el.attr_ns(Ns::Camunda, "asyncAfter")),
            retry,
            boundaries: Vec::new(),
            lane: None,
            properties: camunda::properties(el),
            multi,
            standard_loop,
            listeners,
            error_mappings,
            compensation: None,
            for_compensation,
        };
        if !self.loops_fit(el, &node) {
            return None;
        }
        b.nodes.push(node);
        b.node_els.push(el);
        let idx = b.nodes.len() - 1;
        if let Some(r) = attached_ref {
            b.boundary_refs.push((idx, r, el));
        }
        Some(idx)
    }

    /// The kind of a node, read by the reader of its family; `scope` is the
    /// kind of the subprocess it stands in (`None`: the process). A boundary
    /// event also gives the id of its activity (`attached_to`).
    fn kind(
        &mut self,
        tag: NodeTag,
        el: &Element,
        defs: &[&Element],
        scope: Option<&NodeKind>,
        attached_to: &mut Option<String>,
    ) -> Option<NodeKind> {
        match tag {
            NodeTag::StartEvent => self.start_event(el, defs, scope),
            NodeTag::EndEvent => self.end_event(el, defs),
            NodeTag::IntermediateThrowEvent => self.intermediate_throw_event(el, defs),
            NodeTag::IntermediateCatchEvent => self.intermediate_catch_event(el, defs),
            NodeTag::BoundaryEvent => {
                let (kind, activity) = self.boundary_event(el, defs)?;
                *attached_to = Some(activity);
                Some(kind)
            }
            NodeTag::Task => self.task(),
            NodeTag::ManualTask => self.manual_task(),
            NodeTag::UserTask => self.user_task(el),
            NodeTag::ServiceTask => self.service_task(el),
            NodeTag::SendTask => self.send_task(el),
            NodeTag::ReceiveTask => self.receive_task(el),
            NodeTag::ScriptTask => self.script_task(el),
            NodeTag::BusinessRuleTask => self.business_rule_task(el),
            NodeTag::ExclusiveGateway => self.exclusive_gateway(),
            NodeTag::ParallelGateway => self.parallel_gateway(),
            NodeTag::InclusiveGateway => self.inclusive_gateway(),
            NodeTag::EventBasedGateway => self.event_gateway(el),
            NodeTag::ComplexGateway => self.complex_gateway(el),
            NodeTag::CallActivity => self.call_activity(el),
            NodeTag::SubProcess => self.sub_process(el),
            NodeTag::Transaction => self.transaction(),
            NodeTag::AdHocSubProcess => self.ad_hoc_sub_process(el),
        }
    }

    /// Refuses the extensions a node of any kind cannot have here: Camunda 8
    /// listeners, and input/output mappings where they mean nothing. `false`
    /// when there is one.
    fn node_extensions(&mut self, el: &Element, tag: NodeTag) -> bool {
        let mut ok = true;
        for ext in zeebe::extensions(el) {
            if ext.name == "executionListeners" || ext.name == "taskListeners" {
                self.push_for(
                    Severity::Unsupported,
                    ext,
                    el,
                    format!(
                        "zeebe:{} (job workers as listeners) are not supported",
                        ext.name
                    ),
                );
                ok = false;
            }
        }
        // Flowable's and Activiti's extension elements that change what runs
        // are not read (only the attributes `camunda::vendor_attr` lists are):
        // refused by name rather than run without them.
        for ext in el
            .children_named(Ns::Bpmn, "extensionElements")
            .flat_map(|x| x.children.iter())
            .filter(|c| matches!(c.ns, Ns::Flowable | Ns::Activiti))
            .filter(|c| VENDOR_ELEMENTS_REFUSED.contains(&c.name))
            // A call activity's `in` / `out` are read as Camunda's.
            .filter(|c| !(tag == NodeTag::CallActivity && (c.name == "in" || c.name == "out")))
        {
            let prefix = if ext.ns == Ns::Flowable {
                "flowable"
            } else {
                "activiti"
            };
            self.push_for(
                Severity::Unsupported,
                ext,
                el,
                format!(
                    "{prefix}:{} is not read by this engine; write it with the camunda: extensions",
                    ext.name
                ),
            );
            ok = false;
        }
        for (ns, prefix) in [(Ns::Flowable, "flowable"), (Ns::Activiti, "activiti")] {
            for attr in VENDOR_ATTRIBUTES_REFUSED {
                if el.attr_ns(ns, attr).is_some() {
                    self.push_for(
                        Severity::Unsupported,
                        el,
                        el,
                        format!("{prefix}:{attr} is not run by this engine"),
                    );
                    ok = false;
                }
            }
        }
        for ext in camunda::extensions(el) {
            match ext.name {
                "inputOutput" if !takes_mappings(tag, el) => {
                    self.push_for(
                        Severity::Unsupported,
                        ext,
                        el,
                        "input/output mappings are supported on tasks, subprocesses and message or signal throw events only".into(),
                    );
                    ok = false;
                }
                _ => {}
            }
        }
        ok
    }

    /// `camunda:failedJobRetryTimeCycle`, the retries of a failing job.
    fn retry(&mut self, el: &Element) -> Result<Option<time::RetryCycle>, ()> {
        match camunda::extensions(el).find(|c| c.name == "failedJobRetryTimeCycle") {
            None => Ok(None),
            Some(c) => match time::parse_retry_cycle(&c.text) {
                Ok(r) => Ok(Some(r)),
                Err(e) => {
                    self.push_for(
                        Severity::Error,
                        c,
                        el,
                        format!("camunda:failedJobRetryTimeCycle: {e}"),
                    );
                    Err(())
                }
            },
        }
    }

    /// Like `opt_template`, for an attribute that Flowable and Activiti
    /// spell and mean as Camunda does (`camunda::vendor_attr`).
    fn vendor_template(&mut self, el: &Element, attr: &str) -> Result<Option<Template>, ()> {
        match camunda::vendor_attr(el, attr).filter(|(s, _)| !s.trim().is_empty()) {
            None => Ok(None),
            Some((text, prefix)) => match Template::parse(text) {
                Ok(t) => Ok(Some(t)),
                Err(e) => {
                    self.error(el, format!("{prefix}:{attr}: {e}"));
                    Err(())
                }
            },
        }
    }

    fn opt_template(&mut self, el: &Element, attr: &str) -> Result<Option<Template>, ()> {
        match el
            .attr_ns(Ns::Camunda, attr)
            .filter(|s| !s.trim().is_empty())
        {
            None => Ok(None),
            Some(text) => match Template::parse(text) {
                Ok(t) => Ok(Some(t)),
                Err(e) => {
                    self.error(el, format!("camunda:{attr}: {e}"));
                    Err(())
                }
            },
        }
    }
}

struct Builder<'e> {
    /// Boundary events and the id of the activity they are attached to.
    boundary_refs: Vec<(NodeIdx, String, &'e Element<'e>)>,
    /// `association`s: `(sourceRef, targetRef)` (compensation handlers).
    associations: Vec<(String, String)>,
    nodes: Vec<Node>,
    node_els: Vec<&'e Element<'e>>,
    flows: Vec<(&'e Element<'e>, Option<NodeIdx>)>,
    /// Nodes that a sequence flow joins to a refused element, or boundary
    /// events of a refused activity: their missing flows are not reported
    /// again (the refusal already says what is wrong).
    beside_refused: std::collections::HashSet<NodeIdx>,
}

fn flag(v: Option<&str>) -> bool {
    v.map(str::trim) == Some("true")
}

fn documentation(el: &Element) -> Option<String> {
    let parts: Vec<&str> = el
        .children_named(Ns::Bpmn, "documentation")
        .map(|d| d.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("\n\n"))
    }
}

/// Whether `camunda:inputOutput` means something on this element: tasks,
/// subprocesses, and message or signal throw events (their payload).
fn takes_mappings(tag: NodeTag, el: &Element) -> bool {
    match tag {
        NodeTag::Task
        | NodeTag::ManualTask
        | NodeTag::UserTask
        | NodeTag::ServiceTask
        | NodeTag::SendTask
        | NodeTag::ScriptTask
        | NodeTag::ReceiveTask
        | NodeTag::SubProcess
        | NodeTag::Transaction
        | NodeTag::AdHocSubProcess
        | NodeTag::CallActivity
        | NodeTag::BusinessRuleTask => true,
        NodeTag::IntermediateThrowEvent | NodeTag::EndEvent => {
            event_definitions(el).any(is_throw_definition)
        }
        NodeTag::StartEvent
        | NodeTag::IntermediateCatchEvent
        | NodeTag::BoundaryEvent
        | NodeTag::ExclusiveGateway
        | NodeTag::ParallelGateway
        | NodeTag::InclusiveGateway
        | NodeTag::EventBasedGateway
        | NodeTag::ComplexGateway => false,
    }
}

fn event_definitions<'s, 'a>(el: &'s Element<'a>) -> impl Iterator<Item = &'s Element<'a>> {
    el.children.iter().filter(|c| {
        c.ns == Ns::Bpmn && (c.name.ends_with("EventDefinition") || c.name == "eventDefinitionRef")
    })
}

/// The flow node tags this engine reads. Each has its reader in the module
/// of its family, dispatched by `Reader::kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeTag {
    StartEvent,
    EndEvent,
    IntermediateThrowEvent,
    IntermediateCatchEvent,
    Task,
    ManualTask,
    UserTask,
    ServiceTask,
    SendTask,
    BusinessRuleTask,
    ScriptTask,
    ReceiveTask,
    ExclusiveGateway,
    ParallelGateway,
    InclusiveGateway,
    EventBasedGateway,
    ComplexGateway,
    SubProcess,
    Transaction,
    AdHocSubProcess,
    CallActivity,
    BoundaryEvent,
}

impl NodeTag {
    const ALL: [NodeTag; 22] = [
        NodeTag::StartEvent,
        NodeTag::EndEvent,
        NodeTag::IntermediateThrowEvent,
        NodeTag::IntermediateCatchEvent,
        NodeTag::Task,
        NodeTag::ManualTask,
        NodeTag::UserTask,
        NodeTag::ServiceTask,
        NodeTag::SendTask,
        NodeTag::BusinessRuleTask,
        NodeTag::ScriptTask,
        NodeTag::ReceiveTask,
        NodeTag::ExclusiveGateway,
        NodeTag::ParallelGateway,
        NodeTag::InclusiveGateway,
        NodeTag::EventBasedGateway,
        NodeTag::ComplexGateway,
        NodeTag::SubProcess,
        NodeTag::Transaction,
        NodeTag::AdHocSubProcess,
        NodeTag::CallActivity,
        NodeTag::BoundaryEvent,
    ];

    /// The tag of a BPMN element named `name`, if it is a flow node read here.
    fn of(name: &str) -> Option<NodeTag> {
        NodeTag::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The BPMN local name, as `'static` (what a node keeps).
    fn name(self) -> &'static str {
        match self {
            NodeTag::StartEvent => "startEvent",
            NodeTag::EndEvent => "endEvent",
            NodeTag::IntermediateThrowEvent => "intermediateThrowEvent",
            NodeTag::IntermediateCatchEvent => "intermediateCatchEvent",
            NodeTag::Task => "task",
            NodeTag::ManualTask => "manualTask",
            NodeTag::UserTask => "userTask",
            NodeTag::ServiceTask => "serviceTask",
            NodeTag::SendTask => "sendTask",
            NodeTag::BusinessRuleTask => "businessRuleTask",
            NodeTag::ScriptTask => "scriptTask",
            NodeTag::ReceiveTask => "receiveTask",
            NodeTag::ExclusiveGateway => "exclusiveGateway",
            NodeTag::ParallelGateway => "parallelGateway",
            NodeTag::InclusiveGateway => "inclusiveGateway",
            NodeTag::EventBasedGateway => "eventBasedGateway",
            NodeTag::ComplexGateway => "complexGateway",
            NodeTag::SubProcess => "subProcess",
            NodeTag::Transaction => "transaction",
            NodeTag::AdHocSubProcess => "adHocSubProcess",
            NodeTag::CallActivity => "callActivity",
            NodeTag::BoundaryEvent => "boundaryEvent",
        }
    }
}
