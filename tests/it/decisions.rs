//! Decisions deployed like diagrams and called from business rule tasks, on
//! real databases: versions, bindings, result mappings, incidents, and the
//! decision's page and API.

use std::sync::Arc;

use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{Runtime, VirtualClock};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::db::databases;
use crate::common::rt;
use crate::common::*;

async fn each<F, Fut>(test: F)
where
    F: Fn(Arc<Runtime>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let runtime = rt::runtime_on(store, |s| {
            Runtime::new(s, Arc::new(VirtualClock::new(t0())))
        });
        test(runtime).await;
        db.drop_now().await;
    }
}

/// A DMN file with one table `id` (hit policy `policy`): input `x`, output
/// `out` (and `label`), one rule per `(test, out)`.
fn table(id: &str, policy: &str, rules: &[(&str, &str)]) -> String {
    let rules: String = rules
        .iter()
        .enumerate()
        .map(|(i, (test, out))| {
            format!(
                r#"<rule id="{id}_r{i}"><inputEntry><text>{test}</text></inputEntry><outputEntry><text>{out}</text></outputEntry><outputEntry><text>"rule {i}"</text></outputEntry></rule>"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="d_{id}" name="D" namespace="http://example.com">
<decision id="{id}" name="Decision {id}" camunda:versionTag="tag-{policy}"><decisionTable hitPolicy="{policy}">
<input label="X"><inputExpression typeRef="number"><text>x</text></inputExpression></input>
<output name="out" typeRef="number"/><output name="label" typeRef="string"/>
{rules}
</decisionTable></decision></definitions>"#
    )
}

/// A process whose business rule task `rule` has `attrs`, then user task `after`.
fn caller(attrs: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:businessRuleTask id="rule" {attrs}/><bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "rule"),
        flow("f1", "rule", "after")
    ))
}

async fn run(runtime: &Arc<Runtime>, xml: &str, vars: Value) -> Uuid {
    let def = runtime
        .deploy("p.bpmn", xml.as_bytes(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .definitions[0]
        .id;
    let id = runtime
        .start(def, obj(vars), None, None)
        .await
        .unwrap()
        .instance_id;
    let cfg = ExecutorConfig::new("t".into());
    while jobs::run_due(runtime, &cfg).await.unwrap() > 0 {}
    id
}

async fn var(runtime: &Runtime, id: Uuid, name: &str) -> Option<Value> {
    let (_, state) = runtime.instance(id).await.unwrap();
    state.root_variables().get(name).cloned()
}

async fn incident(runtime: &Runtime, id: Uuid) -> Option<String> {
    let (_, state) = runtime.instance(id).await.unwrap();
    state.incidents.values().next().map(|i| i.message.clone())
}

#[tokio::test]
async fn decisions_are_versioned_like_processes() {
    each(|runtime| async move {
        let v1 = table("d", "FIRST", &[("&lt; 10", "1")]);
        let r = runtime.deploy("d.dmn", v1.as_bytes(), None).await.unwrap();
        assert!(r.definitions.is_empty());
        assert_eq!(
            (
                r.decisions[0].key.as_str(),
                r.decisions[0].version,
                r.decisions[0].created
            ),
            ("d", 1, true)
        );
        let again = runtime.deploy("d.dmn", v1.as_bytes(), None).await.unwrap();
        assert_eq!(
            (again.decisions[0].version, again.decisions[0].created),
            (1, false)
        );
        let v2 = table("d", "FIRST", &[("&lt; 10", "2")]);
        let r = runtime.deploy("d.dmn", v2.as_bytes(), None).await.unwrap();
        assert_eq!(r.decisions[0].version, 2);
        let (_, result) = runtime
            .deployments()
            .evaluate(&rt::admin(None), "d", &obj(json!({"x": 3})))
            .await
            .unwrap();
        assert_eq!(
            result.results,
            vec![obj(json!({"out": 2, "label": "rule 0"}))]
        );
        // A broken file is refused with positions, and stores nothing.
        let broken = v1.replace("&lt; 10", "&lt; &lt;");
        let e = runtime
            .deploy("b.dmn", broken.as_bytes(), None)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains(":"), "{text}");
        assert_eq!(
            runtime
                .deployments()
                .decisions(&rt::admin(None))
                .await
                .unwrap()[0]
                .versions,
            2
        );
    })
    .await;
}

#[tokio::test]
async fn a_business_rule_task_stores_the_result_in_each_mapping() {
    each(|runtime| async move {
        let dmn = table("grade", "COLLECT", &[("&gt; 0", "1"), ("&gt; 5", "2"), ("&gt; 50", "3")]);
        runtime.deploy("g.dmn", dmn.as_bytes(), None).await.unwrap();
        let first = table("one", "FIRST", &[("-", "7")]);
        runtime.deploy("o.dmn", first.as_bytes(), None).await.unwrap();
        let cases = [
            (r#"camunda:decisionRef="grade" camunda:resultVariable="r""#, json!([{"out": 1, "label": "rule 0"}, {"out": 2, "label": "rule 1"}])),
            (r#"camunda:decisionRef="one" camunda:resultVariable="r" camunda:mapDecisionResult="singleResult""#, json!({"out": 7, "label": "rule 0"})),
            (r#"camunda:decisionRef="grade" camunda:resultVariable="r" camunda:mapDecisionResult="resultList""#, json!([{"out": 1, "label": "rule 0"}, {"out": 2, "label": "rule 1"}])),
        ];
        for (attrs, want) in cases {
            let id = run(&runtime, &caller(attrs), json!({"x": 9})).await;
            assert_eq!(var(&runtime, id, "r").await, Some(want), "{attrs}");
            assert_eq!(incident(&runtime, id).await, None);
        }
        // singleEntry and collectEntries need a single output: one with two is an incident.
        let id = run(
            &runtime,
            &caller(r#"camunda:decisionRef="one" camunda:resultVariable="r" camunda:mapDecisionResult="singleEntry""#),
            json!({"x": 9}),
        )
        .await;
        let message = incident(&runtime, id).await.expect("an incident");
        assert!(message.contains("one"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn bindings_pick_the_version_and_failures_are_incidents_at_once() {
    each(|runtime| async move {
        runtime.deploy("a.dmn", table("d", "UNIQUE", &[("&lt; 10", "1")]).as_bytes(), None).await.unwrap();
        runtime.deploy("a.dmn", table("d", "FIRST", &[("&lt; 10", "2"), ("&lt; 20", "3")]).as_bytes(), None).await.unwrap();
        let single = |extra: &str| {
            caller(&format!(
                r#"camunda:decisionRef="${{which}}" camunda:resultVariable="r" camunda:mapDecisionResult="singleResult" {extra}"#
            ))
        };
        let id = run(&runtime, &single(""), json!({"x": 1, "which": "d"})).await;
        assert_eq!(var(&runtime, id, "r").await.unwrap()["out"], json!(2));
        let id = run(
            &runtime,
            &single(r#"camunda:decisionRefBinding="version" camunda:decisionRefVersion="1""#),
            json!({"x": 1, "which": "d"}),
        )
        .await;
        assert_eq!(var(&runtime, id, "r").await.unwrap()["out"], json!(1));
        let id = run(
            &runtime,
            &single(r#"camunda:decisionRefBinding="versionTag" camunda:decisionRefVersionTag="tag-UNIQUE""#),
            json!({"x": 1, "which": "d"}),
        )
        .await;
        assert_eq!(var(&runtime, id, "r").await.unwrap()["out"], json!(1));
        // A decision nobody deployed: an incident after one attempt, naming it.
        let id = run(&runtime, &single(""), json!({"x": 1, "which": "nope"})).await;
        let message = incident(&runtime, id).await.expect("an incident");
        assert!(message.contains("\"nope\""), "{message}");
        // UNIQUE with two matching rules: the incident names them.
        runtime.deploy("u.dmn", table("u", "UNIQUE", &[("&lt; 10", "1"), ("&lt; 20", "2")]).as_bytes(), None).await.unwrap();
        let id = run(&runtime, &single(""), json!({"x": 1, "which": "u"})).await;
        let message = incident(&runtime, id).await.expect("an incident");
        assert!(message.contains("u_r0") && message.contains("u_r1"), "{message}");
        assert_eq!(var(&runtime, id, "r").await, None);
    })
    .await;
}

#[test]
fn business_rule_tasks_are_checked_at_deployment() {
    let errors = parse_err(&process(
        r#"<bpmn:startEvent id="s"/><bpmn:businessRuleTask id="b1" camunda:decisionRef="d" camunda:mapDecisionResult="everything"/>
<bpmn:businessRuleTask id="b2" camunda:decisionRef="d" camunda:decisionRefBinding="version"/>"#,
    ));
    let text = errors.join("\n");
    assert!(
        text.contains("\"b1\": camunda:mapDecisionResult \"everything\" is not one of"),
        "{text}"
    );
    assert!(
        text.contains("\"b2\": decisionRefBinding=\"version\" needs camunda:decisionRefVersion"),
        "{text}"
    );
}
