//! `bpmn run`: run one instance of a diagram headless, driven by a script.
//!
//! The instance lives in a throw-away SQLite database, so every step goes
//! through the same runtime commands and transactions as in the server, and
//! its jobs through the same job executor code; time is a virtual clock that
//! only `advance` moves. The runner acts as an administrator. Each script line
//! is one command:
//!
//! ```text
//! complete ELEMENT_ID [JSON]   complete the open user task of that element
//! trigger ELEMENT_ID [JSON]    resume a receive task waiting for a trigger
//! message NAME [JSON]          deliver a message (or start by it)
//! signal NAME [JSON]           broadcast a signal
//! advance DURATION             move the clock (ISO 8601, e.g. PT1H) and fire due timers
//! expect tasks [ID...]         the open user tasks are exactly these
//! expect completed | terminated | active | incident
//! expect var NAME JSON         a variable has this value
//! ```
//!
//! The instance starts at its none start event, or by a message or signal
//! start event (`StartBy`), or when `advance` reaches its timer start event.
//! Every instance of the run is followed — the one started, those its call
//! activities call, those a message, signal or timer starts — and numbered in
//! the trace in the order it appeared.
//!
//! A command that matches nothing waiting is reported as ignored and changes
//! nothing. The text output reads like the trace of the engine this one
//! replaces; the JSON output is one event object per line.

use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::model::{NodeKind, Process, time};
use crate::runtime::jobs::Stepper;
use crate::runtime::{
    Clock, ConnectorPolicy, Correlation, Deployed, Event, InstanceFilter, InstanceState,
    Instruction, Modification, Outcome, Principal, Runtime, RuntimeError, StartRequest, Status,
    Values, VirtualClock, WaitingItem, waiting_items,
};

/// The most instances one run follows.
const MAX_INSTANCES: u64 = 10_000;

/// Who the runner acts as.
const RUNNER: &str = "bpmn-run";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The process to start (default: the file's main process).
    pub process: Option<String>,
    /// How to start it.
    pub start_by: StartBy,
    /// Start variables.
    pub variables: Map<String, Value>,
    pub format: Format,
    /// The virtual clock's start (default: now).
    pub start: Option<Timestamp>,
    /// Files deployed before the diagram (`--with`): `(name, bytes)`.
    pub also: Vec<(String, Vec<u8>)>,
    /// What connector calls may reach (`bpmn run` allows every host unless told otherwise).
    pub connector: ConnectorPolicy,
}

/// How the run starts its process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StartBy {
    /// At its none start event; a process that has none but a timer start
    /// event starts when the timer fires (`advance`).
    #[default]
    Default,
    /// By this message, at its message start event.
    Message(String),
    /// By broadcasting this signal, at its signal start event.
    Signal(String),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Ran to the end of the script.
    Ran,
    /// An expectation failed.
    ExpectationFailed,
    /// The diagram or the script is invalid.
    BadInput,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ran => 0,
            Exit::ExpectationFailed => 1,
            Exit::BadInput => 2,
        }
    }
}

/// One parsed script line.
#[derive(Debug, Clone)]
enum Line {
    Complete(String, Map<String, Value>),
    Trigger(String, Map<String, Value>),
    Message(String, Map<String, Value>),
    Signal(String, Map<String, Value>),
    Advance(jiff::Span),
    Suspend,
    Resume,
    Modify(Vec<Instruction>),
    ExpectTasks(Vec<String>),
    ExpectState(String),
    ExpectVar(String, Value),
}

fn parse_object(text: &str, line_no: usize) -> Result<Map<String, Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!(
            "line {line_no}: the variables must be a JSON object, e.g. {{\"a\": 1}}"
        )),
        Err(e) => Err(format!("line {line_no}: bad JSON: {e}")),
    }
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

fn parse_line(text: &str, line_no: usize) -> Result<Option<Line>, String> {
    let t = text.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let (cmd, rest) = split_word(t);
    let line = match cmd {
        "signal" => {
            let (name, json) = split_word(rest);
            if name.is_empty() {
                return Err(format!("line {line_no}: `signal` needs a signal name"));
            }
            Line::Signal(name.to_string(), parse_object(json, line_no)?)
        }
        "complete" | "message" | "trigger" => {
            let (target, json) = split_word(rest);
            if target.is_empty() {
                return Err(format!(
                    "line {line_no}: `{cmd}` needs an {}",
                    if cmd == "message" {
                        "message name"
                    } else {
                        "element id"
                    }
                ));
            }
            let vars = parse_object(json, line_no)?;
            match cmd {
                "complete" => Line::Complete(target.to_string(), vars),
                "trigger" => Line::Trigger(target.to_string(), vars),
                _ => Line::Message(target.to_string(), vars),
            }
        }
        "suspend" if rest.is_empty() => Line::Suspend,
        "resume" if rest.is_empty() => Line::Resume,
        "modify" => {
            let mut instructions = Vec::new();
            for word in rest.split_whitespace() {
                let instruction = match word.split_once(':') {
                    Some(("cancel", e)) if !e.is_empty() => Instruction::Cancel(e.into()),
                    Some(("start_before", e)) if !e.is_empty() => {
                        Instruction::StartBefore(e.into())
                    }
                    Some(("start_after", e)) if !e.is_empty() => Instruction::StartAfter(e.into()),
                    _ => {
                        return Err(format!(
                            "line {line_no}: \"{word}\" is not cancel:ID, start_before:ID or start_after:ID"
                        ));
                    }
                };
                instructions.push(instruction);
            }
            if instructions.is_empty() {
                return Err(format!(
                    "line {line_no}: `modify` needs instructions, e.g. cancel:a start_before:b"
                ));
            }
            Line::Modify(instructions)
        }
        "advance" => {
            Line::Advance(time::parse_duration(rest).map_err(|e| format!("line {line_no}: {e}"))?)
        }
        "expect" => {
            let (what, args) = split_word(rest);
            match what {
                "tasks" => Line::ExpectTasks(args.split_whitespace().map(str::to_string).collect()),
                "completed" | "terminated" | "active" | "incident" => {
                    Line::ExpectState(what.to_string())
                }
                "var" => {
                    let (name, json) = split_word(args);
                    let value = serde_json::from_str(json).map_err(|e| {
                        format!("line {line_no}: `expect var {name}` needs a JSON value: {e}")
                    })?;
                    Line::ExpectVar(name.to_string(), value)
                }
                other => {
                    return Err(format!(
                        "line {line_no}: unknown expectation \"{other}\" (tasks, completed, terminated, active, incident, var)"
                    ));
                }
            }
        }
        other => {
            return Err(format!(
                "line {line_no}: unknown command \"{other}\" (complete, message, signal, trigger, advance, suspend, resume, modify, expect)"
            ));
        }
    };
    Ok(Some(line))
}

/// Prints events as the trace (text) or as JSON lines, following each
/// instance of the run (the main one, the instances its call activities
/// called, those a message, signal or timer started) so that conditions can
/// show the variables they saw.
struct Printer<'a> {
    format: Format,
    out: &'a mut dyn Write,
    /// The process the run is about; its first instance is the main one.
    main_key: String,
    /// The instances of the run in the order they appeared; the main one is
    /// numbered 1 in the trace, the others from 2.
    tracked: Vec<Tracked>,
    /// The instance whose events are being printed.
    cur: Option<usize>,
}

/// An instance of the run, and how much of its history is printed.
struct Tracked {
    id: Uuid,
    number: usize,
    deployed: Arc<Deployed>,
    mirror: InstanceState,
    printed: usize,
}

impl Printer<'_> {
    fn main(&self) -> Option<&Tracked> {
        self.tracked.iter().find(|t| t.number == 1)
    }

    fn cur(&self) -> Option<&InstanceState> {
        self.cur.map(|i| &self.tracked[i].mirror)
    }

    fn proc(&self) -> Option<&Process> {
        self.cur.map(|i| self.tracked[i].deployed.process())
    }

    /// The instances of the run that are still active, main first.
    fn active(&self) -> Vec<Uuid> {
        let mut live: Vec<&Tracked> = self
            .tracked
            .iter()
            .filter(|t| t.mirror.status == Status::Active)
            .collect();
        live.sort_by_key(|t| t.number);
        live.into_iter().map(|t| t.id).collect()
    }

    /// Prints what a command did, whichever instance of the run it ran on.
    async fn outcome(&mut self, run: &Run, o: &Outcome) -> Result<(), String> {
        self.follow(run, o.instance_id).await
    }

    /// Prints the events of an instance not printed yet (all of them, with
    /// its start, when it is new to the run).
    async fn follow(&mut self, run: &Run, id: Uuid) -> Result<(), String> {
        let (deployed, history) = run
            .runtime
            .instances()
            .trace(&run.who, id)
            .await
            .map_err(|e| e.to_string())?;
        let index = match self.tracked.iter().position(|t| t.id == id) {
            Some(i) => i,
            None => {
                let (view, _) = run
                    .runtime
                    .instances()
                    .get(&run.who, id)
                    .await
                    .map_err(|e| e.to_string())?;
                let main = self.main().is_none()
                    && view.parent_id.is_none()
                    && view.definition_key == self.main_key;
                let number = if main {
                    1
                } else {
                    self.tracked.iter().filter(|t| t.number != 1).count() + 2
                };
                let parent = view
                    .parent_id
                    .and_then(|p| self.tracked.iter().find(|t| t.id == p))
                    .map(|t| (t.id, t.number));
                let process = deployed.process().id.clone();
                let shown = deployed.process().display_name().to_string();
                self.tracked.push(Tracked {
                    id,
                    number,
                    deployed: deployed.clone(),
                    mirror: InstanceState::new(&process),
                    printed: 0,
                });
                self.cur = Some(self.tracked.len() - 1);
                match self.format {
                    Format::Json => {
                        let mut v = json!({"event": "started", "process": process});
                        if let Some((parent, _)) = parent {
                            v["called_by"] = json!(parent.to_string());
                        }
                        self.json_event_line(v);
                    }
                    Format::Text if !main => {
                        let by = parent.map(|(_, n)| format!(", called by [{n}]"));
                        self.text(&format!("STARTED: {shown}{}", by.unwrap_or_default()));
                    }
                    Format::Text => {}
                }
                self.tracked.len() - 1
            }
        };
        self.cur = Some(index);
        let from = self.tracked[index].printed.min(history.len());
        self.events(&history[from..]);
        self.tracked[index].printed = history.len();
        self.cur = None;
        Ok(())
    }

    /// Follows every instance of the run: those that appeared since (started
    /// by a message, a signal, a timer or a call) and those still active.
    async fn catch_up(&mut self, run: &Run) -> Result<(), String> {
        let filter = InstanceFilter {
            limit: MAX_INSTANCES,
            ..InstanceFilter::default()
        };
        let (mut all, _) = run
            .runtime
            .instances()
            .list(&run.who, &filter)
            .await
            .map_err(|e| e.to_string())?;
        // Instance ids grow in the order the instances were created.
        all.sort_by_key(|i| i.id);
        for view in all {
            let known = self.tracked.iter().find(|t| t.id == view.id);
            if known.is_none_or(|t| t.mirror.status == Status::Active) {
                self.follow(run, view.id).await?;
            }
        }
        Ok(())
    }

    /// A line of the text trace, prefixed with the number of the instance
    /// it is about (the main one's for the run's own lines).
    fn text(&mut self, line: &str) {
        let number = self.cur.map_or(1, |i| self.tracked[i].number);
        let _ = writeln!(self.out, "[{number}] {line}");
    }

    /// A line of the JSON output about the run itself.
    fn json(&mut self, v: Value) {
        let _ = writeln!(self.out, "{v}");
    }

    /// A line of the JSON output about the instance being printed: it carries
    /// the instance's id.
    fn json_event_line(&mut self, mut v: Value) {
        if let (Some(i), Some(obj)) = (self.cur, v.as_object_mut()) {
            obj.insert("instance".into(), json!(self.tracked[i].id.to_string()));
        }
        self.json(v);
    }

    fn is_activity(&self, element: &str) -> bool {
        self.proc()
            .and_then(|p| p.node(element))
            .is_some_and(|n| n.is_activity())
    }

    fn display(&self, element: &str) -> String {
        match self.proc().and_then(|p| p.node(element)) {
            Some(n) => format!("{}({})", n.kind_name(), n.display_name()),
            None => element.to_string(),
        }
    }

    fn element_json(&self, event: &str, element: &str) -> Value {
        let node = self.proc().and_then(|p| p.node(element));
        json!({
            "event": event,
            "element": element,
            "type": node.map(|n| n.tag),
            "name": node.and_then(|n| n.name.clone()),
        })
    }

    fn events(&mut self, events: &[Event]) {
        for e in events {
            match self.format {
                Format::Text => self.text_event(e),
                Format::Json => self.json_event(e),
            }
            if let Some(i) = self.cur {
                self.tracked[i].mirror.apply(e);
            }
        }
    }

    fn text_event(&mut self, e: &Event) {
        match e {
            Event::ElementCompleted { element, .. } if self.is_activity(element) => {
                let d = self.display(element);
                self.text(&format!("DOING: {d}"));
            }
            Event::ConditionEvaluated {
                key,
                expression,
                result,
                ..
            } => {
                let vars = Value::Object(
                    self.cur()
                        .map(|m| m.visible_variables(*key))
                        .unwrap_or_default(),
                );
                let quoted = if expression.contains('\'') {
                    format!("\"{expression}\"")
                } else {
                    format!("'{expression}'")
                };
                self.text(&format!(
                    "    - checking variables={vars} with [{quoted}]..."
                ));
                self.text(&format!(
                    "      DONE: Result is {}",
                    if *result { "True" } else { "False" }
                ));
            }
            Event::ElementTerminated { element, .. } if self.is_activity(element) => {
                let d = self.display(element);
                self.text(&format!("CANCELLED: {d}"));
            }
            Event::FlowTaken { default: true, .. } => self.text("    - going down default path..."),
            Event::IncidentRaised {
                element, message, ..
            } => {
                let d = self.display(element);
                self.text(&format!("INCIDENT at {d}: {message}"));
            }
            Event::ErrorThrown { key, code, .. } => {
                let element = self.element_of(*key);
                let d = self.display(&element);
                let code = code.as_deref().unwrap_or("(no code)");
                self.text(&format!("ERROR {code} thrown at {d}"));
            }
            Event::InstanceCompleted => self.text("DONE"),
            Event::InstanceTerminated { reason } => self.text(&format!("TERMINATED: {reason}")),
            _ => {}
        }
    }

    /// The element id of a live element instance.
    fn element_of(&self, key: u64) -> String {
        self.cur()
            .and_then(|m| m.elements.get(&key))
            .map(|e| e.element.clone())
            .unwrap_or_default()
    }

    fn json_event(&mut self, e: &Event) {
        match e {
            Event::ElementActivated { element, .. } => {
                let v = self.element_json("activated", element);
                self.json_event_line(v);
            }
            Event::ElementCompleted { element, .. } => {
                let v = self.element_json("completed", element);
                self.json_event_line(v);
                if self
                    .proc()
                    .and_then(|p| p.node(element))
                    .is_some_and(|n| n.tag == "endEvent") {
                    self.json_event_line(json!({"event": "ended", "element": element}));
                }
            }
            Event::ElementTerminated { element, .. } => {
                let v = self.element_json("terminated", element);
                self.json_event_line(v);
            }
            Event::FlowTaken { flow, default, .. } => {
                self.json_event_line(json!({"event": "taken", "flow": flow, "default": default}));
            }
            Event::ConditionEvaluated {
                flow,
                expression,
                result,
                ..
            } => self.json_event_line(json!({"event": "condition", "flow": flow, "expression": expression, "result": result})),
                        Event::IncidentRaised { element, message, .. } => {
                self.json_event_line(json!({"event": "incident", "element": element, "message": message}));
            }
            Event::ErrorThrown { key, code, message } => {
                let element = self.element_of(*key);
                self.json_event_line(json!({"event": "error", "element": element, "code": code, "message": message}));
            }
            Event::InstanceCompleted => self.json_event_line(json!({"event": "finished", "state": "completed"})),
            Event::InstanceTerminated { reason } => {
                self.json_event_line(json!({"event": "finished", "state": "terminated", "reason": reason}));
            }
            _ => {}
        }
    }

    fn command(&mut self, text: &str, line: &Line) {
        match self.format {
            Format::Json => self.json(json!({"event": "command", "text": text.trim()})),
            Format::Text => match line {
                Line::Complete(id, _) => self.text(&format!("--> msg in: {id}")),
                Line::Message(name, _) => self.text(&format!("--> msg in: {name}")),
                Line::Trigger(id, _) => self.text(&format!("--> trigger: {id}")),
                Line::Signal(name, _) => self.text(&format!("--> signal: {name}")),
                Line::Advance(span) => self.text(&format!("--> advance {span}")),
                Line::Suspend => self.text("--> suspend"),
                Line::Resume => self.text("--> resume"),
                Line::Modify(i) => {
                    let steps: Vec<String> = i.iter().map(ToString::to_string).collect();
                    self.text(&format!("--> modify: {}", steps.join(", ")))
                }
                _ => {}
            },
        }
    }

    /// A command that matched nothing waiting. The text trace stays silent, as the
    /// old engine's did: its "Waiting for user..." line shows nothing moved.
    fn ignored(&mut self, reason: &str) {
        if self.format == Format::Json {
            self.json(json!({"event": "ignored", "reason": reason}));
        }
    }

    /// A command refused for its values: both formats say why.
    fn refused(&mut self, reason: &str) {
        match self.format {
            Format::Json => self.json(json!({"event": "ignored", "reason": reason})),
            Format::Text => self.text(&format!("    - refused: {reason}")),
        }
    }

    /// What every active instance of the run waits for (the open user tasks
    /// of called and started instances too, tagged with their instance).
    /// After the start (`after_start`) the text trace stays quiet, as the old one did.
    fn waiting(&mut self, after_start: bool) {
        let mut order: Vec<usize> = (0..self.tracked.len())
            .filter(|&i| self.tracked[i].mirror.status == Status::Active)
            .collect();
        order.sort_by_key(|&i| self.tracked[i].number);
        let mut items = Vec::new();
        for i in order {
            let t = &self.tracked[i];
            for item in waiting_items(t.deployed.process(), &t.mirror) {
                items.push((i, item));
            }
        }
        match self.format {
            Format::Json => {
                let user_tasks: Vec<&str> = items
                    .iter()
                    .filter(|(_, w)| w.kind == "user_task")
                    .map(|(_, w)| w.element.as_str())
                    .collect();
                let tagged = |(i, w): &(usize, WaitingItem)| {
                    let t = &self.tracked[*i];
                    let mut v = json!({
                        "element": w.element,
                        "instance": t.id.to_string(),
                        "number": t.number,
                    });
                    if w.kind != "user_task" {
                        v["kind"] = json!(w.kind);
                        v["detail"] = json!(w.detail);
                    }
                    v
                };
                let tasks: Vec<Value> = items
                    .iter()
                    .filter(|(_, w)| w.kind == "user_task")
                    .map(tagged)
                    .collect();
                let other: Vec<Value> = items
                    .iter()
                    .filter(|(_, w)| w.kind != "user_task")
                    .map(tagged)
                    .collect();
                self.json(json!({"event": "waiting", "user_tasks": user_tasks, "tasks": tasks, "other": other}));
            }
            Format::Text => {
                let main_active = self
                    .main()
                    .is_some_and(|t| t.mirror.status == Status::Active);
                if after_start || (!main_active && items.is_empty()) {
                    return;
                }
                let shown: Vec<String> = items
                    .iter()
                    .map(|(i, w)| {
                        self.cur = Some(*i);
                        let mut d = self.display(&w.element);
                        if w.kind == "incident" {
                            d.push_str(" (incident)");
                        }
                        match self.tracked[*i].number {
                            1 => d,
                            n => format!("[{n}] {d}"),
                        }
                    })
                    .collect();
                self.cur = None;
                self.text(&format!("Waiting for user... [{}]", shown.join(", ")));
            }
        }
    }

    fn expectation_failed(&mut self, expected: &str, actual: &str) {
        match self.format {
            Format::Json => self.json(
                json!({"event": "expectation_failed", "expected": expected, "actual": actual}),
            ),
            Format::Text => self.text(&format!(
                "EXPECTATION FAILED: expected {expected}, but {actual}"
            )),
        }
    }

    /// The main instance's state as `expect` names it.
    fn state(&self) -> &'static str {
        self.main()
            .map_or("not started", |t| t.mirror.display_status())
    }

    /// The main instance's variables.
    fn variables(&self) -> Map<String, Value> {
        self.main()
            .map(|t| t.mirror.root_variables())
            .unwrap_or_default()
    }

    fn finish(&mut self) {
        if self.format == Format::Json {
            let values = Value::Object(self.variables());
            self.json(json!({"event": "variables", "values": values}));
            let state = self.state();
            self.json(json!({"event": "done", "state": state}));
        }
    }
}

/// Runs a diagram with a script, writing the trace to `out`. Errors in the
/// diagram or the script are written to `err`.
pub async fn run(
    bytes: &[u8],
    script: &str,
    options: &RunOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    match run_inner(bytes, script, options, out, err).await {
        Ok(exit) => exit,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            Exit::BadInput
        }
    }
}

async fn run_inner(
    bytes: &[u8],
    script: &str,
    options: &RunOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Exit, String> {
    // Check the whole script before running anything.
    let mut lines = Vec::new();
    for (i, text) in script.lines().enumerate() {
        if let Some(line) = parse_line(text, i + 1)? {
            lines.push((text.to_string(), line));
        }
    }
    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("run.sqlite").display()
    );
    let start = options.start.unwrap_or_else(|| {
        Timestamp::from_second(Timestamp::now().as_second()).unwrap_or(Timestamp::UNIX_EPOCH)
    });
    let clock = Arc::new(VirtualClock::new(start));
    let runtime = Runtime::connect(&url, clock.clone())
        .await
        .map_err(|e| e.to_string())?
        .with_connector_policy(options.connector.clone());
    let who = Principal::operator(RUNNER);

    for (name, b) in &options.also {
        match runtime.deployments().deploy(&who, name, b).await {
            Ok(_) => {}
            Err(RuntimeError::Invalid(e)) => {
                let _ = writeln!(err, "{e}");
                return Err(format!("{name} cannot be deployed"));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let deployed = match runtime.deployments().deploy(&who, "run", bytes).await {
        Ok(d) => d,
        Err(RuntimeError::Invalid(e)) => {
            let _ = writeln!(err, "{e}");
            return Err("the diagram cannot be run".into());
        }
        Err(e) => return Err(e.to_string()),
    };
    let definition = match &options.process {
        Some(p) => deployed
            .definitions
            .iter()
            .find(|d| d.key == *p)
            .ok_or_else(|| {
                let known: Vec<&str> = deployed
                    .definitions
                    .iter()
                    .map(|d| d.key.as_str())
                    .collect();
                format!(
                    "the file has no executable process \"{p}\" (it has: {})",
                    known.join(", ")
                )
            })?,
        None => {
            // Started by a message or signal: the file's process that has
            // that start event, else its main process.
            let mut chosen = None;
            if let Some((kind, name)) = options.start_by.event() {
                let mut events = Vec::new();
                for d in &deployed.definitions {
                    let model = runtime
                        .deployments()
                        .get(&who, &d.key, Some(d.version))
                        .await
                        .map_err(|e| e.to_string())?;
                    let starts = starts(model.process());
                    if starts.iter().any(|s| options.start_by.starts(s)) {
                        chosen = Some(d);
                        break;
                    }
                    events.extend(
                        starts
                            .iter()
                            .filter(|s| s.message.is_some() || s.signal.is_some())
                            .map(|s| format!("{} ({})", start_name(s), d.key)),
                    );
                }
                if chosen.is_none() {
                    return Err(format!(
                        "no process in the file has a {kind} start event for \"{name}\" (its message and signal start events: {})",
                        if events.is_empty() {
                            "none".to_string()
                        } else {
                            events.join(", ")
                        }
                    ));
                }
            }
            chosen
                .or(deployed.definitions.iter().find(|d| d.is_default))
                .or(deployed.definitions.first())
                .ok_or("the file has no executable process")?
        }
    };
    let model = runtime
        .deployments()
        .get(&who, &definition.key, Some(definition.version))
        .await
        .map_err(|e| e.to_string())?;
    let process = model.process();
    let by_timer = match &options.start_by {
        StartBy::Default => {
            process.start.is_none()
                && process.implicit_starts.is_empty()
                && !process.timer_starts.is_empty()
        }
        StartBy::Message(_) | StartBy::Signal(_) => false,
    };
    check_start(process, &options.start_by)?;
    let mut printer = Printer {
        format: options.format,
        out,
        main_key: definition.key.clone(),
        tracked: Vec::new(),
        cur: None,
    };
    let mut stepper = Stepper::new(RUNNER);
    if by_timer {
        stepper = stepper.with_start_timers();
    }
    let run = Run {
        runtime,
        who,
        stepper,
    };

    let vars = options.variables.clone();
    match &options.start_by {
        StartBy::Default if by_timer => {}
        StartBy::Default => {
            let request = StartRequest {
                key: definition.key.clone(),
                version: Some(definition.version),
                values: Values::Json(vars),
                business_key: None,
            };
            match run.runtime.deployments().start(&run.who, request).await {
                Ok(o) => printer.outcome(&run, &o).await?,
                Err(RuntimeError::InvalidVariables(errors)) => {
                    let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                    return Err(format!(
                        "the start variables are invalid: {}",
                        list.join("; ")
                    ));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        StartBy::Message(name) => {
            run.runtime
                .work()
                .message(&run.who, name, Correlation::default(), vars, false)
                .await
                .map_err(|e| e.to_string())?;
        }
        StartBy::Signal(name) => {
            run.runtime
                .work()
                .signal(&run.who, name, vars)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    printer.catch_up(&run).await?;
    run.due_jobs(&mut printer).await?;
    printer.waiting(true);

    for (text, line) in lines {
        printer.command(&text, &line);
        match &line {
            Line::Complete(element, vars) => {
                match run.complete(&printer.active(), element, vars).await {
                    Ok(Some(o)) => printer.outcome(&run, &o).await?,
                    Ok(None) => printer.ignored(&format!("no open user task \"{element}\"")),
                    Err(RuntimeError::InvalidVariables(errors)) => {
                        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                        printer.refused(&format!(
                            "invalid values for \"{element}\": {}",
                            list.join("; ")
                        ));
                    }
                    Err(RuntimeError::Conflict(m)) => printer.ignored(&m),
                    // A task listener refused the completion.
                    Err(RuntimeError::Rejected(m) | RuntimeError::TooLarge(m)) => {
                        printer.refused(&m)
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            Line::Trigger(element, vars) => {
                match run.trigger(&printer.active(), element, vars).await {
                    Ok(Some(o)) => printer.outcome(&run, &o).await?,
                    Ok(None) => {
                        printer.ignored(&format!("nothing waits for a trigger at \"{element}\""))
                    }
                    Err(RuntimeError::Conflict(m)) => printer.ignored(&m),
                    Err(e) => return Err(e.to_string()),
                }
            }
            Line::Message(name, vars) => match run.message(&printer.active(), name, vars).await {
                Ok(Some(o)) => printer.outcome(&run, &o).await?,
                Ok(None) => {}
                Err(RuntimeError::NotFound(_)) => {
                    printer.ignored(&format!("nothing waits for message \"{name}\""))
                }
                Err(RuntimeError::Conflict(m)) => printer.ignored(&m),
                Err(e) => return Err(e.to_string()),
            },
            Line::Signal(name, vars) => {
                let b = run
                    .runtime
                    .work()
                    .signal(&run.who, name, vars.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                if b.outcomes.is_empty() && b.started.is_empty() {
                    printer.ignored(&format!("nothing here waits for signal \"{name}\""));
                }
                for o in &b.outcomes {
                    printer.outcome(&run, o).await?;
                }
            }
            Line::Suspend | Line::Resume | Line::Modify(_) => {
                let Some(&main) = printer.active().first() else {
                    printer.ignored("no instance is active");
                    continue;
                };
                let instances = run.runtime.instances();
                let done = match &line {
                    Line::Suspend => instances.suspend(&run.who, main, None).await,
                    Line::Resume => instances.resume(&run.who, main, None).await,
                    Line::Modify(instructions) => {
                        let m = Modification {
                            instructions: instructions.clone(),
                            ..Default::default()
                        };
                        instances.modify(&run.who, main, m).await
                    }
                    _ => continue,
                };
                match done {
                    Ok(o) => printer.outcome(&run, &o).await?,
                    Err(RuntimeError::Conflict(m) | RuntimeError::Rejected(m)) => {
                        printer.refused(&m)
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            Line::Advance(span) => {
                let target = time::add(clock.now(), *span)?;
                let mut fired = false;
                while let Some(due) = run
                    .stepper
                    .next_due(&run.runtime, target)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    clock.set(due);
                    run.due_jobs(&mut printer).await?;
                    fired = true;
                }
                clock.set(target);
                if !fired {
                    printer.ignored("no timer was due");
                }
            }
            Line::ExpectTasks(expected) => {
                let mut open: Vec<String> = Vec::new();
                for instance in printer.active() {
                    let tasks = run
                        .runtime
                        .tasks()
                        .open_in(&run.who, instance)
                        .await
                        .map_err(|e| e.to_string())?;
                    open.extend(tasks.into_iter().map(|t| t.element_id));
                }
                open.sort();
                let mut want = expected.clone();
                want.sort();
                if open != want {
                    printer.expectation_failed(
                        &format!("open tasks [{}]", want.join(", ")),
                        &format!("the open tasks are [{}]", open.join(", ")),
                    );
                    printer.finish();
                    return Ok(Exit::ExpectationFailed);
                }
                continue;
            }
            Line::ExpectState(want) => {
                let actual = printer.state();
                if actual != want {
                    printer.expectation_failed(
                        &format!("the instance {want}"),
                        &format!("it is {actual}"),
                    );
                    printer.finish();
                    return Ok(Exit::ExpectationFailed);
                }
                continue;
            }
            Line::ExpectVar(name, value) => {
                let actual = printer.variables().get(name).cloned();
                if actual.as_ref() != Some(value) {
                    let shown = actual
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "not set".into());
                    printer.expectation_failed(
                        &format!("{name} = {value}"),
                        &format!("{name} is {shown}"),
                    );
                    printer.finish();
                    return Ok(Exit::ExpectationFailed);
                }
                continue;
            }
        }
        printer.catch_up(&run).await?;
        run.due_jobs(&mut printer).await?;
        printer.waiting(false);
    }
    printer.finish();
    Ok(Exit::Ran)
}

/// The top-level start events of a process.
fn starts(process: &Process) -> Vec<&crate::model::StartEvent> {
    process
        .nodes
        .iter()
        .filter(|n| n.scope.is_none())
        .filter_map(|n| match &n.kind {
            NodeKind::StartEvent(s) => Some(s.as_ref()),
            _ => None,
        })
        .collect()
}

/// A start event as the runner's messages name it.
fn start_name(s: &crate::model::StartEvent) -> String {
    if let Some(m) = &s.message {
        format!("message \"{m}\"")
    } else if let Some(g) = &s.signal {
        format!("signal \"{g}\"")
    } else if s.timer.is_some() {
        "a timer".to_string()
    } else {
        "a none start event".to_string()
    }
}

impl StartBy {
    /// `("message" | "signal", name)` when started by an event.
    fn event(&self) -> Option<(&'static str, &str)> {
        match self {
            StartBy::Default => None,
            StartBy::Message(m) => Some(("message", m)),
            StartBy::Signal(g) => Some(("signal", g)),
        }
    }

    /// Whether this start event is the one a message or signal start names.
    fn starts(&self, s: &crate::model::StartEvent) -> bool {
        match self {
            StartBy::Default => s.is_none(),
            StartBy::Message(m) => s.message.as_ref() == Some(m),
            StartBy::Signal(g) => s.signal.as_ref() == Some(g),
        }
    }
}

/// Refuses a start the process cannot have: a message or signal it has no
/// start event for, or no start event the runner can use at all.
fn check_start(process: &Process, by: &StartBy) -> Result<(), String> {
    let starts = starts(process);
    let ok = match by {
        StartBy::Default => {
            process.start.is_some()
                || !process.implicit_starts.is_empty()
                || !process.timer_starts.is_empty()
        }
        StartBy::Message(_) | StartBy::Signal(_) => starts.iter().any(|s| by.starts(s)),
    };
    if ok {
        return Ok(());
    }
    let known: Vec<String> = starts.iter().map(|s| start_name(s)).collect();
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    let id = &process.id;
    Err(match by {
        StartBy::Default => format!(
            "process \"{id}\" has no none start event; start it with --message NAME or --signal NAME (its start events: {known})"
        ),
        StartBy::Message(m) => {
            format!(
                "process \"{id}\" has no message start event for \"{m}\" (its start events: {known})"
            )
        }
        StartBy::Signal(g) => {
            format!(
                "process \"{id}\" has no signal start event for \"{g}\" (its start events: {known})"
            )
        }
    })
}

/// The run: its runtime, who acts, and the job executor stepping on the
/// virtual clock.
struct Run {
    runtime: Runtime,
    who: Principal,
    stepper: Stepper,
}

impl Run {
    /// Runs the jobs that are due now — async continuations, timers whose
    /// time has come, connector calls and service handlers — through the job
    /// executor, as a server would. A failed call comes back after its pause
    /// on the virtual clock (`advance`).
    async fn due_jobs(&self, printer: &mut Printer<'_>) -> Result<(), String> {
        while let Some(done) = self
            .stepper
            .step(&self.runtime)
            .await
            .map_err(|e| e.to_string())?
        {
            for o in &done.outcomes {
                printer.outcome(self, o).await?;
            }
            printer.catch_up(self).await?;
            if let Some(message) = &done.retry {
                let element = done.job.as_ref().map(|j| j.1.as_str()).unwrap_or("a job");
                printer.ignored(&format!("{element} failed: {message}; it will be retried"));
            }
            if let Some(e) = done.error {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Completes the oldest open task of `element` in the first of these
    /// instances that has one; `None` when none has.
    async fn complete(
        &self,
        instances: &[Uuid],
        element: &str,
        vars: &Map<String, Value>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        for &instance in instances {
            match self
                .runtime
                .tasks()
                .complete_element(&self.who, instance, element, Values::Json(vars.clone()))
                .await
            {
                Err(RuntimeError::NotWaiting(_)) => {}
                done => return done.map(|c| Some(c.outcome)),
            }
        }
        Ok(None)
    }

    /// Resumes `element` where the first of these instances waits for a trigger there.
    async fn trigger(
        &self,
        instances: &[Uuid],
        element: &str,
        vars: &Map<String, Value>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        for &instance in instances {
            match self
                .runtime
                .instances()
                .trigger(&self.who, instance, element, vars.clone())
                .await
            {
                Err(RuntimeError::NotFound(_)) => {}
                done => return done.map(Some),
            }
        }
        Ok(None)
    }

    /// Delivers a message to the first of these instances waiting for it;
    /// when none waits, it starts the processes with a message start event of
    /// that name (`Ok(None)`: their events come with the next catch-up).
    async fn message(
        &self,
        instances: &[Uuid],
        name: &str,
        vars: &Map<String, Value>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        let work = self.runtime.work();
        for &instance in instances {
            if let Some(o) = work
                .message_to(&self.who, instance, name, vars.clone())
                .await?
            {
                return Ok(Some(o));
            }
        }
        work.message(&self.who, name, Correlation::default(), vars.clone(), false)
            .await
            .map(|_| None)
    }
}
