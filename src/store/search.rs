//! Searches across instances with many optional filters, exact counts and a
//! chosen order: tasks (open, or all of them for the history), incidents and
//! instances. Camunda's REST surface asks these; as everywhere in the store,
//! the viewer's visibility is part of every query.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{incident, process_instance, user_task, user_task_candidate};
use super::queries::{visible_instance, visible_task};
use super::{Store, StoreError, Viewer};

/// Which tasks a viewer may see in a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskScope {
    /// Open tasks they hold or are a candidate for (the inbox rule).
    #[default]
    Inbox,
    /// Tasks, open or done, of instances they may see (the history rule).
    History,
}

/// A column tasks can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSort {
    Created,
    Due,
    FollowUp,
    Priority,
    Name,
    Assignee,
    Id,
    Instance,
    Element,
    Completed,
}

/// Which tasks. Every field that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct TaskSearch {
    pub scope: TaskScope,
    pub ids: Option<Vec<Uuid>>,
    pub instances: Option<Vec<Uuid>>,
    pub definition_keys: Option<Vec<String>>,
    pub definition_id: Option<i64>,
    pub business_key: Option<String>,
    pub business_key_like: Option<String>,
    pub assignee: Option<String>,
    /// A SQL LIKE pattern (`%` and `_` are wildcards, as in Camunda).
    pub assignee_like: Option<String>,
    pub assigned: Option<bool>,
    /// Candidate rows any of which must name the task: `("user", name)` or `("group", name)`.
    pub candidates: Option<Vec<(String, String)>>,
    /// Tasks held by someone count too (with `candidates`).
    pub include_assigned: bool,
    /// Only tasks with (`true`) or without (`false`) candidate groups.
    pub with_candidate_groups: Option<bool>,
    pub elements: Option<Vec<String>>,
    pub name: Option<String>,
    pub name_like: Option<String>,
    /// `open`, `completed` or `cancelled`: any of these.
    pub states: Option<Vec<String>>,
    /// Only tasks of suspended (`true`) or active (`false`) instances.
    pub suspended: Option<bool>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub with_due: Option<bool>,
    pub completed_by: Option<String>,
    pub sort: Vec<(TaskSort, bool)>,
    pub offset: u64,
    pub limit: u64,
}

/// Which incidents.
#[derive(Debug, Clone, Default)]
pub struct IncidentSearch {
    pub id: Option<Uuid>,
    pub instance: Option<Uuid>,
    pub definition_id: Option<i64>,
    pub definition_keys: Option<Vec<String>>,
    pub element: Option<String>,
    pub message: Option<String>,
    /// A SQL LIKE pattern.
    pub message_like: Option<String>,
    pub before: Option<DateTime<Utc>>,
    pub after: Option<DateTime<Utc>>,
    /// Open only (`true`), resolved only (`false`), or both.
    pub open: Option<bool>,
    /// Newest first when `false`.
    pub sort: Vec<(IncidentSort, bool)>,
    pub offset: u64,
    pub limit: u64,
}

/// A column incidents can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentSort {
    Id,
    Created,
    Message,
    Instance,
    Element,
}

/// Which instances.
#[derive(Debug, Clone, Default)]
pub struct InstanceSearch {
    pub ids: Option<Vec<Uuid>>,
    pub definition_id: Option<i64>,
    pub definition_keys: Option<Vec<String>>,
    pub business_key: Option<String>,
    /// A SQL LIKE pattern.
    pub business_key_like: Option<String>,
    /// Ended (`true`) or still active (`false`).
    pub finished: Option<bool>,
    /// Any of these statuses.
    pub statuses: Option<Vec<String>>,
    /// Only suspended (`true`) or not suspended (`false`) instances.
    pub suspended: Option<bool>,
    pub with_incidents: Option<bool>,
    pub started_before: Option<DateTime<Utc>>,
    pub started_after: Option<DateTime<Utc>>,
    pub finished_before: Option<DateTime<Utc>>,
    pub finished_after: Option<DateTime<Utc>>,
    pub started_by: Option<String>,
    pub parent: Option<Uuid>,
    pub sort: Vec<(InstanceSort, bool)>,
    pub offset: u64,
    pub limit: u64,
}

/// A column instances can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceSort {
    Id,
    DefinitionId,
    DefinitionKey,
    BusinessKey,
    Started,
    Ended,
}

fn order(asc: bool) -> Order {
    if asc { Order::Asc } else { Order::Desc }
}

/// Ids of instances matching `cond`, as a subquery.
fn instances_where(cond: Condition) -> SelectStatement {
    Query::select()
        .column((process_instance::Entity, process_instance::Column::Id))
        .from(process_instance::Entity)
        .cond_where(cond)
        .to_owned()
}

impl Store {
    /// Tasks matching a search, in its order, and how many match in all.
    pub async fn search_tasks(
        &self,
        viewer: &Viewer,
        q: &TaskSearch,
    ) -> Result<(Vec<user_task::Model>, u64), StoreError> {
        let mut cond = Condition::all();
        cond = match q.scope {
            TaskScope::Inbox => cond.add(visible_task(viewer)),
            TaskScope::History if viewer.admin => cond,
            TaskScope::History => cond.add(
                user_task::Column::InstanceId
                    .in_subquery(instances_where(visible_instance(viewer))),
            ),
        };
        if let Some(ids) = &q.ids {
            cond = cond.add(user_task::Column::Id.is_in(ids.clone()));
        }
        if let Some(ids) = &q.instances {
            cond = cond.add(user_task::Column::InstanceId.is_in(ids.clone()));
        }
        if let Some(keys) = &q.definition_keys {
            cond = cond.add(user_task::Column::DefinitionKey.is_in(keys.clone()));
        }
        let mut of_instance = Condition::all();
        let mut by_instance = false;
        if let Some(d) = q.definition_id {
            of_instance = of_instance.add(process_instance::Column::DefinitionId.eq(d));
            by_instance = true;
        }
        if let Some(b) = &q.business_key {
            of_instance = of_instance.add(process_instance::Column::BusinessKey.eq(b.as_str()));
            by_instance = true;
        }
        if let Some(b) = &q.business_key_like {
            of_instance = of_instance.add(process_instance::Column::BusinessKey.like(b.as_str()));
            by_instance = true;
        }
        if by_instance {
            cond =
                cond.add(user_task::Column::InstanceId.in_subquery(instances_where(of_instance)));
        }
        if let Some(a) = &q.assignee {
            cond = cond.add(user_task::Column::Assignee.eq(a.as_str()));
        }
        if let Some(a) = &q.assignee_like {
            cond = cond.add(user_task::Column::Assignee.like(a.as_str()));
        }
        match q.assigned {
            Some(true) => cond = cond.add(user_task::Column::Assignee.is_not_null()),
            Some(false) => cond = cond.add(user_task::Column::Assignee.is_null()),
            None => {}
        }
        if let Some(candidates) = &q.candidates {
            let mut who = Condition::any();
            for (kind, name) in candidates {
                who = who.add(
                    Condition::all()
                        .add(
                            Expr::col((
                                user_task_candidate::Entity,
                                user_task_candidate::Column::Kind,
                            ))
                            .eq(kind.as_str()),
                        )
                        .add(
                            Expr::col((
                                user_task_candidate::Entity,
                                user_task_candidate::Column::Name,
                            ))
                            .eq(name.as_str()),
                        ),
                );
            }
            cond = cond.add(
                user_task::Column::Id.in_subquery(
                    Query::select()
                        .column(user_task_candidate::Column::TaskId)
                        .from(user_task_candidate::Entity)
                        .cond_where(who)
                        .to_owned(),
                ),
            );
            if !q.include_assigned {
                cond = cond.add(user_task::Column::Assignee.is_null());
            }
        }
        if let Some(with) = q.with_candidate_groups {
            let groups = user_task::Column::Id.in_subquery(
                Query::select()
                    .column(user_task_candidate::Column::TaskId)
                    .from(user_task_candidate::Entity)
                    .and_where(user_task_candidate::Column::Kind.eq("group"))
                    .to_owned(),
            );
            cond = if with {
                cond.add(groups)
            } else {
                cond.add(Condition::all().add(groups).not())
            };
        }
        if let Some(e) = &q.elements {
            cond = cond.add(user_task::Column::ElementId.is_in(e.clone()));
        }
        if let Some(n) = &q.name {
            cond = cond.add(user_task::Column::Name.eq(n.as_str()));
        }
        if let Some(n) = &q.name_like {
            cond = cond.add(user_task::Column::Name.like(n.as_str()));
        }
        if let Some(s) = &q.states {
            cond = cond.add(user_task::Column::State.is_in(s.clone()));
        }
        if let Some(s) = q.suspended {
            cond = cond.add(user_task::Column::Suspended.eq(s));
        }
        if let Some(t) = q.created_before {
            cond = cond.add(user_task::Column::CreatedAt.lt(t));
        }
        if let Some(t) = q.created_after {
            cond = cond.add(user_task::Column::CreatedAt.gt(t));
        }
        if let Some(t) = q.due_before {
            cond = cond.add(user_task::Column::DueAt.lt(t));
        }
        if let Some(t) = q.due_after {
            cond = cond.add(user_task::Column::DueAt.gt(t));
        }
        match q.with_due {
            Some(true) => cond = cond.add(user_task::Column::DueAt.is_not_null()),
            Some(false) => cond = cond.add(user_task::Column::DueAt.is_null()),
            None => {}
        }
        if let Some(u) = &q.completed_by {
            cond = cond.add(user_task::Column::CompletedBy.eq(u.as_str()));
        }
        let base = user_task::Entity::find().filter(cond);
        let total = base.clone().count(&self.db).await?;
        if q.limit == 0 {
            return Ok((Vec::new(), total));
        }
        let mut sorted = base;
        for (column, asc) in &q.sort {
            let c = match column {
                TaskSort::Created => user_task::Column::CreatedAt,
                TaskSort::Due => user_task::Column::DueSort,
                TaskSort::FollowUp => user_task::Column::FollowUpAt,
                TaskSort::Priority => user_task::Column::Priority,
                TaskSort::Name => user_task::Column::Name,
                TaskSort::Assignee => user_task::Column::Assignee,
                TaskSort::Id => user_task::Column::Id,
                TaskSort::Instance => user_task::Column::InstanceId,
                TaskSort::Element => user_task::Column::ElementId,
                TaskSort::Completed => user_task::Column::CompletedAt,
            };
            sorted = sorted.order_by(c, order(*asc));
        }
        let rows = sorted
            .order_by_asc(user_task::Column::CreatedAt)
            .order_by_asc(user_task::Column::Id)
            .offset(q.offset)
            .limit(q.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// Incidents matching a search, and how many match in all.
    pub async fn search_incidents(
        &self,
        viewer: &Viewer,
        q: &IncidentSearch,
    ) -> Result<(Vec<incident::Model>, u64), StoreError> {
        let mut cond = Condition::all();
        if !viewer.admin {
            cond = cond.add(
                incident::Column::InstanceId.in_subquery(instances_where(visible_instance(viewer))),
            );
        }
        if let Some(id) = q.id {
            cond = cond.add(incident::Column::Id.eq(id));
        }
        if let Some(i) = q.instance {
            cond = cond.add(incident::Column::InstanceId.eq(i));
        }
        let mut of_instance = Condition::all();
        let mut by_instance = false;
        if let Some(d) = q.definition_id {
            of_instance = of_instance.add(process_instance::Column::DefinitionId.eq(d));
            by_instance = true;
        }
        if let Some(keys) = &q.definition_keys {
            of_instance =
                of_instance.add(process_instance::Column::DefinitionKey.is_in(keys.clone()));
            by_instance = true;
        }
        if by_instance {
            cond = cond.add(incident::Column::InstanceId.in_subquery(instances_where(of_instance)));
        }
        if let Some(e) = &q.element {
            cond = cond.add(incident::Column::ElementId.eq(e.as_str()));
        }
        if let Some(m) = &q.message {
            cond = cond.add(incident::Column::Message.eq(m.as_str()));
        }
        if let Some(m) = &q.message_like {
            cond = cond.add(incident::Column::Message.like(m.as_str()));
        }
        if let Some(t) = q.before {
            cond = cond.add(incident::Column::CreatedAt.lt(t));
        }
        if let Some(t) = q.after {
            cond = cond.add(incident::Column::CreatedAt.gt(t));
        }
        match q.open {
            Some(true) => cond = cond.add(incident::Column::ResolvedAt.is_null()),
            Some(false) => cond = cond.add(incident::Column::ResolvedAt.is_not_null()),
            None => {}
        }
        let base = incident::Entity::find().filter(cond);
        let total = base.clone().count(&self.db).await?;
        if q.limit == 0 {
            return Ok((Vec::new(), total));
        }
        let mut sorted = base;
        for (column, asc) in &q.sort {
            let c = match column {
                IncidentSort::Id => incident::Column::Id,
                IncidentSort::Created => incident::Column::CreatedAt,
                IncidentSort::Message => incident::Column::Message,
                IncidentSort::Instance => incident::Column::InstanceId,
                IncidentSort::Element => incident::Column::ElementId,
            };
            sorted = sorted.order_by(c, order(*asc));
        }
        let rows = sorted
            .order_by_asc(incident::Column::CreatedAt)
            .order_by_asc(incident::Column::Id)
            .offset(q.offset)
            .limit(q.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// Instances matching a search, and how many match in all.
    pub async fn search_instances(
        &self,
        viewer: &Viewer,
        q: &InstanceSearch,
    ) -> Result<(Vec<process_instance::Model>, u64), StoreError> {
        let mut cond = Condition::all().add(self.visibility_for_lists(viewer).await?);
        if let Some(ids) = &q.ids {
            cond = cond.add(process_instance::Column::Id.is_in(ids.clone()));
        }
        if let Some(d) = q.definition_id {
            cond = cond.add(process_instance::Column::DefinitionId.eq(d));
        }
        if let Some(keys) = &q.definition_keys {
            cond = cond.add(process_instance::Column::DefinitionKey.is_in(keys.clone()));
        }
        if let Some(b) = &q.business_key {
            cond = cond.add(process_instance::Column::BusinessKey.eq(b.as_str()));
        }
        if let Some(b) = &q.business_key_like {
            cond = cond.add(process_instance::Column::BusinessKey.like(b.as_str()));
        }
        match q.finished {
            Some(true) => cond = cond.add(process_instance::Column::Status.ne("active")),
            Some(false) => cond = cond.add(process_instance::Column::Status.eq("active")),
            None => {}
        }
        if let Some(s) = &q.statuses {
            cond = cond.add(process_instance::Column::Status.is_in(s.clone()));
        }
        if let Some(s) = q.suspended {
            cond = cond.add(process_instance::Column::Suspended.eq(s));
        }
        if let Some(w) = q.with_incidents {
            cond = cond.add(process_instance::Column::HasIncident.eq(w));
        }
        if let Some(t) = q.started_before {
            cond = cond.add(process_instance::Column::StartedAt.lt(t));
        }
        if let Some(t) = q.started_after {
            cond = cond.add(process_instance::Column::StartedAt.gt(t));
        }
        if let Some(t) = q.finished_before {
            cond = cond.add(process_instance::Column::EndedAt.lt(t));
        }
        if let Some(t) = q.finished_after {
            cond = cond.add(process_instance::Column::EndedAt.gt(t));
        }
        if let Some(u) = &q.started_by {
            cond = cond.add(process_instance::Column::StartedBy.eq(u.as_str()));
        }
        if let Some(p) = q.parent {
            cond = cond.add(process_instance::Column::ParentId.eq(p));
        }
        let base = process_instance::Entity::find().filter(cond);
        let total = base.clone().count(&self.db).await?;
        if q.limit == 0 {
            return Ok((Vec::new(), total));
        }
        let mut sorted = base;
        for (column, asc) in &q.sort {
            let c = match column {
                InstanceSort::Id => process_instance::Column::Id,
                InstanceSort::DefinitionId => process_instance::Column::DefinitionId,
                InstanceSort::DefinitionKey => process_instance::Column::DefinitionKey,
                InstanceSort::BusinessKey => process_instance::Column::BusinessKey,
                InstanceSort::Started => process_instance::Column::StartedAt,
                InstanceSort::Ended => process_instance::Column::EndedAt,
            };
            sorted = sorted.order_by(c, order(*asc));
        }
        let rows = sorted
            .order_by_asc(process_instance::Column::StartedAt)
            .order_by_asc(process_instance::Column::Id)
            .offset(q.offset)
            .limit(q.limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}
