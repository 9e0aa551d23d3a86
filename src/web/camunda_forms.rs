//! Camunda Forms (form-js) as server-side HTML: the form's components laid
//! out in rows of a 16-column grid, each input with its label, description
//! and error tied to it for screen readers, values pre-filled from the
//! instance's variables (or kept as posted after a refusal), and the
//! components hidden by their conditions marked `hidden`. Pages work without
//! JavaScript; `static/app.js` only re-asks the server which components to
//! hide while someone types.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::model::camunda_form::{
    self, Component, FormDoc, Kind, Submitted, Subtype, get_path, options,
};
use crate::model::form::FieldError;

/// One choice of a select, radio, checklist or taglist.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One component, ready for the template.
#[derive(Debug, Clone, Default)]
pub struct Field {
    /// The HTML id (`cf-<component id>`).
    pub id: String,
    /// The posted name (`f.<key>`), for inputs.
    pub name: String,
    /// The form-js type.
    pub kind: &'static str,
    /// The `type` of an `<input>`.
    pub input: &'static str,
    pub label: String,
    pub description: Option<String>,
    pub value: String,
    pub checked: bool,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub readonly: bool,
    pub disabled: bool,
    pub min: Option<String>,
    pub max: Option<String>,
    pub step: Option<String>,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub error: Option<String>,
    /// A text view's Markdown as sanitized HTML.
    pub html: String,
    pub source: String,
    pub alt: String,
    pub height: String,
    pub reset: bool,
}

impl Field {
    /// The ids that describe the input (its description and error).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.description.is_some() {
            ids.push(format!("{}-desc", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-err", self.id));
        }
        ids.join(" ")
    }
}

/// The layout as a flat list the template walks: rows, cells and groups
/// open and close around the fields.
#[derive(Debug, Clone)]
pub enum Item {
    RowOpen,
    RowClose,
    CellOpen {
        /// Columns of 16.
        span: u8,
        /// The component id (for the script), when it has a condition.
        cond: Option<String>,
        hidden: bool,
    },
    CellClose,
    GroupOpen {
        id: String,
        label: Option<String>,
        outline: bool,
        align: String,
    },
    GroupClose,
    Field(Box<Field>),
}

/// Markdown as HTML with any HTML in it escaped, and only safe link targets.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let events =
        Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES).map(|e| {
            match e {
                Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let lower = dest_url.to_ascii_lowercase();
                    let safe = lower.starts_with("https://")
                        || lower.starts_with("http://")
                        || lower.starts_with("mailto:")
                        || (dest_url.starts_with('/') && !dest_url.starts_with("//"));
                    Event::Start(Tag::Link {
                        link_type,
                        dest_url: if safe { dest_url } else { "#".into() },
                        title,
                        id,
                    })
                }
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    let lower = dest_url.to_ascii_lowercase();
                    let safe = lower.starts_with("data:image/")
                        || (dest_url.starts_with('/') && !dest_url.starts_with("//"));
                    Event::Start(Tag::Image {
                        link_type,
                        dest_url: if safe { dest_url } else { "".into() },
                        title,
                        id,
                    })
                }
                other => other,
            }
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// What an input shows for a stored value (HTML inputs' own formats).
fn shown(kind: &Kind, v: &Value) -> String {
    match (kind, v) {
        (Kind::Datetime { subtype, .. }, Value::String(s)) => {
            let s = s.trim_end_matches('Z');
            match subtype {
                Subtype::DateTime => s.chars().take(16).collect(),
                Subtype::Time => s.chars().take(5).collect(),
                Subtype::Date => s.chars().take(10).collect(),
            }
        }
        _ => text_of(v),
    }
}

struct Builder<'a> {
    data: &'a Map<String, Value>,
    vars: &'a Map<String, Value>,
    posted: Option<&'a Submitted>,
    errors: &'a [FieldError],
    hidden: &'a HashSet<String>,
    items: Vec<Item>,
}

impl Builder<'_> {
    fn components(&mut self, cs: &[Component]) {
        // Rows in the order their first component comes; a component
        // without a row has one of its own.
        let mut rows: Vec<(Option<&str>, Vec<&Component>)> = Vec::new();
        for c in cs {
            match c.row.as_deref() {
                Some(r) => match rows.iter_mut().find(|(k, _)| *k == Some(r)) {
                    Some((_, list)) => list.push(c),
                    None => rows.push((Some(r), vec![c])),
                },
                None => rows.push((None, vec![c])),
            }
        }
        for (_, row) in rows {
            let fixed: u32 = row.iter().filter_map(|c| c.columns).map(u32::from).sum();
            let autos = row.iter().filter(|c| c.columns.is_none()).count() as u32;
            let auto = 16u32
                .saturating_sub(fixed)
                .checked_div(autos)
                .unwrap_or(0)
                .max(1);
            self.items.push(Item::RowOpen);
            for c in row {
                let span = c.columns.map(u32::from).unwrap_or(auto).clamp(1, 16) as u8;
                self.items.push(Item::CellOpen {
                    span,
                    cond: c.hide.as_ref().map(|_| c.id.clone()),
                    hidden: self.hidden.contains(&c.id),
                });
                self.component(c);
                self.items.push(Item::CellClose);
            }
            self.items.push(Item::RowClose);
        }
    }

    fn component(&mut self, c: &Component) {
        if let Kind::Group {
            components,
            outline,
            align,
        } = &c.kind
        {
            self.items.push(Item::GroupOpen {
                id: format!("cf-{}", c.id),
                label: c.label.clone(),
                outline: *outline,
                align: align.clone().unwrap_or_else(|| "start".into()),
            });
            self.components(components);
            self.items.push(Item::GroupClose);
            return;
        }
        let mut f = Field {
            id: format!("cf-{}", c.id),
            kind: c.kind.name(),
            input: "text",
            label: c.display_label().to_string(),
            description: c.description.clone(),
            required: c.rules.required,
            readonly: c.readonly,
            disabled: c.disabled,
            prefix: c.prefix.clone(),
            suffix: c.suffix.clone(),
            ..Field::default()
        };
        if let Some(key) = &c.key {
            f.name = format!("f.{key}");
            f.error = self
                .errors
                .iter()
                .find(|e| e.field == *key)
                .map(|e| e.message.clone());
            // After a refusal the page shows what was posted; else the data.
            let posted = self.posted.and_then(|p| p.values.get(key));
            let current = posted.or_else(|| get_path(self.data, key));
            let choices = c.kind.options().map(|o| options(o, self.vars));
            if let Some(list) = &choices {
                let chosen: Vec<String> = match current {
                    Some(Value::Array(a)) => a.iter().map(text_of).collect(),
                    Some(v) => vec![text_of(v)],
                    None => Vec::new(),
                };
                f.choices = list
                    .iter()
                    .map(|(label, v)| Choice {
                        value: text_of(v),
                        label: label.clone(),
                        selected: chosen.contains(&text_of(v)),
                    })
                    .collect();
            }
            f.checked = matches!(current, Some(Value::Bool(true)))
                || matches!(current, Some(Value::String(s)) if s == "true");
            f.value = current.map(|v| shown(&c.kind, v)).unwrap_or_default();
        }
        match &c.kind {
            Kind::TextField => {
                f.input = match c.rules.validation_type {
                    Some(camunda_form::ValidationType::Email) => "email",
                    Some(camunda_form::ValidationType::Phone) => "tel",
                    None => "text",
                };
                f.minlength = c.rules.min_length;
                f.maxlength = c.rules.max_length;
            }
            Kind::TextArea => {
                f.minlength = c.rules.min_length;
                f.maxlength = c.rules.max_length;
            }
            Kind::Number {
                decimal_digits,
                increment,
                ..
            } => {
                f.input = "number";
                f.min = c.rules.min.map(number);
                f.max = c.rules.max.map(number);
                f.step = match (increment, decimal_digits) {
                    (Some(i), _) => Some(number(*i)),
                    (None, Some(0)) => Some("1".into()),
                    (None, Some(d)) => Some(format!("0.{}1", "0".repeat(*d as usize - 1))),
                    (None, None) => Some("any".into()),
                };
            }
            Kind::Datetime {
                subtype, interval, ..
            } => {
                f.input = match subtype {
                    Subtype::Date => "date",
                    Subtype::Time => "time",
                    Subtype::DateTime => "datetime-local",
                };
                f.step = interval.map(|i| (i * 60).to_string());
            }
            Kind::Text(md) => f.html = markdown(md),
            Kind::Image { source, alt } => {
                f.source = source.clone();
                f.alt = alt.clone().unwrap_or_default();
            }
            Kind::Spacer { height } => f.height = number(height.unwrap_or(60.0)),
            Kind::Button { reset } => {
                f.reset = *reset;
                f.label = c
                    .label
                    .clone()
                    .unwrap_or_else(|| if *reset { "Reset" } else { "Submit" }.into());
            }
            _ => {}
        }
        self.items.push(Item::Field(Box::new(f)));
    }
}

/// A form laid out for the template: `vars` are the variables the task (or
/// start event) sees; `posted` what a refused submission sent, with its
/// `errors`.
pub fn layout(
    doc: &FormDoc,
    vars: &Map<String, Value>,
    posted: Option<&Submitted>,
    errors: &[FieldError],
) -> Vec<Item> {
    let data = camunda_form::data(doc, vars, posted);
    let hidden = camunda_form::hidden(doc, &data);
    let mut b = Builder {
        data: &data,
        vars,
        posted,
        errors,
        hidden: &hidden,
        items: Vec::new(),
    };
    b.components(&doc.components);
    b.items
}

/// Whether a form has a submit button of its own (else the page adds one).
pub fn has_submit(doc: &FormDoc) -> bool {
    doc.all()
        .iter()
        .any(|c| matches!(c.kind, Kind::Button { reset: false }))
}
