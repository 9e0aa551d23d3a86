//! Camunda's process instance resource: running instances listed and
//! counted (by query parameters, or by a JSON query with `POST`), one
//! instance, cancelling it, its variables (read, set, modified), and the tree
//! of its activity instances.
//!
//! As in Camunda, these are the *running* instances (ended ones belong to
//! the history); a user sees only the instances the policy lets them see, as
//! in `/api/v1`. Variables are the instance's own (process-level) ones.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::RestUser;
use super::error::RestError;
use super::request::{Json, Page, Params, flag, list, sorting, unsupported};
use super::variables::{TypedValue, decode, decode_map, encode, encode_map};
use crate::runtime::{
    ActivityNode, Compare, InstanceView, RunningSearch, RunningSort, RuntimeError,
    VariableCondition,
};
use crate::web::AppState;

/// Registers the process instance routes (inside the engine-rest scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/process-instance", web::get().to(list_instances))
        .route("/process-instance", web::post().to(query_instances))
        .route("/process-instance/count", web::get().to(count_instances))
        .route("/process-instance/count", web::post().to(query_count))
        .route("/process-instance/{id}", web::get().to(show_instance))
        .route("/process-instance/{id}", web::delete().to(cancel_instance))
        .route(
            "/process-instance/{id}/variables",
            web::get().to(list_variables),
        )
        .route(
            "/process-instance/{id}/variables",
            web::post().to(modify_variables),
        )
        .route(
            "/process-instance/{id}/variables/{name}",
            web::get().to(show_variable),
        )
        .route(
            "/process-instance/{id}/variables/{name}",
            web::put().to(set_variable),
        )
        .route(
            "/process-instance/{id}/variables/{name}",
            web::delete().to(delete_variable),
        )
        .route(
            "/process-instance/{id}/activity-instances",
            web::get().to(activity_instances),
        );
}

/// The base URL of the engine-rest surface (for `links`), from any request
/// under it.
pub fn rest_base(req: &HttpRequest) -> String {
    let conn = req.connection_info();
    let path = req.path();
    let base = ["/process-instance", "/process-definition", "/message"]
        .iter()
        .filter_map(|s| path.find(s))
        .min()
        .map(|i| &path[..i])
        .unwrap_or(path);
    format!("{}://{}{}", conn.scheme(), conn.host(), base)
}

/// Camunda's ProcessInstanceDto (ProcessInstanceWithVariablesDto when
/// `variables` is set).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceDto {
    pub links: Vec<Value>,
    pub id: Uuid,
    pub definition_id: String,
    pub business_key: Option<String>,
    pub case_instance_id: Option<String>,
    pub ended: bool,
    pub suspended: bool,
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Map<String, Value>>,
}

/// A running instance in Camunda's shape.
pub fn instance_dto(
    base: &str,
    id: Uuid,
    definition_id: i64,
    business_key: Option<String>,
) -> InstanceDto {
    InstanceDto {
        links: vec![json!({
            "method": "GET",
            "href": format!("{base}/process-instance/{id}"),
            "rel": "self",
        })],
        id,
        definition_id: definition_id.to_string(),
        business_key,
        case_instance_id: None,
        ended: false,
        suspended: false,
        tenant_id: None,
        variables: None,
    }
}

fn view_dto(base: &str, v: InstanceView) -> InstanceDto {
    let mut dto = instance_dto(base, v.id, v.definition_id, v.business_key);
    dto.ended = v.status == "completed" || v.status == "terminated";
    dto.suspended = v.suspended;
    dto
}

fn not_found(raw: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "InvalidRequestException",
        format!("Process instance with id {raw} does not exist"),
    )
}

/// An instance id; anything else names no instance.
fn instance_id(raw: &str) -> Result<Uuid, RestError> {
    Uuid::parse_str(raw).map_err(|_| not_found(raw))
}

/// The answer for a runtime error on an instance.
fn instance_error(e: RuntimeError, raw: &str) -> RestError {
    match e {
        RuntimeError::NotFound(_) => not_found(raw),
        other => other.into(),
    }
}

/// One filter value of a query: text from the URL or JSON from a body.
enum Given<'a> {
    Text(&'a str),
    Json(&'a Value),
}

impl Given<'_> {
    fn text(&self, name: &str) -> Result<String, RestError> {
        match self {
            Given::Text(t) => Ok((*t).to_string()),
            Given::Json(Value::String(s)) => Ok(s.clone()),
            Given::Json(other) => Err(RestError::invalid(format!(
                "{name} must be a string, not {other}"
            ))),
        }
    }

    fn list(&self, name: &str) -> Result<Vec<String>, RestError> {
        match self {
            Given::Text(t) => Ok(list(t)),
            Given::Json(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(RestError::invalid(format!(
                        "{name} must be a list of strings, not one holding {other}"
                    ))),
                })
                .collect(),
            Given::Json(other) => Err(RestError::invalid(format!(
                "{name} must be a list of strings, not {other}"
            ))),
        }
    }

    fn flag(&self, name: &str) -> Result<bool, RestError> {
        match self {
            Given::Text(t) => flag(name, t),
            Given::Json(Value::Bool(b)) => Ok(*b),
            Given::Json(other) => Err(RestError::invalid(format!(
                "{name} must be true or false, not {other}"
            ))),
        }
    }
}

fn operator(name: &str, op: &str) -> Result<Compare, RestError> {
    Ok(match op {
        "eq" => Compare::Eq,
        "neq" => Compare::Neq,
        "gt" => Compare::Gt,
        "gteq" => Compare::Gteq,
        "lt" => Compare::Lt,
        "lteq" => Compare::Lteq,
        "like" => Compare::Like,
        other => {
            return Err(RestError::invalid(format!(
                "Invalid variable comparator specified for variable {name}: {other} (eq, neq, gt, gteq, lt, lteq or like)"
            )));
        }
    })
}

/// `name_op_value,...` from a URL (a name may itself hold `_`: the operator
/// is the first `_op_` that is one).
fn url_variables(text: &str) -> Result<Vec<VariableCondition>, RestError> {
    let mut out = Vec::new();
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split('_').collect();
        let at = (1..parts.len().saturating_sub(1)).find(|&i| {
            matches!(
                parts[i],
                "eq" | "neq" | "gt" | "gteq" | "lt" | "lteq" | "like"
            )
        });
        let Some(at) = at else {
            return Err(RestError::invalid(format!(
                "variable query parameter has to have format KEY_OPERATOR_VALUE, not {item:?}"
            )));
        };
        let name = parts[..at].join("_");
        out.push(VariableCondition {
            op: operator(&name, parts[at])?,
            value: Value::String(parts[at + 1..].join("_")),
            name,
            loose: true,
        });
    }
    Ok(out)
}

/// `[{"name", "operator", "value"}]` from a body.
fn body_variables(v: &Value) -> Result<Vec<VariableCondition>, RestError> {
    let Value::Array(items) = v else {
        return Err(RestError::invalid(
            "variables must be a list of {\"name\", \"operator\", \"value\"}",
        ));
    };
    items
        .iter()
        .map(|i| {
            let name = i.get("name").and_then(Value::as_str).ok_or_else(|| {
                RestError::invalid(format!("every variables entry needs a name: {i}"))
            })?;
            let op = i.get("operator").and_then(Value::as_str).ok_or_else(|| {
                RestError::invalid(format!("the variables entry {name} needs an operator"))
            })?;
            Ok(VariableCondition {
                name: name.to_string(),
                op: operator(name, op)?,
                value: i.get("value").cloned().unwrap_or(Value::Null),
                loose: false,
            })
        })
        .collect()
}

/// The instance query being read.
#[derive(Default)]
struct Reader {
    q: RunningSearch,
    /// A filter matched nothing whatever the rest says.
    nothing: bool,
    sort_by: Option<String>,
    sort_order: Option<String>,
    deployment: Option<String>,
}

impl Reader {
    fn keys(&mut self, keys: Vec<String>) {
        self.q.definition_keys = Some(match self.q.definition_keys.take() {
            Some(before) => before.into_iter().filter(|k| keys.contains(k)).collect(),
            None => keys,
        });
    }

    fn ids(&mut self, raw: Vec<String>) {
        let ids: Vec<Uuid> = raw.iter().filter_map(|r| Uuid::parse_str(r).ok()).collect();
        self.q.ids = Some(match self.q.ids.take() {
            Some(before) => before.into_iter().filter(|i| ids.contains(i)).collect(),
            None => ids,
        });
    }

    /// `active=true` with `suspended=true` matches nothing.
    fn suspended(&mut self, want: bool) {
        match self.q.suspended {
            Some(have) if have != want => self.nothing = true,
            _ => self.q.suspended = Some(want),
        }
    }

    fn read(&mut self, k: &str, v: Given<'_>) -> Result<(), RestError> {
        match k {
            "processInstanceIds" => self.ids(v.list(k)?),
            "businessKey" => self.q.business_key = Some(v.text(k)?),
            "businessKeyLike" => self.q.business_key_like = Some(v.text(k)?),
            "processDefinitionId" => {
                let id = v.text(k)?;
                match id.parse::<i64>() {
                    Ok(n) => self.q.definition_ids = Some(vec![n]),
                    Err(_) => self.nothing = true,
                }
            }
            "processDefinitionKey" => self.keys(vec![v.text(k)?]),
            "processDefinitionKeyIn" => self.keys(v.list(k)?),
            "deploymentId" => self.deployment = Some(v.text(k)?),
            // `active=true` and `suspended=true` each narrow the list;
            // `false` leaves it as it is, as in Camunda.
            "active" if v.flag(k)? => self.suspended(false),
            "suspended" if v.flag(k)? => self.suspended(true),
            "active" | "suspended" => {}
            "withoutTenantId" | "processDefinitionWithoutTenantId" => {
                v.flag(k)?;
            }
            // No instance has a tenant or belongs to a case.
            "tenantIdIn" => self.nothing |= !v.list(k)?.is_empty(),
            "caseInstanceId" | "superCaseInstance" | "subCaseInstance" => {
                v.text(k)?;
                self.nothing = true;
            }
            "withIncident" if v.flag(k)? => self.q.has_incident = Some(true),
            "variables" => {
                let more = match v {
                    Given::Text(t) => url_variables(t)?,
                    Given::Json(j) => body_variables(j)?,
                };
                self.q.variables.extend(more);
            }
            "variableNamesIgnoreCase" => self.q.names_ignore_case = v.flag(k)?,
            "variableValuesIgnoreCase" => self.q.values_ignore_case = v.flag(k)?,
            "sortBy" => self.sort_by = Some(v.text(k)?),
            "sortOrder" => self.sort_order = Some(v.text(k)?),
            "incidentId" | "incidentType" | "incidentMessage" | "incidentMessageLike" => {
                return Err(unsupported(
                    k,
                    "instances are filtered by incidents only with withIncident here",
                ));
            }
            "processDefinitionKeyNotIn"
            | "superProcessInstance"
            | "subProcessInstance"
            | "activityIdIn"
            | "rootProcessInstances"
            | "leafProcessInstances"
            | "activityInstanceIdIn"
            | "orQueries" => {
                return Err(unsupported(k, "this engine has no such filter"));
            }
            // Unknown parameters are ignored, as in Camunda.
            _ => {}
        }
        Ok(())
    }

    async fn finish(
        mut self,
        state: &AppState,
        user: &RestUser,
        page: Page,
    ) -> Result<Option<RunningSearch>, RestError> {
        let sort = sorting(
            self.sort_by.as_deref(),
            self.sort_order.as_deref(),
            &[
                "instanceId",
                "definitionKey",
                "definitionId",
                "tenantId",
                "businessKey",
            ],
        )?;
        if let Some((by, desc)) = sort {
            self.q.sort = match by.as_str() {
                "instanceId" => RunningSort::Id,
                "definitionKey" => RunningSort::DefinitionKey,
                "definitionId" => RunningSort::DefinitionId,
                "businessKey" => RunningSort::BusinessKey,
                // No instance has a tenant: any order is by tenant.
                _ => RunningSort::Id,
            };
            self.q.descending = desc;
        }
        if let Some(dep) = &self.deployment {
            let ids: Vec<i64> = state
                .runtime
                .deployments()
                .all_versions(&user.principal())
                .await?
                .into_iter()
                .filter(|d| d.deployment_id.to_string() == *dep)
                .map(|d| d.id)
                .collect();
            self.q.definition_ids = Some(match self.q.definition_ids.take() {
                Some(before) => before.into_iter().filter(|i| ids.contains(i)).collect(),
                None => ids,
            });
        }
        if self.nothing {
            return Ok(None);
        }
        self.q.offset = page.first;
        self.q.limit = page.max;
        Ok(Some(self.q))
    }
}

/// The query and page of a `GET`.
async fn url_query(
    state: &AppState,
    user: &RestUser,
    params: &[(String, String)],
) -> Result<Option<RunningSearch>, RestError> {
    let mut r = Reader::default();
    let mut page = Page::default();
    for (k, v) in params {
        if !page.read(k, v)? {
            r.read(k, Given::Text(v))?;
        }
    }
    r.finish(state, user, page).await
}

/// The query of a `POST` (its page is in the URL, as in Camunda).
async fn body_query(
    state: &AppState,
    user: &RestUser,
    params: &[(String, String)],
    body: &Map<String, Value>,
) -> Result<Option<RunningSearch>, RestError> {
    let mut r = Reader::default();
    let mut page = Page::default();
    for (k, v) in params {
        page.read(k, v)?;
    }
    for (k, v) in body {
        if v.is_null() {
            continue;
        }
        if k == "sorting" {
            let items = v.as_array().ok_or_else(|| {
                RestError::invalid("sorting must be a list of {\"sortBy\", \"sortOrder\"}")
            })?;
            match items.as_slice() {
                [] => {}
                [one] => {
                    for (field, value) in [("sortBy", "sortBy"), ("sortOrder", "sortOrder")] {
                        if let Some(x) = one.get(field) {
                            r.read(value, Given::Json(x))?;
                        }
                    }
                }
                _ => {
                    return Err(unsupported(
                        "sorting",
                        "instances are sorted by one field here (give one entry)",
                    ));
                }
            }
            continue;
        }
        r.read(k, Given::Json(v))?;
    }
    r.finish(state, user, page).await
}

async fn run_query(
    req: &HttpRequest,
    state: &AppState,
    user: &RestUser,
    q: Option<RunningSearch>,
) -> Result<HttpResponse, RestError> {
    let Some(q) = q else {
        return Ok(HttpResponse::Ok().json(Vec::<InstanceDto>::new()));
    };
    let (rows, _) = state
        .runtime
        .instances()
        .running(&user.principal(), &q)
        .await?;
    let base = rest_base(req);
    let out: Vec<InstanceDto> = rows.into_iter().map(|v| view_dto(&base, v)).collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn run_count(
    state: &AppState,
    user: &RestUser,
    q: Option<RunningSearch>,
) -> Result<HttpResponse, RestError> {
    let count = match q {
        None => 0,
        Some(mut q) => {
            q.offset = 0;
            q.limit = 0;
            state
                .runtime
                .instances()
                .running(&user.principal(), &q)
                .await?
                .1
        }
    };
    Ok(HttpResponse::Ok().json(json!({"count": count})))
}

async fn list_instances(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
) -> Result<HttpResponse, RestError> {
    let q = url_query(&state, &user, &params.0).await?;
    run_query(&req, &state, &user, q).await
}

async fn count_instances(
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
) -> Result<HttpResponse, RestError> {
    let q = url_query(&state, &user, &params.0).await?;
    run_count(&state, &user, q).await
}

async fn query_instances(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, RestError> {
    let q = body_query(&state, &user, &params.0, &body.0).await?;
    run_query(&req, &state, &user, q).await
}

async fn query_count(
    state: web::Data<AppState>,
    user: RestUser,
    params: Params,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, RestError> {
    let q = body_query(&state, &user, &params.0, &body.0).await?;
    run_count(&state, &user, q).await
}

/// A running instance the principal may see.
async fn running(state: &AppState, user: &RestUser, raw: &str) -> Result<InstanceView, RestError> {
    let id = instance_id(raw)?;
    let (view, _) = state
        .runtime
        .instances()
        .get(&user.principal(), id)
        .await
        .map_err(|e| instance_error(e, raw))?;
    if view.status == "completed" || view.status == "terminated" {
        // Ended instances are history, as in Camunda.
        return Err(not_found(raw));
    }
    Ok(view)
}

async fn show_instance(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let view = running(&state, &user, &id).await?;
    Ok(HttpResponse::Ok().json(view_dto(&rest_base(&req), view)))
}

async fn cancel_instance(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, RestError> {
    for (k, v) in &params.0 {
        match k.as_str() {
            "skipCustomListeners" | "skipIoMappings" | "skipSubprocesses" if flag(k, v)? => {
                return Err(unsupported(
                    k,
                    "cancelling runs the instance's listeners, mappings and called instances as always",
                ));
            }
            "failIfNotExists" => {
                flag(k, v)?;
            }
            _ => {}
        }
    }
    running(&state, &user, &id).await?;
    state
        .runtime
        .instances()
        .cancel(&user.principal(), instance_id(&id)?)
        .await
        .map_err(|e| instance_error(e, &id))?;
    Ok(HttpResponse::NoContent().finish())
}

fn deserialize_values(params: &[(String, String)]) -> Result<(), RestError> {
    for (k, v) in params {
        if k == "deserializeValues" {
            // Values are JSON here, never serialized objects: both answers
            // are the same.
            flag(k, v)?;
        }
    }
    Ok(())
}

async fn list_variables(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, RestError> {
    deserialize_values(&params.0)?;
    running(&state, &user, &id).await?;
    let vars = state
        .runtime
        .instances()
        .variables(&user.principal(), instance_id(&id)?)
        .await
        .map_err(|e| instance_error(e, &id))?;
    Ok(HttpResponse::Ok().json(encode_map(&vars, None)))
}

async fn show_variable(
    state: web::Data<AppState>,
    user: RestUser,
    path: web::Path<(String, String)>,
    params: Params,
) -> Result<HttpResponse, RestError> {
    let (id, name) = path.into_inner();
    deserialize_values(&params.0)?;
    running(&state, &user, &id).await?;
    let vars = state
        .runtime
        .instances()
        .variables(&user.principal(), instance_id(&id)?)
        .await
        .map_err(|e| instance_error(e, &id))?;
    match vars.get(&name) {
        Some(v) => Ok(HttpResponse::Ok().json(encode(v))),
        None => Err(RestError::new(
            StatusCode::NOT_FOUND,
            "InvalidRequestException",
            format!("process instance variable with name {name} does not exist"),
        )),
    }
}

/// Sets and removes variables of a running instance, in one command.
async fn modify(
    state: &AppState,
    user: &RestUser,
    raw: &str,
    variables: Map<String, Value>,
    remove: Vec<String>,
) -> Result<(), RestError> {
    running(state, user, raw).await?;
    state
        .runtime
        .instances()
        .modify_variables(&user.principal(), instance_id(raw)?, variables, remove)
        .await
        .map_err(|e| instance_error(e, raw))?;
    Ok(())
}

async fn set_variable(
    state: web::Data<AppState>,
    user: RestUser,
    path: web::Path<(String, String)>,
    body: Json<Option<TypedValue>>,
) -> Result<HttpResponse, RestError> {
    let (id, name) = path.into_inner();
    let typed = body.0.ok_or_else(|| {
        RestError::invalid("the body must be the variable: {\"value\", \"type\", \"valueInfo\"}")
    })?;
    let value = decode(&name, &typed)?;
    let mut vars = Map::new();
    vars.insert(name, value);
    modify(&state, &user, &id, vars, Vec::new()).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_variable(
    state: web::Data<AppState>,
    user: RestUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, RestError> {
    let (id, name) = path.into_inner();
    modify(&state, &user, &id, Map::new(), vec![name]).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The body of `POST /process-instance/{id}/variables`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ModificationsDto {
    modifications: Option<Map<String, Value>>,
    deletions: Option<Vec<String>>,
}

async fn modify_variables(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: Json<ModificationsDto>,
) -> Result<HttpResponse, RestError> {
    let b = body.0;
    let vars = decode_map(b.modifications.as_ref())?;
    let remove = b.deletions.unwrap_or_default();
    if let Some(both) = remove.iter().find(|n| vars.contains_key(*n)) {
        return Err(RestError::invalid(format!(
            "the variable {both} is both in modifications and in deletions"
        )));
    }
    modify(&state, &user, &id, vars, remove).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An activity instance's id: its element and key, as external tasks show it.
fn activity_id(n: &ActivityNode) -> String {
    format!("{}:{}", n.element, n.key)
}

fn incidents(n: &ActivityNode) -> (Vec<Value>, Vec<Value>) {
    match n.incident {
        Some(i) => (
            vec![json!(i)],
            vec![json!({"id": i, "activityId": n.element})],
        ),
        None => (Vec::new(), Vec::new()),
    }
}

/// The activity instances whose scope is `scope`, each with its children.
fn children(
    nodes: &[ActivityNode],
    scope: u64,
    parent: &str,
    instance: Uuid,
    definition: &str,
) -> (Vec<Value>, Vec<Value>) {
    let mut activities = Vec::new();
    let mut transitions = Vec::new();
    for n in nodes.iter().filter(|n| n.scope == scope) {
        let id = activity_id(n);
        let execution = format!("{instance}:{}", n.key);
        let (incident_ids, incident_list) = incidents(n);
        if n.transition {
            transitions.push(json!({
                "id": id,
                "parentActivityInstanceId": parent,
                "processInstanceId": instance,
                "processDefinitionId": definition,
                "activityId": n.element,
                "activityName": n.name,
                "activityType": n.kind,
                "executionId": execution,
                "targetActivityId": n.element,
                "incidentIds": incident_ids,
                "incidents": incident_list,
            }));
            continue;
        }
        let (child_activities, child_transitions) =
            children(nodes, n.key, &id, instance, definition);
        activities.push(json!({
            "id": id,
            "parentActivityInstanceId": parent,
            "activityId": n.element,
            "activityType": n.kind,
            "processInstanceId": instance,
            "processDefinitionId": definition,
            "childActivityInstances": child_activities,
            "childTransitionInstances": child_transitions,
            "executionIds": [execution],
            "activityName": n.name,
            "incidentIds": incident_ids,
            "incidents": incident_list,
            "name": n.name,
        }));
    }
    (activities, transitions)
}

async fn activity_instances(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    running(&state, &user, &id).await?;
    let (view, deployed, nodes) = state
        .runtime
        .instances()
        .activity_tree(&user.principal(), instance_id(&id)?)
        .await
        .map_err(|e| instance_error(e, &id))?;
    let definition = view.definition_id.to_string();
    let root = view.id.to_string();
    let (activities, transitions) = children(&nodes, 0, &root, view.id, &definition);
    let name = deployed.process().name.clone();
    Ok(HttpResponse::Ok().json(json!({
        "id": root,
        "parentActivityInstanceId": null,
        "activityId": definition,
        "activityType": "processDefinition",
        "processInstanceId": view.id,
        "processDefinitionId": definition,
        "childActivityInstances": activities,
        "childTransitionInstances": transitions,
        "executionIds": [view.id],
        "activityName": name,
        "incidentIds": [],
        "incidents": [],
        "name": name,
    })))
}
