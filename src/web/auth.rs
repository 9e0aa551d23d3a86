//! Who is asking: login and logout, the session (a signed, encrypted cookie
//! shared by every process through one key), the current user on every
//! request, CSRF tokens for every form, and flash messages.
//!
//! A session records the user's id and the user's *session epoch*; logging out,
//! disabling or demoting a user bumps the epoch, which ends every session of that
//! user at their next request — the cookie alone is never enough.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, get, post, web};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::WebError;
use super::render::{Layout, redirect, render, render_status};
use crate::runtime::{LoginError, Principal, User};

const UID: &str = "uid";
pub(super) const EPOCH: &str = "epoch";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const FLASH_ERROR: &str = "flash_error";

/// The session's CSRF token (created on first use).
pub fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Ok(Some(t)) = session.get::<String>(CSRF) {
        return Ok(t);
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    session
        .insert(CSRF, &token)
        .map_err(|e| WebError::Internal(format!("session: {e}")))?;
    Ok(token)
}

/// Refuses a form whose token is missing or wrong (403; nothing changes).
pub fn check_csrf(session: &Session, presented: &str) -> Result<(), WebError> {
    match session.get::<String>(CSRF) {
        Ok(Some(t))
            if !presented.is_empty() && bool::from(t.as_bytes().ct_eq(presented.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(WebError::Csrf),
    }
}

/// A message for the next page.
pub fn set_flash(session: &Session, message: &str) {
    if let Err(e) = session.insert(FLASH, message) {
        tracing::warn!(error = %e, "cannot store the flash message");
    }
}

/// A message for the next page that says something went wrong.
pub fn set_flash_error(session: &Session, message: &str) {
    if let Err(e) = session.insert(FLASH_ERROR, message) {
        tracing::warn!(error = %e, "cannot store the flash message");
    }
}

fn take_flash(session: &Session) -> Option<String> {
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}

fn take_flash_error(session: &Session) -> Option<String> {
    session
        .remove_as::<String>(FLASH_ERROR)
        .and_then(Result::ok)
}

/// The logged-in user of this request. Extracting it fails with a redirect to
/// the login page when there is none (or the session was ended).
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

impl CurrentUser {
    /// The user as the principal of what they do.
    pub fn principal(&self) -> Principal {
        self.user.principal()
    }

    /// The layout of a page for this user: navigation counts, CSRF token, flash.
    pub async fn layout(
        &self,
        state: &AppState,
        title: &str,
        section: &'static str,
    ) -> Result<Layout, WebError> {
        let (mine, claimable) = state.runtime.tasks().counts(&self.principal()).await?;
        Ok(Layout {
            title: title.to_string(),
            section,
            user: Some(self.user.name.clone()),
            admin: self.user.admin,
            csrf: csrf_token(&self.session)?,
            flash: take_flash(&self.session),
            flash_error: take_flash_error(&self.session),
            mine: super::render::count(&mine),
            claimable: if claimable.count == 0 {
                String::new()
            } else {
                super::render::count(&claimable)
            },
        })
    }
}

/// What a user with a one-time password may do: see their account page,
/// change the password, log out.
fn may_before_new_password(req: &HttpRequest) -> bool {
    matches!(
        (req.method().as_str(), req.path()),
        ("GET", "/account") | ("POST", "/account/password") | ("POST", "/logout")
    )
}

pub(super) async fn current_user(req: HttpRequest) -> Result<CurrentUser, WebError> {
    let session = req.get_session();
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let login = || WebError::LoginRequired { next: next.clone() };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| WebError::Internal("application state missing".into()))?;
    let (Ok(Some(uid)), Ok(Some(epoch))) = (session.get::<i64>(UID), session.get::<i64>(EPOCH))
    else {
        return Err(login());
    };
    match state.runtime.accounts().session_user(uid, epoch).await? {
        Some(user) if user.must_change_password && !may_before_new_password(&req) => {
            set_flash(&session, "Choose a new password before going on.");
            Err(WebError::PasswordChangeRequired)
        }
        Some(user) => Ok(CurrentUser { user, session }),
        None => {
            session.purge();
            Err(login())
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(current_user(req.clone()))
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only same-site paths are followed after login: a path that starts with one
/// `/`, with no backslash and no whitespace or control character (browsers
/// drop tabs and newlines from a URL, which would turn `/\t/host` into
/// `//host`, another site). Anything else goes to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2048
                && !n
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[get("/login")]
pub async fn show_login(
    session: Session,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    let page = LoginPage {
        layout: Layout {
            title: "Log in".into(),
            csrf: csrf_token(&session)?,
            flash: take_flash(&session),
            ..Layout::default()
        },
        next: safe_next(q.next.as_deref()),
        name: String::new(),
        error: None,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[post("/login")]
pub async fn create_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&session, &form.csrf_token)?;
    let address = state.proxies.client(&req).map(|a| a.to_string());
    let failed = |message: String, status| -> Result<HttpResponse, WebError> {
        let page = LoginPage {
            layout: Layout {
                title: "Log in".into(),
                csrf: csrf_token(&session)?,
                ..Layout::default()
            },
            next: safe_next(form.next.as_deref()),
            name: form.name.clone(),
            error: Some(message),
        };
        render_status(&page, status)
    };
    match state
        .runtime
        .accounts()
        .authenticate(form.name.trim(), &form.password, address.as_deref())
        .await
    {
        Ok(user) => {
            // A new session id on login: a session fixed before login is worthless.
            session.renew();
            session.remove(CSRF);
            session
                .insert(UID, user.id)
                .and_then(|_| session.insert(EPOCH, user.epoch))
                .map_err(|e| WebError::Internal(format!("session: {e}")))?;
            tracing::info!(user = %user.name, "logged in");
            Ok(redirect(&safe_next(form.next.as_deref())))
        }
        Err(LoginError::Invalid) => failed(
            "Wrong user name or password.".into(),
            actix_web::http::StatusCode::UNAUTHORIZED,
        ),
        Err(LoginError::Throttled { seconds }) => failed(
            format!("Too many failed attempts. Try again in {seconds} seconds."),
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(LoginError::Busy) => failed(
            "Too many logins are being checked right now. Try again in a moment.".into(),
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        ),
        Err(LoginError::Store(e)) => Err(WebError::Internal(e.to_string())),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

#[post("/logout")]
pub async fn delete_session(
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    check_csrf(&current.session, &form.csrf_token)?;
    state.runtime.accounts().log_out(&current.user).await?;
    // A fresh session that holds nothing but the message.
    current.session.clear();
    current.session.renew();
    set_flash(&current.session, "You have logged out.");
    Ok(redirect("/login"))
}
