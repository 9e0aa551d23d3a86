//! Users and groups (admins only): list, add, change groups, role, state and
//! e-mail address, reset a password to a one-time password, and see the
//! notification mails that were not delivered.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::{CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::render::{Layout, redirect, render, render_status};
use crate::runtime::RuntimeError;
use crate::runtime::accounts::parse_groups;
use crate::runtime::{MailView, NewUser, Role, User};

/// How many undelivered mails the page lists.
const UNDELIVERED_SHOWN: u64 = 20;

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    error: Option<String>,
    name: String,
    groups: String,
    /// A one-time password just set: (user name, password), shown once.
    one_time: Option<(String, String)>,
    /// Notification mails that were not delivered, newest first.
    undelivered: Vec<MailView>,
    /// Whether this server sends mails.
    sends_mail: bool,
}

async fn users_page(
    state: &AppState,
    current: &CurrentUser,
    error: Option<String>,
    name: String,
    groups: String,
) -> Result<UsersPage, WebError> {
    Ok(UsersPage {
        layout: current.layout(state, "Users", "users").await?,
        users: state.runtime.accounts().users(&current.principal()).await?,
        error,
        name,
        groups,
        one_time: None,
        undelivered: state
            .runtime
            .accounts()
            .undelivered_mails(&current.principal(), UNDELIVERED_SHOWN)
            .await?,
        sends_mail: state.runtime.sends_mail(),
    })
}

#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    render(&users_page(&state, &current, None, String::new(), String::new()).await?)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    name: String,
    password: String,
    #[serde(default)]
    groups: String,
    admin: Option<String>,
    worker: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

/// The role the checkboxes of a user form choose (admin wins over worker).
fn role(admin: &Option<String>, worker: &Option<String>) -> Role {
    if admin.is_some() {
        Role::Admin
    } else if worker.is_some() {
        Role::Worker
    } else {
        Role::User
    }
}

#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let refuse = |message: String| async {
        let page = users_page(
            &state,
            &current,
            Some(message),
            form.name.clone(),
            form.groups.clone(),
        )
        .await?;
        render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let groups = match parse_groups(&form.groups) {
        Ok(g) => g,
        Err(e) => return refuse(e).await,
    };
    let new = NewUser {
        name: form.name.trim().to_string(),
        password: form.password.clone(),
        groups,
        role: role(&form.admin, &form.worker),
    };
    match state
        .runtime
        .accounts()
        .create_user(&current.principal(), &new)
        .await
    {
        Ok(u) => {
            set_flash(&current.session, &format!("Added {}.", u.name));
            Ok(redirect("/users"))
        }
        Err(e @ RuntimeError::Forbidden(_)) => Err(e.into()),
        Err(e) => refuse(e.to_string()).await,
    }
}

#[derive(Deserialize)]
pub struct UserChange {
    #[serde(default)]
    groups: String,
    admin: Option<String>,
    worker: Option<String>,
    disabled: Option<String>,
    /// The e-mail address (absent: left as it is; empty: none).
    email: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[post("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<UserChange>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let groups = parse_groups(&form.groups).map_err(WebError::Invalid)?;
    if let Some(email) = &form.email {
        // Checked (and refused, naming the field) before anything changes.
        crate::runtime::mail::valid_email(email)
            .map_err(|e| WebError::Invalid(format!("E-mail address: {e}")))?;
    }
    let user = state
        .runtime
        .accounts()
        .update_user(
            &current.principal(),
            *id,
            role(&form.admin, &form.worker),
            form.disabled.is_some(),
            &groups,
        )
        .await?;
    if let Some(email) = &form.email {
        state
            .runtime
            .accounts()
            .set_user_email(&current.principal(), *id, email)
            .await?;
    }
    set_flash(&current.session, &format!("Saved {}.", user.name));
    Ok(redirect("/users"))
}

#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<super::auth::CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let (user, password) = state
        .runtime
        .accounts()
        .reset_password(&current.principal(), *id)
        .await?;
    tracing::info!(user = %user.name, by = %current.user.name, "password reset");
    let mut page = users_page(&state, &current, None, String::new(), String::new()).await?;
    // Shown on this response only; never stored in clear.
    page.one_time = Some((user.name, password));
    render(&page)
}
