//! Events and tasks: given a diagram, when a command runs, then these events.

use bpmn_engine::engine::{Command, CommandError, Effect, Event, JobKind, Status, Step, Wait};
use serde_json::json;

use crate::common::*;

fn line(nodes: &str, ids: &[&str]) -> String {
    let flows: String = ids
        .windows(2)
        .enumerate()
        .map(|(i, w)| flow(&format!("f{i}"), w[0], w[1]))
        .collect();
    process(&format!("{nodes}{flows}"))
}

#[test]
fn start_task_manual_task_and_end_pass_straight_through() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="t"/><bpmn:manualTask id="m"/><bpmn:intermediateThrowEvent id="i"/><bpmn:endEvent id="e"/>"#,
        &["s", "t", "m", "i", "e"],
    );
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.activated(), ["s", "t", "m", "i", "e"]);
    assert_eq!(sim.completed(), ["s", "t", "m", "i", "e"]);
    assert_eq!(
        sim.last.events.first(),
        Some(&Event::InstanceStarted {
            process: "p".into(),
            start: "s".into()
        })
    );
    assert_eq!(sim.last.events.last(), Some(&Event::InstanceCompleted));
    assert_eq!(sim.status(), Status::Completed);
    assert!(sim.state.elements.is_empty());
}

#[test]
fn the_start_form_is_validated_and_the_initiator_recorded() {
    let xml = line(
        r#"<bpmn:startEvent id="s" camunda:initiator="starter"><bpmn:extensionElements><camunda:formData>
           <camunda:formField id="amount" type="long"><camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>
         </camunda:formData></bpmn:extensionElements></bpmn:startEvent><bpmn:userTask id="t"/>"#,
        &["s", "t"],
    );
    let err = Sim::try_start(&xml, json!({"amount": "many"}))
        .err()
        .unwrap();
    assert!(
        matches!(err, CommandError::InvalidVariables(ref e) if e[0].field == "amount"),
        "{err}"
    );
    let sim = Sim::start(&xml, json!({"amount": "12"}));
    assert_eq!(sim.var("amount"), Some(json!(12)));
    assert_eq!(sim.var("starter"), Some(json!("alice")));
}

#[test]
fn a_user_task_waits_and_opens_an_inbox_task() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t" name="Check" camunda:assignee="${who}" camunda:candidateGroups="a, b" camunda:dueDate="PT2H" camunda:priority="${prio}">
  <bpmn:documentation>Look at it.</bpmn:documentation></bpmn:userTask><bpmn:endEvent id="e"/>"#,
        &["s", "t", "e"],
    );
    let mut sim = Sim::start(&xml, json!({"who": "bob", "prio": 80}));
    assert_eq!(sim.tasks(), ["t"]);
    let key = sim.key("t");
    let Some(Effect::CreateUserTask(spec)) = sim.last.effects.first() else {
        panic!("{:?}", sim.last.effects)
    };
    assert_eq!(spec.key, key);
    assert_eq!(spec.name.as_deref(), Some("Check"));
    assert_eq!(spec.documentation.as_deref(), Some("Look at it."));
    assert_eq!(spec.assignee.as_deref(), Some("bob"));
    assert_eq!(spec.candidate_groups, ["a", "b"]);
    assert_eq!(spec.priority, 80);
    assert_eq!(spec.due, Some("2025-01-01T02:00:00Z".parse().unwrap()));
    sim.complete("t", json!({"note": "fine"}));
    assert_eq!(
        sim.last.effects,
        vec![Effect::CloseUserTask {
            key,
            completed: true
        }]
    );
    assert_eq!(sim.var("note"), Some(json!("fine")));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_task_without_assignment_is_a_candidate_task_for_its_lane() {
    let xml = process(&format!(
        r#"<bpmn:laneSet id="ls"><bpmn:lane id="l" name="Pero"><bpmn:flowNodeRef>t</bpmn:flowNodeRef><bpmn:flowNodeRef>u</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:userTask id="u" camunda:candidateUsers="ann"/>{}{}"#,
        flow("f1", "s", "t"),
        flow("f2", "t", "u")
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let Some(Effect::CreateUserTask(spec)) = sim.last.effects.first() else {
        panic!()
    };
    assert_eq!(spec.candidate_groups, ["Pero"]);
    sim.complete("t", json!({}));
    let Some(Effect::CreateUserTask(spec)) = sim
        .last
        .effects
        .iter()
        .find(|e| matches!(e, Effect::CreateUserTask(_)))
    else {
        panic!()
    };
    assert!(
        spec.candidate_groups.is_empty(),
        "a task naming its own assignment keeps it"
    );
    assert_eq!(spec.candidate_users, ["ann"]);
}

#[test]
fn invalid_form_values_are_refused_and_change_nothing() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"><bpmn:extensionElements><camunda:formData>
  <camunda:formField id="n" type="long"><camunda:validation><camunda:constraint name="max" config="5"/></camunda:validation></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>"#,
        &["s", "t", "e"],
    );
    let mut sim = Sim::start(&xml, json!({}));
    let before = sim.state.clone();
    let err = sim.try_complete("t", json!({"n": 9})).err().unwrap();
    assert_eq!(err.to_string(), "invalid values: n: must be at most 5");
    assert_eq!(sim.state, before);
    sim.complete("t", json!({"n": "5"}));
    assert_eq!(sim.var("n"), Some(json!(5)));
    // Completing again: the task is gone.
    let again = sim.cmd(Command::CompleteUserTask {
        key: 2,
        variables: Default::default(),
    });
    assert!(matches!(again, Err(CommandError::NotActive("completed"))));
}

#[test]
fn completing_a_task_that_is_not_waiting_is_refused() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/>"#,
        &["s", "a", "b"],
    );
    let mut sim = Sim::start(&xml, json!({}));
    let a = sim.key("a");
    sim.complete("a", json!({}));
    let err = sim
        .cmd(Command::CompleteUserTask {
            key: a,
            variables: Default::default(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::NotWaiting { key, .. } if key == a));
}

#[test]
fn an_expression_service_task_stores_its_result() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="calc" camunda:expression="${price * qty}" camunda:resultVariable="total"/><bpmn:sendTask id="send" camunda:expression="${total > 10}" camunda:resultVariable="big"/><bpmn:endEvent id="e"/>"#,
        &["s", "calc", "send", "e"],
    );
    let sim = Sim::start(&xml, json!({"price": 3, "qty": 4}));
    assert_eq!(sim.var("total"), Some(json!(12)));
    assert_eq!(
        sim.var("big"),
        Some(json!(true)),
        "a send task runs like a service task"
    );
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_failing_expression_is_an_incident_that_a_retry_resumes() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="calc" camunda:expression="${price * 2}" camunda:resultVariable="total"/><bpmn:userTask id="t"/>"#,
        &["s", "calc", "t"],
    );
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.status(), Status::Active);
    assert_eq!(sim.state.display_status(), "incident");
    assert_eq!(
        sim.incidents(),
        [
            "camunda:expression failed: Cannot resolve identifier 'price' (at column 3 of ${price * 2})"
        ]
    );
    let incident = *sim.state.incidents.keys().next().unwrap();
    assert_eq!(sim.state.incidents[&incident].step, Step::Activate);
    assert_eq!(sim.active(), ["calc"], "the token stays where it failed");
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"price": 21})),
    })
    .unwrap();
    sim.cmd(Command::RetryIncident { incident }).unwrap();
    assert_eq!(sim.var("total"), Some(json!(42)));
    assert_eq!(sim.tasks(), ["t"]);
    assert!(sim.state.incidents.is_empty());
    assert!(
        sim.cmd(Command::RetryIncident { incident }).is_err(),
        "a resolved incident cannot be retried again"
    );
}

#[test]
fn external_and_connector_tasks_wait_for_their_jobs() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="ext" camunda:type="external" camunda:topic="billing"/>
<bpmn:serviceTask id="http"><bpmn:extensionElements><camunda:connector><camunda:connectorId>http-connector</camunda:connectorId>
  <camunda:inputOutput><camunda:inputParameter name="url">http://127.0.0.1/orders/${id}</camunda:inputParameter><camunda:inputParameter name="method">GET</camunda:inputParameter></camunda:inputOutput>
</camunda:connector></bpmn:extensionElements></bpmn:serviceTask><bpmn:endEvent id="e"/>"#,
        &["s", "ext", "http", "e"],
    );
    let mut sim = Sim::start(&xml, json!({"id": 7}));
    let key = sim.key("ext");
    assert_eq!(
        sim.last.effects,
        vec![Effect::CreateJob {
            key,
            element: "ext".into(),
            kind: JobKind::External {
                topic: "billing".into()
            },
            due: None,
            payload: serde_json::Value::Null,
            retries: None
        }]
    );
    sim.job("ext", json!({"invoice": "A-1"}));
    assert_eq!(sim.var("invoice"), Some(json!("A-1")));
    let Some(Effect::CreateJob {
        kind: JobKind::Connector,
        payload,
        ..
    }) = sim.last.effects.first()
    else {
        panic!("{:?}", sim.last.effects)
    };
    assert_eq!(
        payload,
        &json!({"connector": "http-connector", "inputs": {"url": "http://127.0.0.1/orders/7", "method": "GET"}})
    );
    sim.job("http", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_script_task_sets_variables_and_its_result() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:scriptTask id="sum" scriptFormat="rhai" camunda:resultVariable="count"><bpmn:script>
let _acc = 0;
for x in items { _acc += x; }
let total = _acc;
items.len()
</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e"/>"#,
        &["s", "sum", "e"],
    );
    let sim = Sim::start(&xml, json!({"items": [1, 2, 3]}));
    assert_eq!(sim.var("total"), Some(json!(6)));
    assert_eq!(sim.var("count"), Some(json!(3)));
    assert_eq!(
        sim.var("_acc"),
        None,
        "names starting with _ stay in the script"
    );
}

#[test]
fn a_runaway_script_becomes_an_incident() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:scriptTask id="spin" scriptFormat="rhai"><bpmn:script>loop { }</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e"/>"#,
        &["s", "spin", "e"],
    );
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.active(), ["spin"]);
    assert!(
        sim.incidents()[0].contains("step budget"),
        "{:?}",
        sim.incidents()
    );
}

#[test]
fn receive_tasks_and_message_events_wait_for_their_message() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="r" messageRef="m1"/>
<bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="m2"/></bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>"#,
        &["s", "r", "c", "e"],
    )
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m1" name="paid"/><bpmn:message id="m2" name="shipped"/></bpmn:definitions>"#,
    );
    let mut sim = Sim::start(&xml, json!({}));
    let r = sim.key("r");
    assert_eq!(
        sim.last.effects,
        vec![Effect::Subscribe {
            key: r,
            element: "r".into(),
            message: "paid".into(),
            signal: false,
            correlation: None,
        }]
    );
    sim.message("r", json!({"amount": 5}));
    assert!(sim.last.events.contains(&Event::MessageReceived {
        key: r,
        name: "paid".into()
    }));
    assert!(sim.last.effects.contains(&Effect::Unsubscribe { key: r }));
    assert_eq!(sim.var("amount"), Some(json!(5)));
    assert_eq!(sim.active(), ["c"]);
    let err = sim
        .cmd(Command::CompleteUserTask {
            key: sim.key("c"),
            variables: Default::default(),
        })
        .unwrap_err();
    assert!(
        matches!(err, CommandError::NotWaiting { .. }),
        "a message wait is not a user task"
    );
    sim.message("c", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn input_mappings_are_local_and_outputs_go_to_the_parent() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements><camunda:inputOutput>
  <camunda:inputParameter name="greeting">Hello ${name}</camunda:inputParameter>
  <camunda:inputParameter name="tags"><camunda:list><camunda:value>a</camunda:value><camunda:value>${name}</camunda:value></camunda:list></camunda:inputParameter>
  <camunda:outputParameter name="answer">${greeting}!</camunda:outputParameter>
</camunda:inputOutput></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>"#,
        &["s", "t", "e"],
    );
    let mut sim = Sim::start(&xml, json!({"name": "Ann"}));
    let key = sim.key("t");
    assert_eq!(
        sim.state.variables[&key].get("greeting"),
        Some(&json!("Hello Ann"))
    );
    assert_eq!(
        sim.state.variables[&key].get("tags"),
        Some(&json!(["a", "Ann"]))
    );
    assert_eq!(sim.var("greeting"), None, "inputs are local to the task");
    sim.complete("t", json!({"greeting": "Hi"}));
    assert_eq!(
        sim.var("answer"),
        Some(json!("Hi!")),
        "a submitted value overwrites the local input"
    );
    assert_eq!(sim.var("greeting"), None);
    assert!(
        !sim.state.variables.contains_key(&key),
        "locals go away with the task"
    );
}

#[test]
fn a_failing_output_mapping_is_an_incident_at_completion() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="t"><bpmn:extensionElements><camunda:inputOutput>
  <camunda:outputParameter name="x">${missing}</camunda:outputParameter></camunda:inputOutput></bpmn:extensionElements></bpmn:task><bpmn:endEvent id="e"/>"#,
        &["s", "t", "e"],
    );
    let mut sim = Sim::start(&xml, json!({}));
    let (&incident, i) = sim.state.incidents.iter().next().unwrap();
    assert_eq!(i.step, Step::Complete);
    assert!(
        i.message
            .contains("output mapping failed: x: Cannot resolve identifier 'missing' (at column 3 of ${missing})"),
        "{}",
        i.message
    );
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"missing": 1})),
    })
    .unwrap();
    sim.cmd(Command::RetryIncident { incident }).unwrap();
    assert_eq!(sim.var("x"), Some(json!(1)));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn async_before_and_after_are_jobs() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="calc" camunda:expression="${1 + 1}" camunda:resultVariable="two" camunda:asyncBefore="true" camunda:asyncAfter="true"/><bpmn:endEvent id="e"/>"#,
        &["s", "calc", "e"],
    );
    let mut sim = Sim::start(&xml, json!({}));
    assert!(matches!(
        sim.last.effects[..],
        [Effect::CreateJob {
            kind: JobKind::AsyncBefore,
            ..
        }]
    ));
    assert_eq!(sim.var("two"), None, "nothing ran before the job");
    sim.job("calc", json!({}));
    assert_eq!(sim.var("two"), Some(json!(2)));
    assert!(matches!(
        sim.last.effects[..],
        [Effect::CreateJob {
            kind: JobKind::AsyncAfter,
            ..
        }]
    ));
    assert_eq!(sim.active(), ["calc"]);
    sim.job("calc", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn cancelling_withdraws_everything() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="a"/><bpmn:receiveTask id="b" messageRef="m"/>{}{}{}"#,
        flow("f1", "s", "fork"),
        flow("f2", "fork", "a"),
        flow("f3", "fork", "b")
    ))
    .replace("</bpmn:definitions>", r#"<bpmn:message id="m" name="go"/></bpmn:definitions>"#);
    let mut sim = Sim::start(&xml, json!({}));
    let (a, b) = (sim.key("a"), sim.key("b"));
    sim.cmd(Command::Cancel {
        reason: "by admin".into(),
    })
    .unwrap();
    assert_eq!(sim.status(), Status::Terminated);
    assert!(sim.last.effects.contains(&Effect::CloseUserTask {
        key: a,
        completed: false
    }));
    assert!(sim.last.effects.contains(&Effect::Unsubscribe { key: b }));
    assert!(
        matches!(sim.last.events.last(), Some(Event::InstanceTerminated { reason }) if reason == "by admin")
    );
    assert!(matches!(
        sim.cmd(Command::Cancel {
            reason: "again".into()
        }),
        Err(CommandError::NotActive("terminated"))
    ));
}

#[test]
fn conditional_flows_out_of_an_activity_follow_uncontrolled_flow() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="t" default="fd"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/><bpmn:userTask id="d"/>{}{}{}{}{}"#,
        flow("f0", "s", "t"),
        cond_flow("fa", "t", "a", "${x > 1}"),
        cond_flow("fb", "t", "b", "${x > 5}"),
        flow("fc", "t", "c"),
        flow("fd", "t", "d")
    ));
    assert_eq!(Sim::start(&xml, json!({"x": 3})).tasks(), ["a", "c"]);
    assert_eq!(
        Sim::start(&xml, json!({"x": 0})).tasks(),
        ["c", "d"],
        "the default only when no condition holds"
    );
}

#[test]
fn a_receive_task_without_a_message_waits_for_a_trigger() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:receiveTask id="r"/><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "r"),
        flow("f1", "r", "t"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let r = sim.key("r");
    assert_eq!(sim.state.elements[&r].wait, Some(Wait::Trigger));
    // A message is not a trigger.
    assert!(
        sim.cmd(Command::CorrelateMessage {
            key: r,
            variables: obj(json!({}))
        })
        .is_err()
    );
    sim.cmd(Command::Trigger {
        key: r,
        variables: obj(json!({"ok": true})),
    })
    .unwrap();
    assert_eq!(sim.tasks(), ["t"]);
    assert_eq!(sim.var("ok"), Some(json!(true)));
}

#[test]
fn a_script_task_without_a_script_passes_like_a_plain_task() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:scriptTask id="todo" name="Write me later"/><bpmn:userTask id="next"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f1", "s", "todo"),
        flow("f2", "todo", "next"),
        flow("f3", "next", "e"),
    ));
    let defs = parse(&xml);
    assert!(
        defs.warnings.iter().any(|w| w.to_string().contains(
            "scriptTask \"todo\": the script task has no script; it completes as soon as it starts"
        )),
        "{:?}",
        defs.warnings
    );
    let sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["next"]);
    assert!(sim.completed().contains(&"todo".to_string()));
}

#[test]
fn data_associations_copy_variables_into_and_out_of_a_task() {
    // The standard's name-to-name copies: a data object into the task's
    // data input, and its data output out to a process property.
    let xml = process(&format!(
        r#"<bpmn:dataObject id="order_total"/>
<bpmn:dataObjectReference id="Ref_total" dataObjectRef="order_total"/>
<bpmn:property id="invoiced"/>
<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="invoice" scriptFormat="rhai">
  <bpmn:ioSpecification>
    <bpmn:dataInput id="invoice_in" name="amount"/>
    <bpmn:dataOutput id="invoice_out" name="line"/>
    <bpmn:inputSet><bpmn:dataInputRefs>invoice_in</bpmn:dataInputRefs></bpmn:inputSet>
    <bpmn:outputSet><bpmn:dataOutputRefs>invoice_out</bpmn:dataOutputRefs></bpmn:outputSet>
  </bpmn:ioSpecification>
  <bpmn:dataInputAssociation><bpmn:sourceRef>Ref_total</bpmn:sourceRef><bpmn:targetRef>invoice_in</bpmn:targetRef></bpmn:dataInputAssociation>
  <bpmn:dataOutputAssociation><bpmn:sourceRef>invoice_out</bpmn:sourceRef><bpmn:targetRef>invoiced</bpmn:targetRef></bpmn:dataOutputAssociation>
  <bpmn:script>let line = "total: " + amount;</bpmn:script>
</bpmn:scriptTask>
<bpmn:userTask id="next"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f1", "s", "invoice"),
        flow("f2", "invoice", "next"),
        flow("f3", "next", "e"),
    ));
    let sim = Sim::start(&xml, json!({"order_total": 42}));
    assert_eq!(sim.tasks(), ["next"]);
    assert_eq!(sim.var("invoiced"), Some(json!("total: 42")));
    assert_eq!(sim.var("amount"), None, "the input is the task's own");
}

#[test]
fn variables_are_set_and_removed_in_one_command() {
    let xml = line(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>"#,
        &["s", "t", "e"],
    );
    let mut sim = Sim::start(&xml, json!({"a": 1, "b": 2}));
    let t = sim
        .cmd(Command::ModifyVariables {
            variables: obj(json!({"c": 3})),
            remove: vec!["b".into(), "never".into()],
        })
        .unwrap();
    assert!(t.events.iter().any(|e| matches!(e,
        Event::VariablesRemoved { scope: 0, names } if names == &["b".to_string()])));
    assert_eq!(sim.var("a"), Some(json!(1)));
    assert_eq!(sim.var("b"), None);
    assert_eq!(sim.var("c"), Some(json!(3)));
    // Removing only what is not there emits nothing.
    let t = sim
        .cmd(Command::ModifyVariables {
            variables: Default::default(),
            remove: vec!["never".into()],
        })
        .unwrap();
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert_eq!(sim.tasks(), ["t"]);
}
