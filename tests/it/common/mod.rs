//! Shared test helpers: diagram snippets, an engine harness that checks the
//! state invariants after every step, and fresh databases (SQLite always,
//! PostgreSQL too when `BPMN_TEST_DATABASE_URL` is set).

#![allow(dead_code)]

pub mod app;
pub mod db;
pub mod remote;
pub mod rt;
pub mod smtp;

pub use rt::Shorthand;

use std::collections::BTreeSet;

use bpmn_engine::engine::{
    self, Command, CommandError, Effect, Event, InstanceState, Status, Transition, Wait,
};
use bpmn_engine::model::{self, Definitions, Process};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// Wraps process content in `definitions` with the usual namespaces.
pub fn definitions(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  id="defs" targetNamespace="http://example.com">
{inner}
</bpmn:definitions>"#
    )
}

/// One executable process `p` with the given content.
pub fn process(inner: &str) -> String {
    definitions(&format!(
        r#"<bpmn:process id="p" name="Test" isExecutable="true">
{inner}
</bpmn:process>"#
    ))
}

/// A sequence flow, optionally with a condition.
pub fn flow(id: &str, from: &str, to: &str) -> String {
    format!(r#"<bpmn:sequenceFlow id="{id}" sourceRef="{from}" targetRef="{to}"/>"#)
}

pub fn cond_flow(id: &str, from: &str, to: &str, condition: &str) -> String {
    let escaped = condition
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        r#"<bpmn:sequenceFlow id="{id}" sourceRef="{from}" targetRef="{to}"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escaped}</bpmn:conditionExpression></bpmn:sequenceFlow>"#
    )
}

/// Parses a diagram that must be valid.
pub fn parse(xml: &str) -> Definitions {
    match model::parse(xml.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("the diagram should be valid:\n{e}"),
    }
}

/// Parses a diagram that must be refused; returns the diagnostics as text lines.
pub fn parse_err(xml: &str) -> Vec<String> {
    match model::parse(xml.as_bytes()) {
        Ok(_) => panic!("the diagram should be refused"),
        Err(e) => e.diagnostics.iter().map(|d| d.to_string()).collect(),
    }
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

pub fn t0() -> Timestamp {
    "2025-01-01T00:00:00Z".parse().unwrap()
}

/// Drives one instance through the pure engine, checking after every command
/// that applying the events reproduces the new state, and that the state
/// survives a round trip through JSON (the harness continues from the copy).
pub struct Sim {
    pub defs: Definitions,
    pub state: InstanceState,
    pub now: Timestamp,
    pub last: Transition,
    /// Every event since the start.
    pub history: Vec<Event>,
    /// Every effect since the start.
    pub effects: Vec<Effect>,
    /// What the engine is told of the instance (its id, business key).
    pub ctx: engine::Context,
}

impl Sim {
    pub fn start(xml: &str, vars: Value) -> Sim {
        Self::try_start(xml, vars).unwrap_or_else(|e| panic!("start failed: {e}"))
    }

    pub fn try_start(xml: &str, vars: Value) -> Result<Sim, CommandError> {
        let defs = parse(xml);
        let process = defs.main_process().expect("a runnable process").clone();
        let state = InstanceState::new(&process.id);
        let mut sim = Sim {
            defs,
            state,
            now: t0(),
            last: Transition {
                events: Vec::new(),
                effects: Vec::new(),
                state: InstanceState::new(&process.id),
            },
            history: Vec::new(),
            effects: Vec::new(),
            ctx: engine::Context {
                instance_id: Some(uuid::Uuid::from_u128(
                    0x0123_4567_89ab_7def_8000_0000_0000_0001,
                )),
                business_key: Some("order-1".into()),
                definition_id: Some("p:1:1".into()),
                user: Some("alice".into()),
            },
        };
        sim.cmd(Command::Start {
            variables: obj(vars),
            initiator: Some("alice".into()),
        })?;
        Ok(sim)
    }

    pub fn process(&self) -> &Process {
        self.defs.main_process().expect("a runnable process")
    }

    /// Runs a command; on success checks the invariants and moves on.
    pub fn cmd(&mut self, command: Command) -> Result<&Transition, CommandError> {
        let process = self.process().clone();
        let tr = engine::execute(&process, &self.ctx, &self.state, command, self.now)?;
        let mut replayed = self.state.clone();
        for e in &tr.events {
            replayed.apply(e);
        }
        assert_eq!(
            replayed, tr.state,
            "applying the events must give the new state"
        );
        let json = serde_json::to_string(&tr.state).unwrap();
        let copy: InstanceState = serde_json::from_str(&json).unwrap();
        assert_eq!(copy, tr.state, "the state must survive JSON");
        // Events are history rows: they must survive JSON too.
        for e in &tr.events {
            let back: Event = serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap();
            assert_eq!(&back, e);
        }
        self.state = copy;
        self.history.extend(tr.events.iter().cloned());
        self.effects.extend(tr.effects.iter().cloned());
        self.last = tr;
        Ok(&self.last)
    }

    /// The key of the live element instance of `element` (the oldest).
    pub fn key(&self, element: &str) -> u64 {
        self.state
            .elements
            .iter()
            .find(|(_, e)| e.element == element)
            .map(|(k, _)| *k)
            .unwrap_or_else(|| panic!("{element} is not active; active: {:?}", self.active()))
    }

    pub fn complete(&mut self, element: &str, vars: Value) -> &Transition {
        let key = self.key(element);
        self.cmd(Command::CompleteUserTask {
            key,
            variables: obj(vars),
        })
        .unwrap_or_else(|e| panic!("complete {element}: {e}"))
    }

    pub fn try_complete(
        &mut self,
        element: &str,
        vars: Value,
    ) -> Result<&Transition, CommandError> {
        let key = self.key(element);
        self.cmd(Command::CompleteUserTask {
            key,
            variables: obj(vars),
        })
    }

    pub fn message(&mut self, element: &str, vars: Value) -> &Transition {
        let key = self.key(element);
        self.cmd(Command::CorrelateMessage {
            key,
            variables: obj(vars),
        })
        .unwrap_or_else(|e| panic!("message to {element}: {e}"))
    }

    pub fn job(&mut self, element: &str, vars: Value) -> &Transition {
        let key = self.key(element);
        self.cmd(Command::CompleteJob {
            key,
            variables: obj(vars),
        })
        .unwrap_or_else(|e| panic!("job of {element}: {e}"))
    }

    /// Element ids of live element instances, sorted.
    pub fn active(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .state
            .elements
            .values()
            .map(|e| e.element.clone())
            .collect();
        set.into_iter().collect()
    }

    /// Element ids of open user tasks, sorted.
    pub fn tasks(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .state
            .elements
            .values()
            .filter(|e| matches!(e.wait, Some(Wait::UserTask { .. })))
            .map(|e| e.element.clone())
            .collect();
        v.sort();
        v
    }

    pub fn status(&self) -> Status {
        self.state.status
    }

    pub fn var(&self, name: &str) -> Option<Value> {
        self.state.root_variables().get(name).cloned()
    }

    /// Element ids activated by the last command, in order.
    pub fn activated(&self) -> Vec<String> {
        self.last
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ElementActivated { element, .. } => Some(element.clone()),
                _ => None,
            })
            .collect()
    }

    /// Element ids completed by the last command, in order.
    pub fn completed(&self) -> Vec<String> {
        self.last
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ElementCompleted { element, .. } => Some(element.clone()),
                _ => None,
            })
            .collect()
    }

    /// How many times an element was activated since the start.
    pub fn activations(&self, element: &str) -> usize {
        self.history
            .iter()
            .filter(|e| matches!(e, Event::ElementActivated { element: el, .. } if el == element))
            .count()
    }

    /// Open incidents' messages.
    pub fn incidents(&self) -> Vec<String> {
        self.state
            .incidents
            .values()
            .map(|i| i.message.clone())
            .collect()
    }

    /// The flows taken by the last command, in order.
    pub fn taken(&self) -> Vec<String> {
        self.last
            .events
            .iter()
            .filter_map(|e| match e {
                Event::FlowTaken { flow, .. } => Some(flow.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A BPMN document's bytes with `vars` JSON, for the runner.
pub fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

pub fn demo_bytes() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/bpmn/demo.bpmn")).unwrap()
}
