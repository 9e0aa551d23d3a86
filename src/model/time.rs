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
