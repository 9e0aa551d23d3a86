//! Statistics per diagram element on real databases: exact numbers after
//! straight-through runs, a parallel branch cancelled by modification, a
//! migration, a cancelled instance and an incident — before and after the
//! rollup folds the appended rows — and the route, for admins only.

use std::collections::BTreeMap;

use bpmn_engine::runtime::{
    DefinitionStatistics, Instruction, Migration, Modification, Runtime, StatisticsVersion,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::app::TestApp;
use crate::common::rt::{Shorthand, admin};
use crate::common::*;

use crate::common::rt::on_each_db as each;

async fn deploy(runtime: &Runtime, xml: &str) -> i64 {
    runtime
        .deploy("stats.bpmn", xml.as_bytes(), Some("admin"))
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions[0]
        .id
}

async fn stats(runtime: &Runtime, version: StatisticsVersion) -> DefinitionStatistics {
    runtime
        .deployments()
        .statistics(&admin(None), "p", version)
        .await
        .unwrap()
}

/// `(active, completed, cancelled, incidents)`.
type Numbers = (i64, i64, i64, i64);

/// The [`Numbers`] of an element (zeros when it has none).
fn numbers(s: &DefinitionStatistics, element: &str) -> Numbers {
    s.element(element)
        .map(|e| (e.active, e.completed, e.cancelled, e.incidents))
        .unwrap_or_default()
}

/// The numbers of every element, read before and after folding: the same.
async fn checked(
    runtime: &Runtime,
    version: StatisticsVersion,
    expect: &[(&str, Numbers)],
    backend: &str,
) -> DefinitionStatistics {
    let before = stats(runtime, version).await;
    for (element, n) in expect {
        assert_eq!(numbers(&before, element), *n, "{backend}: {element}");
    }
    let listed: Vec<&str> = before
        .elements
        .iter()
        .map(|e| e.element_id.as_str())
        .collect();
    for id in &listed {
        assert!(
            expect.iter().any(|(e, _)| e == id),
            "{backend}: unexpected numbers for {id}: {before:?}"
        );
    }
    runtime.fold_statistics().await.unwrap();
    let after = stats(runtime, version).await;
    assert_eq!(before, after, "{backend}: folding changes nothing");
    after
}

fn one_task() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="Check"/><bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "a"),
        flow("f1", "a", "e"),
    ))
}

#[tokio::test]
async fn straight_through_runs_count_and_time_each_element() {
    each(|runtime, clock, backend| async move {
        deploy(&runtime, &one_task()).await;
        let def = runtime
            .deployments()
            .get(&admin(None), "p", None)
            .await
            .unwrap()
            .definition
            .id;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                runtime
                    .start(def, Default::default(), None, None)
                    .await
                    .unwrap()
                    .instance_id,
            );
        }
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[("s", (0, 3, 0, 0)), ("a", (3, 0, 0, 0))],
            backend,
        )
        .await;
        clock.set("2025-01-01T00:00:10Z".parse().unwrap());
        let task = runtime.open_task_for(ids[0], "a").await.unwrap().unwrap();
        runtime
            .complete_task(task.id, Default::default(), None)
            .await
            .unwrap();
        clock.set("2025-01-01T00:00:30Z".parse().unwrap());
        let task = runtime.open_task_for(ids[1], "a").await.unwrap().unwrap();
        runtime
            .complete_task(task.id, Default::default(), None)
            .await
            .unwrap();
        let s = checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 3, 0, 0)),
                ("a", (1, 2, 0, 0)),
                ("e", (0, 2, 0, 0)),
            ],
            backend,
        )
        .await;
        let a = s.element("a").unwrap();
        assert_eq!(a.name, "Check");
        assert_eq!(a.timed, 2);
        assert_eq!(a.average_ms, Some(20_000.0), "{backend}");
        let p95 = a.p95_ms.unwrap();
        assert!((27_000..=33_000).contains(&p95), "{backend}: {p95}");
        let start = s.element("s").unwrap();
        assert_eq!((start.average_ms, start.p95_ms), (Some(0.0), Some(0)));
        // Statistics of a version that does not exist: not found.
        let err = runtime
            .deployments()
            .statistics(&admin(None), "p", StatisticsVersion::Version(9))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
    })
    .await;
}

fn split() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/>
<bpmn:userTask id="a"/><bpmn:userTask id="b"/>
<bpmn:parallelGateway id="join"/><bpmn:endEvent id="e"/>{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "b"),
        flow("f3", "a", "join"),
        flow("f4", "b", "join"),
        flow("f5", "join", "e"),
    ))
}

#[tokio::test]
async fn a_branch_cancelled_by_modification_is_a_cancellation() {
    each(|runtime, _clock, backend| async move {
        let def = deploy(&runtime, &split()).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 1, 0, 0)),
                ("fork", (0, 1, 0, 0)),
                ("a", (1, 0, 0, 0)),
                ("b", (1, 0, 0, 0)),
            ],
            backend,
        )
        .await;
        runtime
            .instances()
            .modify(
                &admin(Some("olga")),
                id,
                Modification {
                    instructions: vec![
                        Instruction::Cancel("b".into()),
                        Instruction::StartAfter("b".into()),
                    ],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 1, 0, 0)),
                ("fork", (0, 1, 0, 0)),
                ("a", (1, 0, 0, 0)),
                ("b", (0, 0, 1, 0)),
            ],
            backend,
        )
        .await;
        let task = runtime.open_task_for(id, "a").await.unwrap().unwrap();
        runtime
            .complete_task(task.id, Default::default(), None)
            .await
            .unwrap();
        assert_eq!(runtime.view(id).await.unwrap().status, "completed");
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 1, 0, 0)),
                ("fork", (0, 1, 0, 0)),
                ("a", (0, 1, 0, 0)),
                ("b", (0, 0, 1, 0)),
                ("join", (0, 1, 0, 0)),
                ("e", (0, 1, 0, 0)),
            ],
            backend,
        )
        .await;
    })
    .await;
}

/// Version 2 of [`one_task`]: "a" is now "a2", and a review follows it.
fn one_task_v2() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a2" name="Check again"/><bpmn:userTask id="review"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "a2"),
        flow("f1", "a2", "review"),
        flow("f2", "review", "e"),
    ))
}

#[tokio::test]
async fn a_migration_moves_the_active_elements_to_the_new_version() {
    each(|runtime, clock, backend| async move {
        let v1 = deploy(&runtime, &one_task()).await;
        let first = runtime
            .start(v1, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        runtime
            .start(v1, Default::default(), None, None)
            .await
            .unwrap();
        deploy(&runtime, &one_task_v2()).await;
        clock.set("2025-01-01T00:01:00Z".parse().unwrap());
        let report = runtime
            .deployments()
            .migrate(
                &admin(Some("olga")),
                "p",
                &Migration {
                    from_version: 1,
                    to_version: 2,
                    mapping: BTreeMap::from([("a".to_string(), "a2".to_string())]),
                    instances: None,
                    dry_run: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(report.moved(), 2, "{backend}");
        checked(
            &runtime,
            StatisticsVersion::Version(1),
            &[("s", (0, 2, 0, 0))],
            backend,
        )
        .await;
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[("a2", (2, 0, 0, 0))],
            backend,
        )
        .await;
        // The time spent counts from the start on the old version.
        clock.set("2025-01-01T00:02:00Z".parse().unwrap());
        let task = runtime.open_task_for(first, "a2").await.unwrap().unwrap();
        runtime
            .complete_task(task.id, Default::default(), None)
            .await
            .unwrap();
        let s = checked(
            &runtime,
            StatisticsVersion::Latest,
            &[("a2", (1, 1, 0, 0)), ("review", (1, 0, 0, 0))],
            backend,
        )
        .await;
        assert_eq!(s.element("a2").unwrap().average_ms, Some(120_000.0));
        checked(
            &runtime,
            StatisticsVersion::All,
            &[
                ("s", (0, 2, 0, 0)),
                ("a2", (1, 1, 0, 0)),
                ("review", (1, 0, 0, 0)),
            ],
            backend,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_instance_counts_cancellations_not_completions() {
    each(|runtime, _clock, backend| async move {
        let def = deploy(&runtime, &split()).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        runtime.cancel(id, Some("admin")).await.unwrap();
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 1, 0, 0)),
                ("fork", (0, 1, 0, 0)),
                ("a", (0, 0, 1, 0)),
                ("b", (0, 0, 1, 0)),
            ],
            backend,
        )
        .await;
    })
    .await;
}

fn failing_script() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:scriptTask id="check" scriptFormat="rhai"><bpmn:script>if amount &gt; 100 {{ throw "too much"; }} let ok = true;</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="e"/>{}{}"#,
        flow("f0", "s", "check"),
        flow("f1", "check", "e"),
    ))
}

#[tokio::test]
async fn incidents_are_counted_while_open() {
    each(|runtime, _clock, backend| async move {
        let def = deploy(&runtime, &failing_script()).await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            ids.push(
                runtime
                    .start(def, obj(json!({"amount": 500})), None, None)
                    .await
                    .unwrap()
                    .instance_id,
            );
        }
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[("s", (0, 2, 0, 0)), ("check", (2, 0, 0, 2))],
            backend,
        )
        .await;
        let incidents = runtime.store().open_incidents(ids[0]).await.unwrap();
        runtime
            .set_variables(ids[0], obj(json!({"amount": 5})), Some("admin"))
            .await
            .unwrap();
        runtime
            .retry_incident(ids[0], incidents[0].incident_key as u64, Some("admin"))
            .await
            .unwrap();
        runtime.cancel(ids[1], Some("admin")).await.unwrap();
        checked(
            &runtime,
            StatisticsVersion::Latest,
            &[
                ("s", (0, 2, 0, 0)),
                ("check", (0, 1, 1, 0)),
                ("e", (0, 1, 0, 0)),
            ],
            backend,
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_route_is_for_admins() {
    for app in TestApp::each().await {
        let b = app.backend;
        app.user("ann", &[]).await;
        let def = deploy(&app.runtime, &one_task()).await;
        app.runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let get = |name: &'static str, path: &'static str| {
            let app = &app;
            let client = client.clone();
            async move {
                let user = app.runtime.user_named(name).await.unwrap().unwrap();
                let (_, token) = app.runtime.create_token(user.id, "tests").await.unwrap();
                let r = client
                    .get(format!("{}{path}", app.base))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                (
                    status,
                    r.json::<serde_json::Value>().await.unwrap_or_default(),
                )
            }
        };
        let (s, body) = get("admin", "/api/v1/definitions/p/statistics").await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert_eq!(body["version"], 1);
        let a = body["elements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["element_id"] == "a")
            .cloned()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(
            (a["active"].as_i64(), a["completed"].as_i64()),
            (Some(1), Some(0))
        );
        let (s, body) = get("admin", "/api/v1/definitions/p/statistics?version=all").await;
        assert_eq!(s, StatusCode::OK, "{b}: {body}");
        assert!(body["version"].is_null(), "{body}");
        let (s, body) = get("admin", "/api/v1/definitions/p/statistics?version=x").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {body}");
        let (s, _) = get("admin", "/api/v1/definitions/nope/statistics").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        let (s, _) = get("ann", "/api/v1/definitions/p/statistics").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        // The definition page draws them for admins only.
        let page = app
            .login("admin", "admin-password")
            .await
            .get("/definitions/p")
            .await
            .body;
        assert!(
            page.contains("<section class=\"statistics\">"),
            "{b}: {page}"
        );
        assert!(page.contains("<td class=\"num\">1</td>"), "{b}: {page}");
        let page = app
            .login("ann", "ann-password")
            .await
            .get("/definitions/p")
            .await
            .body;
        assert!(page.contains("Start an instance"), "{b}: {page}");
        assert!(!page.contains("class=\"statistics\""), "{b}");
        app.stop().await;
    }
}
