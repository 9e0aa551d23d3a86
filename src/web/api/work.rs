//! Messages, external task workers and incidents.

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use serde_json::Value;
use uuid::Uuid;

use super::auth::ApiUser;
use super::dto::*;
use super::error::ApiError;
use crate::runtime::{Correlation, Delivery, TopicRequest};
use crate::web::AppState;

/// Delivers a message to the one waiting subscription that matches.
#[utoipa::path(
    tag = "messages",
    request_body = MessageRequest,
    responses(
        (status = 200, description = "where the message went", body = MessageResponse),
        (status = 404, description = "nothing waits for it", body = super::error::ErrorBody),
        (status = 409, description = "several wait and `all` is not set", body = super::error::ErrorBody),
    )
)]
#[post("/api/v1/messages")]
pub async fn create_message(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<MessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let m = body.into_inner();
    if m.name.trim().is_empty() {
        return Err(ApiError::bad_request("a message needs a name"));
    }
    let correlation: Vec<(String, String)> = m
        .correlation_keys
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    let deliveries = state
        .runtime
        .work()
        .message(
            &user.principal(),
            &m.name,
            Correlation {
                business_key: m.business_key.as_deref(),
                variables: &correlation,
                key: m.correlation_key.as_deref(),
            },
            m.variables,
            m.all,
        )
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryDto {
                instance_id: d.instance_id,
                element_id: d.element_id,
            })
            .collect(),
    }))
}

/// Evaluates the conditional start events of the newest version of every
/// process (or of `process_key`) with the variables, and starts an instance at
/// each one whose condition holds (Camunda 7's `POST /condition`).
#[utoipa::path(
    tag = "messages",
    request_body = ConditionRequest,
    responses(
        (status = 200, description = "the instances started (none when no condition holds)", body = ConditionResponse),
        (status = 404, description = "no process has a conditional start event", body = super::error::ErrorBody),
        (status = 422, description = "a condition cannot be evaluated with these variables; nothing started", body = super::error::ErrorBody),
    )
)]
#[post("/api/v1/conditions")]
pub async fn evaluate_conditions(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<ConditionRequest>,
) -> Result<HttpResponse, ApiError> {
    let c = body.into_inner();
    let started = state
        .runtime
        .work()
        .conditions(
            &user.principal(),
            c.variables,
            c.business_key.as_deref(),
            c.process_key.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(ConditionResponse {
        started: started
            .into_iter()
            .map(|d| DeliveryDto {
                instance_id: d.instance_id,
                element_id: d.element_id,
            })
            .collect(),
    }))
}

/// Broadcasts a signal to every catch event waiting for it, and starts every
/// process with a signal start event of that name.
#[utoipa::path(
    tag = "messages",
    request_body = SignalRequest,
    responses((status = 200, description = "where the signal went", body = SignalResponse))
)]
#[post("/api/v1/signals")]
pub async fn create_signal(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<SignalRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = body.into_inner();
    if s.name.trim().is_empty() {
        return Err(ApiError::bad_request("a signal needs a name"));
    }
    let b = state
        .runtime
        .work()
        .signal(&user.principal(), &s.name, s.variables)
        .await?;
    let dto = |d: Delivery| DeliveryDto {
        instance_id: d.instance_id,
        element_id: d.element_id,
    };
    Ok(HttpResponse::Ok().json(SignalResponse {
        delivered: b.delivered.into_iter().map(dto).collect(),
        started: b.started.into_iter().map(dto).collect(),
    }))
}

fn worker_ok(id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() || id.len() > 200 {
        Err(ApiError::bad_request(
            "worker_id must have 1 to 200 characters",
        ))
    } else {
        Ok(())
    }
}

/// Locks external tasks of the given topics for a worker (long polling up to `wait_ms`).
#[utoipa::path(
    tag = "external tasks",
    request_body = FetchRequest,
    responses((status = 200, description = "the tasks now locked for the worker", body = Vec<LockedTaskDto>), (status = 422, description = "a field or value does not fit", body = super::error::ErrorBody))
)]
#[post("/api/v1/external-tasks/fetch-and-lock")]
pub async fn fetch_and_lock(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<FetchRequest>,
) -> Result<HttpResponse, ApiError> {
    let f = body.into_inner();
    worker_ok(&f.worker_id)?;
    if f.max_tasks == 0 || f.max_tasks > 100 {
        return Err(ApiError::bad_request("max_tasks must be between 1 and 100"));
    }
    if f.topics.is_empty() {
        return Err(ApiError::bad_request("name at least one topic"));
    }
    let mut topics = Vec::new();
    for t in f.topics {
        if t.lock_duration_ms == 0 {
            return Err(ApiError::bad_request(format!(
                "topic {}: lock_duration_ms must be positive",
                t.name
            )));
        }
        topics.push(TopicRequest::new(
            t.name,
            Duration::from_millis(t.lock_duration_ms),
        ));
    }
    let tasks = state
        .runtime
        .work()
        .fetch_and_lock(
            &user.principal(),
            &f.worker_id,
            f.max_tasks as usize,
            &topics,
            Duration::from_millis(f.wait_ms),
        )
        .await?;
    let out: Vec<LockedTaskDto> = tasks.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Completes a locked external task.
#[utoipa::path(
    tag = "external tasks",
    params(("id" = Uuid, Path)),
    request_body = ExternalCompleteRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "the lock expired or is another worker's", body = super::error::ErrorBody))
)]
#[post("/api/v1/external-tasks/{id}/complete")]
pub async fn complete_external(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<ExternalCompleteRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    worker_ok(&b.worker_id)?;
    let o = state
        .runtime
        .work()
        .complete(&user.principal(), *id, &b.worker_id, b.variables)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Reports a failure: retried after `retry_in_ms`, or an incident when `retries` is 0.
#[utoipa::path(
    tag = "external tasks",
    params(("id" = Uuid, Path)),
    request_body = FailureRequest,
    responses((status = 204, description = "recorded"), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/external-tasks/{id}/failure")]
pub async fn fail_external(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<FailureRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    worker_ok(&b.worker_id)?;
    if b.retries < 0 {
        return Err(ApiError::bad_request("retries cannot be negative"));
    }
    state
        .runtime
        .work()
        .fail(
            &user.principal(),
            *id,
            &b.worker_id,
            &b.message,
            b.retries,
            Duration::from_millis(b.retry_in_ms),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reports a business error (an incident until error boundary events catch it).
#[utoipa::path(
    tag = "external tasks",
    params(("id" = Uuid, Path)),
    request_body = BpmnErrorRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/external-tasks/{id}/bpmn-error")]
pub async fn bpmn_error_external(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<BpmnErrorRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    worker_ok(&b.worker_id)?;
    if b.error_code.trim().is_empty() {
        return Err(ApiError::bad_request("error_code is required"));
    }
    let o = state
        .runtime
        .work()
        .bpmn_error(
            &user.principal(),
            *id,
            &b.worker_id,
            &b.error_code,
            &b.message,
        )
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Extends a worker's lock.
#[utoipa::path(
    tag = "external tasks",
    params(("id" = Uuid, Path)),
    request_body = ExtendLockRequest,
    responses((status = 200, description = "the new lock expiry", body = LockDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/external-tasks/{id}/extend-lock")]
pub async fn extend_lock(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<ExtendLockRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    worker_ok(&b.worker_id)?;
    if b.new_duration_ms == 0 {
        return Err(ApiError::bad_request("new_duration_ms must be positive"));
    }
    let until = state
        .runtime
        .work()
        .extend_lock(
            &user.principal(),
            *id,
            &b.worker_id,
            Duration::from_millis(b.new_duration_ms),
        )
        .await?;
    Ok(HttpResponse::Ok().json(LockDto {
        lock_expires_at: until,
    }))
}

/// Retries an incident (admins).
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path, description = "the incident id (see `GET /instances/{id}` for keys within an instance)")),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "already resolved", body = super::error::ErrorBody))
)]
#[post("/api/v1/incidents/{id}/retry")]
pub async fn retry_incident(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let o = state
        .runtime
        .instances()
        .retry(&user.principal(), *id)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}
