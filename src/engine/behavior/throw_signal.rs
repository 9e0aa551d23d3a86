//! Message and signal throw events (intermediate and end).
//!
//! > "A Message Intermediate Event [...] used to send a Message to a specific
//! > Participant"; a Signal "is a broadcast communication [...] it is sent to
//! > every process listening for it." (BPMN 2.0, 10.4.5 and 10.4.4)
//!
//! Sending reaches other instances, so it does not happen inside this
//! instance's transaction: the event waits for a `throw` job whose work is
//! the delivery (the executor runs it like a connector call, then completes
//! the event). The event's input mappings are the payload: they become the
//! variables set where it arrives.
//!
//! A message goes to one receiver: the waiting subscription with that name
//! (with the sender's business key, when it has one), else a message start
//! event of a deployed process, which starts a new instance with the sender's
//! business key. A message that nobody receives is dropped (and logged): it
//! may be meant for a participant outside this engine. A signal
//! goes to every waiting catcher and starts every process with that signal
//! start event.

use serde_json::{Value, json};

use super::super::run::Run;
use super::super::state::JobKind;
use super::Outcome;
use crate::model::{NodeIdx, NodeKind};

pub(crate) fn on_activate(run: &mut Run<'_>, key: u64, node: NodeIdx) -> Result<Outcome, String> {
    let NodeKind::Throw(t) = &run.process.nodes[node].kind else {
        return Ok(Outcome::Done);
    };
    let variables = run
        .state
        .variables
        .get(&key)
        .cloned()
        .map(Value::Object)
        .unwrap_or_else(|| json!({}));
    let payload = json!({
        "kind": if t.signal { "signal" } else { "message" },
        "name": t.name,
        "variables": variables,
    });
    run.wait_for_job(key, JobKind::Throw, None, payload);
    Ok(Outcome::Wait)
}
