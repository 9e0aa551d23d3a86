//! Camunda's list queries, read once for both of their forms: `GET` with
//! query parameters (lists comma-separated, `sortBy` and `sortOrder`) and
//! `POST` with a JSON body (lists as arrays, `sorting` as an array), paged by
//! `firstResult` and `maxResults` in the query string either way.
//!
//! Each route names the parameters it understands and their kinds; anything
//! else is refused, naming it, so that no filter is silently dropped.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::RestError;
use super::variables::parse_date;

/// The most rows one page returns.
pub const MAX_RESULTS: u64 = 1000;

/// The kind of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A list: comma-separated in a query string, an array in a body.
    List,
    Flag,
    /// A date in Camunda's format.
    Date,
}

/// A read query: its filters, its order and its page.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Map<String, Value>,
    /// `(sortBy, ascending)`, in order.
    pub sorting: Vec<(String, bool)>,
    pub first: u64,
    /// `None`: not given.
    pub max: Option<u64>,
}

fn kind_of<'a>(spec: &'a [(&'a str, Kind)], name: &str) -> Option<Kind> {
    spec.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

fn unknown(name: &str, spec: &[(&str, Kind)]) -> RestError {
    let known: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
    RestError::invalid(format!(
        "the parameter {name} is not supported here (these are: {}, sortBy, sortOrder, firstResult, maxResults)",
        known.join(", ")
    ))
}

fn flag(name: &str, v: &str) -> Result<bool, RestError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(RestError::invalid(format!(
            "{name} must be true or false, not {v:?}"
        ))),
    }
}

fn number(name: &str, v: &str) -> Result<u64, RestError> {
    v.parse::<u64>()
        .map_err(|_| RestError::invalid(format!("{name} must be a whole number, not {v:?}")))
}

fn order(name: &str, v: &str) -> Result<bool, RestError> {
    match v {
        "asc" => Ok(true),
        "desc" => Ok(false),
        _ => Err(RestError::invalid(format!(
            "{name} must be asc or desc, not {v:?}"
        ))),
    }
}

fn date(name: &str, v: &str) -> Result<(), RestError> {
    parse_date(v).map(|_| ()).ok_or_else(|| {
        RestError::invalid(format!(
            "{name} must be a date yyyy-MM-dd'T'HH:mm:ss.SSSZ (like 2013-01-23T14:42:45.000+0200), not {v:?}"
        ))
    })
}

/// Reads the paging parameters of the query string; with `filters`, also
/// the filters (a `GET`); without, anything else is refused (a `POST`).
pub fn from_query(
    pairs: &[(String, String)],
    spec: &[(&str, Kind)],
    filters: bool,
) -> Result<Params, RestError> {
    let mut p = Params::default();
    let mut sort_by: Option<String> = None;
    let mut sort_order: Option<bool> = None;
    for (k, v) in pairs {
        match k.as_str() {
            "firstResult" => p.first = number(k, v)?,
            "maxResults" => p.max = Some(number(k, v)?),
            "sortBy" if filters => sort_by = Some(v.clone()),
            "sortOrder" if filters => sort_order = Some(order(k, v)?),
            name if filters => {
                let value = match kind_of(spec, name).ok_or_else(|| unknown(name, spec))? {
                    Kind::Text => Value::String(v.clone()),
                    Kind::List => Value::Array(
                        v.split(',')
                            .filter(|s| !s.is_empty())
                            .map(|s| Value::String(s.to_string()))
                            .collect(),
                    ),
                    Kind::Flag => Value::Bool(flag(name, v)?),
                    Kind::Date => {
                        date(name, v)?;
                        Value::String(v.clone())
                    }
                };
                p.values.insert(name.to_string(), value);
            }
            other => {
                return Err(RestError::invalid(format!(
                    "the query parameter {other} is not supported here: send filters in the body (only firstResult and maxResults go in the query)"
                )));
            }
        }
    }
    match (sort_by, sort_order) {
        (Some(by), Some(asc)) => p.sorting.push((by, asc)),
        (None, None) => {}
        _ => {
            return Err(RestError::invalid(
                "sortBy and sortOrder go together: give both or neither",
            ));
        }
    }
    if p.max.is_some_and(|m| m > MAX_RESULTS) {
        return Err(RestError::invalid(format!(
            "maxResults may be at most {MAX_RESULTS} here"
        )));
    }
    Ok(p)
}

/// Adds the filters and `sorting` of a JSON body to `p`.
pub fn with_body(
    mut p: Params,
    body: &Map<String, Value>,
    spec: &[(&str, Kind)],
) -> Result<Params, RestError> {
    for (name, value) in body {
        if value.is_null() {
            continue;
        }
        if name == "sorting" {
            let items = value
                .as_array()
                .ok_or_else(|| RestError::invalid("sorting must be an array"))?;
            for item in items {
                let by = item
                    .get("sortBy")
                    .and_then(Value::as_str)
                    .ok_or_else(|| RestError::invalid("every sorting item needs a sortBy"))?;
                let asc = match item.get("sortOrder").and_then(Value::as_str) {
                    Some(o) => order("sortOrder", o)?,
                    None => {
                        return Err(RestError::invalid(
                            "every sorting item needs a sortOrder (asc or desc)",
                        ));
                    }
                };
                if item.get("parameters").is_some_and(|v| !v.is_null()) {
                    return Err(RestError::invalid(format!(
                        "sorting by {by} with parameters is not supported here"
                    )));
                }
                p.sorting.push((by.to_string(), asc));
            }
            continue;
        }
        let kind = kind_of(spec, name).ok_or_else(|| unknown(name, spec))?;
        let fits = match kind {
            Kind::Text => value.is_string(),
            Kind::List => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            Kind::Flag => value.is_boolean(),
            Kind::Date => match value.as_str() {
                Some(s) => {
                    date(name, s)?;
                    true
                }
                None => false,
            },
        };
        if !fits {
            let want = match kind {
                Kind::Text => "a string",
                Kind::List => "an array of strings",
                Kind::Flag => "true or false",
                Kind::Date => "a date string",
            };
            return Err(RestError::invalid(format!("{name} must be {want}")));
        }
        p.values.insert(name.clone(), value.clone());
    }
    Ok(p)
}

impl Params {
    pub fn text(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.values.get(name).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        self.values.get(name).and_then(Value::as_bool)
    }

    /// A flag that only counts when `true` (Camunda's `unassigned=false` is no filter).
    pub fn on(&self, name: &str) -> bool {
        self.flag(name) == Some(true)
    }

    pub fn date(&self, name: &str) -> Option<DateTime<Utc>> {
        self.values
            .get(name)
            .and_then(Value::as_str)
            .and_then(parse_date)
    }

    /// The page size to ask for: `maxResults`, or one more than the most a
    /// page may hold (so that an unpaged query with more rows is refused
    /// rather than cut short).
    pub fn limit(&self) -> u64 {
        self.max.unwrap_or(MAX_RESULTS + 1)
    }

    /// Refuses an unpaged answer that would have been cut short.
    pub fn check_whole(&self, returned: usize) -> Result<(), RestError> {
        if self.max.is_none() && returned as u64 > MAX_RESULTS {
            return Err(RestError::invalid(format!(
                "more than {MAX_RESULTS} results: page with firstResult and maxResults"
            )));
        }
        Ok(())
    }

    /// Refuses a uuid filter that is not one: it cannot match anything, but
    /// a typo should not look like an empty result.
    pub fn uuids(&self, name: &str) -> Result<Option<Vec<uuid::Uuid>>, RestError> {
        let Some(list) = self.list(name).or_else(|| self.text(name).map(|t| vec![t])) else {
            return Ok(None);
        };
        list.iter()
            .map(|s| {
                uuid::Uuid::parse_str(s).map_err(|_| {
                    RestError::invalid(format!("{name}: {s:?} is not an id of this engine"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Reads a definition id (`processDefinitionId`): this engine's are numbers.
pub fn definition_id(name: &str, text: Option<String>) -> Result<Option<i64>, RestError> {
    match text {
        None => Ok(None),
        Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
            RestError::invalid(format!(
                "{name}: {t:?} is not a process definition id of this engine (they are numbers)"
            ))
        }),
    }
}

/// Whether `text` matches a SQL LIKE pattern (`%` any run, `_` one character).
pub fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&t, &p)
}
