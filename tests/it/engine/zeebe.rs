//! Camunda 8 diagrams: `zeebe:` extensions read into the same model, with
//! FEEL expressions (`=` prefix) evaluated by the FEEL code of the decision tables.

use bpmn_engine::engine::{Effect, JobKind, Wait};
use serde_json::json;

use crate::common::*;

/// A Camunda 8 process: the `zeebe` namespace is declared.
fn c8(inner: &str) -> String {
    process(inner).replace(
        "xmlns:camunda=",
        r#"xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="#,
    )
}

#[test]
fn job_workers_io_mappings_and_feel_conditions() {
    let xml = c8(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="charge"><bpmn:extensionElements>
  <zeebe:taskDefinition type="charge-card" retries="3"/>
  <zeebe:ioMapping><zeebe:input source="=amount * 2" target="doubled"/><zeebe:output source="=receipt.total" target="total"/></zeebe:ioMapping>
</bpmn:extensionElements></bpmn:serviceTask>
<bpmn:exclusiveGateway id="g" default="small"/>
<bpmn:userTask id="big_one"/><bpmn:userTask id="small_one"/>
{}{}{}{}"#,
        flow("f0", "s", "charge"),
        flow("f1", "charge", "g"),
        cond_flow("big", "g", "big_one", "=total > 100"),
        flow("small", "g", "small_one"),
    ));
    let mut sim = Sim::start(&xml, json!({"amount": 60}));
    let charge = sim.key("charge");
    assert_eq!(
        sim.state.elements[&charge].wait,
        Some(Wait::Job {
            job: JobKind::External {
                topic: "charge-card".into()
            },
            due: None
        })
    );
    // The input mapping is a local of the task, computed with FEEL.
    assert_eq!(sim.state.variables[&charge]["doubled"], json!(120));
    sim.job("charge", json!({"receipt": {"total": 120}}));
    assert_eq!(sim.var("total"), Some(json!(120)));
    assert_eq!(sim.tasks(), ["big_one"]);
}

#[test]
fn assignment_definitions_open_tasks_for_feel_assignees_and_groups() {
    let xml = c8(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:userTask id="t"><bpmn:extensionElements>
  <zeebe:assignmentDefinition assignee="=owner" candidateGroups="sales, support"/>
</bpmn:extensionElements></bpmn:userTask>{}"#,
        flow("f0", "s", "t"),
    ));
    let sim = Sim::start(&xml, json!({"owner": "ann"}));
    let spec = sim
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::CreateUserTask(spec) => Some(spec.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(spec.assignee.as_deref(), Some("ann"));
    assert_eq!(spec.candidate_groups, ["sales", "support"]);
}

#[test]
fn scripts_and_multi_instance_outputs_use_feel() {
    let xml = c8(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="sum"><bpmn:extensionElements><zeebe:script expression="=sum(prices)" resultVariable="total"/></bpmn:extensionElements></bpmn:scriptTask>
<bpmn:userTask id="review"><bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
  <zeebe:loopCharacteristics inputCollection="=prices" inputElement="price" outputCollection="verdicts" outputElement="=if ok then price else 0"/>
</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:userTask id="after"/>{}{}{}"#,
        flow("f0", "s", "sum"),
        flow("f1", "sum", "review"),
        flow("f2", "review", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({"prices": [3, 4, 5]}));
    assert_eq!(sim.var("total"), Some(json!(12)));
    assert_eq!(sim.tasks(), ["review", "review", "review"]);
    // Completed out of order: each verdict lands at its instance's place.
    let keys: Vec<u64> = sim
        .state
        .elements
        .iter()
        .filter(|(_, e)| e.element == "review" && matches!(e.wait, Some(Wait::UserTask { .. })))
        .map(|(k, _)| *k)
        .collect();
    for (key, ok) in keys.iter().rev().zip([true, false, true]) {
        sim.cmd(bpmn_engine::engine::Command::CompleteUserTask {
            key: *key,
            variables: obj(json!({"ok": ok})),
        })
        .unwrap();
    }
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(sim.var("verdicts"), Some(json!([3, 0, 5])));
}

#[test]
fn a_message_subscription_carries_its_evaluated_correlation_key() {
    let xml = c8(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="M"/></bpmn:intermediateCatchEvent><bpmn:userTask id="t"/>{}{}"#,
        flow("f0", "s", "paid"),
        flow("f1", "paid", "t"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="M" name="payment"><bpmn:extensionElements><zeebe:subscription correlationKey="=order.id"/></bpmn:extensionElements></bpmn:message></bpmn:definitions>"#,
    );
    let sim = Sim::start(&xml, json!({"order": {"id": "A-17"}}));
    let paid = sim.key("paid");
    assert!(sim.effects.contains(&Effect::Subscribe {
        key: paid,
        element: "paid".into(),
        message: "payment".into(),
        signal: false,
        correlation: Some("A-17".into()),
    }));
}

#[test]
fn zeebe_extensions_that_cannot_be_honoured_are_refused() {
    let errors = parse_err(&c8(r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="a"><bpmn:extensionElements><zeebe:taskDefinition type="=dynamic"/></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:serviceTask id="b"><bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=x" target="order.total"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:callActivity id="c"><bpmn:extensionElements><zeebe:calledElement/></bpmn:extensionElements></bpmn:callActivity>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="a"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=x &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>"#));
    let text = errors.join("\n");
    assert!(
        text.contains("\"a\": a job type computed by an expression is not supported"),
        "{text}"
    );
    assert!(
        text.contains("\"b\": zeebe:input into a nested target"),
        "{text}"
    );
    assert!(
        text.contains("\"c\": zeebe:calledElement needs a processId"),
        "{text}"
    );
    assert!(text.contains("=x >"), "{text}");
}
