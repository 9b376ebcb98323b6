//! Three `apikeyd serve` nodes on one table set, each caching a few keys at most
//! (`APIKEYD_CACHE_KEYS`; C only one): every key works on every node though none holds them all; a
//! key a node holds is verified without the store (no look-up counted), one it does not costs one
//! look-up and is then held; each cache shrinks back to its capacity after a burst of creates; and
//! a revocation reaches a node within a second whether that node holds the key or not
//! (`multi_node::refused_on` asserts the bound).
use crate::env::{eventually, fresh_group, fresh_prefix, Emulators};
use crate::multi_node::refused_on;
use crate::node::{Node, NodeConfig};
use std::time::Duration;
use tests::keys::CreatedKey;
use tests::Api;

/// Keys A and B may hold.
const CAPACITY: u64 = 8;

/// Keys the test creates: far more than one node holds.
const KEYS: usize = 30;

/// Keys changed by a fold are held 10 s (a feed re-read must find them), then trimmed.
pub(crate) const TRIM_DEADLINE: Duration = Duration::from_secs(40);

/// A gauge of a node's `/metrics`.
pub(crate) async fn gauge(api: &Api, name: &str) -> u64 {
    let text = api.get("/metrics").anonymous().send().await.text;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}")) as u64
}

/// Waits until `api` holds at most `capacity` keys.
pub(crate) async fn trimmed(api: &Api, capacity: u64, what: &str) {
    eventually(what, TRIM_DEADLINE, Duration::from_millis(200), || async {
        // A verification of the admin key keeps it the one key certainly in use.
        api.get("/auth/api-keys").send().await.assert_status(200);
        match gauge(api, "apikeyd_key_cache_keys").await {
            held if held <= capacity => Ok(()),
            held => Err(format!("holds {held} keys, capacity {capacity}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_with_small_caches_serve_every_key_and_revoke_within_a_second() {
    let Some(_emulators) = Emulators::or_skip("bounded_cache") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("bounded-cache"));
    let small = config
        .clone()
        .with_env("APIKEYD_CACHE_KEYS", &CAPACITY.to_string());
    let first = Node::start(&small, "A", logs.path()).await;
    let admin_key = first.bootstrap_key().expect("the first node bootstraps");
    let tiny = config.with_env("APIKEYD_CACHE_KEYS", "1");
    let (second, third) = tokio::join!(
        Node::start(&small, "B", logs.path()),
        Node::start(&tiny, "C", logs.path())
    );
    let (a, b, c) = (
        first.api(&admin_key),
        second.api(&admin_key),
        third.api(&admin_key),
    );
    let mut keys: Vec<CreatedKey> = vec![a.key_for_new_user("cache-user", &["reader"]).await];
    for n in 1..KEYS {
        keys.push(a.create_key_ok(&format!("cached-{n}"), "cache-user").await);
    }
    for node in [&a, &b, &c] {
        for key in &keys {
            assert_eq!(node.verify_code(&key.key).await, "VALID");
        }
    }
    trimmed(&a, CAPACITY, "A shrinks back to its capacity").await;
    trimmed(&b, CAPACITY, "B shrinks back to its capacity").await;
    trimmed(&c, 1, "C shrinks back to its capacity").await;

    // Every key again on B: each one B does not hold costs exactly one look-up and is then held.
    let before = gauge(&b, "apikeyd_key_store_lookups").await;
    for key in &keys {
        let seen = gauge(&b, "apikeyd_key_store_lookups").await;
        assert_eq!(b.verify_code(&key.key).await, "VALID");
        let cold = gauge(&b, "apikeyd_key_store_lookups").await;
        assert!(cold <= seen + 1, "one look-up at most for a key");
        for _ in 0..5 {
            assert_eq!(b.verify_code(&key.key).await, "VALID");
        }
        assert_eq!(
            gauge(&b, "apikeyd_key_store_lookups").await,
            cold,
            "a key just verified is held: no look-up"
        );
    }
    let looked_up = gauge(&b, "apikeyd_key_store_lookups").await - before;
    eprintln!("bounded_cache: {looked_up} look-ups for {KEYS} keys on a node holding {CAPACITY}");
    assert!(
        looked_up >= KEYS as u64 - CAPACITY,
        "keys B could not hold were looked up: {looked_up}"
    );

    // Held by B (just verified), and not held by C (it holds one key: the admin key it just used).
    let held = &keys[KEYS - 1];
    let uncached = &keys[KEYS - 2];
    assert_eq!(b.verify_code(&held.key).await, "VALID");
    trimmed(&c, 1, "C holds only the admin key").await;
    a.set_active(&held.id, false).await;
    a.set_active(&uncached.id, false).await;
    for (what, node, key) in [("held on B", &b, held), ("not held on C", &c, uncached)] {
        let took = refused_on(node, &key.key, "DISABLED", what).await;
        eprintln!("bounded_cache: deactivate on A -> key {what} refused after {took:?}");
    }
    let gone = &keys[3];
    trimmed(&c, 1, "C holds only the admin key again").await;
    a.delete_key(&gone.id).await.ok();
    for (label, node) in [("B", &b), ("C", &c)] {
        let took = refused_on(node, &gone.key, "NOT_FOUND", "deleted").await;
        eprintln!("bounded_cache: delete on A -> refused on {label} after {took:?}");
    }
    drop((first, second, third));
}
