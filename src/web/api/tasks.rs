//! User tasks: list, read, claim, release, assign and complete.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::auth::ApiUser;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::resources::query_pairs;
use crate::runtime::{Outcome, TaskFilter, TaskOrder, Values};
use crate::web::AppState;

/// Tasks the caller may work on.
#[utoipa::path(
    tag = "tasks",
    params(
        ("assigned" = Option<String>, Query, description = "`me`: only tasks assigned to the caller"),
        ("candidate" = Option<String>, Query, description = "`me`: only tasks the caller can claim"),
        ("instance" = Option<Uuid>, Query),
        ("definition" = Option<String>, Query, description = "process id"),
        ("sort" = Option<String>, Query, description = "created (default), due or priority"),
        ("page" = Option<u64>, Query), ("per_page" = Option<u64>, Query, description = "1 to 100"),
    ),
    responses((status = 200, description = "a page of tasks", body = TaskPageDto), (status = 422, description = "a field or value does not fit", body = super::error::ErrorBody))
)]
#[get("/api/v1/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    user: ApiUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        one(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    let (page, per_page) = Paging {
        page: number("page")?,
        per_page: number("per_page")?,
    }
    .checked()?;
    let assigned = match (one("assigned"), one("candidate")) {
        (Some("me"), None) => Some(true),
        (None, Some("me")) => Some(false),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "use assigned=me or candidate=me (not both)",
            ));
        }
    };
    let order = match one("sort") {
        None | Some("created") => TaskOrder::Created,
        Some("due") => TaskOrder::Due,
        Some("priority") => TaskOrder::Priority,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sort is created, due or priority, not {other}"
            )));
        }
    };
    let instance = one("instance")
        .map(|i| {
            i.parse::<Uuid>()
                .map_err(|_| ApiError::bad_request("instance must be an instance id"))
        })
        .transpose()?;
    let q = TaskFilter {
        process: one("definition").map(str::to_string),
        instance,
        assigned,
        order,
        offset: (page - 1).saturating_mul(per_page),
        limit: per_page,
    };
    let (items, total) = state.runtime.tasks().list(&user.principal(), &q).await?;
    Ok(HttpResponse::Ok().json(TaskPageDto {
        items: items.into_iter().map(Into::into).collect(),
        page,
        per_page,
        total: total.count,
        more: total.more,
    }))
}

/// A task with its form fields.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the task", body = TaskDetailDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/tasks/{id}")]
pub async fn show_task(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let d = state.runtime.tasks().show(&user.principal(), *id).await?;
    Ok(HttpResponse::Ok().json(TaskDetailDto::from(d)))
}

fn state_of(o: &Outcome) -> InstanceStateDto {
    InstanceStateDto::of(o)
}

/// Claims a task for the caller.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "claimed by someone else, or done", body = super::error::ErrorBody))
)]
#[post("/api/v1/tasks/{id}/claim")]
pub async fn claim_task(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let o = state.runtime.tasks().claim(&user.principal(), *id).await?;
    Ok(HttpResponse::Ok().json(state_of(&o)))
}

/// Gives a task back to its candidates.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/tasks/{id}/unclaim")]
pub async fn unclaim_task(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let o = state
        .runtime
        .tasks()
        .unclaim(&user.principal(), *id)
        .await?;
    Ok(HttpResponse::Ok().json(state_of(&o)))
}

/// Hands a task to someone, or to nobody (admins).
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path)),
    request_body = AssignRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/tasks/{id}/assign")]
pub async fn assign_task(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let assignee = body.into_inner().assignee.filter(|a| !a.trim().is_empty());
    let o = state
        .runtime
        .tasks()
        .assign(&user.principal(), *id, assignee)
        .await?;
    Ok(HttpResponse::Ok().json(state_of(&o)))
}

/// Completes a task with variables, validated like the page form.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path)),
    request_body = VariablesRequest,
    responses(
        (status = 200, description = "where the instance stands now", body = InstanceStateDto),
        (status = 422, description = "form validation: one error per field", body = super::error::ErrorBody),
        (status = 403, description = "claimed by someone else", body = super::error::ErrorBody),
        (status = 404, description = "not yours", body = super::error::ErrorBody),
        (status = 409, description = "already completed", body = super::error::ErrorBody),
    )
)]
#[post("/api/v1/tasks/{id}/complete")]
pub async fn complete_task(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: Body<VariablesRequest>,
) -> Result<HttpResponse, ApiError> {
    let vars = body.into_inner().variables;
    let done = state
        .runtime
        .tasks()
        .complete(&user.principal(), *id, Values::Json(vars))
        .await?;
    Ok(HttpResponse::Ok().json(state_of(&done.outcome)))
}
