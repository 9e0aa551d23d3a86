//! Gateways: exclusive, parallel, inclusive and event-based; forks, joins and loops.

use bpmn_engine::engine::{Effect, Event, Status};
use serde_json::json;

use crate::common::*;

fn xor(default: bool) -> String {
    let d = if default { r#" default="f_d""# } else { "" };
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g"{d}/>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="d"/>
{}{}{}{}"#,
        flow("f0", "s", "g"),
        cond_flow("f_a", "g", "a", "${x > 10}"),
        cond_flow("f_b", "g", "b", "${x > 5}"),
        flow("f_d", "g", "d"),
    ))
}

#[test]
fn exclusive_takes_the_first_true_condition_in_document_order() {
    let sim = Sim::start(&xor(true), json!({"x": 20}));
    assert_eq!(sim.tasks(), ["a"], "x > 5 holds too, but f_a comes first");
    let conditions: Vec<(&str, bool)> = sim
        .last
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ConditionEvaluated { flow, result, .. } => Some((flow.as_str(), *result)),
            _ => None,
        })
        .collect();
    assert_eq!(
        conditions,
        [("f_a", true)],
        "evaluation stops at the first true condition"
    );
    assert_eq!(Sim::start(&xor(true), json!({"x": 7})).tasks(), ["b"]);
}

#[test]
fn exclusive_falls_back_to_the_default_flow() {
    let sim = Sim::start(&xor(true), json!({"x": 1}));
    assert_eq!(sim.tasks(), ["d"]);
    assert!(sim.last.events.contains(&Event::FlowTaken {
        flow: "f_d".into(),
        scope: 0,
        join: None,
        default: true
    }));
}

#[test]
fn exclusive_without_a_match_or_default_is_an_incident() {
    // Without a default attribute, f_d is a flow without condition: it counts as true.
    assert_eq!(Sim::start(&xor(false), json!({"x": 1})).tasks(), ["d"]);
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g"/><bpmn:userTask id="a"/>{}{}"#,
        flow("f0", "s", "g"),
        cond_flow("f_a", "g", "a", "${x > 10}")
    ));
    let sim = Sim::start(&xml, json!({"x": 1}));
    assert_eq!(sim.active(), ["g"]);
    assert!(sim.incidents()[0].contains("no condition of an outgoing sequence flow is true"));
    let broken = Sim::start(&xml, json!({}));
    assert!(
        broken.incidents()[0].contains("Cannot resolve identifier 'x' (at column 3 of ${x > 10})"),
        "{:?}",
        broken.incidents()
    );
}

fn diamond(kind: &str, join: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:{kind} id="fork"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/>
<bpmn:{join} id="join"/><bpmn:userTask id="after"/>
{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("fa", "fork", "a"),
        flow("fb", "fork", "b"),
        flow("fc", "fork", "c"),
        flow("ja", "a", "join"),
        flow("jb", "b", "join"),
        flow("jc", "c", "join"),
        flow("f9", "join", "after"),
    ))
}

#[test]
fn parallel_fork_activates_every_branch_and_the_join_waits_for_all() {
    let mut sim = Sim::start(&diamond("parallelGateway", "parallelGateway"), json!({}));
    assert_eq!(sim.tasks(), ["a", "b", "c"]);
    sim.complete("b", json!({}));
    assert_eq!(sim.state.joins.len(), 1);
    assert_eq!(sim.state.joins[0].flows.keys().collect::<Vec<_>>(), ["jb"]);
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["c"]);
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    assert!(sim.last.events.contains(&Event::JoinFired {
        scope: 0,
        gateway: "join".into(),
        flows: vec!["ja".into(), "jb".into(), "jc".into()]
    }));
    assert!(sim.state.joins.is_empty());
    assert_eq!(sim.activations("join"), 1);
}

#[test]
fn join_rounds_consume_one_token_per_flow() {
    // Two tokens arrive on the same flow before the other flow has any: the join
    // must fire twice, once per round, never merging both into one.
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a1"/><bpmn:userTask id="a2"/><bpmn:exclusiveGateway id="merge"/>
<bpmn:userTask id="b1"/><bpmn:userTask id="b2"/><bpmn:exclusiveGateway id="merge_b"/>
<bpmn:parallelGateway id="join"/><bpmn:userTask id="after"/>
{}{}{}{}{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a1"),
        flow("f2", "fork", "a2"),
        flow("f3", "fork", "b1"),
        flow("f4", "fork", "b2"),
        flow("m1", "a1", "merge"),
        flow("m2", "a2", "merge"),
        flow("m3", "b1", "merge_b"),
        flow("m4", "b2", "merge_b"),
        flow("ja", "merge", "join"),
        flow("jb", "merge_b", "join"),
        flow("f9", "join", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    sim.complete("a1", json!({}));
    sim.complete("a2", json!({}));
    assert_eq!(
        sim.state.joins[0].flows.get("ja"),
        Some(&2),
        "two tokens wait on the same flow"
    );
    sim.complete("b1", json!({}));
    assert_eq!(sim.tasks(), ["after", "b2"]);
    assert_eq!(
        sim.state.joins[0].flows.get("ja"),
        Some(&1),
        "one token is left for the next round"
    );
    sim.complete("b2", json!({}));
    assert_eq!(sim.activations("join"), 2);
    assert_eq!(sim.activations("after"), 2);
}

fn inclusive() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:inclusiveGateway id="fork" default="fd"/>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/><bpmn:userTask id="d"/>
<bpmn:inclusiveGateway id="join"/><bpmn:userTask id="after"/>
{}{}{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        cond_flow("fa", "fork", "a", "${visa}"),
        cond_flow("fb", "fork", "b", "${hotel}"),
        cond_flow("fc", "fork", "c", "${car}"),
        flow("fd", "fork", "d"),
        flow("ja", "a", "join"),
        flow("jb", "b", "join"),
        flow("jc", "c", "join"),
        flow("jd", "d", "join"),
        flow("f9", "join", "after"),
    ))
}

#[test]
fn inclusive_fork_takes_every_true_branch_and_the_join_waits_only_for_them() {
    let mut sim = Sim::start(
        &inclusive(),
        json!({"visa": true, "hotel": false, "car": true}),
    );
    assert_eq!(sim.tasks(), ["a", "c"]);
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["a"], "a can still reach the join: it waits");
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    assert!(sim.last.events.contains(&Event::JoinFired {
        scope: 0,
        gateway: "join".into(),
        flows: vec!["ja".into(), "jc".into()]
    }));
}

#[test]
fn inclusive_fork_uses_the_default_when_nothing_holds() {
    let mut sim = Sim::start(
        &inclusive(),
        json!({"visa": false, "hotel": false, "car": false}),
    );
    assert_eq!(sim.tasks(), ["d"]);
    sim.complete("d", json!({}));
    assert_eq!(
        sim.tasks(),
        ["after"],
        "a join with one branch taken fires when it completes"
    );
}

#[test]
fn inclusive_join_fires_at_once_when_every_flow_has_a_token() {
    let mut sim = Sim::start(
        &inclusive(),
        json!({"visa": true, "hotel": true, "car": true}),
    );
    for t in ["a", "b", "c"] {
        sim.complete(t, json!({}));
    }
    assert_eq!(sim.tasks(), ["after"]);
}

#[test]
fn an_inclusive_join_waits_for_a_token_still_upstream() {
    // A token waiting at a user task before a second gateway can still reach the join.
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="slow"/><bpmn:userTask id="pre"/>
<bpmn:task id="quick"/><bpmn:inclusiveGateway id="join"/><bpmn:userTask id="after"/>
{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "quick"),
        flow("f2", "fork", "pre"),
        flow("f3", "pre", "slow"),
        flow("j1", "quick", "join"),
        flow("j2", "slow", "join"),
        flow("f9", "join", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    assert_eq!(
        sim.tasks(),
        ["pre"],
        "quick arrived, but pre can still reach the join"
    );
    sim.complete("pre", json!({}));
    assert_eq!(sim.tasks(), ["slow"]);
    sim.complete("slow", json!({}));
    assert_eq!(sim.tasks(), ["after"]);
    assert_eq!(sim.activations("join"), 1);
}

#[test]
fn loops_back_through_gateways() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="merge"/><bpmn:scriptTask id="inc" scriptFormat="rhai"><bpmn:script>n = n + 1;</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="more" default="done"/><bpmn:endEvent id="e"/>
{}{}{}{}{}"#,
        flow("f0", "s", "merge"),
        flow("f1", "merge", "inc"),
        flow("f2", "inc", "more"),
        cond_flow("back", "more", "merge", "${n < 5}"),
        flow("done", "more", "e"),
    ));
    let sim = Sim::start(&xml, json!({"n": 0}));
    assert_eq!(sim.var("n"), Some(json!(5)));
    assert_eq!(sim.activations("inc"), 5);
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_loop_that_never_waits_is_stopped_as_incidents() {
    // It has a way out (so it deploys), which this instance never takes.
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="a" default="f1"/><bpmn:task id="b"/><bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "a"),
        cond_flow("out", "a", "e", "${stop}"),
    ));
    let sim = Sim::start(&xml, json!({"stop": false}));
    assert_eq!(sim.status(), Status::Active);
    assert!(
        sim.incidents()[0].contains("stopped after"),
        "{:?}",
        sim.incidents()
    );
}

/// `s -> gw` racing message `paid` (-> ship) against a one-hour timer
/// (-> remind) and a receive task for `cancel` (-> stop).
fn event_race() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:eventBasedGateway id="gw"/>
<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="m_paid"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="late"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:receiveTask id="cancel" messageRef="m_cancel"/>
<bpmn:userTask id="ship"/><bpmn:userTask id="remind"/><bpmn:endEvent id="stop"/>{}{}{}{}{}{}{}"#,
        flow("f0", "s", "gw"),
        flow("g1", "gw", "paid"),
        flow("g2", "gw", "late"),
        flow("g3", "gw", "cancel"),
                flow("fp", "paid", "ship"),
        flow("fl", "late", "remind"),
        flow("fc", "cancel", "stop"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m_paid" name="paid"/><bpmn:message id="m_cancel" name="cancel"/></bpmn:definitions>"#,
    )
}

#[test]
fn an_event_based_gateway_waits_for_all_its_events_at_once() {
    let sim = Sim::start(&event_race(), json!({}));
    // The gateway waits with them, until one of their events arrives.
    assert_eq!(sim.active(), ["cancel", "gw", "late", "paid"]);
    assert!(!sim.completed().contains(&"gw".to_string()));
    let subscribed: Vec<&str> = sim
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Subscribe { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(subscribed, ["paid", "cancel"]);
    assert!(
        sim.effects
            .iter()
            .any(|e| matches!(e, Effect::CreateJob { element, .. } if element == "late"))
    );
}

#[test]
fn the_first_message_wins_and_the_rest_are_withdrawn() {
    let mut sim = Sim::start(&event_race(), json!({}));
    let late = sim.key("late");
    let cancel = sim.key("cancel");
    sim.message("paid", json!({"amount": 10}));
    assert_eq!(sim.tasks(), ["ship"]);
    assert_eq!(sim.active(), ["ship"]);
    // The gateway completes when the winning event arrives, before the winner.
    assert_eq!(sim.completed(), ["gw", "paid"]);
    assert!(sim.last.effects.contains(&Effect::CancelJob { key: late }));
    assert!(
        sim.last
            .effects
            .contains(&Effect::Unsubscribe { key: cancel })
    );
    assert_eq!(sim.var("amount"), Some(json!(10)));
}

#[test]
fn the_timer_wins_when_nothing_arrives_in_time() {
    let mut sim = Sim::start(&event_race(), json!({}));
    let paid = sim.key("paid");
    let cancel = sim.key("cancel");
    sim.job("late", json!({}));
    assert_eq!(sim.tasks(), ["remind"]);
    assert_eq!(sim.completed(), ["gw", "late"]);
    assert!(
        sim.last
            .effects
            .contains(&Effect::Unsubscribe { key: paid })
    );
    assert!(
        sim.last
            .effects
            .contains(&Effect::Unsubscribe { key: cancel })
    );
    // A late message finds nothing waiting.
    assert!(
        sim.cmd(bpmn_engine::engine::Command::CorrelateMessage {
            key: paid,
            variables: Default::default()
        })
        .is_err()
    );
}

#[test]
fn a_receive_task_can_win_the_race() {
    let mut sim = Sim::start(&event_race(), json!({}));
    sim.message("cancel", json!({}));
    assert_eq!(sim.status(), bpmn_engine::engine::Status::Completed);
}

#[test]
fn event_based_gateways_are_checked_when_deploying() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:eventBasedGateway id="gw"/><bpmn:userTask id="t"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "gw"),
        flow("g1", "gw", "t"),
        flow("f1", "t", "e"),
    ));
    let errs = parse_err(&xml).join("\n");
    assert!(errs.contains("needs at least two outgoing"), "{errs}");
    assert!(
        errs.contains("sequence flow \"g1\" leads to userTask \"t\"; an event-based gateway leads to message or timer catch events and receive tasks only"),
        "{errs}"
    );
}

#[test]
fn without_start_events_every_element_without_incoming_flows_starts() {
    let xml = process(&format!(
        r#"<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/>
<bpmn:subProcess id="sub"><bpmn:userTask id="inner1"/><bpmn:userTask id="inner2"/></bpmn:subProcess>
<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>{}{}"#,
        flow("f0", "a", "c"),
        flow("f1", "late", "c"),
    ));
    let mut sim = Sim::start(&xml, json!({}));
    // a, b and the subprocess (whose two tasks start too); not c, not the boundary event.
    assert_eq!(sim.tasks(), ["a", "b", "inner1", "inner2"]);
    for t in ["a", "b", "inner1", "inner2"] {
        sim.complete(t, json!({}));
    }
    assert_eq!(sim.tasks(), ["c"]);
    sim.complete("c", json!({}));
    assert_eq!(sim.status(), bpmn_engine::engine::Status::Completed);
}

/// Three reviews in parallel; the complex gateway goes on after two of them
/// (`_activeTokens >= 2`), to "decide" when the tally is good, else "reject".
fn two_of_three(condition: &str) -> String {
    let escaped = condition
        .replace('&', "&amp;")
        .replace('>', "&gt;")
        .replace('<', "&lt;");
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/>
<bpmn:complexGateway id="cx" default="fr"><bpmn:activationCondition xsi:type="bpmn:tFormalExpression">{escaped}</bpmn:activationCondition></bpmn:complexGateway>
<bpmn:userTask id="decide"/><bpmn:userTask id="reject"/>
{}{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("fa", "fork", "a"),
        flow("fb", "fork", "b"),
        flow("fc", "fork", "c"),
        flow("ja", "a", "cx"),
        flow("jb", "b", "cx"),
        flow("jc", "c", "cx"),
        cond_flow("fd", "cx", "decide", "${approvals >= 1}"),
        flow("fr", "cx", "reject"),
    ))
}

#[test]
fn a_complex_gateway_fires_when_its_activation_condition_holds() {
    let mut sim = Sim::start(
        &two_of_three("${_activeTokens >= 2}"),
        json!({"approvals": 0}),
    );
    sim.complete("b", json!({"approvals": 1}));
    assert_eq!(sim.tasks(), ["a", "c"], "one token of three: it waits");
    assert_eq!(sim.activations("cx"), 0);
    sim.complete("c", json!({}));
    assert_eq!(
        sim.tasks(),
        ["a", "decide"],
        "two tokens: it fires, without a"
    );
    assert!(sim.last.events.contains(&Event::ComplexGatewayFired {
        scope: 0,
        gateway: "cx".into(),
        flows: vec!["jb".into(), "jc".into()],
        awaiting: vec!["ja".into()],
    }));
    assert_eq!(sim.state.resetting.len(), 1, "it waits for reset");
    // The third token is absorbed: the gateway does not fire again.
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["decide"]);
    assert_eq!(sim.activations("cx"), 1);
    assert!(sim.last.events.contains(&Event::ComplexGatewayReset {
        scope: 0,
        gateway: "cx".into(),
        flows: vec!["ja".into()],
    }));
    assert!(sim.state.resetting.is_empty() && sim.state.joins.is_empty());
    sim.complete("decide", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_complex_gateway_forks_like_an_inclusive_gateway_with_its_default() {
    let mut sim = Sim::start(
        &two_of_three("${_activeTokens >= 2}"),
        json!({"approvals": 0}),
    );
    sim.complete("a", json!({}));
    sim.complete("b", json!({}));
    assert_eq!(
        sim.tasks(),
        ["c", "reject"],
        "no condition holds: the default"
    );
}

#[test]
fn the_activation_count_of_each_flow_can_be_named() {
    // Only a and c together (or all three) activate it.
    let mut sim = Sim::start(
        &two_of_three("${_activationCount.ja > 0 && _activationCount.jc > 0}"),
        json!({"approvals": 1}),
    );
    sim.complete("a", json!({}));
    sim.complete("b", json!({}));
    assert_eq!(sim.tasks(), ["c"], "a and b do not activate it");
    sim.complete("c", json!({}));
    assert_eq!(sim.tasks(), ["decide"]);
    assert!(sim.last.events.contains(&Event::ComplexGatewayFired {
        scope: 0,
        gateway: "cx".into(),
        flows: vec!["ja".into(), "jb".into(), "jc".into()],
        awaiting: vec![],
    }));
    assert!(sim.state.resetting.is_empty());
    sim.complete("decide", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_complex_gateway_resets_when_an_awaited_token_can_no_longer_come() {
    // b's path may end before the gateway: once it has, nothing is awaited.
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/><bpmn:exclusiveGateway id="x" default="jb"/><bpmn:endEvent id="e"/>
<bpmn:complexGateway id="cx"><bpmn:activationCondition>${{_activeTokens >= 1}}</bpmn:activationCondition></bpmn:complexGateway>
<bpmn:userTask id="after"/>
{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("fa", "fork", "a"),
        flow("fb", "fork", "b"),
        flow("ja", "a", "cx"),
        flow("fx", "b", "x"),
        cond_flow("fe", "x", "e", "${skip}"),
        flow("jb", "x", "cx"),
        flow("f9", "cx", "after"),
    ));
    let mut sim = Sim::start(&xml, json!({"skip": true}));
    sim.complete("a", json!({}));
    assert_eq!(sim.tasks(), ["after", "b"]);
    assert_eq!(sim.state.resetting[0].awaiting, ["jb"]);
    sim.complete("b", json!({}));
    assert!(
        sim.state.resetting.is_empty(),
        "b went to the end event: reset"
    );
    assert!(sim.last.events.contains(&Event::ComplexGatewayReset {
        scope: 0,
        gateway: "cx".into(),
        flows: vec![],
    }));
    sim.complete("after", json!({}));
    assert_eq!(sim.status(), Status::Completed);
}

#[test]
fn a_failing_activation_condition_is_an_incident_that_a_retry_evaluates_again() {
    let mut sim = Sim::start(
        &two_of_three("${_activeTokens >= quorum}"),
        json!({"approvals": 1}),
    );
    sim.complete("a", json!({}));
    assert_eq!(sim.incidents().len(), 1);
    assert!(
        sim.incidents()[0].contains("activationCondition"),
        "{:?}",
        sim.incidents()
    );
    sim.complete("b", json!({}));
    assert_eq!(sim.incidents().len(), 1, "one incident, not one per token");
    sim.cmd(bpmn_engine::engine::Command::SetVariables {
        variables: obj(json!({"quorum": 2})),
    })
    .unwrap();
    let incident = *sim.state.incidents.keys().next().unwrap();
    sim.cmd(bpmn_engine::engine::Command::RetryIncident { incident })
        .unwrap();
    assert_eq!(sim.tasks(), ["c", "decide"]);
    assert!(sim.incidents().is_empty());
    sim.complete("c", json!({}));
    assert_eq!(sim.activations("decide"), 1, "c is absorbed");
}

#[test]
fn a_joining_complex_gateway_needs_an_activation_condition() {
    let xml = two_of_three("x").replace(
        r#"<bpmn:activationCondition xsi:type="bpmn:tFormalExpression">x</bpmn:activationCondition>"#,
        "",
    );
    let errors = parse_err(&xml);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("needs an activationCondition")),
        "{errors:?}"
    );
}

#[test]
fn a_complex_gateway_with_one_incoming_flow_only_forks() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:complexGateway id="cx"><bpmn:activationCondition>${{_activeTokens &gt; 5}}</bpmn:activationCondition></bpmn:complexGateway>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/>{}{}{}"#,
        flow("f0", "s", "cx"),
        cond_flow("fa", "cx", "a", "${go}"),
        flow("fb", "cx", "b"),
    ));
    let defs = parse(&xml);
    assert!(
        defs.warnings
            .iter()
            .any(|w| w.message.contains("activationCondition is ignored")),
        "{:?}",
        defs.warnings
    );
    assert_eq!(Sim::start(&xml, json!({"go": true})).tasks(), ["a", "b"]);
}
