//! One error type for every handler: it renders as a page in the site's layout
//! with the right status (404, 403, 409, 422, 429, 500), or as a redirect to the
//! login page when nobody is logged in. Internal details are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::runtime::RuntimeError;

/// What went wrong while serving a page.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("This page does not exist, or you may not see it.")]
    NotFound,
    /// Not found, saying what is missing.
    #[error("{0}")]
    NoSuch(String),
    /// A malformed request (a query parameter that cannot be read).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("The form was sent without a valid security token. Reload the page and try again.")]
    Csrf,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Please log in.")]
    LoginRequired { next: String },
    /// The user logged in with a one-time password and must choose a new one first.
    #[error("Choose a new password before going on.")]
    PasswordChangeRequired,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal(String),
}

impl From<RuntimeError> for WebError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(_) => WebError::NotFound,
            RuntimeError::Forbidden(m) => WebError::Forbidden(m),
            RuntimeError::Conflict(m) | RuntimeError::NotWaiting(m) => WebError::Conflict(m),
            RuntimeError::Rejected(m) | RuntimeError::TooLarge(m) => WebError::Invalid(m),
            RuntimeError::InvalidVariables(errors) => WebError::Invalid(
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            RuntimeError::Invalid(p) => WebError::Invalid(p.to_string()),
            RuntimeError::Busy => {
                WebError::Conflict("The instance is busy right now; please try again.".into())
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

/// The error page. It is rendered without a user first (an error has no
/// request at hand); [`with_user`] renders it again with the logged-in
/// user's navigation bar.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: super::render::Layout,
    status: u16,
    message: String,
}

/// What an error page said, kept on its response so that it can be rendered
/// again in the logged-in user's layout.
#[derive(Debug, Clone)]
pub struct ErrorPageInfo {
    title: String,
    message: String,
}

/// An error page rendered again with `layout` (the logged-in user's
/// navigation); `None` when the response is no error page.
pub fn with_user(
    response: &HttpResponse,
    layout: impl FnOnce(&str) -> super::render::Layout,
) -> Option<HttpResponse> {
    let info = response.extensions().get::<ErrorPageInfo>()?.clone();
    let status = response.status();
    let page = ErrorPage {
        layout: layout(&info.title),
        status: status.as_u16(),
        message: info.message,
    };
    let body = page.render().ok()?;
    Some(
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
    )
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound | WebError::NoSuch(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::LoginRequired { .. } | WebError::PasswordChangeRequired => {
                StatusCode::SEE_OTHER
            }
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::LoginRequired { next } = self {
            let target = format!("/login?next={}", super::render::urlencode(next));
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish();
        }
        if let WebError::PasswordChangeRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/account#password"))
                .finish();
        }
        if let WebError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let status = self.status_code();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Cannot read that address",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::CONFLICT => "Already done",
            StatusCode::UNPROCESSABLE_ENTITY => "Cannot do that",
            StatusCode::TOO_MANY_REQUESTS => "Slow down",
            _ => "Error",
        };
        let message = self.to_string();
        let page = ErrorPage {
            layout: super::render::Layout {
                title: title.to_string(),
                ..Default::default()
            },
            status: status.as_u16(),
            message: message.clone(),
        };
        let body = page.render().unwrap_or_else(|_| {
            format!(
                "<!doctype html><title>{title}</title><p>{}</p>",
                status.as_u16()
            )
        });
        let mut response = HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body);
        response.extensions_mut().insert(ErrorPageInfo {
            title: title.to_string(),
            message,
        });
        response
    }
}
