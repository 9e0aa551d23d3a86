//! Compensation (boundary events with handlers, throw and end events) and
//! transactions cancelled by a cancel end event.

use bpmn_engine::engine::{Event, Status};
use serde_json::json;

use crate::common::*;

/// A task `id` with a compensation handler `undo_{id}` (a script appending
/// `id` to the list `undone`).
fn compensable(id: &str) -> String {
    format!(
        r#"<bpmn:task id="{id}"/>
<bpmn:boundaryEvent id="{id}_comp" attachedToRef="{id}"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
<bpmn:scriptTask id="undo_{id}" isForCompensation="true" scriptFormat="rhai"><bpmn:script>undone.push("{id}");</bpmn:script></bpmn:scriptTask>
<bpmn:association id="{id}_assoc" associationDirection="One" sourceRef="{id}_comp" targetRef="undo_{id}"/>"#
    )
}

fn activations(sim: &Sim) -> Vec<String> {
    sim.history
        .iter()
        .filter_map(|e| match e {
            Event::ElementActivated { element, .. } if element.starts_with("undo_") => {
                Some(element.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_compensation_throw_undoes_completed_activities_newest_first() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>{}{}
<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
<bpmn:intermediateThrowEvent id="again"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
<bpmn:userTask id="after"/>{}{}{}{}{}"#,
        compensable("hotel"),
        compensable("flight"),
        flow("f0", "s", "hotel"),
        flow("f1", "hotel", "flight"),
        flow("f2", "flight", "undo"),
        flow("f3", "undo", "again"),
        flow("f4", "again", "after"),
    ));
    let sim = Sim::start(&xml, json!({"undone": []}));
    assert_eq!(sim.var("undone"), Some(json!(["flight", "hotel"])));
    // Each completed activity is compensated once: the second throw found nothing.
    assert_eq!(activations(&sim), ["undo_flight", "undo_hotel"]);
    assert_eq!(sim.tasks(), ["after"]);
    assert!(sim.state.compensable.is_empty());
}

#[test]
fn activity_ref_compensates_only_that_activity() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>{}{}
<bpmn:endEvent id="undo"><bpmn:compensateEventDefinition activityRef="hotel"/></bpmn:endEvent>{}{}{}"#,
        compensable("hotel"),
        compensable("flight"),
        flow("f0", "s", "hotel"),
        flow("f1", "hotel", "flight"),
        flow("f2", "flight", "undo"),
    ));
    let sim = Sim::start(&xml, json!({"undone": []}));
    assert_eq!(sim.var("undone"), Some(json!(["hotel"])));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn what_completed_inside_a_subprocess_is_compensated_from_outside() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/>{}{}<bpmn:endEvent id="se"/>{}{}{}</bpmn:subProcess>
<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent><bpmn:userTask id="after"/>{}{}{}"#,
        compensable("a"),
        compensable("b"),
        flow("sf0", "ss", "a"),
        flow("sf1", "a", "b"),
        flow("sf2", "b", "se"),
        flow("f0", "s", "sub"),
        flow("f1", "sub", "undo"),
        flow("f2", "undo", "after"),
    ));
    let sim = Sim::start(&xml, json!({"undone": []}));
    assert_eq!(sim.var("undone"), Some(json!(["b", "a"])));
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn a_cancel_end_event_compensates_the_transaction_then_cancels_it() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:transaction id="tx"><bpmn:startEvent id="ts"/>
  <bpmn:task id="charge"/>
  <bpmn:boundaryEvent id="charge_comp" attachedToRef="charge"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
  <bpmn:userTask id="undo_charge" isForCompensation="true"/>
  <bpmn:association id="a1" sourceRef="charge_comp" targetRef="undo_charge"/>
  <bpmn:userTask id="confirm"/><bpmn:exclusiveGateway id="g" default="ok"/>
  <bpmn:endEvent id="done"/><bpmn:endEvent id="cancel"><bpmn:cancelEventDefinition/></bpmn:endEvent>
  {}{}{}{}{}
</bpmn:transaction>
<bpmn:boundaryEvent id="cancelled" attachedToRef="tx"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>
<bpmn:userTask id="after"/><bpmn:userTask id="sorry"/>{}{}{}"#,
        flow("t0", "ts", "charge"),
        flow("t1", "charge", "confirm"),
        flow("t2", "confirm", "g"),
        cond_flow("no", "g", "cancel", "${!confirmed}"),
        flow("ok", "g", "done"),
        flow("f0", "s", "tx"),
        flow("f1", "tx", "after"),
        flow("f2", "cancelled", "sorry"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("confirm", json!({"confirmed": false}));
    // The cancel end event waits for the handler of what completed inside.
    assert_eq!(sim.tasks(), ["undo_charge"]);
    sim.complete("undo_charge", json!({}));
    // Then the transaction is cancelled and its cancel boundary event leads on.
    assert_eq!(sim.tasks(), ["sorry"]);
    assert!(!sim.active().contains(&"tx".to_string()));
    // Confirmed: the transaction completes normally, nothing is compensated.
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("confirm", json!({"confirmed": true}));
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn compensation_and_transactions_are_checked_at_deployment() {
    let errors = parse_err(&process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="t"/>
<bpmn:boundaryEvent id="b" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:endEvent id="c"><bpmn:cancelEventDefinition/></bpmn:endEvent>{}</bpmn:subProcess>
<bpmn:boundaryEvent id="cb" attachedToRef="sub"><bpmn:cancelEventDefinition/></bpmn:boundaryEvent>{}{}"#,
        flow("sf", "ss", "c"),
        flow("f0", "s", "t"),
        flow("f1", "t", "sub"),
    )));
    let text = errors.join("\n");
    assert!(
        text.contains("\"b\": a compensation boundary event needs an association to its handler"),
        "{text}"
    );
    assert!(
        text.contains("\"c\": a cancel end event belongs inside a transaction"),
        "{text}"
    );
    assert!(
        text.contains("\"cb\": a cancel boundary event belongs on a transaction"),
        "{text}"
    );
}

/// A booking subprocess (hotel, then flight, each with a handler) with a
/// compensation event subprocess that compensates the flight, then the
/// hotel, then asks a person to update the customer record.
fn booking_with_compensation_event_subprocess(inner_throws: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="booking">
  <bpmn:startEvent id="bs"/>{}{}<bpmn:endEvent id="be"/>{}{}{}
  <bpmn:subProcess id="on_compensation" triggeredByEvent="true" isForCompensation="true">
    <bpmn:startEvent id="cs"><bpmn:compensateEventDefinition/></bpmn:startEvent>
    {inner_throws}
    <bpmn:userTask id="update_record"/><bpmn:endEvent id="ce"/>
  </bpmn:subProcess>
</bpmn:subProcess>
<bpmn:userTask id="validate"/>
<bpmn:endEvent id="undo"><bpmn:compensateEventDefinition/></bpmn:endEvent>
{}{}{}"#,
        compensable("hotel"),
        compensable("flight"),
        flow("b0", "bs", "hotel"),
        flow("b1", "hotel", "flight"),
        flow("b2", "flight", "be"),
        flow("f0", "s", "booking"),
        flow("f1", "booking", "validate"),
        flow("f2", "validate", "undo"),
    ))
}

#[test]
fn a_compensation_event_subprocess_runs_instead_of_the_inner_handlers() {
    let throws = format!(
        r#"<bpmn:intermediateThrowEvent id="undo_f"><bpmn:compensateEventDefinition activityRef="flight"/></bpmn:intermediateThrowEvent>
<bpmn:intermediateThrowEvent id="undo_h"><bpmn:compensateEventDefinition activityRef="hotel"/></bpmn:intermediateThrowEvent>{}{}{}{}"#,
        flow("c0", "cs", "undo_h"),
        flow("c1", "undo_h", "undo_f"),
        flow("c2", "undo_f", "update_record"),
        flow("c3", "update_record", "ce"),
    );
    let mut sim = Sim::start(
        &booking_with_compensation_event_subprocess(&throws),
        json!({"undone": []}),
    );
    assert_eq!(sim.tasks(), ["validate"]);
    assert_eq!(sim.activations("on_compensation"), 0, "never armed");
    sim.complete("validate", json!({}));
    // The event subprocess chose the order: hotel first, then flight.
    assert_eq!(sim.var("undone"), Some(json!(["hotel", "flight"])));
    assert_eq!(sim.tasks(), ["update_record"]);
    assert_eq!(sim.status(), Status::Active, "the end event waits for it");
    sim.complete("update_record", json!({}));
    assert_eq!(sim.status(), Status::Completed);
    assert!(sim.state.compensable.is_empty());
}

#[test]
fn a_compensation_event_subprocess_may_compensate_everything_inside() {
    let throws = format!(
        r#"<bpmn:intermediateThrowEvent id="undo_all"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>{}{}{}"#,
        flow("c0", "cs", "undo_all"),
        flow("c1", "undo_all", "update_record"),
        flow("c3", "update_record", "ce"),
    );
    let mut sim = Sim::start(
        &booking_with_compensation_event_subprocess(&throws),
        json!({"undone": []}),
    );
    sim.complete("validate", json!({}));
    assert_eq!(
        sim.var("undone"),
        Some(json!(["flight", "hotel"])),
        "newest first"
    );
    sim.complete("update_record", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_subprocess_without_inner_handlers_is_compensated_by_its_event_subprocess() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="booking">
  <bpmn:startEvent id="bs"/><bpmn:task id="book"/><bpmn:endEvent id="be"/>{}{}
  <bpmn:subProcess id="on_compensation" triggeredByEvent="true">
    <bpmn:startEvent id="cs"><bpmn:compensateEventDefinition/></bpmn:startEvent>
    <bpmn:userTask id="cancel_booking"/><bpmn:endEvent id="ce"/>{}{}
  </bpmn:subProcess>
</bpmn:subProcess>
<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition activityRef="booking"/></bpmn:intermediateThrowEvent>
<bpmn:userTask id="after"/>{}{}{}"#,
        flow("b0", "bs", "book"),
        flow("b1", "book", "be"),
        flow("c0", "cs", "cancel_booking"),
        flow("c1", "cancel_booking", "ce"),
        flow("f0", "s", "booking"),
        flow("f1", "booking", "undo"),
        flow("f2", "undo", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["cancel_booking"]);
    sim.complete("cancel_booking", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn compensation_event_subprocesses_are_checked_at_deployment() {
    let top = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>{}
<bpmn:subProcess id="on_compensation" triggeredByEvent="true">
  <bpmn:startEvent id="cs"><bpmn:compensateEventDefinition/></bpmn:startEvent><bpmn:endEvent id="ce"/>{}
</bpmn:subProcess>"#,
        flow("f0", "s", "e"),
        flow("c0", "cs", "ce"),
    ));
    let errors = parse_err(&top);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("belongs inside an embedded subprocess")),
        "{errors:?}"
    );
    let twice = booking_with_compensation_event_subprocess(&flow("c0", "cs", "ce")).replace(
        r#"<bpmn:userTask id="validate"/>"#,
        r#"<bpmn:userTask id="validate"/><bpmn:boundaryEvent id="booking_comp" attachedToRef="booking"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent><bpmn:task id="undo_booking" isForCompensation="true"/><bpmn:association id="ab" sourceRef="booking_comp" targetRef="undo_booking"/>"#,
    );
    let errors = parse_err(&twice);
    assert!(
        errors.iter().any(|e| e.contains("is compensated already")),
        "{errors:?}"
    );
}

#[test]
fn a_refused_handler_is_reported_once() {
    // The handler names a Java class: that is the one problem reported,
    // not also a boundary event without a handler.
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:task id="book"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="book_comp" attachedToRef="book"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
<bpmn:serviceTask id="undo_book" isForCompensation="true" camunda:class="org.example.Undo"/>
<bpmn:association id="a" sourceRef="book_comp" targetRef="undo_book"/>{}{}"#,
        flow("f0", "s", "book"),
        flow("f1", "book", "e"),
    ));
    let errors = parse_err(&xml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("undo_book"), "{errors:?}");
}

#[test]
fn each_instance_of_a_multi_instance_subprocess_runs_its_compensation_event_subprocess() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:subProcess id="booking">
  <bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>
  <bpmn:startEvent id="bs"/><bpmn:task id="book"/><bpmn:endEvent id="be"/>{}{}
  <bpmn:subProcess id="on_compensation" triggeredByEvent="true">
    <bpmn:startEvent id="cs"><bpmn:compensateEventDefinition/></bpmn:startEvent>
    <bpmn:userTask id="cancel_booking"/><bpmn:endEvent id="ce"/>{}{}
  </bpmn:subProcess>
</bpmn:subProcess>
<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition/></bpmn:intermediateThrowEvent>
<bpmn:userTask id="after"/>{}{}{}"#,
        flow("b0", "bs", "book"),
        flow("b1", "book", "be"),
        flow("c0", "cs", "cancel_booking"),
        flow("c1", "cancel_booking", "ce"),
        flow("f0", "s", "booking"),
        flow("f1", "booking", "undo"),
        flow("f2", "undo", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(sim.tasks(), ["cancel_booking"], "one instance at a time");
    sim.complete("cancel_booking", json!({}));
    assert_eq!(sim.tasks(), ["cancel_booking"], "then the other instance's");
    sim.complete("cancel_booking", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(sim.activations("on_compensation"), 2);
}

#[test]
fn what_a_compensation_event_subprocess_leaves_uncompensated_is_dropped() {
    let throws = format!(
        r#"<bpmn:intermediateThrowEvent id="undo_f"><bpmn:compensateEventDefinition activityRef="flight"/></bpmn:intermediateThrowEvent>{}{}{}"#,
        flow("c0", "cs", "undo_f"),
        flow("c1", "undo_f", "update_record"),
        flow("c3", "update_record", "ce"),
    );
    let mut sim = Sim::start(
        &booking_with_compensation_event_subprocess(&throws),
        json!({"undone": []}),
    );
    sim.complete("validate", json!({}));
    assert_eq!(sim.var("undone"), Some(json!(["flight"])));
    assert_eq!(sim.state.compensable.len(), 1, "the hotel, taken over");
    sim.complete("update_record", json!({}));
    assert_eq!(sim.status(), Status::Completed);
    assert!(sim.state.compensable.is_empty());
}
