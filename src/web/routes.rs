//! Every route of the site, the JSON API and the python-bpmn-engine API, with
//! the policy action it performs. The runtime decides who may do what; this
//! list says which decision each route asks for, so that the authorization
//! matrix test can try every route as every kind of principal and expect
//! exactly what the policy table says. (A test also checks that the list
//! names every route the handlers register.)

use crate::runtime::Action;

/// Which face of the server a route belongs to: it decides how a refusal
/// looks (a page or a redirect to the login page, or a JSON error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Page,
    Api,
    /// The python-bpmn-engine API (JSON, authenticated like `/api/v1`).
    Compat,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// The path as registered, with `{parameters}`.
    pub path: &'static str,
    pub action: Action,
    pub face: Face,
    /// A list: everyone allowed to ask gets an answer, filtered to what the
    /// policy lets them see.
    pub list: bool,
}

const fn page(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        face: Face::Page,
        list: false,
    }
}

const fn api(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        face: Face::Api,
        list: false,
    }
}

const fn compat(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        face: Face::Compat,
        list: false,
    }
}

const fn listed(route: Route) -> Route {
    Route {
        list: true,
        ..route
    }
}

use Action::*;

/// Every route.
pub const ROUTES: &[Route] = &[
    // Public.
    page("GET", "/", ReadPublic),
    page("POST", "/csp-report", ReadPublic),
    page("GET", "/static/{name}", ReadPublic),
    page("GET", "/login", ReadPublic),
    page("POST", "/login", ReadPublic),
    page("GET", "/api", ReadPublic),
    api("GET", "/healthz", ReadPublic),
    api("GET", "/readyz", ReadPublic),
    api("GET", "/metrics", ReadPublic),
    api("GET", "/openapi.json", ReadPublic),
    // Pages.
    page("POST", "/logout", ManageOwnAccount),
    page("GET", "/account", ManageOwnAccount),
    page("POST", "/account/tokens", ManageOwnAccount),
    page("POST", "/account/tokens/{id}/revoke", ManageOwnAccount),
    listed(page("GET", "/tasks", ViewTask)),
    page("GET", "/tasks/{id}", ViewTask),
    page("POST", "/tasks/{id}/complete", CompleteTask),
    page("POST", "/tasks/{id}/claim", ClaimTask),
    page("POST", "/tasks/{id}/unclaim", UnclaimTask),
    page("GET", "/definitions", ViewDefinitions),
    page("POST", "/definitions", Deploy),
    page("GET", "/definitions/{key}", ViewDefinitions),
    page("GET", "/definitions/{key}/xml", ViewDefinitions),
    page("POST", "/definitions/{key}/start", StartInstance),
    page("GET", "/decisions/{key}", ViewDecisions),
    listed(page("GET", "/instances", ViewInstance)),
    page("GET", "/instances/{id}", ViewInstance),
    page("POST", "/instances/{id}/cancel", CancelInstance),
    page("POST", "/instances/{id}/trigger", TriggerElement),
    page(
        "POST",
        "/instances/{id}/incidents/{key}/retry",
        RetryIncident,
    ),
    page("POST", "/instances/{id}/suspend", SuspendInstance),
    page("POST", "/instances/{id}/resume", SuspendInstance),
    page("GET", "/instances/{id}/modify", ModifyInstance),
    page("POST", "/instances/{id}/modify", ModifyInstance),
    page(
        "POST",
        "/definitions/{key}/versions/{version}/suspend",
        OperateDefinition,
    ),
    page(
        "POST",
        "/definitions/{key}/versions/{version}/resume",
        OperateDefinition,
    ),
    page("GET", "/definitions/{key}/migrate", OperateDefinition),
    page("POST", "/definitions/{key}/migrate", OperateDefinition),
    page("GET", "/users", ManageUsers),
    page("POST", "/users", ManageUsers),
    page("POST", "/users/{id}", ManageUsers),
    // The JSON API.
    api("POST", "/api/v1/deployments", Deploy),
    api("GET", "/api/v1/definitions", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}/xml", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}/svg", ViewDefinitions),
    api("POST", "/api/v1/definitions/{key}/start", StartInstance),
    api("GET", "/api/v1/decisions", ViewDecisions),
    api("GET", "/api/v1/decisions/{key}", ViewDecisions),
    api("POST", "/api/v1/decisions/{key}/evaluate", EvaluateDecision),
    listed(api("GET", "/api/v1/instances", ViewInstance)),
    api("GET", "/api/v1/instances/{id}", ViewInstance),
    api("GET", "/api/v1/instances/{id}/history", ViewInstance),
    api("POST", "/api/v1/instances/{id}/cancel", CancelInstance),
    api("POST", "/api/v1/instances/{id}/trigger", TriggerElement),
    api("PUT", "/api/v1/instances/{id}/variables", SetVariables),
    api("POST", "/api/v1/instances/{id}/suspend", SuspendInstance),
    api("POST", "/api/v1/instances/{id}/resume", SuspendInstance),
    api("POST", "/api/v1/instances/{id}/modify", ModifyInstance),
    api("POST", "/api/v1/instances/{id}/migrate", MigrateInstance),
    api(
        "POST",
        "/api/v1/definitions/{key}/migrate",
        OperateDefinition,
    ),
    api(
        "POST",
        "/api/v1/definitions/{key}/versions/{version}/suspend",
        OperateDefinition,
    ),
    api(
        "POST",
        "/api/v1/definitions/{key}/versions/{version}/resume",
        OperateDefinition,
    ),
    api("POST", "/api/v1/incidents/{id}/retry", RetryIncident),
    listed(api("GET", "/api/v1/tasks", ViewTask)),
    api("GET", "/api/v1/tasks/{id}", ViewTask),
    api("POST", "/api/v1/tasks/{id}/claim", ClaimTask),
    api("POST", "/api/v1/tasks/{id}/unclaim", UnclaimTask),
    api("POST", "/api/v1/tasks/{id}/assign", AssignTask),
    api("POST", "/api/v1/tasks/{id}/complete", CompleteTask),
    api("POST", "/api/v1/messages", CorrelateMessage),
    api("POST", "/api/v1/signals", BroadcastSignal),
    api("POST", "/api/v1/conditions", StartInstance),
    api(
        "POST",
        "/api/v1/external-tasks/fetch-and-lock",
        FetchExternalTasks,
    ),
    api(
        "POST",
        "/api/v1/external-tasks/{id}/complete",
        ReportExternalTask,
    ),
    api(
        "POST",
        "/api/v1/external-tasks/{id}/failure",
        ReportExternalTask,
    ),
    api(
        "POST",
        "/api/v1/external-tasks/{id}/bpmn-error",
        ReportExternalTask,
    ),
    api(
        "POST",
        "/api/v1/external-tasks/{id}/extend-lock",
        ReportExternalTask,
    ),
    // python-bpmn-engine's API.
    compat("GET", "/model", ViewDefinitions),
    compat("GET", "/model/{name}", ViewDefinitions),
    compat("POST", "/model/{name}/instance", StartInstance),
    listed(compat("GET", "/instance", ViewInstance)),
    compat("GET", "/instance/{id}", ViewInstance),
    compat("GET", "/instance/state/{id}", ViewInstance),
    compat("GET", "/instance/{id}/task/{task_id}", ViewInstance),
    compat("POST", "/instance/{id}/task/{task_id}/form", CompleteTask),
    compat(
        "POST",
        "/instance/{id}/task/{task_id}/receive",
        CorrelateMessage,
    ),
];
