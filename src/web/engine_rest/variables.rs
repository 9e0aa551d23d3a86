//! Camunda 7's typed variables, both ways.
//!
//! Camunda sends and expects every variable as `{"value": .., "type": ..,
//! "valueInfo": {..}}`. Variables here are plain JSON, so:
//!
//! - reading, each type is checked against its value (`Integer` must be a
//!   32-bit whole number, `Date` must be `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, `Json`
//!   and `Object` must be JSON text) and becomes plain JSON; a `Date` becomes
//!   its instant in RFC 3339 (UTC, milliseconds). `Object` is taken only
//!   JSON-serialized (`serializationDataFormat` `application/json`); `Bytes`,
//!   `File` and Java serialization are refused, naming the variable.
//! - writing, each JSON value gets the type Camunda would give it: `Null`,
//!   `Boolean`, `Integer` or `Long` (by range), `Double`, `String`, and `Json`
//!   (JSON text) for objects and arrays. A text in exactly the form a `Date`
//!   is kept in (`2013-06-30T19:33:31.000Z`: UTC, milliseconds, `Z`) is that
//!   date, so it goes back as a `Date` in Camunda's format; that form is the
//!   marker (a `String` sent in exactly that form also comes back a `Date`).

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One variable as Camunda writes it. Unknown fields are ignored, as Camunda does.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TypedValue {
    #[serde(default)]
    pub value: Value,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub value_info: Option<Value>,
}

/// Why a variable could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableError {
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for VariableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cannot read the variable '{}': {}",
            self.name, self.message
        )
    }
}

/// Camunda's date format: `2013-06-30T21:33:31.000+0200`.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

/// Writes an instant as Camunda does (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, UTC).
pub fn format_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// Reads Camunda's date format (also accepting RFC 3339).
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::<FixedOffset>::parse_from_str(text, DATE_FORMAT)
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The form a `Date` is kept in: RFC 3339 in UTC with milliseconds and `Z`.
fn stored_date(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads one typed variable into plain JSON.
pub fn decode(name: &str, v: &TypedValue) -> Result<Value, VariableError> {
    let err = |message: String| VariableError {
        name: name.to_string(),
        message,
    };
    let Some(kind) = v.kind.as_deref().filter(|k| !k.is_empty()) else {
        // Untyped: Camunda takes the JSON value as it is.
        return Ok(v.value.clone());
    };
    let value = &v.value;
    let whole = |min: i64, max: i64, label: &str| -> Result<Value, VariableError> {
        let n = match value {
            Value::Null => return Ok(Value::Null),
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(json!(n)),
            _ => Err(err(format!(
                "a {label} must be a whole number from {min} to {max}, not {value}"
            ))),
        }
    };
    match kind.to_ascii_lowercase().as_str() {
        "string" => match value {
            Value::Null | Value::String(_) => Ok(value.clone()),
            other => Ok(Value::String(other.to_string())),
        },
        "boolean" => match value {
            Value::Null | Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(err(format!("a Boolean must be true or false, not {other}"))),
        },
        "short" => whole(i16::MIN.into(), i16::MAX.into(), "Short"),
        "integer" => whole(i32::MIN.into(), i32::MAX.into(), "Integer"),
        "long" => whole(i64::MIN, i64::MAX, "Long"),
        "double" => match value {
            Value::Null | Value::Number(_) => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                .ok_or_else(|| err(format!("a Double must be a number, not {value}"))),
            other => Err(err(format!("a Double must be a number, not {other}"))),
        },
        "null" => Ok(Value::Null),
        "date" => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s) => parse_date(s)
                .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
                .ok_or_else(|| {
                    err(format!(
                        "a Date must be written yyyy-MM-dd'T'HH:mm:ss.SSSZ (like 2013-06-30T21:33:31.000+0200), not {s:?}"
                    ))
                }),
            other => Err(err(format!(
                "a Date must be a string yyyy-MM-dd'T'HH:mm:ss.SSSZ, not {other}"
            ))),
        },
        "json" => serialized(value).map_err(err),
        "object" => {
            let format = v
                .value_info
                .as_ref()
                .and_then(|i| i.get("serializationDataFormat"))
                .and_then(Value::as_str);
            match format {
                None | Some("application/json") => serialized(value).map_err(err),
                Some(other) => Err(err(format!(
                    "an Object is taken only as JSON (serializationDataFormat application/json), not {other}"
                ))),
            }
        }
        "bytes" | "file" => Err(err(format!(
            "{kind} variables are not supported here; store the content elsewhere and pass a reference"
        ))),
        _ => Err(err(format!(
            "the type {kind:?} is not one of String, Boolean, Integer, Long, Short, Double, Null, Date, Json, Object"
        ))),
    }
}

/// `Json` and `Object` values: JSON text (Camunda's serialized form).
fn serialized(value: &Value) -> Result<Value, String> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(s) => {
            serde_json::from_str(s).map_err(|e| format!("the value is not JSON text: {e}"))
        }
        // Some clients send the structure itself: take it as it is.
        other => Ok(other.clone()),
    }
}

/// Reads a map of typed variables (every problem is reported, the first one
/// wins the message).
pub fn decode_map(vars: Option<&Map<String, Value>>) -> Result<Map<String, Value>, VariableError> {
    let mut out = Map::new();
    for (name, raw) in vars.into_iter().flatten() {
        let typed: TypedValue = match raw {
            Value::Object(_) => serde_json::from_value(raw.clone()).map_err(|e| VariableError {
                name: name.clone(),
                message: format!("it is not {{\"value\", \"type\", \"valueInfo\"}}: {e}"),
            })?,
            Value::Null => TypedValue::default(),
            other => {
                return Err(VariableError {
                    name: name.clone(),
                    message: format!(
                        "it must be an object {{\"value\": .., \"type\": ..}}, not {other}"
                    ),
                });
            }
        };
        out.insert(name.clone(), decode(name, &typed)?);
    }
    Ok(out)
}

/// Writes one plain JSON value as Camunda's typed form.
pub fn encode(value: &Value) -> TypedValue {
    let (kind, value) = match value {
        Value::Null => ("Null", Value::Null),
        Value::Bool(_) => ("Boolean", value.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => ("Integer", value.clone()),
            Some(_) => ("Long", value.clone()),
            None => ("Double", value.clone()),
        },
        Value::String(s) => match stored_date(s) {
            Some(t) => ("Date", Value::String(format_date(t))),
            None => ("String", value.clone()),
        },
        Value::Array(_) | Value::Object(_) => ("Json", Value::String(value.to_string())),
    };
    TypedValue {
        value,
        kind: Some(kind.to_string()),
        value_info: Some(Value::Object(Map::new())),
    }
}

/// Writes variables as Camunda's typed map, keeping only `names` when given.
pub fn encode_map(vars: &Map<String, Value>, names: Option<&[String]>) -> Map<String, Value> {
    vars.iter()
        .filter(|(k, _)| names.is_none_or(|n| n.iter().any(|x| x == *k)))
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(encode(v)).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(v: Value) -> TypedValue {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn each_type_reads_into_plain_json() {
        let cases = [
            (json!({"value": "a", "type": "String"}), json!("a")),
            (json!({"value": true, "type": "Boolean"}), json!(true)),
            (json!({"value": 7, "type": "Integer"}), json!(7)),
            (json!({"value": 7, "type": "integer"}), json!(7)),
            (
                json!({"value": 5_000_000_000i64, "type": "Long"}),
                json!(5_000_000_000i64),
            ),
            (json!({"value": -3, "type": "Short"}), json!(-3)),
            (json!({"value": 1.5, "type": "Double"}), json!(1.5)),
            (json!({"value": null, "type": "Null"}), json!(null)),
            (json!({"value": "x", "type": "Null"}), json!(null)),
            (
                json!({"value": "2013-06-30T21:33:31.000+0200", "type": "Date"}),
                json!("2013-06-30T19:33:31.000Z"),
            ),
            (
                json!({"value": "{\"a\":[1,2]}", "type": "Json", "valueInfo": {}}),
                json!({"a": [1, 2]}),
            ),
            (
                json!({"value": "[1]", "type": "Object",
                       "valueInfo": {"serializationDataFormat": "application/json",
                                     "objectTypeName": "java.util.ArrayList"}}),
                json!([1]),
            ),
            (json!({"value": {"n": 1}}), json!({"n": 1})),
        ];
        for (input, expected) in cases {
            assert_eq!(
                decode("v", &typed(input.clone())).unwrap(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn mistakes_and_unsupported_types_name_the_variable() {
        let cases = [
            json!({"value": 3_000_000_000i64, "type": "Integer"}),
            json!({"value": 40000, "type": "Short"}),
            json!({"value": 1.5, "type": "Long"}),
            json!({"value": "yes", "type": "Boolean"}),
            json!({"value": "30.06.2013", "type": "Date"}),
            json!({"value": "{", "type": "Json"}),
            json!({"value": "rO0AB", "type": "Object",
                   "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"}}),
            json!({"value": "aGk=", "type": "Bytes"}),
            json!({"value": "aGk=", "type": "File", "valueInfo": {"filename": "a.txt"}}),
            json!({"value": 1, "type": "Decimal"}),
        ];
        for input in cases {
            let e = decode("amount", &typed(input.clone())).unwrap_err();
            assert_eq!(e.name, "amount");
            assert!(e.to_string().contains("'amount'"), "{e}");
        }
        let e = decode("f", &typed(json!({"value": "", "type": "File"}))).unwrap_err();
        assert!(e.message.contains("not supported"), "{}", e.message);
        let mut m = Map::new();
        m.insert("n".into(), json!(5));
        assert_eq!(decode_map(Some(&m)).unwrap_err().name, "n");
    }

    #[test]
    fn values_are_written_with_camundas_types() {
        let out = encode_map(
            json!({"s": "a", "b": false, "i": 1, "l": 5_000_000_000i64, "d": 0.5,
                   "n": null, "o": {"k": [1]}})
            .as_object()
            .unwrap(),
            None,
        );
        let kind = |k: &str| out[k]["type"].as_str().unwrap().to_string();
        assert_eq!(kind("s"), "String");
        assert_eq!(kind("b"), "Boolean");
        assert_eq!(kind("i"), "Integer");
        assert_eq!(kind("l"), "Long");
        assert_eq!(kind("d"), "Double");
        assert_eq!(kind("n"), "Null");
        assert_eq!(kind("o"), "Json");
        assert_eq!(out["o"]["value"], json!("{\"k\":[1]}"));
        assert_eq!(out["o"]["valueInfo"], json!({}));
        let only = encode_map(
            json!({"a": 1, "b": 2}).as_object().unwrap(),
            Some(&["b".to_string()]),
        );
        assert_eq!(only.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn a_date_comes_back_a_date() {
        let kept = decode(
            "when",
            &typed(json!({"value": "2013-06-30T21:33:31.000+0200", "type": "Date"})),
        )
        .unwrap();
        let back = encode(&kept);
        assert_eq!(back.kind.as_deref(), Some("Date"));
        assert_eq!(back.value, json!("2013-06-30T19:33:31.000+0000"));
        assert_eq!(decode("when", &back).unwrap(), kept);
        for text in [
            "2013-06-30",
            "2013-06-30T19:33:31Z",
            "2013-06-30T19:33:31.000+00:00",
            "2013-13-30T19:33:31.000Z",
        ] {
            assert_eq!(
                encode(&json!(text)).kind.as_deref(),
                Some("String"),
                "{text}"
            );
        }
    }

    #[test]
    fn dates_round_trip_in_camundas_format() {
        let t = parse_date("2013-06-30T21:33:31.000+0200").unwrap();
        assert_eq!(format_date(t), "2013-06-30T19:33:31.000+0000");
        assert_eq!(parse_date(&format_date(t)), Some(t));
        assert!(parse_date("2013-06-30").is_none());
    }
}
