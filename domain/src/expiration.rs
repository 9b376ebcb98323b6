//! When a key stops working.
use crate::ParseError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// An expiry instant, normalized to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Expiration(DateTime<Utc>);

/// Longest expiry text looked at; anything longer is not a date.
const MAX_INPUT_CHARS: usize = 64;

/// What the range error says; keep in step with [`Expiration::latest`].
pub const TOO_LATE: &str = "expiresAt must be no later than 9999-12-31T23:59:59Z";

/// What an expiry at or before now is told.
pub const NOT_FUTURE: &str = "expiresAt must be in the future";

impl Expiration {
    /// Parses what VAMS clients send and requires it to lie after `now` and, once normalized to UTC,
    /// no later than [`Expiration::latest`].
    ///
    /// Accepted: RFC 3339 / ISO 8601 with `Z` or an offset, a naive date-time (read as UTC),
    /// `YYYY-MM-DD` and `YYYY/MM/DD` (23:59:59 UTC that day). The empty string means "no expiry" and
    /// returns `Ok(None)`.
    pub fn parse(raw: &str, now: DateTime<Utc>) -> Result<Option<Self>, ParseError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let at = if raw.chars().count() > MAX_INPUT_CHARS {
            None
        } else {
            parse_instant(raw)
        }
        .ok_or_else(|| {
            ParseError::new(format!(
                "expiresAt '{}' is not a valid date. Use ISO 8601 (2027-01-31T12:00:00Z), YYYY-MM-DD or YYYY/MM/DD",
                raw.chars().take(MAX_INPUT_CHARS).collect::<String>()
            ))
        })?;
        if at > Self::latest() {
            return Err(ParseError::new(TOO_LATE));
        }
        if at <= now {
            return Err(ParseError::new(NOT_FUTURE));
        }
        Ok(Some(Self(at)))
    }

    /// The latest expiry accepted: 9999-12-31T23:59:59Z. A later instant needs a five-digit year
    /// (`+10000-…`), which RFC 3339 cannot express and VAMS clients (Python's `fromisoformat`) cannot
    /// read.
    pub fn latest() -> DateTime<Utc> {
        let last_day = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
        Utc.from_utc_datetime(&last_day.and_time(end_of_day()))
    }

    /// Wraps an already-normalized instant (events, views).
    pub fn from_utc(at: DateTime<Utc>) -> Self {
        Self(at)
    }

    /// The instant.
    pub fn at(&self) -> DateTime<Utc> {
        self.0
    }

    /// True once `now` has reached the expiry.
    pub fn has_passed(&self, now: DateTime<Utc>) -> bool {
        now >= self.0
    }

    /// ISO 8601 with `+00:00`, the shape VAMS puts on the wire.
    pub fn to_wire(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }
}

fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let iso = raw.replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&iso) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&iso, format) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(raw, format) {
            return Some(Utc.from_utc_datetime(&date.and_time(end_of_day())));
        }
    }
    None
}

/// 23:59:59, the time a date-only expiry means.
fn end_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn wire(raw: &str) -> String {
        Expiration::parse(raw, now()).unwrap().unwrap().to_wire()
    }

    #[test]
    fn accepted_formats_normalize_to_utc() {
        let cases = [
            ("2027-01-31T12:00:00Z", "2027-01-31T12:00:00+00:00"),
            ("2027-01-31T12:00:00+02:00", "2027-01-31T10:00:00+00:00"),
            ("2027-01-31 12:00:00-01:30", "2027-01-31T13:30:00+00:00"),
            ("2027-01-31T12:00:00.250Z", "2027-01-31T12:00:00.250+00:00"),
            ("2027-01-31T12:00:00", "2027-01-31T12:00:00+00:00"),
            ("2027-01-31T12:00", "2027-01-31T12:00:00+00:00"),
            ("2027-01-31", "2027-01-31T23:59:59+00:00"),
            ("2027/01/31", "2027-01-31T23:59:59+00:00"),
        ];
        for (input, expected) in cases {
            assert_eq!(wire(input), expected, "{input}");
        }
    }

    #[test]
    fn empty_means_no_expiry() {
        assert_eq!(Expiration::parse("", now()), Ok(None));
    }

    #[test]
    fn rejects_invalid_and_past() {
        let cases = [
            ("tomorrow", "words"),
            ("2027-13-01", "month 13"),
            ("2027-02-30", "no such day"),
            ("31/01/2027", "day first"),
            ("2026-11-26T11:59:59Z", "in the past"),
            ("2026-11-26T12:00:00Z", "exactly now"),
            ("1700000000", "unix seconds"),
        ];
        for (input, why) in cases {
            assert!(Expiration::parse(input, now()).is_err(), "{why}: {input}");
        }
    }

    #[test]
    fn the_range_ends_with_year_9999_in_utc() {
        let latest = Expiration::parse("9999-12-31T23:59:59Z", now())
            .unwrap()
            .unwrap();
        assert_eq!(latest.at(), Expiration::latest());
        assert_eq!(latest.to_wire(), "9999-12-31T23:59:59+00:00");
        for ok in [
            "9999-12-31",
            "9999/12/31",
            "9999-12-31T23:59:59",
            "9999-12-31T23:59:59+00:00",
            "9999-12-31T23:59:59+01:00",
        ] {
            assert!(Expiration::parse(ok, now()).is_ok(), "{ok}");
        }
        let cases = [
            (
                "9999-12-31T23:59:59-01:00",
                "an offset past the end of 9999 in UTC",
            ),
            ("9999-12-31T23:59:59.5Z", "half a second late"),
            ("9999-12-31T23:59:60Z", "a leap second after the last"),
            ("+10000-01-01", "a five-digit year"),
            ("+10000-01-01T00:00:00", "a five-digit naive date-time"),
            ("+262142/12/31", "the largest date chrono holds"),
        ];
        for (input, why) in cases {
            assert_eq!(
                Expiration::parse(input, now()),
                Err(ParseError::new(TOO_LATE)),
                "{why}: {input}"
            );
        }
    }

    #[test]
    fn today_end_of_day_is_future() {
        assert!(Expiration::parse("2026-11-26", now()).unwrap().is_some());
    }

    #[test]
    fn has_passed_at_the_instant() {
        let e = Expiration::parse("2026-11-26T12:00:01Z", now())
            .unwrap()
            .unwrap();
        assert!(!e.has_passed(now()));
        assert!(e.has_passed(now() + chrono::Duration::seconds(1)));
    }
}
