//! The job executor on real databases: connector calls against a local HTTP
//! server, retries and incidents, service handlers, timer start events,
//! boundary timers, leases that expire and results that come too late, and
//! races held at the brink of commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bpmn_engine::runtime::jobs::{self, ExecutorConfig};
use bpmn_engine::runtime::{
    ConnectorPolicy, FnHandler, HandlerError, Runtime, RuntimeError, VirtualClock,
};
use bpmn_engine::store::{Acquire, to_db_time};
use serde_json::{Value, json};

use crate::common::db::databases;
use crate::common::remote::{Remote, Reply};
use crate::common::rt;
use crate::common::*;

/// The test server listens on 127.0.0.1, which connector calls may reach
/// only when the allow list names it.
fn allow_local_calls(runtime: Runtime) -> Runtime {
    runtime.with_connector_policy(ConnectorPolicy::new().allowing(["127.0.0.1"]).unwrap())
}

fn executor(owner: &str) -> ExecutorConfig {
    ExecutorConfig::new(owner.to_string())
}

/// Runs `test` on each database with a runtime built by `build` on a virtual clock.
async fn each<B, F, Fut>(build: B, test: F)
where
    B: Fn(Runtime) -> Runtime,
    F: Fn(Arc<Runtime>, Arc<VirtualClock>, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in databases().await {
        let store = db.store().await;
        let clock = Arc::new(VirtualClock::new(t0()));
        let runtime = rt::runtime_on(store, |s| build(Runtime::new(s, clock.clone())));
        test(runtime, clock, db.backend).await;
        db.drop_now().await;
    }
}

async fn deploy_and_start(runtime: &Runtime, xml: &str, vars: Value) -> uuid::Uuid {
    let def = runtime
        .deploy("t.bpmn", xml.as_bytes(), None)
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions[0]
        .id;
    runtime
        .start(def, obj(vars), None, None)
        .await
        .unwrap()
        .instance_id
}

fn connector(inputs: &str, outputs: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="call" name="Call"><bpmn:extensionElements><camunda:connector>
<camunda:inputOutput>{inputs}{outputs}</camunda:inputOutput>
<camunda:connectorId>http-connector</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>
<bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "call"),
        flow("f1", "call", "after")
    ))
}

fn now(clock: &VirtualClock) -> jiff::Timestamp {
    bpmn_engine::runtime::Clock::now(clock)
}

async fn at(clock: &VirtualClock, t: &str) {
    clock.set(t.parse().unwrap());
}

async fn var(runtime: &Runtime, id: uuid::Uuid, name: &str) -> Option<Value> {
    let (_, state) = runtime.instance(id).await.unwrap();
    state.root_variables().get(name).cloned()
}

async fn history_count(runtime: &Runtime, id: uuid::Uuid, kind: &str) -> usize {
    runtime
        .store()
        .history(id)
        .await
        .unwrap()
        .iter()
        .filter(|h| h.kind() == kind)
        .count()
}

#[tokio::test]
async fn a_connector_call_sends_its_inputs_and_maps_the_reply() {
    let remote = Remote::start(|_, _| Reply::json(json!({"id": 7, "status": "created"}))).await;
    let base = remote.base.clone();
    each(
        allow_local_calls,
        |runtime, _, backend| {
            let base = base.clone();
            let remote = &remote;
            async move {
                let before = remote.seen().len();
                let xml = connector(
                    &format!(
                        r#"<camunda:inputParameter name="url">{base}/orders/${{orderId}}</camunda:inputParameter>
<camunda:inputParameter name="method">POST</camunda:inputParameter>
<camunda:inputParameter name="headers"><camunda:map><camunda:entry key="X-Tenant">acme</camunda:entry></camunda:map></camunda:inputParameter>
<camunda:inputParameter name="payload">${{order}}</camunda:inputParameter>"#
                    ),
                    r#"<camunda:outputParameter name="crmId">${response.id}</camunda:outputParameter>
<camunda:outputParameter name="httpStatus">${statusCode}</camunda:outputParameter>
<camunda:outputParameter name="status"/>"#,
                );
                let id = deploy_and_start(
                    &runtime,
                    &xml,
                    json!({"orderId": 42, "order": {"item": "lamp", "qty": 2}}),
                )
                .await;
                let job = runtime.store().jobs_of_instance(id).await.unwrap().remove(0);
                assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
                assert_eq!(var(&runtime, id, "crmId").await, Some(json!(7)), "{backend}");
                assert_eq!(var(&runtime, id, "httpStatus").await, Some(json!(200)));
                assert_eq!(
                    var(&runtime, id, "status").await,
                    Some(json!("created")),
                    "an output parameter without a value takes the reply's field of its name"
                );
                assert!(runtime.open_task_for(id, "after").await.unwrap().is_some());
                let seen = remote.seen();
                assert_eq!(seen.len(), before + 1, "{backend}: called once");
                let req = seen.last().unwrap();
                assert_eq!(req.method, "POST");
                assert_eq!(req.path, "/orders/42");
                assert_eq!(req.idempotency_key, Some(job.id.to_string()));
                assert_eq!(req.content_type.as_deref(), Some("application/json"));
                assert!(req.headers.contains(&("x-tenant".into(), "acme".into())));
                let body: Value = serde_json::from_str(&req.body).unwrap();
                assert_eq!(body, json!({"item": "lamp", "qty": 2}));
                assert!(
                    runtime.store().jobs_of_instance(id).await.unwrap().is_empty(),
                    "the job was consumed"
                );
            }
        },
    )
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn the_old_engines_connector_inputs_become_a_json_body_and_a_query() {
    let remote = Remote::start(|_, _| Reply::json(json!({"ok": true}))).await;
    let base = remote.base.clone();
    each(
        allow_local_calls,
        |runtime, _, _| {
            let base = base.clone();
            let remote = &remote;
            async move {
                let xml = connector(
                    &format!(
                        r#"<camunda:inputParameter name="url">{base}/notify</camunda:inputParameter>
<camunda:inputParameter name="method">PUT</camunda:inputParameter>
<camunda:inputParameter name="customer">${{name}}</camunda:inputParameter>
<camunda:inputParameter name="amount">${{amount * 2}}</camunda:inputParameter>
<camunda:inputParameter name="url_parameter"><camunda:map><camunda:entry key="lang">de</camunda:entry><camunda:entry key="q">a b</camunda:entry></camunda:map></camunda:inputParameter>"#
                    ),
                    "",
                );
                let id =
                    deploy_and_start(&runtime, &xml, json!({"name": "Ann", "amount": 21})).await;
                jobs::run_due(&runtime, &executor("a")).await.unwrap();
                let req = remote.seen().last().unwrap().clone();
                assert_eq!(req.method, "PUT");
                assert_eq!(req.query, "lang=de&q=a+b");
                let body: Value = serde_json::from_str(&req.body).unwrap();
                assert_eq!(body, json!({"customer": "Ann", "amount": 42}));
                assert!(runtime.open_task_for(id, "after").await.unwrap().is_some());
            }
        },
    )
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn a_failing_call_is_retried_with_backoff_then_becomes_an_incident() {
    let remote =
        Remote::start(|_, _| Reply::status(503, "{\"error\": \"database exploded\"}")).await;
    let base = remote.base.clone();
    each(allow_local_calls, |runtime, clock, backend| {
        let base = base.clone();
        let remote = &remote;
        async move {
            remote.answer(|_, _| Reply::status(503, "{\"error\": \"database exploded\"}"));
            let xml = connector(
                &format!(
                    r#"<camunda:inputParameter name="url">{base}/flaky</camunda:inputParameter>"#
                ),
                "",
            );
            let id = deploy_and_start(&runtime, &xml, json!({})).await;
            let job = runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .remove(0);
            let keys = |remote: &Remote| {
                remote
                    .seen()
                    .iter()
                    .filter(|s| s.idempotency_key == Some(job.id.to_string()))
                    .count()
            };
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            let j = runtime.store().job(job.id).await.unwrap().unwrap();
            assert_eq!(j.retries, 2, "{backend}");
            assert!(j.last_error.as_deref().unwrap().contains("503"), "{j:?}");
            assert!(j.lock_owner.is_none());
            assert_eq!(j.due_at, to_db_time(t0()) + chrono::Duration::seconds(2));
            // Not before its pause is over.
            assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 0);
            at(&clock, "2025-01-01T00:00:02Z").await;
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            let j = runtime.store().job(job.id).await.unwrap().unwrap();
            assert_eq!(j.retries, 1);
            assert_eq!(
                j.due_at,
                to_db_time(now(&clock)) + chrono::Duration::seconds(8)
            );
            at(&clock, "2025-01-01T00:00:10Z").await;
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert_eq!(keys(remote), 3, "three attempts, one idempotency key");
            let (_, state) = runtime.instance(id).await.unwrap();
            let incident = state.incidents.values().next().expect("an incident");
            assert_eq!(incident.element, "call");
            assert!(
                incident.message.contains("503") && incident.message.contains("database exploded"),
                "{}",
                incident.message
            );
            assert!(
                runtime
                    .store()
                    .jobs_of_instance(id)
                    .await
                    .unwrap()
                    .is_empty()
            );
            // The remote side is fixed; an admin retries: a new job, a new key.
            remote.answer(|_, _| Reply::json(json!({})));
            let key = *state.incidents.keys().next().unwrap();
            runtime
                .retry_incident(id, key, Some("admin"))
                .await
                .unwrap();
            let again = runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .remove(0);
            assert_ne!(again.id, job.id);
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert!(
                runtime.open_task_for(id, "after").await.unwrap().is_some(),
                "{backend}"
            );
        }
    })
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn failed_job_retry_time_cycle_sets_attempts_and_pause() {
    let remote = Remote::start(|_, _| Reply::status(500, "no")).await;
    let base = remote.base.clone();
    each(
        allow_local_calls,
        |runtime, clock, _| {
            let base = base.clone();
            async move {
                let xml = connector(
                    &format!(r#"<camunda:inputParameter name="url">{base}/x</camunda:inputParameter>"#),
                    "",
                )
                .replace(
                    r#"<bpmn:extensionElements><camunda:connector>"#,
                    r#"<bpmn:extensionElements><camunda:failedJobRetryTimeCycle>R5/PT1M</camunda:failedJobRetryTimeCycle><camunda:connector>"#,
                );
                let id = deploy_and_start(&runtime, &xml, json!({})).await;
                let job = runtime.store().jobs_of_instance(id).await.unwrap().remove(0);
                assert_eq!(job.retries, 5);
                for minute in 0..4 {
                    at(&clock, &format!("2025-01-01T00:{minute:02}:00Z")).await;
                    jobs::run_due(&runtime, &executor("a")).await.unwrap();
                    let j = runtime.store().job(job.id).await.unwrap().unwrap();
                    assert_eq!(j.retries, 4 - minute);
                    assert_eq!(j.due_at, to_db_time(now(&clock)) + chrono::Duration::minutes(1));
                }
                at(&clock, "2025-01-01T00:04:00Z").await;
                jobs::run_due(&runtime, &executor("a")).await.unwrap();
                let (_, state) = runtime.instance(id).await.unwrap();
                assert_eq!(state.display_status(), "incident");
            }
        },
    )
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn a_call_without_a_reply_in_time_fails() {
    let remote = Remote::start(|_, _| Reply::json(json!({})).after(Duration::from_secs(3))).await;
    let base = remote.base.clone();
    each(allow_local_calls, |runtime, _, _| {
        let base = base.clone();
        async move {
            let xml = connector(
                &format!(
                    r#"<camunda:inputParameter name="url">{base}/slow</camunda:inputParameter>
<camunda:inputParameter name="timeout">PT0.3S</camunda:inputParameter>"#
                ),
                "",
            );
            let id = deploy_and_start(&runtime, &xml, json!({})).await;
            let job = runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .remove(0);
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            let j = runtime.store().job(job.id).await.unwrap().unwrap();
            assert!(
                j.last_error
                    .as_deref()
                    .unwrap()
                    .contains("no reply within 0.3 s"),
                "{:?}",
                j.last_error
            );
        }
    })
    .await;
    remote.stop().await;
}

fn handler_diagram(name: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="h" camunda:delegateExpression="${{{name}}}"/><bpmn:userTask id="after"/>{}{}"#,
        flow("f0", "s", "h"),
        flow("f1", "h", "after")
    ))
}

#[tokio::test]
async fn service_handlers_are_named_at_start_up_and_called_by_the_executor() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    each(
        move |r| {
            let c = c.clone();
            let seen = seen.clone();
            r.with_handler(
                "scoreCustomer",
                Arc::new(FnHandler(
                    move |call: &bpmn_engine::runtime::ServiceCall| {
                        c.fetch_add(1, Ordering::SeqCst);
                        let name = call
                            .variables
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        // Each job's first attempt fails.
                        if seen.lock().unwrap().insert(call.job_id) {
                            return Err(HandlerError("scoring service warming up".into()));
                        }
                        Ok(obj(
                            json!({"score": name.len() * 10, "job": call.job_id.to_string()}),
                        ))
                    },
                )),
            )
        },
        |runtime, clock, backend| async move {
            let unknown = runtime
                .deploy("u.bpmn", handler_diagram("nobodyHere").as_bytes(), None)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                unknown.contains("no service handler named \"nobodyHere\" is registered"),
                "{unknown}"
            );
            let id = deploy_and_start(
                &runtime,
                &handler_diagram("scoreCustomer"),
                json!({"name": "Ann"}),
            )
            .await;
            let job = runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .remove(0);
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert_eq!(
                var(&runtime, id, "score").await,
                None,
                "{backend}: the first attempt failed"
            );
            at(&clock, "2025-01-01T00:00:02Z").await;
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert_eq!(
                var(&runtime, id, "score").await,
                Some(json!(30)),
                "{backend}"
            );
            assert_eq!(
                var(&runtime, id, "job").await,
                Some(json!(job.id.to_string()))
            );
        },
    )
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2 * databases().await.len());
}

fn timer_start(cycle: &str) -> String {
    process(&format!(
        r#"<bpmn:startEvent id="tick"><bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent><bpmn:userTask id="t"/>{}"#,
        flow("f0", "tick", "t")
    ))
}

#[tokio::test]
async fn timer_start_events_start_instances_on_their_schedule() {
    each(
        |r| r,
        |runtime, clock, backend| async move {
            runtime
                .deploy("tick.bpmn", timer_start("R2/PT1H").as_bytes(), None)
                .await
                .unwrap();
            let timers = runtime.store().start_timers("p").await.unwrap();
            assert_eq!(timers.len(), 1, "{backend}");
            assert_eq!(
                timers[0].due_at,
                to_db_time(t0()) + chrono::Duration::hours(1)
            );
            assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 0);
            at(&clock, "2025-01-01T01:00:00Z").await;
            assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
            assert_eq!(runtime.store().count_instances().await.unwrap(), 1);
            assert_eq!(
                jobs::run_due(&runtime, &executor("b")).await.unwrap(),
                0,
                "fires once"
            );
            let next = runtime.store().start_timers("p").await.unwrap();
            assert_eq!(
                next[0].due_at,
                to_db_time(t0()) + chrono::Duration::hours(2)
            );
            at(&clock, "2025-01-01T02:00:00Z").await;
            jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert_eq!(runtime.store().count_instances().await.unwrap(), 2);
            assert!(
                runtime.store().start_timers("p").await.unwrap().is_empty(),
                "R2: done after two"
            );
            // A new version replaces the schedule; redeploying the same content keeps it.
            runtime
                .deploy("tick.bpmn", timer_start("0 0 9 * * *").as_bytes(), None)
                .await
                .unwrap();
            let cron = runtime.store().start_timers("p").await.unwrap();
            assert_eq!(cron.len(), 1);
            assert_eq!(
                cron[0].due_at,
                to_db_time("2025-01-01T09:00:00Z".parse().unwrap())
            );
            runtime
                .deploy("tick.bpmn", timer_start("0 0 9 * * *").as_bytes(), None)
                .await
                .unwrap();
            assert_eq!(runtime.store().start_timers("p").await.unwrap(), cron);
            let plain = process(&format!(
                r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t"/>{}"#,
                flow("f0", "s", "t")
            ));
            runtime
                .deploy("tick.bpmn", plain.as_bytes(), None)
                .await
                .unwrap();
            assert!(
                runtime.store().start_timers("p").await.unwrap().is_empty(),
                "{backend}: a version without timer start events has no schedule"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_boundary_timer_withdraws_the_task_from_the_inbox() {
    each(
        |r| r,
        |runtime, clock, backend| async move {
            let xml = process(&format!(
                r#"<bpmn:startEvent id="s"/><bpmn:userTask id="approve"/><bpmn:endEvent id="e"/>
<bpmn:boundaryEvent id="late" attachedToRef="approve"><bpmn:timerEventDefinition><bpmn:timeDuration>PT48H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:userTask id="escalate"/>{}{}{}"#,
                flow("f0", "s", "approve"),
                flow("f1", "approve", "e"),
                flow("f2", "late", "escalate")
            ));
            let id = deploy_and_start(&runtime, &xml, json!({})).await;
            let task = runtime.open_task_for(id, "approve").await.unwrap().unwrap();
            at(&clock, "2025-01-03T00:00:00Z").await;
            assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
            let task = runtime.store().task(task.id).await.unwrap().unwrap();
            assert_eq!(task.state, "cancelled", "{backend}");
            assert!(runtime.open_task_for(id, "escalate").await.unwrap().is_some());
            let err = runtime
                .complete_task(task.id, Default::default(), Some("ann"))
                .await
                .unwrap_err();
            assert!(matches!(err, RuntimeError::Conflict(_)), "{err}");
        },
    )
    .await;
}

#[tokio::test]
async fn an_expired_lease_passes_the_job_on_and_the_late_result_is_refused() {
    let remote = Remote::start(|_, _| Reply::json(json!({"n": 1}))).await;
    let base = remote.base.clone();
    each(allow_local_calls, |runtime, clock, backend| {
        let base = base.clone();
        let remote = &remote;
        async move {
            let xml = connector(
                &format!(
                    r#"<camunda:inputParameter name="url">{base}/once</camunda:inputParameter>"#
                ),
                r#"<camunda:outputParameter name="n"/>"#,
            );
            let id = deploy_and_start(&runtime, &xml, json!({})).await;
            // Executor "a" leases the job and makes the call, then its process dies.
            let now = to_db_time(runtime.lease_now());
            let leased = runtime
                .store()
                .acquire_jobs(Acquire {
                    kinds: &bpmn_engine::engine::JobType::LOCAL,
                    owner: "a",
                    now,
                    until: now + chrono::Duration::seconds(30),
                    limit: 10,
                })
                .await
                .unwrap();
            assert_eq!(leased.len(), 1, "{backend}");
            let job = leased[0].clone();
            let (a_result, _) = jobs::perform(&runtime, &job).await.unwrap();
            // While the lease lasts, nobody else takes it.
            assert_eq!(jobs::run_due(&runtime, &executor("b")).await.unwrap(), 0);
            assert_eq!(runtime.store().held_leases(now).await.unwrap(), 1);
            // After it, "b" runs the job (the call goes out again, same key) and commits.
            at(&clock, "2025-01-01T00:00:31Z").await;
            assert_eq!(jobs::run_due(&runtime, &executor("b")).await.unwrap(), 1);
            assert!(runtime.open_task_for(id, "after").await.unwrap().is_some());
            let keys = remote
                .seen()
                .iter()
                .filter(|s| s.idempotency_key == Some(job.id.to_string()))
                .count();
            assert_eq!(keys, 2, "at-least-once delivery, one key");
            // "a" comes back with its result: refused, nothing changes.
            let late = jobs::commit_result(&runtime, &job, Some("a"), a_result)
                .await
                .unwrap_err();
            assert!(
                matches!(late, RuntimeError::Conflict(_)),
                "{backend}: {late}"
            );
            assert_eq!(
                history_count(&runtime, id, "job_completed").await,
                1,
                "{backend}"
            );
            assert_eq!(
                runtime
                    .store()
                    .held_leases(to_db_time(runtime.lease_now()))
                    .await
                    .unwrap(),
                0
            );
        }
    })
    .await;
    remote.stop().await;
}

#[tokio::test]
async fn the_sweeper_frees_what_dead_processes_held() {
    each(
        |r| r,
        |runtime, clock, backend| async move {
            let xml = process(&format!(
                r#"<bpmn:startEvent id="s"/><bpmn:task id="t" camunda:asyncBefore="true"/><bpmn:endEvent id="e"/>{}{}"#,
                flow("f0", "s", "t"),
                flow("f1", "t", "e")
            ));
            deploy_and_start(&runtime, &xml, json!({})).await;
            let now = to_db_time(runtime.lease_now());
            let a = Acquire {
                kinds: &bpmn_engine::engine::JobType::LOCAL,
                owner: "dead",
                now,
                until: now + chrono::Duration::seconds(5),
                limit: 10,
            };
            assert_eq!(runtime.store().acquire_jobs(a).await.unwrap().len(), 1);
            assert_eq!(runtime.store().acquire_jobs(Acquire { owner: "other", ..a }).await.unwrap().len(), 0, "{backend}");
            assert_eq!(runtime.store().sweep_leases(now).await.unwrap(), 0, "not expired yet");
            at(&clock, "2025-01-01T00:00:06Z").await;
            let later = to_db_time(runtime.lease_now());
            assert_eq!(runtime.store().sweep_leases(later).await.unwrap(), 1);
            assert_eq!(runtime.store().held_leases(now).await.unwrap(), 0);
        },
    )
    .await;
}

/// A parallel join whose last two branches complete in two commands held just
/// before commit; released in `first`'s order.
async fn competing_join(runtime: Arc<Runtime>, backend: &str, release_a_first: bool) {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/>
<bpmn:parallelGateway id="join"/><bpmn:userTask id="after"/>{}{}{}{}{}{}"#,
        flow("f0", "s", "fork"),
        flow("f1", "fork", "a"),
        flow("f2", "fork", "b"),
        flow("f3", "a", "join"),
        flow("f4", "b", "join"),
        flow("f5", "join", "after")
    ));
    let id = deploy_and_start(&runtime, &xml, json!({})).await;
    let ta = runtime.open_task_for(id, "a").await.unwrap().unwrap();
    let tb = runtime.open_task_for(id, "b").await.unwrap().unwrap();
    // The first command to reach its commit waits there until released.
    let (release, wait) = tokio::sync::watch::channel(false);
    let (reached_tx, mut reached) = tokio::sync::mpsc::unbounded_channel::<()>();
    let held = Arc::new(AtomicUsize::new(0));
    {
        let held = held.clone();
        runtime.set_before_commit(Some(Arc::new(move |_| {
            let mut wait = wait.clone();
            let first = held.fetch_add(1, Ordering::SeqCst) == 0;
            let reached_tx = reached_tx.clone();
            Box::pin(async move {
                if first {
                    let _ = reached_tx.send(());
                    while !*wait.borrow() {
                        if wait.changed().await.is_err() {
                            break;
                        }
                    }
                }
            })
        })));
    }
    let (first, second) = if release_a_first {
        (ta.id, tb.id)
    } else {
        (tb.id, ta.id)
    };
    let r1 = runtime.clone();
    let one =
        tokio::spawn(async move { r1.complete_task(first, Default::default(), Some("x")).await });
    reached.recv().await.unwrap();
    let r2 = runtime.clone();
    let two = tokio::spawn(async move {
        r2.complete_task(second, Default::default(), Some("y"))
            .await
    });
    // The second command cannot get past the first's hold on the instance.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !two.is_finished(),
        "{backend}: the second waits for the first"
    );
    release.send(true).unwrap();
    one.await.unwrap().unwrap();
    two.await.unwrap().unwrap();
    runtime.set_before_commit(None);
    let joins = runtime
        .store()
        .history(id)
        .await
        .unwrap()
        .iter()
        .filter(|h| h.kind() == "join_fired")
        .count();
    assert_eq!(joins, 1, "{backend}: the join fires exactly once");
    let after: Vec<_> = runtime
        .store()
        .open_tasks(id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.element_id)
        .collect();
    assert_eq!(after, ["after"], "{backend}");
}

#[tokio::test]
async fn a_competing_join_fires_once_in_both_orders() {
    each(
        |r| r,
        |runtime, _, backend| async move {
            competing_join(runtime.clone(), backend, true).await;
            competing_join(runtime, backend, false).await;
        },
    )
    .await;
}

/// A worker's `bpmn-error` on a real database: the error boundary event takes
/// over, the job is gone, and the error code is in the variables.
#[tokio::test]
async fn a_worker_error_is_caught_by_the_boundary_event_of_its_task() {
    let xml = process(&format!(
        r#"<bpmn:startEvent id="s"/><bpmn:serviceTask id="work" camunda:type="external" camunda:topic="stock"/>
<bpmn:boundaryEvent id="caught" attachedToRef="work"><bpmn:errorEventDefinition errorRef="E" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent>
<bpmn:userTask id="handle"/><bpmn:endEvent id="e"/>{}{}{}"#,
        flow("f0", "s", "work"),
        flow("f1", "work", "e"),
        flow("f2", "caught", "handle"),
    ))
    .replace(
        "</bpmn:definitions>",
        r#"<bpmn:error id="E" errorCode="OUT_OF_STOCK"/></bpmn:definitions>"#,
    );
    each(
        |r| r,
        |runtime, _clock, backend| {
            let xml = xml.clone();
            async move {
                let id = deploy_and_start(&runtime, &xml, json!({})).await;
                let locked = runtime
                    .work()
                    .fetch_and_lock(
                        &rt::admin(None),
                        "w1",
                        1,
                        &[bpmn_engine::runtime::TopicRequest::new(
                            "stock",
                            Duration::from_secs(60),
                        )],
                        Duration::ZERO,
                    )
                    .await
                    .unwrap();
                assert_eq!(locked.len(), 1, "{backend}");
                runtime
                    .work()
                    .bpmn_error(
                        &rt::admin(None),
                        locked[0].id,
                        "w1",
                        "OUT_OF_STOCK",
                        "empty",
                    )
                    .await
                    .unwrap();
                let tasks: Vec<String> = runtime
                    .store()
                    .open_tasks(id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.element_id)
                    .collect();
                assert_eq!(tasks, ["handle"], "{backend}");
                assert!(
                    runtime
                        .store()
                        .jobs_of_instance(id)
                        .await
                        .unwrap()
                        .is_empty(),
                    "{backend}: the worker's job is gone"
                );
                assert_eq!(
                    var(&runtime, id, "code").await,
                    Some(json!("OUT_OF_STOCK")),
                    "{backend}"
                );
                // The same report again is refused: the task is no longer there.
                assert!(
                    runtime
                        .work()
                        .bpmn_error(
                            &rt::admin(None),
                            locked[0].id,
                            "w1",
                            "OUT_OF_STOCK",
                            "empty"
                        )
                        .await
                        .is_err(),
                    "{backend}"
                );
            }
        },
    )
    .await;
}

/// One executable process `id` with the signal `alarm` and the messages
/// `paid` and `invoice-requested` declared.
fn messaging_process(id: &str, inner: &str) -> String {
    definitions(&format!(
        r#"<bpmn:process id="{id}" isExecutable="true">{inner}</bpmn:process>
<bpmn:signal id="S_alarm" name="alarm"/><bpmn:message id="M_paid" name="paid"/><bpmn:message id="M_invoice" name="invoice-requested"/>"#
    ))
}

async fn deploy(runtime: &Runtime, xml: &str) -> i64 {
    runtime
        .deploy("m.bpmn", xml.as_bytes(), None)
        .await
        .unwrap_or_else(|e| panic!("deploy: {e}"))
        .definitions[0]
        .id
}

async fn open_tasks(runtime: &Runtime, id: uuid::Uuid) -> Vec<String> {
    runtime
        .store()
        .open_tasks(id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.element_id)
        .collect()
}

/// Signals reach every catcher and start every signal start event; a thrown
/// message reaches the instance with the sender's business key; a message
/// nobody waits for starts a process with that message start event.
#[tokio::test]
async fn signals_and_thrown_messages_cross_instances() {
    each(
        |r| r,
        |runtime, _clock, backend| async move {
            let listener = deploy(
                &runtime,
                &messaging_process(
                    "listener",
                    &format!(
                        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:intermediateCatchEvent><bpmn:userTask id="react"/>{}{}"#,
                        flow("f0", "s", "wait"),
                        flow("f1", "wait", "react")
                    ),
                ),
            )
            .await;
            deploy(
                &runtime,
                &messaging_process(
                    "starter",
                    &format!(
                        r#"<bpmn:startEvent id="on_alarm"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:startEvent><bpmn:userTask id="started"/>{}"#,
                        flow("f0", "on_alarm", "started")
                    ),
                ),
            )
            .await;
            let l1 = runtime.start(listener, obj(json!({})), None, None).await.unwrap().instance_id;
            let l2 = runtime.start(listener, obj(json!({})), None, None).await.unwrap().instance_id;
            // A message of the same name does not reach signal catchers.
            assert!(matches!(
                runtime
                    .deliver_message("alarm", Default::default(), Default::default(), false, None)
                    .await,
                Err(RuntimeError::NotFound(_))
            ));
            let b = runtime
                .work()
                .signal(&rt::admin(None), "alarm", obj(json!({"level": 3})))
                .await
                .unwrap();
            assert_eq!(b.delivered.len(), 2, "{backend}");
            assert_eq!(b.started.len(), 1, "{backend}");
            assert_eq!(open_tasks(&runtime, l1).await, ["react"], "{backend}");
            assert_eq!(open_tasks(&runtime, l2).await, ["react"], "{backend}");
            assert_eq!(var(&runtime, l2, "level").await, Some(json!(3)));
            assert_eq!(
                open_tasks(&runtime, b.started[0].instance_id).await,
                ["started"],
                "{backend}"
            );

            // A thrown message goes to the waiting instance with the same business key.
            let shipper = deploy(
                &runtime,
                &messaging_process(
                    "shipper",
                    &format!(
                        r#"<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="M_paid"/></bpmn:intermediateCatchEvent><bpmn:userTask id="ship"/>{}{}"#,
                        flow("f0", "s", "wait"),
                        flow("f1", "wait", "ship")
                    ),
                ),
            )
            .await;
            let payer = deploy(
                &runtime,
                &messaging_process(
                    "payer",
                    &format!(
                        r#"<bpmn:startEvent id="s"/><bpmn:endEvent id="pay"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="amount">${{price}}</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements><bpmn:messageEventDefinition messageRef="M_paid"/></bpmn:endEvent>{}"#,
                        flow("f0", "s", "pay")
                    ),
                ),
            )
            .await;
            let other = runtime
                .start(shipper, obj(json!({})), Some("order-6".into()), None)
                .await
                .unwrap()
                .instance_id;
            let mine = runtime
                .start(shipper, obj(json!({})), Some("order-7".into()), None)
                .await
                .unwrap()
                .instance_id;
            let paying = runtime
                .start(payer, obj(json!({"price": 99})), Some("order-7".into()), None)
                .await
                .unwrap()
                .instance_id;
            let ran = jobs::run_due(&runtime, &executor("a")).await.unwrap();
            assert!(ran >= 1, "{backend}");
            assert_eq!(open_tasks(&runtime, mine).await, ["ship"], "{backend}");
            assert_eq!(var(&runtime, mine, "amount").await, Some(json!(99)));
            assert!(open_tasks(&runtime, other).await.is_empty(), "{backend}");
            let (row, _) = runtime.instance(paying).await.unwrap();
            assert_eq!(row.status, "completed", "{backend}");

            // Nobody waits: the message start event starts a process.
            deploy(
                &runtime,
                &messaging_process(
                    "invoicing",
                    &format!(
                        r#"<bpmn:startEvent id="on_request"><bpmn:messageEventDefinition messageRef="M_invoice"/></bpmn:startEvent><bpmn:userTask id="invoice"/>{}"#,
                        flow("f0", "on_request", "invoice")
                    ),
                ),
            )
            .await;
            let d = runtime
                .deliver_message(
                    "invoice-requested",
                    bpmn_engine::runtime::Correlation {
                        business_key: Some("order-8"),
                        ..Default::default()
                    },
                    obj(json!({"total": 5})),
                    false,
                    None,
                )
                .await
                .unwrap();
            assert_eq!(d.len(), 1, "{backend}");
            assert_eq!(d[0].element_id, "on_request");
            assert_eq!(open_tasks(&runtime, d[0].instance_id).await, ["invoice"]);
            let (row, _) = runtime.instance(d[0].instance_id).await.unwrap();
            assert_eq!(row.business_key.as_deref(), Some("order-8"), "{backend}");
        },
    )
    .await;
}

#[tokio::test]
async fn connector_replies_map_to_bpmn_errors_and_unmapped_failures_are_incidents() {
    let remote = Remote::start(|seen, _| {
        if seen.path.ends_with("/missing") {
            Reply::status(404, "no such order")
        } else {
            Reply::status(500, "boom")
        }
    })
    .await;
    let base = remote.base.clone();
    each(
        allow_local_calls,
        |runtime, _, backend| {
            let base = base.clone();
            async move {
                let xml = process(&format!(
                    r#"<bpmn:startEvent id="s"/>
<bpmn:serviceTask id="call"><bpmn:extensionElements>
  <camunda:connector><camunda:inputOutput><camunda:inputParameter name="url">{base}/orders/${{which}}</camunda:inputParameter></camunda:inputOutput><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>
  <camunda:errorEventDefinition id="map404" errorRef="E_missing" expression="${{statusCode == 404}}"/>
</bpmn:extensionElements></bpmn:serviceTask>
<bpmn:boundaryEvent id="b" attachedToRef="call"><bpmn:errorEventDefinition errorRef="E_missing" camunda:errorCodeVariable="code"/></bpmn:boundaryEvent>
<bpmn:userTask id="after"/><bpmn:userTask id="missing"/>{}{}{}"#,
                    flow("f0", "s", "call"),
                    flow("f1", "call", "after"),
                    flow("f2", "b", "missing")
                ))
                .replace(
                    "</bpmn:definitions>",
                    r#"<bpmn:error id="E_missing" errorCode="ORDER_MISSING"/></bpmn:definitions>"#,
                );
                // A 404 is the mapped BPMN error: the boundary event takes over.
                let id = deploy_and_start(&runtime, &xml, json!({"which": "missing"})).await;
                assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
                assert!(runtime.open_task_for(id, "missing").await.unwrap().is_some(), "{backend}");
                assert_eq!(var(&runtime, id, "code").await, Some(json!("ORDER_MISSING")));
                // A 500 nothing maps: an incident at once (the reply came back; no retry).
                let id = deploy_and_start(&runtime, &xml, json!({"which": "other"})).await;
                assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
                let (_, state) = runtime.instance(id).await.unwrap();
                let incident = state.incidents.values().next().expect("an incident");
                assert!(incident.message.contains("answered 500"), "{}", incident.message);
            }
        },
    )
    .await;
}

/// An event-based gateway that starts the process: an order arrives by
/// message, a cancellation by signal, or a daily timer starts a reminder.
fn instantiating_gateway() -> String {
    messaging_process(
        "p",
        &format!(
            r#"<bpmn:eventBasedGateway id="g" instantiate="true"/>
<bpmn:intermediateCatchEvent id="on_order"><bpmn:messageEventDefinition messageRef="M_invoice"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="on_alarm"><bpmn:signalEventDefinition signalRef="S_alarm"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="on_time"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:userTask id="invoice"/><bpmn:userTask id="alarm"/><bpmn:userTask id="remind"/>{}{}{}{}{}{}"#,
            flow("g1", "g", "on_order"),
            flow("g2", "g", "on_alarm"),
            flow("g3", "g", "on_time"),
            flow("f1", "on_order", "invoice"),
            flow("f2", "on_alarm", "alarm"),
            flow("f3", "on_time", "remind"),
        ),
    )
}

#[tokio::test]
async fn an_instantiating_event_gateway_starts_an_instance_at_the_first_event() {
    each(
        |r| r,
        |runtime, clock, backend| async move {
            deploy(&runtime, &instantiating_gateway()).await;
            let d = runtime
                .deliver_message(
                    "invoice-requested",
                    bpmn_engine::runtime::Correlation::default(),
                    obj(json!({"total": 5})),
                    false,
                    None,
                )
                .await
                .unwrap();
            assert_eq!(d.len(), 1, "{backend}");
            assert_eq!(d[0].element_id, "on_order");
            let id = d[0].instance_id;
            assert_eq!(open_tasks(&runtime, id).await, ["invoice"], "{backend}");
            assert_eq!(var(&runtime, id, "total").await, Some(json!(5)));
            assert_eq!(
                history_count(&runtime, id, "element_completed").await,
                2,
                "gateway and event"
            );

            let b = runtime
                .work()
                .signal(&rt::admin(None), "alarm", obj(json!({})))
                .await
                .unwrap();
            assert_eq!(b.started.len(), 1, "{backend}");
            assert_eq!(
                open_tasks(&runtime, b.started[0].instance_id).await,
                ["alarm"]
            );

            // The timer counts from the deployment, as a timer start event does.
            assert_eq!(runtime.store().start_timers("p").await.unwrap().len(), 1);
            at(&clock, "2025-01-01T01:00:00Z").await;
            assert_eq!(jobs::run_due(&runtime, &executor("a")).await.unwrap(), 1);
            assert_eq!(
                runtime.store().count_instances().await.unwrap(),
                3,
                "{backend}"
            );
        },
    )
    .await;
}

/// Completes the open task of `element` in instance `id`.
async fn complete_open(runtime: &Runtime, id: uuid::Uuid, element: &str, vars: Value) {
    let task = runtime
        .open_task_for(id, element)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no open task for {element}"));
    runtime
        .complete_task(task.id, obj(vars), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn complex_gateways_ad_hoc_and_compensation_event_subprocesses_run_in_the_store() {
    let example = |name: &str| {
        std::fs::read_to_string(format!("{}/bpmn/{name}.bpmn", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    each(
        |r| r,
        |runtime, _, backend| {
            let (complex, ad_hoc, esp) = (
                example("complex-gateway"),
                example("ad-hoc-subprocess"),
                example("compensation-event-subprocess"),
            );
            async move {
                let id = deploy_and_start(&runtime, &complex, json!({})).await;
                complete_open(&runtime, id, "Task_review_2", json!({"approvals": 0})).await;
                complete_open(&runtime, id, "Task_review_3", json!({"approvals": 1})).await;
                assert_eq!(
                    open_tasks(&runtime, id).await,
                    ["Task_review_1", "Task_accept"],
                    "{backend}"
                );
                let (_, state) = runtime.instance(id).await.unwrap();
                assert_eq!(
                    state.resetting.len(),
                    1,
                    "{backend}: stored while waiting for reset"
                );
                complete_open(&runtime, id, "Task_review_1", json!({})).await;
                assert_eq!(open_tasks(&runtime, id).await, ["Task_accept"], "{backend}");
                complete_open(&runtime, id, "Task_accept", json!({})).await;
                let (row, _) = runtime.instance(id).await.unwrap();
                assert_eq!(row.status, "completed", "{backend}");

                let id = deploy_and_start(&runtime, &ad_hoc, json!({})).await;
                complete_open(&runtime, id, "Task_archive", json!({"enough": false})).await;
                complete_open(&runtime, id, "Task_interview", json!({"enough": true})).await;
                assert_eq!(open_tasks(&runtime, id).await, ["Task_write"], "{backend}");

                let id = deploy_and_start(&runtime, &esp, json!({})).await;
                complete_open(&runtime, id, "Task_book_hotel", json!({})).await;
                complete_open(&runtime, id, "Task_book_flight", json!({})).await;
                complete_open(&runtime, id, "Task_confirm", json!({"confirmed": false})).await;
                for task in [
                    "Task_cancel_flight",
                    "Task_cancel_hotel",
                    "Task_inform_customer",
                ] {
                    assert_eq!(open_tasks(&runtime, id).await, [task], "{backend}");
                    complete_open(&runtime, id, task, json!({})).await;
                }
                let (row, _) = runtime.instance(id).await.unwrap();
                assert_eq!(row.status, "completed", "{backend}");
            }
        },
    )
    .await;
}
