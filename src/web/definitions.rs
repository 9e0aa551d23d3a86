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
use super::camunda_forms::Item;
use super::diagrams::{DiagramView, diagram_view, parse_zoom, plain_view};
use super::error::WebError;
use super::forms::{FieldView, field_views, posted};
use super::render::{Layout, download, redirect, render, render_status, urlencode};
use crate::model::form::{FieldError, FormField, posted_values};
use crate::model::svg;
use crate::model::{Definitions, Diagnostic, NodeKind, Severity};
use crate::runtime::{
    DecisionRow, DefinitionRow, DefinitionStatistics, DeployResult, RuntimeError, StartRequest,
    StatisticsVersion, Values, VersionView, ViewOnlyView,
};

/// A problem of an uploaded file, for the page.
pub struct ProblemView {
    pub severity: &'static str,
    pub position: String,
    /// The element as people know it: its kind and name (its id when it
    /// has no name).
    pub element: String,
    /// The element's id, shown on hover.
    pub element_id: String,
    pub message: String,
}

/// A problem, naming its element by the name the file gives it when `defs`
/// (the file read for drawing) knows one.
fn problem(d: &Diagnostic, defs: Option<&Definitions>) -> ProblemView {
    let name = d
        .element
        .as_deref()
        .and_then(|id| defs?.elements.get(id)?.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let shown = name.or(d.element.as_deref());
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
        element: match (&d.kind, shown) {
            (Some(k), Some(e)) => format!("{k} \"{e}\""),
            (Some(k), None) => format!("<{k}>"),
            (None, Some(e)) => format!("\"{e}\""),
            (None, None) => String::new(),
        },
        element_id: d.element.clone().unwrap_or_default(),
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
    /// The form of a `.form` file: `(id, version, created)`.
    pub forms: Vec<(String, i32, bool)>,
    pub problems: Vec<ProblemView>,
    /// The drawing of a refused BPMN file, so that its problems can be
    /// found on it (a file the engine will not run can still be looked at).
    pub diagram: Option<DiagramView>,
    /// The refused file was kept for viewing only, with this id.
    pub kept: Option<i64>,
}

#[derive(Template)]
#[template(path = "definitions/list.html")]
struct DefinitionsPage {
    layout: Layout,
    rows: Vec<DefinitionRow>,
    decisions: Vec<DecisionRow>,
    view_only: Vec<ViewOnlyView>,
    report: Option<UploadReport>,
}

async fn definitions_page(
    state: &AppState,
    current: &CurrentUser,
    report: Option<UploadReport>,
) -> Result<DefinitionsPage, WebError> {
    let who = current.principal();
    // Sorted by the names shown, not by key.
    let mut rows = state.runtime.deployments().list(&who).await?;
    rows.sort_by_cached_key(|r| (r.name.to_lowercase(), r.key.clone()));
    let mut decisions = state.runtime.deployments().decisions(&who).await?;
    decisions.sort_by_cached_key(|d| (d.name.to_lowercase(), d.key.clone()));
    Ok(DefinitionsPage {
        layout: current.layout(state, "Diagrams", "definitions").await?,
        rows,
        decisions,
        view_only: state.runtime.deployments().view_only_list(&who).await?,
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
    /// Keep a BPMN file the engine refuses for viewing only.
    keep_for_viewing: Option<Text<String>>,
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
        .ok_or_else(|| WebError::Invalid("Choose a BPMN, DMN or form file to upload.".into()))?;
    let file = upload
        .file_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "diagram.bpmn".into());
    let bytes = std::fs::read(upload.file.path())
        .map_err(|e| WebError::Internal(format!("upload: {e}")))?;
    // The file read as far as it can be drawn (BPMN only), for element names
    // and, when it is refused, its drawing.
    let drawn = crate::model::parse_for_drawing(&bytes).ok();
    let file_name = file.clone();
    let keep = form
        .keep_for_viewing
        .as_deref()
        .is_some_and(|v| !v.is_empty());
    let (report, status) = match state
        .runtime
        .deployments()
        .deploy(&current.principal(), &file, &bytes)
        .await
    {
        Ok(DeployResult {
            definitions,
            decisions,
            forms,
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
                forms: forms
                    .iter()
                    .map(|d| (d.key.clone(), d.version, d.created))
                    .collect(),
                problems: warnings
                    .iter()
                    .map(|w| problem(w, drawn.as_ref()))
                    .collect(),
                diagram: None,
                kept: None,
            },
            StatusCode::OK,
        ),
        Err(RuntimeError::Invalid(e)) => (
            UploadReport {
                file,
                ok: false,
                definitions: Vec::new(),
                decisions: Vec::new(),
                forms: Vec::new(),
                problems: e
                    .diagnostics
                    .iter()
                    .map(|d| problem(d, drawn.as_ref()))
                    .collect(),
                diagram: drawn
                    .as_ref()
                    .and_then(|d| svg::draw(d, &Default::default()))
                    .map(plain_view),
                kept: if keep && drawn.is_some() {
                    Some(
                        state
                            .runtime
                            .deployments()
                            .keep_for_viewing(&current.principal(), &file_name, &bytes)
                            .await?,
                    )
                } else {
                    None
                },
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
    pub zoom: Option<String>,
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
    diagram: Option<DiagramView>,
    fields: Vec<FieldView>,
    errors: Vec<FieldError>,
    business_key: String,
    startable: bool,
    /// The components of a Camunda start form (empty without one).
    citems: Vec<Item>,
    /// Admins: suspend, resume and migrate buttons.
    may_operate: bool,
    /// Admins: the version's statistics per element (also drawn on the diagram).
    stats: Option<StatsView>,
}

/// The statistics table under the diagram.
pub struct StatsView {
    pub rows: Vec<StatsRow>,
    /// The shortest and longest average time spent (the colour scale's ends).
    pub scale: Option<(String, String)>,
}

pub struct StatsRow {
    pub element_id: String,
    pub name: String,
    pub active: i64,
    pub completed: i64,
    pub cancelled: i64,
    pub incidents: i64,
    pub average: String,
    pub p95: String,
    /// The element's colour on the time scale.
    pub colour: String,
}

/// A time in milliseconds as people read it.
pub fn duration_text(ms: f64) -> String {
    let s = ms / 1000.0;
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// The colour scale of time spent: pale green (shortest) through yellow to
/// red (longest), on a logarithmic scale between the shortest and longest
/// average.
fn heat(average: f64, min: f64, max: f64) -> String {
    const STOPS: [(f64, [f64; 3]); 3] = [
        (0.0, [220.0, 252.0, 231.0]),
        (0.5, [254.0, 240.0, 138.0]),
        (1.0, [252.0, 165.0, 165.0]),
    ];
    let (lo, hi, x) = ((1.0 + min).ln(), (1.0 + max).ln(), (1.0 + average).ln());
    let t = if hi > lo {
        ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b) = if t <= 0.5 {
        (STOPS[0], STOPS[1])
    } else {
        (STOPS[1], STOPS[2])
    };
    let u = (t - a.0) / (b.0 - a.0);
    let c: Vec<u8> = (0..3)
        .map(|i| (a.1[i] + (b.1[i] - a.1[i]) * u).round() as u8)
        .collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The statistics as badges and colours on the diagram, and as a table.
pub fn statistics_overlay(stats: &DefinitionStatistics) -> (svg::Overlay, StatsView) {
    let averages: Vec<f64> = stats.elements.iter().filter_map(|e| e.average_ms).collect();
    let min = averages.iter().copied().fold(f64::INFINITY, f64::min);
    let max = averages.iter().copied().fold(0.0, f64::max);
    let mut overlay = svg::Overlay::default();
    let mut rows = Vec::new();
    for e in &stats.elements {
        let colour = e.average_ms.map(|a| heat(a, min, max));
        let average = e.average_ms.map(duration_text).unwrap_or_default();
        let p95 = e
            .p95_ms
            .map(|p| duration_text(p as f64))
            .unwrap_or_default();
        let mut title = format!(
            "{}: {} active, {} completed, {} cancelled, {} incidents",
            e.name, e.active, e.completed, e.cancelled, e.incidents
        );
        if !average.is_empty() {
            title.push_str(&format!(
                "; time spent: average {average}, 95th percentile {p95}"
            ));
        }
        overlay.figures.insert(
            e.element_id.clone(),
            svg::Figures {
                active: e.active,
                completed: e.completed,
                cancelled: e.cancelled,
                incidents: e.incidents,
                fill: colour.clone(),
                title,
            },
        );
        rows.push(StatsRow {
            element_id: e.element_id.clone(),
            name: e.name.clone(),
            active: e.active,
            completed: e.completed,
            cancelled: e.cancelled,
            incidents: e.incidents,
            average,
            p95,
            colour: colour.unwrap_or_default(),
        });
    }
    let scale = (!averages.is_empty()).then(|| (duration_text(min), duration_text(max)));
    (overlay, StatsView { rows, scale })
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
    zoom: Option<u32>,
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
    let citems = match state
        .runtime
        .deployments()
        .start_camunda_form(&deployed)
        .await?
    {
        Some(doc) => {
            let posted = submitted
                .as_ref()
                .map(|(pairs, _)| crate::model::camunda_form::Submitted::posted(&doc, pairs));
            super::camunda_forms::layout(&doc, &serde_json::Map::new(), posted.as_ref(), &errors)
        }
        None => Vec::new(),
    };
    let who = current_user.principal();
    let (overlay, stats) =
        if crate::runtime::policy::allows(who.kind(), crate::runtime::Action::ViewStatistics) {
            let numbers = state
                .runtime
                .deployments()
                .statistics(&who, key, StatisticsVersion::Version(current.version))
                .await?;
            let (overlay, view) = statistics_overlay(&numbers);
            (overlay, Some(view))
        } else {
            (Default::default(), None)
        };
    let k = urlencode(key);
    let v = current.version;
    let diagram = diagram_view(
        &deployed,
        overlay,
        zoom,
        &format!("/definitions/{k}?version={v}"),
        &format!("/definitions/{k}/diagram?version={v}"),
        false,
    );
    Ok(DefinitionPage {
        citems,
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
        diagram,
        errors,
        stats,
    })
}

#[get("/definitions/{key}")]
pub async fn show_definition(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> Result<HttpResponse, WebError> {
    let zoom = parse_zoom(q.zoom.as_deref())?;
    render(&definition_page(&state, &current, &key, q.version, zoom, None, Vec::new()).await?)
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
                None,
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

#[derive(Template)]
#[template(path = "definitions/view_only.html")]
struct ViewOnlyPage {
    layout: Layout,
    diagram: ViewOnlyView,
    drawing: Option<DiagramView>,
    problems: Vec<ProblemView>,
}

/// A file kept for viewing only: its drawing and why the engine will not
/// run it. No start form: it is never startable.
#[get("/view-only/{id}")]
pub async fn show_view_only(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let (diagram, defs) = state
        .runtime
        .deployments()
        .view_only(&current.principal(), *id)
        .await?;
    let problems = defs
        .warnings
        .iter()
        .map(|d| problem(d, Some(&defs)))
        .collect();
    render(&ViewOnlyPage {
        layout: current.layout(&state, &diagram.name, "definitions").await?,
        drawing: svg::draw(&defs, &Default::default()).map(plain_view),
        problems,
        diagram,
    })
}
