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
        let Some(recorded) = Self::parse_recorded(raw)? else {
            return Ok(None);
        };
        if recorded.expiration.0 <= now {
            return Err(ParseError::new(NOT_FUTURE));
        }
        Ok(Some(recorded.expiration))
    }

    /// Reads an expiry another system already stored (an import), the way [`Expiration::parse`]
    /// reads a request, but without requiring the future: a key that has expired is still a key.
    /// The range ends at [`Expiration::latest`] here too, so every stored expiry has a wire form.
    /// Says which form the text had, so an importer can report the ones it had to interpret.
    pub fn parse_recorded(raw: &str) -> Result<Option<RecordedExpiry>, ParseError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let parsed = if raw.chars().count() > MAX_INPUT_CHARS {
            None
        } else {
            parse_instant(raw)
        };
        let (at, form) = parsed.ok_or_else(|| {
            ParseError::new(format!(
                "expiresAt '{}' is not a valid date. Use ISO 8601 (2027-01-31T12:00:00Z), YYYY-MM-DD or YYYY/MM/DD",
                raw.chars().take(MAX_INPUT_CHARS).collect::<String>()
            ))
        })?;
        if at > Self::latest() {
            return Err(ParseError::new(TOO_LATE));
        }
        Ok(Some(RecordedExpiry {
            expiration: Self(at),
            form,
        }))
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

/// How an expiry text named its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExpiryForm {
    /// RFC 3339 with `Z` or an offset: the instant itself.
    Exact,
    /// A date-time without offset, read as UTC.
    NaiveDateTime,
    /// A date alone, read as 23:59:59 UTC that day.
    DateOnly,
}

/// An expiry read from a stored record, with the form its text had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedExpiry {
    /// The instant, normalized to UTC.
    pub expiration: Expiration,
    /// How the text named it.
    pub form: ExpiryForm,
}

fn parse_instant(raw: &str) -> Option<(DateTime<Utc>, ExpiryForm)> {
    let iso = raw.replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&iso) {
        return Some((at.with_timezone(&Utc), ExpiryForm::Exact));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&iso, format) {
            return Some((Utc.from_utc_datetime(&naive), ExpiryForm::NaiveDateTime));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(raw, format) {
            return Some((
                Utc.from_utc_datetime(&date.and_time(end_of_day())),
                ExpiryForm::DateOnly,
            ));
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

    #[test]
    fn recorded_expiries_keep_the_past_and_name_their_form() {
        let cases = [
            (
                "2020-01-31T12:00:00+02:00",
                "2020-01-31T10:00:00+00:00",
                ExpiryForm::Exact,
            ),
            (
                "2020-01-31T12:00:00",
                "2020-01-31T12:00:00+00:00",
                ExpiryForm::NaiveDateTime,
            ),
            (
                "2030-01-31",
                "2030-01-31T23:59:59+00:00",
                ExpiryForm::DateOnly,
            ),
        ];
        for (input, wire, form) in cases {
            let recorded = Expiration::parse_recorded(input).unwrap().unwrap();
            assert_eq!(recorded.expiration.to_wire(), wire, "{input}");
            assert_eq!(recorded.form, form, "{input}");
        }
        assert_eq!(Expiration::parse_recorded(" "), Ok(None));
        assert!(Expiration::parse_recorded("next week").is_err());
    }
}
