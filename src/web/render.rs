//! Rendering: the one function that turns a page struct into a response, the
//! layout data every page carries, and small formatting helpers for templates.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::{DateTime, Utc};

use super::error::WebError;

/// What the layout (navigation, flash message, CSRF token) needs.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    /// The section of the navigation to highlight.
    pub section: &'static str,
    pub user: Option<String>,
    pub admin: bool,
    pub csrf: String,
    pub flash: Option<String>,
    /// A message for the next page that says something went wrong (shown in red).
    pub flash_error: Option<String>,
    /// Open tasks assigned to the user, and tasks they could claim ("99+" past the cap).
    pub mine: String,
    pub claimable: String,
}

/// A count for display: `1000+` when there are more.
pub fn count(t: &crate::runtime::Total) -> String {
    if t.more {
        format!("{}+", t.count)
    } else {
        t.count.to_string()
    }
}

/// Renders a page with a status.
pub fn render_status<T: Template>(page: &T, status: StatusCode) -> Result<HttpResponse, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Internal(format!("template: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// Renders a page (200).
pub fn render<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    render_status(page, StatusCode::OK)
}

/// The policy of every page: scripts and styles from the site only (inline
/// styles allowed: the diagrams' SVG carries its own), no plug-ins, no
/// framing, forms posting only here; violations are reported to
/// `/csp-report`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'; report-uri /csp-report";

/// A file to download (a BPMN or DMN file as deployed): saved, never shown
/// as a page of the site, and sandboxed should a browser show it anyway —
/// a diagram's extension elements may hold anything, `<script>` included.
pub fn download(body: String, filename: &str, content_type: &str) -> HttpResponse {
    let safe: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{safe}\""),
        ))
        .insert_header(("Content-Security-Policy", "sandbox"))
        .body(body)
}

/// A 303 redirect (after a form post).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to.to_string()))
        .finish()
}

/// The part of an instance id that tells instances apart: the last 8
/// characters (ids are time-ordered, so their beginnings are alike).
pub fn short_id(id: &uuid::Uuid) -> String {
    let text = id.to_string();
    format!("…{}", &text[text.len() - 8..])
}

/// Percent-encodes a query-string value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `2025-01-31 14:05` (UTC); the page's script shows it in the reader's time zone.
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The machine-readable form for `<time datetime>`.
pub fn iso_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
