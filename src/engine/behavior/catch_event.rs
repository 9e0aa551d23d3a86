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
use crate::model::{Catch, NodeIdx, NodeKind, Timer, time};
use serde_json::{Map, Value};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let catch = match &run.process.nodes[node].kind {
        NodeKind::IntermediateCatch(c) | NodeKind::ReceiveTask(c) => c,
        _ => return Ok(Outcome::Done),
    };
    match catch {
        Catch::Timer(timer) => {
            let due = due(run, key, timer)?;
            run.wait_for_job(key, JobKind::Timer, Some(due), Value::Null);
        }
        Catch::Message { name } => {
            let name = name.clone();
            wait_for_message(run, key, node, name);
        }
    }
    Ok(Outcome::Wait)
}

fn due(run: &Run<'_>, key: u64, timer: &Timer) -> Result<jiff::Timestamp, String> {
    let (template, is_date) = match timer {
        Timer::Duration(t) => (t, false),
        Timer::Date(t) => (t, true),
    };
    let text = match template
        .eval(&run.visible(key))
        .map_err(|e| format!("timer: {e}"))?
    {
        Value::String(s) => s,
        other => {
            return Err(format!(
                "timer: the expression gave {other}, not a date or duration"
            ));
        }
    };
    if is_date {
        time::parse_datetime(&text)
    } else {
        time::parse_duration(&text).and_then(|d| time::add(run.now, d))
    }
    .map_err(|e| format!("timer: {e}"))
}

/// Subscribes the element instance to a message.
pub(crate) fn wait_for_message(run: &mut Run<'_>, key: u64, node: NodeIdx, name: String) {
    run.emit(Event::WaitStarted {
        key,
        wait: Wait::Message { name: name.clone() },
    });
    run.effect(Effect::Subscribe {
        key,
        element: run.process.nodes[node].id.clone(),
        message: name,
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
