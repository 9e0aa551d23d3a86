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
//! message NAME [JSON]          deliver a message
//! advance DURATION             move the clock (ISO 8601, e.g. PT1H) and fire due timers
//! expect tasks [ID...]         the open user tasks are exactly these
//! expect completed | terminated | active | incident
//! expect var NAME JSON         a variable has this value
//! ```
//!
//! A command that matches nothing waiting is reported as ignored and changes
//! nothing. The text output reads like the trace of the engine this one
//! replaces; the JSON output is one event object per line.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::model::{Process, time};
use crate::runtime::jobs::Stepper;
use crate::runtime::{
    Clock, ConnectorPolicy, Deployed, Event, InstanceState, Outcome, Principal, Runtime,
    RuntimeError, StartRequest, Status, Values, VirtualClock, waiting_items,
};

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
                "line {line_no}: unknown command \"{other}\" (complete, message, signal, advance, expect)"
            ));
        }
    };
    Ok(Some(line))
}

/// Prints events as the trace (text) or as JSON lines, following the instance's
/// state so that conditions can show the variables they saw.
struct Printer<'a> {
    format: Format,
    out: &'a mut dyn Write,
    process: &'a Process,
    mirror: InstanceState,
    /// The instance these events belong to when it is not the main one (an
    /// instance a call activity started), numbered in the trace from 2.
    shown: Option<Other>,
    others: HashMap<Uuid, Other>,
}

/// An instance of the run other than the main one.
struct Other {
    id: Uuid,
    number: usize,
    deployed: Arc<Deployed>,
    mirror: InstanceState,
}

impl Printer<'_> {
    fn proc(&self) -> &Process {
        match &self.shown {
            Some(o) => o.deployed.process(),
            None => self.process,
        }
    }

    fn cur(&self) -> &InstanceState {
        self.shown.as_ref().map_or(&self.mirror, |o| &o.mirror)
    }

    fn cur_mut(&mut self) -> &mut InstanceState {
        match &mut self.shown {
            Some(o) => &mut o.mirror,
            None => &mut self.mirror,
        }
    }

    /// Prints a command's events, whichever instance of the run it ran on.
    async fn outcome(&mut self, run: &Run, o: &Outcome) -> Result<(), String> {
        if o.instance_id == run.main {
            self.events(&o.events);
            return Ok(());
        }
        let other = match self.others.remove(&o.instance_id) {
            Some(other) => other,
            None => {
                let (deployed, history) = run
                    .runtime
                    .instances()
                    .trace(&run.who, o.instance_id)
                    .await
                    .map_err(|e| e.to_string())?;
                // What happened before these events (its start, in the call).
                let mut mirror = InstanceState::new(&deployed.process().id);
                let before = history.len().saturating_sub(o.events.len());
                for event in history.iter().take(before) {
                    mirror.apply(event);
                }
                Other {
                    id: o.instance_id,
                    number: self.others.len() + 2,
                    deployed,
                    mirror,
                }
            }
        };
        self.shown = Some(other);
        self.events(&o.events);
        if let Some(other) = self.shown.take() {
            self.others.insert(other.id, other);
        }
        Ok(())
    }

    fn text(&mut self, line: &str) {
        let _ = writeln!(
            self.out,
            "[{}] {line}",
            self.shown.as_ref().map_or(1, |o| o.number)
        );
    }

    fn json(&mut self, v: Value) {
        let _ = writeln!(self.out, "{v}");
    }

    fn is_activity(&self, element: &str) -> bool {
        self.proc().node(element).is_some_and(|n| n.is_activity())
    }

    fn display(&self, element: &str) -> String {
        match self.proc().node(element) {
            Some(n) => format!("{}({})", n.kind_name(), n.display_name()),
            None => element.to_string(),
        }
    }

    fn element_json(&self, event: &str, element: &str) -> Value {
        let node = self.proc().node(element);
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
            self.cur_mut().apply(e);
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
                let vars = Value::Object(self.cur().visible_variables(*key));
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
            .elements
            .get(&key)
            .map(|e| e.element.clone())
            .unwrap_or_default()
    }

    fn json_event(&mut self, e: &Event) {
        match e {
            Event::ElementActivated { element, .. } => {
                let v = self.element_json("activated", element);
                self.json(v);
            }
            Event::ElementCompleted { element, .. } => {
                let v = self.element_json("completed", element);
                self.json(v);
                if self.proc().node(element).is_some_and(|n| n.tag == "endEvent") {
                    self.json(json!({"event": "ended", "element": element}));
                }
            }
            Event::ElementTerminated { element, .. } => {
                let v = self.element_json("terminated", element);
                self.json(v);
            }
            Event::FlowTaken { flow, default, .. } => {
                self.json(json!({"event": "taken", "flow": flow, "default": default}));
            }
            Event::ConditionEvaluated {
                flow,
                expression,
                result,
                ..
            } => self.json(json!({"event": "condition", "flow": flow, "expression": expression, "result": result})),
                        Event::IncidentRaised { element, message, .. } => {
                self.json(json!({"event": "incident", "element": element, "message": message}));
            }
            Event::ErrorThrown { key, code, message } => {
                let element = self.element_of(*key);
                self.json(json!({"event": "error", "element": element, "code": code, "message": message}));
            }
            Event::InstanceCompleted => self.json(json!({"event": "finished", "state": "completed"})),
            Event::InstanceTerminated { reason } => {
                self.json(json!({"event": "finished", "state": "terminated", "reason": reason}));
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

    /// After the start (`after_start`) the text trace stays quiet, as the old one did.
    fn waiting(&mut self, after_start: bool) {
        let items = waiting_items(self.process, &self.mirror);
        match self.format {
            Format::Json => {
                let user_tasks: Vec<&str> = items
                    .iter()
                    .filter(|i| i.kind == "user_task")
                    .map(|i| i.element.as_str())
                    .collect();
                let other: Vec<Value> = items
                    .iter()
                    .filter(|i| i.kind != "user_task")
                    .map(|i| json!({"element": i.element, "kind": i.kind, "detail": i.detail}))
                    .collect();
                self.json(json!({"event": "waiting", "user_tasks": user_tasks, "other": other}));
            }
            Format::Text => {
                if after_start || self.mirror.status != Status::Active {
                    return;
                }
                let shown: Vec<String> = items
                    .iter()
                    .map(|i| {
                        let d = self.display(&i.element);
                        if i.kind == "incident" {
                            format!("{d} (incident)")
                        } else {
                            d
                        }
                    })
                    .collect();
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

    fn finish(&mut self) {
        if self.format == Format::Json {
            let values = Value::Object(self.mirror.root_variables());
            self.json(json!({"event": "variables", "values": values}));
            let state = self.mirror.display_status();
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
        None => deployed
            .definitions
            .iter()
            .find(|d| d.is_default)
            .or(deployed.definitions.first())
            .ok_or("the file has no executable process")?,
    };
    let model = runtime
        .deployments()
        .get(&who, &definition.key, Some(definition.version))
        .await
        .map_err(|e| e.to_string())?;
    let process = model.process();
    let mut printer = Printer {
        format: options.format,
        out,
        process,
        mirror: InstanceState::new(&process.id),
        shown: None,
        others: HashMap::new(),
    };

    let started = match runtime
        .deployments()
        .start(
            &who,
            StartRequest {
                key: definition.key.clone(),
                version: Some(definition.version),
                values: Values::Json(options.variables.clone()),
                business_key: None,
            },
        )
        .await
    {
        Ok(o) => o,
        Err(RuntimeError::InvalidVariables(errors)) => {
            let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            return Err(format!(
                "the start variables are invalid: {}",
                list.join("; ")
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let id = started.instance_id;
    let run = Run {
        runtime,
        who,
        main: id,
        stepper: Stepper::new(RUNNER),
    };
    if options.format == Format::Json {
        printer
            .json(json!({"event": "started", "process": process.id, "instance": id.to_string()}));
    }
    printer.events(&started.events);
    run.due_jobs(&mut printer).await?;
    printer.waiting(true);

    for (text, line) in lines {
        printer.command(&text, &line);
        match &line {
            Line::Complete(element, vars) => match run.complete(element, vars).await {
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
                Err(RuntimeError::Rejected(m) | RuntimeError::TooLarge(m)) => printer.refused(&m),
                Err(e) => return Err(e.to_string()),
            },
            Line::Trigger(element, vars) => {
                match run
                    .runtime
                    .instances()
                    .trigger(&run.who, id, element, vars.clone())
                    .await
                {
                    Ok(o) => printer.events(&o.events),
                    Err(RuntimeError::NotFound(_)) => {
                        printer.ignored(&format!("nothing waits for a trigger at \"{element}\""))
                    }
                    Err(RuntimeError::Conflict(m)) => printer.ignored(&m),
                    Err(e) => return Err(e.to_string()),
                }
            }
            Line::Message(name, vars) => {
                match run
                    .runtime
                    .work()
                    .message_to(&run.who, id, name, vars.clone())
                    .await
                {
                    Ok(Some(o)) => printer.events(&o.events),
                    Ok(None) => printer.ignored(&format!("nothing waits for message \"{name}\"")),
                    Err(RuntimeError::Conflict(m)) => printer.ignored(&m),
                    Err(e) => return Err(e.to_string()),
                }
            }
            Line::Signal(name, vars) => {
                let b = run
                    .runtime
                    .work()
                    .signal(&run.who, name, vars.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                let mine: Vec<_> = b.outcomes.iter().filter(|o| o.instance_id == id).collect();
                if mine.is_empty() {
                    printer.ignored(&format!("nothing here waits for signal \"{name}\""));
                }
                for o in mine {
                    printer.events(&o.events);
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
                for instance in run.tree().await? {
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
                let actual = printer.mirror.display_status();
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
                let actual = printer.mirror.root_variables().get(name).cloned();
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
        run.due_jobs(&mut printer).await?;
        printer.waiting(false);
    }
    printer.finish();
    Ok(Exit::Ran)
}

/// The run: its runtime, who acts, the main instance, and the job executor
/// stepping on the virtual clock.
struct Run {
    runtime: Runtime,
    who: Principal,
    main: Uuid,
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

    /// Completes the oldest open task of `element` in the main instance, else
    /// in the instances it called; `None` when none has one.
    async fn complete(
        &self,
        element: &str,
        vars: &Map<String, Value>,
    ) -> Result<Option<Outcome>, RuntimeError> {
        let tasks = self.runtime.tasks();
        let values = || Values::Json(vars.clone());
        match tasks
            .complete_element(&self.who, self.main, element, values())
            .await
        {
            Err(RuntimeError::NotWaiting(_)) => {}
            done => return done.map(|c| Some(c.outcome)),
        }
        for instance in self
            .tree()
            .await
            .map_err(RuntimeError::Rejected)?
            .into_iter()
            .skip(1)
        {
            match tasks
                .complete_element(&self.who, instance, element, values())
                .await
            {
                Err(RuntimeError::NotWaiting(_)) => {}
                done => return done.map(|c| Some(c.outcome)),
            }
        }
        Ok(None)
    }

    /// The main instance and every instance its call activities started (and
    /// theirs), in the order they started.
    async fn tree(&self) -> Result<Vec<Uuid>, String> {
        let mut all = vec![self.main];
        let mut i = 0;
        while i < all.len() {
            let called = self
                .runtime
                .instances()
                .called(&self.who, all[i])
                .await
                .map_err(|e| e.to_string())?;
            all.extend(called.into_iter().map(|c| c.id));
            i += 1;
        }
        Ok(all)
    }
}
