//! Diagrams: the overview (processes and decisions), uploading a BPMN or DMN
//! file (admins), a diagram's page with its versions and start form, starting
//! an instance, and the file itself.

use actix_multipart::form::{MultipartForm, tempfile::TempFile, text::Text};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::{CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::forms::{FieldView, field_views, posted};
use super::render::{Layout, download, redirect, render, render_status};
use crate::model::form::{FieldError, FormField, posted_values};
use crate::model::{Diagnostic, NodeKind, Severity};
use crate::runtime::{
    DecisionRow, DefinitionRow, DeployResult, RuntimeError, StartRequest, Values, VersionView,
};

/// A problem of an uploaded file, for the page.
pub struct ProblemView {
    pub severity: &'static str,
    pub position: String,
    pub element: String,
    pub message: String,
}

fn problem(d: &Diagnostic) -> ProblemView {
    ProblemView {
        severity: match d.severity {
            Severity::Error => "error",
            Severity::Unsupported => "unsupported",
            Severity::Warning => "warning",
        },
        position: if d.line > 0 {
            format!("{}:{}", d.line, d.column)
        } else {
            String::new()
        },
        element: match (&d.kind, &d.element) {
            (Some(k), Some(e)) => format!("{k} \"{e}\""),
            (Some(k), None) => format!("<{k}>"),
            (None, Some(e)) => format!("\"{e}\""),
            (None, None) => String::new(),
        },
        message: d.message.clone(),
    }
}

/// What an upload did.
pub struct UploadReport {
    pub file: String,
    pub ok: bool,
    /// `(key, version, created)`.
    pub definitions: Vec<(String, i32, bool)>,
    /// The decisions of a DMN file: `(key, version, created)`.
    pub decisions: Vec<(String, i32, bool)>,
    pub problems: Vec<ProblemView>,
}

#[derive(Template)]
#[template(path = "definitions/list.html")]
struct DefinitionsPage {
    layout: Layout,
    rows: Vec<DefinitionRow>,
    decisions: Vec<DecisionRow>,
    report: Option<UploadReport>,
}

async fn definitions_page(
    state: &AppState,
    current: &CurrentUser,
    report: Option<UploadReport>,
) -> Result<DefinitionsPage, WebError> {
    let who = current.principal();
    Ok(DefinitionsPage {
        layout: current.layout(state, "Diagrams", "definitions").await?,
        rows: state.runtime.deployments().list(&who).await?,
        decisions: state.runtime.deployments().decisions(&who).await?,
        report,
    })
}

#[get("/definitions")]
pub async fn list_definitions(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    render(&definitions_page(&state, &current, None).await?)
}

#[derive(MultipartForm)]
pub struct UploadForm {
    #[multipart(limit = "16MB")]
    file: Option<TempFile>,
    /// Optional here so that a missing token is refused like every other
    /// form's (403), not as an unreadable upload.
    csrf_token: Option<Text<String>>,
}

#[post("/definitions")]
pub async fn create_deployment(
    state: web::Data<AppState>,
    current: CurrentUser,
    MultipartForm(form): MultipartForm<UploadForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        form.csrf_token
            .as_deref()
            .map(String::as_str)
            .unwrap_or_default(),
    )?;
    let upload = form
        .file
        .ok_or_else(|| WebError::Invalid("Choose a BPMN or DMN file to upload.".into()))?;
    let file = upload
        .file_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "diagram.bpmn".into());
    let bytes = std::fs::read(upload.file.path())
        .map_err(|e| WebError::Internal(format!("upload: {e}")))?;
    let (report, status) = match state
        .runtime
        .deployments()
        .deploy(&current.principal(), &file, &bytes)
        .await
    {
        Ok(DeployResult {
            definitions,
            decisions,
            warnings,
        }) => (
            UploadReport {
                file,
                ok: true,
                definitions: definitions
                    .iter()
                    .map(|d| (d.key.clone(), d.version, d.created))
                    .collect(),
                decisions: decisions
                    .iter()
                    .map(|d| (d.key.clone(), d.version, d.created))
                    .collect(),
                problems: warnings.iter().map(problem).collect(),
            },
            StatusCode::OK,
        ),
        Err(RuntimeError::Invalid(e)) => (
            UploadReport {
                file,
                ok: false,
                definitions: Vec::new(),
                decisions: Vec::new(),
                problems: e.diagnostics.iter().map(problem).collect(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e.into()),
    };
    render_status(
        &definitions_page(&state, &current, Some(report)).await?,
        status,
    )
}

#[derive(Deserialize)]
pub struct VersionQuery {
    pub version: Option<i32>,
}

#[derive(Template)]
#[template(path = "definitions/show.html")]
struct DefinitionPage {
    layout: Layout,
    key: String,
    name: String,
    documentation: Option<String>,
    current: VersionView,
    latest: i32,
    versions: Vec<VersionView>,
    svg: Option<String>,
    fields: Vec<FieldView>,
    errors: Vec<FieldError>,
    business_key: String,
    startable: bool,
    /// Admins: suspend, resume and migrate buttons.
    may_operate: bool,
}

struct Chosen {
    versions: Vec<VersionView>,
    current: VersionView,
}

async fn choose_version(
    state: &AppState,
    current: &CurrentUser,
    key: &str,
    version: Option<i32>,
) -> Result<Chosen, WebError> {
    let versions = state
        .runtime
        .deployments()
        .versions(&current.principal(), key)
        .await?;
    let current = match version {
        Some(v) => versions.iter().find(|x| x.version == v),
        None => versions.first(),
    }
    .cloned()
    .ok_or(WebError::NotFound)?;
    Ok(Chosen { versions, current })
}

fn start_form(fields: &NodeKind) -> Vec<FormField> {
    match fields {
        NodeKind::StartEvent(s) => s.form.clone(),
        _ => Vec::new(),
    }
}

async fn definition_page(
    state: &AppState,
    current_user: &CurrentUser,
    key: &str,
    version: Option<i32>,
    submitted: Option<(&[(String, String)], String)>,
    errors: Vec<FieldError>,
) -> Result<DefinitionPage, WebError> {
    let Chosen { versions, current } = choose_version(state, current_user, key, version).await?;
    let deployed = state
        .runtime
        .deployments()
        .get(&current_user.principal(), key, Some(current.version))
        .await?;
    let process = deployed.process();
    let form = process
        .start
        .map(|s| start_form(&process.nodes[s].kind))
        .unwrap_or_default();
    let values = submitted
        .as_ref()
        .map(|(pairs, _)| posted_values(&form, pairs));
    let svg = super::instances::diagram(&deployed, &Default::default());
    Ok(DefinitionPage {
        layout: current_user
            .layout(state, process.display_name(), "definitions")
            .await?,
        key: key.to_string(),
        name: process.display_name().to_string(),
        documentation: process.documentation.clone(),
        latest: versions
            .first()
            .map(|v| v.version)
            .unwrap_or(current.version),
        startable: process.start.is_some() || !process.implicit_starts.is_empty(),
        may_operate: crate::runtime::policy::allows(
            current_user.principal().kind(),
            crate::runtime::Action::OperateDefinition,
        ),
        fields: field_views(&form, values.as_ref(), &errors),
        business_key: submitted.map(|s| s.1).unwrap_or_default(),
        current,
        versions,
        svg,
        errors,
    })
}

#[get("/definitions/{key}")]
pub async fn show_definition(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    render(&definition_page(&state, &current, &key, q.version, None, Vec::new()).await?)
}

#[post("/definitions/{key}/start")]
pub async fn start_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    let version = posted(&form, "version").and_then(|v| v.parse::<i32>().ok());
    let business_key = posted(&form, "business_key")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    let pairs = form.into_inner();
    let started = state
        .runtime
        .deployments()
        .start(
            &current.principal(),
            StartRequest {
                key: key.to_string(),
                version,
                values: Values::Posted(pairs.clone()),
                business_key: business_key.clone(),
            },
        )
        .await;
    match started {
        Ok(outcome) => {
            let name = state
                .runtime
                .deployments()
                .get(&current.principal(), &key, version)
                .await
                .map(|d| d.process().display_name().to_string())
                .unwrap_or_else(|_| key.to_string());
            set_flash(&current.session, &format!("Started {name}."));
            Ok(redirect(&format!("/instances/{}", outcome.instance_id)))
        }
        Err(RuntimeError::InvalidVariables(errors)) => {
            let page = definition_page(
                &state,
                &current,
                &key,
                version,
                Some((&pairs, business_key.unwrap_or_default())),
                errors,
            )
            .await?;
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/definitions/{key}/xml")]
pub async fn show_definition_xml(
    state: web::Data<AppState>,
    user: CurrentUser,
    key: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    let who = user.principal();
    let deployed = state
        .runtime
        .deployments()
        .get(&who, &key, q.version)
        .await?;
    let current = &deployed.definition;
    let source = state.runtime.deployments().source(&who, current).await?;
    Ok(download(
        source,
        &format!("{key}-v{}.bpmn", current.version),
        "application/xml; charset=utf-8",
    ))
}
