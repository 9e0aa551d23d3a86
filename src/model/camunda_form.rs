//! Camunda Forms: the `.form` files that Camunda Modeler's form editor draws
//! (JSON in the form-js schema, `@bpmn-io/form-json-schema`), read into typed
//! components, and the submitted values checked and converted against them.
//!
//! [`parse`] checks a file against the schema and against what this engine can
//! render faithfully: every problem names its component (type, id, key, label)
//! and property. Components that cannot be rendered on the server (dynamic
//! lists, tables, iframes, raw HTML, file pickers, expressions, custom types)
//! are refused by name; nothing is dropped silently.
//!
//! [`submit`] turns submitted values (typed JSON from the API, or the strings of
//! an HTML form) into typed variables, nested by the keys' paths
//! (`address.city`), or names every field that is wrong and why. Fields hidden
//! by their `conditional.hide` FEEL expression are neither checked nor
//! submitted. It is pure, so the pages and the API apply the same rules.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::form::FieldError;
use crate::feel::Expression;

/// The component types form-js knows that are refused here, and why.
pub const REFUSED: [(&str, &str); 9] = [
    (
        "dynamiclist",
        "repeating groups need a script to add and remove rows",
    ),
    ("table", "tables are filled from a data source at run time"),
    ("iframe", "it would embed another site in the task page"),
    (
        "html",
        "raw HTML is not shown (use a text view with Markdown)",
    ),
    ("expression", "its value is computed by FEEL in the browser"),
    ("filepicker", "files are not stored as variables here"),
    ("documentPreview", "documents are not stored by this engine"),
    ("multipage", "pages need a script to move between them"),
    ("page", "pages need a script to move between them"),
];

/// A deployed form, read and checked.
#[derive(Debug, Clone)]
pub struct FormDoc {
    /// The form's `id`: what `formRef` and `formId` name.
    pub id: String,
    pub components: Vec<Component>,
    /// The form's JSON as deployed (the API hands it to other renderers).
    pub schema: Value,
}

/// The options of a select, radio, checklist or taglist.
#[derive(Debug, Clone, PartialEq)]
pub enum Options {
    /// `values`: `(label, value)`.
    Static(Vec<(String, Value)>),
    /// `valuesKey`: read from this variable when the form is shown.
    Key(String),
}

/// What a `datetime` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subtype {
    Date,
    Time,
    DateTime,
}

/// What kind of component, with its type's own properties.
#[derive(Debug, Clone)]
pub enum Kind {
    TextField,
    TextArea,
    Number {
        decimal_digits: Option<u32>,
        increment: Option<f64>,
        /// `serializeToString`: the number is stored as text.
        as_string: bool,
    },
    Checkbox,
    Checklist(Options),
    Radio(Options),
    Select(Options),
    Taglist(Options),
    Datetime {
        subtype: Subtype,
        date_label: Option<String>,
        time_label: Option<String>,
        /// `timeInterval` in minutes.
        interval: Option<u32>,
        disallow_past: bool,
        /// `timeSerializingFormat` is `no_timezone`: times are stored without `Z`.
        no_timezone: bool,
    },
    /// A text view: Markdown.
    Text(String),
    Image {
        source: String,
        alt: Option<String>,
    },
    Spacer {
        height: Option<f64>,
    },
    Separator,
    Group {
        components: Vec<Component>,
        outline: bool,
        align: Option<String>,
    },
    Button {
        reset: bool,
    },
}

impl Kind {
    /// The form-js type name.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::TextField => "textfield",
            Kind::TextArea => "textarea",
            Kind::Number { .. } => "number",
            Kind::Checkbox => "checkbox",
            Kind::Checklist(_) => "checklist",
            Kind::Radio(_) => "radio",
            Kind::Select(_) => "select",
            Kind::Taglist(_) => "taglist",
            Kind::Datetime { .. } => "datetime",
            Kind::Text(_) => "text",
            Kind::Image { .. } => "image",
            Kind::Spacer { .. } => "spacer",
            Kind::Separator => "separator",
            Kind::Group { .. } => "group",
            Kind::Button { .. } => "button",
        }
    }

    /// The options of a choice component.
    pub fn options(&self) -> Option<&Options> {
        match self {
            Kind::Checklist(o) | Kind::Radio(o) | Kind::Select(o) | Kind::Taglist(o) => Some(o),
            _ => None,
        }
    }

    /// Whether the value is a list (checklist, taglist).
    pub fn is_list(&self) -> bool {
        matches!(self, Kind::Checklist(_) | Kind::Taglist(_))
    }
}

/// `validationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationType {
    Email,
    Phone,
}

/// `validate` of an input.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub required: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<Arc<regex::Regex>>,
    pub pattern_message: Option<String>,
    pub validation_type: Option<ValidationType>,
}

/// One component of a form.
#[derive(Debug, Clone)]
pub struct Component {
    /// The component's `id` (generated from its position when it has none).
    pub id: String,
    pub kind: Kind,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The full key path of an input (a group's `path` before its own key).
    pub key: Option<String>,
    pub default: Option<Value>,
    pub readonly: bool,
    pub disabled: bool,
    pub rules: Rules,
    /// `conditional.hide`, as written and compiled.
    pub hide: Option<(String, Arc<Expression>)>,
    /// `layout.row`: components of one row sit side by side.
    pub row: Option<String>,
    /// `layout.columns`, of 16.
    pub columns: Option<u8>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl Component {
    /// Whether it takes a value.
    pub fn is_input(&self) -> bool {
        self.key.is_some()
    }

    /// The label to show (the key when there is none).
    pub fn display_label(&self) -> &str {
        let own = match &self.kind {
            Kind::Datetime {
                subtype: Subtype::Time,
                time_label,
                ..
            } => time_label.as_deref(),
            Kind::Datetime { date_label, .. } => date_label.as_deref(),
            _ => None,
        };
        self.label
            .as_deref()
            .or(own)
            .or(self.key.as_deref())
            .unwrap_or(&self.id)
    }
}

impl FormDoc {
    /// Every component, depth first (groups before their children).
    pub fn all(&self) -> Vec<&Component> {
        fn walk<'a>(cs: &'a [Component], out: &mut Vec<&'a Component>) {
            for c in cs {
                out.push(c);
                if let Kind::Group { components, .. } = &c.kind {
                    walk(components, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.components, &mut out);
        out
    }

    /// The input components (those with a key).
    pub fn inputs(&self) -> Vec<&Component> {
        self.all().into_iter().filter(|c| c.is_input()).collect()
    }
}

/// What is wrong with a form file: which component, which property, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// The component's id, when the problem concerns one.
    pub component: Option<String>,
    /// The component's type.
    pub kind: Option<String>,
    pub message: String,
}

impl std::fmt::Display for FormProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const INPUTS: [&str; 9] = [
    "textfield",
    "textarea",
    "number",
    "datetime",
    "checkbox",
    "radio",
    "select",
    "checklist",
    "taglist",
];

const CHOICES: [&str; 4] = ["radio", "select", "checklist", "taglist"];

/// The properties a component of `ty` may have (from the form-js schema).
fn allowed(ty: &str, prop: &str) -> bool {
    let input = INPUTS.contains(&ty);
    match prop {
        "type" | "id" | "layout" | "conditional" | "properties" => true,
        "label" => input || matches!(ty, "button" | "group"),
        "key" | "description" | "disabled" | "readonly" | "validate" | "defaultValue" => input,
        "text" => ty == "text",
        "source" | "alt" => ty == "image",
        "subtype"
        | "dateLabel"
        | "timeLabel"
        | "use24h"
        | "timeSerializingFormat"
        | "timeInterval"
        | "disallowPassedDates" => ty == "datetime",
        "increment" | "decimalDigits" | "serializeToString" => ty == "number",
        "searchable" => ty == "select",
        "values" | "valuesKey" | "valuesExpression" => CHOICES.contains(&ty),
        "appearance" => matches!(ty, "textfield" | "number"),
        "height" => ty == "spacer",
        "path" | "showOutline" | "verticalAlignment" | "components" => ty == "group",
        "action" => ty == "button",
        _ => false,
    }
}

/// The `validate` properties a component of `ty` may have.
fn allowed_rule(ty: &str, rule: &str) -> bool {
    match rule {
        "required" => true,
        "minLength" | "maxLength" => matches!(ty, "textfield" | "textarea"),
        "min" | "max" => ty == "number",
        "pattern" | "patternErrorMessage" | "validationType" => ty == "textfield",
        _ => false,
    }
}

struct Reader {
    problems: Vec<FormProblem>,
    keys: BTreeMap<String, String>,
    ids: HashSet<String>,
    counter: usize,
}

/// How a component is named in a message: its type, id, key and label.
fn describe(ty: &str, obj: &Map<String, Value>) -> String {
    let mut s = format!("{ty} component");
    if let Some(id) = obj.get("id").and_then(Value::as_str) {
        s.push_str(&format!(" \"{id}\""));
    }
    let mut extra = Vec::new();
    if let Some(k) = obj.get("key").and_then(Value::as_str) {
        extra.push(format!("key \"{k}\""));
    }
    if let Some(l) = obj.get("label").and_then(Value::as_str) {
        extra.push(format!("label \"{l}\""));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s
}

fn key_ok(key: &str) -> bool {
    !key.is_empty()
        && key
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Reads a number that form-js allows as a number or a string holding one.
fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| "is not a number".to_string()),
        Value::String(s) if s.trim_start().starts_with('=') => Err(format!(
            "is the expression {s:?}; only literal numbers are supported here"
        )),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("must be a number, not {s:?}")),
        other => Err(format!("must be a number, not {other}")),
    }
}

impl Reader {
    fn problem(&mut self, ty: &str, obj: &Map<String, Value>, id: &str, message: String) {
        self.problems.push(FormProblem {
            component: Some(id.to_string()),
            kind: Some(ty.to_string()),
            message: format!("{}: {message}", describe(ty, obj)),
        });
    }

    fn components(&mut self, list: &Value, path: &str, owner: &str) -> Vec<Component> {
        let Some(items) = list.as_array() else {
            self.problems.push(FormProblem {
                component: None,
                kind: None,
                message: format!("{owner}: property components must be a list"),
            });
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.component(item, path))
            .collect()
    }

    fn component(&mut self, item: &Value, path: &str) -> Option<Component> {
        self.counter += 1;
        let Some(obj) = item.as_object() else {
            self.problems.push(FormProblem {
                component: None,
                kind: None,
                message: format!("component number {} is not a JSON object", self.counter),
            });
            return None;
        };
        let Some(ty) = obj.get("type").and_then(Value::as_str) else {
            self.problems.push(FormProblem {
                component: obj.get("id").and_then(Value::as_str).map(str::to_string),
                kind: None,
                message: format!(
                    "{}: property type is missing (every component needs a type)",
                    describe("a", obj).replacen("a component", "the component", 1)
                ),
            });
            return None;
        };
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) | None => format!("{ty}_{}", self.counter),
            Some(_) => {
                self.problem(ty, obj, ty, "property id must be text".into());
                return None;
            }
        };
        if !self.ids.insert(id.clone()) {
            self.problem(
                ty,
                obj,
                &id,
                "property id: another component has the same id".into(),
            );
        }
        if let Some((_, why)) = REFUSED.iter().find(|(t, _)| *t == ty) {
            self.problem(
                ty,
                obj,
                &id,
                format!("{ty} components are not supported here: {why}"),
            );
            return None;
        }
        let known = INPUTS.contains(&ty)
            || matches!(
                ty,
                "text" | "image" | "spacer" | "separator" | "group" | "button"
            );
        if !known {
            self.problem(
                ty,
                obj,
                &id,
                format!("property type: \"{ty}\" is not a form-js component this engine renders"),
            );
            return None;
        }
        let before = self.problems.len();
        for prop in obj.keys() {
            if !allowed(ty, prop) {
                self.problem(
                    ty,
                    obj,
                    &id,
                    format!("property {prop} is not allowed on a {ty} component"),
                );
            }
        }
        let text = |name: &str, me: &mut Reader| -> Option<String> {
            match obj.get(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim_start().starts_with('=') => {
                    me.problem(
                        ty,
                        obj,
                        &id,
                        format!("property {name} is the expression {s:?}; only literal text is supported here"),
                    );
                    None
                }
                Some(Value::String(s)) if s.contains("{{") => {
                    me.problem(
                        ty,
                        obj,
                        &id,
                        format!("property {name} uses {{{{...}}}} templating, which is not supported here"),
                    );
                    None
                }
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    me.problem(
                        ty,
                        obj,
                        &id,
                        format!("property {name} must be text, not {other}"),
                    );
                    None
                }
            }
        };
        let flag = |name: &str, me: &mut Reader| -> bool {
            match obj.get(name) {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => {
                    me.problem(
                        ty,
                        obj,
                        &id,
                        format!("property {name} is the expression {s:?}; only true or false is supported here"),
                    );
                    false
                }
                Some(other) => {
                    me.problem(
                        ty,
                        obj,
                        &id,
                        format!("property {name} must be true or false, not {other}"),
                    );
                    false
                }
            }
        };
        let label = text("label", self);
        let description = text("description", self);
        let readonly = flag("readonly", self);
        let disabled = flag("disabled", self);
        // Layout.
        let (mut row, mut columns) = (None, None);
        if let Some(layout) = obj.get("layout") {
            match layout.as_object() {
                Some(l) => {
                    for (k, v) in l {
                        match (k.as_str(), v) {
                            ("row", Value::String(s)) => row = Some(s.clone()),
                            ("row" | "columns", Value::Null) => {}
                            ("columns", Value::Number(n)) => match n.as_u64() {
                                Some(c @ 2..=16) => columns = Some(c as u8),
                                _ => self.problem(
                                    ty,
                                    obj,
                                    &id,
                                    format!("property layout.columns must be a whole number from 2 to 16, not {n}"),
                                ),
                            },
                            (k, v) => self.problem(
                                ty,
                                obj,
                                &id,
                                format!("property layout.{k} ({v}) is not understood (layout has row and columns)"),
                            ),
                        }
                    }
                }
                None => self.problem(ty, obj, &id, "property layout must be an object".into()),
            }
        }
        // Conditional hide.
        let mut hide = None;
        if let Some(cond) = obj.get("conditional") {
            match cond.as_object() {
                Some(c) => {
                    for (k, v) in c {
                        match (k.as_str(), v) {
                            ("hide", Value::String(s)) if s.trim().is_empty() => {}
                            ("hide", Value::String(s)) => {
                                let src = s.trim().strip_prefix('=').unwrap_or(s.trim());
                                match Expression::parse(src) {
                                    Ok(e) => hide = Some((s.clone(), Arc::new(e))),
                                    Err(e) => self.problem(
                                        ty,
                                        obj,
                                        &id,
                                        format!("property conditional.hide: {e}"),
                                    ),
                                }
                            }
                            (_, Value::Null) => {}
                            (k, _) => self.problem(
                                ty,
                                obj,
                                &id,
                                format!("property conditional.{k} is not understood (conditional has hide, a FEEL expression)"),
                            ),
                        }
                    }
                }
                None => self.problem(
                    ty,
                    obj,
                    &id,
                    "property conditional must be an object".into(),
                ),
            }
        }
        // Appearance.
        let (mut prefix, mut suffix) = (None, None);
        if let Some(app) = obj.get("appearance") {
            match app.as_object() {
                Some(a) => {
                    for (k, v) in a {
                        match (k.as_str(), v) {
                            ("prefixAdorner", Value::String(s)) => prefix = Some(s.clone()),
                            ("suffixAdorner", Value::String(s)) => suffix = Some(s.clone()),
                            (_, Value::Null) => {}
                            (k, _) => self.problem(
                                ty,
                                obj,
                                &id,
                                format!("property appearance.{k} is not understood (appearance has prefixAdorner and suffixAdorner, as text)"),
                            ),
                        }
                    }
                }
                None => self.problem(ty, obj, &id, "property appearance must be an object".into()),
            }
        }
        if let Some(p) = obj.get("properties")
            && !p.is_object()
        {
            self.problem(ty, obj, &id, "property properties must be an object".into());
        }
        // Key.
        let mut key = None;
        if INPUTS.contains(&ty) {
            match obj.get("key") {
                Some(Value::String(k)) if key_ok(k) => {
                    let full = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if let Some(other) = self.keys.get(&full) {
                        let other = other.clone();
                        self.problem(
                            ty,
                            obj,
                            &id,
                            format!("property key: \"{full}\" is also the key of component \"{other}\""),
                        );
                    }
                    self.keys.insert(full.clone(), id.clone());
                    key = Some(full);
                }
                Some(Value::String(k)) => self.problem(
                    ty,
                    obj,
                    &id,
                    format!("property key \"{k}\" must be words joined by dots (letters, digits and _), such as address.city"),
                ),
                Some(other) => {
                    self.problem(ty, obj, &id, format!("property key must be text, not {other}"))
                }
                None => self.problem(
                    ty,
                    obj,
                    &id,
                    "property key is missing (every input needs a key)".into(),
                ),
            }
        }
        // Validation rules.
        let mut rules = Rules::default();
        if let Some(v) = obj.get("validate") {
            match v.as_object() {
                Some(m) => {
                    for (k, val) in m {
                        if !allowed_rule(ty, k) {
                            self.problem(
                                ty,
                                obj,
                                &id,
                                format!("property validate.{k} is not allowed on a {ty} component"),
                            );
                            continue;
                        }
                        if val.is_null() {
                            continue;
                        }
                        let bad = |me: &mut Reader, why: String| {
                            me.problem(ty, obj, &id, format!("property validate.{k} {why}"))
                        };
                        match k.as_str() {
                            "required" => match val {
                                Value::Bool(b) => rules.required = *b,
                                other => bad(self, format!("must be true or false, not {other}")),
                            },
                            "minLength" | "maxLength" => match number(val) {
                                Ok(n) if n >= 0.0 && n.fract() == 0.0 => {
                                    if k == "minLength" {
                                        rules.min_length = Some(n as usize);
                                    } else {
                                        rules.max_length = Some(n as usize);
                                    }
                                }
                                Ok(n) => bad(
                                    self,
                                    format!("must be a whole number of 0 or more, not {n}"),
                                ),
                                Err(e) => bad(self, e),
                            },
                            "min" | "max" => match number(val) {
                                Ok(n) => {
                                    if k == "min" {
                                        rules.min = Some(n);
                                    } else {
                                        rules.max = Some(n);
                                    }
                                }
                                Err(e) => bad(self, e),
                            },
                            "pattern" => match val {
                                Value::String(p) if p.is_empty() => {}
                                Value::String(p) => match regex::Regex::new(p) {
                                    Ok(r) => rules.pattern = Some(Arc::new(r)),
                                    Err(e) => bad(
                                        self,
                                        format!(
                                            "{p:?} is not a regular expression this engine can check: {}",
                                            first_line(&e.to_string())
                                        ),
                                    ),
                                },
                                other => bad(self, format!("must be text, not {other}")),
                            },
                            "patternErrorMessage" => match val {
                                Value::String(s) => rules.pattern_message = Some(s.clone()),
                                other => bad(self, format!("must be text, not {other}")),
                            },
                            "validationType" => match val.as_str() {
                                Some("email") => {
                                    rules.validation_type = Some(ValidationType::Email)
                                }
                                Some("phone") => {
                                    rules.validation_type = Some(ValidationType::Phone)
                                }
                                Some("" | "custom") => {}
                                _ => bad(
                                    self,
                                    format!("must be email, phone, custom or empty, not {val}"),
                                ),
                            },
                            _ => {}
                        }
                    }
                    if m.get("patternErrorMessage").is_some_and(|v| !v.is_null())
                        && rules.pattern.is_none()
                        && !m.contains_key("pattern")
                    {
                        self.problem(
                            ty,
                            obj,
                            &id,
                            "property validate.patternErrorMessage needs validate.pattern".into(),
                        );
                    }
                }
                None => self.problem(ty, obj, &id, "property validate must be an object".into()),
            }
        }
        // The type's own properties.
        let kind = match ty {
            "textfield" => Some(Kind::TextField),
            "textarea" => Some(Kind::TextArea),
            "checkbox" => Some(Kind::Checkbox),
            "number" => {
                let decimal_digits = match obj.get("decimalDigits") {
                    None | Some(Value::Null) => None,
                    Some(v) => match v.as_u64() {
                        Some(d) if d <= 20 => Some(d as u32),
                        _ => {
                            self.problem(ty, obj, &id, format!("property decimalDigits must be a whole number from 0 to 20, not {v}"));
                            None
                        }
                    },
                };
                let increment = match obj.get("increment") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(v) => match number(v) {
                        Ok(n) if n > 0.0 => Some(n),
                        Ok(n) => {
                            self.problem(
                                ty,
                                obj,
                                &id,
                                format!("property increment must be more than 0, not {n}"),
                            );
                            None
                        }
                        Err(e) => {
                            self.problem(ty, obj, &id, format!("property increment {e}"));
                            None
                        }
                    },
                };
                Some(Kind::Number {
                    decimal_digits,
                    increment,
                    as_string: flag("serializeToString", self),
                })
            }
            "radio" | "select" | "checklist" | "taglist" => {
                let options = self.options(ty, obj, &id);
                Some(match ty {
                    "radio" => Kind::Radio(options),
                    "select" => {
                        flag("searchable", self);
                        Kind::Select(options)
                    }
                    "checklist" => Kind::Checklist(options),
                    _ => Kind::Taglist(options),
                })
            }
            "datetime" => {
                let subtype = match obj.get("subtype").and_then(Value::as_str) {
                    None | Some("date") => Subtype::Date,
                    Some("time") => Subtype::Time,
                    Some("datetime") => Subtype::DateTime,
                    Some(other) => {
                        self.problem(
                            ty,
                            obj,
                            &id,
                            format!(
                                "property subtype must be date, time or datetime, not {other:?}"
                            ),
                        );
                        Subtype::Date
                    }
                };
                let interval = match obj.get("timeInterval") {
                    None | Some(Value::Null) => None,
                    Some(v) => match v.as_u64() {
                        Some(i @ 1..=60) => Some(i as u32),
                        _ => {
                            self.problem(ty, obj, &id, format!("property timeInterval must be a whole number from 1 to 60, not {v}"));
                            None
                        }
                    },
                };
                let no_timezone = match obj.get("timeSerializingFormat").and_then(Value::as_str) {
                    None | Some("utc_offset" | "utc_normalized") => false,
                    Some("no_timezone") => true,
                    Some(other) => {
                        self.problem(ty, obj, &id, format!("property timeSerializingFormat must be utc_offset, utc_normalized or no_timezone, not {other:?}"));
                        false
                    }
                };
                flag("use24h", self);
                Some(Kind::Datetime {
                    subtype,
                    date_label: text("dateLabel", self),
                    time_label: text("timeLabel", self),
                    interval,
                    disallow_past: flag("disallowPassedDates", self),
                    no_timezone,
                })
            }
            "text" => match obj.get("text") {
                Some(Value::String(s)) if s.trim_start().starts_with('=') => {
                    self.problem(ty, obj, &id, format!("property text is the expression {s:?}; only Markdown text is supported here"));
                    None
                }
                Some(Value::String(s)) if s.contains("{{") => {
                    self.problem(
                        ty,
                        obj,
                        &id,
                        "property text uses {{...}} templating, which is not supported here".into(),
                    );
                    None
                }
                Some(Value::String(s)) => Some(Kind::Text(s.clone())),
                None | Some(Value::Null) => Some(Kind::Text(String::new())),
                Some(other) => {
                    self.problem(
                        ty,
                        obj,
                        &id,
                        format!("property text must be text, not {other}"),
                    );
                    None
                }
            },
            "image" => {
                let source = match obj.get("source") {
                    Some(Value::String(s)) if safe_image(s) => Some(s.clone()),
                    Some(Value::String(s)) => {
                        self.problem(ty, obj, &id, format!("property source {:?} is refused: images must be data: URLs or paths on this server (starting with /)", shorten(s)));
                        None
                    }
                    None | Some(Value::Null) => Some(String::new()),
                    Some(other) => {
                        self.problem(
                            ty,
                            obj,
                            &id,
                            format!("property source must be text, not {other}"),
                        );
                        None
                    }
                };
                let alt = text("alt", self);
                source.map(|source| Kind::Image { source, alt })
            }
            "spacer" => {
                match obj.get("height") {
                    None | Some(Value::Null) => Some(Kind::Spacer { height: None }),
                    Some(v) => match v.as_f64() {
                        Some(h) if (0.0..=2000.0).contains(&h) => {
                            Some(Kind::Spacer { height: Some(h) })
                        }
                        _ => {
                            self.problem(ty, obj, &id, format!("property height must be a number of pixels from 0 to 2000, not {v}"));
                            None
                        }
                    },
                }
            }
            "separator" => Some(Kind::Separator),
            "button" => match obj.get("action").and_then(Value::as_str) {
                None | Some("submit") => Some(Kind::Button { reset: false }),
                Some("reset") => Some(Kind::Button { reset: true }),
                Some(other) => {
                    self.problem(
                        ty,
                        obj,
                        &id,
                        format!("property action must be submit or reset, not {other:?}"),
                    );
                    None
                }
            },
            "group" => {
                let sub = match obj.get("path") {
                    None | Some(Value::Null) => path.to_string(),
                    Some(Value::String(p)) if p.is_empty() => path.to_string(),
                    Some(Value::String(p)) if key_ok(p) => {
                        if path.is_empty() {
                            p.clone()
                        } else {
                            format!("{path}.{p}")
                        }
                    }
                    Some(other) => {
                        self.problem(ty, obj, &id, format!("property path {other} must be words joined by dots (letters, digits and _)"));
                        path.to_string()
                    }
                };
                let align = match obj.get("verticalAlignment").and_then(Value::as_str) {
                    None => None,
                    Some(a @ ("start" | "center" | "end")) => Some(a.to_string()),
                    Some(other) => {
                        self.problem(ty, obj, &id, format!("property verticalAlignment must be start, center or end, not {other:?}"));
                        None
                    }
                };
                let outline = flag("showOutline", self);
                let components = match obj.get("components") {
                    Some(list) => {
                        let owner = describe(ty, obj);
                        self.components(list, &sub, &owner)
                    }
                    None => Vec::new(),
                };
                Some(Kind::Group {
                    components,
                    outline,
                    align,
                })
            }
            _ => None,
        }?;
        let default = match obj.get("defaultValue") {
            None | Some(Value::Null) => None,
            Some(v) => {
                if kind.options().is_some_and(|o| matches!(o, Options::Key(_))) {
                    self.problem(
                        ty,
                        obj,
                        &id,
                        "property defaultValue cannot go with valuesKey".into(),
                    );
                    None
                } else {
                    // Modeler writes some defaults as text ("5"): read them as posted.
                    match convert(&kind, v, true, None) {
                        Ok(v) => v,
                        Err(e) => {
                            self.problem(ty, obj, &id, format!("property defaultValue {v}: {e}"));
                            None
                        }
                    }
                }
            }
        };
        if self.problems.len() > before {
            return None;
        }
        Some(Component {
            id,
            kind,
            label,
            description,
            key,
            default,
            readonly,
            disabled,
            rules,
            hide,
            row,
            columns,
            prefix,
            suffix,
        })
    }

    fn options(&mut self, ty: &str, obj: &Map<String, Value>, id: &str) -> Options {
        if let Some(e) = obj.get("valuesExpression").filter(|v| !v.is_null()) {
            self.problem(
                ty,
                obj,
                id,
                format!(
                    "property valuesExpression ({e}) is not supported here: use values or valuesKey"
                ),
            );
        }
        match (obj.get("values"), obj.get("valuesKey")) {
            (Some(_), Some(Value::String(_))) => {
                self.problem(
                    ty,
                    obj,
                    id,
                    "property values cannot go with valuesKey".into(),
                );
                Options::Static(Vec::new())
            }
            (_, Some(Value::String(k))) if key_ok(k) => Options::Key(k.clone()),
            (_, Some(other)) if !other.is_null() => {
                self.problem(
                    ty,
                    obj,
                    id,
                    format!("property valuesKey {other} must name a variable"),
                );
                Options::Static(Vec::new())
            }
            (Some(Value::Array(items)), _) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let value = item.get("value").filter(|v| {
                        matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
                    });
                    match (item.as_object(), value) {
                        (Some(o), Some(v)) => {
                            let label = o
                                .get("label")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                                .unwrap_or_else(|| text_of(v));
                            if out.iter().any(|(_, old)| old == v) {
                                self.problem(ty, obj, id, format!("property values[{i}]: the value {v} is listed twice"));
                            }
                            out.push((label, v.clone()));
                        }
                        _ => self.problem(
                            ty,
                            obj,
                            id,
                            format!("property values[{i}] must be an object with a label and a text, number or boolean value"),
                        ),
                    }
                }
                Options::Static(out)
            }
            (Some(other), _) if !other.is_null() => {
                self.problem(ty, obj, id, "property values must be a list".into());
                Options::Static(Vec::new())
            }
            _ => {
                self.problem(
                    ty,
                    obj,
                    id,
                    "property values is missing (a choice needs values or valuesKey)".into(),
                );
                Options::Static(Vec::new())
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// An image source shown as is: a `data:` image or a path on this server.
fn safe_image(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    s.is_empty()
        || lower.starts_with("data:image/")
        || (s.starts_with('/') && !s.starts_with("//") && !s.contains('\\'))
}

/// Whether bytes look like a form file (a JSON object) rather than XML.
pub fn is_form(name: &str, bytes: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(".form")
        || bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{')
}

/// Reads a form file, or every problem with it.
pub fn parse(bytes: &[u8]) -> Result<FormDoc, Vec<FormProblem>> {
    let whole = |message: String| {
        vec![FormProblem {
            component: None,
            kind: None,
            message,
        }]
    };
    let schema: Value = serde_json::from_slice(bytes)
        .map_err(|e| whole(format!("the form is not valid JSON: {e}")))?;
    parse_value(schema)
}

/// Reads a form from its JSON.
pub fn parse_value(schema: Value) -> Result<FormDoc, Vec<FormProblem>> {
    let whole = |message: String| FormProblem {
        component: None,
        kind: None,
        message,
    };
    let Some(obj) = schema.as_object() else {
        return Err(vec![whole("the form must be a JSON object".into())]);
    };
    let mut problems = Vec::new();
    for (k, v) in obj {
        let ok = match k.as_str() {
            "type" => v.as_str() == Some("default"),
            "id" | "executionPlatform" | "executionPlatformVersion" | "versionTag" => v.is_string(),
            "schemaVersion" => v.as_u64().is_some_and(|n| (1..=20).contains(&n)),
            "exporter" => v.is_object(),
            "components" => v.is_array(),
            _ => {
                problems.push(whole(format!(
                    "property {k} is not a property of a form (type, id, components, schemaVersion, exporter, executionPlatform, executionPlatformVersion and versionTag are)"
                )));
                continue;
            }
        };
        if !ok {
            let want = match k.as_str() {
                "type" => "\"default\"",
                "schemaVersion" => "a whole number from 1 to 20",
                "exporter" => "an object",
                "components" => "a list",
                _ => "text",
            };
            problems.push(whole(format!(
                "property {k} of the form must be {want}, not {v}"
            )));
        }
    }
    if !obj.contains_key("type") {
        problems.push(whole(
            "property type of the form is missing (it is \"default\")".into(),
        ));
    }
    let id = match obj.get("id").and_then(Value::as_str) {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => {
            problems.push(whole(
                "property id of the form is missing: it names the form for camunda:formRef and zeebe:formId".into(),
            ));
            String::new()
        }
    };
    let mut r = Reader {
        problems,
        keys: BTreeMap::new(),
        ids: HashSet::new(),
        counter: 0,
    };
    let components = match obj.get("components") {
        Some(list) => r.components(list, "", "the form"),
        None => {
            r.problems
                .push(whole("property components of the form is missing".into()));
            Vec::new()
        }
    };
    // A key may not be both a value and an object of other keys.
    let keys: Vec<String> = r.keys.keys().cloned().collect();
    for k in &keys {
        if let Some(other) = keys.iter().find(|o| {
            o.len() > k.len() && o.starts_with(k.as_str()) && o[k.len()..].starts_with('.')
        }) {
            let id = r.keys.get(k).cloned().unwrap_or_default();
            r.problems.push(FormProblem {
                component: Some(id.clone()),
                kind: None,
                message: format!(
                    "component \"{id}\": property key \"{k}\" holds a value, but the key \"{other}\" puts an object there"
                ),
            });
        }
    }
    if !r.problems.is_empty() {
        return Err(r.problems);
    }
    Ok(FormDoc {
        id,
        components,
        schema,
    })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The value at a dotted path of a variable map.
pub fn get_path<'a>(vars: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = vars.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Sets a value at a dotted path, making objects on the way.
pub fn set_path(vars: &mut Map<String, Value>, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, init)) = parts.split_last() else {
        return;
    };
    let mut cur = vars;
    for p in init {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        cur = next;
    }
    cur.insert(last.to_string(), value);
}

/// The options of a choice, reading `valuesKey` from the variables.
pub fn options(opts: &Options, vars: &Map<String, Value>) -> Vec<(String, Value)> {
    match opts {
        Options::Static(list) => list.clone(),
        Options::Key(k) => match get_path(vars, k) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(o) => {
                        let v = o.get("value")?;
                        let label = o.get("label").map(text_of).unwrap_or_else(|| text_of(v));
                        Some((label, v.clone()))
                    }
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        Some((text_of(item), item.clone()))
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// Whether a posted value is empty.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Converts one value to the component's type. `posted`: it came from an HTML
/// form, so every value is text. `Ok(None)` means "empty".
pub fn convert(
    kind: &Kind,
    value: &Value,
    posted: bool,
    choices: Option<&[(String, Value)]>,
) -> Result<Option<Value>, String> {
    if is_empty(value) && !matches!(kind, Kind::Checkbox) {
        return Ok(None);
    }
    let choice = |v: &Value| -> Result<Value, String> {
        let Some(list) = choices else {
            return Ok(v.clone());
        };
        let hit = list
            .iter()
            .find(|(_, opt)| opt == v || (posted && text_of(opt) == text_of(v)));
        match hit {
            Some((_, opt)) => Ok(opt.clone()),
            None => {
                let names: Vec<String> = list.iter().map(|(_, o)| text_of(o)).collect();
                Err(format!(
                    "must be one of {}, not \"{}\"",
                    names.join(", "),
                    text_of(v)
                ))
            }
        }
    };
    match kind {
        Kind::TextField | Kind::TextArea => match value {
            Value::String(s) => Ok(Some(Value::String(s.clone()))),
            _ => Err("must be text".into()),
        },
        Kind::Number {
            decimal_digits,
            as_string,
            ..
        } => {
            let (text, f) = match value {
                Value::Number(n) => (n.to_string(), n.as_f64().unwrap_or(f64::NAN)),
                Value::String(s) if posted => {
                    let t = s.trim();
                    let ok = !t.is_empty()
                        && t.chars().all(|c| {
                            c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')
                        });
                    match t.parse::<f64>() {
                        Ok(f) if ok && f.is_finite() => (t.to_string(), f),
                        _ => return Err(format!("must be a number, not \"{s}\"")),
                    }
                }
                _ => return Err("must be a number".into()),
            };
            if !f.is_finite() {
                return Err("must be a number".into());
            }
            if let Some(d) = decimal_digits {
                let digits = text
                    .split_once('.')
                    .map(|(_, frac)| frac.trim_end_matches('0').len())
                    .unwrap_or(0);
                if text.contains(['e', 'E']) || digits > *d as usize {
                    return Err(match d {
                        0 => "must be a whole number".to_string(),
                        1 => "may have at most 1 digit after the decimal point".to_string(),
                        d => format!("may have at most {d} digits after the decimal point"),
                    });
                }
            }
            if *as_string {
                return Ok(Some(Value::String(text)));
            }
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Ok(Some(Value::from(f as i64)))
            } else {
                Ok(serde_json::Number::from_f64(f).map(Value::Number))
            }
        }
        Kind::Checkbox => match value {
            Value::Bool(b) => Ok(Some(Value::Bool(*b))),
            Value::Null => Ok(Some(Value::Bool(false))),
            Value::String(s) if posted => match s.as_str() {
                "true" | "on" => Ok(Some(Value::Bool(true))),
                "false" | "" => Ok(Some(Value::Bool(false))),
                _ => Err(format!("must be true or false, not \"{s}\"")),
            },
            _ => Err("must be true or false".into()),
        },
        Kind::Radio(_) | Kind::Select(_) => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => choice(value).map(Some),
            _ => Err("must be one of the listed values".into()),
        },
        Kind::Checklist(_) | Kind::Taglist(_) => {
            let items: Vec<Value> = match value {
                Value::Array(a) => a.clone(),
                Value::String(_) if posted => vec![value.clone()],
                _ => return Err("must be a list of the listed values".into()),
            };
            let mut out = Vec::new();
            for item in &items {
                if item.is_array() || item.is_object() || item.is_null() {
                    return Err("must be a list of the listed values".into());
                }
                let v = choice(item)?;
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Kind::Datetime {
            subtype,
            no_timezone,
            ..
        } => {
            let Value::String(s) = value else {
                return Err("must be a date or time written as text".into());
            };
            datetime(*subtype, s.trim(), *no_timezone)
                .map(|v| Some(Value::String(v)))
                .ok_or_else(|| match subtype {
                    Subtype::Date => format!("must be a date such as 2024-12-31, not \"{s}\""),
                    Subtype::Time => format!("must be a time such as 14:30, not \"{s}\""),
                    Subtype::DateTime => {
                        format!("must be a date and time such as 2024-12-31T14:30, not \"{s}\"")
                    }
                })
        }
        Kind::Text(_)
        | Kind::Image { .. }
        | Kind::Spacer { .. }
        | Kind::Separator
        | Kind::Group { .. }
        | Kind::Button { .. } => Err("takes no value".into()),
    }
}

/// Reads a date, time or date-time and writes it as form-js stores it: dates
/// as `YYYY-MM-DD`; times as `HH:MM` (UTC, with `Z`, unless stored without a
/// time zone); date-times as `YYYY-MM-DDTHH:MM` likewise. Times entered on
/// the page are taken as UTC: the server does not know the browser's zone.
fn datetime(subtype: Subtype, s: &str, no_timezone: bool) -> Option<String> {
    let zone = if no_timezone { "" } else { "Z" };
    match subtype {
        Subtype::Date => s
            .parse::<jiff::civil::Date>()
            .ok()
            .filter(|_| s.len() == 10)
            .map(|d| d.to_string()),
        Subtype::Time => {
            let t = s.strip_suffix('Z').unwrap_or(s);
            let t = t.parse::<jiff::civil::Time>().ok()?;
            Some(format!("{:02}:{:02}{zone}", t.hour(), t.minute()))
        }
        Subtype::DateTime => {
            if let Ok(ts) = s.parse::<jiff::Timestamp>() {
                let dt = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime();
                return Some(format!(
                    "{}T{:02}:{:02}{zone}",
                    dt.date(),
                    dt.hour(),
                    dt.minute()
                ));
            }
            let dt = s.parse::<jiff::civil::DateTime>().ok()?;
            Some(format!(
                "{}T{:02}:{:02}{zone}",
                dt.date(),
                dt.hour(),
                dt.minute()
            ))
        }
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

fn is_phone(s: &str) -> bool {
    let t = s.trim();
    let rest = if let Some(r) = t.strip_prefix('+') {
        r
    } else if let Some(r) = t.strip_prefix("00") {
        r
    } else {
        return false;
    };
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    rest.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '/'))
        && (7..=15).contains(&digits)
}

/// Checks a converted value against the component's rules.
fn check_rules(c: &Component, value: &Value, today: Option<jiff::civil::Date>) -> Option<String> {
    let r = &c.rules;
    if let Value::String(s) = value
        && matches!(c.kind, Kind::TextField | Kind::TextArea)
    {
        let len = s.chars().count();
        if let Some(min) = r.min_length
            && len < min
        {
            return Some(format!("must be at least {min} characters long"));
        }
        if let Some(max) = r.max_length
            && len > max
        {
            return Some(format!("must be at most {max} characters long"));
        }
        if let Some(p) = &r.pattern
            && !p.is_match(s)
        {
            return Some(
                r.pattern_message
                    .clone()
                    .unwrap_or_else(|| format!("must match the pattern {}", p.as_str())),
            );
        }
        match r.validation_type {
            Some(ValidationType::Email) if !is_email(s) => {
                return Some("must be an email address such as name@example.com".into());
            }
            Some(ValidationType::Phone) if !is_phone(s) => {
                return Some(
                    "must be a phone number with its country code, such as +49 30 1234567".into(),
                );
            }
            _ => {}
        }
    }
    if let Kind::Number { increment, .. } = &c.kind {
        let n = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse::<f64>().ok(),
            _ => None,
        };
        if let Some(n) = n {
            if let Some(min) = r.min
                && n < min
            {
                return Some(format!("must be at least {}", show_number(min)));
            }
            if let Some(max) = r.max
                && n > max
            {
                return Some(format!("must be at most {}", show_number(max)));
            }
            if let Some(step) = increment {
                let q = n / step;
                if (q - q.round()).abs() > 1e-9 {
                    return Some(format!("must be a multiple of {}", show_number(*step)));
                }
            }
        }
    }
    if let Kind::Datetime {
        subtype,
        disallow_past: true,
        ..
    } = &c.kind
        && let (Some(today), Value::String(s)) = (today, value)
        && *subtype != Subtype::Time
        && let Some(d) = s
            .get(..10)
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        && d < today
    {
        return Some("may not be in the past".into());
    }
    if let Kind::Datetime {
        interval: Some(i), ..
    } = &c.kind
        && let Value::String(s) = value
    {
        let time = s.split_once('T').map(|(_, t)| t).unwrap_or(s);
        if let Some(m) = time.get(3..5).and_then(|m| m.parse::<u32>().ok())
            && time.get(2..3) == Some(":")
            && m % i != 0
        {
            return Some(format!("minutes must be a multiple of {i}"));
        }
    }
    None
}

fn show_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// The values submitted for a form, by key path.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    /// `key path -> value`.
    pub values: BTreeMap<String, Value>,
    /// Keys sent that are not inputs of the form.
    pub unknown: Vec<String>,
    /// Strings from an HTML form rather than typed JSON.
    pub posted: bool,
}

impl Submitted {
    /// Typed JSON as the API sends it: nested objects follow the keys' paths
    /// (`{"address": {"city": ...}}`); a dotted key (`"address.city"`) is
    /// read the same way.
    pub fn json(doc: &FormDoc, input: &Map<String, Value>) -> Submitted {
        let keys: BTreeSet<String> = doc.inputs().iter().filter_map(|c| c.key.clone()).collect();
        let mut out = Submitted::default();
        fn walk(
            keys: &BTreeSet<String>,
            prefix: &str,
            map: &Map<String, Value>,
            out: &mut Submitted,
        ) {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if keys.contains(&path) {
                    out.values.insert(path, v.clone());
                } else if let Value::Object(inner) = v
                    && keys.iter().any(|key| key.starts_with(&format!("{path}.")))
                {
                    walk(keys, &path, inner, out);
                } else {
                    out.unknown.push(path);
                }
            }
        }
        walk(&keys, "", input, &mut out);
        out
    }

    /// An HTML form as posted: inputs named `f.<key path>`; a checklist or
    /// taglist sends one pair per chosen value. An unchecked checkbox sends
    /// nothing, so a checkbox that is missing means `false`.
    pub fn posted(doc: &FormDoc, pairs: &[(String, String)]) -> Submitted {
        let inputs = doc.inputs();
        let mut out = Submitted {
            posted: true,
            ..Submitted::default()
        };
        for (k, v) in pairs {
            let Some(path) = k.strip_prefix("f.") else {
                continue;
            };
            match inputs.iter().find(|c| c.key.as_deref() == Some(path)) {
                Some(c) if c.kind.is_list() => {
                    let entry = out
                        .values
                        .entry(path.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(a) = entry
                        && !v.is_empty()
                    {
                        a.push(Value::String(v.clone()));
                    }
                }
                Some(_) => {
                    out.values
                        .insert(path.to_string(), Value::String(v.clone()));
                }
                None => out.unknown.push(path.to_string()),
            }
        }
        for c in inputs {
            if let Some(key) = &c.key
                && !out.values.contains_key(key)
            {
                match c.kind {
                    Kind::Checkbox => {
                        out.values.insert(key.clone(), Value::Bool(false));
                    }
                    Kind::Checklist(_) | Kind::Taglist(_) => {
                        out.values.insert(key.clone(), Value::Array(Vec::new()));
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// The data the form shows and its conditions see: the variables, with the
/// defaults of fields that have no value, overlaid by what was submitted.
pub fn data(
    doc: &FormDoc,
    vars: &Map<String, Value>,
    sub: Option<&Submitted>,
) -> Map<String, Value> {
    let mut data = vars.clone();
    for c in doc.inputs() {
        let Some(key) = &c.key else { continue };
        if let Some(sub) = sub
            && let Some(v) = sub.values.get(key)
        {
            let choices = c.kind.options().map(|o| options(o, vars));
            let v = convert(&c.kind, v, sub.posted, choices.as_deref())
                .ok()
                .flatten()
                .unwrap_or_else(|| v.clone());
            set_path(&mut data, key, v);
        } else if get_path(vars, key).is_none()
            && let Some(d) = &c.default
        {
            set_path(&mut data, key, d.clone());
        }
    }
    data
}

/// The ids of the components hidden by their `conditional.hide` against
/// `data`, and of everything inside a hidden group. A condition that cannot
/// be evaluated hides nothing, as in form-js.
pub fn hidden(doc: &FormDoc, data: &Map<String, Value>) -> HashSet<String> {
    fn walk(cs: &[Component], data: &Map<String, Value>, inside: bool, out: &mut HashSet<String>) {
        for c in cs {
            let hide = inside
                || c.hide
                    .as_ref()
                    .is_some_and(|(_, e)| matches!(e.eval(data), Ok(Value::Bool(true))));
            if hide {
                out.insert(c.id.clone());
            }
            if let Kind::Group { components, .. } = &c.kind {
                walk(components, data, hide, out);
            }
        }
    }
    let mut out = HashSet::new();
    walk(&doc.components, data, false, &mut out);
    out
}

/// Checks and converts submitted values against a form.
///
/// Returns the variables to set, nested by the keys' paths: every visible,
/// writable input's value (or its default). Hidden, read-only and disabled
/// fields are not submitted: a value sent for a read-only or disabled field
/// must equal what the form shows. A key that is not an input is an error,
/// so a typo cannot silently go nowhere. `today` checks
/// `disallowPassedDates`.
pub fn submit(
    doc: &FormDoc,
    vars: &Map<String, Value>,
    sub: &Submitted,
    today: Option<jiff::civil::Date>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = sub
        .unknown
        .iter()
        .map(|k| FieldError {
            field: k.clone(),
            message: "is not a field of this form".into(),
        })
        .collect();
    let shown = data(doc, vars, Some(sub));
    let hidden = hidden(doc, &shown);
    let mut out = Map::new();
    for c in doc.inputs() {
        let Some(key) = &c.key else { continue };
        if hidden.contains(&c.id) {
            continue;
        }
        let error = |message: String| FieldError {
            field: key.clone(),
            message,
        };
        let choices = c.kind.options().map(|o| options(o, vars));
        let submitted = sub.values.get(key);
        let value = match submitted.map(|v| convert(&c.kind, v, sub.posted, choices.as_deref())) {
            Some(Err(m)) => {
                errors.push(error(m));
                continue;
            }
            Some(Ok(v)) => v,
            None => None,
        };
        if c.readonly || c.disabled {
            let current = get_path(vars, key).cloned().or_else(|| c.default.clone());
            let same = match (&value, &current) {
                (None, _) => true,
                (Some(Value::Bool(false)), None) => true,
                (Some(Value::Array(a)), None) => a.is_empty(),
                (v, c) => v.as_ref() == c.as_ref(),
            };
            // A page posts what it showed; only a changed value is refused.
            if submitted.is_some()
                && !same
                && !(sub.posted
                    && matches!(
                        c.kind,
                        Kind::Checkbox | Kind::Checklist(_) | Kind::Taglist(_)
                    ))
            {
                errors.push(error(
                    if c.disabled {
                        "is disabled"
                    } else {
                        "is read-only"
                    }
                    .into(),
                ));
            }
            continue;
        }
        // An untouched checkbox is false and an untouched checklist empty, as
        // in form-js, whether the page or the API submits.
        let value = match (value, submitted) {
            (None, None) => c.default.clone().or(match c.kind {
                Kind::Checkbox => Some(Value::Bool(false)),
                Kind::Checklist(_) | Kind::Taglist(_) => Some(Value::Array(Vec::new())),
                _ => None,
            }),
            (v, _) => v,
        };
        let empty = match &value {
            None => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Bool(false)) => matches!(c.kind, Kind::Checkbox),
            _ => false,
        };
        if empty && c.rules.required {
            errors.push(error("is required".into()));
            continue;
        }
        let Some(value) = value else { continue };
        if let Some(m) = check_rules(c, &value, today) {
            errors.push(error(m));
            continue;
        }
        set_path(&mut out, key, value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
