//! The JSON API's one error shape: `{"errors": [{"detail": ...}]}`, with the
//! field, or the line, column and element of a diagram, when there is one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::model::Diagnostic;
use crate::runtime::RuntimeError;

/// One problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorItem {
    /// What is wrong, for people.
    pub detail: String,
    /// The form field concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For diagrams: 1-based line and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// For diagrams: the element id and its BPMN kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For diagrams: `error`, `unsupported` or `warning`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

impl ErrorItem {
    pub fn detail(detail: impl Into<String>) -> ErrorItem {
        ErrorItem {
            detail: detail.into(),
            field: None,
            line: None,
            column: None,
            element: None,
            kind: None,
            severity: None,
        }
    }

    /// A diagram problem.
    pub fn diagnostic(d: &Diagnostic) -> ErrorItem {
        let sev = serde_json::to_value(d.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        ErrorItem {
            detail: d.message.clone(),
            field: None,
            line: Some(d.line),
            column: Some(d.column),
            element: d.element.clone(),
            kind: d.kind.clone(),
            severity: sev,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// An API error with its status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<ErrorItem>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            errors: vec![ErrorItem::detail(detail)],
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not found, or you may not see it")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let details: Vec<&str> = self.errors.iter().map(|e| e.detail.as_str()).collect();
        write!(f, "{}: {}", self.status, details.join("; "))
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::NotFound(_) => ApiError::not_found(),
            RuntimeError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            RuntimeError::Conflict(m) | RuntimeError::NotWaiting(m) => {
                ApiError::new(StatusCode::CONFLICT, m)
            }
            RuntimeError::Rejected(m) | RuntimeError::TooLarge(m) => ApiError::bad_request(m),
            RuntimeError::InvalidVariables(fields) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: fields
                    .into_iter()
                    .map(|f| ErrorItem {
                        field: Some(f.field.clone()),
                        ..ErrorItem::detail(format!("{}: {}", f.field, f.message))
                    })
                    .collect(),
            },
            RuntimeError::Invalid(p) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: p.diagnostics.iter().map(ErrorItem::diagnostic).collect(),
            },
            RuntimeError::Busy => {
                ApiError::new(StatusCode::CONFLICT, "the instance is busy; try again")
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged",
                )
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            r.insert_header(("WWW-Authenticate", "Bearer"));
        }
        r.json(ErrorBody {
            errors: self.errors.clone(),
        })
    }
}
