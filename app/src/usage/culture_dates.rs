//! Dates as PowerShell prints a `DateTime` in the exporting machine's culture (see `usagesummary`'s module doc for
//! which are read and why). Everything is returned in UTC; a value without an offset is UTC.
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Named when a date cannot be read, so the user can see what to re-export as.
const ACCEPTED: &str = "accepted: ISO 8601 (2017-09-06T00:00:00Z, 2017-09-06 00:00:00), en-US 9/6/2017 12:00:00 AM, \
                        day-first 6/9/2017 00:00:00, de-DE 06.09.2017 00:00:00, year-first 2017/09/06 00:00:00; \
                        times without an offset are UTC";

pub(crate) fn date_time(text: &str) -> Result<OffsetDateTime, String> {
    read_date_time(text).ok_or_else(|| format!("“{text}” is not a date and time this reader knows; {ACCEPTED}"))
}

fn read_date_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return t.checked_to_offset(UtcOffset::UTC);
    }
    let normal = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s = Scan { s: normal.as_bytes(), i: 0 };
    let (first, first_len) = s.number(1, 4)?;
    let separator = s.byte()?;
    let (year, month, day, clock, offset) = match (separator, first_len) {
        (b'-', 4) => {
            let month = s.number(1, 2)?.0;
            s.expect(b'-')?;
            let day = s.number(1, 2)?.0;
            s.expect_any(b"Tt ")?;
            let clock = s.clock()?;
            (first, month, day, clock, s.offset()?)
        }
        (b'/', 4) => {
            let (month, day, clock) = s.rest_of_date(b'/')?;
            (first, month, day, clock, UtcOffset::UTC)
        }
        (b'/', 1..=2) => {
            let second = s.number(1, 2)?.0;
            s.expect(b'/')?;
            let year = s.number(4, 4)?.0;
            s.expect(b' ')?;
            let mut clock = s.clock()?;
            let (month, day) = match s.meridiem()? {
                Some(pm) => {
                    clock.0 = twelve_hour(clock.0, pm)?;
                    (first, second)
                }
                None => (second, first),
            };
            (year, month, day, clock, UtcOffset::UTC)
        }
        (b'.', 1..=2) => {
            let month = s.number(1, 2)?.0;
            s.expect(b'.')?;
            let year = s.number(4, 4)?.0;
            s.expect(b' ')?;
            (year, month, first, s.clock()?, UtcOffset::UTC)
        }
        _ => return None,
    };
    if s.i != s.s.len() {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let (hour, minute, second, nano) = clock;
    let time =
        Time::from_hms_nano(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?, nano)
            .ok()?;
    PrimitiveDateTime::new(date, time).assume_offset(offset).checked_to_offset(UtcOffset::UTC)
}

/// 12 AM is midnight and 12 PM noon; 0 or 13 with AM/PM is a mistake, not a 24-hour time.
fn twelve_hour(hour: u32, pm: bool) -> Option<u32> {
    (1..=12).contains(&hour).then_some(hour % 12 + if pm { 12 } else { 0 })
}

/// A cursor over the ASCII of a whitespace-normalised date.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

type Clock = (u32, u32, u32, u32);

impl Scan<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        self.i += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.expect_any(&[b])
    }

    fn expect_any(&mut self, any: &[u8]) -> Option<()> {
        let b = *self.s.get(self.i)?;
        any.contains(&b).then(|| self.i += 1)
    }

    /// `min..=max` digits (max ≤ 9, so the value fits) and how many there were.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let from = self.i;
        while self.i - from < max && self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let digits = &self.s[from..self.i];
        (digits.len() >= min).then(|| (digits.iter().fold(0, |v, d| v * 10 + u32::from(d - b'0')), digits.len()))
    }

    /// `M<sep>d HH:mm[:ss]`, after a year-first date's first separator.
    fn rest_of_date(&mut self, separator: u8) -> Option<(u32, u32, Clock)> {
        let month = self.number(1, 2)?.0;
        self.expect(separator)?;
        let day = self.number(1, 2)?.0;
        self.expect(b' ')?;
        Some((month, day, self.clock()?))
    }

    /// `H:mm[:ss[.fraction]]`.
    fn clock(&mut self) -> Option<Clock> {
        let hour = self.number(1, 2)?.0;
        self.expect(b':')?;
        let minute = self.number(2, 2)?.0;
        let (mut second, mut nano) = (0, 0);
        if self.expect(b':').is_some() {
            second = self.number(2, 2)?.0;
            if self.expect(b'.').is_some() {
                let (fraction, digits) = self.number(1, 9)?;
                nano = fraction * 10u32.pow(9 - digits as u32);
            }
        }
        Some((hour, minute, second, nano))
    }

    /// Nothing (UTC), `Z`, or `±HH[:MM]` / `±HHMM`.
    fn offset(&mut self) -> Option<UtcOffset> {
        let sign: i8 = match self.byte() {
            None => return Some(UtcOffset::UTC),
            Some(b'Z' | b'z') => return Some(UtcOffset::UTC),
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return None,
        };
        let hours = self.number(2, 2)?.0;
        let colon = self.expect(b':').is_some();
        let minutes = if colon { self.number(2, 2)?.0 } else { self.number(0, 2).filter(|n| n.1 != 1)?.0 };
        UtcOffset::from_hms(sign * i8::try_from(hours).ok()?, sign * i8::try_from(minutes).ok()?, 0).ok()
    }

    /// After the clock: nothing (`None`), or ` AM` / ` PM` in any case (`Some(is_pm)`).
    fn meridiem(&mut self) -> Option<Option<bool>> {
        if self.i == self.s.len() {
            return Some(None);
        }
        self.expect(b' ')?;
        let word = self.s.get(self.i..self.i + 2)?;
        self.i += 2;
        if word.eq_ignore_ascii_case(b"AM") {
            Some(Some(false))
        } else if word.eq_ignore_ascii_case(b"PM") {
            Some(Some(true))
        } else {
            None
        }
    }
}
