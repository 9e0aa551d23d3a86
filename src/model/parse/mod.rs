//! From the XML tree to validated [`Definitions`].
//!
//! Reading never stops at the first problem: every error, every unsupported
//! element and every warning is collected with its line:column and element id,
//! so that a user fixes a diagram in one round. A file with any error or
//! unsupported element is refused as a whole — the engine never runs a diagram
//! it cannot run faithfully.

mod flows;
mod lanes;
mod validate;

use std::collections::{BTreeMap, HashMap};

use super::camunda::{self, Report};
use super::definitions::*;
use super::diagnostic::{Diagnostic, ParseError, Severity};
use super::diagram;
use super::expr::{self, Expr, Script, Template};
use super::time;
use super::xml::{self, Element, Limits, LineIndex, Ns};
use super::zeebe;

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
    /// `zeebe:subscription correlationKey` by message name.
    correlations: HashMap<String, Expr>,
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
    "complexGateway",
    "adHocSubProcess",
    "implicitThrowEvent",
    "choreographyTask",
    "subChoreography",
    "callChoreography",
];

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
    "monitoring",
    "supports",
    "correlationSubscription",
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

    /// Records every BPMN element with an id (and reports duplicate ids).
    fn collect_elements(&mut self, el: &Element, process: Option<&str>) {
        let mut process = process;
        if el.ns == Ns::Bpmn
            && let Some(id) = el.id()
        {
            if el.name == "process" {
                process = Some(id);
            }
            let info = ElementInfo {
                tag: el.name.to_string(),
                name: display_name(el),
                event_definitions: event_definitions(el).map(|d| d.name.to_string()).collect(),
                attached_to: el.attr("attachedToRef").map(str::to_string),
                interrupting: el
                    .attr("cancelActivity")
                    .or_else(|| el.attr("isInterrupting"))
                    .map(|v| v.trim() != "false")
                    .unwrap_or(true),
                triggered_by_event: el.attr("triggeredByEvent").map(str::trim) == Some("true"),
                for_compensation: flag(el.attr("isForCompensation")),
                process: process.map(str::to_string),
                default_flow: el.attr("default").map(|d| d.trim().to_string()),
                conditional: el.child(Ns::Bpmn, "conditionExpression").is_some(),
                source: el.attr("sourceRef").map(|r| r.trim().to_string()),
                loop_kind: loop_kind(el),
            };
            if self.elements.insert(id.to_string(), info).is_some() {
                self.error(
                    el,
                    format!("the id \"{id}\" is used by more than one element"),
                );
            }
        }
        for c in &el.children {
            if c.ns == Ns::Bpmn {
                self.collect_elements(c, process);
            }
        }
    }

    /// A group is labelled with the value of its category value, not a name.
    fn name_groups(&mut self, el: &Element) {
        if el.is(Ns::Bpmn, "group")
            && let (Some(id), Some(r)) = (el.id(), el.attr("categoryValueRef"))
        {
            let value = self.elements.get(r.trim()).and_then(|c| c.name.clone());
            if let Some(group) = self.elements.get_mut(id)
                && group.name.is_none()
            {
                group.name = value;
            }
        }
        for c in &el.children {
            self.name_groups(c);
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
        };
        if head.id.is_empty() {
            self.error(el, "a process needs an id".into());
        }
        if let Some(l) = camunda::extensions(el).find(|c| c.name == "executionListener") {
            self.push_for(
                Severity::Unsupported,
                l,
                el,
                "listeners on the process itself are not supported; put them on its start and end events".into(),
            );
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
        };
        self.container(&mut b, el, None);
        self.resolve_boundaries(&mut b);
        self.resolve_compensation(&mut b);
        self.resolve_links(&mut b);
        let flows = self.resolve_flows(&mut b);
        for i in 0..b.nodes.len() {
            if matches!(&b.nodes[i].kind, NodeKind::SubProcess(sp) if sp.start == usize::MAX) {
                let implicit = implicit_starts(&b.nodes, Some(i));
                if let NodeKind::SubProcess(sp) = &mut b.nodes[i].kind {
                    sp.implicit = implicit;
                }
            }
        }
        let lanes = self.lanes(el, &mut b.nodes);
        self.validate(el, &b, &flows);
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
                    let start = b.nodes.iter().position(|n| {
                        n.scope == Some(idx) && matches!(n.kind, NodeKind::StartEvent(_))
                    });
                    match (&mut b.nodes[idx].kind, start) {
                        (NodeKind::SubProcess(sp), Some(s)) => sp.start = s,
                        (NodeKind::EventSubProcess(e), Some(s)) => e.start = s,
                        (NodeKind::EventSubProcess(_), None) => self.error(
                            child,
                            "an event subprocess needs a start event with an event definition"
                                .into(),
                        ),
                        // No start event: its elements without incoming flows start
                        // (resolved once the flows are known).
                        _ => {}
                    }
                }
            } else if !is_node_tag(name) {
                self.unsupported(child, format!("<{name}> is not supported inside a process"));
            }
        }
    }

    /// Reads one flow node. Returns its index, or `None` when it was refused.
    fn node<'e>(
        &mut self,
        b: &mut Builder<'e>,
        el: &'e Element,
        scope: Option<NodeIdx>,
    ) -> Option<NodeIdx> {
        let tag = node_tag(el.name)?;
        let Some(id) = el.id() else {
            self.error(el, format!("a {} needs an id", el.name));
            return None;
        };
        let mut ok = true;
        let standard_loop = match el.child(Ns::Bpmn, "standardLoopCharacteristics") {
            None => None,
            Some(l) => match self.standard_loop(el, l) {
                Some(s) => Some(Box::new(s)),
                None => {
                    ok = false;
                    None
                }
            },
        };
        let multi = match el.child(Ns::Bpmn, "multiInstanceLoopCharacteristics") {
            None => None,
            Some(mi) => match self.multi_instance(el, mi) {
                Some(m) => Some(Box::new(m)),
                None => {
                    ok = false;
                    None
                }
            },
        };
        let for_compensation = flag(el.attr("isForCompensation"));
        let mut events = vec![("start", ListenerEvent::Start), ("end", ListenerEvent::End)];
        if tag == "userTask" {
            events.extend([
                ("create", ListenerEvent::Create),
                ("assignment", ListenerEvent::Assignment),
                ("complete", ListenerEvent::Complete),
                ("delete", ListenerEvent::Delete),
            ]);
        }
        let listeners = camunda::listeners(self, el, &events);
        if listeners.is_none() {
            ok = false;
        }
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
        let defs: Vec<&Element> = event_definitions(el).collect();
        let mut attached_ref: Option<String> = None;
        let kind = match tag {
            "startEvent" => {
                let mut start = StartEvent {
                    timer: None,
                    message: None,
                    signal: None,
                    form: Vec::new(),
                    initiator: None,
                };
                let in_event_sub =
                    scope.is_some_and(|s| matches!(b.nodes[s].kind, NodeKind::EventSubProcess(_)));
                let read = match defs.as_slice() {
                    // Its trigger belongs to the event subprocess (read there).
                    _ if in_event_sub => Some(()),
                    [] => Some(()),
                    [d] if d.name == "timerEventDefinition" && scope.is_none() => {
                        self.timer(el, d, true).map(|t| start.timer = Some(t))
                    }
                    [d] if d.name == "messageEventDefinition" && scope.is_none() => {
                        self.message_name(el, d).map(|m| start.message = Some(m))
                    }
                    [d] if d.name == "signalEventDefinition" && scope.is_none() => {
                        self.signal_name(el, d).map(|s| start.signal = Some(s))
                    }
                    [d, ..] => {
                        self.push_for(
                            Severity::Unsupported,
                            d,
                            el,
                            format!("start events with a {} are not supported yet", d.name),
                        );
                        None
                    }
                };
                read.map(|()| {
                    start.form = camunda::form(self, el);
                    start.initiator = el.attr_ns(Ns::Camunda, "initiator").map(str::to_string);
                    NodeKind::StartEvent(Box::new(start))
                })
            }
            "boundaryEvent" => {
                let interrupting = el.attr("cancelActivity").map(str::trim) != Some("false");
                let awaited = match defs.as_slice() {
                    [d] => self.awaited(el, d, true),
                    _ => None,
                };
                let trigger = match defs.as_slice() {
                    _ if awaited.is_some() => awaited.flatten(),
                    [d] if d.name == "compensateEventDefinition" => Some(Catch::Compensation),
                    [d] if d.name == "cancelEventDefinition" => Some(Catch::Cancel),
                    [d] if d.name == "escalationEventDefinition" => self.escalation_catch(el, d),
                    [d] if d.name == "errorEventDefinition" => {
                        if interrupting {
                            self.error_catch(el, d).map(Catch::Error)
                        } else {
                            self.push_for(
                                Severity::Error,
                                el,
                                el,
                                "an error boundary event always interrupts its activity (cancelActivity=\"false\" is not allowed)".into(),
                            );
                            None
                        }
                    }
                    [] => {
                        self.error(el, "a boundary event needs an event definition".into());
                        None
                    }
                    [d, ..] => {
                        self.push_for(
                            Severity::Unsupported,
                            d,
                            el,
                            format!("boundary events with a {} are not supported yet", d.name),
                        );
                        None
                    }
                };
                match (
                    trigger,
                    el.attr("attachedToRef")
                        .map(str::trim)
                        .filter(|r| !r.is_empty()),
                ) {
                    (Some(trigger), Some(r)) => {
                        attached_ref = Some(r.to_string());
                        Some(NodeKind::BoundaryEvent(Box::new(Boundary {
                            attached_to: usize::MAX,
                            interrupting,
                            trigger,
                        })))
                    }
                    (Some(_), None) => {
                        self.error(el, "a boundary event needs attachedToRef".into());
                        None
                    }
                    (None, _) => None,
                }
            }
            "endEvent" => match defs.as_slice() {
                [] => Some(NodeKind::EndEvent { terminate: false }),
                [d] if d.name == "terminateEventDefinition" => {
                    Some(NodeKind::EndEvent { terminate: true })
                }
                [d] if d.name == "compensateEventDefinition" => Some(NodeKind::Compensate {
                    activity: compensated_activity(d),
                    end: true,
                }),
                [d] if d.name == "cancelEventDefinition" => Some(NodeKind::CancelEnd),
                [d] if d.name == "errorEventDefinition" => {
                    self.error_throw(el, d).map(NodeKind::ErrorEnd)
                }
                [d] if is_throw_definition(d) => self.throw_event(el, d),
                [d] if d.name == "escalationEventDefinition" => self
                    .escalation_code(el, d)
                    .map(|code| NodeKind::Escalate { code }),
                [d, ..] => {
                    self.push_for(
                        Severity::Unsupported,
                        d,
                        el,
                        format!("end events with a {} are not supported yet", d.name),
                    );
                    None
                }
            },
            "intermediateThrowEvent" => match defs.first() {
                None => Some(NodeKind::IntermediateThrow),
                Some(d) if defs.len() == 1 && d.name == "escalationEventDefinition" => self
                    .escalation_code(el, d)
                    .map(|code| NodeKind::Escalate { code }),
                Some(d) if defs.len() == 1 && d.name == "compensateEventDefinition" => {
                    Some(NodeKind::Compensate {
                        activity: compensated_activity(d),
                        end: false,
                    })
                }
                Some(d) if defs.len() == 1 && d.name == "linkEventDefinition" => {
                    self.link_name(el, d).map(|name| NodeKind::LinkThrow {
                        name,
                        target: usize::MAX,
                    })
                }
                Some(d) if defs.len() == 1 && is_throw_definition(d) => self.throw_event(el, d),
                Some(d) => {
                    self.push_for(
                        Severity::Unsupported,
                        d,
                        el,
                        format!(
                            "intermediate throw events with a {} are not supported yet",
                            d.name
                        ),
                    );
                    None
                }
            },
            "intermediateCatchEvent" => match defs.as_slice() {
                [d] if d.name == "linkEventDefinition" => self
                    .link_name(el, d)
                    .map(|name| NodeKind::LinkCatch { name }),
                [d] => self.catch(el, d).map(NodeKind::IntermediateCatch),
                [] => {
                    self.error(
                        el,
                        "an intermediate catch event needs an event definition".into(),
                    );
                    None
                }
                [_, d, ..] => {
                    self.push_for(
                        Severity::Unsupported,
                        d,
                        el,
                        "catch events with several event definitions are not supported".into(),
                    );
                    None
                }
            },
            // Without a message, it waits to be triggered (as in Camunda).
            "receiveTask" if el.attr("messageRef").is_none_or(|r| r.trim().is_empty()) => {
                Some(NodeKind::ReceiveTask(Catch::Trigger))
            }
            "receiveTask" => self
                .message_name(el, el)
                .map(|name| NodeKind::ReceiveTask(Catch::Message { name })),
            "task" => Some(NodeKind::Task),
            "manualTask" => Some(NodeKind::ManualTask),
            "userTask" => self.user_task(el).map(|u| NodeKind::UserTask(Box::new(u))),
            "sendTask" if !has_implementation(el) && el.attr("messageRef").is_some() => {
                self.message_name(el, el).map(|name| {
                    NodeKind::Throw(Box::new(ThrowEvent {
                        signal: false,
                        name,
                    }))
                })
            }
            "businessRuleTask" if el.attr_ns(Ns::Camunda, "decisionRef").is_some() => self
                .business_rule(el)
                .map(|b| NodeKind::BusinessRule(Box::new(b))),
            "businessRuleTask" if zeebe::extension(el, "calledDecision").is_some() => {
                zeebe::called_decision(self, el)
                    .flatten()
                    .map(|b| NodeKind::BusinessRule(Box::new(b)))
            }
            "scriptTask" if zeebe::extension(el, "script").is_some() => zeebe::script(self, el)
                .flatten()
                .map(|(expr, result_variable)| {
                    NodeKind::ServiceTask(Box::new(ServiceTask::Expression {
                        expr,
                        result_variable,
                    }))
                }),
            "scriptTask" if zeebe::extension(el, "taskDefinition").is_some() => self
                .service_task(el)
                .map(|s| NodeKind::ServiceTask(Box::new(s))),
            // Implemented like a service task (a class, expression, external worker).
            "serviceTask" | "sendTask" | "businessRuleTask" => self
                .service_task(el)
                .map(|s| NodeKind::ServiceTask(Box::new(s))),
            "scriptTask" => self
                .script_task(el)
                .map(|s| NodeKind::ScriptTask(Box::new(s))),
            "exclusiveGateway" => Some(NodeKind::ExclusiveGateway),
            "eventBasedGateway" => {
                if flag(el.attr("instantiate")) {
                    self.unsupported(
                        el,
                        "event-based gateways that start a process (instantiate=\"true\") are not supported yet".into(),
                    );
                    None
                } else {
                    Some(NodeKind::EventGateway)
                }
            }
            "parallelGateway" => Some(NodeKind::ParallelGateway),
            "inclusiveGateway" => Some(NodeKind::InclusiveGateway),
            "callActivity" => self
                .call_activity(el)
                .map(|c| NodeKind::CallActivity(Box::new(c))),
            "subProcess" => {
                if el.attr("triggeredByEvent").map(str::trim) == Some("true") {
                    self.event_subprocess(el)
                        .map(|e| NodeKind::EventSubProcess(Box::new(e)))
                } else {
                    // The start node is filled in once the children are read.
                    Some(NodeKind::SubProcess(SubProcess {
                        start: usize::MAX,
                        implicit: Vec::new(),
                        transaction: false,
                    }))
                }
            }
            "transaction" => Some(NodeKind::SubProcess(SubProcess {
                start: usize::MAX,
                implicit: Vec::new(),
                transaction: true,
            })),
            _ => None,
        };
        let io = match zeebe::io(self, el) {
            Some(io) => io,
            None => camunda::io(self, el),
        };
        let error_mappings = self.error_mappings(el, kind.as_ref());
        let kind = kind?;
        let error_mappings = error_mappings?;
        if !ok {
            return None;
        }
        let async_before =
            flag(el.attr_ns(Ns::Camunda, "asyncBefore")) || flag(el.attr_ns(Ns::Camunda, "async"));
        let retry = match camunda::extensions(el).find(|c| c.name == "failedJobRetryTimeCycle") {
            None => None,
            Some(c) => match time::parse_retry_cycle(&c.text) {
                Ok(r) => Some(r),
                Err(e) => {
                    self.push_for(
                        Severity::Error,
                        c,
                        el,
                        format!("camunda:failedJobRetryTimeCycle: {e}"),
                    );
                    return None;
                }
            },
        };
        let node = Node {
            id: id.to_string(),
            name: el.attr("name").map(str::to_string),
            tag,
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
            listeners: listeners.unwrap_or_default(),
            error_mappings,
            compensation: None,
            for_compensation,
        };
        if node.loops() && !node.is_activity() {
            self.error(
                el,
                "only tasks and subprocesses can be multi-instance or loop".into(),
            );
            return None;
        }
        if node.multi.is_some() && node.standard_loop.is_some() {
            self.error(
                el,
                "an activity is either multi-instance or a standard loop, not both".into(),
            );
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

    /// The triggers any catching event can wait for — a timer (`cycles`: a
    /// `timeCycle` too), a message, a signal, a condition — read from `def`;
    /// `None` when `def` is another kind of definition.
    fn awaited(&mut self, owner: &Element, def: &Element, cycles: bool) -> Option<Option<Catch>> {
        Some(match def.name {
            "timerEventDefinition" => self.timer(owner, def, cycles).map(Catch::Timer),
            "messageEventDefinition" => self
                .message_name(owner, def)
                .map(|name| Catch::Message { name }),
            "signalEventDefinition" => self
                .signal_name(owner, def)
                .map(|name| Catch::Signal { name }),
            "conditionalEventDefinition" => self.conditional_catch(owner, def),
            _ => return None,
        })
    }

    /// An escalation a boundary event or event subprocess catches, with its
    /// `camunda:escalationCodeVariable`.
    fn escalation_catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        self.escalation_code(owner, def)
            .map(|code| Catch::Escalation {
                code,
                code_variable: def
                    .attr_ns(Ns::Camunda, "escalationCodeVariable")
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string),
            })
    }

    fn catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        if let Some(c) = self.awaited(owner, def, false) {
            return c;
        }
        match def.name {
            "errorEventDefinition" => {
                self.push_for(
                    Severity::Error,
                    def,
                    owner,
                    "an error is caught by a boundary event on an activity, not by an intermediate event".into(),
                );
                None
            }
            other => {
                self.push_for(
                    Severity::Unsupported,
                    def,
                    owner,
                    format!("catch events with a {other} are not supported yet"),
                );
                None
            }
        }
    }

    /// A timer definition; `cycles` allows `timeCycle` (boundary and start events).
    fn timer(&mut self, owner: &Element, def: &Element, cycles: bool) -> Option<Timer> {
        let parts: Vec<&Element> = def.children.iter().filter(|c| c.ns == Ns::Bpmn).collect();
        let [part] = parts.as_slice() else {
            self.push_for(
                Severity::Error,
                def,
                owner,
                "a timer needs exactly one of timeDuration, timeDate or timeCycle".into(),
            );
            return None;
        };
        let text = part.text.trim();
        if text.is_empty() {
            self.push_for(
                Severity::Error,
                part,
                owner,
                format!("the {} is empty", part.name),
            );
            return None;
        }
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                self.push_for(Severity::Error, part, owner, e);
                return None;
            }
        };
        // Literal values are checked now; expressions when the timer starts.
        let check = |t: &Template, f: &dyn Fn(&str) -> Result<(), String>| match t {
            Template::Literal(s) => f(s),
            _ => Ok(()),
        };
        let result = match part.name {
            "timeDuration" => check(&template, &|s| time::parse_duration(s).map(|_| ())).map(|_| Timer::Duration(template)),
            "timeDate" => check(&template, &|s| time::parse_datetime(s).map(|_| ())).map(|_| Timer::Date(template)),
                        "timeCycle" if cycles => {
                check(&template, &|s| time::parse_cycle(s).map(|_| ())).map(|_| Timer::Cycle(template))
            }
            "timeCycle" => Err(
                "timeCycle (repeating timers) belongs on boundary and start events; an intermediate event uses timeDuration or timeDate".into(),
            ),
            other => Err(format!("<{other}> is not a timer definition")),
        };
        match result {
            Ok(t) => Some(t),
            Err(e) => {
                let sev = Severity::Error;
                self.push_for(sev, part, owner, e);
                None
            }
        }
    }

    /// `standardLoopCharacteristics`: condition, test before, maximum.
    fn standard_loop(&mut self, owner: &Element, l: &Element) -> Option<StandardLoop> {
        let condition = match l
            .child(Ns::Bpmn, "loopCondition")
            .map(|c| (c, c.text.trim().to_string()))
            .filter(|(_, t)| !t.is_empty())
        {
            None => None,
            Some((c, t)) => match Expr::compile(&t) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.push_for(Severity::Error, c, owner, format!("loopCondition: {e}"));
                    return None;
                }
            },
        };
        let maximum = match l
            .attr("loopMaximum")
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            None => None,
            Some(m) => match m.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.push_for(
                        Severity::Error,
                        l,
                        owner,
                        format!("loopMaximum \"{m}\" is not a whole number"),
                    );
                    return None;
                }
            },
        };
        if condition.is_none() && maximum.is_none() {
            self.push_for(
                Severity::Error,
                l,
                owner,
                "a standard loop needs a loopCondition or a loopMaximum, or it never ends".into(),
            );
            return None;
        }
        Some(StandardLoop {
            condition,
            test_before: flag(l.attr("testBefore")),
            maximum,
        })
    }

    /// `multiInstanceLoopCharacteristics`: cardinality or collection, element
    /// variable and completion condition.
    fn multi_instance(&mut self, owner: &Element, mi: &Element) -> Option<MultiInstance> {
        let mut ok = true;
        let mut expr =
            |this: &mut Self, at: &Element, text: &str, what: &str| match Expr::compile(text) {
                Ok(e) => Some(e),
                Err(e) => {
                    this.push_for(Severity::Error, at, owner, format!("{what}: {e}"));
                    ok = false;
                    None
                }
            };
        let child_text = |name: &str| {
            mi.child(Ns::Bpmn, name)
                .map(|c| (c, c.text.trim().to_string()))
                .filter(|(_, t)| !t.is_empty())
        };
        let cardinality = match child_text("loopCardinality") {
            Some((c, t)) => expr(self, c, &t, "loopCardinality"),
            None => None,
        };
        let completion = match child_text("completionCondition") {
            Some((c, t)) => expr(self, c, &t, "completionCondition"),
            None => None,
        };
        // Camunda 8 puts these in `zeebe:loopCharacteristics`.
        let zl = zeebe::extension(mi, "loopCharacteristics");
        let zattr = |name: &str| {
            zl.and_then(|z| z.attr(name))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let collection = match mi
            .attr_ns(Ns::Camunda, "collection")
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(t) => expr(self, mi, t, "camunda:collection"),
            None => match zattr("inputCollection") {
                Some(t) => expr(self, mi, t, "zeebe:loopCharacteristics inputCollection"),
                None => None,
            },
        };
        let element_variable = mi
            .attr_ns(Ns::Camunda, "elementVariable")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or(zattr("inputElement"))
            .map(str::to_string);
        let output = match (zattr("outputCollection"), zattr("outputElement")) {
            (Some(c), Some(e)) => expr(self, mi, e, "zeebe:loopCharacteristics outputElement")
                .map(|e| (c.to_string(), e)),
            (Some(_), None) | (None, Some(_)) => {
                self.push_for(
                    Severity::Error,
                    mi,
                    owner,
                    "zeebe:loopCharacteristics needs both outputCollection and outputElement"
                        .into(),
                );
                return None;
            }
            (None, None) => None,
        };
        if !ok {
            return None;
        }
        if cardinality.is_none() && collection.is_none() {
            self.push_for(
                Severity::Error,
                mi,
                owner,
                "a multi-instance activity needs a loopCardinality or a camunda:collection".into(),
            );
            return None;
        }
        if mi.child(Ns::Bpmn, "loopDataInputRef").is_some() && collection.is_none() {
            self.push_for(
                Severity::Unsupported,
                mi,
                owner,
                "loopDataInputRef is not supported; use camunda:collection".into(),
            );
            return None;
        }
        Some(MultiInstance {
            sequential: flag(mi.attr("isSequential")),
            cardinality,
            collection,
            element_variable,
            completion,
            output,
        })
    }

    /// The error an error end event throws (`errorRef`).
    fn error_throw(&mut self, owner: &Element, def: &Element) -> Option<ErrorThrow> {
        match def
            .attr("errorRef")
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => Some(ErrorThrow::default()),
            Some(r) => match self.errors.get(r) {
                Some(e) => Some(e.clone()),
                None => {
                    self.push_for(
                        Severity::Error,
                        def,
                        owner,
                        format!("errorRef \"{r}\" is not an error of this file"),
                    );
                    None
                }
            },
        }
    }

    /// What an error boundary event catches: the referenced error's code, or
    /// every error when it references none.
    fn error_catch(&mut self, owner: &Element, def: &Element) -> Option<ErrorCatch> {
        let code = self.error_throw(owner, def)?.code;
        let var = |name: &str| {
            def.attr_ns(Ns::Camunda, name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(ErrorCatch {
            code,
            code_variable: var("errorCodeVariable"),
            message_variable: var("errorMessageVariable"),
        })
    }

    /// A message or signal throw event. One with a Camunda implementation
    /// (`camunda:expression`, `class`, `type`...) does that work instead, as a
    /// service task would.
    fn throw_event(&mut self, el: &Element, def: &Element) -> Option<NodeKind> {
        if has_implementation(el) && def.name == "messageEventDefinition" {
            return self
                .service_task(el)
                .map(|s| NodeKind::ServiceTask(Box::new(s)));
        }
        let signal = def.name == "signalEventDefinition";
        let name = if signal {
            self.signal_name(el, def)?
        } else {
            self.message_name(el, def)?
        };
        Some(NodeKind::Throw(Box::new(ThrowEvent { signal, name })))
    }

    /// The code of the escalation an event definition references
    /// (`escalationRef`; none: a catch-all or a code-less escalation).
    fn escalation_code(&mut self, owner: &Element, def: &Element) -> Option<Option<String>> {
        match def
            .attr("escalationRef")
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => Some(None),
            Some(r) => match self.escalations.get(r) {
                Some(code) => Some(code.clone()),
                None => {
                    self.push_for(
                        Severity::Error,
                        def,
                        owner,
                        format!("escalationRef \"{r}\" is not an escalation of this file"),
                    );
                    None
                }
            },
        }
    }

    /// A conditional event definition's `condition`.
    fn conditional_catch(&mut self, owner: &Element, def: &Element) -> Option<Catch> {
        let Some(c) = def
            .child(Ns::Bpmn, "condition")
            .filter(|c| !c.text.trim().is_empty())
        else {
            self.push_for(
                Severity::Error,
                def,
                owner,
                "a conditional event needs a condition".into(),
            );
            return None;
        };
        match Expr::compile(c.text.trim()) {
            Ok(condition) => Some(Catch::Conditional { condition }),
            Err(e) => {
                self.push_for(Severity::Error, c, owner, format!("condition: {e}"));
                None
            }
        }
    }

    /// The `name` of a link event definition.
    fn link_name(&mut self, owner: &Element, def: &Element) -> Option<String> {
        match def.attr("name").map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(n.to_string()),
            None => {
                self.push_for(
                    Severity::Error,
                    def,
                    owner,
                    "a link event needs a name: throw and catch events with the same name are linked"
                        .into(),
                );
                None
            }
        }
    }

    /// Connects each link throw event to the link catch event of the same
    /// name in its scope.
    fn resolve_links(&mut self, b: &mut Builder<'_>) {
        for i in 0..b.nodes.len() {
            let NodeKind::LinkThrow { name, .. } = &b.nodes[i].kind else {
                continue;
            };
            let name = name.clone();
            let scope = b.nodes[i].scope;
            let catches: Vec<NodeIdx> = b
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    n.scope == scope
                        && matches!(&n.kind, NodeKind::LinkCatch { name: c } if *c == name)
                })
                .map(|(j, _)| j)
                .collect();
            match catches.as_slice() {
                [target] => {
                    if let NodeKind::LinkThrow { target: t, .. } = &mut b.nodes[i].kind {
                        *t = *target;
                    }
                }
                [] => {
                    let el = b.node_els[i];
                    self.error(
                        el,
                        format!("no link catch event named \"{name}\" in the same scope"),
                    );
                }
                _ => {
                    let el = b.node_els[i];
                    self.error(
                        el,
                        format!("several link catch events are named \"{name}\" in the same scope"),
                    );
                }
            }
        }
    }

    /// The signal name referenced by `signalRef` on `at`.
    fn signal_name(&mut self, owner: &Element, at: &Element) -> Option<String> {
        let found = at
            .attr("signalRef")
            .map(str::trim)
            .map(|r| (r, self.signals.get(r).cloned()));
        self.named_ref(owner, at, "signal", found)
    }

    /// The message name referenced by `messageRef` on `at`.
    fn message_name(&mut self, owner: &Element, at: &Element) -> Option<String> {
        let found = at
            .attr("messageRef")
            .map(str::trim)
            .map(|r| (r, self.messages.get(r).cloned()));
        self.named_ref(owner, at, "message", found)
    }

    /// The name behind a `messageRef`/`signalRef` (`found`: the reference and
    /// what it names), or the error that says what is wrong with it.
    fn named_ref(
        &mut self,
        owner: &Element,
        at: &Element,
        what: &str,
        found: Option<(&str, Option<Option<String>>)>,
    ) -> Option<String> {
        let message = match found {
            Some((_, Some(Some(name)))) => return Some(name),
            None | Some(("", _)) => format!(
                "a {what} must be chosen ({what}Ref) so the engine knows what to wait for or send"
            ),
            Some((r, Some(None))) => format!("{what} \"{r}\" has no name"),
            Some((r, None)) => format!("{what}Ref \"{r}\" is not a {what} of this file"),
        };
        self.push_for(Severity::Error, at, owner, message);
        None
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

    /// `camunda:errorEventDefinition`s: on connector and external tasks only.
    fn error_mappings(
        &mut self,
        el: &Element,
        kind: Option<&NodeKind>,
    ) -> Option<Vec<ErrorMapping>> {
        let defs: Vec<&Element> = camunda::extensions(el)
            .filter(|c| c.name == "errorEventDefinition")
            .collect();
        if defs.is_empty() {
            return Some(Vec::new());
        }
        let fits = matches!(kind, Some(NodeKind::ServiceTask(s))
            if matches!(s.as_ref(), ServiceTask::Connector(_) | ServiceTask::External { .. }));
        if !fits {
            self.push_for(
                Severity::Error,
                defs[0],
                el,
                "camunda:errorEventDefinition applies to tasks with a connector or an external worker".into(),
            );
            return None;
        }
        let mut out = Vec::new();
        for d in defs {
            let error = self.error_throw(el, d)?;
            let Some(text) = d
                .attr("expression")
                .map(str::trim)
                .filter(|t| !t.is_empty())
            else {
                self.push_for(
                    Severity::Error,
                    d,
                    el,
                    "camunda:errorEventDefinition needs an expression (when the result is this error)".into(),
                );
                return None;
            };
            match Expr::compile(text) {
                Ok(condition) => out.push(ErrorMapping { error, condition }),
                Err(e) => {
                    self.push_for(
                        Severity::Error,
                        d,
                        el,
                        format!("camunda:errorEventDefinition: {e}"),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// An event subprocess: the trigger of its (single) start event.
    fn event_subprocess(&mut self, el: &Element) -> Option<EventSubProcess> {
        let starts: Vec<&Element> = el.children_named(Ns::Bpmn, "startEvent").collect();
        let [start] = starts.as_slice() else {
            self.error(
                el,
                format!(
                    "an event subprocess needs exactly one start event (it has {})",
                    starts.len()
                ),
            );
            return None;
        };

        let interrupting = start.attr("isInterrupting").map(str::trim) != Some("false");
        let defs: Vec<&Element> = event_definitions(start).collect();
        let awaited = match defs.as_slice() {
            [d] => self.awaited(start, d, true),
            _ => None,
        };
        let trigger = match defs.as_slice() {
            _ if awaited.is_some() => awaited.flatten(),
            [d] => match d.name {
                "escalationEventDefinition" => self.escalation_catch(start, d),
                "errorEventDefinition" if interrupting => {
                    self.error_catch(start, d).map(Catch::Error)
                }
                "errorEventDefinition" => {
                    self.error(
                        start,
                        "an error start event always interrupts (isInterrupting=\"false\" is not allowed)"
                            .into(),
                    );
                    None
                }
                other => {
                    self.push_for(
                        Severity::Unsupported,
                        d,
                        start,
                        format!("event subprocesses started by a {other} are not supported"),
                    );
                    None
                }
            },
            [] => {
                self.error(
                    start,
                    "the start event of an event subprocess needs an event definition".into(),
                );
                None
            }
            [_, d, ..] => {
                self.push_for(
                    Severity::Unsupported,
                    d,
                    start,
                    "start events with several event definitions are not supported".into(),
                );
                None
            }
        }?;
        Some(EventSubProcess {
            start: usize::MAX,
            trigger,
            interrupting,
        })
    }

    fn business_rule(&mut self, el: &Element) -> Option<BusinessRule> {
        let decision = match self.opt_template(el, "decisionRef") {
            Ok(Some(t)) => t,
            Ok(None) => {
                self.error(el, "camunda:decisionRef is empty".into());
                return None;
            }
            Err(()) => return None,
        };
        let binding = self.binding(el, "decisionRef")?;
        let map = match el
            .attr_ns(Ns::Camunda, "mapDecisionResult")
            .map(str::trim)
            .unwrap_or("resultList")
        {
            "singleEntry" => MapDecisionResult::SingleEntry,
            "singleResult" => MapDecisionResult::SingleResult,
            "collectEntries" => MapDecisionResult::CollectEntries,
            "resultList" => MapDecisionResult::ResultList,
            other => {
                self.error(
                    el,
                    format!("camunda:mapDecisionResult \"{other}\" is not one of singleEntry, singleResult, collectEntries, resultList"),
                );
                return None;
            }
        };
        Some(BusinessRule {
            decision,
            binding,
            result_variable: el
                .attr_ns(Ns::Camunda, "resultVariable")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            map,
        })
    }

    /// `camunda:{prefix}Binding` with its version or version tag.
    fn binding(&mut self, el: &Element, prefix: &str) -> Option<CallBinding> {
        let attr = format!("{prefix}Binding");
        match el
            .attr_ns(Ns::Camunda, &attr)
            .map(str::trim)
            .unwrap_or("latest")
        {
            "latest" => Some(CallBinding::Latest),
            "deployment" => Some(CallBinding::Deployment),
            b @ ("version" | "versionTag") => {
                let needed = if b == "version" {
                    format!("{prefix}Version")
                } else {
                    format!("{prefix}VersionTag")
                };
                match self.opt_template(el, &needed) {
                    Ok(Some(t)) if b == "version" => Some(CallBinding::Version(t)),
                    Ok(Some(t)) => Some(CallBinding::VersionTag(t)),
                    Ok(None) => {
                        self.error(el, format!("{attr}=\"{b}\" needs camunda:{needed}"));
                        None
                    }
                    Err(()) => None,
                }
            }
            other => {
                self.error(
                    el,
                    format!(
                        "camunda:{attr} \"{other}\" is not one of latest, deployment, version, versionTag"
                    ),
                );
                None
            }
        }
    }

    fn call_activity(&mut self, el: &Element) -> Option<CallActivity> {
        if let Some(c) = zeebe::called_element(self, el)? {
            return Some(c);
        }
        for attr in [
            "variableMappingClass",
            "variableMappingDelegateExpression",
            "caseRef",
        ] {
            if el.attr_ns(Ns::Camunda, attr).is_some() {
                self.unsupported(el, format!("camunda:{attr} is not supported"));
                return None;
            }
        }
        let Some(called) = el
            .attr("calledElement")
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            self.error(
                el,
                "a call activity needs calledElement (the key of the process to call)".into(),
            );
            return None;
        };
        let called = match Template::parse(called) {
            Ok(t) => t,
            Err(e) => {
                self.error(el, format!("calledElement: {e}"));
                return None;
            }
        };
        let binding = self.binding(el, "calledElement")?;
        let (inputs, outputs, business_key) = camunda::call_mappings(self, el)?;
        Some(CallActivity {
            called,
            binding,
            inputs,
            outputs,
            business_key,
        })
    }

    fn user_task(&mut self, el: &Element) -> Option<UserTask> {
        let form = camunda::form(self, el);
        let zeebe_form = zeebe::extension(el, "formDefinition").and_then(|f| {
            f.attr("formKey")
                .or(f.attr("formId"))
                .or(f.attr("externalReference"))
        });
        let form_key = el
            .attr_ns(Ns::Camunda, "formKey")
            .or_else(|| el.attr_ns(Ns::Camunda, "formRef"))
            .or(zeebe_form)
            .map(str::to_string);
        if let Some(key) = &form_key
            && form.is_empty()
        {
            self.warning(
                el,
                format!("the form \"{key}\" is not rendered by this engine; the task shows its form fields (none) and a Complete button"),
            );
        }
        let [assignee, users, groups, due, follow_up] = zeebe::assignment(self, el)?;
        let u = UserTask {
            form,
            form_key,
            assignee: assignee.or(self.opt_template(el, "assignee").ok()?),
            candidate_users: users.or(self.opt_template(el, "candidateUsers").ok()?),
            candidate_groups: groups.or(self.opt_template(el, "candidateGroups").ok()?),
            due_date: due.or(self.opt_template(el, "dueDate").ok()?),
            follow_up_date: follow_up.or(self.opt_template(el, "followUpDate").ok()?),
            priority: self.opt_template(el, "priority").ok()?,
        };
        if let Some(Template::Literal(p)) = &u.priority
            && p.trim().parse::<i64>().is_err()
        {
            self.error(
                el,
                format!("camunda:priority \"{p}\" is not a whole number"),
            );
            return None;
        }
        if let Some(Template::Literal(d)) = &u.due_date
            && time::due(d, jiff::Timestamp::UNIX_EPOCH).is_err()
        {
            self.error(
                el,
                format!("camunda:dueDate \"{d}\" is not an ISO 8601 date-time or duration"),
            );
            return None;
        }
        Some(u)
    }

    fn service_task(&mut self, el: &Element) -> Option<ServiceTask> {
        if let Some(topic) = zeebe::job_type(self, el)? {
            return Some(ServiceTask::External { topic });
        }
        let class = el.attr_ns(Ns::Camunda, "class");
        let delegate = el.attr_ns(Ns::Camunda, "delegateExpression");
        let expression = el.attr_ns(Ns::Camunda, "expression");
        let ty = el.attr_ns(Ns::Camunda, "type");
        let connector = camunda::connector(self, el);
        let result_variable = el
            .attr_ns(Ns::Camunda, "resultVariable")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string);
        let count = [
            class.is_some(),
            delegate.is_some(),
            expression.is_some(),
            ty.is_some(),
            connector.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if count > 1 {
            self.error(
                el,
                "has more than one implementation (class, delegateExpression, expression, type, connector); choose one".into(),
            );
            return None;
        }
        if result_variable.is_some() && expression.is_none() {
            self.warning(
                el,
                "camunda:resultVariable is only used with camunda:expression".into(),
            );
        }
        if let Some(name) = class.or(delegate) {
            let handler = name
                .trim()
                .trim_start_matches("${")
                .trim_start_matches("#{")
                .trim_end_matches('}')
                .trim();
            if self.options.service_handlers.iter().any(|h| h == handler) {
                return Some(ServiceTask::Handler {
                    name: handler.to_string(),
                });
            } else {
                self.unsupported(
                    el,
                    format!(
                        "no service handler named \"{handler}\" is registered with this engine"
                    ),
                );
            }
            return None;
        }
        if let Some(text) = expression {
            return match Expr::compile(text) {
                Ok(expr) => Some(ServiceTask::Expression {
                    expr,
                    result_variable,
                }),
                Err(e) => {
                    self.error(el, format!("camunda:expression: {e}"));
                    None
                }
            };
        }
        if let Some(t) = ty {
            if t != "external" {
                self.unsupported(
                    el,
                    format!("camunda:type \"{t}\" is not supported (only \"external\" is)"),
                );
                return None;
            }
            let topic = el
                .attr_ns(Ns::Camunda, "topic")
                .map(str::trim)
                .unwrap_or_default();
            if topic.is_empty() {
                self.error(el, "an external task needs a camunda:topic".into());
                return None;
            }
            return Some(ServiceTask::External {
                topic: topic.to_string(),
            });
        }
        match connector {
            Some(Some(c)) => {
                if !c.inputs.iter().any(|p| p.name == "url") {
                    self.error(
                        el,
                        "the http-connector needs an input parameter \"url\"".into(),
                    );
                    return None;
                }
                Some(ServiceTask::Connector(c))
            }
            Some(None) => None,
            None => {
                self.warning(
                    el,
                    "has no implementation; it completes as soon as it starts".into(),
                );
                Some(ServiceTask::None)
            }
        }
    }

    fn script_task(&mut self, el: &Element) -> Option<ScriptTask> {
        let format = el.attr("scriptFormat").map(str::trim).unwrap_or("rhai");
        if !format.eq_ignore_ascii_case("rhai") {
            self.unsupported(
                el,
                format!("scriptFormat \"{format}\" is not supported; scripts are written in rhai (see the README)"),
            );
            return None;
        }
        if el.attr_ns(Ns::Camunda, "resource").is_some() {
            self.unsupported(
                el,
                "scripts loaded from a camunda:resource are not supported".into(),
            );
            return None;
        }
        let body = el
            .child(Ns::Bpmn, "script")
            .map(|s| s.text.as_ref())
            .unwrap_or_default();
        if body.trim().is_empty() {
            self.error(el, "the script task has no script".into());
            return None;
        }
        match Script::compile(body) {
            Ok(script) => Some(ScriptTask {
                script,
                result_variable: el
                    .attr_ns(Ns::Camunda, "resultVariable")
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string),
            }),
            Err(e) => {
                self.error(el, e);
                None
            }
        }
    }

    /// Attaches boundary events to their activities.
    fn resolve_boundaries(&mut self, b: &mut Builder<'_>) {
        let refs = std::mem::take(&mut b.boundary_refs);
        for (idx, target, el) in refs {
            let found = b.nodes.iter().position(|n| n.id == target);
            match found {
                Some(a) if b.nodes[a].is_activity() && b.nodes[a].scope == b.nodes[idx].scope => {
                    if let NodeKind::BoundaryEvent(boundary) = &mut b.nodes[idx].kind {
                        boundary.attached_to = a;
                    }
                    b.nodes[a].boundaries.push(idx);
                }
                Some(_) => self.error(
                    el,
                    format!(
                        "attachedToRef \"{target}\" is not an activity beside this boundary event"
                    ),
                ),
                None if self.elements.contains_key(&target) => {}
                None => self.error(
                    el,
                    format!("attachedToRef \"{target}\" is not an element of this process"),
                ),
            }
        }
        // A boundary event whose activity was refused cannot stay.
        for i in 0..b.nodes.len() {
            if let NodeKind::BoundaryEvent(boundary) = &b.nodes[i].kind
                && boundary.attached_to == usize::MAX
            {
                b.nodes[i].kind = NodeKind::Task;
                b.nodes[i].incoming.clear();
            }
        }
    }

    /// Links each activity with a compensation boundary event to its handler
    /// (the association from the boundary event), and checks transactions:
    /// cancel end events and cancel boundary events belong to them.
    fn resolve_compensation(&mut self, b: &mut Builder<'_>) {
        for i in 0..b.nodes.len() {
            let el = b.node_els[i];
            let (attached, trigger) = match &b.nodes[i].kind {
                NodeKind::BoundaryEvent(be) => (be.attached_to, &be.trigger),
                NodeKind::CancelEnd => {
                    let in_tx = b.nodes[i].scope.is_some_and(
                        |s| matches!(&b.nodes[s].kind, NodeKind::SubProcess(sp) if sp.transaction),
                    );
                    if !in_tx {
                        self.error(el, "a cancel end event belongs inside a transaction".into());
                    } else if let Some(tx) = b.nodes[i].scope {
                        let has_boundary = b.nodes[tx].boundaries.iter().any(|x| {
                            matches!(&b.nodes[*x].kind, NodeKind::BoundaryEvent(be) if matches!(be.trigger, Catch::Cancel))
                        });
                        if !has_boundary {
                            self.error(
                                el,
                                "the transaction needs a cancel boundary event for this cancel end event to lead somewhere".into(),
                            );
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            match trigger {
                Catch::Cancel if !matches!(&b.nodes[attached].kind, NodeKind::SubProcess(sp) if sp.transaction) =>
                {
                    self.error(
                        el,
                        "a cancel boundary event belongs on a transaction".into(),
                    );
                }
                Catch::Compensation => {
                    let id = b.nodes[i].id.clone();
                    let target = b
                        .associations
                        .iter()
                        .find(|(s, _)| *s == id)
                        .map(|(_, t)| t.clone());
                    let handler = target
                        .as_deref()
                        .and_then(|t| b.nodes.iter().position(|n| n.id == t));
                    match handler {
                        Some(h) if b.nodes[h].for_compensation => {
                            b.nodes[attached].compensation = Some(h);
                        }
                        Some(_) => self.error(
                            el,
                            "the compensation handler needs isForCompensation=\"true\"".into(),
                        ),
                        None => self.error(
                            el,
                            "a compensation boundary event needs an association to its handler (an activity with isForCompensation=\"true\")".into(),
                        ),
                    }
                }
                _ => {}
            }
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
}

/// The `activityRef` of a compensation event definition (`None`: every
/// completed activity of the scope).
fn compensated_activity(d: &Element) -> Option<String> {
    d.attr("activityRef")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
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

/// The text a diagram shows for an element: its name, a text annotation's text
/// or a category value's value.
fn display_name(el: &Element) -> Option<String> {
    let text = match el.name {
        "textAnnotation" => el.child(Ns::Bpmn, "text").map(|t| t.text.as_ref()),
        "categoryValue" => el.attr("value"),
        _ => None,
    };
    el.attr("name").or(text).map(str::to_string)
}

/// Whether the element names Camunda work to do (an expression, a class, a
/// handler, an external topic or a connector).
fn has_implementation(el: &Element) -> bool {
    ["class", "expression", "delegateExpression", "type"]
        .iter()
        .any(|a| el.attr_ns(Ns::Camunda, a).is_some())
        || camunda::extensions(el).any(|c| c.name == "connector")
        || zeebe::extension(el, "taskDefinition").is_some()
}

/// Whether `camunda:inputOutput` means something on this element: tasks,
/// subprocesses, and message or signal throw events (their payload).
fn takes_mappings(tag: &str, el: &Element) -> bool {
    match tag {
        "task" | "manualTask" | "userTask" | "serviceTask" | "sendTask" | "scriptTask"
        | "receiveTask" | "subProcess" | "transaction" | "callActivity" | "businessRuleTask" => {
            true
        }
        "intermediateThrowEvent" | "endEvent" => event_definitions(el).any(is_throw_definition),
        _ => false,
    }
}

fn is_throw_definition(d: &Element) -> bool {
    d.name == "messageEventDefinition" || d.name == "signalEventDefinition"
}

fn loop_kind(el: &Element) -> Option<LoopKind> {
    if el.child(Ns::Bpmn, "standardLoopCharacteristics").is_some() {
        return Some(LoopKind::Standard);
    }
    let mi = el.child(Ns::Bpmn, "multiInstanceLoopCharacteristics")?;
    Some(if flag(mi.attr("isSequential")) {
        LoopKind::Sequential
    } else {
        LoopKind::Parallel
    })
}

fn event_definitions<'s, 'a>(el: &'s Element<'a>) -> impl Iterator<Item = &'s Element<'a>> {
    el.children.iter().filter(|c| {
        c.ns == Ns::Bpmn && (c.name.ends_with("EventDefinition") || c.name == "eventDefinitionRef")
    })
}

/// The flow node tags this engine reads, as `'static` names.
fn node_tag(name: &str) -> Option<&'static str> {
    const TAGS: &[&str] = &[
        "startEvent",
        "endEvent",
        "intermediateThrowEvent",
        "intermediateCatchEvent",
        "task",
        "manualTask",
        "userTask",
        "serviceTask",
        "sendTask",
        "businessRuleTask",
        "scriptTask",
        "receiveTask",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "subProcess",
        "transaction",
        "callActivity",
        "boundaryEvent",
    ];
    TAGS.iter().find(|t| **t == name).copied()
}

fn is_node_tag(name: &str) -> bool {
    node_tag(name).is_some()
}
