//! Reading JSON request bodies strictly: nothing a client sends is dropped
//! without a word.
//!
//! - A body that is not JSON (or not JSON of the right shape at the top) is
//!   400 with the parser's message.
//! - A body that is JSON but does not fit — an unknown field, a wrong type, a
//!   missing field — is 422 naming the field (a camelCase spelling of one of
//!   ours gets a hint).
//! - An empty body is the defaults, for routes whose body is optional
//!   ([`Body`]); routes whose body is required use `web::Json`, whose errors
//!   take the same two paths ([`json_error`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorItem};

/// The most a JSON body may hold.
pub const LIMIT: usize = 4 * 1024 * 1024;

/// An optional JSON body: empty means `T::default()`.
pub struct Body<T>(pub T);

impl<T> Body<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("the body is larger than {} MB", LIMIT / (1024 * 1024)),
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("the body cannot be read: {e}"),
                    )
                }
            })?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Body(T::default()));
            }
            serde_json::from_slice(&bytes)
                .map(Body)
                .map_err(|e| from_serde(&e))
        })
    }
}

/// The answer for a body serde could not take.
pub fn from_serde(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let message = e.to_string();
            let field = field_named(&message);
            let hint = field
                .as_deref()
                .and_then(|f| snake_hint(f, &message))
                .unwrap_or_default();
            ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: vec![ErrorItem {
                    field,
                    ..ErrorItem::detail(format!("the body does not fit: {message}{hint}"))
                }],
            }
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        ),
    }
}

/// The answer for a `web::Json` body that could not be read.
pub fn json_error(e: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError;
    match e {
        JsonPayloadError::Deserialize(e) => from_serde(&e),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} MB", LIMIT / (1024 * 1024)),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON (Content-Type: application/json)",
        ),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body cannot be read: {other}"),
        ),
    }
}

/// The field a serde message is about: "unknown field `x`", "missing field `x`".
fn field_named(message: &str) -> Option<String> {
    ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|p| {
            let rest = &message[message.find(p)? + p.len()..];
            Some(rest[..rest.find('`')?].to_string())
        })
}

/// "did you mean `business_key`?" for `businessKey`, when serde lists it.
fn snake_hint(field: &str, message: &str) -> Option<String> {
    let mut snake = String::new();
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    (snake != field && message.contains(&format!("`{snake}`")))
        .then(|| format!(" (did you mean `{snake}`?)"))
}
