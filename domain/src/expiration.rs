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

impl Expiration {
    /// Parses what VAMS clients send and requires it to lie after `now`.
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
        if at <= now {
            return Err(ParseError::new("expiresAt must be in the future"));
        }
        Ok(Some(Self(at)))
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
            let end_of_day = NaiveTime::from_hms_opt(23, 59, 59)?;
            return Some(Utc.from_utc_datetime(&date.and_time(end_of_day)));
        }
    }
    None
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
