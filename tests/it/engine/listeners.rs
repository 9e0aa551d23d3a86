//! Execution listeners (start, end, take) and task listeners (create,
//! assignment, complete, delete), written as scripts or expressions.

use bpmn_engine::engine::{Command, CommandError};
use serde_json::json;

use crate::common::*;

fn listener(kind: &str, event: &str, body: &str) -> String {
    format!(
        r#"<camunda:{kind} event="{event}"><camunda:script scriptFormat="rhai">{body}</camunda:script></camunda:{kind}>"#
    )
}

#[test]
fn start_and_end_listeners_run_around_the_element_and_its_mappings() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements>
  <camunda:inputOutput><camunda:inputParameter name="local">${{base + 1}}</camunda:inputParameter><camunda:outputParameter name="out">${{ended * 10}}</camunda:outputParameter></camunda:inputOutput>
  {}{}
</bpmn:extensionElements></bpmn:userTask><bpmn:userTask id="after"/>{}{}"#,
        listener("executionListener", "start", "let started = local * 2;"),
        listener("executionListener", "end", "let ended = started + 1;"),
        flow("f0", "s", "t"),
        flow("f1", "t", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({"base": 1}));
    // The start listener saw the input mapping's local.
    assert_eq!(sim.var("started"), Some(json!(4)));
    sim.complete("t", json!({}));
    // The end listener ran before the output mapping, which saw its variable.
    assert_eq!(sim.var("ended"), Some(json!(5)));
    assert_eq!(sim.var("out"), Some(json!(50)));
}

#[test]
fn take_listeners_may_assign_in_an_expression() {
    let xml = process(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="t"><bpmn:extensionElements><camunda:executionListener expression="${execution.setVariable('visits', visits + 1)}"/><camunda:executionListener expression="${execution.setVariable('first', visits == 1)}"/></bpmn:extensionElements></bpmn:sequenceFlow>"#,
    );
    let sim = Sim::start(&xml, json!({"visits": 0}));
    assert_eq!(sim.var("visits"), Some(json!(1)));
    // Assigning a variable that does not exist yet creates it.
    assert_eq!(sim.var("first"), Some(json!(true)));
}

#[test]
fn task_listeners_run_on_create_assignment_complete_and_delete() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements>{}{}{}</bpmn:extensionElements></bpmn:userTask>
<bpmn:boundaryEvent id="late" attachedToRef="after"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="after"><bpmn:extensionElements>{}</bpmn:extensionElements></bpmn:userTask><bpmn:userTask id="escalated"/>{}{}{}"#,
        listener("taskListener", "create", "let created = true;"),
        listener("taskListener", "assignment", "claims = claims + 1;"),
        listener(
            "taskListener",
            "complete",
            "if amount > 100 { throw \"too much\" } let checked = true;"
        ),
        listener("taskListener", "delete", "let withdrawn = true;"),
        flow("f0", "s", "t"),
        flow("f1", "t", "after"),
        flow("f2", "late", "escalated"),
    ));
    let mut sim = Sim::start(&xml, json!({"claims": 0}));
    assert_eq!(sim.var("created"), Some(json!(true)));
    let t = sim.key("t");
    sim.cmd(Command::ClaimTask {
        key: t,
        user: "ann".into(),
    })
    .unwrap();
    assert_eq!(sim.var("claims"), Some(json!(1)));
    // A failing complete listener refuses the completion: nothing changes.
    let before = sim.state.clone();
    let err = sim.try_complete("t", json!({"amount": 500})).unwrap_err();
    assert!(
        matches!(&err, CommandError::Listener(m) if m.contains("too much")),
        "{err}"
    );
    assert_eq!(sim.state, before);
    sim.complete("t", json!({"amount": 5}));
    assert_eq!(sim.var("checked"), Some(json!(true)));
    // The next task is withdrawn by its boundary timer: its delete listener runs.
    sim.job("late", json!({}));
    assert_eq!(sim.tasks(), ["escalated"]);
    assert_eq!(sim.var("withdrawn"), Some(json!(true)));
}

#[test]
fn a_failing_start_listener_is_an_incident_that_a_retry_resumes() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"><bpmn:extensionElements>{}</bpmn:extensionElements></bpmn:userTask>{}"#,
        listener("executionListener", "start", "let share = total / parts;"),
        flow("f0", "s", "t"),
    ));
    let mut sim = Sim::start(&xml, json!({"total": 10, "parts": 0}));
    let incidents = sim.incidents();
    assert_eq!(incidents.len(), 1);
    assert!(incidents[0].contains("start listener"), "{incidents:?}");
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"parts": 2})),
    })
    .unwrap();
    let id = *sim.state.incidents.keys().next().unwrap();
    sim.cmd(Command::RetryIncident { incident: id }).unwrap();
    assert_eq!(sim.var("share"), Some(json!(5)));
    assert_eq!(sim.tasks(), ["t"]);
}

#[test]
fn listeners_that_cannot_run_here_are_refused() {
    let errors = parse_err(&process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="a"><bpmn:extensionElements><camunda:executionListener class="org.example.Audit" event="start"/></bpmn:extensionElements></bpmn:userTask>
<bpmn:serviceTask id="b" camunda:expression="${{1}}"><bpmn:extensionElements><camunda:taskListener event="create" expression="${{x}}"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:userTask id="c"><bpmn:extensionElements><camunda:executionListener event="later" expression="${{x}}"/></bpmn:extensionElements></bpmn:userTask>{}"#,
        flow("f0", "s", "a"),
    )));
    let text = errors.join("\n");
    assert!(
        text.contains("\"a\": camunda:executionListener with a class cannot run here"),
        "{text}"
    );
    assert!(text.contains("\"b\": camunda:taskListener event \"create\" is not one of the events here (start, end)"), "{text}");
    assert!(
        text.contains("\"c\": camunda:executionListener event \"later\""),
        "{text}"
    );
}
