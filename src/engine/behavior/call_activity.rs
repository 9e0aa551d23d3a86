//! Call activity: runs an instance of another process and waits for it.
//!
//! > "A Call Activity identifies a point in the Process where a global Process
//! > [...] is used. [...] the called element is instantiated and runs; once it
//! > completes, the Call Activity completes." (BPMN 2.0, 10.3.6)
//!
//! Starting another instance reaches outside this instance's transaction, so
//! activation only evaluates what crosses over — the called key, its version
//! binding, the business key and the `camunda:in` variables — and waits for a
//! `call` job. The job executor starts the called instance and, in the same
//! transaction, tells this one which instance it waits for (`CallStarted`).
//! When the called instance ends it reports back through a `return` job
//! ([`CallOutcome`]): completion applies the `camunda:out` mappings and
//! completes the activity; an error nobody caught inside is thrown here (a
//! boundary event on the call activity, or further out, catches it); an
//! escalation is raised here; a cancellation from outside becomes an incident
//! (retrying it calls again). When the activity is cancelled, so is the
//! instance it called.
//!
//! Variables cross only as mapped (Camunda's rule): `camunda:in` evaluates
//! against what the activity sees (`local`: only its own local variables,
//! e.g. from its input mappings); `camunda:out` evaluates against the called
//! instance's variables and sets into this instance the usual way
//! (`local`: as the activity's local variables, for its output mappings).

use serde_json::{Map, Value, json};

use super::super::effect::{CallOutcome, Effect};
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{JobKind, Step, Wait};
use super::Outcome;
use crate::bindings::{Bindings, Overlay, PlainBindings};
use crate::model::expr::{EvalError, Template};
use crate::model::{CallActivity, CallBinding, CallMapping, CallSource, NodeIdx, NodeKind};

fn call_of<'p>(run: &Run<'p>, node: NodeIdx) -> Option<&'p CallActivity> {
    match &run.process.nodes[node].kind {
        NodeKind::CallActivity(c) => Some(c),
        _ => None,
    }
}

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let Some(call) = call_of(run, node) else {
        return Ok(Outcome::Done);
    };
    let locals = run.state.variables.get(&key).cloned().unwrap_or_default();
    let (process, (binding, version, version_tag), business_key, variables) = run
        .evaluate(key, |b| {
            let process = name_of(b, "calledElement", &call.called)?;
            let version = binding(b, "calledElement", &call.binding)?;
            let business_key = match &call.business_key {
                None => Value::Null,
                Some(t) => match t
                    .eval(b)
                    .map_err(|e| EvalError(format!("businessKey: {e}")))?
                {
                    Value::Null => Value::Null,
                    Value::String(s) => Value::String(s),
                    other => Value::String(other.to_string()),
                },
            };
            let variables = map_variables(&call.inputs, b, &locals)?;
            Ok((process, version, business_key, variables))
        })
        .map_err(|e| e.0)?;
    let payload = json!({
        "process": process,
        "binding": binding,
        "version": version,
        "version_tag": version_tag,
        "business_key": business_key,
        "variables": variables,
    });
    run.wait_for_job(key, JobKind::Call, None, payload);
    Ok(Outcome::Wait)
}

/// A name an attribute gives (a process key, a decision id): its text, or an
/// expression's value.
pub(crate) fn name_of(
    vars: &mut dyn Bindings,
    what: &str,
    t: &Template,
) -> Result<String, EvalError> {
    match t
        .eval(vars)
        .map_err(|e| EvalError(format!("{what}: {e}")))?
    {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(EvalError(format!("{what} gave {other}, not a name"))),
    }
}

/// A version binding as a job's payload wants it: `(binding, version,
/// version tag)`; `prefix` names the attributes (`calledElement`, `decisionRef`).
pub(crate) fn binding(
    vars: &mut dyn Bindings,
    prefix: &str,
    binding: &CallBinding,
) -> Result<(&'static str, Value, Value), EvalError> {
    Ok(match binding {
        CallBinding::Latest => ("latest", Value::Null, Value::Null),
        CallBinding::Deployment => ("deployment", Value::Null, Value::Null),
        CallBinding::Version(t) => {
            let v = name_of(vars, &format!("{prefix}Version"), t)?;
            let n: i64 = v.parse().map_err(|_| {
                EvalError(format!("{prefix}Version \"{v}\" is not a version number"))
            })?;
            ("version", json!(n), Value::Null)
        }
        CallBinding::VersionTag(t) => (
            "versionTag",
            Value::Null,
            json!(name_of(vars, &format!("{prefix}VersionTag"), t)?),
        ),
    })
}

/// Applies `camunda:in` / `camunda:out` mappings: `all` sees every variable
/// (`local`: only `locals`), one mapping copies a variable or an expression's value.
fn map_variables(
    mappings: &[CallMapping],
    all: &mut dyn Bindings,
    locals: &Map<String, Value>,
) -> Result<Map<String, Value>, EvalError> {
    let mut out = Map::new();
    for m in mappings {
        match m {
            CallMapping::All { local: true } => {
                out.extend(locals.iter().map(|(k, v)| (k.clone(), v.clone())))
            }
            CallMapping::All { local: false } => out.extend(all.variables()),
            CallMapping::One {
                source,
                target,
                local,
            } => {
                let value = match source {
                    CallSource::Variable(name) if *local => {
                        locals.get(name).cloned().unwrap_or(Value::Null)
                    }
                    CallSource::Variable(name) => all.variable(name).unwrap_or(Value::Null),
                    CallSource::Expression(t) => t
                        .eval(all)
                        .map_err(|e| EvalError(format!("sourceExpression of {target}: {e}")))?,
                };
                out.insert(target.clone(), value);
            }
        }
    }
    Ok(out)
}

/// The part of a called instance's variables the `camunda:out` mappings can
/// read: all of them for `variables="all"` or an expression, else the named ones.
fn needed(run: &Run<'_>, key: u64, mut variables: Map<String, Value>) -> Map<String, Value> {
    let Some(call) = run.node_of(key).and_then(|n| call_of(run, n)) else {
        return Map::new();
    };
    let mut names = Vec::new();
    for m in &call.outputs {
        match m {
            CallMapping::One {
                source: CallSource::Variable(name),
                ..
            } => names.push(name.as_str()),
            _ => return variables,
        }
    }
    variables.retain(|k, _| names.contains(&k.as_str()));
    variables
}

/// The activity completes: the `camunda:out` mappings take what the called
/// instance returned.
pub(crate) fn map_outputs(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<(), String> {
    let Some(call) = call_of(run, node) else {
        return Ok(());
    };
    let Some(variables) = run
        .state
        .elements
        .get(&key)
        .and_then(|e| e.returned.clone())
    else {
        return Ok(());
    };
    // A single mapping reads the called instance's variables first, then the
    // caller's: an admin can supply what a failed mapping missed and retry.
    let (locals, globals) = run
        .evaluate(key, |b| {
            let mut locals = Map::new();
            let mut globals = Map::new();
            for m in &call.outputs {
                let (local, values) = match m {
                    CallMapping::All { local } => {
                        let mut returned = PlainBindings {
                            variables: variables.clone(),
                            now: Some(b.now()),
                        };
                        let values =
                            map_variables(std::slice::from_ref(m), &mut returned, &variables)?;
                        (*local, values)
                    }
                    CallMapping::One { local, .. } => {
                        let mut fallback = Overlay {
                            top: &variables,
                            base: &mut *b,
                        };
                        let values =
                            map_variables(std::slice::from_ref(m), &mut fallback, &variables)?;
                        (*local, values)
                    }
                };
                if local {
                    locals.extend(values);
                } else {
                    globals.extend(values);
                }
            }
            Ok((locals, globals))
        })
        .map_err(|e| format!("camunda:out: {e}"))?;
    // `local`: the activity's own variables (for its output mappings).
    if !locals.is_empty() {
        run.emit(Event::VariablesSet {
            scope: key,
            values: locals,
        });
    }
    run.set_variables(key, globals);
    Ok(())
}

/// The `call` job started the called instance.
pub(crate) fn on_started(run: &mut Run<'_>, key: u64, instance: String) {
    run.emit(Event::JobCompleted { key });
    run.emit(Event::CallStarted { key, instance });
}

/// The called instance reported back.
pub(crate) fn on_return(run: &mut Run<'_>, key: u64, outcome: CallOutcome) {
    let instance = match run.state.elements.get(&key).and_then(|e| e.wait.clone()) {
        Some(Wait::Called { instance }) => instance,
        _ => String::new(),
    };
    match outcome {
        CallOutcome::Completed { variables } => {
            // Kept only as far as the `camunda:out` mappings need them.
            let variables = needed(run, key, variables);
            run.emit(Event::CallEnded {
                key,
                instance,
                variables,
            });
            // `camunda:out` runs as the activity completes (so a retry of a
            // failed mapping runs it again).
            run.complete(key);
        }
        CallOutcome::Error { code, message } => {
            run.emit(Event::ErrorThrown {
                key,
                code: code.clone(),
                message: message.clone(),
            });
            if !super::error_event::throw(
                run,
                super::error_event::Origin::At(key),
                code.as_deref(),
                message.as_deref(),
            ) && !super::error_event::pass_to_caller(run, code.clone(), message.clone())
            {
                run.incident(
                    key,
                    Step::Activate,
                    super::error_event::uncaught(code.as_deref()),
                );
            }
        }
        CallOutcome::Escalation { code } => {
            super::escalation_event::raise(run, key, super::error_event::Origin::At(key), code);
        }
        CallOutcome::Cancelled { reason } => {
            run.emit(Event::CallEnded {
                key,
                instance,
                variables: Map::new(),
            });
            run.incident(
                key,
                Step::Activate,
                format!("the called instance was cancelled ({reason}); retrying calls again"),
            );
        }
    }
}

/// The activity is cancelled: so is what it called (or is about to call).
pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    if let Some(Wait::Called { instance }) =
        run.state.elements.get(&key).and_then(|e| e.wait.clone())
    {
        run.effect(Effect::CancelCalled { instance });
    }
    run.close_wait(key);
}
