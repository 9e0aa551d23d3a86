//! The user's own account page: their groups, their e-mail address and
//! whether they want notification mails, their password (change it; after an
//! admin reset it, before anything else) and their API tokens (create,
//! revoke).

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use super::AppState;
use super::auth::{CsrfForm, CurrentUser, check_csrf, set_flash};
use super::error::WebError;
use super::render::{Layout, redirect, render, render_status};
use crate::runtime::{FieldProblem, PasswordChange, TokenInfo};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    groups: Vec<String>,
    tokens: Vec<TokenInfo>,
    /// A token just created (shown once).
    fresh: Option<String>,
    /// The user must choose a new password before anything else.
    must_change: bool,
    /// What is wrong with the password form, by field.
    problems: Vec<FieldProblem>,
    /// The e-mail address (as entered, when it was refused).
    email: String,
    /// Whether the user wants notification mails.
    notify: bool,
    /// What is wrong with the address entered.
    email_problem: Option<String>,
    /// Whether this server sends mails at all.
    sends_mail: bool,
}

/// A field of the password form: name, label, `autocomplete`, its problem.
type PasswordField<'a> = (&'static str, &'static str, &'static str, Option<&'a str>);

impl AccountPage {
    /// The message for a field of the password form, if any.
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }

    fn password_fields(&self) -> Vec<PasswordField<'_>> {
        [
            ("current", "Current password", "current-password"),
            (
                "new",
                "New password (at least 8 characters)",
                "new-password",
            ),
            ("repeated", "New password again", "new-password"),
        ]
        .into_iter()
        .map(|(f, l, a)| (f, l, a, self.problem(f)))
        .collect()
    }
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
        must_change: current.user.must_change_password,
        problems: Vec::new(),
        email: current.user.email.clone().unwrap_or_default(),
        notify: current.user.notify,
        email_problem: None,
        sends_mail: state.runtime.sends_mail(),
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

#[derive(Deserialize)]
pub struct NotificationsForm {
    #[serde(default)]
    email: String,
    /// The checkbox "send me mails" (absent when unticked).
    notify: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[post("/account/notifications")]
pub async fn update_notifications(
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<NotificationsForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let notify = form.notify.is_some();
    match state
        .runtime
        .accounts()
        .set_own_mail(&current.user, &form.email, notify)
        .await?
    {
        Ok(()) => {
            set_flash(
                &current.session,
                if notify {
                    "Your notification settings were saved."
                } else {
                    "Saved: you get no notification mails."
                },
            );
            Ok(redirect("/account#notifications"))
        }
        Err(problems) => {
            let mut page = account_page(&state, &current, None).await?;
            page.email = form.email.clone();
            page.notify = notify;
            page.email_problem = problems.into_iter().next().map(|p| p.message);
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeated: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/account/password")]
pub async fn update_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    let change = PasswordChange {
        current: form.current.clone(),
        new: form.new.clone(),
        repeated: form.repeated.clone(),
    };
    let address = state.proxies.client(&req).map(|a| a.to_string());
    match state
        .runtime
        .accounts()
        .change_password(&current.user, &change, address.as_deref())
        .await?
    {
        Ok(user) => {
            // This session goes on in the new epoch; every other one has ended.
            current.session.renew();
            current
                .session
                .insert(super::auth::EPOCH, user.epoch)
                .map_err(|e| WebError::Internal(format!("session: {e}")))?;
            tracing::info!(user = %user.name, "password changed");
            set_flash(
                &current.session,
                "Your password was changed. Your other sessions have ended.",
            );
            Ok(redirect("/account"))
        }
        Err(problems) => {
            let mut page = account_page(&state, &current, None).await?;
            page.problems = problems;
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
