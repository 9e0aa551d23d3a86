//! Property tests of the engine's invariants.

use bpmn_engine::engine::{Event, Status};
use proptest::prelude::*;
use serde_json::json;

use crate::common::*;

fn fan(n: usize) -> String {
    let mut body = String::from(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/><bpmn:endEvent id="e"/>"#,
    );
    body += &flow("f0", "s", "fork");
    body += &flow("f9", "join", "e");
    for i in 0..n {
        body += &format!(r#"<bpmn:userTask id="t{i}"/>"#);
        body += &flow(&format!("in{i}"), "fork", &format!("t{i}"));
        body += &flow(&format!("out{i}"), &format!("t{i}"), "join");
    }
    process(&body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Whatever the order the branches finish in, the join fires exactly once,
    /// and only after the last branch.
    #[test]
    fn a_parallel_join_fires_exactly_once(order in (2usize..7).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())) {
        let n = order.len();
        let mut sim = Sim::start(&fan(n), json!({}));
        for (done, i) in order.iter().enumerate() {
            sim.complete(&format!("t{i}"), json!({}));
            let fired = sim.last.events.iter().filter(|e| matches!(e, Event::JoinFired { .. })).count();
            prop_assert_eq!(fired, usize::from(done == n - 1));
        }
        prop_assert_eq!(sim.activations("join"), 1);
        prop_assert_eq!(sim.status(), Status::Completed);
    }

    /// An instance is completed exactly when nothing is active and no token
    /// waits at a join — whatever paths the conditions choose and whatever
    /// order people work in.
    #[test]
    fn an_instance_completes_exactly_when_nothing_is_active(
        x in any::<bool>(), y in any::<bool>(), picks in proptest::collection::vec(0usize..8, 12)
    ) {
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="a"/>
<bpmn:inclusiveGateway id="ifork" default="fd"/><bpmn:userTask id="b"/><bpmn:userTask id="c"/><bpmn:userTask id="d"/>
<bpmn:inclusiveGateway id="ijoin"/><bpmn:parallelGateway id="join"/><bpmn:userTask id="last"/><bpmn:endEvent id="e"/>
{}{}{}{}{}{}{}{}{}{}{}{}{}{}"#,
            flow("f0", "s", "fork"), flow("f1", "fork", "a"), flow("f2", "fork", "ifork"),
            cond_flow("fb", "ifork", "b", "${x}"), cond_flow("fc", "ifork", "c", "${y}"), flow("fd", "ifork", "d"),
            flow("jb", "b", "ijoin"), flow("jc", "c", "ijoin"), flow("jd", "d", "ijoin"),
            flow("j1", "a", "join"), flow("j2", "ijoin", "join"), flow("f8", "join", "last"), flow("f9", "last", "e"), "",
        ));
        let mut sim = Sim::start(&xml, json!({"x": x, "y": y}));
        let mut steps = 0;
        loop {
            let nothing_left = sim.state.elements.is_empty() && sim.state.joins.is_empty();
            prop_assert_eq!(sim.status() == Status::Completed, nothing_left);
            let open = sim.tasks();
            if open.is_empty() {
                break;
            }
            let pick = &open[picks[steps % picks.len()] % open.len()];
            sim.complete(pick, json!({}));
            steps += 1;
            prop_assert!(steps < 20, "the diagram must finish");
        }
        prop_assert_eq!(sim.status(), Status::Completed);
        prop_assert_eq!(sim.activations("join"), 1);
        prop_assert_eq!(sim.activations("ijoin"), 1);
    }
}
