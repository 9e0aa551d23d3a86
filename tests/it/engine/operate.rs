//! Operating an instance in the pure engine: suspend and resume, instance
//! modification (cancel, start before, start after) and migration to another
//! version, each as events that replay to the same state.

use std::collections::BTreeMap;

use bpmn_engine::engine::{
    self, Command, CommandError, Effect, Event, Instruction, MigrationPlan, Status,
};
use serde_json::json;

use crate::common::*;

fn two_tasks() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check"/><bpmn:userTask id="b" name="Approve"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "e")
    ))
}

fn modify(instructions: Vec<Instruction>) -> Command {
    Command::Modify {
        instructions,
        variables: Default::default(),
        reason: Some("stuck".into()),
    }
}

#[test]
fn a_suspended_instance_refuses_work_until_resumed() {
    let mut sim = Sim::start(&two_tasks(), json!({}));
    sim.cmd(Command::Suspend {
        reason: Some("audit".into()),
    })
    .unwrap();
    assert!(sim.state.suspended);
    assert_eq!(
        sim.last.events,
        vec![Event::InstanceSuspended {
            reason: Some("audit".into())
        }]
    );
    let err = sim.try_complete("a", json!({})).unwrap_err();
    assert!(matches!(err, CommandError::Suspended(_)), "{err}");
    assert!(err.to_string().contains("is suspended"), "{err}");
    let key = sim.key("a");
    for refused in [
        Command::CompleteJob {
            key,
            variables: Default::default(),
        },
        Command::CorrelateMessage {
            key,
            variables: Default::default(),
        },
        Command::ClaimTask {
            key,
            user: "ann".into(),
        },
        modify(vec![Instruction::Cancel("a".into())]),
        Command::Suspend { reason: None },
    ] {
        assert!(matches!(sim.cmd(refused), Err(CommandError::Suspended(_))));
    }
    // Data may still be corrected while it waits.
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"x": 1})),
    })
    .unwrap();
    sim.cmd(Command::Resume { reason: None }).unwrap();
    assert!(!sim.state.suspended);
    assert!(matches!(
        sim.cmd(Command::Resume { reason: None }),
        Err(CommandError::Refused(_))
    ));
    sim.complete("a", json!({}));
    sim.complete("b", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn cancel_and_start_before_move_the_token_and_rearm_the_wait() {
    let mut sim = Sim::start(&two_tasks(), json!({}));
    sim.cmd(Command::Modify {
        instructions: vec![
            Instruction::Cancel("a".into()),
            Instruction::StartBefore("b".into()),
        ],
        variables: obj(json!({"fixed": true})),
        reason: Some("a is broken".into()),
    })
    .unwrap();
    assert_eq!(sim.active(), vec!["b"]);
    assert_eq!(sim.var("fixed"), Some(json!(true)));
    assert!(matches!(
        sim.last.events.first(),
        Some(Event::InstanceModified { reason: Some(r), .. }) if r == "a is broken"
    ));
    let closed = sim.last.effects.iter().any(|e| {
        matches!(
            e,
            Effect::CloseUserTask {
                completed: false,
                ..
            }
        )
    });
    let opened = sim
        .last
        .effects
        .iter()
        .any(|e| matches!(e, Effect::CreateUserTask(t) if t.element == "b"));
    assert!(closed && opened, "{:?}", sim.last.effects);
    sim.complete("b", json!({}));
    assert_eq!(sim.status(), Status::Completed);
    assert_eq!(sim.activations("a"), 1);
}

#[test]
fn start_after_a_cancelled_branch_lets_the_join_fire() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:parallelGateway id="join"/><bpmn:userTask id="c"/><bpmn:endEvent id="e"/>{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "b"),
        flow("f3", "a", "join"),
        flow("f4", "b", "join"),
        flow("f5", "join", "c"),
        flow("f6", "c", "e")
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("a", json!({}));
    assert_eq!(sim.active(), vec!["b"]);
    sim.cmd(modify(vec![
        Instruction::Cancel("b".into()),
        Instruction::StartAfter("b".into()),
    ]))
    .unwrap();
    assert_eq!(sim.active(), vec!["c"], "the join fired once");
    assert_eq!(sim.activations("join"), 1);
    sim.complete("c", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn modifications_that_would_break_the_instance_are_refused() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="inner"/>{}</bpmn:subProcess>
<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:subProcess id="loop"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics><bpmn:startEvent id="ls"/><bpmn:userTask id="li"/>{}</bpmn:subProcess>
<bpmn:exclusiveGateway id="x"/><bpmn:endEvent id="e"/>{}{}{}{}{}{}{}"#,
        flow("sf", "ss", "inner"),
        flow("lf", "ls", "li"),
        flow("f0", "s", "a"),
        flow("f1", "a", "sub"),
        flow("f2", "sub", "many"),
        flow("f3", "many", "loop"),
        flow("f4", "loop", "x"),
        flow("f5", "x", "e"),
        flow("f6", "x", "a"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let before = sim.state.clone();
    let refused = |sim: &mut Sim, ins: Vec<Instruction>| -> String {
        match sim.cmd(modify(ins)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        }
    };
    let m = refused(&mut sim, vec![Instruction::StartBefore("nope".into())]);
    assert!(m.contains("no element \"nope\""), "{m}");
    let m = refused(&mut sim, vec![Instruction::Cancel("b".into())]);
    assert!(m.contains("\"b\""), "{m}");
    let m = refused(&mut sim, vec![Instruction::Cancel("inner".into())]);
    assert!(m.contains("nothing to cancel"), "{m}");
    let m = refused(&mut sim, vec![Instruction::StartBefore("li".into())]);
    assert!(m.contains("multi-instance \"loop\""), "{m}");
    let m = refused(&mut sim, vec![Instruction::StartAfter("ls".into())]);
    assert!(m.contains("multi-instance \"loop\""), "{m}");
    let m = refused(&mut sim, vec![Instruction::StartAfter("x".into())]);
    assert!(m.contains("2 outgoing sequence flows"), "{m}");
    let m = refused(&mut sim, vec![Instruction::Cancel("a".into())]);
    assert!(m.contains("leaves nothing active"), "{m}");
    let m = refused(&mut sim, vec![]);
    assert!(m.contains("instructions"), "{m}");
    assert_eq!(sim.state, before, "nothing changed");
    // Starting inside an active subprocess, and a multi-instance activity itself, work.
    sim.complete("a", json!({}));
    sim.cmd(modify(vec![
        Instruction::StartBefore("inner".into()),
        Instruction::StartBefore("many".into()),
    ]))
    .unwrap();
    assert_eq!(sim.tasks(), vec!["inner", "inner", "many", "many"]);
    // Ending on purpose is not refused: starting the end event completes it.
    sim.cmd(modify(vec![
        Instruction::Cancel("sub".into()),
        Instruction::Cancel("many".into()),
        Instruction::StartBefore("e".into()),
    ]))
    .unwrap();
    assert_eq!(sim.status(), Status::Completed);
}

fn versions() -> (String, String) {
    let v1 = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a" camunda:assignee="ann"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="go"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
<bpmn:parallelGateway id="join"/><bpmn:endEvent id="e"/>{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "wait"),
        flow("f3", "fork", "go"),
        flow("f4", "a", "join"),
        flow("f5", "wait", "join"),
        flow("f6", "go", "join"),
        flow("f7", "join", "e"),
    ));
    let v1 = v1.replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="go"/></bpmn:definitions>"#,
    );
    let v2 = v1
        .replace("id=\"a\"", "id=\"a2\"")
        .replace("sourceRef=\"a\"", "sourceRef=\"a2\"")
        .replace("targetRef=\"a\"", "targetRef=\"a2\"")
        .replace(
            r#"<bpmn:endEvent id="e"/>"#,
            r#"<bpmn:userTask id="review"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f8" sourceRef="review" targetRef="e"/>"#,
        )
        .replace(
            r#"id="f7" sourceRef="join" targetRef="e""#,
            r#"id="f7" sourceRef="join" targetRef="review""#,
        );
    (v1, v2)
}

#[test]
fn migration_keeps_waits_and_renames_mapped_elements() {
    let (v1, v2) = versions();
    let sim = Sim::start(&v1, json!({"n": 1}));
    let to = parse(&v2);
    let to = to.main_process().unwrap();
    let mapping = BTreeMap::from([("a".to_string(), "a2".to_string())]);
    let plan = MigrationPlan {
        from: sim.process(),
        to,
        from_version: 1,
        to_version: 2,
        mapping: &mapping,
    };
    assert!(plan.problems().is_empty());
    let tr = engine::migrate(&plan, &sim.state, sim.now).unwrap();
    assert_eq!(tr.events.len(), 1);
    let mut replayed = sim.state.clone();
    replayed.apply(&tr.events[0]);
    assert_eq!(replayed, tr.state);
    let key = sim.key("a");
    assert_eq!(
        tr.effects,
        vec![Effect::MoveWait {
            key,
            element: "a2".into()
        }]
    );
    assert_eq!(tr.state.elements[&key].element, "a2");
    assert_eq!(tr.state.root_variables(), sim.state.root_variables());

    // Without the mapping "a" has nowhere to go; a wrong mapping is named.
    let none = BTreeMap::new();
    let problems = engine::migrate(
        &MigrationPlan {
            mapping: &none,
            ..plan
        },
        &sim.state,
        sim.now,
    )
    .unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"a\"") && p.contains("map it")),
        "{problems:?}"
    );
    let kind = BTreeMap::from([("a".to_string(), "go".to_string())]);
    let problems = MigrationPlan {
        mapping: &kind,
        ..plan
    }
    .instance_problems(&sim.state);
    assert!(
        problems.iter().any(|p| p.contains("user task")),
        "{problems:?}"
    );
    let ghost = BTreeMap::from([("zz".to_string(), "a2".to_string())]);
    let problems = MigrationPlan {
        mapping: &ghost,
        ..plan
    }
    .problems();
    assert!(problems[0].contains("no element \"zz\""), "{problems:?}");
}

#[test]
fn starting_inside_a_subprocess_that_is_not_active_creates_it() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/>
<bpmn:subProcess id="outer"><bpmn:startEvent id="os"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="first"/><bpmn:userTask id="inner"/>{}{}</bpmn:subProcess>
{}</bpmn:subProcess>
<bpmn:endEvent id="e"/>{}{}{}"#,
        flow("sf", "ss", "first"),
        flow("sf2", "first", "inner"),
        flow("of", "os", "sub"),
        flow("f0", "s", "a"),
        flow("f1", "a", "outer"),
        flow("f2", "outer", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.cmd(modify(vec![
        Instruction::Cancel("a".into()),
        Instruction::StartBefore("inner".into()),
    ]))
    .unwrap();
    // Both missing scopes were created, and only "inner" started in them
    // (not the start events of "outer" or "sub").
    assert_eq!(sim.tasks(), vec!["inner"]);
    let mut active = sim.active();
    active.sort();
    assert_eq!(active, vec!["inner", "outer", "sub"]);
    assert_eq!(sim.activations("os"), 0);
    assert_eq!(sim.activations("first"), 0);
    // A second start inside the running subprocess uses it.
    sim.cmd(modify(vec![Instruction::StartBefore("first".into())]))
        .unwrap();
    assert_eq!(sim.activations("sub"), 1);
    sim.complete("first", json!({}));
    sim.complete("inner", json!({}));
    assert_eq!(sim.tasks(), vec!["inner"]);
    sim.complete("inner", json!({}));
    assert_eq!(
        sim.status(),
        Status::Completed,
        "the created scopes complete"
    );
}

#[test]
fn migration_arms_added_boundary_events_and_event_subprocesses_and_withdraws_removed_ones() {
    let v1 = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check"/>
<bpmn:boundaryEvent id="old_timer" attachedToRef="a"><bpmn:timerEventDefinition><bpmn:timeDuration>PT5H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="e"/><bpmn:endEvent id="e0"/>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "e"),
        flow("f9", "old_timer", "e0"),
    ));
    let v2 = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check twice"/>
<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:subProcess id="ev" triggeredByEvent="true"><bpmn:startEvent id="es" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent><bpmn:userTask id="handle"/>{}</bpmn:subProcess>
<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>{}{}{}"#,
        flow("ef", "es", "handle"),
        flow("f0", "s", "a"),
        flow("f1", "a", "e"),
        flow("f2", "late", "e2"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="poke"/></bpmn:definitions>"#,
    );
    let sim = Sim::start(&v1, json!({}));
    let to = parse(&v2);
    let to = to.main_process().unwrap();
    let mapping = BTreeMap::new();
    let plan = MigrationPlan {
        from: sim.process(),
        to,
        from_version: 1,
        to_version: 2,
        mapping: &mapping,
    };
    let tr = engine::migrate(&plan, &sim.state, sim.now).unwrap();
    let mut replayed = sim.state.clone();
    for e in &tr.events {
        replayed.apply(e);
    }
    assert_eq!(replayed, tr.state, "the events replay to the state");
    let mut elements: Vec<&str> = tr
        .state
        .elements
        .values()
        .map(|e| e.element.as_str())
        .collect();
    elements.sort();
    assert_eq!(elements, vec!["a", "ev", "late"]);
    let old_timer = sim.key("old_timer");
    let a = sim.key("a");
    assert!(tr.effects.contains(&Effect::CancelJob { key: old_timer }));
    assert!(tr.effects.contains(&Effect::RenameUserTask {
        key: a,
        name: Some("Check twice".into())
    }));
    assert!(
        tr.effects.iter().any(
            |e| matches!(e, Effect::CreateJob { element, due: Some(due), .. }
            if element == "late" && *due == sim.now + jiff::SignedDuration::from_hours(1))
        ),
        "{:?}",
        tr.effects
    );
    assert!(
        tr.effects
            .iter()
            .any(|e| matches!(e, Effect::Subscribe { element, message, .. } if element == "ev" && message == "poke")),
        "{:?}",
        tr.effects
    );
}

#[test]
fn migration_arms_an_event_subprocess_added_inside_an_active_subprocess() {
    let version = |ev: &str| {
        process(&format!(
            r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="t"/><bpmn:endEvent id="se"/>{}{}{ev}</bpmn:subProcess>
<bpmn:endEvent id="e"/>{}{}"#,
            flow("sf", "ss", "t"),
            flow("sf2", "t", "se"),
            flow("f0", "s", "sub"),
            flow("f1", "sub", "e"),
        ))
        .replace(
            "</bpmn:definitions>",
            r#"<bpmn:message id="m" name="old"/></bpmn:definitions>"#,
        )
    };
    let v1 = version(
        r#"<bpmn:subProcess id="ev_old" triggeredByEvent="true"><bpmn:startEvent id="os" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent></bpmn:subProcess>"#,
    );
    let v2 = version(
        r#"<bpmn:subProcess id="ev_new" triggeredByEvent="true"><bpmn:startEvent id="ns" isInterrupting="false"><bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent></bpmn:subProcess>"#,
    );
    let sim = Sim::start(&v1, json!({}));
    let to = parse(&v2);
    let to = to.main_process().unwrap();
    let mapping = BTreeMap::new();
    let plan = MigrationPlan {
        from: sim.process(),
        to,
        from_version: 1,
        to_version: 2,
        mapping: &mapping,
    };
    let tr = engine::migrate(&plan, &sim.state, sim.now).unwrap();
    let sub = sim.key("sub");
    let old = sim.key("ev_old");
    assert!(!tr.state.elements.contains_key(&old), "withdrawn");
    assert!(tr.effects.contains(&Effect::Unsubscribe { key: old }));
    let (key, armed) = tr
        .state
        .elements
        .iter()
        .find(|(_, e)| e.element == "ev_new")
        .expect("armed");
    assert_eq!(armed.scope, sub, "in the running subprocess");
    assert!(
        tr.effects
            .iter()
            .any(|e| matches!(e, Effect::CreateJob { key: k, due: Some(_), .. } if k == key)),
        "{:?}",
        tr.effects
    );
    assert!(matches!(tr.events[0], Event::InstanceMigrated { .. }));
}
