//! Signals and thrown messages: signal catch and boundary events, throw and
//! end events that send (as `throw` jobs), and message and signal start events.

use bpmn_engine::engine::{Command, Effect, JobKind, Status, Wait};
use serde_json::json;

use crate::common::*;

const DECLS: &str =
    r#"<bpmn:signal id="S_alarm" name="alarm"/><bpmn:message id="M_paid" name="paid"/>"#;

fn with_decls(inner: &str) -> String {
    process(inner).replace(
        "</bpmn:definitions>",
        &format!("{DECLS}</bpmn:definitions>"),
    )
}

#[test]
fn a_signal_catch_event_subscribes_to_the_signal_and_goes_on_when_it_arrives() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:intermediateCatchEvent><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "wait"),
        flow("f1", "wait", "t"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let wait = sim.key("wait");
    assert_eq!(
        sim.state.elements[&wait].wait,
        Some(Wait::Signal {
            name: "alarm".into()
        })
    );
    assert!(sim.effects.contains(&Effect::Subscribe {
        key: wait,
        element: "wait".into(),
        message: "alarm".into(),
        signal: true,
        correlation: None,
    }));
    sim.message("wait", json!({"level": 3}));
    assert_eq!(sim.tasks(), ["t"]);
    assert_eq!(sim.var("level"), Some(json!(3)));
}

#[test]
fn a_non_interrupting_signal_boundary_event_keeps_listening() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="false"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:boundaryEvent><bpmn:userTask id="check"/>{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("f2", "b", "check"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.message("b", json!({}));
    sim.message("b", json!({}));
    assert_eq!(sim.tasks(), ["check", "check", "t"]);
    let b = sim.key("b");
    assert_eq!(
        sim.state.elements[&b].wait,
        Some(Wait::Signal {
            name: "alarm".into()
        })
    );
}

#[test]
fn a_throw_event_sends_through_a_job_with_its_inputs_as_payload() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:intermediateThrowEvent id="tell"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="amount">${{price * 2}}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements><bpmn:messageEventDefinition messageRef="M_paid"/></bpmn:intermediateThrowEvent>
<bpmn:endEvent id="e"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:endEvent>{}{}"#,
        flow("f0", "s", "tell"),
        flow("f1", "tell", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({"price": 21}));
    let tell = sim.key("tell");
    let payload = sim
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::CreateJob {
                key,
                kind: JobKind::Throw,
                payload,
                ..
            } if *key == tell => Some(payload.clone()),
            _ => None,
        })
        .expect("a throw job");
    assert_eq!(
        payload,
        json!({"kind": "message", "name": "paid", "variables": {"amount": 42}})
    );
    sim.job("tell", json!({}));
    let e = sim.key("e");
    assert!(sim.last.effects.iter().any(|x| matches!(
        x,
        Effect::CreateJob { key, kind: JobKind::Throw, payload, .. }
            if *key == e && payload["kind"] == "signal" && payload["name"] == "alarm"
    )));
    sim.job("e", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn message_and_signal_start_events_start_at_their_own_event() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="manual"/><bpmn:startEvent id="on_paid"><bpmn:messageEventDefinition messageRef="M_paid"/></bpmn:startEvent>
<bpmn:startEvent id="on_alarm"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:startEvent>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/>{}{}{}"#,
        flow("f0", "manual", "a"),
        flow("f1", "on_paid", "b"),
        flow("f2", "on_alarm", "c"),
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(
        sim.tasks(),
        ["a"],
        "a plain start uses the none start event"
    );
    let defs = parse(&xml);
    let p = defs.main_process().unwrap();
    let started = bpmn_engine::engine::execute(
        p,
        &bpmn_engine::engine::Context::default(),
        &bpmn_engine::engine::InstanceState::new(&p.id),
        Command::StartAt {
            element: "on_paid".into(),
            variables: obj(json!({"amount": 5})),
        },
        t0(),
    )
    .unwrap();
    assert!(started.state.elements.values().any(|e| e.element == "b"));
}

#[test]
fn signals_are_checked_when_deploying() {
    let errs = parse_err(&with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="w"><bpmn:signalEventDefinition signalRef="S_nope"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateThrowEvent id="t"><bpmn:signalEventDefinition/></bpmn:intermediateThrowEvent><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "w"),
        flow("f1", "w", "t"),
        flow("f2", "t", "e"),
    )))
    .join("\n");
    assert!(
        errs.contains("signalRef \"S_nope\" is not a signal of this file"),
        "{errs}"
    );
    assert!(
        errs.contains("a signal must be chosen (signalRef)"),
        "{errs}"
    );
}

#[test]
fn a_send_task_with_a_message_and_no_implementation_sends_it() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:sendTask id="send" messageRef="M_paid"/><bpmn:sendTask id="call" camunda:expression="${{1 + 1}}" camunda:resultVariable="two" messageRef="M_paid"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "send"),
        flow("f1", "send", "call"),
        flow("f2", "call", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    assert!(sim.effects.iter().any(|x| matches!(
        x,
        Effect::CreateJob { kind: JobKind::Throw, payload, .. } if payload["name"] == "paid"
    )));
    sim.job("send", json!({}));
    assert_eq!(
        sim.var("two"),
        Some(json!(2)),
        "with an implementation it does that work instead"
    );
    assert_eq!(sim.status(), Status::Completed);
}
