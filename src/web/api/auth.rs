//! Who calls the API: a bearer token (`Authorization: Bearer <token>`), or a
//! browser session — whose writes must carry the session's CSRF token in an
//! `X-CSRF-Token` header, as forms carry it in a field.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::runtime::{Principal, User};
use crate::web::AppState;

/// The authenticated caller.
pub struct ApiUser(pub User);

impl ApiUser {
    /// The caller as the principal of what they do.
    pub fn principal(&self) -> Principal {
        self.0.principal()
    }
}

async fn api_user(req: HttpRequest) -> Result<ApiUser, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application state missing",
        )
    })?;
    if let Some(h) = req.headers().get("authorization") {
        let text = h.to_str().unwrap_or_default();
        let Some(token) = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
        else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "use Authorization: Bearer <token>",
            ));
        };
        return match state.runtime.accounts().token_user(token).await? {
            Some(u) => Ok(ApiUser(u)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the token is unknown or revoked",
            )),
        };
    }
    let session = req.get_session();
    let (Ok(Some(uid)), Ok(Some(epoch))) = (session.get::<i64>("uid"), session.get::<i64>("epoch"))
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication required: send Authorization: Bearer <token>",
        ));
    };
    let user = match state.runtime.accounts().session_user(uid, epoch).await? {
        Some(u) if u.must_change_password => {
            // Logged in with a one-time password: nothing else before a new one.
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "choose a new password on /account first",
            ));
        }
        Some(u) => u,
        None => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the session has ended; log in again",
            ));
        }
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let presented = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let ok = matches!(session.get::<String>("csrf"), Ok(Some(t))
            if !presented.is_empty() && bool::from(t.as_bytes().ct_eq(presented.as_bytes())));
        if !ok {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "a request from a browser session needs the X-CSRF-Token header",
            ));
        }
    }
    Ok(ApiUser(user))
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(api_user(req.clone()))
    }
}
