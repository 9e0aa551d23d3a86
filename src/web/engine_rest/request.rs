//! Reading a request as Camunda does, with Camunda's error bodies for every
//! mistake: query parameters (`true`/`false`, whole numbers, comma lists,
//! `sortBy`/`sortOrder`, `firstResult`/`maxResults`) and JSON bodies (not
//! JSON, the wrong shape, or too large are each a 400 or 413
//! `InvalidRequestException`, never actix's plain-text answer).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use super::error::RestError;
use crate::web::api::body::LIMIT;

/// The most rows one list answers.
pub const MAX_LIST: u64 = 1000;

/// The query parameters of a request, in order.
pub struct Params(pub Vec<(String, String)>);

impl FromRequest for Params {
    type Error = RestError;
    type Future = std::future::Ready<Result<Params, RestError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .map(Params)
                .map_err(|e| RestError::invalid(format!("the query string cannot be read: {e}"))),
        )
    }
}

/// `true` or `false`.
pub fn flag(name: &str, v: &str) -> Result<bool, RestError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(RestError::invalid(format!(
            "Cannot set query parameter '{name}' to value '{v}': it must be true or false"
        ))),
    }
}

/// A whole number, 0 or more.
pub fn number(name: &str, v: &str) -> Result<u64, RestError> {
    v.trim().parse::<u64>().map_err(|_| {
        RestError::invalid(format!(
            "Cannot set query parameter '{name}' to value '{v}': it must be a whole number"
        ))
    })
}

/// A comma-separated list.
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `firstResult` and `maxResults` (capped at [`MAX_LIST`]).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub first: u64,
    pub max: u64,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            first: 0,
            max: MAX_LIST,
        }
    }
}

impl Page {
    /// Reads `firstResult` or `maxResults`; `false` for any other parameter.
    pub fn read(&mut self, k: &str, v: &str) -> Result<bool, RestError> {
        match k {
            "firstResult" => self.first = number(k, v)?,
            "maxResults" => self.max = number(k, v)?.min(MAX_LIST),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A sorting: the field (one of `allowed`) and whether descending.
pub fn sorting(
    sort_by: Option<&str>,
    sort_order: Option<&str>,
    allowed: &[&str],
) -> Result<Option<(String, bool)>, RestError> {
    if let Some(by) = sort_by
        && !allowed.contains(&by)
    {
        return Err(RestError::invalid(format!(
            "Cannot set query parameter 'sortBy' to value '{by}' (one of {} is)",
            allowed.join(", ")
        )));
    }
    let desc = match sort_order {
        None => None,
        Some("asc") => Some(false),
        Some("desc") => Some(true),
        Some(other) => {
            return Err(RestError::invalid(format!(
                "Cannot set query parameter 'sortOrder' to value '{other}' (asc or desc is)"
            )));
        }
    };
    match (sort_by, desc) {
        (None, None) => Ok(None),
        (Some(by), Some(desc)) => Ok(Some((by.to_string(), desc))),
        _ => Err(RestError::invalid(
            "Only a single sorting parameter specified. sortBy and sortOrder required",
        )),
    }
}

/// Refuses a parameter Camunda has and this engine cannot honour.
pub fn unsupported(name: &str, why: &str) -> RestError {
    RestError::invalid(format!("the parameter {name} is not supported here: {why}"))
}

/// A JSON body read as Camunda does: empty means `T::default()`, not JSON
/// or the wrong shape is 400, too large is 413.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for Json<T> {
    type Error = RestError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    RestError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "InvalidRequestException",
                        format!("the body is larger than {} MB", LIMIT / (1024 * 1024)),
                    )
                } else {
                    RestError::invalid(format!("the body cannot be read: {e}"))
                }
            })?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Json(T::default()));
            }
            serde_json::from_slice(&bytes).map(Json).map_err(|e| {
                use serde_json::error::Category;
                match e.classify() {
                    Category::Data => RestError::invalid(format!("the body does not fit: {e}")),
                    _ => RestError::invalid(format!("the body is not valid JSON: {e}")),
                }
            })
        })
    }
}

/// Gives every answer of the Camunda surface that is an error but not yet
/// Camunda's JSON body one: actix's own refusals (a body too large for a
/// route that reads raw bytes, a method a path does not have, an unreadable
/// path) become `{"type", "message"}` with the same status.
pub async fn camunda_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<actix_web::body::BoxBody>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let is_json = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(res);
    }
    let message = match res.response().error() {
        Some(e) if status != StatusCode::INTERNAL_SERVER_ERROR => e.to_string(),
        _ => match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                format!(
                    "{} is not allowed on {}",
                    res.request().method(),
                    res.request().path()
                )
            }
            other => other
                .canonical_reason()
                .unwrap_or("the request failed")
                .to_string(),
        },
    };
    let kind = match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => "RestException",
        s if s.is_server_error() => "ProcessEngineException",
        _ => "InvalidRequestException",
    };
    let body = RestError::new(status, kind, message);
    Ok(res.into_response(actix_web::ResponseError::error_response(&body)))
}
