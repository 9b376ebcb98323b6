//! Restarts on the same store: nothing lost, no second bootstrap, projections rebuildable.
use serde_json::json;
use tests::binary::{self, describe};
use tests::keys::{created, key_body};
use tests::{spawn_app, CreatedKey, TestApp};

/// Keys in every state a restart must preserve.
struct Fleet {
    live: CreatedKey,
    paused: CreatedKey,
    deleted: CreatedKey,
    dated: CreatedKey,
    orphan: CreatedKey,
}

async fn build_fleet(app: &TestApp) -> Fleet {
    app.create_role_body(
        &json!({ "roleName": "auditor", "description": "reads", "mfaRequired": true }),
    )
    .await
    .ok();
    let live = app.key_for_new_user("bot", &["viewer", "auditor"]).await;
    app.update_key(&live.id, &json!({ "description": "edited before restart" }))
        .await
        .ok();
    let paused = app.create_key_ok("paused", "bot").await;
    app.set_active(&paused.id, false).await;
    let deleted = app.create_key_ok("deleted", "bot").await;
    app.delete_key(&deleted.id).await.ok();
    let mut body = key_body("dated", "bot", "has an expiry");
    body["expiresAt"] = json!("2031-01-01T00:00:00+01:00");
    let dated = created(&app.create_key(&body).await);
    let orphan = app.key_for_new_user("orphan", &["viewer"]).await;
    app.remove_user_roles("orphan").await.ok();
    Fleet {
        live,
        paused,
        deleted,
        dated,
        orphan,
    }
}

async fn assert_fleet_behaves(app: &TestApp, fleet: &Fleet) {
    app.assert_key_works(&app.admin_key).await;
    app.get("/auth/api-keys").send().await.ok();
    app.assert_key_works(&fleet.live.key).await;
    app.assert_key_works(&fleet.dated.key).await;
    app.assert_key_refused(&fleet.paused.key, "DISABLED").await;
    app.assert_key_refused(&fleet.deleted.key, "NOT_FOUND")
        .await;
    app.assert_key_refused(&fleet.orphan.key, "NO_ROLES").await;
}

async fn projections(app: &TestApp, command: &str) {
    tool(app, &["projections", command]).await;
}

async fn tool(app: &TestApp, args: &[&str]) {
    let output = binary::run(app.backend, app.data_path(), args, &[]).await;
    assert!(
        output.status.success(),
        "apikeyd {args:?}: {}",
        describe(&output)
    );
}

#[tokio::test]
async fn the_hash_chain_holds_across_many_commits_on_one_key() {
    let app = spawn_app().await;
    let fleet = build_fleet(&app).await;
    // Each commit links to the one before it; a process that remembers the head link must link
    // exactly as one that reads it back.
    for n in 0..5 {
        let body = json!({ "description": format!("edit {n}") });
        app.update_key(&fleet.live.id, &body).await.ok();
        app.set_active(&fleet.live.id, n % 2 == 1).await;
    }
    tool(&app, &["events", "verify"]).await;
    let app = app.restart().await;
    app.update_key(&fleet.live.id, &json!({ "description": "after restart" }))
        .await
        .ok();
    tool(&app, &["events", "verify"]).await;
}

#[tokio::test]
async fn keys_roles_and_views_survive_a_restart() {
    let app = spawn_app().await;
    let fleet = build_fleet(&app).await;
    let before = app.snapshot().await;

    let app = app.restart().await;
    assert_eq!(
        app.bootstrap_key, None,
        "a restart must not bootstrap again"
    );
    assert_eq!(
        app.snapshot().await,
        before,
        "views changed across the restart"
    );
    assert_fleet_behaves(&app, &fleet).await;

    // The store keeps working after the restart, and those writes survive the next one.
    app.set_active(&fleet.paused.id, true).await;
    app.assert_key_works(&fleet.paused.key).await;
    let reused = app.create_key_ok("deleted", "bot").await;
    let after = app.snapshot().await;
    let app = app.restart().await;
    assert_eq!(app.bootstrap_key, None);
    assert_eq!(app.snapshot().await, after);
    app.assert_key_works(&reused.key).await;
    app.assert_key_works(&fleet.paused.key).await;
}

#[tokio::test]
async fn projections_rebuilt_from_events_equal_the_persisted_ones() {
    let app = spawn_app().await;
    let fleet = build_fleet(&app).await;
    app.delete_role("auditor").await.ok();
    let before = app.snapshot().await;
    let app = app.restart().await;
    projections(&app, "verify").await;
    projections(&app, "rebuild").await;
    projections(&app, "verify").await;

    let app = app.restart().await;
    assert_eq!(app.snapshot().await, before, "a rebuild changed the views");
    assert_fleet_behaves(&app, &fleet).await;
}
