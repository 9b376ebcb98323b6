//! The fleet's shared rate-limit counts on DynamoDB Local: a conditional add never passes the
//! limit and leases what is left; two nodes (two clients) hammering one key admit at most the
//! limit between them, lose less than a lease each, and fill a window in a bounded number of
//! writes; the table expires its rows; a missing table is "unavailable", not a refusal.
//!
//! Needs `APIKEYD_EMULATORS` (set by `eval "$(bash scripts/emulators.sh start)"`, always set in
//! CI); without it every case prints why it is skipped and passes.
use chrono::{DateTime, Utc};
use infra::dynamo::rate_counts::DynamoWindowCounts;
use infra::DynamoStore;
use projections::key_rate::{lease_size, Admission, KeyRateLimiter, WindowCounts};
use projections::StoreError;
use std::sync::Arc;
use uuid::Uuid;

fn emulators() -> bool {
    let set = std::env::var_os("APIKEYD_EMULATORS").is_some_and(|v| !v.is_empty());
    if !set {
        eprintln!("skipped: APIKEYD_EMULATORS is not set (run `eval \"$(bash scripts/emulators.sh start)\"` first)");
    }
    set
}

/// A fresh prefix with its tables.
async fn fresh_store() -> DynamoStore {
    let store = DynamoStore::connect(&format!("t{}", Uuid::new_v4().simple())).await;
    store.init_tables().await.unwrap();
    store
}

/// A fixed instant, so every request of a case falls in one window whatever the test's pace. It
/// lies far in the future: the rows' `ExpiresAt` derives from it, and DynamoDB Local's TTL sweeper
/// deletes a row whose expiry has passed, mid-test (a fixed instant in the past once failed CI).
fn noon() -> DateTime<Utc> {
    DateTime::from_timestamp(4_102_444_800, 0).unwrap()
}

#[tokio::test]
async fn a_reservation_never_passes_the_limit_and_leases_what_is_left() {
    if !emulators() {
        return;
    }
    let counts = DynamoWindowCounts::new(fresh_store().await);
    let (key, expires) = (Uuid::new_v4(), noon());
    let reserve = |want| counts.reserve(key, 60, 7, want, 15, expires);
    assert_eq!(reserve(10).await.unwrap(), 10);
    assert_eq!(reserve(10).await.unwrap(), 5, "the rest of the window");
    assert_eq!(reserve(10).await.unwrap(), 0, "a full window");
    assert_eq!(
        counts.reserve(key, 60, 8, 10, 15, expires).await.unwrap(),
        10,
        "another window has its own count"
    );
    assert_eq!(
        counts.reserve(key, 30, 7, 10, 15, expires).await.unwrap(),
        10,
        "so has another period"
    );
    // 1 + 2 (the lease, then the rest) + 1 (the count comes back: nothing left) + 1 + 1.
    let requests = counts.requests();
    assert_eq!(requests.updates, 6, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_admit_at_most_the_limit_between_them_in_bounded_writes() {
    if !emulators() {
        return;
    }
    let prefix = format!("t{}", Uuid::new_v4().simple());
    let first = DynamoStore::connect(&prefix).await;
    first.init_tables().await.unwrap();
    let counts = [
        Arc::new(DynamoWindowCounts::new(first)),
        Arc::new(DynamoWindowCounts::new(DynamoStore::connect(&prefix).await)),
    ];
    let nodes = counts
        .clone()
        .map(|c| Arc::new(KeyRateLimiter::shared(c as Arc<dyn WindowCounts>)));
    let (key, limit) = (Uuid::new_v4(), 200);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let node = nodes[i % 2].clone();
            tokio::spawn(async move {
                let mut admitted = 0u32;
                for _ in 0..40 {
                    match node.admit(key, limit, 60, noon()).await.unwrap() {
                        Admission::Admitted => admitted += 1,
                        Admission::Limited { retry_after_secs } => {
                            assert_eq!(retry_after_secs, 60)
                        }
                    }
                }
                admitted
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    let lease = lease_size(limit);
    assert!(total <= limit, "{total} admitted");
    assert!(total >= limit - 2 * lease, "{total} admitted");
    let updates: u64 = counts.iter().map(|c| c.requests().updates).sum();
    eprintln!("{total} of {limit} admitted in {updates} UpdateItem calls");
    // 20 leases fill the window; each node then asks for the rest (up to 3 tries) and learns the
    // window is full once, after which it asks nothing more.
    assert!(updates <= 20 + 2 * 4, "{updates} UpdateItem calls");
    let before = updates;
    for node in &nodes {
        assert!(matches!(
            node.admit(key, limit, 60, noon()).await.unwrap(),
            Admission::Limited { .. }
        ));
    }
    let after: u64 = counts.iter().map(|c| c.requests().updates).sum();
    assert_eq!(after, before, "a full window is refused without DynamoDB");
}

#[tokio::test]
async fn the_rate_limits_table_expires_its_rows_and_init_runs_twice() {
    if !emulators() {
        return;
    }
    let store = fresh_store().await;
    store.init_tables().await.unwrap();
    let described = store
        .client()
        .describe_time_to_live()
        .table_name(&store.tables().rate_limits)
        .send()
        .await
        .unwrap();
    let ttl = described.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("ExpiresAt"));
}

#[tokio::test]
async fn a_missing_table_is_unavailable() {
    if !emulators() {
        return;
    }
    let store = DynamoStore::connect(&format!("t{}", Uuid::new_v4().simple())).await;
    let limiter = KeyRateLimiter::shared(store.window_counts());
    let refused = limiter.admit(Uuid::new_v4(), 10, 60, noon()).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{refused:?}"
    );
}
