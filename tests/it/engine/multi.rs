//! Multi-instance activities and standard loops: parallel and sequential, by cardinality or
//! collection, completion conditions, subprocesses, boundary events on the
//! whole activity, and the deploy-time checks.

use bpmn_engine::engine::{Command, Effect, Event, Status};
use serde_json::json;

use crate::common::*;

/// `s -> review (multi-instance: `mi`) -> after -> e`.
fn review(mi: &str, extra: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="review" camunda:assignee="${{reviewer}}">{mi}</bpmn:userTask>
<bpmn:userTask id="after"/><bpmn:endEvent id="e"/>{extra}{}{}{}"#,
        flow("f0", "s", "review"),
        flow("f1", "review", "after"),
        flow("f2", "after", "e"),
    ))
}

/// The live inner instances of `element` (not its body), oldest first.
fn inner_keys(sim: &Sim, element: &str) -> Vec<u64> {
    let body = sim.key(element);
    sim.state
        .elements
        .iter()
        .filter(|(_, e)| e.element == element && e.scope == body)
        .map(|(k, _)| *k)
        .collect()
}

fn local(sim: &Sim, key: u64, name: &str) -> Option<serde_json::Value> {
    sim.state
        .variables
        .get(&key)
        .and_then(|v| v.get(name))
        .cloned()
}

fn complete_key(sim: &mut Sim, key: u64, vars: serde_json::Value) {
    sim.cmd(Command::CompleteUserTask {
        key,
        variables: obj(vars),
    })
    .unwrap();
}

#[test]
fn a_parallel_collection_opens_one_task_per_item() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics camunda:collection="${reviewers}" camunda:elementVariable="reviewer"/>"#,
            "",
        ),
        json!({"reviewers": ["ann", "bob", "cid"]}),
    );
    assert_eq!(sim.tasks(), ["review", "review", "review"]);
    let body = sim.key("review");
    let inner = inner_keys(&sim, "review");
    assert_eq!(inner.len(), 3);
    for (i, k) in inner.iter().enumerate() {
        assert_eq!(local(&sim, *k, "loopCounter"), Some(json!(i)));
    }
    assert_eq!(local(&sim, inner[1], "reviewer"), Some(json!("bob")));
    let assignees: Vec<Option<String>> = sim
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CreateUserTask(t) => Some(t.assignee.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        assignees,
        [Some("ann".into()), Some("bob".into()), Some("cid".into())],
        "each instance sees its own item"
    );
    assert_eq!(local(&sim, body, "nrOfInstances"), Some(json!(3)));
    assert_eq!(local(&sim, body, "nrOfActiveInstances"), Some(json!(3)));
    complete_key(&mut sim, inner[2], json!({"ok": true}));
    assert_eq!(local(&sim, body, "nrOfCompletedInstances"), Some(json!(1)));
    assert_eq!(local(&sim, body, "nrOfActiveInstances"), Some(json!(2)));
    complete_key(&mut sim, inner[0], json!({}));
    assert_eq!(sim.tasks(), ["review"]);
    complete_key(&mut sim, inner[1], json!({}));
    assert_eq!(sim.tasks(), ["after"], "the activity completed once");
    assert_eq!(
        sim.history
            .iter()
            .filter(|e| matches!(e, Event::FlowTaken { flow, .. } if flow == "f1"))
            .count(),
        1
    );
    assert_eq!(
        sim.var("ok"),
        Some(json!(true)),
        "writes go to the instance"
    );
    assert_eq!(sim.var("loopCounter"), None, "locals stay local");
    assert_eq!(sim.var("nrOfInstances"), None);
}

#[test]
fn a_sequential_cardinality_runs_one_instance_after_the_other() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>${rounds}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"#,
            "",
        ),
        json!({"rounds": 3, "reviewer": "ann"}),
    );
    for round in 0..3 {
        let inner = inner_keys(&sim, "review");
        assert_eq!(inner.len(), 1, "round {round}");
        assert_eq!(local(&sim, inner[0], "loopCounter"), Some(json!(round)));
        complete_key(&mut sim, inner[0], json!({}));
    }
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_completion_condition_cancels_the_remaining_instances() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics camunda:collection="reviewers" camunda:elementVariable="reviewer"><bpmn:completionCondition>${nrOfCompletedInstances >= 2}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>"#,
            "",
        ),
        json!({"reviewers": ["ann", "bob", "cid", "dan"]}),
    );
    let inner = inner_keys(&sim, "review");
    complete_key(&mut sim, inner[0], json!({}));
    assert_eq!(sim.tasks().len(), 3);
    complete_key(&mut sim, inner[3], json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    let withdrawn: Vec<u64> = sim
        .last
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CloseUserTask {
                key,
                completed: false,
            } => Some(*key),
            _ => None,
        })
        .collect();
    assert_eq!(withdrawn, [inner[1], inner[2]]);
}

#[test]
fn an_empty_collection_passes_straight_through() {
    let sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics camunda:collection="${reviewers}" camunda:elementVariable="reviewer"/>"#,
            "",
        ),
        json!({"reviewers": []}),
    );
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_multi_instance_subprocess_runs_its_content_once_per_item() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:multiInstanceLoopCharacteristics camunda:collection="${{orders}}" camunda:elementVariable="order"/>
  <bpmn:startEvent id="ss"/><bpmn:scriptTask id="price" scriptFormat="rhai"><bpmn:script>total = total + order</bpmn:script></bpmn:scriptTask>
  <bpmn:userTask id="pack"/><bpmn:endEvent id="se"/>{}{}{}</bpmn:subProcess>
<bpmn:endEvent id="e"/>{}{}"#,
        flow("i0", "ss", "price"),
        flow("i1", "price", "pack"),
        flow("i2", "pack", "se"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "e"),
    ));
    let mut sim = Sim::start(&xml, json!({"orders": [5, 7], "total": 0}));
    assert_eq!(sim.tasks(), ["pack", "pack"]);
    assert_eq!(sim.var("total"), Some(json!(12)));
    sim.complete("pack", json!({}));
    assert_eq!(sim.status(), Status::Active);
    sim.complete("pack", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_boundary_timer_on_a_multi_instance_activity_cancels_every_instance() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"#,
            r#"<bpmn:boundaryEvent id="late" attachedToRef="review"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow id="b1" sourceRef="late" targetRef="after"/>"#,
        ),
        json!({"reviewer": "ann"}),
    );
    let body = sim.key("review");
    let late = sim.key("late");
    assert_eq!(
        sim.state.elements[&late].attached_to,
        Some(body),
        "armed once, on the body"
    );
    assert_eq!(
        sim.state
            .elements
            .values()
            .filter(|e| e.element == "late")
            .count(),
        1
    );
    sim.job("late", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(
        sim.last
            .effects
            .iter()
            .filter(|e| matches!(
                e,
                Effect::CloseUserTask {
                    completed: false,
                    ..
                }
            ))
            .count(),
        2
    );
}

#[test]
fn a_collection_that_is_not_a_list_is_an_incident_and_a_retry_reads_it_again() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics camunda:collection="${reviewers}" camunda:elementVariable="reviewer"/>"#,
            "",
        ),
        json!({"reviewers": "ann"}),
    );
    assert_eq!(sim.incidents().len(), 1);
    assert!(
        sim.incidents()[0].contains("is not a list"),
        "{:?}",
        sim.incidents()
    );
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"reviewers": ["ann"]})),
    })
    .unwrap();
    let incident = *sim.state.incidents.keys().next().unwrap();
    sim.cmd(Command::RetryIncident { incident }).unwrap();
    assert_eq!(sim.tasks(), ["review"]);
}

#[test]
fn multi_instance_is_checked_when_deploying() {
    let errs = parse_err(&review(r#"<bpmn:multiInstanceLoopCharacteristics/>"#, "")).join("\n");
    assert!(
        errs.contains("needs a loopCardinality, a loopDataInputRef or a camunda:collection"),
        "{errs}"
    );
    let errs = parse_err(&review(
        r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>${1 +}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"#,
        "",
    ))
    .join("\n");
    assert!(errs.contains("loopCardinality"), "{errs}");
}

#[test]
fn loop_data_input_ref_names_the_collection_and_input_data_item_the_element() {
    // As Camunda's and Flowable's own tests write it.
    let sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef><bpmn:inputDataItem name="reviewer"/></bpmn:multiInstanceLoopCharacteristics>"#,
            "",
        ),
        json!({"reviewers": ["ann", "bob"]}),
    );
    let inner = inner_keys(&sim, "review");
    assert_eq!(inner.len(), 2, "parallel: both at once");
    assert_eq!(local(&sim, inner[0], "reviewer"), Some(json!("ann")));
    assert_eq!(local(&sim, inner[1], "reviewer"), Some(json!("bob")));
    let assignees: Vec<Option<String>> = sim
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CreateUserTask(t) => Some(t.assignee.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(assignees, [Some("ann".into()), Some("bob".into())]);
}

#[test]
fn parallel_output_is_collected_in_loop_counter_order() {
    let mut sim = Sim::start(
        &review(
            r#"<bpmn:multiInstanceLoopCharacteristics>
  <bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>
  <bpmn:loopDataOutputRef>verdicts</bpmn:loopDataOutputRef>
  <bpmn:inputDataItem name="reviewer"/>
  <bpmn:outputDataItem name="verdict"/>
</bpmn:multiInstanceLoopCharacteristics>"#,
            "",
        ),
        json!({"reviewers": ["ann", "bob", "cid"]}),
    );
    let inner = inner_keys(&sim, "review");
    assert_eq!(local(&sim, inner[1], "verdict"), Some(json!(null)));
    // Completed out of order: the list keeps each at its instance's place.
    complete_key(&mut sim, inner[2], json!({"verdict": "no"}));
    complete_key(&mut sim, inner[0], json!({"verdict": "yes"}));
    assert_eq!(
        sim.var("verdict"),
        None,
        "each verdict stays its instance's own"
    );
    complete_key(&mut sim, inner[1], json!({"verdict": "maybe"}));
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(sim.var("verdicts"), Some(json!(["yes", "maybe", "no"])));
}

#[test]
fn sequential_output_through_data_inputs_outputs_and_properties() {
    // jBPM's shape: the references are data inputs and outputs of the
    // task's ioSpecification, associated with process properties by id.
    let xml = process(&format!(
        r#"<bpmn:property id="names"/><bpmn:property id="greetings"/>
<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="greet" scriptFormat="rhai">
  <bpmn:ioSpecification>
    <bpmn:dataInput id="greet_in" name="MultiInstanceInput"/>
    <bpmn:dataOutput id="greet_out" name="MultiInstanceOutput"/>
    <bpmn:inputSet><bpmn:dataInputRefs>greet_in</bpmn:dataInputRefs></bpmn:inputSet>
    <bpmn:outputSet><bpmn:dataOutputRefs>greet_out</bpmn:dataOutputRefs></bpmn:outputSet>
  </bpmn:ioSpecification>
  <bpmn:dataInputAssociation><bpmn:sourceRef>names</bpmn:sourceRef><bpmn:targetRef>greet_in</bpmn:targetRef></bpmn:dataInputAssociation>
  <bpmn:dataOutputAssociation><bpmn:sourceRef>greet_out</bpmn:sourceRef><bpmn:targetRef>greetings</bpmn:targetRef></bpmn:dataOutputAssociation>
  <bpmn:multiInstanceLoopCharacteristics isSequential="true">
    <bpmn:loopDataInputRef>greet_in</bpmn:loopDataInputRef>
    <bpmn:loopDataOutputRef>greet_out</bpmn:loopDataOutputRef>
    <bpmn:inputDataItem id="name"/>
    <bpmn:outputDataItem id="greeting"/>
  </bpmn:multiInstanceLoopCharacteristics>
  <bpmn:script>greeting = "hello " + name;</bpmn:script>
</bpmn:scriptTask>
<bpmn:userTask id="after"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "greet"),
        flow("f1", "greet", "after"),
        flow("f2", "after", "e"),
    ));
    let sim = Sim::start(&xml, json!({"names": ["ann", "bob"]}));
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(
        sim.var("greetings"),
        Some(json!(["hello ann", "hello bob"]))
    );
    assert_eq!(sim.activations("greet"), 3, "the body and two instances");
}

#[test]
fn standard_loop_data_is_checked_when_deploying() {
    let errs = parse_err(&review(
        r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef><bpmn:loopDataOutputRef>out</bpmn:loopDataOutputRef></bpmn:multiInstanceLoopCharacteristics>"#,
        "",
    ))
    .join("\n");
    assert!(
        errs.contains("loopDataOutputRef needs an outputDataItem"),
        "{errs}"
    );
    let errs = parse_err(&review(
        r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>f0</bpmn:loopDataInputRef></bpmn:multiInstanceLoopCharacteristics>"#,
        "",
    ))
    .join("\n");
    assert!(
        errs.contains("loopDataInputRef: \"f0\" is a sequenceFlow"),
        "{errs}"
    );
    let errs = parse_err(&review(
        r#"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality><bpmn:outputDataItem name="x"/></bpmn:multiInstanceLoopCharacteristics>"#,
        "",
    ))
    .join("\n");
    assert!(
        errs.contains("outputDataItem needs a loopDataOutputRef"),
        "{errs}"
    );
}

/// `s -> retry (standard loop: `lc`) -> after -> e`.
fn looping(lc: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="retry">{lc}</bpmn:userTask>
<bpmn:userTask id="after"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "retry"),
        flow("f1", "retry", "after"),
        flow("f2", "after", "e"),
    ))
}

#[test]
fn a_standard_loop_runs_again_while_its_condition_holds() {
    let mut sim = Sim::start(
        &looping(
            r#"<bpmn:standardLoopCharacteristics><bpmn:loopCondition>${!done}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"#,
        ),
        json!({}),
    );
    for round in 0..3 {
        let inner = inner_keys(&sim, "retry");
        assert_eq!(inner.len(), 1);
        assert_eq!(local(&sim, inner[0], "loopCounter"), Some(json!(round)));
        complete_key(&mut sim, inner[0], json!({"done": round == 2}));
    }
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_test_before_loop_may_not_run_at_all_and_loop_maximum_caps_it() {
    let sim = Sim::start(
        &looping(
            r#"<bpmn:standardLoopCharacteristics testBefore="true"><bpmn:loopCondition>${todo &gt; 0}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"#,
        ),
        json!({"todo": 0}),
    );
    assert_eq!(
        sim.tasks(),
        ["after"],
        "the condition was false before the first run"
    );
    let mut sim = Sim::start(
        &looping(r#"<bpmn:standardLoopCharacteristics loopMaximum="2"/>"#),
        json!({}),
    );
    let first = inner_keys(&sim, "retry")[0];
    complete_key(&mut sim, first, json!({}));
    assert_eq!(sim.tasks(), ["retry"]);
    let second = inner_keys(&sim, "retry")[0];
    complete_key(&mut sim, second, json!({}));
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_standard_loop_without_an_end_is_refused() {
    let errs = parse_err(&looping(r#"<bpmn:standardLoopCharacteristics/>"#)).join("\n");
    assert!(
        errs.contains("needs a loopCondition or a loopMaximum"),
        "{errs}"
    );
}
