//! Event subprocesses: armed while their scope runs, started by messages,
//! timers, signals, conditions, errors and escalations, interrupting or not.

use bpmn_engine::engine::{Command, Effect, Event, Status, Wait};
use serde_json::json;

use crate::common::*;

const DECLS: &str = r#"<bpmn:message id="M_cancel" name="cancel"/><bpmn:message id="M_info" name="info"/>
<bpmn:error id="E_fail" errorCode="FAIL"/><bpmn:escalation id="X_late" escalationCode="LATE"/>"#;

fn with_decls(inner: &str) -> String {
    process(inner).replace(
        "</bpmn:definitions>",
        &format!("{DECLS}</bpmn:definitions>"),
    )
}

/// An event subprocess `id` whose start event has `definition` (and
/// `isInterrupting`), running user task `{id}_task`.
fn event_sub(id: &str, interrupting: bool, definition: &str) -> String {
    format!(
        r#"<bpmn:subProcess id="{id}" triggeredByEvent="true">
<bpmn:startEvent id="{id}_start" isInterrupting="{interrupting}">{definition}</bpmn:startEvent>
<bpmn:userTask id="{id}_task"/><bpmn:endEvent id="{id}_end"/>
<bpmn:sequenceFlow id="{id}_f0" sourceRef="{id}_start" targetRef="{id}_task"/>
<bpmn:sequenceFlow id="{id}_f1" sourceRef="{id}_task" targetRef="{id}_end"/>
</bpmn:subProcess>"#
    )
}

/// A process: start, user task `t`, end — plus `extra`.
fn main_with(extra: &str) -> String {
    with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>{}{}{extra}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
    ))
}

#[test]
fn an_interrupting_message_event_subprocess_cancels_the_process_and_runs_instead() {
    let mut sim = Sim::start(
        &main_with(&event_sub(
            "es",
            true,
            r#"<bpmn:messageEventDefinition messageRef="M_cancel"/>"#,
        )),
        json!({}),
    );
    // Given: armed while the process runs.
    let es = sim.key("es");
    assert_eq!(
        sim.state.elements[&es].wait,
        Some(Wait::Message {
            name: "cancel".into()
        })
    );
    assert_eq!(sim.tasks(), ["t"]);
    // When the message arrives.
    sim.message("es", json!({"why": "customer"}));
    // Then the task was withdrawn and the handler runs in the armed instance.
    assert_eq!(sim.tasks(), ["es_task"]);
    assert_eq!(sim.var("why"), Some(json!("customer")));
    assert!(
        sim.effects.contains(&Effect::CloseUserTask {
            key: sim
                .history
                .iter()
                .find_map(|e| match e {
                    bpmn_engine::engine::Event::ElementActivated { key, element, .. }
                        if element == "t" =>
                        Some(*key),
                    _ => None,
                })
                .unwrap(),
            completed: false
        })
    );
    sim.complete("es_task", json!({}));
    // The scope ended with it.
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_non_interrupting_event_subprocess_runs_beside_the_process_each_time() {
    let mut sim = Sim::start(
        &main_with(&event_sub(
            "es",
            false,
            r#"<bpmn:messageEventDefinition messageRef="M_info"/>"#,
        )),
        json!({}),
    );
    sim.message("es", json!({}));
    sim.message("es", json!({}));
    assert_eq!(sim.tasks(), ["es_task", "es_task", "t"]);
    // The process waits for the running handlers, not for the armed one.
    sim.complete("t", json!({}));
    assert_eq!(sim.status(), Status::Active);
    sim.complete("es_task", json!({}));
    sim.complete("es_task", json!({}));
    assert_eq!(sim.status(), Status::Completed);
    // The armed one was withdrawn: its subscription dropped.
    let es_armed = first_key(&sim, "es");
    assert!(sim.effects.contains(&Effect::Unsubscribe { key: es_armed }));
}

#[test]
fn a_process_that_ends_withdraws_its_armed_event_subprocesses() {
    let mut sim = Sim::start(
        &main_with(&event_sub(
            "es",
            true,
            r#"<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"#,
        )),
        json!({}),
    );
    let es = sim.key("es");
    sim.complete("t", json!({}));
    assert_eq!(sim.status(), Status::Completed);
    assert!(sim.effects.contains(&Effect::CancelJob { key: es }));
}

#[test]
fn a_timer_cycle_event_subprocess_fires_once_per_repetition() {
    let mut sim = Sim::start(
        &main_with(&event_sub(
            "es",
            false,
            r#"<bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>"#,
        )),
        json!({}),
    );
    sim.now += jiff::SignedDuration::from_hours(1);
    sim.job("es", json!({}));
    assert_eq!(sim.tasks(), ["es_task", "t"]);
    assert_eq!(
        armed(&sim, "es"),
        1,
        "armed again for the second repetition"
    );
    sim.now += jiff::SignedDuration::from_hours(1);
    sim.job("es", json!({}));
    assert_eq!(sim.tasks(), ["es_task", "es_task", "t"]);
    assert_eq!(armed(&sim, "es"), 0, "R2: done after two");
}

/// How many instances of the event subprocess wait for their trigger.
fn armed(sim: &Sim, element: &str) -> usize {
    sim.state
        .elements
        .values()
        .filter(|e| e.element == element && e.wait != Some(Wait::Children))
        .count()
}

/// The key the element's first instance had.
fn first_key(sim: &Sim, element: &str) -> u64 {
    sim.history
        .iter()
        .find_map(|e| match e {
            Event::ElementActivated {
                key, element: el, ..
            } if el == element => Some(*key),
            _ => None,
        })
        .unwrap()
}

#[test]
fn an_error_event_subprocess_in_a_subprocess_catches_an_error_end_event_inside_it() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub">
  <bpmn:startEvent id="ss"/><bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:endEvent>
  <bpmn:sequenceFlow id="sf" sourceRef="ss" targetRef="boom"/>
  <bpmn:subProcess id="handler" triggeredByEvent="true">
    <bpmn:startEvent id="hs"><bpmn:errorEventDefinition errorRef="E_fail" camunda:errorCodeVariable="code"/></bpmn:startEvent>
    <bpmn:userTask id="fix"/><bpmn:endEvent id="he"/>
    <bpmn:sequenceFlow id="hf0" sourceRef="hs" targetRef="fix"/><bpmn:sequenceFlow id="hf1" sourceRef="fix" targetRef="he"/>
  </bpmn:subProcess>
</bpmn:subProcess>
<bpmn:boundaryEvent id="b" attachedToRef="sub"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>
<bpmn:userTask id="after"/><bpmn:userTask id="outer"/>{}{}{}"#,
        flow("f0", "s", "sub"),
        flow("f1", "sub", "after"),
        flow("f2", "b", "outer"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    // The event subprocess inside the scope comes before the boundary event on it.
    assert_eq!(sim.tasks(), ["fix"]);
    assert_eq!(sim.var("code"), Some(json!("FAIL")));
    sim.complete("fix", json!({}));
    // The subprocess completed normally, so its outgoing flow was taken.
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_worker_error_goes_to_the_task_boundary_first_then_to_an_event_subprocess() {
    let handler = event_sub(
        "es",
        true,
        r#"<bpmn:errorEventDefinition errorRef="E_fail"/>"#,
    );
    let body = |boundary: &str| {
        with_decls(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="w" camunda:type="external" camunda:topic="x"/><bpmn:endEvent id="e"/>{boundary}{}{}{handler}"#,
            flow("f0", "s", "w"),
            flow("f1", "w", "e"),
        ))
    };
    let mut sim = Sim::start(&body(""), json!({}));
    let w = sim.key("w");
    sim.cmd(Command::ThrowError {
        key: w,
        code: "FAIL".into(),
        message: None,
        variables: Default::default(),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["es_task"]);
    let with_boundary = body(&format!(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="w"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:boundaryEvent><bpmn:userTask id="local"/>{}"#,
        flow("f2", "b", "local")
    ));
    let mut sim = Sim::start(&with_boundary, json!({}));
    let w = sim.key("w");
    sim.cmd(Command::ThrowError {
        key: w,
        code: "FAIL".into(),
        message: None,
        variables: Default::default(),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["local"]);
}

#[test]
fn a_non_interrupting_escalation_event_subprocess_lets_the_thrower_go_on() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateThrowEvent id="x"><bpmn:escalationEventDefinition escalationRef="X_late"/></bpmn:intermediateThrowEvent><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f0", "s", "x"),
        flow("f1", "x", "t"),
        flow("f2", "t", "e"),
        event_sub(
            "es",
            false,
            r#"<bpmn:escalationEventDefinition escalationRef="X_late" camunda:escalationCodeVariable="esc"/>"#
        ),
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["es_task", "t"]);
    assert_eq!(sim.var("esc"), Some(json!("LATE")));
}

#[test]
fn a_conditional_event_subprocess_starts_when_its_condition_starts_to_hold() {
    let mut sim = Sim::start(
        &main_with(&event_sub(
            "es",
            true,
            r#"<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${amount > 100}</bpmn:condition></bpmn:conditionalEventDefinition>"#,
        )),
        json!({"amount": 5}),
    );
    assert_eq!(sim.tasks(), ["t"]);
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"amount": 500})),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["es_task"]);
}

#[test]
fn an_error_thrown_inside_an_error_event_subprocess_is_not_caught_by_itself() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:endEvent>{}
<bpmn:subProcess id="es" triggeredByEvent="true">
  <bpmn:startEvent id="hs"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:startEvent>
  <bpmn:endEvent id="again"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:endEvent>
  <bpmn:sequenceFlow id="hf" sourceRef="hs" targetRef="again"/>
</bpmn:subProcess>"#,
        flow("f0", "s", "boom"),
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.incidents().len(), 1, "{:?}", sim.incidents());
    assert_eq!(sim.activations("es"), 1);
}

#[test]
fn event_subprocesses_with_flows_or_wrong_start_events_are_refused() {
    let errors = parse_err(&with_decls(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/>{}{}
<bpmn:subProcess id="es1" triggeredByEvent="true"><bpmn:startEvent id="a"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:startEvent></bpmn:subProcess>
<bpmn:subProcess id="es2" triggeredByEvent="true"><bpmn:startEvent id="b" isInterrupting="false"><bpmn:errorEventDefinition errorRef="E_fail"/></bpmn:startEvent></bpmn:subProcess>
<bpmn:subProcess id="es3" triggeredByEvent="true"><bpmn:startEvent id="c"/></bpmn:subProcess>
<bpmn:subProcess id="es4" triggeredByEvent="true"/>"#,
        flow("f0", "s", "t"),
        flow("bad", "t", "es1"),
    )));
    let text = errors.join("\n");
    assert!(
        text.contains("\"es1\": no sequence flow may enter or leave an event subprocess"),
        "{text}"
    );
    assert!(
        text.contains("\"b\": an error start event always interrupts"),
        "{text}"
    );
    assert!(
        text.contains("\"c\": the start event of an event subprocess needs an event definition"),
        "{text}"
    );
    assert!(
        text.contains("\"es4\": an event subprocess needs exactly one start event (it has 0)"),
        "{text}"
    );
}

#[test]
fn a_one_off_timer_event_subprocess_inside_a_subprocess_runs_in_that_subprocess() {
    let xml = with_decls(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="t"/><bpmn:endEvent id="se"/>
  <bpmn:sequenceFlow id="sf0" sourceRef="ss" targetRef="t"/><bpmn:sequenceFlow id="sf1" sourceRef="t" targetRef="se"/>
  {}
</bpmn:subProcess><bpmn:userTask id="after"/>{}{}"#,
        event_sub(
            "es",
            false,
            r#"<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>"#
        ),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.job("es", json!({}));
    let sub = sim.key("sub");
    let running = sim
        .state
        .elements
        .values()
        .find(|e| e.element == "es")
        .expect("the event subprocess runs");
    assert_eq!(running.scope, sub, "it runs inside the subprocess");
    // The subprocess waits for it.
    sim.complete("t", json!({}));
    assert_eq!(sim.tasks(), ["es_task"]);
    sim.complete("es_task", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
}
