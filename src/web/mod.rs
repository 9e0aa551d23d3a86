//! The web application: server-rendered pages (askama), sessions, and the
//! static assets, all served from the binary. Handlers are thin: they check the
//! session and CSRF token, call the runtime, and render or redirect.

mod account;
pub mod api;
mod assets;
pub mod auth;
mod camunda_forms;
mod decisions;
mod definitions;
mod diagrams;
pub mod engine_rest;
pub mod error;
mod forms;
pub(crate) mod instances;
mod operations;
pub mod proxy;
pub mod render;
pub mod routes;
mod story;
mod tasks;
mod users;

use std::sync::Arc;

use actix_multipart::form::MultipartFormConfig;
use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, get, post, web};

use crate::runtime::{Runtime, metrics};
use error::WebError;

/// What every handler can reach.
pub struct AppState {
    pub runtime: Arc<Runtime>,
    /// Proxies whose forwarding headers name the client.
    pub proxies: proxy::TrustedProxies,
}

/// How the web application runs.
#[derive(Clone)]
pub struct WebConfig {
    /// The key that signs and encrypts session cookies (64 bytes, shared by every process).
    pub session_key: Vec<u8>,
    /// Mark cookies `Secure` (when the site is served over https).
    pub secure_cookies: bool,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` are believed.
    pub trusted_proxies: proxy::TrustedProxies,
    /// Where Camunda 7's REST API is served (`/engine-rest`).
    pub engine_rest_path: String,
}

#[get("/")]
async fn show_home() -> HttpResponse {
    render::redirect("/tasks")
}

/// Where browsers report what the content security policy blocked: counted
/// and logged, since a page of ours that breaks the policy is a bug.
#[post("/csp-report")]
async fn create_csp_report(body: web::Bytes) -> HttpResponse {
    metrics::CSP_VIOLATIONS.inc();
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let r = &report["csp-report"];
    let text = |v: &serde_json::Value| {
        v.as_str()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>()
    };
    tracing::warn!(
        page = %text(&r["document-uri"]),
        directive = %text(&r["violated-directive"]),
        blocked = %text(&r["blocked-uri"]),
        "a page broke the content security policy"
    );
    HttpResponse::NoContent().finish()
}

async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if api::is_api(&req) {
        Err(api::no_such_endpoint().into())
    } else {
        Err(WebError::NotFound.into())
    }
}

/// Registers every route of the site.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show_home)
        .service(create_csp_report)
        .service(assets::show_asset)
        .service(api::show_api)
        .service(auth::show_login)
        .service(auth::create_session)
        .service(auth::delete_session)
        .service(tasks::list_tasks)
        .service(tasks::show_task)
        .service(tasks::complete_task)
        .service(tasks::submit_task)
        .service(tasks::form_hidden)
        .service(tasks::claim_task)
        .service(tasks::unclaim_task)
        .service(definitions::list_definitions)
        .service(decisions::show_decision)
        .service(definitions::create_deployment)
        .service(definitions::show_definition_xml)
        .service(definitions::show_definition)
        .service(definitions::show_view_only)
        .service(diagrams::show_definition_diagram)
        .service(definitions::start_instance)
        .service(instances::list_instances)
        .service(instances::show_instance)
        .service(diagrams::show_instance_diagram)
        .service(instances::cancel_instance)
        .service(instances::trigger_element)
        .service(instances::retry_incident)
        .service(instances::set_variables)
        .service(operations::suspend_instance)
        .service(operations::resume_instance)
        .service(operations::show_modification)
        .service(operations::modify_instance)
        .service(operations::suspend_version)
        .service(operations::resume_version)
        .service(operations::show_migration)
        .service(operations::migrate_instances)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::update_user)
        .service(users::reset_password)
        .service(account::show_account)
        .service(account::create_token)
        .service(account::revoke_token)
        .service(account::update_password)
        .service(account::update_notifications);
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
    .app_data(api::json_config())
    .app_data(web::PayloadConfig::new(api::body::LIMIT))
    .app_data(web::QueryConfig::default().error_handler(|e, req| {
        if api::is_api(req) {
            api::error::ApiError::bad_request(format!("bad query parameter: {e}")).into()
        } else {
            WebError::Invalid(format!("The address has a bad parameter: {e}")).into()
        }
    }))
    .app_data(web::PathConfig::default().error_handler(|_, req| {
        if api::is_api(req) {
            api::error::ApiError::not_found().into()
        } else {
            WebError::NotFound.into()
        }
    }))
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
    let data = web::Data::new(AppState {
        runtime,
        proxies: config.trusted_proxies.clone(),
    });
    let engine_rest_path = config.engine_rest_path.clone();
    let server = HttpServer::new(move || {
        let engine_rest_path = engine_rest_path.clone();
        App::new()
            .app_data(data.clone())
            .configure(form_errors)
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service;
                let started = std::time::Instant::now();
                let response = srv.call(req);
                async move {
                    let response = response.await;
                    metrics::HTTP_REQUESTS.inc();
                    metrics::HTTP_LATENCY.observe(started.elapsed().as_secs_f64());
                    if response
                        .as_ref()
                        .map(|r| r.status().is_server_error())
                        .unwrap_or(true)
                    {
                        metrics::HTTP_SERVER_ERRORS.inc();
                    }
                    response
                }
            })
            .wrap_fn(|req, srv| {
                // Error pages keep the logged-in user's navigation bar.
                use actix_web::dev::Service;
                let response = srv.call(req);
                async move {
                    let response = response.await?.map_into_boxed_body();
                    let is_error_page = response
                        .response()
                        .extensions()
                        .get::<error::ErrorPageInfo>()
                        .is_some();
                    if !is_error_page {
                        return Ok(response);
                    }
                    let request = response.request().clone();
                    let Ok(current) = auth::current_user(request.clone()).await else {
                        return Ok(response);
                    };
                    let Some(state) = request.app_data::<web::Data<AppState>>() else {
                        return Ok(response);
                    };
                    let Ok(layout) = current.layout(state, "", "").await else {
                        return Ok(response);
                    };
                    match error::with_user(response.response(), |title| render::Layout {
                        title: title.to_string(),
                        ..layout
                    }) {
                        Some(page) => Ok(actix_web::dev::ServiceResponse::new(request, page)),
                        None => Ok(response),
                    }
                }
            })
            .wrap(session(&config))
            .wrap(actix_web::middleware::Compress::default())
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("Content-Security-Policy", render::CONTENT_SECURITY_POLICY))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin")),
            )
            .configure(api::configure)
            .configure(engine_rest::configure(&engine_rest_path))
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
