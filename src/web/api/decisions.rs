//! Decisions (DMN): listing them, reading one as JSON, and evaluating one.
//! A `.dmn` file is deployed through `POST /deployments` like a diagram.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::auth::ApiUser;
use super::error::ApiError;
use crate::runtime::RuntimeError;
use crate::web::AppState;

/// A decision with its latest version.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionDto {
    pub key: String,
    pub name: String,
    pub latest_id: i64,
    pub latest_version: i32,
    pub versions: i64,
}

/// Variables to evaluate a decision with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: Map<String, Value>,
}

/// What a decision gave: the outputs of each matched rule, after the hit policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationDto {
    pub decision: String,
    pub version: i32,
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Map<String, Value>>,
}

/// Every deployed decision with its latest version.
#[utoipa::path(tag = "decisions", responses((status = 200, description = "every decision with its latest version", body = Vec<DecisionDto>)))]
#[get("/api/v1/decisions")]
pub async fn list_decisions(
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<DecisionDto> = state
        .runtime
        .deployments()
        .decisions(&user.principal())
        .await?
        .into_iter()
        .map(|r| DecisionDto {
            key: r.key,
            name: r.name,
            latest_id: r.latest_id,
            latest_version: r.latest_version,
            versions: r.versions,
        })
        .collect();
    Ok(HttpResponse::Ok().json(rows))
}

/// The latest version of a decision: its table (inputs, outputs, rules with
/// their FEEL texts) or literal expression, and the decisions it requires.
#[utoipa::path(
    tag = "decisions",
    params(("key" = String, Path)),
    responses((status = 200, description = "done", body = Object), (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody))
)]
#[get("/api/v1/decisions/{key}")]
pub async fn show_decision(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .runtime
        .deployments()
        .decision(&user.principal(), &key, None)
        .await?;
    let decision = d.dmn.decision(&key).ok_or_else(ApiError::not_found)?;
    let mut body = serde_json::to_value(decision)
        .map_err(|e| ApiError::from(RuntimeError::Corrupt(e.to_string())))?;
    if let Value::Object(m) = &mut body {
        m.insert("version".into(), d.definition.version.into());
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Evaluates the latest version of a decision with the given variables.
#[utoipa::path(
    tag = "decisions",
    params(("key" = String, Path)),
    request_body = EvaluateRequest,
    responses(
        (status = 200, description = "the decision's result", body = EvaluationDto),
        (status = 400, description = "the body cannot be read", body = super::error::ErrorBody),
        (status = 404, description = "not found, or you may not see it", body = super::error::ErrorBody)
    )
)]
#[post("/api/v1/decisions/{key}/evaluate")]
pub async fn evaluate_decision(
    state: web::Data<AppState>,
    user: ApiUser,
    key: web::Path<String>,
    body: web::Json<EvaluateRequest>,
) -> Result<HttpResponse, ApiError> {
    let (d, result) = state
        .runtime
        .deployments()
        .evaluate(&user.principal(), &key, &body.variables)
        .await?;
    Ok(HttpResponse::Ok().json(EvaluationDto {
        decision: result.decision,
        version: d.definition.version,
        results: result.results,
    }))
}
