//! The `http-connector`: the HTTP call a service task's `camunda:connector`
//! describes, made by the job executor outside any transaction.
//!
//! Inputs (the connector's evaluated input parameters):
//! - `url` (required), `method` (default `GET`), `headers` (a map);
//! - `payload`: the request body — text as it is, anything else as JSON;
//! - without `payload`, as the engine this one replaces did, every other input
//!   parameter becomes a field of a JSON body (not for `GET`/`HEAD`), and
//!   `url_parameter` (a map) becomes the query string;
//! - `timeout`: an ISO 8601 duration or milliseconds (default 30 s).
//!
//! The job id goes out as the `Idempotency-Key` header: delivery is
//! at-least-once (a process may die after the call and before the commit), so
//! the receiving side can recognise a repeated call. A reply outside 2xx is a
//! failure that names the status and a bounded excerpt of the body; the job is
//! retried and becomes an incident when its attempts run out. A 2xx reply comes
//! back as `response` (parsed JSON, or the text), `statusCode` and `headers` —
//! as does every reply when the task maps results to BPMN errors
//! (`camunda:errorEventDefinition`, payload `any_status`): its mappings decide.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value};
use uuid::Uuid;

/// How long a call may take unless its `timeout` input says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body read.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// How much of a failed reply's body goes into the error.
const EXCERPT: usize = 300;

/// Inputs that configure the call rather than travel in its body.
const CONTROL: &[&str] = &[
    "url",
    "method",
    "headers",
    "payload",
    "url_parameter",
    "timeout",
];

/// Installs the process-wide TLS implementation (ring) that HTTP clients use.
/// Call it before building any `reqwest` client; calling it again is harmless.
pub fn install_tls_provider() {
    // An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            install_tls_provider();
            reqwest::Client::builder()
                .user_agent(concat!("bpmn-engine/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("cannot set up the HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Makes the call a connector job describes; returns the variables of its reply.
pub async fn call(job_id: Uuid, payload: &Value) -> Result<Map<String, Value>, String> {
    let inputs = payload
        .get("inputs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let url = match inputs.get("url") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.trim().to_string(),
        other => return Err(format!("the url input is {}", describe(other))),
    };
    let method = match inputs.get("method") {
        None | Some(Value::Null) => "GET".to_string(),
        Some(Value::String(m)) => m.trim().to_ascii_uppercase(),
        other => return Err(format!("the method input is {}", describe(other))),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("\"{method}\" is not an HTTP method"))?;
    let timeout = match inputs.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT,
        Some(Value::Number(ms)) => Duration::from_millis(ms.as_u64().unwrap_or(0)),
        Some(Value::String(s)) => crate::model::time::parse_duration(s)
            .ok()
            .and_then(|d| d.total(jiff::Unit::Millisecond).ok())
            .map(|ms| Duration::from_millis(ms.max(0.0) as u64))
            .ok_or_else(|| format!("the timeout input \"{s}\" is not an ISO 8601 duration"))?,
        other => return Err(format!("the timeout input is {}", describe(other))),
    };
    let mut req = client()?
        .request(method.clone(), &url)
        .timeout(timeout)
        .header("Idempotency-Key", job_id.to_string());
    let mut has_content_type = false;
    if let Some(headers) = inputs.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            has_content_type |= name.eq_ignore_ascii_case("content-type");
            req = req.header(name.as_str(), text(value));
        }
    }
    if let Some(query) = inputs.get("url_parameter").and_then(Value::as_object) {
        let pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        req = req.query(&pairs);
    }
    let body = match inputs.get("payload") {
        Some(Value::Null) | None => {
            let rest: Map<String, Value> = inputs
                .iter()
                .filter(|(k, _)| !CONTROL.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let bodyless = method == reqwest::Method::GET || method == reqwest::Method::HEAD;
            (!rest.is_empty() && !bodyless).then(|| (Value::Object(rest).to_string(), true))
        }
        Some(Value::String(s)) => Some((s.clone(), false)),
        Some(other) => Some((other.to_string(), true)),
    };
    if let Some((body, json)) = body {
        if !has_content_type {
            let ct = if json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            req = req.header("Content-Type", ct);
        }
        req = req.body(body);
    }
    let mut resp = req
        .send()
        .await
        .map_err(|e| failure(&method, &url, &e, timeout))?;
    let status = resp.status();
    let mut headers = Map::new();
    for (name, value) in resp.headers() {
        if let Ok(v) = value.to_str() {
            headers.insert(name.as_str().to_string(), Value::String(v.to_string()));
        }
    }
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| failure(&method, &url, &e, timeout))?
    {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(format!(
                "{method} {url}: the reply is larger than {} MB",
                MAX_BODY / (1024 * 1024)
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body_text = String::from_utf8_lossy(&bytes).to_string();
    let any_status = payload.get("any_status").and_then(Value::as_bool) == Some(true);
    if !status.is_success() && !any_status {
        return Err(format!(
            "{method} {url} answered {status}: {}",
            excerpt(&body_text)
        ));
    }
    let response = if body_text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body_text).unwrap_or(Value::String(body_text))
    };
    let mut out = Map::new();
    out.insert("response".into(), response);
    out.insert("statusCode".into(), Value::from(status.as_u16()));
    out.insert("headers".into(), Value::Object(headers));
    Ok(out)
}

fn failure(method: &reqwest::Method, url: &str, e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!(
            "{method} {url}: no reply within {} s",
            timeout.as_secs_f64()
        )
    } else if e.is_connect() {
        format!("{method} {url}: cannot connect ({e})")
    } else {
        format!("{method} {url}: {e}")
    }
}

/// A header or query value: strings as they are, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "missing".into(),
        Some(other) => format!("{other}, not text"),
    }
}

/// The start of a body, on a character boundary, on one line.
fn excerpt(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = flat.trim();
    match trimmed.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None if trimmed.is_empty() => "(empty body)".into(),
        None => trimmed.to_string(),
    }
}
