//! Fixed windows: window `w` of a period `p` covers the Unix seconds `[w·p, (w+1)·p)`, so every
//! node computes the same windows from its clock without agreeing on anything.
use chrono::{DateTime, TimeDelta, Utc};

/// How long after its end a shared window's row is kept: a node whose clock lags the others by
/// less than this still finds the row instead of starting the window afresh.
const EXPIRY_MARGIN: TimeDelta = TimeDelta::hours(1);

/// One window of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    /// Seconds per window (≥ 1).
    pub period: u32,
    /// Windows since the Unix epoch.
    pub window: u64,
}

/// Whole seconds since the Unix epoch (instants before it count as the epoch).
pub(super) fn unix_secs(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

impl Span {
    /// The window of `period_seconds` (0 is treated as 1) that holds `now_secs`.
    pub fn at(now_secs: u64, period_seconds: u32) -> Self {
        let period = period_seconds.max(1);
        Self {
            period,
            window: now_secs / u64::from(period),
        }
    }

    /// The first second after the window.
    pub fn end_secs(self) -> u64 {
        self.window
            .saturating_add(1)
            .saturating_mul(u64::from(self.period))
    }

    /// Whether the window is over at `now_secs`.
    pub fn ended(self, now_secs: u64) -> bool {
        self.end_secs() <= now_secs
    }

    /// Seconds from `now_secs` until the window ends, at least 1 (a client told 0 would retry at
    /// once into the same full window).
    pub fn retry_after(self, now_secs: u64) -> u32 {
        let left = self.end_secs().saturating_sub(now_secs).max(1);
        u32::try_from(left).unwrap_or(u32::MAX)
    }

    /// When a shared row of this window may be dropped.
    pub fn expires_at(self) -> DateTime<Utc> {
        let end = i64::try_from(self.end_secs()).unwrap_or(i64::MAX / 2);
        DateTime::from_timestamp(end, 0)
            .and_then(|end| end.checked_add_signed(EXPIRY_MARGIN))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Moves `self` to the window of `seen` when that is a later window or another period; true
    /// when it moved (the count starts again). A request stamped a little earlier than one
    /// already counted (two tasks reading the clock in the other order) is counted in the current
    /// window, never restarting an older one. The common case — same period, window not over —
    /// costs a multiplication, not the division that finds a window.
    pub fn advance(&mut self, seen: Seen) -> bool {
        if seen.period == self.period && seen.secs < self.end_secs() {
            return false;
        }
        *self = seen.span();
        true
    }
}

/// A request's instant and its key's period, before the division that finds its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    /// Whole seconds since the Unix epoch.
    pub secs: u64,
    /// Seconds per window (≥ 1).
    pub period: u32,
}

impl Seen {
    /// `now` under windows of `period_seconds` (0 is treated as 1).
    pub fn new(now: DateTime<Utc>, period_seconds: u32) -> Self {
        Self {
            secs: unix_secs(now),
            period: period_seconds.max(1),
        }
    }

    /// The window holding the instant.
    pub fn span(self) -> Span {
        Span::at(self.secs, self.period)
    }
}
