//! The operator's pages (admins): suspend and resume an instance or a process
//! version, modify an instance (pick elements and what to do with them), and
//! migrate a batch of instances to another version (see the plan and its
//! problems, run it, see the result per instance).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use uuid::Uuid;

use super::AppState;
use super::auth::{CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::forms::posted;
use super::render::{Layout, redirect, render, render_status};
use crate::runtime::policy::{self, Action};
use crate::runtime::{
    Instruction, Migration, MigrationReport, Modification, RuntimeError, VersionView,
};

/// How many instructions the modification form offers.
const ROWS: usize = 3;

fn reason(form: &[(String, String)]) -> Option<String> {
    posted(form, "reason")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

#[post("/instances/{id}/suspend")]
pub async fn suspend_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    state
        .runtime
        .instances()
        .suspend(&current.principal(), *id, reason(&form))
        .await?;
    set_flash(&current.session, "The instance is suspended.");
    Ok(redirect(&format!("/instances/{id}")))
}

#[post("/instances/{id}/resume")]
pub async fn resume_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    state
        .runtime
        .instances()
        .resume(&current.principal(), *id, reason(&form))
        .await?;
    set_flash(&current.session, "The instance is resumed.");
    Ok(redirect(&format!("/instances/{id}")))
}

/// An element to pick, with what the instance does there now.
struct ElementChoice {
    id: String,
    label: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "instances/modify.html")]
struct ModifyPage {
    layout: Layout,
    id: Uuid,
    process_name: String,
    elements: Vec<ElementChoice>,
    rows: Vec<(String, String)>,
    reason: String,
    problem: Option<String>,
}

async fn modify_page(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    rows: Vec<(String, String)>,
    reason: String,
    problem: Option<String>,
) -> Result<ModifyPage, WebError> {
    let who = current.principal();
    let detail = state.runtime.instances().show(&who, id).await?;
    if !detail.may.modify {
        return Err(WebError::Forbidden(policy::refusal(
            Action::ModifyInstance,
            None,
        )));
    }
    let process = detail.deployed.process();
    let elements = process
        .nodes
        .iter()
        .map(|n| {
            let active = detail.active.iter().any(|a| a.element == n.id);
            ElementChoice {
                label: format!(
                    "{} ({}, {}){}",
                    n.display_name(),
                    n.id,
                    n.kind_name(),
                    if active { " — active" } else { "" }
                ),
                id: n.id.clone(),
                active,
            }
        })
        .collect();
    let mut rows = rows;
    rows.resize(ROWS, (String::new(), String::new()));
    Ok(ModifyPage {
        layout: current
            .layout(
                state,
                &format!("Modify {}", detail.instance.process_name),
                "instances",
            )
            .await?,
        id,
        process_name: detail.instance.process_name.clone(),
        elements,
        rows,
        reason,
        problem,
    })
}

#[get("/instances/{id}/modify")]
pub async fn show_modification(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, WebError> {
    render(&modify_page(&state, &current, *id, Vec::new(), String::new(), None).await?)
}

#[post("/instances/{id}/modify")]
pub async fn modify_instance(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    let mut rows = Vec::new();
    let mut instructions = Vec::new();
    let mut problem = None;
    for i in 0..ROWS {
        let action = posted(&form, &format!("action{i}")).unwrap_or_default();
        let element = posted(&form, &format!("element{i}")).unwrap_or_default();
        rows.push((action.to_string(), element.to_string()));
        if action.is_empty() && element.is_empty() {
            continue;
        }
        let e = element.to_string();
        match action {
            "cancel" => instructions.push(Instruction::Cancel(e)),
            "start_before" => instructions.push(Instruction::StartBefore(e)),
            "start_after" => instructions.push(Instruction::StartAfter(e)),
            _ => {
                problem = Some(format!(
                    "row {}: choose what to do with \"{element}\"",
                    i + 1
                ))
            }
        }
    }
    let why = reason(&form);
    if problem.is_none() {
        let done = state
            .runtime
            .instances()
            .modify(
                &current.principal(),
                *id,
                Modification {
                    instructions,
                    variables: Default::default(),
                    reason: why.clone(),
                },
            )
            .await;
        match done {
            Ok(_) => {
                set_flash(&current.session, "The instance was modified.");
                return Ok(redirect(&format!("/instances/{id}")));
            }
            Err(RuntimeError::Rejected(m) | RuntimeError::Conflict(m)) => problem = Some(m),
            Err(e) => return Err(e.into()),
        }
    }
    let page = modify_page(
        &state,
        &current,
        *id,
        rows,
        why.unwrap_or_default(),
        problem,
    )
    .await?;
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[post("/definitions/{key}/versions/{version}/suspend")]
pub async fn suspend_version(
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(String, i32)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    version_state(&state, &current, path.into_inner(), &form, true).await
}

#[post("/definitions/{key}/versions/{version}/resume")]
pub async fn resume_version(
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(String, i32)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    version_state(&state, &current, path.into_inner(), &form, false).await
}

async fn version_state(
    state: &AppState,
    current: &CurrentUser,
    (key, version): (String, i32),
    form: &[(String, String)],
    suspended: bool,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(form, "csrf_token").unwrap_or_default(),
    )?;
    let instances = posted(form, "include_instances").is_some();
    let r = state
        .runtime
        .deployments()
        .suspend_version(&current.principal(), &key, version, suspended, instances)
        .await?;
    let what = if suspended { "suspended" } else { "resumed" };
    set_flash(
        &current.session,
        &format!(
            "Version {version} is {what}{}.",
            if instances {
                format!(", with {} instance(s)", r.instances.len())
            } else {
                String::new()
            }
        ),
    );
    Ok(redirect(&format!("/definitions/{key}?version={version}")))
}

#[derive(Template)]
#[template(path = "definitions/migrate.html")]
struct MigratePage {
    layout: Layout,
    key: String,
    versions: Vec<VersionView>,
    from: i32,
    to: i32,
    mapping: String,
    report: Option<MigrationReport>,
    problem: Option<String>,
    /// The running instances of `listed` (the version they were listed for),
    /// each with whether it is picked.
    listed: i32,
    instances: Vec<(Uuid, bool)>,
}

impl MigratePage {
    /// How many instances are picked.
    fn picked(&self) -> usize {
        self.instances.iter().filter(|(_, p)| *p).count()
    }

    /// Lists the running instances of the `from` version, picking those in
    /// `picked` (all when `None`).
    async fn list(
        &mut self,
        state: &AppState,
        current: &CurrentUser,
        picked: Option<&[Uuid]>,
    ) -> Result<(), WebError> {
        let ids = state
            .runtime
            .deployments()
            .running_instances(&current.principal(), &self.key, self.from)
            .await?;
        self.listed = self.from;
        self.instances = ids
            .into_iter()
            .map(|id| (id, picked.is_none_or(|p| p.contains(&id))))
            .collect();
        Ok(())
    }
}

#[derive(serde::Deserialize)]
pub struct MigrateQuery {
    from: Option<i32>,
}

async fn migrate_page(
    state: &AppState,
    current: &CurrentUser,
    key: &str,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<MigratePage, WebError> {
    let who = current.principal();
    let versions = state.runtime.deployments().versions(&who, key).await?;
    if versions.is_empty() {
        return Err(WebError::NotFound);
    }
    if !policy::allows(who.kind(), Action::OperateDefinition) {
        return Err(WebError::Forbidden(policy::refusal(
            Action::OperateDefinition,
            None,
        )));
    }
    let latest = versions.first().map(|v| v.version).unwrap_or(1);
    let oldest = versions.last().map(|v| v.version).unwrap_or(1);
    Ok(MigratePage {
        layout: current
            .layout(state, &format!("Migrate {key}"), "definitions")
            .await?,
        key: key.to_string(),
        from: from.unwrap_or(oldest),
        to: to.unwrap_or(latest),
        versions,
        mapping: String::new(),
        report: None,
        problem: None,
        listed: 0,
        instances: Vec::new(),
    })
}

#[get("/definitions/{key}/migrate")]
pub async fn show_migration(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    q: web::Query<MigrateQuery>,
) -> Result<HttpResponse, WebError> {
    let mut page = migrate_page(&state, &current, &key, q.from, None).await?;
    page.list(&state, &current, None).await?;
    render(&page)
}

/// `old=new` per line (or separated by commas).
fn parse_mapping(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((old, new)) = part.split_once('=') else {
            return Err(format!("mapping: \"{part}\" is not old=new"));
        };
        out.insert(old.trim().to_string(), new.trim().to_string());
    }
    Ok(out)
}

#[post("/definitions/{key}/migrate")]
pub async fn migrate_instances(
    state: web::Data<AppState>,
    current: CurrentUser,
    key: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    check_csrf(
        &current.session,
        posted(&form, "csrf_token").unwrap_or_default(),
    )?;
    let number = |name: &str| posted(&form, name).and_then(|v| v.trim().parse::<i32>().ok());
    let mut page = migrate_page(&state, &current, &key, number("from"), number("to")).await?;
    page.mapping = posted(&form, "mapping").unwrap_or_default().to_string();
    let run = posted(&form, "run").is_some();
    // The instances picked among those listed for the version posted as `listed`.
    let listed = number("listed");
    let mut picked = Vec::new();
    for (name, value) in form.iter() {
        if name == "instance" {
            match value.parse::<Uuid>() {
                Ok(id) if !picked.contains(&id) => picked.push(id),
                Ok(_) => {}
                Err(_) => {
                    page.problem = Some(format!("instance: \"{value}\" is not an instance id"))
                }
            }
        }
    }
    let parsed = parse_mapping(&page.mapping);
    match parsed {
        _ if page.problem.is_some() => {}
        Err(e) => page.problem = Some(e),
        Ok(_) if listed != Some(page.from) => {
            // The version to move from changed: show its instances to pick from.
            page.list(&state, &current, None).await?;
            page.problem = Some(format!(
                "Version {} has {} running instance(s): pick the ones to move, then check the plan again.",
                page.from,
                page.instances.len()
            ));
            return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Ok(_) if picked.is_empty() => {
            page.problem = Some("Pick at least one instance to move.".into())
        }
        Ok(mapping) => {
            let answer = state
                .runtime
                .deployments()
                .migrate(
                    &current.principal(),
                    &key,
                    &Migration {
                        from_version: page.from,
                        to_version: page.to,
                        mapping,
                        instances: Some(picked.clone()),
                        dry_run: !run,
                    },
                )
                .await;
            match answer {
                Ok(report) => page.report = Some(report),
                Err(RuntimeError::Rejected(m)) => page.problem = Some(m),
                Err(e) => return Err(e.into()),
            }
        }
    }
    // Listed again: the ones that moved are not running this version any more.
    page.list(&state, &current, Some(&picked)).await?;
    let bad =
        page.problem.is_some() || page.report.as_ref().is_some_and(|r| !r.problems.is_empty());
    if bad {
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}
