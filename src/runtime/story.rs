//! An instance's history as a story and as it stood at any point of it.
//!
//! The story has one entry per command (a history batch), told in the words
//! of whoever acted ("pero completed *Down* with option = 2", "timer *1 hour*
//! fired"), with the engine's own steps kept beside it. The past is never
//! guessed: [`replay`] folds the stored events through the engine's own
//! [`InstanceState::apply`], exactly as the commands changed the state.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::views::{HistoryView, element_name};
use super::{Event, InstanceState};
use crate::model::Process;
use crate::model::expr::short;

/// A piece of an entry's sentence: plain words, or an element (shown by its
/// name, with its id on hover).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoryPart {
    pub text: String,
    /// The element id, when the part names an element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
}

/// One history entry: what one command did.
#[derive(Debug, Clone, Serialize)]
pub struct StoryEntry {
    /// The number of its first event: `?at=` this shows the instance right after it.
    pub seq: i64,
    /// The number of its last event.
    pub last_seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub user: Option<String>,
    /// The sentence, in parts.
    pub parts: Vec<StoryPart>,
    /// The sentence as plain text.
    pub summary: String,
    /// Whether the command raised an incident.
    pub incident: bool,
    /// The engine's steps, in order.
    pub events: Vec<HistoryView>,
}

/// What the history tells about element instances and incidents, by key.
#[derive(Default)]
struct Keys {
    elements: HashMap<u64, String>,
    incidents: HashMap<u64, String>,
}

impl Keys {
    fn learn(&mut self, e: &Event) {
        match e {
            Event::ElementActivated { key, element, .. } => {
                self.elements.insert(*key, element.clone());
            }
            Event::IncidentRaised {
                incident, element, ..
            } => {
                self.incidents.insert(*incident, element.clone());
            }
            _ => {}
        }
    }
}

struct Sentence<'p> {
    parts: Vec<StoryPart>,
    process: Option<&'p Process>,
}

impl Sentence<'_> {
    fn words(&mut self, text: &str) -> &mut Self {
        match self.parts.last_mut() {
            Some(last) if last.element.is_none() => last.text.push_str(text),
            _ => self.parts.push(StoryPart {
                text: text.to_string(),
                element: None,
            }),
        }
        self
    }

    fn element(&mut self, id: &str) -> &mut Self {
        self.parts.push(StoryPart {
            text: element_name(self.process, id),
            element: Some(id.to_string()),
        });
        self
    }

    /// An element by its instance key, or `fallback` when the key is unknown.
    fn keyed(&mut self, keys: &Keys, key: u64, fallback: &str) -> &mut Self {
        match keys.elements.get(&key) {
            Some(id) => self.element(id),
            None => self.words(fallback),
        }
    }

    fn values(&mut self, values: &Map<String, Value>) -> &mut Self {
        if !values.is_empty() {
            let text = values
                .iter()
                .map(|(k, v)| format!("{k} = {}", short(v)))
                .collect::<Vec<_>>()
                .join(", ");
            self.words(&format!(" with {text}"));
        }
        self
    }
}

/// The variables set right after the event at `i` (a form's values, a
/// message's payload), before anything else happened.
fn values_after(events: &[&Event], i: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for e in events.iter().skip(i + 1) {
        match e {
            Event::VariablesSet { values, .. } => {
                out.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())))
            }
            _ => break,
        }
    }
    out
}

/// The sentence of one command's events.
fn tell(
    events: &[&Event],
    user: Option<&str>,
    keys: &Keys,
    process: Option<&Process>,
) -> Vec<StoryPart> {
    let mut s = Sentence {
        parts: Vec::new(),
        process,
    };
    let who = user.unwrap_or("someone");
    let cancelled = events.iter().find_map(|e| match e {
        Event::InstanceTerminated { reason } => Some(reason.clone()),
        _ => None,
    });
    let lead = events
        .iter()
        .position(|e| !matches!(e, Event::VariablesSet { .. }))
        .unwrap_or(0);
    match (events.get(lead), &cancelled) {
        (_, Some(reason)) if reason.starts_with("cancelled by ") && user.is_some() => {
            s.words(&format!("{who} cancelled the instance"));
        }
        (Some(Event::InstanceStarted { start, .. }), _) => {
            match user {
                Some(u) => s.words(&format!("{u} started the instance at ")),
                None => s.words("The instance started at "),
            };
            s.element(start).values(&values_after(events, lead));
        }
        (Some(Event::TaskCompleted { key }), _) => {
            s.words(&format!("{who} completed "))
                .keyed(keys, *key, "a task")
                .values(&values_after(events, lead));
        }
        (Some(Event::TaskAssigned { key, assignee }), _) => match assignee {
            Some(a) if Some(a.as_str()) == user => {
                s.words(&format!("{who} claimed "))
                    .keyed(keys, *key, "a task");
            }
            Some(a) => {
                s.words(&format!("{who} assigned "))
                    .keyed(keys, *key, "a task")
                    .words(&format!(" to {a}"));
            }
            None => {
                s.words(&format!("{who} released "))
                    .keyed(keys, *key, "a task");
            }
        },
        (Some(Event::MessageReceived { key, name }), _) => {
            s.words("message ").parts.push(StoryPart {
                text: name.clone(),
                element: keys.elements.get(key).cloned(),
            });
            s.words(" arrived").values(&values_after(events, lead));
        }
        (Some(Event::TimerFired { key }), _) => {
            s.words("timer ").keyed(keys, *key, "").words(" fired");
        }
        (Some(Event::Triggered { key }), _) => {
            s.words(&format!("{who} triggered "))
                .keyed(keys, *key, "an element")
                .values(&values_after(events, lead));
        }
        (Some(Event::ConditionMet { key }), _) => {
            s.words("the condition of ")
                .keyed(keys, *key, "an event")
                .words(" held");
        }
        (Some(Event::JobCompleted { key }), _) => {
            match user {
                Some(u) => s.words(&format!("{u} finished the work of ")),
                None => s.words("the work of "),
            };
            s.keyed(keys, *key, "a task");
            if user.is_none() {
                s.words(" was done");
            }
        }
        (Some(Event::JobFailed { key, message }), _) => {
            s.words("the work of ")
                .keyed(keys, *key, "a task")
                .words(&format!(" failed: {message}"));
        }
        (Some(Event::ErrorThrown { key, code, .. }), _) => {
            s.words(&format!(
                "{who} reported error{} at ",
                code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
            ))
            .keyed(keys, *key, "a task");
        }
        (Some(Event::IncidentResolved { incident }), _) => {
            s.words(&format!("{who} retried "));
            match keys.incidents.get(incident) {
                Some(e) => s.element(e),
                None => s.words("an incident"),
            };
        }
        (Some(Event::CallEnded { key, .. }), _) => {
            s.words("the instance called by ")
                .keyed(keys, *key, "a call activity")
                .words(" ended");
        }
        (Some(Event::CallStarted { key, .. }), _) => {
            s.keyed(keys, *key, "a call activity")
                .words(" started its instance");
        }
        (Some(Event::VariablesSet { values, .. }), _) => {
            s.words(&format!("{who} set ")).words(
                &values
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", short(v)))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        (Some(Event::InstanceTerminated { reason }), _) => {
            s.words(&format!("the instance was ended: {reason}"));
        }
        (Some(other), _) => {
            s.words(&super::views::describe(other, process));
        }
        (None, _) => {
            s.words("nothing happened");
        }
    }
    // What came of it, when it matters to a reader.
    for e in events {
        match e {
            Event::IncidentRaised {
                element, message, ..
            } => {
                s.words(" — incident at ")
                    .element(element)
                    .words(&format!(": {message}"));
            }
            Event::InstanceCompleted => {
                s.words(" — the instance completed");
            }
            _ => {}
        }
    }
    s.parts
}

/// The history as entries, one per command, oldest first.
pub(crate) fn story(history: &[HistoryView], process: Option<&Process>) -> Vec<StoryEntry> {
    let mut keys = Keys::default();
    let mut out: Vec<StoryEntry> = Vec::new();
    let mut i = 0;
    while i < history.len() {
        let seq = history[i].command_seq;
        let end = history[i..]
            .iter()
            .position(|h| h.command_seq != seq)
            .map_or(history.len(), |n| i + n);
        let rows = &history[i..end];
        let events: Vec<Event> = rows
            .iter()
            .filter_map(|h| serde_json::from_value(h.data.clone()).ok())
            .collect();
        for e in &events {
            keys.learn(e);
        }
        let refs: Vec<&Event> = events.iter().collect();
        let parts = tell(&refs, rows[0].user.as_deref(), &keys, process);
        out.push(StoryEntry {
            seq,
            last_seq: rows[rows.len() - 1].seq,
            at: rows[0].at,
            user: rows[0].user.clone(),
            summary: parts.iter().map(|p| p.text.as_str()).collect(),
            parts,
            incident: events
                .iter()
                .any(|e| matches!(e, Event::IncidentRaised { .. })),
            events: rows.to_vec(),
        });
        i = end;
    }
    out
}

/// The instance as it stood after the event numbered `through`: the
/// engine's state folded from the start over every stored event up to it.
pub(crate) fn replay(process_id: &str, events: &[(i64, Event)], through: i64) -> InstanceState {
    let mut state = InstanceState::new(process_id);
    for (_, e) in events.iter().filter(|(seq, _)| *seq <= through) {
        state.apply(e);
    }
    state
}

/// What a person entered when completing the user task instance `key`: the
/// variables its completion set, read from the history.
pub(crate) fn submitted(
    history: &[crate::store::HistoryEntry],
    key: u64,
) -> Option<Map<String, Value>> {
    let events: Vec<&Event> = history.iter().filter_map(|h| h.event.as_ref()).collect();
    let i = events
        .iter()
        .position(|e| matches!(e, Event::TaskCompleted { key: k } if *k == key))?;
    Some(values_after(&events, i))
}
