//! Health, readiness, metrics, and the API's own documentation: the OpenAPI
//! document and a page that lists it readably.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use utoipa::OpenApi;

use super::ApiDoc;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::render::{Layout, render};

/// The process is up.
#[utoipa::path(tag = "system", responses((status = 200, description = "ok", body = String)))]
#[get("/healthz")]
pub async fn show_health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
#[utoipa::path(tag = "system", responses((status = 200, description = "ready", body = String), (status = 503, description = "the database does not answer", body = String)))]
#[get("/readyz")]
pub async fn show_ready(state: web::Data<AppState>) -> HttpResponse {
    match state.runtime.system().ready().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("the database does not answer")
        }
    }
}

/// Metrics in Prometheus text format.
#[utoipa::path(tag = "system", responses((status = 200, description = "Prometheus text format", body = String)))]
#[get("/metrics")]
pub async fn show_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.runtime.system().metrics_text().await)
}

/// The OpenAPI document of this API.
#[utoipa::path(tag = "system", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
#[get("/openapi.json")]
pub async fn show_openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// One operation, for the API page.
pub struct OperationView {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub params: Vec<(String, String, String)>,
    pub request: Option<String>,
    pub responses: Vec<(String, String)>,
}

/// A tag's operations.
pub struct TagView {
    pub name: String,
    pub operations: Vec<OperationView>,
}

#[derive(Template)]
#[template(path = "api.html")]
struct ApiPage {
    layout: Layout,
    tags: Vec<TagView>,
    schemas: Vec<(String, String)>,
}

fn schema_ref(v: &serde_json::Value) -> String {
    if let Some(r) = v.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(items) = v.get("items") {
        return format!("[{}]", schema_ref(items));
    }
    v.get("type")
        .map(|t| match t {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "object".into())
}

/// The API, listed readably (no external assets).
#[get("/api")]
pub async fn show_api(
    state: actix_web::web::Data<crate::web::AppState>,
    current: Option<crate::web::auth::CurrentUser>,
) -> Result<HttpResponse, WebError> {
    let doc =
        serde_json::to_value(ApiDoc::openapi()).map_err(|e| WebError::Internal(e.to_string()))?;
    let mut tags: Vec<TagView> = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
                let params = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                (
                                    p["name"].as_str().unwrap_or_default().to_string(),
                                    p["in"].as_str().unwrap_or_default().to_string(),
                                    p["description"].as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let request = op["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.values().next())
                    .map(|c| schema_ref(&c["schema"]));
                let responses = op["responses"]
                    .as_object()
                    .map(|r| {
                        r.iter()
                            .map(|(code, resp)| {
                                let body = resp["content"]
                                    .as_object()
                                    .and_then(|c| c.values().next())
                                    .map(|c| format!(" → {}", schema_ref(&c["schema"])))
                                    .unwrap_or_default();
                                (
                                    code.clone(),
                                    format!(
                                        "{}{body}",
                                        resp["description"].as_str().unwrap_or_default()
                                    ),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let view = OperationView {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["description"]
                        .as_str()
                        .or(op["summary"].as_str())
                        .unwrap_or_default()
                        .to_string(),
                    params,
                    request,
                    responses,
                };
                match tags.iter_mut().find(|t| t.name == tag) {
                    Some(t) => t.operations.push(view),
                    None => tags.push(TagView {
                        name: tag,
                        operations: vec![view],
                    }),
                }
            }
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .map(|s| {
            s.iter()
                .map(|(name, schema)| {
                    (
                        name.clone(),
                        serde_json::to_string_pretty(schema).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // Public, but a logged-in reader keeps the navigation bar.
    let layout = match &current {
        Some(c) => c.layout(&state, "API", "api").await?,
        None => Layout {
            title: "API".into(),
            ..Layout::default()
        },
    };
    render(&ApiPage {
        layout,
        tags,
        schemas,
    })
}
