//! Call activities on real databases: the called instance starts in the call
//! job's transaction, answers through `return` jobs, passes its errors and
//! escalations up, and is cancelled with its caller. Each test is
//! given (diagrams, an instance) / when (a command, jobs run) / then (both
//! instances' states, variables and links).

use std::sync::Arc;

use bpmn_engine::engine::Status;
use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{Runtime, VirtualClock};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::db::databases;
use crate::common::rt;
use crate::common::*;

async fn each<F, Fut>(test: F)
where
    F: Fn(Arc<Runtime>, Arc<VirtualClock>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(t0()));
        let runtime = rt::runtime_on(store, |s| Runtime::new(s, clock.clone()));
        test(runtime, clock).await;
        db.drop_now().await;
    }
}

/// Deploys a file; returns the definition id of each process by key.
async fn deploy(runtime: &Runtime, xml: &str) -> Vec<(String, i64)> {
    runtime
        .deploy("t.bpmn", xml.as_bytes(), None)
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions
        .into_iter()
        .map(|d| (d.key, d.id))
        .collect()
}

async fn start(runtime: &Runtime, defs: &[(String, i64)], key: &str, vars: Value) -> Uuid {
    let id = defs.iter().find(|(k, _)| k == key).unwrap().1;
    runtime
        .start(id, obj(vars), Some("order-7".into()), None)
        .await
        .unwrap()
        .instance_id
}

/// Runs due jobs until none is left.
async fn settle(runtime: &Arc<Runtime>) {
    let cfg = ExecutorConfig::new("t".into());
    for _ in 0..20 {
        if jobs::run_due(runtime, &cfg).await.unwrap() == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

async fn status(runtime: &Runtime, id: Uuid) -> (Status, bool) {
    let (_, state) = runtime.instance(id).await.unwrap();
    (state.status, state.has_incident())
}

async fn var(runtime: &Runtime, id: Uuid, name: &str) -> Option<Value> {
    let (_, state) = runtime.instance(id).await.unwrap();
    state.root_variables().get(name).cloned()
}

/// The instances `id` called; the instance read with its flag says whether
/// there are any, and is the instance as read alone.
async fn called(runtime: &Runtime, id: Uuid) -> Vec<Uuid> {
    let called: Vec<Uuid> = runtime
        .called_instances(id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let (row, flag) = runtime.store().instance_calls(id).await.unwrap().unwrap();
    assert_eq!(flag, !called.is_empty(), "the flag of {id}");
    assert_eq!(Some(row), runtime.store().instance(id).await.unwrap());
    called
}

async fn open_tasks(runtime: &Runtime, id: Uuid) -> Vec<String> {
    runtime
        .store()
        .open_tasks(id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.element_id)
        .collect()
}

async fn complete(runtime: &Runtime, id: Uuid, element: &str, vars: Value) {
    let task = runtime
        .open_task_for(id, element)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no open task {element}"));
    runtime
        .complete_task(task.id, obj(vars), None)
        .await
        .unwrap();
}

/// A caller process `parent` whose call activity `call` (with `attrs` and
/// `ext` extension elements, then `extra` content) leads to user task `after`.
fn caller(attrs: &str, ext: &str, extra: &str) -> String {
    format!(
        r#"<bpmn:process id="parent" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:callActivity id="call" {attrs}><bpmn:extensionElements>{ext}</bpmn:extensionElements></bpmn:callActivity>
<bpmn:userTask id="after"/>
{extra}{}{}
</bpmn:process>"#,
        flow("f0", "s", "call"),
        flow("f1", "call", "after")
    )
}

/// A called process `child`: user task `work`, then `end_inner` (an end event's content).
fn child(key: &str, end_inner: &str) -> String {
    format!(
        r#"<bpmn:process id="{key}" isExecutable="true">
<bpmn:startEvent id="cs"/><bpmn:userTask id="work"/><bpmn:endEvent id="ce">{end_inner}</bpmn:endEvent>
{}{}
</bpmn:process>"#,
        flow("c0", "cs", "work"),
        flow("c1", "work", "ce")
    )
}

#[tokio::test]
async fn the_caller_waits_for_the_called_instance_and_gets_its_mapped_variables() {
    each(|runtime, _| async move {
        // Given a caller mapping amount in (twice) and result out.
        let xml = definitions(&format!(
            "{}{}",
            caller(
                r#"calledElement="child""#,
                r#"<camunda:in source="amount" target="amount"/>
<camunda:in sourceExpression="${amount * 2}" target="doubled"/>
<camunda:out source="result" target="outcome"/>"#,
                ""
            ),
            child("child", "")
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({"amount": 5, "secret": 1})).await;
        // When the call job runs.
        settle(&runtime).await;
        // Then one child runs with only the mapped variables, linked both ways.
        let kids = called(&runtime, parent).await;
        assert_eq!(kids.len(), 1);
        let kid = kids[0];
        let (row, state) = runtime.instance(kid).await.unwrap();
        assert_eq!(row.parent_id, Some(parent));
        assert_eq!(row.definition_key, "child");
        assert_eq!(row.business_key.as_deref(), Some("order-7"));
        assert_eq!(state.called_by.as_deref(), Some("call"));
        assert_eq!(var(&runtime, kid, "amount").await, Some(json!(5)));
        assert_eq!(var(&runtime, kid, "doubled").await, Some(json!(10)));
        assert_eq!(var(&runtime, kid, "secret").await, None);
        assert_eq!(open_tasks(&runtime, kid).await, vec!["work"]);
        assert_eq!(open_tasks(&runtime, parent).await, Vec::<String>::new());
        // When the child's task completes and the return job runs.
        complete(&runtime, kid, "work", json!({"result": "ok", "noise": 1})).await;
        assert_eq!(status(&runtime, kid).await.0, Status::Completed);
        settle(&runtime).await;
        // Then the caller went on with the mapped result only.
        assert_eq!(open_tasks(&runtime, parent).await, vec!["after"]);
        assert_eq!(var(&runtime, parent, "outcome").await, Some(json!("ok")));
        assert_eq!(var(&runtime, parent, "noise").await, None);
        let kinds: Vec<String> = runtime
            .store()
            .history(parent)
            .await
            .unwrap()
            .iter()
            .map(|h| h.kind().to_string())
            .collect();
        assert!(kinds.contains(&"call_started".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"call_ended".to_string()), "{kinds:?}");
    })
    .await;
}

#[tokio::test]
async fn all_variables_cross_both_ways_and_local_outputs_stay_on_the_activity() {
    each(|runtime, _| async move {
        let xml = definitions(&format!(
            "{}{}",
            caller(
                r#"calledElement="child""#,
                r#"<camunda:in variables="all"/><camunda:out variables="all"/>
<camunda:out source="x" target="localX" local="true"/>
<camunda:inputOutput><camunda:outputParameter name="fromLocal">${localX}</camunda:outputParameter></camunda:inputOutput>"#,
                ""
            ),
            child("child", "")
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({"a": 1, "b": "two"})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        assert_eq!(var(&runtime, kid, "a").await, Some(json!(1)));
        assert_eq!(var(&runtime, kid, "b").await, Some(json!("two")));
        complete(&runtime, kid, "work", json!({"x": 42})).await;
        settle(&runtime).await;
        assert_eq!(var(&runtime, parent, "x").await, Some(json!(42)));
        assert_eq!(var(&runtime, parent, "fromLocal").await, Some(json!(42)));
        assert_eq!(var(&runtime, parent, "localX").await, None);
    })
    .await;
}

#[tokio::test]
async fn an_error_the_child_does_not_catch_is_caught_on_the_call_activity() {
    each(|runtime, _| async move {
        let xml = definitions(&format!(
            r#"<bpmn:error id="E" errorCode="DECLINED"/>{}{}"#,
            caller(
                r#"calledElement="child""#,
                "",
                &format!(
                    r#"<bpmn:boundaryEvent id="b" attachedToRef="call"><bpmn:errorEventDefinition errorRef="E" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent>
<bpmn:userTask id="handle"/>{}"#,
                    flow("f2", "b", "handle")
                )
            ),
            child("child", r#"<bpmn:errorEventDefinition errorRef="E"/>"#)
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        complete(&runtime, kid, "work", json!({})).await;
        // The child ended by the error, without an incident of its own.
        assert_eq!(status(&runtime, kid).await, (Status::Terminated, false));
        settle(&runtime).await;
        assert_eq!(open_tasks(&runtime, parent).await, vec!["handle"]);
        assert_eq!(var(&runtime, parent, "code").await, Some(json!("DECLINED")));
    })
    .await;
}

#[tokio::test]
async fn an_error_nobody_catches_is_an_incident_on_the_call_activity() {
    each(|runtime, _| async move {
        let xml = definitions(&format!(
            r#"<bpmn:error id="E" errorCode="BOOM"/>{}{}"#,
            caller(r#"calledElement="child""#, "", ""),
            child("child", r#"<bpmn:errorEventDefinition errorRef="E"/>"#)
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        complete(&runtime, kid, "work", json!({})).await;
        settle(&runtime).await;
        assert_eq!(status(&runtime, parent).await, (Status::Active, true));
        let (_, state) = runtime.instance(parent).await.unwrap();
        let incident = state.incidents.values().next().unwrap();
        assert_eq!(incident.element, "call");
        assert!(incident.message.contains("BOOM"), "{}", incident.message);
    })
    .await;
}

#[tokio::test]
async fn an_escalation_from_the_child_is_caught_without_stopping_it() {
    each(|runtime, _| async move {
        let child_xml = r#"<bpmn:process id="child" isExecutable="true">
<bpmn:startEvent id="cs"/><bpmn:intermediateThrowEvent id="esc"><bpmn:escalationEventDefinition escalationRef="X"/></bpmn:intermediateThrowEvent>
<bpmn:userTask id="work"/><bpmn:endEvent id="ce"/>
<bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="esc"/><bpmn:sequenceFlow id="c1" sourceRef="esc" targetRef="work"/><bpmn:sequenceFlow id="c2" sourceRef="work" targetRef="ce"/>
</bpmn:process>"#;
        let xml = definitions(&format!(
            r#"<bpmn:escalation id="X" escalationCode="LATE"/>{}{child_xml}"#,
            caller(
                r#"calledElement="child""#,
                "",
                &format!(
                    r#"<bpmn:boundaryEvent id="b" attachedToRef="call" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="X"/></bpmn:boundaryEvent>
<bpmn:userTask id="notify"/>{}"#,
                    flow("f2", "b", "notify")
                )
            ),
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        // The boundary path runs while the child goes on.
        assert_eq!(open_tasks(&runtime, parent).await, vec!["notify"]);
        assert_eq!(open_tasks(&runtime, kid).await, vec!["work"]);
        complete(&runtime, kid, "work", json!({})).await;
        settle(&runtime).await;
        let mut open = open_tasks(&runtime, parent).await;
        open.sort();
        assert_eq!(open, vec!["after", "notify"]);
    })
    .await;
}

#[tokio::test]
async fn cancelling_the_caller_or_interrupting_the_call_cancels_the_child() {
    each(|runtime, clock| async move {
        let xml = definitions(&format!(
            "{}{}",
            caller(
                r#"calledElement="child""#,
                "",
                &format!(
                    r#"<bpmn:boundaryEvent id="t" attachedToRef="call"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="late"/>{}"#,
                    flow("f2", "t", "late")
                )
            ),
            child("child", "")
        ));
        let defs = deploy(&runtime, &xml).await;
        // Cancelling the caller.
        let first = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, first).await[0];
        runtime.cancel(first, None).await.unwrap();
        settle(&runtime).await;
        assert_eq!(status(&runtime, kid).await.0, Status::Terminated);
        assert_eq!(open_tasks(&runtime, kid).await, Vec::<String>::new());
        // The interrupting timer on the call activity.
        let second = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, second).await[0];
        let now = bpmn_engine::runtime::Clock::now(&*clock);
        clock.set(now + jiff::SignedDuration::from_secs(3601));
        settle(&runtime).await;
        assert_eq!(status(&runtime, kid).await.0, Status::Terminated);
        assert_eq!(open_tasks(&runtime, second).await, vec!["late"]);
        assert_eq!(status(&runtime, second).await, (Status::Active, false));
    })
    .await;
}

#[tokio::test]
async fn bindings_choose_the_version_and_a_missing_process_is_an_incident() {
    each(|runtime, _| async move {
        // Two versions of the child: v2 has another task.
        let v1 = definitions(&child("child", ""));
        deploy(&runtime, &v1).await;
        let v2 = v1.replace(r#"id="work""#, r#"id="work2""#).replace(
            r#"targetRef="work""#,
            r#"targetRef="work2""#,
        ).replace(r#"sourceRef="work""#, r#"sourceRef="work2""#);
        let v2 = v2.replace(
            r#"<bpmn:process id="child" isExecutable="true">"#,
            r#"<bpmn:process id="child" isExecutable="true" camunda:versionTag="2.0">"#,
        );
        deploy(&runtime, &v2).await;
        for (attrs, task) in [
            (r#"calledElement="child""#, "work2"),
            (
                r#"calledElement="child" camunda:calledElementBinding="version" camunda:calledElementVersion="1""#,
                "work",
            ),
            (
                r#"calledElement="child" camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="2.0""#,
                "work2",
            ),
        ] {
            let defs = deploy(&runtime, &definitions(&caller(attrs, "", ""))).await;
            let parent = start(&runtime, &defs, "parent", json!({})).await;
            settle(&runtime).await;
            let kid = called(&runtime, parent).await[0];
            assert_eq!(open_tasks(&runtime, kid).await, vec![task], "{attrs}");
        }
        // The deployment binding: only a child deployed with the caller counts.
        let defs = deploy(
            &runtime,
            &definitions(&caller(
                r#"calledElement="${which}" camunda:calledElementBinding="deployment""#,
                "",
                "",
            )),
        )
        .await;
        let parent = start(&runtime, &defs, "parent", json!({"which": "child"})).await;
        settle(&runtime).await;
        assert!(called(&runtime, parent).await.is_empty());
        let (_, state) = runtime.instance(parent).await.unwrap();
        let incident = state.incidents.values().next().expect("an incident");
        assert_eq!(incident.element, "call");
        assert!(incident.message.contains("deployment"), "{}", incident.message);
        // A key nobody deployed: an incident too; deploying it and retrying works.
        let defs = deploy(&runtime, &definitions(&caller(r#"calledElement="later""#, "", ""))).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let (_, state) = runtime.instance(parent).await.unwrap();
        let (&incident, i) = state.incidents.iter().next().expect("an incident");
        assert!(i.message.contains("\"later\""), "{}", i.message);
        deploy(&runtime, &definitions(&child("later", ""))).await;
        runtime.retry_incident(parent, incident, None).await.unwrap();
        settle(&runtime).await;
        assert_eq!(called(&runtime, parent).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_multi_instance_call_activity_calls_once_per_item() {
    each(|runtime, _| async move {
        let xml = definitions(&format!(
            r#"<bpmn:process id="parent" isExecutable="true">
<bpmn:startEvent id="s"/>
<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements><camunda:in source="item" target="item"/></bpmn:extensionElements>
<bpmn:multiInstanceLoopCharacteristics camunda:collection="${{items}}" camunda:elementVariable="item"/></bpmn:callActivity>
<bpmn:userTask id="after"/>{}{}</bpmn:process>{}"#,
            flow("f0", "s", "call"),
            flow("f1", "call", "after"),
            child("child", "")
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({"items": ["a", "b", "c"]})).await;
        settle(&runtime).await;
        let kids = called(&runtime, parent).await;
        assert_eq!(kids.len(), 3);
        let mut items = Vec::new();
        for kid in &kids {
            items.push(var(&runtime, *kid, "item").await.unwrap());
            complete(&runtime, *kid, "work", json!({})).await;
        }
        items.sort_by_key(|v| v.to_string());
        assert_eq!(items, vec![json!("a"), json!("b"), json!("c")]);
        settle(&runtime).await;
        assert_eq!(open_tasks(&runtime, parent).await, vec!["after"]);
    })
    .await;
}

#[test]
fn call_activities_without_a_called_element_or_with_broken_mappings_are_refused() {
    let errors = parse_err(&process(
        r#"<bpmn:startEvent id="s"/><bpmn:callActivity id="c1"/>
<bpmn:callActivity id="c2" calledElement="x"><bpmn:extensionElements><camunda:in source="a"/></bpmn:extensionElements></bpmn:callActivity>
<bpmn:callActivity id="c3" calledElement="x" camunda:calledElementBinding="version"/>"#,
    ));
    let text = errors.join("\n");
    assert!(
        text.contains("\"c1\": a call activity needs calledElement"),
        "{text}"
    );
    assert!(text.contains("\"c2\": camunda:in needs a target"), "{text}");
    assert!(
        text.contains(
            "\"c3\": calledElementBinding=\"version\" needs camunda:calledElementVersion"
        ),
        "{text}"
    );
    // Every message is located.
    assert!(errors.iter().all(|e| !e.starts_with("0:0")), "{text}");
}

#[tokio::test]
async fn a_child_that_terminates_or_escalates_as_it_ends_still_answers() {
    each(|runtime, _| async move {
        // The child escalates and ends in the same command; it ends at a terminate end event.
        let child_xml = r#"<bpmn:process id="child" isExecutable="true">
<bpmn:startEvent id="cs"/><bpmn:intermediateThrowEvent id="esc"><bpmn:escalationEventDefinition escalationRef="X"/></bpmn:intermediateThrowEvent>
<bpmn:endEvent id="ce"><bpmn:terminateEventDefinition/></bpmn:endEvent>
<bpmn:sequenceFlow id="c0" sourceRef="cs" targetRef="esc"/><bpmn:sequenceFlow id="c1" sourceRef="esc" targetRef="ce"/>
</bpmn:process>"#;
        let xml = definitions(&format!(
            r#"<bpmn:escalation id="X" escalationCode="LATE"/>{}{child_xml}"#,
            caller(
                r#"calledElement="child""#,
                "",
                &format!(
                    r#"<bpmn:boundaryEvent id="b" attachedToRef="call" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="X"/></bpmn:boundaryEvent>
<bpmn:userTask id="notify"/>{}"#,
                    flow("f2", "b", "notify")
                )
            ),
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        assert_eq!(status(&runtime, kid).await.0, Status::Terminated);
        // The escalation was handled before the completion, and both arrived.
        let mut open = open_tasks(&runtime, parent).await;
        open.sort();
        assert_eq!(open, vec!["after", "notify"]);
    })
    .await;
}

#[tokio::test]
async fn a_failing_out_mapping_is_an_incident_whose_retry_maps_again() {
    each(|runtime, _| async move {
        let xml = definitions(&format!(
            "{}{}",
            caller(
                r#"calledElement="child""#,
                r#"<camunda:out sourceExpression="${total / count}" target="average"/>"#,
                ""
            ),
            child("child", "")
        ));
        let defs = deploy(&runtime, &xml).await;
        let parent = start(&runtime, &defs, "parent", json!({})).await;
        settle(&runtime).await;
        let kid = called(&runtime, parent).await[0];
        complete(&runtime, kid, "work", json!({"total": 10})).await;
        settle(&runtime).await;
        let (_, state) = runtime.instance(parent).await.unwrap();
        let (&incident, i) = state.incidents.iter().next().expect("an incident");
        assert!(i.message.contains("camunda:out"), "{}", i.message);
        // A single mapping falls back to the caller's variables: supplying
        // what it missed and retrying maps it (the called instance's `total`
        // was kept on the call activity meanwhile).
        runtime
            .set_variables(parent, obj(json!({"count": 2})), None)
            .await
            .unwrap();
        runtime
            .retry_incident(parent, incident, None)
            .await
            .unwrap();
        assert_eq!(open_tasks(&runtime, parent).await, vec!["after"]);
        // EL divides as Doubles.
        assert_eq!(var(&runtime, parent, "average").await, Some(json!(5.0)));
    })
    .await;
}

/// Two processes that call each other stop at the call depth limit with an
/// incident that names the cycle, instead of starting instances for ever.
#[tokio::test]
async fn calls_that_never_end_stop_at_the_depth_limit_with_the_chain_named() {
    each(|runtime, _| async move {
        let call = |key: &str, calls: &str| {
            format!(
                r#"<bpmn:process id="{key}" isExecutable="true">
<bpmn:startEvent id="{key}_s"/><bpmn:callActivity id="{key}_call" calledElement="{calls}"/><bpmn:endEvent id="{key}_e"/>
{}{}
</bpmn:process>"#,
                flow(&format!("{key}_f0"), &format!("{key}_s"), &format!("{key}_call")),
                flow(&format!("{key}_f1"), &format!("{key}_call"), &format!("{key}_e"))
            )
        };
        let xml = definitions(&format!("{}{}", call("ping", "pong"), call("pong", "ping")));
        let defs = deploy(&runtime, &xml).await;
        let top = start(&runtime, &defs, "ping", json!({})).await;
        let cfg = ExecutorConfig::new("t".into());
        let mut rounds = 0;
        while jobs::run_due(&runtime, &cfg).await.unwrap() > 0 {
            rounds += 1;
            assert!(rounds < 200, "calls kept coming");
        }
        // Walk down the chain: 32 instances, the last one with the incident.
        let mut chain = vec![top];
        loop {
            let below = called(&runtime, *chain.last().unwrap()).await;
            match below.as_slice() {
                [] => break,
                [one] => chain.push(*one),
                more => panic!("one call started {} instances", more.len()),
            }
        }
        assert_eq!(chain.len(), bpmn_engine::runtime::MAX_CALL_DEPTH);
        let deepest = *chain.last().unwrap();
        assert_eq!(status(&runtime, deepest).await, (Status::Active, true));
        let (_, state) = runtime.instance(deepest).await.unwrap();
        let incident = state.incidents.values().next().unwrap();
        assert_eq!(incident.element, "pong_call");
        assert!(
            incident
                .message
                .contains("calls nest more than 32 deep (does a process call itself?): ping → pong → ping → … (30 more calls round the same cycle)"),
            "{}",
            incident.message
        );
        // Every instance above it is still waiting for its call, without an incident.
        for id in &chain[..chain.len() - 1] {
            assert_eq!(status(&runtime, *id).await, (Status::Active, false));
        }
    })
    .await;
}
