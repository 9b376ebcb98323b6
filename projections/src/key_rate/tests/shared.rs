//! Shared mode: leases from one [`WindowCounts`] for several nodes.
use super::*;
use crate::StoreError;
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// [`MemoryCounts`] that can fail, and that measures how many reservations of a key overlap.
#[derive(Default)]
struct Probe {
    counts: MemoryCounts,
    down: AtomicBool,
    in_flight: AtomicU32,
    most_in_flight: AtomicU32,
    calls: AtomicU64,
}

#[async_trait]
impl WindowCounts for Probe {
    async fn reserve(
        &self,
        key: Uuid,
        period_seconds: u32,
        window: u64,
        want: u32,
        limit: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let reserved = if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable(std::io::Error::other("store down")))
        } else {
            self.counts
                .reserve(key, period_seconds, window, want, limit, expires_at)
                .await
        };
        // The store has written; let other tasks run while its answer is "on the wire".
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        reserved
    }
}

#[tokio::test]
async fn shared_mode_admits_exactly_the_limit_in_leases() {
    let counts = Arc::new(MemoryCounts::new());
    let limiter = KeyRateLimiter::shared(counts.clone());
    let key = Uuid::new_v4();
    let window = at(0).timestamp() as u64 / 60;
    assert_eq!(admitted(&limiter, key, 100, 1, at(0)).await, 1);
    assert_eq!(
        counts.count(key, 60, window),
        5,
        "the first request leases a block of 5"
    );
    assert_eq!(admitted(&limiter, key, 100, 150, at(1)).await, 99);
    assert_eq!(counts.count(key, 60, window), 100);
    assert_eq!(
        counts.reserves(),
        21,
        "20 leases and the one that finds the window full"
    );
    assert_eq!(
        limiter.admit(key, 100, 60, at(20)).await.unwrap(),
        limited(40)
    );
    assert_eq!(
        counts.reserves(),
        21,
        "a full window is refused without the store"
    );
    assert_eq!(
        admitted(&limiter, key, 100, 100, at(60)).await,
        100,
        "the next window"
    );
    assert_eq!(counts.count(key, 60, window + 1), 100);
}

#[tokio::test]
async fn a_store_failure_is_an_error_shared_by_the_requests_waiting_for_it() {
    let probe = Arc::new(Probe::default());
    let limiter = Arc::new(KeyRateLimiter::shared(probe.clone()));
    let key = Uuid::new_v4();
    probe.down.store(true, Ordering::SeqCst);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.admit(key, 100, 60, at(0)).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.unwrap(),
            Err(StoreError::Unavailable(_))
        ));
    }
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        1,
        "the requests that waited share the failure"
    );
    probe.down.store(false, Ordering::SeqCst);
    assert_eq!(
        limiter.admit(key, 100, 60, at(1)).await.unwrap(),
        Admission::Admitted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_sharing_the_counts_never_admit_more_than_the_limit() {
    let probe = Arc::new(Probe::default());
    let nodes = [
        Arc::new(KeyRateLimiter::shared(probe.clone())),
        Arc::new(KeyRateLimiter::shared(probe.clone())),
    ];
    let key = Uuid::new_v4();
    let (limit, lease) = (1_000, lease_size(1_000));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let node = nodes[i % 2].clone();
            tokio::spawn(async move { admitted(&node, key, limit, 50, at(5)).await })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert!(total <= limit, "{total} admitted");
    assert!(
        total > limit - 2 * lease,
        "{total} admitted: at most a lease per node stranded"
    );
    assert!(
        probe.most_in_flight.load(Ordering::SeqCst) <= 2,
        "one reservation per node"
    );
    let calls = probe.calls.load(Ordering::SeqCst);
    assert!(calls <= 2 * 20 + 4, "{calls} reservations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_has_one_reservation_in_flight_per_key() {
    let probe = Arc::new(Probe::default());
    let node = Arc::new(KeyRateLimiter::shared(probe.clone()));
    let key = Uuid::new_v4();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let node = node.clone();
            tokio::spawn(async move { admitted(&node, key, 20, 1, at(0)).await })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 20);
    assert_eq!(probe.most_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(
        probe.calls.load(Ordering::SeqCst),
        21,
        "leases of 1, then the full window"
    );
}

#[tokio::test]
async fn shared_leases_of_ended_windows_are_swept() {
    let limiter = KeyRateLimiter::shared(Arc::new(MemoryCounts::new()));
    let mut most = 0;
    for second in 0..300 {
        for _ in 0..50 {
            limiter
                .admit(Uuid::new_v4(), 10, 1, at(second))
                .await
                .unwrap();
        }
        most = most.max(limiter.tracked_keys());
    }
    assert!(most <= 16 * 64 + 2 * 50, "{most} keys held");
}

#[tokio::test]
async fn admit_now_decides_from_the_lease_and_defers_to_admit_for_the_store() {
    let counts = Arc::new(MemoryCounts::new());
    let limiter = KeyRateLimiter::shared(counts.clone());
    let key = Uuid::new_v4();
    assert_eq!(limiter.admit_now(key, 40, 60, at(0)), None, "no lease yet");
    assert_eq!(
        limiter.admit(key, 40, 60, at(0)).await.unwrap(),
        Admission::Admitted
    );
    assert_eq!(
        limiter.admit_now(key, 40, 60, at(0)),
        Some(Admission::Admitted),
        "the lease of 2"
    );
    assert_eq!(limiter.admit_now(key, 40, 60, at(0)), None, "used up");
    assert_eq!(counts.reserves(), 1);
    assert_eq!(admitted(&limiter, key, 40, 50, at(1)).await, 38);
    assert_eq!(
        limiter.admit_now(key, 40, 60, at(2)),
        Some(limited(58)),
        "known full"
    );
}

#[tokio::test]
async fn a_request_dropped_while_its_reservation_runs_strands_nothing() {
    let probe = Arc::new(Probe::default());
    let limiter = Arc::new(KeyRateLimiter::shared(probe.clone()));
    let key = Uuid::new_v4();
    let dropped = {
        let limiter = limiter.clone();
        tokio::spawn(async move { limiter.admit(key, 40, 60, at(0)).await })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while probe.calls.load(Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reservation started"
        );
        tokio::task::yield_now().await;
    }
    dropped.abort();
    assert!(dropped.await.unwrap_err().is_cancelled());
    assert_eq!(
        admitted(&limiter, key, 40, 50, at(1)).await,
        40,
        "the dropped request's lease is used by the next ones"
    );
}
