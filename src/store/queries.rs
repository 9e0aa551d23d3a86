//! Read queries for the pages and the API: the inbox, instance lists and the
//! definitions overview. Authorization is part of every query — a user only
//! ever reads rows they may see — so nothing can leak by forgetting a check.

use sea_orm::sea_query::{Expr, ExprTrait, Query, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::Value;
use uuid::Uuid;

use super::OneRow;
use super::entity::{
    deployment, instance_variable, process_definition, process_instance, user_task,
    user_task_candidate,
};
use super::{Store, StoreError};

/// Drops `%` and `_` from a LIKE pattern, so that they cannot act as wildcards.
fn escape_like(s: &str) -> String {
    s.replace(['%', '_'], "")
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub name: String,
    pub groups: Vec<String>,
    pub admin: bool,
}

/// How to sort the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskOrder {
    /// Newest first.
    #[default]
    Created,
    /// Soonest due first (tasks without a due date last).
    Due,
    /// Highest priority first.
    Priority,
}

/// Which tasks of the inbox.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Only tasks of this process key.
    pub process: Option<String>,
    /// Only tasks of this instance.
    pub instance: Option<Uuid>,
    /// Assigned to the viewer (`Some(true)`), claimable by them (`Some(false)`), or both.
    pub assigned: Option<bool>,
    pub order: TaskOrder,
    pub offset: u64,
    pub limit: u64,
}

/// Which instances.
#[derive(Debug, Clone, Default)]
pub struct InstanceQuery {
    pub definition: Option<String>,
    /// `active`, `completed`, `terminated` or `incident`.
    pub state: Option<String>,
    pub started_by: Option<String>,
    pub business_key: Option<String>,
    pub started_from: Option<chrono::DateTime<chrono::Utc>>,
    pub started_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Every `(name, value)` must match a variable of the instance.
    pub variables: Vec<(String, String)>,
    /// Only these instances.
    pub ids: Option<Vec<Uuid>>,
    /// A LIKE pattern for the business key (`%` and `_` are wildcards).
    pub business_key_like: Option<String>,
    /// Only instances of these definition versions.
    pub definition_ids: Option<Vec<i64>>,
    /// Only instances of these process keys.
    pub definition_keys: Option<Vec<String>>,
    /// Only instances with (`true`) or without (`false`) an open incident.
    pub has_incident: Option<bool>,
    /// Only suspended (`true`) or not suspended (`false`) instances.
    pub suspended: Option<bool>,
    pub order: InstanceOrder,
    /// Count every matching row instead of stopping at [`COUNT_CAP`].
    pub exact_count: bool,
    pub offset: u64,
    pub limit: u64,
}

/// How to sort instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceOrder {
    /// Newest first.
    #[default]
    Started,
    /// By id, business key, process key or definition id; `true` descending.
    Id(bool),
    BusinessKey(bool),
    DefinitionKey(bool),
    DefinitionId(bool),
}

/// Lists count their rows only up to this many: past it, "more than" is all a
/// reader needs, and counting every row of a huge inbox would dominate the page.
pub const COUNT_CAP: u64 = 200;
/// The navigation's task counts stop here ("99+").
pub const NAV_COUNT_CAP: u64 = 99;

/// How many rows a list has, counted up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    /// There are more than `count`.
    pub more: bool,
}

async fn capped_count<E: EntityTrait>(
    select: sea_orm::Select<E>,
    cap: u64,
    db: &sea_orm::DatabaseConnection,
) -> Result<Total, StoreError>
where
    E::Model: Send + Sync,
{
    let n = select.limit(cap + 1).count(db).await?;
    Ok(Total {
        count: Ord::min(n, cap),
        more: n > cap,
    })
}

/// One task of an inbox stream, with its sort keys.
#[derive(Debug, Clone, FromQueryResult)]
struct Entry {
    id: Uuid,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    due_sort: Option<chrono::DateTime<chrono::Utc>>,
    priority: i64,
}

/// One line of the definitions overview.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DefinitionStats {
    pub key: String,
    pub versions: i64,
    pub latest_version: i32,
}

/// A candidate row names the viewer: as a candidate user, or one of their groups.
fn candidate_who(viewer: &Viewer) -> Condition {
    let kind = || {
        Expr::col((
            user_task_candidate::Entity,
            user_task_candidate::Column::Kind,
        ))
    };
    let name = || {
        Expr::col((
            user_task_candidate::Entity,
            user_task_candidate::Column::Name,
        ))
    };
    let mut who = Condition::any().add(
        Condition::all()
            .add(kind().eq("user"))
            .add(name().eq(viewer.name.as_str())),
    );
    if !viewer.groups.is_empty() {
        who = who.add(
            Condition::all()
                .add(kind().eq("group"))
                .add(name().is_in(viewer.groups.iter().map(String::as_str))),
        );
    }
    who
}

/// A task is the viewer's candidate task: a candidate user or group matches.
fn candidate_of(viewer: &Viewer) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(user_task_candidate::Entity)
            .and_where(
                Expr::col((
                    user_task_candidate::Entity,
                    user_task_candidate::Column::TaskId,
                ))
                .equals((user_task::Entity, user_task::Column::Id)),
            )
            .cond_where(candidate_who(viewer))
            .to_owned(),
    )
}

/// Tasks the viewer may see: assigned to them, or where they are a candidate.
pub(super) fn visible_task(viewer: &Viewer) -> Condition {
    if viewer.admin {
        return Condition::all();
    }
    Condition::any()
        .add(user_task::Column::Assignee.eq(viewer.name.as_str()))
        .add(candidate_of(viewer))
}

/// Instances the viewer may see: started by them, or with a task they did,
/// hold, or could claim.
pub(super) fn visible_instance(viewer: &Viewer) -> Condition {
    if viewer.admin {
        return Condition::all();
    }
    let tasks = Condition::any()
        .add(
            Expr::col((user_task::Entity, user_task::Column::CompletedBy)).eq(viewer.name.as_str()),
        )
        .add(Expr::col((user_task::Entity, user_task::Column::Assignee)).eq(viewer.name.as_str()))
        .add(
            Condition::all()
                .add(Expr::col((user_task::Entity, user_task::Column::State)).eq("open"))
                .add(candidate_of(viewer)),
        );
    Condition::any()
        .add(process_instance::Column::StartedBy.eq(viewer.name.as_str()))
        .add(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(user_task::Entity)
                .and_where(
                    Expr::col((user_task::Entity, user_task::Column::InstanceId))
                        .equals((process_instance::Entity, process_instance::Column::Id)),
                )
                .cond_where(tasks)
                .to_owned(),
        ))
}

/// The task, if the viewer is one of its candidates.
fn candidate_task(viewer: &Viewer, task: Uuid) -> sea_orm::Select<user_task::Entity> {
    user_task::Entity::find_by_id(task).filter(candidate_of(viewer))
}

/// The instance, if the viewer started or worked on it (whatever the
/// viewer's role).
fn involved_instance(viewer: &Viewer, id: Uuid) -> sea_orm::Select<process_instance::Entity> {
    let as_user = Viewer {
        admin: false,
        ..viewer.clone()
    };
    process_instance::Entity::find_by_id(id).filter(visible_instance(&as_user))
}

/// The same rule as [`visible_instance`], as a set of instance ids built from
/// the viewer's side, each part from its own index: cheap when the viewer is
/// involved in few instances, where the rule above would test every instance.
fn visible_ids(viewer: &Viewer) -> sea_orm::sea_query::SelectStatement {
    visible_id_parts(viewer, UnionType::Distinct)
}

/// The parts of [`visible_ids`], joined by `union` (`All` lets a capped count
/// stop early; an id may then be counted more than once).
fn visible_id_parts(viewer: &Viewer, union: UnionType) -> sea_orm::sea_query::SelectStatement {
    let me = viewer.name.as_str();
    let by = |column: user_task::Column| {
        Query::select()
            .column((user_task::Entity, user_task::Column::InstanceId))
            .from(user_task::Entity)
            .and_where(Expr::col((user_task::Entity, column)).eq(me))
            .to_owned()
    };
    let candidate = Query::select()
        .column((user_task::Entity, user_task::Column::InstanceId))
        .from(user_task_candidate::Entity)
        .inner_join(
            user_task::Entity,
            Expr::col((user_task::Entity, user_task::Column::Id)).equals((
                user_task_candidate::Entity,
                user_task_candidate::Column::TaskId,
            )),
        )
        .and_where(Expr::col((user_task::Entity, user_task::Column::State)).eq("open"))
        .cond_where(candidate_who(viewer))
        .to_owned();
    let started = Query::select()
        .column((process_instance::Entity, process_instance::Column::Id))
        .from(process_instance::Entity)
        .and_where(
            Expr::col((
                process_instance::Entity,
                process_instance::Column::StartedBy,
            ))
            .eq(me),
        )
        .to_owned();
    by(user_task::Column::CompletedBy)
        .union(union, by(user_task::Column::Assignee))
        .union(union, candidate)
        .union(union, started)
        .to_owned()
}

/// Up to this many instances involving a viewer, their list is read by id
/// (`visible_ids`); beyond it, by walking the instances newest first with the
/// rule, which finds a page quickly when matches are that common.
const FEW_INSTANCES: u64 = 20_000;

/// The list's filters (everything but visibility), on `process_instance`'s columns.
fn instance_filters(q: &InstanceQuery) -> Condition {
    let mut cond = Condition::all();
    if let Some(d) = &q.definition {
        cond = cond.add(process_instance::Column::DefinitionKey.eq(d.as_str()));
    }
    match q.state.as_deref() {
        Some("incident") => {
            cond = cond
                .add(process_instance::Column::Status.eq("active"))
                .add(process_instance::Column::HasIncident.eq(true));
        }
        Some("active" | "running") => {
            cond = cond.add(process_instance::Column::Status.eq("active"))
        }
        Some(s @ ("completed" | "terminated")) => {
            cond = cond.add(process_instance::Column::Status.eq(s))
        }
        _ => {}
    }
    if let Some(u) = &q.started_by {
        cond = cond.add(process_instance::Column::StartedBy.eq(u.as_str()));
    }
    if let Some(b) = &q.business_key {
        cond = cond.add(process_instance::Column::BusinessKey.eq(b.as_str()));
    }
    if let Some(t) = q.started_from {
        cond = cond.add(process_instance::Column::StartedAt.gte(t));
    }
    if let Some(t) = q.started_to {
        cond = cond.add(process_instance::Column::StartedAt.lt(t));
    }
    for (name, value) in &q.variables {
        cond = cond.add(process_instance::Column::Id.in_subquery(variable_match(name, value)));
    }
    if let Some(ids) = &q.ids {
        cond = cond.add(process_instance::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(p) = &q.business_key_like {
        cond = cond.add(process_instance::Column::BusinessKey.like(p.as_str()));
    }
    if let Some(ids) = &q.definition_ids {
        cond = cond.add(process_instance::Column::DefinitionId.is_in(ids.iter().copied()));
    }
    if let Some(keys) = &q.definition_keys {
        cond = cond.add(process_instance::Column::DefinitionKey.is_in(keys.iter().cloned()));
    }
    if let Some(i) = q.has_incident {
        cond = cond.add(process_instance::Column::HasIncident.eq(i));
    }
    if let Some(s) = q.suspended {
        cond = cond.add(process_instance::Column::Suspended.eq(s));
    }
    cond
}

/// One instance of a list stream, with its sort key.
#[derive(Debug, Clone, FromQueryResult)]
struct Listed {
    id: Uuid,
    started_at: chrono::DateTime<chrono::Utc>,
}

/// A way a user sees an instance: each is read from an index of its own in
/// the instance list's order (start time, then id, both descending).
#[derive(Debug, Clone, Copy)]
enum Way<'a> {
    /// They started it (`ix_process_instance_starter_order`).
    Started,
    /// They completed one of its tasks (`ix_user_task_completed_by_order`).
    Completed,
    /// They hold (or held) one of its tasks (`ix_user_task_assignee_order`).
    Holds,
    /// An open task names them, or one of their groups, as candidate
    /// (`ix_candidate_instance_order`): `(kind, name)`.
    Candidate(&'a str, &'a str),
}

/// A stream being merged: what was read and not yet taken, where to go on.
struct Stream<'a> {
    way: Way<'a>,
    buf: std::collections::VecDeque<Listed>,
    /// The sort key of the last row read: the next read starts after it.
    after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    /// Nothing more to read.
    done: bool,
}

impl Way<'_> {
    /// The next `limit` rows of this stream after `after`, newest first;
    /// `filters` (on the instance's columns) narrow it. A task stream may name
    /// an instance more than once (several tasks): those rows are adjacent.
    fn page(
        self,
        viewer: &Viewer,
        filters: Option<&Condition>,
        after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
        limit: u64,
    ) -> sea_orm::Selector<sea_orm::SelectModel<Listed>> {
        use process_instance::Column as P;
        use user_task::Column as T;
        use user_task_candidate::Column as C;
        let me = viewer.name.as_str();
        let before = |at: Expr, id: Expr| {
            after.map(|(t, i)| {
                Expr::tuple([at, id]).lt(Expr::tuple([Expr::value(t), Expr::value(i)]))
            })
        };
        // The filters, for a stream of task rows: on the task's instance.
        let of_instance = |instance: Expr| {
            filters.map(|f| {
                Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(process_instance::Entity)
                        .and_where(Expr::col((process_instance::Entity, P::Id)).eq(instance))
                        .cond_where(f.clone())
                        .to_owned(),
                )
            })
        };
        match self {
            Way::Started => process_instance::Entity::find()
                .select_only()
                .column_as(P::Id, "id")
                .column_as(P::StartedAt, "started_at")
                .filter(P::StartedBy.eq(me))
                .apply_if(filters.cloned(), |q, f| q.filter(f))
                .apply_if(
                    before(
                        Expr::col((process_instance::Entity, P::StartedAt)),
                        Expr::col((process_instance::Entity, P::Id)),
                    ),
                    |q, b| q.filter(b),
                )
                .order_by_desc(P::StartedAt)
                .order_by_desc(P::Id)
                .limit(limit)
                .into_model::<Listed>(),
            Way::Completed | Way::Holds => {
                let who = match self {
                    Way::Completed => T::CompletedBy,
                    _ => T::Assignee,
                };
                user_task::Entity::find()
                    .select_only()
                    .column_as(T::InstanceId, "id")
                    .column_as(T::InstanceStartedAt, "started_at")
                    .filter(who.eq(me))
                    .apply_if(
                        of_instance(Expr::col((user_task::Entity, T::InstanceId))),
                        |q, f| q.filter(f),
                    )
                    .apply_if(
                        before(
                            Expr::col((user_task::Entity, T::InstanceStartedAt)),
                            Expr::col((user_task::Entity, T::InstanceId)),
                        ),
                        |q, b| q.filter(b),
                    )
                    .order_by_desc(T::InstanceStartedAt)
                    .order_by_desc(T::InstanceId)
                    .limit(limit)
                    .into_model::<Listed>()
            }
            Way::Candidate(kind, name) => user_task_candidate::Entity::find()
                .select_only()
                .column_as(C::InstanceId, "id")
                .column_as(C::InstanceStartedAt, "started_at")
                .filter(C::Kind.eq(kind))
                .filter(C::Name.eq(name))
                .filter(C::Open.eq(true))
                .apply_if(
                    of_instance(Expr::col((user_task_candidate::Entity, C::InstanceId))),
                    |q, f| q.filter(f),
                )
                .apply_if(
                    before(
                        Expr::col((user_task_candidate::Entity, C::InstanceStartedAt)),
                        Expr::col((user_task_candidate::Entity, C::InstanceId)),
                    ),
                    |q, b| q.filter(b),
                )
                .order_by_desc(C::InstanceStartedAt)
                .order_by_desc(C::InstanceId)
                .limit(limit)
                .into_model::<Listed>(),
        }
    }
}

/// The ids of instances whose variable `name` reads `value` (strings as they
/// are, other values as JSON text): the `?var=name:value` filter. It looks
/// the value up through the index on `(name, substr(value, 1, 100))`.
fn variable_match(name: &str, value: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(instance_variable::Column::InstanceId)
        .from(instance_variable::Entity)
        .and_where(instance_variable::Column::Name.eq(name))
        .and_where(super::value_prefix().eq(super::value_prefix_of(value)))
        .and_where(instance_variable::Column::Value.eq(value))
        .to_owned()
}

/// The variable searches as SQL with their values inlined, for checking
/// their query plans: `?var=name:value`, and every value of `name` (what a
/// typed comparison reads).
pub fn variable_search_sql(backend: sea_orm::DbBackend, name: &str, value: &str) -> [String; 2] {
    let by_name = Query::select()
        .columns([
            instance_variable::Column::InstanceId,
            instance_variable::Column::Value,
            instance_variable::Column::IsText,
        ])
        .from(instance_variable::Entity)
        .and_where(instance_variable::Column::Name.eq(name))
        .to_owned();
    let stmts = [variable_match(name, value), by_name];
    stmts.map(|s| match backend {
        sea_orm::DbBackend::Postgres => s.to_string(sea_orm::sea_query::PostgresQueryBuilder),
        _ => s.to_string(sea_orm::sea_query::SqliteQueryBuilder),
    })
}

impl Store {
    /// Open tasks for the viewer's inbox, and how many there are (up to
    /// [`COUNT_CAP`]).
    ///
    /// A user's inbox is read as a few sorted streams — tasks assigned to them,
    /// and one per candidate user or group they belong to — each from its own
    /// index range and only as far as the page needs; the streams are merged
    /// here. So a page costs the same with a hundred tasks as with a million.
    pub async fn inbox(
        &self,
        viewer: &Viewer,
        q: &TaskQuery,
    ) -> Result<(Vec<user_task::Model>, Total), StoreError> {
        if q.instance.is_some() || (viewer.admin && q.assigned.is_none()) {
            return self.inbox_by_scan(viewer, q).await;
        }
        let limit = Ord::max(q.limit, 1);
        let fetch = Ord::max(q.offset.saturating_add(limit), COUNT_CAP + 1);
        let entries = self.inbox_entries(viewer, q, fetch).await?;
        let total = Total {
            count: Ord::min(entries.len() as u64, COUNT_CAP),
            more: entries.len() as u64 > COUNT_CAP,
        };
        let page: Vec<Uuid> = entries
            .iter()
            .skip(q.offset as usize)
            .take(limit as usize)
            .map(|e| e.id)
            .collect();
        let mut rows = user_task::Entity::find()
            .filter(user_task::Column::Id.is_in(page.clone()))
            .all(&self.db)
            .await?;
        rows.sort_by_key(|r| page.iter().position(|id| *id == r.id));
        Ok((rows, total))
    }

    /// The merged, de-duplicated, sorted inbox entries (at most `fetch` per stream).
    async fn inbox_entries(
        &self,
        viewer: &Viewer,
        q: &TaskQuery,
        fetch: u64,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut all: Vec<Entry> = Vec::new();
        if q.assigned != Some(false) {
            let mut mine = user_task::Entity::find()
                .select_only()
                .column(user_task::Column::Id)
                .column(user_task::Column::CreatedAt)
                .column(user_task::Column::DueSort)
                .column(user_task::Column::Priority)
                .filter(user_task::Column::Assignee.eq(viewer.name.as_str()))
                .filter(user_task::Column::State.eq("open"));
            if let Some(p) = &q.process {
                mine = mine.filter(user_task::Column::DefinitionKey.eq(p.as_str()));
            }
            mine = match q.order {
                TaskOrder::Created => mine.order_by_desc(user_task::Column::CreatedAt),
                TaskOrder::Due => mine.order_by_asc(user_task::Column::DueSort),
                TaskOrder::Priority => mine.order_by_desc(user_task::Column::Priority),
            };
            all.extend(
                mine.limit(fetch)
                    .into_model::<Entry>()
                    .all(&self.db)
                    .await?,
            );
        }
        if q.assigned != Some(true) {
            let principals = std::iter::once(("user", viewer.name.as_str()))
                .chain(viewer.groups.iter().map(|g| ("group", g.as_str())));
            for (kind, name) in principals {
                let mut stream = user_task_candidate::Entity::find()
                    .select_only()
                    .column_as(user_task_candidate::Column::TaskId, "id")
                    .column(user_task_candidate::Column::CreatedAt)
                    .column(user_task_candidate::Column::DueSort)
                    .column(user_task_candidate::Column::Priority)
                    .filter(user_task_candidate::Column::Kind.eq(kind))
                    .filter(user_task_candidate::Column::Name.eq(name))
                    .filter(user_task_candidate::Column::Claimable.eq(true));
                if let Some(p) = &q.process {
                    stream =
                        stream.filter(user_task_candidate::Column::DefinitionKey.eq(p.as_str()));
                }
                stream = match q.order {
                    TaskOrder::Created => {
                        stream.order_by_desc(user_task_candidate::Column::CreatedAt)
                    }
                    TaskOrder::Due => stream.order_by_asc(user_task_candidate::Column::DueSort),
                    TaskOrder::Priority => {
                        stream.order_by_desc(user_task_candidate::Column::Priority)
                    }
                };
                all.extend(
                    stream
                        .limit(fetch)
                        .into_model::<Entry>()
                        .all(&self.db)
                        .await?,
                );
            }
        }
        let order = q.order;
        all.sort_by(|a, b| {
            let key = match order {
                TaskOrder::Created => b.created_at.cmp(&a.created_at),
                TaskOrder::Due => a
                    .due_sort
                    .cmp(&b.due_sort)
                    .then(b.created_at.cmp(&a.created_at)),
                TaskOrder::Priority => b
                    .priority
                    .cmp(&a.priority)
                    .then(b.created_at.cmp(&a.created_at)),
            };
            key.then(b.id.cmp(&a.id))
        });
        let mut seen = std::collections::HashSet::new();
        all.retain(|e| seen.insert(e.id));
        Ok(all)
    }

    /// The inbox as one filtered scan: an admin's view of every task, or the
    /// tasks of one instance.
    async fn inbox_by_scan(
        &self,
        viewer: &Viewer,
        q: &TaskQuery,
    ) -> Result<(Vec<user_task::Model>, Total), StoreError> {
        let mut cond = Condition::all().add(user_task::Column::State.eq("open"));
        let mine = user_task::Column::Assignee.eq(viewer.name.as_str());
        let claimable = Condition::all()
            .add(user_task::Column::Assignee.is_null())
            .add(candidate_of(viewer));
        cond = match q.assigned {
            Some(true) => cond.add(mine),
            Some(false) => cond.add(claimable),
            None if viewer.admin => cond,
            None => cond.add(Condition::any().add(mine).add(claimable)),
        };
        if let Some(p) = &q.process {
            cond = cond.add(user_task::Column::DefinitionKey.eq(p.as_str()));
        }
        if let Some(i) = q.instance {
            cond = cond.add(user_task::Column::InstanceId.eq(i));
        }
        let base = user_task::Entity::find().filter(cond);
        let total = capped_count(base.clone(), COUNT_CAP, &self.db).await?;
        let sorted = match q.order {
            TaskOrder::Created => base.order_by_desc(user_task::Column::CreatedAt),
            TaskOrder::Due => base.order_by_asc(user_task::Column::DueSort),
            TaskOrder::Priority => base.order_by_desc(user_task::Column::Priority),
        };
        let rows = sorted
            .order_by_desc(user_task::Column::Id)
            .offset(q.offset)
            .limit(Ord::max(q.limit, 1))
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// How many open tasks are assigned to the viewer, and how many they could
    /// claim (each counted up to [`NAV_COUNT_CAP`]).
    pub async fn inbox_counts(&self, viewer: &Viewer) -> Result<(Total, Total), StoreError> {
        let cap = |n: usize| Total {
            count: Ord::min(n as u64, NAV_COUNT_CAP),
            more: n as u64 > NAV_COUNT_CAP,
        };
        let fetch = NAV_COUNT_CAP + 1;
        let q = |assigned| TaskQuery {
            assigned: Some(assigned),
            ..TaskQuery::default()
        };
        let mine = self.inbox_entries(viewer, &q(true), fetch).await?.len();
        let claimable = self.inbox_entries(viewer, &q(false), fetch).await?.len();
        Ok((cap(mine), cap(claimable)))
    }

    /// A task, if the viewer may see it.
    pub async fn visible_task(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<Option<user_task::Model>, StoreError> {
        Ok(user_task::Entity::find_by_id(id)
            .filter(visible_task(viewer))
            .one_row(&self.db)
            .await?)
    }

    /// Whether the viewer is a candidate of a task.
    pub async fn is_candidate(&self, viewer: &Viewer, task: Uuid) -> Result<bool, StoreError> {
        self.hot_exists(candidate_task(viewer, task)).await
    }

    /// Whether the viewer started or worked on an instance (the visibility rule
    /// for one instance, whatever the viewer's role).
    pub async fn involved(&self, viewer: &Viewer, id: Uuid) -> Result<bool, StoreError> {
        self.hot_exists(involved_instance(viewer, id)).await
    }

    /// The visibility rule in the form that is cheap for this viewer.
    pub(super) async fn visibility_for_lists(
        &self,
        viewer: &Viewer,
    ) -> Result<Condition, StoreError> {
        if viewer.admin {
            return Ok(Condition::all());
        }
        let capped = Query::select()
            .expr_as(Expr::cust("COUNT(*)"), sea_orm::sea_query::Alias::new("n"))
            .from_subquery(
                visible_id_parts(viewer, UnionType::All)
                    .limit(FEW_INSTANCES + 1)
                    .to_owned(),
                sea_orm::sea_query::Alias::new("ids"),
            )
            .to_owned();
        let backend = self.db.get_database_backend();
        let n = self
            .db
            .query_one_raw(backend.build(&capped))
            .await?
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(i64::MAX);
        Ok(if (n as u64) <= FEW_INSTANCES {
            Condition::all().add(process_instance::Column::Id.in_subquery(visible_ids(viewer)))
        } else {
            visible_instance(viewer)
        })
    }

    /// Instances the viewer may see, filtered, newest first, and how many match.
    ///
    /// A user's list in the default order (newest first, the count capped) is
    /// read as merged streams, one per way of seeing an instance, each from its
    /// own index in the list's order ([`Store::instances_merged`]); other
    /// orders, exact counts and an administrator's view read one query.
    pub async fn instances(
        &self,
        viewer: &Viewer,
        q: &InstanceQuery,
    ) -> Result<(Vec<process_instance::Model>, Total), StoreError> {
        if !viewer.admin && q.order == InstanceOrder::Started && !q.exact_count {
            return self.instances_merged(viewer, q).await;
        }
        // The visibility rule is an OR of its own; the filters narrow it down.
        let cond = Condition::all()
            .add(self.visibility_for_lists(viewer).await?)
            .add(instance_filters(q));
        let base = process_instance::Entity::find().filter(cond);
        let total = if q.exact_count {
            let n = base.clone().count(&self.db).await?;
            Total {
                count: n,
                more: false,
            }
        } else {
            capped_count(base.clone(), COUNT_CAP, &self.db).await?
        };
        use sea_orm::Order;
        let dir = |desc: bool| if desc { Order::Desc } else { Order::Asc };
        let sorted = match q.order {
            InstanceOrder::Started => base
                .order_by_desc(process_instance::Column::StartedAt)
                .order_by_desc(process_instance::Column::Id),
            InstanceOrder::Id(d) => base.order_by(process_instance::Column::Id, dir(d)),
            InstanceOrder::BusinessKey(d) => base
                .order_by(process_instance::Column::BusinessKey, dir(d))
                .order_by_asc(process_instance::Column::Id),
            InstanceOrder::DefinitionKey(d) => base
                .order_by(process_instance::Column::DefinitionKey, dir(d))
                .order_by_asc(process_instance::Column::Id),
            InstanceOrder::DefinitionId(d) => base
                .order_by(process_instance::Column::DefinitionId, dir(d))
                .order_by_asc(process_instance::Column::Id),
        };
        let rows = sorted
            .offset(q.offset)
            .limit(Ord::max(q.limit, 1))
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// A user's instances newest first, as the inbox is read: every way of
    /// seeing an instance (started it; completed or holds one of its tasks;
    /// candidate, as the user or one of their groups, of an open task) is a
    /// stream read from its own index in the list's order (start time, then id,
    /// both descending) and only as far as the page needs; the streams are
    /// merged and de-duplicated here. A page costs the same however many
    /// instances there are; only deep pages cost more.
    async fn instances_merged(
        &self,
        viewer: &Viewer,
        q: &InstanceQuery,
    ) -> Result<(Vec<process_instance::Model>, Total), StoreError> {
        let limit = Ord::max(q.limit, 1);
        let need = Ord::max(q.offset.saturating_add(limit), COUNT_CAP + 1);
        let filters = instance_filters(q);
        let filters = (!filters.is_empty()).then_some(filters);
        let mut streams: Vec<Stream<'_>> = [Way::Started, Way::Completed, Way::Holds]
            .into_iter()
            .chain(std::iter::once(Way::Candidate(
                "user",
                viewer.name.as_str(),
            )))
            .chain(
                viewer
                    .groups
                    .iter()
                    .map(|g| Way::Candidate("group", g.as_str())),
            )
            .map(|way| Stream {
                way,
                buf: std::collections::VecDeque::new(),
                after: None,
                done: false,
            })
            .collect();
        let mut listed: Vec<Listed> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while (listed.len() as u64) < need {
            // Every stream that may hold more must show its next entry before
            // the newest of them can be taken.
            let want = Ord::max(need - listed.len() as u64, 16);
            for s in streams.iter_mut().filter(|s| s.buf.is_empty() && !s.done) {
                let rows = s
                    .way
                    .page(viewer, filters.as_ref(), s.after, want)
                    .all(&self.db)
                    .await?;
                s.done = (rows.len() as u64) < want;
                s.after = rows.last().map(|r| (r.started_at, r.id));
                s.buf.extend(rows);
            }
            let Some(next) = streams
                .iter_mut()
                .filter(|s| !s.buf.is_empty())
                .max_by_key(|s| s.buf.front().map(|e| (e.started_at, e.id)))
                .and_then(|s| s.buf.pop_front())
            else {
                break;
            };
            if seen.insert(next.id) {
                listed.push(next);
            }
        }
        let total = Total {
            count: Ord::min(listed.len() as u64, COUNT_CAP),
            more: listed.len() as u64 > COUNT_CAP,
        };
        let page: Vec<Uuid> = listed
            .iter()
            .skip(q.offset as usize)
            .take(limit as usize)
            .map(|e| e.id)
            .collect();
        let mut rows = process_instance::Entity::find()
            .filter(process_instance::Column::Id.is_in(page.clone()))
            .all(&self.db)
            .await?;
        rows.sort_by_key(|r| page.iter().position(|id| *id == r.id));
        Ok((rows, total))
    }

    /// Every instance's value of the variable `name`.
    pub async fn variable_values(&self, name: &str) -> Result<Vec<(Uuid, Value)>, StoreError> {
        let rows: Vec<(Uuid, String, bool)> = instance_variable::Entity::find()
            .select_only()
            .column(instance_variable::Column::InstanceId)
            .column(instance_variable::Column::Value)
            .column(instance_variable::Column::IsText)
            .filter(instance_variable::Column::Name.eq(name))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, value, is_text)| (id, instance_variable::stored_json(&value, is_text)))
            .collect())
    }

    /// The names of all instance variables.
    pub async fn variable_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(instance_variable::Entity::find()
            .select_only()
            .column(instance_variable::Column::Name)
            .distinct()
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// An instance, if the viewer may see it.
    pub async fn visible_instance(
        &self,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<Option<process_instance::Model>, StoreError> {
        Ok(process_instance::Entity::find_by_id(id)
            .filter(visible_instance(viewer))
            .one_row(&self.db)
            .await?)
    }

    /// Instances with string variables matching every `(name part, value part)`
    /// term, ignoring case (an empty name part matches any variable). This is the
    /// old engine's search; it scans variables, so it is capped at `limit`.
    pub async fn search_string_variables(
        &self,
        terms: &[(String, String)],
        limit: u64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut found: Option<Vec<Uuid>> = None;
        for (name, value) in terms {
            let mut q = instance_variable::Entity::find()
                .select_only()
                .column(instance_variable::Column::InstanceId)
                .distinct()
                .filter(instance_variable::Column::IsText.eq(true))
                .filter(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                        instance_variable::Column::Value,
                    )))
                    .like(format!("%{}%", escape_like(value))),
                );
            if !name.is_empty() {
                q = q.filter(
                    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                        instance_variable::Column::Name,
                    )))
                    .like(format!("%{}%", escape_like(name))),
                );
            }
            if let Some(ids) = &found {
                q = q.filter(instance_variable::Column::InstanceId.is_in(ids.clone()));
            }
            let ids: Vec<Uuid> = q.limit(limit).into_tuple().all(&self.db).await?;
            found = Some(ids);
        }
        Ok(found.unwrap_or_default())
    }

    /// Per process key: number of versions and the latest version number.
    pub async fn definition_stats(&self) -> Result<Vec<DefinitionStats>, StoreError> {
        Ok(process_definition::Entity::find()
            .select_only()
            .column(process_definition::Column::Key)
            .column_as(process_definition::Column::Id.count(), "versions")
            .column_as(process_definition::Column::Version.max(), "latest_version")
            .group_by(process_definition::Column::Key)
            .order_by_asc(process_definition::Column::Key)
            .into_model::<DefinitionStats>()
            .all(&self.db)
            .await?)
    }

    /// Running instances per process key.
    pub async fn running_per_key(&self) -> Result<Vec<(String, i64)>, StoreError> {
        #[derive(FromQueryResult)]
        struct Row {
            definition_key: String,
            running: i64,
        }
        let rows = process_instance::Entity::find()
            .select_only()
            .column(process_instance::Column::DefinitionKey)
            .column_as(process_instance::Column::Id.count(), "running")
            .filter(process_instance::Column::Status.eq("active"))
            .group_by(process_instance::Column::DefinitionKey)
            .into_model::<Row>()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.definition_key, r.running))
            .collect())
    }

    /// Every version of a process key, newest first, with its deployment.
    pub async fn versions(
        &self,
        key: &str,
    ) -> Result<Vec<(process_definition::Model, Option<deployment::Model>)>, StoreError> {
        let defs = process_definition::Entity::find()
            .filter(process_definition::Column::Key.eq(key))
            .order_by_desc(process_definition::Column::Version)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = defs.iter().map(|d| d.deployment_id).collect();
        // The source is large; the versions list only needs who and when.
        let deps = deployment::Entity::find()
            .filter(deployment::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(defs
            .into_iter()
            .map(|d| {
                let dep = deps.iter().find(|x| x.id == d.deployment_id).cloned();
                (d, dep)
            })
            .collect())
    }
}

/// Numbers for `/metrics`, read from the database (so every process reports the same).
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// `(status, count)`, with `incident` for active instances with an open incident.
    pub instances: Vec<(String, i64)>,
    pub open_tasks: i64,
    pub jobs_due: i64,
    pub jobs_total: i64,
    pub open_incidents: i64,
}

impl Store {
    /// Reads the gauges.
    pub async fn gauges(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Gauges, StoreError> {
        #[derive(FromQueryResult)]
        struct Row {
            status: String,
            has_incident: bool,
            n: i64,
        }
        let rows = process_instance::Entity::find()
            .select_only()
            .column(process_instance::Column::Status)
            .column(process_instance::Column::HasIncident)
            .column_as(process_instance::Column::Id.count(), "n")
            .group_by(process_instance::Column::Status)
            .group_by(process_instance::Column::HasIncident)
            .into_model::<Row>()
            .all(&self.db)
            .await?;
        let mut instances: Vec<(String, i64)> = Vec::new();
        for r in rows {
            let name = if r.status == "active" && r.has_incident {
                "incident".to_string()
            } else {
                r.status
            };
            match instances.iter_mut().find(|(s, _)| *s == name) {
                Some((_, n)) => *n += r.n,
                None => instances.push((name, r.n)),
            }
        }
        let open_tasks = user_task::Entity::find()
            .filter(user_task::Column::State.eq("open"))
            .count(&self.db)
            .await? as i64;
        let jobs_total = super::entity::job::Entity::find().count(&self.db).await? as i64;
        let jobs_due = super::entity::job::Entity::find()
            .filter(super::entity::job::Column::DueAt.lte(now))
            .count(&self.db)
            .await? as i64;
        let open_incidents = super::entity::incident::Entity::find()
            .filter(super::entity::incident::Column::ResolvedAt.is_null())
            .count(&self.db)
            .await? as i64;
        Ok(Gauges {
            instances,
            open_tasks,
            jobs_due,
            jobs_total,
            open_incidents,
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }
}
