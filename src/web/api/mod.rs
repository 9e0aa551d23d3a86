//! The JSON API (`/api/v1`), the routes of python-bpmn-engine's API, health,
//! readiness, metrics and the OpenAPI document.
//!
//! Handlers are thin: they check who calls, translate JSON to runtime calls and
//! back into DTOs of their own. Every route is listed once, in the `api!` call
//! below, which both registers it and puts it in the OpenAPI document — so the
//! document and the server cannot drift apart.

mod auth;
pub mod body;
mod compat;
mod decisions;
pub mod dto;
pub mod error;
mod operations;
mod resources;
mod system;
mod tasks;
mod work;

use actix_web::{HttpRequest, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use error::ApiError;

/// Adds the bearer-token scheme and requires it everywhere.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

macro_rules! api {
    ($( $($segment:ident)::+ ),* $(,)?) => {
        /// The OpenAPI document, generated from the handlers and their types.
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "BPMN engine API",
                description = "Deploy diagrams, start and inspect instances, complete tasks, deliver messages and do service-task work. Authenticate with `Authorization: Bearer <token>`.",
            ),
            paths($( $($segment)::+ ),*),
            modifiers(&BearerAuth),
            tags(
                                (name = "definitions", description = "Deploying diagrams and reading them"),
                (name = "decisions", description = "Decision tables (DMN) deployed like diagrams"),
                (name = "instances", description = "Starting, inspecting and correcting instances"),
                (name = "operations", description = "Operating running processes: suspend, modify, migrate (admins)"),
                (name = "tasks", description = "People's work: user tasks"),
                (name = "messages", description = "Messages and signals from outside"),
                (name = "external tasks", description = "Workers that do service-task work"),
                (name = "compatibility", description = "The routes of python-bpmn-engine's API"),
                (name = "system", description = "Health, readiness, metrics and this document"),
            )
        )]
        pub struct ApiDoc;

        /// Registers every API route.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $( cfg.service($($segment)::+); )*
        }
    };
}

api!(
    resources::create_deployment,
    resources::list_definitions,
    resources::show_definition_xml,
    resources::show_definition_svg,
    resources::show_definition_statistics,
    resources::show_definition,
    resources::start_instance,
    resources::list_instances,
    resources::list_history,
    resources::cancel_instance,
    resources::trigger_element,
    resources::update_variables,
    resources::show_instance,
    operations::suspend_instance,
    operations::resume_instance,
    operations::modify_instance,
    operations::migrate_instance,
    operations::migrate_instances,
    operations::suspend_version,
    operations::resume_version,
    decisions::list_decisions,
    decisions::show_decision,
    decisions::evaluate_decision,
    tasks::list_tasks,
    tasks::claim_task,
    tasks::unclaim_task,
    tasks::assign_task,
    tasks::complete_task,
    tasks::show_task,
    work::create_message,
    work::create_signal,
    work::evaluate_conditions,
    work::fetch_and_lock,
    work::complete_external,
    work::fail_external,
    work::bpmn_error_external,
    work::extend_lock,
    work::retry_incident,
    compat::list_models,
    compat::create_model_instance,
    compat::show_model,
    compat::search_instances,
    compat::show_old_instance_state,
    compat::complete_instance_task,
    compat::receive_instance_task,
    compat::show_instance_task,
    compat::show_old_instance,
    system::show_health,
    system::show_ready,
    system::show_metrics,
    system::show_openapi,
);

/// The API page (HTML).
pub use system::show_api;

/// Whether a request is for the JSON API (its errors are JSON, not pages).
pub fn is_api(req: &HttpRequest) -> bool {
    let p = req.path();
    p.starts_with("/api/")
        || p == "/model"
        || p.starts_with("/model/")
        || p == "/instance"
        || p.starts_with("/instance/")
}

/// JSON for bodies the API cannot read.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(body::LIMIT)
        .error_handler(|e, _| body::json_error(e).into())
}

/// The answer for an API path that does not exist.
pub fn no_such_endpoint() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::NOT_FOUND, "no such endpoint")
}
