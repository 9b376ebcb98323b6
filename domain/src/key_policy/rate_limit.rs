//! How often a key may be used.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Largest `limit`.
pub const MAX_LIMIT: u32 = 1_000_000;
/// Longest window: a day.
pub const MAX_PERIOD_SECONDS: u32 = 86_400;

/// At most `limit` admissions per window of `period_seconds` (windows aligned to multiples of the
/// period since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "Stored")]
pub struct RateLimit {
    limit: u32,
    period_seconds: u32,
}

/// A limit as stored: read without the parse rules (whatever the log holds must load), but a
/// period of 0 — only a hand-edited log holds one — is read as 1 s, so no window is empty.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    limit: u32,
    period_seconds: u32,
}

impl From<Stored> for RateLimit {
    fn from(stored: Stored) -> Self {
        Self {
            limit: stored.limit,
            period_seconds: stored.period_seconds.max(1),
        }
    }
}

impl RateLimit {
    /// 1 ≤ `limit` ≤ [`MAX_LIMIT`], 1 ≤ `period_seconds` ≤ [`MAX_PERIOD_SECONDS`].
    pub fn new(limit: u64, period_seconds: u64) -> Result<Self, ParseError> {
        let limit = u32::try_from(limit)
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ParseError::new(format!(
                    "rateLimit.limit must be an integer from 1 to {MAX_LIMIT}"
                ))
            })?;
        let period_seconds = u32::try_from(period_seconds)
            .ok()
            .filter(|p| (1..=MAX_PERIOD_SECONDS).contains(p))
            .ok_or_else(|| {
                ParseError::new(format!(
                    "rateLimit.periodSeconds must be an integer from 1 to {MAX_PERIOD_SECONDS}"
                ))
            })?;
        Ok(Self {
            limit,
            period_seconds,
        })
    }

    /// Admissions per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window's length.
    pub fn period_seconds(&self) -> u32 {
        self.period_seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(RateLimit::new(1, 1).is_ok());
        assert!(RateLimit::new(1_000_000, 86_400).is_ok());
        for (limit, period) in [
            (0, 60),
            (1_000_001, 60),
            (10, 0),
            (10, 86_401),
            (u64::MAX, 1),
        ] {
            assert!(RateLimit::new(limit, period).is_err(), "{limit}/{period}");
        }
    }

    #[test]
    fn stored_limits_load_and_a_zero_period_reads_as_one_second() {
        let read: RateLimit = serde_json::from_str(r#"{"limit":0,"periodSeconds":0}"#).unwrap();
        assert_eq!((read.limit(), read.period_seconds()), (0, 1));
        let kept = RateLimit::new(7, 60).unwrap();
        let text = serde_json::to_string(&kept).unwrap();
        assert_eq!(serde_json::from_str::<RateLimit>(&text).unwrap(), kept);
    }
}
