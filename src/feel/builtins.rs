//! FEEL built-in functions and the temporal literals they read and write.

use jiff::civil;
use jiff::{SignedDuration, Span};

use super::value::{self, DateTime, Dur, V, float};
use super::{Kind, Node};

macro_rules! builtins {
    ($($variant:ident = $name:literal, $min:literal ..= $max:expr;)*) => {
        /// The built-in functions supported.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Builtin { $($variant),* }

        impl Builtin {
            pub(crate) fn from_name(name: &str) -> Option<Builtin> {
                match name {
                    $($name => Some(Builtin::$variant),)*
                    _ => None,
                }
            }

            fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name),* }
            }

            fn arity(self) -> (usize, usize) {
                match self { $(Builtin::$variant => ($min, $max)),* }
            }
        }
    };
}

const MANY: usize = usize::MAX;

builtins! {
    Date = "date", 1..=3;
    Time = "time", 1..=3;
    DateAndTime = "date and time", 1..=2;
    Duration = "duration", 1..=1;
    String = "string", 1..=1;
    Number = "number", 1..=1;
    Contains = "contains", 2..=2;
    StartsWith = "starts with", 2..=2;
    EndsWith = "ends with", 2..=2;
    UpperCase = "upper case", 1..=1;
    LowerCase = "lower case", 1..=1;
    StringLength = "string length", 1..=1;
    Substring = "substring", 2..=3;
    StringJoin = "string join", 1..=2;
    Count = "count", 1..=1;
    Sum = "sum", 1..=MANY;
    Min = "min", 1..=MANY;
    Max = "max", 1..=MANY;
    Mean = "mean", 1..=MANY;
    All = "all", 1..=MANY;
    Any = "any", 1..=MANY;
    ListContains = "list contains", 2..=2;
    Abs = "abs", 1..=1;
    Floor = "floor", 1..=1;
    Ceiling = "ceiling", 1..=1;
    Decimal = "decimal", 2..=2;
    Modulo = "modulo", 2..=2;
    Not = "not", 1..=1;
    IsDefined = "is defined", 1..=1;
    GetValue = "get value", 2..=2;
    Now = "now", 0..=0;
    Today = "today", 0..=0;
}

impl Builtin {
    /// Checks the number of arguments, and literal arguments of the temporal
    /// constructors, at parse time.
    pub(crate) fn check(self, args: &[Node]) -> Result<(), String> {
        let (min, max) = self.arity();
        if args.len() < min || args.len() > max {
            let wanted = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, MANY) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(format!(
                "`{}` takes {wanted} argument{}, not {}",
                self.name(),
                if max == 1 { "" } else { "s" },
                args.len()
            ));
        }
        if let [
            Node {
                kind: Kind::Lit(V::Str(s)),
                ..
            },
        ] = args
        {
            let (ok, what) = match self {
                Builtin::Date => (parse_date(s).is_some(), "date (YYYY-MM-DD)"),
                Builtin::Time => (parse_time(s).is_some(), "time (hh:mm:ss)"),
                Builtin::DateAndTime => (
                    parse_date_time(s).is_some(),
                    "date and time (YYYY-MM-DDThh:mm:ss, optionally with Z or an offset)",
                ),
                Builtin::Duration => (
                    parse_duration(s).is_some(),
                    "duration (such as P1D, PT2H or P1Y2M)",
                ),
                _ => (true, ""),
            };
            if !ok {
                return Err(format!("\"{s}\" is not a valid {what}"));
            }
        }
        Ok(())
    }
}

/// Calls a built-in with evaluated arguments. Arguments of the wrong type give null.
pub(crate) fn call(b: Builtin, args: Vec<V>) -> Result<V, String> {
    use Builtin as B;
    let str_arg = |i: usize| match args.get(i) {
        Some(V::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    let int_arg = |i: usize| match args.get(i) {
        Some(V::Int(n)) => Some(*n),
        Some(V::Num(f)) if f.fract() == 0.0 && f.abs() < 9e15 => Some(*f as i64),
        _ => None,
    };
    let first = args.first().cloned().unwrap_or(V::Null);
    let two_str = |f: fn(&str, &str) -> bool| match (str_arg(0), str_arg(1)) {
        (Some(a), Some(b)) => V::Bool(f(a, b)),
        _ => V::Null,
    };
    Ok(match b {
        B::Date if args.len() == 3 => match (int_arg(0), int_arg(1), int_arg(2)) {
            (Some(y), Some(m), Some(d)) => small(y, m, d)
                .and_then(|(y, m, d)| civil::Date::new(y, m, d).ok())
                .map_or(V::Null, V::Date),
            _ => V::Null,
        },
        B::Date => match first {
            V::Str(s) => parse_date(&s).map_or(V::Null, V::Date),
            V::Date(d) => V::Date(d),
            V::DateTime(dt) => V::Date(dt.dt.date()),
            _ => V::Null,
        },
        B::Time if args.len() == 3 => match (int_arg(0), int_arg(1), int_arg(2)) {
            (Some(h), Some(m), Some(s)) => small(h, m, s)
                .and_then(|(h, m, s)| i8::try_from(h).ok().map(|h| (h, m, s)))
                .and_then(|(h, m, s)| civil::Time::new(h, m, s, 0).ok())
                .map_or(V::Null, V::Time),
            _ => V::Null,
        },
        B::Time => match first {
            V::Str(s) => parse_time(&s).map_or(V::Null, V::Time),
            V::Time(t) => V::Time(t),
            V::DateTime(dt) => V::Time(dt.dt.time()),
            V::Date(_) => V::Time(civil::Time::midnight()),
            _ => V::Null,
        },
        B::DateAndTime if args.len() == 2 => match (&args[0], &args[1]) {
            (V::Date(d), V::Time(t)) => V::DateTime(DateTime {
                dt: d.to_datetime(*t),
                offset: None,
            }),
            (V::DateTime(d), V::Time(t)) => V::DateTime(DateTime {
                dt: d.dt.date().to_datetime(*t),
                offset: None,
            }),
            _ => V::Null,
        },
        B::DateAndTime => match first {
            V::Str(s) => parse_date_time(&s).map_or(V::Null, V::DateTime),
            V::DateTime(d) => V::DateTime(d),
            V::Date(d) => V::DateTime(DateTime {
                dt: d.to_datetime(civil::Time::midnight()),
                offset: None,
            }),
            _ => V::Null,
        },
        B::Duration => match first {
            V::Str(s) => parse_duration(&s).map_or(V::Null, V::Dur),
            V::Dur(d) => V::Dur(d),
            _ => V::Null,
        },
        B::String => match first {
            V::Null => V::Null,
            v => V::Str(to_string(&v)),
        },
        B::Number => match first {
            V::Str(s) => parse_number(s.trim()),
            n @ (V::Int(_) | V::Num(_)) => n,
            _ => V::Null,
        },
        B::Contains => two_str(|a, b| a.contains(b)),
        B::StartsWith => two_str(|a, b| a.starts_with(b)),
        B::EndsWith => two_str(|a, b| a.ends_with(b)),
        B::UpperCase => str_arg(0).map_or(V::Null, |s| V::Str(s.to_uppercase())),
        B::LowerCase => str_arg(0).map_or(V::Null, |s| V::Str(s.to_lowercase())),
        B::StringLength => str_arg(0).map_or(V::Null, |s| V::Int(s.chars().count() as i64)),
        B::Substring => match (str_arg(0), int_arg(1)) {
            (Some(s), Some(start)) => substring(s, start, int_arg(2), args.len() == 3),
            _ => V::Null,
        },
        B::StringJoin => match (&first, args.get(1)) {
            (V::List(items), sep) => {
                let sep = match sep {
                    Some(V::Str(s)) => s.as_str(),
                    None | Some(V::Null) => "",
                    Some(_) => return Ok(V::Null),
                };
                let mut parts = Vec::new();
                let mut len = 0usize;
                for item in items {
                    match item {
                        V::Str(s) => {
                            len = len.saturating_add(s.len()).saturating_add(sep.len());
                            parts.push(s.as_str())
                        }
                        V::Null => {}
                        _ => return Ok(V::Null),
                    }
                }
                // Checked before joining, so that the oversized string is never made.
                if len > super::MAX_STRING_BYTES.saturating_add(sep.len()) {
                    return Err(value::string_too_long());
                }
                V::Str(parts.join(sep))
            }
            _ => V::Null,
        },
        B::Count => match first {
            V::List(items) => V::Int(items.len() as i64),
            _ => V::Null,
        },
        B::Sum | B::Min | B::Max | B::Mean | B::All | B::Any => {
            let items = match (args.len(), first) {
                (1, V::List(items)) => items,
                _ => args,
            };
            aggregate(b, &items)
        }
        B::ListContains => match (&first, args.get(1)) {
            (V::List(items), Some(x)) => V::Bool(items.iter().any(|i| value::equals(i, x))),
            _ => V::Null,
        },
        B::Abs => match first {
            V::Int(i) => i.checked_abs().map_or(V::Num((i as f64).abs()), V::Int),
            V::Num(f) => V::Num(f.abs()),
            _ => V::Null,
        },
        B::Floor => round_with(&first, f64::floor),
        B::Ceiling => round_with(&first, f64::ceil),
        B::Decimal => match (&first, int_arg(1)) {
            (V::Int(i), Some(_)) => V::Int(*i),
            (V::Num(f), Some(scale)) if (-300..=300).contains(&scale) => {
                let factor = 10f64.powi(scale as i32);
                float((f * factor).round_ties_even() / factor)
            }
            _ => V::Null,
        },
        B::Modulo => match (&first, args.get(1)) {
            (V::Int(a), Some(V::Int(b))) if *b != 0 => {
                a.checked_rem_euclid(*b).map_or(V::Null, |r| {
                    V::Int(if r != 0 && *b < 0 { r + b } else { r })
                })
            }
            (a, Some(b)) => match (num(a), num(b)) {
                (Some(a), Some(b)) if b != 0.0 => float(a - b * (a / b).floor()),
                _ => V::Null,
            },
            _ => V::Null,
        },
        B::Not => match first {
            V::Bool(b) => V::Bool(!b),
            _ => V::Null,
        },
        // Handled by the evaluator, which needs the unevaluated argument.
        B::IsDefined => V::Bool(first != V::Null),
        // The evaluator answers these from its budget's time.
        B::Now | B::Today => V::Null,
        B::GetValue => match (&first, str_arg(1)) {
            (V::Ctx(entries), Some(key)) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(V::Null, |(_, v)| v.clone()),
            _ => V::Null,
        },
    })
}

fn num(v: &V) -> Option<f64> {
    match v {
        V::Int(i) => Some(*i as f64),
        V::Num(f) => Some(*f),
        _ => None,
    }
}

fn small(a: i64, b: i64, c: i64) -> Option<(i16, i8, i8)> {
    Some((
        i16::try_from(a).ok()?,
        i8::try_from(b).ok()?,
        i8::try_from(c).ok()?,
    ))
}

fn round_with(v: &V, f: fn(f64) -> f64) -> V {
    match v {
        V::Int(i) => V::Int(*i),
        V::Num(x) => {
            let r = f(*x);
            if r.abs() < 9.0e15 {
                V::Int(r as i64)
            } else {
                float(r)
            }
        }
        _ => V::Null,
    }
}

fn substring(s: &str, start: i64, len: Option<i64>, has_len: bool) -> V {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let from = if start > 0 { start - 1 } else { n + start };
    if from < 0 || from > n || (has_len && len.is_none_or(|l| l < 0)) {
        return V::Null;
    }
    let to = match len {
        Some(l) => from.saturating_add(l).min(n),
        None => n,
    };
    let (from, to) = (from as usize, to as usize);
    V::Str(
        chars
            .get(from..to)
            .map(|c| c.iter().collect())
            .unwrap_or_default(),
    )
}

fn aggregate(b: Builtin, items: &[V]) -> V {
    match b {
        Builtin::All | Builtin::Any => {
            let want = b == Builtin::Any;
            let mut unknown = false;
            for item in items {
                match item {
                    V::Bool(x) if *x == want => return V::Bool(want),
                    V::Bool(_) => {}
                    _ => unknown = true,
                }
            }
            if unknown { V::Null } else { V::Bool(!want) }
        }
        Builtin::Min | Builtin::Max => {
            let mut best: Option<&V> = None;
            for item in items {
                best = match best {
                    None => Some(item),
                    Some(cur) => match value::compare(item, cur) {
                        None => return V::Null,
                        Some(o) if (b == Builtin::Min) == o.is_lt() && o.is_ne() => Some(item),
                        Some(_) => Some(cur),
                    },
                };
            }
            best.cloned().unwrap_or(V::Null)
        }
        _ => {
            if items.is_empty() {
                return V::Null;
            }
            let mut total = V::Int(0);
            for item in items {
                if !matches!(item, V::Int(_) | V::Num(_)) {
                    return V::Null;
                }
                total = value::binary(super::Op::Add, &total, item);
            }
            if b == Builtin::Mean {
                value::binary(super::Op::Div, &total, &V::Int(items.len() as i64))
            } else {
                total
            }
        }
    }
}

fn parse_number(s: &str) -> V {
    if let Ok(i) = s.parse::<i64>() {
        return V::Int(i);
    }
    let looks_numeric = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    match s.parse::<f64>() {
        Ok(f) if looks_numeric => float(f),
        _ => V::Null,
    }
}

/// `YYYY-MM-DD` (a date and time string gives its date).
pub(crate) fn parse_date(s: &str) -> Option<civil::Date> {
    let s = s.trim();
    if s.len() == 10 {
        return s.parse().ok();
    }
    parse_date_time(s).map(|d| d.dt.date())
}

/// `hh:mm[:ss[.fff]]`; times with an offset are not supported.
pub(crate) fn parse_time(s: &str) -> Option<civil::Time> {
    let s = s.trim();
    if s.len() < 5 || !s.is_ascii() || s.contains(['Z', 'z', '+', '@']) || s[1..].contains('-') {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`, or a plain date (midnight).
pub(crate) fn parse_date_time(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if !s.is_ascii() {
        return None;
    }
    if s.len() == 10 {
        let d: civil::Date = s.parse().ok()?;
        return Some(DateTime {
            dt: d.to_datetime(civil::Time::midnight()),
            offset: None,
        });
    }
    let t = s.find(['T', 't'])?;
    let (civil_part, offset) = if let Some(rest) = s.strip_suffix(['Z', 'z']) {
        (rest, Some(0))
    } else if let Some(at) = s[t..].rfind(['+', '-']).map(|i| i + t) {
        (&s[..at], Some(parse_offset(&s[at..])?))
    } else {
        (s, None)
    };
    Some(DateTime {
        dt: civil_part.parse().ok()?,
        offset,
    })
}

fn parse_offset(s: &str) -> Option<i32> {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits.get(..2)?.parse().ok()?;
    let m: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    (h <= 18 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// ISO 8601 durations: days and time (`P1DT2H`) or years and months (`P1Y2M`).
pub(crate) fn parse_duration(s: &str) -> Option<Dur> {
    let s = s.trim();
    let body = s.strip_prefix('-').unwrap_or(s);
    if !body.starts_with(['P', 'p']) {
        return None;
    }
    let span: Span = s.parse().ok()?;
    let months = i64::from(span.get_years()) * 12 + i64::from(span.get_months());
    let days = i64::from(span.get_weeks()) * 7 + i64::from(span.get_days());
    let secs = days * 86_400
        + i64::from(span.get_hours()) * 3_600
        + span.get_minutes() * 60
        + span.get_seconds();
    let nanos = i128::from(span.get_milliseconds()) * 1_000_000
        + i128::from(span.get_microseconds()) * 1_000
        + i128::from(span.get_nanoseconds());
    let has_time = secs != 0 || nanos != 0;
    if months != 0 && has_time {
        return None;
    }
    if months != 0
        || (!has_time && body.contains(['Y', 'y', 'M', 'm']) && !body.contains(['T', 't']))
    {
        return Some(Dur::YearMonth(months));
    }
    let total = i128::from(secs) * 1_000_000_000 + nanos;
    let secs = i64::try_from(total / 1_000_000_000).ok()?;
    let nanos = i32::try_from(total % 1_000_000_000).ok()?;
    Some(Dur::DayTime(SignedDuration::new(secs, nanos)))
}

/// FEEL's string form of a value (ISO 8601 for dates, times and durations).
pub(crate) fn to_string(v: &V) -> String {
    match v {
        V::Null => "null".into(),
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Num(f) => f.to_string(),
        V::Str(s) => s.clone(),
        V::Date(d) => d.to_string(),
        V::Time(t) => t.to_string(),
        V::DateTime(d) => match d.offset {
            None => d.dt.to_string(),
            Some(0) => format!("{}Z", d.dt),
            Some(o) => {
                let sign = if o < 0 { '-' } else { '+' };
                let o = o.abs();
                format!("{}{sign}{:02}:{:02}", d.dt, o / 3600, o / 60 % 60)
            }
        },
        V::Dur(Dur::YearMonth(m)) => {
            let sign = if *m < 0 { "-" } else { "" };
            let m = m.unsigned_abs();
            match (m / 12, m % 12) {
                (0, mo) => format!("{sign}P{mo}M"),
                (y, 0) => format!("{sign}P{y}Y"),
                (y, mo) => format!("{sign}P{y}Y{mo}M"),
            }
        }
        V::Dur(Dur::DayTime(d)) => day_time(*d),
        V::List(_) | V::Ctx(_) => v.to_json().to_string(),
    }
}

fn day_time(d: SignedDuration) -> String {
    let sign = if d.is_negative() { "-" } else { "" };
    let secs = d.as_secs().unsigned_abs();
    let nanos = d.subsec_nanos().unsigned_abs();
    let (days, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let mut out = format!("{sign}P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if h > 0 || m > 0 || s > 0 || nanos > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || nanos > 0 || (h == 0 && m == 0) {
            if nanos > 0 {
                let frac = format!("{nanos:09}");
                out.push_str(&format!("{s}.{}S", frac.trim_end_matches('0')));
            } else {
                out.push_str(&format!("{s}S"));
            }
        }
    }
    out
}
