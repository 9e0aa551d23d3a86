//! The web application: server-rendered pages (askama), sessions, and the
//! static assets, all served from the binary. Handlers are thin: they check the
//! session and CSRF token, call the runtime, and render or redirect.

mod assets;
pub mod auth;
mod definitions;
pub mod error;
mod forms;
mod instances;
pub mod render;
mod tasks;
mod users;

use std::sync::Arc;

use actix_multipart::form::MultipartFormConfig;
use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, get, web};

use crate::runtime::Runtime;
use error::WebError;

/// What every handler can reach.
pub struct AppState {
    pub runtime: Arc<Runtime>,
}

/// How the web application runs.
#[derive(Clone)]
pub struct WebConfig {
    /// The key that signs and encrypts session cookies (64 bytes, shared by every process).
    pub session_key: Vec<u8>,
    /// Mark cookies `Secure` (when the site is served over https).
    pub secure_cookies: bool,
}

#[get("/")]
async fn show_home() -> HttpResponse {
    render::redirect("/tasks")
}

#[get("/healthz")]
async fn show_health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

/// Registers every route of the site.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show_home)
        .service(show_health)
        .service(assets::show_asset)
        .service(auth::show_login)
        .service(auth::create_session)
        .service(auth::delete_session)
        .service(tasks::list_tasks)
        .service(tasks::show_task)
        .service(tasks::complete_task)
        .service(tasks::claim_task)
        .service(tasks::unclaim_task)
        .service(definitions::list_definitions)
        .service(definitions::create_deployment)
        .service(definitions::show_definition_xml)
        .service(definitions::show_definition)
        .service(definitions::start_instance)
        .service(instances::list_instances)
        .service(instances::show_instance)
        .service(instances::cancel_instance)
        .service(instances::retry_incident)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::update_user);
}

fn session(config: &WebConfig) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(
        CookieSessionStore::default(),
        Key::from(&config.session_key),
    )
    .cookie_name("bpmn_session".into())
    .cookie_secure(config.secure_cookies)
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .build()
}

fn form_errors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(1024 * 1024)
            .error_handler(|e, _| {
                WebError::Invalid(format!("The form could not be read: {e}")).into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| {
        WebError::Invalid(format!("The address has a bad parameter: {e}")).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|_, _| WebError::NotFound.into()))
    .app_data(
        MultipartFormConfig::default()
            .total_limit(17 * 1024 * 1024)
            .error_handler(|e, _| {
                WebError::Invalid(format!("The upload could not be read: {e}")).into()
            }),
    );
}

/// Builds the HTTP server on an already bound listener (port 0 works: tests
/// ask the listener for its address).
pub fn server(
    runtime: Arc<Runtime>,
    config: WebConfig,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    let data = web::Data::new(AppState { runtime });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(form_errors)
            .wrap(session(&config))
            .wrap(actix_web::middleware::Compress::default())
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin")),
            )
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
