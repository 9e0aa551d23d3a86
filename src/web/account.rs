//! The user's own account page: their groups and their API tokens (create, revoke).

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::auth::{CsrfForm, CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::render::{Layout, redirect, render};
use crate::runtime::TokenInfo;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    groups: Vec<String>,
    tokens: Vec<TokenInfo>,
    /// A token just created (shown once).
    fresh: Option<String>,
}

async fn account_page(
    state: &AppState,
    current: &CurrentUser,
    fresh: Option<String>,
) -> Result<AccountPage, WebError> {
    Ok(AccountPage {
        layout: current.layout(state, "Your account", "account").await?,
        groups: current.user.groups.clone(),
        tokens: state.runtime.accounts().tokens(&current.user).await?,
        fresh,
    })
}

#[get("/account")]
pub async fn show_account(
    state: web::Data<AppState>,
    current: CurrentUser,
) -> Result<HttpResponse, WebError> {
    render(&account_page(&state, &current, None).await?)
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/account/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<NewToken>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let (_, secret) = state
        .runtime
        .accounts()
        .create_token(&current.user, &form.name)
        .await?;
    // Shown on this response only; never stored in clear.
    render(&account_page(&state, &current, Some(secret)).await?)
}

#[post("/account/tokens/{id}/revoke")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state
        .runtime
        .accounts()
        .revoke_token(&current.user, *id)
        .await?;
    set_flash(&current.session, "The token was revoked.");
    Ok(redirect("/account"))
}
