//! Service handlers: the plug-in point for Rust code that embeds the engine.
//!
//! A service task with `camunda:delegateExpression="${name}"` or
//! `camunda:class="name"` is run by the handler registered under `name` when
//! the runtime is built ([`Runtime::with_handler`](super::Runtime::with_handler)).
//! A diagram that names a handler nobody registered is refused when it is
//! deployed. The handler runs in the job executor, outside any transaction,
//! with the variables the task sees; the variables it returns are set when its
//! result is committed. It may run more than once for one task (a process dies
//! after the call and before the commit): `ServiceCall::job_id` is the key to
//! make its effect idempotent.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};
use uuid::Uuid;

/// What a handler is asked to do.
#[derive(Debug, Clone)]
pub struct ServiceCall {
    /// The job's id: the same for every attempt of this task's call.
    pub job_id: Uuid,
    pub instance_id: Uuid,
    pub element_id: String,
    /// The variables the service task sees.
    pub variables: Map<String, Value>,
}

/// A failed call: retried with backoff while attempts are left, then an incident.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

/// The future a handler returns.
pub type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Map<String, Value>, HandlerError>> + Send + 'a>>;

/// A named piece of Rust code that service tasks can call.
pub trait ServiceHandler: Send + Sync {
    fn call<'a>(&'a self, call: &'a ServiceCall) -> HandlerFuture<'a>;
}

/// A handler made of a plain function (for work that does not wait on IO).
pub struct FnHandler<F>(pub F);

impl<F> ServiceHandler for FnHandler<F>
where
    F: Fn(&ServiceCall) -> Result<Map<String, Value>, HandlerError> + Send + Sync,
{
    fn call<'a>(&'a self, call: &'a ServiceCall) -> HandlerFuture<'a> {
        let result = (self.0)(call);
        Box::pin(async move { result })
    }
}
