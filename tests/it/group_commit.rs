//! Group commit on a real database: commands that wait for the writer at the
//! same moment share one transaction (SQLite), each under a savepoint of its
//! own, so that one command's failure or lost race leaves the others in the
//! group untouched. On PostgreSQL each command has a transaction of its own,
//! and the same tests check that the outcome is the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bpmn_engine::engine::InstanceState;
use bpmn_engine::runtime::{Runtime, RuntimeError};
use bpmn_engine::store::{
    CommandTxn, InstanceUpdate, NewInstance, Store, StoreError, Unmet, to_db_time,
};
use serde_json::json;
use uuid::Uuid;

use crate::common::db::each_db;
use crate::common::*;

async fn demo(runtime: &Runtime) -> i64 {
    runtime
        .deploy("demo.bpmn", &demo_bytes(), Some("admin"))
        .await
        .unwrap()
        .definitions[0]
        .id
}

/// Waits until `n` commands wait for a group to take them (SQLite; on
/// PostgreSQL nobody waits for a group).
async fn until_waiting(store: &Store, backend: &str, n: usize) {
    if backend != "sqlite" {
        return;
    }
    for _ in 0..500 {
        if store.waiting_commands() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{backend}: {} commands wait, not {n}",
        store.waiting_commands()
    );
}

async fn version(runtime: &Runtime, id: Uuid) -> i64 {
    runtime.instance(id).await.unwrap().0.version
}

/// Bumps an instance's version inside `txn` if it is still `expected`
/// (a transaction of its own says at once when it is not; a command of a
/// group hears it from its commit).
async fn bump(
    txn: &CommandTxn,
    state: &InstanceState,
    id: Uuid,
    expected: i64,
) -> Result<(), StoreError> {
    Store::update_instance(
        txn,
        id,
        expected,
        InstanceUpdate {
            state,
            last_seq: 1,
            now: to_db_time(t0()),
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_stale_command_leaves_the_rest_of_its_group_alone() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let mut ids = Vec::new();
        let mut state = None;
        for _ in 0..4 {
            let o = runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap();
            ids.push(o.instance_id);
            state = Some(o.state);
        }
        let state = Arc::new(state.unwrap());
        let (kept, failing, stale, other) = (ids[0], ids[1], ids[2], ids[3]);
        let store = runtime.store();
        // The first command's turn is held open; the others queue behind it
        // one by one (so their turns come in this order) and join its group.
        let holder = store.begin_command().await.unwrap();
        holder.send().await.unwrap();
        let spawn = |work: u8| {
            let (store, state, rt) = (store.clone(), state.clone(), runtime.clone());
            tokio::spawn(async move {
                let txn = store.begin_command().await.unwrap();
                let wrote = async {
                    match work {
                        // Writes, then fails: its first write must not land.
                        0 => {
                            bump(&txn, &state, failing, 1).await?;
                            Store::insert_instance(
                                &txn,
                                NewInstance {
                                    id: kept,
                                    definition_id: def,
                                    definition_key: "demo",
                                    business_key: None,
                                    parent_id: None,
                                    parent_key: None,
                                    started_by: None,
                                    state: &state,
                                    last_seq: 1,
                                    now: to_db_time(t0()),
                                    latest_version: None,
                                },
                            )
                            .await
                        }
                        // Its version is stale.
                        1 => bump(&txn, &state, stale, 7).await,
                        // Writes what would land, and goes away.
                        4 => bump(&txn, &state, failing, 1).await,
                        // Two that land with the group.
                        _ => bump(&txn, &state, if work == 2 { kept } else { other }, 1).await,
                    }
                };
                // Queued (in a group) with what it wrote.
                let wrote = match wrote.await {
                    Ok(()) => txn.send().await,
                    Err(e) => Err(e),
                };
                match work {
                    0 => {
                        let r = match wrote {
                            Err(e) => Err(e),
                            Ok(()) => Store::commit_command(txn).await,
                        };
                        assert!(
                            matches!(r, Err(StoreError::Group(_) | StoreError::Db(_))),
                            "an instance id cannot be taken twice: {r:?}"
                        );
                        None
                    }
                    1 => {
                        let r = match wrote {
                            Err(e) => Err(e),
                            Ok(()) => Store::commit_command(txn).await,
                        };
                        assert!(
                            matches!(&r, Err(StoreError::Unmet(Unmet::Version(id))) if *id == stale),
                            "a stale version is refused: {r:?}"
                        );
                        None
                    }
                    4 => {
                        wrote.unwrap();
                        drop(txn);
                        None
                    }
                    _ => {
                        wrote.unwrap();
                        Store::commit_command(txn).await.unwrap();
                        // Committed means the whole group is: the command
                        // after this one in the group has landed too.
                        Some(version(&rt, other).await)
                    }
                }
            })
        };
        let mut tasks = Vec::new();
        for (n, work) in [2u8, 0, 1, 4, 3].into_iter().enumerate() {
            tasks.push(spawn(work));
            until_waiting(&store, backend, n + 1).await;
        }
        Store::commit_command(holder).await.unwrap();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap());
        }
        if backend == "sqlite" {
            assert_eq!(seen[0], Some(2), "{backend}: committed with its group");
        }
        assert_eq!(version(&runtime, kept).await, 2, "{backend}: kept");
        assert_eq!(version(&runtime, other).await, 2, "{backend}: other");
        assert_eq!(
            version(&runtime, failing).await,
            1,
            "{backend}: rolled back"
        );
        assert_eq!(version(&runtime, stale).await, 1, "{backend}: stale");
        // The writer goes on with the next group.
        let next = store.begin_command().await.unwrap();
        bump(&next, &state, failing, 1).await.unwrap();
        Store::commit_command(next).await.unwrap();
        assert_eq!(version(&runtime, failing).await, 2, "{backend}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_race_in_a_group_gets_its_conflict_and_the_others_land() {
    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let mut tasks = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let id = runtime
                .start(def, Default::default(), None, None)
                .await
                .unwrap()
                .instance_id;
            tasks.push(runtime.open_task_for(id, "t0").await.unwrap().unwrap().id);
            ids.push(id);
        }
        // The first command to reach its commit holds its turn until released.
        let (release, wait) = tokio::sync::watch::channel(false);
        let (reached_tx, mut reached) = tokio::sync::mpsc::unbounded_channel::<()>();
        let held = Arc::new(AtomicBool::new(false));
        runtime.set_before_commit(Some(Arc::new(move |_| {
            let first = !held.swap(true, Ordering::SeqCst);
            let (mut wait, reached_tx) = (wait.clone(), reached_tx.clone());
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
        let complete = |task: Uuid, user: &'static str| {
            let runtime = runtime.clone();
            tokio::spawn(async move {
                runtime
                    .complete_task(task, obj(json!({"option": 2})), Some(user))
                    .await
            })
        };
        let first = complete(tasks[0], "a");
        reached.recv().await.unwrap();
        // Two completions of one task and one of another wait behind it.
        let twice = [complete(tasks[1], "b"), complete(tasks[1], "c")];
        until_waiting(&runtime.store(), backend, 2).await;
        let another = complete(tasks[2], "d");
        until_waiting(&runtime.store(), backend, 3).await;
        release.send(true).unwrap();
        first.await.unwrap().unwrap();
        another.await.unwrap().unwrap();
        let [b, c] = twice;
        let results = [b.await.unwrap(), c.await.unwrap()];
        runtime.set_before_commit(None);
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{backend}: exactly one completes the task"
        );
        let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(
            matches!(loser, RuntimeError::Conflict(m) if m.contains("already completed")),
            "{backend}: {loser}"
        );
        for id in ids {
            let completions = runtime
                .store()
                .history(id)
                .await
                .unwrap()
                .into_iter()
                .filter(|h| h.kind() == "task_completed")
                .count();
            assert_eq!(completions, 1, "{backend}: {id}");
            assert!(
                runtime.open_task_for(id, "t0").await.unwrap().is_none(),
                "{backend}"
            );
        }
    })
    .await;
}

/// The statements a command gathers (`Writes`) land in the order they were
/// written, a checked statement after them sees them, and one that fails takes the
/// command's other writes with it when the command rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gathered_writes_keep_their_order_and_fail_together() {
    use bpmn_engine::store::entity::setting;
    use bpmn_engine::store::{Gather, Writes};
    use sea_orm::sea_query::Expr;
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait, Set};

    each_db(|runtime, _, backend| async move {
        let store = runtime.store();
        let insert = |key: &str, value: &str| {
            setting::Entity::insert(setting::ActiveModel {
                key: Set(key.to_string()),
                value: Set(value.to_string()),
            })
        };
        let read = |key: &'static str| {
            let store = store.clone();
            async move {
                setting::Entity::find_by_id(key.to_string())
                    .one(store.connection())
                    .await
                    .unwrap()
                    .map(|m| m.value)
            }
        };

        // Insert, then update the row just inserted: in order, one request;
        // a checked statement after them sees both.
        let txn = store.begin_command().await.unwrap();
        let w = Writes::new(&txn);
        insert("gathered", "1").gather(&w).unwrap();
        setting::Entity::update_many()
            .col_expr(setting::Column::Value, Expr::value("2"))
            .filter(sea_orm::ColumnTrait::eq(&setting::Column::Key, "gathered"))
            .gather(&w)
            .unwrap();
        w.flush().await.unwrap();
        let seen = setting::Entity::update_many()
            .col_expr(setting::Column::Value, Expr::value("3"))
            .filter(sea_orm::ColumnTrait::eq(&setting::Column::Key, "gathered"))
            .filter(sea_orm::ColumnTrait::eq(&setting::Column::Value, "2"))
            .build(txn.backend());
        assert_eq!(txn.check(seen).await.unwrap(), 1, "{backend}");
        drop(w);
        Store::commit_command(txn).await.unwrap();
        assert_eq!(read("gathered").await.as_deref(), Some("3"), "{backend}");

        // A batch whose second statement fails (the key exists): the command
        // cannot commit (the error comes with the flush, or on SQLite, where
        // gathered writes are not waited for, with the commit), and nothing
        // of the batch is there.
        let txn = store.begin_command().await.unwrap();
        let w = Writes::new(&txn);
        insert("first_of_a_failed_batch", "x").gather(&w).unwrap();
        insert("gathered", "again").gather(&w).unwrap();
        let flushed = w.flush().await;
        drop(w);
        let committed = match flushed {
            Err(e) => Err(e),
            Ok(()) => Store::commit_command(txn).await,
        };
        assert!(committed.is_err(), "{backend}: a duplicate key must fail");
        // A check after such a batch gets its error too.
        let txn = store.begin_command().await.unwrap();
        let w = Writes::new(&txn);
        insert("gathered", "again").gather(&w).unwrap();
        let checked = match w.flush().await {
            Err(e) => Err(e),
            Ok(()) => {
                let touch = setting::Entity::update_many()
                    .col_expr(setting::Column::Value, Expr::value("4"))
                    .filter(sea_orm::ColumnTrait::eq(&setting::Column::Key, "gathered"))
                    .build(txn.backend());
                txn.check(touch).await
            }
        };
        assert!(
            checked.is_err(),
            "{backend}: the failed batch fails the check"
        );
        drop(w);
        drop(txn);
        assert_eq!(read("first_of_a_failed_batch").await, None, "{backend}");
        assert_eq!(read("gathered").await.as_deref(), Some("3"), "{backend}");
    })
    .await;
}

/// The store's list of tables (which tells, on PostgreSQL, which gathered
/// statements may be combined into one) names every table of the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_of_tables_is_the_schema() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    each_db(|runtime, _, backend| async move {
        let conn = runtime.store().connection().clone();
        let sql = match conn.get_database_backend() {
            DbBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"
            }
            _ => {
                "SELECT table_name AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name <> 'seaql_migrations'"
            }
        };
        let rows = conn
            .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap();
        let mut schema: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "name").unwrap())
            .collect();
        schema.sort();
        let mut listed: Vec<String> = bpmn_engine::store::entity::TABLES
            .iter()
            .map(|t| t.to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, schema, "{backend}");
    })
    .await;
}

/// `INSERT INTO setting (key, value) SELECT key, name FROM app_group WHERE
/// name IN (from)`: writes `setting`, reads `app_group`, and inserts one row
/// when a group of those names exists, none when not.
fn copy_group(backend: sea_orm::DbBackend, key: &str, from: &[&str]) -> sea_orm::Statement {
    use bpmn_engine::store::entity::{app_group, setting};
    use sea_orm::ColumnTrait;
    use sea_orm::sea_query::{Expr, Query};

    backend.build(
        Query::insert()
            .into_table(setting::Entity)
            .columns([setting::Column::Key, setting::Column::Value])
            .select_from(
                Query::select()
                    .expr(Expr::val(key))
                    .column(app_group::Column::Name)
                    .from(app_group::Entity)
                    .and_where(app_group::Column::Name.is_in(from.iter().copied()))
                    .to_owned(),
            )
            .unwrap(),
    )
}

/// On PostgreSQL a command's gathered statements are combined into one
/// statement while none names a table that an earlier one of the run writes:
/// a statement that only reads a table a later one writes shares its
/// statement; one that reads what an earlier one wrote starts the next.
#[test]
fn a_read_before_a_write_shares_a_statement_a_read_after_it_does_not() {
    use bpmn_engine::store::combined;
    use bpmn_engine::store::entity::{app_group, setting};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Set};

    let pg = DbBackend::Postgres;
    // Reads app_group, writes setting.
    let copy = copy_group(pg, "copied", &["g1"]);
    let rename = app_group::Entity::update_many()
        .col_expr(app_group::Column::Name, Expr::value("g2"))
        .filter(app_group::Column::Name.eq("g1"))
        .build(pg);
    let other = setting::Entity::insert(setting::ActiveModel {
        key: Set("other".into()),
        value: Set("x".into()),
    })
    .build(pg);
    let sqls = |statements: Vec<sea_orm::Statement>| -> Vec<String> {
        combined(pg, statements)
            .into_iter()
            .map(|s| s.sql)
            .collect()
    };

    let read_first = sqls(vec![copy.clone(), rename.clone()]);
    assert_eq!(read_first.len(), 1, "{read_first:#?}");
    assert!(read_first[0].starts_with("WITH s0 AS (INSERT INTO \"setting\""));

    let write_first = sqls(vec![rename.clone(), copy.clone()]);
    assert_eq!(write_first.len(), 2, "{write_first:#?}");
    assert!(write_first[0].starts_with("UPDATE \"app_group\""));

    // A second write of a table the run writes starts the next statement.
    let twice = sqls(vec![copy.clone(), other.clone()]);
    assert_eq!(twice.len(), 2, "{twice:#?}");
}

/// The same orders through a command on each database: what each statement
/// sees is what it would see run one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gathered_reads_see_the_writes_before_them_only() {
    use bpmn_engine::store::entity::{app_group, setting};
    use bpmn_engine::store::{Gather, Writes};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

    each_db(|runtime, _, backend| async move {
        let store = runtime.store();
        for (order, name) in [("read_first", "t5a"), ("write_first", "t5b")] {
            app_group::Entity::insert(app_group::ActiveModel {
                name: Set(name.to_string()),
                ..Default::default()
            })
            .exec(store.connection())
            .await
            .unwrap();
            let txn = store.begin_command().await.unwrap();
            let copy = copy_group(txn.backend(), order, &[name, &format!("{name}-renamed")]);
            let rename = app_group::Entity::update_many()
                .col_expr(
                    app_group::Column::Name,
                    Expr::value(format!("{name}-renamed")),
                )
                .filter(app_group::Column::Name.eq(name));
            let w = Writes::new(&txn);
            if order == "read_first" {
                w.run_statement(copy).unwrap();
                rename.gather(&w).unwrap();
            } else {
                rename.gather(&w).unwrap();
                w.run_statement(copy).unwrap();
            }
            w.flush().await.unwrap();
            drop(w);
            Store::commit_command(txn).await.unwrap();
            let copied = setting::Entity::find_by_id(order.to_string())
                .one(store.connection())
                .await
                .unwrap()
                .map(|m| m.value);
            let expected = if order == "read_first" {
                name.to_string()
            } else {
                format!("{name}-renamed")
            };
            assert_eq!(copied, Some(expected), "{backend}: {order}");
        }
    })
    .await;
}

/// A start whose definition version is suspended when it is written is
/// refused and writes nothing, on PostgreSQL also when it is sent as one
/// statement without a transaction (`store/single.rs`); the next start after
/// the version is resumed lands whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_refused_at_its_commit_writes_nothing() {
    use bpmn_engine::store::entity::{
        instance_variable, process_definition, process_instance, user_task,
    };
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    each_db(|runtime, _, backend| async move {
        let def = demo(&runtime).await;
        let suspend = |suspended: bool| {
            let runtime = runtime.clone();
            async move {
                process_definition::Entity::update_many()
                    .col_expr(
                        process_definition::Column::Suspended,
                        Expr::value(suspended),
                    )
                    .filter(process_definition::Column::Id.eq(def))
                    .exec(runtime.store().connection())
                    .await
                    .unwrap();
            }
        };
        // Suspended behind the runtime's back: its start is computed from
        // the definition it has read, and refused when written.
        suspend(true).await;
        let refused = runtime
            .start(def, obj(json!({"amount": 5})), None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, RuntimeError::Conflict(m) if m.contains("is suspended")),
            "{backend}: {refused}"
        );
        let store = runtime.store();
        let db = store.connection();
        let instances = process_instance::Entity::find()
            .filter(process_instance::Column::DefinitionId.eq(def))
            .count(db)
            .await
            .unwrap();
        assert_eq!(instances, 0, "{backend}: no instance row");
        assert_eq!(
            user_task::Entity::find().count(db).await.unwrap(),
            0,
            "{backend}: no task"
        );

        suspend(false).await;
        let id = runtime
            .start(def, obj(json!({"amount": 5})), None, None)
            .await
            .unwrap()
            .instance_id;
        assert!(
            runtime.open_task_for(id, "t0").await.unwrap().is_some(),
            "{backend}"
        );
        let history = runtime.store().history(id).await.unwrap();
        assert!(
            history.iter().any(|h| h.kind() == "instance_started"),
            "{backend}: the start's history landed"
        );
        let vars: Vec<String> = instance_variable::Entity::find()
            .filter(instance_variable::Column::InstanceId.eq(id))
            .all(runtime.store().connection())
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert!(vars.contains(&"amount".to_string()), "{backend}: {vars:?}");
    })
    .await;
}

/// On PostgreSQL a condition and the writes after it become one statement
/// that fails, writing nothing, unless the condition changed one row; writes
/// that need a second statement (or another database) get none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_statement_lands_whole_or_not_at_all() {
    use bpmn_engine::store::entity::{app_group, setting};
    use bpmn_engine::store::guarded;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, Set};

    each_db(|runtime, _, backend| async move {
        let store = runtime.store();
        let db = store.connection();
        let b = db.get_database_backend();
        // The condition: copies group `from` into a setting (one row when
        // the group exists, none when not).
        let condition = |from: &str, key: &str| copy_group(b, key, &[from]);
        let write = |name: &str| {
            app_group::Entity::insert(app_group::ActiveModel {
                name: Set(name.to_string()),
                ..Default::default()
            })
            .build(b)
        };
        let other_setting = setting::Entity::insert(setting::ActiveModel {
            key: Set("other".into()),
            value: Set("x".into()),
        })
        .build(b);
        if backend == "sqlite" {
            assert!(guarded(vec![condition("g", "k")], vec![write("w")]).is_none());
            return;
        }
        // A write that reads `setting` after the condition wrote it: two
        // statements, so none. An insert of values (it reads nothing) joins.
        assert!(guarded(vec![condition("g", "k")], vec![condition("g", "k0")]).is_none());
        let joined = guarded(vec![condition("g", "k")], vec![other_setting.clone()]).unwrap();
        assert!(joined.sql.starts_with("WITH s0 AS"), "{}", joined.sql);
        assert_eq!(
            bpmn_engine::store::combined(b, vec![condition("g", "k"), other_setting]).len(),
            2
        );

        let unmet = guarded(vec![condition("missing", "k1")], vec![write("w1")]).unwrap();
        assert!(
            db.execute_raw(unmet).await.is_err(),
            "{backend}: the statement fails"
        );
        db.execute_raw(write("g")).await.unwrap();
        let met = guarded(vec![condition("g", "k2")], vec![write("w2")]).unwrap();
        db.execute_raw(met).await.unwrap();
        let only_condition = guarded(vec![condition("missing", "k3")], vec![]).unwrap();
        assert!(db.execute_raw(only_condition).await.is_err(), "{backend}");
        // Two conditions: the second does not hold, so neither lands.
        let rename = |from: &str, to: &str| {
            app_group::Entity::update_many()
                .col_expr(app_group::Column::Name, Expr::value(to))
                .filter(app_group::Column::Name.eq(from))
                .build(b)
        };
        let second_unmet =
            guarded(vec![condition("g", "k4"), rename("missing", "m2")], vec![]).unwrap();
        assert!(db.execute_raw(second_unmet).await.is_err(), "{backend}");
        let both = guarded(vec![condition("g", "k5"), rename("w2", "w2b")], vec![]).unwrap();
        db.execute_raw(both).await.unwrap();

        // A notification goes with the statement, and only when it lands.
        let mut listener =
            sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool())
                .await
                .unwrap();
        listener.listen("bpmn_test_guarded").await.unwrap();
        let notify = || sea_orm::Statement::from_string(b, "NOTIFY bpmn_test_guarded".to_string());
        let refused = guarded(vec![condition("missing", "k6")], vec![notify()]).unwrap();
        assert!(
            refused.sql.contains("pg_notify('bpmn_test_guarded'"),
            "{}",
            refused.sql
        );
        assert!(db.execute_raw(refused).await.is_err(), "{backend}");
        let landed = guarded(
            vec![condition("g", "k7")],
            vec![notify(), write("w3"), notify()],
        )
        .unwrap();
        db.execute_raw(landed).await.unwrap();
        let heard = tokio::time::timeout(Duration::from_secs(10), listener.recv())
            .await
            .expect("the landed statement's notification arrives")
            .unwrap();
        assert_eq!(heard.channel(), "bpmn_test_guarded");
        // One notification: the refused statement's never came.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), listener.recv())
                .await
                .is_err(),
            "{backend}: only the landed statement notified"
        );

        let groups: Vec<String> = app_group::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert!(groups.contains(&"w2b".to_string()), "{groups:?}");
        assert!(!groups.contains(&"w1".to_string()), "{groups:?}");
        for (key, landed) in [
            ("k1", false),
            ("k2", true),
            ("k3", false),
            ("k4", false),
            ("k5", true),
            ("k6", false),
            ("k7", true),
        ] {
            let found = setting::Entity::find_by_id(key.to_string())
                .one(db)
                .await
                .unwrap();
            assert_eq!(found.is_some(), landed, "{backend}: {key}");
        }
    })
    .await;
}
