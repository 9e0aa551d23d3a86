//! Intermediate catch events: timer and message.
//!
//! > "The Timer Event [...] acts as a delay mechanism"; `timeDuration` counts from
//! > the moment the token arrives, `timeDate` names the instant. A message catch
//! > event waits until "a Message arrives from a Participant". (BPMN 2.0, 10.4.6)
//!
//! Timers become jobs with a due time; messages become subscriptions by name.
//! A timer whose expression cannot be evaluated is an incident.

use super::super::effect::Effect;
use super::super::event::Event;
use super::super::run::Run;
use super::super::state::{JobKind, Wait};
use super::Outcome;
use crate::model::expr::Template;
use crate::model::{Catch, NodeIdx, NodeKind, Timer, time};
use serde_json::{Map, Value};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let catch = match &run.process.nodes[node].kind {
        NodeKind::IntermediateCatch(c) | NodeKind::ReceiveTask(c) => c,
        _ => return Ok(Outcome::Done),
    };
    if !wait_for(run, key, node, catch)? {
        return Err(
            "an error, escalation, compensation or cancellation cannot be awaited by a catch event"
                .into(),
        );
    }
    Ok(Outcome::Wait)
}

/// Starts waiting for a trigger (a catch event, a boundary event, an armed
/// event subprocess): a timer job, a message or signal subscription, or a
/// condition. `false` for triggers that are thrown rather than awaited
/// (errors, escalations, compensation, cancellation).
pub(crate) fn wait_for(
    run: &mut Run<'_>,
    key: u64,
    node: NodeIdx,
    trigger: &Catch,
) -> Result<bool, String> {
    match trigger {
        Catch::Timer(timer) => {
            let due = due(run, key, timer)?;
            run.wait_for_job(key, JobKind::Timer, Some(due), Value::Null);
        }
        Catch::Message { name } => wait_for_message(run, key, node, name.clone()),
        Catch::Signal { name } => wait_for_signal(run, key, node, name.clone()),
        // Checked once nothing else moves (see `Run::check_conditions`).
        Catch::Conditional { .. } => run.emit(Event::WaitStarted {
            key,
            wait: Wait::Condition { latched: false },
        }),
        Catch::Trigger => run.emit(Event::WaitStarted {
            key,
            wait: Wait::Trigger,
        }),
        Catch::Error(_) | Catch::Escalation { .. } | Catch::Compensation | Catch::Cancel => {
            return Ok(false);
        }
    }
    Ok(true)
}

/// When a timer that starts now is first due.
pub(crate) fn due(run: &Run<'_>, key: u64, timer: &Timer) -> Result<jiff::Timestamp, String> {
    match timer {
        Timer::Date(t) => time::parse_datetime(&timer_text(run, key, t)?),
        Timer::Duration(t) => {
            time::parse_duration(&timer_text(run, key, t)?).and_then(|d| time::add(run.now, d))
        }
        Timer::Cycle(t) => time::parse_cycle(&timer_text(run, key, t)?).and_then(|c| {
            c.next(0, run.now)
                .ok_or_else(|| "the cycle never fires".to_string())
        }),
    }
    .map_err(|e| format!("timer: {e}"))
}

/// The text of a timer definition, its expressions evaluated.
pub(crate) fn timer_text(run: &Run<'_>, key: u64, template: &Template) -> Result<String, String> {
    match run
        .evaluate_pure(key, |b| template.eval(b))
        .map_err(|e| format!("timer: {e}"))?
    {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "timer: the expression gave {other}, not a date, duration or cycle"
        )),
    }
}

/// Subscribes the element instance to a message.
pub(crate) fn wait_for_message(run: &mut Run<'_>, key: u64, node: NodeIdx, name: String) {
    subscribe(run, key, node, name, false);
}

/// Subscribes the element instance to a signal.
pub(crate) fn wait_for_signal(run: &mut Run<'_>, key: u64, node: NodeIdx, name: String) {
    subscribe(run, key, node, name, true);
}

fn subscribe(run: &mut Run<'_>, key: u64, node: NodeIdx, name: String, signal: bool) {
    let wait = if signal {
        Wait::Signal { name: name.clone() }
    } else {
        Wait::Message { name: name.clone() }
    };
    let correlation = match run.process.correlations.get(&name) {
        Some(expr) if !signal => match run.evaluate(key, |b| expr.eval(b)) {
            Ok(Value::String(s)) => Some(s),
            Ok(Value::Null) => None,
            Ok(other) => Some(other.to_string()),
            Err(e) => {
                let message = format!("correlationKey of message \"{name}\": {e}");
                run.incident(key, super::super::state::Step::Activate, message);
                return;
            }
        },
        _ => None,
    };
    run.emit(Event::WaitStarted { key, wait });
    run.effect(Effect::Subscribe {
        key,
        element: run.process.nodes[node].id.clone(),
        message: name,
        signal,
        correlation,
    });
}

/// The message arrived: its variables are set and the element completes.
pub(crate) fn on_message(run: &mut Run<'_>, key: u64, name: &str, variables: Map<String, Value>) {
    run.emit(Event::MessageReceived {
        key,
        name: name.to_string(),
    });
    run.effect(Effect::Unsubscribe { key });
    run.set_variables(key, variables);
    run.complete(key);
}

/// The timer is due.
pub(crate) fn on_timer(run: &mut Run<'_>, key: u64) {
    run.emit(Event::TimerFired { key });
    run.complete(key);
}

pub(crate) fn on_terminate(run: &mut Run<'_>, key: u64) {
    run.close_wait(key);
}
