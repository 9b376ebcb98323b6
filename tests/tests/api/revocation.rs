//! Deactivation and deletion bite on the very next request; reactivation restores access.
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::spawn_app;

#[tokio::test]
async fn deactivation_and_reactivation_take_effect_on_the_next_request() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    app.assert_key_works(&key.key).await;
    let flips = [
        (json!(false), false),
        (json!(true), true),
        (json!("false"), false),
        (json!("true"), true),
    ];
    for (flag, works) in flips {
        app.update_key(&key.id, &json!({ "isActive": flag }))
            .await
            .ok();
        if works {
            app.assert_key_works(&key.key).await;
        } else {
            app.assert_key_refused(&key.key, "DISABLED").await;
        }
    }
}

#[tokio::test]
async fn deletion_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    app.assert_key_works(&key.key).await;
    app.delete_key(&key.id).await.ok();
    app.assert_key_refused(&key.key, "NOT_FOUND").await;
}

#[tokio::test]
async fn only_the_revoked_key_of_a_user_stops_working() {
    let app = spawn_app().await;
    let first = app.key_for_new_user("bot", &["viewer"]).await;
    let second = app.create_key_ok("second of bot", "bot").await;
    app.set_active(&first.id, false).await;
    app.assert_key_refused(&first.key, "DISABLED").await;
    app.assert_key_works(&second.key).await;
    app.delete_key(&second.id).await.ok();
    app.assert_key_refused(&second.key, "NOT_FOUND").await;
    app.assert_key_works(&app.admin_key).await;
}

#[tokio::test]
async fn a_revoked_admin_key_loses_management_at_once() {
    let app = spawn_app().await;
    let ops = app.key_for_new_user("ops", &["admin"]).await;
    app.get("/auth/api-keys").key(&ops.key).send().await.ok();
    app.set_active(&ops.id, false).await;
    app.get("/auth/api-keys")
        .key(&ops.key)
        .send()
        .await
        .assert_error(401, "Unauthorized");
    app.set_active(&ops.id, true).await;
    app.get("/auth/api-keys").key(&ops.key).send().await.ok();
    app.delete_key(&ops.id).await.ok();
    app.get("/auth/api-keys")
        .key(&ops.key)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

/// While another client keeps calling `/auth/check` with the key, every call *started* after the
/// deactivation answered must be refused: no cache may serve a stale "yes".
#[tokio::test]
async fn no_request_started_after_deactivation_is_let_through() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let hammer = {
        let (api, key, stop) = (app.api.clone(), key.key.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let status = api.check(&key).await.status;
                seen.push((started, status));
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.set_active(&key.id, false).await;
    let revoked_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let seen = hammer.await.expect("the hammer task");
    assert!(
        seen.iter().any(|(at, s)| *at < revoked_at && *s == 200),
        "the key never worked before revocation"
    );
    let after: Vec<u16> = seen
        .iter()
        .filter(|(at, _)| *at > revoked_at)
        .map(|(_, status)| *status)
        .collect();
    assert!(!after.is_empty(), "no request after revocation");
    assert!(
        after.iter().all(|s| *s == 401),
        "let through after revocation: {after:?}"
    );
}
