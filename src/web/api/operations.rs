//! Operating running processes (admins): suspend and resume an instance or
//! a process version, modify an instance, migrate instances to another
//! version.

use actix_web::{HttpResponse, post, web};
use uuid::Uuid;

use super::auth::ApiUser;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use crate::runtime::{Migration, Modification};
use crate::web::AppState;

/// Suspends an instance: task completion, messages, triggers and external
/// task reports are refused with 409 and its jobs and timers wait until it
/// is resumed.
#[utoipa::path(
    tag = "operations",
    params(("id" = Uuid, Path)),
    request_body(content = ReasonRequest, description = "optional"),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 422, description = "it is suspended already", body = super::error::ErrorBody), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "the instance has ended", body = super::error::ErrorBody))
)]
#[post("/api/v1/instances/{id}/suspend")]
pub async fn suspend_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: Body<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let o = state
        .runtime
        .instances()
        .suspend(&user.principal(), *id, body.into_inner().reason)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Resumes a suspended instance; a timer that fell due meanwhile fires now.
#[utoipa::path(
    tag = "operations",
    params(("id" = Uuid, Path)),
    request_body(content = ReasonRequest, description = "optional"),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 422, description = "it is not suspended", body = super::error::ErrorBody), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[post("/api/v1/instances/{id}/resume")]
pub async fn resume_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: Body<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    let o = state
        .runtime
        .instances()
        .resume(&user.principal(), *id, body.into_inner().reason)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Modifies a running instance in one command: sets the variables, then
/// cancels and starts elements in the order given. Refused (422, nothing
/// changed) when an instruction names an unknown element, cancels nothing,
/// starts inside a multi-instance body or a subprocess that is not active, or
/// when the instance would be left with nothing active.
#[utoipa::path(
    tag = "operations",
    params(("id" = Uuid, Path)),
    request_body = ModifyRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 422, description = "refused: the message names the instruction and why", body = super::error::ErrorBody), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "the instance is suspended or has ended", body = super::error::ErrorBody))
)]
#[post("/api/v1/instances/{id}/modify")]
pub async fn modify_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<ModifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let o = state
        .runtime
        .instances()
        .modify(
            &user.principal(),
            *id,
            Modification {
                instructions: body.instructions.into_iter().map(Into::into).collect(),
                variables: body.variables,
                reason: body.reason,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Migrates one instance to another version of its process (or, with
/// `dry_run`, says whether it would move and why not).
#[utoipa::path(
    tag = "operations",
    params(("id" = Uuid, Path)),
    request_body = MigrateInstanceRequest,
    responses((status = 200, description = "what happened to the instance", body = MigrationResultDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "no such instance or version", body = super::error::ErrorBody), (status = 409, description = "refused: the problems say why; nothing moved", body = MigrationResultDto))
)]
#[post("/api/v1/instances/{id}/migrate")]
pub async fn migrate_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<MigrateInstanceRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let r = state
        .runtime
        .instances()
        .migrate(
            &user.principal(),
            *id,
            body.to_version,
            &body.mapping,
            body.dry_run,
        )
        .await?;
    let refused = r.outcome == "refused";
    let dto = MigrationResultDto::from(r);
    Ok(if refused {
        HttpResponse::Conflict().json(dto)
    } else {
        HttpResponse::Ok().json(dto)
    })
}

/// Migrates running instances of one version of a process to another. The
/// mapping is checked first (nothing moves when it is wrong: 422 with the
/// problems); then each instance moves in its own transaction, or is refused
/// with its problems. `dry_run` only says what would happen.
#[utoipa::path(
    tag = "operations",
    params(("key" = String, Path)),
    request_body = MigrateRequest,
    responses((status = 200, description = "the plan's problems and the result per instance", body = MigrationReportDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "no such version", body = super::error::ErrorBody), (status = 422, description = "the mapping is wrong; nothing moved", body = MigrationReportDto))
)]
#[post("/api/v1/definitions/{key}/migrate")]
pub async fn migrate_instances(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    body: web::Json<MigrateRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let report = state
        .runtime
        .deployments()
        .migrate(
            &user.principal(),
            &key,
            &Migration {
                from_version: body.from_version,
                to_version: body.to_version,
                mapping: body.mapping,
                instances: body.instances,
                dry_run: body.dry_run,
            },
        )
        .await?;
    let bad = !report.problems.is_empty();
    let dto = MigrationReportDto::from(report);
    Ok(if bad {
        HttpResponse::UnprocessableEntity().json(dto)
    } else {
        HttpResponse::Ok().json(dto)
    })
}

/// Suspends a version of a process: no instance starts from it (409) and its
/// timer start events wait; with `include_instances`, its running instances
/// are suspended too.
#[utoipa::path(
    tag = "operations",
    params(("key" = String, Path), ("version" = i32, Path)),
    request_body(content = SuspendVersionRequest, description = "optional"),
    responses((status = 200, description = "the version's state and the instances suspended with it", body = VersionSuspensionDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "no such version", body = super::error::ErrorBody))
)]
#[post("/api/v1/definitions/{key}/versions/{version}/suspend")]
pub async fn suspend_version(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, i32)>,
    body: Body<SuspendVersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let r = state
        .runtime
        .deployments()
        .suspend_version(
            &user.principal(),
            &key,
            version,
            true,
            body.into_inner().include_instances,
        )
        .await?;
    Ok(HttpResponse::Ok().json(VersionSuspensionDto::from(r)))
}

/// Resumes a suspended version of a process; with `include_instances`, its
/// suspended instances are resumed too.
#[utoipa::path(
    tag = "operations",
    params(("key" = String, Path), ("version" = i32, Path)),
    request_body(content = SuspendVersionRequest, description = "optional"),
    responses((status = 200, description = "the version's state and the instances resumed with it", body = VersionSuspensionDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "no such version", body = super::error::ErrorBody))
)]
#[post("/api/v1/definitions/{key}/versions/{version}/resume")]
pub async fn resume_version(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, i32)>,
    body: Body<SuspendVersionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let r = state
        .runtime
        .deployments()
        .suspend_version(
            &user.principal(),
            &key,
            version,
            false,
            body.into_inner().include_instances,
        )
        .await?;
    Ok(HttpResponse::Ok().json(VersionSuspensionDto::from(r)))
}
