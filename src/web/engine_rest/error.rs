//! Camunda's error body, `{"type": "...", "message": "..."}`, with Camunda's
//! status codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::variables::VariableError;
use crate::runtime::RuntimeError;

/// An error of the Camunda surface.
#[derive(Debug, Clone)]
pub struct RestError {
    pub status: StatusCode,
    /// Camunda's exception name: `InvalidRequestException`, `RestException`...
    pub kind: &'static str,
    pub message: String,
    /// Camunda's `details`, for the exceptions that have them (a
    /// `ParseException`'s problems per resource).
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl RestError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> RestError {
        RestError {
            status,
            kind,
            message: message.into(),
            details: None,
        }
    }

    /// A request Camunda would refuse: 400 `InvalidRequestException`.
    pub fn invalid(message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
    }

    /// 401 `AuthenticationException`.
    pub fn unauthenticated(message: impl Into<String>) -> RestError {
        RestError::new(StatusCode::UNAUTHORIZED, "AuthenticationException", message)
    }

    /// 404 for a path this surface does not serve.
    pub fn no_such_endpoint() -> RestError {
        RestError::new(
            StatusCode::NOT_FOUND,
            "RestException",
            "no such endpoint here (see the README's \"Coming from Camunda 7\")",
        )
    }

    /// The answer for a runtime error on an external task: a lock that is
    /// not the worker's is 400, as in Camunda.
    pub fn external(e: RuntimeError, id: &str) -> RestError {
        match e {
            RuntimeError::NotFound(_) => RestError::new(
                StatusCode::NOT_FOUND,
                "RestException",
                format!("External task with id {id} does not exist"),
            ),
            RuntimeError::Conflict(m) | RuntimeError::NotWaiting(m) => {
                RestError::new(StatusCode::BAD_REQUEST, "BadUserRequestException", m)
            }
            other => other.into(),
        }
    }
}

impl From<VariableError> for RestError {
    fn from(e: VariableError) -> Self {
        RestError::invalid(e.to_string())
    }
}

impl From<RuntimeError> for RestError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(m) => RestError::new(
                StatusCode::NOT_FOUND,
                "RestException",
                format!("{m} not found"),
            ),
            RuntimeError::Forbidden(m) => {
                RestError::new(StatusCode::FORBIDDEN, "AuthorizationException", m)
            }
            RuntimeError::Conflict(m) | RuntimeError::NotWaiting(m) => {
                RestError::new(StatusCode::BAD_REQUEST, "BadUserRequestException", m)
            }
            RuntimeError::Rejected(m) | RuntimeError::TooLarge(m) => RestError::invalid(m),
            RuntimeError::InvalidVariables(fields) => RestError::invalid(
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            RuntimeError::Invalid(p) => RestError::invalid(
                p.diagnostics
                    .iter()
                    .map(|d| match &d.element {
                        Some(el) => format!("{} | line {} | element {el}", d.message, d.line),
                        None => format!("{} | line {}", d.message, d.line),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            RuntimeError::Busy => RestError::new(
                StatusCode::CONFLICT,
                "OptimisticLockingException",
                "the instance is busy; try again",
            ),
            other => {
                tracing::error!(error = %other, "internal error");
                RestError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ProcessEngineException",
                    "internal error; it has been logged",
                )
            }
        }
    }
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.kind, self.message)
    }
}

impl ResponseError for RestError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            r.insert_header(("WWW-Authenticate", "Basic realm=\"engine-rest\""));
        }
        r.json(Body {
            kind: self.kind,
            message: &self.message,
            details: self.details.as_ref(),
        })
    }
}
