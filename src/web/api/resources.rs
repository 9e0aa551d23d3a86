//! Deployments, definitions and instances.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::auth::ApiUser;
use super::body::Body;
use super::dto::*;
use super::error::{ApiError, ErrorItem};
use crate::model::NodeKind;
use crate::runtime::{InstanceFilter, StatisticsVersion, Total, Values};
use crate::web::AppState;
use crate::web::instances::diagram;
use crate::web::render::download;

/// Pairs of a query string (repeated keys allowed).
pub fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("bad query string: {e}")))
}

fn paging(pairs: &[(String, String)]) -> Result<(u64, u64), ApiError> {
    let number = |name: &str| -> Result<Option<u64>, ApiError> {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("{name} must be a whole number")))
            })
            .transpose()
    };
    Paging {
        page: number("page")?,
        per_page: number("per_page")?,
    }
    .checked()
}

async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(String, Vec<u8>), ApiError> {
    const LIMIT: usize = 16 * 1024 * 1024;
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = query_pairs(req)?
        .into_iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v)
        .unwrap_or_else(|| "api.bpmn".into());
    if content_type.starts_with("multipart/form-data") {
        let mut parts = Multipart::new(req.headers(), payload);
        while let Some(field) = parts.next().await {
            let mut field =
                field.map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?;
            if field.name() != Some("file") {
                continue;
            }
            let file = field
                .content_disposition()
                .and_then(|d| d.get_filename().map(str::to_string))
                .unwrap_or(name.clone());
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| ApiError::bad_request(format!("bad upload: {e}")))?;
                if bytes.len() + chunk.len() > LIMIT {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the file is larger than 16 MB",
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok((file, bytes));
        }
        return Err(ApiError::bad_request(
            "the multipart body has no \"file\" part",
        ));
    }
    let mut bytes = Vec::new();
    let mut payload = payload;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
        if bytes.len() + chunk.len() > LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the file is larger than 16 MB",
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "send the BPMN XML as the body (or as the \"file\" part of a multipart body)",
        ));
    }
    Ok((name, bytes))
}

/// Deploys a BPMN, DMN or form (`.form`, JSON) file (admins).
#[utoipa::path(
    tag = "definitions",
    params(("name" = Option<String>, Query, description = "the file name to record (XML bodies)")),
    request_body(content = String, description = "the BPMN or DMN XML or the form JSON, or a multipart body with a `file` part", content_type = "application/xml"),
    responses(
        (status = 201, description = "deployed (or unchanged)", body = DeploymentDto),
        (status = 422, description = "the diagram is invalid: every problem with its line, column and element", body = super::error::ErrorBody),
        (status = 403, description = "not an admin", body = super::error::ErrorBody),
    )
)]
#[post("/api/v1/deployments")]
pub async fn create_deployment(
    state: web::Data<AppState>,
    user: ApiUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (name, bytes) = read_upload(&req, payload).await?;
    let r = state
        .runtime
        .deployments()
        .deploy(&user.principal(), &name, &bytes)
        .await?;
    Ok(HttpResponse::Created().json(DeploymentDto {
        definitions: r.definitions.iter().map(DeployedDto::from).collect(),
        decisions: r.decisions.iter().map(DeployedDto::from).collect(),
        forms: r.forms.iter().map(DeployedDto::from).collect(),
        warnings: r.warnings.iter().map(ErrorItem::diagnostic).collect(),
    }))
}

/// Every process key with its latest version.
#[utoipa::path(tag = "definitions", responses((status = 200, description = "every process with its latest version", body = Vec<DefinitionDto>)))]
#[get("/api/v1/definitions")]
pub async fn list_definitions(
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<DefinitionDto> = state
        .runtime
        .deployments()
        .list(&user.principal())
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(rows))
}

fn version_param(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    query_pairs(req)?
        .into_iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| {
            v.parse::<i32>()
                .map_err(|_| ApiError::bad_request("version must be a whole number"))
        })
        .transpose()
}

/// A process key's versions and start form.
#[utoipa::path(
    tag = "definitions",
    params(("key" = String, Path, description = "the process id")),
    responses((status = 200, description = "the versions and start form", body = DefinitionVersionsDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/definitions/{key}")]
pub async fn show_definition(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let versions = state.runtime.deployments().versions(&who, &key).await?;
    let latest = versions.first().ok_or_else(ApiError::not_found)?;
    let deployed = state
        .runtime
        .deployments()
        .get(&who, &key, Some(latest.version))
        .await?;
    let process = deployed.process();
    let start_form = process
        .start
        .and_then(|s| match &process.nodes[s].kind {
            NodeKind::StartEvent(e) => Some(e.form.iter().map(FormFieldDto::from).collect()),
            _ => None,
        })
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(DefinitionVersionsDto {
        key: key.to_string(),
        name: process.display_name().to_string(),
        versions: versions.into_iter().map(Into::into).collect(),
        start_form,
    }))
}

/// The BPMN file of a version (the latest by default).
#[utoipa::path(
    tag = "definitions",
    params(("key" = String, Path), ("version" = Option<i32>, Query)),
    responses((status = 200, description = "the BPMN XML", content_type = "application/xml", body = String), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/definitions/{key}/xml")]
pub async fn show_definition_xml(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let deployments = state.runtime.deployments();
    let deployed = deployments.get(&who, &key, version_param(&req)?).await?;
    let source = deployments.source(&who, &deployed.definition).await?;
    let d = &deployed.definition;
    Ok(download(
        source,
        &format!("{}-v{}.bpmn", d.key, d.version),
        "application/xml; charset=utf-8",
    ))
}

/// The diagram of a version as SVG.
#[utoipa::path(
    tag = "definitions",
    params(("key" = String, Path), ("version" = Option<i32>, Query)),
    responses((status = 200, description = "the diagram", content_type = "image/svg+xml", body = String), (status = 404, description = "unknown, or the file has no layout", body = super::error::ErrorBody))
)]
#[get("/api/v1/definitions/{key}/svg")]
pub async fn show_definition_svg(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let deployed = state
        .runtime
        .deployments()
        .get(&user.principal(), &key, version_param(&req)?)
        .await?;
    let svg = diagram(&deployed, &Default::default()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "the file has no diagram layout (BPMNDI)",
        )
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Content-Security-Policy", "sandbox"))
        .body(svg))
}

/// Statistics per element of a version (admins): active element instances,
/// completions, cancellations, open incidents and time spent.
#[utoipa::path(
    tag = "definitions",
    params(("key" = String, Path), ("version" = Option<String>, Query, description = "a version number, or `all` for every version summed per element; the latest by default")),
    responses((status = 200, description = "the numbers of each element that has any", body = DefinitionStatisticsDto), (status = 422, description = "a version that is neither a number nor `all`", body = super::error::ErrorBody), (status = 403, description = "not an admin", body = super::error::ErrorBody), (status = 404, description = "no such process or version", body = super::error::ErrorBody))
)]
#[get("/api/v1/definitions/{key}/statistics")]
pub async fn show_definition_statistics(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let version = match query_pairs(&req)?.into_iter().find(|(k, _)| k == "version") {
        None => StatisticsVersion::Latest,
        Some((_, v)) if v == "all" => StatisticsVersion::All,
        Some((_, v)) => StatisticsVersion::Version(
            v.parse::<i32>()
                .map_err(|_| ApiError::bad_request("version must be a whole number or \"all\""))?,
        ),
    };
    let stats = state
        .runtime
        .deployments()
        .statistics(&user.principal(), &key, version)
        .await?;
    Ok(HttpResponse::Ok().json(DefinitionStatisticsDto::from(stats)))
}

/// Starts an instance.
#[utoipa::path(
    tag = "instances",
    params(("key" = String, Path, description = "the process id")),
    request_body = StartRequest,
    responses(
        (status = 201, description = "where the instance stands now", body = InstanceStateDto),
        (status = 422, description = "start form validation: one error per field", body = super::error::ErrorBody),
        (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody),
    )
)]
#[post("/api/v1/definitions/{key}/start")]
pub async fn start_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    body: Body<StartRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let o = state
        .runtime
        .deployments()
        .start(
            &user.principal(),
            crate::runtime::StartRequest {
                key: key.to_string(),
                version: body.version,
                values: Values::Json(body.variables),
                business_key: body.business_key,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(InstanceStateDto::of(&o)))
}

/// Instances the caller may see, newest first.
#[utoipa::path(
    tag = "instances",
    params(
        ("state" = Option<String>, Query, description = "active, completed, terminated or incident"),
        ("definition" = Option<String>, Query, description = "process id"),
        ("business_key" = Option<String>, Query),
        ("started_by" = Option<String>, Query),
        ("var" = Option<Vec<String>>, Query, description = "name:value; repeat for several, all must match"),
        ("page" = Option<u64>, Query), ("per_page" = Option<u64>, Query, description = "1 to 100"),
    ),
    responses((status = 200, description = "a page of instances", body = InstancePageDto), (status = 422, description = "a field or value does not fit", body = super::error::ErrorBody))
)]
#[get("/api/v1/instances")]
pub async fn list_instances(
    state: web::Data<AppState>,
    user: ApiUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&req)?;
    let (page, per_page) = paging(&pairs)?;
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let mut variables = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "var") {
        let (n, val) = v
            .split_once(':')
            .ok_or_else(|| ApiError::bad_request(format!("var must be name:value, not \"{v}\"")))?;
        variables.push((n.to_string(), val.to_string()));
    }
    if let Some(s) = one("state")
        && !["active", "completed", "terminated", "incident"].contains(&s.as_str())
    {
        return Err(ApiError::bad_request(
            "state is active, completed, terminated or incident",
        ));
    }
    let q = InstanceFilter {
        definition: one("definition"),
        state: one("state"),
        started_by: one("started_by"),
        business_key: one("business_key"),
        variables,
        offset: (page - 1).saturating_mul(per_page),
        limit: per_page,
        ..Default::default()
    };
    let (items, total): (_, Total) = state
        .runtime
        .instances()
        .list(&user.principal(), &q)
        .await?;
    Ok(HttpResponse::Ok().json(InstancePageDto {
        items: items.into_iter().map(Into::into).collect(),
        page,
        per_page,
        total: total.count,
        more: total.more,
    }))
}

/// An instance with its variables, open tasks, incidents and waits.
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the instance", body = InstanceDetailDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/instances/{id}")]
pub async fn show_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .runtime
        .instances()
        .summary(&user.principal(), *id)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceDetailDto {
        definition_version: d.version,
        variables: d.variables,
        open_tasks: d
            .tasks
            .into_iter()
            .filter(|t| t.state == "open")
            .map(Into::into)
            .collect(),
        incidents: d.incidents.into_iter().map(Into::into).collect(),
        waiting: d.waiting.into_iter().map(Into::into).collect(),
        called_instances: d.called.into_iter().map(Into::into).collect(),
        instance: d.instance.into(),
    }))
}

/// The instance's history, in order: every event, with the history entry
/// (one per command) it belongs to and that entry's summary.
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "the history, in order", body = Vec<HistoryDto>), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/instances/{id}/history")]
pub async fn list_history(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let story = state
        .runtime
        .instances()
        .story(&user.principal(), *id)
        .await?;
    let rows: Vec<HistoryDto> = story
        .into_iter()
        .flat_map(|entry| {
            let summary = entry.summary;
            entry
                .events
                .into_iter()
                .map(move |h| HistoryDto::new(h, summary.clone()))
        })
        .collect();
    Ok(HttpResponse::Ok().json(rows))
}

/// Cancels an instance (admins).
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/instances/{id}/cancel")]
pub async fn cancel_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let o = state
        .runtime
        .instances()
        .cancel(&user.principal(), *id)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Triggers an element that waits for a trigger (a receive task without a
/// message), with these variables; 404 when no instance of it waits.
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path)),
    request_body = TriggerRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/api/v1/instances/{id}/trigger")]
pub async fn trigger_element(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<TriggerRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let o = state
        .runtime
        .instances()
        .trigger(&user.principal(), *id, &body.element, body.variables)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}

/// Sets instance variables (admins).
#[utoipa::path(
    tag = "instances",
    params(("id" = Uuid, Path)),
    request_body = VariablesRequest,
    responses((status = 200, description = "where the instance stands now", body = InstanceStateDto), (status = 403, description = "not allowed", body = super::error::ErrorBody), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[put("/api/v1/instances/{id}/variables")]
pub async fn update_variables(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
    body: web::Json<VariablesRequest>,
) -> Result<HttpResponse, ApiError> {
    let vars: Map<String, Value> = body.into_inner().variables;
    let o = state
        .runtime
        .instances()
        .set_variables(&user.principal(), *id, vars)
        .await?;
    Ok(HttpResponse::Ok().json(InstanceStateDto::of(&o)))
}
