//! The inbox and the task page: list, claim, release and complete tasks.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::auth::{CsrfForm, CurrentUser, check_csrf, set_flash};
use super::camunda_forms::{self, Item};
use super::error::WebError;
use super::forms::{FieldView, Pager, field_views, posted};
use super::render::{Layout, redirect, render, render_status, urlencode};
use crate::model::camunda_form::Submitted;
use crate::model::form::{FieldError, posted_values};
use crate::runtime::{RuntimeError, TaskDetail, TaskFilter, TaskOrder, TaskView, Values};

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    process: Option<String>,
    sort: Option<String>,
    /// `mine`, `claimable` or empty (both).
    show: Option<String>,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct InboxPage {
    layout: Layout,
    tasks: Vec<TaskView>,
    pager: Pager,
    processes: Vec<(String, String)>,
    process: String,
    sort: String,
    show: String,
    me: String,
}

#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    current: CurrentUser,
    q: web::Query<InboxQuery>,
) -> Result<HttpResponse, WebError> {
    let order = match q.sort.as_deref() {
        Some("due") => TaskOrder::Due,
        Some("priority") => TaskOrder::Priority,
        _ => TaskOrder::Created,
    };
    let assigned = match q.show.as_deref() {
        Some("mine") => Some(true),
        Some("claimable") => Some(false),
        _ => None,
    };
    let page = q.page.unwrap_or(1).max(1);
    let process = q.process.clone().filter(|p| !p.is_empty());
    let filter = TaskFilter {
        process: process.clone(),
        instance: None,
        assigned,
        order,
        offset: Pager::offset(page),
        limit: super::forms::PAGE_SIZE,
    };
    let who = current.principal();
    let (tasks, total) = state.runtime.tasks().list(&who, &filter).await?;
    let sort = q.sort.clone().unwrap_or_else(|| "created".into());
    let show = q.show.clone().unwrap_or_default();
    let base = format!(
        "/tasks?process={}&sort={}&show={}",
        urlencode(process.as_deref().unwrap_or("")),
        urlencode(&sort),
        urlencode(&show)
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
    let page = InboxPage {
        layout: current.layout(&state, "Inbox", "tasks").await?,
        tasks,
        pager: Pager::new(page, total, |p| format!("{base}&page={p}")),
        processes,
        process: process.unwrap_or_default(),
        sort,
        show,
        me: current.user.name.clone(),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "tasks/show.html")]
struct TaskPage {
    layout: Layout,
    detail: TaskDetail,
    fields: Vec<FieldView>,
    errors: Vec<FieldError>,
    /// The components of a Camunda Form (empty without one).
    citems: Vec<Item>,
    /// Whether that form has a submit button of its own.
    csubmit: bool,
}

impl TaskPage {
    /// The HTML id of the Camunda Form input whose key an error names (the
    /// error summary links to it).
    fn cf_anchor(&self, key: &str) -> String {
        self.detail
            .camunda_form
            .as_ref()
            .and_then(|d| {
                d.inputs()
                    .into_iter()
                    .find(|c| c.key.as_deref() == Some(key))
                    .map(|c| format!("cf-{}", c.id))
            })
            .unwrap_or_else(|| "errors".into())
    }
}

async fn task_page(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    submitted: Option<&[(String, String)]>,
    errors: Vec<FieldError>,
) -> Result<TaskPage, WebError> {
    let detail = state.runtime.tasks().show(&current.principal(), id).await?;
    let values = submitted.map(|pairs| posted_values(&detail.form, pairs));
    let fields = field_views(&detail.form, values.as_ref(), &errors);
    let (citems, csubmit) = match &detail.camunda_form {
        Some(doc) => {
            let posted = submitted.map(|pairs| Submitted::posted(doc, pairs));
            (
                camunda_forms::layout(doc, &detail.form_data, posted.as_ref(), &errors),
                camunda_forms::has_submit(doc),
            )
        }
        None => (Vec::new(), false),
    };
    Ok(TaskPage {
        layout: current.layout(state, &detail.task.name, "tasks").await?,
        detail,
        fields,
        errors,
        citems,
        csubmit,
    })
}

#[get("/tasks/{id}")]
pub async fn show_task(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, WebError> {
    render(&task_page(&state, &current, *id, None, Vec::new()).await?)
}

/// Completes a task from its page's form: posted to the task's own address,
/// so that a refusal, shown there, leaves an address that reopens the task.
#[post("/tasks/{id}")]
pub async fn submit_task(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    complete(state, current, id, form).await
}

/// Completes a task (the address of older pages and scripts).
#[post("/tasks/{id}/complete")]
pub async fn complete_task(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    complete(state, current, id, form).await
}

async fn complete(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    // Everything is read and checked inside the completion's transaction;
    // the task's page is read again only to show a refusal.
    let pairs = form.into_inner();
    match state
        .runtime
        .tasks()
        .complete(&current.principal(), *id, Values::Posted(pairs.clone()))
        .await
    {
        Ok(done) => {
            set_flash(&current.session, &format!("Completed \"{}\".", done.task));
            Ok(redirect("/tasks"))
        }
        Err(RuntimeError::InvalidVariables(errors)) => {
            let page = task_page(&state, &current, *id, Some(&pairs), errors).await?;
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

/// Which components of a task's Camunda Form the values being typed hide:
/// `{"hidden": [component ids]}`, for the page's script. Stores nothing.
#[post("/tasks/{id}/form/hidden")]
pub async fn form_hidden(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    let hidden = state
        .runtime
        .tasks()
        .form_hidden(&current.principal(), *id, &form)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "hidden": hidden })))
}

#[post("/tasks/{id}/claim")]
pub async fn claim_task(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state
        .runtime
        .tasks()
        .claim(&current.principal(), *id)
        .await?;
    set_flash(&current.session, "The task is yours now.");
    Ok(redirect(&format!("/tasks/{id}")))
}

#[post("/tasks/{id}/unclaim")]
pub async fn unclaim_task(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state
        .runtime
        .tasks()
        .unclaim(&current.principal(), *id)
        .await?;
    set_flash(&current.session, "The task is back with its candidates.");
    Ok(redirect("/tasks"))
}
