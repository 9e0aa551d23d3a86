//! Instances: the list with its filters, and an instance's page — the diagram
//! with where the instance stands, its tasks, variables, incidents and history —
//! with the admin actions cancel and retry.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::auth::{CsrfForm, CurrentUser, check_csrf, set_flash, set_flash_error};
use super::diagrams::{DiagramView, diagram_view, parse_zoom};
use super::error::WebError;
use super::forms::{PAGE_SIZE, Pager};
use super::render::{Layout, redirect, render, urlencode};
use super::story::{StoryBlock, parse_at, past_error, past_overlay, story_block};
use crate::model::expr::short;
use crate::model::svg::{Mark, MarkState, Overlay};
use crate::runtime::{Deployed, InstanceDetail, InstanceFilter, InstanceView, PastView, Total};

/// The diagram of a deployment as inline SVG, with an overlay.
pub fn diagram(deployed: &Deployed, overlay: &Overlay) -> Option<String> {
    crate::model::svg::render(&deployed.definitions, overlay)
}

#[derive(Deserialize, Default)]
pub struct InstancesQuery {
    definition: Option<String>,
    state: Option<String>,
    started_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `name=value`, several separated by commas.
    var: Option<String>,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "instances/list.html")]
struct InstancesPage {
    layout: Layout,
    instances: Vec<InstanceView>,
    pager: Pager,
    processes: Vec<(String, String)>,
    definition: String,
    state: String,
    started_by: String,
    from: String,
    to: String,
    var: String,
    problem: Option<String>,
}

fn day(text: &Option<String>, what: &str) -> Result<Option<chrono::DateTime<Utc>>, String> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Some(Utc.from_utc_datetime(&d)))
            .ok_or_else(|| format!("the {what} date must look like 2025-01-31")),
    }
}

fn variables(text: &Option<String>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in text
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("\"{part}\" is not name=value"));
        };
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(out)
}

#[get("/instances")]
pub async fn list_instances(
    state: web::Data<AppState>,
    current: CurrentUser,
    q: web::Query<InstancesQuery>,
) -> Result<HttpResponse, WebError> {
    let page = q.page.unwrap_or(1).max(1);
    let filled = |s: &Option<String>| s.clone().filter(|x| !x.trim().is_empty());
    let mut problem = None;
    let mut query = InstanceFilter {
        definition: filled(&q.definition),
        state: filled(&q.state),
        started_by: filled(&q.started_by),
        offset: Pager::offset(page),
        limit: PAGE_SIZE,
        ..Default::default()
    };
    match (day(&q.from, "from"), day(&q.to, "to"), variables(&q.var)) {
        (Ok(from), Ok(to), Ok(vars)) => {
            query.started_from = from;
            query.started_to = to.map(|t| t + chrono::Duration::days(1));
            query.variables = vars;
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => problem = Some(e),
    }
    let who = current.principal();
    let (instances, total) = if problem.is_some() {
        (
            Vec::new(),
            Total {
                count: 0,
                more: false,
            },
        )
    } else {
        state.runtime.instances().list(&who, &query).await?
    };
    let v = |s: &Option<String>| s.clone().unwrap_or_default();
    let base = format!(
        "/instances?definition={}&state={}&started_by={}&from={}&to={}&var={}",
        urlencode(&v(&q.definition)),
        urlencode(&v(&q.state)),
        urlencode(&v(&q.started_by)),
        urlencode(&v(&q.from)),
        urlencode(&v(&q.to)),
        urlencode(&v(&q.var))
    );
    let mut processes: Vec<(String, String)> = state
        .runtime
        .deployments()
        .list(&who)
        .await?
        .into_iter()
        .map(|d| (d.key, d.name))
        .collect();
    super::forms::by_name(&mut processes);
    let page = InstancesPage {
        layout: current.layout(&state, "Instances", "instances").await?,
        instances,
        pager: Pager::new(page, total, |p| format!("{base}&page={p}")),
        processes,
        definition: v(&q.definition),
        state: v(&q.state),
        started_by: v(&q.started_by),
        from: v(&q.from),
        to: v(&q.to),
        var: v(&q.var),
        problem,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct InstanceQueryParams {
    element: Option<String>,
    /// Time travel: the history entry (by sequence number) to show the instance after.
    at: Option<String>,
    /// `oldest`: the history oldest first (newest first otherwise).
    order: Option<String>,
    zoom: Option<String>,
}

#[derive(Template)]
#[template(path = "instances/show.html")]
struct InstancePage {
    layout: Layout,
    detail: InstanceDetail,
    diagram: Option<DiagramView>,
    variables: Vec<(String, String)>,
    element: Option<String>,
    element_name: String,
    /// The history as a story.
    story: StoryBlock,
    /// Time travel: the instance as it stood after an entry.
    past: Option<PastView>,
}

impl InstancePage {
    /// Whether the history entry `seq` is the one a past view shows.
    fn is_current(&self, seq: &i64) -> bool {
        self.story.current == Some(*seq)
    }
}

/// Marks each element: active ones (and their incidents), how often each
/// completed, the flows taken and the elements that ended without completing.
/// Each linked element is named with its state, for the tooltip and for
/// screen readers.
pub(super) fn overlay(detail: &InstanceDetail) -> Overlay {
    let process = detail.deployed.process();
    let defs = &detail.deployed.definitions;
    let name = |id: &str| -> String {
        process
            .node(id)
            .map(|n| n.display_name().to_string())
            .or_else(|| defs.elements.get(id).and_then(|e| e.name.clone()))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.to_string())
    };
    let mut marks: HashMap<String, Mark> = HashMap::new();
    let mut taken: HashMap<&str, u32> = HashMap::new();
    let mut terminated: HashMap<&str, u32> = HashMap::new();
    for h in &detail.history {
        match (h.kind.as_str(), h.element.as_deref()) {
            ("flow_taken", Some(flow)) => *taken.entry(flow).or_default() += 1,
            ("element_terminated", Some(e)) => *terminated.entry(e).or_default() += 1,
            _ => {}
        }
    }
    for (flow, n) in taken {
        let times = if n > 1 {
            format!(" {n}×")
        } else {
            String::new()
        };
        marks.insert(
            flow.to_string(),
            Mark {
                state: Some(MarkState::Completed),
                count: 0,
                href: None,
                title: Some(format!("{}: taken{times}", name(flow))),
            },
        );
    }
    for (element, n) in &detail.completions {
        marks.insert(
            element.clone(),
            Mark {
                state: Some(MarkState::Completed),
                count: *n as u32,
                href: None,
                title: Some(format!("{}: completed {n}×", name(element))),
            },
        );
    }
    // Ended without ever completing: cancelled or interrupted.
    for (element, n) in terminated {
        if detail.completions.contains_key(element) {
            continue;
        }
        let times = if n > 1 {
            format!(" {n}×")
        } else {
            String::new()
        };
        marks.insert(
            element.to_string(),
            Mark {
                state: Some(MarkState::Terminated),
                count: 0,
                href: None,
                title: Some(format!("{}: cancelled{times}", name(element))),
            },
        );
    }
    for e in &detail.active {
        let m = marks.entry(e.element.clone()).or_default();
        let (state, word) = if e.incident {
            (MarkState::Incident, "incident")
        } else {
            (MarkState::Active, "active")
        };
        m.state = Some(state);
        m.title = Some(format!("{}: {word}", name(&e.element)));
    }
    for gateway in &detail.joining {
        marks.entry(gateway.clone()).or_insert(Mark {
            state: Some(MarkState::Active),
            count: 0,
            href: None,
            title: Some(format!("{}: waiting for other branches", name(gateway))),
        });
    }
    for n in &process.nodes {
        let m = marks.entry(n.id.clone()).or_default();
        if m.title.is_none() {
            m.title = Some(format!("{}: not reached", name(&n.id)));
        }
        m.href = Some(format!("?element={}#history", urlencode(&n.id)));
    }
    Overlay {
        marks,
        ..Default::default()
    }
}

/// What an instance waits for, in words ("a user task", "a timer").
pub fn wait_words(kind: &str) -> &'static str {
    match kind {
        "user_task" => "a person to complete a user task",
        "message" => "a message",
        "signal" => "a signal",
        "condition" => "a condition to become true",
        "timer" => "a timer",
        "job" => "a service task to run",
        "called" => "a called process to finish",
        "trigger" => "a manual trigger",
        "compensation" => "compensation to finish",
        "join" => "other branches to arrive",
        "incident" => "an incident to be resolved",
        _ => "an event",
    }
}

#[get("/instances/{id}")]
pub async fn show_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    q: web::Query<InstanceQueryParams>,
) -> Result<HttpResponse, WebError> {
    let at = parse_at(q.at.as_deref())?;
    let detail = state
        .runtime
        .instances()
        .show(&current.principal(), *id)
        .await?;
    let past = match at {
        None => None,
        Some(seq) => Some(
            state
                .runtime
                .instances()
                .past(&current.principal(), *id, seq)
                .await
                .map_err(past_error)?,
        ),
    };
    let zoom = parse_zoom(q.zoom.as_deref())?;
    let mut params = Vec::new();
    if let Some(seq) = at {
        params.push(format!("at={seq}"));
    }
    if let Some(e) = q.element.as_deref().filter(|e| !e.is_empty()) {
        params.push(format!("element={}", urlencode(e)));
    }
    let here = if params.is_empty() {
        format!("/instances/{id}")
    } else {
        format!("/instances/{id}?{}", params.join("&"))
    };
    let marks = match &past {
        None => overlay(&detail),
        Some(p) => {
            let nodes: Vec<String> = detail
                .deployed
                .process()
                .nodes
                .iter()
                .map(|n| n.id.clone())
                .collect();
            past_overlay(p, &nodes, p.entry.seq)
        }
    };
    let diagram = diagram_view(
        &detail.deployed,
        marks,
        zoom,
        &here,
        &format!("/instances/{id}/diagram"),
        false,
    );
    let variables = past
        .as_ref()
        .map_or(&detail.variables, |p| &p.variables)
        .iter()
        .map(|(k, v)| (k.clone(), short(v)))
        .collect();
    let element = q.element.clone().filter(|e| !e.is_empty());
    let story = story_block(
        *id,
        &detail.story,
        element.as_deref(),
        q.order.as_deref(),
        past.as_ref().map(|p| p.entry.seq),
    );
    let element_name = element
        .as_deref()
        .and_then(|e| detail.deployed.process().node(e))
        .map(|n| n.display_name().to_string())
        .unwrap_or_default();
    let title = format!(
        "{} · {}",
        detail.instance.process_name,
        super::render::short_id(&detail.instance.id)
    );
    let page = InstancePage {
        layout: current.layout(&state, &title, "instances").await?,
        diagram,
        variables,
        element,
        element_name,
        story,
        past,
        detail,
    };
    render(&page)
}

#[post("/instances/{id}/cancel")]
pub async fn cancel_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state
        .runtime
        .instances()
        .cancel(&current.principal(), *id)
        .await?;
    set_flash(&current.session, "The instance was terminated.");
    Ok(redirect(&format!("/instances/{id}")))
}

#[derive(serde::Deserialize)]
pub struct TriggerForm {
    csrf_token: String,
    element: String,
}

#[post("/instances/{id}/trigger")]
pub async fn trigger_element(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<TriggerForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state
        .runtime
        .instances()
        .trigger(&current.principal(), *id, &form.element, Default::default())
        .await?;
    set_flash(&current.session, "Triggered.");
    Ok(redirect(&format!("/instances/{id}")))
}

#[post("/instances/{id}/incidents/{key}/retry")]
pub async fn retry_incident(
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(Uuid, u64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let (id, key) = *path;
    let outcome = state
        .runtime
        .instances()
        .retry_incident(&current.principal(), id, key)
        .await?;
    // The step ran again inside the retry: it may have failed at once.
    let again: Vec<String> = outcome
        .events
        .iter()
        .filter_map(|e| match e {
            crate::runtime::Event::IncidentRaised { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect();
    if again.is_empty() {
        set_flash(
            &current.session,
            "Retried: the step ran again without an incident.",
        );
    } else {
        set_flash_error(
            &current.session,
            &format!("The retry failed again: {}", again.join("; ")),
        );
    }
    Ok(redirect(&format!("/instances/{id}")))
}

#[derive(serde::Deserialize)]
pub struct VariableForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    /// `text`, `number`, `boolean`, `json` or `null`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
}

/// Reads a variable's value as the form's type says; the error names the variable.
fn variable_value(form: &VariableForm) -> Result<serde_json::Value, String> {
    let name = form.name.trim();
    let value = form.value.trim();
    match form.kind.as_str() {
        "text" => Ok(serde_json::Value::String(form.value.clone())),
        "number" => value
            .parse::<i64>()
            .map(serde_json::Value::from)
            .or_else(|_| {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(serde_json::Value::from)
                    .ok_or(())
            })
            .map_err(|_| format!("variable \"{name}\": \"{value}\" is not a number")),
        "boolean" => match value {
            "true" => Ok(serde_json::Value::Bool(true)),
            "false" => Ok(serde_json::Value::Bool(false)),
            _ => Err(format!(
                "variable \"{name}\": a boolean is true or false, not \"{value}\""
            )),
        },
        "json" => serde_json::from_str(value)
            .map_err(|e| format!("variable \"{name}\": the value is not JSON ({e})")),
        "null" => Ok(serde_json::Value::Null),
        other => Err(format!(
            "variable \"{name}\": \"{other}\" is not a type (text, number, boolean, json or null)"
        )),
    }
}

#[post("/instances/{id}/variables")]
pub async fn set_variables(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<VariableForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let name = form.name.trim();
    if name.is_empty() {
        return Err(WebError::Invalid("The variable needs a name.".into()));
    }
    let value = variable_value(&form).map_err(WebError::Invalid)?;
    let mut variables = serde_json::Map::new();
    variables.insert(name.to_string(), value);
    state
        .runtime
        .instances()
        .set_variables(&current.principal(), *id, variables)
        .await?;
    set_flash(&current.session, &format!("Set {name}."));
    Ok(redirect(&format!("/instances/{id}")))
}
