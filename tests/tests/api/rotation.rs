//! Rotation with a grace period: a new secret returned once, the previous one working until the
//! grace ends (never past the key's expiry), at most two live secrets, deactivation and deletion
//! stopping both, and bad input changing nothing.
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use tests::keys::{expected_key_fields, field_names};
use tests::{spawn_app, Api, Expect};

fn time(item: &Value, field: &str) -> DateTime<Utc> {
    let text = item[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {item}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field} {text:?}: {e}"))
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_rotation_returns_the_new_key_once_and_both_secrets_work_during_the_grace() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let before = Utc::now();
    let reply = app
        .rotate_key_with(&old.id, &json!({ "gracePeriodSeconds": 3600 }))
        .await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let new = tests::keys::created(&reply);
    assert_ne!(new.key, old.key);
    assert_eq!(new.id, old.id, "the key keeps its id");
    for field in [
        "apiKeyName",
        "userId",
        "description",
        "createdAt",
        "expiresAt",
    ] {
        assert_eq!(new.item[field], old.item[field], "{field} kept");
    }
    assert_eq!(
        field_names(&new.item),
        expected_key_fields(&["apiKey", "rotatedAt", "previousKeyExpiresAt"])
    );
    let until = time(&new.item, "previousKeyExpiresAt");
    assert!(
        until >= before + Duration::seconds(3600) && until <= Utc::now() + Duration::seconds(3600)
    );
    app.assert_key_works(&old.key).await;
    app.assert_key_works(&new.key).await;

    let got = app.get_key(&old.id).await.ok().clone();
    assert!(got.get("apiKey").is_none(), "shown once: {got}");
    assert_eq!(got["rotatedAt"], new.item["rotatedAt"]);
    assert_eq!(
        got["previousKeyExpiresAt"],
        new.item["previousKeyExpiresAt"]
    );
    let listed = app.listed_key(&old.id).await.expect("listed");
    assert_eq!(listed["rotatedAt"], new.item["rotatedAt"]);
}

#[tokio::test]
async fn no_grace_stops_the_previous_secret_at_once() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let new = app.rotate_key(&old.id, 0).await;
    assert_eq!(new.item["previousKeyExpiresAt"], new.item["rotatedAt"]);
    app.assert_key_refused(&old.key, "NOT_FOUND").await;
    app.assert_key_works(&new.key).await;
}

#[tokio::test]
async fn rotating_during_a_grace_ends_the_older_one_so_two_secrets_at_most_are_live() {
    let app = spawn_app().await;
    let first = app.key_for_new_user("bot", &["viewer"]).await;
    let second = app.rotate_key(&first.id, 3600).await;
    let third = app.rotate_key(&first.id, 3600).await;
    app.assert_key_refused(&first.key, "NOT_FOUND").await;
    app.assert_key_works(&second.key).await;
    app.assert_key_works(&third.key).await;
}

#[tokio::test]
async fn deactivation_and_deletion_stop_both_secrets_and_reactivation_revives_only_the_new_one() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let new = app.rotate_key(&old.id, 3600).await;
    let off = app.set_active(&old.id, false).await;
    assert!(
        off.get("previousKeyExpiresAt").is_none(),
        "grace ended: {off}"
    );
    app.assert_key_refused(&new.key, "DISABLED").await;
    app.assert_key_refused(&old.key, "NOT_FOUND").await;
    app.set_active(&old.id, true).await;
    app.assert_key_works(&new.key).await;
    app.assert_key_refused(&old.key, "NOT_FOUND").await;

    let newer = app.rotate_key(&old.id, 3600).await;
    app.delete_key(&old.id).await.ok();
    for key in [&new.key, &newer.key] {
        app.assert_key_refused(key, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn a_grace_never_outlives_the_key() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    let expiry = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let mut body = tests::keys::key_body("short-lived", "bot", "expires soon");
    body["expiresAt"] = json!(expiry);
    let key = tests::keys::created(&app.create_key(&body).await);
    let new = app.rotate_key(&key.id, 86_400).await;
    let until = time(&new.item, "previousKeyExpiresAt");
    let expires = time(&new.item, "expiresAt");
    assert!(
        (until - expires).num_seconds().abs() <= 1,
        "{until} vs {expires}"
    );
}

#[tokio::test]
async fn the_last_admin_key_rotated_with_no_grace_keeps_admins_in() {
    let app = spawn_app().await;
    let id = app.verify(&app.admin_key).await.ok()["apiKeyId"]
        .as_str()
        .expect("the bootstrap key's id")
        .to_owned();
    let new = app.rotate_key(&id, 0).await;
    app.assert_key_refused(&app.admin_key, "NOT_FOUND").await;
    let admin = Api::new(app.address.clone(), new.key.clone());
    admin.get("/auth/api-keys").send().await.ok();
    admin.rotate_key(&id, 60).await;
}

#[tokio::test]
async fn bad_rotations_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let grace = Expect::exact("gracePeriodSeconds must be an integer from 0 to 2592000 (30 days)");
    let cases = [
        (json!({ "gracePeriodSeconds": -1 }), &grace, "negative"),
        (
            json!({ "gracePeriodSeconds": 2_592_001 }),
            &grace,
            "over 30 days",
        ),
        (json!({ "gracePeriodSeconds": "60" }), &grace, "a string"),
        (json!({ "gracePeriodSeconds": 1.5 }), &grace, "a fraction"),
    ];
    for (body, expect, why) in cases {
        let reply = app.rotate_key_with(&key.id, &body).await;
        expect.check(&reply, 400, why);
    }
    let unknown = app.rotate_key_with(&key.id, &json!({ "grace": 1 })).await;
    unknown.assert_json_error(400);
    let missing = uuid::Uuid::new_v4().to_string();
    app.rotate_key_with(&missing, &json!({}))
        .await
        .assert_error(404, "API key not found");
    app.rotate_key_with("not-a-uuid", &json!({}))
        .await
        .assert_error(400, "apiKeyId must be a UUID");
    let viewer = Api::new(app.address.clone(), key.key.clone());
    viewer
        .rotate_key_with(&key.id, &json!({}))
        .await
        .assert_json_error(403);
    app.assert_key_works(&key.key).await;
    let item = app.get_key(&key.id).await.ok().clone();
    assert!(item.get("rotatedAt").is_none(), "never rotated: {item}");
}

#[tokio::test]
async fn both_secrets_survive_a_restart_and_the_audit_trail_shows_the_rotation_by_hash_prefix() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let new = app.rotate_key(&old.id, 3600).await;
    let app = app.restart().await;
    app.assert_key_works(&old.key).await;
    app.assert_key_works(&new.key).await;
    let trail = app
        .get(&format!("/auth/api-keys/{}/audit", old.id))
        .send()
        .await;
    let rotation = trail.ok()["Items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["action"] == "apiKeyRotate"))
        .cloned()
        .expect("an apiKeyRotate record");
    assert_eq!(rotation["changes"]["gracePeriodSeconds"], 3600);
    let prefix = rotation["changes"]["keyHashPrefix"]["new"]
        .as_str()
        .unwrap();
    assert_eq!(prefix, &tests::secrets::sha256_hex(&new.key)[..8]);
    for key in [&old.key, &new.key] {
        assert!(!trail.text.contains(tests::secrets::secret_part(key)));
    }
}

#[tokio::test]
async fn another_node_honours_both_secrets_and_a_report_made_there() {
    let app = spawn_app().await;
    let old = app.key_for_new_user("bot", &["viewer"]).await;
    let running = app.another_node().await;
    let new = app.rotate_key(&old.id, 3600).await;
    let started = app.another_node().await;
    started.assert_key_works(&new.key).await;
    started.assert_key_works(&old.key).await;
    // A node that was running meanwhile learns the new secret by its miss look-up (AWS) or its
    // next poll of the log (embedded), within the poll deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while running.verify_code(&new.key).await != "VALID" {
        assert!(
            std::time::Instant::now() < deadline,
            "the running node never learned the new secret"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    running.assert_key_works(&old.key).await;
    let fresh = app.create_key_ok("fresh", "bot").await;
    started
        .report_exposure(&[&fresh.key], "found on node two")
        .await
        .assert_status(202);
    app.wait_until_deactivated(&fresh.id).await;
}

#[tokio::test]
async fn the_tools_replay_verify_and_show_rotations_and_reports() {
    let app = spawn_app().await;
    let key = app.key_for_new_user("bot", &["viewer"]).await;
    let new = app.rotate_key(&key.id, 3600).await;
    app.report_exposure(&[&new.key], "a test")
        .await
        .assert_status(202);
    app.wait_until_deactivated(&key.id).await;
    app.set_active(&key.id, true).await;
    let run = |args: &'static [&'static str]| {
        let app = &app;
        async move {
            let output = tests::binary::run(app.backend, app.data_path(), args, &[]).await;
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                output.status.success(),
                "apikeyd {args:?}: {}",
                tests::binary::describe(&output)
            );
            text
        }
    };
    // The running server persists its views in the background and DynamoDB has no read snapshot:
    // the views equal the log once the last save has landed, so verify is polled (deadline 20 s).
    let verified = || {
        let app = &app;
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let output = tests::binary::run(
                    app.backend,
                    app.data_path(),
                    &["projections", "verify"],
                    &[],
                )
                .await;
                if output.status.success() {
                    return;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "projections verify never passed: {}",
                    tests::binary::describe(&output)
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    };
    verified().await;
    run(&["events", "verify"]).await;
    run(&["events", "replay"]).await;
    run(&["projections", "rebuild"]).await;
    verified().await;
    let args = ["events", "history", key.id.as_str()];
    let output = tests::binary::run(app.backend, app.data_path(), &args, &[]).await;
    let history = String::from_utf8_lossy(&output.stdout);
    for action in ["apiKeyRotate", "apiKeyExposed"] {
        assert!(history.contains(action), "{action} in\n{history}");
    }
    let app = app.restart().await;
    app.assert_key_works(&new.key).await;
    app.assert_key_refused(&key.key, "NOT_FOUND").await;
}
