//! Camunda's `/incident` and `/history/...` routes: open incidents, instances
//! as history (with Camunda's states), the activity instances and the
//! variables of an instance, and user tasks open or done — all from the stored history and
//! filtered as instances are: a user sees what belongs to instances they
//! started or worked on, an admin everything.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::RestUser;
use super::error::RestError;
use super::parse;
use super::query::{self, Kind, Params};
use super::variables::{encode, format_date};
use crate::runtime::{
    ActivityRecord, HistoricInstance, HistoricState, IncidentRecord, IncidentSearch, IncidentSort,
    InstanceSearch, InstanceSort, TaskRecord, TaskScope, TaskSearch, TaskSort,
};
use crate::web::AppState;

/// Registers the incident and history routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/incident", web::get().to(list_incidents))
        .route("/incident/count", web::get().to(count_incidents))
        .route(
            "/history/process-instance",
            web::get().to(list_historic_instances),
        )
        .route(
            "/history/process-instance",
            web::post().to(query_historic_instances),
        )
        .route(
            "/history/process-instance/count",
            web::get().to(count_historic_instances),
        )
        .route(
            "/history/process-instance/count",
            web::post().to(query_historic_instance_count),
        )
        .route(
            "/history/process-instance/{id}",
            web::get().to(show_historic_instance),
        )
        .route(
            "/history/activity-instance",
            web::get().to(list_historic_activities),
        )
        .route(
            "/history/activity-instance/count",
            web::get().to(count_historic_activities),
        )
        .route(
            "/history/variable-instance",
            web::get().to(list_historic_variables),
        )
        .route(
            "/history/variable-instance/count",
            web::get().to(count_historic_variables),
        )
        .route("/history/task", web::get().to(list_historic_tasks))
        .route("/history/task/count", web::get().to(count_historic_tasks));
}

// ---- incidents ----

const INCIDENT_FILTERS: &[(&str, Kind)] = &[
    ("incidentId", Kind::Text),
    ("incidentType", Kind::Text),
    ("incidentMessage", Kind::Text),
    ("incidentMessageLike", Kind::Text),
    ("processDefinitionId", Kind::Text),
    ("processDefinitionKeyIn", Kind::List),
    ("processInstanceId", Kind::Text),
    ("activityId", Kind::Text),
    ("failedActivityId", Kind::Text),
    ("incidentTimestampBefore", Kind::Date),
    ("incidentTimestampAfter", Kind::Date),
];

/// The incident types this engine raises.
const FAILED_JOB: &str = "failedJob";
const FAILED_EXTERNAL_TASK: &str = "failedExternalTask";

/// Camunda's IncidentDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IncidentDto {
    id: Uuid,
    process_definition_id: String,
    process_instance_id: Uuid,
    execution_id: String,
    incident_timestamp: String,
    incident_type: &'static str,
    activity_id: String,
    failed_activity_id: String,
    cause_incident_id: Uuid,
    root_cause_incident_id: Uuid,
    configuration: Option<String>,
    tenant_id: Option<String>,
    incident_message: String,
    job_definition_id: Option<String>,
    annotation: Option<String>,
}

fn incident_type(i: &IncidentRecord) -> &'static str {
    if i.external {
        FAILED_EXTERNAL_TASK
    } else {
        FAILED_JOB
    }
}

fn incident_dto(i: IncidentRecord) -> IncidentDto {
    IncidentDto {
        incident_type: incident_type(&i),
        id: i.id,
        process_definition_id: i.definition_id.to_string(),
        process_instance_id: i.instance_id,
        execution_id: format!("{}:{}", i.instance_id, i.element_key),
        incident_timestamp: format_date(i.created_at),
        failed_activity_id: i.element_id.clone(),
        activity_id: i.element_id,
        cause_incident_id: i.id,
        root_cause_incident_id: i.id,
        configuration: None,
        tenant_id: None,
        incident_message: i.message,
        job_definition_id: None,
        annotation: None,
    }
}

fn one_uuid(p: &Params, name: &str) -> Result<Option<Uuid>, RestError> {
    Ok(p.uuids(name)?.and_then(|v| v.into_iter().next()))
}

/// The incidents a query selects, and how many there are in all.
async fn incidents(
    state: &AppState,
    user: &RestUser,
    p: &Params,
    count_only: bool,
) -> Result<(Vec<IncidentRecord>, u64), RestError> {
    let kind = p.text("incidentType");
    if let Some(k) = &kind
        && k != FAILED_JOB
        && k != FAILED_EXTERNAL_TASK
    {
        return Err(RestError::invalid(format!(
            "incidentType {k:?}: this engine raises only {FAILED_JOB} and {FAILED_EXTERNAL_TASK}"
        )));
    }
    let element = match (p.text("activityId"), p.text("failedActivityId")) {
        (Some(a), Some(f)) if a != f => {
            return Err(RestError::invalid(
                "activityId and failedActivityId are the same element here: they cannot differ",
            ));
        }
        (a, f) => a.or(f),
    };
    let mut q = IncidentSearch {
        id: one_uuid(p, "incidentId")?,
        instance: one_uuid(p, "processInstanceId")?,
        definition_id: query::definition_id("processDefinitionId", p.text("processDefinitionId"))?,
        definition_keys: p.list("processDefinitionKeyIn"),
        element,
        message: p.text("incidentMessage"),
        message_like: p.text("incidentMessageLike"),
        before: p.date("incidentTimestampBefore"),
        after: p.date("incidentTimestampAfter"),
        open: Some(true),
        offset: p.first,
        limit: if count_only { 0 } else { p.limit() },
        ..Default::default()
    };
    for (by, asc) in &p.sorting {
        let column = match by.as_str() {
            "incidentId" => IncidentSort::Id,
            "incidentMessage" => IncidentSort::Message,
            "incidentTimestamp" => IncidentSort::Created,
            "processInstanceId" => IncidentSort::Instance,
            "activityId" => IncidentSort::Element,
            other => {
                return Err(RestError::invalid(format!(
                    "sortBy {other} is not supported here (incidentId, incidentMessage, incidentTimestamp, processInstanceId and activityId are)"
                )));
            }
        };
        q.sort.push((column, *asc));
    }
    let who = user.principal();
    let Some(kind) = kind else {
        return Ok(state.runtime.instances().incidents(&who, &q).await?);
    };
    // The type comes from the model, not from a column: filter every
    // incident the other filters select, then page.
    let (first, limit) = (q.offset, q.limit);
    q.offset = 0;
    q.limit = query::MAX_RESULTS + 1;
    let (all, _) = state.runtime.instances().incidents(&who, &q).await?;
    if all.len() as u64 > query::MAX_RESULTS {
        return Err(RestError::invalid(format!(
            "more than {} incidents to sort by type: narrow the query (processInstanceId, processDefinitionId...)",
            query::MAX_RESULTS
        )));
    }
    let matching: Vec<IncidentRecord> = all
        .into_iter()
        .filter(|i| incident_type(i) == kind)
        .collect();
    let total = matching.len() as u64;
    let page = matching
        .into_iter()
        .skip(first as usize)
        .take(limit as usize)
        .collect();
    Ok((page, total))
}

async fn list_incidents(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INCIDENT_FILTERS, true)?;
    let (rows, _) = incidents(&state, &user, &p, false).await?;
    p.check_whole(rows.len())?;
    let out: Vec<IncidentDto> = rows.into_iter().map(incident_dto).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn count_incidents(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INCIDENT_FILTERS, true)?;
    let (_, total) = incidents(&state, &user, &p, true).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": total })))
}

// ---- historic process instances ----

const INSTANCE_FILTERS: &[(&str, Kind)] = &[
    ("processInstanceId", Kind::Text),
    ("processInstanceIds", Kind::List),
    ("processDefinitionId", Kind::Text),
    ("processDefinitionKey", Kind::Text),
    ("processDefinitionKeyIn", Kind::List),
    ("processInstanceBusinessKey", Kind::Text),
    ("processInstanceBusinessKeyLike", Kind::Text),
    ("finished", Kind::Flag),
    ("unfinished", Kind::Flag),
    ("withIncidents", Kind::Flag),
    ("completed", Kind::Flag),
    ("externallyTerminated", Kind::Flag),
    ("active", Kind::Flag),
    ("suspended", Kind::Flag),
    ("startedBefore", Kind::Date),
    ("startedAfter", Kind::Date),
    ("finishedBefore", Kind::Date),
    ("finishedAfter", Kind::Date),
    ("startedBy", Kind::Text),
    ("superProcessInstanceId", Kind::Text),
];

/// Camunda's HistoricProcessInstanceDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoricInstanceDto {
    id: Uuid,
    business_key: Option<String>,
    process_definition_id: String,
    process_definition_key: String,
    process_definition_name: Option<String>,
    process_definition_version: i32,
    start_time: String,
    end_time: Option<String>,
    removal_time: Option<String>,
    duration_in_millis: Option<i64>,
    start_user_id: Option<String>,
    start_activity_id: Option<String>,
    delete_reason: Option<String>,
    root_process_instance_id: Uuid,
    super_process_instance_id: Option<Uuid>,
    super_case_instance_id: Option<String>,
    case_instance_id: Option<String>,
    tenant_id: Option<String>,
    state: &'static str,
    restarted_process_instance_id: Option<String>,
}

fn state_name(s: HistoricState, suspended: bool) -> &'static str {
    match s {
        HistoricState::Active if suspended => "SUSPENDED",
        HistoricState::Active => "ACTIVE",
        HistoricState::Completed => "COMPLETED",
        HistoricState::ExternallyTerminated => "EXTERNALLY_TERMINATED",
        HistoricState::InternallyTerminated => "INTERNALLY_TERMINATED",
    }
}

fn historic_dto(h: HistoricInstance) -> HistoricInstanceDto {
    let i = h.instance;
    HistoricInstanceDto {
        id: i.id,
        business_key: i.business_key,
        process_definition_id: i.definition_id.to_string(),
        process_definition_key: i.definition_key,
        process_definition_name: h.definition_name,
        process_definition_version: h.definition_version,
        start_time: format_date(i.started_at),
        end_time: i.ended_at.map(format_date),
        removal_time: None,
        duration_in_millis: i.ended_at.map(|e| (e - i.started_at).num_milliseconds()),
        start_user_id: i.started_by,
        start_activity_id: None,
        delete_reason: match h.state {
            HistoricState::ExternallyTerminated | HistoricState::InternallyTerminated => h.reason,
            _ => None,
        },
        root_process_instance_id: i.id,
        super_process_instance_id: i.parent_id,
        super_case_instance_id: None,
        case_instance_id: None,
        tenant_id: None,
        state: state_name(h.state, i.suspended),
        restarted_process_instance_id: None,
    }
}

fn instance_search(p: &Params, count_only: bool) -> Result<InstanceSearch, RestError> {
    let mut ids = p.uuids("processInstanceIds")?;
    if let Some(one) = p.uuids("processInstanceId")? {
        ids = Some(ids.map_or(one.clone(), |all| {
            all.into_iter().filter(|i| one.contains(i)).collect()
        }));
    }
    let mut keys = p.list("processDefinitionKeyIn");
    if let Some(k) = p.text("processDefinitionKey") {
        keys = Some(keys.map_or(vec![k.clone()], |all| {
            all.into_iter().filter(|x| *x == k).collect()
        }));
    }
    let mut q = InstanceSearch {
        ids,
        definition_id: query::definition_id("processDefinitionId", p.text("processDefinitionId"))?,
        definition_keys: keys,
        business_key: p.text("processInstanceBusinessKey"),
        business_key_like: p.text("processInstanceBusinessKeyLike"),
        started_before: p.date("startedBefore"),
        started_after: p.date("startedAfter"),
        finished_before: p.date("finishedBefore"),
        finished_after: p.date("finishedAfter"),
        started_by: p.text("startedBy"),
        parent: one_uuid(p, "superProcessInstanceId")?,
        offset: p.first,
        limit: if count_only { 0 } else { p.limit() },
        ..Default::default()
    };
    if p.on("finished") && p.on("unfinished") {
        return Err(RestError::invalid(
            "finished and unfinished cannot both be true",
        ));
    }
    if p.on("finished") {
        q.finished = Some(true);
    }
    if p.on("unfinished") {
        q.finished = Some(false);
    }
    if p.on("withIncidents") {
        q.with_incidents = Some(true);
    }
    // Camunda's state flags: `active` is running and not suspended,
    // `suspended` running and suspended; the others select any of their states.
    let mut statuses = Vec::new();
    let others = p.on("completed") || p.on("externallyTerminated");
    match (p.on("active"), p.on("suspended")) {
        (_, true) if others => {
            return Err(RestError::invalid(
                "suspended cannot be combined with another state filter".to_string(),
            ));
        }
        (true, true) => statuses.push("active".to_string()),
        (true, false) => {
            statuses.push("active".to_string());
            if !others {
                q.suspended = Some(false);
            }
        }
        (false, true) => {
            statuses.push("active".to_string());
            q.suspended = Some(true);
        }
        (false, false) => {}
    }
    if p.on("completed") {
        statuses.push("completed".to_string());
    }
    if p.on("externallyTerminated") {
        statuses.push("terminated".to_string());
    }
    if !statuses.is_empty() {
        q.statuses = Some(statuses);
    }
    for (by, asc) in &p.sorting {
        let column = match by.as_str() {
            "instanceId" => InstanceSort::Id,
            "definitionId" => InstanceSort::DefinitionId,
            "definitionKey" => InstanceSort::DefinitionKey,
            "businessKey" => InstanceSort::BusinessKey,
            "startTime" => InstanceSort::Started,
            "endTime" => InstanceSort::Ended,
            other => {
                return Err(RestError::invalid(format!(
                    "sortBy {other} is not supported here (instanceId, definitionId, definitionKey, businessKey, startTime and endTime are)"
                )));
            }
        };
        q.sort.push((column, *asc));
    }
    Ok(q)
}

async fn historic_list(
    state: &AppState,
    user: &RestUser,
    p: Params,
) -> Result<HttpResponse, RestError> {
    let q = instance_search(&p, false)?;
    let (rows, _) = state
        .runtime
        .instances()
        .historic(&user.principal(), &q)
        .await?;
    p.check_whole(rows.len())?;
    let out: Vec<HistoricInstanceDto> = rows.into_iter().map(historic_dto).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn historic_count(
    state: &AppState,
    user: &RestUser,
    p: Params,
) -> Result<HttpResponse, RestError> {
    let q = instance_search(&p, true)?;
    let (_, total) = state
        .runtime
        .instances()
        .historic(&user.principal(), &q)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "count": total })))
}

fn body_map(body: &web::Bytes) -> Result<Map<String, Value>, RestError> {
    parse::<Map<String, Value>>(body)
}

async fn list_historic_instances(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INSTANCE_FILTERS, true)?;
    historic_list(&state, &user, p).await
}

async fn query_historic_instances(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INSTANCE_FILTERS, false)?;
    let p = query::with_body(p, &body_map(&body)?, INSTANCE_FILTERS)?;
    historic_list(&state, &user, p).await
}

async fn count_historic_instances(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INSTANCE_FILTERS, true)?;
    historic_count(&state, &user, p).await
}

async fn query_historic_instance_count(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, INSTANCE_FILTERS, false)?;
    let p = query::with_body(p, &body_map(&body)?, INSTANCE_FILTERS)?;
    historic_count(&state, &user, p).await
}

fn no_instance(id: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "InvalidRequestException",
        format!("Historic process instance with id {id} does not exist"),
    )
}

async fn show_historic_instance(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let instance = Uuid::parse_str(&id).map_err(|_| no_instance(&id))?;
    let h = state
        .runtime
        .instances()
        .historic_one(&user.principal(), instance)
        .await
        .map_err(|e| match e {
            crate::runtime::RuntimeError::NotFound(_) => no_instance(&id),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(historic_dto(h)))
}

// ---- historic activity instances ----

const ACTIVITY_FILTERS: &[(&str, Kind)] = &[
    ("processInstanceId", Kind::Text),
    ("activityId", Kind::Text),
    ("activityType", Kind::Text),
    ("activityInstanceId", Kind::Text),
    ("taskAssignee", Kind::Text),
    ("finished", Kind::Flag),
    ("unfinished", Kind::Flag),
    ("canceled", Kind::Flag),
    ("completeScope", Kind::Flag),
];

/// Camunda's HistoricActivityInstanceDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivityDto {
    id: String,
    parent_activity_instance_id: String,
    activity_id: String,
    activity_name: Option<String>,
    activity_type: String,
    process_definition_key: String,
    process_definition_id: String,
    process_instance_id: Uuid,
    execution_id: String,
    task_id: Option<Uuid>,
    called_process_instance_id: Option<Uuid>,
    called_case_instance_id: Option<String>,
    assignee: Option<String>,
    start_time: String,
    end_time: Option<String>,
    duration_in_millis: Option<i64>,
    canceled: bool,
    complete_scope: bool,
    tenant_id: Option<String>,
    removal_time: Option<String>,
    root_process_instance_id: Uuid,
}

async fn activities(
    state: &AppState,
    user: &RestUser,
    p: &Params,
) -> Result<Vec<ActivityDto>, RestError> {
    let Some(instance) = one_uuid(p, "processInstanceId")? else {
        return Err(RestError::invalid(
            "processInstanceId is required here: activity instances are read per instance",
        ));
    };
    let who = user.principal();
    let h = state
        .runtime
        .instances()
        .historic_one(&who, instance)
        .await
        .map_err(|e| match e {
            crate::runtime::RuntimeError::NotFound(_) => no_instance(&instance.to_string()),
            other => other.into(),
        })?;
    let records = state.runtime.instances().activities(&who, instance).await?;
    let id_of = |element: &str, key: i64| format!("{element}:{key}");
    let parents: std::collections::HashMap<i64, String> = records
        .iter()
        .map(|r| (r.key, id_of(&r.element_id, r.key)))
        .collect();
    let mut out: Vec<(ActivityRecord, ActivityDto)> = Vec::new();
    for r in records {
        let dto = ActivityDto {
            id: id_of(&r.element_id, r.key),
            parent_activity_instance_id: parents
                .get(&r.scope_key)
                .cloned()
                .unwrap_or_else(|| instance.to_string()),
            activity_id: r.element_id.clone(),
            activity_name: r.element_name.clone(),
            activity_type: r.activity_type.clone(),
            process_definition_key: h.instance.definition_key.clone(),
            process_definition_id: h.instance.definition_id.to_string(),
            process_instance_id: instance,
            execution_id: format!("{instance}:{}", r.key),
            task_id: r.task_id,
            called_process_instance_id: r.called_instance,
            called_case_instance_id: None,
            assignee: r.assignee.clone(),
            start_time: format_date(r.started),
            end_time: r.ended.map(format_date),
            duration_in_millis: r.ended.map(|e| (e - r.started).num_milliseconds()),
            canceled: r.canceled,
            complete_scope: r.ended.is_some()
                && !r.canceled
                && r.activity_type.ends_with("EndEvent"),
            tenant_id: None,
            removal_time: None,
            root_process_instance_id: instance,
        };
        out.push((r, dto));
    }
    out.retain(|(r, d)| {
        p.text("activityId").is_none_or(|a| a == r.element_id)
            && p.text("activityType").is_none_or(|t| t == r.activity_type)
            && p.text("activityInstanceId").is_none_or(|i| i == d.id)
            && p.text("taskAssignee")
                .is_none_or(|a| r.assignee.as_deref() == Some(a.as_str()))
            && (!p.on("finished") || r.ended.is_some())
            && (!p.on("unfinished") || r.ended.is_none())
            && (!p.on("canceled") || r.canceled)
            && (!p.on("completeScope") || d.complete_scope)
    });
    for (by, asc) in p.sorting.iter().rev() {
        let by = by.as_str();
        let known = [
            "activityInstanceId",
            "instanceId",
            "executionId",
            "activityId",
            "activityName",
            "activityType",
            "startTime",
            "endTime",
            "duration",
            "occurrence",
        ];
        if !known.contains(&by) {
            return Err(RestError::invalid(format!(
                "sortBy {by} is not supported here ({} are)",
                known.join(", ")
            )));
        }
        out.sort_by(|(ra, a), (rb, b)| {
            let o = match by {
                "activityInstanceId" => a.id.cmp(&b.id),
                "executionId" => ra.key.cmp(&rb.key),
                "activityId" => a.activity_id.cmp(&b.activity_id),
                "activityName" => a.activity_name.cmp(&b.activity_name),
                "activityType" => a.activity_type.cmp(&b.activity_type),
                "endTime" => ra.ended.cmp(&rb.ended),
                "duration" => a.duration_in_millis.cmp(&b.duration_in_millis),
                "instanceId" => std::cmp::Ordering::Equal,
                _ => ra.started.cmp(&rb.started).then(ra.key.cmp(&rb.key)),
            };
            if *asc { o } else { o.reverse() }
        });
    }
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

async fn list_historic_activities(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, ACTIVITY_FILTERS, true)?;
    let all = activities(&state, &user, &p).await?;
    let page: Vec<ActivityDto> = all
        .into_iter()
        .skip(p.first as usize)
        .take(p.limit() as usize)
        .collect();
    p.check_whole(page.len())?;
    Ok(HttpResponse::Ok().json(page))
}

async fn count_historic_activities(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, ACTIVITY_FILTERS, true)?;
    let all = activities(&state, &user, &p).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": all.len() })))
}

// ---- historic tasks ----

const TASK_FILTERS: &[(&str, Kind)] = &[
    ("taskId", Kind::Text),
    ("processInstanceId", Kind::Text),
    ("processInstanceIdIn", Kind::List),
    ("processInstanceBusinessKey", Kind::Text),
    ("processDefinitionId", Kind::Text),
    ("processDefinitionKey", Kind::Text),
    ("taskName", Kind::Text),
    ("taskNameLike", Kind::Text),
    ("taskAssignee", Kind::Text),
    ("taskAssigneeLike", Kind::Text),
    ("taskDefinitionKey", Kind::Text),
    ("taskDefinitionKeyIn", Kind::List),
    ("assigned", Kind::Flag),
    ("unassigned", Kind::Flag),
    ("finished", Kind::Flag),
    ("unfinished", Kind::Flag),
    ("taskDueDateBefore", Kind::Date),
    ("taskDueDateAfter", Kind::Date),
    ("withoutTaskDueDate", Kind::Flag),
    ("startedBefore", Kind::Date),
    ("startedAfter", Kind::Date),
];

/// Camunda's HistoricTaskInstanceDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoricTaskDto {
    id: Uuid,
    process_definition_key: String,
    process_definition_id: String,
    process_instance_id: Uuid,
    execution_id: String,
    case_definition_key: Option<String>,
    case_definition_id: Option<String>,
    case_instance_id: Option<String>,
    case_execution_id: Option<String>,
    activity_instance_id: String,
    name: Option<String>,
    description: Option<String>,
    delete_reason: Option<String>,
    owner: Option<String>,
    assignee: Option<String>,
    start_time: String,
    end_time: Option<String>,
    duration: Option<i64>,
    task_definition_key: String,
    priority: i64,
    due: Option<String>,
    parent_task_id: Option<String>,
    follow_up: Option<String>,
    tenant_id: Option<String>,
    removal_time: Option<String>,
    root_process_instance_id: Uuid,
    task_state: &'static str,
}

fn historic_task_dto(t: TaskRecord) -> HistoricTaskDto {
    let (delete_reason, task_state) = match t.state.as_str() {
        "completed" => (Some("completed".to_string()), "Completed"),
        "cancelled" => (Some("deleted".to_string()), "Deleted"),
        _ if t.assignee.is_some() => (None, "Assigned"),
        _ => (None, "Created"),
    };
    HistoricTaskDto {
        id: t.id,
        process_definition_key: t.definition_key,
        process_definition_id: t.definition_id.to_string(),
        process_instance_id: t.instance_id,
        execution_id: format!("{}:{}", t.instance_id, t.element_key),
        case_definition_key: None,
        case_definition_id: None,
        case_instance_id: None,
        case_execution_id: None,
        activity_instance_id: format!("{}:{}", t.element_id, t.element_key),
        name: t.name,
        description: t.description,
        delete_reason,
        owner: None,
        // A completed task's assignee is who completed it.
        assignee: t.assignee.or(t.completed_by),
        start_time: format_date(t.created),
        end_time: t.completed_at.map(format_date),
        duration: t.completed_at.map(|e| (e - t.created).num_milliseconds()),
        task_definition_key: t.element_id,
        priority: t.priority,
        due: t.due.map(format_date),
        parent_task_id: None,
        follow_up: t.follow_up.map(format_date),
        tenant_id: None,
        removal_time: None,
        root_process_instance_id: t.instance_id,
        task_state,
    }
}

fn task_search(p: &Params, count_only: bool) -> Result<TaskSearch, RestError> {
    let mut instances = p.uuids("processInstanceIdIn")?;
    if let Some(one) = p.uuids("processInstanceId")? {
        instances = Some(instances.map_or(one.clone(), |all| {
            all.into_iter().filter(|i| one.contains(i)).collect()
        }));
    }
    let mut elements = p.list("taskDefinitionKeyIn");
    if let Some(k) = p.text("taskDefinitionKey") {
        elements = Some(elements.map_or(vec![k.clone()], |all| {
            all.into_iter().filter(|x| *x == k).collect()
        }));
    }
    let mut q = TaskSearch {
        scope: TaskScope::History,
        ids: p.uuids("taskId")?,
        instances,
        business_key: p.text("processInstanceBusinessKey"),
        definition_id: query::definition_id("processDefinitionId", p.text("processDefinitionId"))?,
        definition_keys: p.text("processDefinitionKey").map(|k| vec![k]),
        name: p.text("taskName"),
        name_like: p.text("taskNameLike"),
        elements,
        due_before: p.date("taskDueDateBefore"),
        due_after: p.date("taskDueDateAfter"),
        created_before: p.date("startedBefore"),
        created_after: p.date("startedAfter"),
        offset: p.first,
        limit: if count_only { 0 } else { p.limit() },
        ..Default::default()
    };
    if p.on("withoutTaskDueDate") {
        q.with_due = Some(false);
    }
    if p.on("assigned") && p.on("unassigned") {
        return Err(RestError::invalid(
            "assigned and unassigned cannot both be true",
        ));
    }
    if p.on("finished") && p.on("unfinished") {
        return Err(RestError::invalid(
            "finished and unfinished cannot both be true",
        ));
    }
    if p.on("finished") {
        q.states = Some(vec!["completed".into(), "cancelled".into()]);
    }
    if p.on("unfinished") {
        q.states = Some(vec!["open".into()]);
    }
    // A task's assignee, as history tells it: who holds it, or who completed it.
    let assigned = p.on("assigned");
    let unassigned = p.on("unassigned");
    let who = p.text("taskAssignee");
    let like = p.text("taskAssigneeLike");
    if assigned || unassigned || who.is_some() || like.is_some() {
        if q.states
            .as_ref()
            .is_some_and(|s| s.iter().any(|s| s != "open"))
        {
            if let Some(a) = who {
                q.completed_by = Some(a);
            } else {
                return Err(RestError::invalid(
                    "with finished=true only taskAssignee selects by assignee here",
                ));
            }
        } else {
            q.states = Some(vec!["open".into()]);
            q.assignee = who;
            q.assignee_like = like;
            if assigned {
                q.assigned = Some(true);
            }
            if unassigned {
                q.assigned = Some(false);
            }
        }
    }
    for (by, asc) in &p.sorting {
        let column = match by.as_str() {
            "taskId" => TaskSort::Id,
            "activityInstanceId" | "taskDefinitionKey" => TaskSort::Element,
            "processInstanceId" => TaskSort::Instance,
            "taskName" => TaskSort::Name,
            "assignee" => TaskSort::Assignee,
            "startTime" => TaskSort::Created,
            "endTime" => TaskSort::Completed,
            "dueDate" => TaskSort::Due,
            "followUpDate" => TaskSort::FollowUp,
            "priority" => TaskSort::Priority,
            other => {
                return Err(RestError::invalid(format!(
                    "sortBy {other} is not supported here (taskId, activityInstanceId, taskDefinitionKey, processInstanceId, taskName, assignee, startTime, endTime, dueDate, followUpDate and priority are)"
                )));
            }
        };
        q.sort.push((column, *asc));
    }
    Ok(q)
}

async fn list_historic_tasks(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, TASK_FILTERS, true)?;
    let q = task_search(&p, false)?;
    let (rows, _) = state.runtime.tasks().search(&user.principal(), &q).await?;
    p.check_whole(rows.len())?;
    let out: Vec<HistoricTaskDto> = rows.into_iter().map(historic_task_dto).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn count_historic_tasks(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, TASK_FILTERS, true)?;
    let q = task_search(&p, true)?;
    let (_, total) = state.runtime.tasks().search(&user.principal(), &q).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": total })))
}

// ---- historic variable instances ----

const VARIABLE_FILTERS: &[(&str, Kind)] = &[
    ("processInstanceId", Kind::Text),
    ("variableName", Kind::Text),
    ("variableNameLike", Kind::Text),
    ("deserializeValues", Kind::Flag),
];

/// Camunda's HistoricVariableInstanceDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariableDto {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Value,
    value_info: Option<Value>,
    process_definition_key: String,
    process_definition_id: String,
    process_instance_id: Uuid,
    execution_id: Uuid,
    activity_instance_id: Uuid,
    case_definition_key: Option<String>,
    case_definition_id: Option<String>,
    case_instance_id: Option<String>,
    case_execution_id: Option<String>,
    task_id: Option<String>,
    tenant_id: Option<String>,
    error_message: Option<String>,
    state: &'static str,
    create_time: String,
    removal_time: Option<String>,
    root_process_instance_id: Uuid,
}

async fn variables(
    state: &AppState,
    user: &RestUser,
    p: &Params,
) -> Result<Vec<VariableDto>, RestError> {
    let Some(instance) = one_uuid(p, "processInstanceId")? else {
        return Err(RestError::invalid(
            "processInstanceId is required here: variables are read per instance",
        ));
    };
    let records = state
        .runtime
        .instances()
        .variable_history(&user.principal(), instance)
        .await
        .map_err(|e| match e {
            crate::runtime::RuntimeError::NotFound(_) => no_instance(&instance.to_string()),
            other => other.into(),
        })?;
    let mut out: Vec<VariableDto> = records
        .into_iter()
        .filter(|r| {
            p.text("variableName").is_none_or(|n| n == r.name)
                && p.text("variableNameLike")
                    .is_none_or(|l| query::like(&r.name, &l))
        })
        .map(|r| {
            let typed = encode(&r.value);
            VariableDto {
                id: format!("{instance}:{}", r.name),
                name: r.name,
                kind: typed.kind,
                value: typed.value,
                value_info: typed.value_info,
                process_definition_key: r.definition_key,
                process_definition_id: r.definition_id.to_string(),
                process_instance_id: instance,
                execution_id: instance,
                activity_instance_id: instance,
                case_definition_key: None,
                case_definition_id: None,
                case_instance_id: None,
                case_execution_id: None,
                task_id: None,
                tenant_id: None,
                error_message: None,
                state: "CREATED",
                create_time: format_date(r.created),
                removal_time: None,
                root_process_instance_id: instance,
            }
        })
        .collect();
    for (by, asc) in p.sorting.iter().rev() {
        match by.as_str() {
            "instanceId" => {}
            "variableName" => out.sort_by(|a, b| {
                let o = a.name.cmp(&b.name);
                if *asc { o } else { o.reverse() }
            }),
            other => {
                return Err(RestError::invalid(format!(
                    "sortBy {other} is not supported here (instanceId and variableName are)"
                )));
            }
        }
    }
    Ok(out)
}

async fn list_historic_variables(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, VARIABLE_FILTERS, true)?;
    let all = variables(&state, &user, &p).await?;
    let page: Vec<VariableDto> = all
        .into_iter()
        .skip(p.first as usize)
        .take(p.limit() as usize)
        .collect();
    p.check_whole(page.len())?;
    Ok(HttpResponse::Ok().json(page))
}

async fn count_historic_variables(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, VARIABLE_FILTERS, true)?;
    let all = variables(&state, &user, &p).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": all.len() })))
}
