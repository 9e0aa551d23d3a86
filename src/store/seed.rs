//! Bulk copies of one instance, for the load tool's scale test: an instance
//! made through the real path is the template, and its rows (instance,
//! history, open task with its candidates, variables) are copied with fresh ids
//! in large multi-row inserts — far faster than running the engine a million
//! times, and the same rows the engine would have written. The statistics per
//! element get what the copies' commands would have appended: the template's
//! deltas (derived from its history) times the number of copies, as one row
//! per element.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::OneRow;
use super::entity::{
    history_batch, instance_variable, process_instance, user_task, user_task_candidate,
};
use super::statistics::{ElementCounts, Version, deltas};
use super::{Store, StoreError, from_db_time};
use crate::engine::Event;

/// What an instance's commands appended to the statistics, per element,
/// from its history (each command's events at its time).
fn template_statistics(
    history: &[history_batch::Model],
) -> Result<std::collections::BTreeMap<String, ElementCounts>, StoreError> {
    let mut batches: Vec<&history_batch::Model> = history.iter().collect();
    batches.sort_by_key(|h| h.first_seq);
    let mut since = std::collections::BTreeMap::new();
    let mut out: std::collections::BTreeMap<String, ElementCounts> = Default::default();
    for h in batches {
        let events: Vec<Event> = super::unpack_history(h)
            .and_then(|values| {
                values
                    .into_iter()
                    .map(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                    .collect()
            })
            .map_err(StoreError::Corrupt)?;
        let at = from_db_time(h.at);
        for ((version, element), c) in deltas(&events, &since, || None, at.as_millisecond()) {
            if version == Version::Own {
                out.entry(element).or_default().add(&c);
            }
        }
        for e in &events {
            if let Event::ElementActivated { key, .. } = e {
                since.insert(*key, at);
            }
        }
    }
    Ok(out)
}

/// Rows per multi-row insert (below both databases' parameter limits).
const ROWS: usize = 2000;

impl Store {
    /// Copies instance `template` `count` times; copy `i` offers its task to
    /// the group `group(i)` instead of the template's candidates.
    pub async fn clone_instances(
        &self,
        template: Uuid,
        count: usize,
        group: &dyn Fn(usize) -> String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = &self.db;
        let inst = process_instance::Entity::find_by_id(template)
            .one_row(db)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no instance {template}")))?;
        let history = history_batch::Entity::find()
            .filter(history_batch::Column::InstanceId.eq(template))
            .all(db)
            .await?;
        let tasks = user_task::Entity::find()
            .filter(user_task::Column::InstanceId.eq(template))
            .all(db)
            .await?;
        let cands = user_task_candidate::Entity::find()
            .filter(user_task_candidate::Column::TaskId.is_in(tasks.iter().map(|t| t.id)))
            .all(db)
            .await?;
        let vars = instance_variable::Entity::find()
            .filter(instance_variable::Column::InstanceId.eq(template))
            .all(db)
            .await?;
        let per_batch = (ROWS / history.len().max(1)).clamp(1, 1000);
        let mut done = 0;
        while done < count {
            let n = per_batch.min(count - done);
            let txn = self.begin_write().await?;
            let mut i_rows = Vec::with_capacity(n);
            let mut h_rows = Vec::with_capacity(n * history.len());
            let mut t_rows = Vec::with_capacity(n * tasks.len());
            let mut c_rows = Vec::with_capacity(n * tasks.len());
            let mut v_rows = Vec::with_capacity(n * vars.len());
            for k in 0..n {
                let i = done + k;
                let id = Uuid::now_v7();
                i_rows.push(process_instance::ActiveModel {
                    id: Set(id),
                    definition_id: Set(inst.definition_id),
                    definition_key: Set(inst.definition_key.clone()),
                    status: Set(inst.status.clone()),
                    has_incident: Set(inst.has_incident),
                    business_key: Set(Some(format!("seed-{i}"))),
                    parent_id: Set(None),
                    parent_key: Set(None),
                    state: Set(inst.state.clone()),
                    version: Set(inst.version),
                    last_seq: Set(inst.last_seq),
                    started_at: Set(now),
                    started_by: Set(inst.started_by.clone()),
                    ended_at: Set(None),
                    updated_at: Set(now),
                    suspended: Set(false),
                });
                for h in &history {
                    h_rows.push(history_batch::ActiveModel {
                        instance_id: Set(id),
                        first_seq: Set(h.first_seq),
                        last_seq: Set(h.last_seq),
                        at: Set(now),
                        user_name: Set(h.user_name.clone()),
                        events: Set(h.events.clone()),
                        packed: Set(h.packed.clone()),
                    });
                }
                for t in &tasks {
                    let task_id = Uuid::now_v7();
                    t_rows.push(user_task::ActiveModel {
                        id: Set(task_id),
                        instance_id: Set(id),
                        element_key: Set(t.element_key),
                        element_id: Set(t.element_id.clone()),
                        definition_key: Set(t.definition_key.clone()),
                        name: Set(t.name.clone()),
                        assignee: Set(t.assignee.clone()),
                        state: Set(t.state.clone()),
                        priority: Set(t.priority),
                        due_at: Set(t.due_at),
                        due_sort: Set(t.due_sort),
                        follow_up_at: Set(t.follow_up_at),
                        created_at: Set(now),
                        instance_started_at: Set(now),
                        completed_at: Set(None),
                        completed_by: Set(None),
                        suspended: Set(false),
                    });
                    if let Some(c) = cands.iter().find(|c| c.task_id == t.id) {
                        c_rows.push(user_task_candidate::ActiveModel {
                            task_id: Set(task_id),
                            kind: Set("group".into()),
                            name: Set(group(i)),
                            claimable: Set(c.claimable),
                            created_at: Set(Some(now)),
                            due_sort: Set(c.due_sort),
                            priority: Set(c.priority),
                            definition_key: Set(c.definition_key.clone()),
                            instance_id: Set(id),
                            instance_started_at: Set(now),
                            open: Set(c.open),
                        });
                    }
                }
                for v in &vars {
                    v_rows.push(instance_variable::ActiveModel {
                        instance_id: Set(id),
                        name: Set(v.name.clone()),
                        value: Set(v.value.clone()),
                        is_text: Set(v.is_text),
                    });
                }
            }
            insert_chunks::<process_instance::Entity>(&txn, i_rows, 8).await?;
            insert_chunks::<history_batch::Entity>(&txn, h_rows, 7).await?;
            insert_chunks::<user_task::Entity>(&txn, t_rows, 16).await?;
            insert_chunks::<user_task_candidate::Entity>(&txn, c_rows, 11).await?;
            insert_chunks::<instance_variable::Entity>(&txn, v_rows, 4).await?;
            Store::commit(txn).await?;
            done += n;
        }
        let counts = template_statistics(&history)?;
        let copies: std::collections::BTreeMap<String, ElementCounts> = counts
            .iter()
            .map(|(e, c)| (e.clone(), c.times(count as i64)))
            .collect();
        let txn = self.begin_write().await?;
        Store::add_statistics(&txn, inst.definition_id, &copies).await?;
        Store::commit(txn).await?;
        Ok(())
    }

    /// Brings statistics and visibility up to date after bulk seeding, as
    /// autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would in time.
    pub async fn settle(&self) -> Result<(), StoreError> {
        let sql = match self.db.get_database_backend() {
            DbBackend::Postgres => "VACUUM (ANALYZE)",
            _ => "PRAGMA optimize",
        };
        self.db.execute_unprepared(sql).await?;
        Ok(())
    }

    /// How much disk the engine's tables take (PostgreSQL: the current
    /// schema's tables with their indexes; SQLite: the file's pages in use).
    pub async fn database_size(&self) -> Result<u64, StoreError> {
        let sql = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n \
                 FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace \
                 WHERE s.nspname = current_schema() AND c.relkind = 'r'"
            }
            _ => "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()",
        };
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                sql,
            ))
            .await?;
        Ok(row
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0)
            .max(0) as u64)
    }
}

/// Inserts `rows` in multi-row statements that stay under the parameter limit
/// (`columns` per row).
async fn insert_chunks<E>(
    txn: &super::Txn,
    rows: Vec<E::ActiveModel>,
    columns: usize,
) -> Result<(), StoreError>
where
    E: EntityTrait,
    E::ActiveModel: Send,
{
    let per = (30_000 / columns.max(1)).max(1);
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(per.min(rows.len()));
        E::insert_many(rows).exec_without_returning(txn).await?;
        rows = rest;
    }
    Ok(())
}

impl Store {
    /// Creates a schema on the PostgreSQL server at `base` and returns the URL
    /// that works in it (the load tool measures in fresh schemas).
    pub async fn create_schema(base: &str, schema: &str) -> Result<String, StoreError> {
        let admin = sea_orm::Database::connect(base).await?;
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE SCHEMA {schema}"))
            .await?;
        let _ = admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(format!("{base}{sep}options[search_path]={schema}"))
    }

    /// Drops a schema made by [`Store::create_schema`] with everything in it.
    pub async fn drop_schema(base: &str, schema: &str) -> Result<(), StoreError> {
        let admin = sea_orm::Database::connect(base).await?;
        sea_orm::ConnectionTrait::execute_unprepared(
            &admin,
            &format!("DROP SCHEMA {schema} CASCADE"),
        )
        .await?;
        let _ = admin.close().await;
        Ok(())
    }
}
