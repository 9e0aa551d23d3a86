//! EL's operators on values: arithmetic (JSR-245 section 1.7), relational and
//! equality operators (1.8, 1.9), `empty` (1.10), in the order of cases
//! JUEL's `NumberOperations` and `BooleanOperations` test them.
//!
//! Which operand's coercion failed is reported, so the error can point at it.

use std::cmp::Ordering;

use super::parser::Binary;
use super::value::{
    Val, compare_utf16, double_equals, is_dot_e, java_equals, to_bool, to_double, to_long, to_text,
};

/// Which operand an operator could not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Left,
    Right,
    Both,
}

#[derive(Debug)]
pub(super) struct OpError {
    pub side: Side,
    pub message: String,
}

fn left<T>(r: Result<T, String>) -> Result<T, OpError> {
    r.map_err(|message| OpError {
        side: Side::Left,
        message,
    })
}

fn right<T>(r: Result<T, String>) -> Result<T, OpError> {
    r.map_err(|message| OpError {
        side: Side::Right,
        message,
    })
}

fn both(message: String) -> OpError {
    OpError {
        side: Side::Both,
        message,
    }
}

fn longs(a: &Val, b: &Val) -> Result<(i64, i64), OpError> {
    Ok((left(to_long(a))?, right(to_long(b))?))
}

fn doubles(a: &Val, b: &Val) -> Result<(f64, f64), OpError> {
    Ok((left(to_double(a))?, right(to_double(b))?))
}

fn is_double(v: &Val) -> bool {
    matches!(v, Val::Double(_))
}

/// `+ - * / div % mod`.
pub(super) fn arithmetic(op: Binary, a: &Val, b: &Val) -> Result<Val, OpError> {
    if a.is_null() && b.is_null() {
        return Ok(Val::Long(0));
    }
    let floating = is_double(a) || is_double(b) || is_dot_e(a) || is_dot_e(b);
    match op {
        Binary::Div => {
            let (x, y) = doubles(a, b)?;
            Ok(Val::Double(x / y))
        }
        Binary::Mod if floating => {
            let (x, y) = doubles(a, b)?;
            // Rust's float `%` truncates like Java's: the sign of the dividend.
            Ok(Val::Double(x % y))
        }
        Binary::Mod => {
            let (x, y) = longs(a, b)?;
            if y == 0 {
                return Err(OpError {
                    side: Side::Right,
                    message: "/ by zero".into(),
                });
            }
            Ok(Val::Long(x.wrapping_rem(y)))
        }
        _ if floating => {
            let (x, y) = doubles(a, b)?;
            Ok(Val::Double(match op {
                Binary::Add => x + y,
                Binary::Sub => x - y,
                _ => x * y,
            }))
        }
        _ => {
            // Long arithmetic overflows silently, as Java's does.
            let (x, y) = longs(a, b)?;
            Ok(Val::Long(match op {
                Binary::Add => x.wrapping_add(y),
                Binary::Sub => x.wrapping_sub(y),
                _ => x.wrapping_mul(y),
            }))
        }
    }
}

/// Unary `-`.
pub(super) fn negate(v: &Val) -> Result<Val, String> {
    match v {
        Val::Null => Ok(Val::Long(0)),
        Val::Double(d) => Ok(Val::Double(-d)),
        Val::Long(n) => Ok(Val::Long(n.wrapping_neg())),
        Val::Str(_) if is_dot_e(v) => Ok(Val::Double(-to_double(v)?)),
        Val::Str(_) => Ok(Val::Long(to_long(v)?.wrapping_neg())),
        _ => Err(format!(
            "Cannot negate {} of class {}",
            v.describe(),
            v.type_name()
        )),
    }
}

/// `empty`.
pub(super) fn is_empty(v: &Val) -> bool {
    match v {
        Val::Null => true,
        Val::Str(s) => s.is_empty(),
        Val::List(items) => items.is_empty(),
        Val::Map(map) => map.is_empty(),
        _ => false,
    }
}

/// `< > <= >=`. Note that `<=` is "not greater" and `>=` "not less", as in
/// JUEL, which matters only for NaN.
pub(super) fn relational(op: Binary, a: &Val, b: &Val, limit: usize) -> Result<bool, OpError> {
    if a.is_null() || b.is_null() {
        // Two nulls are the same object: `<=` and `>=` hold, `<` and `>` not.
        return Ok(a.is_null() && b.is_null() && matches!(op, Binary::Le | Binary::Ge));
    }
    let ord = order(a, b, limit)?;
    Ok(match op {
        Binary::Lt => ord == Some(Ordering::Less),
        Binary::Gt => ord == Some(Ordering::Greater),
        Binary::Le => ord != Some(Ordering::Greater),
        _ => ord != Some(Ordering::Less),
    })
}

/// The order of two non-null values; `None` when unordered (NaN).
fn order(a: &Val, b: &Val, limit: usize) -> Result<Option<Ordering>, OpError> {
    if is_double(a) || is_double(b) {
        let (x, y) = doubles(a, b)?;
        return Ok(x.partial_cmp(&y));
    }
    if matches!(a, Val::Long(_)) || matches!(b, Val::Long(_)) {
        let (x, y) = longs(a, b)?;
        return Ok(Some(x.cmp(&y)));
    }
    if matches!(a, Val::Str(_)) || matches!(b, Val::Str(_)) {
        let x = left(to_text(a, limit))?;
        let y = right(to_text(b, limit))?;
        return Ok(Some(compare_utf16(&x, &y)));
    }
    // Comparable objects of the same class; any other pair is what Java's
    // compareTo refuses.
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => Ok(Some(x.cmp(y))),
        (Val::Date(x), Val::Date(y)) | (Val::DateTime(x), Val::DateTime(y)) => Ok(Some(x.cmp(y))),
        _ => Err(both(format!(
            "Cannot compare {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

/// `==` (and `!=` as its negation).
pub(super) fn equality(a: &Val, b: &Val, limit: usize) -> Result<bool, OpError> {
    match (a, b) {
        (Val::Null, Val::Null) => return Ok(true),
        (Val::Null, _) | (_, Val::Null) => return Ok(false),
        _ => {}
    }
    if is_double(a) || is_double(b) {
        let (x, y) = doubles(a, b)?;
        return Ok(double_equals(x, y));
    }
    if matches!(a, Val::Long(_)) || matches!(b, Val::Long(_)) {
        let (x, y) = longs(a, b)?;
        return Ok(x == y);
    }
    if matches!(a, Val::Bool(_)) || matches!(b, Val::Bool(_)) {
        return Ok(left(to_bool(a))? == right(to_bool(b))?);
    }
    if matches!(a, Val::Str(_)) || matches!(b, Val::Str(_)) {
        return Ok(left(to_text(a, limit))? == right(to_text(b, limit))?);
    }
    Ok(java_equals(a, b))
}
