//! HTML forms built from `camunda:formData`: what each field renders as, the
//! values a browser posts turned back into variables, and paging links.

use serde_json::{Map, Value};

use crate::model::form::{FieldError, FieldType, FormField};

/// One form field, ready for the template.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub id: String,
    pub label: String,
    /// `text`, `number`, `date`, `checkbox` or `select`.
    pub input: &'static str,
    pub value: String,
    pub checked: bool,
    /// `(value, label, selected)` of a select.
    pub options: Vec<(String, String, bool)>,
    pub required: bool,
    pub readonly: bool,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    pub placeholder: Option<String>,
    pub error: Option<String>,
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The fields of a form, showing `submitted` values (kept after a refusal) or
/// the defaults, with each field's error beside it.
pub fn field_views(
    fields: &[FormField],
    submitted: Option<&Map<String, Value>>,
    errors: &[FieldError],
) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| {
            let current = submitted
                .and_then(|s| s.get(&f.id))
                .or(f.default.as_ref())
                .map(as_text)
                .unwrap_or_default();
            let input = match f.ty {
                FieldType::String => "text",
                FieldType::Long => "number",
                FieldType::Boolean => "checkbox",
                FieldType::Date => "date",
                FieldType::Enum { .. } => "select",
            };
            let options = match &f.ty {
                FieldType::Enum { values } => values
                    .iter()
                    .map(|(id, label)| (id.clone(), label.clone(), *id == current))
                    .collect(),
                _ => Vec::new(),
            };
            FieldView {
                id: f.id.clone(),
                label: f.display_label().to_string(),
                input,
                checked: matches!(current.as_str(), "true" | "on"),
                value: current,
                options,
                required: f.constraints.required,
                readonly: f.constraints.readonly,
                min: f.constraints.min,
                max: f.constraints.max,
                minlength: f.constraints.minlength,
                maxlength: f.constraints.maxlength,
                placeholder: f
                    .properties
                    .iter()
                    .find(|(k, _)| k == "placeholder")
                    .map(|(_, v)| v.clone()),
                error: errors
                    .iter()
                    .find(|e| e.field == f.id)
                    .map(|e| e.message.clone()),
            }
        })
        .collect()
}

/// The value of a plain (non-form-field) input of a posted form.
pub fn posted<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Paging of a list.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u64,
    /// Pages known to exist (the last may have more after it when `more`).
    pub pages: u64,
    /// The number of rows, e.g. `1000+`.
    pub total: String,
    pub more: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Rows per page of every list.
pub const PAGE_SIZE: u64 = 25;

impl Pager {
    /// `link(page)` builds the URL of a page.
    pub fn new(page: u64, total: crate::runtime::Total, link: impl Fn(u64) -> String) -> Pager {
        let page = page.clamp(1, 1_000_000);
        let pages = total.count.div_ceil(PAGE_SIZE).max(1);
        // Past the counted rows there are more pages: keep paging forward.
        let page = if total.more {
            page.max(1)
        } else {
            page.clamp(1, pages)
        };
        Pager {
            page,
            pages: pages.max(page),
            total: super::render::count(&total),
            more: total.more,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages || total.more).then(|| link(page + 1)),
        }
    }

    pub fn offset(page: u64) -> u64 {
        page.clamp(1, 1_000_000)
            .saturating_sub(1)
            .saturating_mul(PAGE_SIZE)
    }
}

/// `(key, name)` pairs sorted by the names people see (then by key).
pub fn by_name(pairs: &mut [(String, String)]) {
    pairs.sort_by_cached_key(|(key, name)| (name.to_lowercase(), key.clone()));
}
