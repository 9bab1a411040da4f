//! What "now" is: the one place Stackbill reads the time of day (server side).
//!
//! Every instant that decides something — the current bill period, a default period, the end of the demo's
//! usage, whether an effective time lies in the future, a collector's first window — comes from [`now`]. Times
//! that only record when something happened (audit `at`, `updated_at`, `finalized_at`) are the database's own.
//!
//! `STACKBILL_CLOCK` (an RFC 3339 instant, e.g. `2027-02-28T23:30:00Z`) sets the clock to that instant; it then
//! runs at the wall clock's pace, so two changes are never at the same instant. `STACKBILL_CLOCK_SINCE` (Unix
//! seconds) says when, by the wall clock, the clock read that instant, so processes started later (the command line
//! run by a test, the server run by the browser tests) agree with the one that started them; without it each process
//! starts the clock at its first read. They exist so the test suite can run "on" the 1st of a month, the last hour of
//! a year or a 29 February (`.ci/test`'s date sweep); production leaves them unset. A malformed value stops the
//! process with the variable's name rather than silently using the wall clock.
use std::sync::OnceLock;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The variable that sets the clock.
pub const VARIABLE: &str = "STACKBILL_CLOCK";
/// The variable that anchors it to the wall clock.
pub const SINCE: &str = "STACKBILL_CLOCK_SINCE";

/// The current instant, UTC: the wall clock, or the set clock when `STACKBILL_CLOCK` is set.
pub fn now() -> OffsetDateTime {
    let wall = OffsetDateTime::now_utc();
    match set() {
        Some((at, since)) => at + (wall - since),
        None => wall,
    }
}

/// The set instant and the wall-clock time it was set at, read once.
fn set() -> Option<(OffsetDateTime, OffsetDateTime)> {
    static SET: OnceLock<Option<(OffsetDateTime, OffsetDateTime)>> = OnceLock::new();
    *SET.get_or_init(|| {
        let value = std::env::var(VARIABLE).ok().filter(|v| !v.trim().is_empty())?;
        let at = parse(&value).unwrap_or_else(|e| panic!("{VARIABLE}: {e}"));
        let since = match std::env::var(SINCE).ok().filter(|v| !v.trim().is_empty()) {
            None => OffsetDateTime::now_utc(),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
                .unwrap_or_else(|| panic!("{SINCE}: “{s}” is not a number of seconds since 1970")),
        };
        Some((at, since))
    })
}

/// Reads an RFC 3339 instant into UTC.
pub fn parse(value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|_| format!("“{value}” is not an RFC 3339 instant such as 2027-02-28T23:30:00Z"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_instant_with_an_offset_is_read_as_utc() {
        let t = super::parse("2028-03-01T00:30:00+01:00").unwrap();
        assert_eq!((t.year(), t.month() as u8, t.day(), t.hour()), (2028, 2, 29, 23));
        assert!(super::parse("29/02/2028").is_err());
    }
}
