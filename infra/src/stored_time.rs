//! The one text form of an instant in every store and file apikeyd writes: SQLite columns, DynamoDB
//! attributes, JSON view bodies, events and audit lines.
//!
//! Written as RFC 3339 in UTC with `Z` and as many fractional digits as the instant needs
//! (`SecondsFormat::AutoSi`): exactly what chrono's serde writes for a `DateTime<Utc>`, so a column and
//! the JSON body beside it hold the same text. Read back with chrono's relaxed RFC 3339 parser
//! (`DateTime<FixedOffset>: FromStr`, also what chrono's serde reads), which unlike
//! `DateTime::parse_from_rfc3339` takes the expanded years chrono writes outside 0000–9999
//! (`+10000-01-01T00:59:59Z`), any offset (older versions wrote `+00:00` with `to_rfc3339()`) and
//! leap seconds. So every `DateTime<Utc>` an event can hold survives write → read exactly, and a log
//! written by an older version, however far its expiries lie, loads.
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// A stored instant that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("stored time {text:?} is not an RFC 3339 instant: {source}")]
pub struct StoredTimeError {
    /// The text found.
    pub text: String,
    /// Why chrono refused it.
    #[source]
    pub source: chrono::ParseError,
}

/// The stored text of `at`.
pub fn write(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The stored text of a node's clock reading with exactly nine fractional digits, so that readings
/// of years 0000–9999 sort as text in time order (DynamoDB feed cursors compare strings). [`read`]
/// reads it back like any other.
pub fn write_sortable(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The instant stored as `text` by [`write`], [`write_sortable`], chrono's serde or an older
/// version's `to_rfc3339()`.
pub fn read(text: &str) -> Result<DateTime<Utc>, StoredTimeError> {
    text.parse::<DateTime<FixedOffset>>()
        .map(|at| at.with_timezone(&Utc))
        .map_err(|source| StoredTimeError {
            text: text.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any instant chrono holds, leap seconds included.
    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let seconds = DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp();
        (seconds, 0u32..2_000_000_000)
            .prop_filter_map("not an instant", |(s, n)| DateTime::from_timestamp(s, n))
    }

    proptest! {
        #[test]
        fn every_instant_round_trips(at in any_instant()) {
            prop_assert_eq!(read(&write(at)).unwrap(), at);
            prop_assert_eq!(read(&write_sortable(at)).unwrap(), at);
            prop_assert_eq!(read(&at.to_rfc3339()).unwrap(), at, "what older versions wrote");
        }

        #[test]
        fn columns_hold_the_json_bodies_text(at in any_instant()) {
            prop_assert_eq!(serde_json::to_string(&at).unwrap(), format!("\"{}\"", write(at)));
        }
    }

    #[test]
    fn reads_what_earlier_versions_wrote() {
        let cases = [
            ("2027-01-31T23:59:59+00:00", "2027-01-31T23:59:59Z"),
            (
                "2027-01-31T23:59:59.123456789Z",
                "2027-01-31T23:59:59.123456789Z",
            ),
            ("+10000-01-01T00:59:59+00:00", "+10000-01-01T00:59:59Z"),
            ("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.500Z"),
        ];
        for (stored, normalized) in cases {
            assert_eq!(write(read(stored).unwrap()), normalized, "{stored}");
        }
        assert!(read("31/01/2027").is_err());
    }

    #[test]
    fn sortable_text_sorts_in_time_order() {
        let early = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let late = DateTime::from_timestamp(1_800_000_000, 5).unwrap();
        assert!(write_sortable(early) < write_sortable(late));
    }
}
