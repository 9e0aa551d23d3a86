//! Timers, terminate end events, subprocesses, link and conditional events.

use bpmn_engine::engine::{Command, Effect, Event, InstanceState, JobKind, Status, Wait, execute};
use serde_json::json;

use crate::common::*;

fn timer(definition: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "w"),
        flow("f1", "w", "t")
    ))
}

#[test]
fn a_duration_timer_is_a_job_due_after_the_duration() {
    let mut sim = Sim::start(
        &timer("<bpmn:timeDuration>PT1H30M</bpmn:timeDuration>"),
        json!({}),
    );
    let due = "2025-01-01T01:30:00Z".parse().unwrap();
    let key = sim.key("w");
    assert_eq!(
        sim.last.effects,
        vec![Effect::CreateJob {
            key,
            element: "w".into(),
            kind: JobKind::Timer,
            due: Some(due),
            payload: serde_json::Value::Null,
            retries: None
        }]
    );
    assert_eq!(
        sim.state.elements[&key].wait,
        Some(Wait::Job {
            job: JobKind::Timer,
            due: Some(due)
        })
    );
    sim.job("w", json!({}));
    assert!(sim.last.events.contains(&Event::TimerFired { key }));
    assert_eq!(sim.tasks(), ["t"]);
}

/// As in Camunda 7, an intermediate catch event with a cycle waits for the
/// cycle's first occurrence, once.
#[test]
fn a_cycle_on_an_intermediate_event_waits_for_its_first_occurrence() {
    for (cycle, due) in [
        ("R3/PT10M", "2025-01-01T00:10:00Z"),
        ("R2/2025-03-01T09:00:00Z/P1D", "2025-03-01T09:00:00Z"),
        ("0 0/5 * * * ?", "2025-01-01T00:05:00Z"),
    ] {
        let mut sim = Sim::start(
            &timer(&format!("<bpmn:timeCycle>{cycle}</bpmn:timeCycle>")),
            json!({}),
        );
        let key = sim.key("w");
        assert_eq!(
            sim.state.elements[&key].wait,
            Some(Wait::Job {
                job: JobKind::Timer,
                due: Some(due.parse().unwrap())
            }),
            "{cycle}"
        );
        sim.job("w", json!({}));
        assert!(sim.last.events.contains(&Event::TimerFired { key }));
        assert_eq!(sim.tasks(), ["t"], "{cycle}");
        // Once: no second timer is armed after it fired.
        assert!(
            !sim.last.effects.iter().any(|e| matches!(
                e,
                Effect::CreateJob {
                    kind: JobKind::Timer,
                    ..
                }
            )),
            "{cycle}: {:?}",
            sim.last.effects
        );
    }
}

#[test]
fn calendar_units_count_in_the_calendar() {
    let defs = parse(&timer("<bpmn:timeDuration>P1M</bpmn:timeDuration>"));
    let start = Command::Start {
        variables: Default::default(),
        initiator: None,
    };
    let now = "2025-01-31T12:00:00Z".parse().unwrap();
    let tr = execute(
        defs.main_process().unwrap(),
        &bpmn_engine::engine::Context::default(),
        &InstanceState::new("p"),
        start,
        now,
    )
    .unwrap();
    let Some(Effect::CreateJob { due, .. }) = tr.effects.first() else {
        panic!()
    };
    assert_eq!(
        *due,
        Some("2025-02-28T12:00:00Z".parse().unwrap()),
        "one month after 31 January"
    );
}

#[test]
fn a_date_timer_and_an_expression_timer() {
    let sim = Sim::start(
        &timer("<bpmn:timeDate>2025-03-01T09:00:00</bpmn:timeDate>"),
        json!({}),
    );
    let Some(Effect::CreateJob { due, .. }) = sim.last.effects.first() else {
        panic!()
    };
    assert_eq!(
        *due,
        Some("2025-03-01T09:00:00Z".parse().unwrap()),
        "a date without a zone is UTC"
    );
    let sim = Sim::start(
        &timer("<bpmn:timeDuration>${wait}</bpmn:timeDuration>"),
        json!({"wait": "PT5M"}),
    );
    let Some(Effect::CreateJob { due, .. }) = sim.last.effects.first() else {
        panic!()
    };
    assert_eq!(*due, Some("2025-01-01T00:05:00Z".parse().unwrap()));
    let bad = Sim::start(
        &timer("<bpmn:timeDuration>${wait}</bpmn:timeDuration>"),
        json!({"wait": "soon"}),
    );
    assert!(
        bad.incidents()[0].contains("not an ISO 8601 duration"),
        "{:?}",
        bad.incidents()
    );
}

fn terminate_diagram() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="slow"/>
<bpmn:userTask id="quick"/><bpmn:endEvent id="stop"><bpmn:terminateEventDefinition/></bpmn:endEvent>
<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "slow"),
        flow("f2", "fork", "quick"),
        flow("f3", "fork", "w"),
        flow("f4", "quick", "stop"),
    ))
}

#[test]
fn a_terminate_end_event_ends_the_instance_and_cancels_the_rest() {
    let mut sim = Sim::start(&terminate_diagram(), json!({}));
    let (slow, w) = (sim.key("slow"), sim.key("w"));
    sim.complete("quick", json!({}));
    assert_eq!(sim.status(), Status::Terminated);
    assert!(sim.state.elements.is_empty());
    assert!(sim.last.effects.contains(&Effect::CloseUserTask {
        key: slow,
        completed: false
    }));
    assert!(sim.last.effects.contains(&Effect::CancelJob { key: w }));
    let terminated: Vec<&str> = sim
        .last
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ElementTerminated { element, .. } => Some(element.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(terminated, ["slow", "w"]);
    assert!(matches!(
        sim.last.events.last(),
        Some(Event::InstanceTerminated { .. })
    ));
}

fn sub_diagram() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub">
  <bpmn:extensionElements><camunda:inputOutput>
    <camunda:inputParameter name="local">${{seed * 2}}</camunda:inputParameter>
    <camunda:outputParameter name="copied">${{local}}</camunda:outputParameter>
  </camunda:inputOutput></bpmn:extensionElements>
  <bpmn:startEvent id="ss"/><bpmn:parallelGateway id="sfork"/>
  <bpmn:userTask id="inner"/><bpmn:userTask id="other"/>
  <bpmn:endEvent id="sstop"><bpmn:terminateEventDefinition/></bpmn:endEvent>
  {}{}{}{}
</bpmn:subProcess>
<bpmn:userTask id="after"/>
{}{}"#,
        flow("sf0", "ss", "sfork"),
        flow("sf1", "sfork", "inner"),
        flow("sf2", "sfork", "other"),
        flow("sf3", "inner", "sstop"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "after"),
    ))
}

#[test]
fn a_subprocess_runs_its_children_in_its_own_scope() {
    let mut sim = Sim::start(&sub_diagram(), json!({"seed": 21}));
    let sub = sim.key("sub");
    assert_eq!(sim.tasks(), ["inner", "other"]);
    assert_eq!(sim.state.elements[&sub].wait, Some(Wait::Children));
    let inner = sim.key("inner");
    assert_eq!(sim.state.elements[&inner].scope, sub);
    assert_eq!(sim.state.variables[&sub].get("local"), Some(&json!(42)));
    sim.complete("other", json!({"written": "inside", "local": 1}));
    assert_eq!(
        sim.var("written"),
        Some(json!("inside")),
        "writes go to the instance..."
    );
    assert_eq!(
        sim.state.variables[&sub].get("local"),
        Some(&json!(1)),
        "...unless mapped locally"
    );
    assert_eq!(sim.var("local"), None);
}

#[test]
fn terminate_inside_a_subprocess_ends_only_the_subprocess() {
    let mut sim = Sim::start(&sub_diagram(), json!({"seed": 1}));
    let other = sim.key("other");
    sim.complete("inner", json!({}));
    assert!(sim.last.effects.contains(&Effect::CloseUserTask {
        key: other,
        completed: false
    }));
    assert_eq!(sim.status(), Status::Active);
    assert_eq!(
        sim.tasks(),
        ["after"],
        "the flow continues after the subprocess"
    );
    assert_eq!(sim.var("copied"), Some(json!(2)), "the output mapping ran");
    assert_eq!(sim.var("local"), None);
    assert!(sim.completed().contains(&"sub".to_string()));
}

#[test]
fn a_subprocess_completes_when_nothing_is_left_inside() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="inner"/>{}</bpmn:subProcess><bpmn:endEvent id="e"/>{}{}"#,
        flow("sf", "ss", "inner"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("inner", json!({}));
    assert_eq!(
        sim.completed(),
        ["inner", "sub", "e"],
        "inner ends implicitly, then the subprocess completes"
    );
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn cancelling_reaches_into_subprocesses() {
    let mut sim = Sim::start(&sub_diagram(), json!({"seed": 1}));
    let (inner, other) = (sim.key("inner"), sim.key("other"));
    sim.cmd(Command::Cancel { reason: "x".into() }).unwrap();
    let closed: Vec<&Effect> = sim.last.effects.iter().collect();
    assert!(closed.contains(&&Effect::CloseUserTask {
        key: inner,
        completed: false
    }));
    assert!(closed.contains(&&Effect::CloseUserTask {
        key: other,
        completed: false
    }));
    assert_eq!(
        sim.state.variables.keys().copied().collect::<Vec<_>>(),
        [0],
        "local scopes went with their elements"
    );
    assert_eq!(sim.status(), Status::Terminated);
}

#[test]
fn a_link_throw_event_goes_on_at_its_catch_event() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateThrowEvent id="to_b"><bpmn:linkEventDefinition name="B"/></bpmn:intermediateThrowEvent>
<bpmn:intermediateCatchEvent id="from_a"><bpmn:linkEventDefinition name="B"/></bpmn:intermediateCatchEvent><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "to_b"),
        flow("f1", "from_a", "t"),
    ));
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["t"]);
    assert_eq!(
        sim.activated(),
        ["s", "to_b", "from_a", "t"],
        "the token jumps from the throw to the catch"
    );
}

#[test]
fn link_events_are_checked_when_deploying() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateThrowEvent id="to_b"><bpmn:linkEventDefinition name="B"/></bpmn:intermediateThrowEvent>
<bpmn:intermediateCatchEvent id="c1"><bpmn:linkEventDefinition name="C"/></bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "to_b"),
        flow("f1", "c1", "e"),
    ));
    let errs = parse_err(&xml).join("\n");
    assert!(
        errs.contains(
            "intermediateThrowEvent \"to_b\": no link catch event named \"B\" in the same scope"
        ),
        "{errs}"
    );
}

/// `s -> fork -> approve (user task)` and `fork -> ready (conditional catch) -> ship`.
fn conditional(condition: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="approve"/><bpmn:endEvent id="e1"/>
<bpmn:intermediateCatchEvent id="ready"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">{condition}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:userTask id="ship"/>{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "approve"),
        flow("f2", "approve", "e1"),
        flow("f3", "fork", "ready"),
        flow("f4", "ready", "ship"),
    ))
}

#[test]
fn a_conditional_event_waits_until_its_condition_holds() {
    let mut sim = Sim::start(&conditional("${approved == true}"), json!({}));
    assert_eq!(sim.tasks(), ["approve"]);
    let ready = sim.key("ready");
    assert_eq!(
        sim.state.elements[&ready].wait,
        Some(Wait::Condition { latched: false }),
        "a variable that is not set yet does not make it hold"
    );
    sim.complete("approve", json!({"approved": true}));
    assert_eq!(sim.tasks(), ["ship"], "checked in the same command");
    assert!(
        sim.last
            .events
            .contains(&Event::ConditionMet { key: ready })
    );
    let sim = Sim::start(&conditional("${1 == 1}"), json!({}));
    assert_eq!(
        sim.tasks(),
        ["approve", "ship"],
        "already true: straight through"
    );
}

#[test]
fn a_non_interrupting_conditional_boundary_event_fires_on_each_rise() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="false"><bpmn:conditionalEventDefinition><bpmn:condition>${{urgent}}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="escalate"/>{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("f2", "b", "escalate"),
    ));
    let mut sim = Sim::start(&xml, json!({"urgent": false}));
    let set = |sim: &mut Sim, v: bool| {
        sim.cmd(Command::SetVariables {
            variables: obj(json!({ "urgent": v })),
        })
        .unwrap();
    };
    set(&mut sim, true);
    assert_eq!(sim.tasks(), ["escalate", "t"]);
    set(&mut sim, true);
    assert_eq!(
        sim.tasks(),
        ["escalate", "t"],
        "still true: no second firing"
    );
    set(&mut sim, false);
    set(&mut sim, true);
    assert_eq!(sim.tasks(), ["escalate", "escalate", "t"]);
}

#[test]
fn an_interrupting_conditional_boundary_event_cancels_its_task() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:conditionalEventDefinition><bpmn:condition>${{cancelled}}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="refund"/>{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("f2", "b", "refund"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"cancelled": true})),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["refund"]);
}

#[test]
fn an_instantiating_event_gateway_is_passed_when_its_event_starts_the_instance() {
    use bpmn_engine::engine;
    let xml = definitions(&format!(
        r#"<bpmn:process id="p" isExecutable="true">
<bpmn:eventBasedGateway id="g" instantiate="true"/>
<bpmn:intermediateCatchEvent id="on_order"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="on_time"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:userTask id="invoice"/><bpmn:userTask id="remind"/>{}{}{}{}</bpmn:process>
<bpmn:message id="M" name="order"/>"#,
        flow("g1", "g", "on_order"),
        flow("g2", "g", "on_time"),
        flow("f1", "on_order", "invoice"),
        flow("f2", "on_time", "remind"),
    ));
    let defs = parse(&xml);
    let p = defs.main_process().unwrap();
    assert!(p.start.is_none() && p.implicit_starts.is_empty());
    assert_eq!(p.timer_starts.len(), 1, "the timer is a timer start");
    let ctx = engine::Context::default();
    let tr = engine::execute(
        p,
        &ctx,
        &InstanceState::new("p"),
        Command::StartAt {
            element: "on_order".into(),
            variables: obj(json!({"id": 7})),
        },
        t0(),
    )
    .unwrap();
    let done: Vec<&str> = tr
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ElementCompleted { element, .. } => Some(element.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(done, ["g", "on_order"]);
    assert!(tr.events.contains(&Event::FlowTaken {
        flow: "g1".into(),
        scope: 0,
        join: None,
        default: false
    }));
    assert_eq!(tr.state.elements.len(), 1, "only the invoice task waits");
    // Nothing starts it without its event.
    let none = engine::execute(
        p,
        &ctx,
        &InstanceState::new("p"),
        Command::Start {
            variables: Default::default(),
            initiator: None,
        },
        t0(),
    );
    assert!(none.is_err());
}

#[test]
fn instantiating_event_gateways_are_checked_when_deploying() {
    let inner = |extra: &str| {
        process(&format!(
            r#"<bpmn:startEvent id="s"/>{extra}<bpmn:eventBasedGateway id="g" instantiate="true"/>
<bpmn:receiveTask id="r" messageRef="M"/>
<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:endEvent id="e"/>{}{}{}{}"#,
            flow("g1", "g", "r"),
            flow("g2", "g", "t"),
            flow("f1", "r", "e"),
            flow("f2", "t", "e"),
        ))
        .replace("</bpmn:definitions>", r#"<bpmn:message id="M" name="m"/></bpmn:definitions>"#)
    };
    let errors = parse_err(&inner(""));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("only message, signal and timer intermediate catch events")),
        "{errors:?}"
    );
    let parallel = inner("").replace(
        r#"instantiate="true""#,
        r#"instantiate="true" eventGatewayType="Parallel""#,
    );
    assert!(
        parse_err(&parallel)
            .iter()
            .any(|e| e.contains("type Parallel"))
    );
}
