//! A user's instance list, read as merged index streams, against the
//! visibility rule itself: every instance the rule lets the user see, and no
//! other, newest first (ties by id), page after page — on SQLite and, when
//! `BPMN_TEST_DATABASE_URL` is set, PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bpmn_engine::runtime::{InstanceFilter, Principal, Role, Runtime, VirtualClock};
use bpmn_engine::store::entity::user_task;
use bpmn_engine::store::{COUNT_CAP, Viewer};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::common::db::{databases, each_db};
use crate::common::rt::runtime_on;
use crate::common::*;

/// `p1`: a task for group g1, then one for user ann. `p2`: a task held by ann.
/// `p3`: a task for group g2. `p4`: a task for g1, then one for g2.
fn diagrams() -> Vec<(&'static str, String)> {
    let two = |id: &str, first: &str, second: &str| {
        definitions(&format!(
            r#"<bpmn:process id="{id}" isExecutable="true">
  <bpmn:startEvent id="s"/>
  <bpmn:userTask id="t1" {first}/>
  <bpmn:userTask id="t2" {second}/>
  <bpmn:endEvent id="e"/>
  {}{}{}
</bpmn:process>"#,
            flow("f1", "s", "t1"),
            flow("f2", "t1", "t2"),
            flow("f3", "t2", "e"),
        ))
    };
    let one = |id: &str, attr: &str| {
        definitions(&format!(
            r#"<bpmn:process id="{id}" isExecutable="true">
  <bpmn:startEvent id="s"/>
  <bpmn:userTask id="t1" {attr}/>
  <bpmn:endEvent id="e"/>
  {}{}
</bpmn:process>"#,
            flow("f1", "s", "t1"),
            flow("f2", "t1", "e"),
        ))
    };
    vec![
        (
            "p1",
            two(
                "p1",
                r#"camunda:candidateGroups="g1""#,
                r#"camunda:candidateUsers="ann""#,
            ),
        ),
        ("p2", one("p2", r#"camunda:assignee="ann""#)),
        ("p3", one("p3", r#"camunda:candidateGroups="g2""#)),
        (
            "p4",
            two(
                "p4",
                r#"camunda:candidateGroups="g1""#,
                r#"camunda:candidateGroups="g2""#,
            ),
        ),
    ]
}

fn ann() -> Principal {
    Principal::new("ann", vec!["g1".into(), "g5".into()], Role::User)
}

fn ann_viewer() -> Viewer {
    Viewer {
        name: "ann".into(),
        groups: vec!["g1".into(), "g5".into()],
        admin: false,
    }
}

/// Every instance, newest first (ties by id, descending), with its status.
async fn all_instances(runtime: &Runtime) -> Vec<(Uuid, String)> {
    let (all, _) = runtime
        .store()
        .instances(
            &Viewer {
                name: "admin".into(),
                groups: vec![],
                admin: true,
            },
            &bpmn_engine::store::InstanceQuery {
                limit: 100_000,
                exact_count: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut all: Vec<_> = all
        .into_iter()
        .map(|r| ((r.started_at, r.id), r.status))
        .collect();
    all.sort_by_key(|a| std::cmp::Reverse(a.0));
    all.into_iter().map(|((_, id), s)| (id, s)).collect()
}

/// The list, read page after page of `per_page`.
async fn paged(runtime: &Runtime, state: Option<&str>, per_page: u64) -> Vec<Uuid> {
    let mut out = Vec::new();
    for page in 0.. {
        let (rows, total) = runtime
            .instances()
            .list(
                &ann(),
                &InstanceFilter {
                    state: state.map(str::to_string),
                    offset: page * per_page,
                    limit: per_page,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(total.count <= COUNT_CAP);
        if rows.is_empty() {
            break;
        }
        out.extend(rows.into_iter().map(|r| r.id));
    }
    out
}

/// The instances the visibility rule lets ann see, in the list's order.
async fn expected(runtime: &Runtime, state: Option<&str>) -> Vec<Uuid> {
    let store = runtime.store();
    let mut out = Vec::new();
    for (id, status) in all_instances(runtime).await {
        if state.is_some_and(|s| s != status) {
            continue;
        }
        if store.involved(&ann_viewer(), id).await.unwrap() {
            out.push(id);
        }
    }
    out
}

/// What [`scenario`] made.
struct Made {
    visible: HashSet<Uuid>,
    hidden: HashSet<Uuid>,
    /// Instances ann sees only because she completed a task in them.
    only_completed: Vec<Uuid>,
    /// Instances where she completed a task and is candidate of the next.
    completed_and_candidate: Vec<Uuid>,
    defs: HashMap<&'static str, i64>,
}

async fn start(runtime: &Runtime, def: i64, who: &str) -> Uuid {
    runtime
        .start(def, obj(json!({})), None, Some(who))
        .await
        .unwrap()
        .instance_id
}

async fn complete(runtime: &Runtime, id: Uuid, who: &str) {
    let task = runtime.open_task_for(id, "t1").await.unwrap().unwrap();
    runtime
        .complete_task(task.id, obj(json!({})), Some(who))
        .await
        .unwrap();
}

/// 27 instances, three per instant (ties are ordered by id), that ann sees in
/// every way there is, in several at once, or not at all.
async fn scenario(runtime: &Runtime, clock: &VirtualClock, backend: &str) -> Made {
    let mut defs = HashMap::new();
    for (key, xml) in diagrams() {
        let r = runtime
            .deploy(&format!("{key}.bpmn"), xml.as_bytes(), Some("admin"))
            .await
            .unwrap();
        defs.insert(key, r.definitions[0].id);
    }
    let mut m = Made {
        visible: HashSet::new(),
        hidden: HashSet::new(),
        only_completed: Vec::new(),
        completed_and_candidate: Vec::new(),
        defs: defs.clone(),
    };
    for i in 0..27 {
        if i % 3 == 0 {
            clock.set(t0() + jiff::SignedDuration::from_secs(60 * i));
        }
        match i % 9 {
            // Started by ann (and a task for her group).
            0 => m.visible.insert(start(runtime, defs["p1"], "ann").await),
            // A task for her group.
            1 => m.visible.insert(start(runtime, defs["p1"], "bob").await),
            // She completed a task, and is candidate of the next.
            2 => {
                let id = start(runtime, defs["p1"], "bob").await;
                complete(runtime, id, "ann").await;
                m.completed_and_candidate.push(id);
                m.visible.insert(id)
            }
            // She holds its task.
            3 => m.visible.insert(start(runtime, defs["p2"], "bob").await),
            // Nothing of hers.
            4 => m.hidden.insert(start(runtime, defs["p3"], "bob").await),
            // Her group's task was done by someone else: no longer hers.
            5 => {
                let id = start(runtime, defs["p4"], "bob").await;
                assert!(
                    runtime.store().involved(&ann_viewer(), id).await.unwrap(),
                    "{backend}: seen while the task for g1 is open"
                );
                complete(runtime, id, "cyd").await;
                m.hidden.insert(id)
            }
            // Started by her, nothing else.
            6 => m.visible.insert(start(runtime, defs["p3"], "ann").await),
            // Started, held and completed by her: the instance ends.
            7 => {
                let id = start(runtime, defs["p2"], "ann").await;
                complete(runtime, id, "ann").await;
                m.visible.insert(id)
            }
            // Only that she completed a task in it (the instance ends).
            _ => {
                let id = start(runtime, defs["p3"], "bob").await;
                complete(runtime, id, "ann").await;
                m.only_completed.push(id);
                m.visible.insert(id)
            }
        };
    }
    m
}

/// Compares the list with the rule for every state filter and page size;
/// returns the rule's list.
async fn check(runtime: &Runtime, backend: &str, label: &str, sizes: &[u64]) -> Vec<Uuid> {
    for state in [None, Some("active"), Some("completed")] {
        let want = expected(runtime, state).await;
        for &per_page in sizes {
            assert_eq!(
                paged(runtime, state, per_page).await,
                want,
                "{backend}, {label}, state {state:?}, {per_page} per page"
            );
        }
    }
    expected(runtime, None).await
}

#[tokio::test]
async fn a_users_instance_list_is_exactly_what_the_visibility_rule_lets_them_see() {
    each_db(|runtime, clock, backend| async move {
        let m = scenario(&runtime, &clock, backend).await;
        let want = check(&runtime, backend, "first", &[1, 4, 100]).await;
        assert_eq!(
            want.iter().copied().collect::<HashSet<_>>(),
            m.visible,
            "{backend}: the rule itself"
        );
        assert!(m.hidden.iter().all(|h| !want.contains(h)));

        // Many completed tasks in one instance: its entries fill the first read
        // of that stream, and older instances seen only through it come after.
        let newest = *m.completed_and_candidate.last().unwrap();
        assert!(
            want.iter().position(|i| *i == newest)
                < want.iter().position(|i| *i == m.only_completed[0]),
            "{backend}: the instance with many tasks is the newer one"
        );
        let store = runtime.store();
        let conn = store.connection();
        let done = user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(newest))
            .filter(user_task::Column::CompletedBy.eq("ann"))
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        for k in 0..(COUNT_CAP as i64 + 60) {
            let mut copy = done.clone().into_active_model();
            copy.id = Set(Uuid::now_v7());
            copy.element_key = Set(100_000 + k);
            copy.insert(conn).await.unwrap();
        }
        check(&runtime, backend, "many tasks in one instance", &[1, 100]).await;

        // More than a count's worth: the count stops, paging goes on.
        let template = start(&runtime, m.defs["p1"], "bob").await;
        runtime
            .system()
            .clone_instances(template, COUNT_CAP as usize * 2 + 50, &|i| {
                if i % 2 == 0 { "g5" } else { "g7" }.to_string()
            })
            .await
            .unwrap();
        let want = check(&runtime, backend, "copied", &[7, 100]).await;
        assert!(want.len() as u64 > COUNT_CAP + 20, "{backend}");
        let total = |state: Option<&str>| {
            let runtime = runtime.clone();
            let state = state.map(str::to_string);
            async move {
                let (_, total) = runtime
                    .instances()
                    .list(
                        &ann(),
                        &InstanceFilter {
                            state,
                            limit: 10,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                (total.count, total.more)
            }
        };
        assert_eq!(total(None).await, (COUNT_CAP, true), "{backend}");
        let completed = expected(&runtime, Some("completed")).await.len() as u64;
        assert_eq!(completed, 6, "{backend}: three of case 7, three of case 8");
        assert_eq!(
            total(Some("completed")).await,
            (completed, false),
            "{backend}"
        );
    })
    .await;
}

/// Rows written before the list had its own keys get them from the migration:
/// the list is the same after migrating down past it and up again.
#[tokio::test]
async fn the_migration_fills_the_list_keys_of_existing_rows() {
    use migration::MigratorTrait;
    for db in databases().await {
        let backend = db.backend;
        let clock = Arc::new(VirtualClock::new(t0()));
        let runtime = runtime_on(db.store().await, |s| Runtime::new(s, clock.clone()));
        scenario(&runtime, &clock, backend).await;
        let before = check(&runtime, backend, "before", &[5]).await;
        drop(runtime);
        let all = migration::Migrator::migrations();
        let at = all
            .iter()
            .position(|m| m.name().contains("_000023_"))
            .expect("the migration is listed");
        let conn = sea_orm::Database::connect(db.url.as_str()).await.unwrap();
        migration::Migrator::down(&conn, Some((all.len() - at) as u32))
            .await
            .unwrap();
        migration::Migrator::up(&conn, None).await.unwrap();
        conn.close().await.unwrap();
        let runtime = runtime_on(db.store().await, |s| Runtime::new(s, clock.clone()));
        let after = check(&runtime, backend, "after", &[5]).await;
        assert_eq!(after, before, "{backend}");
        assert!(after.len() > 10, "{backend}");
        drop(runtime);
        db.drop_now().await;
    }
}
