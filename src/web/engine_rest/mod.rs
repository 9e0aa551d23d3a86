//! Camunda 7's REST API (the 7.22 reference), served at a configurable base
//! (`--engine-rest-path`, default `/engine-rest`), so that external task
//! workers written with Camunda's official clients, Camunda Modeler's
//! **Deploy** button (`deployment.rs`), and scripts reading and driving
//! process definitions (`process_definition.rs`) and running instances
//! (`process_instance.rs`), work here unchanged but for their base URL and
//! credentials. People's work and what happened are there too: `/task`
//! (`task.rs`), `/incident` and `/history/...` (`history.rs`) and
//! `/decision-definition` (`decision.rs`), their list queries read by
//! `query.rs`. `request.rs` reads query parameters and JSON bodies, answering
//! every mistake with Camunda's error body.
//!
//! The same runtime commands and the same policy as `/api/v1` serve it; only
//! the shapes differ: Camunda's paths, camelCase bodies, typed variables
//! ([`variables`]) and error bodies `{"type", "message"}` ([`error`]).
//! As in Camunda, unknown fields of a body are ignored; a field Camunda has
//! and this engine cannot honour is refused, naming it, rather than dropped.

mod auth;
mod decision;
mod deployment;
pub mod error;
mod history;
mod process_definition;
mod process_instance;
mod query;
mod request;
mod task;
pub mod variables;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::runtime::{
    Correlation, Delivery, ExternalTaskQuery, ExternalTaskView, LockedTask, TopicRequest,
};
use crate::web::AppState;
use auth::RestUser;
use error::RestError;
use variables::{decode_map, encode_map, format_date};

/// The Camunda version whose REST reference this surface follows.
pub const CAMUNDA_VERSION: &str = "7.22.0";

/// The default base path.
pub const DEFAULT_PATH: &str = "/engine-rest";

/// The most tasks one fetch may lock.
const MAX_TASKS: i64 = 100;

/// Checks a base path: `/` and at least one more segment, no trailing `/`,
/// and not a path of the site or of `/api/v1`.
pub fn valid_path(path: &str) -> Result<(), String> {
    let ok_chars = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c));
    if !path.starts_with('/') || path.len() < 2 || path.ends_with('/') || !ok_chars {
        return Err(format!(
            "{path:?} must start with '/', not end with '/', and use only letters, digits, '-', '_', '.' and '/'"
        ));
    }
    let first = path[1..].split('/').next().unwrap_or_default();
    let taken = [
        "api",
        "static",
        "login",
        "logout",
        "tasks",
        "definitions",
        "decisions",
        "instances",
        "users",
        "account",
        "model",
        "instance",
        "csp-report",
        "health",
        "ready",
        "metrics",
    ];
    if taken.contains(&first) {
        return Err(format!("{path:?} is taken by the site or its API"));
    }
    Ok(())
}

/// Registers the Camunda routes under `base`.
pub fn configure(base: &str) -> impl FnOnce(&mut web::ServiceConfig) + '_ {
    move |cfg| {
        cfg.service(
            web::scope(base)
                .wrap(actix_web::middleware::from_fn(request::camunda_errors))
                .route("/engine", web::get().to(engines))
                .route("/version", web::get().to(version))
                .configure(deployment::routes)
                .configure(task::routes)
                .configure(history::routes)
                .configure(decision::routes)
                .route("/external-task", web::get().to(list_external))
                .route("/external-task/count", web::get().to(count_external))
                .route(
                    "/external-task/fetchAndLock",
                    web::post().to(fetch_and_lock),
                )
                .route("/external-task/{id}/complete", web::post().to(complete))
                .route("/external-task/{id}/failure", web::post().to(failure))
                .route("/external-task/{id}/bpmnError", web::post().to(bpmn_error))
                .route(
                    "/external-task/{id}/extendLock",
                    web::post().to(extend_lock),
                )
                .route("/external-task/{id}/unlock", web::post().to(unlock))
                .route("/external-task/{id}/lock", web::post().to(lock))
                .configure(process_definition::routes)
                .configure(process_instance::routes)
                .route("/message", web::post().to(correlate))
                .route("/signal", web::post().to(signal))
                .default_service(web::to(no_such_endpoint)),
        );
    }
}

async fn no_such_endpoint() -> Result<HttpResponse, RestError> {
    Err(RestError::no_such_endpoint())
}

/// Reads a JSON body as Camunda does: not JSON is 400, and so is JSON of the
/// wrong shape (a field of the wrong type, a missing required field).
fn parse<T: DeserializeOwned>(bytes: &web::Bytes) -> Result<T, RestError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        &bytes[..]
    };
    serde_json::from_slice(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => RestError::invalid(format!("the body does not fit: {e}")),
            _ => RestError::invalid(format!("the body is not valid JSON: {e}")),
        }
    })
}

/// Refuses a field Camunda has and this engine cannot honour.
fn refuse_set<T>(value: &Option<T>, field: &str, why: &str) -> Result<(), RestError> {
    match value {
        Some(_) => Err(RestError::invalid(format!(
            "the field {field} is not supported here: {why}"
        ))),
        None => Ok(()),
    }
}

fn task_id(raw: &str) -> Result<Uuid, RestError> {
    Uuid::parse_str(raw).map_err(|_| {
        RestError::new(
            StatusCode::NOT_FOUND,
            "RestException",
            format!("External task with id {raw} does not exist"),
        )
    })
}

fn worker(id: &Option<String>) -> Result<&str, RestError> {
    match id.as_deref() {
        Some(w) if !w.trim().is_empty() && w.len() <= 200 => Ok(w),
        _ => Err(RestError::invalid(
            "workerId is required (1 to 200 characters)",
        )),
    }
}

async fn engines(_: RestUser) -> HttpResponse {
    HttpResponse::Ok().json(json!([{"name": "default"}]))
}

async fn version(_: RestUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": CAMUNDA_VERSION}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FetchDto {
    worker_id: Option<String>,
    max_tasks: Option<i64>,
    #[allow(dead_code)]
    use_priority: Option<bool>,
    async_response_timeout: Option<i64>,
    #[serde(default)]
    topics: Vec<TopicDto>,
    sorting: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicDto {
    topic_name: Option<String>,
    lock_duration: Option<i64>,
    variables: Option<Vec<String>>,
    #[serde(default)]
    local_variables: bool,
    business_key: Option<String>,
    process_definition_key: Option<String>,
    /// Values here are JSON, always written serialized: nothing to do.
    #[allow(dead_code)]
    deserialize_values: Option<bool>,
    #[allow(dead_code)]
    include_extension_properties: Option<bool>,
    process_definition_id: Option<String>,
    process_definition_id_in: Option<Vec<String>>,
    process_definition_key_in: Option<Vec<String>>,
    process_definition_version_tag: Option<String>,
    // `withoutTenantId` is not read: it admits every task, as none has a tenant.
    tenant_id_in: Option<Vec<String>>,
    process_variables: Option<Map<String, Value>>,
}

/// Camunda's LockedExternalTaskDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LockedDto {
    activity_id: String,
    activity_instance_id: String,
    error_message: Option<String>,
    error_details: Option<String>,
    execution_id: String,
    id: Uuid,
    lock_expiration_time: String,
    process_definition_id: String,
    process_definition_key: String,
    process_definition_version_tag: Option<String>,
    process_instance_id: Uuid,
    retries: Option<i32>,
    suspended: bool,
    worker_id: String,
    topic_name: String,
    tenant_id: Option<String>,
    variables: Map<String, Value>,
    priority: i64,
    business_key: Option<String>,
    extension_properties: Map<String, Value>,
}

/// A failure's message and details are kept as one text, split again here.
fn split_error(text: Option<&str>) -> (Option<String>, Option<String>) {
    match text {
        None => (None, None),
        Some(t) => match t.split_once("\n\n") {
            Some((m, d)) => (Some(m.to_string()), Some(d.to_string())),
            None => (Some(t.to_string()), None),
        },
    }
}

fn locked_dto(t: LockedTask, topic: &TopicDto) -> LockedDto {
    let vars = if topic.local_variables {
        &t.local_variables
    } else {
        &t.variables
    };
    let (error_message, error_details) = split_error(t.error_message.as_deref());
    LockedDto {
        activity_instance_id: format!("{}:{}", t.element_id, t.element_key),
        execution_id: format!("{}:{}", t.instance_id, t.element_key),
        activity_id: t.element_id,
        retries: error_message.as_ref().map(|_| t.retries),
        error_message,
        error_details,
        id: t.id,
        lock_expiration_time: format_date(t.lock_expires_at),
        process_definition_id: t.definition_id.to_string(),
        process_definition_key: t.definition_key,
        process_definition_version_tag: None,
        process_instance_id: t.instance_id,
        suspended: false,
        worker_id: t.worker_id,
        variables: encode_map(vars, topic.variables.as_deref()),
        topic_name: t.topic,
        tenant_id: None,
        priority: 0,
        business_key: t.business_key,
        extension_properties: Map::new(),
    }
}

async fn fetch_and_lock(
    state: web::Data<AppState>,
    user: RestUser,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let f: FetchDto = parse(&body)?;
    let worker_id = worker(&f.worker_id)?.to_string();
    refuse_set(&f.sorting, "sorting", "tasks come oldest first")?;
    let max = f.max_tasks.unwrap_or(0);
    if !(0..=MAX_TASKS).contains(&max) {
        return Err(RestError::invalid(format!(
            "maxTasks must be between 0 and {MAX_TASKS}"
        )));
    }
    if max == 0 || f.topics.is_empty() {
        return Ok(HttpResponse::Ok().json(Vec::<LockedDto>::new()));
    }
    let mut topics = Vec::new();
    for t in &f.topics {
        let name = t
            .topic_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| RestError::invalid("every topic needs a topicName"))?;
        let why = "this engine has no such filter";
        refuse_set(&t.process_definition_id, "processDefinitionId", why)?;
        refuse_set(&t.process_definition_id_in, "processDefinitionIdIn", why)?;
        refuse_set(&t.process_definition_key_in, "processDefinitionKeyIn", why)?;
        refuse_set(
            &t.process_definition_version_tag,
            "processDefinitionVersionTag",
            why,
        )?;
        refuse_set(&t.tenant_id_in, "tenantIdIn", "there are no tenants")?;
        if t.process_variables.as_ref().is_some_and(|m| !m.is_empty()) {
            refuse_set(&t.process_variables, "processVariables", why)?;
        }
        let lock = millis(t.lock_duration, &format!("topic {name}: lockDuration"))?;
        let mut request = TopicRequest::new(name, lock);
        request.business_key = t.business_key.clone();
        request.definition_key = t.process_definition_key.clone();
        topics.push(request);
    }
    let timeout = f.async_response_timeout.unwrap_or(0);
    if !(0..=1_800_000).contains(&timeout) {
        return Err(RestError::invalid(
            "asyncResponseTimeout must be between 0 and 1800000 milliseconds",
        ));
    }
    // Waits up to the runtime's longest wait; the worker simply asks again.
    let wait = Duration::from_millis(timeout as u64);
    let tasks = state
        .runtime
        .work()
        .fetch_and_lock(&user.principal(), &worker_id, max as usize, &topics, wait)
        .await?;
    let out: Vec<LockedDto> = tasks
        .into_iter()
        .map(|t| {
            let topic = f
                .topics
                .iter()
                .find(|d| {
                    d.topic_name.as_deref() == Some(t.topic.as_str())
                        && d.business_key
                            .as_deref()
                            .is_none_or(|k| Some(k) == t.business_key.as_deref())
                        && d.process_definition_key
                            .as_deref()
                            .is_none_or(|k| k == t.definition_key)
                })
                .unwrap_or(&f.topics[0]);
            locked_dto(t, topic)
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CompleteDto {
    worker_id: Option<String>,
    variables: Option<Map<String, Value>>,
    local_variables: Option<Map<String, Value>>,
}

async fn complete(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: CompleteDto = parse(&body)?;
    let task = task_id(&id)?;
    let worker_id = worker(&b.worker_id)?;
    if b.local_variables.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(RestError::invalid(
            "localVariables are not supported here: send them as variables",
        ));
    }
    let vars = decode_map(b.variables.as_ref())?;
    state
        .runtime
        .work()
        .complete(&user.principal(), task, worker_id, vars)
        .await
        .map_err(|e| RestError::external(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FailureDto {
    worker_id: Option<String>,
    error_message: Option<String>,
    error_details: Option<String>,
    retries: Option<i32>,
    retry_timeout: Option<i64>,
    variables: Option<Map<String, Value>>,
    local_variables: Option<Map<String, Value>>,
}

async fn failure(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: FailureDto = parse(&body)?;
    let task = task_id(&id)?;
    let worker_id = worker(&b.worker_id)?;
    let why = "a failure changes no variables here";
    if b.variables.as_ref().is_some_and(|m| !m.is_empty()) {
        refuse_set(&b.variables, "variables", why)?;
    }
    if b.local_variables.as_ref().is_some_and(|m| !m.is_empty()) {
        refuse_set(&b.local_variables, "localVariables", why)?;
    }
    let retries = b.retries.unwrap_or(0);
    if retries < 0 {
        return Err(RestError::invalid("retries cannot be negative"));
    }
    let timeout = b.retry_timeout.unwrap_or(0);
    if timeout < 0 {
        return Err(RestError::invalid("retryTimeout cannot be negative"));
    }
    let mut message = b.error_message.unwrap_or_default();
    if let Some(details) = b.error_details.filter(|d| !d.is_empty()) {
        message = format!("{message}\n\n{details}");
    }
    state
        .runtime
        .work()
        .fail(
            &user.principal(),
            task,
            worker_id,
            &message,
            retries,
            Duration::from_millis(timeout as u64),
        )
        .await
        .map_err(|e| RestError::external(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BpmnErrorDto {
    worker_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    variables: Option<Map<String, Value>>,
}

async fn bpmn_error(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: BpmnErrorDto = parse(&body)?;
    let task = task_id(&id)?;
    let worker_id = worker(&b.worker_id)?;
    let code = b
        .error_code
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| RestError::invalid("errorCode is required"))?;
    let variables = decode_map(b.variables.as_ref())?;
    state
        .runtime
        .work()
        .bpmn_error_with(
            &user.principal(),
            task,
            worker_id,
            code,
            b.error_message.as_deref().unwrap_or_default(),
            variables,
        )
        .await
        .map_err(|e| RestError::external(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExtendLockDto {
    worker_id: Option<String>,
    new_duration: Option<i64>,
}

async fn extend_lock(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: ExtendLockDto = parse(&body)?;
    let task = task_id(&id)?;
    let worker_id = worker(&b.worker_id)?;
    let by = millis(b.new_duration, "newDuration")?;
    state
        .runtime
        .work()
        .extend_lock(&user.principal(), task, worker_id, by)
        .await
        .map_err(|e| RestError::external(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LockDto {
    worker_id: Option<String>,
    lock_duration: Option<i64>,
}

async fn lock(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: LockDto = parse(&body)?;
    let task = task_id(&id)?;
    let worker_id = worker(&b.worker_id)?;
    let lock = millis(b.lock_duration, "lockDuration")?;
    state
        .runtime
        .work()
        .lock(&user.principal(), task, worker_id, lock)
        .await
        .map_err(|e| match e {
            crate::runtime::RuntimeError::Conflict(m) => RestError::invalid(m),
            other => RestError::external(other, &id),
        })?;
    Ok(HttpResponse::NoContent().finish())
}

async fn unlock(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let task = task_id(&id)?;
    state
        .runtime
        .work()
        .unlock(&user.principal(), task)
        .await
        .map_err(|e| RestError::external(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MessageDto {
    message_name: Option<String>,
    business_key: Option<String>,
    process_instance_id: Option<String>,
    correlation_keys: Option<Map<String, Value>>,
    local_correlation_keys: Option<Map<String, Value>>,
    process_variables: Option<Map<String, Value>>,
    process_variables_local: Option<Map<String, Value>>,
    tenant_id: Option<String>,
    #[serde(default)]
    without_tenant_id: bool,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    result_enabled: bool,
    #[serde(default)]
    variables_in_result_enabled: bool,
}

fn non_empty(m: &Option<Map<String, Value>>) -> bool {
    m.as_ref().is_some_and(|m| !m.is_empty())
}

async fn correlate(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    body: request::Json<MessageDto>,
) -> Result<HttpResponse, RestError> {
    let b = body.0;
    let name = b
        .message_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| RestError::invalid("messageName is required"))?;
    refuse_set(&b.tenant_id, "tenantId", "there are no tenants")?;
    let _ = b.without_tenant_id;
    if non_empty(&b.local_correlation_keys) {
        refuse_set(
            &b.local_correlation_keys,
            "localCorrelationKeys",
            "messages correlate on instance variables",
        )?;
    }
    if non_empty(&b.process_variables_local) {
        refuse_set(
            &b.process_variables_local,
            "processVariablesLocal",
            "send them as processVariables",
        )?;
    }
    if b.variables_in_result_enabled && !b.result_enabled {
        return Err(RestError::invalid(
            "variablesInResultEnabled needs resultEnabled: true (the variables come with the results)",
        ));
    }
    let variables = decode_map(b.process_variables.as_ref())?;
    let who = user.principal();
    let not_correlated = || {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "RestException",
            format!(
                "Cannot correlate message '{name}': No process definition or execution matches the parameters"
            ),
        )
    };
    let delivered: Vec<Delivery> = if let Some(instance) = &b.process_instance_id {
        if b.business_key.is_some() || non_empty(&b.correlation_keys) {
            return Err(RestError::invalid(
                "processInstanceId cannot be combined with businessKey or correlationKeys here",
            ));
        }
        let instance = Uuid::parse_str(instance).map_err(|_| not_correlated())?;
        match state
            .runtime
            .work()
            .message_to(&who, instance, name, variables)
            .await
        {
            Ok(Some(o)) => vec![Delivery {
                instance_id: o.instance_id,
                element_id: String::new(),
                started: None,
                variables: o.state.root_variables(),
                ended: matches!(o.status(), "completed" | "terminated"),
            }],
            Ok(None) | Err(crate::runtime::RuntimeError::NotFound(_)) => {
                return Err(not_correlated());
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        let keys = decode_map(b.correlation_keys.as_ref())?;
        let keys: Vec<(String, String)> = keys
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        match state
            .runtime
            .work()
            .message(
                &who,
                name,
                Correlation {
                    business_key: b.business_key.as_deref(),
                    variables: &keys,
                    key: None,
                },
                variables,
                b.all,
            )
            .await
        {
            Ok(d) => d,
            Err(crate::runtime::RuntimeError::NotFound(_)) => return Err(not_correlated()),
            Err(crate::runtime::RuntimeError::Conflict(m)) => {
                return Err(RestError::new(
                    StatusCode::BAD_REQUEST,
                    "RestException",
                    format!("Cannot correlate message '{name}': {m}"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    };
    if !b.result_enabled {
        return Ok(HttpResponse::NoContent().finish());
    }
    let base = process_instance::rest_base(&req);
    let results: Vec<Value> = delivered
        .into_iter()
        .map(|d| {
            let variables = b
                .variables_in_result_enabled
                .then(|| encode_map(&d.variables, None));
            let mut out = match d.started {
                // A message start event started it: Camunda's ProcessDefinition result.
                Some(definition) => {
                    let mut instance = process_instance::instance_dto(
                        &base,
                        d.instance_id,
                        definition,
                        b.business_key.clone(),
                    );
                    instance.ended = d.ended;
                    json!({"resultType": "ProcessDefinition", "execution": null, "processInstance": instance})
                }
                None => json!({
                    "resultType": "Execution",
                    "execution": {"id": d.instance_id, "processInstanceId": d.instance_id,
                                  "ended": d.ended, "tenantId": null},
                    "processInstance": null,
                }),
            };
            if let (Some(v), Some(o)) = (variables, out.as_object_mut()) {
                o.insert("variables".into(), Value::Object(v));
            }
            out
        })
        .collect();
    Ok(HttpResponse::Ok().json(results))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SignalDto {
    name: Option<String>,
    execution_id: Option<String>,
    variables: Option<Map<String, Value>>,
    tenant_id: Option<String>,
    #[serde(default)]
    without_tenant_id: bool,
}

async fn signal(
    state: web::Data<AppState>,
    user: RestUser,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: SignalDto = parse(&body)?;
    let name = b
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| RestError::invalid("name is required"))?;
    refuse_set(&b.execution_id, "executionId", "signals are broadcast")?;
    refuse_set(&b.tenant_id, "tenantId", "there are no tenants")?;
    let _ = b.without_tenant_id;
    let variables = decode_map(b.variables.as_ref())?;
    state
        .runtime
        .work()
        .signal(&user.principal(), name, variables)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The most external tasks one list returns.
const MAX_LIST: u64 = 1000;

/// Reads the query of `GET /external-task` (and `/count`): the filters this
/// engine has; any other parameter is refused, naming it.
fn external_query(params: &[(String, String)]) -> Result<ExternalTaskQuery, RestError> {
    let mut q = ExternalTaskQuery {
        max: MAX_LIST,
        ..Default::default()
    };
    let flag = |name: &str, v: &str| match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(RestError::invalid(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    };
    let number = |name: &str, v: &str| {
        v.parse::<u64>()
            .map_err(|_| RestError::invalid(format!("{name} must be a whole number, not {v:?}")))
    };
    for (k, v) in params {
        match k.as_str() {
            "topicName" => q.topic = Some(v.clone()),
            "workerId" => q.worker = Some(v.clone()),
            "processInstanceId" => {
                q.instance = Some(Uuid::parse_str(v).unwrap_or(Uuid::nil()));
            }
            "locked" => {
                if flag(k, v)? {
                    q.locked = Some(true);
                }
            }
            "notLocked" => {
                if flag(k, v)? {
                    q.locked = Some(false);
                }
            }
            "firstResult" => q.first = number(k, v)?,
            "maxResults" => {
                q.max = number(k, v)?;
                if q.max > MAX_LIST {
                    return Err(RestError::invalid(format!(
                        "maxResults may be at most {MAX_LIST} here"
                    )));
                }
            }
            other => {
                return Err(RestError::invalid(format!(
                    "the query parameter {other} is not supported here (topicName, workerId, processInstanceId, locked, notLocked, firstResult and maxResults are)"
                )));
            }
        }
    }
    Ok(q)
}

/// Camunda's ExternalTaskDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalTaskDto {
    activity_id: String,
    activity_instance_id: String,
    error_message: Option<String>,
    execution_id: String,
    id: Uuid,
    lock_expiration_time: Option<String>,
    process_definition_id: String,
    process_definition_key: String,
    process_definition_version_tag: Option<String>,
    process_instance_id: Uuid,
    retries: Option<i32>,
    suspended: bool,
    worker_id: Option<String>,
    topic_name: String,
    tenant_id: Option<String>,
    priority: i64,
    business_key: Option<String>,
}

fn external_dto(t: ExternalTaskView) -> ExternalTaskDto {
    let (error_message, _) = split_error(t.error_message.as_deref());
    ExternalTaskDto {
        activity_instance_id: format!("{}:{}", t.element_id, t.element_key),
        execution_id: format!("{}:{}", t.instance_id, t.element_key),
        activity_id: t.element_id,
        retries: error_message.as_ref().map(|_| t.retries),
        error_message,
        id: t.id,
        lock_expiration_time: t.lock_expires_at.map(format_date),
        process_definition_id: t.definition_id.to_string(),
        process_definition_key: t.definition_key,
        process_definition_version_tag: None,
        process_instance_id: t.instance_id,
        suspended: t.suspended,
        worker_id: t.worker_id,
        topic_name: t.topic,
        tenant_id: None,
        priority: 0,
        business_key: t.business_key,
    }
}

async fn list_external(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let q = external_query(&params)?;
    let (tasks, _) = state
        .runtime
        .work()
        .external_tasks(&user.principal(), &q)
        .await?;
    let out: Vec<ExternalTaskDto> = tasks.into_iter().map(external_dto).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn count_external(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let mut q = external_query(&params)?;
    q.first = 0;
    q.max = 0;
    let (_, total) = state
        .runtime
        .work()
        .external_tasks(&user.principal(), &q)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"count": total})))
}

/// A duration given in milliseconds, which must be positive; `field` names it
/// in the refusal.
fn millis(ms: Option<i64>, field: &str) -> Result<Duration, RestError> {
    match ms {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(RestError::invalid(format!(
            "{field} must be a positive number of milliseconds"
        ))),
    }
}
