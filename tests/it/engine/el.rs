//! EL in diagrams: the expressions Camunda Modeler users write, evaluated as
//! Camunda does — where diagrams branch, count, assign and listen — with
//! `execution` and `task` as Camunda provides them.

use bpmn_engine::engine::{Command, Effect, task_id};
use serde_json::json;

use crate::common::*;

/// `s -> g -> (big | small)` on `condition`, `small` the default.
fn branch(condition: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f_small"/>
<bpmn:userTask id="big"/><bpmn:userTask id="small"/>{}{}{}"#,
        flow("f0", "s", "g"),
        cond_flow("f_big", "g", "big", condition),
        flow("f_small", "g", "small"),
    ))
}

fn takes(condition: &str, vars: serde_json::Value) -> Vec<String> {
    let sim = Sim::start(&branch(condition), vars);
    assert!(
        sim.incidents().is_empty(),
        "{condition}: {:?}",
        sim.incidents()
    );
    sim.tasks()
}

#[test]
fn gateways_branch_as_the_author_meant() {
    // Strings that hold numbers compare as numbers, "true" as a Boolean.
    assert_eq!(takes("${amount > 100}", json!({"amount": "150"})), ["big"]);
    assert_eq!(takes("${'1' == 1}", json!({})), ["big"]);
    assert_eq!(takes("${flag == 'true'}", json!({"flag": true})), ["big"]);
    assert_eq!(
        takes("${flagStr && true}", json!({"flagStr": "true"})),
        ["big"]
    );
    // Division is never integral.
    assert_eq!(takes("${7 / 2 == 3.5}", json!({})), ["big"]);
    // Methods Modeler users call.
    assert_eq!(
        takes(
            "${s.trim().startsWith('h') && list.size() == 2 && m.containsKey('k')}",
            json!({"s": "  hello ", "list": [1, 2], "m": {"k": 1}})
        ),
        ["big"]
    );
    // The choice operator, and names that are reserved words elsewhere.
    assert_eq!(
        takes("${(default ? 'y' : 'n') == 'y'}", json!({"default": true})),
        ["big"]
    );
    assert_eq!(
        takes(
            "${var + new + type == 6}",
            json!({"var": 1, "new": 2, "type": 3})
        ),
        ["big"]
    );
    // null is 0 in arithmetic.
    assert_eq!(
        takes("${nothing + 1 == 1}", json!({"nothing": null})),
        ["big"]
    );
}

#[test]
fn a_condition_that_is_not_a_boolean_or_cannot_be_evaluated_is_an_incident() {
    for (condition, vars, message) in [
        (
            "${'a' + 'b'}",
            json!({}),
            "Cannot coerce 'a' of class String to Long",
        ),
        (
            "${missing > 1}",
            json!({}),
            "Cannot resolve identifier 'missing'",
        ),
        (
            "${amount}",
            json!({"amount": 5}),
            "condition expression returns non-Boolean",
        ),
    ] {
        let sim = Sim::start(&branch(condition), vars);
        assert_eq!(sim.active(), ["g"], "{condition}");
        let incidents = sim.incidents();
        assert!(
            incidents.len() == 1 && incidents[0].contains(message),
            "{condition}: {incidents:?}"
        );
        // Nothing was taken silently.
        assert!(sim.tasks().is_empty());
    }
}

#[test]
fn the_standard_completion_condition_fires_at_three_of_five() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="vote"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>5</bpmn:loopCardinality><bpmn:completionCondition>${{nrOfCompletedInstances/nrOfInstances &gt;= 0.6}}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "vote"),
        flow("f1", "vote", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks().len(), 5);
    for done in 1..=3 {
        let body = sim.key("vote");
        let inner = sim
            .state
            .elements
            .iter()
            .find(|(_, e)| e.element == "vote" && e.scope == body)
            .map(|(k, _)| *k)
            .unwrap();
        sim.cmd(Command::CompleteUserTask {
            key: inner,
            variables: Default::default(),
        })
        .unwrap();
        if done < 3 {
            assert_eq!(sim.tasks().len(), 5 - done, "after {done}");
        }
    }
    assert_eq!(sim.tasks(), ["after"], "3 of 5 is 0.6");
}

#[test]
fn execution_reads_and_sets_variables_and_knows_its_instance() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="t" name="Prepare"><bpmn:extensionElements>
<camunda:executionListener event="start" expression="${{execution.setVariable('seen', execution.getVariable('x') + 1)}}"/>
<camunda:executionListener event="end" expression="${{execution.setVariable('where', execution.currentActivityId.concat(':').concat(execution.eventName))}}"/>
<camunda:executionListener event="end" expression="${{execution.setVariableLocal('scratch', 1)}}"/>
</bpmn:extensionElements></bpmn:task>
<bpmn:userTask id="u" camunda:assignee="${{execution.processBusinessKey}}"/>{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "u"),
    ));
    let sim = Sim::start(&xml, json!({"x": 41}));
    assert_eq!(sim.var("seen"), Some(json!(42)));
    assert_eq!(sim.var("where"), Some(json!("t:end")));
    assert_eq!(
        sim.var("scratch"),
        None,
        "a local variable ends with its element"
    );
    let created = sim.effects.iter().find_map(|e| match e {
        Effect::CreateUserTask(spec) => Some(spec.clone()),
        _ => None,
    });
    assert_eq!(
        created.unwrap().assignee.as_deref(),
        Some("order-1"),
        "the business key the runtime gave"
    );
    // The instance id reads as Camunda's processInstanceId.
    let id = sim.ctx.instance_id.unwrap().to_string();
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="u" camunda:assignee="${{execution.getProcessInstanceId()}}"/>{}"#,
        flow("f0", "s", "u"),
    ));
    let sim = Sim::start(&xml, json!({}));
    let assignee = sim.effects.iter().find_map(|e| match e {
        Effect::CreateUserTask(spec) => spec.assignee.clone(),
        _ => None,
    });
    assert_eq!(assignee, Some(id));
}

#[test]
fn task_listeners_see_and_change_the_task() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Review" camunda:assignee="bob" camunda:priority="70"><bpmn:extensionElements>
<camunda:taskListener event="create" expression="${{task.setAssignee(task.assignee == 'bob' ? 'ann' : 'zoe')}}"/>
<camunda:taskListener event="create" expression="${{task.setPriority(task.priority + 5)}}"/>
<camunda:taskListener event="create" expression="${{execution.setVariable('made', task.name.concat('/').concat(task.id))}}"/>
<camunda:taskListener event="complete" expression="${{execution.setVariable('by', task.assignee)}}"/>
</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let spec = sim
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::CreateUserTask(spec) => Some(spec.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        spec.assignee.as_deref(),
        Some("ann"),
        "set by the create listener"
    );
    assert_eq!(spec.priority, 75);
    let id = task_id(sim.ctx.instance_id.unwrap(), spec.key);
    assert_eq!(sim.var("made"), Some(json!(format!("Review/{id}"))));
    sim.complete("t", json!({}));
    assert_eq!(sim.var("by"), Some(json!("ann")));
}

#[test]
fn a_task_property_set_outside_a_create_listener_is_refused() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"><bpmn:extensionElements>
<camunda:taskListener event="complete" expression="${{task.setPriority(1)}}"/>
</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "t"),
        flow("f1", "t", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    let err = sim.try_complete("t", json!({})).unwrap_err().to_string();
    assert!(
        err.contains("the task's priority can only be set by a create listener"),
        "{err}"
    );
    assert_eq!(sim.tasks(), ["t"], "the completion changed nothing");
}

#[test]
fn setting_variables_where_nothing_may_change_is_refused() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${{execution.setVariable('x', 1)}}"/></bpmn:userTask>{}"#,
        flow("f0", "s", "t"),
    ));
    let sim = Sim::start(&xml, json!({}));
    let incidents = sim.incidents();
    assert!(
        incidents[0].contains("it sets the variable \"x\", which cannot be done here"),
        "{incidents:?}"
    );
}

#[test]
fn java_beans_are_refused_when_the_diagram_is_read() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="t" camunda:expression="${{orderService.check(execution)}}"/>{}"#,
        flow("f0", "s", "t"),
    ));
    let errors = parse_err(&xml);
    assert!(
        errors.iter().any(|e| e.contains("serviceTask \"t\"")
            && e.contains("calls check() on \"orderService\"")
            && e.contains("register a service handler named \"orderService\"")),
        "{errors:?}"
    );
    // In a condition too.
    let errors = parse_err(&branch("${rules.approve(amount)}"));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("calls approve() on \"rules\"")),
        "{errors:?}"
    );
}

#[test]
fn a_bean_named_like_a_registered_handler_runs_that_handler() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="t" camunda:expression="${{invoicing.send(execution)}}"/>{}"#,
        flow("f0", "s", "t"),
    ));
    let options = bpmn_engine::model::Options {
        service_handlers: vec!["invoicing".into()],
        ..Default::default()
    };
    let defs = bpmn_engine::model::parse_with(xml.as_bytes(), &options).unwrap();
    let node = defs.main_process().unwrap().node("t").unwrap();
    assert!(
        matches!(&node.kind, bpmn_engine::model::NodeKind::ServiceTask(s)
            if matches!(s.as_ref(), bpmn_engine::model::ServiceTask::Handler { name } if name == "invoicing")),
        "{:?}",
        node.kind
    );
}
