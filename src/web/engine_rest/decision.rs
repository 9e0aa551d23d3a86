//! Camunda's `/decision-definition` routes: listing and counting deployed
//! decisions, one by key, and evaluating one by key or id with typed
//! variables, answered as Camunda does: a list of typed result maps.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::auth::RestUser;
use super::error::RestError;
use super::parse;
use super::query::{self, Kind, Params};
use super::variables::{decode_map, encode_map};
use crate::runtime::{DeployedDecision, Principal, RuntimeError};
use crate::web::AppState;

/// Registers the decision routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/decision-definition",
        web::get().to(list_decision_definitions),
    )
    .route(
        "/decision-definition/count",
        web::get().to(count_decision_definitions),
    )
    .route(
        "/decision-definition/key/{key}",
        web::get().to(show_decision_definition),
    )
    .route(
        "/decision-definition/key/{key}/evaluate",
        web::post().to(evaluate_decision_by_key),
    )
    .route(
        "/decision-definition/{id}/evaluate",
        web::post().to(evaluate_decision_by_id),
    );
}

const FILTERS: &[(&str, Kind)] = &[
    ("decisionDefinitionId", Kind::Text),
    ("decisionDefinitionIdIn", Kind::List),
    ("key", Kind::Text),
    ("keyIn", Kind::List),
    ("keyLike", Kind::Text),
    ("name", Kind::Text),
    ("deploymentId", Kind::Text),
    ("version", Kind::Text),
    ("versionTag", Kind::Text),
    ("latestVersion", Kind::Flag),
];

/// Camunda's DecisionDefinitionDto.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecisionDefinitionDto {
    id: String,
    key: String,
    category: Option<String>,
    name: Option<String>,
    version: i32,
    resource: Option<String>,
    deployment_id: String,
    tenant_id: Option<String>,
    decision_requirements_definition_id: Option<String>,
    decision_requirements_definition_key: Option<String>,
    history_time_to_live: Option<i64>,
    version_tag: Option<String>,
}

fn dto(d: &DeployedDecision) -> DecisionDefinitionDto {
    let def = &d.definition;
    DecisionDefinitionDto {
        id: def.id.to_string(),
        key: def.key.clone(),
        category: None,
        name: def.name.clone(),
        version: def.version,
        resource: None,
        deployment_id: def.deployment_id.to_string(),
        tenant_id: None,
        decision_requirements_definition_id: None,
        decision_requirements_definition_key: None,
        history_time_to_live: None,
        version_tag: def.version_tag.clone(),
    }
}

/// Every decision version the parameters select, in their order.
async fn select(
    state: &AppState,
    who: &Principal,
    p: &Params,
) -> Result<Vec<std::sync::Arc<DeployedDecision>>, RestError> {
    let deployments = state.runtime.deployments();
    let latest_only = p.on("latestVersion");
    let mut out = Vec::new();
    for row in deployments.decisions(who).await? {
        if p.text("key").is_some_and(|k| k != row.key)
            || p.list("keyIn").is_some_and(|ks| !ks.contains(&row.key))
            || p.text("keyLike")
                .is_some_and(|k| !query::like(&row.key, &k))
        {
            continue;
        }
        let versions: Vec<i32> = if latest_only {
            vec![row.latest_version]
        } else {
            deployments
                .decision_versions(who, &row.key)
                .await?
                .into_iter()
                .map(|v| v.version)
                .collect()
        };
        for v in versions {
            out.push(deployments.decision(who, &row.key, Some(v)).await?);
        }
    }
    let ids = p
        .list("decisionDefinitionIdIn")
        .or_else(|| p.text("decisionDefinitionId").map(|i| vec![i]));
    out.retain(|d| {
        let def = &d.definition;
        ids.as_ref()
            .is_none_or(|ids| ids.contains(&def.id.to_string()))
            && p.text("name")
                .is_none_or(|n| def.name.as_deref() == Some(n.as_str()))
            && p.text("deploymentId")
                .is_none_or(|i| i == def.deployment_id.to_string())
            && p.text("version")
                .is_none_or(|v| v == def.version.to_string())
            && p.text("versionTag")
                .is_none_or(|t| def.version_tag.as_deref() == Some(t.as_str()))
    });
    for (by, asc) in p.sorting.iter().rev() {
        let by = by.as_str();
        if !["id", "key", "name", "version", "deploymentId", "versionTag"].contains(&by) {
            return Err(RestError::invalid(format!(
                "sortBy {by} is not supported here (id, key, name, version, deploymentId and versionTag are)"
            )));
        }
        out.sort_by(|a, b| {
            let (a, b) = (&a.definition, &b.definition);
            let o = match by {
                "id" => a.id.cmp(&b.id),
                "key" => a.key.cmp(&b.key),
                "name" => a.name.cmp(&b.name),
                "version" => a.version.cmp(&b.version),
                "deploymentId" => a.deployment_id.cmp(&b.deployment_id),
                _ => a.version_tag.cmp(&b.version_tag),
            };
            if *asc { o } else { o.reverse() }
        });
    }
    Ok(out)
}

async fn list_decision_definitions(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, true)?;
    let all = select(&state, &user.principal(), &p).await?;
    let page: Vec<DecisionDefinitionDto> = all
        .iter()
        .skip(p.first as usize)
        .take(p.limit() as usize)
        .map(|d| dto(d))
        .collect();
    p.check_whole(page.len())?;
    Ok(HttpResponse::Ok().json(page))
}

async fn count_decision_definitions(
    state: web::Data<AppState>,
    user: RestUser,
    params: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, RestError> {
    let p = query::from_query(&params, FILTERS, true)?;
    let all = select(&state, &user.principal(), &p).await?;
    Ok(HttpResponse::Ok().json(json!({"count": all.len()})))
}

fn no_decision_key(key: &str) -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "RestException",
        format!("No matching decision definition with key: {key} and no tenant-id"),
    )
}

async fn show_decision_definition(
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let d = state
        .runtime
        .deployments()
        .decision(&user.principal(), &key, None)
        .await
        .map_err(|e| match e {
            RuntimeError::NotFound(_) => no_decision_key(&key),
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(dto(&d)))
}

#[derive(Deserialize, Default)]
struct EvaluateDto {
    variables: Option<Map<String, Value>>,
}

fn results(result: crate::dmn::DecisionResult) -> Vec<Map<String, Value>> {
    result.results.iter().map(|r| encode_map(r, None)).collect()
}

fn cannot_evaluate(what: &str, e: RuntimeError) -> RestError {
    match e {
        RuntimeError::Rejected(m) => RestError::new(
            StatusCode::BAD_REQUEST,
            "RestException",
            format!("Cannot evaluate decision {what}: {m}"),
        ),
        other => other.into(),
    }
}

async fn evaluate_decision_by_key(
    state: web::Data<AppState>,
    user: RestUser,
    key: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: EvaluateDto = parse(&body)?;
    let variables = decode_map(b.variables.as_ref())?;
    let (_, result) = state
        .runtime
        .deployments()
        .evaluate(&user.principal(), &key, &variables)
        .await
        .map_err(|e| match e {
            RuntimeError::NotFound(_) => no_decision_key(&key),
            other => cannot_evaluate(&key, other),
        })?;
    Ok(HttpResponse::Ok().json(results(result)))
}

async fn evaluate_decision_by_id(
    state: web::Data<AppState>,
    user: RestUser,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, RestError> {
    let b: EvaluateDto = parse(&body)?;
    let not_found = || {
        RestError::new(
            StatusCode::NOT_FOUND,
            "RestException",
            format!("No matching decision definition with id: {id}"),
        )
    };
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let variables = decode_map(b.variables.as_ref())?;
    let (_, result) = state
        .runtime
        .deployments()
        .evaluate_id(&user.principal(), number, &variables)
        .await
        .map_err(|e| match e {
            RuntimeError::NotFound(_) => not_found(),
            other => cannot_evaluate(&id, other),
        })?;
    Ok(HttpResponse::Ok().json(results(result)))
}
