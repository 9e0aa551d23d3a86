//! Ad-hoc subprocesses: enabled activities, ordering, completion condition
//! and cancelling what remains.

use bpmn_engine::engine::{Command, Status};
use serde_json::json;

use crate::common::*;

/// An ad-hoc subprocess with three user tasks (b leads on to b2), then "after".
fn research(attrs: &str, condition: Option<&str>) -> String {
    let cond = condition
        .map(|c| {
            format!(
                r#"<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{}</bpmn:completionCondition>"#,
                c.replace('&', "&amp;").replace('>', "&gt;").replace('<', "&lt;")
            )
        })
        .unwrap_or_default();
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:adHocSubProcess id="ah" {attrs}>
  <bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="b2"/><bpmn:userTask id="c"/>
  {}
  {cond}
</bpmn:adHocSubProcess>
<bpmn:userTask id="after"/>
{}{}"#,
        flow("fb", "b", "b2"),
        flow("f0", "s", "ah"),
        flow("f1", "ah", "after"),
    ))
}

#[test]
fn parallel_ordering_starts_every_element_without_incoming_flows() {
    let mut sim = Sim::start(&research("", None), json!({}));
    assert_eq!(sim.tasks(), ["a", "b", "c"]);
    sim.complete("b", json!({}));
    assert_eq!(
        sim.tasks(),
        ["a", "b2", "c"],
        "b's outgoing flow is followed"
    );
    for t in ["a", "c", "b2"] {
        sim.complete(t, json!({}));
    }
    assert_eq!(
        sim.tasks(),
        ["after"],
        "nothing left to start: it completes"
    );
}

#[test]
fn sequential_ordering_runs_one_at_a_time_in_document_order() {
    let mut sim = Sim::start(&research(r#"ordering="Sequential""#, None), json!({}));
    assert_eq!(sim.tasks(), ["a"]);
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["b"]);
    sim.complete("b", json!({}));
    assert_eq!(
        sim.tasks(),
        ["b2"],
        "the next waits until nothing runs inside"
    );
    sim.complete("b2", json!({}));
    assert_eq!(sim.tasks(), ["c"]);
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn the_completion_condition_cancels_the_remaining_activities() {
    let mut sim = Sim::start(&research("", Some("${found}")), json!({"found": false}));
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["b", "c"], "the condition does not hold yet");
    sim.complete("c", json!({"found": true}));
    assert_eq!(
        sim.tasks(),
        ["after"],
        "b is cancelled and the subprocess completes"
    );
    assert_eq!(sim.activations("b2"), 0);
    sim.complete("after", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn without_cancelling_the_running_activities_finish_but_nothing_more_starts() {
    let mut sim = Sim::start(
        &research(r#"cancelRemainingInstances="false""#, Some("${found}")),
        json!({"found": false}),
    );
    sim.complete("c", json!({"found": true}));
    assert_eq!(sim.tasks(), ["a", "b"], "a and b go on");
    sim.complete("b", json!({}));
    assert_eq!(sim.tasks(), ["a", "b2"], "what follows b still runs");
    sim.complete("a", json!({}));
    sim.complete("b2", json!({}));
    assert_eq!(sim.tasks(), ["after"]);

    let mut seq = Sim::start(
        &research(
            r#"ordering="Sequential" cancelRemainingInstances="false""#,
            Some("${found}"),
        ),
        json!({"found": false}),
    );
    seq.complete("a", json!({"found": true}));
    assert_eq!(seq.tasks(), ["after"], "b and c never start");
}

#[test]
fn a_failing_completion_condition_is_an_incident_on_the_activity() {
    let mut sim = Sim::start(&research("", Some("${found}")), json!({}));
    sim.complete("a", json!({}));
    assert_eq!(sim.active(), ["a", "ah", "b", "c"]);
    assert!(
        sim.incidents()[0].contains("completionCondition"),
        "{:?}",
        sim.incidents()
    );
    sim.cmd(Command::SetVariables {
        variables: obj(json!({"found": true})),
    })
    .unwrap();
    let incident = *sim.state.incidents.keys().next().unwrap();
    sim.cmd(Command::RetryIncident { incident }).unwrap();
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn an_ad_hoc_subprocess_has_no_start_event() {
    let xml = research("", None).replace(
        r#"<bpmn:userTask id="a"/>"#,
        r#"<bpmn:startEvent id="inner"/><bpmn:userTask id="a"/>"#,
    );
    let errors = parse_err(&xml);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("an ad-hoc subprocess has no start event")),
        "{errors:?}"
    );
    let bad = research(r#"ordering="Random""#, None);
    assert!(
        parse_err(&bad)
            .iter()
            .any(|e| e.contains("neither Parallel nor Sequential"))
    );
}

#[test]
fn camunda_8_active_elements_are_refused_rather_than_ignored() {
    let xml = research("", None)
        .replace(
            r#"<bpmn:adHocSubProcess id="ah" >"#,
            r#"<bpmn:adHocSubProcess id="ah"><bpmn:extensionElements><zeebe:adHoc activeElementsCollection="=[&quot;a&quot;]"/></bpmn:extensionElements>"#,
        )
        .replace(
            "xmlns:camunda=",
            r#"xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="#,
        );
    assert!(xml.contains("zeebe:adHoc"));
    let errors = parse_err(&xml);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("activeElementsCollection")),
        "{errors:?}"
    );
}
