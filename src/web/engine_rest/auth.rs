//! Who calls the Camunda surface: HTTP Basic (the official clients' way) with
//! the account's password or one of its API tokens as the password, or a
//! bearer token as in `/api/v1`. A password goes through the same login check
//! as the login form, which counts failures and makes guessers wait.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::error::RestError;
use crate::runtime::{LoginError, Principal, User};
use crate::web::AppState;

/// The authenticated caller.
pub struct RestUser(pub User);

impl RestUser {
    pub fn principal(&self) -> Principal {
        self.0.principal()
    }
}

/// Decodes standard base64 (with or without padding).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

async fn rest_user(req: HttpRequest) -> Result<RestUser, RestError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        RestError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ProcessEngineException",
            "application state missing",
        )
    })?;
    let Some(header) = req.headers().get("authorization") else {
        return Err(RestError::unauthenticated(
            "authentication required: send HTTP Basic credentials (an account and its password or API token) or Authorization: Bearer <token>",
        ));
    };
    let text = header.to_str().unwrap_or_default().trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let accounts = state.runtime.accounts();
    if scheme.eq_ignore_ascii_case("bearer") {
        return match accounts.token_user(rest.trim()).await? {
            Some(u) => Ok(RestUser(u)),
            None => Err(RestError::unauthenticated(
                "the token is unknown or revoked",
            )),
        };
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(RestError::unauthenticated(
            "use HTTP Basic or Authorization: Bearer <token>",
        ));
    }
    let decoded = base64_decode(rest.trim())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| RestError::unauthenticated("the Basic credentials are not base64"))?;
    let (name, password) = decoded
        .split_once(':')
        .ok_or_else(|| RestError::unauthenticated("the Basic credentials lack a ':'"))?;
    // An API token of this very account may stand in for its password.
    if let Some(u) = accounts.token_user(password).await?
        && u.name == name
    {
        return Ok(RestUser(u));
    }
    let address = state.proxies.client(&req).map(|a| a.to_string());
    match accounts
        .authenticate(name.trim(), password, address.as_deref())
        .await
    {
        // A one-time password opens nothing but the account page.
        Ok(u) if u.must_change_password => Err(RestError::new(
            StatusCode::FORBIDDEN,
            "AuthenticationException",
            "this is a one-time password: choose a new one on /account first",
        )),
        Ok(u) => Ok(RestUser(u)),
        Err(LoginError::Invalid) => Err(RestError::unauthenticated(
            "wrong user name or password (or API token)",
        )),
        Err(e @ (LoginError::Throttled { .. } | LoginError::Busy)) => Err(RestError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "AuthenticationException",
            e.to_string(),
        )),
        Err(LoginError::Store(e)) => Err(crate::runtime::RuntimeError::from(e).into()),
    }
}

impl FromRequest for RestUser {
    type Error = RestError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(rest_user(req.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64_reads_basic_credentials() {
        assert_eq!(
            base64_decode("ZGVtbzpkZW1v").as_deref(),
            Some(&b"demo:demo"[..])
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("YWI").as_deref(), Some(&b"ab"[..]));
        assert!(base64_decode("a b").is_none());
    }
}
