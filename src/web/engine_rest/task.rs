//! Camunda's `/task` routes: listing and counting user tasks (query string
//! or JSON body), one task, claiming, releasing, assigning and completing
//! it, its form variables (`camunda:formData`) and its variables.
//!
//! What a principal sees and may do is what the inbox and `/api/v1` allow:
//! a user sees the tasks they hold or are a candidate for (admins see all),
//! claims only a task they are a candidate for and completes only one they
//! hold or may still claim.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::RestUser;
use super::error::RestError;
use super::query::{self, Kind, Params};
use super::variables::{TypedValue, decode_map, encode, encode_map, format_date};
use super::{parse, refuse_set};
use crate::model::form::{FieldType, FormField};
use crate::runtime::{
    Principal, RuntimeError, TaskRecord, TaskScope, TaskSearch, TaskSort, Values,
};
use crate::web::AppState;

/// Registers the task routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/task", web::get().to(list_tasks))
        .route("/task", web::post().to(query_tasks))
        .route("/task/count", web::get().to(count_tasks))
        .route("/task/count", web::post().to(query_task_count))
        .route("/task/{id}", web::get().to(show_task))
        .route("/task/{id}/claim", web::post().to(claim_task))
        .route("/task/{id}/unclaim", web::post().to(unclaim_task))
        .route("/task/{id}/assignee", web::post().to(assign_task))
        .route("/task/{id}/complete", web::post().to(complete_task))
        .route("/task/{id}/submit-form", web::post().to(submit_task_form))
        .route(
            "/task/{id}/form-variables",
            web::get().to(task_form_variables),
        )
        .route("/task/{id}/variables", web::get().to(task_variables))
        .route(
            "/task/{id}/variables",
            web::post().to(modify_task_variables),
        )
        .route("/task/{id}/variables/{name}", web::get().to(task_variable))
        .route(
            "/task/{id}/variables/{name}",
            web::put().to(put_task_variable),
        );
}

/// The filters of `GET /task` and `POST /task` this engine has.
const FILTERS: &[(&str, Kind)] = &[
    ("taskId", Kind::Text),
    ("taskIdIn", Kind::List),
    ("processInstanceId", Kind::Text),
    ("processInstanceIdIn", Kind::List),
    ("processInstanceBusinessKey", Kind::Text),
    ("processInstanceBusinessKeyLike", Kind::Text),
    ("processDefinitionId", Kind::Text),
    ("processDefinitionKey", Kind::Text),
    ("processDefinitionKeyIn", Kind::List),
    ("assignee", Kind::Text),
    ("assigneeLike", Kind::Text),
    ("assigned", Kind::Flag),
    ("unassigned", Kind::Flag),
    ("candidateUser", Kind::Text),
    ("candidateGroup", Kind::Text),
    ("candidateGroups", Kind::List),
    ("withCandidateGroups", Kind::Flag),
    ("withoutCandidateGroups", Kind::Flag),
    ("includeAssignedTasks", Kind::Flag),
    ("taskDefinitionKey", Kind::Text),
    ("taskDefinitionKeyIn", Kind::List),
    ("name", Kind::Text),
    ("nameLike", Kind::Text),
    ("active", Kind::Flag),
    ("suspended", Kind::Flag),
    ("createdBefore", Kind::Date),
    ("createdAfter", Kind::Date),
    ("dueBefore", Kind::Date),
    ("dueAfter", Kind::Date),
    ("withoutDueDate", Kind::Flag),
];

/// Camunda's TaskDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDto {
    id: Uuid,
    name: Option<String>,
    assignee: Option<String>,
    owner: Option<String>,
    created: String,
    last_updated: Option<String>,
    due: Option<String>,
    follow_up: Option<String>,
    delegation_state: Option<String>,
    description: Option<String>,
    execution_id: String,
    parent_task_id: Option<String>,
    priority: i64,
    process_definition_id: String,
    process_instance_id: Uuid,
    case_execution_id: Option<String>,
    case_definition_id: Option<String>,
    case_instance_id: Option<String>,
    task_definition_key: String,
    suspended: bool,
    form_key: Option<String>,
    camunda_form_ref: Option<Value>,
    tenant_id: Option<String>,
    task_state: &'static str,
}

/// Camunda's lifecycle word for a task.
fn task_state(t: &TaskRecord) -> &'static str {
    match t.state.as_str() {
        "completed" => "Completed",
        "cancelled" => "Deleted",
        _ if t.assignee.is_some() => "Assigned",
        _ => "Created",
    }
}

pub fn task_dto(t: TaskRecord) -> TaskDto {
    TaskDto {
        task_state: task_state(&t),
        id: t.id,
        name: t.name,
        assignee: t.assignee,
        owner: None,
        created: format_date(t.created),
        last_updated: None,
        due: t.due.map(format_date),
        follow_up: t.follow_up.map(format_date),
        delegation_state: None,
        description: t.description,
        execution_id: format!("{}:{}", t.instance_id, t.element_key),
        parent_task_id: None,
        priority: t.priority,
        process_definition_id: t.definition_id.to_string(),
        process_instance_id: t.instance_id,
        case_execution_id: None,
        case_definition_id: None,
        case_instance_id: None,
        suspended: t.suspended,
        task_definition_key: t.element_id,
        form_key: t.form_key,
        camunda_form_ref: None,
        tenant_id: None,
    }
}

fn sort_key(by: &str) -> Result<TaskSort, RestError> {
    Ok(match by {
        "created" => TaskSort::Created,
        "dueDate" => TaskSort::Due,
        "followUpDate" => TaskSort::FollowUp,
        "priority" => TaskSort::Priority,
        "name" => TaskSort::Name,
        "assignee" => TaskSort::Assignee,
        "id" => TaskSort::Id,
        "instanceId" => TaskSort::Instance,
        other => {
            return Err(RestError::invalid(format!(
                "sortBy {other} is not supported here (created, dueDate, followUpDate, priority, name, assignee, id and instanceId are)"
            )));
        }
    })
}

/// Builds the runtime's search from Camunda's parameters.
fn search(p: &Params) -> Result<TaskSearch, RestError> {
    let mut q = TaskSearch {
        scope: TaskScope::Inbox,
        states: Some(vec!["open".into()]),
        offset: p.first,
        limit: p.limit(),
        ..Default::default()
    };
    let mut ids = p.uuids("taskIdIn")?;
    if let Some(one) = p.uuids("taskId")? {
        ids = Some(ids.map_or(one.clone(), |all| {
            all.into_iter().filter(|i| one.contains(i)).collect()
        }));
    }
    q.ids = ids;
    let mut instances = p.uuids("processInstanceIdIn")?;
    if let Some(one) = p.uuids("processInstanceId")? {
        instances = Some(instances.map_or(one.clone(), |all| {
            all.into_iter().filter(|i| one.contains(i)).collect()
        }));
    }
    q.instances = instances;
    q.business_key = p.text("processInstanceBusinessKey");
    q.business_key_like = p.text("processInstanceBusinessKeyLike");
    q.definition_id = query::definition_id("processDefinitionId", p.text("processDefinitionId"))?;
    let mut keys = p.list("processDefinitionKeyIn");
    if let Some(k) = p.text("processDefinitionKey") {
        keys = Some(keys.map_or(vec![k.clone()], |all| {
            all.into_iter().filter(|x| *x == k).collect()
        }));
    }
    q.definition_keys = keys;
    q.assignee = p.text("assignee");
    q.assignee_like = p.text("assigneeLike");
    if p.on("assigned") && p.on("unassigned") {
        return Err(RestError::invalid(
            "assigned and unassigned cannot both be true",
        ));
    }
    if p.on("assigned") {
        q.assigned = Some(true);
    }
    if p.on("unassigned") {
        q.assigned = Some(false);
    }
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut by_candidate = false;
    if let Some(u) = p.text("candidateUser") {
        by_candidate = true;
        candidates.push(("user".into(), u));
    }
    if let Some(g) = p.text("candidateGroup") {
        by_candidate = true;
        candidates.push(("group".into(), g));
    }
    if let Some(gs) = p.list("candidateGroups") {
        by_candidate = true;
        candidates.extend(gs.into_iter().map(|g| ("group".to_string(), g)));
    }
    if by_candidate {
        q.candidates = Some(candidates);
        q.include_assigned = p.on("includeAssignedTasks");
    } else if p.on("includeAssignedTasks") {
        return Err(RestError::invalid(
            "includeAssignedTasks needs candidateUser, candidateGroup or candidateGroups",
        ));
    }
    if p.on("withCandidateGroups") && p.on("withoutCandidateGroups") {
        return Err(RestError::invalid(
            "withCandidateGroups and withoutCandidateGroups cannot both be true",
        ));
    }
    if p.on("withCandidateGroups") {
        q.with_candidate_groups = Some(true);
    }
    if p.on("withoutCandidateGroups") {
        q.with_candidate_groups = Some(false);
    }
    let mut elements = p.list("taskDefinitionKeyIn");
    if let Some(k) = p.text("taskDefinitionKey") {
        elements = Some(elements.map_or(vec![k.clone()], |all| {
            all.into_iter().filter(|x| *x == k).collect()
        }));
    }
    q.elements = elements;
    q.name = p.text("name");
    q.name_like = p.text("nameLike");
    // `active=true` and `suspended=true` each narrow the list (both: none);
    // `false` is no filter, as in Camunda.
    match (p.on("active"), p.on("suspended")) {
        (true, true) => q.states = Some(Vec::new()),
        (true, false) => q.suspended = Some(false),
        (false, true) => q.suspended = Some(true),
        (false, false) => {}
    }
    q.created_before = p.date("createdBefore");
    q.created_after = p.date("createdAfter");
    q.due_before = p.date("dueBefore");
    q.due_after = p.date("dueAfter");
    if p.on("withoutDueDate") {
        q.with_due = Some(false);
    }
    for (by, asc) in &p.sorting {
        q.sort.push((sort_key(by)?, *asc));
    }
    Ok(q)
}

fn body_map(body: &web::Bytes) -> Result<Map<String, Value>, RestError> {
    parse::<Map<String, Value>>(body)
}

/// Camunda's `candidateUser` also matches the user's groups: the caller's
/// own, or (for an admin) the named account's.
async fn candidate_groups(
    state: &AppState,
    who: &Principal,
    p: &Params,
    q: &mut TaskSearch,
) -> Result<(), RestError> {
    let Some(name) = p.text("candidateUser") else {
        return Ok(());
    };
    let groups = if name == who.name {
        who.groups.clone()
    } else if who.is_admin() {
        state
            .runtime
            .accounts()
            .user_named(who, &name)
            .await?
            .map(|u| u.groups)
            .unwrap_or_default()
    } else {
        return Err(RestError::invalid(format!(
            "candidateUser {name:?}: only your own account here (another's groups are not yours to read)"
        )));
    };
    if let Some(c) = q.candidates.as_mut() {
        c.extend(groups.into_iter().map(|g| ("group".to_string(), g)));
    }
    Ok(())
}

async fn run_list(state: &AppState, user: &RestUser, p: Params) -> Result<HttpResponse, RestError> {
    let mut q = search(&p)?;
    candidate_groups(state, &user.principal(), &p, &mut q).await?;
    let (tasks, _) = state.runtime.tasks().search(&user.principal(), &q).await?;
    p.check_whole(tasks.len())?;
    let out: Vec<TaskDto> = tasks.into_iter().map(task_dto).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn run_count(
    state: &AppState,
    user: &RestUser,
    p: Params,
) -> Result<HttpResponse, RestError> {
    let mut q = search(&p)?;
    candidate_groups(state, &user.principal(), &p, &mut q).await?;
    q.offset = 0;
    q.limit = 0;
    let (_, total) = state.runtime.tasks().search(&user.principal(), &q).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": total })))
}

async fn list_tasks(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, true)?;
    run_list(&state, &user, p).await
}

async fn query_tasks(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, false)?;
    let p = query::with_body(p, &body_map(&body)?, FILTERS)?;
    run_list(&state, &user, p).await
}

async fn count_tasks(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, true)?;
    run_count(&state, &user, p).await
}

async fn query_task_count(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, false)?;
    let p = query::with_body(p, &body_map(&body)?, FILTERS)?;
    run_count(&state, &user, p).await
}

/// A task id; anything else names no task (Camunda's 404).
fn task_id(raw: &str) -> Result<Uuid, RestError> {
    Uuid::parse_str(raw).map_err(|_| no_task(raw))
}

fn no_task(raw: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "InvalidRequestException",
        format!("No matching task with id {raw}"),
    )
}

/// Camunda's answers for a task command's refusals.
fn task_error(e: RuntimeError, id: &str, doing: &str) -> RestError {
    match e {
        RuntimeError::NotFound(_) => no_task(id),
        RuntimeError::Conflict(m) if m.starts_with("the task is already claimed") => {
            RestError::new(
                StatusCode::CONFLICT,
                "TaskAlreadyClaimedException",
                format!("Task '{id}' is already claimed by someone else."),
            )
        }
        RuntimeError::Conflict(m) | RuntimeError::NotWaiting(m) => RestError::new(
            StatusCode::CONFLICT,
            "RestException",
            format!("Cannot {doing} task {id}: {m}"),
        ),
        RuntimeError::InvalidVariables(fields) => RestError::invalid(format!(
            "Cannot {doing} task {id}: {}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        )),
        other => other.into(),
    }
}

async fn show_task(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let task = task_id(&id)?;
    let t = state
        .runtime
        .tasks()
        .record(&user.principal(), task)
        .await
        .map_err(|e| task_error(e, &id, "read"))?;
    // Camunda's runtime tasks are the open ones; done ones are history.
    if t.state != "open" {
        return Err(no_task(&id));
    }
    Ok(HttpResponse::Ok().json(task_dto(t)))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UserIdDto {
    user_id: Option<String>,
}

async fn claim_task(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: UserIdDto = parse(&body)?;
    let task = task_id(&id)?;
    let who = user.principal();
    match b.user_id.as_deref() {
        Some(u) if u == who.name => {}
        Some(u) => {
            return Err(RestError::invalid(format!(
                "userId {u:?}: a task is claimed here only by the account that sends the request ({}); admins hand tasks to others with /task/{{id}}/assignee",
                who.name
            )));
        }
        None => return Err(RestError::invalid("userId is required")),
    }
    match state.runtime.tasks().claim(&who, task).await {
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        // Claiming a task one already holds changes nothing, as in Camunda.
        Err(RuntimeError::Conflict(m)) if m == "you already hold this task" => {
            Ok(HttpResponse::NoContent().finish())
        }
        Err(e) => Err(task_error(e, &id, "claim")),
    }
}

async fn unclaim_task(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let task = task_id(&id)?;
    state
        .runtime
        .tasks()
        .unclaim(&user.principal(), task)
        .await
        .map_err(|e| task_error(e, &id, "unclaim"))?;
    Ok(HttpResponse::NoContent().finish())
}

async fn assign_task(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: UserIdDto = parse(&body)?;
    let task = task_id(&id)?;
    if b.user_id.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(RestError::invalid(
            "userId cannot be empty (null releases the task)",
        ));
    }
    state
        .runtime
        .tasks()
        .assign(&user.principal(), task, b.user_id)
        .await
        .map_err(|e| task_error(e, &id, "assign"))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CompleteDto {
    variables: Option<Map<String, Value>>,
    #[serde(default)]
    with_variables_in_return: bool,
}

async fn complete_with(
    state: &AppState,
    who: &Principal,
    raw: &str,
    b: CompleteDto,
    doing: &str,
) -> Result<HttpResponse, RestError> {
    let task = task_id(raw)?;
    let variables = decode_map(b.variables.as_ref())?;
    let done = state
        .runtime
        .tasks()
        .complete(who, task, Values::Json(variables))
        .await
        .map_err(|e| task_error(e, raw, doing))?;
    if b.with_variables_in_return {
        let vars = done.outcome.state.root_variables();
        return Ok(HttpResponse::Ok().json(encode_map(&vars, None)));
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn complete_task(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: CompleteDto = parse(&body)?;
    complete_with(&state, &user.principal(), &id, b, "complete").await
}

async fn submit_task_form(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: CompleteDto = parse(&body)?;
    complete_with(&state, &user.principal(), &id, b, "submit the form of").await
}

/// A form field's value as Camunda types it.
fn form_value(field: &FormField, value: &Value) -> Value {
    let typed = match (&field.ty, value) {
        (_, Value::Null) => TypedValue {
            value: Value::Null,
            kind: Some("Null".into()),
            value_info: Some(json!({})),
        },
        (FieldType::String | FieldType::Enum { .. }, Value::String(_)) => TypedValue {
            value: value.clone(),
            kind: Some("String".into()),
            value_info: Some(json!({})),
        },
        (FieldType::Long, Value::Number(n)) if n.is_i64() => TypedValue {
            value: value.clone(),
            kind: Some("Long".into()),
            value_info: Some(json!({})),
        },
        (FieldType::Date, Value::String(s)) => {
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| format_date(t.and_utc()));
            match date {
                Some(d) => TypedValue {
                    value: Value::String(d),
                    kind: Some("Date".into()),
                    value_info: Some(json!({})),
                },
                None => encode(value),
            }
        }
        _ => encode(value),
    };
    serde_json::to_value(typed).unwrap_or(Value::Null)
}

fn names(params: &[(String, String)], allowed: &[&str]) -> Result<Option<Vec<String>>, RestError> {
    let mut names = None;
    for (k, v) in params {
        match k.as_str() {
            "variableNames" => {
                names = Some(
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                )
            }
            "deserializeValues" => {
                // Values here are JSON: serialized and deserialized alike.
                if v != "true" && v != "false" {
                    return Err(RestError::invalid(format!(
                        "deserializeValues must be true or false, not {v:?}"
                    )));
                }
            }
            other if allowed.contains(&other) => {}
            other => {
                return Err(RestError::invalid(format!(
                    "the query parameter {other} is not supported here"
                )));
            }
        }
    }
    Ok(names)
}

async fn task_form_variables(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let wanted = names(&params, &[])?;
    let task = task_id(&id)?;
    let (form, vars) = state
        .runtime
        .tasks()
        .form(&user.principal(), task)
        .await
        .map_err(|e| task_error(e, &id, "read"))?;
    if form.is_empty() {
        // Without camunda:formData Camunda answers the task's variables.
        return Ok(HttpResponse::Ok().json(encode_map(&vars, wanted.as_deref())));
    }
    let mut out = Map::new();
    for f in &form {
        if wanted.as_ref().is_some_and(|w| !w.contains(&f.id)) {
            continue;
        }
        let value = vars
            .get(&f.id)
            .or(f.default.as_ref())
            .cloned()
            .unwrap_or(Value::Null);
        out.insert(f.id.clone(), form_value(f, &value));
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn task_variables(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let wanted = names(&params, &[])?;
    let task = task_id(&id)?;
    let vars = state
        .runtime
        .tasks()
        .variables(&user.principal(), task)
        .await
        .map_err(|e| task_error(e, &id, "read"))?;
    Ok(HttpResponse::Ok().json(encode_map(&vars, wanted.as_deref())))
}

async fn task_variable(
    state: web::Data<AppState>,
    user: RestUser,
    path: web::Path<(String, String)>,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let (id, name) = path.into_inner();
    names(&params, &[])?;
    let task = task_id(&id)?;
    let vars = state
        .runtime
        .tasks()
        .variables(&user.principal(), task)
        .await
        .map_err(|e| task_error(e, &id, "read"))?;
    match vars.get(&name) {
        Some(v) => Ok(HttpResponse::Ok().json(encode(v))),
        None => Err(RestError::new(
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
            format!("task variable with name {name} does not exist"),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ModifyDto {
    modifications: Option<Map<String, Value>>,
    deletions: Option<Vec<String>>,
}

/// Sets variables of the task's instance (as `PUT /api/v1/instances/{id}/variables`).
async fn set_variables(
    state: &AppState,
    who: &Principal,
    raw: &str,
    variables: Map<String, Value>,
) -> Result<(), RestError> {
    let task = task_id(raw)?;
    let record = state
        .runtime
        .tasks()
        .record(who, task)
        .await
        .map_err(|e| task_error(e, raw, "update the variables of"))?;
    state
        .runtime
        .instances()
        .set_variables(who, record.instance_id, variables)
        .await?;
    Ok(())
}

async fn modify_task_variables(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: ModifyDto = parse(&body)?;
    if b.deletions.as_ref().is_some_and(|d| !d.is_empty()) {
        refuse_set(
            &b.deletions,
            "deletions",
            "variables are not deleted here; set them to null",
        )?;
    }
    let variables = decode_map(b.modifications.as_ref())?;
    set_variables(&state, &user.principal(), &id, variables).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn put_task_variable(
    state: web::Data<AppState>,
    user: RestUser,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let (id, name) = path.into_inner();
    let raw: Value = parse(&body)?;
    let mut one = Map::new();
    one.insert(name, raw);
    let variables = decode_map(Some(&one))?;
    set_variables(&state, &user.principal(), &id, variables).await?;
    Ok(HttpResponse::NoContent().finish())
}
