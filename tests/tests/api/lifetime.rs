//! `APIKEYD_MAX_KEY_LIFETIME_DAYS`: creates and rotations need an expiry within the limit and
//! updates may not move one past it, each refusal a 400 naming the limit.
use chrono::{Duration, Utc};
use serde_json::json;
use tests::{spawn_app_with, TestApp};

async fn app() -> TestApp {
    spawn_app_with(|s| s.max_key_lifetime_days = Some(30)).await
}

fn days(n: i64) -> String {
    (Utc::now() + Duration::days(n)).to_rfc3339()
}

#[tokio::test]
async fn creates_need_an_expiry_within_the_limit() {
    let app = app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    let cases = [
        (
            None,
            "expiresAt is required: keys must expire within 30 days",
        ),
        (Some(days(31)), "30 days from now"),
    ];
    for (expiry, message) in cases {
        let mut body = tests::keys::key_body("capped", "bot", "d");
        if let Some(expiry) = expiry {
            body["expiresAt"] = json!(expiry);
        }
        let refused = app.create_key(&body).await.assert_json_error(400);
        assert!(refused.contains(message), "{refused}");
        assert!(
            refused.contains("APIKEYD_MAX_KEY_LIFETIME_DAYS"),
            "{refused}"
        );
    }
    let mut body = tests::keys::key_body("capped", "bot", "d");
    body["expiresAt"] = json!(days(10));
    tests::keys::created(&app.create_key(&body).await);
}

#[tokio::test]
async fn updates_may_not_extend_or_clear_and_rotations_need_a_capped_expiry() {
    let app = app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    let mut body = tests::keys::key_body("capped", "bot", "d");
    body["expiresAt"] = json!(days(10));
    let key = tests::keys::created(&app.create_key(&body).await);
    for expiry in [json!(days(60)), json!(""), json!(null)] {
        let refused = app
            .update_key(&key.id, &json!({ "expiresAt": expiry }))
            .await
            .assert_json_error(400);
        assert!(refused.contains("30 days"), "{expiry}: {refused}");
    }
    app.update_key(
        &key.id,
        &json!({ "expiresAt": days(20), "description": "later" }),
    )
    .await
    .ok();
    app.rotate_key(&key.id, 60).await;
    // The bootstrap key predates any policy and never expires: it cannot rotate until it does.
    let admin = app.verify(&app.admin_key).await.ok()["apiKeyId"]
        .as_str()
        .expect("bootstrap id")
        .to_owned();
    let refused = app
        .rotate_key_with(&admin, &json!({ "gracePeriodSeconds": 0 }))
        .await
        .assert_json_error(400);
    assert!(refused.contains("30 days"), "{refused}");
    app.assert_key_works(&app.admin_key).await;
}
