//! Boundary events (timers and messages on tasks and subprocesses) and timer
//! start events.

use bpmn_engine::engine::{Command, Effect, Event, InstanceState, JobKind, Status, Wait, execute};
use serde_json::json;

use crate::common::*;

/// A user task `t` (then end) with a boundary event `b` leading to task `late`.
fn on_task(boundary: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>
{boundary}<bpmn:userTask id="late"/>{}{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
        flow("f2", "b", "late"),
    ))
}

fn timer_boundary(interrupting: bool, definition: &str) -> String {
    on_task(&format!(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="{interrupting}"><bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition></bpmn:boundaryEvent>"#
    ))
}

fn due_of(sim: &Sim, element: &str) -> Option<jiff::Timestamp> {
    match &sim.state.elements[&sim.key(element)].wait {
        Some(Wait::Job {
            job: JobKind::Timer,
            due,
        }) => *due,
        other => panic!("{element} waits for {other:?}, not a timer"),
    }
}

#[test]
fn an_interrupting_timer_cancels_the_task_and_takes_its_own_path() {
    let mut sim = Sim::start(
        &timer_boundary(true, "<bpmn:timeDuration>PT1H</bpmn:timeDuration>"),
        json!({}),
    );
    assert_eq!(sim.active(), ["b", "t"]);
    let t = sim.key("t");
    let b = sim.key("b");
    assert_eq!(sim.state.elements[&b].attached_to, Some(t));
    assert_eq!(
        due_of(&sim, "b"),
        Some("2025-01-01T01:00:00Z".parse().unwrap())
    );
    sim.job("b", json!({}));
    assert_eq!(sim.tasks(), ["late"]);
    assert!(
        sim.last.effects.contains(&Effect::CloseUserTask {
            key: t,
            completed: false
        }),
        "the cancelled task leaves the inbox: {:?}",
        sim.last.effects
    );
    assert!(sim.last.events.contains(&Event::ElementTerminated {
        key: t,
        element: "t".into()
    }));
    assert_eq!(sim.completed(), ["b"]);
    sim.complete("late", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn completing_the_task_first_cancels_its_timer() {
    let mut sim = Sim::start(
        &timer_boundary(true, "<bpmn:timeDuration>PT1H</bpmn:timeDuration>"),
        json!({}),
    );
    let b = sim.key("b");
    sim.complete("t", json!({}));
    assert!(sim.last.effects.contains(&Effect::CancelJob { key: b }));
    assert_eq!(sim.status(), Status::Completed);
    // The timer job arriving late is refused; nothing changes.
    assert!(
        sim.cmd(Command::CompleteJob {
            key: b,
            variables: Default::default()
        })
        .is_err()
    );
}

#[test]
fn a_non_interrupting_cycle_fires_its_repetitions_while_the_task_stays() {
    let mut sim = Sim::start(
        &timer_boundary(false, "<bpmn:timeCycle>R2/PT10M</bpmn:timeCycle>"),
        json!({}),
    );
    assert_eq!(
        due_of(&sim, "b"),
        Some("2025-01-01T00:10:00Z".parse().unwrap())
    );
    sim.now = "2025-01-01T00:10:00Z".parse().unwrap();
    sim.job("b", json!({}));
    assert_eq!(sim.tasks(), ["late", "t"]);
    assert_eq!(
        due_of(&sim, "b"),
        Some("2025-01-01T00:20:00Z".parse().unwrap()),
        "the next repetition is one interval after the last"
    );
    // The executor arrives late: the repetition counts from the due time that passed.
    sim.now = "2025-01-01T00:20:03Z".parse().unwrap();
    sim.job("b", json!({}));
    assert_eq!(sim.tasks(), ["late", "late", "t"]);
    assert!(
        !sim.active().contains(&"b".to_string()),
        "R2 fires twice, then the boundary event is done"
    );
    sim.complete("t", json!({}));
    assert_eq!(sim.status(), Status::Active, "the reminders are still open");
}

#[test]
fn a_one_off_non_interrupting_timer_completes_after_firing() {
    let mut sim = Sim::start(
        &timer_boundary(false, "<bpmn:timeDuration>PT5M</bpmn:timeDuration>"),
        json!({}),
    );
    sim.job("b", json!({}));
    assert_eq!(sim.tasks(), ["late", "t"]);
    assert!(sim.completed().contains(&"b".to_string()));
    sim.complete("t", json!({}));
    sim.complete("late", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_cron_cycle_is_due_at_its_next_match() {
    let sim = Sim::start(
        &timer_boundary(false, "<bpmn:timeCycle>0 9 * * MON-FRI</bpmn:timeCycle>"),
        json!({}),
    );
    // 2025-01-01 is a Wednesday; 09:00 UTC is the next match after midnight.
    assert_eq!(
        due_of(&sim, "b"),
        Some("2025-01-01T09:00:00Z".parse().unwrap())
    );
}

#[test]
fn a_message_on_a_subprocess_cancels_everything_inside() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:parallelGateway id="fork"/>
  <bpmn:userTask id="a"/><bpmn:userTask id="c"/>{}{}{}</bpmn:subProcess>
<bpmn:boundaryEvent id="b" attachedToRef="sub"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>
<bpmn:userTask id="late"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("i0", "ss", "fork"),
        flow("i1", "fork", "a"),
        flow("i2", "fork", "c"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "e"),
        flow("f2", "b", "late"),
    )) + r#""#;
    let xml = xml.replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="cancel-order"/></bpmn:definitions>"#,
    );
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["a", "c"]);
    let b = sim.key("b");
    assert!(sim.effects.contains(&Effect::Subscribe {
        key: b,
        element: "b".into(),
        message: "cancel-order".into(),
        signal: false,
        correlation: None,
    }));
    sim.message("b", json!({"reason": "customer called"}));
    assert_eq!(sim.tasks(), ["late"]);
    assert_eq!(sim.active(), ["late"]);
    assert_eq!(sim.var("reason"), Some(json!("customer called")));
    assert!(sim.last.effects.contains(&Effect::Unsubscribe { key: b }));
    let closed = sim
        .last
        .effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::CloseUserTask {
                    completed: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(closed, 2, "both inner tasks leave the inbox");
}

#[test]
fn a_non_interrupting_message_fires_for_every_message() {
    let xml = on_task(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="t" cancelActivity="false"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>"#,
    )
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="ping"/></bpmn:definitions>"#,
    );
    let mut sim = Sim::start(&xml, json!({}));
    sim.message("b", json!({}));
    sim.message("b", json!({}));
    assert_eq!(sim.tasks(), ["late", "late", "t"]);
    let b = sim.key("b");
    assert_eq!(
        sim.state.elements[&b].wait,
        Some(Wait::Message {
            name: "ping".into()
        })
    );
    sim.complete("t", json!({}));
    assert!(sim.last.effects.contains(&Effect::Unsubscribe { key: b }));
    assert!(!sim.active().contains(&"b".to_string()));
}

#[test]
fn a_timer_that_cannot_be_evaluated_is_an_incident_on_the_boundary_only() {
    let mut sim = Sim::start(
        &timer_boundary(true, "<bpmn:timeDuration>${wait}</bpmn:timeDuration>"),
        json!({}),
    );
    let on: Vec<&str> = sim
        .state
        .incidents
        .values()
        .map(|i| i.element.as_str())
        .collect();
    assert_eq!(on, ["b"]);
    assert_eq!(
        sim.incidents(),
        ["timer: Cannot resolve identifier 'wait' (at column 3 of ${wait})"]
    );
    assert_eq!(sim.tasks(), ["t"], "the task itself is open");
    sim.complete("t", json!({}));
    assert_eq!(
        sim.status(),
        Status::Completed,
        "the incident goes away with its activity"
    );
    assert!(sim.state.incidents.is_empty());
}

#[test]
fn boundary_events_are_checked_when_deploying() {
    let errs = parse_err(&on_task(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="nowhere"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"#,
    ))
    .join("\n");
    assert!(
        errs.contains("boundaryEvent \"b\": attachedToRef \"nowhere\" is not an element"),
        "{errs}"
    );
    let errs = parse_err(&on_task(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:timerEventDefinition><bpmn:timeCycle>every day</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>"#,
    ))
    .join("\n");
    assert!(errs.contains("neither a repeating interval"), "{errs}");
    let errs = parse_err(&on_task(
        r#"<bpmn:boundaryEvent id="b" attachedToRef="e"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"#,
    ))
    .join("\n");
    assert!(errs.contains("is not an activity"), "{errs}");
}

fn timer_start(definition: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="tick"><bpmn:timerEventDefinition>{definition}</bpmn:timerEventDefinition></bpmn:startEvent><bpmn:userTask id="t"/>{}"#,
        flow("f0", "tick", "t")
    ))
}

#[test]
fn a_timer_start_event_starts_an_instance_by_its_id() {
    let defs = parse(&timer_start("<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"));
    let process = defs.main_process().unwrap();
    assert_eq!(process.start, None, "there is no none start event");
    assert_eq!(process.timer_starts.len(), 1);
    let none = execute(
        process,
        &bpmn_engine::engine::Context::default(),
        &InstanceState::new("p"),
        Command::Start {
            variables: Default::default(),
            initiator: None,
        },
        t0(),
    );
    assert!(none.is_err(), "a timer-started process has no manual start");
    let tr = execute(
        process,
        &bpmn_engine::engine::Context::default(),
        &InstanceState::new("p"),
        Command::StartAt {
            element: "tick".into(),
            variables: Default::default(),
        },
        t0(),
    )
    .unwrap();
    assert!(tr.events.contains(&Event::InstanceStarted {
        process: "p".into(),
        start: "tick".into()
    }));
    assert_eq!(tr.state.status, Status::Active);
    let bad = execute(
        process,
        &bpmn_engine::engine::Context::default(),
        &InstanceState::new("p"),
        Command::StartAt {
            element: "t".into(),
            variables: Default::default(),
        },
        t0(),
    );
    assert!(bad.is_err(), "only start events start an instance");
}
