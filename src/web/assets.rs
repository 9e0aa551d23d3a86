//! The site's own CSS, script and icon, compiled into the binary (no CDN, no
//! files to ship next to it).

use actix_web::{HttpResponse, get, web};

use super::error::WebError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

#[get("/static/{name}")]
pub async fn show_asset(name: web::Path<String>) -> Result<HttpResponse, WebError> {
    let (_, mime, body) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or(WebError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(*body))
}
