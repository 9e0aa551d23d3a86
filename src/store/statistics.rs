//! Statistics per diagram element: how many element instances are active
//! now, how many completed or were cancelled, the open incidents, and the
//! time spent by those that completed.
//!
//! Nothing here is a counter that every command updates: a shared row per
//! definition would serialize all its instances' commands on PostgreSQL.
//! Instead each command *appends* what it changed, per element, as rows of
//! `element_stat_delta` — one multi-row insert in the command's own
//! transaction, and none when nothing changed ([`Store::record_statistics`]).
//! The deltas are derived from the command's events, so operator
//! modifications, migrations and cancellations keep the numbers exact. A
//! rollup ([`Store::fold_statistics`], one at a time: an advisory lock on
//! PostgreSQL, the single writer on SQLite) folds delta rows into one
//! `element_stat` row per (definition, element) and deletes them; a query
//! reads the summary rows and the not yet folded deltas of a definition in
//! one statement (both indexed by definition).
//!
//! Times are kept as a sum (for the average) and as a sparse log-scale
//! histogram with [`BUCKETS_PER_DOUBLING`] buckets per doubling of
//! `1 + milliseconds`: the 95th percentile read from it is the geometric
//! middle of its bucket, within about 9 % of the true value.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Query, UnionType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::OneRow;
use super::entity::{element_stat, element_stat_delta, process_definition};
use super::{Gather, Store, StoreError, Txn, Writes};
use crate::engine::{Event, InstanceState};

/// Histogram buckets per doubling of `1 + milliseconds`.
pub const BUCKETS_PER_DOUBLING: f64 = 4.0;

/// The advisory lock the rollup holds on PostgreSQL.
const ROLLUP_LOCK: i64 = 7_423_118_853;

/// The numbers of one element (or what one command changed of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElementCounts {
    /// Element instances active now (started minus ended).
    pub active: i64,
    pub completed: i64,
    /// Ended without completing: cancelled by an operator or with the
    /// instance, interrupted by a boundary event, ended by a terminate end
    /// event.
    pub cancelled: i64,
    /// Open incidents.
    pub incidents: i64,
    /// Completions whose time spent is known (element instances that
    /// started before statistics were kept have none).
    pub timed: i64,
    /// Their time spent, summed, in milliseconds.
    pub duration_ms: i64,
    /// Bucket number ([`bucket`]) -> completions in it.
    pub histogram: BTreeMap<u32, i64>,
}

impl ElementCounts {
    /// Adds `other` to these numbers.
    pub fn add(&mut self, other: &ElementCounts) {
        self.active += other.active;
        self.completed += other.completed;
        self.cancelled += other.cancelled;
        self.incidents += other.incidents;
        self.timed += other.timed;
        self.duration_ms += other.duration_ms;
        for (b, n) in &other.histogram {
            *self.histogram.entry(*b).or_insert(0) += n;
        }
        self.histogram.retain(|_, n| *n != 0);
    }

    /// These numbers `times` times over (for seeded copies of an instance).
    pub fn times(&self, times: i64) -> ElementCounts {
        ElementCounts {
            active: self.active * times,
            completed: self.completed * times,
            cancelled: self.cancelled * times,
            incidents: self.incidents * times,
            timed: self.timed * times,
            duration_ms: self.duration_ms * times,
            histogram: self
                .histogram
                .iter()
                .map(|(b, n)| (*b, n * times))
                .collect(),
        }
    }

    fn is_zero(&self) -> bool {
        *self == ElementCounts::default()
    }

    /// One completion that took `ms` milliseconds (`None`: unknown).
    fn complete(&mut self, ms: Option<i64>) {
        self.active -= 1;
        self.completed += 1;
        if let Some(ms) = ms {
            let ms = ms.max(0);
            self.timed += 1;
            self.duration_ms += ms;
            *self.histogram.entry(bucket(ms)).or_insert(0) += 1;
        }
    }

    /// The average time spent by the timed completions, in milliseconds.
    pub fn average_ms(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.duration_ms as f64 / self.timed as f64)
    }

    /// The 95th percentile of the time spent, in milliseconds, read from the
    /// histogram (within about 9 %).
    pub fn p95_ms(&self) -> Option<i64> {
        let total: i64 = self.histogram.values().sum();
        if total <= 0 {
            return None;
        }
        let rank = ((total as f64) * 0.95).ceil() as i64;
        let mut seen = 0;
        for (b, n) in &self.histogram {
            seen += n;
            if seen >= rank {
                return Some(bucket_middle(*b));
            }
        }
        self.histogram.keys().last().map(|b| bucket_middle(*b))
    }

    fn histogram_json(&self) -> String {
        let map: BTreeMap<String, i64> = self
            .histogram
            .iter()
            .map(|(b, n)| (b.to_string(), *n))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
    }

    fn from_row(r: &StatRow) -> ElementCounts {
        let map: BTreeMap<String, i64> = serde_json::from_str(&r.histogram).unwrap_or_default();
        ElementCounts {
            active: r.active,
            completed: r.completed,
            cancelled: r.cancelled,
            incidents: r.incidents,
            timed: r.timed,
            duration_ms: r.duration_ms,
            histogram: map
                .into_iter()
                .filter_map(|(b, n)| Some((b.parse().ok()?, n)))
                .collect(),
        }
    }
}

/// The histogram bucket of a time in milliseconds.
pub fn bucket(ms: i64) -> u32 {
    let x = (ms.max(0) as f64) + 1.0;
    (BUCKETS_PER_DOUBLING * x.log2()).floor() as u32
}

/// The time a bucket stands for: the geometric middle of its bounds.
pub fn bucket_middle(b: u32) -> i64 {
    let x = 2f64.powf((b as f64 + 0.5) / BUCKETS_PER_DOUBLING) - 1.0;
    x.round() as i64
}

/// Which definition version a delta is for: the instance's own, or (after
/// a migration) another version of the same process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Own,
    Other(i32),
}

/// What one command changed, per (version, element).
pub type Deltas = BTreeMap<(Version, String), ElementCounts>;

/// The deltas of a command's events. `since` says when the element
/// instances live before the command started; `before` gives the state
/// before the command, asked for only when an event needs it (an incident
/// resolved that this command did not raise, a migration); `now_ms` is the
/// command's time (Unix milliseconds).
pub fn deltas(
    events: &[Event],
    since: &BTreeMap<u64, jiff::Timestamp>,
    before: impl FnOnce() -> Option<InstanceState>,
    now_ms: i64,
) -> Deltas {
    let mut out = Deltas::new();
    let mut started_now = BTreeSet::new();
    let mut raised: BTreeMap<u64, String> = BTreeMap::new();
    let mut before = Some(before);
    let mut prior: Option<InstanceState> = None;
    for event in events {
        match event {
            Event::ElementActivated { key, element, .. } => {
                started_now.insert(*key);
                entry(&mut out, Version::Own, element).active += 1;
            }
            Event::ElementCompleted { key, element } => {
                let ms = if started_now.contains(key) {
                    Some(0)
                } else {
                    since
                        .get(key)
                        .map(|t| now_ms.saturating_sub(t.as_millisecond()))
                };
                entry(&mut out, Version::Own, element).complete(ms);
            }
            Event::ElementTerminated { element, .. } => {
                let c = entry(&mut out, Version::Own, element);
                c.active -= 1;
                c.cancelled += 1;
            }
            Event::IncidentRaised {
                incident, element, ..
            } => {
                raised.insert(*incident, element.clone());
                entry(&mut out, Version::Own, element).incidents += 1;
            }
            Event::IncidentResolved { incident } => {
                let element = match raised.get(incident) {
                    Some(e) => Some(e.clone()),
                    None => load(&mut before, &mut prior)
                        .and_then(|s| s.incidents.get(incident).map(|i| i.element.clone())),
                };
                if let Some(element) = element {
                    entry(&mut out, Version::Own, &element).incidents -= 1;
                }
            }
            Event::InstanceMigrated {
                to_version,
                renamed,
                ..
            } => {
                let Some(old) = load(&mut before, &mut prior) else {
                    continue;
                };
                let new = |id: &str| renamed.get(id).cloned().unwrap_or_else(|| id.to_string());
                for e in old.elements.values() {
                    entry(&mut out, Version::Own, &e.element).active -= 1;
                    entry(&mut out, Version::Other(*to_version), &new(&e.element)).active += 1;
                }
                for i in old.incidents.values() {
                    entry(&mut out, Version::Own, &i.element).incidents -= 1;
                    entry(&mut out, Version::Other(*to_version), &new(&i.element)).incidents += 1;
                }
            }
            _ => {}
        }
    }
    out.retain(|_, c| !c.is_zero());
    out
}

/// The state before the command, read at most once.
fn load<'a, F: FnOnce() -> Option<InstanceState>>(
    before: &mut Option<F>,
    prior: &'a mut Option<InstanceState>,
) -> Option<&'a InstanceState> {
    if let Some(f) = before.take() {
        *prior = f();
    }
    prior.as_ref()
}

fn entry<'a>(out: &'a mut Deltas, v: Version, element: &str) -> &'a mut ElementCounts {
    out.entry((v, element.to_string())).or_default()
}

/// What [`Store::record_statistics`] needs of a command.
pub struct CommandStatistics<'a> {
    /// The definition version the instance ran when the command began.
    pub definition_id: i64,
    pub definition_key: &'a str,
    pub events: &'a [Event],
    /// The state after the command (its `since` still has the element
    /// instances that ended in it).
    pub state: &'a InstanceState,
    /// The instance row's state before the command (JSON), if it existed.
    pub before: Option<&'a str>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct StatRow {
    element_id: String,
    active: i64,
    completed: i64,
    cancelled: i64,
    incidents: i64,
    timed: i64,
    duration_ms: i64,
    histogram: String,
}

impl Store {
    /// Appends what a command changed per element: one multi-row insert,
    /// none when nothing changed.
    pub fn record_statistics(w: &Writes<'_>, c: CommandStatistics<'_>) -> Result<(), StoreError> {
        let deltas = deltas(
            c.events,
            &c.state.since,
            || c.before.and_then(|s| serde_json::from_str(s).ok()),
            c.now.timestamp_millis(),
        );
        let mut own = Vec::with_capacity(deltas.len());
        for ((version, element), counts) in &deltas {
            match version {
                Version::Own => own.push(delta_row(c.definition_id, element, counts)),
                // Counts of the version the instance ran before a migration:
                // its id is looked up in the same statement (definitions
                // are never deleted; should it be missing, the insert fails
                // on the NOT NULL column and the command with it).
                Version::Other(v) => {
                    w.run_built(&other_version_delta(c.definition_key, *v, element, counts)?)?
                }
            }
        }
        if !own.is_empty() {
            element_stat_delta::Entity::insert_many(own).gather(w)?;
        }
        Ok(())
    }

    /// Adds counts for `definition_id` as delta rows (seeding copies of
    /// instances: their numbers, as the commands would have written them).
    pub async fn add_statistics(
        txn: &Txn,
        definition_id: i64,
        counts: &BTreeMap<String, ElementCounts>,
    ) -> Result<(), StoreError> {
        let rows: Vec<_> = counts
            .iter()
            .filter(|(_, c)| !c.is_zero())
            .map(|(e, c)| delta_row(definition_id, e, c))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        element_stat_delta::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }

    /// Folds up to `max_rows` delta rows into the summary rows and deletes
    /// them, in one transaction; returns how many were folded (0 when
    /// another process is folding right now).
    pub async fn fold_statistics(&self, max_rows: u64) -> Result<usize, StoreError> {
        let txn = self.begin_write().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            let got = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT pg_try_advisory_xact_lock({ROLLUP_LOCK}) AS got"),
                ))
                .await?
                .and_then(|r| r.try_get::<bool>("", "got").ok())
                .unwrap_or(false);
            if !got {
                return Ok(0);
            }
        }
        let rows = element_stat_delta::Entity::find()
            .order_by_asc(element_stat_delta::Column::Id)
            .limit(max_rows)
            .all(&txn)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut sums: BTreeMap<(i64, String), ElementCounts> = BTreeMap::new();
        for r in &rows {
            let counts = ElementCounts::from_row(&StatRow {
                element_id: r.element_id.clone(),
                active: r.active,
                completed: r.completed,
                cancelled: r.cancelled,
                incidents: r.incidents,
                timed: r.timed,
                duration_ms: r.duration_ms,
                histogram: r.histogram.clone(),
            });
            sums.entry((r.definition_id, r.element_id.clone()))
                .or_default()
                .add(&counts);
        }
        for ((definition_id, element), add) in sums {
            let old = element_stat::Entity::find_by_id((definition_id, element.clone()))
                .one_row(&txn)
                .await?;
            let mut total = old
                .as_ref()
                .map(|o| {
                    ElementCounts::from_row(&StatRow {
                        element_id: o.element_id.clone(),
                        active: o.active,
                        completed: o.completed,
                        cancelled: o.cancelled,
                        incidents: o.incidents,
                        timed: o.timed,
                        duration_ms: o.duration_ms,
                        histogram: o.histogram.clone(),
                    })
                })
                .unwrap_or_default();
            total.add(&add);
            let row = element_stat::ActiveModel {
                definition_id: Set(definition_id),
                element_id: Set(element),
                active: Set(total.active),
                completed: Set(total.completed),
                cancelled: Set(total.cancelled),
                incidents: Set(total.incidents),
                timed: Set(total.timed),
                duration_ms: Set(total.duration_ms),
                histogram: Set(total.histogram_json()),
            };
            if old.is_some() {
                element_stat::Entity::update(row).exec(&txn).await?;
            } else {
                element_stat::Entity::insert(row)
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        // By id, not by range: a row of a transaction that commits late
        // with a smaller id is folded next time, never lost.
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        for chunk in ids.chunks(500) {
            element_stat_delta::Entity::delete_many()
                .filter(element_stat_delta::Column::Id.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?;
        }
        Store::commit(txn).await?;
        Ok(rows.len())
    }

    /// The numbers per element of these definition versions (summed over
    /// them): the summary rows and the deltas not folded yet, read in one
    /// statement so that a rollup committing meanwhile is seen whole or not
    /// at all.
    pub async fn element_statistics(
        &self,
        definition_ids: &[i64],
    ) -> Result<BTreeMap<String, ElementCounts>, StoreError> {
        let mut out: BTreeMap<String, ElementCounts> = BTreeMap::new();
        if definition_ids.is_empty() {
            return Ok(out);
        }
        let columns = |q: &mut sea_orm::sea_query::SelectStatement, table: &str| {
            for c in [
                "element_id",
                "active",
                "completed",
                "cancelled",
                "incidents",
                "timed",
                "duration_ms",
                "histogram",
            ] {
                q.column((
                    sea_orm::sea_query::Alias::new(table),
                    sea_orm::sea_query::Alias::new(c),
                ));
            }
        };
        let mut summary = Query::select();
        columns(&mut summary, "element_stat");
        summary
            .from(element_stat::Entity)
            .and_where(element_stat::Column::DefinitionId.is_in(definition_ids.to_vec()));
        let mut deltas = Query::select();
        columns(&mut deltas, "element_stat_delta");
        deltas
            .from(element_stat_delta::Entity)
            .and_where(element_stat_delta::Column::DefinitionId.is_in(definition_ids.to_vec()));
        summary.union(UnionType::All, deltas);
        let backend = self.db.get_database_backend();
        let rows = StatRow::find_by_statement(backend.build(&summary))
            .all(&self.db)
            .await?;
        for r in &rows {
            out.entry(r.element_id.clone())
                .or_default()
                .add(&ElementCounts::from_row(r));
        }
        out.retain(|_, c| !c.is_zero());
        Ok(out)
    }
}

/// A delta row for another version of the definition, found by its key
/// and version number.
fn other_version_delta(
    key: &str,
    version: i32,
    element: &str,
    c: &ElementCounts,
) -> Result<sea_orm::sea_query::InsertStatement, StoreError> {
    use element_stat_delta::Column as C;
    use sea_orm::sea_query::{Expr, QueryStatementBuilder};
    let id = Query::select()
        .column(process_definition::Column::Id)
        .from(process_definition::Entity)
        .and_where(process_definition::Column::Key.eq(key))
        .and_where(process_definition::Column::Version.eq(version))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(element_stat_delta::Entity)
        .columns([
            C::DefinitionId,
            C::ElementId,
            C::Active,
            C::Completed,
            C::Cancelled,
            C::Incidents,
            C::Timed,
            C::DurationMs,
            C::Histogram,
        ])
        .values([
            Expr::SubQuery(None, Box::new(id.into_sub_query_statement())),
            element.into(),
            c.active.into(),
            c.completed.into(),
            c.cancelled.into(),
            c.incidents.into(),
            c.timed.into(),
            c.duration_ms.into(),
            c.histogram_json().into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(insert)
}

fn delta_row(
    definition_id: i64,
    element: &str,
    c: &ElementCounts,
) -> element_stat_delta::ActiveModel {
    element_stat_delta::ActiveModel {
        id: Default::default(),
        definition_id: Set(definition_id),
        element_id: Set(element.to_string()),
        active: Set(c.active),
        completed: Set(c.completed),
        cancelled: Set(c.cancelled),
        incidents: Set(c.incidents),
        timed: Set(c.timed),
        duration_ms: Set(c.duration_ms),
        histogram: Set(c.histogram_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_within_ten_percent() {
        for ms in [0i64, 1, 5, 17, 250, 999, 60_000, 3_600_000, 86_400_000 * 30] {
            let mid = bucket_middle(bucket(ms));
            let (a, b) = ((ms + 1) as f64, (mid + 1) as f64);
            assert!((a / b).max(b / a) < 1.1, "{ms} ms -> {mid} ms");
        }
        assert!(bucket(1000) > bucket(999 / 2));
    }

    #[test]
    fn p95_reads_the_histogram() {
        let mut c = ElementCounts::default();
        for _ in 0..95 {
            c.active += 1;
            c.complete(Some(100));
        }
        for _ in 0..5 {
            c.active += 1;
            c.complete(Some(100_000));
        }
        assert_eq!(c.completed, 100);
        assert_eq!(c.active, 0);
        let p95 = c.p95_ms().unwrap_or_default();
        assert!((91..=110).contains(&p95), "{p95}");
        c.active += 1;
        c.complete(Some(100_000));
        let p95 = c.p95_ms().unwrap_or_default();
        assert!(p95 > 90_000, "{p95}");
        assert_eq!(c.average_ms(), Some(609_500.0 / 101.0));
    }
}
