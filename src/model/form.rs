//! Forms of user tasks and start events (`camunda:formData`), and their validation.
//!
//! A form is a list of typed fields. Submitted values arrive either typed (JSON
//! from the API or `bpmn run`) or as strings (an HTML form); [`validate`] turns
//! them into typed variables, or names every field that is wrong and why. It is
//! pure, so the pages, the API and the engine all apply exactly the same rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The type of a form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    String,
    Long,
    Boolean,
    /// A calendar date, stored as `YYYY-MM-DD`.
    Date,
    /// One of a fixed list of values: `(id, label)`.
    Enum {
        values: Vec<(String, String)>,
    },
}

impl FieldType {
    /// The name used in `camunda:formField type="..."`.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Long => "long",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Enum { .. } => "enum",
        }
    }
}

/// Validation constraints of a field (`camunda:constraint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraints {
    pub required: bool,
    pub readonly: bool,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub id: String,
    pub label: Option<String>,
    #[serde(flatten)]
    pub ty: FieldType,
    /// The default value, already checked against the type.
    pub default: Option<Value>,
    pub constraints: Constraints,
    /// `camunda:properties` of the field, in document order.
    pub properties: Vec<(String, String)>,
}

impl FormField {
    /// The label to show (the id when there is none).
    pub fn display_label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.id)
    }
}

/// One field's validation failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Converts one submitted value to the field's type. `Ok(None)` means "empty".
pub fn coerce(ty: &FieldType, value: &Value) -> Result<Option<Value>, String> {
    match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() && *ty != FieldType::String => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        _ => {}
    }
    match ty {
        FieldType::String => match value {
            Value::String(s) => Ok(Some(Value::String(s.clone()))),
            Value::Number(n) => Ok(Some(Value::String(n.to_string()))),
            Value::Bool(b) => Ok(Some(Value::String(b.to_string()))),
            _ => Err("must be text".into()),
        },
        FieldType::Long => match value {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(Some(Value::from(i))),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                        Ok(Some(Value::from(f as i64)))
                    }
                    _ => Err("must be a whole number".into()),
                },
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|i| Some(Value::from(i)))
                .map_err(|_| format!("must be a whole number, not \"{s}\"")),
            _ => Err("must be a whole number".into()),
        },
        FieldType::Boolean => match value {
            Value::Bool(b) => Ok(Some(Value::Bool(*b))),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(Some(Value::Bool(true))),
                "false" | "off" | "no" | "0" => Ok(Some(Value::Bool(false))),
                _ => Err(format!("must be true or false, not \"{s}\"")),
            },
            _ => Err("must be true or false".into()),
        },
        FieldType::Date => match value {
            Value::String(s) => parse_date(s.trim())
                .map(|d| Some(Value::String(d)))
                .ok_or_else(|| format!("must be a date such as 2024-12-31, not \"{s}\"")),
            _ => Err("must be a date such as 2024-12-31".into()),
        },
        FieldType::Enum { values } => {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err("must be one of the listed values".into()),
            };
            if values.iter().any(|(id, _)| *id == s) {
                Ok(Some(Value::String(s)))
            } else {
                let ids: Vec<&str> = values.iter().map(|(id, _)| id.as_str()).collect();
                Err(format!("must be one of {}, not \"{s}\"", ids.join(", ")))
            }
        }
    }
}

/// Accepts `YYYY-MM-DD` (what browsers send) and Camunda's `dd/MM/yyyy`; returns `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<String> {
    let date = if let Ok(d) = s.parse::<jiff::civil::Date>() {
        d
    } else {
        let mut it = s.split('/');
        let (d, m, y) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || y.len() != 4 {
            return None;
        }
        jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?
    };
    Some(date.to_string())
}

/// Validates submitted values against a form.
///
/// Returns the typed variables to set — every submitted field, plus defaults for
/// writable fields left out — or every field's error. Read-only fields are shown,
/// never submitted: a value for one is accepted only if it equals the default, and
/// nothing is stored for it. With an empty form any variables are accepted as
/// they are; with a form, a key that is not one of its fields is an error, so a
/// typo cannot silently go nowhere.
pub fn validate(
    fields: &[FormField],
    input: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    if fields.is_empty() {
        return Ok(input.clone());
    }
    let mut errors = Vec::new();
    let mut out = Map::new();
    for key in input.keys() {
        if !fields.iter().any(|f| f.id == *key) {
            errors.push(FieldError {
                field: key.clone(),
                message: "is not a field of this form".into(),
            });
        }
    }
    for field in fields {
        let submitted = input.get(&field.id);
        let value = match submitted.map(|v| coerce(&field.ty, v)) {
            Some(Err(message)) => {
                errors.push(FieldError {
                    field: field.id.clone(),
                    message,
                });
                continue;
            }
            Some(Ok(v)) => v,
            None => None,
        };
        let c = &field.constraints;
        if c.readonly {
            if value.is_some() && value != field.default {
                errors.push(FieldError {
                    field: field.id.clone(),
                    message: "is read-only".into(),
                });
            }
            continue;
        }
        let value = match (value, submitted) {
            (None, None) => field.default.clone(),
            (v, _) => v,
        };
        let Some(value) = value else {
            if c.required {
                errors.push(FieldError {
                    field: field.id.clone(),
                    message: "is required".into(),
                });
            }
            continue;
        };
        if let Some(message) = check_constraints(c, &value) {
            errors.push(FieldError {
                field: field.id.clone(),
                message,
            });
            continue;
        }
        out.insert(field.id.clone(), value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn check_constraints(c: &Constraints, value: &Value) -> Option<String> {
    if let Value::String(s) = value {
        let len = s.chars().count();
        if let Some(min) = c.minlength
            && len < min
        {
            return Some(format!("must be at least {min} characters long"));
        }
        if let Some(max) = c.maxlength
            && len > max
        {
            return Some(format!("must be at most {max} characters long"));
        }
    }
    if let Some(n) = value.as_i64() {
        if let Some(min) = c.min
            && n < min
        {
            return Some(format!("must be at least {min}"));
        }
        if let Some(max) = c.max
            && n > max
        {
            return Some(format!("must be at most {max}"));
        }
    }
    None
}

/// The values a browser form posted (fields named `f.<field id>`), as
/// variables for the form's validation. An unchecked checkbox is not sent at
/// all, so a writable boolean field that is missing means `false`.
pub fn posted_values(fields: &[FormField], pairs: &[(String, String)]) -> Map<String, Value> {
    let mut values = Map::new();
    for (k, v) in pairs {
        if let Some(id) = k.strip_prefix("f.") {
            values.insert(id.to_string(), Value::String(v.clone()));
        }
    }
    for f in fields {
        if f.ty == FieldType::Boolean && !f.constraints.readonly && !values.contains_key(&f.id) {
            values.insert(f.id.clone(), Value::String("false".into()));
        }
    }
    values
}
