//! How instants and days are shown: always UTC, written the same on the server and in the browser (so hydration
//! never differs). DTOs carry `time` values; only components call these.
use time::{OffsetDateTime, UtcOffset};

/// `2026-11-02 14:05` (UTC).
pub fn minute(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// `2026-11-02 14:05:09` (UTC).
pub fn second(t: OffsetDateTime) -> String {
    format!("{}:{:02}", minute(t), t.to_offset(UtcOffset::UTC).second())
}

/// `2026-11-02` (the UTC day).
pub fn day(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC).date().to_string()
}

/// `1 January 2030, 00:00 UTC`: an instant in a sentence.
pub fn long(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{}, {:02}:{:02} UTC", long_day(t.date()), t.hour(), t.minute())
}

/// `1 January 2030`: a day in a sentence (an invoice's issue date).
pub fn long_day(d: time::Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// `March 2026`: a billing month in a sentence.
pub fn month(period: crate::domain::Period) -> String {
    let start = period.start();
    format!("{} {}", start.month(), start.year())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn instants_are_shown_in_utc() {
        let t = datetime!(2026-11-02 15:05:09 +01:00);
        assert_eq!(super::minute(t), "2026-11-02 14:05");
        assert_eq!(super::second(t), "2026-11-02 14:05:09");
        assert_eq!(super::day(datetime!(2026-11-02 00:30 +01:00)), "2026-11-01");
        assert_eq!(super::long(datetime!(2030-01-01 00:00 UTC)), "1 January 2030, 00:00 UTC");
        assert_eq!(super::long(datetime!(2026-10-02 01:05 +02:00)), "1 October 2026, 23:05 UTC");
        let march = crate::domain::Period::parse("2026-03").unwrap();
        assert_eq!(super::month(march), "March 2026");
    }
}
