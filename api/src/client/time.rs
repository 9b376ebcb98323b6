//! Times typed on the command line. Times without an offset are UTC throughout, as the server reads
//! them.
use super::error::{ClientError, ClientResult};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};

/// The expiry time of a date-only `--expires-at`, as the web console and VAMS use.
pub const END_OF_DAY: &str = "23:59:59";

/// `auth login --expires-at`: `+SECONDS` from now, Unix seconds, or ISO 8601. Must lie in the future.
pub fn login_expiry(raw: &str, now: DateTime<Utc>) -> ClientResult<DateTime<Utc>> {
    let raw = raw.trim();
    let at = if let Some(offset) = raw.strip_prefix('+') {
        offset
            .parse::<i64>()
            .ok()
            .and_then(|s| now.checked_add_signed(chrono::TimeDelta::try_seconds(s)?))
    } else if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<i64>()
            .ok()
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
    } else {
        parse_instant(raw)
    };
    let at = at.ok_or_else(|| {
        ClientError::Usage(format!(
            "invalid --expires-at '{raw}': use +SECONDS, Unix seconds or ISO 8601 (2027-01-31T12:00:00Z)"
        ))
    })?;
    if at <= now {
        return Err(ClientError::Usage(format!(
            "--expires-at {} is in the past",
            show(at)
        )));
    }
    Ok(at)
}

/// `api-key create|update --expires-at [--expires-time]` as the wire's `YYYY-MM-DDTHH:MM:SSZ`.
/// A date (`YYYY-MM-DD` or `YYYY/MM/DD`) takes `time` (default 23:59:59 UTC); a full date-time
/// takes no `time`.
pub fn key_expiry(raw: &str, time: Option<&str>) -> ClientResult<String> {
    let raw = raw.trim();
    let at = match parse_date(raw) {
        Some(date) => {
            let time_text = time.unwrap_or(END_OF_DAY);
            let time = NaiveTime::parse_from_str(time_text.trim(), "%H:%M:%S").map_err(|_| {
                ClientError::Usage(format!(
                    "invalid --expires-time '{time_text}': use HH:MM:SS (UTC)"
                ))
            })?;
            Utc.from_utc_datetime(&date.and_time(time))
        }
        None if time.is_some() => {
            return Err(ClientError::Usage(
                "--expires-time goes with a date-only --expires-at (YYYY-MM-DD or YYYY/MM/DD)"
                    .into(),
            ))
        }
        None => parse_instant(raw).ok_or_else(|| {
            ClientError::Usage(format!(
                "invalid --expires-at '{raw}': use YYYY-MM-DD, YYYY/MM/DD or ISO 8601 (2027-01-31T12:00:00Z)"
            ))
        })?,
    };
    Ok(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// `api-key rotate --grace`: whole seconds, or a number with `s`, `m`, `h` or `d` (`24h`, `90m`).
/// The server checks the range (0 to 30 days).
pub fn grace_seconds(raw: &str) -> ClientResult<u64> {
    let raw = raw.trim();
    duration_seconds(raw).ok_or_else(|| {
        ClientError::Usage(format!(
            "invalid --grace '{raw}': use seconds or a number with s, m, h or d (24h)"
        ))
    })
}

/// Whole seconds, or a number with `s`, `m`, `h` or `d` (`24h`, `90m`). `None` for anything
/// else, or past `u64`.
pub fn duration_seconds(raw: &str) -> Option<u64> {
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(scale)
}

/// An instant for people: `2027-01-31 12:00:00 UTC`.
pub fn show(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Unix seconds as [`show`] does, or the raw number if out of range.
pub fn show_unix(seconds: i64) -> String {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .map_or_else(|| seconds.to_string(), show)
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y/%m/%d"))
        .ok()
}

/// RFC 3339 with `Z` or an offset, or a naive date-time read as UTC.
fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(|naive| Utc.from_utc_datetime(&naive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn grace_takes_seconds_or_a_unit() {
        let cases = [
            ("0", Some(0)),
            ("3600", Some(3600)),
            ("90s", Some(90)),
            ("30m", Some(1800)),
            ("24h", Some(86_400)),
            ("7d", Some(604_800)),
            ("1.5h", None),
            ("h", None),
            ("-1", None),
            ("24 hours", None),
        ];
        for (raw, want) in cases {
            assert_eq!(grace_seconds(raw).ok(), want, "{raw}");
        }
    }

    #[test]
    fn login_expiry_accepts_the_three_forms() {
        let cases = [
            ("+3600", "2026-01-01T01:00:00Z", "relative seconds"),
            ("1798761600", "2027-01-01T00:00:00Z", "unix seconds"),
            ("2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "ISO with Z"),
            (
                "2027-01-01T02:00:00+02:00",
                "2027-01-01T00:00:00Z",
                "ISO offset",
            ),
            (
                "2027-01-01T00:00:00",
                "2027-01-01T00:00:00Z",
                "naive is UTC",
            ),
        ];
        for (raw, want, why) in cases {
            let got = login_expiry(raw, now()).unwrap();
            assert_eq!(
                got.to_rfc3339_opts(SecondsFormat::Secs, true),
                want,
                "{why}"
            );
        }
    }

    #[test]
    fn login_expiry_refuses_bad_and_past_values() {
        for (raw, why) in [
            ("", "empty"),
            ("+", "no number"),
            ("+x", "not a number"),
            ("tomorrow", "words"),
            ("1", "unix past"),
            ("+0", "now is not the future"),
            ("-5", "negative"),
            ("2025-01-01T00:00:00Z", "ISO past"),
        ] {
            assert!(
                matches!(login_expiry(raw, now()), Err(ClientError::Usage(_))),
                "{why}: {raw:?}"
            );
        }
    }

    #[test]
    fn key_expiry_normalises_to_utc_seconds() {
        let cases = [
            (
                "2027-01-31",
                None,
                "2027-01-31T23:59:59Z",
                "date default time",
            ),
            ("2027/01/31", None, "2027-01-31T23:59:59Z", "slashes"),
            (
                "2027-01-31",
                Some("08:30:00"),
                "2027-01-31T08:30:00Z",
                "time",
            ),
            ("2027-01-31T12:00:00Z", None, "2027-01-31T12:00:00Z", "ISO"),
            (
                "2027-01-31T14:00:00+02:00",
                None,
                "2027-01-31T12:00:00Z",
                "off",
            ),
        ];
        for (raw, time, want, why) in cases {
            assert_eq!(key_expiry(raw, time).unwrap(), want, "{why}");
        }
    }

    #[test]
    fn key_expiry_refuses_bad_combinations() {
        for (raw, time, why) in [
            (
                "2027-01-31T12:00:00Z",
                Some("08:00:00"),
                "time with a full date-time",
            ),
            ("2027-01-31", Some("25:00:00"), "bad time"),
            ("2027-02-30", None, "no such day"),
            ("31/01/2027", None, "day first"),
        ] {
            assert!(
                matches!(key_expiry(raw, time), Err(ClientError::Usage(_))),
                "{why}"
            );
        }
    }
}
