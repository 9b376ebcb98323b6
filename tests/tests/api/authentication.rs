//! Who may call what: the `Authorization` header forms, 401 for bad credentials, 403 without an admin
//! role.
use reqwest::Method;
use serde_json::{json, Value};
use tests::keys::key_path;
use tests::secrets::unknown_key;
use tests::{spawn_app, spawn_app_with, Auth, TestApp};

/// Every route that needs a key, with a body that would be valid for an admin.
fn authenticated_routes(key_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let key = key_path(key_id);
    let user_roles = json!({ "userId": "intruder", "roleName": ["viewer"] });
    vec![
        (Method::GET, "/auth/api-keys".into(), None),
        (
            Method::POST,
            "/auth/api-keys".into(),
            Some(json!({ "apiKeyName": "x", "userId": "admin", "description": "d" })),
        ),
        (Method::GET, key.clone(), None),
        (Method::PUT, key.clone(), Some(json!({ "isActive": false }))),
        (Method::DELETE, key, None),
        (Method::GET, "/roles".into(), None),
        (
            Method::POST,
            "/roles".into(),
            Some(json!({ "roleName": "sneaky", "description": "d" })),
        ),
        (
            Method::PUT,
            "/roles".into(),
            Some(json!({ "roleName": "viewer", "description": "changed" })),
        ),
        (Method::DELETE, "/roles/viewer".into(), None),
        (Method::GET, "/user-roles".into(), None),
        (Method::POST, "/user-roles".into(), Some(user_roles.clone())),
        (Method::PUT, "/user-roles".into(), Some(user_roles)),
        (
            Method::DELETE,
            "/user-roles".into(),
            Some(json!({ "userId": "bot" })),
        ),
    ]
}

async fn send_route(
    app: &TestApp,
    route: &(Method, String, Option<Value>),
    auth: Auth,
) -> tests::Reply {
    let (method, path, body) = route;
    let mut call = app.call(method.clone(), path).auth(auth);
    if let Some(body) = body {
        call = call.json(body);
    }
    call.send().await
}

#[tokio::test]
async fn bad_credentials_get_401_everywhere_and_write_nothing() {
    let app = spawn_app().await;
    let bot = app.key_for_new_user("bot", &["viewer"]).await;
    let before = app.snapshot().await;
    let mut routes = authenticated_routes(&bot.id);
    routes.push((Method::GET, "/secure-config".into(), None));
    routes.push((Method::GET, "/auth/loginProfile/admin".into(), None));
    let credentials = [
        (Auth::None, "no header"),
        (Auth::Bearer(unknown_key()), "unknown key"),
        (
            Auth::Header(format!("Basic {}", app.admin_key)),
            "Basic scheme",
        ),
        (
            Auth::Header(format!("Bearer {}x", app.admin_key)),
            "admin key with a char added",
        ),
        (Auth::Header("Bearer".into()), "scheme only"),
        (Auth::Header(String::new()), "empty header"),
    ];
    for route in &routes {
        for (auth, why) in &credentials {
            let reply = send_route(&app, route, auth.clone()).await;
            assert_eq!(reply.status, 401, "{why}: {} {}", reply.what, reply.text);
            reply.assert_error(401, "Unauthorized");
        }
    }
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn authorization_header_forms() {
    let app = spawn_app().await;
    let key = app.admin_key.clone();
    let secret = key.trim_start_matches("vams_").to_owned();
    let cases = [
        (format!("Bearer {key}"), 200, "Bearer"),
        (format!("bearer {key}"), 200, "lower-case bearer"),
        (format!("BEARER {key}"), 200, "upper-case bearer"),
        (format!("bEaReR {key}"), 200, "mixed-case bearer"),
        (key.clone(), 200, "bare key"),
        (
            format!("Bearer {secret}"),
            401,
            "key without its vams_ prefix",
        ),
        (format!("Token {key}"), 401, "other scheme"),
        (
            format!("Bearer {}", key.to_uppercase()),
            401,
            "key in other case",
        ),
        ("Bearer vams_".to_owned(), 401, "prefix only"),
    ];
    for (header, status, why) in cases {
        let reply = app
            .get("/auth/api-keys")
            .auth(Auth::Header(header))
            .send()
            .await;
        assert_eq!(reply.status, status, "{why}: {}", reply.text);
        if status == 401 {
            reply.assert_error(401, "Unauthorized");
        }
    }
}

#[tokio::test]
async fn management_routes_need_an_admin_role_and_write_nothing() {
    let app = spawn_app().await;
    let viewer = app.key_for_new_user("bot", &["viewer"]).await;
    let before = app.snapshot().await;
    for route in authenticated_routes(&viewer.id) {
        let reply = send_route(&app, &route, Auth::Bearer(viewer.key.clone())).await;
        assert_eq!(reply.status, 403, "{} {}", reply.what, reply.text);
        reply.assert_error(403, "Not Authorized");
    }
    assert_eq!(
        app.snapshot().await,
        before,
        "a forbidden request wrote something"
    );
    // The same key still reaches every route open to any authenticated caller.
    app.assert_key_works(&viewer.key).await;
    app.login_profile("bot", &viewer.key).await.ok();
    app.get("/api/version").key(&viewer.key).send().await.ok();
}

#[tokio::test]
async fn any_role_of_the_configured_admin_list_grants_management() {
    let app = spawn_app_with(|s| s.admin_roles = vec!["admin".into(), "key-managers".into()]).await;
    let manager = app.key_for_new_user("key-mgr", &["key-managers"]).await;
    let listed = app.get("/auth/api-keys").key(&manager.key).send().await;
    listed.ok();
    app.ensure_role("viewer").await;
    app.assign_roles("bot", &["viewer"]).await.ok();
    let reply = app
        .post("/auth/api-keys")
        .key(&manager.key)
        .json(&tests::keys::key_body("by km", "bot", "d"))
        .send()
        .await;
    assert_eq!(tests::keys::created(&reply).item["createdBy"], "key-mgr");
}

#[tokio::test]
async fn losing_the_admin_role_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let ops = app.key_for_new_user("ops", &["admin", "viewer"]).await;
    app.get("/roles").key(&ops.key).send().await.ok();
    app.replace_roles("ops", &["viewer"]).await.ok();
    app.get("/roles")
        .key(&ops.key)
        .send()
        .await
        .assert_error(403, "Not Authorized");
    app.assert_key_works(&ops.key).await;
}
