//! `/api/version`, `/api/amplify-config`, `/secure-config`, `/auth/loginProfile/{userId}`.
use serde_json::json;
use tests::{spawn_app, spawn_app_with};

#[tokio::test]
async fn version_is_vams_2_5_1_without_auth() {
    let app = spawn_app().await;
    let reply = app.get("/api/version").anonymous().send().await;
    assert_eq!(reply.ok(), &json!({ "version": "2.5.1" }));
}

#[tokio::test]
async fn amplify_config_points_vamscli_at_the_server_itself() {
    let app = spawn_app().await;
    let reply = app.get("/api/amplify-config").anonymous().send().await;
    assert_eq!(reply.ok()["api"], json!(app.address));
}

#[tokio::test]
async fn amplify_config_uses_the_configured_public_url() {
    let app = spawn_app_with(|s| s.public_url = Some("https://keys.example.com".into())).await;
    let reply = app.get("/api/amplify-config").anonymous().send().await;
    assert_eq!(reply.ok()["api"], json!("https://keys.example.com"));
}

#[tokio::test]
async fn secure_config_answers_any_authenticated_caller() {
    let app = spawn_app().await;
    let expected =
        json!({ "featuresEnabled": "", "webDeployedUrl": "", "locationServiceApiUrl": "" });
    assert_eq!(app.get("/secure-config").send().await.ok(), &expected);
    let viewer = app.key_for_new_user("viewer-user", &["viewer"]).await;
    assert_eq!(app.secure_config_as(&viewer.key).await.ok(), &expected);
    app.get("/secure-config")
        .anonymous()
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn login_profile_answers_only_for_the_callers_own_id() {
    let app = spawn_app().await;
    let viewer = app
        .key_for_new_user("ci-bot@example.com", &["viewer"])
        .await;
    let cases = [
        (&app.admin_key, "admin"),
        (&viewer.key, "ci-bot@example.com"),
    ];
    for (key, user_id) in cases {
        let reply = app.login_profile(user_id, key).await;
        let items = tests::keys::items(&reply.ok()["message"], "Items");
        assert_eq!(items.len(), 1, "{user_id}: {}", reply.text);
        assert_eq!(items[0]["userId"], json!(user_id));
        assert!(items[0]["email"].is_string(), "{user_id}: {}", reply.text);
    }
    let forbidden = [
        (
            &app.admin_key,
            "ci-bot@example.com",
            "admin asks for another user",
        ),
        (&viewer.key, "admin", "user asks for the admin"),
        (&viewer.key, "someone-else", "user asks for an unknown user"),
    ];
    for (key, user_id, why) in forbidden {
        let reply = app.login_profile(user_id, key).await;
        assert_eq!(reply.status, 403, "{why}: {}", reply.text);
        reply.assert_error(403, "Not Authorized");
    }
    let anonymous = app.get("/auth/loginProfile/admin").anonymous().send().await;
    anonymous.assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn login_profile_rejects_malformed_user_ids() {
    let app = spawn_app().await;
    let long = "u".repeat(257);
    let cases = [
        ("ab", "shorter than 3"),
        ("bad!id", "'!' is not allowed"),
        ("has space", "space is not allowed"),
        ("semi;colon", "';' is not allowed"),
        (long.as_str(), "longer than 256"),
    ];
    for (user_id, why) in cases {
        let reply = app.login_profile(user_id, &app.admin_key).await;
        assert_eq!(reply.status, 400, "{why}: {}", reply.text);
        reply.assert_json_error(400);
    }
}
