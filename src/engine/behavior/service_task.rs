//! Service task and send task.
//!
//! > "A Service Task is a Task that uses some sort of service, which could be a
//! > Web service or an automated application." A Send Task "is designed to send
//! > a Message to an external Participant"; like Camunda, this engine runs it
//! > exactly as a service task. (BPMN 2.0, 10.3.3)
//!
//! - `camunda:expression` runs inline; its value goes to `camunda:resultVariable`.
//! - `camunda:connector`, `camunda:type="external"` and registered service
//!   handlers become jobs: the element waits until the job executor (or an
//!   external worker) reports the result.
//! - A connector's result comes back as `response` (the JSON body, or the text),
//!   `statusCode` and `headers`; its output parameters are evaluated with those
//!   in view. An output parameter without a value takes the response field of
//!   the same name (the rule of the engine this one replaces).
//! - No implementation at all: the task passes straight through, as in the
//!   engine we replace (the deploy step warns about it).

use serde_json::{Map, Value, json};

use super::super::event::Event;
use super::super::run::{Run, eval_params};
use super::super::state::{JobKind, Step};
use super::Outcome;
use crate::bindings::Overlay;
use crate::model::{ErrorThrow, NodeIdx, NodeKind, ParamValue, ServiceTask};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::ServiceTask(s) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    match s.as_ref() {
        ServiceTask::None => Ok(Outcome::Done),
        ServiceTask::Expression {
            expr,
            result_variable,
        } => {
            let value = run
                .evaluate(key, |b| expr.eval(b))
                .map_err(|e| format!("camunda:expression failed: {e}"))?;
            if let Some(name) = result_variable {
                let mut vars = Map::new();
                vars.insert(name.clone(), value);
                run.set_variables(key, vars);
            }
            Ok(Outcome::Done)
        }
        ServiceTask::Connector(c) => {
            let inputs = run
                .evaluate(key, |b| eval_params(&c.inputs, b))
                .map_err(|e| format!("connector input: {e}"))?;
            // With error mappings, every reply comes back: they decide what a
            // status outside 2xx means.
            let mut payload = json!({ "connector": c.id, "inputs": Value::Object(inputs) });
            if !run.process.nodes[node].error_mappings.is_empty() {
                payload["any_status"] = Value::Bool(true);
            }
            run.wait_for_job(key, JobKind::Connector, None, payload);
            Ok(Outcome::Wait)
        }
        ServiceTask::External { topic } => {
            let topic = topic.clone();
            run.wait_for_job(key, JobKind::External { topic }, None, Value::Null);
            Ok(Outcome::Wait)
        }
        ServiceTask::Handler { name } => {
            let name = name.clone();
            let payload = json!({ "handler": name, "variables": run.state.visible_variables(key) });
            run.wait_for_job(key, JobKind::Handler { name }, None, payload);
            Ok(Outcome::Wait)
        }
    }
}

/// The connector call, handler or external worker finished with these variables.
pub(crate) fn on_job_done(run: &mut Run<'_>, key: u64, node: NodeIdx, result: Map<String, Value>) {
    match mapped_error(run, key, node, &result) {
        Ok(None) => {}
        Ok(Some(error)) => {
            throw_mapped(run, key, error);
            return;
        }
        // A retry calls again (the reply that failed is not kept).
        Err(message) => {
            run.incident(key, Step::Activate, message);
            return;
        }
    }
    let connector = match &run.process.nodes[node].kind {
        NodeKind::ServiceTask(s) => match s.as_ref() {
            ServiceTask::Connector(c) => Some(c),
            _ => None,
        },
        _ => None,
    };
    let variables = match connector {
        None => result,
        Some(c) => {
            let response = result.get("response").cloned().unwrap_or(Value::Null);
            let mut values = match run.evaluate(key, |b| {
                eval_params(
                    &c.outputs,
                    &mut Overlay {
                        top: &result,
                        base: b,
                    },
                )
            }) {
                Ok(v) => v,
                Err(e) => {
                    // The reply is not kept: a retry calls again.
                    run.incident(key, Step::Activate, format!("connector output: {e}"));
                    return;
                }
            };
            for p in &c.outputs {
                if let (ParamValue::Null, Some(v)) = (&p.value, response.get(&p.name)) {
                    values.insert(p.name.clone(), v.clone());
                }
            }
            values
        }
    };
    run.set_variables(key, variables);
    run.complete(key);
}

pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    run.close_wait(key);
}

/// The first error mapping whose condition holds for the result; an error for
/// a connector reply outside 2xx that no mapping claims.
fn mapped_error(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    result: &Map<String, Value>,
) -> Result<Option<ErrorThrow>, String> {
    let mappings = &run.process.nodes[node].error_mappings;
    if mappings.is_empty() {
        return Ok(None);
    }
    for m in mappings {
        let holds = run
            .evaluate(key, |b| {
                m.condition.eval_bool(&mut Overlay {
                    top: result,
                    base: b,
                })
            })
            .map_err(|e| format!("camunda:errorEventDefinition: {e}"))?;
        if holds {
            return Ok(Some(m.error.clone()));
        }
    }
    match result.get("statusCode").and_then(Value::as_u64) {
        Some(status) if !(200..300).contains(&status) => Err(format!(
            "the connector call answered {status}, and no camunda:errorEventDefinition maps it to an error"
        )),
        _ => Ok(None),
    }
}

/// Throws a mapped error at the task: a boundary event or event subprocess
/// catches it, else the calling instance, else it is an incident.
fn throw_mapped(run: &mut Run<'_>, key: u64, error: ErrorThrow) {
    run.emit(Event::ErrorThrown {
        key,
        code: error.code.clone(),
        message: error.message.clone(),
    });
    let origin = super::error_event::Origin::At(key);
    if !super::error_event::throw(run, origin, error.code.as_deref(), error.message.as_deref())
        && !super::error_event::pass_to_caller(run, error.code.clone(), error.message.clone())
    {
        run.incident(
            key,
            Step::Activate,
            super::error_event::uncaught(error.code.as_deref()),
        );
    }
}
