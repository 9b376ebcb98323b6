//! Commands on one aggregate queue behind each other instead of failing: parallel updates of one key
//! all succeed and each is recorded; parallel guarded commands on different keys all succeed too.
use futures::future::join_all;
use serde_json::json;
use std::collections::BTreeSet;
use tests::keys::key_path;
use tests::{spawn_app, Reply};

/// Parallel updates of one key.
const PARALLEL: usize = 50;

/// Parallel deactivations of different keys: they queue on the admin guard one after the other, so
/// fewer keep the last one well inside the client's timeout on a loaded machine.
const GUARDED: usize = 20;

#[track_caller]
fn all_ok(replies: &[Reply]) {
    let failed: Vec<String> = replies
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| format!("{} {}", r.status, r.text))
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}

#[tokio::test]
async fn parallel_updates_of_one_key_all_succeed_and_are_all_recorded() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let bodies: Vec<_> = (0..PARALLEL)
        .map(|i| json!({ "description": format!("update {i}") }))
        .collect();
    let replies = join_all(bodies.iter().map(|b| app.update_key(&key.id, b))).await;
    all_ok(&replies);
    let audit = app
        .get(&format!("{}/audit", key_path(&key.id)))
        .send()
        .await;
    let items = audit.ok()["Items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        items.len(),
        PARALLEL + 1,
        "create + every update: {items:?}"
    );
    let listed = app.get_key(&key.id).await;
    let last = listed.ok()["description"].as_str().unwrap_or("").to_owned();
    assert!(last.starts_with("update "), "{last}");
}

#[tokio::test]
async fn parallel_deactivations_of_different_keys_all_succeed() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    let mut ids = Vec::new();
    for i in 0..GUARDED {
        ids.push(app.create_key_ok(&format!("bot key {i}"), "bot").await.id);
    }
    let off = json!({ "isActive": false });
    let replies = join_all(ids.iter().map(|id| app.update_key(id, &off))).await;
    all_ok(&replies);
    let active: BTreeSet<String> = app
        .list_keys()
        .await
        .iter()
        .filter(|k| k["isActive"] == "true")
        .filter_map(|k| k["apiKeyId"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.iter().all(|id| !active.contains(id)), "{active:?}");
}
