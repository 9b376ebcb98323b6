//! A key with `roles` acts with that list ∩ its user's roles now: verify and `/auth/check` report
//! the intersection, a management route needs the admin role inside the scope, and a scope the user
//! no longer holds any of is `NO_ROLES`. Verify returns `meta` when it is set.
use super::{app_with_user, checked_roles, create_with, set, verified_roles, USER};
use serde_json::json;
use tests::{spawn_app, Api};

#[tokio::test]
async fn given_a_scoped_key_then_verify_and_check_report_the_intersection() {
    let app = app_with_user().await;
    let key = create_with(&app, "scoped", json!({ "roles": ["viewer", "auditor"] })).await;
    assert_eq!(
        verified_roles(&app.verify(&key.key).await),
        set(&["auditor", "viewer"])
    );
    assert_eq!(
        checked_roles(&app.check(&key.key).await),
        set(&["auditor", "viewer"])
    );

    // The user loses one scoped role: the key acts with what is left of its scope.
    app.replace_roles(USER, &["ops", "viewer"]).await.ok();
    assert_eq!(
        verified_roles(&app.verify(&key.key).await),
        set(&["viewer"])
    );
    assert_eq!(checked_roles(&app.check(&key.key).await), set(&["viewer"]));
    app.secure_config_as(&key.key).await.assert_status(200);

    // An unscoped key of the same user acts with all of the user's roles.
    let unscoped = app.create_key_ok("unscoped", USER).await;
    assert_eq!(
        verified_roles(&app.verify(&unscoped.key).await),
        set(&["ops", "viewer"])
    );
}

#[tokio::test]
async fn given_the_user_loses_every_scoped_role_then_the_key_is_refused_with_no_roles() {
    let app = app_with_user().await;
    let key = create_with(&app, "narrow", json!({ "roles": ["auditor"] })).await;
    app.assert_key_works(&key.key).await;
    app.replace_roles(USER, &["ops", "viewer"]).await.ok();
    app.assert_key_refused(&key.key, "NO_ROLES").await;
    // Getting the role back brings the key back: the scope is checked per request.
    app.assign_roles(USER, &["auditor"]).await.ok();
    app.assert_key_works(&key.key).await;
}

#[tokio::test]
async fn given_an_admin_users_key_scoped_without_admin_then_management_routes_are_403() {
    let app = spawn_app().await;
    app.ensure_role("viewer").await;
    app.assign_roles("boss", &["admin", "viewer"]).await.ok();
    let body = json!({
        "apiKeyName": "boss viewer", "userId": "boss", "description": "reads only", "roles": ["viewer"],
    });
    let scoped = tests::keys::created(&app.create_key(&body).await);
    let full = app.create_key_ok("boss full", "boss").await;

    let as_scoped = Api::new(app.address.clone(), scoped.key.clone());
    as_scoped
        .get("/auth/api-keys")
        .send()
        .await
        .assert_error(403, "Not Authorized");
    as_scoped
        .create_role("made-by-a-viewer")
        .await
        .assert_error(403, "Not Authorized");
    as_scoped
        .secure_config_as(&scoped.key)
        .await
        .assert_status(200);
    assert_eq!(
        verified_roles(&app.verify(&scoped.key).await),
        set(&["viewer"])
    );
    assert_eq!(
        checked_roles(&app.check(&scoped.key).await),
        set(&["viewer"])
    );

    // The same user's unscoped key is an admin key.
    let as_full = Api::new(app.address.clone(), full.key.clone());
    as_full.get("/auth/api-keys").send().await.ok();
}

#[tokio::test]
async fn given_meta_then_verify_returns_it_and_without_meta_it_is_absent() {
    let app = app_with_user().await;
    let meta = json!({ "tenant": "acme", "tier": 3, "flags": { "beta": true } });
    let with_meta = create_with(&app, "with meta", json!({ "meta": meta })).await;
    let reply = app.verify(&with_meta.key).await;
    assert_eq!(reply.ok()["meta"], meta, "{}", reply.text);

    let plain = app.create_key_ok("no meta", USER).await;
    let reply = app.verify(&plain.key).await;
    assert!(reply.ok().get("meta").is_none(), "{}", reply.text);
    assert!(
        reply.body.get("retryAfterSeconds").is_none(),
        "{}",
        reply.text
    );
}
