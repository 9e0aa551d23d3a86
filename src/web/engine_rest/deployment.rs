//! Camunda's deployment resource: what Camunda Modeler's **Deploy** button
//! calls (`GET /deployment?maxResults=0` to check the connection, then a
//! multipart `POST /deployment/create`), and the list, count and reads
//! around it.
//!
//! A Camunda deployment is one upload of several resources; here a
//! deployment is one uploaded file (one row per file that changed anything),
//! and its id is that row's id. A request with several files checks them
//! all first, so that one that does not deploy stores nothing, then deploys
//! each as its own deployment; the answer carries the newest one's id and
//! every definition the request deployed.
//!
//! Duplicate filtering is always on here: a file identical to the latest
//! version of each of its processes (or decisions) makes no new version and
//! no deployment, whatever `enable-duplicate-filtering` and
//! `deploy-changed-only` say. The answer is then the earlier deployment, with
//! no deployed definitions, as Camunda answers a filtered duplicate.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::auth::RestUser;
use super::error::RestError;
use super::variables::{format_date, parse_date};
use crate::model::{ParseError, Severity};
use crate::runtime::{DeployedDefinition, DeploymentView, RuntimeError};
use crate::web::AppState;

/// The largest request `POST /deployment/create` reads.
const LIMIT: usize = 16 * 1024 * 1024;

/// The most deployments one list answers.
const MAX_LIST: usize = 1000;

/// The form parts that are settings, not resources.
const SETTINGS: [&str; 6] = [
    "deployment-name",
    "deployment-source",
    "enable-duplicate-filtering",
    "deploy-changed-only",
    "tenant-id",
    "deployment-activation-time",
];

/// Registers the deployment routes (inside the engine-rest scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/deployment", web::get().to(list))
        .route("/deployment/count", web::get().to(count))
        .route("/deployment/create", web::post().to(create))
        .route("/deployment/{id}", web::get().to(show))
        .route("/deployment/{id}", web::delete().to(delete))
        .route("/deployment/{id}/resources", web::get().to(resources));
}

/// Camunda's DeploymentDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentDto {
    links: Vec<Value>,
    id: String,
    name: String,
    source: Option<String>,
    deployment_time: String,
    tenant_id: Option<String>,
}

/// Camunda's DeploymentWithDefinitionsDto (the answer of `create`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithDefinitionsDto {
    #[serde(flatten)]
    deployment: DeploymentDto,
    deployed_process_definitions: Option<Map<String, Value>>,
    deployed_case_definitions: Option<Map<String, Value>>,
    deployed_decision_definitions: Option<Map<String, Value>>,
    deployed_decision_requirements_definitions: Option<Map<String, Value>>,
}

/// The base URL of the engine-rest surface, from a request to `suffix`.
fn base_url(req: &HttpRequest, suffix: &str) -> String {
    let conn = req.connection_info();
    let path = req.path();
    let base = path.find(suffix).map(|i| &path[..i]).unwrap_or(path);
    format!("{}://{}{}", conn.scheme(), conn.host(), base)
}

fn deployment_dto(d: &DeploymentView, base: &str) -> DeploymentDto {
    DeploymentDto {
        links: vec![json!({
            "method": "GET",
            "href": format!("{base}/deployment/{}", d.id),
            "rel": "self",
        })],
        id: d.id.to_string(),
        name: d.name.clone(),
        source: None,
        deployment_time: format_date(d.deployed_at),
        tenant_id: None,
    }
}

/// Camunda's ProcessDefinitionDto for a deployed process.
fn process_dto(d: &DeployedDefinition, resource: &str) -> Value {
    json!({
        "id": d.id.to_string(),
        "key": d.key,
        "category": null,
        "description": null,
        "name": d.name,
        "version": d.version,
        "resource": resource,
        "deploymentId": d.deployment_id.to_string(),
        "diagram": null,
        "suspended": false,
        "tenantId": null,
        "versionTag": null,
        "historyTimeToLive": null,
        "startableInTasklist": true,
    })
}

/// Camunda's DecisionDefinitionDto for a deployed decision.
fn decision_dto(d: &DeployedDefinition, resource: &str) -> Value {
    json!({
        "id": d.id.to_string(),
        "key": d.key,
        "category": null,
        "name": d.name,
        "version": d.version,
        "resource": resource,
        "deploymentId": d.deployment_id.to_string(),
        "decisionRequirementsDefinitionId": null,
        "decisionRequirementsDefinitionKey": null,
        "tenantId": null,
        "versionTag": null,
        "historyTimeToLive": null,
    })
}

/// A deployment id as Camunda answers an unknown one.
fn deployment_id(raw: &str) -> Result<i64, RestError> {
    raw.parse::<i64>().map_err(|_| not_found(raw))
}

fn not_found(raw: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "InvalidRequestException",
        format!("Deployment with id '{raw}' does not exist"),
    )
}

/// The filters of `GET /deployment` this engine has.
#[derive(Default)]
struct Query {
    id: Option<String>,
    name: Option<String>,
    name_like: Option<String>,
    /// `Some(x)`: only deployments whose source is `x`; here no deployment
    /// has a source, so any value matches nothing.
    source: Option<String>,
    /// A tenant was asked for: nothing matches (there are no tenants).
    tenant: bool,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    first: usize,
    max: usize,
}

fn query(params: &[(String, String)]) -> Result<Query, RestError> {
    let mut q = Query {
        max: MAX_LIST,
        ..Default::default()
    };
    let number = |name: &str, v: &str| {
        v.parse::<usize>()
            .map_err(|_| RestError::invalid(format!("{name} must be a whole number, not {v:?}")))
    };
    let flag = |name: &str, v: &str| match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(RestError::invalid(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    };
    let date = |name: &str, v: &str| {
        parse_date(v).ok_or_else(|| {
            RestError::invalid(format!(
                "{name} must be a date as yyyy-MM-dd'T'HH:mm:ss.SSSZ, not {v:?}"
            ))
        })
    };
    for (k, v) in params {
        match k.as_str() {
            "id" => q.id = Some(v.clone()),
            "name" => q.name = Some(v.clone()),
            "nameLike" => q.name_like = Some(v.clone()),
            "source" => q.source = Some(v.clone()),
            "withoutSource" => {
                flag(k, v)?;
            }
            "tenantIdIn" => q.tenant = q.tenant || !v.is_empty(),
            "withoutTenantId" | "includeDeploymentsWithoutTenantId" => {
                flag(k, v)?;
            }
            "after" => q.after = Some(date(k, v)?),
            "before" => q.before = Some(date(k, v)?),
            "sortBy" => match v.as_str() {
                "id" | "name" | "deploymentTime" | "tenantId" => q.sort_by = Some(v.clone()),
                other => {
                    return Err(RestError::invalid(format!(
                        "Cannot set query parameter 'sortBy' to value '{other}'"
                    )));
                }
            },
            "sortOrder" => match v.as_str() {
                "asc" | "desc" => q.sort_order = Some(v.clone()),
                other => {
                    return Err(RestError::invalid(format!(
                        "Cannot set query parameter 'sortOrder' to value '{other}'"
                    )));
                }
            },
            "firstResult" => q.first = number(k, v)?,
            "maxResults" => q.max = number(k, v)?.min(MAX_LIST),
            other => {
                return Err(RestError::invalid(format!(
                    "the query parameter {other} is not supported here (id, name, nameLike, source, withoutSource, tenantIdIn, withoutTenantId, includeDeploymentsWithoutTenantId, after, before, sortBy, sortOrder, firstResult and maxResults are)"
                )));
            }
        }
    }
    if q.sort_by.is_some() != q.sort_order.is_some() {
        return Err(RestError::invalid(
            "Only a single sorting parameter specified. sortBy and sortOrder required",
        ));
    }
    Ok(q)
}

/// SQL's LIKE, as Camunda's `nameLike` uses it: `%` any run, `_` one character.
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last `%`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '_' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '%' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '%')
}

/// The deployments a query selects, sorted, before paging.
async fn select(
    state: &AppState,
    user: &RestUser,
    q: &Query,
) -> Result<Vec<DeploymentView>, RestError> {
    let all = state
        .runtime
        .deployments()
        .deployments(&user.principal())
        .await?;
    let mut rows: Vec<DeploymentView> = all
        .into_iter()
        .filter(|d| q.id.as_ref().is_none_or(|id| *id == d.id.to_string()))
        .filter(|d| q.name.as_ref().is_none_or(|n| *n == d.name))
        .filter(|d| q.name_like.as_ref().is_none_or(|p| like(p, &d.name)))
        .filter(|_| q.source.is_none() && !q.tenant)
        .filter(|d| q.after.is_none_or(|t| d.deployed_at > t))
        .filter(|d| q.before.is_none_or(|t| d.deployed_at < t))
        .collect();
    // Unsorted, Camunda's order is the database's; ours is by id.
    rows.sort_by_key(|d| d.id);
    match q.sort_by.as_deref() {
        Some("name") => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("deploymentTime") => rows.sort_by_key(|d| d.deployed_at),
        _ => {}
    }
    if q.sort_order.as_deref() == Some("desc") {
        rows.reverse();
    }
    Ok(rows)
}

/// `GET /deployment`: Camunda Modeler checks its connection with
/// `maxResults=0`, which answers `[]`.
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let q = query(&params)?;
    let base = base_url(&req, "/deployment");
    let rows = select(&state, &user, &q).await?;
    let out: Vec<DeploymentDto> = rows
        .iter()
        .skip(q.first)
        .take(q.max)
        .map(|d| deployment_dto(d, &base))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /deployment/count`.
async fn count(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let mut q = query(&params)?;
    q.sort_by = None;
    q.sort_order = None;
    let rows = select(&state, &user, &q).await?;
    Ok(HttpResponse::Ok().json(json!({"count": rows.len()})))
}

async fn find(state: &AppState, user: &RestUser, raw: &str) -> Result<DeploymentView, RestError> {
    let id = deployment_id(raw)?;
    state
        .runtime
        .deployments()
        .deployments(&user.principal())
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| not_found(raw))
}

/// `GET /deployment/{id}`.
async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let d = find(&state, &user, &id).await?;
    let base = base_url(&req, "/deployment");
    Ok(HttpResponse::Ok().json(deployment_dto(&d, &base)))
}

/// `GET /deployment/{id}/resources`: here a deployment is one file, so one
/// resource, whose id is the deployment's.
async fn resources(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let d = find(&state, &user, &id).await?;
    Ok(HttpResponse::Ok().json(json!([{
        "id": d.id.to_string(),
        "name": d.name,
        "deploymentId": d.id.to_string(),
    }])))
}

/// `DELETE /deployment/{id}`: this engine keeps every version it deployed,
/// so the runtime refuses (admins get 400 saying why, others 403) rather
/// than pretending.
async fn delete(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let number = deployment_id(&id)?;
    match state
        .runtime
        .deployments()
        .delete(&user.principal(), number)
        .await
    {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(RuntimeError::NotFound(_)) => Err(not_found(&id)),
        Err(e) => Err(e.into()),
    }
}

/// One resource of a create request.
struct Resource {
    name: String,
    bytes: Vec<u8>,
}

/// What a create request asked for.
#[derive(Default)]
struct CreateForm {
    name: Option<String>,
    source: Option<String>,
    tenant: Option<String>,
    activation: Option<String>,
    resources: Vec<Resource>,
}

fn is_resource_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml", ".form"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

async fn read_form(req: &HttpRequest, payload: web::Payload) -> Result<CreateForm, RestError> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        return Err(RestError::invalid(
            "POST /deployment/create takes a multipart/form-data body",
        ));
    }
    let mut form = CreateForm::default();
    let mut total = 0usize;
    let mut parts = Multipart::new(req.headers(), payload);
    while let Some(field) = parts.next().await {
        let mut field =
            field.map_err(|e| RestError::invalid(format!("the multipart body is broken: {e}")))?;
        let part = field.name().unwrap_or_default().to_string();
        let file = field
            .content_disposition()
            .and_then(|d| d.get_filename().map(str::to_string));
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| RestError::invalid(format!("the multipart body is broken: {e}")))?;
            total += chunk.len();
            if total > LIMIT {
                return Err(RestError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "InvalidRequestException",
                    "the deployment is larger than 16 MB",
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if SETTINGS.contains(&part.as_str()) && file.is_none() {
            let text = String::from_utf8(bytes)
                .map_err(|_| RestError::invalid(format!("the part {part} is not UTF-8 text")))?;
            let flag = |v: &str| match v.trim() {
                "true" | "false" => Ok(()),
                other => Err(RestError::invalid(format!(
                    "{part} must be true or false, not {other:?}"
                ))),
            };
            match part.as_str() {
                "deployment-name" => form.name = Some(text),
                "deployment-source" => form.source = Some(text),
                "tenant-id" => form.tenant = Some(text),
                "deployment-activation-time" => form.activation = Some(text),
                // Duplicates are always filtered here (see the module docs).
                _ => flag(&text)?,
            }
            continue;
        }
        let name = file.filter(|f| !f.is_empty()).unwrap_or(part);
        if !is_resource_name(&name) {
            return Err(RestError::invalid(format!(
                "the resource {name} cannot be deployed here: only BPMN (.bpmn, .bpmn20.xml), DMN (.dmn, .dmn11.xml) and form (.form) files can"
            )));
        }
        form.resources.push(Resource { name, bytes });
    }
    Ok(form)
}

/// Camunda's `ParseException` for the files that do not deploy: every
/// problem in the message with its line:column and element, and Camunda's
/// `details` (per resource, its errors and warnings).
fn parse_exception(failures: Vec<(String, ParseError)>) -> RestError {
    let mut lines = Vec::new();
    let mut details = Map::new();
    for (file, e) in failures {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for d in &e.diagnostics {
            let problem = json!({
                "message": d.message,
                "line": d.line,
                "column": d.column,
                "mainElementId": d.element,
                "elementIds": d.element.iter().collect::<Vec<_>>(),
            });
            if d.severity == Severity::Warning {
                warnings.push(problem);
                continue;
            }
            errors.push(problem);
            let mut line = format!(
                "* {} | resource {file} | line {} | column {}",
                d.message, d.line, d.column
            );
            if let Some(el) = &d.element {
                line.push_str(&format!(" | element {el}"));
            }
            lines.push(line);
        }
        details.insert(file, json!({"errors": errors, "warnings": warnings}));
    }
    let mut error = RestError::new(
        StatusCode::BAD_REQUEST,
        "ParseException",
        format!(
            "ENGINE-09005 Could not parse BPMN process. Errors: \n{}",
            lines.join("\n")
        ),
    );
    error.details = Some(Value::Object(details));
    error
}

/// `POST /deployment/create`, multipart, as Camunda Modeler sends it.
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    payload: web::Payload,
) -> Result<HttpResponse, RestError> {
    let who = user.principal();
    let deployments = state.runtime.deployments();
    let form = read_form(&req, payload).await?;
    if let Some(t) = form.tenant.as_deref().filter(|t| !t.trim().is_empty()) {
        return Err(RestError::invalid(format!(
            "the tenant-id {t:?} cannot be honoured: this engine has no tenants (leave it empty)"
        )));
    }
    if form
        .activation
        .as_deref()
        .is_some_and(|a| !a.trim().is_empty())
    {
        return Err(RestError::invalid(
            "deployment-activation-time is not supported here: definitions are active when deployed",
        ));
    }
    if form.resources.is_empty() {
        return Err(RestError::invalid(
            "the deployment has no resources: send at least one .bpmn or .dmn file part",
        ));
    }
    // Check every file first: one that does not deploy stores nothing.
    let mut failures = Vec::new();
    for r in &form.resources {
        match deployments.check(&who, &r.bytes) {
            Ok(()) => {}
            Err(RuntimeError::Invalid(e)) => failures.push((r.name.clone(), e)),
            Err(other) => return Err(other.into()),
        }
    }
    if !failures.is_empty() {
        return Err(parse_exception(failures));
    }
    // Forms first, so that the diagrams deployed with them link them.
    let mut resources = form.resources;
    resources.sort_by_key(|r| !r.name.to_ascii_lowercase().ends_with(".form"));
    let files: Vec<(&str, &[u8])> = resources
        .iter()
        .map(|r| (r.name.as_str(), r.bytes.as_slice()))
        .collect();
    let pending = crate::runtime::pending_forms(&files);
    for r in &resources {
        match deployments.check_forms(&who, &r.bytes, &pending).await {
            Ok(()) => {}
            Err(RuntimeError::Invalid(e)) => failures.push((r.name.clone(), e)),
            Err(other) => return Err(other.into()),
        }
    }
    if !failures.is_empty() {
        return Err(parse_exception(failures));
    }
    let mut processes = Map::new();
    let mut decisions = Map::new();
    let mut newest: Option<i64> = None;
    for r in &resources {
        let result = deployments
            .deploy(&who, &r.name, &r.bytes)
            .await
            .map_err(|e| match e {
                RuntimeError::Invalid(p) => parse_exception(vec![(r.name.clone(), p)]),
                other => other.into(),
            })?;
        for d in result
            .definitions
            .iter()
            .chain(&result.decisions)
            .chain(&result.forms)
        {
            newest = Some(newest.map_or(d.deployment_id, |n| n.max(d.deployment_id)));
        }
        for d in result.definitions.iter().filter(|d| d.created) {
            processes.insert(d.id.to_string(), process_dto(d, &r.name));
        }
        for d in result.decisions.iter().filter(|d| d.created) {
            decisions.insert(d.id.to_string(), decision_dto(d, &r.name));
        }
    }
    let Some(id) = newest else {
        return Err(RestError::invalid(
            "the resources hold no executable process, decision or form: nothing was deployed",
        ));
    };
    let d = find(&state, &user, &id.to_string()).await?;
    let base = base_url(&req, "/deployment/create");
    let mut deployment = deployment_dto(&d, &base);
    // The request's name and source, as Camunda answers them; the list shows
    // the file's name (see the README).
    if let Some(n) = form.name.filter(|n| !n.is_empty()) {
        deployment.name = n;
    }
    deployment.source = form.source;
    Ok(HttpResponse::Ok().json(WithDefinitionsDto {
        deployment,
        deployed_process_definitions: (!processes.is_empty()).then_some(processes),
        deployed_case_definitions: None,
        deployed_decision_definitions: (!decisions.is_empty()).then_some(decisions),
        deployed_decision_requirements_definitions: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_matches_as_sql_does() {
        assert!(like("%order%", "my-order.bpmn"));
        assert!(like("ord_r", "order"));
        assert!(!like("ord_r", "orders"));
        assert!(like("%", ""));
        assert!(!like("a%b", "acbx"));
        assert!(like("a%b%", "acbx"));
    }
}
