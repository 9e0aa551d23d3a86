//! The runtime on a real database (SQLite, and PostgreSQL when
//! `BPMN_TEST_DATABASE_URL` is set): deployments, one command per transaction,
//! the version check, history, inbox rows, jobs, subscriptions and incidents.

use std::sync::Arc;

use bpmn_engine::engine::Event;
use bpmn_engine::runtime::{Runtime, RuntimeError, VirtualClock};
use bpmn_engine::store::{InstanceUpdate, Store, StoreError, Unmet, to_db_time};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::common::db::{TestDb, each_db};
use crate::common::*;

async fn demo(runtime: &Runtime) -> i64 {
    let r = runtime
        .deploy("demo.bpmn", &demo_bytes(), Some("admin"))
        .await
        .unwrap();
    r.definitions[0].id
}

async fn history_kinds(runtime: &Runtime, id: uuid::Uuid) -> Vec<(i64, String)> {
    runtime
        .store()
        .history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.seq, h.kind()))
        .collect()
}

#[tokio::test]
async fn deploying_the_same_content_makes_no_new_version() {
    each_db(|runtime, _, backend| async move {
        let first = runtime
            .deploy("demo.bpmn", &demo_bytes(), None)
            .await
            .unwrap();
        let d = &first.definitions[0];
        assert_eq!(
            (d.key.as_str(), d.version, d.created, d.is_default),
            ("demo", 1, true, true),
            "{backend}"
        );
        assert!(
            first
                .warnings
                .iter()
                .any(|w| w.element.as_deref() == Some("t3"))
        );
        let again = runtime
            .deploy("demo.bpmn", &demo_bytes(), None)
            .await
            .unwrap();
        assert_eq!(
            (again.definitions[0].id, again.definitions[0].created),
            (d.id, false),
            "{backend}"
        );
        let changed = String::from_utf8(demo_bytes())
            .unwrap()
            .replace("Which option?", "Which way?");
        let v2 = runtime
            .deploy("demo.bpmn", changed.as_bytes(), None)
            .await
            .unwrap();
        assert_eq!(
            (v2.definitions[0].version, v2.definitions[0].created),
            (2, true),
            "{backend}"
        );
        let broken = changed.replace(r#"targetRef="tup""#, r#"targetRef="nowhere""#);
        match runtime.deploy("demo.bpmn", broken.as_bytes(), None).await {
            Err(RuntimeError::Invalid(e)) => {
                assert!(e.to_string().contains("targetRef \"nowhere\""), "{e}")
            }
            other => panic!("{backend}: {other:?}"),
        }
        assert_eq!(
            runtime.store().definitions().await.unwrap().len(),
            2,
            "{backend}: nothing stored for the broken file"
        );
    })
    .await;
}

#[tokio::test]
async fn a_latin1_file_is_stored_as_utf8_and_reads_back_the_same() {
    each_db(|runtime, clock, backend| async move {
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:userTask id="t" name="Prüfen"/>{}"#,
            flow("f", "s", "t")
        ))
        .replace(r#"encoding="UTF-8""#, r#"encoding="ISO-8859-1""#);
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&xml);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the test file really is Latin-1"
        );
        let id = runtime
            .deploy("latin.bpmn", &bytes, None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        // A second runtime has an empty cache: it parses the stored source.
        let fresh = Runtime::new(runtime.store().clone(), clock.clone());
        let deployed = fresh.deployed(id).await.unwrap();
        assert_eq!(
            deployed.process().node("t").unwrap().name.as_deref(),
            Some("Prüfen"),
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_command_is_one_transaction_with_history_tasks_and_candidates() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let started = runtime
            .start(def, Default::default(), Some("order-1".into()), Some("ann"))
            .await
            .unwrap();
        let id = started.instance_id;
        let tasks = runtime.store().open_tasks(id).await.unwrap();
        assert_eq!(tasks.len(), 1, "{backend}");
        let t0 = &tasks[0];
        assert_eq!(
            (t0.element_id.as_str(), t0.name.as_deref(), t0.priority),
            ("t0", Some("Which option?"), 50)
        );
        let candidates = runtime.store().candidates(t0.id).await.unwrap();
        assert_eq!(
            candidates
                .iter()
                .map(|c| (c.kind.as_str(), c.name.as_str()))
                .collect::<Vec<_>>(),
            [("group", "Marko")]
        );

        // Invalid values: refused, nothing written.
        let (row_before, _) = runtime.instance(id).await.unwrap();
        let err = runtime
            .complete_task(t0.id, obj(json!({"option": 7})), Some("ann"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, RuntimeError::InvalidVariables(ref e) if e[0].field == "option"),
            "{backend}: {err}"
        );
        let (row_after, _) = runtime.instance(id).await.unwrap();
        assert_eq!(
            row_before, row_after,
            "{backend}: a refused command changes nothing"
        );

        runtime
            .complete_task(t0.id, obj(json!({"option": 1})), Some("ann"))
            .await
            .unwrap();
        let (row, state) = runtime.instance(id).await.unwrap();
        assert_eq!(row.version, 2, "{backend}");
        assert_eq!(state.root_variables().get("option"), Some(&json!(1)));
        let done = runtime.store().task(t0.id).await.unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.completed_by.as_deref()),
            ("completed", Some("ann"))
        );
        let open: Vec<String> = runtime
            .store()
            .open_tasks(id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.element_id)
            .collect();
        assert_eq!(open, ["tdown", "tup"], "{backend}");

        for el in ["tup", "tdown", "tup2"] {
            let t = runtime.open_task_for(id, el).await.unwrap().unwrap();
            runtime
                .complete_task(t.id, Default::default(), Some("bob"))
                .await
                .unwrap();
        }
        let (row, state) = runtime.instance(id).await.unwrap();
        assert_eq!(
            (row.status.as_str(), row.has_incident),
            ("completed", false),
            "{backend}"
        );
        assert!(row.ended_at.is_some());
        assert_eq!(state.display_status(), "completed");

        let history = runtime.store().history(id).await.unwrap();
        let seqs: Vec<i64> = history.iter().map(|h| h.seq).collect();
        assert_eq!(
            seqs,
            (1..=history.len() as i64).collect::<Vec<_>>(),
            "{backend}: no gaps, no duplicates"
        );
        assert_eq!(row.last_seq, history.len() as i64);
        for h in &history {
            let e: Event = serde_json::from_value(h.payload.clone()).unwrap();
            assert_eq!(Some(&e), h.event.as_ref());
        }
        assert_eq!(history.first().unwrap().user_name.as_deref(), Some("ann"));
        assert_eq!(history.last().unwrap().kind(), "instance_completed");
        assert_eq!(history.last().unwrap().user_name.as_deref(), Some("bob"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_completions_of_one_task_one_wins_one_conflicts() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        for _ in 0..5 {
            let id = runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap()
                .instance_id;
            let t0 = runtime.open_task_for(id, "t0").await.unwrap().unwrap();
            let (a, b) = (runtime.clone(), runtime.clone());
            let vars = obj(json!({"option": 2}));
            let (ra, rb) = tokio::join!(
                tokio::spawn({
                    let v = vars.clone();
                    async move { a.complete_task(t0.id, v, Some("a")).await }
                }),
                tokio::spawn(async move { b.complete_task(t0.id, vars, Some("b")).await })
            );
            let results = [ra.unwrap(), rb.unwrap()];
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{backend}: exactly one wins"
            );
            let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
            assert!(
                matches!(loser, RuntimeError::Conflict(m) if m.contains("already completed")),
                "{backend}: {loser}"
            );
            let completions = runtime
                .store()
                .history(id)
                .await
                .unwrap()
                .into_iter()
                .filter(|h| h.kind() == "task_completed")
                .count();
            assert_eq!(completions, 1, "{backend}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_refused() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let started = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap();
        let row = runtime
            .store()
            .instance(started.instance_id)
            .await
            .unwrap()
            .unwrap();
        let update = InstanceUpdate {
            state: &started.state,
            last_seq: row.last_seq,
            now: row.updated_at,
        };
        // A stale version: the command stores nothing and says why (at
        // once with a transaction of its own, at its commit in a group).
        let txn = runtime.store().begin_command().await.unwrap();
        let stale =
            match Store::update_instance(&txn, row.id, row.version + 1, update.clone()).await {
                Err(e) => Err(e),
                Ok(()) => Store::commit_command(txn).await,
            };
        assert!(
            matches!(&stale, Err(StoreError::Unmet(Unmet::Version(id))) if *id == row.id),
            "{backend}: {stale:?}"
        );
        assert_eq!(
            runtime
                .instance(started.instance_id)
                .await
                .unwrap()
                .0
                .version,
            1,
            "{backend}"
        );
        let txn = runtime.store().begin_command().await.unwrap();
        Store::update_instance(&txn, row.id, row.version, update)
            .await
            .unwrap();
        Store::commit_command(txn).await.unwrap();
        assert_eq!(
            runtime
                .instance(started.instance_id)
                .await
                .unwrap()
                .0
                .version,
            2
        );
    })
    .await;
}

fn timer_and_message() -> String {
    process(&format!(
        r#"<bpmn:startEvent id="s"/>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT10M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:receiveTask id="r" messageRef="m"/>
<bpmn:scriptTask id="check" scriptFormat="rhai"><bpmn:script>if amount &gt; 100 {{ throw "too much"; }} let ok = true;</bpmn:script></bpmn:scriptTask>
<bpmn:endEvent id="e"/>{}{}{}{}"#,
        flow("f0", "s", "wait"),
        flow("f1", "wait", "r"),
        flow("f2", "r", "check"),
        flow("f3", "check", "e")
    ))
    .replace("</bpmn:definitions>", r#"<bpmn:message id="m" name="paid"/></bpmn:definitions>"#)
}

#[tokio::test]
async fn timers_messages_and_incidents_are_rows() {
    each_db(|runtime, _, backend| async move {
        let def = runtime
            .deploy("t.bpmn", timer_and_message().as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let id = runtime
            .start(def, Default::default(), Some("B-7".into()), None)
            .await
            .unwrap()
            .instance_id;
        let jobs = runtime.store().jobs_of_instance(id).await.unwrap();
        assert_eq!(jobs.len(), 1, "{backend}");
        assert_eq!(
            (jobs[0].kind.as_str(), jobs[0].element_id.as_str()),
            ("timer", "wait")
        );
        assert_eq!(
            jobs[0].due_at.to_rfc3339(),
            "2025-01-01T00:10:00+00:00",
            "{backend}"
        );
        assert!(
            runtime
                .correlate(id, "paid", Default::default(), None)
                .await
                .unwrap()
                .is_none(),
            "nobody waits yet"
        );

        bpmn_engine::runtime::jobs::commit_result(&runtime, &jobs[0], None, Default::default())
            .await
            .unwrap();
        assert!(
            runtime
                .store()
                .jobs_of_instance(id)
                .await
                .unwrap()
                .is_empty(),
            "{backend}: the job is consumed"
        );
        let again =
            bpmn_engine::runtime::jobs::commit_result(&runtime, &jobs[0], None, Default::default())
                .await
                .unwrap_err();
        assert!(
            matches!(again, RuntimeError::Conflict(_)),
            "{backend}: a job runs once: {again}"
        );

        let subs = runtime.store().subscriptions(id, "paid").await.unwrap();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].business_key.as_deref(), Some("B-7"));
        runtime
            .correlate(id, "paid", obj(json!({"amount": 500})), None)
            .await
            .unwrap()
            .unwrap();
        assert!(
            runtime
                .store()
                .subscriptions(id, "paid")
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );

        let incidents = runtime.store().open_incidents(id).await.unwrap();
        assert_eq!(incidents.len(), 1, "{backend}");
        assert_eq!(incidents[0].element_id, "check");
        assert!(
            incidents[0].message.contains("too much"),
            "{}",
            incidents[0].message
        );
        let (row, _) = runtime.instance(id).await.unwrap();
        assert!(row.has_incident);
        hot_reads_match_the_pool(&runtime.store(), id, backend).await;

        runtime
            .set_variables(id, obj(json!({"amount": 5})), Some("admin"))
            .await
            .unwrap();
        runtime
            .retry_incident(id, incidents[0].incident_key as u64, Some("admin"))
            .await
            .unwrap();
        assert!(
            runtime.store().open_incidents(id).await.unwrap().is_empty(),
            "{backend}"
        );
        let (row, state) = runtime.instance(id).await.unwrap();
        assert_eq!(
            (row.status.as_str(), row.has_incident),
            ("completed", false),
            "{backend}"
        );
        assert_eq!(state.root_variables().get("ok"), Some(&json!(true)));
        let kinds: Vec<String> = history_kinds(&runtime, id)
            .await
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert!(
            kinds.contains(&"incident_raised".to_string())
                && kinds.contains(&"incident_resolved".to_string())
        );
    })
    .await;
}

#[tokio::test]
async fn cancelling_closes_tasks_and_drops_jobs() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        let t0 = runtime.open_task_for(id, "t0").await.unwrap().unwrap();
        runtime.cancel(id, Some("admin")).await.unwrap();
        let t = runtime.store().task(t0.id).await.unwrap().unwrap();
        assert_eq!(t.state, "cancelled", "{backend}");
        let (row, _) = runtime.instance(id).await.unwrap();
        assert_eq!(row.status, "terminated");
        let err = runtime
            .complete_task(t0.id, obj(json!({"option": 1})), None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RuntimeError::Conflict(ref m) if m.contains("was already cancelled")),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_and_the_default_path_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("nested/deeper/bpmn.sqlite").display()
    );
    let store = Store::connect(&url).await.unwrap();
    let row = store
        .connection()
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get("", "journal_mode").unwrap();
    assert_eq!(mode, "wal");
    assert!(dir.path().join("nested/deeper/bpmn.sqlite").exists());
    // Connecting again runs the migrations again, harmlessly.
    Store::connect(&url).await.unwrap();
}

#[tokio::test]
async fn two_processes_can_migrate_an_empty_postgres_at_once() {
    let Some(base) = crate::common::db::postgres_url() else {
        eprintln!(
            "note: BPMN_TEST_DATABASE_URL is not set; skipping the PostgreSQL migration-lock test"
        );
        return;
    };
    let db = TestDb::postgres(&base).await;
    let (a, b) = tokio::join!(Store::connect(&db.url), Store::connect(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.count_instances().await.unwrap(), 0);
    assert_eq!(b.count_instances().await.unwrap(), 0);
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test]
async fn runtime_is_shareable_across_tasks() {
    each_db(|runtime, _, _| async move {
        let def = demo(&runtime).await;
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let rt: Arc<Runtime> = runtime.clone();
                tokio::spawn(async move {
                    rt.start(def, Default::default(), None, None)
                        .await
                        .map(|o| o.instance_id)
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap().unwrap();
        }
        assert_eq!(runtime.store().count_instances().await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn instances_can_be_found_by_a_variable() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let a = runtime
            .start(def, obj(json!({"customer": "ann", "n": 2})), None, None)
            .await
            .unwrap()
            .instance_id;
        let b = runtime
            .start(def, obj(json!({"customer": "bob", "n": 3})), None, None)
            .await
            .unwrap()
            .instance_id;
        let admin = bpmn_engine::runtime::Principal::operator("admin");
        let find = |vars: Vec<(&str, &str)>| {
            let runtime = runtime.clone();
            let admin = admin.clone();
            let q = bpmn_engine::runtime::InstanceFilter {
                variables: vars
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                limit: 10,
                ..Default::default()
            };
            async move {
                runtime
                    .instances()
                    .list(&admin, &q)
                    .await
                    .unwrap()
                    .0
                    .into_iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(find(vec![("customer", "ann")]).await, vec![a], "{backend}");
        assert_eq!(
            find(vec![("n", "3")]).await,
            vec![b],
            "{backend}: numbers match their text"
        );
        assert_eq!(
            find(vec![("customer", "bob"), ("n", "2")]).await,
            Vec::<uuid::Uuid>::new(),
            "every term must match"
        );
        assert_eq!(find(vec![("customer", "nobody")]).await.len(), 0);
        // For a user, filters narrow what they may see; they never widen it.
        let c = runtime
            .start(def, obj(json!({"customer": "cyd"})), None, Some("cyd"))
            .await
            .unwrap()
            .instance_id;
        let cyd =
            bpmn_engine::runtime::Principal::new("cyd", vec![], bpmn_engine::runtime::Role::User);
        let q = |vars: Vec<(&str, &str)>| bpmn_engine::runtime::InstanceFilter {
            variables: vars
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            limit: 10,
            ..Default::default()
        };
        let seen = |v: Vec<(&str, &str)>| {
            let runtime = runtime.clone();
            let cyd = cyd.clone();
            let q = q(v);
            async move {
                runtime
                    .instances()
                    .list(&cyd, &q)
                    .await
                    .unwrap()
                    .0
                    .into_iter()
                    .map(|i| i.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(seen(vec![]).await, vec![c], "{backend}");
        assert_eq!(
            seen(vec![("customer", "ann")]).await.len(),
            0,
            "{backend}: not hers"
        );
        assert_eq!(seen(vec![("customer", "cyd")]).await, vec![c]);
    })
    .await;
}

#[tokio::test]
async fn the_job_executor_fires_due_timers_once() {
    each_db(|runtime, clock, backend| async move {
        let def = runtime
            .deploy("t.bpmn", timer_and_message().as_bytes(), None)
            .await
            .unwrap()
            .definitions[0]
            .id;
        let id = runtime
            .start(def, Default::default(), None, None)
            .await
            .unwrap()
            .instance_id;
        assert_eq!(
            bpmn_engine::runtime::jobs::run_due(&runtime, &executor("a"))
                .await
                .unwrap(),
            0,
            "not due yet"
        );
        clock.set("2025-01-01T00:10:00Z".parse().unwrap());
        // Another process holds the lease: this one must leave the job alone.
        let job = runtime
            .store()
            .jobs_of_instance(id)
            .await
            .unwrap()
            .remove(0);
        let now = bpmn_engine::store::to_db_time(bpmn_engine::runtime::Clock::now(clock.as_ref()));
        assert!(
            runtime
                .store()
                .lease_job(job.id, "b", now, now + chrono::Duration::seconds(60))
                .await
                .unwrap()
        );
        assert_eq!(
            bpmn_engine::runtime::jobs::run_due(&runtime, &executor("a"))
                .await
                .unwrap(),
            0,
            "{backend}: leased by b"
        );
        // Once the lease has expired, it is free again.
        clock.set("2025-01-01T00:12:00Z".parse().unwrap());
        assert_eq!(
            bpmn_engine::runtime::jobs::run_due(&runtime, &executor("a"))
                .await
                .unwrap(),
            1,
            "{backend}"
        );
        assert_eq!(
            bpmn_engine::runtime::jobs::run_due(&runtime, &executor("a"))
                .await
                .unwrap(),
            0,
            "it ran once"
        );
        assert_eq!(
            runtime
                .store()
                .subscriptions(id, "paid")
                .await
                .unwrap()
                .len(),
            1,
            "the timer moved the instance on"
        );
    })
    .await;
}

/// An executor configuration for stepping through jobs by hand.
fn executor(owner: &str) -> bpmn_engine::runtime::jobs::ExecutorConfig {
    bpmn_engine::runtime::jobs::ExecutorConfig::new(owner.to_string())
}

/// A database written before history was kept in batches keeps its history:
/// each old event row becomes a one-event batch, readable as before.
#[tokio::test]
async fn history_rows_of_an_older_schema_survive_the_batch_migration() {
    use migration::MigratorTrait;
    use sea_orm::sea_query::{Alias, Query};
    for db in crate::common::db::databases().await {
        let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
        migration::Migrator::up(&conn, Some(6)).await.unwrap();
        let id = uuid::Uuid::now_v7();
        let at = chrono::Utc::now();
        let events = [
            Event::InstanceStarted {
                process: "p".into(),
                start: "start".into(),
            },
            Event::ElementActivated {
                key: 2,
                element: "start".into(),
                scope: 1,
                attached_to: None,
            },
        ];
        for (i, e) in events.iter().enumerate() {
            let insert = Query::insert()
                .into_table(Alias::new("history_event"))
                .columns(
                    [
                        "instance_id",
                        "seq",
                        "at",
                        "kind",
                        "element_id",
                        "element_key",
                        "user_name",
                        "payload",
                    ]
                    .map(Alias::new),
                )
                .values_panic([
                    id.into(),
                    (i as i64 + 1).into(),
                    at.into(),
                    e.kind().into(),
                    e.element().map(str::to_string).into(),
                    e.key().map(|k| k as i64).into(),
                    Some("ann".to_string()).into(),
                    serde_json::to_string(e).unwrap().into(),
                ])
                .to_owned();
            conn.execute(&insert).await.unwrap();
        }
        conn.close().await.unwrap();
        let store = db.store().await;
        let history = store.history(id).await.unwrap();
        let backend = db.backend;
        assert_eq!(
            history.iter().map(|h| h.seq).collect::<Vec<_>>(),
            vec![1, 2],
            "{backend}"
        );
        assert_eq!(
            history
                .iter()
                .map(|h| h.event.clone().unwrap())
                .collect::<Vec<_>>(),
            events.to_vec(),
            "{backend}"
        );
        assert_eq!(history[1].user_name.as_deref(), Some("ann"), "{backend}");
        db.drop_now().await;
    }
}

/// A string of `n` letters and digits that compresses badly (a PostgreSQL
/// B-tree refuses entries over about 2.7 kB that it cannot shrink).
fn noise(n: usize, seed: u64) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[((x >> 33) % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// Variable rows hold each value once (text plus whether it is a string) and
/// index only its first 100 characters; every search still finds exactly what
/// it found before: `?var=` by text, typed comparisons, the old engine's
/// text search, and long values that share their first 100 characters.
#[tokio::test]
async fn variable_rows_keep_every_search_exact() {
    use bpmn_engine::runtime::{Compare, Principal, RunningSearch, VariableCondition};
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let prefix = "x".repeat(100);
        let huge = noise(6000, 7);
        let a = runtime
            .start(
                def,
                obj(
                    json!({"customer": "Ann", "n": 2, "long": format!("{prefix}A"),
                    "huge": huge, "doc": {"items": [1, 2, 3]}}),
                ),
                None,
                None,
            )
            .await
            .unwrap()
            .instance_id;
        let b = runtime
            .start(
                def,
                obj(json!({"customer": "bob", "n": "2", "long": format!("{prefix}B")})),
                None,
                None,
            )
            .await
            .unwrap()
            .instance_id;
        let admin = Principal::operator("admin");
        let find = |name: &str, value: &str| {
            let runtime = runtime.clone();
            let admin = admin.clone();
            let q = bpmn_engine::runtime::InstanceFilter {
                variables: vec![(name.to_string(), value.to_string())],
                limit: 10,
                ..Default::default()
            };
            async move {
                let mut ids: Vec<_> = runtime
                    .instances()
                    .list(&admin, &q)
                    .await
                    .unwrap()
                    .0
                    .into_iter()
                    .map(|i| i.id)
                    .collect();
                ids.sort();
                ids
            }
        };
        let (mut both, long_a) = (vec![a, b], format!("{prefix}A"));
        both.sort();
        assert_eq!(find("long", &long_a).await, vec![a], "{backend}");
        assert_eq!(
            find("long", &format!("{prefix}B")).await,
            vec![b],
            "{backend}"
        );
        assert_eq!(
            find("long", &prefix).await,
            Vec::<uuid::Uuid>::new(),
            "{backend}: whole values"
        );
        assert_eq!(find("huge", &huge).await, vec![a], "{backend}");
        assert_eq!(find("n", "2").await, both, "{backend}: 2 and \"2\" read 2");
        assert_eq!(
            find("doc", r#"{"items":[1,2,3]}"#).await,
            vec![a],
            "{backend}"
        );
        assert_eq!(find("customer", "Ann").await, vec![a], "{backend}");
        // Typed comparisons (Camunda's `variables=`) tell 2 from "2".
        let typed = |value: serde_json::Value, op: Compare| {
            let runtime = runtime.clone();
            let admin = admin.clone();
            async move {
                let q = RunningSearch {
                    variables: vec![VariableCondition {
                        name: "n".into(),
                        op,
                        value,
                        loose: false,
                    }],
                    limit: 10,
                    ..Default::default()
                };
                let (list, _) = runtime.instances().running(&admin, &q).await.unwrap();
                list.into_iter().map(|i| i.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(typed(json!(2), Compare::Eq).await, vec![a], "{backend}");
        assert_eq!(typed(json!("2"), Compare::Eq).await, vec![b], "{backend}");
        assert_eq!(typed(json!(1), Compare::Gt).await, vec![a], "{backend}");
        // The old engine's search looks into strings only.
        let text = |name: &str, value: &str| {
            let runtime = runtime.clone();
            let admin = admin.clone();
            let terms = vec![(name.to_string(), value.to_string())];
            async move {
                let mut ids: Vec<_> = runtime
                    .instances()
                    .search_text(&admin, &terms, 100)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|d| d.instance.id)
                    .collect();
                ids.sort();
                ids
            }
        };
        assert_eq!(text("cust", "an").await, vec![a], "{backend}");
        assert_eq!(text("n", "2").await, vec![b], "{backend}: not the number");
        assert_eq!(text("", "xxxb").await, vec![b], "{backend}");
        // What the engine keeps is unchanged by how the rows store it.
        let vars = runtime.instances().variables(&admin, a).await.unwrap();
        assert_eq!(vars.get("n"), Some(&json!(2)), "{backend}");
        assert_eq!(vars.get("doc"), Some(&json!({"items": [1, 2, 3]})));
    })
    .await;
}

/// Counts updates of `instance_variable` rows from now on (a trigger).
async fn count_variable_writes(store: &Store) {
    let db = store.connection();
    let statements: &[&str] = if store.backend_name() == "postgres" {
        &[
            "CREATE TABLE variable_writes (name text)",
            "CREATE FUNCTION count_variable_write() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN INSERT INTO variable_writes VALUES (NEW.name); RETURN NEW; END $$",
            "CREATE TRIGGER variable_written AFTER UPDATE ON instance_variable \
             FOR EACH ROW EXECUTE FUNCTION count_variable_write()",
        ]
    } else {
        &[
            "CREATE TABLE variable_writes (name text)",
            "CREATE TRIGGER variable_written AFTER UPDATE ON instance_variable \
             BEGIN INSERT INTO variable_writes VALUES (NEW.name); END",
        ]
    };
    for s in statements {
        db.execute_unprepared(s).await.unwrap();
    }
}

async fn variable_writes(store: &Store) -> Vec<String> {
    let rows = store
        .connection()
        .query_all_raw(Statement::from_string(
            store.connection().get_database_backend(),
            "SELECT name FROM variable_writes ORDER BY name",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

/// A command that sets variables to the values they have (a form submitted
/// as it was shown) rewrites no variable row; a changed value is written.
#[tokio::test]
async fn unchanged_variables_are_not_rewritten() {
    use bpmn_engine::runtime::Principal;
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let id = runtime
            .start(
                def,
                obj(json!({"customer": "ann", "n": 2, "s": "2"})),
                None,
                None,
            )
            .await
            .unwrap()
            .instance_id;
        count_variable_writes(&runtime.store()).await;
        let admin = Principal::operator("admin");
        runtime
            .instances()
            .set_variables(
                &admin,
                id,
                obj(json!({"customer": "ann", "n": 2, "s": "2"})),
            )
            .await
            .unwrap();
        assert_eq!(
            variable_writes(&runtime.store()).await,
            Vec::<String>::new(),
            "{backend}"
        );
        // 2 -> "2" and "2" -> 2 change the type only: both are written.
        runtime
            .instances()
            .set_variables(
                &admin,
                id,
                obj(json!({"customer": "amy", "n": "2", "s": 2})),
            )
            .await
            .unwrap();
        assert_eq!(
            variable_writes(&runtime.store()).await,
            vec!["customer", "n", "s"],
            "{backend}"
        );
        let vars = runtime.instances().variables(&admin, id).await.unwrap();
        assert_eq!(vars.get("n"), Some(&json!("2")), "{backend}");
        let find = bpmn_engine::runtime::InstanceFilter {
            variables: vec![("customer".into(), "amy".into())],
            limit: 10,
            ..Default::default()
        };
        let found = runtime.instances().list(&admin, &find).await.unwrap().0;
        assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), vec![id]);
    })
    .await;
}

/// The variable searches go through the index, not a scan of the table.
#[tokio::test]
async fn variable_searches_use_the_index() {
    for db in crate::common::db::databases().await {
        let store = db.store().await;
        let conn = store.connection();
        let backend = conn.get_database_backend();
        let sqls = bpmn_engine::store::variable_search_sql(backend, "customer", &"y".repeat(300));
        for sql in sqls {
            let txn = sea_orm::TransactionTrait::begin(conn).await.unwrap();
            let (prepare, explain, column) = if db.backend == "postgres" {
                // A tiny table is read whole whatever its indexes: ask whether
                // the index can serve the query at all.
                ("SET LOCAL enable_seqscan = off", "EXPLAIN", None)
            } else {
                // A read first: a pooled connection may still hold the schema
                // from before the migrations, and EXPLAIN alone reads nothing.
                (
                    "SELECT count(*) FROM instance_variable",
                    "EXPLAIN QUERY PLAN",
                    Some("detail"),
                )
            };
            txn.execute_unprepared(prepare).await.unwrap();
            let rows = txn
                .query_all_raw(Statement::from_string(backend, format!("{explain} {sql}")))
                .await
                .unwrap();
            txn.rollback().await.unwrap();
            let plan = rows
                .iter()
                .map(|r| match column {
                    Some(c) => r.try_get::<String>("", c).unwrap(),
                    None => r.try_get_by_index::<String>(0).unwrap(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                plan.contains("ix_instance_variable_name_prefix"),
                "{}: {sql}\n{plan}",
                db.backend
            );
            assert!(!plan.contains("Seq Scan"), "{}: {plan}", db.backend);
            if db.backend == "sqlite" {
                // The first query must look up both the name and the prefix.
                assert!(
                    !sql.contains("\"value\" =") || plan.contains("name=? AND <expr>=?"),
                    "{plan}"
                );
            }
        }
        db.drop_now().await;
    }
}

/// Rows written before migration 000022 keep reading after it: history
/// batches as plain JSON, and variables stored with their JSON beside them
/// become text plus a string flag that every search reads as before.
#[tokio::test]
async fn rows_written_before_the_smaller_rows_migration_keep_reading() {
    use bpmn_engine::runtime::{Compare, Principal, RunningSearch, VariableCondition};
    use migration::MigratorTrait;
    for db in crate::common::db::databases().await {
        let backend = db.backend;
        let store = db.store().await;
        let clock = Arc::new(bpmn_engine::runtime::VirtualClock::new(t0()));
        let runtime = crate::common::rt::runtime_on(store, |s| Runtime::new(s, clock.clone()));
        let def = demo(&runtime).await;
        let a = runtime
            .start(def, obj(json!({"customer": "ann", "n": 2})), None, None)
            .await
            .unwrap()
            .instance_id;
        let b = runtime
            .start(def, obj(json!({"customer": "bob", "n": "2"})), None, None)
            .await
            .unwrap()
            .instance_id;
        // Back to the layout before 000022, with rows as the older code wrote them.
        let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
        let all = migration::Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name().contains("_000022_"))
            .expect("the migration is listed");
        migration::Migrator::down(&conn, Some((all.len() - at) as u32))
            .await
            .unwrap();
        conn.execute_unprepared("DELETE FROM instance_variable")
            .await
            .unwrap();
        for (id, name, value, json) in [
            (a, "customer", "ann", r#""ann""#),
            (a, "n", "2", "2"),
            (b, "customer", "bob", r#""bob""#),
            (b, "n", "2", r#""2""#),
        ] {
            let insert = sea_orm::sea_query::Query::insert()
                .into_table(sea_orm::sea_query::Alias::new("instance_variable"))
                .columns(
                    ["instance_id", "name", "value", "json"].map(sea_orm::sea_query::Alias::new),
                )
                .values_panic([id.into(), name.into(), value.into(), json.into()])
                .to_owned();
            conn.execute(&insert).await.unwrap();
        }
        let old = uuid::Uuid::now_v7();
        let events = [
            Event::InstanceStarted {
                process: "p".into(),
                start: "start".into(),
            },
            Event::InstanceCompleted,
        ];
        let insert = sea_orm::sea_query::Query::insert()
            .into_table(sea_orm::sea_query::Alias::new("history_batch"))
            .columns(
                [
                    "instance_id",
                    "first_seq",
                    "last_seq",
                    "at",
                    "user_name",
                    "events",
                ]
                .map(sea_orm::sea_query::Alias::new),
            )
            .values_panic([
                old.into(),
                1i64.into(),
                2i64.into(),
                chrono::Utc::now().into(),
                Some("ann".to_string()).into(),
                serde_json::to_string(&events).unwrap().into(),
            ])
            .to_owned();
        conn.execute(&insert).await.unwrap();
        conn.close().await.unwrap();
        // Up again, as a process of the new version starts.
        let store = db.store().await;
        let history = store.history(old).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|h| h.event.clone().unwrap())
                .collect::<Vec<_>>(),
            events.to_vec(),
            "{backend}"
        );
        let runtime = crate::common::rt::runtime_on(store, |s| Runtime::new(s, clock.clone()));
        let admin = Principal::operator("admin");
        let q = RunningSearch {
            variables: vec![VariableCondition {
                name: "n".into(),
                op: Compare::Eq,
                value: json!(2),
                loose: false,
            }],
            limit: 10,
            ..Default::default()
        };
        let (list, _) = runtime.instances().running(&admin, &q).await.unwrap();
        assert_eq!(
            list.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![a],
            "{backend}"
        );
        let found = runtime
            .instances()
            .search_text(&admin, &[("".into(), "2".into())], 10)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|d| d.instance.id).collect::<Vec<_>>(),
            vec![b],
            "{backend}: only the string"
        );
        let filter = bpmn_engine::runtime::InstanceFilter {
            variables: vec![("customer".into(), "bob".into())],
            limit: 10,
            ..Default::default()
        };
        let listed = runtime.instances().list(&admin, &filter).await.unwrap().0;
        assert_eq!(listed.iter().map(|i| i.id).collect::<Vec<_>>(), vec![b]);
        db.drop_now().await;
    }
}

/// A command's events are stored deflated when that is smaller, and read
/// back as the same events; a short batch stays plain JSON.
#[tokio::test]
async fn history_batches_are_packed_and_read_back() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let id = runtime
            .start(def, obj(json!({"customer": "ann"})), None, None)
            .await
            .unwrap()
            .instance_id;
        let history = runtime.store().history(id).await.unwrap();
        assert!(history.len() > 3, "{backend}");
        for (i, h) in history.iter().enumerate() {
            assert_eq!(h.seq, i as i64 + 1, "{backend}");
            let event = h.event.clone().expect("every event reads back");
            assert_eq!(serde_json::to_value(&event).unwrap(), h.payload);
        }
        let store = runtime.store();
        let conn = store.connection();
        let rows = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT events, packed FROM history_batch",
            ))
            .await
            .unwrap();
        let packed = rows
            .iter()
            .filter(|r| {
                r.try_get::<Option<Vec<u8>>>("", "packed")
                    .unwrap()
                    .is_some()
            })
            .count();
        assert!(packed >= 1, "{backend}: the start's batch is packed");
        for r in &rows {
            let events: String = r.try_get("", "events").unwrap();
            let bytes: Option<Vec<u8>> = r.try_get("", "packed").unwrap();
            assert!(
                events.is_empty() == bytes.is_some(),
                "{backend}: one or the other"
            );
            if let Some(b) = bytes {
                assert!(b.len() < 200 * 4, "{backend}: {} bytes", b.len());
            }
        }
    })
    .await;
}

/// A start of the latest version starts from the newest version even when
/// another process deployed it after this one last started the key, and a
/// version suspended meanwhile (by another process) is refused with the
/// reason, not started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_of_the_latest_version_sees_what_other_processes_deployed() {
    use bpmn_engine::runtime::StartRequest;
    for db in crate::common::db::databases().await {
        let backend = db.backend;
        let clock = Arc::new(VirtualClock::new(t0()));
        let here = rt::runtime_on(db.store().await, |s| Runtime::new(s, clock.clone()));
        let there = rt::runtime_on(db.store().await, |s| Runtime::new(s, clock.clone()));
        let xml = |name: &str| {
            process(&format!(
                r#"<bpmn:startEvent id="s" name="{name}"/><bpmn:userTask id="t"/>{}"#,
                flow("f", "s", "t")
            ))
        };
        let deploy = |runtime: Arc<Runtime>, name: &'static str| async move {
            runtime
                .deployments()
                .deploy(&rt::admin(None), "p.bpmn", xml(name).as_bytes())
                .await
                .unwrap()
                .definitions[0]
                .id
        };
        let start = |runtime: Arc<Runtime>| async move {
            let request = StartRequest {
                key: "p".into(),
                ..Default::default()
            };
            let started = runtime
                .deployments()
                .start(&rt::admin(None), request)
                .await?;
            Ok::<_, RuntimeError>(runtime.instance(started.instance_id).await?.0.definition_id)
        };
        let v1 = deploy(here.clone(), "one").await;
        assert_eq!(start(here.clone()).await.unwrap(), v1, "{backend}");
        let v2 = deploy(there.clone(), "two").await;
        assert_ne!(v1, v2, "{backend}");
        assert_eq!(
            start(here.clone()).await.unwrap(),
            v2,
            "{backend}: the newest"
        );
        there
            .deployments()
            .suspend_version(&rt::admin(None), "p", 2, true, false)
            .await
            .unwrap();
        let refused = start(here.clone()).await.unwrap_err();
        assert!(
            matches!(&refused, RuntimeError::Conflict(m) if m.contains("version 2") && m.contains("suspended")),
            "{backend}: {refused}"
        );
        let instances = here.store().active_instances_of(v2).await.unwrap().len();
        assert_eq!(instances, 1, "{backend}: nothing more was started");
        drop((here, there));
        db.drop_now().await;
    }
}

/// A user's groups are read by name, sorted, in one statement (alone, with
/// the user, or with the user of a live token); a user in none has none, and
/// another user's groups are not theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_groups_are_read_sorted() {
    each_db(|runtime, _, backend| async move {
        let store = runtime.store();
        let now = to_db_time(t0());
        let ann = store
            .insert_user("ann", "x", false, false, now)
            .await
            .unwrap()
            .unwrap();
        let bob = store
            .insert_user("bob", "x", false, false, now)
            .await
            .unwrap()
            .unwrap();
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        store
            .set_groups(ann.id, &names(&["zeta", "alpha", "mid"]))
            .await
            .unwrap();
        store.set_groups(bob.id, &names(&["other"])).await.unwrap();
        assert_eq!(
            store.groups_of(ann.id).await.unwrap(),
            names(&["alpha", "mid", "zeta"]),
            "{backend}"
        );
        // The user read with the groups, and through a live token.
        let (user, groups) = store.user_with_groups(ann.id).await.unwrap().unwrap();
        assert_eq!(
            (user.name.as_str(), groups),
            ("ann", names(&["alpha", "mid", "zeta"])),
            "{backend}"
        );
        let token = store
            .insert_token(ann.id, "t", "hash-a", now)
            .await
            .unwrap();
        let ((user, groups), used) = store.token_user("hash-a").await.unwrap().unwrap();
        assert_eq!(
            (user.id, groups.len(), used.id, used.last_used_at),
            (ann.id, 3, token.id, None),
            "{backend}"
        );
        store.touch_token(token.id, now).await.unwrap();
        let (_, used) = store.token_user("hash-a").await.unwrap().unwrap();
        assert_eq!(used.last_used_at, Some(now), "{backend}");
        assert!(
            store.token_user("hash-b").await.unwrap().is_none(),
            "{backend}"
        );
        assert!(store.revoke_token(ann.id, token.id, now).await.unwrap());
        assert!(
            store.token_user("hash-a").await.unwrap().is_none(),
            "{backend}: a revoked token is no one's"
        );
        store.set_groups(bob.id, &[]).await.unwrap();
        assert!(
            store.groups_of(bob.id).await.unwrap().is_empty(),
            "{backend}"
        );
        let (user, groups) = store.user_with_groups(bob.id).await.unwrap().unwrap();
        assert_eq!((user.name.as_str(), groups.len()), ("bob", 0), "{backend}");
        assert!(
            store.user_with_groups(-1).await.unwrap().is_none(),
            "{backend}"
        );
    })
    .await;
}

/// The reads every request makes (on a SQLite file they run on the caller's
/// thread through the store's own connections) return exactly the models
/// the pool returns: every column, set or null, of the instance, its tasks
/// and its open incidents.
async fn hot_reads_match_the_pool(store: &Store, id: uuid::Uuid, backend: &str) {
    use bpmn_engine::store::entity::{incident, process_instance, user_task};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let pool = store.connection();
    let instance = process_instance::Entity::find_by_id(id)
        .one(pool)
        .await
        .unwrap();
    assert!(instance.is_some(), "{backend}");
    assert_eq!(store.instance(id).await.unwrap(), instance, "{backend}");
    let calls = process_instance::Entity::find()
        .filter(process_instance::Column::ParentId.eq(id))
        .all(pool)
        .await
        .unwrap();
    assert_eq!(
        store.instance_calls(id).await.unwrap(),
        instance.clone().map(|i| (i, !calls.is_empty())),
        "{backend}"
    );
    let tasks = user_task::Entity::find()
        .filter(user_task::Column::InstanceId.eq(id))
        .order_by_asc(user_task::Column::ElementKey)
        .all(pool)
        .await
        .unwrap();
    assert_eq!(
        store.tasks_of_instance(id).await.unwrap(),
        tasks,
        "{backend}"
    );
    for t in &tasks {
        assert_eq!(
            store.task(t.id).await.unwrap().as_ref(),
            Some(t),
            "{backend}"
        );
        let (task, with) = store.task_with_instance(t.id).await.unwrap().unwrap();
        assert_eq!(
            (Some(task), Some(with)),
            (Some(t.clone()), instance.clone()),
            "{backend}"
        );
    }
    let incidents = incident::Entity::find()
        .filter(incident::Column::InstanceId.eq(id))
        .filter(incident::Column::ResolvedAt.is_null())
        .order_by_asc(incident::Column::IncidentKey)
        .all(pool)
        .await
        .unwrap();
    assert_eq!(
        store.open_incidents(id).await.unwrap(),
        incidents,
        "{backend}"
    );
}

/// Tasks open and completed (assignee, completion time and user set or
/// null) read alike through the hot reads and the pool; a task that does
/// not exist is none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reads_of_tasks_match_the_pool() {
    each_db(|runtime, _, backend| async move {
        let xml = process(&format!(
            r#"<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="First"/><bpmn:userTask id="b"/>{}{}"#,
            flow("f1", "s", "a"),
            flow("f2", "a", "b"),
        ));
        let def = runtime.deploy("p.bpmn", xml.as_bytes(), None).await.unwrap().definitions[0].id;
        let id = runtime
            .start(def, obj(json!({"n": 1})), Some("K-1".into()), None)
            .await
            .unwrap()
            .instance_id;
        let first = runtime.store().open_tasks(id).await.unwrap()[0].id;
        runtime
            .complete_task(first, obj(json!({"done": true})), Some("ann"))
            .await
            .unwrap();
        let tasks = runtime.store().tasks_of_instance(id).await.unwrap();
        assert_eq!(tasks.len(), 2, "{backend}");
        assert_eq!(tasks[0].completed_by.as_deref(), Some("ann"), "{backend}");
        hot_reads_match_the_pool(&runtime.store(), id, backend).await;
        let nobody = uuid::Uuid::now_v7();
        assert!(runtime.store().task(nobody).await.unwrap().is_none(), "{backend}");
        assert!(runtime.store().task_with_instance(nobody).await.unwrap().is_none(), "{backend}");
        assert!(runtime.store().instance(nobody).await.unwrap().is_none(), "{backend}");
    })
    .await;
}
