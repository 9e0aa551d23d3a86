//! Every route of the site, the JSON API, the python-bpmn-engine API and
//! Camunda 7's REST API (at its default base, `/engine-rest`), with the
//! policy action it performs. The runtime decides who may do what; this
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
    /// Camunda 7's REST API (Camunda's JSON shapes and error bodies).
    EngineRest,
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

const fn camunda(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        face: Face::EngineRest,
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
    page("POST", "/account/password", ChangeOwnPassword),
    page("POST", "/account/notifications", ManageOwnAccount),
    listed(page("GET", "/tasks", ViewTask)),
    page("GET", "/tasks/{id}", ViewTask),
    page("POST", "/tasks/{id}", CompleteTask),
    page("POST", "/tasks/{id}/complete", CompleteTask),
    page("POST", "/tasks/{id}/form/hidden", ViewTask),
    page("POST", "/tasks/{id}/claim", ClaimTask),
    page("POST", "/tasks/{id}/unclaim", UnclaimTask),
    page("GET", "/definitions", ViewDefinitions),
    page("POST", "/definitions", Deploy),
    page("GET", "/definitions/{key}", ViewDefinitions),
    page("GET", "/definitions/{key}/xml", ViewDefinitions),
    page("GET", "/definitions/{key}/diagram", ViewDefinitions),
    page("GET", "/view-only/{id}", ViewDefinitions),
    page("POST", "/definitions/{key}/start", StartInstance),
    page("GET", "/decisions/{key}", ViewDecisions),
    listed(page("GET", "/instances", ViewInstance)),
    page("GET", "/instances/{id}", ViewInstance),
    page("GET", "/instances/{id}/diagram", ViewInstance),
    page("POST", "/instances/{id}/cancel", CancelInstance),
    page("POST", "/instances/{id}/trigger", TriggerElement),
    page("POST", "/instances/{id}/variables", SetVariables),
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
    page("POST", "/users/{id}/password", ResetPassword),
    // The JSON API.
    api("POST", "/api/v1/deployments", Deploy),
    api("GET", "/api/v1/definitions", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}/xml", ViewDefinitions),
    api("GET", "/api/v1/definitions/{key}/svg", ViewDefinitions),
    api(
        "GET",
        "/api/v1/definitions/{key}/statistics",
        ViewStatistics,
    ),
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
    // Camunda 7's REST API.
    camunda("GET", "/engine-rest/engine", ViewDefinitions),
    camunda("GET", "/engine-rest/version", ViewDefinitions),
    camunda("GET", "/engine-rest/deployment", ViewDefinitions),
    camunda("GET", "/engine-rest/deployment/count", ViewDefinitions),
    camunda("POST", "/engine-rest/deployment/create", Deploy),
    camunda("GET", "/engine-rest/deployment/{id}", ViewDefinitions),
    camunda("DELETE", "/engine-rest/deployment/{id}", Deploy),
    camunda(
        "GET",
        "/engine-rest/deployment/{id}/resources",
        ViewDefinitions,
    ),
    camunda("GET", "/engine-rest/external-task", FetchExternalTasks),
    camunda(
        "GET",
        "/engine-rest/external-task/count",
        FetchExternalTasks,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/fetchAndLock",
        FetchExternalTasks,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/complete",
        ReportExternalTask,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/failure",
        ReportExternalTask,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/bpmnError",
        ReportExternalTask,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/extendLock",
        ReportExternalTask,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/unlock",
        ReportExternalTask,
    ),
    camunda(
        "POST",
        "/engine-rest/external-task/{id}/lock",
        FetchExternalTasks,
    ),
    camunda("GET", "/engine-rest/process-definition", ViewDefinitions),
    camunda(
        "GET",
        "/engine-rest/process-definition/count",
        ViewDefinitions,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/key/{key}",
        ViewDefinitions,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/key/{key}/xml",
        ViewDefinitions,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/key/{key}/form-variables",
        ViewDefinitions,
    ),
    camunda(
        "POST",
        "/engine-rest/process-definition/key/{key}/start",
        StartInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/{id}",
        ViewDefinitions,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/{id}/xml",
        ViewDefinitions,
    ),
    camunda(
        "GET",
        "/engine-rest/process-definition/{id}/form-variables",
        ViewDefinitions,
    ),
    camunda(
        "POST",
        "/engine-rest/process-definition/{id}/start",
        StartInstance,
    ),
    listed(camunda(
        "GET",
        "/engine-rest/process-instance",
        ViewInstance,
    )),
    listed(camunda(
        "POST",
        "/engine-rest/process-instance",
        ViewInstance,
    )),
    listed(camunda(
        "GET",
        "/engine-rest/process-instance/count",
        ViewInstance,
    )),
    listed(camunda(
        "POST",
        "/engine-rest/process-instance/count",
        ViewInstance,
    )),
    camunda("GET", "/engine-rest/process-instance/{id}", ViewInstance),
    camunda(
        "DELETE",
        "/engine-rest/process-instance/{id}",
        CancelInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/process-instance/{id}/variables",
        ViewInstance,
    ),
    camunda(
        "POST",
        "/engine-rest/process-instance/{id}/variables",
        SetVariables,
    ),
    camunda(
        "GET",
        "/engine-rest/process-instance/{id}/variables/{name}",
        ViewInstance,
    ),
    camunda(
        "PUT",
        "/engine-rest/process-instance/{id}/variables/{name}",
        SetVariables,
    ),
    camunda(
        "DELETE",
        "/engine-rest/process-instance/{id}/variables/{name}",
        SetVariables,
    ),
    camunda(
        "GET",
        "/engine-rest/process-instance/{id}/activity-instances",
        ViewInstance,
    ),
    camunda("POST", "/engine-rest/message", CorrelateMessage),
    camunda("POST", "/engine-rest/signal", BroadcastSignal),
    listed(camunda("GET", "/engine-rest/task", ViewTask)),
    listed(camunda("POST", "/engine-rest/task", ViewTask)),
    listed(camunda("GET", "/engine-rest/task/count", ViewTask)),
    listed(camunda("POST", "/engine-rest/task/count", ViewTask)),
    camunda("GET", "/engine-rest/task/{id}", ViewTask),
    camunda("POST", "/engine-rest/task/{id}/claim", ClaimTask),
    camunda("POST", "/engine-rest/task/{id}/unclaim", UnclaimTask),
    camunda("POST", "/engine-rest/task/{id}/assignee", AssignTask),
    camunda("POST", "/engine-rest/task/{id}/complete", CompleteTask),
    camunda("POST", "/engine-rest/task/{id}/submit-form", CompleteTask),
    camunda("GET", "/engine-rest/task/{id}/form-variables", ViewTask),
    camunda("GET", "/engine-rest/task/{id}/variables", ViewTask),
    camunda("POST", "/engine-rest/task/{id}/variables", SetVariables),
    camunda("GET", "/engine-rest/task/{id}/variables/{name}", ViewTask),
    camunda(
        "PUT",
        "/engine-rest/task/{id}/variables/{name}",
        SetVariables,
    ),
    listed(camunda("GET", "/engine-rest/incident", ViewInstance)),
    listed(camunda("GET", "/engine-rest/incident/count", ViewInstance)),
    listed(camunda(
        "GET",
        "/engine-rest/history/process-instance",
        ViewInstance,
    )),
    listed(camunda(
        "POST",
        "/engine-rest/history/process-instance",
        ViewInstance,
    )),
    listed(camunda(
        "GET",
        "/engine-rest/history/process-instance/count",
        ViewInstance,
    )),
    listed(camunda(
        "POST",
        "/engine-rest/history/process-instance/count",
        ViewInstance,
    )),
    camunda(
        "GET",
        "/engine-rest/history/process-instance/{id}",
        ViewInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/history/activity-instance",
        ViewInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/history/activity-instance/count",
        ViewInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/history/variable-instance",
        ViewInstance,
    ),
    camunda(
        "GET",
        "/engine-rest/history/variable-instance/count",
        ViewInstance,
    ),
    listed(camunda("GET", "/engine-rest/history/task", ViewInstance)),
    listed(camunda(
        "GET",
        "/engine-rest/history/task/count",
        ViewInstance,
    )),
    camunda("GET", "/engine-rest/decision-definition", ViewDecisions),
    camunda(
        "GET",
        "/engine-rest/decision-definition/count",
        ViewDecisions,
    ),
    camunda(
        "GET",
        "/engine-rest/decision-definition/key/{key}",
        ViewDecisions,
    ),
    camunda(
        "POST",
        "/engine-rest/decision-definition/key/{key}/evaluate",
        EvaluateDecision,
    ),
    camunda(
        "POST",
        "/engine-rest/decision-definition/{id}/evaluate",
        EvaluateDecision,
    ),
];
