//! How long a rotated key's previous secret keeps authenticating.
use crate::ParseError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// 0 to 30 days, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GracePeriod(u32);

impl GracePeriod {
    /// Longest grace: 30 days.
    pub const MAX_SECONDS: u32 = 30 * 24 * 3600;
    /// The grace when none is asked for: one day.
    pub const DEFAULT: Self = Self(86_400);
    /// No grace: the previous secret stops at once.
    pub const NONE: Self = Self(0);

    /// A number of seconds from 0 to [`Self::MAX_SECONDS`].
    pub fn from_seconds(seconds: i64) -> Result<Self, ParseError> {
        u32::try_from(seconds)
            .ok()
            .filter(|s| *s <= Self::MAX_SECONDS)
            .map(Self)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "gracePeriodSeconds must be an integer from 0 to {} (30 days)",
                    Self::MAX_SECONDS
                ))
            })
    }

    /// Seconds.
    pub fn seconds(self) -> u32 {
        self.0
    }

    /// When a previous secret rotated at `at` stops: `at` + grace, never after the key's own expiry.
    pub fn ends(self, at: DateTime<Utc>, key_expires_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
        let end = at + Duration::seconds(i64::from(self.0));
        key_expires_at.map_or(end, |expiry| end.min(expiry).max(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bounds_and_end() {
        for (raw, ok) in [
            (0, true),
            (86_400, true),
            (2_592_000, true),
            (2_592_001, false),
            (-1, false),
        ] {
            assert_eq!(GracePeriod::from_seconds(raw).is_ok(), ok, "{raw}");
        }
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let day = GracePeriod::DEFAULT;
        assert_eq!(day.ends(at, None), at + Duration::days(1));
        let soon = at + Duration::hours(1);
        assert_eq!(
            day.ends(at, Some(soon)),
            soon,
            "never past the key's expiry"
        );
        assert_eq!(GracePeriod::NONE.ends(at, None), at);
    }
}
