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

/// `camunda:executionListener`s on the process itself: `start` as the
/// instance starts (before its start event), `end` as it ends — also at a
/// terminate end event. A failing one refuses the command that started or
/// ended the instance, as Camunda's rollback does.
#[test]
fn listeners_on_the_process_run_as_the_instance_starts_and_ends() {
    let with_listeners = |start: &str, end: &str, terminate: bool| {
        process(&format!(
            r#"<bpmn:extensionElements>
  <camunda:executionListener event="start" expression="{start}"/>
  {}
</bpmn:extensionElements>
<bpmn:startEvent id="s"><bpmn:extensionElements>{}</bpmn:extensionElements></bpmn:startEvent>
<bpmn:userTask id="t"/><bpmn:endEvent id="e">{}</bpmn:endEvent>{}{}"#,
            listener("executionListener", "end", end),
            listener("executionListener", "start", "let seen = opened;"),
            if terminate {
                "<bpmn:terminateEventDefinition/>"
            } else {
                ""
            },
            flow("f0", "s", "t"),
            flow("f1", "t", "e"),
        ))
    };
    for terminate in [false, true] {
        let xml = with_listeners(
            "${execution.setVariable('opened', execution.processInstanceId != null)}",
            "let closed = total * 2;",
            terminate,
        );
        let mut sim = Sim::start(&xml, json!({}));
        // The process's start listener ran before the start event's.
        assert_eq!(sim.var("opened"), Some(json!(true)));
        assert_eq!(sim.var("seen"), Some(json!(true)));
        sim.complete("t", json!({"total": 21}));
        assert_eq!(sim.var("closed"), Some(json!(42)), "terminate: {terminate}");
        assert_ne!(sim.status(), bpmn_engine::engine::Status::Active);
    }
    // A failing start listener: the start is refused.
    let xml = with_listeners(
        "${execution.setVariable('x', undefinedVariable)}",
        "let closed = 1;",
        false,
    );
    match Sim::try_start(&xml, json!({})) {
        Err(CommandError::Listener(m)) => {
            assert!(m.contains("process \"p\": start listener"), "{m}")
        }
        other => panic!("{:?}", other.map(|s| s.state)),
    }
    // A failing end listener: completing the last task is refused, and
    // nothing changes.
    let opened = "${execution.setVariable('opened', true)}";
    let xml = with_listeners(opened, "let closed = total * ;", false);
    assert!(model_parse_error(&xml).contains("cannot compile the script"));
    let xml = with_listeners(opened, "throw \"no archive\";", false);
    let mut sim = Sim::start(&xml, json!({}));
    let before = sim.state.clone();
    match sim.try_complete("t", json!({})) {
        Err(CommandError::Listener(m)) => {
            assert!(m.contains("process \"p\": end listener"), "{m}");
            assert!(m.contains("no archive"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.state, before);
}

fn model_parse_error(xml: &str) -> String {
    match bpmn_engine::model::parse(xml.as_bytes()) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}
