//! The values an expression computes with, and EL's type conversions
//! (JSR-245 section 1.18) as JUEL's `TypeConverterImpl` performs them.
//!
//! Variables arrive as JSON: integers become Long, other numbers Double,
//! arrays List and objects Map. Besides those, an expression can hold the
//! objects Camunda gives it: a `java.util.Date` (`now()`), a Joda `DateTime`
//! (`dateTime()`), a Spin JSON node (`S(...)`), and the `execution` and
//! `task` context objects.
//!
//! Strings are compared, measured and cut in UTF-16 code units, as Java does.

use std::rc::Rc;

use jiff::Timestamp;
use serde_json::{Map, Value};

/// A value during evaluation. Cheap to clone: large parts are shared.
#[derive(Debug, Clone)]
pub(super) enum Val {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Rc<str>),
    List(Rc<Vec<Val>>),
    Map(Rc<Map<String, Value>>),
    /// `java.util.Date`
    Date(Timestamp),
    /// Joda-Time's `DateTime`, always in UTC here.
    DateTime(Timestamp),
    /// A Spin JSON node.
    Spin(Rc<Value>),
    Execution,
    Task,
}

impl Val {
    pub fn str(s: impl Into<Rc<str>>) -> Val {
        Val::Str(s.into())
    }

    /// A JSON variable as EL sees it.
    pub fn from_json(v: Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Long(i),
                // Beyond a Long (large unsigned) or fractional: a Double.
                None => Val::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Val::Str(s.into()),
            Value::Array(items) => {
                Val::List(Rc::new(items.into_iter().map(Val::from_json).collect()))
            }
            Value::Object(map) => Val::Map(Rc::new(map)),
        }
    }

    /// The value as JSON, for results and for `setVariable`.
    pub fn to_json(&self) -> Result<Value, String> {
        Ok(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Long(n) => Value::from(*n),
            Val::Double(d) => match serde_json::Number::from_f64(*d) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(format!(
                        "the result {} is not a number JSON can hold",
                        format_double(*d)
                    ));
                }
            },
            Val::Str(s) => Value::String(s.to_string()),
            Val::List(items) => {
                Value::Array(items.iter().map(Val::to_json).collect::<Result<_, _>>()?)
            }
            Val::Map(map) => Value::Object(map.as_ref().clone()),
            Val::Date(t) | Val::DateTime(t) => Value::String(iso(*t)),
            Val::Spin(v) => v.as_ref().clone(),
            Val::Execution => return Err("the execution object cannot be stored as a value".into()),
            Val::Task => return Err("the task object cannot be stored as a value".into()),
        })
    }

    /// The class name messages use (Java's simple names).
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "Boolean",
            Val::Long(_) => "Long",
            Val::Double(_) => "Double",
            Val::Str(_) => "String",
            Val::List(_) => "List",
            Val::Map(_) => "Map",
            Val::Date(_) => "Date",
            Val::DateTime(_) => "DateTime",
            Val::Spin(_) => "SpinJsonNode",
            Val::Execution => "execution",
            Val::Task => "task",
        }
    }

    /// The value as a message quotes it: strings in quotes, everything
    /// shortened.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        let complete = write_val(self, &mut text, 200).is_ok();
        let short: String = text.chars().take(40).collect();
        let short = if !complete || short.len() < text.len() {
            format!("{short}...")
        } else {
            short
        };
        match self {
            Val::Str(_) => format!("'{short}'"),
            _ => short,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }
}

fn cannot_coerce(v: &Val, to: &str) -> String {
    format!(
        "Cannot coerce {} of class {} to {to}",
        v.describe(),
        v.type_name()
    )
}

/// A string that EL's arithmetic treats as a floating point number
/// (`NumberOperations.isDotEe`).
pub(super) fn is_dot_e(v: &Val) -> bool {
    matches!(v, Val::Str(s) if s.contains(['.', 'e', 'E']))
}

/// Coercion to Long: null and "" are 0, numbers are cast (Java's `(long)`),
/// strings parsed by `Long.valueOf`.
pub(super) fn to_long(v: &Val) -> Result<i64, String> {
    match v {
        Val::Null => Ok(0),
        Val::Str(s) if s.is_empty() => Ok(0),
        Val::Long(n) => Ok(*n),
        // Rust's `as` saturates and maps NaN to 0, like Java's (long) cast.
        Val::Double(d) => Ok(*d as i64),
        Val::Str(s) => parse_java_long(s).ok_or_else(|| cannot_coerce(v, "Long")),
        _ => Err(cannot_coerce(v, "Long")),
    }
}

/// Coercion to Integer (method arguments, list indexes): like Long, then
/// narrowed as Java's `Number.intValue()` does.
pub(super) fn to_int(v: &Val) -> Result<i32, String> {
    match v {
        // Java's (int) of a double saturates; of a long it wraps.
        Val::Double(d) => Ok(*d as i32),
        Val::Str(s) if !s.is_empty() => parse_java_long(s)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| cannot_coerce(v, "Integer")),
        _ => to_long(v)
            .map(|n| n as i32)
            .map_err(|_| cannot_coerce(v, "Integer")),
    }
}

/// Coercion to Double: null and "" are 0, strings parsed by `Double.valueOf`.
pub(super) fn to_double(v: &Val) -> Result<f64, String> {
    match v {
        Val::Null => Ok(0.0),
        Val::Str(s) if s.is_empty() => Ok(0.0),
        Val::Long(n) => Ok(*n as f64),
        Val::Double(d) => Ok(*d),
        Val::Str(s) => parse_java_double(s).ok_or_else(|| cannot_coerce(v, "Double")),
        _ => Err(cannot_coerce(v, "Double")),
    }
}

/// Coercion to Boolean: null and "" are false, a string is true exactly when
/// it is "true" in any case; numbers and other objects cannot be coerced.
pub(super) fn to_bool(v: &Val) -> Result<bool, String> {
    match v {
        Val::Null => Ok(false),
        Val::Bool(b) => Ok(*b),
        Val::Str(s) => Ok(s.eq_ignore_ascii_case("true")),
        _ => Err(cannot_coerce(v, "Boolean")),
    }
}

/// Coercion to String: null is "", everything else its Java `toString()`.
/// Fails when the text would be longer than `limit` bytes.
pub(super) fn to_text(v: &Val, limit: usize) -> Result<Rc<str>, String> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        Val::Null => Ok("".into()),
        _ => java_string(v, limit).map(Into::into),
    }
}

/// `Long.valueOf(String)`: an optional sign and ASCII digits, nothing else.
pub(super) fn parse_java_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Rust accepts the same leading '+' and '-'.
    s.parse().ok()
}

/// `Double.valueOf(String)`: surrounding control characters and spaces are
/// ignored; an optional sign, then `NaN`, `Infinity`, or decimal digits with
/// an optional point and exponent and an optional `f`/`d` suffix.
/// (Hexadecimal floating point literals are not accepted.)
pub(super) fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let magnitude = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let body = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            let b = body.as_bytes();
            let mut i = 0;
            let int_digits = count_digits(b, &mut i);
            let mut frac_digits = 0;
            if b.get(i) == Some(&b'.') {
                i += 1;
                frac_digits = count_digits(b, &mut i);
            }
            if int_digits + frac_digits == 0 {
                return None;
            }
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                if count_digits(b, &mut i) == 0 {
                    return None;
                }
            }
            if i != b.len() {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn count_digits(b: &[u8], i: &mut usize) -> usize {
    let start = *i;
    while b.get(*i).is_some_and(u8::is_ascii_digit) {
        *i += 1;
    }
    *i - start
}

/// `Double.toString`: the shortest digits that read back as the same double
/// (as Java 19 and later print them), in plain notation from 10^-3 up to
/// 10^7 and in computerized scientific notation (`1.0E10`) outside.
pub(super) fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if d.is_sign_negative() { "-" } else { "" };
    if d == 0.0 {
        return format!("{sign}0.0");
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e3", "5e-324".
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-3..7).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let point = exp as usize + 1;
            if digits.len() > point {
                format!("{sign}{}.{}", &digits[..point], &digits[point..])
            } else {
                let zeros = "0".repeat(point - digits.len());
                format!("{sign}{digits}{zeros}.0")
            }
        }
    } else {
        let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{rest}E{exp}", &digits[..1])
    }
}

/// A date as text: ISO 8601 in UTC with milliseconds, as Joda-Time prints a
/// `DateTime` (`2026-03-03T10:00:00.000Z`).
pub(super) fn iso(t: Timestamp) -> String {
    let z = t.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let year = i32::from(z.year());
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+05}")
    };
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        z.month(),
        z.day(),
        z.hour(),
        z.minute(),
        z.second(),
        z.millisecond()
    )
}

/// Java's `toString()` of a value: lists as `[a, b]`, maps as `{k=v}`,
/// numbers as Java prints them. Fails past `limit` bytes.
pub(super) fn java_string(v: &Val, limit: usize) -> Result<String, String> {
    let mut out = String::new();
    write_val(v, &mut out, limit)?;
    Ok(out)
}

fn too_long(limit: usize) -> String {
    format!("the text would be longer than {limit} bytes")
}

/// Appends `s`, or as much of it as fits (for messages that quote a
/// prefix) and fails.
fn push(out: &mut String, s: &str, limit: usize) -> Result<(), String> {
    if out.len() + s.len() > limit {
        let mut cut = limit.saturating_sub(out.len()).min(s.len());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&s[..cut]);
        return Err(too_long(limit));
    }
    out.push_str(s);
    Ok(())
}

fn write_val(v: &Val, out: &mut String, limit: usize) -> Result<(), String> {
    match v {
        Val::Null => push(out, "null", limit),
        Val::Bool(b) => push(out, if *b { "true" } else { "false" }, limit),
        Val::Long(n) => push(out, &n.to_string(), limit),
        Val::Double(d) => push(out, &format_double(*d), limit),
        Val::Str(s) => push(out, s, limit),
        Val::List(items) => {
            push(out, "[", limit)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    push(out, ", ", limit)?;
                }
                write_val(item, out, limit)?;
            }
            push(out, "]", limit)
        }
        Val::Map(map) => write_map(map, out, limit),
        Val::Date(t) | Val::DateTime(t) => push(out, &iso(*t), limit),
        Val::Spin(json) => {
            let text = serde_json::to_string(json.as_ref()).map_err(|e| e.to_string())?;
            push(out, &text, limit)
        }
        Val::Execution => push(out, "execution", limit),
        Val::Task => push(out, "task", limit),
    }
}

/// Java's `AbstractMap.toString()`: `{k=v, k2=v2}`.
fn write_map(map: &Map<String, Value>, out: &mut String, limit: usize) -> Result<(), String> {
    push(out, "{", limit)?;
    for (i, (k, item)) in map.iter().enumerate() {
        if i > 0 {
            push(out, ", ", limit)?;
        }
        push(out, k, limit)?;
        push(out, "=", limit)?;
        write_json_java(item, out, limit)?;
    }
    push(out, "}", limit)
}

/// Java's `toString()` of a JSON value held in a map.
fn write_json_java(v: &Value, out: &mut String, limit: usize) -> Result<(), String> {
    match v {
        Value::Array(items) => {
            push(out, "[", limit)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    push(out, ", ", limit)?;
                }
                write_json_java(item, out, limit)?;
            }
            push(out, "]", limit)
        }
        Value::Object(map) => write_map(map, out, limit),
        Value::String(s) => push(out, s, limit),
        scalar => write_val(&Val::from_json(scalar.clone()), out, limit),
    }
}

/// Java's `equals`: no coercion; a Long never equals a Double, and doubles
/// compare as `Double.equals` does (NaN equals NaN, 0.0 differs from -0.0).
pub(super) fn java_equals(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Long(x), Val::Long(y)) => x == y,
        (Val::Double(x), Val::Double(y)) => double_equals(*x, *y),
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| java_equals(p, q))
        }
        (Val::Map(x), Val::Map(y)) => x == y,
        (Val::Date(x), Val::Date(y)) | (Val::DateTime(x), Val::DateTime(y)) => x == y,
        (Val::Spin(x), Val::Spin(y)) => x == y,
        (Val::Execution, Val::Execution) | (Val::Task, Val::Task) => true,
        _ => false,
    }
}

/// `Double.equals`: compares the bits, with every NaN the same.
pub(super) fn double_equals(x: f64, y: f64) -> bool {
    (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
}

/// Java's `String.compareTo`: by UTF-16 code units.
pub(super) fn compare_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}
