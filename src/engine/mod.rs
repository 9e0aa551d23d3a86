//! The engine core: BPMN execution semantics as a pure function.
//!
//! `execute(process, &state, command, now)` returns a [`Transition`]: the events
//! that happened (which are both the state change and the history) and the
//! effects the outside world must carry out. Nothing here does IO, reads a
//! clock or draws a random number; time and the instance's state come in as
//! arguments, which is what makes a virtual clock, replays and pure tests work.
//!
//! A command runs until every token waits: for a person, a message, a job, a
//! timer, or at a join. A failure an admin can fix (a condition that cannot be
//! evaluated, a script over its budget) becomes an incident on its element; a
//! command that makes no sense (completing a task that is not open, invalid
//! form values) is refused with a [`CommandError`] and changes nothing.

pub(crate) mod behavior;
mod bindings;
pub mod effect;
pub mod event;
pub mod operate;
mod run;
pub mod state;

use jiff::Timestamp;
use serde_json::{Map, Value};

pub use bindings::{Context, task_id};
pub use effect::{CallOutcome, Effect, UserTaskSpec};
pub use event::Event;
pub use operate::{Instruction, MigrationPlan, migrate, migrate_in};
pub use run::STEP_LIMIT;
pub use state::{
    AdHocProgress, Compensable, ElementInstance, Incident, InstanceState, JobKind, JobType,
    JoinTokens, PendingHandler, ROOT, Resetting, SCHEMA_VERSION, Status, Step, Wait,
};

use crate::model::form::{self, FieldError};
use crate::model::{ListenerEvent, NodeKind, Process};
use behavior::{
    boundary_event, call_activity, catch_event, event_subprocess, service_task, user_task,
};
use run::Run;

/// Something asked of an instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start the (fresh) instance at its none start event.
    Start {
        variables: Map<String, Value>,
        /// The starting user, stored in the start event's `camunda:initiator` variable.
        initiator: Option<String>,
    },
    /// Start the (fresh) instance at a timer (or other event) start event, by id.
    StartAt {
        element: String,
        variables: Map<String, Value>,
    },
    /// Complete the open user task of an element instance.
    CompleteUserTask {
        key: u64,
        variables: Map<String, Value>,
    },
    /// A user takes a task that nobody holds.
    ClaimTask { key: u64, user: String },
    /// The holder gives the task back to its candidates.
    UnclaimTask { key: u64 },
    /// Hand the task to someone (or nobody), whoever holds it now.
    AssignTask { key: u64, assignee: Option<String> },
    /// Trigger the element instance waiting for an explicit trigger.
    Trigger {
        key: u64,
        variables: Map<String, Value>,
    },
    /// Deliver a message to the element instance waiting for it.
    CorrelateMessage {
        key: u64,
        variables: Map<String, Value>,
    },
    /// A job of the element instance finished (a timer fired, a continuation ran,
    /// a connector or external worker returned these variables).
    CompleteJob {
        key: u64,
        variables: Map<String, Value>,
    },
    /// A job failed and may not be retried automatically: the element gets an
    /// incident; retrying it starts the element (and its job) again.
    FailJob { key: u64, message: String },
    /// The work of a job ended in a BPMN error (an external worker's
    /// `bpmn-error`): an error boundary event takes over, or an incident.
    ThrowError {
        key: u64,
        code: String,
        message: Option<String>,
        /// Set (as a worker's result would be) before the error is thrown.
        variables: Map<String, Value>,
    },
    /// Resume the step an incident stopped.
    RetryIncident { incident: u64 },
    /// Set instance variables (an admin correcting data).
    SetVariables { variables: Map<String, Value> },
    /// Set some instance variables and remove others, at once.
    ModifyVariables {
        variables: Map<String, Value>,
        remove: Vec<String>,
    },
    /// End the instance now, cancelling everything.
    Cancel { reason: String },
    /// Suspend the instance: it takes no commands but resume, cancel and
    /// setting variables until it is resumed.
    Suspend { reason: Option<String> },
    /// Resume a suspended instance.
    Resume { reason: Option<String> },
    /// Move the instance's tokens: cancel and start elements, in order, after
    /// setting these variables on the instance.
    Modify {
        instructions: Vec<Instruction>,
        variables: Map<String, Value>,
        reason: Option<String>,
    },
    /// The `call` job of a call activity started the instance `instance`.
    CallStarted { key: u64, instance: String },
    /// The instance `instance` a call activity called reports back.
    CallReturned {
        key: u64,
        instance: String,
        outcome: CallOutcome,
    },
}

/// Why a command was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error("the instance is {0}, so it accepts no more commands")]
    NotActive(&'static str),
    #[error("the instance has already been started")]
    AlreadyStarted,
    #[error("the process has no none start event to start it")]
    NoStartEvent,
    #[error("the process has no start event \"{0}\"")]
    NoSuchStartEvent(String),
    #[error("element instance {key} is not waiting for {expected}")]
    NotWaiting { key: u64, expected: &'static str },
    #[error("the task is already claimed by {0}")]
    AlreadyClaimed(String),
    #[error("incident {0} is not open")]
    NoSuchIncident(u64),
    #[error("invalid values: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidVariables(Vec<FieldError>),
    /// The instance is suspended: only resume, cancel and setting variables
    /// are taken.
    #[error("{0} is suspended; resume it first")]
    Suspended(String),
    /// An operator's command that would leave the instance broken.
    #[error("{0}")]
    Refused(String),
    /// A task listener failed; the command is refused, as a failure inside
    /// the transaction would be.
    #[error("{0}")]
    Listener(String),
}

/// The outcome of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub events: Vec<Event>,
    pub effects: Vec<Effect>,
    /// The state after the events (the same as applying them to the old state).
    pub state: InstanceState,
}

/// Runs one command against an instance.
pub fn execute(
    process: &Process,
    ctx: &Context,
    state: &InstanceState,
    command: Command,
    now: Timestamp,
) -> Result<Transition, CommandError> {
    let mut run = Run::new(process, ctx, state, now);
    match command {
        Command::Start {
            variables,
            initiator,
        } => start(&mut run, None, variables, initiator)?,
        Command::StartAt { element, variables } => {
            start(&mut run, Some(&element), variables, None)?
        }
        other => {
            if state.status != Status::Active {
                return Err(CommandError::NotActive(state.status.as_str()));
            }
            let allowed = matches!(
                other,
                Command::Resume { .. } | Command::Cancel { .. } | Command::SetVariables { .. }
            );
            if state.suspended && !allowed {
                return Err(CommandError::Suspended(match ctx.instance_id {
                    Some(id) => format!("the instance {id}"),
                    None => "the instance".into(),
                }));
            }
            dispatch(&mut run, other)?;
        }
    }
    run.drain();
    if let Some(message) = run.failed.take() {
        return Err(CommandError::Listener(message));
    }
    Ok(Transition {
        events: run.events,
        effects: run.effects,
        state: run.state,
    })
}

fn start(
    run: &mut Run<'_>,
    at: Option<&str>,
    variables: Map<String, Value>,
    initiator: Option<String>,
) -> Result<(), CommandError> {
    if run.state.status != Status::Created {
        return Err(CommandError::AlreadyStarted);
    }
    let start = match at {
        None if run.process.start.is_none() && !run.process.implicit_starts.is_empty() => {
            return start_implicitly(run, variables);
        }
        None => run.process.start.ok_or(CommandError::NoStartEvent)?,
        Some(id) => run
            .process
            .node_index(id)
            .filter(|n| {
                run.process.nodes[*n].scope.is_none()
                    && matches!(run.process.nodes[*n].kind, NodeKind::StartEvent(_))
            })
            .ok_or_else(|| CommandError::NoSuchStartEvent(id.to_string()))?,
    };
    let node = &run.process.nodes[start];
    let mut values = match &node.kind {
        NodeKind::StartEvent(s) => {
            let mut values =
                form::validate(&s.form, &variables).map_err(CommandError::InvalidVariables)?;
            if let (Some(var), Some(user)) = (&s.initiator, initiator) {
                values.insert(var.clone(), Value::String(user));
            }
            values
        }
        _ => variables,
    };
    run.emit(Event::InstanceStarted {
        process: run.process.id.clone(),
        start: node.id.clone(),
    });
    // Keep the submitted order stable in history: serde_json maps are sorted anyway.
    if !values.is_empty() {
        run.emit(Event::VariablesSet {
            scope: ROOT,
            values: std::mem::take(&mut values),
        });
    }
    process_listeners(run, ListenerEvent::Start)?;
    event_subprocess::arm_all(run, ROOT, None);
    pass_instantiating_gateway(run, start);
    run.activate(start, ROOT);
    Ok(())
}

/// Runs the process's own `start` listeners as the instance starts; a failing
/// one refuses the start (nothing is stored), as Camunda's rollback does.
fn process_listeners(run: &mut Run<'_>, event: ListenerEvent) -> Result<(), CommandError> {
    let process = run.process;
    run.try_listeners(ROOT, &process.listeners, event)
        .map_err(|e| CommandError::Listener(format!("process \"{}\": {e}", process.id)))
}

/// A start event reached through an event-based gateway that starts the
/// process (`instantiate="true"`): its event won the gateway's race, so the
/// gateway and the flow to the event are recorded as passed.
fn pass_instantiating_gateway(run: &mut Run<'_>, start: usize) {
    let process = run.process;
    for &f in &process.nodes[start].incoming {
        let flow = &process.flows[f];
        let gateway = &process.nodes[flow.source];
        if !matches!(gateway.kind, NodeKind::EventGateway) {
            continue;
        }
        let key = run.enter(flow.source, ROOT, None);
        run.emit(Event::ElementCompleted {
            key,
            element: gateway.id.clone(),
        });
        run.emit(Event::FlowTaken {
            flow: flow.id.clone(),
            scope: ROOT,
            join: None,
            default: false,
        });
    }
}

/// A process without start events starts at every element without incoming
/// sequence flows (BPMN 2.0, 10.5.2).
fn start_implicitly(run: &mut Run<'_>, variables: Map<String, Value>) -> Result<(), CommandError> {
    let starts = run.process.implicit_starts.clone();
    run.emit(Event::InstanceStarted {
        process: run.process.id.clone(),
        start: run.process.nodes[starts[0]].id.clone(),
    });
    if !variables.is_empty() {
        run.emit(Event::VariablesSet {
            scope: ROOT,
            values: variables,
        });
    }
    process_listeners(run, ListenerEvent::Start)?;
    event_subprocess::arm_all(run, ROOT, None);
    for s in starts {
        run.activate(s, ROOT);
    }
    Ok(())
}

fn is_boundary(run: &Run<'_>, node: usize) -> bool {
    matches!(run.process.nodes[node].kind, NodeKind::BoundaryEvent(_))
}

fn is_event_sub(run: &Run<'_>, node: usize) -> bool {
    matches!(run.process.nodes[node].kind, NodeKind::EventSubProcess(_))
}

fn waiting(run: &Run<'_>, key: u64) -> Option<(usize, Wait)> {
    let e = run.state.elements.get(&key)?;
    let node = run.process.node_index(&e.element)?;
    Some((node, e.wait.clone()?))
}

fn dispatch(run: &mut Run<'_>, command: Command) -> Result<(), CommandError> {
    match command {
        Command::Start { .. } | Command::StartAt { .. } => Err(CommandError::AlreadyStarted),
        Command::CompleteUserTask { key, variables } => match waiting(run, key) {
            Some((node, Wait::UserTask { .. })) => {
                user_task::on_complete(run, key, node, &variables)
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a user task to be completed",
            }),
        },
        Command::ClaimTask { key, user } => match waiting(run, key) {
            Some((_, Wait::UserTask { assignee, .. })) => {
                user_task::assign(run, key, assignee, Some(user), true)
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a user task to be claimed",
            }),
        },
        Command::UnclaimTask { key } => match waiting(run, key) {
            Some((_, Wait::UserTask { assignee, .. })) => {
                user_task::assign(run, key, assignee, None, false)
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a user task to be released",
            }),
        },
        Command::AssignTask { key, assignee: to } => match waiting(run, key) {
            Some((_, Wait::UserTask { assignee, .. })) => {
                user_task::assign(run, key, assignee, to, false)
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a user task to be assigned",
            }),
        },
        Command::CorrelateMessage { key, variables } => match waiting(run, key) {
            Some((node, Wait::Message { name } | Wait::Signal { name })) => {
                if is_boundary(run, node) {
                    boundary_event::on_message(run, key, node, &name, variables);
                } else if is_event_sub(run, node) {
                    event_subprocess::on_message(run, key, node, &name, variables);
                } else {
                    run.win_race(key);
                    catch_event::on_message(run, key, &name, variables);
                }
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a message",
            }),
        },
        Command::Trigger { key, variables } => match waiting(run, key) {
            Some((_, Wait::Trigger)) => {
                run.emit(Event::Triggered { key });
                run.set_variables(key, variables);
                run.complete(key);
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a trigger",
            }),
        },
        Command::CompleteJob { key, variables } => match waiting(run, key) {
            Some((node, Wait::Job { job, .. })) => {
                match job {
                    JobKind::Timer if is_boundary(run, node) => {
                        boundary_event::on_timer(run, key, node)
                    }
                    JobKind::Timer if is_event_sub(run, node) => {
                        event_subprocess::on_timer(run, key, node)
                    }
                    JobKind::Timer => {
                        run.win_race(key);
                        catch_event::on_timer(run, key);
                    }
                    JobKind::AsyncBefore => {
                        run.emit(Event::JobCompleted { key });
                        run.start(key);
                    }
                    JobKind::AsyncAfter => {
                        run.emit(Event::JobCompleted { key });
                        run.leave(key);
                    }
                    JobKind::Throw => {
                        run.emit(Event::JobCompleted { key });
                        run.complete(key);
                    }
                    // Answered by `CallStarted`, never by a plain completion.
                    JobKind::Call => {
                        return Err(CommandError::NotWaiting {
                            key,
                            expected: "a job that completes this way",
                        });
                    }
                    JobKind::Connector
                    | JobKind::External { .. }
                    | JobKind::Handler { .. }
                    | JobKind::Decide => {
                        run.emit(Event::JobCompleted { key });
                        service_task::on_job_done(run, key, node, variables);
                    }
                }
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a job",
            }),
        },
        Command::FailJob { key, message } => match waiting(run, key) {
            // A called instance's answer that could not be taken, too.
            Some((_, Wait::Job { .. } | Wait::Called { .. })) => {
                run.emit(Event::JobFailed {
                    key,
                    message: message.clone(),
                });
                run.incident(key, Step::Activate, message);
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a job",
            }),
        },
        Command::ThrowError {
            key,
            code,
            message,
            variables,
        } => match waiting(run, key) {
            Some((_, Wait::Job { .. })) => {
                run.set_variables(key, variables);
                run.emit(Event::ErrorThrown {
                    key,
                    code: Some(code.clone()),
                    message: message.clone(),
                });
                if !behavior::error_event::throw(
                    run,
                    behavior::error_event::Origin::At(key),
                    Some(&code),
                    message.as_deref(),
                ) && !behavior::error_event::pass_to_caller(
                    run,
                    Some(code.clone()),
                    message.clone(),
                ) {
                    run.incident(
                        key,
                        Step::Activate,
                        behavior::error_event::uncaught(Some(&code)),
                    );
                }
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "a job",
            }),
        },
        Command::RetryIncident { incident } => {
            let Some(i) = run.state.incidents.get(&incident).cloned() else {
                return Err(CommandError::NoSuchIncident(incident));
            };
            run.emit(Event::IncidentResolved { incident });
            match i.step {
                Step::Activate => run.start(i.key),
                Step::Complete => run.complete(i.key),
                Step::Leave => run.leave(i.key),
            }
            Ok(())
        }
        Command::SetVariables { variables } => {
            if !variables.is_empty() {
                run.emit(Event::VariablesSet {
                    scope: ROOT,
                    values: variables,
                });
            }
            Ok(())
        }
        Command::ModifyVariables { variables, remove } => {
            if !variables.is_empty() {
                run.emit(Event::VariablesSet {
                    scope: ROOT,
                    values: variables,
                });
            }
            // Removing a variable the instance does not have changes nothing.
            let have = run.state.variables.get(&ROOT);
            let names: Vec<String> = remove
                .into_iter()
                .filter(|n| have.is_some_and(|v| v.contains_key(n)))
                .collect();
            if !names.is_empty() {
                run.emit(Event::VariablesRemoved { scope: ROOT, names });
            }
            Ok(())
        }
        Command::Cancel { reason } => {
            if let Some(element) = run.state.called_by.clone() {
                run.effect(Effect::ReturnToCaller {
                    element,
                    outcome: CallOutcome::Cancelled {
                        reason: reason.clone(),
                    },
                });
            }
            run.end_instance(reason);
            Ok(())
        }
        Command::Suspend { reason } => operate::suspend(run, reason),
        Command::Resume { reason } => operate::resume(run, reason),
        Command::Modify {
            instructions,
            variables,
            reason,
        } => operate::modify(run, instructions, variables, reason),
        Command::CallStarted { key, instance } => match waiting(run, key) {
            Some((
                _,
                Wait::Job {
                    job: JobKind::Call, ..
                },
            )) => {
                call_activity::on_started(run, key, instance);
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "its call job",
            }),
        },
        Command::CallReturned {
            key,
            instance,
            outcome,
        } => match waiting(run, key) {
            // Only the instance it waits for (not one it called before a retry).
            Some((_, Wait::Called { instance: waited })) if waited == instance => {
                call_activity::on_return(run, key, outcome);
                Ok(())
            }
            _ => Err(CommandError::NotWaiting {
                key,
                expected: "the instance it called",
            }),
        },
    }
}

/// When a timer start event fires next, having fired `fired` times, the last
/// time at `last` (or never: counted from `now`, the moment of deployment).
/// `None` when its schedule is over. A date that has passed fires at once.
pub fn start_timer_due(
    process: &Process,
    element: &str,
    fired: u32,
    last: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Timestamp>, String> {
    let timer = match process.node(element).map(|n| &n.kind) {
        Some(NodeKind::StartEvent(s)) => s.timer.as_ref(),
        _ => None,
    }
    .ok_or_else(|| format!("\"{element}\" is not a timer start event"))?;
    let text = |t: &crate::model::expr::Template| -> Result<String, String> {
        let mut b = crate::bindings::PlainBindings {
            variables: Map::new(),
            now: Some(now),
        };
        match t.eval(&mut b).map_err(|e| format!("timer: {e}"))? {
            Value::String(s) => Ok(s),
            other => Err(format!(
                "timer: the expression gave {other}, not a date, duration or cycle"
            )),
        }
    };
    use crate::model::{Timer, time};
    match timer {
        Timer::Date(t) if fired == 0 => time::parse_datetime(&text(t)?).map(Some),
        Timer::Duration(t) if fired == 0 => time::parse_duration(&text(t)?)
            .and_then(|d| time::add(now, d))
            .map(Some),
        Timer::Date(_) | Timer::Duration(_) => Ok(None),
        Timer::Cycle(t) => {
            let cycle = time::parse_cycle(&text(t)?)?;
            // After an outage the schedule goes on from now; missed firings are not replayed.
            let from = last.map_or(now, |l| l.max(now));
            Ok(cycle.next(fired, from))
        }
    }
    .map_err(|e| format!("timer start event \"{element}\": {e}"))
}

/// One thing an instance waits for, for listings (`bpmn run`, pages, API).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WaitingItem {
    pub key: Option<u64>,
    pub element: String,
    /// `user_task`, `message`, `timer`, `job`, `join` or `incident`.
    pub kind: &'static str,
    pub detail: Option<String>,
}

/// What the instance waits for, in the order the waits began.
pub fn waiting_items(process: &Process, state: &InstanceState) -> Vec<WaitingItem> {
    let mut out = Vec::new();
    for (key, e) in &state.elements {
        let (kind, detail) = match (&e.incident, &e.wait) {
            (Some(i), _) => (
                "incident",
                state.incidents.get(i).map(|i| i.message.clone()),
            ),
            (None, Some(Wait::UserTask { assignee, .. })) => ("user_task", assignee.clone()),
            (None, Some(Wait::Message { name })) => ("message", Some(name.clone())),
            (None, Some(Wait::Signal { name })) => ("signal", Some(name.clone())),
            (None, Some(Wait::Condition { .. })) => ("condition", None),
            (
                None,
                Some(Wait::Job {
                    job: JobKind::Timer,
                    due,
                }),
            ) => ("timer", due.map(|d| d.to_string())),
            (
                None,
                Some(Wait::Job {
                    job: JobKind::External { topic },
                    ..
                }),
            ) => ("job", Some(format!("external:{topic}"))),
            (None, Some(Wait::Job { job, .. })) => ("job", Some(job.name().to_string())),
            (None, Some(Wait::Called { instance })) => ("called", Some(instance.clone())),
            (None, Some(Wait::Trigger)) => ("trigger", None),
            (None, Some(Wait::Compensating { pending, .. })) => (
                "compensation",
                Some(format!("{} more handler(s) to run", pending.len())),
            ),
            (None, Some(Wait::Children)) | (None, None) => continue,
        };
        out.push(WaitingItem {
            key: Some(*key),
            element: e.element.clone(),
            kind,
            detail,
        });
    }
    for r in &state.resetting {
        out.push(WaitingItem {
            key: None,
            element: r.gateway.clone(),
            kind: "join",
            detail: Some(format!(
                "waiting for reset: {} more incoming flow(s)",
                r.awaiting.len()
            )),
        });
    }
    for j in &state.joins {
        let total = process
            .node(&j.gateway)
            .map(|n| n.incoming.len())
            .unwrap_or(0);
        out.push(WaitingItem {
            key: None,
            element: j.gateway.clone(),
            kind: "join",
            detail: Some(format!(
                "tokens on {} of {} incoming flows",
                j.flows.len(),
                total
            )),
        });
    }
    out
}
