//! ISO 8601 durations and date-times as timers and due dates use them.
//!
//! Built on jiff, which does calendar arithmetic correctly (`P1M` from January 31
//! is the last day of February, not "30 days"). Date-times without a zone or
//! offset are read as UTC; a date alone means midnight UTC.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Parses an ISO 8601 duration such as `PT1H30M` or `P1D`. Negative durations are refused.
pub fn parse_duration(text: &str) -> Result<Span, String> {
    let t = text.trim();
    let span: Span = t
        .parse()
        .map_err(|_| format!("\"{t}\" is not an ISO 8601 duration such as PT10M or P1D"))?;
    if span.is_negative() {
        return Err(format!("the duration \"{t}\" is negative"));
    }
    Ok(span)
}

/// Parses an ISO 8601 date-time (`2025-03-01T09:00:00Z`, `...+01:00`, or without an
/// offset, read as UTC) or a date alone (midnight UTC).
pub fn parse_datetime(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    let bad = || format!("\"{t}\" is not an ISO 8601 date-time such as 2025-03-01T09:00:00Z");
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned_datetime(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| bad());
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return d
            .to_zoned_datetime(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| bad());
    }
    Err(bad())
}

/// `at + span`, with calendar units counted in UTC.
pub fn add(at: Timestamp, span: Span) -> Result<Timestamp, String> {
    at.to_zoned_datetime(TimeZone::UTC)
        .checked_add(span)
        .map(|z| z.timestamp())
        .map_err(|e| format!("cannot add {span} to {at}: {e}"))
}

/// A due time written either as a date-time or as a duration from now.
pub fn due(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if t.starts_with('P') || t.starts_with('p') {
        add(now, parse_duration(t)?)
    } else {
        parse_datetime(t)
    }
}

/// A repeating timer: an ISO 8601 repeating interval (`R3/PT10M`, `R/PT1H`,
/// `R2/2025-03-01T09:00:00Z/P1D`) or a cron expression: 5 fields as Unix cron
/// reads them, 6 or 7 fields (seconds first, optional year) as Quartz and
/// Camunda 7 read them.
#[derive(Debug, Clone)]
pub enum Cycle {
    Repeat {
        /// How many times it fires; `None` for ever.
        count: Option<u32>,
        /// The first firing, when the interval names it; otherwise one interval from now.
        start: Option<Timestamp>,
        interval: Span,
    },
    Cron(Box<croner::Cron>),
}

/// Parses `R[n]/[start/]duration` or a cron expression.
pub fn parse_cycle(text: &str) -> Result<Cycle, String> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('R') {
        let parts: Vec<&str> = rest.split('/').collect();
        let count = match parts.first().copied() {
            Some("") => None,
            Some(n) => Some(
                n.parse::<u32>()
                    .map_err(|_| format!("\"{t}\": the repetitions after R must be a number"))?,
            ),
            None => None,
        };
        let (start, duration) = match parts.as_slice() {
            [_, d] => (None, *d),
            [_, s, d] => (Some(parse_datetime(s)?), *d),
            _ => {
                return Err(format!(
                    "\"{t}\" is not a repeating interval such as R3/PT10M"
                ));
            }
        };
        let interval = parse_duration(duration)?;
        if interval.is_zero() {
            return Err(format!("\"{t}\": the interval cannot be zero"));
        }
        return Ok(Cycle::Repeat {
            count,
            start,
            interval,
        });
    }
    let fields = t.split_whitespace().count();
    if !(5..=7).contains(&fields) {
        return Err(format!(
            "\"{t}\" is neither a repeating interval (R3/PT10M) nor a cron expression (0 9 * * MON-FRI)"
        ));
    }
    // Six or seven fields are Quartz's, as Camunda 7 reads them: days of the
    // week count from 1 (Sunday) to 7 (Saturday), and `0/5` means "from 0,
    // every 5". Five fields are Unix cron's: 0 (or 7) is Sunday.
    let quartz = fields >= 6;
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .alternative_weekdays(quartz)
        .sloppy_ranges(quartz)
        .build()
        .parse(t)
        .map_err(|e| format!("\"{t}\" is not a cron expression: {e}"))?;
    // croner skips empty items (`,`): a field of nothing but commas matches no
    // time at all, and looking for its next time then walks second by second
    // through a year of seconds (several seconds of work) before giving up.
    let p = &cron.pattern;
    for (field, component) in [
        ("seconds", &p.seconds),
        ("minutes", &p.minutes),
        ("hours", &p.hours),
        ("day of month", &p.days),
        ("month", &p.months),
        ("day of week", &p.days_of_week),
        ("year", &p.years),
    ] {
        if component.values().is_empty() && !component.has_modifiers() {
            return Err(format!(
                "\"{t}\" is not a cron expression: its {field} field allows no value"
            ));
        }
    }
    Ok(Cycle::Cron(Box::new(cron)))
}

impl Cycle {
    /// When it fires for the `fired + 1`-th time, given when it fired last (or,
    /// for the first time, when it was started). `None` when it is done.
    pub fn next(&self, fired: u32, last: Timestamp) -> Option<Timestamp> {
        match self {
            Cycle::Repeat {
                count,
                start,
                interval,
            } => {
                if count.is_some_and(|c| fired >= c) {
                    return None;
                }
                match (fired, start) {
                    (0, Some(s)) => Some(*s),
                    _ => add(last, *interval).ok(),
                }
            }
            Cycle::Cron(cron) => {
                let from = chrono::DateTime::from_timestamp_millis(last.as_millisecond())?;
                let next = cron.find_next_occurrence(&from, false).ok()?;
                Timestamp::from_millisecond(next.timestamp_millis()).ok()
            }
        }
    }
}

/// `camunda:failedJobRetryTimeCycle`: how many attempts a job gets and the pause between them.
#[derive(Debug, Clone, Copy)]
pub struct RetryCycle {
    pub retries: u32,
    pub interval: Span,
}

/// Parses `R5/PT1M`.
pub fn parse_retry_cycle(text: &str) -> Result<RetryCycle, String> {
    match parse_cycle(text)? {
        Cycle::Repeat {
            count: Some(retries),
            start: None,
            interval,
        } => Ok(RetryCycle { retries, interval }),
        _ => Err(format!(
            "\"{}\" is not a retry cycle such as R5/PT1M",
            text.trim()
        )),
    }
}
