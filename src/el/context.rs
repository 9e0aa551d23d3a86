//! What Camunda puts in reach of an expression besides variables: the
//! `execution` and `task` objects (read and changed through [`Bindings`]),
//! the functions `now()` (a `java.util.Date`), `dateTime()` (a Joda-Time
//! `DateTime`) and Spin's `S()`/`JSON()`, and the methods and bean
//! properties of those objects.
//!
//! Dates live in UTC: the engine has no other time zone to offer, and
//! Joda-Time's calendar arithmetic (`plusMonths` keeps the day of the month
//! where it can and clamps it at the month's end) is jiff's in UTC.

use std::rc::Rc;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde_json::Value;

use super::eval::Evaluator;
use super::parser::Func;
use super::value::{Val, iso, to_int, to_text};
use crate::bindings::Bindings;

/// `now()`, `dateTime()`, `S(x)` / `JSON(x)`.
pub(super) fn function(ev: &mut Evaluator<'_>, func: Func, args: Vec<Val>) -> Result<Val, String> {
    match func {
        Func::Now => Ok(Val::Date(ev.bindings.now())),
        Func::DateTime => Ok(Val::DateTime(ev.bindings.now())),
        Func::Spin => {
            let input = args.into_iter().next().unwrap_or(Val::Null);
            match input {
                Val::Null => Err("S(): the input is null".into()),
                Val::Spin(_) => Ok(input),
                Val::Str(text) => serde_json::from_str::<Value>(&text)
                    .map(|v| Val::Spin(Rc::new(v)))
                    .map_err(|e| format!("S(): the text is not JSON ({e})")),
                other => Ok(Val::Spin(Rc::new(other.to_json()?))),
            }
        }
    }
}

/// Java's `Introspector.decapitalize`: `ProcessInstanceId` becomes
/// `processInstanceId`, but `URL` stays `URL`.
fn decapitalize(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_uppercase() => name.to_string(),
        (Some(a), _) => a
            .to_lowercase()
            .chain(name[a.len_utf8()..].chars())
            .collect(),
        _ => String::new(),
    }
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(a) => a.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The bean property a getter or setter name stands for: `getId` and
/// `setAssignee` give `id` and `assignee`.
fn accessor<'n>(name: &'n str, prefix: &str) -> Option<String> {
    let rest: &'n str = name.strip_prefix(prefix)?;
    rest.chars()
        .next()
        .filter(|c| c.is_uppercase())
        .map(|_| decapitalize(rest))
}

/// A property of `base` (not a map or list) read with `.` or `[]`.
pub(super) fn property(ev: &mut Evaluator<'_>, base: Val, name: &str) -> Result<Val, String> {
    let cannot = |base: &Val| format!("Cannot resolve property '{name}' of {}", base.type_name());
    match &base {
        Val::Str(s) => match name {
            "empty" => Ok(Val::Bool(s.is_empty())),
            _ => Err(cannot(&base)),
        },
        Val::Execution => match name {
            "variables" => Ok(Val::Map(Rc::new(ev.bindings.variables()))),
            _ => execution_property(ev.bindings, name)
                .map(Val::from_json)
                .ok_or_else(|| cannot(&base)),
        },
        Val::Task => match name {
            "execution" => Ok(Val::Execution),
            "variables" => Ok(Val::Map(Rc::new(ev.bindings.variables()))),
            _ => ev
                .bindings
                .task(name)
                .map(Val::from_json)
                .ok_or_else(|| cannot(&base)),
        },
        Val::Date(_) | Val::DateTime(_) | Val::Spin(_) => {
            // A bean property is its getter: `now().time` is `getTime()`.
            for getter in [
                format!("get{}", capitalize(name)),
                format!("is{}", capitalize(name)),
            ] {
                if let Some(v) = method(ev, &base, &getter, &[])? {
                    return Ok(v);
                }
            }
            Err(cannot(&base))
        }
        _ => Err(cannot(&base)),
    }
}

/// A property of `execution`, under either of Camunda's names for it.
fn execution_property(b: &dyn Bindings, name: &str) -> Option<Value> {
    let alias = match name {
        "businessKey" => "processBusinessKey",
        "processBusinessKey" => "businessKey",
        "activityId" => "currentActivityId",
        "currentActivityId" => "activityId",
        "activityName" => "currentActivityName",
        "currentActivityName" => "activityName",
        _ => name,
    };
    b.execution(name).or_else(|| b.execution(alias))
}

/// A method of a Date, DateTime, Spin node, execution or task; `None` when
/// it has no such method.
pub(super) fn method(
    ev: &mut Evaluator<'_>,
    base: &Val,
    name: &str,
    args: &[Val],
) -> Result<Option<Val>, String> {
    let limit = ev.limits.max_text_bytes;
    match base {
        Val::Execution => {
            if let Some(v) = variable_method(ev.bindings, name, args, limit)? {
                return Ok(Some(v));
            }
            match (accessor(name, "get"), args) {
                (Some(property), []) => execution_property(ev.bindings, &property)
                    .map(|v| Some(Val::from_json(v)))
                    .ok_or_else(|| format!("Cannot resolve property '{property}' of execution")),
                _ => Ok(None),
            }
        }
        Val::Task => {
            if let Some(v) = variable_method(ev.bindings, name, args, limit)? {
                return Ok(Some(v));
            }
            if name == "getExecution" && args.is_empty() {
                return Ok(Some(Val::Execution));
            }
            if let (Some(property), [value]) = (accessor(name, "set"), args) {
                ev.bindings.set_task(&property, value.to_json()?)?;
                return Ok(Some(Val::Null));
            }
            match (accessor(name, "get"), args) {
                (Some(property), []) => ev
                    .bindings
                    .task(&property)
                    .map(|v| Some(Val::from_json(v)))
                    .ok_or_else(|| format!("Cannot resolve property '{property}' of task")),
                _ => Ok(None),
            }
        }
        Val::Date(t) => date_method(*t, name, args),
        Val::DateTime(t) => {
            let now = ev.bindings.now();
            date_time_method(*t, now, name, args, limit)
        }
        Val::Spin(json) => spin_method(json, name, args, limit),
        _ => Ok(None),
    }
}

fn variable_name(v: &Val, limit: usize) -> Result<String, String> {
    if v.is_null() {
        return Err("the variable name is null".into());
    }
    Ok(to_text(v, limit)?.to_string())
}

/// The variable methods `execution` and `task` share.
fn variable_method(
    b: &mut dyn Bindings,
    name: &str,
    args: &[Val],
    limit: usize,
) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("getVariable", [n]) => b
            .variable(&variable_name(n, limit)?)
            .map_or(Val::Null, Val::from_json),
        ("getVariableLocal", [n]) => b
            .variable_local(&variable_name(n, limit)?)
            .map_or(Val::Null, Val::from_json),
        ("hasVariable", [n]) => Val::Bool(b.variable(&variable_name(n, limit)?).is_some()),
        ("hasVariableLocal", [n]) => {
            Val::Bool(b.variable_local(&variable_name(n, limit)?).is_some())
        }
        ("hasVariables", []) => Val::Bool(!b.variables().is_empty()),
        ("getVariables", []) => Val::Map(Rc::new(b.variables())),
        ("getVariableNames", []) => Val::List(Rc::new(
            b.variables().keys().map(|k| Val::str(k.as_str())).collect(),
        )),
        ("setVariable", [n, v]) => {
            b.set_variable(&variable_name(n, limit)?, v.to_json()?, false)?;
            Val::Null
        }
        ("setVariableLocal", [n, v]) => {
            b.set_variable(&variable_name(n, limit)?, v.to_json()?, true)?;
            Val::Null
        }
        _ => return Ok(None),
    }))
}

/// A `Date` argument (Java passes no coercion for it); null fails.
fn date_arg(v: &Val, method: &str, accept_date_time: bool) -> Result<Timestamp, String> {
    match v {
        Val::Date(t) if !accept_date_time => Ok(*t),
        Val::DateTime(t) if accept_date_time => Ok(*t),
        Val::Null => Err(format!("argument 1 of {method}() is null")),
        other => Err(format!(
            "Cannot coerce {} of class {} to {}",
            other.describe(),
            other.type_name(),
            if accept_date_time { "DateTime" } else { "Date" }
        )),
    }
}

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn date_method(t: Timestamp, name: &str, args: &[Val]) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("getTime", []) => Val::Long(millis(t)),
        ("before", [d]) => Val::Bool(t < date_arg(d, name, false)?),
        ("after", [d]) => Val::Bool(t > date_arg(d, name, false)?),
        ("compareTo", [d]) => Val::Long(t.cmp(&date_arg(d, name, false)?) as i64),
        _ => return Ok(None),
    }))
}

/// Moves a date by `n` of a calendar or clock unit, in UTC.
fn shift(t: Timestamp, unit: &str, n: i64) -> Result<Timestamp, String> {
    let span = match unit {
        "Years" => Span::new().try_years(n),
        "Months" => Span::new().try_months(n),
        "Weeks" => Span::new().try_weeks(n),
        "Days" => Span::new().try_days(n),
        "Hours" => Span::new().try_hours(n),
        "Minutes" => Span::new().try_minutes(n),
        "Seconds" => Span::new().try_seconds(n),
        _ => Span::new().try_milliseconds(n),
    }
    .map_err(|_| format!("{n} {} is out of range", unit.to_lowercase()))?;
    t.to_zoned_datetime(TimeZone::UTC)
        .checked_add(span)
        .map(|z| z.timestamp())
        .map_err(|_| "the date would be out of range".to_string())
}

fn date_time_method(
    t: Timestamp,
    now: Timestamp,
    name: &str,
    args: &[Val],
    limit: usize,
) -> Result<Option<Val>, String> {
    const UNITS: [&str; 8] = [
        "Years", "Months", "Weeks", "Days", "Hours", "Minutes", "Seconds", "Millis",
    ];
    if let [n] = args {
        for (prefix, sign) in [("plus", 1), ("minus", -1)] {
            if let Some(unit) = name.strip_prefix(prefix)
                && UNITS.contains(&unit)
            {
                let n = i64::from(to_int(n)?) * sign;
                return Ok(Some(Val::DateTime(shift(t, unit, n)?)));
            }
        }
    }
    let z = t.to_zoned_datetime(TimeZone::UTC);
    // Joda treats a null instant as now.
    let instant = |v: &Val| match v {
        Val::Null => Ok(now),
        other => date_arg(other, name, true),
    };
    Ok(Some(match (name, args) {
        ("toDate", []) => Val::Date(t),
        ("getMillis", []) => Val::Long(millis(t)),
        ("toString", []) => Val::str(iso(t)),
        ("toString", [pattern]) => {
            if pattern.is_null() {
                Val::str(iso(t))
            } else {
                Val::str(joda_format(&z, &to_text(pattern, limit)?)?)
            }
        }
        ("isBefore", [d]) => Val::Bool(t < instant(d)?),
        ("isAfter", [d]) => Val::Bool(t > instant(d)?),
        ("isEqual", [d]) => Val::Bool(t == instant(d)?),
        ("isBeforeNow", []) => Val::Bool(t < now),
        ("isAfterNow", []) => Val::Bool(t > now),
        ("isEqualNow", []) => Val::Bool(t == now),
        ("compareTo", [d]) => Val::Long(t.cmp(&date_arg(d, name, true)?) as i64),
        ("getYear", []) => Val::Long(i64::from(z.year())),
        ("getMonthOfYear", []) => Val::Long(i64::from(z.month())),
        ("getDayOfMonth", []) => Val::Long(i64::from(z.day())),
        ("getDayOfYear", []) => Val::Long(i64::from(z.day_of_year())),
        ("getDayOfWeek", []) => Val::Long(i64::from(z.weekday().to_monday_one_offset())),
        ("getHourOfDay", []) => Val::Long(i64::from(z.hour())),
        ("getMinuteOfHour", []) => Val::Long(i64::from(z.minute())),
        ("getSecondOfMinute", []) => Val::Long(i64::from(z.second())),
        ("getMillisOfSecond", []) => Val::Long(i64::from(z.millisecond())),
        ("withTimeAtStartOfDay", []) => Val::DateTime(
            z.start_of_day()
                .map_err(|_| "the date would be out of range".to_string())?
                .timestamp(),
        ),
        _ => return Ok(None),
    }))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Joda-Time's `DateTime.toString(pattern)` for the common pattern letters
/// (`yyyy-MM-dd HH:mm:ss.SSS`, `EEE`, `MMMM`, `a`, `Z`, quoted text), with
/// English names.
fn joda_format(z: &jiff::ZonedDateTime, pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; 'text' is literal text.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                out.push(chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut count = 1;
        while chars.get(i + count) == Some(&c) {
            count += 1;
        }
        i += count;
        let num = |n: i64| format!("{n:0count$}");
        let hour = i64::from(z.hour());
        let weekday = usize::try_from(z.weekday().to_monday_one_offset() - 1).unwrap_or(0);
        let month = usize::try_from(z.month() - 1).unwrap_or(0);
        let piece = match c {
            'y' | 'Y' if count == 2 => format!("{:02}", i64::from(z.year()).rem_euclid(100)),
            'y' | 'Y' => num(i64::from(z.year())),
            'M' if count >= 4 => MONTHS[month].to_string(),
            'M' if count == 3 => MONTHS[month][..3].to_string(),
            'M' => num(i64::from(z.month())),
            'd' => num(i64::from(z.day())),
            'D' => num(i64::from(z.day_of_year())),
            'E' if count >= 4 => DAYS[weekday].to_string(),
            'E' => DAYS[weekday][..3].to_string(),
            'e' => num(weekday as i64 + 1),
            'a' => if hour < 12 { "AM" } else { "PM" }.to_string(),
            'H' => num(hour),
            'k' => num(if hour == 0 { 24 } else { hour }),
            'K' => num(hour % 12),
            'h' => num(if hour % 12 == 0 { 12 } else { hour % 12 }),
            'm' => num(i64::from(z.minute())),
            's' => num(i64::from(z.second())),
            'S' => {
                let mut fraction = format!("{:03}", z.millisecond());
                while fraction.len() < count {
                    fraction.push('0');
                }
                fraction[..count].to_string()
            }
            'Z' if count == 1 => "+0000".to_string(),
            'Z' if count == 2 => "+00:00".to_string(),
            'Z' | 'z' => "UTC".to_string(),
            other => {
                return Err(format!(
                    "the date pattern letter '{other}' is not supported"
                ));
            }
        };
        out.push_str(&piece);
    }
    Ok(out)
}

/// Jackson's names for JSON node types, as Spin's messages use them.
fn node_type(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "OBJECT",
        Value::Array(_) => "ARRAY",
        Value::String(_) => "STRING",
        Value::Number(_) => "NUMBER",
        Value::Bool(_) => "BOOLEAN",
        Value::Null => "NULL",
    }
}

fn spin_method(
    json: &Rc<Value>,
    name: &str,
    args: &[Val],
    limit: usize,
) -> Result<Option<Val>, String> {
    let v = json.as_ref();
    let expected = |what: &str| format!("Expected '{what}', got '{}'", node_type(v));
    Ok(Some(match (name, args) {
        ("prop", [n]) => {
            if n.is_null() {
                return Err("argument 1 of prop() is null".into());
            }
            let key = to_text(n, limit)?;
            match v.get(&*key) {
                Some(child) if v.is_object() => Val::Spin(Rc::new(child.clone())),
                _ => return Err(format!("Unable to find property '{key}'")),
            }
        }
        ("hasProp", [n]) => {
            let key = to_text(n, limit)?;
            Val::Bool(v.is_object() && v.get(&*key).is_some())
        }
        ("stringValue", []) => match v {
            Value::String(s) => Val::str(s.as_str()),
            _ => return Err(expected("String")),
        },
        ("numberValue", []) => match v {
            Value::Number(_) => Val::from_json(v.clone()),
            _ => return Err(expected("Number")),
        },
        ("boolValue", []) => match v {
            Value::Bool(b) => Val::Bool(*b),
            _ => return Err(expected("Boolean")),
        },
        ("value", []) => match v {
            Value::Array(_) | Value::Object(_) => {
                return Err(expected("String/Number/Boolean/Null"));
            }
            scalar => Val::from_json(scalar.clone()),
        },
        ("elements", []) => match v {
            Value::Array(items) => Val::List(Rc::new(
                items
                    .iter()
                    .map(|i| Val::Spin(Rc::new(i.clone())))
                    .collect(),
            )),
            _ => return Err(expected("SpinList")),
        },
        ("fieldNames", []) => match v {
            Value::Object(map) => {
                Val::List(Rc::new(map.keys().map(|k| Val::str(k.as_str())).collect()))
            }
            Value::Array(_) => Val::List(Rc::new(Vec::new())),
            _ => return Err(expected("Array/Object")),
        },
        ("contains", [x]) => match v {
            Value::Array(items) => {
                let wanted = x.to_json()?;
                Val::Bool(items.contains(&wanted))
            }
            _ => return Err(format!("Unable to get index from '{}'", node_type(v))),
        },
        ("isObject", []) => Val::Bool(v.is_object()),
        ("isArray", []) => Val::Bool(v.is_array()),
        ("isString", []) => Val::Bool(v.is_string()),
        ("isNumber", []) => Val::Bool(v.is_number()),
        ("isBoolean", []) => Val::Bool(v.is_boolean()),
        ("isNull", []) => Val::Bool(v.is_null()),
        ("isValue", []) => Val::Bool(!v.is_array() && !v.is_object()),
        ("getNodeType", []) => Val::str(node_type(v)),
        ("jsonPath", _) | ("mapTo", _) => {
            return Err(format!("Spin's {name}() is not supported"));
        }
        _ => return Ok(None),
    }))
}

/// Camunda's context objects, as the script engines reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextObject {
    /// `execution`.
    Execution,
    /// `task`, in task listeners.
    Task,
}

/// A member of `execution` or `task` used from a script: a method call
/// (`args` given) or a property read, resolved exactly as EL resolves it —
/// the same names, aliases, getters and setters, through the same
/// [`Bindings`]. Values go in and out as JSON.
pub fn context_member(
    bindings: &mut dyn Bindings,
    object: ContextObject,
    name: &str,
    args: Option<&[Value]>,
) -> Result<Value, String> {
    let limits = super::Limits::default();
    let mut ev = Evaluator::new(bindings, "", &limits);
    let (base, label) = match object {
        ContextObject::Execution => (Val::Execution, "execution"),
        ContextObject::Task => (Val::Task, "task"),
    };
    let value = match args {
        Some(args) => {
            let args: Vec<Val> = args.iter().cloned().map(Val::from_json).collect();
            method(&mut ev, &base, name, &args)?.ok_or_else(|| {
                format!(
                    "{label} has no method {name}() taking {} arguments",
                    args.len()
                )
            })?
        }
        None => property(&mut ev, base, name)?,
    };
    value.to_json()
}
