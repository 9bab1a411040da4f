//! A billing period: a UTC calendar month.
use time::{Date, Month, OffsetDateTime};

use crate::AppError;

/// A billing period: a UTC calendar month, by its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Period(Date);

impl Period {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        let bad =
            || AppError::Validation(format!("period: “{}” is not a month (YYYY-MM)", crate::domain::text::echo(s)));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        // Years whose neighbouring months exist too, so `next` and `previous` never leave the calendar.
        if !(1901..=9998).contains(&y) {
            return Err(bad());
        }
        let month = Month::try_from(m).map_err(|_| bad())?;
        Date::from_calendar_date(y, month, 1).map(Period).map_err(|_| bad())
    }

    /// The month of `t` (UTC).
    pub fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Period(Date::from_calendar_date(t.year(), t.month(), 1).expect("day 1 exists"))
    }

    /// The month a day is in.
    pub fn of_day(day: Date) -> Self {
        Period(day.replace_day(1).unwrap_or(day))
    }

    /// The first day.
    pub fn start(self) -> Date {
        self.0
    }

    /// The first day of the next month.
    pub fn next(self) -> Self {
        let (y, m) = (self.0.year(), self.0.month());
        let (y, m) = if m == Month::December { (y + 1, Month::January) } else { (y, m.next()) };
        Period(Date::from_calendar_date(y, m, 1).expect("day 1 exists"))
    }

    /// The first day of the previous month.
    pub fn previous(self) -> Self {
        let day = self.0.previous_day().expect("not the first day ever");
        Period(Date::from_calendar_date(day.year(), day.month(), 1).expect("day 1 exists"))
    }

    /// The last day.
    pub fn end(self) -> Date {
        self.next().0.previous_day().expect("not the first day ever")
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month() as u8)
    }
}
