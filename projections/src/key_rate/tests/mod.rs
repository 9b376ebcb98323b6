//! The engine against its in-memory store: exact counts, windows, leases, failures, bounds.
//! - `local`: exact per-node counts, window arithmetic, limit and period changes, the sweep.
//! - `shared`: leases, exhaustion, failures, concurrency across nodes.
use super::*;

mod local;
mod shared;

/// 2026-12-02T15:00:00Z, a multiple of every period used here.
pub(super) fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_223_600, 0).unwrap()
}

pub(super) fn at(seconds: i64) -> DateTime<Utc> {
    start() + chrono::TimeDelta::seconds(seconds)
}

pub(super) fn limited(secs: u32) -> Admission {
    Admission::Limited {
        retry_after_secs: secs,
    }
}

/// Admissions of `n` requests of `key` at `now`.
pub(super) async fn admitted(
    limiter: &KeyRateLimiter,
    key: Uuid,
    limit: u32,
    n: u32,
    now: DateTime<Utc>,
) -> u32 {
    let mut admitted = 0;
    for _ in 0..n {
        if limiter.admit(key, limit, 60, now).await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    admitted
}
