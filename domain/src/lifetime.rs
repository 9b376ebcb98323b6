//! The operator's cap on how long a key may live (`APIKEYD_MAX_KEY_LIFETIME_DAYS`).
use crate::Expiration;
use chrono::{DateTime, Duration, Utc};

/// Keys must expire within this many days of any create, rotation or expiry change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxKeyLifetime {
    days: u32,
}

/// An expiry the policy refuses; the message names the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    /// No expiry at all.
    #[error("expiresAt is required: keys must expire within {days} days (APIKEYD_MAX_KEY_LIFETIME_DAYS)")]
    Missing {
        /// The limit.
        days: u32,
    },
    /// An expiry beyond the limit.
    #[error("expiresAt must be no later than {latest} ({days} days from now, APIKEYD_MAX_KEY_LIFETIME_DAYS)")]
    TooLate {
        /// The limit.
        days: u32,
        /// The latest accepted expiry, RFC 3339.
        latest: String,
    },
}

impl MaxKeyLifetime {
    /// A limit of `days` (at least 1).
    pub fn days(days: u32) -> Self {
        Self { days: days.max(1) }
    }

    /// The latest expiry accepted at `now`.
    pub fn latest(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::days(i64::from(self.days))
    }

    /// Accepts `expires_at` when it is set and no later than now + the limit.
    pub fn check(
        self,
        expires_at: Option<&Expiration>,
        now: DateTime<Utc>,
    ) -> Result<(), LifetimeError> {
        let Some(expiry) = expires_at else {
            return Err(LifetimeError::Missing { days: self.days });
        };
        let latest = self.latest(now);
        if expiry.at() > latest {
            return Err(LifetimeError::TooLate {
                days: self.days,
                latest: latest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expiries_within_the_limit_only() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let policy = MaxKeyLifetime::days(90);
        let at = |days| Expiration::from_utc(now + Duration::days(days));
        assert!(policy.check(Some(&at(90)), now).is_ok());
        assert!(policy.check(Some(&at(1)), now).is_ok());
        let late = policy.check(Some(&at(91)), now).unwrap_err().to_string();
        assert!(late.contains("90 days"), "{late}");
        let missing = policy.check(None, now).unwrap_err().to_string();
        assert!(missing.contains("90 days"), "{missing}");
    }
}
