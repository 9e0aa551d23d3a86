//! Camunda's process definition resource: the list and count with their
//! filters, one definition by id or by key (its latest version), its BPMN
//! XML, its start form's variables, and starting an instance of it.
//!
//! A definition's id is the id of its version here (a number); the filters
//! Camunda has for things this engine does not have (categories, version
//! tags, tenants) answer as Camunda would for definitions without them;
//! `active` and `suspended` read the version's real suspension. Unknown parameters are ignored, as in Camunda; a filter this engine
//! cannot answer is refused, naming it.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::auth::RestUser;
use super::error::RestError;
use super::process_instance::{instance_dto, rest_base};
use super::request::{Json, Page, Params, flag, list, number, sorting, unsupported};
use super::variables::{decode_map, encode_map, format_date, parse_date};
use crate::model::form::FieldType;
use crate::runtime::{Deployed, ProcessVersion, RuntimeError, StartRequest, Values, like};
use crate::web::AppState;

/// Registers the process definition routes (inside the engine-rest scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/process-definition", web::get().to(list_definitions))
        .route(
            "/process-definition/count",
            web::get().to(count_definitions),
        )
        .route("/process-definition/key/{key}", web::get().to(show_by_key))
        .route(
            "/process-definition/key/{key}/xml",
            web::get().to(xml_by_key),
        )
        .route(
            "/process-definition/key/{key}/form-variables",
            web::get().to(form_by_key),
        )
        .route(
            "/process-definition/key/{key}/start",
            web::post().to(start_by_key),
        )
        .route("/process-definition/{id}", web::get().to(show_by_id))
        .route("/process-definition/{id}/xml", web::get().to(xml_by_id))
        .route(
            "/process-definition/{id}/form-variables",
            web::get().to(form_by_id),
        )
        .route(
            "/process-definition/{id}/start",
            web::post().to(start_by_id),
        );
}

/// Camunda's ProcessDefinitionDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionDto {
    id: String,
    key: String,
    category: Option<String>,
    description: Option<String>,
    name: Option<String>,
    version: i32,
    resource: String,
    deployment_id: String,
    diagram: Option<String>,
    suspended: bool,
    tenant_id: Option<String>,
    version_tag: Option<String>,
    history_time_to_live: Option<i64>,
    startable_in_tasklist: bool,
}

fn definition_dto(v: &ProcessVersion) -> DefinitionDto {
    DefinitionDto {
        id: v.id.to_string(),
        key: v.key.clone(),
        category: None,
        description: None,
        name: v.name.clone(),
        version: v.version,
        resource: v.resource.clone(),
        deployment_id: v.deployment_id.to_string(),
        diagram: None,
        suspended: v.suspended,
        tenant_id: None,
        version_tag: None,
        history_time_to_live: None,
        startable_in_tasklist: true,
    }
}

/// A filter of the definition list.
type Filter = Box<dyn Fn(&ProcessVersion) -> bool>;

/// The filters, sorting and page of `GET /process-definition`.
struct Query {
    filters: Vec<Filter>,
    sort: Option<(String, bool)>,
    page: Page,
}

fn query(params: &[(String, String)]) -> Result<Query, RestError> {
    let mut filters: Vec<Filter> = Vec::new();
    let mut page = Page::default();
    let (mut sort_by, mut sort_order) = (None, None);
    let nothing = || -> Filter { Box::new(|_| false) };
    for (k, v) in params {
        if page.read(k, v)? {
            continue;
        }
        let v = v.clone();
        match k.as_str() {
            "processDefinitionId" => filters.push(Box::new(move |d| d.id.to_string() == v)),
            "processDefinitionIdIn" => {
                let ids = list(&v);
                filters.push(Box::new(move |d| ids.contains(&d.id.to_string())));
            }
            "key" => filters.push(Box::new(move |d| d.key == v)),
            "keysIn" | "keyIn" => {
                let keys = list(&v);
                filters.push(Box::new(move |d| keys.contains(&d.key)));
            }
            "keyLike" => filters.push(Box::new(move |d| like(&v, &d.key))),
            "name" => filters.push(Box::new(move |d| d.name.as_deref() == Some(v.as_str()))),
            "nameLike" => filters.push(Box::new(move |d| {
                d.name.as_deref().is_some_and(|n| like(&v, n))
            })),
            "deploymentId" => filters.push(Box::new(move |d| d.deployment_id.to_string() == v)),
            "deployedAfter" | "deployedAt" => {
                let t = parse_date(&v).ok_or_else(|| {
                    RestError::invalid(format!(
                        "Cannot set query parameter '{k}' to value '{v}': it must be a date as yyyy-MM-dd'T'HH:mm:ss.SSSZ"
                    ))
                })?;
                let after = k == "deployedAfter";
                filters.push(Box::new(move |d: &ProcessVersion| {
                    let at: DateTime<Utc> = d.deployed_at;
                    if after { at > t } else { at == t }
                }));
            }
            "version" => {
                let n = number(k, &v)?;
                filters.push(Box::new(move |d| i64::from(d.version) == n as i64));
            }
            "latestVersion" | "latest" if flag(k, &v)? => {
                filters.push(Box::new(|d| d.latest));
            }
            "resourceName" => filters.push(Box::new(move |d| d.resource == v)),
            "resourceNameLike" => filters.push(Box::new(move |d| like(&v, &d.resource))),
            // No definition has a category, a version tag or a tenant, and
            // none is suspended or kept out of the task list.
            "category" | "categoryLike" | "versionTag" | "versionTagLike" => {
                filters.push(nothing())
            }
            "tenantIdIn" if !list(&v).is_empty() => filters.push(nothing()),
            "suspended" if flag(k, &v)? => filters.push(Box::new(|d| d.suspended)),
            "active" if flag(k, &v)? => filters.push(Box::new(|d| !d.suspended)),
            "active" | "suspended" => {}
            "notStartableInTasklist" if flag(k, &v)? => filters.push(nothing()),
            "withoutVersionTag"
            | "withoutTenantId"
            | "includeProcessDefinitionsWithoutTenantId"
            | "startableInTasklist" => {
                flag(k, &v)?;
            }
            "startableBy" | "startablePermissionCheck" => {
                return Err(unsupported(
                    k,
                    "who may start a process is the policy's (every user and worker), not a per-definition permission",
                ));
            }
            "incidentId" | "incidentType" | "incidentMessage" | "incidentMessageLike" => {
                return Err(unsupported(
                    k,
                    "incidents belong to instances here; filter GET /process-instance by withIncident",
                ));
            }
            "sortBy" => sort_by = Some(v),
            "sortOrder" => sort_order = Some(v),
            // Unknown parameters are ignored, as in Camunda.
            _ => {}
        }
    }
    let sort = sorting(
        sort_by.as_deref(),
        sort_order.as_deref(),
        &[
            "category",
            "key",
            "id",
            "name",
            "version",
            "deploymentId",
            "deployTime",
            "tenantId",
            "versionTag",
        ],
    )?;
    Ok(Query {
        filters,
        sort,
        page,
    })
}

async fn matching(
    state: &AppState,
    user: &RestUser,
    params: &[(String, String)],
) -> Result<(Vec<ProcessVersion>, Page), RestError> {
    let q = query(params)?;
    let mut rows: Vec<ProcessVersion> = state
        .runtime
        .deployments()
        .all_versions(&user.principal())
        .await?
        .into_iter()
        .filter(|d| q.filters.iter().all(|f| f(d)))
        .collect();
    rows.sort_by_key(|d| d.id);
    if let Some((by, desc)) = &q.sort {
        match by.as_str() {
            "key" => rows.sort_by(|a, b| a.key.cmp(&b.key)),
            "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            "version" => rows.sort_by_key(|d| d.version),
            "deploymentId" => rows.sort_by_key(|d| d.deployment_id),
            "deployTime" => rows.sort_by_key(|d| d.deployed_at),
            // id, and the fields every definition has the same value of.
            _ => {}
        }
        if *desc {
            rows.reverse();
        }
    }
    Ok((rows, q.page))
}

async fn list_definitions(
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
) -> Result<HttpResponse, RestError> {
    let (rows, page) = matching(&state, &user, &params.0).await?;
    let out: Vec<DefinitionDto> = rows
        .iter()
        .skip(page.first as usize)
        .take(page.max as usize)
        .map(definition_dto)
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn count_definitions(
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
) -> Result<HttpResponse, RestError> {
    let (rows, _) = matching(&state, &user, &params.0).await?;
    Ok(HttpResponse::Ok().json(json!({"count": rows.len()})))
}

fn no_key(key: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "RestException",
        format!("No matching process definition with key: {key} and no tenant-id"),
    )
}

fn no_id(id: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "InvalidRequestException",
        format!("No matching definition with id {id}"),
    )
}

/// The version a path names: `key/{key}` is the latest version of the key.
enum Which<'a> {
    Id(&'a str),
    Key(&'a str),
}

async fn version_of(
    state: &AppState,
    user: &RestUser,
    which: Which<'_>,
) -> Result<ProcessVersion, RestError> {
    let all = state
        .runtime
        .deployments()
        .all_versions(&user.principal())
        .await?;
    match which {
        Which::Id(id) => all
            .into_iter()
            .find(|d| d.id.to_string() == id)
            .ok_or_else(|| no_id(id)),
        Which::Key(key) => all
            .into_iter()
            .find(|d| d.key == key && d.latest)
            .ok_or_else(|| no_key(key)),
    }
}

async fn deployed(
    state: &AppState,
    user: &RestUser,
    v: &ProcessVersion,
) -> Result<Arc<Deployed>, RestError> {
    Ok(state
        .runtime
        .deployments()
        .by_id(&user.principal(), v.id)
        .await?)
}

async fn show_by_key(
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let v = version_of(&state, &user, Which::Key(&key)).await?;
    Ok(HttpResponse::Ok().json(definition_dto(&v)))
}

async fn show_by_id(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let v = version_of(&state, &user, Which::Id(&id)).await?;
    Ok(HttpResponse::Ok().json(definition_dto(&v)))
}

async fn xml(
    state: &AppState,
    user: &RestUser,
    which: Which<'_>,
) -> Result<HttpResponse, RestError> {
    let v = version_of(state, user, which).await?;
    let d = deployed(state, user, &v).await?;
    let source = state
        .runtime
        .deployments()
        .source(&user.principal(), &d.definition)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"id": v.id.to_string(), "bpmn20Xml": source})))
}

async fn xml_by_key(
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    xml(&state, &user, Which::Key(&key)).await
}

async fn xml_by_id(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    xml(&state, &user, Which::Id(&id)).await
}

/// The start form's fields as Camunda's typed variables: each field's
/// default (or `null`) with the type Camunda gives that form field type.
async fn form_variables(
    state: &AppState,
    user: &RestUser,
    which: Which<'_>,
    params: &[(String, String)],
) -> Result<HttpResponse, RestError> {
    let mut names: Option<Vec<String>> = None;
    for (k, v) in params {
        match k.as_str() {
            "variableNames" => names = Some(list(v)),
            "deserializeValues" => {
                flag(k, v)?;
            }
            _ => {}
        }
    }
    let v = version_of(state, user, which).await?;
    let d = deployed(state, user, &v).await?;
    let mut out = Map::new();
    for field in d.start_form() {
        if names.as_ref().is_some_and(|n| !n.contains(&field.id)) {
            continue;
        }
        let (kind, value) = match (&field.ty, &field.default) {
            (FieldType::Long, v) => ("Long", v.clone().unwrap_or(Value::Null)),
            (FieldType::Boolean, v) => ("Boolean", v.clone().unwrap_or(Value::Null)),
            (FieldType::Date, Some(Value::String(day))) => (
                "Date",
                parse_date(&format!("{day}T00:00:00.000+0000"))
                    .map(|t| Value::String(format_date(t)))
                    .unwrap_or(Value::Null),
            ),
            (FieldType::Date, _) => ("Date", Value::Null),
            (FieldType::String | FieldType::Enum { .. }, v) => {
                ("String", v.clone().unwrap_or(Value::Null))
            }
        };
        out.insert(
            field.id.clone(),
            json!({"value": value, "type": kind, "valueInfo": {}}),
        );
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn form_by_key(
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, RestError> {
    form_variables(&state, &user, Which::Key(&key), &params.0).await
}

async fn form_by_id(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, RestError> {
    form_variables(&state, &user, Which::Id(&id), &params.0).await
}

/// The body of `.../start`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StartDto {
    variables: Option<Map<String, Value>>,
    business_key: Option<String>,
    #[serde(default)]
    with_variables_in_return: bool,
    case_instance_id: Option<String>,
    start_instructions: Option<Vec<Value>>,
    #[serde(default)]
    skip_custom_listeners: bool,
    #[serde(default)]
    skip_io_mappings: bool,
}

async fn start(
    req: &HttpRequest,
    state: &AppState,
    user: &RestUser,
    which: Which<'_>,
    b: StartDto,
) -> Result<HttpResponse, RestError> {
    if b.case_instance_id.is_some() {
        return Err(unsupported("caseInstanceId", "there are no cases"));
    }
    if b.start_instructions.as_ref().is_some_and(|i| !i.is_empty()) {
        return Err(unsupported(
            "startInstructions",
            "instances start at their start event",
        ));
    }
    if b.skip_custom_listeners {
        return Err(unsupported("skipCustomListeners", "listeners always run"));
    }
    if b.skip_io_mappings {
        return Err(unsupported("skipIoMappings", "mappings always run"));
    }
    let variables = decode_map(b.variables.as_ref())?;
    let v = version_of(state, user, which).await?;
    let who = user.principal();
    let outcome = state
        .runtime
        .deployments()
        .start(
            &who,
            StartRequest {
                key: v.key.clone(),
                version: Some(v.version),
                values: Values::Json(variables),
                business_key: b.business_key.clone(),
            },
        )
        .await
        .map_err(|e| match e {
            RuntimeError::NotFound(_) => no_key(&v.key),
            other => other.into(),
        })?;
    let status = outcome.status();
    let mut dto = instance_dto(
        &rest_base(req),
        outcome.instance_id,
        v.id,
        b.business_key.filter(|k| !k.trim().is_empty()),
    );
    dto.ended = status == "completed" || status == "terminated";
    if b.with_variables_in_return {
        dto.variables = Some(encode_map(&outcome.state.root_variables(), None));
    }
    Ok(HttpResponse::Ok().json(dto))
}

async fn start_by_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
    body: Json<StartDto>,
) -> Result<HttpResponse, RestError> {
    start(&req, &state, &user, Which::Key(&key), body.0).await
}

async fn start_by_id(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: Json<StartDto>,
) -> Result<HttpResponse, RestError> {
    start(&req, &state, &user, Which::Id(&id), body.0).await
}
