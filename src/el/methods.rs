//! Method calls on strings, lists, maps, numbers and booleans, with the
//! semantics of the Java methods they stand for (`String.substring`,
//! `List.get`, `Map.containsKey`, ...). Arguments are coerced to the Java
//! parameter types as EL's `BeanELResolver` does: a `String` parameter takes
//! any value's text, an `int` parameter a number or a numeric string, and a
//! null argument stays null (so `'a'.concat(null)` fails, as in Java).
//!
//! Strings are indexed in UTF-16 code units, as in Java.

use std::rc::Rc;

use super::eval::Evaluator;
use super::value::{
    Val, double_equals, format_double, java_equals, java_string, to_double, to_int, to_long,
    to_text,
};
use super::{ElError, context};

/// Every method a variable's value (a string, list, map, number or boolean)
/// has: a call of any other method on a variable can only be meant for a
/// Java bean.
pub(super) const VALUE_METHODS: &[&str] = &[
    "booleanValue",
    "compareTo",
    "concat",
    "contains",
    "containsKey",
    "containsValue",
    "doubleValue",
    "endsWith",
    "equals",
    "equalsIgnoreCase",
    "get",
    "getOrDefault",
    "indexOf",
    "intValue",
    "isBlank",
    "isEmpty",
    "isInfinite",
    "isNaN",
    "keySet",
    "lastIndexOf",
    "length",
    "longValue",
    "matches",
    "replace",
    "replaceAll",
    "replaceFirst",
    "size",
    "split",
    "startsWith",
    "substring",
    "toLowerCase",
    "toString",
    "toUpperCase",
    "trim",
    "values",
];

/// Calls `name` on a non-null `base`.
pub(super) fn call(
    ev: &mut Evaluator<'_>,
    base: Val,
    name: &str,
    args: Vec<Val>,
    at: usize,
) -> Result<Val, ElError> {
    let size = match &base {
        Val::Str(s) => s.len(),
        Val::List(items) => items.len(),
        Val::Map(map) => map.len(),
        _ => 0,
    };
    ev.charge_size(size, at)?;
    let limits = ev.limits;
    let found = match &base {
        Val::Str(s) => string_method(s, name, &args, limits.max_text_bytes, limits.max_items),
        Val::List(items) => list_method(items, name, &args),
        Val::Map(map) => map_method(map, name, &args, limits.max_items),
        Val::Long(n) => long_method(*n, name, &args),
        Val::Double(d) => double_method(*d, name, &args),
        Val::Bool(b) => bool_method(*b, name, &args),
        _ => context::method(ev, &base, name, &args),
    };
    let found = match found {
        Ok(None) => common_method(&base, name, &args, limits.max_text_bytes),
        other => other,
    };
    match found {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(ev.err(at, not_found(&base, name, args.len()))),
        Err(m) => Err(ev.err(at, m)),
    }
}

fn not_found(base: &Val, name: &str, count: usize) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!(
        "Cannot find method '{name}' with {count} argument{plural} in {}",
        base.type_name()
    )
}

/// What every object has: `toString()` and `equals(Object)`.
fn common_method(
    base: &Val,
    name: &str,
    args: &[Val],
    limit: usize,
) -> Result<Option<Val>, String> {
    Ok(match (name, args) {
        ("toString", []) => Some(Val::str(java_string(base, limit)?)),
        ("equals", [other]) => Some(Val::Bool(java_equals(base, other))),
        _ => None,
    })
}

/// A `String` parameter: the argument's text, or None for null (Java's
/// methods mostly fail on it).
fn string_arg(v: &Val, limit: usize) -> Result<Option<Rc<str>>, String> {
    if v.is_null() {
        Ok(None)
    } else {
        to_text(v, limit).map(Some)
    }
}

fn required(v: Option<Rc<str>>, method: &str, n: usize) -> Result<Rc<str>, String> {
    v.ok_or_else(|| format!("argument {n} of {method}() is null"))
}

/// A `CharSequence` parameter: only strings fit (EL coerces to String only
/// when the parameter is declared `String`).
fn char_sequence_arg(v: &Val, method: &str, n: usize) -> Result<Rc<str>, String> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        Val::Null => Err(format!("argument {n} of {method}() is null")),
        other => Err(format!(
            "Cannot coerce {} of class {} to CharSequence",
            other.describe(),
            other.type_name()
        )),
    }
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_utf16(units: &[u16]) -> Val {
    Val::str(String::from_utf16_lossy(units))
}

/// `String.indexOf(str, from)` in UTF-16 units.
fn index_of(hay: &[u16], needle: &[u16], from: i32) -> i64 {
    let from = from.max(0) as usize;
    if needle.is_empty() {
        return from.min(hay.len()) as i64;
    }
    if from >= hay.len() || needle.len() > hay.len() {
        return -1;
    }
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map_or(-1, |i| i as i64)
}

fn last_index_of(hay: &[u16], needle: &[u16]) -> i64 {
    if needle.len() > hay.len() {
        return -1;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map_or(-1, |i| i as i64)
}

/// Java's `Character.isWhitespace` for `isBlank()`.
fn java_whitespace(c: char) -> bool {
    (c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}'))
        || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Java's `Character.toUpperCase(char)`: a one-to-one mapping.
fn upper1(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower1(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `String.equalsIgnoreCase`: same length, and each pair of characters the
/// same after upper-casing (or lower-casing the upper case) one by one.
fn equals_ignore_case(a: &str, b: &str) -> bool {
    a.encode_utf16().count() == b.encode_utf16().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y || upper1(x) == upper1(y) || lower1(upper1(x)) == lower1(upper1(y))
        })
}

fn check_len(s: String, limit: usize) -> Result<Val, String> {
    if s.len() > limit {
        Err(format!("the text would be longer than {limit} bytes"))
    } else {
        Ok(Val::str(s))
    }
}

fn string_method(
    s: &Rc<str>,
    name: &str,
    args: &[Val],
    limit: usize,
    max_items: usize,
) -> Result<Option<Val>, String> {
    let text: &str = s;
    Ok(Some(match (name, args) {
        ("length", []) => Val::Long(text.encode_utf16().count() as i64),
        ("isEmpty", []) => Val::Bool(text.is_empty()),
        ("isBlank", []) => Val::Bool(text.chars().all(java_whitespace)),
        // Java's trim removes every character up to U+0020 at both ends.
        ("trim", []) => Val::str(text.trim_matches(|c: char| c <= ' ')),
        ("toUpperCase", []) => check_len(text.to_uppercase(), limit)?,
        ("toLowerCase", []) => check_len(text.to_lowercase(), limit)?,
        ("contains", [x]) => Val::Bool(text.contains(&*char_sequence_arg(x, name, 1)?)),
        ("startsWith", [x]) => {
            Val::Bool(text.starts_with(&*required(string_arg(x, limit)?, name, 1)?))
        }
        ("startsWith", [x, offset]) => {
            let prefix = utf16(&required(string_arg(x, limit)?, name, 1)?);
            let offset = to_int(offset)?;
            let hay = utf16(text);
            let fits = offset >= 0 && (offset as usize) + prefix.len() <= hay.len();
            Val::Bool(fits && hay[offset as usize..offset as usize + prefix.len()] == *prefix)
        }
        ("endsWith", [x]) => Val::Bool(text.ends_with(&*required(string_arg(x, limit)?, name, 1)?)),
        ("indexOf", [x]) => {
            let needle = required(string_arg(x, limit)?, name, 1)?;
            Val::Long(index_of(&utf16(text), &utf16(&needle), 0))
        }
        ("indexOf", [x, from]) => {
            let needle = required(string_arg(x, limit)?, name, 1)?;
            Val::Long(index_of(&utf16(text), &utf16(&needle), to_int(from)?))
        }
        ("lastIndexOf", [x]) => {
            let needle = required(string_arg(x, limit)?, name, 1)?;
            Val::Long(last_index_of(&utf16(text), &utf16(&needle)))
        }
        ("substring", [begin]) => {
            let units = utf16(text);
            let b = to_int(begin)?;
            substring(&units, b, units.len() as i64)?
        }
        ("substring", [begin, end]) => {
            let units = utf16(text);
            substring(&units, to_int(begin)?, i64::from(to_int(end)?))?
        }
        ("replace", [target, replacement]) => {
            let target = char_sequence_arg(target, name, 1)?;
            let replacement = char_sequence_arg(replacement, name, 2)?;
            // Bound the result before building it: replacing in a large text
            // could multiply its size.
            let count = if target.is_empty() {
                text.chars().count() + 1
            } else {
                text.matches(&*target).count()
            };
            let size = text.len() + count.saturating_mul(replacement.len());
            if size > limit + count.saturating_mul(target.len()) {
                return Err(format!("the text would be longer than {limit} bytes"));
            }
            check_len(text.replace(&*target, &replacement), limit)?
        }
        ("concat", [x]) => {
            let tail = required(string_arg(x, limit)?, name, 1)?;
            if text.len() + tail.len() > limit {
                return Err(format!("the text would be longer than {limit} bytes"));
            }
            Val::str(format!("{text}{tail}"))
        }
        ("equalsIgnoreCase", [x]) => match string_arg(x, limit)? {
            Some(other) => Val::Bool(equals_ignore_case(text, &other)),
            None => Val::Bool(false),
        },
        ("compareTo", [x]) => {
            let other = required(string_arg(x, limit)?, name, 1)?;
            Val::Long(java_compare_to(text, &other))
        }
        ("split", [regex]) => split(
            text,
            &required(string_arg(regex, limit)?, name, 1)?,
            0,
            max_items,
        )?,
        ("split", [regex, n]) => split(
            text,
            &required(string_arg(regex, limit)?, name, 1)?,
            to_int(n)?,
            max_items,
        )?,
        ("matches" | "replaceAll" | "replaceFirst", _) => {
            return Err(format!(
                "{name}() takes a regular expression, and regular expressions are not supported; use contains(), replace() or split() with plain text"
            ));
        }
        _ => return Ok(None),
    }))
}

/// `String.compareTo`: the difference of the first differing UTF-16 units,
/// or of the lengths.
fn java_compare_to(a: &str, b: &str) -> i64 {
    let (x, y) = (utf16(a), utf16(b));
    for (p, q) in x.iter().zip(y.iter()) {
        if p != q {
            return i64::from(*p) - i64::from(*q);
        }
    }
    x.len() as i64 - y.len() as i64
}

fn substring(units: &[u16], begin: i32, end: i64) -> Result<Val, String> {
    let len = units.len() as i64;
    let b = i64::from(begin);
    if b < 0 || end > len || b > end {
        return Err(format!("begin {b}, end {end}, length {len}"));
    }
    Ok(from_utf16(&units[b as usize..end as usize]))
}

/// The separator a `split` pattern stands for, when it is plain text:
/// characters that are not regular expression operators, and operators
/// escaped with a backslash (`\\.`, `\\|`).
fn literal_pattern(regex: &str) -> Option<String> {
    const META: &str = ".$|()[]{}^?*+\\";
    let mut out = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e) if !e.is_ascii_alphanumeric() => out.push(e),
                _ => return None,
            }
        } else if META.contains(c) {
            return None;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `String.split(regex, limit)` for plain-text separators, with Java's
/// rules: no match gives the whole text; a positive limit caps the number
/// of parts; limit 0 drops trailing empty parts.
fn split(text: &str, regex: &str, limit: i32, max_items: usize) -> Result<Val, String> {
    let Some(sep) = literal_pattern(regex) else {
        return Err(format!(
            "split() supports plain-text separators only, not the regular expression '{regex}'"
        ));
    };
    let mut parts: Vec<&str> = Vec::new();
    if text.is_empty() {
        parts.push("");
    } else if sep.is_empty() {
        // Every position matches; the match at the start gives no part.
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
        let mut start = 0;
        for b in bounds {
            if limit > 0 && parts.len() + 1 >= limit as usize {
                break;
            }
            parts.push(&text[start..b]);
            start = b;
        }
        parts.push(&text[start..]);
        if limit < 0 {
            parts.push("");
        }
    } else {
        let mut start = 0;
        while let Some(pos) = text[start..].find(&sep) {
            if limit > 0 && parts.len() + 1 >= limit as usize {
                break;
            }
            parts.push(&text[start..start + pos]);
            start += pos + sep.len();
            if parts.len() > max_items {
                break;
            }
        }
        parts.push(&text[start..]);
    }
    if limit == 0 {
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        if parts.len() == 1 && parts[0].is_empty() && !text.is_empty() {
            parts.pop();
        }
    }
    if parts.len() > max_items {
        return Err(format!("split() would make more than {max_items} parts"));
    }
    Ok(Val::List(Rc::new(
        parts.into_iter().map(Val::str).collect(),
    )))
}

fn list_method(items: &Rc<Vec<Val>>, name: &str, args: &[Val]) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("size", []) => Val::Long(items.len() as i64),
        ("isEmpty", []) => Val::Bool(items.is_empty()),
        ("contains", [x]) => Val::Bool(items.iter().any(|i| java_equals(i, x))),
        ("indexOf", [x]) => Val::Long(
            items
                .iter()
                .position(|i| java_equals(i, x))
                .map_or(-1, |p| p as i64),
        ),
        ("lastIndexOf", [x]) => Val::Long(
            items
                .iter()
                .rposition(|i| java_equals(i, x))
                .map_or(-1, |p| p as i64),
        ),
        ("get", [index]) => {
            let i = to_int(index)?;
            match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None => {
                    return Err(format!(
                        "Index {i} out of bounds for length {}",
                        items.len()
                    ));
                }
            }
        }
        _ => return Ok(None),
    }))
}

fn map_method(
    map: &Rc<serde_json::Map<String, serde_json::Value>>,
    name: &str,
    args: &[Val],
    max_items: usize,
) -> Result<Option<Val>, String> {
    let key = |v: &Val| match v {
        Val::Str(s) => map.get(s.as_ref()).cloned(),
        _ => None,
    };
    Ok(Some(match (name, args) {
        ("size", []) => Val::Long(map.len() as i64),
        ("isEmpty", []) => Val::Bool(map.is_empty()),
        ("get", [k]) => key(k).map_or(Val::Null, Val::from_json),
        ("getOrDefault", [k, default]) => match key(k) {
            Some(v) => Val::from_json(v),
            None => default.clone(),
        },
        ("containsKey", [k]) => Val::Bool(key(k).is_some()),
        ("containsValue", [x]) => Val::Bool(
            map.values()
                .any(|v| java_equals(&Val::from_json(v.clone()), x)),
        ),
        ("keySet", []) | ("values", []) if map.len() > max_items => {
            return Err(format!("the map has more than {max_items} entries"));
        }
        ("keySet", []) => Val::List(Rc::new(map.keys().map(|k| Val::str(k.as_str())).collect())),
        ("values", []) => Val::List(Rc::new(map.values().cloned().map(Val::from_json).collect())),
        _ => return Ok(None),
    }))
}

fn long_method(n: i64, name: &str, args: &[Val]) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("intValue", []) => Val::Long(i64::from(n as i32)),
        ("longValue", []) => Val::Long(n),
        ("doubleValue", []) => Val::Double(n as f64),
        ("compareTo", [x]) => Val::Long(n.cmp(&to_long(x)?) as i64),
        _ => return Ok(None),
    }))
}

fn double_method(d: f64, name: &str, args: &[Val]) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("intValue", []) => Val::Long(i64::from(d as i32)),
        ("longValue", []) => Val::Long(d as i64),
        ("doubleValue", []) => Val::Double(d),
        ("isNaN", []) => Val::Bool(d.is_nan()),
        ("isInfinite", []) => Val::Bool(d.is_infinite()),
        // Double.compare: a total order with -0.0 below 0.0 and NaN on top.
        ("compareTo", [x]) => {
            let y = to_double(x)?;
            let ord = if double_equals(d, y) {
                0
            } else if d.is_nan() {
                1
            } else if y.is_nan() {
                -1
            } else {
                d.total_cmp(&y) as i64
            };
            Val::Long(ord)
        }
        ("toString", []) => Val::str(format_double(d)),
        _ => return Ok(None),
    }))
}

fn bool_method(b: bool, name: &str, args: &[Val]) -> Result<Option<Val>, String> {
    Ok(Some(match (name, args) {
        ("booleanValue", []) => Val::Bool(b),
        ("compareTo", [Val::Bool(x)]) => Val::Long(b.cmp(x) as i64),
        _ => return Ok(None),
    }))
}
