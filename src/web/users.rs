//! Users and groups (admins only): list, add, change groups, role and state.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::AppState;
use super::auth::{CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::render::{Layout, redirect, render, render_status};
use crate::runtime::User;
use crate::runtime::accounts::parse_groups;

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    error: Option<String>,
    name: String,
    groups: String,
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
        users: state.runtime.users().await?,
        error,
        name,
        groups,
    })
}

#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    current.require_admin()?;
    render(&users_page(&state, &current, None, String::new(), String::new()).await?)
}

#[derive(Deserialize)]
pub struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    groups: String,
    admin: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<NewUser>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    current.require_admin()?;
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
    match state
        .runtime
        .create_user(
            form.name.trim(),
            &form.password,
            &groups,
            form.admin.is_some(),
        )
        .await
    {
        Ok(u) => {
            set_flash(&current.session, &format!("Added {}.", u.name));
            Ok(redirect("/users"))
        }
        Err(e) => refuse(e.to_string()).await,
    }
}

#[derive(Deserialize)]
pub struct UserChange {
    #[serde(default)]
    groups: String,
    admin: Option<String>,
    disabled: Option<String>,
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
    current.require_admin()?;
    let groups = parse_groups(&form.groups).map_err(WebError::Invalid)?;
    let admin = form.admin.is_some();
    let disabled = form.disabled.is_some();
    if *id == current.user.id && (!admin || disabled) {
        return Err(WebError::Invalid(
            "You cannot demote or disable yourself; ask another admin.".into(),
        ));
    }
    let user = state
        .runtime
        .update_user(*id, admin, disabled, &groups)
        .await?;
    set_flash(&current.session, &format!("Saved {}.", user.name));
    Ok(redirect("/users"))
}
