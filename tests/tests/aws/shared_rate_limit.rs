//! One rate limit across a fleet: two `apikeyd serve` processes on one table set lease blocks of a
//! key's window from `<prefix>-rate-limits`, so together they never admit more than the limit, and
//! at most the blocks stranded on a node (max(1, limit/20) each) go unused.
use crate::env::{fresh_group, fresh_prefix, Emulators};
use crate::node::{start_pair, NodeConfig};
use futures::future::join;
use serde_json::json;
use std::time::Duration;
use tests::keys::{created, key_body};
use tests::rate_window::with_room;
use tests::Api;

const LIMIT: u64 = 40;
/// An hour: [`with_room`] makes sure the window cannot roll while the test fills it.
const PERIOD: u64 = 3_600;
const ROOM: Duration = Duration::from_secs(180);
/// Requests per node, sent in pairs (one to each node at once).
const PER_NODE: usize = 50;
/// What one node may hold leased and unused when the window is spent.
const STRANDED_PER_NODE: u64 = if LIMIT / 20 > 1 { LIMIT / 20 } else { 1 };

/// Whether one verify on `api` was admitted; any code other than the two expected fails the test.
async fn admitted(api: &Api, key: &str, node: &str) -> bool {
    match api.verify_code(key).await.as_str() {
        "VALID" => true,
        "RATE_LIMITED" => false,
        other => panic!("node {node}: verify answered {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_together_never_admit_more_than_the_limit() {
    let Some(_emulators) = Emulators::or_skip("shared_rate_limit") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("shared-rate-limit"));
    let (node_a, node_b, admin_key) = start_pair(&config, logs.path()).await;
    let (a, b) = (node_a.api(&admin_key), node_b.api(&admin_key));
    a.ensure_role("reader").await;
    a.assign_roles("limited-user", &["reader"]).await.ok();
    let mut body = key_body("fleet limited", "limited-user", "one limit, two nodes");
    body["rateLimit"] = json!({ "limit": LIMIT, "periodSeconds": PERIOD });
    let key = created(&a.create_key(&body).await);

    with_room(PERIOD, ROOM).await;
    let mut count = [0u64; 2];
    for _ in 0..PER_NODE {
        let (on_a, on_b) = join(admitted(&a, &key.key, "A"), admitted(&b, &key.key, "B")).await;
        count[0] += u64::from(on_a);
        count[1] += u64::from(on_b);
    }
    let total = count[0] + count[1];
    eprintln!(
        "shared_rate_limit: admitted A {} + B {} = {total} of {LIMIT}",
        count[0], count[1]
    );
    assert!(
        total <= LIMIT,
        "the fleet admitted {total} > {LIMIT} (A {}, B {})",
        count[0],
        count[1]
    );
    let floor = LIMIT - 2 * STRANDED_PER_NODE;
    assert!(
        total >= floor,
        "the fleet admitted only {total} < {floor} (A {}, B {})",
        count[0],
        count[1]
    );
    for (label, api) in [("A", &a), ("B", &b)] {
        assert!(
            !admitted(api, &key.key, label).await,
            "node {label} admits after the window is spent"
        );
        api.check(&key.key).await.assert_status(429);
    }
    drop((node_a, node_b));
}
