//! The HTTP API of python-bpmn-engine, served by this engine so that its
//! clients keep working: the same routes and JSON shapes, authenticated like
//! the rest of the API. Models are named by their file name (`demo.bpmn`) or by
//! process id; instance states read `running`, `finished` or `terminated`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::ApiUser;
use super::body::Body;
use super::error::ApiError;
use super::resources::query_pairs;
use crate::model::NodeKind;
use crate::model::form::FieldType;
use crate::runtime::{Deployed, InstanceFilter, InstanceSummary, Principal, StartRequest, Values};
use crate::web::AppState;
use crate::web::render::download;

/// The old engine's word for an instance state.
fn old_state(state: &str) -> &'static str {
    match state {
        "completed" => "finished",
        "terminated" => "terminated",
        _ => "running",
    }
}

/// A model as the old engine listed it.
#[derive(Serialize, ToSchema)]
pub struct OldModel {
    pub model_path: String,
    /// `{"id", "name"}` of the main process.
    #[schema(value_type = Object)]
    pub main_process: Value,
    /// User and receive tasks: `{"_id", "name"}`.
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<Value>,
    pub instances: Vec<Uuid>,
}

async fn old_model(
    state: &AppState,
    who: &Principal,
    deployed: &Deployed,
) -> Result<OldModel, ApiError> {
    let process = deployed.process();
    let file = state
        .runtime
        .deployments()
        .versions(who, &process.id)
        .await?
        .first()
        .map(|v| v.file.clone())
        .unwrap_or_default();
    let tasks = process
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::UserTask(_) | NodeKind::ReceiveTask(_)))
        .map(|n| json!({"_id": n.id, "name": n.name}))
        .collect();
    let q = InstanceFilter {
        definition: Some(process.id.clone()),
        limit: 100,
        ..Default::default()
    };
    let (instances, _) = state.runtime.instances().list(who, &q).await?;
    Ok(OldModel {
        model_path: file,
        main_process: json!({"id": process.id, "name": process.name}),
        tasks,
        instances: instances.into_iter().map(|i| i.id).collect(),
    })
}

/// Lists the models: `{"status": "ok", "results": [...]}`.
#[utoipa::path(tag = "compatibility", responses((status = 200, description = "`{status, results: [model]}`", body = Object)))]
#[get("/model")]
pub async fn list_models(
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let mut results = Vec::new();
    for r in state.runtime.deployments().list(&who).await? {
        let deployed = state.runtime.deployments().get(&who, &r.key, None).await?;
        results.push(old_model(&state, &who, &deployed).await?);
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "results": results})))
}

/// The BPMN file of a model.
#[utoipa::path(
    tag = "compatibility",
    params(("name" = String, Path, description = "file name or process id")),
    responses((status = 200, description = "the file", content_type = "application/xml", body = String), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/model/{name}")]
pub async fn show_model(
    state: web::Data<AppState>,
    user: ApiUser,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let deployments = state.runtime.deployments();
    let deployed = deployments.find(&who, &name).await?;
    let source = deployments.source(&who, &deployed.definition).await?;
    Ok(download(
        source,
        &format!("{}.bpmn", deployed.definition.key),
        "application/xml; charset=utf-8",
    ))
}

/// Starts an instance of a model: `{"id"}`.
#[utoipa::path(
    tag = "compatibility",
    params(("name" = String, Path, description = "file name or process id")),
    responses((status = 200, description = "`{id}`", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[post("/model/{name}/instance")]
pub async fn create_model_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let deployed = state.runtime.deployments().find(&who, &name).await?;
    let o = state
        .runtime
        .deployments()
        .start(
            &who,
            StartRequest {
                key: deployed.definition.key.clone(),
                version: Some(deployed.definition.version),
                values: Values::default(),
                business_key: None,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({"id": o.instance_id})))
}

/// Completes the open task of element `task_id` with the JSON body as variables.
#[utoipa::path(
    tag = "compatibility",
    params(("id" = Uuid, Path), ("task_id" = String, Path, description = "the element id of the user task")),
    request_body(content = Object, description = "the variables"),
    responses((status = 200, description = "`{status: OK}`", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody), (status = 422, description = "a field or value does not fit", body = super::error::ErrorBody))
)]
#[post("/instance/{id}/task/{task_id}/form")]
pub async fn complete_instance_task(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(Uuid, String)>,
    body: Body<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (id, element) = path.into_inner();
    state
        .runtime
        .tasks()
        .complete_element(
            &user.principal(),
            id,
            &element,
            Values::Json(body.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "OK"})))
}

/// Delivers data to the receive task `task_id` (as its message).
#[utoipa::path(
    tag = "compatibility",
    params(("id" = Uuid, Path), ("task_id" = String, Path, description = "the element id of the receive task")),
    request_body(content = Object, description = "the variables"),
    responses((status = 200, description = "`{status: OK}`", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody), (status = 409, description = "a conflict: the state changed or was already so", body = super::error::ErrorBody))
)]
#[post("/instance/{id}/task/{task_id}/receive")]
pub async fn receive_instance_task(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(Uuid, String)>,
    body: Body<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (id, element) = path.into_inner();
    state
        .runtime
        .instances()
        .receive(&user.principal(), id, &element, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "OK"})))
}

/// Searches instances by string variables: `q=key:value,...` (each term matches a
/// variable whose name contains `key` and whose text contains `value`, ignoring
/// case; all terms must match).
#[utoipa::path(
    tag = "compatibility",
    params(("q" = String, Query, description = "key:value,key:value")),
    responses((status = 200, description = "`{status, results: [instance]}`", body = Object), (status = 400, description = "`{error: invalid_query}`", body = Object))
)]
#[get("/instance")]
pub async fn search_instances(
    state: web::Data<AppState>,
    user: ApiUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let invalid = || HttpResponse::BadRequest().json(json!({"error": "invalid_query"}));
    let Ok(pairs) = query_pairs(&req) else {
        return Ok(invalid());
    };
    let Some((_, q)) = pairs.iter().find(|(k, _)| k == "q") else {
        return Ok(invalid());
    };
    let terms: Vec<(String, String)> = q
        .split(',')
        .map(|t| match t.split_once(':') {
            Some((k, v)) => (k.trim().to_lowercase(), v.trim().to_lowercase()),
            None => (String::new(), t.trim().to_lowercase()),
        })
        .collect();
    let who = user.principal();
    let found = state
        .runtime
        .instances()
        .search_text(&who, &terms, 200)
        .await?;
    let mut results = Vec::new();
    for d in found {
        results.push(old_instance(&state, &who, d).await?);
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "results": results})))
}

async fn old_instance(
    state: &AppState,
    who: &Principal,
    d: InstanceSummary,
) -> Result<Value, ApiError> {
    let pending: Vec<String> = d.waiting.iter().map(|w| w.element.clone()).collect();
    let model = old_model(state, who, &d.deployed).await?;
    Ok(json!({
        "id": d.instance.id,
        "variables": d.variables,
        "state": old_state(&d.instance.status),
        "model": model,
        "pending": pending,
        "env": {},
    }))
}

/// An instance: `id`, `variables`, `state` and `pending` element ids.
#[utoipa::path(
    tag = "compatibility",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "done", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/instance/{id}")]
pub async fn show_old_instance(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = user.principal();
    let d = state.runtime.instances().summary(&who, *id).await?;
    let v = old_instance(&state, &who, d).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// An instance's state: `{"state"}`.
#[utoipa::path(
    tag = "compatibility",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "done", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/instance/state/{id}")]
pub async fn show_old_instance_state(
    state: web::Data<AppState>,
    user: ApiUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (instance, _) = state
        .runtime
        .instances()
        .get(&user.principal(), *id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"state": old_state(&instance.status)})))
}

/// A task's form fields and documentation, as the old engine described it.
#[utoipa::path(
    tag = "compatibility",
    params(("id" = Uuid, Path), ("task_id" = String, Path, description = "the element id")),
    responses((status = 200, description = "done", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/instance/{id}/task/{task_id}")]
pub async fn show_instance_task(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, element) = path.into_inner();
    let (_, deployed) = state.runtime.instances().get(&user.principal(), id).await?;
    let node = deployed
        .process()
        .node(&element)
        .ok_or_else(ApiError::not_found)?;
    let mut info = json!({"type": format!("bpmn:{}", node.tag)});
    if let NodeKind::UserTask(u) = &node.kind {
        let mut fields = Map::new();
        for f in &u.form {
            let mut validation = Map::new();
            let c = &f.constraints;
            for (name, on) in [("required", c.required), ("readonly", c.readonly)] {
                if on {
                    validation.insert(name.into(), Value::Null);
                }
            }
            for (name, v) in [
                ("minlength", c.minlength.map(|n| n as i64)),
                ("maxlength", c.maxlength.map(|n| n as i64)),
                ("min", c.min),
                ("max", c.max),
            ] {
                if let Some(n) = v {
                    validation.insert(name.into(), Value::String(n.to_string()));
                }
            }
            let properties: Map<String, Value> = f
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut field = json!({
                "type": f.ty.name(),
                "label": f.label.clone().unwrap_or_default(),
                "validation": validation,
                "properties": properties,
            });
            if let FieldType::Enum { values } = &f.ty {
                field["values"] = values
                    .iter()
                    .map(|(id, name)| json!({"id": id, "name": name}))
                    .collect();
            }
            fields.insert(f.id.clone(), field);
        }
        info["form_fields"] = Value::Object(fields);
        info["documentation"] = Value::String(node.documentation.clone().unwrap_or_default());
    }
    Ok(HttpResponse::Ok().json(info))
}
