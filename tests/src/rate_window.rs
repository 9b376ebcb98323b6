//! Rate-limit windows as the server counts them: fixed, aligned to multiples of the period since the
//! Unix epoch. A test that fills a window first makes sure it cannot roll over mid-test, or the
//! counts it asserts would be split across two windows.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds until the current window of `period_seconds` ends (1..=period_seconds).
pub fn seconds_left(period_seconds: u64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    period_seconds - now % period_seconds
}

/// Returns once the window in force has at least `needed` left: at once as a rule, or after
/// waiting out the clock-computed rest of a window about to end.
pub async fn with_room(period_seconds: u64, needed: Duration) {
    assert!(
        needed.as_secs() < period_seconds,
        "a window of {period_seconds} s never has {needed:?} of room"
    );
    let left = seconds_left(period_seconds);
    if left <= needed.as_secs() {
        // Past the boundary by a margin, so that the next window has surely begun server-side too.
        tokio::time::sleep(Duration::from_secs(left) + Duration::from_millis(500)).await;
    }
}
