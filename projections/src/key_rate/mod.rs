//! Per-key rate limits: at most `limit` admitted requests per fixed window of `period_seconds`,
//! windows aligned to multiples of the period since the Unix epoch.
//!
//! [`KeyRateLimiter`] counts what it is asked to admit (the caller asks for valid keys only) in
//! one of two modes:
//! - [`KeyRateLimiter::local`]: exact per node, in memory, no I/O (the embedded backend).
//! - [`KeyRateLimiter::shared`]: exact for the fleet, by leases (the AWS backend). A node
//!   reserves blocks of [`lease_size`] admissions of a window from the shared [`WindowCounts`]
//!   and admits locally while its block lasts; a grant of 0 means the window is full and the node
//!   refuses the key locally until the window ends. The store never counts past the limit, so
//!   the fleet never admits more than it; what nodes leased and did not use by the window's end
//!   is lost, fewer than `nodes × lease_size` admissions per window. See ADR 020.
//!
//! # Layout
//! - [`ports`]: [`WindowCounts`], the shared count, and [`MemoryCounts`], one in memory.
//! - `span`: window arithmetic.
//! - `shards`: the sharded per-key maps and their sweep of ended windows (bounded memory).
//! - `local`, `shared`: the two modes.
//!
//! # Cost
//! Local mode takes one uncontended mutex and a hash look-up per request and allocates only on a
//! key's first request. Shared mode adds a store call every [`lease_size`] admissions of a key
//! on a node (about 20 per node and window, plus the one that finds the window full).
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

mod local;
pub mod ports;
mod shards;
mod shared;
mod span;
#[cfg(test)]
mod tests;

pub use ports::{MemoryCounts, WindowCounts};

/// How a request fared against its key's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the limit; counted.
    Admitted,
    /// Over the limit for the current window.
    Limited {
        /// Seconds until the window ends (at least 1).
        retry_after_secs: u32,
    },
}

/// Leases per window a node takes when it keeps being asked: a lease is a twentieth of the limit
/// (at least 1), so a window costs about 20 store writes per node and strands less than a
/// twentieth of the limit per node.
pub const LEASES_PER_WINDOW: u32 = 20;

/// Admissions a node reserves at once for a key whose limit is `limit`.
pub fn lease_size(limit: u32) -> u32 {
    (limit / LEASES_PER_WINDOW).max(1)
}

/// Counts admissions per key and window, on this node or for the fleet.
pub struct KeyRateLimiter {
    mode: Mode,
}

enum Mode {
    Local(local::LocalCounts),
    Shared(shared::SharedCounts),
}

impl std::fmt::Debug for KeyRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.mode {
            Mode::Local(_) => "local",
            Mode::Shared(_) => "shared",
        };
        f.debug_struct("KeyRateLimiter")
            .field("mode", &mode)
            .field("tracked_keys", &self.tracked_keys())
            .finish()
    }
}

impl KeyRateLimiter {
    /// Exact per node, in memory, no I/O: a fleet of n nodes admits up to n × the limit.
    pub fn local() -> Self {
        Self {
            mode: Mode::Local(local::LocalCounts::new()),
        }
    }

    /// Exact for every node sharing `counts`: admissions are leased from it in blocks.
    pub fn shared(counts: Arc<dyn WindowCounts>) -> Self {
        Self {
            mode: Mode::Shared(shared::SharedCounts::new(counts)),
        }
    }

    /// Counts one request of `key` at `now` against `limit` per window of `period_seconds`.
    /// The limit and period are the key's current ones: a changed limit applies from this request
    /// on. An error (shared mode only) means the shared count could not be reached: the request
    /// can be neither admitted nor refused (answer 503).
    pub async fn admit(
        &self,
        key: Uuid,
        limit: u32,
        period_seconds: u32,
        now: DateTime<Utc>,
    ) -> Result<Admission, crate::StoreError> {
        let seen = span::Seen::new(now, period_seconds);
        let now_secs = seen.secs;
        match &self.mode {
            Mode::Local(local) => Ok(local.admit(key, limit, seen, now_secs)),
            Mode::Shared(shared) => shared.admit(key, limit, seen, now_secs).await,
        }
    }

    /// The same decision as [`admit`](Self::admit) when memory alone makes it, without a
    /// runtime: always in local mode; in shared mode while this node's lease lasts or once the
    /// window is known full. `None` means the shared count must be asked: call `admit`.
    pub fn admit_now(
        &self,
        key: Uuid,
        limit: u32,
        period_seconds: u32,
        now: DateTime<Utc>,
    ) -> Option<Admission> {
        let seen = span::Seen::new(now, period_seconds);
        let now_secs = seen.secs;
        match &self.mode {
            Mode::Local(local) => Some(local.admit(key, limit, seen, now_secs)),
            Mode::Shared(shared) => shared.admit_now(key, limit, seen, now_secs),
        }
    }

    /// Keys with state on this node (ended windows are swept as more keys arrive).
    pub fn tracked_keys(&self) -> usize {
        match &self.mode {
            Mode::Local(local) => local.tracked_keys(),
            Mode::Shared(shared) => shared.tracked_keys(),
        }
    }
}
