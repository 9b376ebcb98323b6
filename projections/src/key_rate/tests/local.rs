//! Local mode and window arithmetic.
use super::*;

#[test]
fn a_lease_is_a_twentieth_of_the_limit_and_at_least_one() {
    for (limit, lease) in [
        (1, 1),
        (19, 1),
        (20, 1),
        (39, 1),
        (40, 2),
        (100, 5),
        (1_000_000, 50_000),
    ] {
        assert_eq!(lease_size(limit), lease, "limit {limit}");
    }
}

#[tokio::test]
async fn local_mode_admits_exactly_the_limit_per_window() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    assert_eq!(admitted(&limiter, key, 5, 8, at(17)).await, 5);
    assert_eq!(
        limiter.admit(key, 5, 60, at(17)).await.unwrap(),
        limited(43)
    );
    assert_eq!(
        admitted(&limiter, Uuid::new_v4(), 5, 3, at(17)).await,
        3,
        "another key has its own count"
    );
    assert_eq!(
        admitted(&limiter, key, 5, 8, at(60)).await,
        5,
        "the next window starts afresh"
    );
}

#[tokio::test]
async fn retry_after_counts_the_seconds_left_in_the_window_and_is_at_least_one() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    limiter.admit(key, 1, 60, at(0)).await.unwrap();
    let cases = [
        (at(0), 60, "at the window's first second"),
        (at(59), 1, "in its last second"),
        (
            at(59) + chrono::TimeDelta::milliseconds(999),
            1,
            "a millisecond before its end",
        ),
        (
            at(30) + chrono::TimeDelta::milliseconds(500),
            30,
            "half a second counts as a whole",
        ),
    ];
    for (now, secs, case) in cases {
        assert_eq!(
            limiter.admit(key, 1, 60, now).await.unwrap(),
            limited(secs),
            "{case}"
        );
    }
}

#[tokio::test]
async fn windows_are_aligned_to_multiples_of_the_period() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    let hour = 3600;
    assert_eq!(
        limiter.admit(key, 1, hour, at(3599)).await.unwrap(),
        Admission::Admitted
    );
    assert_eq!(
        limiter.admit(key, 1, hour, at(3599)).await.unwrap(),
        limited(1)
    );
    assert_eq!(
        limiter.admit(key, 1, hour, at(3600)).await.unwrap(),
        Admission::Admitted
    );
}

#[tokio::test]
async fn a_request_stamped_before_the_current_window_counts_in_it() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    assert_eq!(admitted(&limiter, key, 2, 2, at(60)).await, 2);
    assert_eq!(
        limiter.admit(key, 2, 60, at(59)).await.unwrap(),
        limited(61),
        "the older window is not restarted"
    );
}

#[tokio::test]
async fn a_changed_limit_applies_from_the_next_request_in_both_modes() {
    let shared = KeyRateLimiter::shared(Arc::new(MemoryCounts::new()));
    for limiter in [KeyRateLimiter::local(), shared] {
        let key = Uuid::new_v4();
        assert_eq!(admitted(&limiter, key, 5, 3, at(0)).await, 3, "{limiter:?}");
        assert_eq!(
            admitted(&limiter, key, 2, 4, at(1)).await,
            0,
            "lowered below the count: {limiter:?}"
        );
        assert_eq!(
            admitted(&limiter, key, 10, 20, at(2)).await,
            7,
            "raised: {limiter:?}"
        );
    }
}

#[tokio::test]
async fn a_changed_period_starts_a_new_count() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    assert_eq!(admitted(&limiter, key, 1, 1, at(0)).await, 1);
    assert_eq!(
        limiter.admit(key, 1, 3600, at(1)).await.unwrap(),
        Admission::Admitted
    );
    assert_eq!(
        limiter.admit(key, 1, 3600, at(2)).await.unwrap(),
        limited(3598)
    );
}

#[tokio::test]
async fn ended_windows_are_swept_so_memory_stays_bounded() {
    let limiter = KeyRateLimiter::local();
    // 100 000 keys over 1 000 one-second windows, 100 live at a time.
    let mut most = 0;
    for second in 0..1_000 {
        for _ in 0..100 {
            let now = at(second);
            limiter.admit(Uuid::new_v4(), 10, 1, now).await.unwrap();
        }
        most = most.max(limiter.tracked_keys());
    }
    // Each of the 16 shards holds at most 64 entries or twice what its last sweep kept.
    assert!(most <= 16 * 64 + 2 * 100, "{most} keys held");
}

#[tokio::test]
async fn admit_now_is_admit_in_local_mode() {
    let limiter = KeyRateLimiter::local();
    let key = Uuid::new_v4();
    assert_eq!(
        limiter.admit_now(key, 1, 60, at(0)),
        Some(Admission::Admitted)
    );
    assert_eq!(limiter.admit(key, 1, 60, at(0)).await.unwrap(), limited(60));
    assert_eq!(limiter.admit_now(key, 1, 60, at(1)), Some(limited(59)));
}
