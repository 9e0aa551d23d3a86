//! The instance page's history as a story (one entry per command, newest or
//! oldest first, the engine's steps folded under each) and its time travel:
//! `?at=SEQ` shows the instance as it stood right after that entry, replayed
//! by the runtime from the stored events.

use std::collections::HashMap;

use uuid::Uuid;

use super::error::WebError;
use super::render::urlencode;
use crate::model::svg::{Mark, MarkState, Overlay};
use crate::runtime::{PastView, RuntimeError, StoryEntry};

/// The history section of an instance page.
pub struct StoryBlock {
    /// The entries to show, in the order shown.
    pub entries: Vec<StoryEntry>,
    pub newest_first: bool,
    /// The address of the same page in the other order.
    pub toggle: String,
    /// The entry shown in a past view (highlighted).
    pub current: Option<i64>,
}

/// Reads `?at=`: absent or empty is "now"; anything but a whole number is a 400.
pub fn parse_at(at: Option<&str>) -> Result<Option<i64>, WebError> {
    match at.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(a) => a.parse::<i64>().map(Some).map_err(|_| {
            WebError::BadRequest(format!(
                "\"at\" must be the number of a history entry (as in ?at=12), not \"{a}\"."
            ))
        }),
    }
}

/// A refusal of the runtime's time travel, as a page: a number outside the
/// history says so (404).
pub fn past_error(e: RuntimeError) -> WebError {
    match e {
        RuntimeError::NotFound(m) if m.starts_with("history entry") => {
            WebError::NoSuch(format!("There is no {m}."))
        }
        other => other.into(),
    }
}

/// The history block: entries filtered to those touching `element` (when
/// given), newest first unless `order` is `oldest`.
pub fn story_block(
    id: Uuid,
    story: &[StoryEntry],
    element: Option<&str>,
    order: Option<&str>,
    at: Option<i64>,
) -> StoryBlock {
    let newest_first = order != Some("oldest");
    let mut entries: Vec<StoryEntry> = match element {
        None => story.to_vec(),
        Some(el) => {
            // Element instances of the element, by key, across the history.
            let keys: Vec<i64> = story
                .iter()
                .flat_map(|s| &s.events)
                .filter(|h| h.kind == "element_activated" && h.element.as_deref() == Some(el))
                .filter_map(|h| h.element_key)
                .collect();
            story
                .iter()
                .filter(|s| {
                    s.parts.iter().any(|p| p.element.as_deref() == Some(el))
                        || s.events.iter().any(|h| {
                            h.element.as_deref() == Some(el)
                                || h.element_key.is_some_and(|k| keys.contains(&k))
                        })
                })
                .cloned()
                .collect()
        }
    };
    if newest_first {
        entries.reverse();
    }
    let mut query = Vec::new();
    if let Some(el) = element {
        query.push(format!("element={}", urlencode(el)));
    }
    if let Some(a) = at {
        query.push(format!("at={a}"));
    }
    if newest_first {
        query.push("order=oldest".to_string());
    }
    StoryBlock {
        entries,
        newest_first,
        toggle: format!("/instances/{id}?{}#history", query.join("&")),
        current: at,
    }
}

/// The diagram's marks for a past view: what was active then (and stopped by
/// an incident), what had completed and how often, and the flows taken.
pub fn past_overlay(past: &PastView, nodes: &[String], at: i64) -> Overlay {
    let mut marks: HashMap<String, Mark> = HashMap::new();
    let blank = || Mark {
        state: None,
        count: 0,
        href: None,
        title: None,
    };
    for (element, n) in &past.completions {
        marks.insert(
            element.clone(),
            Mark {
                state: Some(MarkState::Completed),
                count: *n as u32,
                href: None,
                title: Some(format!("completed {n}× by then")),
            },
        );
    }
    for flow in &past.taken {
        marks.insert(
            flow.clone(),
            Mark {
                state: Some(MarkState::Completed),
                title: Some("taken by then".into()),
                ..blank()
            },
        );
    }
    for e in &past.active {
        let m = marks.entry(e.element.clone()).or_insert_with(blank);
        m.state = Some(if e.incident {
            MarkState::Incident
        } else {
            MarkState::Active
        });
        m.title = Some(if e.incident {
            "incident then".into()
        } else {
            "active then".into()
        });
    }
    for gateway in &past.joining {
        marks.entry(gateway.clone()).or_insert(Mark {
            state: Some(MarkState::Active),
            title: Some("waiting for other branches then".into()),
            ..blank()
        });
    }
    for n in nodes {
        marks.entry(n.clone()).or_insert_with(blank).href =
            Some(format!("?at={at}&element={}#history", urlencode(n)));
    }
    Overlay {
        marks,
        ..Default::default()
    }
}
