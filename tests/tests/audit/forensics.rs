//! Time travel over HTTP (`/forensics/…`) and the CLI, checked against hand-computed states.
use crate::{iso, pause_at};
use serde_json::{json, Value};
use tests::spawn_app;
use tests::Api;

async fn key_at(app: &Api, id: &str, at: &str) -> Value {
    app.get(&format!(
        "/forensics/keys/{id}?at={}",
        tests::call::encode(at)
    ))
    .send()
    .await
    .ok()
    .clone()
}

async fn user_at(app: &Api, user: &str, at: &str) -> Value {
    app.get(&format!(
        "/forensics/users/{user}?at={}",
        tests::call::encode(at)
    ))
    .send()
    .await
    .ok()
    .clone()
}

/// (instant, when, state, description, active, verification) expected at that instant.
type Expected<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<bool>,
    &'a str,
);

#[tokio::test]
async fn key_and_user_as_they_were() {
    let app = spawn_app().await;
    app.create_role("ops").await.assert_status(200);
    app.assign_roles("dave", &["ops"]).await.assert_status(200);
    let t0 = iso(pause_at().await);
    let key = app
        .create_key(&json!({"apiKeyName": "deploy", "userId": "dave", "description": "v1", "expiresAt": "2031-06-30"}))
        .await;
    let key = tests::keys::created(&key);
    let t1 = iso(pause_at().await);
    app.update_key(&key.id, &json!({"description": "v2"}))
        .await
        .assert_status(200);
    let t2 = iso(pause_at().await);
    app.set_active(&key.id, false).await;
    let t3 = iso(pause_at().await);
    app.set_active(&key.id, true).await;
    app.remove_user_roles("dave").await.assert_status(200);
    let t4 = iso(pause_at().await);
    app.assign_roles("dave", &["ops"]).await.assert_status(200);
    app.delete_key(&key.id).await.assert_status(200);
    let t5 = iso(pause_at().await);

    let cases: [Expected; 6] = [
        (
            t0.as_str(),
            "before create",
            "NOT_CREATED",
            None,
            None,
            "NOT_FOUND",
        ),
        (
            t1.as_str(),
            "after create",
            "LIVE",
            Some("v1"),
            Some(true),
            "VALID",
        ),
        (
            t2.as_str(),
            "after update",
            "LIVE",
            Some("v2"),
            Some(true),
            "VALID",
        ),
        (
            t3.as_str(),
            "after deactivate",
            "LIVE",
            Some("v2"),
            Some(false),
            "DISABLED",
        ),
        (
            t4.as_str(),
            "after roles removed",
            "LIVE",
            Some("v2"),
            Some(true),
            "NO_ROLES",
        ),
        (
            t5.as_str(),
            "after delete",
            "DELETED",
            None,
            None,
            "NOT_FOUND",
        ),
    ];
    for (at, when, state, description, active, verification) in cases {
        let answer = key_at(&app, &key.id, at).await;
        assert_eq!(answer["state"], state, "{when}: {answer}");
        assert_eq!(answer["description"].as_str(), description, "{when}");
        assert_eq!(answer["isActive"].as_bool(), active, "{when}");
        assert_eq!(answer["verification"], verification, "{when}");
        assert_eq!(
            answer["couldAuthenticate"],
            verification == "VALID",
            "{when}"
        );
    }
    let after_expiry = key_at(&app, &key.id, "2031-07-01T00:00:00Z").await;
    assert_eq!(
        after_expiry["state"], "DELETED",
        "deleted before that instant"
    );

    let dave_t1 = user_at(&app, "dave", &t1).await;
    assert_eq!(dave_t1["roles"], json!(["ops"]));
    let usable: Vec<&Value> = dave_t1["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["couldAuthenticate"] == true)
        .collect();
    assert_eq!(usable.len(), 1);
    assert_eq!(usable[0]["apiKeyId"], json!(key.id));
    let dave_t4 = user_at(&app, "dave", &t4).await;
    assert_eq!(dave_t4["roles"], json!([]));
    assert!(dave_t4["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["couldAuthenticate"] == false));
    let dave_t5 = user_at(&app, "dave", &t5).await;
    assert_eq!(dave_t5["keys"], json!([]));
}

#[tokio::test]
async fn expiry_is_judged_at_the_instant_asked() {
    let app = spawn_app().await;
    let key = tests::keys::created(
        &app.create_key(&json!({"apiKeyName": "short", "userId": "admin", "description": "d", "expiresAt": "2030-01-31"}))
            .await,
    );
    let before = key_at(&app, &key.id, &iso(chrono::Utc::now())).await;
    assert_eq!(before["verification"], "VALID");
    // The state now, judged at a later instant: expiry applies, nothing else changed.
    let model_now = key_at(&app, &key.id, "2030-01-31T23:59:58Z").await;
    assert_eq!(model_now["expired"], false);
    let after = key_at(&app, &key.id, "2030-02-01T00:00:00Z").await;
    assert_eq!(after["expired"], true);
    assert_eq!(after["verification"], "EXPIRED");
}

#[tokio::test]
async fn forensics_routes_are_admin_only_and_validate_input() {
    let app = spawn_app().await;
    let reader = app.key_for_new_user("erin", &["reader"]).await;
    app.get("/forensics/users/erin")
        .key(&reader.key)
        .send()
        .await
        .assert_error(403, "Not Authorized");
    app.get("/forensics/users/erin")
        .anonymous()
        .send()
        .await
        .assert_error(401, "Unauthorized");
    app.get("/forensics/keys/not-a-uuid")
        .send()
        .await
        .assert_json_error(400);
    let bad = app.get("/forensics/users/erin?at=yesterday").send().await;
    assert_eq!(
        bad.assert_json_error(400),
        "at 'yesterday' is not a valid instant"
    );
}

#[tokio::test]
async fn a_keys_settings_are_shown_as_they_were_at_each_instant() {
    let app = spawn_app().await;
    app.create_role("ops").await.assert_status(200);
    app.assign_roles("erin", &["ops"]).await.assert_status(200);
    let body = json!({"apiKeyName": "scoped", "userId": "erin", "description": "d",
        "roles": ["ops"], "rateLimit": {"limit": 10, "periodSeconds": 60}});
    let key = tests::keys::created(&app.create_key(&body).await);
    let t1 = iso(pause_at().await);
    app.update_key(
        &key.id,
        &json!({"rateLimit": null, "allowedCidrs": ["10.0.0.0/8"]}),
    )
    .await
    .assert_status(200);
    let t2 = iso(pause_at().await);

    let then = key_at(&app, &key.id, &t1).await;
    assert_eq!(then["roles"], json!(["ops"]), "{then}");
    assert_eq!(then["rateLimit"], json!({"limit": 10, "periodSeconds": 60}));
    assert!(then.get("allowedCidrs").is_none(), "{then}");
    let later = key_at(&app, &key.id, &t2).await;
    assert_eq!(later["roles"], json!(["ops"]));
    assert!(later.get("rateLimit").is_none(), "{later}");
    assert_eq!(later["allowedCidrs"], json!(["10.0.0.0/8"]));
    // A replay does not know the request's address: the allowlist is shown, not judged.
    assert_eq!(later["verification"], "VALID");
}
