//! BPMN errors and escalations: error end events, errors reported by
//! workers, error and escalation boundary events on subprocesses and tasks,
//! and what happens when nobody catches them.

use bpmn_engine::engine::{Command, Effect, Event, Status};
use serde_json::json;

use crate::common::*;

const ERRORS: &str = r#"<bpmn:error id="E_STOCK" name="Out of stock" errorCode="OUT_OF_STOCK" camunda:errorMessage="nothing left"/>
<bpmn:error id="E_CREDIT" name="Credit refused" errorCode="CREDIT"/>"#;

/// Process content plus the error declarations.
fn with_errors(inner: &str) -> String {
    process(inner).replace(
        "</bpmn:definitions>",
        &format!("{ERRORS}</bpmn:definitions>"),
    )
}

/// A subprocess `sub` that forks into user task `a` and a path that reaches
/// an error end event `boom` (throwing `error`) once task `c` completes.
fn failing_subprocess(error: &str, boundaries: &str) -> String {
    with_errors(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:parallelGateway id="fork"/>
  <bpmn:userTask id="a"/><bpmn:userTask id="c"/>
  <bpmn:endEvent id="boom"><bpmn:errorEventDefinition {error}/></bpmn:endEvent>
  <bpmn:endEvent id="ok"/>{}{}{}{}{}</bpmn:subProcess>
{boundaries}
<bpmn:userTask id="handle"/><bpmn:userTask id="other"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("i0", "ss", "fork"),
        flow("i1", "fork", "a"),
        flow("i2", "fork", "c"),
        flow("i3", "c", "boom"),
        flow("i4", "a", "ok"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "e"),
    ))
}

const CATCH_STOCK: &str = r#"<bpmn:boundaryEvent id="caught" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="E_STOCK" camunda:errorCodeVariable="code" camunda:errorMessageVariable="why"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="caught" targetRef="handle"/>"#;
const CATCH_ALL: &str = r#"<bpmn:boundaryEvent id="any" attachedToRef="sub"><bpmn:errorEventDefinition camunda:errorCodeVariable="code"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="b2" sourceRef="any" targetRef="other"/>"#;

#[test]
fn an_error_end_event_cancels_its_subprocess_and_the_boundary_event_takes_over() {
    let mut sim = Sim::start(
        &failing_subprocess(r#"errorRef="E_STOCK""#, CATCH_STOCK),
        json!({}),
    );
    assert_eq!(sim.tasks(), ["a", "c"]);
    assert_eq!(
        sim.active(),
        ["a", "c", "sub"],
        "an error boundary event is not armed"
    );
    let a = sim.key("a");
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["handle"]);
    assert_eq!(sim.active(), ["handle"]);
    assert_eq!(sim.var("code"), Some(json!("OUT_OF_STOCK")));
    assert_eq!(sim.var("why"), Some(json!("nothing left")));
    assert!(sim.last.events.iter().any(|e| matches!(
        e,
        Event::ErrorThrown { code: Some(c), .. } if c == "OUT_OF_STOCK"
    )));
    assert!(
        sim.last.effects.contains(&Effect::CloseUserTask {
            key: a,
            completed: false
        }),
        "the parallel task inside leaves the inbox"
    );
    assert!(
        sim.last
            .events
            .iter()
            .any(|e| matches!(e, Event::ElementTerminated { element, .. } if element == "sub"))
    );
    assert_eq!(sim.completed(), ["c", "boom", "caught"]);
    sim.complete("handle", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn an_error_ref_that_names_no_error_is_the_error_code_itself() {
    // As Camunda reads it: the thrower's and the catcher's errorRef text
    // is the code when the file declares no such error.
    let catch_raw = r#"<bpmn:boundaryEvent id="caught" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="NO_STOCK" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="caught" targetRef="handle"/>"#;
    let xml = failing_subprocess(r#"errorRef="NO_STOCK""#, &format!("{catch_raw}{CATCH_ALL}"));
    let defs = parse(&xml);
    let warnings: Vec<String> = defs.warnings.iter().map(|w| w.to_string()).collect();
    for id in ["boom", "caught"] {
        assert!(
            warnings.iter().any(|w| w.contains(&format!("\"{id}\": errorRef \"NO_STOCK\" is not an error of this file; as in Camunda, \"NO_STOCK\" itself is the error code"))),
            "{warnings:#?}"
        );
    }
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("c", json!({}));
    assert_eq!(
        sim.tasks(),
        ["handle"],
        "the boundary for the code, not the catch-all"
    );
    assert_eq!(sim.var("code"), Some(json!("NO_STOCK")));
}

#[test]
fn an_escalation_ref_that_names_no_escalation_is_refused_as_camunda_refuses_it() {
    let errs = parse_err(&process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateThrowEvent id="esc"><bpmn:escalationEventDefinition escalationRef="E_NONE"/></bpmn:intermediateThrowEvent><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "esc"),
        flow("f1", "esc", "e"),
    )))
    .join("\n");
    assert!(
        errs.contains("escalationRef \"E_NONE\" is not an escalation of this file"),
        "{errs}"
    );
}

#[test]
fn a_boundary_event_for_the_code_wins_over_a_catch_all() {
    let both = format!("{CATCH_ALL}{CATCH_STOCK}");
    let mut sim = Sim::start(
        &failing_subprocess(r#"errorRef="E_STOCK""#, &both),
        json!({}),
    );
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["handle"]);
    let mut sim = Sim::start(
        &failing_subprocess(r#"errorRef="E_CREDIT""#, &both),
        json!({}),
    );
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["other"], "another code goes to the catch-all");
    assert_eq!(sim.var("code"), Some(json!("CREDIT")));
}

#[test]
fn an_error_travels_out_through_subprocesses_without_a_catcher() {
    let xml = with_errors(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="outer"><bpmn:startEvent id="os"/>
  <bpmn:subProcess id="inner"><bpmn:startEvent id="is"/><bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="E_CREDIT"/></bpmn:endEvent>{}</bpmn:subProcess>
  <bpmn:endEvent id="oe"/>{}{}</bpmn:subProcess>
<bpmn:boundaryEvent id="caught" attachedToRef="outer"><bpmn:errorEventDefinition errorRef="E_CREDIT"/></bpmn:boundaryEvent>
<bpmn:userTask id="handle"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("x0", "is", "boom"),
        flow("o0", "os", "inner"),
        flow("o1", "inner", "oe"),
        flow("f0", "s", "outer"),
        flow("f1", "outer", "e"),
        flow("f2", "caught", "handle"),
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["handle"]);
    assert_eq!(sim.active(), ["handle"]);
    assert!(sim.state.incidents.is_empty());
}

#[test]
fn an_error_nobody_catches_is_an_incident_on_the_end_event() {
    // Only a boundary for another code.
    let mut sim = Sim::start(
        &failing_subprocess(r#"errorRef="E_CREDIT""#, CATCH_STOCK),
        json!({}),
    );
    sim.complete("c", json!({}));
    assert_eq!(
        sim.incidents(),
        ["BPMN error \"CREDIT\" was thrown and no error boundary event catches it"]
    );
    let on: Vec<&str> = sim
        .state
        .incidents
        .values()
        .map(|i| i.element.as_str())
        .collect();
    assert_eq!(on, ["boom"]);
    assert_eq!(sim.tasks(), ["a"], "the rest of the subprocess goes on");
    assert_eq!(sim.status(), Status::Active);

    // At the top level.
    let xml = with_errors(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="E_STOCK"/></bpmn:endEvent>{}"#,
        flow("f0", "s", "boom")
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.status(), Status::Active);
    assert_eq!(sim.active(), ["boom"]);
    assert_eq!(sim.incidents().len(), 1);
}

/// An external task `work` with an error boundary event for OUT_OF_STOCK.
fn external_with_boundary() -> String {
    with_errors(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="work" camunda:type="external" camunda:topic="stock"/>
<bpmn:boundaryEvent id="caught" attachedToRef="work"><bpmn:errorEventDefinition errorRef="E_STOCK" camunda:errorMessageVariable="why"/></bpmn:boundaryEvent>
<bpmn:userTask id="handle"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "work"),
        flow("f1", "work", "e"),
        flow("f2", "caught", "handle"),
    ))
}

#[test]
fn a_worker_error_is_caught_at_the_task() {
    let mut sim = Sim::start(&external_with_boundary(), json!({}));
    let work = sim.key("work");
    sim.cmd(Command::ThrowError {
        key: work,
        code: "OUT_OF_STOCK".into(),
        message: Some("warehouse empty".into()),
        variables: Default::default(),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["handle"]);
    assert_eq!(sim.var("why"), Some(json!("warehouse empty")));
    // The job ended with the error report; the task is cancelled.
    assert!(sim.last.events.contains(&Event::ElementTerminated {
        key: work,
        element: "work".into()
    }));
    assert!(sim.state.incidents.is_empty());
}

#[test]
fn a_worker_error_nobody_catches_is_an_incident_and_a_retry_asks_again() {
    let mut sim = Sim::start(&external_with_boundary(), json!({}));
    let work = sim.key("work");
    sim.cmd(Command::ThrowError {
        key: work,
        code: "CREDIT".into(),
        message: None,
        variables: Default::default(),
    })
    .unwrap();
    assert_eq!(
        sim.incidents(),
        ["BPMN error \"CREDIT\" was thrown and no error boundary event catches it"]
    );
    assert_eq!(sim.active(), ["work"]);
    let incident = *sim.state.incidents.keys().next().unwrap();
    sim.cmd(Command::RetryIncident { incident }).unwrap();
    assert!(
        sim.last
            .effects
            .iter()
            .any(|e| matches!(e, Effect::CreateJob { key, .. } if *key == work)),
        "the task asks its workers again: {:?}",
        sim.last.effects
    );
    // A second error for the same task, now caught.
    sim.cmd(Command::ThrowError {
        key: work,
        code: "OUT_OF_STOCK".into(),
        message: None,
        variables: Default::default(),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["handle"]);
}

#[test]
fn error_events_are_checked_when_deploying() {
    let errs = parse_err(&with_errors(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="false"><bpmn:errorEventDefinition errorRef="E_STOCK"/></bpmn:boundaryEvent>
<bpmn:endEvent id="boom"><bpmn:errorEventDefinition errorRef="E_NOPE"/></bpmn:endEvent>
<bpmn:intermediateCatchEvent id="wait"><bpmn:errorEventDefinition errorRef="E_STOCK"/></bpmn:intermediateCatchEvent>{}{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("f2", "b", "boom"),
        flow("f3", "wait", "e"),
    )))
    .join("\n");
    assert!(
        errs.contains("boundaryEvent \"b\": an error boundary event always interrupts"),
        "{errs}"
    );
    assert!(
        errs.contains("warning: endEvent \"boom\": errorRef \"E_NOPE\" is not an error of this file; as in Camunda, \"E_NOPE\" itself is the error code"),
        "{errs}"
    );
    assert!(
        errs.contains("intermediateCatchEvent \"wait\": an error is caught by a boundary event"),
        "{errs}"
    );
}

/// A subprocess `sub` with task `a` -> escalation throw `esc` -> task `c`,
/// and the given boundary events on `sub` (leading to `handle`).
fn escalating(boundary: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="a"/>
  <bpmn:intermediateThrowEvent id="esc"><bpmn:escalationEventDefinition escalationRef="E_LATE"/></bpmn:intermediateThrowEvent>
  <bpmn:userTask id="c"/><bpmn:endEvent id="se"/>{}{}{}{}</bpmn:subProcess>
{boundary}<bpmn:userTask id="handle"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("i0", "ss", "a"),
        flow("i1", "a", "esc"),
        flow("i2", "esc", "c"),
        flow("i3", "c", "se"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "e"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:escalation id="E_LATE" escalationCode="LATE"/></bpmn:definitions>"#,
    )
}

#[test]
fn a_non_interrupting_escalation_boundary_starts_its_path_while_the_work_goes_on() {
    let mut sim = Sim::start(
        &escalating(
            r#"<bpmn:boundaryEvent id="b" attachedToRef="sub" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="E_LATE" camunda:escalationCodeVariable="why"/></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="b" targetRef="handle"/>"#,
        ),
        json!({}),
    );
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["c", "handle"]);
    assert_eq!(sim.var("why"), Some(json!("LATE")));
    assert!(sim.last.events.iter().any(|e| matches!(
        e,
        Event::EscalationThrown { code: Some(c), .. } if c == "LATE"
    )));
}

#[test]
fn an_interrupting_escalation_boundary_cancels_the_activity() {
    let mut sim = Sim::start(
        &escalating(
            r#"<bpmn:boundaryEvent id="b" attachedToRef="sub"><bpmn:escalationEventDefinition/></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="b" targetRef="handle"/>"#,
        ),
        json!({}),
    );
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["handle"]);
    assert_eq!(sim.active(), ["handle"]);
}

#[test]
fn an_escalation_nobody_catches_is_recorded_and_the_flow_goes_on() {
    let mut sim = Sim::start(&escalating(""), json!({}));
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["c"]);
    assert!(sim.state.incidents.is_empty());
}

#[test]
fn an_external_workers_result_can_be_mapped_to_a_bpmn_error() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="w" camunda:type="external" camunda:topic="check"><bpmn:extensionElements>
  <camunda:errorEventDefinition id="m" errorRef="E_invalid" expression="${{!valid}}"/>
</bpmn:extensionElements></bpmn:serviceTask>
<bpmn:boundaryEvent id="b" attachedToRef="w"><bpmn:errorEventDefinition errorRef="E_invalid"/></bpmn:boundaryEvent>
<bpmn:userTask id="ok"/><bpmn:userTask id="fix"/>{}{}{}"#,
        flow("f0", "s", "w"),
        flow("f1", "w", "ok"),
        flow("f2", "b", "fix"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:error id="E_invalid" errorCode="INVALID"/></bpmn:definitions>"#,
    );
    let mut sim = Sim::start(&xml, json!({}));
    sim.job("w", json!({"valid": false}));
    assert_eq!(sim.tasks(), ["fix"]);
    let mut sim = Sim::start(&xml, json!({}));
    sim.job("w", json!({"valid": true}));
    assert_eq!(sim.tasks(), ["ok"]);
    assert_eq!(sim.var("valid"), Some(json!(true)));
    // Only connector and external tasks take mappings.
    let errors = parse_err(&xml.replace(
        r#"camunda:type="external" camunda:topic="check""#,
        r#"camunda:expression="${1}""#,
    ));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("applies to tasks with a connector or an external worker")),
        "{errors:?}"
    );
}
