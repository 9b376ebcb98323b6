//! The admin guard on a node caching one key (`APIKEYD_CACHE_KEYS=1`): admin keys the node does not
//! hold (evicted, or never read since a restart) still count, so the admin may give up the key they
//! act with while another admin key lives; the last one is still refused and keeps working.
use crate::bounded_cache::trimmed;
use crate::env::{fresh_group, fresh_prefix, ready_within, Emulators};
use crate::node::{Node, NodeConfig};
use serde_json::json;
use std::time::Duration;
use tests::keys::CreatedKey;
use tests::Api;

/// What the guard's refusal says (the `api` suite's `last_admin::LAST_ADMIN`).
const LAST_ADMIN: &str =
    "This would leave no active admin key: at least one unexpired, active key \
                          of a user holding an admin role (APIKEYD_ADMIN_ROLES) must remain";

/// Keys the node holds.
const CAPACITY: u64 = 1;

/// Waits until the node holds at most [`CAPACITY`] keys right after `api`'s admin key was used:
/// that key is then the one it holds, and every other key is only in the store.
async fn holds_only_own_key(api: &Api, what: &str) {
    trimmed(api, CAPACITY, what).await;
}

/// The `api` of the node acting with `key`.
fn acting_with(node: &Node, key: &CreatedKey) -> Api {
    node.api(&key.key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_keys_the_cache_lacks_count_for_the_last_admin_guard() {
    let Some(_emulators) = Emulators::or_skip("admin_guard_cache") else {
        return;
    };
    let logs = tempfile::tempdir().expect("a logs dir");
    let config = NodeConfig::new(&fresh_prefix(), &fresh_group("admin-guard-cache"))
        .with_env("APIKEYD_CACHE_KEYS", &CAPACITY.to_string());
    let node = Node::start(&config, "A", logs.path()).await;
    let bootstrap = node.bootstrap_key().expect("the node bootstraps");
    let admin = node.api(&bootstrap);
    let first = CreatedKey {
        id: admin
            .list_keys()
            .await
            .iter()
            .find(|k| k["apiKeyName"] == "bootstrap-admin")
            .and_then(|k| k["apiKeyId"].as_str())
            .expect("the bootstrap key is listed")
            .to_owned(),
        key: bootstrap.clone(),
        item: serde_json::Value::Null,
    };
    // Given two more keys of the bootstrap admin user (who holds the admin role).
    let second = admin.create_key_ok("second admin key", "admin").await;
    let third = admin.create_key_ok("third admin key", "admin").await;

    // When the node holds only the first key (the others evicted) and the admin deactivates it,
    // acting with it: the keys the node does not hold are admin keys still, so it goes through.
    let as_first = acting_with(&node, &first);
    holds_only_own_key(&as_first, "A holds only the first key").await;
    as_first.set_active(&first.id, false).await;
    assert_eq!(admin.verify_code(&first.key).await, "DISABLED");

    // When the node restarts (its cache starts empty) and the admin deletes the second key, acting
    // with it: the third key, never read since the restart, still counts.
    node.server.stop().await;
    let node = Node::start(&config, "A-restarted", logs.path()).await;
    assert!(
        node.bootstrap_key().is_none(),
        "a restart bootstraps nothing"
    );
    let as_second = acting_with(&node, &second);
    ready_within(&as_second, Duration::from_secs(20)).await;
    holds_only_own_key(&as_second, "the restarted node holds only the second key").await;
    as_second.delete_key(&second.id).await.ok();
    assert_eq!(as_second.verify_code(&second.key).await, "NOT_FOUND");

    // Then the third key, the last active admin key, may neither be deactivated nor deleted, and
    // keeps working.
    let as_third = acting_with(&node, &third);
    as_third
        .update_key(&third.id, &json!({ "isActive": false }))
        .await
        .assert_error(409, LAST_ADMIN);
    as_third
        .delete_key(&third.id)
        .await
        .assert_error(409, LAST_ADMIN);
    as_third.assert_key_works(&third.key).await;
    let listed = as_third.listed_key(&third.id).await.expect("still listed");
    assert_eq!(listed["isActive"], "true", "{listed}");

    // And the cache shrinks back to its capacity once the changes settle.
    holds_only_own_key(&as_third, "the node shrinks back to its capacity").await;
    drop(node);
}
