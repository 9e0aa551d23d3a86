//! Operating running processes on real databases: suspending and resuming
//! instances and process versions (the job executor waits, a timer due
//! meanwhile fires once on resume), instance modification, and migration to
//! another version with its waits kept — through the runtime and over HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;

use bpmn_engine::engine::Instruction;
use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{Migration, Runtime, RuntimeError, VirtualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::app::TestApp;
use crate::common::db::databases;
use crate::common::rt::{self, admin};
use crate::common::*;

use crate::common::rt::on_each_db as each;

fn executor() -> ExecutorConfig {
    ExecutorConfig::new("ops-test".to_string())
}

async fn deploy(runtime: &Runtime, xml: &str) -> i64 {
    runtime
        .deploy("ops.bpmn", xml.as_bytes(), Some("admin"))
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions[0]
        .id
}

async fn history_kinds(runtime: &Runtime, id: Uuid) -> Vec<String> {
    runtime
        .instances()
        .history(&admin(None), id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.kind)
        .collect()
}

/// A task, a timer and a message, each on its own branch.
fn waits() -> String {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a" name="Check" camunda:assignee="ann"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="go"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
<bpmn:parallelGateway id="join"/><bpmn:endEvent id="e"/>{}{}{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "wait"),
        flow("f3", "fork", "go"),
        flow("f4", "a", "join"),
        flow("f5", "wait", "join"),
        flow("f6", "go", "join"),
        flow("f7", "join", "e"),
    ));
    xml.replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="go"/></bpmn:definitions>"#,
    )
}

/// The next version: "a" is now "a2", and a review follows the join.
fn waits_v2() -> String {
    waits()
        .replace("id=\"a\"", "id=\"a2\"")
        .replace("sourceRef=\"a\"", "sourceRef=\"a2\"")
        .replace("targetRef=\"a\"", "targetRef=\"a2\"")
        .replace(
            r#"<bpmn:endEvent id="e"/>"#,
            r#"<bpmn:userTask id="review"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f8" sourceRef="review" targetRef="e"/>"#,
        )
        .replace(
            r#"id="f7" sourceRef="join" targetRef="e""#,
            r#"id="f7" sourceRef="join" targetRef="review""#,
        )
}

#[tokio::test]
async fn a_suspended_instance_waits_and_its_timer_fires_once_after_resume() {
    each(|runtime, clock, backend| async move {
        let def = deploy(&runtime, &waits()).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let who = admin(Some("olga"));
        let o = runtime
            .instances()
            .suspend(&who, id, Some("audit".into()))
            .await
            .unwrap();
        assert!(o.state.suspended, "{backend}");
        let task = runtime.open_task_for(id, "a").await.unwrap().unwrap();
        assert!(task.suspended, "{backend}: the inbox shows it");
        let err = runtime
            .complete_task(task.id, Default::default(), Some("ann"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, RuntimeError::Conflict(m) if m.contains(&id.to_string()) && m.contains("suspended")),
            "{backend}: {err}"
        );
        let err = runtime
            .correlate(id, "go", Default::default(), None)
            .await
            .unwrap_err();
        assert!(matches!(err, RuntimeError::Conflict(_)), "{backend}: {err}");
        clock.set("2025-01-01T02:00:00Z".parse().unwrap());
        assert_eq!(
            jobs::run_due(&runtime, &executor()).await.unwrap(),
            0,
            "{backend}: the due timer waits"
        );
        let again = runtime.instances().suspend(&who, id, None).await;
        assert!(matches!(again, Err(RuntimeError::Conflict(_))), "{backend}");
        runtime.instances().resume(&who, id, None).await.unwrap();
        assert!(!runtime.open_task_for(id, "a").await.unwrap().unwrap().suspended);
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 1);
        assert_eq!(
            jobs::run_due(&runtime, &executor()).await.unwrap(),
            0,
            "{backend}: fires once"
        );
        let kinds = history_kinds(&runtime, id).await;
        assert_eq!(kinds.iter().filter(|k| *k == "timer_fired").count(), 1);
        assert!(kinds.contains(&"instance_suspended".to_string()));
        let history = runtime.instances().history(&who, id).await.unwrap();
        let row = history
            .iter()
            .find(|h| h.kind == "instance_suspended")
            .unwrap();
        assert_eq!(row.user.as_deref(), Some("olga"));
        assert_eq!(row.text, "Instance suspended (audit)");
        runtime
            .correlate(id, "go", Default::default(), None)
            .await
            .unwrap();
        runtime
            .complete_task(task.id, Default::default(), Some("ann"))
            .await
            .unwrap();
        assert_eq!(runtime.view(id).await.unwrap().status, "completed");
    })
    .await;
}

#[tokio::test]
async fn migration_moves_a_task_a_timer_and_a_subscription_and_the_instance_completes_on_the_new_version()
 {
    each(|runtime, clock, backend| async move {
        let v1 = deploy(&runtime, &waits()).await;
        let id = runtime
            .start(v1, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let other = runtime
            .start(v1, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        runtime.cancel(other, None).await.unwrap();
        let v2 = deploy(&runtime, &waits_v2()).await;
        let task = runtime.open_task_for(id, "a").await.unwrap().unwrap();
        let timer = runtime.store().jobs_of_instance(id).await.unwrap();
        assert_eq!(timer.len(), 1);
        let who = admin(Some("olga"));
        let mut m = Migration {
            from_version: 1,
            to_version: 2,
            mapping: BTreeMap::new(),
            instances: None,
            dry_run: true,
        };
        // Without a mapping for "a" the instance is refused, and says why.
        let report = runtime.deployments().migrate(&who, "p", &m).await.unwrap();
        assert!(report.problems.is_empty());
        assert_eq!(
            report.instances.len(),
            1,
            "{backend}: only running instances"
        );
        assert_eq!(report.instances[0].outcome, "refused");
        assert!(report.instances[0].problems[0].contains("\"a\""));
        m.mapping.insert("a".into(), "a2".into());
        let report = runtime.deployments().migrate(&who, "p", &m).await.unwrap();
        assert_eq!(report.instances[0].outcome, "ready", "{backend}");
        assert_eq!(runtime.instance(id).await.unwrap().0.definition_id, v1);
        m.dry_run = false;
        let report = runtime.deployments().migrate(&who, "p", &m).await.unwrap();
        assert_eq!(report.instances[0].outcome, "migrated", "{backend}");
        let (row, _) = runtime.instance(id).await.unwrap();
        assert_eq!(row.definition_id, v2);
        let moved = runtime.open_task_for(id, "a2").await.unwrap().unwrap();
        assert_eq!(moved.id, task.id, "{backend}: the same task");
        assert_eq!(moved.assignee.as_deref(), Some("ann"));
        let jobs_after = runtime.store().jobs_of_instance(id).await.unwrap();
        assert_eq!(
            jobs_after[0].due_at, timer[0].due_at,
            "the timer keeps its due time"
        );
        assert_eq!(
            runtime.store().subscriptions(id, "go").await.unwrap().len(),
            1
        );
        let history = runtime.instances().history(&who, id).await.unwrap();
        let row = history
            .iter()
            .find(|h| h.kind == "instance_migrated")
            .unwrap();
        assert!(row.text.contains("from version 1 to 2"), "{}", row.text);
        assert!(row.text.contains("\"a\" became \"a2\""), "{}", row.text);
        assert_eq!(row.user.as_deref(), Some("olga"));

        clock.set("2025-01-01T02:00:00Z".parse().unwrap());
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 1);
        runtime
            .correlate(id, "go", Default::default(), None)
            .await
            .unwrap()
            .expect("the subscription was kept");
        runtime
            .complete_task(task.id, Default::default(), Some("ann"))
            .await
            .unwrap();
        let review = runtime.open_task_for(id, "review").await.unwrap().unwrap();
        runtime
            .complete_task(review.id, Default::default(), None)
            .await
            .unwrap();
        assert_eq!(
            runtime.view(id).await.unwrap().status,
            "completed",
            "{backend}"
        );
    })
    .await;
}

/// A program talking to the API with a token.
struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn as_user(app: &TestApp, name: &str) -> Api {
        let user = app.runtime.user_named(name).await.unwrap().unwrap();
        let (_, token) = app.runtime.create_token(user.id, "tests").await.unwrap();
        Api {
            base: app.base.clone(),
            token,
            client: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(json!({})))
    }
}

fn detail(v: &Value) -> String {
    v["errors"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn two_tasks() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check"/><bpmn:userTask id="b" name="Approve"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "b"),
        flow("f2", "b", "e")
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_resume_and_modify_over_http() {
    for app in TestApp::each().await {
        let b = app.backend;
        let api = Api::as_user(&app, "admin").await;
        let def = deploy(&app.runtime, &two_tasks()).await;
        let _ = def;
        let (s, started) = api.post("/api/v1/definitions/p/start", json!({})).await;
        assert!(s.is_success(), "{b}: {started}");
        let id = started["id"].as_str().unwrap().to_string();

        let (s, body) = api
            .post(
                &format!("/api/v1/instances/{id}/suspend"),
                json!({"reason": "audit"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert_eq!(body["suspended"], true);
        let (_, inst) = api.get(&format!("/api/v1/instances/{id}")).await;
        assert_eq!(
            inst["instance"]["suspended"]
                .as_bool()
                .or(inst["suspended"].as_bool()),
            Some(true),
            "{inst}"
        );
        let (_, tasks) = api.get("/api/v1/tasks").await;
        let task = tasks["items"]
            .as_array()
            .or(tasks.as_array())
            .and_then(|t| t.first().cloned())
            .unwrap_or_else(|| panic!("{tasks}"));
        assert_eq!(task["suspended"], true, "{task}");
        let task_id = task["id"].as_str().unwrap();
        let (s, body) = api
            .post(&format!("/api/v1/tasks/{task_id}/complete"), json!({}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {body}");
        assert!(detail(&body).contains("is suspended"), "{body}");
        let (s, body) = api
            .post(
                &format!("/api/v1/instances/{id}/modify"),
                json!({"instructions": [{"cancel": "a"}, {"start_before": "b"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {body}");
        let (s, _) = api
            .post(&format!("/api/v1/instances/{id}/resume"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);

        // Refused modifications change nothing and say why.
        let before = history_kinds(&app.runtime, id.parse().unwrap()).await.len();
        for (body, expect, status) in [
            (
                json!({"instructions": [{"cancel": "zzz"}]}),
                "no element \"zzz\"",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"instructions": [{"cancel": "b"}]}),
                "nothing to cancel",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"instructions": [{"cancel": "a"}]}),
                "leaves nothing active",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"instructions": [{"jump": "a"}]}),
                "unknown variant",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let (s, answer) = api
                .post(&format!("/api/v1/instances/{id}/modify"), body)
                .await;
            assert_eq!(s, status, "{b}: {answer}");
            assert!(detail(&answer).contains(expect), "{answer}");
        }
        assert_eq!(
            history_kinds(&app.runtime, id.parse().unwrap()).await.len(),
            before
        );

        let (s, body) = api
            .post(
                &format!("/api/v1/instances/{id}/modify"),
                json!({"instructions": [{"cancel": "a"}, {"start_before": "b"}], "variables": {"skipped": true}, "reason": "a is broken"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        let uuid: Uuid = id.parse().unwrap();
        assert!(
            app.runtime
                .open_task_for(uuid, "a")
                .await
                .unwrap()
                .is_none()
        );
        let next = app.runtime.open_task_for(uuid, "b").await.unwrap().unwrap();
        let history = app
            .runtime
            .instances()
            .history(&admin(None), uuid)
            .await
            .unwrap();
        let row = history
            .iter()
            .find(|h| h.kind == "instance_modified")
            .unwrap();
        assert_eq!(
            row.text,
            "Instance modified: cancel UserTask \"Check\", start before UserTask \"Approve\" (a is broken)"
        );
        let (s, _) = api
            .post(&format!("/api/v1/tasks/{}/complete", next.id), json!({}))
            .await;
        assert!(s.is_success());
        assert_eq!(app.runtime.view(uuid).await.unwrap().status, "completed");

        // A suspended version starts nothing until it is resumed.
        let (s, body) = api
            .post(
                "/api/v1/definitions/p/versions/1/suspend",
                json!({"include_instances": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert_eq!(body["suspended"], true);
        let (s, body) = api.post("/api/v1/definitions/p/start", json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {body}");
        assert!(
            detail(&body).contains("version 1 of process \"p\" is suspended"),
            "{body}"
        );
        let (s, _) = api
            .post("/api/v1/definitions/p/versions/1/resume", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = api.post("/api/v1/definitions/p/start", json!({})).await;
        assert!(s.is_success(), "{b}: {body}");
        let (s, _) = api
            .post("/api/v1/definitions/p/versions/9/suspend", json!({}))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_over_http_with_a_dry_run() {
    for app in TestApp::each().await {
        let b = app.backend;
        let api = Api::as_user(&app, "admin").await;
        deploy(&app.runtime, &waits()).await;
        let (_, started) = api.post("/api/v1/definitions/p/start", json!({})).await;
        let id = started["id"].as_str().unwrap().to_string();
        deploy(&app.runtime, &waits_v2()).await;

        let (s, body) = api
            .post(
                "/api/v1/definitions/p/migrate",
                json!({"from_version": 1, "to_version": 2, "mapping": {"a": "nope"}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {body}");
        assert!(
            body["problems"][0]
                .as_str()
                .unwrap()
                .contains("no element \"nope\""),
            "{body}"
        );
        let (s, body) = api
            .post(
                &format!("/api/v1/instances/{id}/migrate"),
                json!({"to_version": 2}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: {body}");
        assert_eq!(body["outcome"], "refused");
        let (s, body) = api
            .post("/api/v1/definitions/p/migrate", json!({"from_version": 1, "to_version": 2, "mapping": {"a": "a2"}, "dry_run": true}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert_eq!(body["instances"][0]["outcome"], "ready", "{body}");
        assert_eq!(body["instances"][0]["instance_id"], id.as_str());
        let (s, body) = api
            .post(
                &format!("/api/v1/instances/{id}/migrate"),
                json!({"to_version": 2, "mapping": {"a": "a2"}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert_eq!(body["outcome"], "migrated");
        let (_, inst) = api.get(&format!("/api/v1/instances/{id}")).await;
        assert!(inst.to_string().contains("\"a2\""), "{inst}");
        app.stop().await;
    }
}

/// Version 1: a task with a five-hour reminder; version 2 renames the task,
/// drops the reminder, adds a one-hour timer that escalates, and an event
/// subprocess started by the message "poke" beside everything.
fn guarded() -> (String, String) {
    let v1 = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check" camunda:assignee="ann"/>
<bpmn:boundaryEvent id="remind" attachedToRef="a" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>PT5H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="reminded"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e0"/>{}{}{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "e"),
        flow("f8", "remind", "reminded"),
        flow("f9", "reminded", "e0"),
    ));
    let v2 = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check twice" camunda:assignee="ann"/>
<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="escalated"/>
<bpmn:subProcess id="ev" triggeredByEvent="true"><bpmn:startEvent id="es" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent><bpmn:userTask id="handle"/><bpmn:endEvent id="ee"/>{}{}</bpmn:subProcess>
<bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>{}{}{}{}"#,
        flow("ef", "es", "handle"),
        flow("ef2", "handle", "ee"),
        flow("f0", "s", "a"),
        flow("f1", "a", "e"),
        flow("f2", "late", "escalated"),
        flow("f3", "escalated", "e2"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:message id="m" name="poke"/></bpmn:definitions>"#,
    );
    (v1, v2)
}

#[tokio::test]
async fn migration_arms_what_the_new_version_adds_and_the_timer_fires() {
    each(|runtime, clock, backend| async move {
        let (v1, v2) = guarded();
        let def = deploy(&runtime, &v1).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        deploy(&runtime, &v2).await;
        let task = runtime.open_task_for(id, "a").await.unwrap().unwrap();
        assert_eq!(task.name.as_deref(), Some("Check"));
        let before = runtime.store().jobs_of_instance(id).await.unwrap();
        assert_eq!(before.len(), 1, "{backend}: the reminder");
        let who = admin(Some("olga"));
        let r = runtime
            .instances()
            .migrate(&who, id, 2, &BTreeMap::new(), false)
            .await
            .unwrap();
        assert_eq!(r.outcome, "migrated", "{backend}: {:?}", r.problems);

        // The task is the same row, with the new name and its assignee.
        let moved = runtime.open_task_for(id, "a").await.unwrap().unwrap();
        assert_eq!(moved.id, task.id, "{backend}");
        assert_eq!(moved.name.as_deref(), Some("Check twice"), "{backend}");
        assert_eq!(moved.assignee.as_deref(), Some("ann"));
        // The reminder is gone, the new timer and the subscription are there.
        let jobs_after = runtime.store().jobs_of_instance(id).await.unwrap();
        let elements: Vec<&str> = jobs_after.iter().map(|j| j.element_id.as_str()).collect();
        assert_eq!(elements, vec!["late"], "{backend}");
        assert_eq!(
            runtime
                .store()
                .subscriptions(id, "poke")
                .await
                .unwrap()
                .len(),
            1,
            "{backend}"
        );
        runtime
            .correlate(id, "poke", Default::default(), None)
            .await
            .unwrap()
            .expect("the event subprocess listens");
        assert!(runtime.open_task_for(id, "handle").await.unwrap().is_some());

        // The reminder's old due time passes quietly; the new timer fires.
        clock.set("2025-01-01T01:30:00Z".parse().unwrap());
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 1);
        assert!(runtime.open_task_for(id, "a").await.unwrap().is_none());
        assert!(
            runtime
                .open_task_for(id, "escalated")
                .await
                .unwrap()
                .is_some(),
            "{backend}: the timer the migration armed fired"
        );
        clock.set("2025-01-01T06:00:00Z".parse().unwrap());
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 0);
        assert!(
            runtime
                .open_task_for(id, "reminded")
                .await
                .unwrap()
                .is_none()
        );
        let kinds = history_kinds(&runtime, id).await;
        assert!(
            kinds.contains(&"instance_migrated".to_string()),
            "{kinds:?}"
        );
        // The story tells the migration as one entry, with what it withdrew
        // and armed among its steps; time travel shows the instance after it.
        let story = runtime.instances().story(&who, id).await.unwrap();
        let entry = story
            .iter()
            .find(|e| e.summary.contains("from version 1 to 2"))
            .unwrap_or_else(|| panic!("{backend}: {story:?}"));
        assert_eq!(entry.user.as_deref(), Some("olga"));
        assert!(
            entry.events.iter().any(|e| e.kind == "element_terminated"),
            "{:?}",
            entry.events
        );
        let past = runtime
            .instances()
            .past(&who, id, entry.last_seq)
            .await
            .unwrap();
        assert!(
            format!("{:?}", past.active).contains("late"),
            "{backend}: {:?}",
            past.active
        );
        assert!(!format!("{:?}", past.active).contains("remind"));
    })
    .await;
}

#[tokio::test]
async fn modification_starts_inside_a_subprocess_that_is_not_active_by_creating_it() {
    each(|runtime, _clock, backend| async move {
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a"/>
<bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:userTask id="first"/><bpmn:userTask id="inner" name="Inner"/><bpmn:endEvent id="se"/>{}{}{}</bpmn:subProcess>
<bpmn:userTask id="many"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
<bpmn:subProcess id="loop"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics><bpmn:startEvent id="ls"/><bpmn:userTask id="li"/>{}</bpmn:subProcess>
<bpmn:endEvent id="e"/>{}{}{}{}{}"#,
            flow("sf", "ss", "first"),
            flow("sf2", "first", "inner"),
            flow("sf3", "inner", "se"),
            flow("lf", "ls", "li"),
            flow("f0", "s", "a"),
            flow("f1", "a", "sub"),
            flow("f2", "sub", "many"),
            flow("f3", "many", "loop"),
            flow("f4", "loop", "e"),
        ));
        let def = deploy(&runtime, &xml).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let who = admin(Some("olga"));
        // Inside a multi-instance body: refused, and nothing changes.
        let err = runtime
            .instances()
            .modify(
                &who,
                id,
                bpmn_engine::runtime::Modification {
                    instructions: vec![Instruction::StartBefore("li".into())],
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("inside the multi-instance \"loop\", whose instances it cannot tell apart"),
            "{backend}: {err}"
        );
        let before = history_kinds(&runtime, id).await.len();
        runtime
            .instances()
            .modify(
                &who,
                id,
                bpmn_engine::runtime::Modification {
                    instructions: vec![
                        Instruction::Cancel("a".into()),
                        Instruction::StartBefore("inner".into()),
                    ],
                    reason: Some("skip the first step".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(history_kinds(&runtime, id).await.len() > before);
        assert!(runtime.open_task_for(id, "first").await.unwrap().is_none());
        let inner = runtime.open_task_for(id, "inner").await.unwrap().unwrap();
        let view = runtime.view(id).await.unwrap();
        assert_eq!(view.status, "active", "{backend}");
        runtime
            .complete_task(inner.id, Default::default(), None)
            .await
            .unwrap();
        // The created subprocess completed and the token went on.
        assert!(
            runtime.open_task_for(id, "many").await.unwrap().is_some(),
            "{backend}"
        );
        let history = runtime.instances().history(&who, id).await.unwrap();
        let row = history
            .iter()
            .find(|h| h.kind == "instance_modified")
            .unwrap();
        assert!(row.text.contains("skip the first step"), "{}", row.text);
        assert_eq!(row.user.as_deref(), Some("olga"));
    })
    .await;
}

/// A service handler that says when it is called and answers only when
/// released: the instance is suspended while it runs.
struct Slow {
    calls: Arc<std::sync::atomic::AtomicUsize>,
    started: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

impl bpmn_engine::runtime::ServiceHandler for Slow {
    fn call<'a>(
        &'a self,
        _call: &'a bpmn_engine::runtime::ServiceCall,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        serde_json::Map<String, Value>,
                        bpmn_engine::runtime::HandlerError,
                    >,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.started.notify_one();
            self.release.notified().await;
            let mut out = serde_json::Map::new();
            out.insert("answer".into(), json!(42));
            Ok(out)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_finishes_while_its_instance_is_suspended_is_committed_on_resume_without_running_again()
 {
    for db in databases().await {
        let backend = db.backend;
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(t0()));
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let slow = Arc::new(Slow {
            calls: calls.clone(),
            started: started.clone(),
            release: release.clone(),
        });
        let runtime = rt::runtime_on(store, |s| {
            Runtime::new(s, clock.clone()).with_handler("slow", slow.clone())
        });
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="h" camunda:delegateExpression="${{slow}}"/><bpmn:userTask id="after"/>{}{}"#,
            flow("f0", "s", "h"),
            flow("f1", "h", "after")
        ));
        let def = deploy(&runtime, &xml).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let executor_rt = runtime.clone();
        let running =
            tokio::spawn(async move { jobs::run_due(&executor_rt, &executor()).await.unwrap() });
        started.notified().await;
        let who = admin(Some("olga"));
        runtime
            .instances()
            .suspend(&who, id, Some("audit".into()))
            .await
            .unwrap();
        release.notify_one();
        assert_eq!(running.await.unwrap(), 1);
        // Not applied while suspended, but kept, with its lease freed.
        let (_, state) = runtime.instance(id).await.unwrap();
        assert!(state.root_variables().get("answer").is_none(), "{backend}");
        assert!(runtime.open_task_for(id, "after").await.unwrap().is_none());
        let job = runtime
            .store()
            .jobs_of_instance(id)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(job.result.as_deref(), Some(r#"{"answer":42}"#), "{backend}");
        assert_eq!(job.lock_owner, None, "{backend}");
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 0);

        runtime.instances().resume(&who, id, None).await.unwrap();
        // The next turn commits the kept result; the handler is not called again.
        assert_eq!(jobs::run_due(&runtime, &executor()).await.unwrap(), 1);
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{backend}: the work ran once"
        );
        let (_, state) = runtime.instance(id).await.unwrap();
        assert_eq!(state.root_variables().get("answer"), Some(&json!(42)));
        assert!(
            runtime.open_task_for(id, "after").await.unwrap().is_some(),
            "{backend}"
        );
        assert!(
            runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .is_empty()
        );
        db.drop_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_page_moves_only_the_picked_instances() {
    for app in TestApp::each().await {
        let b = app.backend;
        let v1 = deploy(&app.runtime, &waits()).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                app.runtime
                    .start(v1, Default::default(), None, None)
                    .await
                    .unwrap()
                    .instance_id,
            );
        }
        deploy(&app.runtime, &waits_v2()).await;
        let admin = app.login("admin", "admin-password").await;
        let page = admin.get("/definitions/p/migrate").await;
        assert!(page.body.contains("3 of 3 picked"), "{b}: {}", page.body);
        assert_eq!(page.body.matches("name=\"instance\"").count(), 3);
        assert_eq!(page.body.matches(" checked>").count(), 3, "all picked");

        let (first, second) = (ids[0].to_string(), ids[1].to_string());
        let base = [
            ("from", "1"),
            ("to", "2"),
            ("listed", "1"),
            ("mapping", "a=a2"),
        ];
        let none = admin
            .post(
                "/definitions/p/migrate",
                &[&base[..], &[("run", "1")]].concat(),
            )
            .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            none.body.contains("Pick at least one instance"),
            "{}",
            none.body
        );
        let other = admin
            .post(
                "/definitions/p/migrate",
                &[
                    ("from", "2"),
                    ("to", "1"),
                    ("listed", "1"),
                    ("instance", first.as_str()),
                ],
            )
            .await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            other.body.contains("Version 2 has 0 running instance(s)"),
            "{}",
            other.body
        );
        let moved = admin
            .post(
                "/definitions/p/migrate",
                &[
                    &base[..],
                    &[
                        ("instance", first.as_str()),
                        ("instance", second.as_str()),
                        ("run", "1"),
                    ],
                ]
                .concat(),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{b}: {}", moved.body);
        assert!(
            moved.body.contains("2 of 2 instance(s) moved"),
            "{}",
            moved.body
        );
        assert!(moved.body.contains("0 of 1 picked"), "{}", moved.body);
        for id in &ids[..2] {
            assert!(
                app.runtime
                    .open_task_for(*id, "a2")
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        assert!(
            app.runtime
                .open_task_for(ids[2], "a")
                .await
                .unwrap()
                .is_some(),
            "{b}: the one left out stays"
        );
        // The instance page's history tells of the move.
        let shown = admin.get(&format!("/instances/{}", ids[0])).await;
        assert!(
            shown.body.contains("from version 1 to 2"),
            "{b}: {}",
            shown.body
        );
        app.stop().await;
    }
}
